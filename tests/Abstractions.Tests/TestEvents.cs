using EventStore.Providers.Aggregates;
using EventStore.Providers.Serialization;

namespace EventStore.Providers.Abstractions.Tests;

[EventType("TestOrderPlaced", SchemaVersion = 1)]
public sealed record OrderPlaced(string OrderId, decimal Amount);

[EventType("TestOrderShipped")]
public sealed record OrderShipped(string OrderId, string Carrier);

[EventType("TestOrderCancelled")]
public sealed record OrderCancelled(string OrderId);

/// <summary>Version 3 of a renamed-and-split event: v1 had "name", v2 "fullName", v3 "first"/"last".</summary>
[EventType("TestCustomerRegistered", SchemaVersion = 3)]
public sealed record CustomerRegistered(string First, string Last, string Country);

public sealed record OrderState : AggregateState<OrderState>
{
    public OrderState()
    {
        On<OrderPlaced>((s, e) => s with { Id = e.OrderId, Total = s.Total + e.Amount, Placed = true });
        On<OrderShipped>((s, e) => s with { Shipped = true, Carrier = e.Carrier });
    }

    public string? Id { get; init; }
    public decimal Total { get; init; }
    public bool Placed { get; init; }
    public bool Shipped { get; init; }
    public string? Carrier { get; init; }
}

public sealed class Order : Aggregate<OrderState>
{
    public void Place(string id, decimal amount)
    {
        EnsureDoesNotExist();
        Apply(new OrderPlaced(id, amount));
    }

    public void AddLine(decimal amount)
    {
        EnsureExists();
        Apply(new OrderPlaced(State.Id!, amount));
    }

    public void Ship(string carrier)
    {
        EnsureExists();
        if (State.Shipped) throw new InvalidOperationException("already shipped");
        Apply(new OrderShipped(State.Id!, carrier));
    }
}

[SnapshotSchema(2)]
public sealed record OrderStateV2 : AggregateState<OrderStateV2>
{
    public OrderStateV2()
    {
        On<OrderPlaced>((s, e) => s with { Total = s.Total + e.Amount });
    }

    public decimal Total { get; init; }
}

public sealed class OrderV2 : Aggregate<OrderStateV2>
{
    public void Add(string id, decimal amount) => Apply(new OrderPlaced(id, amount));
}

internal static class Streams
{
    public static StreamName NewOrder() => StreamName.For("Order", Guid.NewGuid().ToString("N"));
}
