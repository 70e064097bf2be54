using Xunit;

namespace EventStore.Providers.Conformance;

/// <summary>docs/conformance.md item 6: re-sending a batch is safe; a partly overlapping one is not.</summary>
[Promise(6)]
public abstract class IdempotenceTests(IEventStoreFixture fixture) : ConformanceTestBase(fixture)
{
    [Fact]
    public async Task Re_sending_a_NoStream_batch_returns_the_original_result_and_writes_nothing()
    {
        var stream = NewStream();
        var batch = TestEvents.Batch(3);
        var original = await AppendAsync(stream, ExpectedVersion.NoStream, batch);

        var again = await AppendAsync(stream, ExpectedVersion.NoStream, batch);

        Assert.Equal(original.LastVersion, again.LastVersion);
        Assert.Equal(original.Position, again.Position);
        Assert.False(again.WroteEvents);
        Assert.Equal(3, (await ReadStreamAsync(stream)).Count);
        Assert.Equal(3, (await ReadAllAsync()).Count);
    }

    [Fact]
    public async Task Re_sending_an_exact_version_batch_returns_the_original_result_and_writes_nothing()
    {
        var stream = NewStream();
        await SeedAsync(stream, 2);
        var batch = TestEvents.Batch(2);
        var original = await AppendAsync(stream, ExpectedVersion.Exact(1), batch);

        var again = await AppendAsync(stream, ExpectedVersion.Exact(1), batch);

        Assert.Equal(3, again.LastVersion);
        Assert.Equal(original.Position, again.Position);
        Assert.False(again.WroteEvents);
        Assert.Equal(4, (await ReadStreamAsync(stream)).Count);
    }

    [Fact]
    public async Task Re_sending_an_Any_batch_returns_the_original_result_and_writes_nothing()
    {
        var stream = NewStream();
        var batch = TestEvents.Batch(2);
        var original = await AppendAsync(stream, ExpectedVersion.Any, batch);

        var again = await AppendAsync(stream, ExpectedVersion.Any, batch);

        Assert.Equal(original.LastVersion, again.LastVersion);
        Assert.Equal(original.Position, again.Position);
        Assert.False(again.WroteEvents);
        Assert.Equal(2, (await ReadStreamAsync(stream)).Count);
    }

    [Fact]
    public async Task Re_sending_a_StreamExists_batch_returns_the_original_result_and_writes_nothing()
    {
        var stream = NewStream();
        await SeedAsync(stream, 1);
        var batch = TestEvents.Batch(2);
        var original = await AppendAsync(stream, ExpectedVersion.StreamExists, batch);

        var again = await AppendAsync(stream, ExpectedVersion.StreamExists, batch);

        Assert.Equal(2, again.LastVersion);
        Assert.Equal(original.Position, again.Position);
        Assert.False(again.WroteEvents);
        Assert.Equal(3, (await ReadStreamAsync(stream)).Count);
        Assert.Equal(3, (await ReadAllAsync()).Count);
    }

    [Fact]
    public async Task Re_sending_an_Any_batch_onto_a_stream_with_earlier_events_returns_the_original_result()
    {
        var stream = NewStream();
        await SeedAsync(stream, 2);
        var batch = TestEvents.Batch(2);
        var original = await AppendAsync(stream, ExpectedVersion.Any, batch);

        var again = await AppendAsync(stream, ExpectedVersion.Any, batch);

        Assert.Equal(3, again.LastVersion);
        Assert.Equal(original.Position, again.Position);
        Assert.False(again.WroteEvents);
        Assert.Equal(4, (await ReadStreamAsync(stream)).Count);
    }

    [Fact]
    public async Task A_StreamExists_batch_that_partly_overlaps_the_last_batch_fails_and_writes_nothing()
    {
        var stream = NewStream();
        var batch = TestEvents.Batch(2);
        await AppendAsync(stream, ExpectedVersion.NoStream, batch);

        await Assert.ThrowsAsync<EventIdConflictException>(() => AppendAsync(stream, ExpectedVersion.StreamExists, batch[1], TestEvents.Create()));

        Assert.Equal(batch.Select(e => e.EventId), (await ReadStreamAsync(stream)).Select(e => e.EventId));
        Assert.Equal(2, (await ReadAllAsync()).Count);
    }

    [Fact]
    public async Task Re_sending_a_batch_after_the_stream_moved_on_still_returns_the_original_result()
    {
        var stream = NewStream();
        var batch = TestEvents.Batch(2);
        var original = await AppendAsync(stream, ExpectedVersion.NoStream, batch);
        await AppendAsync(stream, ExpectedVersion.Exact(1), TestEvents.Batch(3));

        var again = await AppendAsync(stream, ExpectedVersion.NoStream, batch);

        Assert.Equal(1, again.LastVersion);
        Assert.Equal(original.Position, again.Position);
        Assert.False(again.WroteEvents);
        Assert.Equal(5, (await ReadStreamAsync(stream)).Count);
    }

    [Fact]
    public async Task Re_sending_a_single_event_returns_the_original_result()
    {
        var stream = NewStream();
        var e = TestEvents.Create();
        var original = await AppendAsync(stream, ExpectedVersion.NoStream, e);

        var again = await AppendAsync(stream, ExpectedVersion.NoStream, e);

        Assert.Equal(0, again.LastVersion);
        Assert.Equal(original.Position, again.Position);
        Assert.Single(await ReadStreamAsync(stream));
    }

    [Fact]
    public async Task A_batch_that_partly_overlaps_stored_ids_fails_and_writes_nothing()
    {
        var stream = NewStream();
        var batch = TestEvents.Batch(2);
        await AppendAsync(stream, ExpectedVersion.NoStream, batch);

        await Assert.ThrowsAsync<EventIdConflictException>(() => AppendAsync(stream, ExpectedVersion.NoStream, batch[0], TestEvents.Create()));

        Assert.Equal(batch.Select(e => e.EventId), (await ReadStreamAsync(stream)).Select(e => e.EventId));
        Assert.Equal(2, (await ReadAllAsync()).Count);
    }

    [Fact]
    public async Task A_longer_batch_that_starts_with_a_stored_batch_fails_and_writes_nothing()
    {
        var stream = NewStream();
        var batch = TestEvents.Batch(2);
        await AppendAsync(stream, ExpectedVersion.NoStream, batch);

        await Assert.ThrowsAsync<EventIdConflictException>(() => AppendAsync(stream, ExpectedVersion.NoStream, [.. batch, TestEvents.Create()]));

        Assert.Equal(2, (await ReadStreamAsync(stream)).Count);
    }

    [Fact]
    public async Task A_new_batch_with_a_stale_expected_version_still_fails_with_wrong_expected_version()
    {
        var stream = NewStream();
        await SeedAsync(stream, 2);

        var error = await Assert.ThrowsAsync<WrongExpectedVersionException>(() => AppendAsync(stream, ExpectedVersion.NoStream, TestEvents.Batch(2)));

        Assert.Equal(1, error.ActualVersion);
    }

    [Fact]
    public async Task Duplicate_ids_inside_one_batch_are_rejected_before_anything_is_written()
    {
        var stream = NewStream();
        var e = TestEvents.Create();

        var error = await Assert.ThrowsAsync<DuplicateEventIdException>(() => AppendAsync(stream, ExpectedVersion.NoStream, e, TestEvents.Create(), e with { }));

        Assert.Equal(e.EventId, error.EventId);
        Assert.False((await Store.GetStreamInfoAsync(stream, Ct)).Exists);
        Assert.Empty(await ReadAllAsync());
    }

    [Fact]
    public async Task Re_sending_a_batch_through_another_store_instance_returns_the_original_result()
    {
        var stream = NewStream();
        var batch = TestEvents.Batch(3);
        var original = await AppendAsync(stream, ExpectedVersion.NoStream, batch);
        var other = await Sut.OpenAnotherInstanceAsync(Ct);

        var again = await other.AppendAsync(stream, ExpectedVersion.NoStream, batch, Ct);

        Assert.Equal(original.LastVersion, again.LastVersion);
        Assert.Equal(original.Position, again.Position);
        Assert.False(again.WroteEvents);
        Assert.Equal(3, (await ReadStreamAsync(stream)).Count);
    }
}
