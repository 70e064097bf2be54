using EventStore.Providers.Subscriptions.CatchUp;

namespace EventStore.Providers.DynamoDB;

public sealed partial class DynamoDBEventStore
{
    /// <summary>
    /// Subscriptions are the shared catch-up reader over this store's gap-safe reads: appends made through this instance
    /// wake it at once, others are found by adaptive polling (DynamoDB has no push here: dynalite has no Streams).
    /// </summary>
    private CatchUpSubscriptionReader Subscriptions => _subscriptions ??= new CatchUpSubscriptionReader(this, new CatchUpOptions
    {
        PollInterval = _options.PollInterval,
        Notifier = _appended,
        TimeProvider = _time,
        PageSize = 1000,
    });

    private CatchUpSubscriptionReader? _subscriptions;
    private readonly AppendNotifier _appended;

    /// <inheritdoc />
    public IAsyncEnumerable<SubscriptionMessage> SubscribeToAllAsync(SubscribeToAllOptions? options = null, CancellationToken cancellationToken = default)
    {
        if (options?.From is { } from) ToNumber(from);
        return Subscriptions.SubscribeToAllAsync(options, cancellationToken);
    }

    /// <inheritdoc />
    public IAsyncEnumerable<SubscriptionMessage> SubscribeToStreamAsync(StreamName stream, long? afterVersion = null, CancellationToken cancellationToken = default)
    {
        EventGuard.ValidateStream(stream, Capabilities);
        return Subscriptions.SubscribeToStreamAsync(stream, afterVersion, cancellationToken);
    }
}
