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
internal sealed partial class KafkaSubscriptionGroupCoordinator : ISubscriptionGroupCoordinator, IRebalanceListener
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
}
