using Xunit;

namespace EventStore.Providers.Conformance;

/// <summary>docs/conformance.md item 19: the provider's checkpoint store, and transactional checkpoints where declared.</summary>
[Promise(19)]
public abstract class CheckpointTests(IEventStoreFixture fixture) : ConformanceTestBase(fixture)
{
    private static string NewId() => "projection-" + Guid.NewGuid().ToString("N");

    private async Task<Position> SomePositionAsync()
    {
        await SeedAsync(NewStream(), 3);
        return (await ReadAllAsync())[1].Position;
    }

    [Fact]
    public async Task A_subscription_without_a_checkpoint_loads_null()
    {
        Assert.Null(await Sut.Checkpoints.LoadAsync(NewId(), Ct));
    }

    [Fact]
    public async Task A_saved_checkpoint_loads_back_equal_and_resumes_reading_at_the_same_place()
    {
        var id = NewId();
        var position = await SomePositionAsync();

        await Sut.Checkpoints.SaveAsync(id, position, Ct);
        var loaded = await Sut.Checkpoints.LoadAsync(id, Ct);

        Assert.Equal(position, loaded);
        Assert.Equal(
            (await ReadAllAsync(new ReadAllOptions { From = position })).Select(e => e.EventId),
            (await ReadAllAsync(new ReadAllOptions { From = loaded })).Select(e => e.EventId));
    }

    [Fact]
    public async Task Saving_a_checkpoint_again_replaces_it()
    {
        var id = NewId();
        await SeedAsync(NewStream(), 3);
        var all = await ReadAllAsync();

        await Sut.Checkpoints.SaveAsync(id, all[0].Position, Ct);
        await Sut.Checkpoints.SaveAsync(id, all[2].Position, Ct);

        Assert.Equal(all[2].Position, await Sut.Checkpoints.LoadAsync(id, Ct));
    }

    [Fact]
    public async Task The_start_position_is_a_valid_checkpoint()
    {
        var id = NewId();

        await Sut.Checkpoints.SaveAsync(id, Position.Start, Ct);

        Assert.Equal(Position.Start, await Sut.Checkpoints.LoadAsync(id, Ct));
    }

    [Fact]
    public async Task Deleting_a_checkpoint_makes_it_load_as_null()
    {
        var id = NewId();
        await Sut.Checkpoints.SaveAsync(id, await SomePositionAsync(), Ct);

        await Sut.Checkpoints.DeleteAsync(id, Ct);

        Assert.Null(await Sut.Checkpoints.LoadAsync(id, Ct));
    }

    [Fact]
    public async Task Checkpoints_of_different_subscriptions_are_independent()
    {
        var (a, b) = (NewId(), NewId());
        await SeedAsync(NewStream(), 2);
        var all = await ReadAllAsync();

        await Sut.Checkpoints.SaveAsync(a, all[0].Position, Ct);
        await Sut.Checkpoints.SaveAsync(b, all[1].Position, Ct);
        await Sut.Checkpoints.DeleteAsync(a, Ct);

        Assert.Null(await Sut.Checkpoints.LoadAsync(a, Ct));
        Assert.Equal(all[1].Position, await Sut.Checkpoints.LoadAsync(b, Ct));
    }

    [Fact]
    public async Task A_read_model_change_and_its_checkpoint_commit_together()
    {
        RequireCapability(Capabilities.TransactionalCheckpoints, nameof(EventStoreCapabilities.TransactionalCheckpoints));
        var probe = TransactionalFixture();
        var (id, key) = (NewId(), "row-" + Guid.NewGuid().ToString("N"));
        var position = await SomePositionAsync();

        await probe.WriteReadModelAndCheckpointAsync(Sut, id, position, key, failBeforeCommit: false, Ct);

        Assert.True(await probe.ReadModelExistsAsync(Sut, key, Ct));
        Assert.Equal(position, await Sut.Checkpoints.LoadAsync(id, Ct));
    }

    [Fact]
    public async Task A_read_model_change_that_fails_before_commit_leaves_neither_it_nor_the_checkpoint()
    {
        RequireCapability(Capabilities.TransactionalCheckpoints, nameof(EventStoreCapabilities.TransactionalCheckpoints));
        var probe = TransactionalFixture();
        var (id, key) = (NewId(), "row-" + Guid.NewGuid().ToString("N"));
        var position = await SomePositionAsync();

        await Assert.ThrowsAnyAsync<Exception>(() => probe.WriteReadModelAndCheckpointAsync(Sut, id, position, key, failBeforeCommit: true, Ct));

        Assert.False(await probe.ReadModelExistsAsync(Sut, key, Ct));
        Assert.Null(await Sut.Checkpoints.LoadAsync(id, Ct));
    }

    private ITransactionalCheckpointFixture TransactionalFixture() =>
        Fixture as ITransactionalCheckpointFixture
        ?? throw new InvalidOperationException($"The {Capabilities.ProviderName} provider declares TransactionalCheckpoints, so its fixture must implement {nameof(ITransactionalCheckpointFixture)} to prove it.");
}
