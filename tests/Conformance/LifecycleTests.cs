using Xunit;

namespace EventStore.Providers.Conformance;

/// <summary>docs/conformance.md item 21: soft delete and tombstones where declared; events are never updated in place.</summary>
[Promise(21)]
public abstract class LifecycleTests(IEventStoreFixture fixture) : ConformanceTestBase(fixture)
{
    [Fact]
    public async Task A_soft_deleted_stream_reads_as_empty_and_is_reported_deleted()
    {
        RequireCapability(Capabilities.SoftDelete, nameof(EventStoreCapabilities.SoftDelete));
        var stream = NewStream();
        await SeedAsync(stream, 3);

        await Store.DeleteStreamAsync(stream, ExpectedVersion.Exact(2), StreamDeletionMode.Soft, Ct);

        Assert.Empty(await ReadStreamAsync(stream));
        Assert.Empty(await ReadStreamAsync(stream, ReadDirection.Backwards));
        var info = await Store.GetStreamInfoAsync(stream, Ct);
        Assert.False(info.Exists);
        Assert.True(info.IsDeleted);
    }

    [Fact]
    public async Task Appending_with_NoStream_to_a_soft_deleted_stream_continues_after_its_last_version()
    {
        RequireCapability(Capabilities.SoftDelete, nameof(EventStoreCapabilities.SoftDelete));
        var stream = NewStream();
        await SeedAsync(stream, 3);
        await Store.DeleteStreamAsync(stream, ExpectedVersion.Any, StreamDeletionMode.Soft, Ct);

        var e = TestEvents.Create();
        var result = await AppendAsync(stream, ExpectedVersion.NoStream, e);

        Assert.Equal(3, result.LastVersion);
        var read = Assert.Single(await ReadStreamAsync(stream));
        Assert.Equal(e.EventId, read.EventId);
        Assert.Equal(3, read.Version);
        var info = await Store.GetStreamInfoAsync(stream, Ct);
        Assert.True(info.Exists);
        Assert.Equal(3, info.LastVersion);
    }

    [Fact]
    public async Task Appending_with_Any_to_a_soft_deleted_stream_continues_after_its_last_version()
    {
        RequireCapability(Capabilities.SoftDelete, nameof(EventStoreCapabilities.SoftDelete));
        var stream = NewStream();
        await SeedAsync(stream, 2);
        await Store.DeleteStreamAsync(stream, ExpectedVersion.Exact(1), StreamDeletionMode.Soft, Ct);

        var result = await AppendAsync(stream, ExpectedVersion.Any, TestEvents.Batch(2));

        Assert.Equal(3, result.LastVersion);
        Assert.Equal([2L, 3L], (await ReadStreamAsync(stream)).Select(e => e.Version));
    }

    [Fact]
    public async Task A_tombstoned_stream_throws_stream_deleted_on_read()
    {
        RequireCapability(Capabilities.Tombstone, nameof(EventStoreCapabilities.Tombstone));
        var stream = NewStream();
        await SeedAsync(stream, 2);

        await Store.DeleteStreamAsync(stream, ExpectedVersion.Exact(1), StreamDeletionMode.Tombstone, Ct);

        var error = await Assert.ThrowsAsync<StreamDeletedException>(() => ReadStreamAsync(stream));
        Assert.Equal(stream, error.Stream);
        await Assert.ThrowsAsync<StreamDeletedException>(() => ReadStreamAsync(stream, ReadDirection.Backwards));
    }

    [Fact]
    public async Task A_tombstoned_stream_throws_stream_deleted_on_append_with_any_expected_version()
    {
        RequireCapability(Capabilities.Tombstone, nameof(EventStoreCapabilities.Tombstone));
        var stream = NewStream();
        await SeedAsync(stream, 2);
        await Store.DeleteStreamAsync(stream, ExpectedVersion.Any, StreamDeletionMode.Tombstone, Ct);

        await Assert.ThrowsAsync<StreamDeletedException>(() => AppendAsync(stream, ExpectedVersion.Any, TestEvents.Create()));
        await Assert.ThrowsAsync<StreamDeletedException>(() => AppendAsync(stream, ExpectedVersion.NoStream, TestEvents.Create()));
        await Assert.ThrowsAsync<StreamDeletedException>(() => AppendAsync(stream, ExpectedVersion.Exact(1), TestEvents.Create()));
    }

    [Fact]
    public async Task A_tombstoned_stream_is_reported_deleted_and_not_existing()
    {
        RequireCapability(Capabilities.Tombstone, nameof(EventStoreCapabilities.Tombstone));
        var stream = NewStream();
        await SeedAsync(stream, 1);

        await Store.DeleteStreamAsync(stream, ExpectedVersion.Any, StreamDeletionMode.Tombstone, Ct);

        var info = await Store.GetStreamInfoAsync(stream, Ct);
        Assert.False(info.Exists);
        Assert.True(info.IsDeleted);
    }

    [Fact]
    public async Task Deleting_with_a_wrong_expected_version_fails_and_keeps_the_stream()
    {
        RequireCapability(Capabilities.SoftDelete || Capabilities.Tombstone, "SoftDelete or Tombstone");
        var stream = NewStream();
        await SeedAsync(stream, 3);
        var mode = Capabilities.SoftDelete ? StreamDeletionMode.Soft : StreamDeletionMode.Tombstone;

        var error = await Assert.ThrowsAsync<WrongExpectedVersionException>(() => Store.DeleteStreamAsync(stream, ExpectedVersion.Exact(1), mode, Ct));

        Assert.Equal(2, error.ActualVersion);
        Assert.Equal(3, (await ReadStreamAsync(stream)).Count);
    }

    [Fact]
    public async Task Deleting_a_stream_leaves_other_streams_untouched()
    {
        RequireCapability(Capabilities.SoftDelete || Capabilities.Tombstone, "SoftDelete or Tombstone");
        var (doomed, kept) = (NewStream(), NewStream());
        await SeedAsync(doomed, 2);
        var keptEvents = await SeedAsync(kept, 2);
        var mode = Capabilities.SoftDelete ? StreamDeletionMode.Soft : StreamDeletionMode.Tombstone;

        await Store.DeleteStreamAsync(doomed, ExpectedVersion.Any, mode, Ct);

        Assert.Equal(keptEvents.Select(e => e.EventId), (await ReadStreamAsync(kept)).Select(e => e.EventId));
        Assert.True((await Store.GetStreamInfoAsync(kept, Ct)).Exists);
    }

    [Fact]
    public async Task Re_sending_stored_event_ids_with_different_payloads_never_changes_the_stored_events()
    {
        var stream = NewStream();
        var original = await SeedAsync(stream, 2);
        var altered = original.Select(e => e with { Data = "{\"tampered\":true}"u8.ToArray(), EventType = "Tampered" }).ToArray();

        await AppendAsync(stream, ExpectedVersion.NoStream, altered);

        var read = await ReadStreamAsync(stream);
        Assert.Equal(2, read.Count);
        for (var i = 0; i < original.Length; i++) AssertSameEvent(original[i], read[i]);
    }
}
