namespace EventStore.Providers.InMemory;

/// <summary>Keeps subscription checkpoints in an <see cref="InMemoryStorage"/>.</summary>
/// <param name="storage">The storage shared with the event store.</param>
public sealed class InMemoryCheckpointStore(InMemoryStorage storage) : ICheckpointStore
{
    private readonly InMemoryStorage _storage = storage ?? throw new ArgumentNullException(nameof(storage));

    /// <inheritdoc />
    public Task<Position?> LoadAsync(string subscriptionId, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested) return Task.FromCanceled<Position?>(cancellationToken);
        if (Invalid(subscriptionId) is { } problem) return Task.FromException<Position?>(problem);
        return Task.FromResult(_storage.Checkpoints.TryGetValue(subscriptionId, out var p) ? p : (Position?)null);
    }

    /// <inheritdoc />
    public Task SaveAsync(string subscriptionId, Position position, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested) return Task.FromCanceled(cancellationToken);
        if (Invalid(subscriptionId) is { } problem) return Task.FromException(problem);
        _storage.Checkpoints[subscriptionId] = position;
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task DeleteAsync(string subscriptionId, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested) return Task.FromCanceled(cancellationToken);
        if (Invalid(subscriptionId) is { } problem) return Task.FromException(problem);
        _storage.Checkpoints.TryRemove(subscriptionId, out _);
        return Task.CompletedTask;
    }

    private static ArgumentException? Invalid(string subscriptionId) =>
        string.IsNullOrWhiteSpace(subscriptionId) ? new ArgumentException("A subscription id must be non-empty.", nameof(subscriptionId)) : null;
}
