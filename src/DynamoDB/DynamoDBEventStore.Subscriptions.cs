using EventStore.Providers.Subscriptions.CatchUp;

namespace EventStore.Providers.DynamoDB;

public sealed partial class DynamoDBEventStore
{
    /// <summary>
    /// Subscriptions are the shared catch-up reader over this store's gap-safe reads: it polls (DynamoDB has no push
    /// here: dynalite has no Streams), and appends made through this instance wake it at once.
    /// </summary>
    private CatchUpSubscriptionReader Subscriptions => _subscriptions ??= new CatchUpSubscriptionReader(this, new CatchUpOptions
    {
        PollInterval = _options.PollInterval,
        Notifier = _appended,
        TimeProvider = _time,
        PageSize = 1000,
    });

    private CatchUpSubscriptionReader? _subscriptions;
    private readonly LocalAppendNotifier _appended = new();

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

    /// <summary>Wakes this instance's subscriptions after its own appends; other writers are seen by polling.</summary>
    private sealed class LocalAppendNotifier : IStoreChangeNotifier
    {
        private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task WaitForChangeAsync(Position after, CancellationToken cancellationToken) =>
            Volatile.Read(ref _next).Task.WaitAsync(cancellationToken);

        public void Signal() => Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }
}
