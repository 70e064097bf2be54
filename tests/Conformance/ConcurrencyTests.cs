using Xunit;

namespace EventStore.Providers.Conformance;

/// <summary>docs/conformance.md item 8: writers racing on one stream.</summary>
[Promise(8)]
public abstract class ConcurrencyTests(IEventStoreFixture fixture) : ConformanceTestBase(fixture)
{
    private const int Writers = 8;

    [Fact]
    public async Task Eight_writers_racing_on_one_stream_with_the_same_expected_version_have_exactly_one_winner_per_round()
    {
        var stream = NewStream();
        await SeedAsync(stream, 1);
        using var deadline = Deadline();

        for (var round = 0; round < 10; round++)
        {
            var expected = ExpectedVersion.Exact((await Store.GetStreamInfoAsync(stream, deadline.Token)).LastVersion);
            var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var attempts = Enumerable.Range(0, Writers).Select(_ => Task.Run(async () =>
            {
                await start.Task;
                try
                {
                    await Store.AppendAsync(stream, expected, [TestEvents.Create()], deadline.Token);
                    return true;
                }
                catch (WrongExpectedVersionException e)
                {
                    Assert.Equal(expected.Version + 1, e.ActualVersion);
                    return false;
                }
            }, deadline.Token)).ToList();
            start.SetResult();

            var outcomes = await Task.WhenAll(attempts);

            Assert.Equal(1, outcomes.Count(won => won));
        }
        Assert.Equal(11, (await ReadStreamAsync(stream)).Count);
    }

    [Fact]
    public async Task Eight_writers_retrying_with_fresh_versions_land_every_event_exactly_once_with_dense_versions()
    {
        const int perWriter = 25;
        var stream = NewStream();
        using var deadline = Deadline(TimeSpan.FromMinutes(2));
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var writers = Enumerable.Range(0, Writers).Select(_ => Task.Run(async () =>
        {
            await start.Task;
            var mine = new List<Guid>();
            var conflicts = 0;
            for (var i = 0; i < perWriter; i++)
            {
                var e = TestEvents.Create();
                while (true)
                {
                    var info = await Store.GetStreamInfoAsync(stream, deadline.Token);
                    try
                    {
                        await Store.AppendAsync(stream, ExpectedVersion.FromLastSeen(info.LastVersion), [e], deadline.Token);
                        break;
                    }
                    catch (WrongExpectedVersionException)
                    {
                        conflicts++;
                    }
                }
                mine.Add(e.EventId);
            }
            return (mine, conflicts);
        }, deadline.Token)).ToList();
        start.SetResult();

        var results = await Task.WhenAll(writers);

        var read = await ReadStreamAsync(stream);
        Assert.Equal(Writers * perWriter, read.Count);
        Assert.Equal(Enumerable.Range(0, read.Count).Select(i => (long)i), read.Select(e => e.Version));
        Assert.Equal(results.SelectMany(r => r.mine).Order(), read.Select(e => e.EventId).Order());
        Assert.Equal(read.Count, read.Select(e => e.EventId).Distinct().Count());
    }

    [Fact]
    public async Task Writers_racing_to_create_a_stream_with_NoStream_create_it_exactly_once()
    {
        var stream = NewStream();
        using var deadline = Deadline();
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var attempts = Enumerable.Range(0, Writers).Select(_ => Task.Run(async () =>
        {
            await start.Task;
            try
            {
                await Store.AppendAsync(stream, ExpectedVersion.NoStream, TestEvents.Batch(2), deadline.Token);
                return true;
            }
            catch (WrongExpectedVersionException)
            {
                return false;
            }
        }, deadline.Token)).ToList();
        start.SetResult();

        var outcomes = await Task.WhenAll(attempts);

        Assert.Equal(1, outcomes.Count(won => won));
        Assert.Equal([0L, 1L], (await ReadStreamAsync(stream)).Select(e => e.Version));
    }

    [Fact]
    public async Task Writers_appending_to_their_own_streams_in_parallel_never_conflict()
    {
        using var deadline = Deadline();
        var streams = Enumerable.Range(0, Writers).Select(_ => NewStream()).ToList();

        await Task.WhenAll(streams.Select(s => Task.Run(async () =>
        {
            var expected = ExpectedVersion.NoStream;
            for (var i = 0; i < 20; i++)
                expected = (await Store.AppendAsync(s, expected, [TestEvents.Create()], deadline.Token)).NextExpectedVersion;
        }, deadline.Token)));

        foreach (var s in streams)
            Assert.Equal(Enumerable.Range(0, 20).Select(i => (long)i), (await ReadStreamAsync(s)).Select(e => e.Version));
        Assert.Equal(Writers * 20, (await ReadAllAsync()).Count);
    }
}
