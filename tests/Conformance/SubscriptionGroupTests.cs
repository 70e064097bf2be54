using EventStore.Providers.Projections;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace EventStore.Providers.Conformance;

/// <summary>
/// docs/conformance.md items 26-29: one subscription run by 2-4 instances (runners) in this process against one store,
/// coordinated by the provider's lease store (<see cref="StoreUnderTest.Leases"/>, on a fake clock the test moves) or
/// its native mechanism (<see cref="StoreUnderTest.GroupCoordinators"/>, on the backend's own time). Waits move the fake
/// clock a renew interval at a time, give the instances real time to react, and give up after a generous real
/// deadline, so both kinds pass without timed assertions.
/// </summary>
public abstract class SubscriptionGroupTests(IEventStoreFixture fixture) : ConformanceTestBase(fixture)
{
    private static readonly TimeSpan RenewInterval = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The groups' lease time (10 s). A provider whose server keeps leases in real time may shorten it to what its
    /// test server needs: an instance stopping must store its checkpoints within the stop grace (10 s), however long
    /// that server holds commits while a member joins.
    /// </summary>
    protected virtual TimeSpan LeaseTime => TimeSpan.FromSeconds(10);

    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly string _group = "group-" + Guid.NewGuid().ToString("N");
    private readonly GroupHandlingLog _log = new();
    private readonly List<GroupInstance> _instances = [];

    /// <inheritdoc />
    public override async ValueTask DisposeAsync()
    {
        foreach (var instance in _instances) await instance.DisposeAsync();
        await base.DisposeAsync();
    }

    private ISubscriptionGroupCoordinatorFactory Coordinators(InstanceSwitch control)
    {
        RequireCapability(Capabilities.SubscriptionGroups, nameof(EventStoreCapabilities.SubscriptionGroups));
        if (Sut.GroupCoordinators is { } native) return new SwitchedCoordinatorFactory(native, control);
        if (Sut.Leases is { } leases) return new LeaseCoordinatorFactory(SwitchedLeaseStore.For(leases, control));
        throw new InvalidOperationException($"The {Capabilities.ProviderName} provider declares SubscriptionGroups, so its fixture must set StoreUnderTest.Leases or StoreUnderTest.GroupCoordinators.");
    }

    private async Task<GroupInstance> StartAsync(string name, SubscriptionGroupMode mode = SubscriptionGroupMode.Partitioned, int shares = 8, int checkpointAfterEvents = 3)
    {
        if (_instances.Count == 0) await LearnShareCountAsync(mode);
        var control = new InstanceSwitch($"{name}-{Guid.NewGuid():N}"[..12]);
        var coordinators = Coordinators(control);
        var store = await Sut.OpenAnotherInstanceAsync(Ct);
        var handler = new GroupHandler(control, _log);
        var options = new SubscriptionOptions
        {
            BatchSize = 4,
            CheckpointAfterEvents = checkpointAfterEvents,
            CheckpointAfterTime = TimeSpan.FromHours(1),
            Group = new SubscriptionGroupOptions { Mode = mode, Shares = shares, LeaseTime = LeaseTime, RenewInterval = RenewInterval, InstanceId = control.InstanceId },
        };
        var runner = new SubscriptionRunner(_group, store, Sut.Checkpoints, handler, options, null, _time, new ListLogger<SubscriptionRunner>(name, _runnerLog), coordinators, null);
        var instance = new GroupInstance(runner, control, handler, store);
        _instances.Add(instance);
        await runner.StartAsync(Ct);
        return instance;
    }

    /// <summary>
    /// Moves the fake clock one renew interval, waits (in real time, briefly) until every live instance has coordinated
    /// again, and repeats until <paramref name="done"/> holds or the real deadline passes.
    /// </summary>
    private async Task EventuallyAsync(Func<bool> done, string what)
    {
        using var deadline = Deadline(TimeSpan.FromSeconds(90));
        while (!done())
        {
            if (deadline.IsCancellationRequested) Assert.Fail($"Not reached within the deadline: {what}. Handled {_log.DistinctHandled} distinct event(s); shares: {Describe()}.");
            var live = _instances.Where(i => i.Live).Select(i => (i, i.Control.Refreshes)).ToList();
            _time.Advance(RenewInterval);
            for (var spins = 0; spins < 100 && live.Any(l => l.i.Control.Refreshes == l.Refreshes); spins++)
                await Task.Delay(20, CancellationToken.None);
            await Task.Delay(20, CancellationToken.None);
        }
    }

    /// <summary>
    /// Whether <paramref name="instances"/> together hold every share, spread so that as many of them work as there are
    /// shares for (a provider whose share count comes from the backend may have fewer shares than instances).
    /// </summary>
    private bool SharedBy(params GroupInstance[] instances) =>
        instances.Count(i => i.Runner.HeldShares.Count > 0) == Math.Min(instances.Length, _shares)
        && instances.Sum(i => i.Runner.HeldShares.Count) == _shares;

    private int _shares = 8;
    // Every instance's runner log, printed by a failed handover assertion.
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _runnerLog = new();

    // The share count comes from the coordinator: a native one may use its own (Kafka: the partitions).
    private async Task LearnShareCountAsync(SubscriptionGroupMode mode)
    {
        var options = new SubscriptionGroupOptions { Mode = mode, Shares = 8, LeaseTime = LeaseTime, RenewInterval = RenewInterval };
        await using var probe = Coordinators(new InstanceSwitch("probe")).Create(_group, "probe", options, _time);
        _shares = probe.Shares;
    }

    // With a transactional lease store the stalled batch's read-model change must roll back with its refused checkpoint.
    private ITransactionalLeaseFixture? TransactionalReadModel() =>
        Sut.Leases is not ITransactionalSubscriptionLeaseStore ? null
        : Fixture as ITransactionalLeaseFixture
          ?? throw new InvalidOperationException($"The {Capabilities.ProviderName} provider's lease store is transactional, so its fixture must implement {nameof(ITransactionalLeaseFixture)} to prove promise 28.");

    // What each instance handled (in order) and stored: the evidence a failed handover assertion prints.
    private string Trace(params GroupInstance[] instances) =>
        string.Join(" ", _log.Handled.Select(h => $"#{h.Sequence}:{h.Instance[..1]}:{h.Event.Stream.Value[^4..]}@{h.Event.Version}"))
        + "; " + string.Join("\n", _runnerLog) + "; " + string.Join("; ", instances.Select(i => $"{i.Id} stored share 0 at {i.Control.LastStored(0)?.ToString() ?? "none"}, {i.Control.Refused} refused"));

    private string Describe() => string.Join("; ", _instances.Select(i => $"{i.Id}=[{string.Join(",", i.Runner.HeldShares)}] {i.Runner.Status}{(i.Control.Killed ? " killed" : "")}{(i.Control.Paused ? " paused" : "")}"));

    private async Task<List<RecordedEvent>> AppendToNewStreamsAsync(int streams, int eventsPerStream)
    {
        var appended = new List<RecordedEvent>();
        for (var s = 0; s < streams; s++)
        {
            var stream = NewStream("Order");
            await SeedAsync(stream, eventsPerStream);
            appended.AddRange(await ReadStreamAsync(stream));
        }
        return appended;
    }

    private bool AllHandled(IEnumerable<RecordedEvent> events) => events.Select(e => e.EventId).ToHashSet().IsSubsetOf(_log.Handled.Select(h => h.Event.EventId));

    // Each stream's events are handled in version order: never one before its predecessor was handled at least once
    // (a share resumed from a checkpoint may repeat the events after it, which keeps the order).
    private void AssertStreamOrder()
    {
        foreach (var stream in _log.Handled.GroupBy(h => h.Event.Stream))
        {
            var highest = -1L;
            foreach (var h in stream)
            {
                Assert.True(h.Event.Version <= highest + 1, $"{stream.Key}: version {h.Event.Version} was handled (by {h.Instance}) before version {highest + 1}.");
                highest = Math.Max(highest, h.Event.Version);
            }
        }
    }

    private bool Covers(Position checkpoint, Position position)
    {
        if (HasTotalOrder) return checkpoint >= position;
        var done = checkpoint.Parts;
        var wanted = position.Parts;
        if (done.Length != wanted.Length) return checkpoint >= position;
        for (var i = 0; i < done.Length; i++) if (done[i] < wanted[i]) return false;
        return true;
    }

    [Fact]
    [Promise(26)]
    public async Task Every_event_is_handled_by_the_union_of_the_instances_in_stream_order_and_never_by_two_at_once()
    {
        var before = await AppendToNewStreamsAsync(12, 3);
        var instances = new[] { await StartAsync("a"), await StartAsync("b"), await StartAsync("c") };
        await EventuallyAsync(() => SharedBy(instances), "every share held, by all three instances");
        var during = await AppendToNewStreamsAsync(12, 3);

        await EventuallyAsync(() => AllHandled(before.Concat(during)), "every event handled");

        Assert.Empty(_log.Overlaps);
        AssertStreamOrder();
        foreach (var stream in _log.Handled.GroupBy(h => h.Event.Stream))
            Assert.Single(stream.Select(h => h.Share).Distinct());
        var held = instances.SelectMany(i => i.Runner.HeldShares).ToList();
        Assert.Equal(held.Count, held.Distinct().Count());
    }

    [Fact]
    [Promise(27)]
    public async Task The_shares_of_an_instance_killed_without_leaving_are_resumed_by_another_from_its_last_checkpoint()
    {
        var first = await AppendToNewStreamsAsync(10, 3);
        var a = await StartAsync("a");
        var b = await StartAsync("b");
        await EventuallyAsync(() => AllHandled(first) && SharedBy(a, b), "the first events handled with the shares split");
        var second = await AppendToNewStreamsAsync(10, 3);
        await EventuallyAsync(() => AllHandled(second), "the second events handled");
        // With fewer shares than instances (one Kafka partition) only one works: kill that one.
        var (victim, survivor) = a.Runner.HeldShares.Count > 0 ? (a, b) : (b, a);
        var sharesOfVictim = victim.Runner.HeldShares.ToHashSet();

        victim.Control.Kill();
        var third = await AppendToNewStreamsAsync(10, 3);
        await EventuallyAsync(() => AllHandled(third) && SharedBy(survivor), "the survivor holds every share and handled the events after the kill");

        AssertStreamOrder();
        var byVictim = _log.Handled.Where(h => h.Instance == victim.Id).Select(h => h.Event.EventId).ToHashSet();
        foreach (var repeat in _log.Handled.Where(h => h.Instance == survivor.Id && byVictim.Contains(h.Event.EventId)))
        {
            var stored = victim.Control.LastStored(repeat.Share);
            Assert.False(stored is { } checkpoint && Covers(checkpoint, repeat.Event.Position),
                $"{repeat.Event.Stream}@{repeat.Event.Version} was handled again although the killed instance had stored a checkpoint past it ({stored}).");
        }
        Assert.NotEmpty(sharesOfVictim);
        Assert.DoesNotContain(_log.Handled, h => h.Instance == victim.Id && third.Any(e => e.EventId == h.Event.EventId));
    }

    [Fact]
    [Promise(28)]
    public async Task A_stalled_instance_that_lost_its_lease_can_no_longer_store_a_checkpoint_or_a_transactional_change()
    {
        var first = await AppendToNewStreamsAsync(2, 2);
        var a = await StartAsync("a", SubscriptionGroupMode.ActiveStandby, checkpointAfterEvents: 1);
        await EventuallyAsync(() => AllHandled(first) && a.Runner.HeldShares.Count == 1, "the active instance handled the first events");
        var b = await StartAsync("b", SubscriptionGroupMode.ActiveStandby, checkpointAfterEvents: 1);
        await EventuallyAsync(() => b.Control.Refreshes > 1, "the standby joined");

        var readModel = TransactionalReadModel();
        var rowKey = "stalled-" + Guid.NewGuid().ToString("N");
        if (readModel is not null)
            a.Handler.AfterStall = (context, ct) => readModel.WriteReadModelAsync(Sut,
                context.Transaction ?? throw new InvalidOperationException("A transactional lease store handed the handler no transaction."), rowKey, ct);
        var stalled = a.Handler.StallNextBatch();
        var second = await AppendToNewStreamsAsync(2, 2);
        await EventuallyAsync(() => stalled.IsCompleted, "the active instance's handler is inside the next batch");
        a.Control.Pause();
        await EventuallyAsync(() => AllHandled(second) && b.Runner.HeldShares.Count == 1, "the standby took over after the lease lapsed and handled the batch");

        var refreshesWhilePaused = a.Control.Refreshes;
        a.Handler.Unstall();
        a.Control.Resume();
        await EventuallyAsync(() => a.Control.Refreshes > refreshesWhilePaused + 1 && a.Runner.HeldShares.Count == 0, "the resumed instance noticed it lost its share");

        Assert.Equal(0, a.Control.StoredSincePause);
        if (readModel is not null)
            Assert.False(await readModel.ReadModelExistsAsync(Sut, rowKey, Ct), "The stalled instance's read-model change committed although its lease was taken over.");
        var third = await AppendToNewStreamsAsync(1, 2);
        await EventuallyAsync(() => AllHandled(third), "the new active instance handles what follows");
        Assert.DoesNotContain(_log.Handled, h => h.Instance == a.Id && third.Any(e => e.EventId == h.Event.EventId));
    }

    [Fact]
    [Promise(29)]
    public async Task Instances_joining_and_leaving_rebalance_the_shares_without_losing_an_event()
    {
        var a = await StartAsync("a");
        var b = await StartAsync("b");
        var first = await AppendToNewStreamsAsync(8, 2);
        await EventuallyAsync(() => AllHandled(first) && SharedBy(a, b), "two instances share the work");

        var c = await StartAsync("c");
        var second = await AppendToNewStreamsAsync(8, 2);
        await EventuallyAsync(() => AllHandled(second) && SharedBy(a, b, c), "the joining instance took its part");

        await a.Runner.StopAsync(Ct);
        var third = await AppendToNewStreamsAsync(8, 2);
        await EventuallyAsync(() => AllHandled(third) && SharedBy(b, c), "the leaving instance's shares were taken over");

        AssertStreamOrder();
        Assert.Empty(_log.Overlaps);
        Assert.Equal(SubscriptionStatus.Stopped, a.Runner.Status);
    }

    [Fact]
    [Promise(29)]
    public async Task Checkpoints_per_share_survive_a_full_restart_with_a_different_number_of_instances()
    {
        var first = await AppendToNewStreamsAsync(10, 2);
        var before = new[] { await StartAsync("a"), await StartAsync("b"), await StartAsync("c") };
        await EventuallyAsync(() => AllHandled(first) && SharedBy(before), "three instances handled everything");
        foreach (var instance in before) await instance.Runner.StopAsync(Ct);

        var second = await AppendToNewStreamsAsync(10, 2);
        var after = new[] { await StartAsync("d"), await StartAsync("e") };
        await EventuallyAsync(() => AllHandled(second) && SharedBy(after), "two new instances handled what was appended meanwhile");

        var restarted = after.Select(i => i.Id).ToHashSet();
        var firstIds = first.Select(e => e.EventId).ToHashSet();
        Assert.DoesNotContain(_log.Handled, h => restarted.Contains(h.Instance) && firstIds.Contains(h.Event.EventId));
        AssertStreamOrder();
    }

    [Fact]
    [Promise(26, 27)]
    public async Task In_active_standby_only_one_instance_handles_at_a_time_and_a_standby_takes_over_when_it_goes()
    {
        var first = await AppendToNewStreamsAsync(3, 2);
        var a = await StartAsync("a", SubscriptionGroupMode.ActiveStandby);
        var b = await StartAsync("b", SubscriptionGroupMode.ActiveStandby);
        // A native coordinator may move the one share when the standby joins; either way exactly one instance holds it.
        await EventuallyAsync(() => AllHandled(first) && a.Runner.HeldShares.Count + b.Runner.HeldShares.Count == 1, "one instance is active and handled the first events");
        var active = a.Runner.HeldShares.Count == 1 ? a : b;
        var standby = active == a ? b : a;

        await active.Runner.StopAsync(Ct);
        var stoppedAt = _log.Handled.Count;
        var second = await AppendToNewStreamsAsync(3, 2);
        await EventuallyAsync(() => AllHandled(second) && standby.Runner.HeldShares.Count == 1, "the standby took over");

        var firstIds = first.Select(e => e.EventId).ToHashSet();
        Assert.False(_log.Handled.Skip(stoppedAt).Any(h => firstIds.Contains(h.Event.EventId)),
            $"The standby repeated events the stopped active had handled. {Trace(active, standby)}");
        Assert.Empty(_log.ConcurrentInstances);
        AssertStreamOrder();
    }
}
