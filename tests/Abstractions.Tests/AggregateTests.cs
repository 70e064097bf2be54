using System.Text.Json;
using EventStore.Providers.Aggregates;
using EventStore.Providers.InMemory;
using EventStore.Providers.Serialization;
using Microsoft.Extensions.Options;

namespace EventStore.Providers.Abstractions.Tests;

public class AggregateTests
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    private sealed class Fixture
    {
        public InMemoryStorage Storage { get; } = new();
        public InMemoryEventStore Store { get; }
        public InMemorySnapshotStore Snapshots { get; }
        public JsonEventSerializer Serializer { get; } = new(new EventTypeRegistry().RegisterAssembly(typeof(OrderPlaced).Assembly));

        public Fixture()
        {
            Store = new InMemoryEventStore(Storage);
            Snapshots = new InMemorySnapshotStore(Storage);
        }

        public AggregateStore Aggregates(int snapshotEvery = 0) =>
            new(Store, Serializer, Snapshots, Options.Create(new AggregateStoreOptions { SnapshotEvery = snapshotEvery }));
    }

    [Fact]
    public void Applying_events_folds_them_into_the_state_and_records_them_as_changes()
    {
        var order = new Order();

        order.Place("o-1", 10m);
        order.AddLine(5m);
        order.Ship("UPS");

        Assert.Equal(new OrderState { Id = "o-1", Total = 15m, Placed = true, Shipped = true, Carrier = "UPS" }, order.State);
        Assert.Equal(3, order.Changes.Count);
        Assert.Equal(2, order.CurrentVersion);
        Assert.Equal(-1, order.OriginalVersion);
    }

    [Fact]
    public void Events_without_a_handler_leave_the_state_unchanged()
    {
        var state = new OrderState { Id = "x", Total = 3m };

        Assert.Same(state, state.When(new OrderCancelled("x")));
    }

    [Fact]
    public void A_command_that_breaks_a_rule_raises_no_event()
    {
        var order = new Order();

        Assert.Throws<InvalidOperationException>(() => order.Ship("UPS"));
        Assert.Empty(order.Changes);
    }

    [Fact]
    public async Task The_store_saves_changes_and_loads_them_back_at_the_right_version()
    {
        var f = new Fixture();
        var aggregates = f.Aggregates();
        var stream = Streams.NewOrder();

        await aggregates.HandleAsync<Order>(stream, o => o.Place("o-1", 10m), cancellationToken: Ct);
        await aggregates.HandleAsync<Order>(stream, o => o.Ship("DHL"), cancellationToken: Ct);
        var loaded = await aggregates.LoadAsync<Order>(stream, Ct);

        Assert.Equal(1, loaded.OriginalVersion);
        Assert.True(loaded.State.Shipped);
        Assert.Equal("DHL", loaded.State.Carrier);
        Assert.Empty(loaded.Changes);
    }

    [Fact]
    public async Task Saving_again_after_a_lost_reply_resends_the_same_event_ids_and_stores_the_changes_once()
    {
        var f = new Fixture();
        var aggregates = new AggregateStore(new LostFirstReplyStore(f.Store), f.Serializer, f.Snapshots);
        var stream = Streams.NewOrder();
        var order = new Order();
        order.Place("o-1", 10m);
        order.AddLine(5m);
        var ids = order.ChangeIds.ToArray();

        await Assert.ThrowsAsync<TransientEventStoreException>(() => aggregates.SaveAsync(stream, order, cancellationToken: Ct));
        Assert.Equal(2, order.Changes.Count);
        var retried = await aggregates.SaveAsync(stream, order, cancellationToken: Ct);

        Assert.NotNull(retried);
        Assert.False(retried.WroteEvents);
        Assert.Equal(1, retried.LastVersion);
        Assert.Empty(order.Changes);
        var stored = await f.Store.ReadStreamAsync(stream, cancellationToken: Ct).ToListAsync(Ct);
        Assert.Equal(ids, stored.Select(e => e.EventId));
    }

    [Fact]
    public async Task Saving_after_another_writer_changed_the_stream_surfaces_wrong_expected_version_and_writes_nothing()
    {
        var f = new Fixture();
        var aggregates = f.Aggregates();
        var stream = Streams.NewOrder();
        await aggregates.HandleAsync<Order>(stream, o => o.Place("o-1", 10m), cancellationToken: Ct);

        var first = await aggregates.LoadAsync<Order>(stream, Ct);
        var second = await aggregates.LoadAsync<Order>(stream, Ct);
        first.AddLine(1m);
        second.Ship("UPS");
        await aggregates.SaveAsync(stream, first, cancellationToken: Ct);
        var error = await Assert.ThrowsAsync<WrongExpectedVersionException>(() => aggregates.SaveAsync(stream, second, cancellationToken: Ct));

        Assert.Equal(ExpectedVersion.Exact(0), error.Expected);
        Assert.Equal(1, error.ActualVersion);
        Assert.Equal(2, await f.Store.ReadStreamAsync(stream, cancellationToken: Ct).CountAsync(Ct));
    }

    [Fact]
    public async Task A_snapshot_is_saved_each_time_the_stream_passes_a_multiple_of_the_interval()
    {
        var f = new Fixture();
        var aggregates = f.Aggregates(snapshotEvery: 3);
        var stream = Streams.NewOrder();

        await aggregates.HandleAsync<Order>(stream, o => { o.Place("o-1", 1m); o.AddLine(1m); }, cancellationToken: Ct);
        Assert.Null(await f.Snapshots.LoadAsync(stream, Ct));

        await aggregates.HandleAsync<Order>(stream, o => { o.AddLine(1m); o.AddLine(1m); }, cancellationToken: Ct);
        var snapshot = await f.Snapshots.LoadAsync(stream, Ct);

        Assert.NotNull(snapshot);
        Assert.Equal(3, snapshot.Version);
        Assert.Equal(nameof(OrderState), snapshot.SnapshotType);
        Assert.Equal(4m, JsonSerializer.Deserialize<OrderState>(snapshot.Data.Span, JsonSerializerOptions.Web)!.Total);
    }

    [Fact]
    public async Task Loading_uses_the_snapshot_and_only_the_events_after_it()
    {
        var f = new Fixture();
        var aggregates = f.Aggregates(snapshotEvery: 2);
        var stream = Streams.NewOrder();
        await aggregates.HandleAsync<Order>(stream, o => { o.Place("o-1", 1m); o.AddLine(2m); }, cancellationToken: Ct);
        await aggregates.HandleAsync<Order>(stream, o => o.AddLine(4m), cancellationToken: Ct);
        // A snapshot whose total disagrees with the events it covers: if the loader used it, the total shows it.
        var marked = new OrderState { Id = "o-1", Total = 1000m, Placed = true };
        await f.Snapshots.SaveAsync(new Snapshot(stream, 1, nameof(OrderState), JsonSerializer.SerializeToUtf8Bytes(marked, JsonSerializerOptions.Web)), Ct);

        var loaded = await aggregates.LoadAsync<Order>(stream, Ct);

        Assert.Equal(1004m, loaded.State.Total);
        Assert.Equal(2, loaded.OriginalVersion);
    }

    [Fact]
    public async Task A_snapshot_of_another_schema_version_is_ignored_and_all_events_are_replayed()
    {
        var f = new Fixture();
        var aggregates = f.Aggregates(snapshotEvery: 1);
        var stream = Streams.NewOrder();
        await aggregates.HandleAsync<OrderV2>(stream, o => { o.Add("o-1", 1m); o.Add("o-1", 2m); }, cancellationToken: Ct);
        var stale = new OrderStateV2 { Total = 1000m };
        await f.Snapshots.SaveAsync(new Snapshot(stream, 5, nameof(OrderStateV2), JsonSerializer.SerializeToUtf8Bytes(stale, JsonSerializerOptions.Web), SchemaVersion: 1), Ct);

        var loaded = await aggregates.LoadAsync<OrderV2>(stream, Ct);

        Assert.Equal(3m, loaded.State.Total);
        Assert.Equal(1, loaded.OriginalVersion);
    }

    [Fact]
    public async Task Snapshots_are_written_with_the_state_types_schema_version()
    {
        var f = new Fixture();
        var stream = Streams.NewOrder();

        await f.Aggregates(snapshotEvery: 1).HandleAsync<OrderV2>(stream, o => o.Add("o-1", 1m), cancellationToken: Ct);

        Assert.Equal(2, (await f.Snapshots.LoadAsync(stream, Ct))!.SchemaVersion);
    }

    [Fact]
    public async Task The_per_type_interval_overrides_the_default()
    {
        var f = new Fixture();
        var options = new AggregateStoreOptions { SnapshotEvery = 0 }.SnapshotEveryFor<Order>(1);
        var aggregates = new AggregateStore(f.Store, f.Serializer, f.Snapshots, Options.Create(options));
        var stream = Streams.NewOrder();

        await aggregates.HandleAsync<Order>(stream, o => o.Place("o-1", 1m), cancellationToken: Ct);

        Assert.Equal(0, (await f.Snapshots.LoadAsync(stream, Ct))!.Version);
    }

    [Fact]
    public async Task Saving_an_aggregate_without_changes_writes_nothing()
    {
        var f = new Fixture();
        var stream = Streams.NewOrder();

        var result = await f.Aggregates().SaveAsync(stream, new Order(), cancellationToken: Ct);

        Assert.Null(result);
        Assert.False((await f.Store.GetStreamInfoAsync(stream, Ct)).Exists);
    }
}
