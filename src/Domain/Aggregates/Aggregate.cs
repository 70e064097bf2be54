using System.Reflection;

namespace EventStore.Providers.Aggregates;

/// <summary>
/// The non-generic face of an aggregate, used by <see cref="AggregateStore"/>: its version, its pending changes and
/// its state as an object (for snapshots).
/// </summary>
public abstract class Aggregate
{
    private readonly List<object> _changes = [];
    private readonly List<Guid> _changeIds = [];

    /// <summary>The stream version the aggregate was loaded at (-1 for a new aggregate).</summary>
    public long OriginalVersion { get; private set; } = -1;

    /// <summary>The version after the pending changes are stored.</summary>
    public long CurrentVersion => OriginalVersion + _changes.Count;

    /// <summary>Events raised since the aggregate was loaded, not yet stored.</summary>
    public IReadOnlyList<object> Changes => _changes;

    /// <summary>
    /// The event id of each pending change, fixed when the change is raised. Saving the same pending changes again
    /// (a retry after a lost reply or a transient failure) sends the same ids, so the store recognises the re-send
    /// and nothing is written twice.
    /// </summary>
    public IReadOnlyList<Guid> ChangeIds => _changeIds;

    /// <summary>The state as an object.</summary>
    public abstract object StateObject { get; }

    /// <summary>The CLR type of the state.</summary>
    public abstract Type StateType { get; }

    /// <summary>Records a new event: folds it into the state and adds it to <see cref="Changes"/>.</summary>
    protected void Apply(object @event)
    {
        ArgumentNullException.ThrowIfNull(@event);
        Fold(@event);
        _changes.Add(@event);
        _changeIds.Add(Guid.CreateVersion7());
    }

    /// <summary>Folds a stored event into the state (no new change).</summary>
    public void Replay(object @event, long version)
    {
        ArgumentNullException.ThrowIfNull(@event);
        if (_changes.Count > 0) throw new InvalidOperationException("Cannot replay stored events into an aggregate that has pending changes.");
        Fold(@event);
        OriginalVersion = version;
    }

    /// <summary>Restores the state from a snapshot taken at <paramref name="version"/>.</summary>
    public void Restore(object state, long version)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (_changes.Count > 0 || OriginalVersion >= 0) throw new InvalidOperationException("A snapshot can only be restored into a fresh aggregate.");
        SetState(state);
        OriginalVersion = version;
    }

    /// <summary>Marks the pending changes as stored at <paramref name="lastVersion"/>.</summary>
    public void MarkCommitted(long lastVersion)
    {
        _changes.Clear();
        _changeIds.Clear();
        OriginalVersion = lastVersion;
    }

    /// <summary>Throws unless the aggregate has events (was created).</summary>
    /// <exception cref="InvalidOperationException">The aggregate does not exist.</exception>
    protected void EnsureExists()
    {
        if (CurrentVersion < 0) throw new InvalidOperationException($"{GetType().Name} does not exist.");
    }

    /// <summary>Throws when the aggregate already has events.</summary>
    /// <exception cref="InvalidOperationException">The aggregate already exists.</exception>
    protected void EnsureDoesNotExist()
    {
        if (CurrentVersion >= 0) throw new InvalidOperationException($"{GetType().Name} already exists.");
    }

    /// <summary>Folds one event into the state.</summary>
    protected abstract void Fold(object @event);

    /// <summary>Replaces the state (from a snapshot).</summary>
    protected abstract void SetState(object state);

    internal static int SnapshotSchemaOf(Type stateType) => stateType.GetCustomAttribute<SnapshotSchemaAttribute>()?.Version ?? 1;
}

/// <summary>
/// An event-sourced aggregate whose state is a <typeparamref name="TState"/>. Commands are methods that check the
/// state and call <see cref="Aggregate.Apply"/> with new events.
/// </summary>
/// <typeparam name="TState">The folded state.</typeparam>
public abstract class Aggregate<TState> : Aggregate where TState : AggregateState<TState>, new()
{
    /// <summary>The current state (after pending changes).</summary>
    public TState State { get; private set; } = new();

    /// <inheritdoc />
    public sealed override object StateObject => State;

    /// <inheritdoc />
    public sealed override Type StateType => typeof(TState);

    /// <inheritdoc />
    protected sealed override void Fold(object @event) => State = State.When(@event);

    /// <inheritdoc />
    protected sealed override void SetState(object state) => State = (TState)state;
}
