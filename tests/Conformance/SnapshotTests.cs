using System.Text;
using Xunit;

namespace EventStore.Providers.Conformance;

/// <summary>docs/conformance.md item 20: the provider's snapshot store keeps the newest snapshot per stream and never changes events.</summary>
[Promise(20)]
public abstract class SnapshotTests(IEventStoreFixture fixture) : ConformanceTestBase(fixture)
{
    private static Snapshot SnapshotOf(StreamName stream, long version, string state) =>
        new(stream, version, "OrderState", Encoding.UTF8.GetBytes(state), SchemaVersion: 2);

    [Fact]
    public async Task A_stream_without_a_snapshot_loads_null()
    {
        Assert.Null(await Sut.Snapshots.LoadAsync(NewStream(), Ct));
    }

    [Fact]
    public async Task A_saved_snapshot_loads_back_with_its_version_type_schema_and_bytes()
    {
        var stream = NewStream();
        var saved = SnapshotOf(stream, 7, "{\"total\":42,\"name\":\"Zoë\"}");

        await Sut.Snapshots.SaveAsync(saved, Ct);
        var loaded = await Sut.Snapshots.LoadAsync(stream, Ct);

        Assert.NotNull(loaded);
        Assert.Equal(stream, loaded.Stream);
        Assert.Equal(7, loaded.Version);
        Assert.Equal("OrderState", loaded.SnapshotType);
        Assert.Equal(2, loaded.SchemaVersion);
        Assert.Equal(saved.Data.ToArray(), loaded.Data.ToArray());
    }

    [Fact]
    public async Task Saving_a_newer_snapshot_replaces_the_older_one()
    {
        var stream = NewStream();
        await Sut.Snapshots.SaveAsync(SnapshotOf(stream, 3, "three"), Ct);

        await Sut.Snapshots.SaveAsync(SnapshotOf(stream, 9, "nine"), Ct);

        var loaded = await Sut.Snapshots.LoadAsync(stream, Ct);
        Assert.Equal(9, loaded!.Version);
        Assert.Equal("nine", Encoding.UTF8.GetString(loaded.Data.Span));
    }

    [Fact]
    public async Task Saving_an_older_snapshot_is_ignored()
    {
        var stream = NewStream();
        await Sut.Snapshots.SaveAsync(SnapshotOf(stream, 9, "nine"), Ct);

        await Sut.Snapshots.SaveAsync(SnapshotOf(stream, 3, "three"), Ct);

        var loaded = await Sut.Snapshots.LoadAsync(stream, Ct);
        Assert.Equal(9, loaded!.Version);
        Assert.Equal("nine", Encoding.UTF8.GetString(loaded.Data.Span));
    }

    [Fact]
    public async Task Deleting_a_snapshot_makes_it_load_as_null()
    {
        var stream = NewStream();
        await Sut.Snapshots.SaveAsync(SnapshotOf(stream, 1, "one"), Ct);

        await Sut.Snapshots.DeleteAsync(stream, Ct);

        Assert.Null(await Sut.Snapshots.LoadAsync(stream, Ct));
    }

    [Fact]
    public async Task Snapshots_of_different_streams_are_independent()
    {
        var (a, b) = (NewStream(), NewStream());
        await Sut.Snapshots.SaveAsync(SnapshotOf(a, 1, "a"), Ct);
        await Sut.Snapshots.SaveAsync(SnapshotOf(b, 5, "b"), Ct);

        await Sut.Snapshots.DeleteAsync(a, Ct);

        Assert.Null(await Sut.Snapshots.LoadAsync(a, Ct));
        Assert.Equal(5, (await Sut.Snapshots.LoadAsync(b, Ct))!.Version);
    }

    [Fact]
    public async Task Loading_a_snapshot_plus_the_events_after_its_version_reads_only_later_events_and_never_changes_them()
    {
        var stream = NewStream();
        var events = await SeedAsync(stream, 6);
        await Sut.Snapshots.SaveAsync(SnapshotOf(stream, 3, "folded 0..3"), Ct);

        var snapshot = await Sut.Snapshots.LoadAsync(stream, Ct);
        var after = await ReadStreamAsync(stream, fromVersion: snapshot!.Version + 1);

        Assert.Equal([4L, 5L], after.Select(e => e.Version));
        var all = await ReadStreamAsync(stream);
        Assert.Equal(events.Length, all.Count);
        for (var i = 0; i < events.Length; i++) AssertSameEvent(events[i], all[i]);
    }
}
