using System.Text;
using Npgsql;

namespace EventStore.Providers.Postgres.Tests;

/// <summary>What lands in the tables: hostile text stored verbatim, category stored, one batch at consecutive positions.</summary>
public sealed class StorageTests(PostgresFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string, string> HostileNames => new()
    {
        { "Order-'; DROP TABLE events; --", "Type'; DELETE FROM streams; --" },
        { "Quote\"d-\"id\"", "\"Quoted\"Type\"" },
        { "Regex.*+?^$-()[]{}|\\", "^$.*+?()[]{}|\\" },
        { "Ünïcødé-日本語-😀", "Événement🎉" },
        { "Percent%_-like\\%", "%_like_" },
        { "Dollar$$-$1 $$body$$", "$$ $1" },
    };

    [Theory]
    [MemberData(nameof(HostileNames))]
    public async Task Sql_metacharacters_in_stream_names_and_event_types_are_stored_verbatim(string streamName, string eventType)
    {
        await using var sut = await fixture.CreateStoreAsync(Ct);
        var store = (PostgresEventStore)sut.Store;
        var stream = new StreamName(streamName);
        await store.AppendAsync(new StreamName("Control-plain"), ExpectedVersion.NoStream, [TestEvents.New("Plain")], Ct);
        await store.AppendAsync(stream, ExpectedVersion.NoStream, [TestEvents.New(eventType)], Ct);

        await using var connection = await fixture.DataSource.OpenConnectionAsync(Ct);
        await using var cmd = new NpgsqlCommand($"SELECT stream_name, event_type, category FROM \"{store.Schema}\".events ORDER BY position", connection);
        await using var reader = await cmd.ExecuteReaderAsync(Ct);
        var rows = new List<(string Stream, string Type, string Category)>();
        while (await reader.ReadAsync(Ct)) rows.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2)));

        Assert.Equal([("Control-plain", "Plain", "Control"), (streamName, eventType, stream.Category)], rows);
        var byType = await store.ReadAllAsync(new ReadAllOptions { Filter = EventFilter.ForEventTypes(eventType) }, Ct).ToListAsync(Ct);
        Assert.Equal(stream, Assert.Single(byType).Stream);
        var byCategory = await store.ReadCategoryAsync(stream.Category, cancellationToken: Ct).ToListAsync(Ct);
        Assert.Equal(eventType, Assert.Single(byCategory).EventType);
    }

    [Fact]
    public async Task Stream_names_longer_than_the_index_safe_limit_are_refused_before_anything_is_written()
    {
        await using var sut = await fixture.CreateStoreAsync(Ct);
        var tooLong = new StreamName("Order-" + new string('界', PostgresEventStore.MaxNameLength));
        var longest = new StreamName("Order-" + new string('界', PostgresEventStore.MaxNameLength - 6));

        await Assert.ThrowsAsync<InvalidStreamNameException>(() => sut.Store.AppendAsync(tooLong, ExpectedVersion.Any, [TestEvents.New()], Ct));
        await sut.Store.AppendAsync(longest, ExpectedVersion.NoStream, [TestEvents.New()], Ct);

        Assert.Equal(longest, Assert.Single(await sut.Store.ReadAllAsync(cancellationToken: Ct).ToListAsync(Ct)).Stream);
    }

    [Fact]
    public async Task A_batch_of_a_thousand_events_is_stored_with_consecutive_positions_and_versions()
    {
        await using var sut = await fixture.CreateStoreAsync(Ct);
        await sut.Store.AppendAsync(new StreamName("Other-1"), ExpectedVersion.NoStream, [TestEvents.New()], Ct);
        var batch = Enumerable.Range(0, 1000).Select(i => new EventData(Guid.NewGuid(), "Item", Encoding.UTF8.GetBytes($"{{\"i\":{i}}}"))).ToArray();

        var result = await sut.Store.AppendAsync(new StreamName("Order-1"), ExpectedVersion.NoStream, batch, Ct);

        Assert.Equal(999, result.LastVersion);
        var read = await sut.Store.ReadStreamAsync(new StreamName("Order-1"), cancellationToken: Ct).ToListAsync(Ct);
        Assert.Equal(batch.Select(e => e.EventId), read.Select(e => e.EventId));
        var last = result.Position.Parts[0];
        Assert.Equal(Enumerable.Range(0, 1000).Select(i => Position.FromInt64(last - 999 + i)), read.Select(e => e.Position));
    }
}
