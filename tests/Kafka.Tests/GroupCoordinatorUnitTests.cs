using System.Collections.Concurrent;
using Confluent.Kafka;
using EventStore.Providers.Projections;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace EventStore.Providers.Kafka.Tests;

/// <summary>
/// A consumer group member as the coordinator sees it through <see cref="IGroupConsumer"/>: rebalances delivered on
/// the next poll, the group's committed offsets, and commits the test makes the "broker" refuse.
/// </summary>
internal sealed class FakeGroupConsumer(IRebalanceListener listener) : IGroupConsumer
{
    private readonly ConcurrentQueue<Action> _onPoll = new();
    private readonly List<int> _assignment = [];

    public string MemberId { get; set; } = "member-1";

    public IReadOnlyList<int> Assignment => _assignment.ToList();

    public Dictionary<int, long> CommittedOffsets { get; } = [];

    /// <summary>The partitions' end offsets (0 where not set).</summary>
    public Dictionary<int, long> Ends { get; } = [];

    public List<TopicPartitionOffset> Commits { get; } = [];

    public HashSet<int> Paused { get; } = [];

    /// <summary>What the next commit fails with (null: it succeeds).</summary>
    public KafkaException? NextCommitError { get; set; }

    /// <summary>What the commits after it fail with, one each, in order.</summary>
    public Queue<KafkaException> LaterCommitErrors { get; } = new();

    /// <summary>How many times the consumer was polled.</summary>
    public int Polls { get; private set; }

    /// <summary>What the next poll fails with.</summary>
    public KafkaException? NextPollError { get; set; }

    public bool Closed { get; private set; }

    public string? Topic { get; private set; }

    public void Subscribe(string topic) => Topic = topic;

    public void Assign(params int[] partitions) => _onPoll.Enqueue(() =>
    {
        _assignment.AddRange(partitions);
        listener.Assigned(partitions);
        _assignServed.Set();
    });

    private readonly ManualResetEventSlim _assignServed = new();

    private TimeSpan? _nextCommitWaitsForAssignment;

    /// <summary>
    /// Makes the next commit wait until a poll has served an assignment callback from now on (failing as an expelled
    /// member after <paramref name="timeout"/>), as librdkafka may hold a commit while a rebalance is not yet served.
    /// </summary>
    public void HoldNextCommitUntilAnAssignmentIsServed(TimeSpan timeout)
    {
        _assignServed.Reset();
        _nextCommitWaitsForAssignment = timeout;
    }

    /// <summary>Takes a partition out of the assignment without a callback yet (a new generation gave it away).</summary>
    public void DropFromAssignment(int partition) => _assignment.Remove(partition);

    public void Revoke(bool lost, params int[] partitions) => _onPoll.Enqueue(() =>
    {
        listener.Revoked(partitions, lost);
        _assignment.RemoveAll(partitions.Contains);
    });

    public int Poll()
    {
        Polls++;
        while (_onPoll.TryDequeue(out var action)) action();
        if (NextPollError is { } e)
        {
            NextPollError = null;
            throw e;
        }
        return 0;
    }

    public void Pause(IEnumerable<int> partitions) => Paused.UnionWith(partitions);

    public IReadOnlyList<TopicPartitionOffset> Committed(IEnumerable<int> partitions, TimeSpan timeout) =>
        partitions.Select(p => new TopicPartitionOffset(Topic!, p, CommittedOffsets.TryGetValue(p, out var o) ? o : Offset.Unset)).ToList();

    public long EndOffset(int partition, TimeSpan timeout) => Ends.GetValueOrDefault(partition);

    public void Commit(IEnumerable<TopicPartitionOffset> offsets)
    {
        if (_nextCommitWaitsForAssignment is { } wait)
        {
            _nextCommitWaitsForAssignment = null;
            if (!_assignServed.Wait(wait)) throw new KafkaException(ErrorCode.UnknownMemberId);
        }
        if (NextCommitError is { } e)
        {
            NextCommitError = LaterCommitErrors.TryDequeue(out var later) ? later : null;
            throw e;
        }
        foreach (var o in offsets)
        {
            Commits.Add(o);
            CommittedOffsets[o.Partition.Value] = o.Offset.Value;
        }
    }

    /// <summary>What the next close fails with, after revoking (null: it succeeds).</summary>
    public KafkaException? CloseError { get; set; }

    public void Close()
    {
        if (CloseError is { } e) throw e;
        listener.Revoked(_assignment.ToList(), lost: false);
        _assignment.Clear();
        Closed = true;
    }

    /// <summary>When set, <see cref="Dispose"/> blocks until it is (as rd_kafka_destroy can, for good).</summary>
    public ManualResetEventSlim? DisposeBlocker { get; set; }

    public void Dispose() => DisposeBlocker?.Wait();
}

/// <summary>The coordinator's bookkeeping, checkpoint conversion and error mapping over a fake group consumer.</summary>
public sealed class GroupCoordinatorUnitTests
{
    private const string Topic = "events";
    private FakeGroupConsumer? _consumer;

    private FakeGroupConsumer Consumer => _consumer ?? throw new InvalidOperationException("The coordinator has not joined yet.");

    private KafkaSubscriptionGroupCoordinator Coordinator(int shares, SubscriptionGroupOptions? group = null, TimeSpan? requestTimeout = null)
    {
        var options = new KafkaEventStoreOptions { BootstrapServers = "broker:9092", Topic = Topic };
        if (requestTimeout is { } timeout) options.RequestTimeout = timeout;
        var settings = GroupConsumerSettings.For(options, "projection", group ?? new SubscriptionGroupOptions());
        return new KafkaSubscriptionGroupCoordinator("projection", "instance-1", Topic, shares, (group ?? new SubscriptionGroupOptions()).Mode, "events-checkpoints", settings,
            listener => _consumer = new FakeGroupConsumer(listener), NullLogger.Instance);
    }

    /// <summary>Joins (the first refresh creates the consumer) and applies <paramref name="partitions"/> as the group's assignment.</summary>
    private async Task<IReadOnlyList<ShareClaim>> JoinWithAsync(KafkaSubscriptionGroupCoordinator coordinator, params int[] partitions)
    {
        Assert.Empty(await coordinator.RefreshAsync(TestContext.Current.CancellationToken));
        Consumer.Assign(partitions);
        return await coordinator.RefreshAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Assigned_partitions_become_claims_with_the_groups_committed_offsets_and_are_paused()
    {
        await using var coordinator = Coordinator(shares: 4);
        Assert.Empty(await coordinator.RefreshAsync(TestContext.Current.CancellationToken));
        Consumer.CommittedOffsets[0] = 5;
        Consumer.CommittedOffsets[1] = 0;
        Consumer.Ends[0] = 9;
        Consumer.Ends[1] = 4;
        Consumer.Ends[3] = 7;
        Consumer.Assign(0, 1, 2);
        var claims = await coordinator.RefreshAsync(TestContext.Current.CancellationToken);

        Assert.Equal(Topic, Consumer.Topic);
        Assert.Equal([0, 1, 2], claims.Select(c => c.Share));
        // The own entry is the committed offset; the others are the partitions' ends, so the element-wise minimum of
        // several shares' checkpoints is each one's own entry.
        Assert.Equal(Position.FromParts(5, 4, 0, 7), claims[0].Checkpoint);
        Assert.Equal(Position.FromParts(9, 0, 0, 7), claims[1].Checkpoint);
        Assert.Null(claims[2].Checkpoint);
        Assert.Equal([0, 1, 2], Consumer.Paused.Order());
        Assert.True(claims[1].Token > claims[0].Token);
    }

    [Fact]
    public async Task Active_standby_has_one_share_that_goes_with_the_election_partition_and_checkpoints_every_events_partition()
    {
        await using var coordinator = Coordinator(shares: 3, new SubscriptionGroupOptions { Mode = SubscriptionGroupMode.ActiveStandby });
        Assert.Equal(1, coordinator.Shares);
        Assert.Equal(0, coordinator.ShareOf(new StreamName("Order-1")));
        Assert.Empty(await coordinator.RefreshAsync(TestContext.Current.CancellationToken));
        // The group runs on the one-partition checkpoint topic: its partition stays with its member when others join.
        Assert.Equal("events-checkpoints", Consumer.Topic);
        Consumer.CommittedOffsets[0] = 4;
        Consumer.CommittedOffsets[2] = 7;
        Consumer.Assign(0);
        var claim = Assert.Single(await coordinator.RefreshAsync(TestContext.Current.CancellationToken));

        Assert.Equal(0, claim.Share);
        Assert.Equal(Position.FromParts(4, 0, 7), claim.Checkpoint);
        Assert.Equal([0], Consumer.Paused);
        await claim.SaveCheckpointAsync(Position.FromParts(5, 6, 9), TestContext.Current.CancellationToken);
        Assert.Equal([(0, 5L), (1, 6L), (2, 9L)], Consumer.Commits.Select(c => (c.Partition.Value, c.Offset.Value)));

        Consumer.Revoke(lost: false, 0);
        Assert.Empty(await coordinator.RefreshAsync(TestContext.Current.CancellationToken));
        Assert.Empty(await coordinator.RefreshAsync(TestContext.Current.CancellationToken));
        await Assert.ThrowsAsync<LeaseLostException>(() => claim.SaveCheckpointAsync(Position.FromParts(6, 6, 9), TestContext.Current.CancellationToken));
        Assert.Equal(3, Consumer.Commits.Count);
    }

    [Fact]
    public async Task A_commit_waiting_for_a_rebalance_the_next_poll_serves_is_stored_not_deadlocked()
    {
        // A standby joining: the active keeps the election partition, and librdkafka holds the active's commit until
        // the poll has served the rebalance's (incremental) assignment. Before, that callback waited for the gate the
        // commit held, until the poll deadline expelled the member and the commit failed as a lost lease.
        await using var coordinator = Coordinator(shares: 3, new SubscriptionGroupOptions { Mode = SubscriptionGroupMode.ActiveStandby });
        var claim = Assert.Single(await JoinWithAsync(coordinator, 0));
        Consumer.HoldNextCommitUntilAnAssignmentIsServed(TimeSpan.FromSeconds(10));
        var commit = claim.SaveCheckpointAsync(Position.FromParts(5, 6, 9), TestContext.Current.CancellationToken);
        Consumer.Assign();

        var refresh = coordinator.RefreshAsync(TestContext.Current.CancellationToken);
        await commit.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        Assert.Same(claim, Assert.Single(await refresh.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken)));

        Assert.Equal([(0, 5L), (1, 6L), (2, 9L)], Consumer.Commits.Select(c => (c.Partition.Value, c.Offset.Value)));
    }

    [Fact]
    public async Task A_kept_partition_keeps_its_claim_across_refreshes()
    {
        await using var coordinator = Coordinator(shares: 4);
        var first = await JoinWithAsync(coordinator, 1);
        Consumer.Assign(3);
        var second = await coordinator.RefreshAsync(TestContext.Current.CancellationToken);

        Assert.Equal([1, 3], second.Select(c => c.Share));
        Assert.Same(first[0], second[0]);
    }

    [Fact]
    public async Task One_partition_positions_are_the_last_handled_offset_and_commit_the_next()
    {
        await using var coordinator = Coordinator(shares: 1);
        Assert.Empty(await coordinator.RefreshAsync(TestContext.Current.CancellationToken));
        Consumer.CommittedOffsets[0] = 5;
        Consumer.Assign(0);
        var claim = Assert.Single(await coordinator.RefreshAsync(TestContext.Current.CancellationToken));
        Assert.Equal(Position.FromInt64(4), claim.Checkpoint);

        await claim.SaveCheckpointAsync(Position.FromInt64(9), TestContext.Current.CancellationToken);

        Assert.Equal(10, Assert.Single(Consumer.Commits).Offset.Value);
    }

    [Fact]
    public async Task A_vector_position_commits_the_shares_own_next_offset()
    {
        await using var coordinator = Coordinator(shares: 3);
        var claim = Assert.Single(await JoinWithAsync(coordinator, 1));

        await claim.SaveCheckpointAsync(Position.FromParts(7, 12, 3), TestContext.Current.CancellationToken);

        var commit = Assert.Single(Consumer.Commits);
        Assert.Equal((1, 12L), (commit.Partition.Value, commit.Offset.Value));
    }

    [Fact]
    public async Task A_position_of_another_shape_is_refused_before_anything_is_committed()
    {
        await using var coordinator = Coordinator(shares: 3);
        var claim = Assert.Single(await JoinWithAsync(coordinator, 1));

        await Assert.ThrowsAsync<InvalidPositionException>(() => claim.SaveCheckpointAsync(Position.FromInt64(4), TestContext.Current.CancellationToken));
        Assert.Empty(Consumer.Commits);
    }

    [Theory]
    [InlineData(ErrorCode.UnknownMemberId)]
    [InlineData(ErrorCode.FencedInstanceId)]
    [InlineData(ErrorCode.StaleMemberEpoch)]
    [InlineData(ErrorCode.Local_AssignmentLost)]
    public async Task A_commit_the_broker_refuses_for_membership_is_a_lost_lease_and_drops_the_claim(ErrorCode refusal)
    {
        await using var coordinator = Coordinator(shares: 2);
        var claim = (await JoinWithAsync(coordinator, 0, 1))[0];
        Consumer.NextCommitError = new KafkaException(refusal);

        var lost = await Assert.ThrowsAsync<LeaseLostException>(() => claim.SaveCheckpointAsync(Position.FromParts(3, 0), TestContext.Current.CancellationToken));

        Assert.Equal(("projection/share/0", claim.Token), (lost.Name, lost.Token));
        await Assert.ThrowsAsync<LeaseLostException>(() => claim.SaveCheckpointAsync(Position.FromParts(3, 0), TestContext.Current.CancellationToken));
        Assert.Empty(Consumer.Commits);
    }

    [Fact]
    public async Task A_refusal_reported_per_partition_is_a_lost_lease_too()
    {
        await using var coordinator = Coordinator(shares: 2);
        var claim = (await JoinWithAsync(coordinator, 0))[0];
        Consumer.NextCommitError = new TopicPartitionOffsetException([new TopicPartitionOffsetError(new TopicPartition(Topic, 0), 3, new Error(ErrorCode.UnknownMemberId))]);

        await Assert.ThrowsAsync<LeaseLostException>(() => claim.SaveCheckpointAsync(Position.FromParts(3, 0), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_partition_still_assigned_after_a_refused_commit_is_claimed_again_with_a_greater_token_and_the_groups_checkpoint()
    {
        await using var coordinator = Coordinator(shares: 2);
        var claim = (await JoinWithAsync(coordinator, 0))[0];
        await claim.SaveCheckpointAsync(Position.FromParts(3, 0), TestContext.Current.CancellationToken);
        Consumer.NextCommitError = new KafkaException(ErrorCode.UnknownMemberId);
        await Assert.ThrowsAsync<LeaseLostException>(() => claim.SaveCheckpointAsync(Position.FromParts(8, 0), TestContext.Current.CancellationToken));

        var again = Assert.Single(await coordinator.RefreshAsync(TestContext.Current.CancellationToken));

        Assert.NotSame(claim, again);
        Assert.True(again.Token > claim.Token);
        Assert.Equal(Position.FromParts(3, 0), again.Checkpoint);
    }

    [Theory]
    [InlineData(ErrorCode.Local_Transport)]
    [InlineData(ErrorCode.Local_TimedOut)]
    [InlineData(ErrorCode.Local_WaitCoord)]
    [InlineData(ErrorCode.RequestTimedOut)]
    [InlineData(ErrorCode.NotCoordinatorForGroup)]
    [InlineData(ErrorCode.GroupCoordinatorNotAvailable)]
    [InlineData(ErrorCode.GroupLoadInProgress)]
    public async Task A_commit_failing_on_a_busy_or_unreachable_coordinator_is_transient_and_keeps_the_claim(ErrorCode error)
    {
        await using var coordinator = Coordinator(shares: 2);
        var claim = (await JoinWithAsync(coordinator, 0))[0];
        Consumer.NextCommitError = new KafkaException(error);

        await Assert.ThrowsAsync<TransientEventStoreException>(() => claim.SaveCheckpointAsync(Position.FromParts(3, 0), TestContext.Current.CancellationToken));

        Assert.Same(claim, Assert.Single(await coordinator.RefreshAsync(TestContext.Current.CancellationToken)));
        await claim.SaveCheckpointAsync(Position.FromParts(3, 0), TestContext.Current.CancellationToken);
        Assert.Equal(3, Assert.Single(Consumer.Commits).Offset.Value);
    }

    /// <remarks>
    /// IllegalGeneration: librdkafka sends a commit during the member's rejoin with the old generation; the broker
    /// answers it once the new generation exists, in which this member (known to the broker, else UnknownMemberId)
    /// kept the partition.
    /// </remarks>
    [Theory]
    [InlineData(ErrorCode.RebalanceInProgress)]
    [InlineData(ErrorCode.IllegalGeneration)]
    public async Task A_commit_refused_while_the_group_rebalances_or_for_the_generation_it_left_is_tried_again_and_stored(ErrorCode refusal)
    {
        await using var coordinator = Coordinator(shares: 2);
        var claim = (await JoinWithAsync(coordinator, 0))[0];
        Consumer.NextCommitError = new KafkaException(refusal);

        await claim.SaveCheckpointAsync(Position.FromParts(3, 0), TestContext.Current.CancellationToken);

        Assert.Equal(3, Assert.Single(Consumer.Commits).Offset.Value);
        Assert.Same(claim, Assert.Single(await coordinator.RefreshAsync(TestContext.Current.CancellationToken)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_commit_refused_for_its_generation_is_a_lost_lease_once_the_partition_left_or_in_every_new_generation(bool partitionGivenAway)
    {
        await using var coordinator = Coordinator(shares: 2);
        var claim = (await JoinWithAsync(coordinator, 0))[0];
        Consumer.NextCommitError = new KafkaException(ErrorCode.IllegalGeneration);
        // Either the new generation gave the partition away (its revocation not served yet), or every retry meets yet
        // another generation.
        if (partitionGivenAway) Consumer.DropFromAssignment(0);
        else for (var i = 0; i < 3; i++) Consumer.LaterCommitErrors.Enqueue(new KafkaException(ErrorCode.IllegalGeneration));

        await Assert.ThrowsAsync<LeaseLostException>(() => claim.SaveCheckpointAsync(Position.FromParts(3, 0), TestContext.Current.CancellationToken));

        Assert.Empty(Consumer.Commits);
        await Assert.ThrowsAsync<LeaseLostException>(() => claim.SaveCheckpointAsync(Position.FromParts(3, 0), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_commit_waiting_for_a_rebalance_keeps_the_member_polled()
    {
        // The runner stops refreshing before it stores its last checkpoints: unpolled for the lease time, librdkafka
        // would leave the group and the broker would refuse the checkpoint.
        await using var coordinator = Coordinator(shares: 2);
        var claim = (await JoinWithAsync(coordinator, 0))[0];
        var polls = Consumer.Polls;
        Consumer.NextCommitError = new KafkaException(ErrorCode.RebalanceInProgress);
        Consumer.LaterCommitErrors.Enqueue(new KafkaException(ErrorCode.RebalanceInProgress));

        await claim.SaveCheckpointAsync(Position.FromParts(3, 0), TestContext.Current.CancellationToken);

        Assert.Equal(3, Assert.Single(Consumer.Commits).Offset.Value);
        Assert.Equal(polls + 2, Consumer.Polls);
    }

    [Fact]
    public async Task Any_other_commit_failure_is_a_store_error_that_is_neither_transient_nor_a_lost_lease()
    {
        await using var coordinator = Coordinator(shares: 2);
        var claim = (await JoinWithAsync(coordinator, 0))[0];
        Consumer.NextCommitError = new KafkaException(ErrorCode.GroupAuthorizationFailed);

        var e = await Assert.ThrowsAsync<EventStoreException>(() => claim.SaveCheckpointAsync(Position.FromParts(3, 0), TestContext.Current.CancellationToken));

        Assert.IsNotType<TransientEventStoreException>(e);
        Assert.IsNotType<LeaseLostException>(e);
    }

    [Fact]
    public async Task A_lost_partitions_claim_saves_nothing()
    {
        await using var coordinator = Coordinator(shares: 2);
        var claims = await JoinWithAsync(coordinator, 0, 1);
        Consumer.Revoke(lost: true, 1);

        Assert.Equal([0], (await coordinator.RefreshAsync(TestContext.Current.CancellationToken)).Select(c => c.Share));
        await Assert.ThrowsAsync<LeaseLostException>(() => claims[1].SaveCheckpointAsync(Position.FromParts(0, 4), TestContext.Current.CancellationToken));
        Assert.Empty(Consumer.Commits);
    }

    [Fact]
    public async Task A_revoked_partition_is_handed_over_its_claim_stores_the_last_checkpoint_until_the_revocation_completes()
    {
        await using var coordinator = Coordinator(shares: 2);
        var claims = await JoinWithAsync(coordinator, 0, 1);
        Consumer.Revoke(lost: false, 1);

        // The claim leaves the held set at once; the partition stays assigned while the runner stores its checkpoint.
        Assert.Equal([0], (await coordinator.RefreshAsync(TestContext.Current.CancellationToken)).Select(c => c.Share));
        Assert.Contains(1, Consumer.Assignment);
        await claims[1].SaveCheckpointAsync(Position.FromParts(0, 4), TestContext.Current.CancellationToken);
        Assert.Equal((1, 4L), (Assert.Single(Consumer.Commits).Partition.Value, Consumer.Commits[0].Offset.Value));

        Assert.Equal([0], (await coordinator.RefreshAsync(TestContext.Current.CancellationToken)).Select(c => c.Share));
        Assert.DoesNotContain(1, Consumer.Assignment);
        await Assert.ThrowsAsync<LeaseLostException>(() => claims[1].SaveCheckpointAsync(Position.FromParts(0, 5), TestContext.Current.CancellationToken));
        Assert.Single(Consumer.Commits);
    }

    [Fact]
    public async Task A_hand_over_with_nothing_to_store_completes_at_the_next_refresh()
    {
        await using var coordinator = Coordinator(shares: 2);
        var claims = await JoinWithAsync(coordinator, 0, 1);
        Consumer.Revoke(lost: false, 0, 1);

        Assert.Empty(await coordinator.RefreshAsync(TestContext.Current.CancellationToken));
        Assert.Empty(await coordinator.RefreshAsync(TestContext.Current.CancellationToken));

        Assert.Empty(Consumer.Assignment);
        await Assert.ThrowsAsync<LeaseLostException>(() => claims[0].SaveCheckpointAsync(Position.FromParts(2, 0), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_claim_of_a_member_that_librdkafka_already_knows_is_gone_saves_nothing()
    {
        await using var coordinator = Coordinator(shares: 2);
        var claim = (await JoinWithAsync(coordinator, 0))[0];
        Consumer.MemberId = "";

        await Assert.ThrowsAsync<LeaseLostException>(() => claim.SaveCheckpointAsync(Position.FromParts(3, 0), TestContext.Current.CancellationToken));
        Assert.Empty(Consumer.Commits);
    }

    [Fact]
    public async Task Missing_the_poll_deadline_gives_every_share_back()
    {
        await using var coordinator = Coordinator(shares: 2);
        var claims = await JoinWithAsync(coordinator, 0, 1);
        Consumer.NextPollError = new KafkaException(ErrorCode.Local_MaxPollExceeded);
        Consumer.Revoke(lost: true, 0, 1);

        Assert.Empty(await coordinator.RefreshAsync(TestContext.Current.CancellationToken));
        await Assert.ThrowsAsync<LeaseLostException>(() => claims[0].SaveCheckpointAsync(Position.FromParts(3, 0), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_lease_time_the_brokers_refuse_as_a_session_timeout_names_the_key()
    {
        await using var coordinator = Coordinator(shares: 2, new SubscriptionGroupOptions { LeaseTime = TimeSpan.FromSeconds(2), RenewInterval = TimeSpan.FromSeconds(1) });
        Assert.Empty(await coordinator.RefreshAsync(TestContext.Current.CancellationToken));
        Consumer.NextPollError = new KafkaException(ErrorCode.InvalidSessionTimeout);

        var e = await Assert.ThrowsAsync<EventStoreConfigurationException>(() => coordinator.RefreshAsync(TestContext.Current.CancellationToken));

        Assert.Equal("EventStore:Subscriptions:projection:Group:LeaseTime", e.Key);
    }

    [Fact]
    public async Task A_consumer_that_never_finishes_closing_holds_the_leave_back_only_for_the_request_timeout()
    {
        using var blocker = new ManualResetEventSlim();
        await using var coordinator = Coordinator(shares: 2, requestTimeout: TimeSpan.FromMilliseconds(300));
        var claims = await JoinWithAsync(coordinator, 0, 1);
        var consumer = Consumer;
        consumer.DisposeBlocker = blocker;
        try
        {
            // Without the bound this waits for the blocker, which only the finally below sets.
            await coordinator.LeaveAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);

            Assert.True(consumer.Closed);
            await Assert.ThrowsAsync<LeaseLostException>(() => claims[1].SaveCheckpointAsync(Position.FromParts(0, 3), TestContext.Current.CancellationToken));
        }
        finally
        {
            blocker.Set();
        }
    }

    [Fact]
    public async Task A_close_the_group_refuses_is_reported_as_the_leave_failing_and_every_share_is_given_back()
    {
        await using var coordinator = Coordinator(shares: 2);
        var claims = await JoinWithAsync(coordinator, 0, 1);
        Consumer.CloseError = new KafkaException(ErrorCode.UnknownMemberId);

        var e = await Assert.ThrowsAnyAsync<EventStoreException>(() => coordinator.LeaveAsync(TestContext.Current.CancellationToken));

        Assert.Contains("leaving group", e.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<LeaseLostException>(() => claims[0].SaveCheckpointAsync(Position.FromParts(3, 0), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Leaving_closes_the_consumer_and_gives_every_share_back()
    {
        await using var coordinator = Coordinator(shares: 2);
        var claims = await JoinWithAsync(coordinator, 0, 1);
        var consumer = Consumer;

        await coordinator.LeaveAsync(TestContext.Current.CancellationToken);

        Assert.True(consumer.Closed);
        await Assert.ThrowsAsync<LeaseLostException>(() => claims[0].SaveCheckpointAsync(Position.FromParts(3, 0), TestContext.Current.CancellationToken));
        Assert.Empty(consumer.Commits);
    }

    [Fact]
    public void The_lease_becomes_the_session_timeout_and_poll_deadline_and_the_group_settings_win_over_client_config()
    {
        var options = new KafkaEventStoreOptions { BootstrapServers = "broker:9092", Topic = Topic };
        options.ClientConfig["group.id"] = "someone-else";
        options.ClientConfig["session.timeout.ms"] = "45000";
        var settings = GroupConsumerSettings.For(options, "projection", new SubscriptionGroupOptions { LeaseTime = TimeSpan.FromSeconds(3), RenewInterval = TimeSpan.FromMilliseconds(1500) });

        var config = settings.ConsumerConfig(options, "instance-1");

        Assert.Equal("events-group-projection", config.GroupId);
        Assert.Equal(3000, config.SessionTimeoutMs);
        Assert.Equal(3000, config.MaxPollIntervalMs);
        Assert.Equal(1000, config.HeartbeatIntervalMs);
        Assert.Equal(false, config.EnableAutoCommit);
        Assert.Equal(PartitionAssignmentStrategy.CooperativeSticky, config.PartitionAssignmentStrategy);
        Assert.Equal("instance-1", config.ClientId);
    }

    [Fact]
    public void The_group_id_prefix_option_names_the_consumer_group()
    {
        var options = new KafkaEventStoreOptions { BootstrapServers = "broker:9092", Topic = Topic, GroupIdPrefix = "orders" };

        Assert.Equal("orders-projection", GroupConsumerSettings.For(options, "projection", new SubscriptionGroupOptions()).GroupId);
    }
}
