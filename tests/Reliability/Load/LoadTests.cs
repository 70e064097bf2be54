using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using EventStore.Providers.Reliability.Tests.Infrastructure;
using EventStore.Providers.Reliability.Tests.Targets;

namespace EventStore.Providers.Reliability.Tests.Load;

/// <summary>
/// Many writers racing over shared streams with optimistic concurrency while a live subscription follows: every
/// acknowledged event arrives once, in order, with dense versions.
/// </summary>
public abstract class LoadTests(IStoreTarget target)
{
    private const int Streams = 100;
    private static readonly TimeSpan SubscriptionLimit = TimeSpan.FromMinutes(2);

    /// <summary>Writers; 16 unless a slow provider needs fewer to fit the CI budget.</summary>
    protected virtual int Writers => 16;

    /// <summary>Appends per writer; 2,000 unless a slow provider needs fewer to fit the CI budget.</summary>
    protected virtual int AppendsPerWriter => 2_000;

    [Fact]
    public async Task Concurrent_writers_over_shared_streams_lose_and_repeat_nothing_while_a_live_subscription_follows()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var handle = await target.CreateStoreAsync(ct);
        var store = handle.Store;
        var total = Writers * AppendsPerWriter;

        using var stopSubscription = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var received = new List<RecordedEvent>(total);
        var allReceived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var caughtUp = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var subscription = Task.Run(async () =>
        {
            await foreach (var m in store.SubscribeToAllAsync(new SubscribeToAllOptions(), stopSubscription.Token))
            {
                if (m.Kind == SubscriptionMessageKind.CaughtUp) caughtUp.TrySetResult();
                if (m.Kind != SubscriptionMessageKind.Event) continue;
                received.Add(m.Event!);
                if (received.Count >= total) allReceived.TrySetResult();
            }
        }, CancellationToken.None);
        await caughtUp.Task.WaitAsync(SubscriptionLimit, ct);

        var acknowledged = new ConcurrentDictionary<Guid, (string Stream, long Version)>();
        var acknowledgedAt = new ConcurrentDictionary<Guid, Position>();
        var latencies = new ConcurrentBag<double>();
        long conflicts = 0;
        var writers = Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            var random = new Random(w);
            var known = new Dictionary<int, long>();
            for (var i = 0; i < AppendsPerWriter; i++)
            {
                var s = random.Next(Streams);
                var stream = new StreamName($"Load-{s}");
                var e = new EventData(Guid.NewGuid(), "Loaded", BitConverter.GetBytes(i));
                while (true)
                {
                    var expected = ExpectedVersion.FromLastSeen(known.GetValueOrDefault(s, -1));
                    var started = Stopwatch.GetTimestamp();
                    try
                    {
                        var result = await store.AppendAsync(stream, expected, [e], ct);
                        latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                        Assert.True(acknowledged.TryAdd(e.EventId, (stream.Value, result.LastVersion)));
                        acknowledgedAt[e.EventId] = result.Position;
                        known[s] = result.LastVersion;
                        break;
                    }
                    catch (WrongExpectedVersionException wrong)
                    {
                        Interlocked.Increment(ref conflicts);
                        Assert.NotNull(wrong.ActualVersion);
                        known[s] = wrong.ActualVersion!.Value;
                    }
                }
            }
        }, ct)).ToArray();
        await Task.WhenAll(writers);

        var arrived = await Task.WhenAny(allReceived.Task, Task.Delay(SubscriptionLimit, ct));
        await stopSubscription.CancelAsync();
        try { await subscription; }
        catch (OperationCanceledException) when (stopSubscription.IsCancellationRequested) { }
        if (arrived != allReceived.Task)
            Assert.Fail($"the subscription received {received.Count} of {total} events within {SubscriptionLimit.TotalMinutes} minutes; "
                + await DescribeMissingAsync(store, received, acknowledgedAt, ct));

        Assert.Equal(total, acknowledged.Count);
        Assert.Equal(total, received.Count);
        Assert.Equal(total, received.Select(e => e.EventId).Distinct().Count());
        foreach (var e in received)
        {
            Assert.True(acknowledged.TryGetValue(e.EventId, out var ack), $"the subscription delivered {e.EventId}, which no writer appended");
            Assert.Equal((ack.Stream, ack.Version), (e.Stream.Value, e.Version));
        }
        foreach (var stream in received.GroupBy(e => e.Stream.Value))
            Assert.Equal(Enumerable.Range(0, stream.Count()).Select(v => (long)v), stream.Select(e => e.Version));
        if (store.Capabilities.GlobalOrder == GlobalOrdering.Total)
            for (var i = 1; i < received.Count; i++)
                Assert.True(received[i - 1].Position < received[i].Position, $"positions out of order at {received[i - 1].Position} then {received[i].Position}");
        var all = await store.ReadAllAsync(null, ct).Select(e => e.EventId).ToListAsync(ct);
        Assert.Equal(received.Select(e => e.EventId).Order(), all.Order());

        var sorted = latencies.Order().ToArray();
        Report.Count(target.Name, $"load: {Writers} writers x {AppendsPerWriter} appends over {Streams} streams, events delivered once", total);
        Report.Count(target.Name, "load: version conflicts retried", conflicts);
        Report.Line(string.Create(CultureInfo.InvariantCulture,
            $"[reliability] {target.Name}: load append latency p50 {sorted[sorted.Length / 2]:F2} ms, p99 {sorted[(int)(sorted.Length * 0.99)]:F2} ms (informational, not asserted)"));
    }

    /// <summary>
    /// Which acknowledged events the subscription did not deliver, and for each whether it sits below the last position
    /// delivered (skipped: a gap-safety failure) or above it (the subscription stalled), and whether <c>$all</c> has it.
    /// </summary>
    private static async Task<string> DescribeMissingAsync(IEventStore store, List<RecordedEvent> received, ConcurrentDictionary<Guid, Position> acknowledgedAt, CancellationToken ct)
    {
        var delivered = received.Select(e => e.EventId).ToHashSet();
        var last = received.Count == 0 ? Position.Start : received[^1].Position;
        var inAll = (await store.ReadAllAsync(null, ct).Select(e => e.EventId).ToListAsync(ct)).ToHashSet();
        var missing = acknowledgedAt.Where(a => !delivered.Contains(a.Key)).OrderBy(a => a.Value).ToList();
        var lines = missing.Take(20).Select(m =>
            $"{m.Key} at {m.Value} ({(m.Value < last ? "below" : "above")} the last delivered {last}; {(inAll.Contains(m.Key) ? "in" : "not in")} $all now)");
        return $"{missing.Count} missing, {missing.Count(m => m.Value < last)} of them below the last delivered position: " + string.Join("; ", lines);
    }
}
