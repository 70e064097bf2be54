using System.Text;
using EventStore.Providers.Projections;
using Xunit;

namespace EventStore.Providers.Kafka.Tests;

/// <summary>
/// Tests that commit consumer-group offsets run one at a time: one of them makes the mock cluster refuse the next
/// OffsetCommit of any client.
/// </summary>
[CollectionDefinition(nameof(KafkaConsumerGroups), DisableParallelization = true)]
public sealed class KafkaConsumerGroups;

/// <summary>
/// The Kafka coordinator against real consumer groups (the mock cluster's, or a real broker's): shares are the events
/// topic's partitions, held by one member at a time, with checkpoints the group commits and fences.
/// </summary>
[Collection(nameof(KafkaConsumerGroups))]
public sealed class KafkaSubscriptionGroupCoordinatorTests(ThreePartitionKafkaFixture fixture) : IClassFixture<ThreePartitionKafkaFixture>
{
    private const int Partitions = 4;

    /// <summary>Short lease on the mock (it accepts any session timeout); a real broker's default minimum is 6 s.</summary>
    private static SubscriptionGroupOptions Group => KafkaFixture.IsMock
        ? new() { Mode = SubscriptionGroupMode.Partitioned, LeaseTime = TimeSpan.FromSeconds(3), RenewInterval = TimeSpan.FromMilliseconds(500) }
        : new() { Mode = SubscriptionGroupMode.Partitioned, LeaseTime = TimeSpan.FromSeconds(6), RenewInterval = TimeSpan.FromSeconds(1) };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<KafkaEventStore> StoreAsync() => await KafkaFixture.OpenAsync(fixture.NewTopics(Partitions), Ct);

    private static KafkaSubscriptionGroupCoordinator Join(KafkaEventStore store, string instance, SubscriptionGroupMode mode = SubscriptionGroupMode.Partitioned)
    {
        var options = Group;
        options.Mode = mode;
        return (KafkaSubscriptionGroupCoordinator)store.SubscriptionGroups.Create("projection", instance, options, TimeProvider.System);
    }

    /// <summary>
    /// Refreshes every coordinator in turn (as their runners would, each every RenewInterval) until
    /// <paramref name="settled"/> holds for what they hold. The bound only keeps a broken group from hanging the run.
    /// </summary>
    private static async Task<IReadOnlyList<ShareClaim>[]> RefreshUntilAsync(Func<IReadOnlyList<ShareClaim>[], bool> settled, params KafkaSubscriptionGroupCoordinator[] coordinators)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (true)
        {
            var held = new IReadOnlyList<ShareClaim>[coordinators.Length];
            for (var i = 0; i < coordinators.Length; i++) held[i] = await coordinators[i].RefreshAsync(Ct);
            if (settled(held)) return held;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException("The group did not settle: " + string.Join(" | ", held.Select(h => string.Join(',', h.Select(c => c.Share)))));
            await Task.Delay(100, Ct);
        }
    }

    private static bool HoldsAll(IReadOnlyList<ShareClaim> claims) => claims.Select(c => c.Share).Order().SequenceEqual(Enumerable.Range(0, Partitions));

    [Fact]
    public async Task Two_coordinators_in_one_group_split_the_partitions_and_together_hold_all()
    {
        await using var store = await StoreAsync();
        await using var a = Join(store, "a");
        await using var b = Join(store, "b");

        var held = await RefreshUntilAsync(h => h.All(c => c.Count > 0) && h.Sum(c => c.Count) == Partitions, a, b);

        Assert.Equal(Partitions, a.Shares);
        Assert.Equal(Enumerable.Range(0, Partitions), held.SelectMany(c => c).Select(c => c.Share).Order());
        Assert.Empty(held[0].Select(c => c.Share).Intersect(held[1].Select(c => c.Share)));
    }

    [Fact]
    public async Task When_one_leaves_the_other_gets_all_and_the_leavers_claims_save_nothing()
    {
        await using var store = await StoreAsync();
        await using var a = Join(store, "a");
        await using var b = Join(store, "b");
        var held = await RefreshUntilAsync(h => h.All(c => c.Count > 0) && h.Sum(c => c.Count) == Partitions, a, b);

        await a.LeaveAsync(Ct);
        var after = await RefreshUntilAsync(h => HoldsAll(h[0]), b);

        await Assert.ThrowsAsync<LeaseLostException>(() => held[0][0].SaveCheckpointAsync(Position.FromParts(1, 1, 1, 1), Ct));
        // What b kept, it kept with the same claim (cooperative rebalancing revokes only what moves).
        foreach (var kept in held[1]) Assert.Contains(kept, after[0]);
    }

    [Fact]
    public async Task A_stalled_coordinator_whose_partitions_moved_on_cannot_save_a_checkpoint()
    {
        await using var store = await StoreAsync();
        await using var a = Join(store, "a");
        var aHeld = (await RefreshUntilAsync(h => HoldsAll(h[0]), a))[0];
        await aHeld[0].SaveCheckpointAsync(Position.FromParts(2, 0, 0, 0), Ct);

        // a stops refreshing (a long pause): past the lease time librdkafka takes it out of the group and b gets everything.
        await using var b = Join(store, "b");
        await RefreshUntilAsync(h => HoldsAll(h[0]), b);

        await Assert.ThrowsAsync<LeaseLostException>(() => aHeld[0].SaveCheckpointAsync(Position.FromParts(9, 0, 0, 0), Ct));

        // Nothing of the refused save reached the group: the next holder resumes from a's last accepted checkpoint.
        await b.LeaveAsync(Ct);
        await using var c = Join(store, "c");
        var cHeld = (await RefreshUntilAsync(h => HoldsAll(h[0]), c))[0];
        Assert.Equal(Position.FromParts(2, 0, 0, 0), cHeld[0].Checkpoint);
    }

    [Fact]
    public async Task Checkpoints_survive_a_new_coordinator_instance_and_shares_are_the_partitions_appends_go_to()
    {
        await using var store = await StoreAsync();
        var streams = Enumerable.Range(0, 12).Select(i => new StreamName($"Order-{i}")).ToArray();
        foreach (var s in streams)
            await store.AppendAsync(s, ExpectedVersion.Any, [new EventData(Guid.NewGuid(), "Placed", Encoding.UTF8.GetBytes("{}"))], Ct);
        await using var a = Join(store, "a");
        var claims = (await RefreshUntilAsync(h => HoldsAll(h[0]), a))[0];

        // Each share's checkpoint: the $all position after the last event of its partition.
        var last = new Dictionary<int, Position>();
        await foreach (var e in store.ReadAllAsync(cancellationToken: Ct))
        {
            var share = a.ShareOf(e.Stream);
            var parts = e.Position.Parts.ToArray();
            Assert.Equal(streams.Count(s => a.ShareOf(s) == share) > 0, parts[share] > 0);
            last[share] = e.Position;
        }
        foreach (var s in streams)
        {
            var read = await store.ReadStreamAsync(s, cancellationToken: Ct).SingleAsync(Ct);
            // A stream read's position is set only in the entry of the partition the event went to.
            Assert.Equal(a.ShareOf(s), Array.FindIndex(read.Position.Parts.ToArray(), p => p > 0));
        }
        foreach (var claim in claims.Where(c => last.ContainsKey(c.Share))) await claim.SaveCheckpointAsync(last[claim.Share], Ct);
        Assert.Equal(0, a.RecordsDropped);
        await a.LeaveAsync(Ct);

        await using var restarted = Join(store, "a-restarted");
        var resumed = (await RefreshUntilAsync(h => HoldsAll(h[0]), restarted))[0];

        foreach (var claim in resumed)
        {
            if (!last.TryGetValue(claim.Share, out var saved)) Assert.Null(claim.Checkpoint);
            else Assert.Equal(saved.Parts[claim.Share], claim.Checkpoint!.Value.Parts[claim.Share]);
        }
        // Where a runner resumes its one $all read: the element-wise lowest of the held checkpoints is each share's own entry.
        static long Entry(ShareClaim c, int p) => c.Checkpoint is { } cp ? cp.Parts[p] : 0;
        Assert.Equal(resumed.Select(c => Entry(c, c.Share)), resumed.Select(c => resumed.Min(other => Entry(other, c.Share))));
        Assert.Equal(0, restarted.RecordsDropped);
    }

    [Fact]
    public async Task In_active_standby_the_active_instance_keeps_the_one_share_while_a_standby_joins_and_the_standby_takes_it_when_it_leaves()
    {
        await using var store = await StoreAsync();
        await using var a = Join(store, "a", SubscriptionGroupMode.ActiveStandby);
        var held = (await RefreshUntilAsync(h => h[0].Count == 1, a))[0];
        Assert.Equal(1, a.Shares);
        await held[0].SaveCheckpointAsync(Position.FromParts(3, 1, 4, 1), Ct);

        await using var b = Join(store, "b", SubscriptionGroupMode.ActiveStandby);
        await RefreshUntilAsync(_ => b.IsMember, a, b);
        var rounds = 0;
        var after = await RefreshUntilAsync(_ => ++rounds >= 20, a, b);

        Assert.Same(held[0], Assert.Single(after[0]));
        Assert.Empty(after[1]);
        await a.LeaveAsync(Ct);
        var taken = (await RefreshUntilAsync(h => h[0].Count == 1, b))[0];
        Assert.Equal(Position.FromParts(3, 1, 4, 1), taken[0].Checkpoint);
    }

    [Fact]
    public async Task A_commit_the_broker_refuses_for_its_generation_is_a_lost_lease_and_the_member_rejoins()
    {
        Assert.SkipUnless(KafkaFixture.IsMock, "Injecting broker errors needs the mock cluster.");
        await using var store = await StoreAsync();
        await using var a = Join(store, "a");
        var held = (await RefreshUntilAsync(h => HoldsAll(h[0]), a))[0];
        const short offsetCommit = 8;
        const int illegalGeneration = 22;
        KafkaServer.Current.KafkaMock!.PushRequestErrors(offsetCommit, illegalGeneration);

        await Assert.ThrowsAsync<LeaseLostException>(() => held[0].SaveCheckpointAsync(Position.FromParts(3, 0, 0, 0), Ct));

        var again = (await RefreshUntilAsync(h => HoldsAll(h[0]) && h[0].All(c => !held.Contains(c)), a))[0];
        Assert.All(again, c => Assert.True(c.Token > held.Max(h => h.Token)));
        await again[0].SaveCheckpointAsync(Position.FromParts(3, 0, 0, 0), Ct);
    }
}
