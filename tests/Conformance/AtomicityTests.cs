using Xunit;

namespace EventStore.Providers.Conformance;

/// <summary>docs/conformance.md item 5: a multi-event append is visible whole or not at all.</summary>
[Promise(5)]
public abstract class AtomicityTests(IEventStoreFixture fixture) : ConformanceTestBase(fixture)
{
    private const int BatchSize = 10;

    [Fact]
    public async Task A_concurrent_reader_never_sees_half_a_batch()
    {
        var stream = NewStream();
        using var deadline = Deadline();
        var writing = Task.Run(async () =>
        {
            var expected = ExpectedVersion.NoStream;
            for (var i = 0; i < 60; i++)
                expected = (await Store.AppendAsync(stream, expected, TestEvents.Batch(BatchSize), deadline.Token)).NextExpectedVersion;
        }, deadline.Token);

        var observations = 0;
        while (!writing.IsCompleted || observations == 0)
        {
            var streamCount = 0;
            await foreach (var _ in Store.ReadStreamAsync(stream, cancellationToken: deadline.Token)) streamCount++;
            Assert.True(streamCount % BatchSize == 0, $"A stream read saw {streamCount} events: part of a batch was visible.");
            var allCount = 0;
            await foreach (var e in Store.ReadAllAsync(cancellationToken: deadline.Token))
                if (e.Stream == stream) allCount++;
            Assert.True(allCount % BatchSize == 0, $"A $all read saw {allCount} events of the stream: part of a batch was visible.");
            observations++;
        }
        await writing;

        Assert.Equal(60 * BatchSize, (await ReadStreamAsync(stream)).Count);
    }

    [Fact]
    public async Task A_batch_with_one_oversized_event_writes_none_of_its_events()
    {
        var stream = NewStream();
        var batch = TestEvents.Batch(3).Append(new EventData(Guid.NewGuid(), "Huge", new byte[Capabilities.MaxEventSize + 1])).ToArray();

        await Assert.ThrowsAsync<EventTooLargeException>(() => AppendAsync(stream, ExpectedVersion.Any, batch));

        Assert.False((await Store.GetStreamInfoAsync(stream, Ct)).Exists);
        Assert.Empty(await ReadAllAsync());
    }

    [Fact]
    public async Task A_batch_rejected_for_its_expected_version_writes_none_of_its_events()
    {
        var stream = NewStream();
        await SeedAsync(stream, 1);

        await Assert.ThrowsAsync<WrongExpectedVersionException>(() => AppendAsync(stream, ExpectedVersion.Exact(5), TestEvents.Batch(5)));

        Assert.Single(await ReadStreamAsync(stream));
        Assert.Single(await ReadAllAsync());
    }

    [Fact]
    public async Task The_events_of_one_batch_get_consecutive_versions_in_batch_order()
    {
        var stream = NewStream();
        await SeedAsync(stream, 2);
        var batch = TestEvents.Batch(4);

        await AppendAsync(stream, ExpectedVersion.Exact(1), batch);

        var read = await ReadStreamAsync(stream, fromVersion: 2);
        Assert.Equal(batch.Select(e => e.EventId), read.Select(e => e.EventId));
        Assert.Equal([2L, 3L, 4L, 5L], read.Select(e => e.Version));
        AssertInLogOrder(read);
    }
}
