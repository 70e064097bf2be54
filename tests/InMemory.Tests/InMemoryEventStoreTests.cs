using Xunit;

namespace EventStore.Providers.InMemory.Tests;

/// <summary>What the in-memory store promises beyond the conformance suite.</summary>
public sealed class InMemoryEventStoreTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static EventData NewEvent() => new(Guid.NewGuid(), "Thing", "{}"u8.ToArray());

    [Fact]
    public async Task Concurrent_appends_from_many_threads_get_dense_unique_positions_and_dense_versions_per_stream()
    {
        var store = new InMemoryEventStore();
        var streams = Enumerable.Range(0, 4).Select(i => new StreamName($"Hot-{i}")).ToArray();

        await Task.WhenAll(Enumerable.Range(0, 16).Select(t => Task.Run(async () =>
        {
            for (var i = 0; i < 500; i++)
                await store.AppendAsync(streams[(t + i) % streams.Length], ExpectedVersion.Any, [NewEvent(), NewEvent()], Ct);
        }, Ct)));

        var all = new List<RecordedEvent>();
        await foreach (var e in store.ReadAllAsync(cancellationToken: Ct)) all.Add(e);
        Assert.Equal(16 * 500 * 2, all.Count);
        Assert.Equal(Enumerable.Range(1, all.Count).Select(i => (long)i), all.Select(e => e.Position.ToInt64()));
        foreach (var stream in streams)
        {
            var versions = all.Where(e => e.Stream == stream).Select(e => e.Version).ToList();
            Assert.Equal(Enumerable.Range(0, versions.Count).Select(i => (long)i), versions);
        }
    }

    [Fact]
    public async Task A_long_read_does_not_block_writers_and_sees_the_snapshot_it_started_with()
    {
        var store = new InMemoryEventStore();
        var stream = new StreamName("Snap-1");
        await store.AppendAsync(stream, ExpectedVersion.NoStream, Enumerable.Range(0, 100).Select(_ => NewEvent()).ToArray(), Ct);

        var read = 0;
        await foreach (var _ in store.ReadAllAsync(cancellationToken: Ct))
        {
            // Appending while the read is open must neither deadlock nor extend the read already under way.
            if (read++ == 0) await store.AppendAsync(stream, ExpectedVersion.Any, [NewEvent()], Ct);
        }

        Assert.Equal(100, read);
        Assert.Equal(101, (await store.GetStreamInfoAsync(stream, Ct)).LastVersion + 1);
    }

    [Fact]
    public async Task Stored_events_do_not_change_when_the_caller_reuses_its_buffers()
    {
        var store = new InMemoryEventStore();
        var stream = new StreamName("Buffer-1");
        var buffer = "{\"v\":1}"u8.ToArray();

        await store.AppendAsync(stream, ExpectedVersion.NoStream, [new EventData(Guid.NewGuid(), "T", buffer)], Ct);
        buffer[5] = (byte)'9';

        await foreach (var e in store.ReadStreamAsync(stream, cancellationToken: Ct))
            Assert.Equal("{\"v\":1}"u8.ToArray(), e.Data.ToArray());
    }

    [Fact]
    public async Task Positions_are_one_number_starting_at_one_and_the_head_follows_them()
    {
        var store = new InMemoryEventStore();

        var result = await store.AppendAsync(new StreamName("Pos-1"), ExpectedVersion.NoStream, [NewEvent(), NewEvent()], Ct);

        Assert.Equal(2, result.Position.ToInt64());
        Assert.Equal(Position.FromInt64(2), await store.GetHeadPositionAsync(Ct));
    }

    [Fact]
    public async Task A_position_of_another_provider_shape_is_rejected_as_invalid()
    {
        var store = new InMemoryEventStore();

        await Assert.ThrowsAsync<InvalidPositionException>(async () =>
        {
            await foreach (var _ in store.ReadAllAsync(new ReadAllOptions { From = Position.FromParts(1, 2) }, Ct)) { }
        });
    }

    [Fact]
    public void The_capabilities_declare_soft_delete_tombstone_and_subscription_groups_but_no_transactional_checkpoints()
    {
        var capabilities = new InMemoryEventStore().Capabilities;

        Assert.Equal("InMemory", capabilities.ProviderName);
        Assert.Equal(GlobalOrdering.Total, capabilities.GlobalOrder);
        Assert.True(capabilities.SoftDelete);
        Assert.True(capabilities.Tombstone);
        Assert.False(capabilities.TransactionalCheckpoints);
        Assert.True(capabilities.SubscriptionGroups);
    }

    [Fact]
    public async Task The_clock_given_to_the_store_stamps_recorded_events()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero));
        var store = new InMemoryEventStore(new InMemoryStorage(), clock);
        var stream = new StreamName("Clock-1");

        await store.AppendAsync(stream, ExpectedVersion.NoStream, [NewEvent()], Ct);

        await foreach (var e in store.ReadStreamAsync(stream, cancellationToken: Ct))
            Assert.Equal(clock.GetUtcNow(), e.CreatedUtc);
    }
}
