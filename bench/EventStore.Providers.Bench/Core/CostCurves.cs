using System.Diagnostics;

namespace EventStore.Providers.Bench.Core;

/// <summary>
/// The cost curves of the scale workload: at each store size, besides the append probe, the time of a stream read, a
/// page of <c>$all</c> at the store's end, a read of a rare and of a common category and an aggregate load. The rare
/// category, the read stream and the aggregate are written once on the empty store, so only the store around them grows.
/// </summary>
internal sealed class CostCurves(IEventStore store, string run, BenchOptions options, CancellationToken ct)
{
    /// <summary>Each measure and what it times.</summary>
    public static readonly (string Id, string Description)[] Measures =
    [
        ("append", "single-event append (p50, p99)"),
        ("read-stream", "read a 1,000-event stream"),
        ("read-all-page", "read 1,000 events of $all from the position before the last fill"),
        ("category-rare", "read a 10-event category"),
        ("category-common", "read the first 1,000 events of the fill's category"),
        ("aggregate", "load a 100-event aggregate (read and fold)"),
    ];

    private const int StreamSize = 1_000, RareSize = 10, AggregateSize = 100, Page = 1_000;

    /// <summary>How many events <see cref="PrepareAsync"/> adds to the store.</summary>
    public const int PreparedEvents = StreamSize + RareSize + AggregateSize;
    private readonly StreamName _stream = StreamName.For("BenchCostStream", run);
    private readonly StreamName _aggregate = StreamName.For("BenchCostOrder", run);
    private readonly string _rare = $"BenchRare{run}";

    /// <summary>Writes the fixed streams the reads measure; call once, on the empty store.</summary>
    public async Task PrepareAsync()
    {
        await store.AppendAsync(_stream, ExpectedVersion.NoStream, Payload.Batch(StreamSize), ct).ConfigureAwait(false);
        await store.AppendAsync(_aggregate, ExpectedVersion.NoStream, Payload.Batch(AggregateSize), ct).ConfigureAwait(false);
        for (var i = 0; i < RareSize; i++)
            await store.AppendAsync(StreamName.For(_rare, i.ToString(System.Globalization.CultureInfo.InvariantCulture)), ExpectedVersion.NoStream, [Payload.Event()], ct).ConfigureAwait(false);
    }

    /// <summary>Times every read measure at the store's current size; <paramref name="lastFill"/> is the head before the newest fill.</summary>
    /// <remarks>Before the first fill the common category and the $all page after the head are empty, and are timed so.</remarks>
    public async Task<List<(string Measure, LatencySummary Latency)>> MeasureReadsAsync(Position lastFill, string fillCategory, bool filled)
    {
        var some = filled ? 1 : 0;
        var results = new List<(string, LatencySummary)>
        {
            ("read-stream", await TimeAsync(async () => Expect(await CountAsync(store.ReadStreamAsync(_stream, cancellationToken: ct)).ConfigureAwait(false), StreamSize, "stream read")).ConfigureAwait(false)),
            ("read-all-page", await TimeAsync(async () => Expect(await CountAsync(store.ReadAllAsync(new ReadAllOptions { From = lastFill.IsStart ? null : lastFill, MaxCount = Page }, ct)).ConfigureAwait(false), some, "$all page")).ConfigureAwait(false)),
            ("category-rare", await TimeAsync(async () => Expect(await CountAsync(store.ReadCategoryAsync(_rare, null, ct)).ConfigureAwait(false), RareSize, "rare category")).ConfigureAwait(false)),
            ("category-common", await TimeAsync(async () => Expect(await CountAsync(store.ReadCategoryAsync(fillCategory, new ReadAllOptions { MaxCount = Page }, ct)).ConfigureAwait(false), some, "common category")).ConfigureAwait(false)),
            ("aggregate", await TimeAsync(async () =>
            {
                decimal total = 0;
                var n = 0;
                await foreach (var e in store.ReadStreamAsync(_aggregate, cancellationToken: ct).ConfigureAwait(false))
                {
                    total += Payload.Amount(e.Data.Span);
                    n++;
                }
                Expect(n, AggregateSize, "aggregate");
            }).ConfigureAwait(false)),
        };
        return results;
    }

    private static void Expect(long got, long atLeast, string what)
    {
        if (got < atLeast) throw new InvalidOperationException($"the cost curve's {what} returned {got} events; at least {atLeast} were written");
    }

    private static async Task<long> CountAsync(IAsyncEnumerable<RecordedEvent> events)
    {
        long n = 0;
        await foreach (var _ in events.ConfigureAwait(false)) n++;
        return n;
    }

    /// <summary>A few untimed calls, then timed calls for a short while (at most 200).</summary>
    private async Task<LatencySummary> TimeAsync(Func<Task> op)
    {
        for (var i = 0; i < 2; i++) await op().ConfigureAwait(false);
        var recorder = new LatencyRecorder();
        var budget = Stopwatch.StartNew();
        var limit = TimeSpan.FromSeconds(Math.Clamp(options.Duration.TotalSeconds / 4, 0.2, 1));
        do
        {
            var t0 = Stopwatch.GetTimestamp();
            await op().ConfigureAwait(false);
            recorder.Record(t0);
        }
        while (budget.Elapsed < limit && recorder.Count < 200);
        return recorder.Summary()!;
    }
}
