using Xunit;

namespace EventStore.Providers.Conformance;

/// <summary>
/// docs/conformance.md item 13: while many writers append concurrently, a reader paging <c>$all</c> from its checkpoint (or
/// a subscription) never skips an event that commits later with a lower position, and never repeats one.
/// </summary>
[Promise(13)]
public abstract class GapSafetyTests(IEventStoreFixture fixture) : ConformanceTestBase(fixture)
{
    private const int Writers = 8;
    private const int AppendsPerWriter = 300;
    private const int Total = Writers * AppendsPerWriter;

    private Task<Guid[]> WriteConcurrentlyAsync(CancellationToken cancellationToken)
    {
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var writers = Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            await start.Task;
            // Each writer spreads its appends over a few streams so writers also interleave inside streams' categories.
            var streams = Enumerable.Range(0, 3).Select(_ => NewStream("Gap")).ToArray();
            var versions = new long[streams.Length];
            Array.Fill(versions, -1);
            var ids = new Guid[AppendsPerWriter];
            for (var i = 0; i < AppendsPerWriter; i++)
            {
                var s = i % streams.Length;
                var e = TestEvents.Create();
                var result = await Store.AppendAsync(streams[s], ExpectedVersion.FromLastSeen(versions[s]), [e], cancellationToken);
                versions[s] = result.LastVersion;
                ids[i] = e.EventId;
            }
            return ids;
        }, cancellationToken)).ToList();
        start.SetResult();
        return Task.WhenAll(writers).ContinueWith(t => t.Result.SelectMany(x => x).ToArray(), cancellationToken, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
    }

    [Fact]
    public async Task A_reader_paging_all_from_its_checkpoint_while_eight_writers_append_sees_every_event_exactly_once()
    {
        using var deadline = Deadline(TimeSpan.FromMinutes(3));
        var writing = WriteConcurrentlyAsync(deadline.Token);

        var seen = new HashSet<Guid>();
        var repeats = new List<Guid>();
        Position? checkpoint = null;
        var writersDone = false;
        while (true)
        {
            writersDone = writing.IsCompleted;
            var page = new List<RecordedEvent>();
            await foreach (var e in Store.ReadAllAsync(new ReadAllOptions { From = checkpoint, MaxCount = 50 }, deadline.Token))
                page.Add(e);
            foreach (var e in page)
            {
                if (HasTotalOrder && checkpoint is { } c)
                    Assert.True(e.Position > c, $"Position {e.Position} came after checkpoint {c}.");
                if (!seen.Add(e.EventId)) repeats.Add(e.EventId);
            }
            if (page.Count > 0) checkpoint = page[^1].Position;
            // Only a read that started after every writer finished, and found nothing new, proves the reader is done.
            else if (writersDone) break;
        }
        var written = await writing;

        Assert.Empty(repeats);
        Assert.Equal(Total, seen.Count);
        Assert.True(seen.SetEquals(written), "The reader's events differ from what the writers wrote.");
    }

    [Fact]
    public async Task A_subscription_to_all_while_eight_writers_append_delivers_every_event_exactly_once()
    {
        using var deadline = Deadline(TimeSpan.FromMinutes(3));
        await using var probe = Subscribe(ct => Store.SubscribeToAllAsync(cancellationToken: ct), TimeSpan.FromMinutes(3));
        await probe.WaitForCaughtUpAsync();

        var written = await WriteConcurrentlyAsync(deadline.Token);
        var events = await probe.WaitForEventsAsync(Total);

        var ids = events.Select(e => e.EventId).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.True(ids.ToHashSet().SetEquals(written), "The subscription's events differ from what the writers wrote.");
        AssertInLogOrder(events);
    }

    [Fact]
    public async Task Readers_of_all_on_two_store_instances_agree_on_every_position_after_concurrent_appends()
    {
        using var deadline = Deadline(TimeSpan.FromMinutes(3));
        var other = await Sut.OpenAnotherInstanceAsync(deadline.Token);

        await WriteConcurrentlyAsync(deadline.Token);

        var mine = await ReadAllAsync();
        var theirs = await CollectAsync(other.ReadAllAsync(cancellationToken: deadline.Token));
        Assert.Equal(Total, mine.Count);
        Assert.Equal(Total, mine.Select(e => e.Position).Distinct().Count());
        if (HasTotalOrder) Assert.Equal(mine.Select(e => (e.EventId, e.Position)), theirs.Select(e => (e.EventId, e.Position)));
        else Assert.Equal(mine.Select(e => (e.EventId, e.Position)).Order(), theirs.Select(e => (e.EventId, e.Position)).Order());
    }
}
