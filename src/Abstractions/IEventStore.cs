namespace EventStore.Providers;

/// <summary>Reads streams, the global log and categories.</summary>
public interface IEventReader
{
    /// <summary>
    /// Reads one stream. Forwards starts at <paramref name="fromVersion"/> (inclusive; null = 0); backwards starts at
    /// <paramref name="fromVersion"/> (inclusive; null = the last event). A missing or soft-deleted stream reads as empty.
    /// </summary>
    /// <exception cref="StreamDeletedException">The stream was tombstoned.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxCount"/> or <paramref name="fromVersion"/> is negative.</exception>
    IAsyncEnumerable<RecordedEvent> ReadStreamAsync(
        StreamName stream,
        ReadDirection direction = ReadDirection.Forwards,
        long? fromVersion = null,
        long maxCount = long.MaxValue,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// Reads the global log in position order, only events that are safely committed: a reader paging from its last
    /// position never skips an event that commits later with a lower position (gap safety).
    /// </summary>
    IAsyncEnumerable<RecordedEvent> ReadAllAsync(ReadAllOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Reads every stream of a category (<c>Order</c> reads every <c>Order-*</c> stream) in position order.</summary>
    /// <param name="category">The category; non-empty, without <c>-</c>.</param>
    /// <param name="options">Direction, start, count and an optional event-type filter (its categories are ignored).</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    IAsyncEnumerable<RecordedEvent> ReadCategoryAsync(string category, ReadAllOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Whether a stream exists and its last version.</summary>
    Task<StreamInfo> GetStreamInfoAsync(StreamName stream, CancellationToken cancellationToken = default);

    /// <summary>
    /// The position of the last event that is safe to read (everything at or before it is committed and visible), or
    /// <see cref="Position.Start"/> for an empty store.
    /// </summary>
    Task<Position> GetHeadPositionAsync(CancellationToken cancellationToken = default);
}

/// <summary>Appends events to streams.</summary>
public interface IEventWriter
{
    /// <summary>
    /// Appends <paramref name="events"/> atomically to <paramref name="stream"/> if the stream matches
    /// <paramref name="expectedVersion"/>. Re-sending a batch already stored (same event ids, same expectation) succeeds
    /// without writing. An empty batch writes nothing and does not create the stream.
    /// </summary>
    /// <exception cref="WrongExpectedVersionException">The stream does not match the expectation; nothing was written.</exception>
    /// <exception cref="StreamDeletedException">The stream was tombstoned.</exception>
    /// <exception cref="EventTooLargeException">An event is over the provider's size limit; nothing was written.</exception>
    /// <exception cref="InvalidEventException">An event is malformed (type, content type, schema version, id); nothing was written.</exception>
    /// <exception cref="DuplicateEventIdException">Two events of the batch share an id; nothing was written.</exception>
    /// <exception cref="EventIdConflictException">The batch partly overlaps events already stored; nothing was written.</exception>
    /// <exception cref="TransientEventStoreException">The backend failed in a way worth retrying (same event ids).</exception>
    Task<AppendResult> AppendAsync(
        StreamName stream,
        ExpectedVersion expectedVersion,
        IReadOnlyList<EventData> events,
        CancellationToken cancellationToken = default);
}

/// <summary>Catch-up subscriptions: history from a checkpoint, then live events.</summary>
public interface IEventSubscriber
{
    /// <summary>
    /// Subscribes to the global log after <see cref="SubscribeToAllOptions.From"/>: yields history, a
    /// <see cref="SubscriptionMessageKind.CaughtUp"/> marker, then live events until cancelled. Each event is yielded
    /// once and in position order.
    /// </summary>
    IAsyncEnumerable<SubscriptionMessage> SubscribeToAllAsync(SubscribeToAllOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Subscribes to one stream after <paramref name="afterVersion"/> (null = from its first event).</summary>
    IAsyncEnumerable<SubscriptionMessage> SubscribeToStreamAsync(StreamName stream, long? afterVersion = null, CancellationToken cancellationToken = default);
}

/// <summary>How a stream is deleted.</summary>
public enum StreamDeletionMode
{
    /// <summary>The stream reads as missing; appending again continues after its last version.</summary>
    Soft = 0,
    /// <summary>The stream can never be read or written again (<see cref="StreamDeletedException"/>).</summary>
    Tombstone = 1,
}

/// <summary>
/// An event store: append, read, subscribe. Every provider implements the same promises, proved by the conformance
/// suite; what a backend cannot do is declared in <see cref="Capabilities"/>.
/// </summary>
public interface IEventStore : IEventReader, IEventWriter, IEventSubscriber
{
    /// <summary>What this provider can and cannot do.</summary>
    EventStoreCapabilities Capabilities { get; }

    /// <summary>Deletes a stream (soft or tombstone) if it matches <paramref name="expectedVersion"/>. Events are never updated in place.</summary>
    /// <exception cref="CapabilityNotSupportedException">The provider does not support this deletion mode.</exception>
    Task DeleteStreamAsync(StreamName stream, ExpectedVersion expectedVersion, StreamDeletionMode mode = StreamDeletionMode.Soft, CancellationToken cancellationToken = default);
}

/// <summary>Prepares a provider's storage (schema, tables, topics) before first use. Idempotent; safe to run concurrently.</summary>
public interface IEventStoreInitializer
{
    /// <summary>Creates or migrates what the provider needs.</summary>
    Task InitializeAsync(CancellationToken cancellationToken = default);
}
