using System.Collections.Concurrent;
using EventStore.Providers.Diagnostics;
using EventStore.Providers.InMemory;
using EventStore.Providers.Projections;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;

namespace EventStore.Providers.Abstractions.Tests;

public class SubscriptionGroupRunnerTests
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    private readonly InMemoryStorage _storage = new();
    private readonly TestLeaseStore _leases = new();
    private readonly FakeTimeProvider _time = new();
    private readonly InMemoryEventStore _store;

    public SubscriptionGroupRunnerTests() => _store = new InMemoryEventStore(_storage);

    private sealed class Recorder(ConcurrentQueue<(string Instance, RecordedEvent Event, int? Share)>? shared = null) : ISubscriptionHandler
    {
        public ConcurrentQueue<(string Instance, RecordedEvent Event, int? Share)> Handled { get; } = new();

        /// <summary>What every recorder sharing it handled, in the order it was handled across instances.</summary>
        public ConcurrentQueue<(string Instance, RecordedEvent Event, int? Share)> InOrder { get; } = shared ?? new();

        public string Instance { get; set; } = "";

        public Task HandleAsync(IReadOnlyList<RecordedEvent> events, SubscriptionContext context, CancellationToken cancellationToken)
        {
            foreach (var e in events)
            {
                Handled.Enqueue((Instance, e, context.Share));
                InOrder.Enqueue((Instance, e, context.Share));
            }
            return Task.CompletedTask;
        }
    }

    private SubscriptionRunner Runner(string instance, Recorder handler, SubscriptionGroupMode mode = SubscriptionGroupMode.Partitioned, EventStoreInstrumentation? instrumentation = null)
    {
        handler.Instance = instance;
        var options = new SubscriptionOptions
        {
            BatchSize = 10,
            CheckpointAfterEvents = 1,
            Group = new SubscriptionGroupOptions { Mode = mode, Shares = 4, InstanceId = instance },
        };
        return new SubscriptionRunner("orders", _store, new InMemoryCheckpointStore(_storage), handler, options, null, _time, null,
            new LeaseCoordinatorFactory(_leases), instrumentation);
    }

    private async Task AppendAsync(int streams, int eventsPerStream)
    {
        for (var s = 0; s < streams; s++)
        {
            var stream = StreamName.For("Order", Guid.NewGuid().ToString("N"));
            await _store.AppendAsync(stream, ExpectedVersion.Any, TestEventsFor(eventsPerStream), Ct);
        }
    }

    private static EventData[] TestEventsFor(int count) =>
        [.. Enumerable.Range(0, count).Select(_ => new EventData(Guid.NewGuid(), "OrderPlaced", "{}"u8.ToArray()))];

    // Moves the fake clock a renew interval at a time, letting the runners work in real time in between.
    private async Task AdvanceUntilAsync(Func<bool> done)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        while (!done())
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(20, timeout.Token);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Two_instances_split_the_shares_and_together_handle_every_event_once_in_stream_order()
    {
        var handler = new Recorder();
        await AppendAsync(20, 5);
        await using var a = Runner("a", handler);
        await using var b = Runner("b", new Recorder(handler.InOrder));
        var bHandler = (Recorder)b.Handler;

        await a.StartAsync(Ct);
        await b.StartAsync(Ct);
        await AdvanceUntilAsync(() => a.HeldShares.Count == 2 && b.HeldShares.Count == 2);
        await AppendAsync(20, 5);
        await AdvanceUntilAsync(() => DistinctHandled(handler, bHandler) == 200);

        Assert.Empty(a.HeldShares.Intersect(b.HeldShares));
        // In the order handled across both instances: a stream whose share moved is continued by its new holder.
        var all = handler.InOrder.ToList();
        foreach (var stream in all.GroupBy(h => h.Event.Stream))
        {
            Assert.Single(stream.Select(h => h.Share).Distinct());
            var versions = stream.Select(h => h.Event.Version).ToList();
            // Handled once, except what an instance replays after a hand-over from the previous owner's checkpoint.
            Assert.Equal([.. versions.Distinct().Order()], versions.Distinct());
        }
        Assert.Equal(SubscriptionStatus.Live, a.Status);
    }

    [Fact(Timeout = 60_000)]
    public async Task When_an_instance_stops_the_other_takes_its_shares_from_their_checkpoints()
    {
        var aHandler = new Recorder();
        var bHandler = new Recorder();
        await AppendAsync(10, 3);
        var a = Runner("a", aHandler);
        await using var b = Runner("b", bHandler);
        await a.StartAsync(Ct);
        await b.StartAsync(Ct);
        await AdvanceUntilAsync(() => DistinctHandled(aHandler, bHandler) == 30 && a.HeldShares.Count == 2 && b.HeldShares.Count == 2);
        var handledByA = aHandler.Handled.Count;

        await a.DisposeAsync();
        await AppendAsync(10, 3);
        await AdvanceUntilAsync(() => DistinctHandled(aHandler, bHandler) == 60 && b.HeldShares.Count == 4);

        Assert.Equal(handledByA, aHandler.Handled.Count);
        Assert.Equal(SubscriptionStatus.Stopped, a.Status);
        Assert.Equal(60, aHandler.Handled.Concat(bHandler.Handled).Count());
    }

    [Fact(Timeout = 60_000)]
    public async Task Shares_held_lag_and_handovers_are_measured_per_instance()
    {
        using var instrumentation = new EventStoreInstrumentation();
        using var shares = new MetricCollector<long>(instrumentation.Meter, "eventstore.subscription.shares");
        using var lag = new MetricCollector<double>(instrumentation.Meter, "eventstore.subscription.lag");
        using var handovers = new MetricCollector<long>(instrumentation.Meter, "eventstore.subscription.handovers");
        var handler = new Recorder();
        await AppendAsync(4, 2);
        await using var a = Runner("a", handler, instrumentation: instrumentation);

        await a.StartAsync(Ct);
        await AdvanceUntilAsync(() => DistinctHandled(handler) == 8 && a.HeldShares.Count == 4);
        shares.RecordObservableInstruments();
        lag.RecordObservableInstruments();

        var held = shares.LastMeasurement!;
        Assert.Equal(4, held.Value);
        Assert.Equal("orders", held.Tags["subscription"]);
        Assert.Equal("a", held.Tags["instance"]);
        Assert.Equal(4, lag.GetMeasurementSnapshot().Select(m => m.Tags["share"]).Distinct().Count());
        Assert.Equal(4, handovers.GetMeasurementSnapshot().Count(m => (string?)m.Tags["change"] == "taken"));

        await a.StopAsync(Ct);
        shares.RecordObservableInstruments();
        Assert.Single(shares.GetMeasurementSnapshot());
    }

    [Fact]
    public void A_group_on_a_provider_without_leases_or_a_native_coordinator_is_refused_naming_the_key()
    {
        var options = new SubscriptionOptions { Group = new SubscriptionGroupOptions { Mode = SubscriptionGroupMode.ActiveStandby } };

        var e = Assert.Throws<EventStoreConfigurationException>(() =>
            new SubscriptionRunner("orders", _store, new InMemoryCheckpointStore(_storage), new Recorder(), options));

        Assert.Equal("EventStore:Subscriptions:orders:Group:Mode", e.Key);
    }

    /// <summary>A coordinator that keeps listing one holding whose checkpoints the store refuses, as a refresh sent before a long pause would.</summary>
    private sealed class StaleCoordinator : ISubscriptionGroupCoordinatorFactory, ISubscriptionGroupCoordinator
    {
        private sealed class RefusedClaim() : ShareClaim(0, 1, null)
        {
            public override Task SaveCheckpointAsync(Position checkpoint, CancellationToken cancellationToken) =>
                Task.FromException(new LeaseLostException("orders/share/0", 1));
        }

        private readonly RefusedClaim _claim = new();
        public int Refreshes;
        public int Shares => 1;
        public int ShareOf(StreamName stream) => 0;
        public ISubscriptionGroupCoordinator Create(string subscriptionId, string instanceId, SubscriptionGroupOptions options, TimeProvider timeProvider) => this;

        public Task<IReadOnlyList<ShareClaim>> RefreshAsync(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Refreshes);
            return Task.FromResult<IReadOnlyList<ShareClaim>>([_claim]);
        }

        public Task LeaveAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    [Fact(Timeout = 60_000)]
    public async Task A_holding_the_store_refused_is_never_taken_up_again_even_when_a_refresh_still_lists_it()
    {
        var handler = new Recorder { Instance = "a" };
        var coordinator = new StaleCoordinator();
        await AppendAsync(1, 5);
        var options = new SubscriptionOptions
        {
            BatchSize = 10,
            CheckpointAfterEvents = 1,
            Group = new SubscriptionGroupOptions { Mode = SubscriptionGroupMode.Partitioned, Shares = 1, InstanceId = "a" },
        };
        await using var runner = new SubscriptionRunner("orders", _store, new InMemoryCheckpointStore(_storage), handler, options, null, _time, null, coordinator, null);

        await runner.StartAsync(Ct);
        // The first batch is handled and its checkpoint refused: the share is lost for good under that token. (The
        // refusal lands a moment after the handler returns, so the count of refreshes alone does not say it has.)
        await AdvanceUntilAsync(() => handler.Handled.Count >= 5 && runner.HeldShares.Count == 0);
        var refreshes = coordinator.Refreshes;
        await AdvanceUntilAsync(() => coordinator.Refreshes >= refreshes + 5);

        // The refreshes that keep listing it must not make the instance replay it from the holding's first checkpoint.
        Assert.Equal(5, handler.Handled.Count);
        Assert.Empty(runner.HeldShares);
    }

    private static int DistinctHandled(params Recorder[] handlers) =>
        handlers.SelectMany(h => h.Handled).Select(h => h.Event.EventId).Distinct().Count();
}
