using Xunit;

namespace EventStore.Providers.Conformance;

/// <summary>docs/conformance.md item 23: cancellation is honoured on every call; a cancelled append happened whole or not at all.</summary>
[Promise(23)]
public abstract class CancellationTests(IEventStoreFixture fixture) : ConformanceTestBase(fixture)
{
    private static CancellationToken Cancelled => new(canceled: true);

    [Fact]
    public async Task A_pre_cancelled_append_throws_and_writes_nothing()
    {
        var stream = NewStream();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Store.AppendAsync(stream, ExpectedVersion.Any, TestEvents.Batch(2), Cancelled));

        Assert.Empty(await ReadStreamAsync(stream));
        Assert.Empty(await ReadAllAsync());
    }

    [Fact]
    public async Task Pre_cancelled_reads_throw()
    {
        var stream = NewStream();
        await SeedAsync(stream, 2);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => { await foreach (var _ in Store.ReadStreamAsync(stream, cancellationToken: Cancelled)) { } });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => { await foreach (var _ in Store.ReadAllAsync(cancellationToken: Cancelled)) { } });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => { await foreach (var _ in Store.ReadCategoryAsync(stream.Category, cancellationToken: Cancelled)) { } });
    }

    [Fact]
    public async Task Pre_cancelled_stream_info_and_head_position_calls_throw()
    {
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Store.GetStreamInfoAsync(NewStream(), Cancelled));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Store.GetHeadPositionAsync(Cancelled));
    }

    [Fact]
    public async Task Pre_cancelled_snapshot_and_checkpoint_calls_throw()
    {
        var stream = NewStream();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Sut.Snapshots.SaveAsync(new Snapshot(stream, 1, "S", "{}"u8.ToArray()), Cancelled));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Sut.Snapshots.LoadAsync(stream, Cancelled));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Sut.Checkpoints.SaveAsync("c", Position.Start, Cancelled));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Sut.Checkpoints.LoadAsync("c", Cancelled));
        Assert.Null(await Sut.Snapshots.LoadAsync(stream, Ct));
    }

    [Fact]
    public async Task Cancelling_a_long_read_midway_stops_it()
    {
        var stream = NewStream();
        await SeedAsync(stream, 500);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var read = 0;

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in Store.ReadStreamAsync(stream, cancellationToken: cts.Token))
                if (++read == 10) await cts.CancelAsync();
        });

        Assert.InRange(read, 10, 499);
    }

    [Fact]
    public async Task Cancelling_a_live_subscription_ends_it()
    {
        await SeedAsync(NewStream(), 2);
        await using var probe = Subscribe(ct => Store.SubscribeToAllAsync(cancellationToken: ct));
        await probe.WaitForCaughtUpAsync();

        await probe.CancelAsync();
        var ended = await probe.WaitForEndAsync();

        Assert.True(ended is null or OperationCanceledException, $"The subscription ended with {ended?.GetType().Name}: {ended?.Message}");
    }

    [Fact]
    public async Task Appends_cancelled_mid_flight_either_fully_happened_or_did_not_happen()
    {
        var attempts = new List<(StreamName Stream, EventData[] Batch)>();
        for (var i = 0; i < 40; i++)
        {
            var stream = NewStream();
            var batch = TestEvents.Batch(5);
            attempts.Add((stream, batch));
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            cts.CancelAfter(TimeSpan.FromMilliseconds(i % 8));
            try
            {
                await Store.AppendAsync(stream, ExpectedVersion.NoStream, batch, cts.Token);
            }
            catch (OperationCanceledException) when (cts.IsCancellationRequested)
            {
                // Whether it landed is exactly what the assertions below check.
            }
        }

        foreach (var (stream, batch) in attempts)
        {
            var read = await ReadStreamAsync(stream);
            Assert.True(read.Count == 0 || read.Count == batch.Length, $"Stream {stream} holds {read.Count} of the batch's {batch.Length} events.");
            if (read.Count > 0) Assert.Equal(batch.Select(e => e.EventId), read.Select(e => e.EventId));
        }
    }
}
