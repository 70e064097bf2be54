using System.Globalization;
using System.Reflection;
using System.Text;
using CsCheck;
using EventStore.Providers.Reliability.Tests.Infrastructure;
using EventStore.Providers.Reliability.Tests.Targets;

namespace EventStore.Providers.Reliability.Tests.HostileInput;

/// <summary>
/// Hostile names, types and payloads are stored verbatim or refused with a typed error; either way the store keeps
/// working and nothing written before changes.
/// </summary>
public abstract class HostileInputTests(IStoreTarget target)
{
    private const int Inputs = 300;

    private static EventData Event(string type = "Probe", byte[]? data = null, byte[]? metadata = null) =>
        new(Guid.NewGuid(), type, data ?? Encoding.UTF8.GetBytes("{\"a\":1}"), metadata ?? Encoding.UTF8.GetBytes("{}"));

    private static async Task<List<(string Stream, long Version, Guid Id, string Type)>> SnapshotAllAsync(IEventStore store, CancellationToken ct) =>
        (await store.ReadAllAsync(null, ct).ToListAsync(ct)).Select(e => (e.Stream.Value, e.Version, e.EventId, e.EventType)).ToList();

    [Fact]
    public async Task Hostile_stream_names_and_event_types_are_stored_verbatim_or_refused_with_a_typed_error_and_change_nothing_else()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var handle = await target.CreateStoreAsync(ct);
        var store = handle.Store;
        var baseline = new StreamName("Baseline-1");
        await store.AppendAsync(baseline, ExpectedVersion.NoStream, [Event(), Event(), Event()], ct);
        var expectedAll = await SnapshotAllAsync(store, ct);

        int tried = 0, storedVerbatim = 0, refusedByName = 0, refusedByStore = 0, i = 0;
        await HostileCorpus.Text.SampleAsync(async text =>
        {
            tried++;
            var n = Interlocked.Increment(ref i);
            var typeIsValid = EventGuard.ValidateEventType(text) is null;
            var eventType = typeIsValid ? text : "Probe";
            if (!StreamName.TryParse($"H{n}-{text}", out var stream))
            {
                var refused = Assert.Throws<InvalidStreamNameException>(() => new StreamName($"H{n}-{text}"));
                Assert.NotNull(refused.Reason);
                refusedByName++;
                stream = new StreamName($"H{n}-plain");
            }
            var e = Event(eventType, Encoding.UTF8.GetBytes(text), Encoding.UTF8.GetBytes(text));
            try
            {
                var result = await store.AppendAsync(stream, ExpectedVersion.NoStream, [e], ct);
                Assert.Equal(0, result.LastVersion);
                var back = Assert.Single(await store.ReadStreamAsync(stream, cancellationToken: ct).ToListAsync(ct));
                Assert.Equal(stream.Value, back.Stream.Value);
                Assert.Equal(eventType, back.EventType);
                Assert.Equal(e.EventId, back.EventId);
                Assert.Equal(e.Data.ToArray(), back.Data.ToArray());
                Assert.Equal(e.Metadata.ToArray(), back.Metadata.ToArray());
                var viaCategory = await store.ReadCategoryAsync($"H{n}", null, ct).ToListAsync(ct);
                Assert.Equal(e.EventId, Assert.Single(viaCategory).EventId);
                expectedAll.Add((stream.Value, 0, e.EventId, eventType));
                storedVerbatim++;
            }
            catch (Exception ex) when (ex is InvalidStreamNameException or InvalidEventException or EventTooLargeException)
            {
                refusedByStore++;
                // A name over the provider's limit cannot even be asked about; the final $all comparison proves nothing was written.
                if (ex is not InvalidStreamNameException)
                    Assert.False((await store.GetStreamInfoAsync(stream, ct)).Exists, $"{stream} was refused with {ex.GetType().Name} but exists");
            }
            if (!typeIsValid)
            {
                var bad = Event(text);
                var refusal = await Assert.ThrowsAsync<InvalidEventException>(() => store.AppendAsync(new StreamName($"H{n}-badtype"), ExpectedVersion.Any, [bad], ct));
                Assert.Equal(bad.EventId, refusal.EventId);
            }
        }, iter: Inputs, threads: 1, print: text => $"\"{Escape(text)}\" ({text.Length} chars)");

        Assert.Equal(expectedAll, await SnapshotAllAsync(store, ct));
        var after = await store.AppendAsync(baseline, ExpectedVersion.Exact(2), [Event()], ct);
        Assert.Equal(3, after.LastVersion);
        Report.Count(target.Name, "hostile inputs tried", tried);
        Report.Count(target.Name, "hostile inputs stored verbatim", storedVerbatim);
        Report.Count(target.Name, "hostile inputs refused by StreamName", refusedByName);
        Report.Count(target.Name, "hostile inputs refused by the store with a typed error", refusedByStore);
    }

    [Fact]
    public async Task Oversize_events_negative_counts_and_forged_expected_versions_are_refused_with_typed_errors_before_anything_is_written()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var handle = await target.CreateStoreAsync(ct);
        var store = handle.Store;
        var stream = new StreamName("Bad-1");
        var limit = store.Capabilities.MaxEventSize;

        var oversize = Event(data: new byte[limit + 1]);
        var tooLarge = await Assert.ThrowsAsync<EventTooLargeException>(() => store.AppendAsync(stream, ExpectedVersion.Any, [Event(), oversize], ct));
        Assert.Equal(oversize.EventId, tooLarge.EventId);
        var splitOversize = Event(data: new byte[limit / 2 + 1], metadata: new byte[limit / 2 + 1]);
        await Assert.ThrowsAsync<EventTooLargeException>(() => store.AppendAsync(stream, ExpectedVersion.Any, [splitOversize], ct));

        await Assert.ThrowsAsync<InvalidEventException>(() => store.AppendAsync(stream, ExpectedVersion.Any, [Event() with { SchemaVersion = 0 }], ct));
        await Assert.ThrowsAsync<InvalidEventException>(() => store.AppendAsync(stream, ExpectedVersion.Any, [Event() with { ContentType = " " }], ct));
        await Assert.ThrowsAsync<InvalidEventException>(() => store.AppendAsync(stream, ExpectedVersion.Any, [Event() with { EventId = Guid.Empty }], ct));
        var twice = Event();
        await Assert.ThrowsAsync<DuplicateEventIdException>(() => store.AppendAsync(stream, ExpectedVersion.Any, [twice, Event(), twice], ct));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.AppendAsync(stream, Forge(ExpectedVersionKind.Exact, -5), [Event()], ct));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.AppendAsync(stream, Forge((ExpectedVersionKind)42, 0), [Event()], ct));
        await Assert.ThrowsAsync<InvalidStreamNameException>(() => store.AppendAsync(default, ExpectedVersion.Any, [Event()], ct));
        Assert.False((await store.GetStreamInfoAsync(stream, ct)).Exists, "a refused append wrote something");
        Assert.Empty(await store.ReadAllAsync(null, ct).ToListAsync(ct));

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await store.ReadStreamAsync(stream, maxCount: -1, cancellationToken: ct).ToListAsync(ct));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await store.ReadStreamAsync(stream, fromVersion: -1, cancellationToken: ct).ToListAsync(ct));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await store.ReadStreamAsync(stream, (ReadDirection)7, cancellationToken: ct).ToListAsync(ct));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await store.ReadAllAsync(new ReadAllOptions { MaxCount = -1 }, ct).ToListAsync(ct));
        await Assert.ThrowsAsync<ArgumentException>(async () => await store.ReadAllAsync(new ReadAllOptions { Filter = EventFilter.ForCategories("a-b") }, ct).ToListAsync(ct));
        await Assert.ThrowsAsync<ArgumentException>(async () => await store.ReadCategoryAsync("bad-category", null, ct).ToListAsync(ct));

        // The store still works and the refusals left no trace.
        var ok = await store.AppendAsync(stream, ExpectedVersion.NoStream, [Event()], ct);
        Assert.Equal(0, ok.LastVersion);
        Assert.Single(await store.ReadAllAsync(null, ct).ToListAsync(ct));
    }

    [Fact]
    public async Task Metadata_that_is_not_json_or_not_utf8_round_trips_byte_for_byte()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var handle = await target.CreateStoreAsync(ct);
        byte[][] metadata =
        [
            [0xFF, 0xFE, 0x00, 0xC3, 0x28], "{\"unterminated\": ".Select(c => (byte)c).ToArray(), [0], [],
            Encoding.UTF8.GetBytes("'; DROP TABLE events;--"), Encoding.UTF8.GetBytes("{\"a\":\"\\u0000\"}"),
        ];
        var stream = new StreamName("Meta-1");
        var events = metadata.Select(m => Event(data: m, metadata: m)).ToList();
        await handle.Store.AppendAsync(stream, ExpectedVersion.NoStream, events, ct);
        var back = await handle.Store.ReadStreamAsync(stream, cancellationToken: ct).ToListAsync(ct);
        Assert.Equal(metadata.Length, back.Count);
        for (var i = 0; i < metadata.Length; i++)
        {
            Assert.Equal(metadata[i], back[i].Metadata.ToArray());
            Assert.Equal(metadata[i], back[i].Data.ToArray());
        }
        Report.Count(target.Name, "malformed metadata payloads round-tripped", metadata.Length);
    }

    private static string Escape(string text) =>
        string.Concat(text.Take(120).Select(c => char.IsControl(c) || char.IsSurrogate(c) ? $"\\u{(int)c:x4}" : c.ToString()));

    // Reached only by forging: the public API cannot build these values, a cast or a bad deserializer can.
    private static ExpectedVersion Forge(ExpectedVersionKind kind, long version)
    {
        object boxed = ExpectedVersion.Any;
        typeof(ExpectedVersion).GetField("<Kind>k__BackingField", BindingFlags.Instance | BindingFlags.NonPublic)!.SetValue(boxed, kind);
        typeof(ExpectedVersion).GetField("<Version>k__BackingField", BindingFlags.Instance | BindingFlags.NonPublic)!.SetValue(boxed, version);
        return (ExpectedVersion)boxed;
    }
}

/// <summary>Checks that need no store: positions and configuration.</summary>
public sealed class PositionAndConfigurationTests
{
    [Fact]
    public void Garbage_position_text_is_refused_with_InvalidPositionException_and_valid_text_round_trips()
    {
        long garbage = 0, valid = 0;
        Gen.Select(HostileCorpus.Text, Gen.Long[0, long.MaxValue].Array[1, 3]).Sample(t =>
        {
            var (text, parts) = t;
            if (Position.TryParse(text, out var parsed))
            {
                Assert.Equal(parsed, Position.Parse(parsed.ToString()));
                valid++;
            }
            else
            {
                var e = Assert.Throws<InvalidPositionException>(() => Position.Parse(text));
                Assert.Equal(text, e.Text);
                garbage++;
            }
            var position = Position.FromParts(parts);
            Assert.Equal(position, Position.Parse(position.ToString()));
        }, iter: 2000, threads: 1);
        foreach (var text in new[] { "", "-", "-5", "1:", ":1", "1::2", "abc", "1.5", "0x10", "99999999999999999999", "start:1", " 1", "1 ", "1;2", "١٢" })
        {
            Assert.Throws<InvalidPositionException>(() => Position.Parse(text));
            garbage++;
        }
        Report.Count("Abstractions", "garbage positions refused", garbage);
        Report.Count("Abstractions", "generated positions round-tripped", valid + 2000);
    }

    // Each case: settings as "key=value" pairs separated by '|' (a missing value means the key is absent), and the key the error must name.
    public static TheoryData<string, string> BadConfigurations => new()
    {
        { "", "EventStore:Provider" },
        { "EventStore:Provider=   ", "EventStore:Provider" },
        { "EventStore:Provider=NoSuchBackend", "EventStore:Provider" },
        { "EventStore:Provider=InMemory|EventStore:SnapshotEvery=-3", "EventStore:SnapshotEvery" },
        { "EventStore:Provider=InMemory|EventStore:SnapshotEvery='; DROP TABLE x;--", "EventStore:SnapshotEvery" },
        { "EventStore:Provider=Postgres", "EventStore:Postgres:ConnectionString" },
        { "EventStore:Provider=Postgres|EventStore:Postgres:ConnectionString=Host=h|EventStore:Postgres:Schema=x\"; DROP SCHEMA public;--", "EventStore:Postgres:Schema" },
        { "EventStore:Provider=Postgres|EventStore:Postgres:ConnectionString=Host=h|EventStore:Postgres:PollInterval=soon", "EventStore:Postgres:PollInterval" },
        { "EventStore:Provider=Postgres|EventStore:Postgres:ConnectionString=Host=h|EventStore:Postgres:ReadPageSize=-1", "EventStore:Postgres:ReadPageSize" },
        { "EventStore:Provider=DynamoDB|EventStore:DynamoDB:ServiceUrl=ftp:/nowhere", "EventStore:DynamoDB:ServiceUrl" },
        { "EventStore:Provider=DynamoDB|EventStore:DynamoDB:TableName=a", "EventStore:DynamoDB:TableName" },
        { "EventStore:Provider=DynamoDB|EventStore:DynamoDB:AllPartitions=0", "EventStore:DynamoDB:AllPartitions" },
        { "EventStore:Provider=Kafka", "EventStore:Kafka:BootstrapServers" },
        { "EventStore:Provider=Kafka|EventStore:Kafka:BootstrapServers=127.0.0.1:9|EventStore:Kafka:Partitions=0", "EventStore:Kafka:Partitions" },
        { "EventStore:Provider=Kafka|EventStore:Kafka:BootstrapServers=127.0.0.1:9|EventStore:Kafka:Topic=bad topic/../x", "EventStore:Kafka:Topic" },
    };

    [Theory]
    [MemberData(nameof(BadConfigurations))]
    public void Invalid_configuration_is_refused_with_an_EventStoreConfigurationException_naming_the_key(string settings, string badKey)
    {
        var configuration = settings.Split('|', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => pair.Split('=', 2))
            .ToDictionary(kv => kv[0], kv => (string?)kv[1]);
        var e = Assert.Throws<EventStoreConfigurationException>(() =>
        {
            using var services = ConfiguredStoreTarget.BuildServices(configuration);
            Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<IEventStore>(services);
        });
        Assert.Equal(badKey, e.Key);
        Assert.Contains(badKey, e.Message, StringComparison.Ordinal);
        Report.Count("Configuration", $"refused [{settings}] naming {badKey}", 1);
    }
}
