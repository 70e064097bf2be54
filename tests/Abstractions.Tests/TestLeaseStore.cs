namespace EventStore.Providers.Abstractions.Tests;

/// <summary>
/// The smallest lease store that keeps the contract (one lock, a token per change of hands), until the InMemory
/// provider's lands; lets the coordinator and the group runner be tested on their own.
/// </summary>
internal sealed class TestLeaseStore : ISubscriptionLeaseStore
{
    private readonly Lock _gate = new();
    private readonly SortedDictionary<string, SubscriptionLease> _records = new(StringComparer.Ordinal);
    private long _tokens;

    public List<(string Name, long Token, Position Checkpoint)> RefusedSaves { get; } = [];

    public Task<SubscriptionLease?> TryAcquireAsync(string name, string owner, DateTimeOffset now, TimeSpan duration, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            _records.TryGetValue(name, out var current);
            if (current is not null && current.Owner != owner && current.ExpiresAt > now) return Task.FromResult<SubscriptionLease?>(null);
            var token = current is not null && current.Owner == owner && current.ExpiresAt > now ? current.Token : ++_tokens;
            var lease = new SubscriptionLease(name, owner, token, now + duration, current?.Checkpoint);
            _records[name] = lease;
            return Task.FromResult<SubscriptionLease?>(lease);
        }
    }

    public Task<SubscriptionLease?> RenewAsync(SubscriptionLease lease, DateTimeOffset now, TimeSpan duration, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (!_records.TryGetValue(lease.Name, out var current) || current.Token != lease.Token || current.Owner != lease.Owner)
                return Task.FromResult<SubscriptionLease?>(null);
            var renewed = current with { ExpiresAt = now + duration };
            _records[lease.Name] = renewed;
            return Task.FromResult<SubscriptionLease?>(renewed);
        }
    }

    public Task ReleaseAsync(SubscriptionLease lease, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            // Released: a new token on the next take, even by the same owner.
            if (_records.TryGetValue(lease.Name, out var current) && current.Token == lease.Token)
                _records[lease.Name] = current with { Owner = "", ExpiresAt = DateTimeOffset.MinValue };
        }
        return Task.CompletedTask;
    }

    public Task SaveCheckpointAsync(SubscriptionLease lease, Position checkpoint, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (!_records.TryGetValue(lease.Name, out var current) || current.Token != lease.Token)
            {
                RefusedSaves.Add((lease.Name, lease.Token, checkpoint));
                throw new LeaseLostException(lease.Name, lease.Token);
            }
            _records[lease.Name] = current with { Checkpoint = checkpoint };
        }
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<SubscriptionLease>> ListAsync(string prefix, CancellationToken cancellationToken = default)
    {
        lock (_gate)
            return Task.FromResult<IReadOnlyList<SubscriptionLease>>([.. _records.Values.Where(r => r.Name.StartsWith(prefix, StringComparison.Ordinal))]);
    }

    public Task<bool> DeleteAsync(string name, long token, CancellationToken cancellationToken = default)
    {
        lock (_gate)
            return Task.FromResult(_records.TryGetValue(name, out var current) && current.Token == token && _records.Remove(name));
    }

    public SubscriptionLease? Get(string name)
    {
        lock (_gate) return _records.GetValueOrDefault(name);
    }
}
