namespace EventStore.Providers.Postgres;

// Catch-up subscriptions use the shared CatchUpSubscriptionReader over this store's gap-safe reads; the store's
// NotificationListener (LISTEN/NOTIFY) wakes them when an append commits, with polling while it is disconnected.
public sealed partial class PostgresEventStore
{
    /// <inheritdoc />
    public IAsyncEnumerable<SubscriptionMessage> SubscribeToAllAsync(SubscribeToAllOptions? options = null, CancellationToken cancellationToken = default)
    {
        if (options?.From is { } from) ToRaw(from);
        return ListeningFirst(_subscriptions.SubscribeToAllAsync(options, cancellationToken), cancellationToken);
    }

    /// <inheritdoc />
    public IAsyncEnumerable<SubscriptionMessage> SubscribeToStreamAsync(StreamName stream, long? afterVersion = null, CancellationToken cancellationToken = default)
    {
        EventGuard.ValidateStream(stream, Capabilities);
        return ListeningFirst(_subscriptions.SubscribeToStreamAsync(stream, afterVersion, cancellationToken), cancellationToken);
    }

    /// <summary>
    /// Starts the store's LISTEN connection before the subscription reads anything, so by the time it reports
    /// CaughtUp a NOTIFY from any process wakes it: the first live event arrives as fast as later ones.
    /// </summary>
    private async IAsyncEnumerable<SubscriptionMessage> ListeningFirst(IAsyncEnumerable<SubscriptionMessage> subscription,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await _listener.StartAsync(cancellationToken).ConfigureAwait(false);
        await foreach (var message in subscription.WithCancellation(cancellationToken).ConfigureAwait(false)) yield return message;
    }
}
