using EventStore.Providers.InMemory;
using EventStore.Providers.Projections;
using EventStore.Providers.Serialization;
using Microsoft.Extensions.Time.Testing;

namespace EventStore.Providers.Abstractions.Tests;

public class SubscriptionRunnerTests
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;
    private static readonly TimeSpan Never = TimeSpan.FromDays(1);

    private sealed class Fixture
    {
        public InMemoryStorage Storage { get; } = new();
        public InMemoryEventStore Store { get; }
        public RecordingCheckpointStore Checkpoints { get; }
        public JsonEventSerializer Serializer { get; } = new(new EventTypeRegistry().RegisterAssembly(typeof(OrderPlaced).Assembly));
        public FakeTimeProvider Time { get; } = new();

        public Fixture()
        {
            Store = new InMemoryEventStore(Storage);
            Checkpoints = new RecordingCheckpointStore(new InMemoryCheckpointStore(Storage));
        }

        public SubscriptionRunner Runner(ISubscriptionHandler handler, SubscriptionOptions options, ICheckpointStore? checkpoints = null) =>
            new("test", Store, checkpoints ?? Checkpoints, handler, options, Serializer, Time);

        public async Task<Position> AppendAsync(StreamName stream, params object[] events) =>
            (await Store.AppendEventsAsync(Serializer, stream, ExpectedVersion.Any, events, cancellationToken: Ct)).Position;
    }

    [Fact(Timeout = 30_000)]
    public async Task History_and_then_live_events_are_delivered_once_in_order_in_batches()
    {
        var f = new Fixture();
        var stream = Streams.NewOrder();
        for (var i = 0; i < 7; i++) await f.AppendAsync(stream, new OrderPlaced("o", i));
        var handler = new RecordingHandler();
        await using var runner = f.Runner(handler, new SubscriptionOptions { BatchSize = 3, CheckpointAfterTime = Never });

        await runner.StartAsync(Ct);
        var last = Position.Start;
        for (var i = 7; i < 10; i++) last = await f.AppendAsync(stream, new OrderPlaced("o", i));
        await runner.WaitForPositionAsync(last, Ct);

        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), handler.Events.Select(e => e.Version));
        Assert.All(handler.Batches, b => Assert.InRange(b.Count, 1, 3));
        // The last events may arrive while the runner still pages history; it must still turn live afterwards.
        await WaitUntilLiveAsync(runner);
        Assert.Equal(SubscriptionStatus.Live, runner.Status);
    }

    [Fact(Timeout = 30_000)]
    public async Task The_checkpoint_is_stored_after_every_n_handled_events_and_not_before()
    {
        var f = new Fixture();
        var stream = Streams.NewOrder();
        var handler = new RecordingHandler();
        await using var runner = f.Runner(handler, new SubscriptionOptions { BatchSize = 1, CheckpointAfterEvents = 3, CheckpointAfterTime = Never });
        await runner.StartAsync(Ct);
        await WaitUntilLiveAsync(runner);
        var savesBefore = f.Checkpoints.Saves.Count;

        var third = Position.Start;
        for (var i = 0; i < 3; i++) third = await f.AppendAsync(stream, new OrderPlaced("o", i));
        await f.Checkpoints.WaitForSaveAsync(third, Ct);
        var fifth = Position.Start;
        for (var i = 3; i < 5; i++) fifth = await f.AppendAsync(stream, new OrderPlaced("o", i));
        await runner.WaitForPositionAsync(fifth, Ct);

        Assert.Equal([third], f.Checkpoints.Saves.Skip(savesBefore));
        Assert.Equal(third, runner.StoredCheckpoint);
    }

    [Fact(Timeout = 30_000)]
    public async Task The_checkpoint_is_stored_when_the_interval_passes_on_the_injected_clock()
    {
        var f = new Fixture();
        var stream = Streams.NewOrder();
        var handler = new RecordingHandler();
        await using var runner = f.Runner(handler, new SubscriptionOptions { CheckpointAfterEvents = 1000, CheckpointAfterTime = TimeSpan.FromSeconds(10) });
        await runner.StartAsync(Ct);
        await WaitUntilLiveAsync(runner);
        var savesBefore = f.Checkpoints.Saves.Count;

        var last = await f.AppendAsync(stream, new OrderPlaced("o", 1), new OrderPlaced("o", 2));
        await runner.WaitForPositionAsync(last, Ct);
        Assert.Equal(savesBefore, f.Checkpoints.Saves.Count);

        var saved = f.Checkpoints.WaitForSaveAsync(last, Ct);
        var advanced = TimeSpan.Zero;
        // The runner arms its timer just after handling, so time moves in steps until that timer has fired.
        while (!saved.IsCompleted)
        {
            f.Time.Advance(TimeSpan.FromSeconds(1));
            advanced += TimeSpan.FromSeconds(1);
            await Task.WhenAny(saved, Task.Delay(20, Ct));
        }
        await saved;

        Assert.True(advanced >= TimeSpan.FromSeconds(10), $"saved after only {advanced} of fake time");
        Assert.Equal(last, f.Checkpoints.Saves[^1]);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_restarted_subscription_resumes_after_its_stored_checkpoint()
    {
        var f = new Fixture();
        var stream = Streams.NewOrder();
        var firstPosition = await f.AppendAsync(stream, new OrderPlaced("o", 1), new OrderPlaced("o", 2));
        var first = new RecordingHandler();
        await using (var runner = f.Runner(first, new SubscriptionOptions { CheckpointAfterTime = Never }))
        {
            await runner.StartAsync(Ct);
            await runner.WaitForPositionAsync(firstPosition, Ct);
            await runner.StopAsync(Ct);
            Assert.Equal(SubscriptionStatus.Stopped, runner.Status);
        }
        var secondPosition = await f.AppendAsync(stream, new OrderShipped("o", "UPS"));

        var second = new RecordingHandler();
        await using var restarted = f.Runner(second, new SubscriptionOptions { CheckpointAfterTime = Never });
        await restarted.StartAsync(Ct);
        await restarted.WaitForPositionAsync(secondPosition, Ct);

        Assert.Equal(2, first.Events.Count);
        Assert.Equal(["TestOrderShipped"], second.Events.Select(e => e.EventType));
    }

    [Fact(Timeout = 30_000)]
    public async Task A_handler_exception_stops_the_subscription_with_the_reason_and_does_not_skip_the_event()
    {
        var f = new Fixture();
        var stream = Streams.NewOrder();
        var good = await f.AppendAsync(stream, new OrderPlaced("o", 1));
        await f.AppendAsync(stream, new OrderShipped("o", "UPS"));
        var after = await f.AppendAsync(stream, new OrderPlaced("o", 3));
        var handler = new RecordingHandler { FailOnEventType = "TestOrderShipped" };
        await using var runner = f.Runner(handler, new SubscriptionOptions { BatchSize = 1, CheckpointAfterTime = Never });

        await runner.StartAsync(Ct);
        var stopped = await Assert.ThrowsAsync<SubscriptionStoppedException>(() => runner.WaitForPositionAsync(after, Ct));

        Assert.Equal(SubscriptionStatus.Faulted, runner.Status);
        var error = Assert.IsType<SubscriptionHandlerException>(runner.Error);
        Assert.Equal("TestOrderShipped", error.FirstEvent.EventType);
        Assert.IsType<InvalidOperationException>(error.InnerException);
        Assert.Same(error, stopped.InnerException);
        Assert.Equal(good, await f.Checkpoints.LoadAsync("test", Ct));

        var fixedHandler = new RecordingHandler();
        await using var restarted = f.Runner(fixedHandler, new SubscriptionOptions { CheckpointAfterTime = Never });
        await restarted.StartAsync(Ct);
        await restarted.WaitForPositionAsync(after, Ct);
        Assert.Equal(["TestOrderShipped", "TestOrderPlaced"], fixedHandler.Events.Select(e => e.EventType));
    }

    [Fact(Timeout = 30_000)]
    public async Task Running_directly_throws_the_handler_failure()
    {
        var f = new Fixture();
        await f.AppendAsync(Streams.NewOrder(), new OrderShipped("o", "UPS"));
        var runner = f.Runner(new RecordingHandler { FailOnEventType = "TestOrderShipped" }, new SubscriptionOptions());

        await Assert.ThrowsAsync<SubscriptionHandlerException>(() => runner.RunAsync(Ct));
        Assert.Equal(SubscriptionStatus.Faulted, runner.Status);
    }

    [Fact(Timeout = 30_000)]
    public async Task The_checkpoint_moves_past_filtered_out_events()
    {
        var f = new Fixture();
        var stream = Streams.NewOrder();
        await f.AppendAsync(stream, new OrderPlaced("o", 1));
        var lastFiltered = await f.AppendAsync(stream, new OrderShipped("o", "UPS"), new OrderShipped("o", "DHL"));
        var handler = new RecordingHandler();
        await using var runner = f.Runner(handler, new SubscriptionOptions { Filter = EventFilter.ForEventTypes("TestOrderPlaced"), CheckpointAfterTime = Never });

        await runner.StartAsync(Ct);
        await f.Checkpoints.WaitForSaveAsync(lastFiltered, Ct);

        Assert.Equal(["TestOrderPlaced"], handler.Events.Select(e => e.EventType));
        Assert.Equal(lastFiltered, await f.Checkpoints.LoadAsync("test", Ct));
    }

    [Fact(Timeout = 30_000)]
    public async Task Stopping_stores_the_checkpoint_of_what_was_handled()
    {
        var f = new Fixture();
        var handler = new RecordingHandler();
        await using var runner = f.Runner(handler, new SubscriptionOptions { CheckpointAfterEvents = 1000, CheckpointAfterTime = Never });
        await runner.StartAsync(Ct);
        await WaitUntilLiveAsync(runner);

        var last = await f.AppendAsync(Streams.NewOrder(), new OrderPlaced("o", 1));
        await runner.WaitForPositionAsync(last, Ct);
        await runner.StopAsync(Ct);

        Assert.Equal(last, await f.Checkpoints.LoadAsync("test", Ct));
    }

    [Fact(Timeout = 30_000)]
    public async Task With_a_transactional_checkpoint_store_each_batch_and_its_checkpoint_commit_together()
    {
        var f = new Fixture();
        var transactional = new TransactionalCheckpointStore(new InMemoryCheckpointStore(f.Storage));
        var last = await f.AppendAsync(Streams.NewOrder(), new OrderPlaced("o", 1), new OrderPlaced("o", 2));
        var handler = new RecordingHandler();
        await using var runner = f.Runner(handler, new SubscriptionOptions { CheckpointAfterEvents = 1000, CheckpointAfterTime = Never }, transactional);

        await runner.StartAsync(Ct);
        await runner.WaitForPositionAsync(last, Ct);

        Assert.NotEmpty(transactional.Committed);
        Assert.All(handler.Contexts, c => Assert.IsType<TransactionalCheckpointStore.Transaction>(c.Transaction));
        Assert.Equal(last, await transactional.LoadAsync("test", Ct));
    }

    [Fact(Timeout = 30_000)]
    public async Task A_transient_store_failure_resubscribes_from_the_last_handled_event_without_losing_or_repeating_any()
    {
        var f = new Fixture();
        var stream = Streams.NewOrder();
        var last = Position.Start;
        for (var i = 0; i < 6; i++) last = await f.AppendAsync(stream, new OrderPlaced("o", i));
        var flaky = new FlakySubscriptionStore(f.Store, failures: 2, messagesBeforeFailure: 2);
        var handler = new RecordingHandler();
        await using var runner = new SubscriptionRunner("test", flaky, f.Checkpoints, handler,
            new SubscriptionOptions { BatchSize = 1, ResubscribeDelay = TimeSpan.Zero, CheckpointAfterTime = Never }, f.Serializer, TimeProvider.System);

        await runner.StartAsync(Ct);
        await runner.WaitForPositionAsync(last, Ct);

        Assert.Equal(Enumerable.Range(0, 6).Select(i => (long)i), handler.Events.Select(e => e.Version));
        Assert.Equal(3, flaky.Subscriptions);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_store_that_keeps_failing_stops_the_subscription_after_the_allowed_attempts()
    {
        var f = new Fixture();
        await f.AppendAsync(Streams.NewOrder(), new OrderPlaced("o", 1));
        var flaky = new FlakySubscriptionStore(f.Store, failures: int.MaxValue, messagesBeforeFailure: 0);
        var runner = new SubscriptionRunner("test", flaky, f.Checkpoints, new RecordingHandler(),
            new SubscriptionOptions { ResubscribeAttempts = 2, ResubscribeDelay = TimeSpan.Zero }, f.Serializer, TimeProvider.System);

        await Assert.ThrowsAsync<TransientEventStoreException>(() => runner.RunAsync(Ct));

        Assert.Equal(SubscriptionStatus.Faulted, runner.Status);
        Assert.Equal(3, flaky.Subscriptions);
    }

    [Fact(Timeout = 30_000)]
    public void Options_out_of_range_are_rejected_naming_the_option()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new Fixture().Runner(new RecordingHandler(), new SubscriptionOptions { BatchSize = 0 }));

        Assert.Equal("BatchSize", error.ParamName);
    }

    internal static async Task WaitUntilLiveAsync(SubscriptionRunner runner)
    {
        while (runner.Status != SubscriptionStatus.Live)
        {
            Assert.NotEqual(SubscriptionStatus.Faulted, runner.Status);
            await Task.Delay(5, Ct);
        }
    }
}
