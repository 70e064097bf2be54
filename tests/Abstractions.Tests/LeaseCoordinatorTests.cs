using EventStore.Providers.Projections;
using Microsoft.Extensions.Time.Testing;

namespace EventStore.Providers.Abstractions.Tests;

public class LeaseCoordinatorTests
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;
    private static readonly SubscriptionGroupOptions Partitioned = new() { Mode = SubscriptionGroupMode.Partitioned, Shares = 4 };

    private readonly TestLeaseStore _leases = new();
    private readonly FakeTimeProvider _time = new();

    private ISubscriptionGroupCoordinator Coordinator(string instance, SubscriptionGroupOptions? options = null) =>
        new LeaseCoordinatorFactory(_leases).Create("orders", instance, options ?? Partitioned, _time);

    private static int[] Shares(IReadOnlyList<ShareClaim> claims) => [.. claims.Select(c => c.Share)];

    [Fact]
    public async Task A_lone_instance_takes_every_share_and_keeps_the_same_tokens_while_it_renews()
    {
        var a = Coordinator("a");

        var first = await a.RefreshAsync(Ct);
        _time.Advance(TimeSpan.FromSeconds(2));
        var second = await a.RefreshAsync(Ct);

        Assert.Equal(new[] { 0, 1, 2, 3 }, Shares(first));
        Assert.Equal(first.Select(c => c.Token), second.Select(c => c.Token));
        Assert.All(first, c => Assert.Null(c.Checkpoint));
    }

    [Fact]
    public async Task A_joining_instance_gets_its_half_only_after_the_holder_has_handed_it_back()
    {
        var a = Coordinator("a");
        var b = Coordinator("b");
        var aClaims = await a.RefreshAsync(Ct);
        Assert.All(aClaims, c => Assert.True(((LeaseShareClaim)c).TryStart())); // a's runner handles them
        await aClaims.Single(c => c.Share == 1).SaveCheckpointAsync(Position.FromInt64(42), Ct);

        Assert.Empty(await b.RefreshAsync(Ct));
        var aAfterJoin = await a.RefreshAsync(Ct);
        Assert.Equal(new[] { 0, 2 }, Shares(aAfterJoin));
        Assert.Empty(await b.RefreshAsync(Ct));

        foreach (var given in aClaims.Where(c => c.Share is 1 or 3)) await ((LeaseShareClaim)given).GiveBackAsync(Ct);
        var bClaims = await b.RefreshAsync(Ct);

        Assert.Equal(new[] { 1, 3 }, Shares(bClaims));
        Assert.Equal(Position.FromInt64(42), bClaims[0].Checkpoint);
        Assert.True(bClaims[0].Token > aClaims[1].Token);
    }

    [Fact]
    public async Task A_share_no_longer_wanted_before_the_runner_started_it_goes_back_at_the_next_refresh()
    {
        // a's runner is still catching up when a refreshes again after b joined: it never started shares 1 and 3, so it
        // will never store their checkpoints and give them back. Kept, they would stay leased to a for as long as a runs.
        var a = Coordinator("a");
        var b = Coordinator("b");
        var aClaims = await a.RefreshAsync(Ct);
        Assert.True(((LeaseShareClaim)aClaims.Single(c => c.Share == 0)).TryStart());

        Assert.Empty(await b.RefreshAsync(Ct));
        Assert.Equal(new[] { 0, 2 }, Shares(await a.RefreshAsync(Ct)));
        Assert.Equal(new[] { 1, 3 }, Shares(await b.RefreshAsync(Ct)));

        // The runner meets the old claims only now: it may not start what was given back, and still may what is a's.
        Assert.False(((LeaseShareClaim)aClaims.Single(c => c.Share == 1)).TryStart());
        Assert.True(((LeaseShareClaim)aClaims.Single(c => c.Share == 2)).TryStart());
        Assert.Equal(new[] { 0, 2 }, Shares(await a.RefreshAsync(Ct)));
    }

    [Fact]
    public async Task Shares_of_an_instance_that_died_pass_to_the_survivor_after_the_lease_time_and_its_record_goes_later()
    {
        var a = Coordinator("a");
        var b = Coordinator("b");
        await a.RefreshAsync(Ct);
        await b.RefreshAsync(Ct);
        var aClaims = await a.RefreshAsync(Ct);
        Assert.Equal(new[] { 0, 2 }, Shares(aClaims));

        // a stops refreshing (a crash); b takes everything once a's leases have lapsed.
        _time.Advance(Partitioned.LeaseTime + TimeSpan.FromSeconds(1));
        Assert.Equal(new[] { 0, 1, 2, 3 }, Shares(await b.RefreshAsync(Ct)));
        Assert.NotNull(_leases.Get("orders/member/a"));

        _time.Advance(Partitioned.LeaseTime * 6);
        await b.RefreshAsync(Ct);
        Assert.Null(_leases.Get("orders/member/a"));
    }

    [Fact]
    public async Task A_stalled_holder_whose_share_was_taken_over_cannot_store_a_checkpoint()
    {
        var options = new SubscriptionGroupOptions { Mode = SubscriptionGroupMode.ActiveStandby };
        var a = Coordinator("a", options);
        var b = Coordinator("b", options);
        var stale = Assert.Single(await a.RefreshAsync(Ct));
        Assert.Empty(await b.RefreshAsync(Ct));

        _time.Advance(options.LeaseTime + TimeSpan.FromSeconds(1));
        var taken = Assert.Single(await b.RefreshAsync(Ct));
        await taken.SaveCheckpointAsync(Position.FromInt64(7), Ct);

        var refused = await Assert.ThrowsAsync<LeaseLostException>(() => stale.SaveCheckpointAsync(Position.FromInt64(5), Ct));
        Assert.Equal(stale.Token, refused.Token);
        Assert.Equal(Position.FromInt64(7), _leases.Get("orders/share/0")!.Checkpoint);
        Assert.Empty(await a.RefreshAsync(Ct));
    }

    [Fact]
    public async Task In_active_standby_only_one_instance_holds_the_single_share()
    {
        var options = new SubscriptionGroupOptions { Mode = SubscriptionGroupMode.ActiveStandby };
        var a = Coordinator("a", options);
        var b = Coordinator("b", options);

        Assert.Equal(new[] { 0 }, Shares(await a.RefreshAsync(Ct)));
        Assert.Empty(await b.RefreshAsync(Ct));
        Assert.Equal(new[] { 0 }, Shares(await a.RefreshAsync(Ct)));
        Assert.Equal(0, a.ShareOf(StreamName.For("Order", "1")));

        await a.LeaveAsync(Ct);
        Assert.Equal(new[] { 0 }, Shares(await b.RefreshAsync(Ct)));
    }

    [Theory]
    [InlineData(8)]
    [InlineData(2)]
    public async Task A_changed_share_count_is_refused_naming_the_key(int shares)
    {
        await Coordinator("a").RefreshAsync(Ct);

        var changed = Coordinator("b", new SubscriptionGroupOptions { Mode = SubscriptionGroupMode.Partitioned, Shares = shares });
        var e = await Assert.ThrowsAsync<EventStoreConfigurationException>(() => changed.RefreshAsync(Ct));

        Assert.Equal("EventStore:Subscriptions:orders:Group:Shares", e.Key);
    }

    [Fact]
    public void Every_instance_routes_a_stream_to_the_same_share_and_streams_spread_over_all_shares()
    {
        var a = Coordinator("a", new SubscriptionGroupOptions { Mode = SubscriptionGroupMode.Partitioned, Shares = 16 });
        var b = Coordinator("b", new SubscriptionGroupOptions { Mode = SubscriptionGroupMode.Partitioned, Shares = 16 });
        var streams = Enumerable.Range(0, 2000).Select(i => StreamName.For("Order", i.ToString(System.Globalization.CultureInfo.InvariantCulture))).ToList();

        Assert.Equal(streams.Select(a.ShareOf), streams.Select(b.ShareOf));
        var counts = streams.GroupBy(a.ShareOf).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(16, counts.Count);
        Assert.All(counts.Values, n => Assert.InRange(n, 60, 200));
    }
}
