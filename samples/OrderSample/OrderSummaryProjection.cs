using EventStore.Providers.Projections;

namespace OrderSample;

/// <summary>One line of the summary.</summary>
public sealed record OrderSummaryLine(string OrderId, string Customer, decimal Amount, string? Carrier);

/// <summary>The read model: every order with its amount and carrier, kept in memory for the sample.</summary>
public sealed class OrderSummaryProjection : Projection
{
    private readonly Dictionary<string, OrderSummaryLine> _orders = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <summary>Registers a handler per event type.</summary>
    public OrderSummaryProjection()
    {
        On<OrderPlaced>((e, _) =>
        {
            lock (_gate) _orders[e.OrderId] = new OrderSummaryLine(e.OrderId, e.Customer, e.Amount, null);
        });
        On<OrderShipped>((e, _) =>
        {
            lock (_gate)
                if (_orders.TryGetValue(e.OrderId, out var line)) _orders[e.OrderId] = line with { Carrier = e.Carrier };
        });
    }

    /// <summary>The orders, by id.</summary>
    public IReadOnlyList<OrderSummaryLine> Orders
    {
        get { lock (_gate) return [.. _orders.Values.OrderBy(o => o.OrderId, StringComparer.Ordinal)]; }
    }

    /// <inheritdoc />
    public override Task ResetAsync(CancellationToken cancellationToken)
    {
        lock (_gate) _orders.Clear();
        return Task.CompletedTask;
    }
}
