using System.Text;
using Xunit;

namespace EventStore.Providers.Conformance;

/// <summary>docs/conformance.md items 9, 10 and 11: reading one stream, missing streams, exact round trips.</summary>
public abstract class ReadStreamTests(IEventStoreFixture fixture) : ConformanceTestBase(fixture)
{
    /// <summary>Stream windows: events seeded, direction, start version, max count, the versions the read returns.</summary>
    public static TheoryData<int, ReadDirection, long?, long, long[]> Windows => new()
    {
        { 10, ReadDirection.Forwards, 3, 4, [3, 4, 5, 6] },              // forwards from version k with max count c: k .. k+c-1
        { 3, ReadDirection.Forwards, null, long.MaxValue, [0, 1, 2] },    // forwards without a start begins at version 0
        { 5, ReadDirection.Backwards, null, long.MaxValue, [4, 3, 2, 1, 0] }, // backwards from the end: newest first
        { 10, ReadDirection.Backwards, 6, 3, [6, 5, 4] },                 // backwards from version k: k downwards
        { 4, ReadDirection.Backwards, null, 1, [3] },                     // backwards with max count 1: the last event only
        { 3, ReadDirection.Forwards, 3, long.MaxValue, [] },              // forwards past the end is empty
        { 3, ReadDirection.Forwards, 100, long.MaxValue, [] },
        { 3, ReadDirection.Forwards, null, 0, [] },                       // max count 0 returns nothing, either way
        { 3, ReadDirection.Backwards, null, 0, [] },
    };

    [Theory]
    [Promise(9)]
    [MemberData(nameof(Windows), MemberType = typeof(ReadStreamTests))]
    public async Task Reading_a_window_of_a_stream_returns_exactly_its_versions_and_their_events(int seeded, ReadDirection direction, long? fromVersion, long maxCount, long[] expected)
    {
        var stream = NewStream();
        var events = await SeedAsync(stream, seeded);

        var read = await ReadStreamAsync(stream, direction, fromVersion, maxCount);

        Assert.Equal(expected, read.Select(e => e.Version));
        Assert.Equal(expected.Select(v => events[v].EventId), read.Select(e => e.EventId));
    }

    [Fact]
    [Promise(10)]
    public async Task A_missing_stream_reads_as_empty_in_both_directions()
    {
        var stream = NewStream();

        Assert.Empty(await ReadStreamAsync(stream));
        Assert.Empty(await ReadStreamAsync(stream, ReadDirection.Backwards));
    }

    [Fact]
    [Promise(10)]
    public async Task A_missing_stream_is_reported_as_not_found()
    {
        var stream = NewStream();

        var info = await Store.GetStreamInfoAsync(stream, Ct);

        Assert.False(info.Exists);
        Assert.Equal(-1, info.LastVersion);
        Assert.False(info.IsDeleted);
        Assert.Equal(stream, info.Stream);
    }

    [Fact]
    [Promise(10)]
    public async Task An_existing_stream_is_reported_with_its_last_version()
    {
        var stream = NewStream();
        await SeedAsync(stream, 4);

        var info = await Store.GetStreamInfoAsync(stream, Ct);

        Assert.True(info.Exists);
        Assert.Equal(3, info.LastVersion);
        Assert.False(info.IsDeleted);
    }

    [Fact]
    [Promise(11)]
    public async Task Every_field_of_an_event_round_trips_byte_for_byte()
    {
        var stream = NewStream();
        var data = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
        var metadata = Encoding.UTF8.GetBytes("{\"correlationId\":\"c-1\",\"causationId\":\"c-0\",\"userId\":\"ü\"}");
        var binary = new EventData(Guid.NewGuid(), "BinaryThing", data, metadata, "application/octet-stream", 3);
        var json = new EventData(Guid.NewGuid(), "JsonThing", Encoding.UTF8.GetBytes("{\"a\":1,\"b\":[true,null,\"x\"]}"), metadata);
        var before = DateTimeOffset.UtcNow;

        var result = await AppendAsync(stream, ExpectedVersion.NoStream, binary, json);

        var read = await ReadStreamAsync(stream);
        Assert.Equal(2, read.Count);
        AssertSameEvent(binary, read[0]);
        AssertSameEvent(json, read[1]);
        Assert.All(read, e => Assert.Equal(stream, e.Stream));
        Assert.Equal([0L, 1L], read.Select(e => e.Version));
        Assert.Equal(result.Position, read[1].Position);
        Assert.All(read, e =>
        {
            Assert.Equal(TimeSpan.Zero, e.CreatedUtc.Offset);
            // Generous: a server's clock may differ from the test machine's.
            Assert.InRange(e.CreatedUtc, before.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(5));
        });
    }

    [Fact]
    [Promise(11)]
    public async Task Empty_data_and_metadata_round_trip_as_empty()
    {
        var stream = NewStream();
        var e = new EventData(Guid.NewGuid(), "Empty", ReadOnlyMemory<byte>.Empty);

        await AppendAsync(stream, ExpectedVersion.NoStream, e);

        var read = Assert.Single(await ReadStreamAsync(stream));
        Assert.Equal(0, read.Data.Length);
        Assert.Equal(0, read.Metadata.Length);
        AssertSameEvent(e, read);
    }

    [Fact]
    [Promise(9)]
    public async Task Reading_a_stream_returns_only_its_own_events_even_when_names_share_a_prefix()
    {
        var id = Guid.NewGuid().ToString("N");
        var shorter = StreamName.For("Order", id);
        var longer = StreamName.For("Order", id + "0");
        await SeedAsync(shorter, 2);
        await SeedAsync(longer, 3);

        Assert.Equal(2, (await ReadStreamAsync(shorter)).Count);
        Assert.All(await ReadStreamAsync(longer), e => Assert.Equal(longer, e.Stream));
    }

    [Fact]
    [Promise(9)]
    public async Task Stream_names_are_case_sensitive()
    {
        var id = Guid.NewGuid().ToString("N");
        var lower = StreamName.For("order", id);
        var upper = StreamName.For("Order", id);
        await SeedAsync(lower, 1);

        Assert.Empty(await ReadStreamAsync(upper));
        Assert.False((await Store.GetStreamInfoAsync(upper, Ct)).Exists);
    }

    [Fact]
    [Promise(9)]
    public async Task A_stream_read_through_another_store_instance_sees_the_same_events()
    {
        var stream = NewStream();
        var events = await SeedAsync(stream, 3);
        var other = await Sut.OpenAnotherInstanceAsync(Ct);

        var read = await CollectAsync(other.ReadStreamAsync(stream, cancellationToken: Ct));

        Assert.Equal(events.Select(e => e.EventId), read.Select(e => e.EventId));
    }
}
