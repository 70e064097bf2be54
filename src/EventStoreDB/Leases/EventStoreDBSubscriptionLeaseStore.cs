using EventStore.Providers.EventStoreDB.Leases;

namespace EventStore.Providers.EventStoreDB;

/// <summary>
/// Subscription-group leases kept in EventStoreDB streams: one stream per record (<c>{prefix}esp.lease-{name}</c>),
/// whose newest event is the record's state, and every change one append with the expected revision its writer read,
/// so of two instances changing a record at once exactly one succeeds (the server's optimistic concurrency). Each
/// group's record names are listed in <c>{prefix}esp.leases-{group}</c>.
/// </summary>
/// <remarks>
/// <para>
/// The fencing token of a record is the revision, plus one, of the write that gave it to its owner. Revisions only grow,
/// and a deleted record keeps its stream (the deletion is a state), so a token is never handed out twice, even to a
/// record deleted and taken again. Renewals and checkpoints keep the token.
/// </para>
/// <para>
/// The event types start with <c>$</c>, which keeps them out of <c>$all</c> and category reads, and the record streams
/// keep their newest 16 events (<c>$maxCount</c>). Why not persistent subscriptions: the server would own the
/// assignment (round-robin or by stream hash, per event), acknowledgements are not fenced, and checkpoints could not
/// move between modes and backends as every other provider's do.
/// </para>
/// </remarks>
public sealed class EventStoreDBSubscriptionLeaseStore : ISubscriptionLeaseStore
{
    private const int MaxAttempts = 16;
    private readonly ILeaseRecordLog _log;

    /// <summary>Creates the lease store over <paramref name="store"/>'s connection and stream prefix.</summary>
    public EventStoreDBSubscriptionLeaseStore(EventStoreDBEventStore store)
        : this(new EventStoreDBLeaseRecordLog(store ?? throw new ArgumentNullException(nameof(store))))
    {
    }

    internal EventStoreDBSubscriptionLeaseStore(ILeaseRecordLog log) => _log = log;

    /// <inheritdoc />
    public async Task<SubscriptionLease?> TryAcquireAsync(string name, string owner, DateTimeOffset now, TimeSpan duration, CancellationToken cancellationToken = default)
    {
        var group = LeaseGuard.ValidateName(name);
        LeaseGuard.ValidateOwner(owner);
        LeaseGuard.ValidateDuration(duration);
        for (var attempt = 1; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var stored = await _log.ReadAsync(name, cancellationToken).ConfigureAwait(false);
            LeaseState taken;
            if (stored is not { State.Deleted: false } current)
            {
                // A new record (or one deleted): a token no earlier write of this record had.
                if (stored is null) await _log.AddNameAsync(group, name, cancellationToken).ConfigureAwait(false);
                taken = new LeaseState(owner, NextToken(stored), now + duration, null);
            }
            else if (current.State.ExpiresAt <= now)
                taken = current.State with { Owner = owner, Token = NextToken(stored), ExpiresAt = now + duration };
            else if (string.Equals(current.State.Owner, owner, StringComparison.Ordinal))
                taken = current.State with { ExpiresAt = now + duration };
            else
                return null;
            if (await _log.TryWriteAsync(name, stored?.Revision, taken, cancellationToken).ConfigureAwait(false)) return ToLease(name, taken);
            if (attempt >= MaxAttempts) throw Contended(name);
        }
    }

    /// <inheritdoc />
    public Task<SubscriptionLease?> RenewAsync(SubscriptionLease lease, DateTimeOffset now, TimeSpan duration, CancellationToken cancellationToken = default)
    {
        LeaseGuard.ValidateLease(lease);
        LeaseGuard.ValidateDuration(duration);
        return ChangeHeldAsync(lease, s => s with { ExpiresAt = now + duration }, cancellationToken);
    }

    /// <inheritdoc />
    public Task ReleaseAsync(SubscriptionLease lease, CancellationToken cancellationToken = default)
    {
        LeaseGuard.ValidateLease(lease);
        return ChangeHeldAsync(lease, s => s with { ExpiresAt = DateTimeOffset.MinValue }, cancellationToken);
    }

    /// <inheritdoc />
    public async Task SaveCheckpointAsync(SubscriptionLease lease, Position checkpoint, CancellationToken cancellationToken = default)
    {
        LeaseGuard.ValidateLease(lease);
        if (await ChangeHeldAsync(lease, s => s with { Checkpoint = checkpoint.ToString() }, cancellationToken).ConfigureAwait(false) is null)
            throw new LeaseLostException(lease.Name, lease.Token);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<SubscriptionLease>> ListAsync(string prefix, CancellationToken cancellationToken = default)
    {
        var group = LeaseGuard.ValidatePrefix(prefix);
        var names = (await _log.NamesAsync(group, cancellationToken).ConfigureAwait(false))
            .Where(n => n.StartsWith(prefix, StringComparison.Ordinal))
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal);
        // One read per record, all at once: a group's refresh lists its shares and members every renew interval.
        var reads = names.Select(async name => (name, stored: await _log.ReadAsync(name, cancellationToken).ConfigureAwait(false))).ToList();
        var read = await Task.WhenAll(reads).ConfigureAwait(false);
        return [.. read.Where(r => r.stored is { State.Deleted: false }).Select(r => ToLease(r.name, r.stored!.Value.State))];
    }

    /// <inheritdoc />
    public async Task<bool> DeleteAsync(string name, long token, CancellationToken cancellationToken = default)
    {
        LeaseGuard.ValidateName(name);
        return await ChangeAsync(name, token, s => s with { Deleted = true, Checkpoint = null }, cancellationToken).ConfigureAwait(false) is not null;
    }

    /// <summary>Writes <paramref name="change"/> of the record while it still carries <paramref name="lease"/>'s token; null when it does not.</summary>
    private async Task<SubscriptionLease?> ChangeHeldAsync(SubscriptionLease lease, Func<LeaseState, LeaseState> change, CancellationToken cancellationToken) =>
        await ChangeAsync(lease.Name, lease.Token, change, cancellationToken).ConfigureAwait(false) is { } changed ? ToLease(lease.Name, changed) : null;

    private async Task<LeaseState?> ChangeAsync(string name, long token, Func<LeaseState, LeaseState> change, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (await _log.ReadAsync(name, cancellationToken).ConfigureAwait(false) is not { State.Deleted: false } stored || stored.State.Token != token) return null;
            var changed = change(stored.State);
            // A write in between (the owner's own renewal racing its checkpoint, or a taker) is read again: the token
            // decides, never the order.
            if (await _log.TryWriteAsync(name, stored.Revision, changed, cancellationToken).ConfigureAwait(false)) return changed;
            if (attempt >= MaxAttempts) throw Contended(name);
        }
    }

    /// <summary>The token of a write that follows <paramref name="stored"/>: its revision plus one (tokens are positive).</summary>
    private static long NextToken(StoredLease? stored) => (stored?.Revision ?? -1) + 2;

    private static SubscriptionLease ToLease(string name, LeaseState state) =>
        new(name, state.Owner, state.Token, state.ExpiresAt, state.Checkpoint is { } c ? Position.Parse(c) : null);

    private static TransientEventStoreException Contended(string name) =>
        new($"The lease record '{name}' changed under {MaxAttempts} writes in a row; retry.");
}
