namespace EventStore.Providers.EventStoreDB.Leases;

/// <summary>What one lease record holds: its owner, fencing token, expiry and checkpoint, or that it was deleted.</summary>
/// <param name="Owner">The instance holding it.</param>
/// <param name="Token">The fencing token.</param>
/// <param name="ExpiresAt">When it lapses; <see cref="DateTimeOffset.MinValue"/> once released.</param>
/// <param name="Checkpoint">The share's stored position text, or null.</param>
/// <param name="Deleted">Whether the record was deleted (its stream keeps growing, so a token is never reused).</param>
internal sealed record LeaseState(string Owner, long Token, DateTimeOffset ExpiresAt, string? Checkpoint, bool Deleted = false);

/// <summary>A record's newest state and the revision of the write that stored it.</summary>
internal readonly record struct StoredLease(long Revision, LeaseState State);

/// <summary>
/// Lease records as append-only logs, one per record name, each write conditional on the revision its writer read: the
/// seam between <see cref="EventStoreDBSubscriptionLeaseStore"/>'s rules and EventStoreDB's streams (tests pass a log
/// in memory with the same semantics).
/// </summary>
internal interface ILeaseRecordLog
{
    /// <summary>The record's newest state, or null when it was never written.</summary>
    Task<StoredLease?> ReadAsync(string name, CancellationToken cancellationToken);

    /// <summary>
    /// Appends <paramref name="state"/> if the record is still at <paramref name="expectedRevision"/> (null: never
    /// written); its revision is then <paramref name="expectedRevision"/> + 1 (0 for a new record).
    /// </summary>
    /// <returns>False when another write came first; nothing was written.</returns>
    Task<bool> TryWriteAsync(string name, long? expectedRevision, LeaseState state, CancellationToken cancellationToken);

    /// <summary>Every record name ever added to <paramref name="group"/> (in any order, possibly repeated).</summary>
    Task<IReadOnlyList<string>> NamesAsync(string group, CancellationToken cancellationToken);

    /// <summary>Adds <paramref name="name"/> to its group's list; called before the record's first write.</summary>
    Task AddNameAsync(string group, string name, CancellationToken cancellationToken);
}
