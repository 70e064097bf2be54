namespace EventStore.Providers;

/// <summary>
/// A lease on one named record of a subscription group (a share of its work, or an instance's membership), held by
/// <see cref="Owner"/> until <see cref="ExpiresAt"/>.
/// </summary>
/// <param name="Name">The record's name, for example <c>orders-projection/share/3</c>.</param>
/// <param name="Owner">The instance holding it.</param>
/// <param name="Token">
/// The fencing token: it grows every time the record changes hands (a new owner, or the same name taken again after it
/// expired or was released), and never otherwise. A write made with an older token is refused.
/// </param>
/// <param name="ExpiresAt">When the lease lapses unless renewed, by the clock of the instance that took or renewed it.</param>
/// <param name="Checkpoint">The checkpoint stored with the record (a share's resume position); null when none was saved.</param>
public sealed record SubscriptionLease(string Name, string Owner, long Token, DateTimeOffset ExpiresAt, Position? Checkpoint);

/// <summary>
/// Leases with fencing tokens, kept by the provider in its own backend, on which subscription groups coordinate the
/// instances of one application: who owns which share, and the checkpoint of each share. Every operation is one atomic
/// conditional write (a row update, a conditional item write, a lock-protected map entry), so two instances can never
/// both hold a lease, and an instance whose lease was taken over can never store a checkpoint again.
/// </summary>
/// <remarks>
/// Names have the form <c>{group}/{rest}</c> (the group is the subscription id, without <c>/</c>), and a prefix given to
/// <see cref="ListAsync"/> starts with <c>{group}/</c>, so a backend may keep one group's records together (one DynamoDB
/// partition key per group).
/// Expiry compares times from the callers' clocks (the <c>now</c> arguments): instances must agree on the
/// time to well within the lease time, which NTP-synchronised machines do.
/// </remarks>
public interface ISubscriptionLeaseStore
{
    /// <summary>
    /// Takes the lease <paramref name="name"/> for <paramref name="owner"/> until <paramref name="now"/> +
    /// <paramref name="duration"/> when it does not exist, has expired at <paramref name="now"/>, was released, or is
    /// already held by <paramref name="owner"/> (then it is extended and keeps its token). A lease that changes hands
    /// gets a greater token and keeps its checkpoint.
    /// </summary>
    /// <returns>The lease held, or null when another owner holds it.</returns>
    Task<SubscriptionLease?> TryAcquireAsync(string name, string owner, DateTimeOffset now, TimeSpan duration, CancellationToken cancellationToken = default);

    /// <summary>Extends a lease still held with <paramref name="lease"/>'s token (even if it expired, as long as nobody took it).</summary>
    /// <returns>The extended lease, or null when it was taken over (its token changed) or deleted.</returns>
    Task<SubscriptionLease?> RenewAsync(SubscriptionLease lease, DateTimeOffset now, TimeSpan duration, CancellationToken cancellationToken = default);

    /// <summary>Lets the lease lapse now, keeping its checkpoint, so another instance can take it at once. Does nothing when it was lost.</summary>
    Task ReleaseAsync(SubscriptionLease lease, CancellationToken cancellationToken = default);

    /// <summary>Stores <paramref name="checkpoint"/> on the record if it still carries <paramref name="lease"/>'s token.</summary>
    /// <exception cref="LeaseLostException">The lease was taken over or deleted; nothing was stored.</exception>
    Task SaveCheckpointAsync(SubscriptionLease lease, Position checkpoint, CancellationToken cancellationToken = default);

    /// <summary>Every record whose name starts with <paramref name="prefix"/>, expired or not, in name order.</summary>
    Task<IReadOnlyList<SubscriptionLease>> ListAsync(string prefix, CancellationToken cancellationToken = default);

    /// <summary>Deletes the record <paramref name="name"/> if it still carries <paramref name="token"/>.</summary>
    /// <returns>Whether it was deleted.</returns>
    Task<bool> DeleteAsync(string name, long token, CancellationToken cancellationToken = default);
}

/// <summary>
/// A lease store that can run a handler's read-model change and the fenced checkpoint save in one transaction: the
/// change commits only if the lease is still held, so an instance that lost its lease (a long pause) can never apply a
/// batch (PostgreSQL implements it).
/// </summary>
public interface ITransactionalSubscriptionLeaseStore : ISubscriptionLeaseStore
{
    /// <summary>
    /// Opens a transaction, runs <paramref name="handle"/> with it, stores <paramref name="checkpoint"/> on the lease's
    /// record if it still carries the lease's token, and commits. Nothing is committed when <paramref name="handle"/>
    /// throws or the lease was lost.
    /// </summary>
    /// <exception cref="LeaseLostException">The lease was taken over; the handler's change was rolled back.</exception>
    Task HandleAndSaveCheckpointAsync(SubscriptionLease lease, Position checkpoint, Func<object, CancellationToken, Task> handle, CancellationToken cancellationToken = default);
}

/// <summary>A subscription group instance lost a lease it held (another instance took it over after it lapsed); nothing was stored.</summary>
public sealed class LeaseLostException(string name, long token)
    : EventStoreException($"The lease '{name}' with fencing token {token} is no longer held: another instance took it over after it lapsed. Nothing was stored.")
{
    /// <summary>The lease's record name.</summary>
    public string Name { get; } = name;

    /// <summary>The token that was refused.</summary>
    public long Token { get; } = token;
}
