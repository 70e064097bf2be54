namespace EventStore.Providers;

/// <summary>What a subscription yields.</summary>
public enum SubscriptionMessageKind
{
    /// <summary>An event; <see cref="SubscriptionMessage.Event"/> is set.</summary>
    Event = 0,
    /// <summary>
    /// No matching event up to <see cref="SubscriptionMessage.Position"/>: a filtered subscription may store this
    /// position as its checkpoint, so it does not re-scan filtered-out events after a restart.
    /// </summary>
    Checkpoint = 1,
    /// <summary>History is delivered; what follows is live.</summary>
    CaughtUp = 2,
}

/// <summary>One item of a catch-up subscription.</summary>
/// <param name="Kind">What the message is.</param>
/// <param name="Event">The event, for <see cref="SubscriptionMessageKind.Event"/>.</param>
/// <param name="Position">The position a consumer may checkpoint after handling this message.</param>
public readonly record struct SubscriptionMessage(SubscriptionMessageKind Kind, RecordedEvent? Event, Position Position)
{
    /// <summary>An event message.</summary>
    public static SubscriptionMessage ForEvent(RecordedEvent e) => new(SubscriptionMessageKind.Event, e ?? throw new ArgumentNullException(nameof(e)), e.Position);

    /// <summary>A checkpoint message.</summary>
    public static SubscriptionMessage ForCheckpoint(Position position) => new(SubscriptionMessageKind.Checkpoint, null, position);

    /// <summary>A caught-up marker.</summary>
    public static SubscriptionMessage ForCaughtUp(Position position) => new(SubscriptionMessageKind.CaughtUp, null, position);
}

/// <summary>Options for a catch-up subscription to the global log.</summary>
public sealed record SubscribeToAllOptions
{
    /// <summary>Exclusive start (a stored checkpoint); null from the beginning.</summary>
    public Position? From { get; init; }

    /// <summary>Which events to deliver.</summary>
    public EventFilter Filter { get; init; } = EventFilter.None;

    /// <summary>
    /// For filtered subscriptions: emit a <see cref="SubscriptionMessageKind.Checkpoint"/> at least after this many
    /// filtered-out events, so checkpoints keep moving. Default 1,000.
    /// </summary>
    public int CheckpointInterval { get; init; } = 1000;

    /// <summary>Throws when an option is out of range.</summary>
    public void EnsureValid()
    {
        ArgumentNullException.ThrowIfNull(Filter, nameof(Filter));
        Filter.EnsureValid();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(CheckpointInterval, nameof(CheckpointInterval));
    }
}
