namespace EventStore.Providers.InMemory;

/// <summary>
/// Keeps subscription-group leases in an <see cref="InMemoryStorage"/>, so every store instance over the same storage
/// (the in-process stand-in for several application instances) sees the same leases. One lock makes every operation
/// atomic.
/// </summary>
/// <remarks>
/// Fencing tokens come from one counter of the storage, so a token is never handed out twice, even to a record deleted
/// and created again. A released lease keeps its owner and checkpoint and expires at <see cref="DateTimeOffset.MinValue"/>.
/// </remarks>
/// <param name="storage">The storage shared with the event store.</param>
public sealed class InMemorySubscriptionLeaseStore(InMemoryStorage storage) : ISubscriptionLeaseStore
{
    private readonly InMemoryStorage _storage = storage ?? throw new ArgumentNullException(nameof(storage));

    private LeaseTable Leases => _storage.Leases;

    /// <inheritdoc />
    public Task<SubscriptionLease?> TryAcquireAsync(string name, string owner, DateTimeOffset now, TimeSpan duration, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested) return Task.FromCanceled<SubscriptionLease?>(cancellationToken);
        LeaseGuard.ValidateName(name);
        LeaseGuard.ValidateOwner(owner);
        LeaseGuard.ValidateDuration(duration);
        lock (Leases.Lock)
        {
            var current = Leases.Records.GetValueOrDefault(name);
            SubscriptionLease? taken;
            if (current is null) taken = new SubscriptionLease(name, owner, ++Leases.LastToken, now + duration, null);
            else if (current.ExpiresAt <= now) taken = current with { Owner = owner, Token = ++Leases.LastToken, ExpiresAt = now + duration };
            else if (string.Equals(current.Owner, owner, StringComparison.Ordinal)) taken = current with { ExpiresAt = now + duration };
            else taken = null;
            if (taken is not null) Leases.Records[name] = taken;
            return Task.FromResult(taken);
        }
    }

    /// <inheritdoc />
    public Task<SubscriptionLease?> RenewAsync(SubscriptionLease lease, DateTimeOffset now, TimeSpan duration, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested) return Task.FromCanceled<SubscriptionLease?>(cancellationToken);
        LeaseGuard.ValidateLease(lease);
        LeaseGuard.ValidateDuration(duration);
        lock (Leases.Lock)
        {
            if (Held(lease) is not { } current) return Task.FromResult<SubscriptionLease?>(null);
            var renewed = current with { ExpiresAt = now + duration };
            Leases.Records[lease.Name] = renewed;
            return Task.FromResult<SubscriptionLease?>(renewed);
        }
    }

    /// <inheritdoc />
    public Task ReleaseAsync(SubscriptionLease lease, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested) return Task.FromCanceled(cancellationToken);
        LeaseGuard.ValidateLease(lease);
        lock (Leases.Lock)
        {
            if (Held(lease) is { } current) Leases.Records[lease.Name] = current with { ExpiresAt = DateTimeOffset.MinValue };
        }
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task SaveCheckpointAsync(SubscriptionLease lease, Position checkpoint, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested) return Task.FromCanceled(cancellationToken);
        LeaseGuard.ValidateLease(lease);
        lock (Leases.Lock)
        {
            if (Held(lease) is not { } current) return Task.FromException(new LeaseLostException(lease.Name, lease.Token));
            Leases.Records[lease.Name] = current with { Checkpoint = checkpoint };
        }
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<SubscriptionLease>> ListAsync(string prefix, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested) return Task.FromCanceled<IReadOnlyList<SubscriptionLease>>(cancellationToken);
        LeaseGuard.ValidatePrefix(prefix);
        lock (Leases.Lock)
        {
            IReadOnlyList<SubscriptionLease> found = [.. Leases.Records
                .Where(r => r.Key.StartsWith(prefix, StringComparison.Ordinal))
                .OrderBy(r => r.Key, StringComparer.Ordinal)
                .Select(r => r.Value)];
            return Task.FromResult(found);
        }
    }

    /// <inheritdoc />
    public Task<bool> DeleteAsync(string name, long token, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested) return Task.FromCanceled<bool>(cancellationToken);
        LeaseGuard.ValidateName(name);
        lock (Leases.Lock)
        {
            if (Leases.Records.GetValueOrDefault(name)?.Token != token) return Task.FromResult(false);
            return Task.FromResult(Leases.Records.Remove(name));
        }
    }

    /// <summary>The record if it still carries <paramref name="lease"/>'s token. Called under the lock.</summary>
    private SubscriptionLease? Held(SubscriptionLease lease) =>
        Leases.Records.GetValueOrDefault(lease.Name) is { } current && current.Token == lease.Token ? current : null;
}

/// <summary>The lease records of an <see cref="InMemoryStorage"/>; touched only under <see cref="Lock"/>.</summary>
internal sealed class LeaseTable
{
    /// <summary>Guards every field.</summary>
    public object Lock { get; } = new();

    /// <summary>The records by name (ordinal).</summary>
    public Dictionary<string, SubscriptionLease> Records { get; } = new(StringComparer.Ordinal);

    /// <summary>The last fencing token handed out by any record of this storage.</summary>
    public long LastToken { get; set; }
}
