using Xunit;

namespace EventStore.Providers.Conformance;

/// <summary>
/// docs/conformance.md item 15: reads stream lazily. Writes <see cref="IEventStoreFixture.LargeReadEventCount"/> events to one
/// stream, then reads it (and <c>$all</c>) while sampling live managed memory: a store that materialised the read would
/// hold at least a reference per event and blow the budget.
/// </summary>
/// <remarks>
/// Live memory is process-wide, so run this class alone: xUnit only honours collection definitions declared in the test
/// assembly itself, so the provider's subclass joins one there, e.g.
/// <c>[CollectionDefinition(nameof(MemoryMeasurement), DisableParallelization = true)] public sealed class MemoryMeasurement;</c>
/// and <c>[Collection(nameof(MemoryMeasurement))]</c> on the subclass.
/// </remarks>
[Promise(15)]
public abstract class LargeReadTests(IEventStoreFixture fixture) : ConformanceTestBase(fixture)
{
    private const int Samples = 4;

    [Fact]
    public async Task Reading_a_very_large_stream_and_all_holds_memory_flat()
    {
        var count = Fixture.LargeReadEventCount;
        Assert.True(count >= 100_000, $"LargeReadEventCount is {count}; the contract never goes below 100,000.");
        var budget = Fixture.LargeReadMemoryBudgetBytes;
        var stream = NewStream("Large");
        await WriteAsync(stream, count);

        var forwards = await MeasureAsync(Store.ReadStreamAsync(stream, cancellationToken: Ct), count, (e, i) => e.Version == i);
        var backwards = await MeasureAsync(Store.ReadStreamAsync(stream, ReadDirection.Backwards, cancellationToken: Ct), count, (e, i) => e.Version == count - 1 - i);
        var all = await MeasureAsync(Store.ReadAllAsync(cancellationToken: Ct), count, (e, _) => e.Stream == stream);

        foreach (var (name, growth) in new[] { ("stream forwards", forwards), ("stream backwards", backwards), ("$all forwards", all) })
        {
            TestContext.Current.TestOutputHelper?.WriteLine($"{name}: {count:N0} events, live memory grew by at most {growth:N0} bytes (budget {budget:N0}).");
            Assert.True(growth < budget,
                $"Reading {count:N0} events ({name}) grew live memory by {growth:N0} bytes; the budget is {budget:N0}: the read is not lazy.");
        }
    }

    private async Task WriteAsync(StreamName stream, int count)
    {
        var batchSize = Math.Min(1_000, Capabilities.MaxEventsPerAppend);
        var payload = "{\"sku\":\"ABC-123\",\"qty\":1}"u8.ToArray();
        var expected = ExpectedVersion.NoStream;
        for (var written = 0; written < count; written += batchSize)
        {
            var batch = new EventData[Math.Min(batchSize, count - written)];
            for (var i = 0; i < batch.Length; i++) batch[i] = new EventData(Guid.NewGuid(), "ItemAdded", payload);
            expected = (await Store.AppendAsync(stream, expected, batch, Ct)).NextExpectedVersion;
        }
    }

    /// <summary>Enumerates the read, checking each event, and returns the largest growth of live memory seen.</summary>
    private static async Task<long> MeasureAsync(IAsyncEnumerable<RecordedEvent> read, int expected, Func<RecordedEvent, long, bool> isRight)
    {
        var baseline = LiveBytes();
        var sampleEvery = Math.Max(1, expected / Samples);
        long seen = 0, peak = 0;
        await foreach (var e in read)
        {
            if (!isRight(e, seen)) Assert.Fail($"Event #{seen} of the read is wrong: {e.Stream}@{e.Version}.");
            if (++seen % sampleEvery == 0) peak = Math.Max(peak, LiveBytes() - baseline);
        }
        Assert.Equal(expected, seen);
        return peak;
    }

    private static long LiveBytes()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: false);
        GC.WaitForPendingFinalizers();
        return GC.GetTotalMemory(forceFullCollection: false);
    }
}
