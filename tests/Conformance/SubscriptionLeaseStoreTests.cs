using Xunit;

namespace EventStore.Providers.Conformance;

/// <summary>
/// docs/conformance.md item 25: the provider's subscription-group lease store gives a record to one owner at a time,
/// hands it over only after it lapsed or was released (with a greater fencing token and the checkpoint kept), and
/// refuses every write made with a stale token. Time moves through the <c>now</c> arguments, never by sleeping.
/// </summary>
[Promise(25)]
public abstract class SubscriptionLeaseStoreTests(IEventStoreFixture fixture) : ConformanceTestBase(fixture)
{
    /// <summary>How long the tests' leases last.</summary>
    protected static readonly TimeSpan LeaseTime = TimeSpan.FromSeconds(10);

    /// <summary>The tests' clock starts here; it moves only through <c>now</c> arguments.</summary>
    protected static readonly DateTimeOffset T0 = new(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);

    private readonly string _group = "group" + Guid.NewGuid().ToString("N");

    /// <summary>This test's lease store; the test is skipped with the reason when the provider keeps none.</summary>
    protected ISubscriptionLeaseStore Leases
    {
        get
        {
            if (Sut.Leases is { } leases) return leases;
            var reason = Sut.GroupCoordinators is not null
                ? $"The {Capabilities.ProviderName} provider coordinates subscription groups natively (StoreUnderTest.GroupCoordinators), so it keeps no lease store."
                : $"The {Capabilities.ProviderName} provider keeps no lease store (StoreUnderTest.Leases is null; EventStoreCapabilities.SubscriptionGroups = {Capabilities.SubscriptionGroups}).";
            Assert.Skip(reason);
            return null!;
        }
    }

    /// <summary>A share record name in this test's own group.</summary>
    protected string Share(int n) => $"{_group}/share/{n}";

    private async Task<SubscriptionLease> AcquireAsync(string name, string owner, DateTimeOffset now) =>
        await Leases.TryAcquireAsync(name, owner, now, LeaseTime, Ct) ?? throw new Xunit.Sdk.XunitException($"{owner} could not take the free or expired record {name}.");

    [Fact]
    public async Task A_free_record_is_taken_until_now_plus_the_duration_without_a_checkpoint()
    {
        var lease = await AcquireAsync(Share(0), "a", T0);

        Assert.Equal(Share(0), lease.Name);
        Assert.Equal("a", lease.Owner);
        Assert.True(lease.Token > 0, $"The first token is {lease.Token}; tokens are positive.");
        Assert.Equal(T0 + LeaseTime, lease.ExpiresAt);
        Assert.Null(lease.Checkpoint);
        Assert.Equal([lease], await Leases.ListAsync(_group + "/", Ct));
    }

    [Fact]
    public async Task A_second_owner_is_refused_while_the_lease_has_not_expired()
    {
        var lease = await AcquireAsync(Share(0), "a", T0);

        Assert.Null(await Leases.TryAcquireAsync(Share(0), "b", T0 + LeaseTime - TimeSpan.FromSeconds(1), LeaseTime, Ct));
        Assert.Equal([lease], await Leases.ListAsync(_group + "/", Ct));
    }

    [Fact]
    public async Task An_expired_lease_is_taken_by_another_owner_with_a_greater_token_and_the_checkpoint_kept()
    {
        var first = await AcquireAsync(Share(0), "a", T0);
        await Leases.SaveCheckpointAsync(first, Position.FromInt64(42), Ct);

        var later = T0 + LeaseTime;
        var second = await AcquireAsync(Share(0), "b", later);

        Assert.Equal("b", second.Owner);
        Assert.True(second.Token > first.Token, $"The token went from {first.Token} to {second.Token}; a handover must grow it.");
        Assert.Equal(later + LeaseTime, second.ExpiresAt);
        Assert.Equal(Position.FromInt64(42), second.Checkpoint);
    }

    [Fact]
    public async Task The_same_owner_taking_its_unexpired_lease_again_extends_it_and_keeps_the_token()
    {
        var first = await AcquireAsync(Share(0), "a", T0);

        var again = await AcquireAsync(Share(0), "a", T0 + TimeSpan.FromSeconds(5));

        Assert.Equal(first.Token, again.Token);
        Assert.Equal(T0 + TimeSpan.FromSeconds(5) + LeaseTime, again.ExpiresAt);
        Assert.Null(await Leases.TryAcquireAsync(Share(0), "b", T0 + LeaseTime + TimeSpan.FromSeconds(1), LeaseTime, Ct));
    }

    [Fact]
    public async Task Renew_extends_a_held_lease_even_after_it_expired_if_nobody_took_it()
    {
        var lease = await AcquireAsync(Share(0), "a", T0);

        var renewed = await Leases.RenewAsync(lease, T0 + LeaseTime + TimeSpan.FromSeconds(3), LeaseTime, Ct);

        Assert.NotNull(renewed);
        Assert.Equal(lease.Token, renewed.Token);
        Assert.Equal(T0 + LeaseTime + TimeSpan.FromSeconds(3) + LeaseTime, renewed.ExpiresAt);
    }

    [Fact]
    public async Task Renew_with_a_stale_token_returns_null_and_changes_nothing()
    {
        var stale = await AcquireAsync(Share(0), "a", T0);
        var current = await AcquireAsync(Share(0), "b", T0 + LeaseTime);

        Assert.Null(await Leases.RenewAsync(stale, T0 + LeaseTime + TimeSpan.FromSeconds(1), LeaseTime, Ct));
        Assert.Equal([current], await Leases.ListAsync(_group + "/", Ct));
    }

    [Fact]
    public async Task SaveCheckpoint_with_a_stale_token_throws_LeaseLostException_and_stores_nothing()
    {
        var stale = await AcquireAsync(Share(0), "a", T0);
        await Leases.SaveCheckpointAsync(stale, Position.FromInt64(5), Ct);
        var current = await AcquireAsync(Share(0), "b", T0 + LeaseTime);

        var lost = await Assert.ThrowsAsync<LeaseLostException>(() => Leases.SaveCheckpointAsync(stale, Position.FromInt64(9), Ct));

        Assert.Equal(Share(0), lost.Name);
        Assert.Equal(stale.Token, lost.Token);
        var record = Assert.Single(await Leases.ListAsync(_group + "/", Ct));
        Assert.Equal(Position.FromInt64(5), record.Checkpoint);
        Assert.Equal(current.Token, record.Token);
    }

    [Fact]
    public async Task SaveCheckpoint_with_the_current_token_stores_it()
    {
        var lease = await AcquireAsync(Share(0), "a", T0);

        await Leases.SaveCheckpointAsync(lease, Position.FromInt64(7), Ct);

        Assert.Equal(Position.FromInt64(7), Assert.Single(await Leases.ListAsync(_group + "/", Ct)).Checkpoint);
    }

    [Fact]
    public async Task A_released_lease_is_taken_by_another_owner_at_once_with_a_greater_token_and_the_checkpoint_kept()
    {
        var first = await AcquireAsync(Share(0), "a", T0);
        await Leases.SaveCheckpointAsync(first, Position.FromInt64(3), Ct);

        await Leases.ReleaseAsync(first, Ct);
        var second = await AcquireAsync(Share(0), "b", T0 + TimeSpan.FromSeconds(1));

        Assert.True(second.Token > first.Token, $"The token went from {first.Token} to {second.Token}; a handover must grow it.");
        Assert.Equal(Position.FromInt64(3), second.Checkpoint);
        await Assert.ThrowsAsync<LeaseLostException>(() => Leases.SaveCheckpointAsync(first, Position.FromInt64(4), Ct));
    }

    [Fact]
    public async Task Releasing_a_lost_lease_does_nothing()
    {
        var stale = await AcquireAsync(Share(0), "a", T0);
        var current = await AcquireAsync(Share(0), "b", T0 + LeaseTime);

        await Leases.ReleaseAsync(stale, Ct);

        Assert.Null(await Leases.TryAcquireAsync(Share(0), "c", T0 + LeaseTime + TimeSpan.FromSeconds(1), LeaseTime, Ct));
        Assert.Equal([current], await Leases.ListAsync(_group + "/", Ct));
    }

    [Fact]
    public async Task List_returns_only_the_records_under_the_prefix_in_name_order_expired_or_not()
    {
        var otherGroup = "other" + Guid.NewGuid().ToString("N");
        await AcquireAsync($"{otherGroup}/share/0", "a", T0);
        await AcquireAsync($"{_group}/member/b", "b", T0);
        await AcquireAsync(Share(2), "a", T0);
        await AcquireAsync(Share(0), "a", T0 - LeaseTime - LeaseTime);
        await AcquireAsync(Share(1), "b", T0);

        var shares = await Leases.ListAsync(_group + "/share/", Ct);
        var group = await Leases.ListAsync(_group + "/", Ct);

        Assert.Equal([Share(0), Share(1), Share(2)], shares.Select(l => l.Name));
        Assert.Equal([$"{_group}/member/b", Share(0), Share(1), Share(2)], group.Select(l => l.Name));
        Assert.Empty(await Leases.ListAsync(_group + "/nothing/", Ct));
    }

    [Fact]
    public async Task Delete_removes_a_record_only_with_its_current_token()
    {
        var stale = await AcquireAsync(Share(0), "a", T0);
        var current = await AcquireAsync(Share(0), "b", T0 + LeaseTime);

        Assert.False(await Leases.DeleteAsync(Share(0), stale.Token, Ct));
        Assert.Equal([current], await Leases.ListAsync(_group + "/", Ct));
        Assert.True(await Leases.DeleteAsync(Share(0), current.Token, Ct));
        Assert.Empty(await Leases.ListAsync(_group + "/", Ct));
        Assert.False(await Leases.DeleteAsync(Share(0), current.Token, Ct));
        await Assert.ThrowsAsync<LeaseLostException>(() => Leases.SaveCheckpointAsync(current, Position.FromInt64(1), Ct));
        Assert.Null(await Leases.RenewAsync(current, T0 + LeaseTime, LeaseTime, Ct));
    }

    [Fact]
    public async Task A_record_deleted_and_taken_again_never_reuses_a_token()
    {
        var first = await AcquireAsync(Share(0), "a", T0);
        Assert.True(await Leases.DeleteAsync(Share(0), first.Token, Ct));

        var second = await AcquireAsync(Share(0), "b", T0);

        Assert.NotEqual(first.Token, second.Token);
        await Assert.ThrowsAsync<LeaseLostException>(() => Leases.SaveCheckpointAsync(first, Position.FromInt64(1), Ct));
    }

    [Fact]
    public async Task Concurrent_acquires_of_one_free_record_by_different_owners_have_exactly_one_winner()
    {
        const int owners = 8;
        for (var round = 0; round < 5; round++)
        {
            var name = Share(round);
            using var start = new ManualResetEventSlim();
            var attempts = Enumerable.Range(0, owners)
                .Select(i => Task.Run(async () =>
                {
                    start.Wait(Ct);
                    return await Leases.TryAcquireAsync(name, $"owner-{i}", T0, LeaseTime, Ct);
                }, Ct))
                .ToArray();
            start.Set();
            var results = await Task.WhenAll(attempts);

            var winner = Assert.Single(results, r => r is not null)!;
            Assert.Equal([winner], await Leases.ListAsync(name, Ct));
        }
    }

    [Fact]
    public async Task Concurrent_acquires_of_one_expired_record_by_different_owners_have_exactly_one_winner()
    {
        const int owners = 8;
        for (var round = 0; round < 5; round++)
        {
            var name = Share(round);
            var old = await AcquireAsync(name, "old", T0);
            using var start = new ManualResetEventSlim();
            var attempts = Enumerable.Range(0, owners)
                .Select(i => Task.Run(async () =>
                {
                    start.Wait(Ct);
                    return await Leases.TryAcquireAsync(name, $"owner-{i}", T0 + LeaseTime, LeaseTime, Ct);
                }, Ct))
                .ToArray();
            start.Set();
            var results = await Task.WhenAll(attempts);

            var winner = Assert.Single(results, r => r is not null)!;
            Assert.True(winner.Token > old.Token, $"The token went from {old.Token} to {winner.Token}.");
            Assert.Equal([winner], await Leases.ListAsync(name, Ct));
        }
    }

    [Fact]
    public async Task Bad_names_owners_and_durations_are_refused_before_anything_is_written()
    {
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Leases.TryAcquireAsync("no-group", "a", T0, LeaseTime, Ct));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Leases.TryAcquireAsync("/share/0", "a", T0, LeaseTime, Ct));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Leases.TryAcquireAsync(Share(0), "", T0, LeaseTime, Ct));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Leases.TryAcquireAsync(Share(0), "a", T0, TimeSpan.Zero, Ct));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Leases.ListAsync("", Ct));

        Assert.Empty(await Leases.ListAsync(_group + "/", Ct));
    }

    [Fact]
    public async Task A_transactional_store_commits_the_handler_change_with_the_checkpoint()
    {
        var store = RequireTransactional();
        var lease = await AcquireAsync(Share(0), "a", T0);
        var key = "row-" + Guid.NewGuid().ToString("N");

        await store.HandleAndSaveCheckpointAsync(lease, Position.FromInt64(11),
            (transaction, ct) => TransactionalFixture.WriteReadModelAsync(Sut, transaction, key, ct), Ct);

        Assert.True(await TransactionalFixture.ReadModelExistsAsync(Sut, key, Ct));
        Assert.Equal(Position.FromInt64(11), Assert.Single(await Leases.ListAsync(_group + "/", Ct)).Checkpoint);
    }

    [Fact]
    public async Task A_transactional_store_rolls_the_handler_change_back_when_the_token_is_stale()
    {
        var store = RequireTransactional();
        var stale = await AcquireAsync(Share(0), "a", T0);
        await Leases.SaveCheckpointAsync(stale, Position.FromInt64(2), Ct);
        await AcquireAsync(Share(0), "b", T0 + LeaseTime);
        var key = "row-" + Guid.NewGuid().ToString("N");

        await Assert.ThrowsAsync<LeaseLostException>(() => store.HandleAndSaveCheckpointAsync(stale, Position.FromInt64(11),
            (transaction, ct) => TransactionalFixture.WriteReadModelAsync(Sut, transaction, key, ct), Ct));

        Assert.False(await TransactionalFixture.ReadModelExistsAsync(Sut, key, Ct));
        Assert.Equal(Position.FromInt64(2), Assert.Single(await Leases.ListAsync(_group + "/", Ct)).Checkpoint);
    }

    [Fact]
    public async Task A_transactional_store_commits_nothing_when_the_handler_throws()
    {
        var store = RequireTransactional();
        var lease = await AcquireAsync(Share(0), "a", T0);
        var key = "row-" + Guid.NewGuid().ToString("N");

        await Assert.ThrowsAsync<InvalidOperationException>(() => store.HandleAndSaveCheckpointAsync(lease, Position.FromInt64(11), async (transaction, ct) =>
        {
            await TransactionalFixture.WriteReadModelAsync(Sut, transaction, key, ct);
            throw new InvalidOperationException("The handler failed after its write.");
        }, Ct));

        Assert.False(await TransactionalFixture.ReadModelExistsAsync(Sut, key, Ct));
        Assert.Null(Assert.Single(await Leases.ListAsync(_group + "/", Ct)).Checkpoint);
    }

    private ITransactionalLeaseFixture TransactionalFixture => (ITransactionalLeaseFixture)Fixture;

    private ITransactionalSubscriptionLeaseStore RequireTransactional()
    {
        var leases = Leases;
        Assert.SkipUnless(leases is ITransactionalSubscriptionLeaseStore && Fixture is ITransactionalLeaseFixture,
            $"The {Capabilities.ProviderName} lease store is not an ITransactionalSubscriptionLeaseStore (with an ITransactionalLeaseFixture to write a read model), so handler changes cannot commit with a checkpoint.");
        return (ITransactionalSubscriptionLeaseStore)leases;
    }
}

/// <summary>
/// Implemented by the fixture of a provider whose lease store is an <see cref="ITransactionalSubscriptionLeaseStore"/>:
/// writes and finds a read-model row through the transaction the store hands to the handler.
/// </summary>
public interface ITransactionalLeaseFixture
{
    /// <summary>Writes the read-model row <paramref name="readModelKey"/> inside <paramref name="transaction"/> (the object the lease store passed to the handler).</summary>
    Task WriteReadModelAsync(StoreUnderTest store, object transaction, string readModelKey, CancellationToken cancellationToken);

    /// <summary>Whether the committed read-model row <paramref name="readModelKey"/> exists.</summary>
    Task<bool> ReadModelExistsAsync(StoreUnderTest store, string readModelKey, CancellationToken cancellationToken);
}
