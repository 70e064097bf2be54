using EventStore.Providers.Aggregates;
using EventStore.Providers.Serialization;

namespace OrderSample;

/// <summary>A customer placed an order.</summary>
[EventType("OrderPlaced")]
public sealed record OrderPlaced(string OrderId, string Customer, decimal Amount);

/// <summary>An order left the warehouse.</summary>
[EventType("OrderShipped")]
public sealed record OrderShipped(string OrderId, string Carrier);

/// <summary>Place an order.</summary>
public sealed record PlaceOrder(string OrderId, string Customer, decimal Amount);

/// <summary>Ship a placed order.</summary>
public sealed record ShipOrder(string OrderId, string Carrier);

/// <summary>What the Order aggregate knows: folded from its events.</summary>
public sealed record OrderState : AggregateState<OrderState>
{
    /// <summary>Registers how each event changes the state.</summary>
    public OrderState()
    {
        On<OrderPlaced>((state, e) => state with { Customer = e.Customer, Amount = e.Amount });
        On<OrderShipped>((state, e) => state with { Carrier = e.Carrier });
    }

    /// <summary>Who placed it.</summary>
    public string? Customer { get; init; }

    /// <summary>Its amount.</summary>
    public decimal Amount { get; init; }

    /// <summary>Who carries it, once shipped.</summary>
    public string? Carrier { get; init; }
}

/// <summary>An order: placed once, shipped at most once.</summary>
public sealed class Order : Aggregate<OrderState>
{
    /// <summary>Places the order.</summary>
    public void Place(PlaceOrder command)
    {
        ArgumentNullException.ThrowIfNull(command);
        EnsureDoesNotExist();
        if (command.Amount <= 0) throw new InvalidOperationException($"Order {command.OrderId}: the amount must be positive.");
        Apply(new OrderPlaced(command.OrderId, command.Customer, command.Amount));
    }

    /// <summary>Ships the order.</summary>
    public void Ship(ShipOrder command)
    {
        ArgumentNullException.ThrowIfNull(command);
        EnsureExists();
        if (State.Carrier is not null) throw new InvalidOperationException($"Order {command.OrderId} is already shipped with {State.Carrier}.");
        Apply(new OrderShipped(command.OrderId, command.Carrier));
    }
}

/// <summary>Runs order commands: load the aggregate, decide, append with the loaded version.</summary>
public sealed class OrderCommands(AggregateStore aggregates)
{
    /// <summary>Handles <see cref="PlaceOrder"/>; returns the store's result.</summary>
    public async Task<EventStore.Providers.AppendResult?> HandleAsync(PlaceOrder command, CancellationToken cancellationToken)
    {
        var stream = AggregateStore.StreamFor<Order>(command.OrderId);
        var order = await aggregates.LoadAsync<Order>(stream, cancellationToken);
        order.Place(command);
        return await aggregates.SaveAsync(stream, order, cancellationToken: cancellationToken);
    }

    /// <summary>Handles <see cref="ShipOrder"/>; returns the store's result.</summary>
    public async Task<EventStore.Providers.AppendResult?> HandleAsync(ShipOrder command, CancellationToken cancellationToken)
    {
        var stream = AggregateStore.StreamFor<Order>(command.OrderId);
        var order = await aggregates.LoadAsync<Order>(stream, cancellationToken);
        order.Ship(command);
        return await aggregates.SaveAsync(stream, order, cancellationToken: cancellationToken);
    }
}
