using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using EventStore.Providers.Diagnostics;
using EventStore.Providers.Serialization;
using Microsoft.Extensions.Logging;

namespace EventStore.Providers.Projections;

/// <summary>
/// Runs one instance of a subscription group for a <see cref="SubscriptionRunner"/>. A renew loop refreshes the
/// coordinator every <see cref="SubscriptionGroupOptions.RenewInterval"/>, independently of the handler, so a slow batch
/// never costs a lease. The handling loop reads ONE <c>$all</c> subscription from the lowest checkpoint of the held
/// shares, routes each event to its share's batch, skips what a share has already handled, and stores each share's
/// checkpoint through its fenced claim. Whenever the held set changes (a share taken, given back, or lost) the
/// subscription is restarted for the new set; shares no longer held are checkpointed and handed back first.
/// </summary>
internal sealed class SubscriptionGroupRunner : ISubscriptionGroupGauges
{
    private readonly SubscriptionRunner _owner;
    private readonly IEventStore _store;
    private readonly ISubscriptionHandler _handler;
    private readonly SubscriptionOptions _options;
    private readonly ISubscriptionGroupCoordinatorFactory _factory;
    private readonly IEventSerializer? _serializer;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly EventStoreInstrumentation? _instrumentation;
    private readonly GlobalOrdering _ordering;
    private readonly Lock _gate = new();
    private readonly Dictionary<int, ShareProgress> _shares = [];

    // The latest held set from the coordinator, and a token cancelled when it changes (both under _gate).
    private IReadOnlyList<ShareClaim> _claims = [];
    // Holdings refused by the store: a refresh that was already on its way (or a coordinator that has not noticed yet)
    // may still list them, and taking one up again would replay the share from its stale checkpoint.
    private readonly HashSet<(int Share, long Token)> _lost = [];
    private CancellationTokenSource _changed = new();
    private bool _refreshed;
    private Exception? _fatal;

    public SubscriptionGroupRunner(SubscriptionRunner owner, IEventStore store, ISubscriptionHandler handler, SubscriptionOptions options,
        ISubscriptionGroupCoordinatorFactory factory, IEventSerializer? serializer, TimeProvider time, ILogger logger, EventStoreInstrumentation? instrumentation)
    {
        _owner = owner;
        _store = store;
        _handler = handler;
        _options = options;
        _factory = factory;
        _serializer = serializer;
        _time = time;
        _logger = logger;
        _instrumentation = instrumentation;
        _ordering = store.Capabilities.GlobalOrder;
        InstanceId = options.Group.InstanceId ?? $"{Environment.MachineName}-{Environment.ProcessId}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}";
    }

    private string Id => _owner.SubscriptionId;

    /// <summary>This instance's name in the group.</summary>
    public string InstanceId { get; }

    /// <summary>The shares this instance handles now.</summary>
    public IReadOnlyList<int> HeldShares
    {
        get { lock (_gate) return [.. _shares.Keys.Order()]; }
    }

    /// <summary>Runs until cancelled (then stores each share's checkpoint and leaves the group) or until it fails.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var coordinator = _factory.Create(Id, InstanceId, _options.Group, _time);
        using var tracking = _instrumentation?.TrackSubscriptionGroup(this);
        using var renewCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var renew = RenewLoopAsync(coordinator, renewCts.Token);
        try
        {
            await HandleWhileHeldAsync(coordinator, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await renewCts.CancelAsync().ConfigureAwait(false);
            await renew.ConfigureAwait(false);
            await StoreCheckpointsAndLeaveAsync(coordinator).ConfigureAwait(false);
            await coordinator.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task HandleWhileHeldAsync(ISubscriptionGroupCoordinator coordinator, CancellationToken cancellationToken)
    {
        var failures = 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            IReadOnlyList<ShareClaim> claims;
            CancellationToken changed;
            bool refreshed;
            lock (_gate) (claims, changed, refreshed) = (_claims, _changed.Token, _refreshed);
            if (_fatal is { } fatal) throw fatal;
            await SettleAsync(claims, cancellationToken).ConfigureAwait(false);
            using var generation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, changed);
            var before = _shares.Values.Select(s => s.Processed).ToList();
            try
            {
                if (_shares.Count == 0)
                {
                    // A standby (or an instance whose shares all belong to others now) is up to date with what it holds.
                    if (refreshed) _owner.ReportGroupStatus(SubscriptionStatus.Live);
                    await Task.Delay(Timeout.InfiniteTimeSpan, _time, generation.Token).ConfigureAwait(false);
                }
                await HandleSharesAsync(coordinator, generation.Token).ConfigureAwait(false);
                throw new InvalidOperationException($"The event store ended subscription '{Id}', which should run until cancelled.");
            }
            catch (OperationCanceledException) when (generation.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                // The held set changed: restart for the new one.
            }
            catch (TransientEventStoreException e) when (!cancellationToken.IsCancellationRequested)
            {
                failures = before.SequenceEqual(_shares.Values.Select(s => s.Processed)) ? failures + 1 : 1;
                if (failures > _options.ResubscribeAttempts) throw;
                var delay = SubscriptionRunner.ResubscribeDelay(_options, failures);
                _owner.ReportResubscribing(e, failures, delay);
                await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    // Brings the handled shares in line with the held set: shares no longer held store their checkpoint (refused when
    // lost) and are handed back; new ones start from their stored checkpoint; kept ones from what was handled here.
    private async Task SettleAsync(IReadOnlyList<ShareClaim> claims, CancellationToken cancellationToken)
    {
        var wanted = claims.ToDictionary(c => c.Share);
        foreach (var progress in _shares.Values.ToList())
        {
            progress.Batch.Clear();
            if (wanted.TryGetValue(progress.Share, out var kept) && kept.Token == progress.Claim.Token) continue;
            lock (_gate) _shares.Remove(progress.Share);
            var lost = false;
            try
            {
                await SaveAsync(progress, cancellationToken).ConfigureAwait(false);
            }
            catch (LeaseLostException)
            {
                lost = true;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                GroupLog.GiveBackCheckpointFailed(_logger, e, Id, InstanceId, progress.Share);
            }
            if (progress.Claim is LeaseShareClaim lease) await lease.GiveBackAsync(cancellationToken).ConfigureAwait(false);
            CountChange(progress.Share, lost ? "lost" : "given_back");
        }
        foreach (var claim in claims.Where(c => !_shares.ContainsKey(c.Share)))
        {
            // Given back unhandled meanwhile (a later refresh no longer wanted it): the next settle goes without it.
            if (claim is LeaseShareClaim lease && !lease.TryStart()) continue;
            lock (_gate) _shares[claim.Share] = new ShareProgress(claim, _time.GetTimestamp());
            // Logged here, where handling starts, whatever coordinator (leases or a native one) granted the share.
            GroupLog.ShareTaken(_logger, Id, InstanceId, claim.Share, claim.Token, claim.Checkpoint?.ToString() ?? "the start");
            CountChange(claim.Share, "taken");
        }
    }

    private async Task HandleSharesAsync(ISubscriptionGroupCoordinator coordinator, CancellationToken cancellationToken)
    {
        var start = LowestCheckpoint();
        GroupLog.Handling(_logger, Id, InstanceId, string.Join(", ", _shares.Keys.Order()), start?.ToString() ?? "the start");
        _owner.ReportGroupStatus(SubscriptionStatus.CatchingUp);
        await using var pump = SubscriptionPump.Start(_store, _options, start, cancellationToken);
        var reader = pump.Reader;
        Position? passed = null;
        while (true)
        {
            if (!reader.TryRead(out var message))
            {
                await FlushAsync(passed, cancellationToken).ConfigureAwait(false);
                passed = null;
                if (!await pump.WaitForMessageAsync(TimeUntilCheckpointDue, SaveDueAsync, _time, cancellationToken).ConfigureAwait(false))
                {
                    await reader.Completion.ConfigureAwait(false);
                    return;
                }
                continue;
            }
            switch (message.Kind)
            {
                case SubscriptionMessageKind.Event when message.Event is { } e:
                    passed = e.Position;
                    if (_shares.TryGetValue(coordinator.ShareOf(e.Stream), out var share) && !share.Covers(_ordering, e.Position))
                    {
                        share.Batch.Add(e);
                        if (share.Batch.Count >= _options.BatchSize) await HandleBatchAsync(share, cancellationToken).ConfigureAwait(false);
                    }
                    break;
                case SubscriptionMessageKind.Checkpoint:
                    await FlushAsync(message.Position, cancellationToken).ConfigureAwait(false);
                    await SaveAllAsync(cancellationToken).ConfigureAwait(false);
                    passed = null;
                    break;
                case SubscriptionMessageKind.CaughtUp:
                    await FlushAsync(message.Position.IsStart ? passed : message.Position, cancellationToken).ConfigureAwait(false);
                    await SaveAllAsync(cancellationToken).ConfigureAwait(false);
                    passed = null;
                    _owner.ReportGroupStatus(SubscriptionStatus.Live);
                    GroupLog.CaughtUp(_logger, Id, InstanceId, _owner.ProcessedPosition?.ToString() ?? "the start");
                    break;
            }
        }
    }

    private Position? LowestCheckpoint()
    {
        Position? lowest = null;
        foreach (var share in _shares.Values)
        {
            if (share.Processed is not { } p) return null;
            lowest = lowest is { } l ? PositionOrder.Lowest(_ordering, l, p) : p;
        }
        return lowest;
    }

    // Handles every waiting batch; then every share has handled the log up to what was passed.
    private async Task FlushAsync(Position? passed, CancellationToken cancellationToken)
    {
        foreach (var share in _shares.Values.Where(s => s.Batch.Count > 0).OrderBy(s => s.Share).ToList())
            await HandleBatchAsync(share, cancellationToken).ConfigureAwait(false);
        if (passed is not { } position || position.IsStart) return;
        foreach (var share in _shares.Values) share.Passed(_ordering, position);
        _owner.ReportGroupProgress(position);
    }

    private async Task HandleBatchAsync(ShareProgress share, CancellationToken cancellationToken)
    {
        var events = share.Batch.ToArray();
        share.Batch.Clear();
        var last = events[^1];
        var context = new SubscriptionContext(Id, _serializer) { Share = share.Share };
        Exception? handlerFailure = null;
        async Task Handle(object? transaction, CancellationToken ct)
        {
            try
            {
                await _handler.HandleAsync(events, transaction is null ? context : context with { Transaction = transaction }, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (!(e is OperationCanceledException && ct.IsCancellationRequested))
            {
                handlerFailure = e;
                throw;
            }
        }
        try
        {
            if (_options.UseTransactionalCheckpoints && share.Claim.IsTransactional)
            {
                // The handler sees the stop at once; a batch it finished commits within the grace (see StopGrace).
                using var grace = new StopGrace(cancellationToken);
                await share.Claim.HandleAndSaveCheckpointAsync(last.Position, (transaction, _) => Handle(transaction, cancellationToken), grace.Token).ConfigureAwait(false);
                share.Handled(last, events.Length, _time.GetUtcNow());
                share.Saved(last.Position, _time.GetTimestamp());
                return;
            }
            await Handle(null, cancellationToken).ConfigureAwait(false);
        }
        catch (LeaseLostException) when (handlerFailure is null)
        {
            Lose(share);
            throw new OperationCanceledException(cancellationToken);
        }
        catch (Exception) when (handlerFailure is not null)
        {
            throw new SubscriptionHandlerException(Id, events[0], events.Length, handlerFailure);
        }
        share.Handled(last, events.Length, _time.GetUtcNow());
        if (share.Unsaved >= _options.CheckpointAfterEvents || DueIn(share) <= TimeSpan.Zero) await SaveFencedAsync(share, cancellationToken).ConfigureAwait(false);
    }

    private TimeSpan? DueIn(ShareProgress share) =>
        share.HasUnsaved ? _options.CheckpointAfterTime - _time.GetElapsedTime(share.LastSaveTimestamp) : null;

    private TimeSpan? TimeUntilCheckpointDue() => _shares.Values.Select(DueIn).Where(d => d is not null).DefaultIfEmpty().Min();

    private async Task SaveDueAsync(CancellationToken cancellationToken)
    {
        foreach (var share in _shares.Values.Where(s => DueIn(s) <= TimeSpan.Zero).ToList())
            await SaveFencedAsync(share, cancellationToken).ConfigureAwait(false);
    }

    private async Task SaveAllAsync(CancellationToken cancellationToken)
    {
        foreach (var share in _shares.Values.ToList()) await SaveFencedAsync(share, cancellationToken).ConfigureAwait(false);
    }

    // A refused save means another instance owns the share now: stop handling it at once.
    private async Task SaveFencedAsync(ShareProgress share, CancellationToken cancellationToken)
    {
        try
        {
            await SaveAsync(share, cancellationToken).ConfigureAwait(false);
        }
        catch (LeaseLostException)
        {
            Lose(share);
            throw new OperationCanceledException(cancellationToken);
        }
    }

    private async Task SaveAsync(ShareProgress share, CancellationToken cancellationToken)
    {
        if (!share.HasUnsaved || share.Processed is not { } position) return;
        await share.Claim.SaveCheckpointAsync(position, cancellationToken).ConfigureAwait(false);
        share.Saved(position, _time.GetTimestamp());
        GroupLog.CheckpointStored(_logger, Id, share.Share, position.ToString());
    }

    private void Lose(ShareProgress share)
    {
        GroupLog.ShareLost(_logger, Id, InstanceId, share.Share, share.Claim.Token);
        lock (_gate) _lost.Add((share.Share, share.Claim.Token));
        Update(null);
    }

    // Replaces the held set (null: filters the current one, read under the lock so a refresh landing meanwhile is not
    // overwritten by an older list) and wakes the handling loop when it differs from the current one.
    private void Update(IReadOnlyList<ShareClaim>? claims)
    {
        CancellationTokenSource previous;
        lock (_gate)
        {
            claims ??= _claims;
            _refreshed = true;
            if (_lost.Count > 0) claims = [.. claims.Where(c => !_lost.Contains((c.Share, c.Token)))];
            if (claims.Select(c => (c.Share, c.Token)).SequenceEqual(_claims.Select(c => (c.Share, c.Token))) && _fatal is null)
                return;
            _claims = claims;
            previous = _changed;
            _changed = new CancellationTokenSource();
        }
        previous.Cancel();
        previous.Dispose();
    }

    private async Task RenewLoopAsync(ISubscriptionGroupCoordinator coordinator, CancellationToken cancellationToken)
    {
        var renewedAt = _time.GetUtcNow();
        var first = true;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if (!first) await Task.Delay(_options.Group.RenewInterval, _time, cancellationToken).ConfigureAwait(false);
                first = false;
                var claims = await coordinator.RefreshAsync(cancellationToken).ConfigureAwait(false);
                renewedAt = _time.GetUtcNow();
                Update(claims);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (EventStoreConfigurationException e)
            {
                _fatal = e;
                Update([]);
                return;
            }
            catch (Exception e)
            {
                // The leases lapse at renewedAt + LeaseTime; stop handling a renew interval before, while they still hold.
                var deadline = renewedAt + _options.Group.LeaseTime;
                GroupLog.RefreshFailed(_logger, e, Id, InstanceId, deadline);
                if (_time.GetUtcNow() + _options.Group.RenewInterval >= deadline && _claims.Count > 0)
                {
                    GroupLog.LeasesLapsed(_logger, Id, InstanceId);
                    Update([]);
                }
            }
        }
    }

    // On the way out (stop or failure): what was handled is stored, then the shares are given back at once.
    private async Task StoreCheckpointsAndLeaveAsync(ISubscriptionGroupCoordinator coordinator)
    {
        using var timeout = new CancellationTokenSource(StopGrace.Period);
        foreach (var share in _shares.Values.ToList())
        {
            try
            {
                await SaveAsync(share, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                GroupLog.GiveBackCheckpointFailed(_logger, e, Id, InstanceId, share.Share);
            }
        }
        try
        {
            await coordinator.LeaveAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            GroupLog.LeaveFailed(_logger, e, Id, InstanceId);
        }
        lock (_gate) _shares.Clear();
    }

    private void CountChange(int share, string change) =>
        _instrumentation?.SubscriptionHandovers.Add(1,
            new KeyValuePair<string, object?>("subscription", Id),
            new KeyValuePair<string, object?>("instance", InstanceId),
            new KeyValuePair<string, object?>("share", share),
            new KeyValuePair<string, object?>("change", change));

    Measurement<long> ISubscriptionGroupGauges.SharesHeld()
    {
        lock (_gate)
            return new(_shares.Count, new KeyValuePair<string, object?>("subscription", Id), new KeyValuePair<string, object?>("instance", InstanceId));
    }

    IEnumerable<Measurement<double>> ISubscriptionGroupGauges.Lag()
    {
        lock (_gate)
            return [.. _shares.Values.Select(s => new Measurement<double>(s.LagSeconds,
                new KeyValuePair<string, object?>("subscription", Id),
                new KeyValuePair<string, object?>("instance", InstanceId),
                new KeyValuePair<string, object?>("share", s.Share)))];
    }
}
