namespace EventStore.Providers.Aggregates;

/// <summary>
/// The folded state of an aggregate: an immutable record that registers, in its constructor, how each event type
/// changes it (<c>On&lt;OrderPlaced&gt;((state, e) =&gt; state with { ... })</c>). Events without a handler leave it unchanged.
/// </summary>
/// <remarks>
/// Snapshots store the state as JSON (public properties), so keep what matters in properties. Mark a state with
/// <see cref="SnapshotSchemaAttribute"/> and raise its version when its shape changes: older snapshots are then ignored.
/// </remarks>
/// <typeparam name="TState">The concrete state type.</typeparam>
public abstract record AggregateState<TState> where TState : AggregateState<TState>, new()
{
    private readonly Dictionary<Type, Func<TState, object, TState>> _handlers = [];

    /// <summary>Registers how <typeparamref name="TEvent"/> changes the state.</summary>
    /// <exception cref="InvalidOperationException">A handler for <typeparamref name="TEvent"/> is already registered.</exception>
    protected void On<TEvent>(Func<TState, TEvent, TState> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        if (!_handlers.TryAdd(typeof(TEvent), (state, e) => handler(state, (TEvent)e)))
            throw new InvalidOperationException($"{typeof(TState).Name} already handles {typeof(TEvent).Name}.");
    }

    /// <summary>Returns the state after <paramref name="event"/>.</summary>
    public virtual TState When(object @event)
    {
        ArgumentNullException.ThrowIfNull(@event);
        return _handlers.TryGetValue(@event.GetType(), out var handler) ? handler((TState)this, @event) : (TState)this;
    }

    // The handler table is behaviour, not state: two states with equal properties are equal.
    /// <inheritdoc />
    public virtual bool Equals(AggregateState<TState>? other) => other is not null && EqualityContract == other.EqualityContract;

    /// <inheritdoc />
    public override int GetHashCode() => EqualityContract.GetHashCode();
}

/// <summary>The schema version of a state type's snapshots (1 when absent). Raise it when the state's shape changes.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class SnapshotSchemaAttribute(int version) : Attribute
{
    /// <summary>The snapshot schema version (1 or more).</summary>
    public int Version { get; } = version;
}
