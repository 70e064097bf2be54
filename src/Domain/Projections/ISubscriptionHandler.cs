using EventStore.Providers.Serialization;

namespace EventStore.Providers.Projections;

/// <summary>Handles the events a <see cref="SubscriptionRunner"/> delivers, in batches, in log order.</summary>
/// <remarks>
/// Delivery is at least once: after a crash between handling a batch and storing its checkpoint the batch is
/// delivered again, so handlers must be idempotent (or use an <see cref="ITransactionalCheckpointStore"/>).
/// Throwing stops the subscription with the exception as its reason; the failed batch is not skipped.
/// </remarks>
public interface ISubscriptionHandler
{
    /// <summary>Handles one batch (one or more events, in position order).</summary>
    Task HandleAsync(IReadOnlyList<RecordedEvent> events, SubscriptionContext context, CancellationToken cancellationToken);
}

/// <summary>A handler whose read model can be reset, so its subscription can be rebuilt from the start of the log.</summary>
public interface IResettableHandler
{
    /// <summary>Clears the read model. Called by <see cref="SubscriptionRunner.RebuildAsync"/> after the checkpoint is deleted.</summary>
    Task ResetAsync(CancellationToken cancellationToken);
}

/// <summary>What a handler knows about the batch it is handling.</summary>
/// <param name="SubscriptionId">The subscription's id (also its checkpoint key).</param>
/// <param name="Serializer">The serializer for typed events, when one is registered.</param>
/// <param name="Transaction">
/// With an <see cref="ITransactionalCheckpointStore"/>: the provider's open transaction (for PostgreSQL an
/// <c>NpgsqlTransaction</c>) in which the checkpoint will be saved; write the read-model change through it so both
/// commit together. Null otherwise.
/// </param>
public sealed record SubscriptionContext(string SubscriptionId, IEventSerializer? Serializer, object? Transaction = null)
{
    /// <summary>
    /// In a subscription group (<see cref="SubscriptionOptions.Group"/>): the share the batch belongs to (every event of
    /// the batch is in it); null when the subscription is not shared.
    /// </summary>
    public int? Share { get; init; }
}

/// <summary>
/// A checkpoint store that can save a checkpoint in the same transaction as a handler's read-model change, so a
/// projection never applies a batch twice (PostgreSQL implements it; see <see cref="EventStoreCapabilities.TransactionalCheckpoints"/>).
/// </summary>
public interface ITransactionalCheckpointStore : ICheckpointStore
{
    /// <summary>
    /// Opens a transaction, runs <paramref name="handle"/> with it, saves <paramref name="checkpoint"/> for
    /// <paramref name="subscriptionId"/> in it and commits. When <paramref name="handle"/> throws nothing is committed.
    /// </summary>
    /// <param name="subscriptionId">The subscription.</param>
    /// <param name="checkpoint">The position to store with the change.</param>
    /// <param name="handle">The handler's work; receives the provider's transaction object.</param>
    /// <param name="cancellationToken">Cancels the work and rolls back.</param>
    Task HandleAndSaveAsync(string subscriptionId, Position checkpoint, Func<object, CancellationToken, Task> handle, CancellationToken cancellationToken);
}
