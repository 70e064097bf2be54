using System.Text;
using Xunit;

namespace EventStore.Providers.Conformance;

/// <summary>docs/conformance.md items 9, 10 and 11: reading one stream, missing streams, exact round trips.</summary>
public abstract class ReadStreamTests(IEventStoreFixture fixture) : ConformanceTestBase(fixture)
{
    [Fact]
    public async Task Reading_forwards_from_version_k_with_max_count_c_returns_versions_k_to_k_plus_c_minus_one()
    {
        var stream = NewStream();
        var events = await SeedAsync(stream, 10);

        var read = await ReadStreamAsync(stream, ReadDirection.Forwards, fromVersion: 3, maxCount: 4);

        Assert.Equal([3L, 4L, 5L, 6L], read.Select(e => e.Version));
        Assert.Equal(events[3..7].Select(e => e.EventId), read.Select(e => e.EventId));
    }

    [Fact]
    public async Task Reading_forwards_without_a_start_begins_at_version_zero()
    {
        var stream = NewStream();
        await SeedAsync(stream, 3);

        var read = await ReadStreamAsync(stream);

        Assert.Equal([0L, 1L, 2L], read.Select(e => e.Version));
    }

    [Fact]
    public async Task Reading_backwards_from_the_end_returns_the_newest_event_first()
    {
        var stream = NewStream();
        var events = await SeedAsync(stream, 5);

        var read = await ReadStreamAsync(stream, ReadDirection.Backwards);

        Assert.Equal([4L, 3L, 2L, 1L, 0L], read.Select(e => e.Version));
        Assert.Equal(events.Reverse().Select(e => e.EventId), read.Select(e => e.EventId));
    }

    [Fact]
    public async Task Reading_backwards_from_version_k_with_max_count_returns_k_downwards()
    {
        var stream = NewStream();
        await SeedAsync(stream, 10);

        var read = await ReadStreamAsync(stream, ReadDirection.Backwards, fromVersion: 6, maxCount: 3);

        Assert.Equal([6L, 5L, 4L], read.Select(e => e.Version));
    }

    [Fact]
    public async Task Reading_backwards_with_max_count_one_returns_only_the_last_event()
    {
        var stream = NewStream();
        await SeedAsync(stream, 4);

        var read = await ReadStreamAsync(stream, ReadDirection.Backwards, maxCount: 1);

        Assert.Equal(3, Assert.Single(read).Version);
    }

    [Fact]
    public async Task Reading_forwards_past_the_end_is_empty()
    {
        var stream = NewStream();
        await SeedAsync(stream, 3);

        Assert.Empty(await ReadStreamAsync(stream, ReadDirection.Forwards, fromVersion: 3));
        Assert.Empty(await ReadStreamAsync(stream, ReadDirection.Forwards, fromVersion: 100));
    }

    [Fact]
    public async Task Reading_with_max_count_zero_returns_nothing()
    {
        var stream = NewStream();
        await SeedAsync(stream, 3);

        Assert.Empty(await ReadStreamAsync(stream, maxCount: 0));
        Assert.Empty(await ReadStreamAsync(stream, ReadDirection.Backwards, maxCount: 0));
    }

    [Fact]
    public async Task A_missing_stream_reads_as_empty_in_both_directions()
    {
        var stream = NewStream();

        Assert.Empty(await ReadStreamAsync(stream));
        Assert.Empty(await ReadStreamAsync(stream, ReadDirection.Backwards));
    }

    [Fact]
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
    public async Task A_stream_read_through_another_store_instance_sees_the_same_events()
    {
        var stream = NewStream();
        var events = await SeedAsync(stream, 3);
        var other = await Sut.OpenAnotherInstanceAsync(Ct);

        var read = await CollectAsync(other.ReadStreamAsync(stream, cancellationToken: Ct));

        Assert.Equal(events.Select(e => e.EventId), read.Select(e => e.EventId));
    }
}
