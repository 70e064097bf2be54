using Confluent.Kafka;
using EventStore.Providers.Projections;
using Microsoft.Extensions.Logging;

namespace EventStore.Providers.Kafka;

/// <summary>
/// One instance of a subscription group on Kafka: a member of a consumer group. A partitioned group subscribes to the
/// events topic and its shares are the topic's partitions. An active/standby group subscribes to a one-partition topic
/// (the checkpoint topic): its one share goes with that partition, which stays with its member when others join, and
/// owns every events partition's checkpoint. The group's assignment decides which instance holds which, its committed
/// offsets of the events topic are the checkpoints, and a commit is accepted only from a member of the current
/// generation.
/// </summary>
/// <remarks>
/// The consumer never reads events: every assigned partition is paused at once (the runner reads <c>$all</c> itself).
/// Polling it (<see cref="RefreshAsync"/>) serves the group's rebalances; librdkafka heartbeats in the background.
/// Commits and the release of a claim take turns under one gate, so a commit is sent only while the claim is held, and
/// a claim is released before librdkafka gives its partition up (see the README's fencing argument). A partition
/// revoked in a rebalance is handed over: the claim leaves the held set at once, but the partition stays assigned, and
/// the claim can store its checkpoint, until the runner has done so or the next refresh (at most half the lease), so
/// the next holder resumes where this one stopped.
/// </remarks>
internal sealed class KafkaSubscriptionGroupCoordinator : ISubscriptionGroupCoordinator, IRebalanceListener
{
    private readonly string _subscriptionId;
    private readonly string _instanceId;
    private readonly string _topic;
    private readonly string _subscribedTopic;
    private readonly SubscriptionGroupMode _mode;
    private readonly int _partitions;
    private readonly GroupConsumerSettings _settings;
    private readonly Func<IRebalanceListener, IGroupConsumer> _createConsumer;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly SemaphoreSlim _refreshGate = new(1, 1);
    private readonly Dictionary<int, KafkaShareClaim> _held = [];
    private readonly SortedSet<int> _pending = [];
    private readonly HashSet<int> _paused = [];
    private readonly System.Collections.Concurrent.ConcurrentQueue<IReadOnlyList<int>> _assignedSinceRefresh = new();
    private IGroupConsumer? _consumer;
    private Task<int>? _poll;
    private Handover? _handover;
    private TaskCompletionSource _handoverStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _leaving;
    private long _lastToken;
    private long _recordsDropped;
    private bool _disposed;

    /// <param name="subscriptionId">The subscription (group) id.</param>
    /// <param name="instanceId">This instance's name.</param>
    /// <param name="topic">The events topic: its partitions' committed offsets are the checkpoints.</param>
    /// <param name="partitions">The events topic's partition count.</param>
    /// <param name="mode">Partitioned (a share per partition) or active/standby (one share).</param>
    /// <param name="electionTopic">With active/standby, the topic whose partition 0 makes its holder the active instance.</param>
    /// <param name="settings">The consumer group's settings.</param>
    /// <param name="createConsumer">Creates the group consumer reporting to the given listener.</param>
    /// <param name="logger">Where hand-overs are logged.</param>
    public KafkaSubscriptionGroupCoordinator(string subscriptionId, string instanceId, string topic, int partitions, SubscriptionGroupMode mode, string electionTopic,
        GroupConsumerSettings settings, Func<IRebalanceListener, IGroupConsumer> createConsumer, ILogger logger)
    {
        _subscriptionId = subscriptionId;
        _instanceId = instanceId;
        _topic = topic;
        _subscribedTopic = mode == SubscriptionGroupMode.ActiveStandby ? electionTopic : topic;
        _partitions = partitions;
        _mode = mode;
        Shares = mode == SubscriptionGroupMode.ActiveStandby ? 1 : partitions;
        _settings = settings;
        _createConsumer = createConsumer;
        _logger = logger;
    }

    /// <inheritdoc />
    public int Shares { get; }

    /// <summary>Records the group consumer was handed and dropped (stays 0: assigned partitions are paused before any fetch).</summary>
    internal long RecordsDropped => Interlocked.Read(ref _recordsDropped);

    /// <summary>Whether the consumer is a member of the group now (it has a member id).</summary>
    internal bool IsMember => _consumer is { MemberId.Length: > 0 };

    /// <summary>The partitions of the subscribed topic the group assigned to this member at the last refresh (diagnostics).</summary>
    internal IReadOnlyList<int> AssignedPartitions { get; private set; } = [];

    /// <summary>The consumer group's id.</summary>
    internal string GroupId => _settings.GroupId;

    /// <inheritdoc />
    public int ShareOf(StreamName stream) => _mode == SubscriptionGroupMode.ActiveStandby ? 0 : StreamPartitioner.PartitionOf(stream, _partitions);

    /// <summary>The shares that go with assigned <paramref name="partitions"/>: each its own, or with active/standby the one share with partition 0 of the election topic.</summary>
    private IEnumerable<int> SharesWith(IEnumerable<int> partitions) =>
        _mode == SubscriptionGroupMode.ActiveStandby ? partitions.Where(p => p == 0) : partitions;

    /// <summary>The partitions whose committed offsets make up <paramref name="share"/>'s checkpoint.</summary>
    private IReadOnlyList<int> PartitionsOf(int share) =>
        _mode == SubscriptionGroupMode.ActiveStandby ? Enumerable.Range(0, _partitions).ToArray() : [share];

    /// <inheritdoc />
    /// <exception cref="EventStoreConfigurationException">The brokers refuse the lease time as a session timeout.</exception>
    /// <exception cref="TransientEventStoreException">The group coordinator is unreachable or moving.</exception>
    public async Task<IReadOnlyList<ShareClaim>> RefreshAsync(CancellationToken cancellationToken)
    {
        await _refreshGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            // Polls and offset fetches block: off the caller's thread.
            return await Task.Run(Refresh, CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _refreshGate.Release();
        }
    }

    private ShareClaim[] Refresh()
    {
        var consumer = _consumer ??= Join();
        // A hand-over from the previous refresh ends now: the runner had a renew interval to store its checkpoints.
        var previous = EndHandover();
        var started = _handoverStarted.Task;
        var poll = previous ?? Task.Run(consumer.Poll);
        // The poll returns, or stops inside a revocation to hand shares over (and finishes at a later refresh).
        Task.WaitAny(poll, started);
        if (!poll.IsCompleted)
        {
            _poll = poll;
            return HeldClaims();
        }
        try
        {
            Interlocked.Add(ref _recordsDropped, poll.GetAwaiter().GetResult());
        }
        catch (KafkaException e) when (GroupErrors.CodeOf(e) == ErrorCode.Local_MaxPollExceeded)
        {
            // librdkafka left the group: this instance did not refresh within the lease time. The assignment it still
            // reports is lost (the callback saying so comes with a later poll); it rejoins on the next poll.
            _logger.GroupPollDeadlineMissed(_settings.GroupId, _instanceId);
            ReleaseAll("missed the poll deadline");
            AssignedPartitions = [];
            return [];
        }
        catch (KafkaException e) when (GroupErrors.CodeOf(e) == ErrorCode.InvalidSessionTimeout)
        {
            throw new EventStoreConfigurationException(_settings.LeaseTimeKey,
                $"is {_settings.LeaseTime}; the Kafka brokers refuse it as the consumer group's session timeout ({_settings.SessionTimeoutMs} ms): it must lie between their group.min.session.timeout.ms (default 6 s) and group.max.session.timeout.ms (default 30 min).", e);
        }
        catch (KafkaException e)
        {
            throw GroupErrors.Wrap($"staying in group '{_settings.GroupId}'", e);
        }
        var assignment = consumer.Assignment;
        AssignedPartitions = assignment;
        var assigned = SharesWith(assignment).ToHashSet();
        bool claim;
        _gate.Wait();
        try
        {
            ApplyAssigned();
            PauseNew(consumer, assignment);
            foreach (var share in _held.Keys.Where(s => !assigned.Contains(s)).ToList()) ReleaseHeld(share, "no longer assigned");
            // A partition still assigned whose claim was dropped (the broker refused a commit mid-rebalance and the
            // rebalance kept it here) is claimed again, with a new token and the checkpoint the group has.
            foreach (var share in assigned.Where(s => !_held.ContainsKey(s))) _pending.Add(share);
            _pending.IntersectWith(assigned);
            // Without a member id the consumer is between memberships: its commits would carry no generation, which a
            // broker accepts for an empty group. Nothing is claimed until it has joined again.
            claim = _pending.Count > 0 && consumer.MemberId.Length > 0;
        }
        finally
        {
            _gate.Release();
        }
        if (claim) ClaimPending(consumer);
        return HeldClaims();
    }

    private ShareClaim[] HeldClaims()
    {
        _gate.Wait();
        try
        {
            return _held.Values.Where(c => !c.IsGivingBack).OrderBy(c => c.Share).ToArray<ShareClaim>();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Ends a hand-over in progress (its revocation returns) and returns the poll it stopped, to be completed.</summary>
    private Task<int>? EndHandover()
    {
        var poll = _poll;
        _poll = null;
        Volatile.Read(ref _handover)?.Done.Set();
        if (poll is not null) ((IAsyncResult)poll).AsyncWaitHandle.WaitOne();
        return poll;
    }

    private IGroupConsumer Join()
    {
        var consumer = _createConsumer(this);
        consumer.Subscribe(_subscribedTopic);
        return consumer;
    }

    private void PauseNew(IGroupConsumer consumer, IReadOnlyList<int> assignment)
    {
        var unpaused = assignment.Where(p => !_paused.Contains(p)).ToList();
        if (unpaused.Count == 0) return;
        try
        {
            consumer.Pause(unpaused);
        }
        catch (KafkaException e)
        {
            throw GroupErrors.Wrap($"pausing partitions {string.Join(',', unpaused)}", e);
        }
        _paused.UnionWith(unpaused);
    }

    private void ClaimPending(IGroupConsumer consumer)
    {
        List<int> owned;
        _gate.Wait();
        try
        {
            owned = _pending.SelectMany(PartitionsOf).Distinct().ToList();
        }
        finally
        {
            _gate.Release();
        }
        Dictionary<int, long> committed;
        long[] ends;
        try
        {
            committed = consumer.Committed(owned, _settings.RequestTimeout).ToDictionary(o => o.Partition.Value, o => o.Offset.Value);
            // With several partitions a checkpoint's entries of partitions it does not own are their ends now (see ShareCheckpoint).
            ends = _partitions == 1 || _mode == SubscriptionGroupMode.ActiveStandby
                ? new long[_partitions]
                : Enumerable.Range(0, _partitions).Select(p => consumer.EndOffset(p, _settings.RequestTimeout)).ToArray();
        }
        catch (KafkaException e)
        {
            _logger.ShareCheckpointsUnread(e, _settings.GroupId, string.Join(',', _pending));
            return;
        }
        var memberId = consumer.MemberId;
        _gate.Wait();
        try
        {
            foreach (var share in _pending.ToList())
            {
                var mine = PartitionsOf(share).ToDictionary(p => p, p => committed.TryGetValue(p, out var c) ? c : Offset.Unset.Value);
                var claim = new KafkaShareClaim(this, share, NextToken(), ShareCheckpoint.FromCommitted(mine, ends), memberId);
                _pending.Remove(share);
                _held[share] = claim;
                _logger.ShareTaken(_settings.GroupId, _instanceId, share, claim.Token, claim.Checkpoint?.ToString() ?? "start");
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Greater than every token this instance gave before, and than the wall-clock time in microseconds: the
    /// group's generation id would order holders across instances, but Confluent.Kafka does not expose it, so
    /// tokens of different instances are ordered by their clocks. Fencing does not rest on tokens: the broker checks
    /// the generation of every commit.
    /// </summary>
    private long NextToken() => _lastToken = Math.Max(_lastToken + 1, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000);

    /// <summary>
    /// Queues an assignment for the next refresh, never waiting for the gate: a commit holds the gate until the broker
    /// answers, and librdkafka may hold that commit until this callback (served by a poll) has returned. Waiting here
    /// deadlocked the two until the poll deadline expelled the member, and the commit was refused.
    /// </summary>
    void IRebalanceListener.Assigned(IReadOnlyList<int> partitions) => _assignedSinceRefresh.Enqueue(partitions);

    /// <summary>Applies the assignments queued since the last refresh; the caller holds the gate.</summary>
    private void ApplyAssigned()
    {
        while (_assignedSinceRefresh.TryDequeue(out var partitions))
        {
            // A (re)assigned partition starts unpaused.
            _paused.ExceptWith(partitions);
            foreach (var share in SharesWith(partitions))
                if (!_held.ContainsKey(share)) _pending.Add(share);
        }
    }

    void IRebalanceListener.Revoked(IReadOnlyList<int> partitions, bool lost)
    {
        // A cooperative rebalance that moves nothing of this member's revokes nothing: never wait for the gate then (a
        // commit may hold it while librdkafka waits for this callback, see Assigned).
        if (partitions.Count == 0) return;
        var shares = SharesWith(partitions).ToList();
        Handover? handover = null;
        _gate.Wait();
        try
        {
            _paused.ExceptWith(partitions);
            _pending.ExceptWith(shares);
            var giving = shares.Where(_held.ContainsKey).Select(s => _held[s]).ToList();
            if (lost || _leaving || giving.Count == 0)
            {
                foreach (var share in shares) ReleaseHeld(share, lost ? "lost: the group moved on without this instance" : "revoked in a rebalance");
                return;
            }
            // Revoked, not lost: the partitions stay this member's until this callback returns. The claims leave the
            // held set, so the runner stores their checkpoints through them and stops handling them.
            foreach (var claim in giving) claim.GiveBack();
            handover = new Handover(giving);
            Volatile.Write(ref _handover, handover);
        }
        finally
        {
            _gate.Release();
        }
        _handoverStarted.TrySetResult();
        // Within the poll deadline: librdkafka counts this callback as time since the last poll.
        handover.Done.Wait(TimeSpan.FromMilliseconds(_settings.SessionTimeoutMs / 2.0));
        _gate.Wait();
        try
        {
            foreach (var claim in handover.Claims) ReleaseHeld(claim.Share, "handed over in a rebalance");
            Volatile.Write(ref _handover, null);
            _handoverStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Releases a held share; the caller holds the gate, so no commit of it is in flight.</summary>
    private void ReleaseHeld(int share, string reason)
    {
        if (!_held.Remove(share, out var claim)) return;
        claim.Release();
        _logger.ShareReleased(_settings.GroupId, _instanceId, share, reason);
    }

    private void ReleaseAll(string reason)
    {
        _gate.Wait();
        try
        {
            foreach (var share in _held.Keys.ToList()) ReleaseHeld(share, reason);
            _pending.Clear();
            _paused.Clear();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Shares revoked in a rebalance whose partitions stay assigned until the runner stored their checkpoints.</summary>
    private sealed class Handover(List<KafkaShareClaim> claims)
    {
        public List<KafkaShareClaim> Claims { get; } = claims;

        public ManualResetEventSlim Done { get; } = new();

        public void Stored()
        {
            if (Claims.All(c => c.StoredSinceGiveBack)) Done.Set();
        }
    }

    /// <summary>Commits <paramref name="claim"/>'s partition offsets for <paramref name="checkpoint"/> while the claim is held.</summary>
    /// <exception cref="LeaseLostException">The partition was revoked or lost, or the broker refused the commit's generation.</exception>
    /// <exception cref="TransientEventStoreException">The group coordinator is unreachable or moving; nothing is known to be stored.</exception>
    internal async Task CommitAsync(KafkaShareClaim claim, Position checkpoint, CancellationToken cancellationToken)
    {
        var offsets = ShareCheckpoint.NextOffsets(checkpoint, PartitionsOf(claim.Share), _partitions)
            .Select(o => new TopicPartitionOffset(_topic, o.Partition, o.Offset)).ToList();
        // While the group is between generations the broker refuses commits (RebalanceInProgress) although the
        // partition usually stays here: try again until the rebalance is done, each time as a new, fenced attempt, and
        // with the gate free in between so a refresh can apply a revocation (which then refuses the next attempt).
        var budget = TimeSpan.FromMilliseconds(Math.Min(_settings.SessionTimeoutMs / 2.0, _settings.RequestTimeout.TotalMilliseconds));
        var deadline = DateTime.UtcNow + budget;
        var generationRetries = 0;
        for (var pause = TimeSpan.FromMilliseconds(50); ; pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, TimeSpan.FromSeconds(1).Ticks)))
        {
            try
            {
                if (await CommitOnceAsync(claim, offsets, cancellationToken).ConfigureAwait(false) == CommitOutcome.Stored) return;
                // Sent in a generation that ended while it waited: the member is in the new one and kept the partition.
                // A new generation has started, so the wait for its rebalance to settle starts again too.
                if (++generationRetries > MaxGenerationRetries) throw ShareLostAfterRetries(claim);
                deadline = DateTime.UtcNow + budget;
                pause = TimeSpan.FromMilliseconds(25);
            }
            catch (TransientEventStoreException e) when (e.InnerException is KafkaException k && GroupErrors.CodeOf(k) == ErrorCode.RebalanceInProgress && DateTime.UtcNow + pause < deadline)
            {
                await Task.Delay(pause, cancellationToken).ConfigureAwait(false);
                await KeepMembershipAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Polls the consumer while a commit waits for a rebalance, unless a refresh is running already: the runner stops
    /// refreshing before it stores its last checkpoints, and a member that is not polled within the lease time leaves
    /// the group (its commits are refused from then on), so a stop that meets a rebalance would lose its checkpoint.
    /// </summary>
    private async Task KeepMembershipAsync()
    {
        if (!await _refreshGate.WaitAsync(0).ConfigureAwait(false)) return;
        try
        {
            if (!_disposed && _consumer is not null) await Task.Run(Refresh, CancellationToken.None).ConfigureAwait(false);
        }
        catch (EventStoreException e)
        {
            // The commit's next attempt reports what is wrong with the membership; this poll only kept it alive.
            _logger.GroupKeepAlivePollFailed(e, _settings.GroupId, _instanceId);
        }
        finally
        {
            _refreshGate.Release();
        }
    }

    /// <summary>How many generations in a row one checkpoint follows before its share counts as lost.</summary>
    private const int MaxGenerationRetries = 3;

    private LeaseLostException ShareLostAfterRetries(KafkaShareClaim claim)
    {
        _gate.Wait();
        try
        {
            ReleaseHeld(claim.Share, $"its checkpoint was refused in {MaxGenerationRetries + 1} generations in a row");
        }
        finally
        {
            _gate.Release();
        }
        return ShareLost(claim);
    }

    private enum CommitOutcome
    {
        Stored,
        GenerationMoved,
    }

    private async Task<CommitOutcome> CommitOnceAsync(KafkaShareClaim claim, List<TopicPartitionOffset> offsets, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (claim.IsReleased || _consumer is not { } consumer || !_held.TryGetValue(claim.Share, out var held) || !ReferenceEquals(held, claim))
                throw ShareLost(claim);
            if (consumer.MemberId != claim.MemberId)
            {
                // librdkafka already learned that the member it was is gone (and sends generation -1 now).
                ReleaseHeld(claim.Share, "the member that held it left the group");
                throw ShareLost(claim);
            }
            try
            {
                // Not cancellable once sent: the gate stays held until the broker has answered, so no claim is
                // released (and no revocation returns to librdkafka) while a commit is in flight.
                await Task.Run(() => consumer.Commit(offsets), CancellationToken.None).ConfigureAwait(false);
            }
            catch (KafkaException e) when (GroupErrors.CodeOf(e) == ErrorCode.IllegalGeneration && StillAssigned(consumer, claim))
            {
                // The broker knows this member (else: UnknownMemberId), so the member joined the group's current
                // generation, and it still has the partition; the commit carried the generation before, because it
                // was sent while the member rejoined and waited behind the rejoin. Nothing was stored. A later
                // revocation still goes through the gate, so trying again stays fenced.
                _logger.GroupCommitGenerationMoved(_settings.GroupId, _instanceId, claim.Share);
                return CommitOutcome.GenerationMoved;
            }
            catch (KafkaException e) when (GroupErrors.MeansShareLost(GroupErrors.CodeOf(e)))
            {
                ReleaseHeld(claim.Share, $"the broker refused its checkpoint: {GroupErrors.CodeOf(e)}");
                throw ShareLost(claim);
            }
            catch (KafkaException e)
            {
                throw GroupErrors.Wrap($"storing the checkpoint of share {claim.Share}", e);
            }
            if (claim.IsGivingBack)
            {
                // The hand-over can end: the next holder resumes from here.
                claim.MarkStored();
                Volatile.Read(ref _handover)?.Stored();
            }
            return CommitOutcome.Stored;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Whether the member that took <paramref name="claim"/> is still in the group with the claim's partition.</summary>
    private bool StillAssigned(IGroupConsumer consumer, KafkaShareClaim claim) =>
        consumer.MemberId == claim.MemberId && SharesWith(consumer.Assignment).Contains(claim.Share);

    private LeaseLostException ShareLost(KafkaShareClaim claim) => new($"{_subscriptionId}/share/{claim.Share}", claim.Token);

    /// <inheritdoc />
    /// <exception cref="TransientEventStoreException">The group coordinator did not answer; the others take the shares when the session expires.</exception>
    public async Task LeaveAsync(CancellationToken cancellationToken)
    {
        await _refreshGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await Task.Run(Leave, CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _refreshGate.Release();
        }
    }

    private void Leave()
    {
        if (_consumer is not { } consumer) return;
        // The runner stored its checkpoints before leaving: what the consumer revokes now is released at once.
        _leaving = true;
        var stopped = EndHandover();
        _ = stopped?.Exception;
        _gate.Wait();
        try
        {
            _consumer = null;
        }
        finally
        {
            _gate.Release();
        }
        try
        {
            CloseWithinRequestTimeout(consumer);
        }
        catch (KafkaException e)
        {
            throw GroupErrors.Wrap($"leaving group '{_settings.GroupId}'", e);
        }
        finally
        {
            ReleaseAll("left the group");
            _leaving = false;
        }
    }

    /// <summary>
    /// Closes the consumer (it revokes the assignment through the listener, then sends LeaveGroup, so the others
    /// rebalance at once) and disposes it, on a thread of its own, waiting at most the request timeout. librdkafka can
    /// block for good in either step: a CI run sat 20 minutes in close (librdkafka issue 4041) and, after that was
    /// worked around, another in rd_kafka_destroy, its main thread never seeing the group handle terminate. An
    /// application stopping must not hang on that: after the timeout the leave goes on, logs it, and the client is left
    /// to finish on its thread. The others take the shares when this member's session expires, as after a crash.
    /// </summary>
    private void CloseWithinRequestTimeout(IGroupConsumer consumer)
    {
        var closing = Task.Factory.StartNew(() =>
        {
            try
            {
                consumer.Close();
            }
            finally
            {
                consumer.Dispose();
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        // Waits without throwing (Task.Wait would wrap a refusal in AggregateException), then rethrows it as it was.
        if (((IAsyncResult)closing).AsyncWaitHandle.WaitOne(_settings.RequestTimeout) || closing.IsCompleted)
        {
            closing.GetAwaiter().GetResult();
            return;
        }
        _logger.GroupLeaveTimedOut(_settings.GroupId, _instanceId, _settings.RequestTimeout);
        closing.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
    }

    /// <summary>Leaves the group (the others take over at once) and closes the consumer.</summary>
    public async ValueTask DisposeAsync()
    {
        await _refreshGate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_disposed) return;
            _disposed = true;
            await Task.Run(Leave).ConfigureAwait(false);
        }
        catch (EventStoreException e)
        {
            _logger.GroupLeaveFailed(e, _settings.GroupId, _instanceId);
        }
        finally
        {
            _refreshGate.Release();
        }
    }
}
