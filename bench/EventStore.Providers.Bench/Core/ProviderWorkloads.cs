using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using EventStore.Providers.Bench.Targets;

namespace EventStore.Providers.Bench.Core;

/// <summary>The workloads every provider runs, written only against IEventStore so each provider does the same work.</summary>
internal sealed class ProviderWorkloads(string backend, string subject, TargetSession session, BenchOptions options,
    Func<string, Action<double>> progress, CancellationToken ct)
{
    private readonly string _run = Guid.NewGuid().ToString("N")[..8];
    private readonly List<Measurement> _measurements = [];

    public List<ScalePoint> ScaleCurve { get; } = [];

    public List<CostPoint> CostCurves { get; } = [];

    public async Task<List<Measurement>> RunAsync()
    {
        StoreHandle main;
        try
        {
            main = await session.CreateStoreAsync("main", ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var why = e is TargetUnavailableException ? e.Message : $"store did not open: {Measurement.Why(e)}";
            foreach (var w in options.Workloads) _measurements.Add(Measurement.NotRun(backend, subject, w, why, e));
            return _measurements;
        }
        try
        {
            var store = main.Store;
            await Run("append-1w", () => Appends(store, "append-1w", 1)).ConfigureAwait(false);
            await Run("append-8w", () => Appends(store, "append-8w", 8)).ConfigureAwait(false);
            await Run("append-16w", () => Appends(store, "append-16w", 16)).ConfigureAwait(false);
            await Run("append-race", () => Race(store)).ConfigureAwait(false);
            await Run("batch-100", () => Batches(store)).ConfigureAwait(false);
            await Run("read-stream", () => ReadStream(main)).ConfigureAwait(false);
            await Run("read-all", () => ReadAll(store)).ConfigureAwait(false);
            await Run("subscription", () => Subscription(store)).ConfigureAwait(false);
            await RunMany("aggregate", ["aggregate", "aggregate-snapshot"], () => Aggregates(store, main.Snapshots)).ConfigureAwait(false);
            await Run("under-load", () => UnderLoad(store)).ConfigureAwait(false);
            await RunMany("projection", ["projection", "projection-live"], () => ProjectionAsync(store, main.Checkpoints)).ConfigureAwait(false);
            await RunMany("groups", GroupWorkloads.Produces, Groups).ConfigureAwait(false);
        }
        finally
        {
            await DisposeAsync(main, "main store").ConfigureAwait(false);
        }
        await RunMany("scale", ["scale", "read-all-large"], Scale).ConfigureAwait(false);
        return _measurements;
    }

    /// <summary>Errors the provider raised outside a workload (e.g. while disposing), reported beside its results.</summary>
    public List<string> Problems { get; } = [];

    private async Task DisposeAsync(StoreHandle handle, string what)
    {
        try
        {
            await handle.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Problems.Add($"disposing the {what} failed: {Measurement.Why(e)}");
        }
    }

    private Task Run(string workload, Func<Task<Measurement>> body) => RunMany(workload, [workload], async () => [await body().ConfigureAwait(false)]);

    private async Task RunMany(string workload, string[] produces, Func<Task<IReadOnlyList<Measurement>>> body)
    {
        if (!options.Runs(workload)) return;
        try
        {
            _measurements.AddRange(await body().ConfigureAwait(false));
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            foreach (var p in produces) _measurements.Add(Measurement.Failed(backend, subject, p, e));
        }
    }

    private StreamName S(string category, string id) => StreamName.For(category, $"{_run}-{id}");

    private Measurement From(string workload, TimedRun r, string method) => new()
    {
        Backend = backend, Subject = subject, Workload = workload, Method = method,
        Operations = r.Operations, Events = r.Events, Seconds = r.Seconds, Conflicts = r.Conflicts, Latency = r.Latency.Summary(),
    };

    private async Task<Measurement> Appends(IEventStore store, string workload, int writers)
    {
        var cursors = Enumerable.Range(0, writers).Select(w => new StreamCursor("BenchAppend", $"{_run}-{writers}w{w}", 100)).ToArray();
        var run = await Timed.RunAsync(writers, options.Duration, async (w, _) =>
        {
            await cursors[w].AppendEventAsync(store, ct).ConfigureAwait(false);
            return OpOutcome.Wrote(1);
        }, progress($"{subject}: {workload}"), ct).ConfigureAwait(false);
        return From(workload, run, $"AppendAsync of 1 event, expected version checked, {writers} writer(s) on distinct streams");
    }

    private async Task<Measurement> Race(IEventStore store)
    {
        var stream = S("BenchRace", "shared");
        var first = await store.AppendAsync(stream, ExpectedVersion.NoStream, [Payload.Event()], ct).ConfigureAwait(false);
        var known = Enumerable.Repeat(first.LastVersion, 8).ToArray();
        var run = await Timed.RunAsync(8, options.Duration, async (w, _) =>
        {
            try
            {
                var r = await store.AppendAsync(stream, ExpectedVersion.Exact(known[w]), [Payload.Event()], ct).ConfigureAwait(false);
                known[w] = r.LastVersion;
                return OpOutcome.Wrote(1);
            }
            catch (WrongExpectedVersionException e)
            {
                known[w] = e.ActualVersion ?? known[w];
                return OpOutcome.Conflicted;
            }
        }, progress($"{subject}: append-race"), ct).ConfigureAwait(false);
        var m = From("append-race", run, "8 writers append 1 event to ONE stream with Exact(last seen); a conflict re-reads the version from the error");
        m.Notes["conflict rate"] = run.Operations > 0 ? $"{100.0 * run.Conflicts / run.Operations:F1}%" : "-";
        return m;
    }

    private async Task<Measurement> Batches(IEventStore store)
    {
        var cursor = new StreamCursor("BenchBatch", _run, 1_000);
        var run = await Timed.RunAsync(1, options.Duration, async (_, _) =>
        {
            var r = await store.AppendAsync(cursor.Stream, cursor.Expected, Payload.Batch(100), ct).ConfigureAwait(false);
            cursor.Appended(r.LastVersion);
            return OpOutcome.Wrote(100);
        }, progress($"{subject}: batch-100"), ct).ConfigureAwait(false);
        return From("batch-100", run, "AppendAsync of 100 events, 1 writer");
    }

    /// <summary>Writes up to <paramref name="total"/> events in 100-event batches with 4 writers, stopping at the budget.</summary>
    private async Task<long> FillAsync(IEventStore store, string category, long total, int eventsPerStream, TimeSpan budget, Action<double>? report)
    {
        long written = 0;
        var deadline = Stopwatch.GetTimestamp() + (long)(budget.TotalSeconds * Stopwatch.Frequency);
        var fillRun = Guid.NewGuid().ToString("N")[..6];
        var tasks = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            var cursor = new StreamCursor(category, $"{_run}-{fillRun}-f{w}", eventsPerStream);
            while (Stopwatch.GetTimestamp() < deadline)
            {
                var claimed = Interlocked.Add(ref written, 100);
                if (claimed > total)
                {
                    Interlocked.Add(ref written, -Math.Min(100, claimed - total));
                    var rest = (int)(total - (claimed - 100));
                    if (rest <= 0) return;
                    var last = await store.AppendAsync(cursor.Stream, cursor.Expected, Payload.Batch(rest), ct).ConfigureAwait(false);
                    cursor.Appended(last.LastVersion);
                    return;
                }
                var r = await store.AppendAsync(cursor.Stream, cursor.Expected, Payload.Batch(100), ct).ConfigureAwait(false);
                cursor.Appended(r.LastVersion);
                report?.Invoke(Math.Min(1, Interlocked.Read(ref written) / (double)total));
            }
        }, ct)).ToArray();
        await Task.WhenAll(tasks).ConfigureAwait(false);
        return Math.Min(total, Interlocked.Read(ref written));
    }

    private async Task<long> FillStreamAsync(IEventStore store, StreamName stream, int total, TimeSpan budget)
    {
        var sw = Stopwatch.StartNew();
        long last = -1;
        while (last + 1 < total && sw.Elapsed < budget)
        {
            var n = (int)Math.Min(100, total - (last + 1));
            last = (await store.AppendAsync(stream, ExpectedVersion.FromLastSeen(last), Payload.Batch(n), ct).ConfigureAwait(false)).LastVersion;
        }
        return last + 1;
    }

    private async Task<Measurement> ReadStream(StoreHandle handle)
    {
        var store = handle.Store;
        var report = progress($"{subject}: read-stream");
        var stream = S("BenchRead", "stream");
        var size = await FillStreamAsync(store, stream, options.StreamReadSize, options.SetupFillBudget).ConfigureAwait(false);
        await session.StreamFilledAsync(handle, stream, options, ct).ConfigureAwait(false);
        using var mem = MemorySampler.Start();
        var run = await Timed.RunAsync(1, options.Duration, async (_, _) =>
        {
            var n = 0;
            await foreach (var e in store.ReadStreamAsync(stream, cancellationToken: ct).ConfigureAwait(false)) n++;
            if (n != size) throw new InvalidOperationException($"read {n} events of the {size} written to {stream}");
            return OpOutcome.Wrote(n);
        }, report, ct, warmup: 1).ConfigureAwait(false);
        var m = From("read-stream", run, $"ReadStreamAsync forwards of one {size:N0}-event stream") with
        {
            AllocatedMb = mem.AllocatedMb / Math.Max(1, run.Operations), HeapGrowthMb = mem.HeapGrowthMb,
        };
        m.Notes["stream size"] = size.ToString("N0", System.Globalization.CultureInfo.InvariantCulture);
        return m;
    }

    private async Task<Measurement> ReadAll(IEventStore store)
    {
        var report = progress($"{subject}: read-all");
        var head = await store.GetHeadPositionAsync(ct).ConfigureAwait(false);
        var size = await FillAsync(store, "BenchAll", options.AllReadSize, 100, options.SetupFillBudget, v => report(v / 2)).ConfigureAwait(false);
        var m = await ReadAllTimedAsync(store, head, size, "read-all", v => report(0.5 + v / 2)).ConfigureAwait(false);
        return m;
    }

    private async Task<Measurement> ReadAllTimedAsync(IEventStore store, Position from, long size, string workload, Action<double> report)
    {
        using var mem = MemorySampler.Start();
        var run = await Timed.RunAsync(1, options.Duration, async (_, _) =>
        {
            var n = 0;
            var options = new ReadAllOptions { From = from.IsStart ? null : from, MaxCount = size };
            await foreach (var e in store.ReadAllAsync(options, ct).ConfigureAwait(false)) n++;
            if (n < size) throw new InvalidOperationException($"$all returned {n} events after {from}; {size} were written");
            return OpOutcome.Wrote(n);
        }, report, ct, warmup: workload == "read-all-large" ? 0 : 1).ConfigureAwait(false);
        var m = From(workload, run, $"ReadAllAsync forwards of {size:N0} events (catch-up)") with
        {
            AllocatedMb = mem.AllocatedMb / Math.Max(1, run.Operations), HeapGrowthMb = mem.HeapGrowthMb,
        };
        m.Notes["events"] = size.ToString("N0", System.Globalization.CultureInfo.InvariantCulture);
        return m;
    }

    private async Task<Measurement> Subscription(IEventStore store)
    {
        var (latency, ops, seconds) = await SubscriptionLatencyAsync(store, progress($"{subject}: subscription")).ConfigureAwait(false);
        return new Measurement
        {
            Backend = backend, Subject = subject, Workload = "subscription",
            Method = "append 1 event, await its arrival in a live $all subscription (append -> handler)",
            Operations = ops, Events = ops, Seconds = seconds, Latency = latency.Summary(),
        };
    }

    private async Task<(LatencyRecorder, long, double)> SubscriptionLatencyAsync(IEventStore store, Action<double> report)
    {
        var waiting = new ConcurrentDictionary<Guid, TaskCompletionSource>();
        var caughtUp = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var head = await store.GetHeadPositionAsync(ct).ConfigureAwait(false);
        var consumer = Task.Run(async () =>
        {
            var subOptions = new SubscribeToAllOptions { From = head.IsStart ? null : head };
            await foreach (var msg in store.SubscribeToAllAsync(subOptions, stop.Token).ConfigureAwait(false))
            {
                if (msg.Kind == SubscriptionMessageKind.CaughtUp) caughtUp.TrySetResult();
                else if (msg.Kind == SubscriptionMessageKind.Event && waiting.TryRemove(msg.Event!.EventId, out var tcs)) tcs.TrySetResult();
            }
        }, stop.Token);
        await WaitOrFail(caughtUp.Task, consumer, "the subscription never reported CaughtUp").ConfigureAwait(false);
        var recorder = new LatencyRecorder();
        long ops = 0;
        var stream = S("BenchSub", "pings");
        long last = -1;
        async Task<long> PingAsync()
        {
            var e = Payload.Event("Ping");
            var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            waiting[e.EventId] = arrived;
            var t0 = Stopwatch.GetTimestamp();
            last = (await store.AppendAsync(stream, ExpectedVersion.FromLastSeen(last), [e], ct).ConfigureAwait(false)).LastVersion;
            await WaitOrFail(arrived.Task, consumer, "an appended event did not reach the subscription").ConfigureAwait(false);
            return t0;
        }
        // Untimed pings first, as in every other workload: the first live event pays for connections and JIT.
        for (var i = 0; i < SubscriptionWarmup; i++) await PingAsync().ConfigureAwait(false);
        var sw = Stopwatch.StartNew();
        do
        {
            recorder.Record(await PingAsync().ConfigureAwait(false));
            ops++;
            report(Math.Min(1, sw.Elapsed / options.Duration));
        }
        while (sw.Elapsed < options.Duration);
        await stop.CancelAsync().ConfigureAwait(false);
        try { await consumer.ConfigureAwait(false); } catch (OperationCanceledException) { }
        return (recorder, ops, sw.Elapsed.TotalSeconds);
    }

    private const int SubscriptionWarmup = 3;

    private static async Task WaitOrFail(Task awaited, Task consumer, string what)
    {
        var done = await Task.WhenAny(awaited, consumer, Task.Delay(TimeSpan.FromSeconds(15))).ConfigureAwait(false);
        if (done == awaited) return;
        if (done == consumer) await consumer.ConfigureAwait(false);
        throw new TimeoutException($"{what} within 15 s");
    }

    private async Task<IReadOnlyList<Measurement>> Aggregates(IEventStore store, ISnapshotStore? snapshots)
    {
        var report = progress($"{subject}: aggregate");
        var perAggregate = options.AggregateEvents;
        var snapshotAt = Math.Max(0, perAggregate - 51);
        var streams = Enumerable.Range(0, options.AggregateCount).Select(i => S("BenchOrder", $"agg{i}")).ToArray();
        foreach (var s in streams)
        {
            var n = await FillStreamAsync(store, s, perAggregate, options.SetupFillBudget).ConfigureAwait(false);
            if (n < perAggregate) throw new TimeoutException($"writing {perAggregate} events into {s} took longer than {options.SetupFillBudget.TotalSeconds} s");
        }
        var plain = await Timed.RunAsync(1, options.Duration, async (_, i) =>
        {
            decimal total = 0;
            var n = 0;
            await foreach (var e in store.ReadStreamAsync(streams[i % streams.Length], cancellationToken: ct).ConfigureAwait(false))
            {
                total += Payload.Amount(e.Data.Span);
                n++;
            }
            if (total <= 0) throw new InvalidOperationException("the folded state is empty");
            return OpOutcome.Wrote(n);
        }, v => report(v / 2), ct).ConfigureAwait(false);
        var results = new List<Measurement>
        {
            From("aggregate", plain, $"load an aggregate of {perAggregate} events: read the whole stream and fold each event"),
        };
        if (snapshots is null)
        {
            results.Add(Measurement.NotRun(backend, subject, "aggregate-snapshot", "the provider registers no ISnapshotStore"));
            return results;
        }
        foreach (var s in streams)
        {
            decimal total = 0;
            await foreach (var e in store.ReadStreamAsync(s, maxCount: snapshotAt + 1, cancellationToken: ct).ConfigureAwait(false))
                total += Payload.Amount(e.Data.Span);
            var state = Encoding.UTF8.GetBytes($$"""{"total":{{total.ToString(System.Globalization.CultureInfo.InvariantCulture)}}}""");
            await snapshots.SaveAsync(new Snapshot(s, snapshotAt, "OrderState", state), ct).ConfigureAwait(false);
        }
        var withSnapshot = await Timed.RunAsync(1, options.Duration, async (_, i) =>
        {
            var s = streams[i % streams.Length];
            var snap = await snapshots.LoadAsync(s, ct).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"the snapshot of {s} was not found");
            var n = 1;
            var total = Payload.Number(snap.Data.Span, "total"u8);
            await foreach (var e in store.ReadStreamAsync(s, fromVersion: snap.Version + 1, cancellationToken: ct).ConfigureAwait(false))
            {
                total += Payload.Amount(e.Data.Span);
                n++;
            }
            if (total <= 0) throw new InvalidOperationException($"the folded state of {s} is empty");
            return OpOutcome.Wrote(n);
        }, v => report(0.5 + v / 2), ct).ConfigureAwait(false);
        results.Add(From("aggregate-snapshot", withSnapshot,
            $"load the same aggregate from its snapshot at version {snapshotAt} plus the {perAggregate - snapshotAt - 1} events after it"));
        return results;
    }

    private async Task<Measurement> UnderLoad(IEventStore store)
    {
        var report = progress($"{subject}: under-load");
        var sent = new ConcurrentDictionary<Guid, long>();
        var lag = new LatencyRecorder();
        var lagLock = new Lock();
        long delivered = 0, deliveredWarmup = 0, sentWarmup = 0;
        const long Warmup = -1; // the send time of a warm-up event: delivered, but not counted as a timed event
        var caughtUp = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var head = await store.GetHeadPositionAsync(ct).ConfigureAwait(false);
        var consumer = Task.Run(async () =>
        {
            await foreach (var msg in store.SubscribeToAllAsync(new SubscribeToAllOptions { From = head.IsStart ? null : head }, stop.Token).ConfigureAwait(false))
            {
                if (msg.Kind == SubscriptionMessageKind.CaughtUp) caughtUp.TrySetResult();
                else if (msg.Kind == SubscriptionMessageKind.Event && sent.TryRemove(msg.Event!.EventId, out var t0))
                {
                    if (t0 == Warmup)
                    {
                        Interlocked.Increment(ref deliveredWarmup);
                        continue;
                    }
                    lock (lagLock) lag.Record(t0);
                    Interlocked.Increment(ref delivered);
                }
            }
        }, stop.Token);
        await WaitOrFail(caughtUp.Task, consumer, "the subscription never reported CaughtUp").ConfigureAwait(false);
        var streams = Enumerable.Range(0, 100).Select(i => S("BenchLoad", i.ToString(System.Globalization.CultureInfo.InvariantCulture))).ToArray();
        var run = await Timed.RunAsync(16, options.Duration, async (w, i) =>
        {
            var e = Payload.Event();
            // Timed.RunAsync makes UnderLoadWarmup untimed calls per writer first (iterations 0..n-1).
            if (i < UnderLoadWarmup) Interlocked.Increment(ref sentWarmup);
            sent[e.EventId] = i < UnderLoadWarmup ? Warmup : Stopwatch.GetTimestamp();
            await store.AppendAsync(streams[(int)((w * 7919 + i * 31) % streams.Length)], ExpectedVersion.Any, [e], ct).ConfigureAwait(false);
            return OpOutcome.Wrote(1);
        }, report, ct, warmup: UnderLoadWarmup).ConfigureAwait(false);
        var drainUntil = Stopwatch.StartNew();
        while (Interlocked.Read(ref delivered) < run.Events && drainUntil.Elapsed < TimeSpan.FromSeconds(15) && !consumer.IsCompleted)
            await Task.Delay(10, ct).ConfigureAwait(false);
        await stop.CancelAsync().ConfigureAwait(false);
        try { await consumer.ConfigureAwait(false); } catch (OperationCanceledException) { }
        var m = From("under-load", run, "16 writers append 1 event each (Any) over 100 streams while a live $all subscription consumes") with
        {
            SecondaryLatency = lag.Summary(),
        };
        m.Notes["delivered to subscription"] = $"{Interlocked.Read(ref delivered):N0} of {run.Events:N0} timed appends";
        m.Notes["warm-up appends delivered"] = $"{Interlocked.Read(ref deliveredWarmup):N0} of {Interlocked.Read(ref sentWarmup):N0}";
        if (Interlocked.Read(ref delivered) < run.Events || Interlocked.Read(ref deliveredWarmup) < Interlocked.Read(ref sentWarmup))
            m = m with { Status = "failed", Reason = $"the subscription missed events: {m.Notes["delivered to subscription"]}, warm-up {m.Notes["warm-up appends delivered"]}" };
        return m;
    }

    private const int UnderLoadWarmup = 3;

    /// <summary>
    /// A projection as applications run one: a <see cref="Projections.SubscriptionRunner"/> with the provider's checkpoint
    /// store, filtered to one category. First it catches up on a backlog (events/s until the handler has seen all of it),
    /// then 16 writers append to that category while it runs live (lag append -> handler).
    /// </summary>
    private async Task<IReadOnlyList<Measurement>> ProjectionAsync(IEventStore store, ICheckpointStore? checkpoints)
    {
        if (checkpoints is null)
            return [Measurement.NotRun(backend, subject, "projection", "the provider registers no ICheckpointStore"),
                    Measurement.NotRun(backend, subject, "projection-live", "the provider registers no ICheckpointStore")];
        var report = progress($"{subject}: projection");
        var category = $"BenchProj{_run}";
        // The projection starts at the head of the store as it was before its backlog, as a new projection deployed on a
        // store with history resumes from a stored checkpoint: it reads only the backlog's region of the log, not the
        // earlier workloads' events (which the Kafka mock cluster's bounded in-memory log no longer holds).
        var subscriptionId = $"bench-{_run}";
        var head = await store.GetHeadPositionAsync(ct).ConfigureAwait(false);
        if (!head.IsStart) await checkpoints.SaveAsync(subscriptionId, head, ct).ConfigureAwait(false);
        var backlog = await FillAsync(store, category, options.ProjectionBacklog, 1_000, options.SetupFillBudget * 3, v => report(v / 3)).ConfigureAwait(false);
        var handler = new CountingProjection();
        var runnerOptions = new Projections.SubscriptionOptions { Filter = new EventFilter { Categories = [category] } };
        await using var runner = new Projections.SubscriptionRunner(subscriptionId, store, checkpoints, handler, runnerOptions);
        var clock = Stopwatch.StartNew();
        await runner.StartAsync(ct).ConfigureAwait(false);
        await handler.WaitForAsync(backlog, runner, TimeSpan.FromSeconds(120), ct).ConfigureAwait(false);
        var catchUp = new Measurement
        {
            Backend = backend, Subject = subject, Workload = "projection",
            Method = $"SubscriptionRunner with checkpoints (every 100 events or 1 s), filtered to one category, catching up on {backlog:N0} events from the head of the store before them",
            Operations = handler.Batches, Events = handler.Events, Seconds = clock.Elapsed.TotalSeconds,
            Notes = { ["backlog"] = backlog.ToString("N0", System.Globalization.CultureInfo.InvariantCulture), ["batches"] = handler.Batches.ToString("N0", System.Globalization.CultureInfo.InvariantCulture) },
        };
        report(2.0 / 3);

        var streams = Enumerable.Range(0, 100).Select(i => StreamName.For(category, $"live{i}")).ToArray();
        var run = await Timed.RunAsync(16, options.Duration, async (w, i) =>
        {
            var e = Payload.Event();
            if (i >= 3) handler.Sent(e.EventId); // the 3 untimed calls per writer are not live-lag samples
            await store.AppendAsync(streams[(int)((w * 7919 + i * 31) % streams.Length)], ExpectedVersion.Any, [e], ct).ConfigureAwait(false);
            return OpOutcome.Wrote(1);
        }, v => report(2.0 / 3 + v / 3), ct).ConfigureAwait(false);
        var expected = backlog + run.Events + 16 * 3; // Timed.RunAsync's 3 untimed calls per writer append too
        await handler.WaitForAsync(expected, runner, TimeSpan.FromSeconds(60), ct).ConfigureAwait(false);
        await runner.StopAsync(ct).ConfigureAwait(false);
        var live = From("projection-live", run, "16 writers append 1 event each (Any) over 100 streams of the projection's category while it runs live") with
        {
            SecondaryLatency = handler.Lag.Summary(),
        };
        live.Notes["handled"] = $"{handler.Events:N0} of {expected:N0}";
        live.Notes["stored checkpoint"] = runner.StoredCheckpoint?.ToString() ?? "none";
        if (handler.Total <= 0) throw new InvalidOperationException("the projection's folded total is empty");
        return [catchUp, live];
    }

    /// <summary>The projection's handler: counts, folds amounts, and records append -> handler lag of live events.</summary>
    private sealed class CountingProjection : Projections.ISubscriptionHandler
    {
        private readonly ConcurrentDictionary<Guid, long> _sent = new();
        private readonly Lock _gate = new();
        private long _events, _batches;
        private decimal _total;

        public LatencyRecorder Lag { get; } = new();
        public long Events => Interlocked.Read(ref _events);
        public long Batches => Interlocked.Read(ref _batches);
        public decimal Total => _total;

        public void Sent(Guid id) => _sent[id] = Stopwatch.GetTimestamp();

        public Task HandleAsync(IReadOnlyList<RecordedEvent> events, Projections.SubscriptionContext context, CancellationToken cancellationToken)
        {
            foreach (var e in events)
            {
                _total += Payload.Amount(e.Data.Span);
                if (_sent.TryRemove(e.EventId, out var t0))
                    lock (_gate) Lag.Record(t0);
            }
            Interlocked.Add(ref _events, events.Count);
            Interlocked.Increment(ref _batches);
            return Task.CompletedTask;
        }

        public async Task WaitForAsync(long count, Projections.SubscriptionRunner runner, TimeSpan timeout, CancellationToken ct)
        {
            var deadline = Stopwatch.StartNew();
            while (Events < count)
            {
                if (runner.Status is Projections.SubscriptionStatus.Faulted or Projections.SubscriptionStatus.Stopped)
                    throw new InvalidOperationException($"the projection stopped ({runner.Status}) after {Events:N0} of {count:N0} events", runner.Error);
                if (deadline.Elapsed > timeout)
                    throw new TimeoutException($"the projection handled {Events:N0} of {count:N0} events within {timeout.TotalSeconds:N0} s");
                await Task.Delay(5, ct).ConfigureAwait(false);
            }
        }
    }

    // A store of its own: group instances start without checkpoints and read the log from its start, which in the main
    // store would be every earlier workload's events (and on the Kafka mock, offsets its bounded log no longer holds).
    private async Task<IReadOnlyList<Measurement>> Groups()
    {
        var handle = await session.CreateStoreAsync("groups", ct).ConfigureAwait(false);
        try
        {
            return await new GroupWorkloads(backend, subject, handle, options, progress($"{subject}: groups"), ct).RunAsync().ConfigureAwait(false);
        }
        finally
        {
            await DisposeAsync(handle, "groups store").ConfigureAwait(false);
        }
    }

    private async Task<IReadOnlyList<Measurement>> Scale()
    {
        var report = progress($"{subject}: scale");
        var handle = await session.CreateStoreAsync("scale", ct).ConfigureAwait(false);
        try
        {
            return await ScaleOn(handle.Store, report).ConfigureAwait(false);
        }
        finally
        {
            await DisposeAsync(handle, "scale store").ConfigureAwait(false);
        }
    }

    private async Task<IReadOnlyList<Measurement>> ScaleOn(IEventStore store, Action<double> report)
    {
        var sizes = options.ScaleSizes;
        var target = sizes.Count == 0 ? 0 : sizes[^1];
        long size = 0;
        var measureFor = TimeSpan.FromSeconds(Math.Clamp(options.Duration.TotalSeconds / 2, 0.5, 3));
        var budgetLeft = options.ScaleFillBudget;
        var points = 0;
        var costs = new CostCurves(store, _run, options, ct);
        await costs.PrepareAsync().ConfigureAwait(false);
        size += Core.CostCurves.PreparedEvents;
        var lastFill = await store.GetHeadPositionAsync(ct).ConfigureAwait(false);
        var filled = false;
        string? costsStopped = null;
        foreach (var wanted in sizes)
        {
            if (wanted > size)
            {
                lastFill = await store.GetHeadPositionAsync(ct).ConfigureAwait(false);
                var sw = Stopwatch.StartNew();
                var baseSize = size;
                var added = await FillAsync(store, "BenchScale", wanted - size, 1_000, budgetLeft,
                    v => report((baseSize + v * (wanted - baseSize)) / Math.Max(1.0, target))).ConfigureAwait(false);
                size += added;
                filled |= added > 0;
                budgetLeft -= sw.Elapsed;
            }
            var cursor = new StreamCursor("BenchScaleProbe", $"{_run}-{size}", 100);
            var run = await Timed.RunAsync(1, measureFor, async (_, _) =>
            {
                await cursor.AppendEventAsync(store, ct).ConfigureAwait(false);
                return OpOutcome.Wrote(1);
            }, null, ct, maxOperations: ScaleProbeAppends).ConfigureAwait(false);
            var lat = run.Latency.Summary()!;
            ScaleCurve.Add(new ScalePoint(backend, subject, size, lat.P50Ms, lat.P99Ms, run.Operations / run.Seconds));
            CostCurves.Add(new CostPoint(backend, subject, "append", size, lat.P50Ms, lat.P99Ms, lat.Count));
            if (costsStopped is null)
            {
                try
                {
                    foreach (var (measure, l) in await costs.MeasureReadsAsync(lastFill, "BenchScale", filled).ConfigureAwait(false))
                        CostCurves.Add(new CostPoint(backend, subject, measure, size, l.P50Ms, l.P99Ms, l.Count));
                }
                catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
                {
                    // The read curves stop at the last size the store could serve (the Kafka mock keeps a bounded log per
                    // partition and drops the events the rare-category reads need); the append curve goes on.
                    costsStopped = $"the read cost curves stop before {size:N0} events: {Measurement.Why(e)}";
                }
            }
            size += run.Events + 3;
            points++;
            if (size < wanted || budgetLeft <= TimeSpan.Zero) break;
        }
        report(1);
        var first = ScaleCurve[^points];
        var lastPoint = ScaleCurve[^1];
        var scale = new Measurement
        {
            Backend = backend, Subject = subject, Workload = "scale",
            Method = $"single-append latency at store sizes {string.Join(", ", ScaleCurve.Skip(ScaleCurve.Count - points).Select(p => p.StoreSize.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)))}",
            Operations = points, Events = size, Seconds = 0,
            Notes =
            {
                ["p50 growth"] = first.P50Ms > 0 ? $"{(lastPoint.P50Ms / first.P50Ms - 1) * 100:+0;-0}% from {first.StoreSize:N0} to {lastPoint.StoreSize:N0} events" : "-",
                ["read cost curves"] = costsStopped ?? "measured at every size",
                ["largest size"] = size < target ? $"{size:N0} (fill budget of {options.ScaleFillBudget.TotalSeconds:N0} s reached before {target:N0})" : $"{size:N0}",
            },
        };
        // The curve stands even when the large read cannot run (the Kafka mock keeps about 5 MB per partition).
        try
        {
            var large = await ReadAllTimedAsync(store, Position.Start, size, "read-all-large", _ => { }).ConfigureAwait(false);
            return [scale, large];
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            return [scale, Measurement.Failed(backend, subject, "read-all-large", e)];
        }
    }

    /// <summary>
    /// At most this many probe appends per store size: enough for a p99, few enough that the probe does not move the
    /// store to the next size by itself (an in-memory store appends 100,000 events a second).
    /// </summary>
    private const int ScaleProbeAppends = 2_000;
}
