using EventStore.Providers.InMemory;
using EventStore.Providers.Projections;
using EventStore.Providers.Serialization;

namespace EventStore.Providers.Abstractions.Tests;

public sealed class OrderTotalsProjection : Projection
{
    private readonly Dictionary<string, decimal> _totals = [];

    public OrderTotalsProjection()
    {
        On<OrderPlaced>((e, _) => { lock (_totals) _totals[e.OrderId] = _totals.GetValueOrDefault(e.OrderId) + e.Amount; });
        On<OrderShipped>(async (e, ct) =>
        {
            await Task.Yield();
            lock (_totals) Shipped.Add(e.Event.OrderId);
        });
    }

    public List<string> Shipped { get; } = [];

    public int Resets { get; private set; }

    public decimal TotalOf(string id) { lock (_totals) return _totals.GetValueOrDefault(id); }

    public override Task ResetAsync(CancellationToken cancellationToken)
    {
        lock (_totals)
        {
            _totals.Clear();
            Shipped.Clear();
        }
        Resets++;
        return Task.CompletedTask;
    }
}

public class ProjectionTests
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    [Fact(Timeout = 30_000)]
    public async Task A_projection_dispatches_each_event_to_the_handler_of_its_type_and_ignores_other_types()
    {
        var storage = new InMemoryStorage();
        var store = new InMemoryEventStore(storage);
        var serializer = new JsonEventSerializer(new EventTypeRegistry().RegisterAssembly(typeof(OrderPlaced).Assembly));
        var stream = Streams.NewOrder();
        // An event type the projection's serializer cannot even read must not stop it: it is never deserialised.
        await store.AppendAsync(StreamName.For("Other", "1"), ExpectedVersion.Any, [new EventData(Guid.NewGuid(), "Unregistered", "{}"u8.ToArray())], Ct);
        var last = (await store.AppendEventsAsync(serializer, stream, ExpectedVersion.NoStream,
            [new OrderPlaced("a", 2m), new OrderCancelled("a"), new OrderPlaced("a", 3m), new OrderShipped("a", "UPS")], cancellationToken: Ct)).Position;
        var projection = new OrderTotalsProjection();
        await using var runner = new SubscriptionRunner("totals", store, new InMemoryCheckpointStore(storage), projection, serializer: serializer);

        await runner.StartAsync(Ct);
        await runner.WaitForPositionAsync(last, Ct);

        Assert.Equal(5m, projection.TotalOf("a"));
        Assert.Equal(["a"], projection.Shipped);
    }

    [Fact]
    public void The_projection_filter_selects_exactly_the_stored_names_of_the_handled_types()
    {
        var serializer = new JsonEventSerializer(new EventTypeRegistry());

        var filter = new OrderTotalsProjection().CreateFilter(serializer);

        Assert.Equal(["TestOrderPlaced", "TestOrderShipped"], filter.EventTypes);
        Assert.Empty(filter.Categories);
    }

    [Fact(Timeout = 30_000)]
    public async Task Rebuilding_deletes_the_checkpoint_resets_the_read_model_and_replays_everything()
    {
        var storage = new InMemoryStorage();
        var store = new InMemoryEventStore(storage);
        var checkpoints = new InMemoryCheckpointStore(storage);
        var serializer = new JsonEventSerializer(new EventTypeRegistry());
        var last = (await store.AppendEventsAsync(serializer, Streams.NewOrder(), ExpectedVersion.NoStream, [new OrderPlaced("b", 4m), new OrderPlaced("b", 6m)], cancellationToken: Ct)).Position;
        var projection = new OrderTotalsProjection();
        await using var runner = new SubscriptionRunner("totals", store, checkpoints, projection, serializer: serializer);
        await runner.StartAsync(Ct);
        await runner.WaitForPositionAsync(last, Ct);

        await runner.RebuildAsync(Ct);
        await runner.WaitForPositionAsync(last, Ct);

        Assert.Equal(1, projection.Resets);
        Assert.Equal(10m, projection.TotalOf("b"));
    }

    [Fact]
    public void Registering_two_handlers_for_one_event_type_is_an_error()
    {
        Assert.Throws<InvalidOperationException>(() => new DoubleHandler());
    }

    private sealed class DoubleHandler : Projection
    {
        public DoubleHandler()
        {
            On<OrderPlaced>((_, _) => { });
            On<OrderPlaced>((_, _) => { });
        }
    }
}
