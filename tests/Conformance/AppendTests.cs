using Xunit;

namespace EventStore.Providers.Conformance;

/// <summary>docs/conformance.md items 1, 4, 7 and the second half of 8: appending, results and empty batches.</summary>
public abstract class AppendTests(IEventStoreFixture fixture) : ConformanceTestBase(fixture)
{
    [Fact]
    [Promise(1)]
    public async Task Appending_with_NoStream_to_a_missing_stream_creates_it_with_versions_from_zero()
    {
        var stream = NewStream();
        var events = TestEvents.Batch(3);

        var result = await AppendAsync(stream, ExpectedVersion.NoStream, events);

        Assert.Equal(2, result.LastVersion);
        Assert.True(result.WroteEvents);
        Assert.False(result.Position.IsStart);
        var read = await ReadStreamAsync(stream);
        Assert.Equal([0L, 1L, 2L], read.Select(e => e.Version));
        Assert.Equal(events.Select(e => e.EventId), read.Select(e => e.EventId));
    }

    [Fact]
    [Promise(1)]
    public async Task The_append_result_position_is_the_position_of_the_last_event_written()
    {
        var stream = NewStream();
        await SeedAsync(stream, 2);

        var result = await AppendAsync(stream, ExpectedVersion.Exact(1), TestEvents.Batch(3));

        var last = (await ReadStreamAsync(stream, ReadDirection.Backwards, maxCount: 1)).Single();
        Assert.Equal(4, last.Version);
        Assert.Equal(last.Position, result.Position);
        Assert.Equal(4, result.LastVersion);
    }

    [Fact]
    [Promise(1)]
    public async Task The_next_expected_version_of_a_result_lets_the_writer_append_again()
    {
        var stream = NewStream();
        var first = await AppendAsync(stream, ExpectedVersion.NoStream, TestEvents.Create());

        var second = await AppendAsync(stream, first.NextExpectedVersion, TestEvents.Create());

        Assert.Equal(1, second.LastVersion);
    }

    [Fact]
    [Promise(4)]
    public async Task Appending_with_Any_creates_a_missing_stream()
    {
        var stream = NewStream();

        var result = await AppendAsync(stream, ExpectedVersion.Any, TestEvents.Batch(2));

        Assert.Equal(1, result.LastVersion);
        Assert.Equal(2, (await ReadStreamAsync(stream)).Count);
    }

    [Fact]
    [Promise(4)]
    public async Task Appending_with_Any_extends_an_existing_stream()
    {
        var stream = NewStream();
        await SeedAsync(stream, 2);

        var result = await AppendAsync(stream, ExpectedVersion.Any, TestEvents.Create());

        Assert.Equal(2, result.LastVersion);
        Assert.Equal([0L, 1L, 2L], (await ReadStreamAsync(stream)).Select(e => e.Version));
    }

    [Fact]
    [Promise(4)]
    public async Task Appending_with_StreamExists_to_an_existing_stream_succeeds()
    {
        var stream = NewStream();
        await SeedAsync(stream, 1);

        var result = await AppendAsync(stream, ExpectedVersion.StreamExists, TestEvents.Create());

        Assert.Equal(1, result.LastVersion);
    }

    [Fact]
    [Promise(1)]
    public async Task Consecutive_appends_to_one_stream_read_back_in_append_order()
    {
        var stream = NewStream();
        var appended = new List<EventData>();
        var expected = ExpectedVersion.NoStream;
        for (var i = 0; i < 5; i++)
        {
            var batch = TestEvents.Batch(i + 1);
            expected = (await AppendAsync(stream, expected, batch)).NextExpectedVersion;
            appended.AddRange(batch);
        }

        var read = await ReadStreamAsync(stream);

        Assert.Equal(appended.Select(e => e.EventId), read.Select(e => e.EventId));
        Assert.Equal(Enumerable.Range(0, appended.Count).Select(i => (long)i), read.Select(e => e.Version));
    }

    [Fact]
    [Promise(8)]
    public async Task Appends_to_different_streams_with_NoStream_never_conflict()
    {
        var streams = Enumerable.Range(0, 16).Select(_ => NewStream()).ToList();

        var results = await Task.WhenAll(streams.Select(s => Task.Run(() => AppendAsync(s, ExpectedVersion.NoStream, TestEvents.Batch(2)), Ct)));

        Assert.All(results, r => Assert.Equal(1, r.LastVersion));
        foreach (var s in streams) Assert.Equal(2, (await ReadStreamAsync(s)).Count);
    }

    [Fact]
    [Promise(7)]
    public async Task An_empty_batch_does_not_create_the_stream()
    {
        var stream = NewStream();

        var result = await AppendAsync(stream, ExpectedVersion.Any);

        Assert.Equal(-1, result.LastVersion);
        Assert.False(result.WroteEvents);
        Assert.False((await Store.GetStreamInfoAsync(stream, Ct)).Exists);
        Assert.Empty(await ReadStreamAsync(stream));
    }

    [Fact]
    [Promise(7)]
    public async Task An_empty_batch_to_an_existing_stream_returns_its_last_version_and_writes_nothing()
    {
        var stream = NewStream();
        await SeedAsync(stream, 3);

        var result = await AppendAsync(stream, ExpectedVersion.Exact(2));

        Assert.Equal(2, result.LastVersion);
        Assert.False(result.WroteEvents);
        Assert.Equal(3, (await ReadStreamAsync(stream)).Count);
        Assert.Equal(3, (await ReadAllAsync()).Count);
    }

    [Fact]
    [Promise(7)]
    public async Task An_empty_batch_with_an_expected_version_that_does_not_hold_fails()
    {
        var stream = NewStream();
        await SeedAsync(stream, 1);

        var error = await Assert.ThrowsAsync<WrongExpectedVersionException>(() => AppendAsync(stream, ExpectedVersion.NoStream));

        Assert.Equal(0, error.ActualVersion);
    }
}
