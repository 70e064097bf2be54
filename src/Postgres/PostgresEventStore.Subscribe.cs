namespace EventStore.Providers.Postgres;

// Catch-up subscriptions use the shared CatchUpSubscriptionReader over this store's gap-safe reads; the store's
// NotificationListener (LISTEN/NOTIFY) wakes them when an append commits, with polling while it is disconnected.
public sealed partial class PostgresEventStore
{
    /// <inheritdoc />
    public IAsyncEnumerable<SubscriptionMessage> SubscribeToAllAsync(SubscribeToAllOptions? options = null, CancellationToken cancellationToken = default)
    {
        if (options?.From is { } from) ToRaw(from);
        return _subscriptions.SubscribeToAllAsync(options, cancellationToken);
    }

    /// <inheritdoc />
    public IAsyncEnumerable<SubscriptionMessage> SubscribeToStreamAsync(StreamName stream, long? afterVersion = null, CancellationToken cancellationToken = default)
    {
        EventGuard.ValidateStream(stream, Capabilities);
        return _subscriptions.SubscribeToStreamAsync(stream, afterVersion, cancellationToken);
    }
}
