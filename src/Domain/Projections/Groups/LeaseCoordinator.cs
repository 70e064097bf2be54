using Microsoft.Extensions.Logging;

namespace EventStore.Providers.Projections;

/// <summary>
/// Coordinates one instance of a subscription group over an <see cref="ISubscriptionLeaseStore"/>. Each refresh renews
/// the instance's membership record and its share leases, lists the group's records, works out the shares this
/// instance should hold from the live members (<see cref="ShareAssignment"/>), takes those that are free or lapsed and
/// marks the ones it should no longer hold as given back: they leave the returned set at once but stay leased until the
/// runner has stored their checkpoint and calls <see cref="LeaseShareClaim.GiveBackAsync"/>, so their next owner never
/// overlaps with this one. A share the runner never started (<see cref="LeaseShareClaim.TryStart"/>) is released at once.
/// </summary>
internal sealed class LeaseCoordinator : ISubscriptionGroupCoordinator
{
    // Membership records of instances that died without leaving are deleted once they have been expired this many
    // lease times: long enough that a paused instance coming back is not confused, short enough not to pile up.
    private const int DeadMemberLeaseTimes = 5;

    private readonly ISubscriptionLeaseStore _store;
    private readonly string _subscriptionId;
    private readonly string _instanceId;
    private readonly SubscriptionGroupOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly GroupRecords _records;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<int, LeaseShareClaim> _held = [];
    private SubscriptionLease? _member;
    private bool _joined;

    public LeaseCoordinator(ISubscriptionLeaseStore store, string subscriptionId, string instanceId, SubscriptionGroupOptions options, TimeProvider time, ILogger logger)
    {
        _store = store;
        _subscriptionId = subscriptionId;
        _instanceId = instanceId;
        _options = options;
        _time = time;
        _logger = logger;
        _records = new GroupRecords(subscriptionId);
        Shares = options.Mode == SubscriptionGroupMode.ActiveStandby ? 1 : options.Shares;
    }

    /// <inheritdoc />
    public int Shares { get; }

    /// <inheritdoc />
    public int ShareOf(StreamName stream) => ShareHash.Of(stream, Shares);

    /// <inheritdoc />
    public async Task<IReadOnlyList<ShareClaim>> RefreshAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var now = _time.GetUtcNow();
            await KeepMembershipAsync(now, cancellationToken).ConfigureAwait(false);
            var records = await _store.ListAsync(_records.Prefix, cancellationToken).ConfigureAwait(false);
            await CheckLayoutAsync(records, now, cancellationToken).ConfigureAwait(false);
            var liveMembers = records
                .Where(r => r.Name.StartsWith(_records.MemberPrefix, StringComparison.Ordinal) && r.ExpiresAt > now)
                .Select(r => r.Owner);
            var desired = ShareAssignment.Desired(_options.Mode, Shares, liveMembers, _instanceId);
            await RenewHeldAsync(desired, now, cancellationToken).ConfigureAwait(false);
            await TakeDesiredAsync(desired, records, now, cancellationToken).ConfigureAwait(false);
            await RemoveDeadMembersAsync(records, now, cancellationToken).ConfigureAwait(false);
            return [.. _held.Values.Where(c => !c.GivingBack).OrderBy(c => c.Share)];
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    public async Task LeaveAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var count = _held.Count;
            foreach (var claim in _held.Values) await _store.ReleaseAsync(claim.Lease, cancellationToken).ConfigureAwait(false);
            _held.Clear();
            if (_member is not null) await _store.DeleteAsync(_member.Name, _member.Token, cancellationToken).ConfigureAwait(false);
            _member = null;
            GroupLog.Left(_logger, _subscriptionId, _instanceId, count);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Releases a share the runner has stopped handling and checkpointed, if it is still held and being given back.</summary>
    internal async Task GiveBackAsync(LeaseShareClaim claim, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!claim.GivingBack || !_held.TryGetValue(claim.Share, out var held) || !ReferenceEquals(held, claim)) return;
            await _store.ReleaseAsync(claim.Lease, cancellationToken).ConfigureAwait(false);
            _held.Remove(claim.Share);
            GroupLog.ShareGivenBack(_logger, _subscriptionId, _instanceId, claim.Share);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Abandons everything without telling the store, as a crashed process would: the leases lapse on their own.</summary>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private async Task KeepMembershipAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var name = _records.Member(_instanceId);
        _member = (_member is null ? null : await _store.RenewAsync(_member, now, _options.LeaseTime, cancellationToken).ConfigureAwait(false))
            ?? await _store.TryAcquireAsync(name, _instanceId, now, _options.LeaseTime, cancellationToken).ConfigureAwait(false)
            ?? throw new EventStoreConfigurationException($"EventStore:Subscriptions:{_subscriptionId}:Group:InstanceId",
                $"is '{_instanceId}', which another running instance of the group uses; give every instance its own id (or leave it unset for a generated one).");
        if (_joined) return;
        _joined = true;
        GroupLog.Joined(_logger, _subscriptionId, _instanceId, _options.Mode, Shares);
    }

    // Each share keeps its own checkpoint, so the count cannot change under a running group without losing or repeating
    // events: a layout record keeps the count the group started with, and share records beyond it betray a shrink.
    private async Task CheckLayoutAsync(IReadOnlyList<SubscriptionLease> records, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var layouts = records.Select(r => _records.LayoutOf(r.Name)).OfType<int>().ToList();
        var beyond = records.Select(r => _records.ShareOf(r.Name)).OfType<int>().Where(s => s >= Shares).ToList();
        var other = layouts.Where(n => n != Shares).Select(n => (int?)n).FirstOrDefault() ?? (beyond.Count > 0 ? beyond.Max() + 1 : null);
        if (other is { } started)
            throw new EventStoreConfigurationException($"EventStore:Subscriptions:{_subscriptionId}:Group:Shares",
                $"is {Shares}{(_options.Mode == SubscriptionGroupMode.ActiveStandby ? " (ActiveStandby uses one share)" : "")}, but the group's stored records were made with {(layouts.Count > 0 ? "" : "at least ")}{started} share(s). " +
                "Each share keeps its own checkpoint, so the count is fixed for the life of the group: keep the old count, or start the projection under a new subscription id (a rebuild).");
        if (layouts.Count > 0) return;
        var marker = await _store.TryAcquireAsync(_records.Layout(Shares), _instanceId, now, _options.LeaseTime, cancellationToken).ConfigureAwait(false);
        if (marker is not null) await _store.ReleaseAsync(marker, cancellationToken).ConfigureAwait(false);
    }

    private async Task RenewHeldAsync(HashSet<int> desired, DateTimeOffset now, CancellationToken cancellationToken)
    {
        foreach (var claim in _held.Values.ToList())
        {
            if (claim.Abandoned || (!desired.Contains(claim.Share) && claim.TryAbandon()))
            {
                // Handed out but never handled: the runner met a later refresh before it settled this one, so it has no
                // checkpoint to store and would never give the share back. It goes back now, or nobody would ever take it.
                await _store.ReleaseAsync(claim.Lease, cancellationToken).ConfigureAwait(false);
                _held.Remove(claim.Share);
                GroupLog.ShareGivenBack(_logger, _subscriptionId, _instanceId, claim.Share);
                continue;
            }
            var renewed = await _store.RenewAsync(claim.Lease, now, _options.LeaseTime, cancellationToken).ConfigureAwait(false);
            if (renewed is null)
            {
                _held.Remove(claim.Share);
                GroupLog.ShareLost(_logger, _subscriptionId, _instanceId, claim.Share, claim.Token);
                continue;
            }
            claim.Lease = renewed;
            // Once marked, a share stays given back until the runner releases it: its new holding starts from the stored checkpoint.
            if (!desired.Contains(claim.Share)) claim.GivingBack = true;
        }
    }

    private async Task TakeDesiredAsync(HashSet<int> desired, IReadOnlyList<SubscriptionLease> records, DateTimeOffset now, CancellationToken cancellationToken)
    {
        foreach (var share in desired.Order())
        {
            if (_held.ContainsKey(share)) continue;
            var name = _records.Share(share);
            var existing = records.FirstOrDefault(r => r.Name == name);
            // Held by another live instance: it gives the share back after its own next refresh.
            if (existing is not null && existing.Owner != _instanceId && existing.ExpiresAt > now) continue;
            var lease = await _store.TryAcquireAsync(name, _instanceId, now, _options.LeaseTime, cancellationToken).ConfigureAwait(false);
            if (lease is null) continue;
            _held[share] = new LeaseShareClaim(this, _store, share, lease);
            if (existing is not null && existing.Owner != _instanceId)
                GroupLog.Handover(_logger, _subscriptionId, share, existing.Owner, _instanceId);
        }
    }

    private async Task RemoveDeadMembersAsync(IReadOnlyList<SubscriptionLease> records, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var before = now - _options.LeaseTime * DeadMemberLeaseTimes;
        foreach (var dead in records.Where(r => r.Name.StartsWith(_records.MemberPrefix, StringComparison.Ordinal) && r.Owner != _instanceId && r.ExpiresAt < before))
        {
            if (await _store.DeleteAsync(dead.Name, dead.Token, cancellationToken).ConfigureAwait(false))
                GroupLog.MemberRemoved(_logger, _subscriptionId, dead.Owner, dead.ExpiresAt);
        }
    }
}

/// <summary>A share held through a lease: saves are fenced by the lease's token.</summary>
internal sealed class LeaseShareClaim(LeaseCoordinator coordinator, ISubscriptionLeaseStore store, int share, SubscriptionLease lease)
    : ShareClaim(share, lease.Token, lease.Checkpoint)
{
    private volatile SubscriptionLease _lease = lease;
    private volatile bool _givingBack;
    // Handed out (0), handled by the runner (1), or abandoned by the coordinator before the runner started it (2).
    private int _state;

    /// <summary>Called by the runner before it handles the share: false when the coordinator already gave it back unhandled.</summary>
    public bool TryStart() => Interlocked.CompareExchange(ref _state, 1, 0) != 2;

    /// <summary>Called by the coordinator for a share it no longer wants: true (from then on) unless the runner already handles it.</summary>
    public bool TryAbandon() => Interlocked.CompareExchange(ref _state, 2, 0) != 1;

    /// <summary>Whether the coordinator gave the share up before the runner started it (its release may still be due).</summary>
    public bool Abandoned => Volatile.Read(ref _state) == 2;

    /// <summary>The lease as last renewed (same token).</summary>
    public SubscriptionLease Lease { get => _lease; set => _lease = value; }

    /// <summary>Whether the share now belongs to another member and waits for the runner to hand it over.</summary>
    public bool GivingBack { get => _givingBack; set => _givingBack = value; }

    /// <inheritdoc />
    public override Task SaveCheckpointAsync(Position checkpoint, CancellationToken cancellationToken) =>
        store.SaveCheckpointAsync(_lease, checkpoint, cancellationToken);

    /// <inheritdoc />
    public override bool IsTransactional => store is ITransactionalSubscriptionLeaseStore;

    /// <inheritdoc />
    public override Task HandleAndSaveCheckpointAsync(Position checkpoint, Func<object, CancellationToken, Task> handle, CancellationToken cancellationToken) =>
        store is ITransactionalSubscriptionLeaseStore transactional
            ? transactional.HandleAndSaveCheckpointAsync(_lease, checkpoint, handle, cancellationToken)
            : base.HandleAndSaveCheckpointAsync(checkpoint, handle, cancellationToken);

    /// <summary>Releases the share after the runner stopped handling it and stored its checkpoint (only when it is being given back).</summary>
    public Task GiveBackAsync(CancellationToken cancellationToken) => coordinator.GiveBackAsync(this, cancellationToken);
}
