using System.Collections.Concurrent;

namespace EventStore.Providers.Projections;

/// <summary>
/// Checkpoints kept in this process only, for a subscription with <see cref="SubscriptionOptions.StoreCheckpoints"/>
/// off: a stop and start inside the process resumes, a new process starts from the beginning of the log.
/// </summary>
internal sealed class InProcessCheckpointStore : ICheckpointStore
{
    private readonly ConcurrentDictionary<string, Position> _positions = new(StringComparer.Ordinal);

    public Task<Position?> LoadAsync(string subscriptionId, CancellationToken cancellationToken = default) =>
        Task.FromResult(_positions.TryGetValue(subscriptionId, out var p) ? p : (Position?)null);

    public Task SaveAsync(string subscriptionId, Position position, CancellationToken cancellationToken = default)
    {
        _positions[subscriptionId] = position;
        return Task.CompletedTask;
    }

    public Task DeleteAsync(string subscriptionId, CancellationToken cancellationToken = default)
    {
        _positions.TryRemove(subscriptionId, out _);
        return Task.CompletedTask;
    }
}
