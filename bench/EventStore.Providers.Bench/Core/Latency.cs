using System.Diagnostics;
using HdrHistogram;

namespace EventStore.Providers.Bench.Core;

/// <summary>An HdrHistogram in microseconds: one per worker (not thread-safe), merged at the end.</summary>
internal sealed class LatencyRecorder
{
    private const long HighestMicros = 120_000_000;
    private readonly LongHistogram _histogram = new(HighestMicros, 3);

    public long Count => _histogram.TotalCount;

    public void Record(long startTimestamp) => RecordMicros(MicrosSince(startTimestamp));

    public void RecordMicros(long micros) => _histogram.RecordValue(Math.Clamp(micros, 0, HighestMicros));

    public void Add(LatencyRecorder other) => _histogram.Add(other._histogram);

    public static long MicrosSince(long startTimestamp) =>
        (Stopwatch.GetTimestamp() - startTimestamp) * 1_000_000 / Stopwatch.Frequency;

    public LatencySummary? Summary()
    {
        if (_histogram.TotalCount == 0) return null;
        static double Ms(long micros) => micros / 1000.0;
        return new LatencySummary(
            _histogram.TotalCount,
            Math.Round(_histogram.GetMean() / 1000.0, 4),
            Ms(_histogram.GetValueAtPercentile(50)),
            Ms(_histogram.GetValueAtPercentile(90)),
            Ms(_histogram.GetValueAtPercentile(99)),
            Ms(_histogram.GetValueAtPercentile(99.9)),
            Ms(_histogram.GetMaxValue()));
    }
}

/// <summary>What a set of concurrent timed workers did.</summary>
internal sealed record TimedRun(long Operations, long Events, long Conflicts, double Seconds, LatencyRecorder Latency);

/// <summary>The outcome of one operation of a timed worker.</summary>
internal readonly record struct OpOutcome(int Events, bool Conflict)
{
    public static OpOutcome Wrote(int events) => new(events, false);
    public static readonly OpOutcome Conflicted = new(0, true);
}

internal static class Timed
{
    /// <summary>
    /// Runs <paramref name="writers"/> workers, each calling <paramref name="op"/>(worker, iteration) back to back until
    /// the duration is over (at least once each), timing every call. <paramref name="maxOperations"/> ends the run
    /// earlier once that many timed calls were made in all (the scale curve must not grow the store it measures).
    /// </summary>
    /// <param name="warmup">
    /// Untimed calls per worker first. Null (the default): at least 3 and until as long as the timed part (at most 3 s)
    /// has passed, so tiered JIT has compiled the hot paths of the provider and its client before timing starts. With 3
    /// calls only, the first subject of a backend ran on code the JIT had not optimised yet while its raw peer, run later
    /// over the same client library, did not: a DynamoDB append took about 4 s of calls to reach its steady rate on the
    /// 2-core machine, the first second at half of it. A number: exactly that many calls (workloads that count what
    /// they wrote).
    /// </param>
    public static async Task<TimedRun> RunAsync(int writers, TimeSpan duration, Func<int, long, Task<OpOutcome>> op,
        Action<double>? progress, CancellationToken ct, int? warmup = null, long maxOperations = long.MaxValue)
    {
        var warmupCalls = warmup ?? 3;
        var warmupTime = warmup is null && maxOperations == long.MaxValue ? TimeSpan.FromTicks(Math.Min(duration.Ticks, 3 * TimeSpan.TicksPerSecond)) : TimeSpan.Zero;
        var next = new long[writers];
        var warmupStart = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            var i = 0L;
            while (i < warmupCalls || Stopwatch.GetElapsedTime(warmupStart) < warmupTime) await op(w, i++).ConfigureAwait(false);
            next[w] = i;
        }, ct))).ConfigureAwait(false);
        var recorders = new LatencyRecorder[writers];
        var ops = new long[writers];
        var events = new long[writers];
        var conflicts = new long[writers];
        long started = 0;
        var start = Stopwatch.GetTimestamp();
        var deadline = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        using var ticker = progress is null ? null : new Timer(_ =>
            progress(Math.Min(1, (Stopwatch.GetTimestamp() - start) / (double)(deadline - start))), null, 100, 100);
        var tasks = Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            var rec = recorders[w] = new LatencyRecorder();
            var i = next[w];
            do
            {
                ct.ThrowIfCancellationRequested();
                var t0 = Stopwatch.GetTimestamp();
                var outcome = await op(w, i++).ConfigureAwait(false);
                rec.Record(t0);
                ops[w]++;
                events[w] += outcome.Events;
                if (outcome.Conflict) conflicts[w]++;
            }
            while (Stopwatch.GetTimestamp() < deadline && Interlocked.Increment(ref started) < maxOperations);
        }, ct)).ToArray();
        await Task.WhenAll(tasks).ConfigureAwait(false);
        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var all = new LatencyRecorder();
        foreach (var r in recorders) all.Add(r);
        progress?.Invoke(1);
        return new TimedRun(ops.Sum(), events.Sum(), conflicts.Sum(), seconds, all);
    }
}
