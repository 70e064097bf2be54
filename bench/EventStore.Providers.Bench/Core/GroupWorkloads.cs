using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using EventStore.Providers.Projections;
using EventStore.Providers.Bench.Targets;
using Microsoft.Extensions.DependencyInjection;

namespace EventStore.Providers.Bench.Core;

/// <summary>
/// The <c>groups</c> workload: one projection run as a Partitioned subscription group by 1, 2 and 4 instances in this
/// process (each its own InstanceId, a counting handler) over the same backlog, and the time until a surviving instance
/// handles the next event of a share whose instance stopped without leaving. Once the backlog is handled, the same
/// instances take live appends for a while: the lag from each append to its handling is the row's latency. Backends
/// without subscription groups report "not run" with the reason.
/// </summary>
internal sealed class GroupWorkloads(string backend, string subject, StoreHandle handle, BenchOptions options, Action<double> report, CancellationToken ct)
{
    /// <summary>The measurements the workload produces, in report order.</summary>
    public static readonly string[] Produces = ["groups-1", "groups-2", "groups-4", "groups-handover"];

    /// <summary>The note saying when every instance first held a share.</summary>
    public const string SpreadNote = "every instance held a share after";

    private static readonly int[] InstanceCounts = [1, 2, 4];
    private const int Streams = 64;
    private static readonly TimeSpan LeaseTime = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan RenewInterval = TimeSpan.FromMilliseconds(250);
    private readonly string _run = Guid.NewGuid().ToString("N")[..8];

    public async Task<IReadOnlyList<Measurement>> RunAsync()
    {
        var native = handle.Services.GetService<ISubscriptionGroupCoordinatorFactory>();
        var leases = handle.Services.GetService<ISubscriptionLeaseStore>();
        if (native is null && leases is null)
            return [.. Produces.Select(w => Measurement.NotRun(backend, subject, w,
                "the provider registers neither a lease store nor a native group coordinator (no subscription groups)"))];
        var store = handle.Store;
        var category = $"BenchGroup{_run}";
        var streams = Enumerable.Range(0, Streams).Select(i => StreamName.For(category, $"s{i}")).ToArray();
        var backlog = await FillAsync(store, streams).ConfigureAwait(false);
        report(0.25);

        var results = new List<Measurement>();
        double? single = null;
        List<Instance>? live = null;
        // An untimed round first, so the 1-instance row does not pay for loading and compiling the group's code paths.
        foreach (var count in (int[])[0, .. InstanceCounts])
        {
            var warmUp = count == 0;
            var tally = new Tally();
            var instances = Enumerable.Range(0, warmUp ? 2 : count).Select(i => new Instance($"g{count}-{_run}", $"i{i}", store, category, tally, native, leases)).ToList();
            var clock = Stopwatch.StartNew();
            foreach (var i in instances) await i.Runner.StartAsync(ct).ConfigureAwait(false);
            var spreadAfter = await tally.WaitForAsync(backlog, instances, TimeSpan.FromSeconds(180), ct).ConfigureAwait(false);
            var seconds = clock.Elapsed.TotalSeconds;
            var lag = warmUp ? null : await LiveLagAsync(store, streams, tally).ConfigureAwait(false);
            if (warmUp)
            {
                foreach (var i in instances) await i.DisposeAsync().ConfigureAwait(false);
                continue;
            }
            single ??= backlog / seconds;
            var m = new Measurement
            {
                Backend = backend, Subject = subject, Workload = $"groups-{count}",
                Method = $"Partitioned subscription group of {count} instance(s) in one process ({(native is null ? "leases in the store" : "native coordinator")}, 16 shares, lease {LeaseTime.TotalSeconds:0} s), from start-up (joining, taking shares) to every one of {backlog:N0} backlog events over {Streams} streams handled; each instance reads the whole category and handles its shares",
                Operations = tally.Batches, Events = backlog, Seconds = seconds, Latency = lag,
            };
            m.Notes["live lag"] = $"append to handled, {LiveAppendsPerSecond} single-event appends/s for {LiveTime(options).TotalSeconds:0} s after the backlog";
            m.Notes["handled (with repeats)"] = tally.Events.ToString("N0", CultureInfo.InvariantCulture);
            m.Notes["vs 1 instance"] = $"{backlog / seconds / single.Value:0.00}x";
            // How much of the time went to joining and spreading the shares rather than to handling events.
            m.Notes[SpreadNote] = spreadAfter is { } spread ? $"{spread.TotalSeconds:0.00} s" : "never (backlog handled first)";
            results.Add(m);
            report(0.25 + 0.5 * count / InstanceCounts[^1]);
            if (count == 2) live = instances;
            else foreach (var i in instances) await i.DisposeAsync().ConfigureAwait(false);
        }

        results.Add(await HandoverAsync(live!, store, streams, native is not null).ConfigureAwait(false));
        report(1);
        return results;
    }

    /// <summary>The pace of the live phase after each backlog.</summary>
    public const int LiveAppendsPerSecond = 200;

    private static TimeSpan LiveTime(BenchOptions options) => TimeSpan.FromSeconds(options.Quick ? 1 : 3);

    // Single-event appends round robin over the streams at a steady pace the backends all keep up with, so the lag is
    // delivery (polling, waking, the share's instance reading) rather than a queue.
    private async Task<LatencySummary?> LiveLagAsync(IEventStore store, StreamName[] streams, Tally tally)
    {
        var sent = new List<(Guid Id, long At)>();
        var pace = Stopwatch.StartNew();
        var total = (int)(LiveAppendsPerSecond * LiveTime(options).TotalSeconds);
        for (var n = 0; n < total; n++)
        {
            var due = TimeSpan.FromSeconds((double)n / LiveAppendsPerSecond) - pace.Elapsed;
            if (due > TimeSpan.Zero) await Task.Delay(due, ct).ConfigureAwait(false);
            var e = Payload.Event();
            var at = Stopwatch.GetTimestamp();
            await store.AppendAsync(streams[n % streams.Length], ExpectedVersion.Any, [e], ct).ConfigureAwait(false);
            sent.Add((e.EventId, at));
        }
        await tally.WaitForSurvivorsAsync([.. sent.Select(x => x.Id)], "none", TimeSpan.FromSeconds(60), ct).ConfigureAwait(false);
        var latency = new LatencyRecorder();
        foreach (var (id, at) in sent) latency.RecordMicros((tally.HandledAt(id) - at) * 1_000_000 / Stopwatch.Frequency);
        return latency.Summary();
    }

    // Repeatedly: an instance joins the live group, takes shares, then stops without leaving (its lease store stops
    // answering, as if the process died; a native coordinator is stopped instead). Measured: from the stop until every
    // probe event appended to each stream just after it is handled by a surviving instance.
    private async Task<Measurement> HandoverAsync(List<Instance> group, IEventStore store, StreamName[] streams, bool native)
    {
        var handovers = options.Quick ? 2 : 5;
        var latency = new LatencyRecorder();
        var tally = group[0].Tally;
        var groupId = group[0].GroupId;
        try
        {
            for (var n = 0; n < handovers; n++)
            {
                var joining = new Instance(groupId, $"joining{n}", store, group[0].Category, tally, group[0].Native, group[0].Leases);
                await joining.Runner.StartAsync(ct).ConfigureAwait(false);
                var waited = Stopwatch.StartNew();
                while (joining.Runner.HeldShares.Count == 0 || joining.Runner.Status != SubscriptionStatus.Live)
                {
                    if (waited.Elapsed > TimeSpan.FromSeconds(60)) throw new TimeoutException("a joining group instance took no share within 60 s");
                    await Task.Delay(20, ct).ConfigureAwait(false);
                }
                var stoppedAt = Stopwatch.GetTimestamp();
                if (native) await joining.Runner.StopAsync(ct).ConfigureAwait(false);
                else joining.Die();
                var probes = new List<Guid>();
                foreach (var s in streams)
                {
                    var e = Payload.Event();
                    probes.Add(e.EventId);
                    await store.AppendAsync(s, ExpectedVersion.Any, [e], ct).ConfigureAwait(false);
                }
                var handled = await tally.WaitForSurvivorsAsync(probes, joining.Name, TimeSpan.FromSeconds(120), ct).ConfigureAwait(false);
                latency.RecordMicros((handled - stoppedAt) * 1_000_000 / Stopwatch.Frequency);
                await joining.DisposeAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            foreach (var i in group) await i.DisposeAsync().ConfigureAwait(false);
        }
        var summary = latency.Summary();
        var m = new Measurement
        {
            Backend = backend, Subject = subject, Workload = "groups-handover",
            Method = native
                ? $"an instance joining a live group of 2 is stopped (native coordinator: it leaves); until surviving instances handled one new event on each of {streams.Length} streams"
                : $"an instance joining a live group of 2 stops without leaving (its lease store stops answering; lease {LeaseTime.TotalSeconds:0} s, renew {RenewInterval.TotalMilliseconds:0} ms); until surviving instances handled one new event on each of {streams.Length} streams",
            Operations = latency.Count, Events = latency.Count, Seconds = 0, Latency = summary,
        };
        m.Notes["handovers"] = latency.Count.ToString(CultureInfo.InvariantCulture);
        return m;
    }

    // 100-event batches round robin over the streams by 4 writers, so every share has work.
    private async Task<long> FillAsync(IEventStore store, StreamName[] streams)
    {
        var total = options.GroupBacklog;
        long next = 0;
        var writers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (true)
            {
                var batch = Interlocked.Increment(ref next) - 1;
                var size = (int)Math.Min(100, total - batch * 100);
                if (size <= 0) return;
                await store.AppendAsync(streams[batch % streams.Length], ExpectedVersion.Any, Payload.Batch(size), ct).ConfigureAwait(false);
            }
        }, ct)).ToArray();
        await Task.WhenAll(writers).ConfigureAwait(false);
        return total;
    }

    /// <summary>One group instance: its runner, and a switch that makes its lease store stop answering.</summary>
    private sealed class Instance : IAsyncDisposable
    {
        private readonly DyingLeaseStore? _leases;

        public Instance(string groupId, string name, IEventStore store, string category, Tally tally, ISubscriptionGroupCoordinatorFactory? native, ISubscriptionLeaseStore? leases)
        {
            GroupId = groupId;
            Name = name;
            Category = category;
            Tally = tally;
            Native = native;
            Leases = leases;
            _leases = native is null ? new DyingLeaseStore(leases!) : null;
            var factory = native ?? new LeaseCoordinatorFactory(_leases!);
            var runnerOptions = new SubscriptionOptions
            {
                Filter = new EventFilter { Categories = [category] },
                Group = { Mode = SubscriptionGroupMode.Partitioned, LeaseTime = LeaseTime, RenewInterval = RenewInterval, InstanceId = name },
            };
            Runner = new SubscriptionRunner(groupId, store, new UnusedCheckpoints(), new Handler(tally, this), runnerOptions, null, null, null, factory, null);
        }

        public string GroupId { get; }
        public string Name { get; }
        public string Category { get; }
        public Tally Tally { get; }
        public ISubscriptionGroupCoordinatorFactory? Native { get; }
        public ISubscriptionLeaseStore? Leases { get; }
        public SubscriptionRunner Runner { get; }
        public bool Dead { get; private set; }

        public void Die()
        {
            Dead = true;
            _leases!.Die();
        }

        public async ValueTask DisposeAsync()
        {
            // A dead instance's leave fails (its lease store no longer answers) and is logged by the runner, not thrown.
            await Runner.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Counts handled events across instances and when each probe was first handled by a live instance.</summary>
    private sealed class Tally
    {
        private readonly ConcurrentDictionary<Guid, byte> _handled = new();
        private readonly ConcurrentDictionary<Guid, long> _byLive = new();
        private long _events, _batches;

        public long Events => Interlocked.Read(ref _events);
        public long Batches => Interlocked.Read(ref _batches);

        public void Handle(IReadOnlyList<RecordedEvent> events, Instance by)
        {
            var now = Stopwatch.GetTimestamp();
            foreach (var e in events)
            {
                _handled.TryAdd(e.EventId, 0);
                if (!by.Dead) _byLive.TryAdd(e.EventId, now);
            }
            Interlocked.Add(ref _events, events.Count);
            Interlocked.Increment(ref _batches);
        }

        /// <summary>When <paramref name="id"/> was first handled by a live instance.</summary>
        public long HandledAt(Guid id) => _byLive[id];

        /// <summary>Waits until <paramref name="distinct"/> events were handled; returns when every instance first held a share (null: not before).</summary>
        public async Task<TimeSpan?> WaitForAsync(long distinct, IReadOnlyList<Instance> instances, TimeSpan timeout, CancellationToken ct)
        {
            var waited = Stopwatch.StartNew();
            TimeSpan? spread = null;
            while (_handled.Count < distinct)
            {
                if (spread is null && instances.All(i => i.Runner.HeldShares.Count > 0)) spread = waited.Elapsed;
                if (instances.FirstOrDefault(i => i.Runner.Status is SubscriptionStatus.Faulted or SubscriptionStatus.Stopped) is { } stopped)
                    throw new InvalidOperationException($"group instance {stopped.Name} stopped ({stopped.Runner.Status}) after {_handled.Count:N0} of {distinct:N0} events", stopped.Runner.Error);
                if (waited.Elapsed > timeout) throw new TimeoutException($"the group handled {_handled.Count:N0} of {distinct:N0} events within {timeout.TotalSeconds:N0} s");
                await Task.Delay(5, ct).ConfigureAwait(false);
            }
            return spread;
        }

        /// <summary>The timestamp at which the last of <paramref name="probes"/> was first handled by a live instance.</summary>
        public async Task<long> WaitForSurvivorsAsync(IReadOnlyList<Guid> probes, string dead, TimeSpan timeout, CancellationToken ct)
        {
            var waited = Stopwatch.StartNew();
            while (true)
            {
                var missing = probes.Count(p => !_byLive.ContainsKey(p));
                if (missing == 0) return probes.Max(p => _byLive[p]);
                if (waited.Elapsed > timeout) throw new TimeoutException($"{missing} of {probes.Count} events were not handled by a surviving instance within {timeout.TotalSeconds:N0} s of {dead} stopping");
                await Task.Delay(2, ct).ConfigureAwait(false);
            }
        }
    }

    private sealed class Handler(Tally tally, Instance instance) : ISubscriptionHandler
    {
        public Task HandleAsync(IReadOnlyList<RecordedEvent> events, SubscriptionContext context, CancellationToken cancellationToken)
        {
            tally.Handle(events, instance);
            return Task.CompletedTask;
        }
    }

    /// <summary>A group keeps its checkpoints per share; the runner's own checkpoint store is never used.</summary>
    private sealed class UnusedCheckpoints : ICheckpointStore
    {
        public Task<Position?> LoadAsync(string subscriptionId, CancellationToken cancellationToken = default) => Task.FromResult<Position?>(null);
        public Task SaveAsync(string subscriptionId, Position position, CancellationToken cancellationToken = default) => Task.CompletedTask;
        public Task DeleteAsync(string subscriptionId, CancellationToken cancellationToken = default) => Task.CompletedTask;
    }

    /// <summary>A lease store that, once <see cref="Die"/> is called, fails every call: the instance behind it is gone.</summary>
    private sealed class DyingLeaseStore(ISubscriptionLeaseStore inner) : ISubscriptionLeaseStore
    {
        private volatile bool _dead;

        public void Die() => _dead = true;

        private T Alive<T>(T result) => _dead ? throw new TransientEventStoreException("the bench stopped this group instance") : result;

        public Task<SubscriptionLease?> TryAcquireAsync(string name, string owner, DateTimeOffset now, TimeSpan duration, CancellationToken cancellationToken = default) =>
            Alive(inner).TryAcquireAsync(name, owner, now, duration, cancellationToken);
        public Task<SubscriptionLease?> RenewAsync(SubscriptionLease lease, DateTimeOffset now, TimeSpan duration, CancellationToken cancellationToken = default) =>
            Alive(inner).RenewAsync(lease, now, duration, cancellationToken);
        public Task ReleaseAsync(SubscriptionLease lease, CancellationToken cancellationToken = default) => Alive(inner).ReleaseAsync(lease, cancellationToken);
        public Task SaveCheckpointAsync(SubscriptionLease lease, Position checkpoint, CancellationToken cancellationToken = default) =>
            Alive(inner).SaveCheckpointAsync(lease, checkpoint, cancellationToken);
        public Task<IReadOnlyList<SubscriptionLease>> ListAsync(string prefix, CancellationToken cancellationToken = default) => Alive(inner).ListAsync(prefix, cancellationToken);
        public Task<bool> DeleteAsync(string name, long token, CancellationToken cancellationToken = default) => Alive(inner).DeleteAsync(name, token, cancellationToken);
    }
}
