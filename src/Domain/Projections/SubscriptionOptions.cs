namespace EventStore.Providers.Projections;

/// <summary>Options of a <see cref="SubscriptionRunner"/>.</summary>
public sealed class SubscriptionOptions
{
    /// <summary>Which events to deliver; everything by default.</summary>
    public EventFilter Filter { get; set; } = EventFilter.None;

    /// <summary>The most events handed to the handler at once (1 or more). Default 100.</summary>
    public int BatchSize { get; set; } = 100;

    /// <summary>Store the checkpoint after this many handled events (1 or more). Default 100.</summary>
    public int CheckpointAfterEvents { get; set; } = 100;

    /// <summary>Store the checkpoint when it has not been stored for this long and there is unsaved progress. Default 1 s.</summary>
    public TimeSpan CheckpointAfterTime { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// With an <see cref="ITransactionalCheckpointStore"/>, handle each batch and store its checkpoint in one
    /// transaction. Default true.
    /// </summary>
    public bool UseTransactionalCheckpoints { get; set; } = true;

    /// <summary>
    /// Store checkpoints in the provider's <see cref="ICheckpointStore"/>, so a restarted process resumes after the last
    /// one. Default true. Set false for a read model kept in process memory: its checkpoints then live in memory too, so
    /// every start of the process rebuilds it from the beginning of the log instead of resuming after a durable
    /// checkpoint with an empty read model.
    /// </summary>
    public bool StoreCheckpoints { get; set; } = true;

    /// <summary>For filtered subscriptions: how many filtered-out events the store may pass before it emits a checkpoint. Default 1,000.</summary>
    public int FilteredCheckpointInterval { get; set; } = 1000;

    /// <summary>How many times in a row a <see cref="TransientEventStoreException"/> from the store is answered by resubscribing (0 = never). Default 5.</summary>
    public int ResubscribeAttempts { get; set; } = 5;

    /// <summary>The wait before the first resubscription; it doubles per consecutive failure, up to 30 s. Default 1 s.</summary>
    public TimeSpan ResubscribeDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Runs this subscription as a group shared by every instance of the application that registers it: one active
    /// instance with standbys, or shares of the log spread over the instances. Off by default.
    /// </summary>
    public SubscriptionGroupOptions Group { get; set; } = new();

    /// <summary>Throws when an option is out of range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range; the message names it.</exception>
    public void EnsureValid()
    {
        ArgumentNullException.ThrowIfNull(Group, nameof(Group));
        Group.EnsureValid();
        ArgumentNullException.ThrowIfNull(Filter, nameof(Filter));
        Filter.EnsureValid();
        ArgumentOutOfRangeException.ThrowIfLessThan(BatchSize, 1, nameof(BatchSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(CheckpointAfterEvents, 1, nameof(CheckpointAfterEvents));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(CheckpointAfterTime, TimeSpan.Zero, nameof(CheckpointAfterTime));
        ArgumentOutOfRangeException.ThrowIfLessThan(FilteredCheckpointInterval, 1, nameof(FilteredCheckpointInterval));
        ArgumentOutOfRangeException.ThrowIfNegative(ResubscribeAttempts, nameof(ResubscribeAttempts));
        ArgumentOutOfRangeException.ThrowIfLessThan(ResubscribeDelay, TimeSpan.Zero, nameof(ResubscribeDelay));
    }
}

/// <summary>Where a <see cref="SubscriptionRunner"/> is.</summary>
public enum SubscriptionStatus
{
    /// <summary>Not started.</summary>
    NotStarted = 0,
    /// <summary>Delivering history.</summary>
    CatchingUp = 1,
    /// <summary>History delivered; delivering live events.</summary>
    Live = 2,
    /// <summary>Stopped on request.</summary>
    Stopped = 3,
    /// <summary>Stopped by a failure; see <see cref="SubscriptionRunner.Error"/>.</summary>
    Faulted = 4,
}

/// <summary>A subscription handler threw; the subscription stopped and its checkpoint stays before the failed batch.</summary>
public sealed class SubscriptionHandlerException(string subscriptionId, RecordedEvent firstEvent, int batchSize, Exception innerException)
    : EventStoreException($"Subscription '{subscriptionId}' stopped: its handler failed on a batch of {batchSize} event(s) starting at {firstEvent.EventType} {firstEvent.Stream}@{firstEvent.Version} (position {firstEvent.Position}): {innerException.Message}", innerException)
{
    /// <summary>The subscription.</summary>
    public string SubscriptionId { get; } = subscriptionId;

    /// <summary>The first event of the failed batch.</summary>
    public RecordedEvent FirstEvent { get; } = firstEvent;
}

/// <summary>A wait on a subscription ended because the subscription stopped or failed first.</summary>
public sealed class SubscriptionStoppedException(string subscriptionId, SubscriptionStatus status, Exception? reason)
    : EventStoreException($"Subscription '{subscriptionId}' is {status}{(reason is null ? "" : ": " + reason.Message)}", reason)
{
    /// <summary>The subscription.</summary>
    public string SubscriptionId { get; } = subscriptionId;

    /// <summary>Its status.</summary>
    public SubscriptionStatus Status { get; } = status;
}
