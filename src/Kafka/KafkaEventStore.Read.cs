using System.Runtime.CompilerServices;
using System.Text;
using Confluent.Kafka;

namespace EventStore.Providers.Kafka;

// Reads: streams through the index (never a scan), $all and categories below each partition's safe end.
public sealed partial class KafkaEventStore
{
    private const int BackwardsChunk = 256;

    /// <summary>
    /// How many offsets a forward stream read reads through, rather than seeking, to reach its stream's next run: the
    /// commit marker after each transactional append (an offset consumers never receive) and a few other appends cost
    /// nothing next to a seek's fetch round trip. A sparse stream, whose events sit among many others', still seeks
    /// per run and consumes only its own records.
    /// </summary>
    private const int MaxSkippedRecords = 32;

    /// <inheritdoc />
    public async Task<StreamInfo> GetStreamInfoAsync(StreamName stream, CancellationToken cancellationToken = default)
    {
        EventGuard.ValidateStream(stream, Capabilities);
        var writer = await WriterForAsync(stream, cancellationToken).ConfigureAwait(false);
        await writer.CatchUpAsync(cancellationToken).ConfigureAwait(false);
        var entry = writer.Index.Find(stream.Value);
        if (entry is null || (entry.LastVersion < 0 && !entry.Tombstoned && entry.TruncateBefore == 0)) return StreamInfo.NotFound(stream);
        lock (writer.Index.Sync)
        {
            if (entry.Tombstoned) return new StreamInfo(stream, false, -1, true);
            if (entry.SoftDeleted) return new StreamInfo(stream, false, -1, true);
            return new StreamInfo(stream, true, entry.LastVersion);
        }
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<RecordedEvent> ReadStreamAsync(StreamName stream, ReadDirection direction = ReadDirection.Forwards, long? fromVersion = null,
        long maxCount = long.MaxValue, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        EventGuard.ValidateReadStream(stream, direction, fromVersion, maxCount, Capabilities);
        var writer = await WriterForAsync(stream, cancellationToken).ConfigureAwait(false);
        await writer.CatchUpAsync(cancellationToken).ConfigureAwait(false);
        var runs = StreamRuns(writer.Index, stream, direction, fromVersion, maxCount);
        await foreach (var e in ReadRunsAsync(stream, writer.Index.Partition, runs, direction == ReadDirection.Backwards, cancellationToken).ConfigureAwait(false))
            yield return e;
    }

    private static List<OffsetRun> StreamRuns(PartitionIndex index, StreamName stream, ReadDirection direction, long? fromVersion, long maxCount)
    {
        lock (index.Sync)
        {
            var entry = index.Find(stream.Value);
            if (entry is null) return [];
            if (entry.Tombstoned) throw new StreamDeletedException(stream);
            if (!entry.Visible || maxCount == 0) return [];
            long from, to;
            if (direction == ReadDirection.Forwards)
            {
                from = Math.Max(fromVersion ?? 0, entry.TruncateBefore);
                to = maxCount >= entry.LastVersion - from + 1 ? entry.LastVersion : from + maxCount - 1;
            }
            else
            {
                to = Math.Min(fromVersion ?? entry.LastVersion, entry.LastVersion);
                from = Math.Max(entry.TruncateBefore, maxCount > to ? 0 : to - maxCount + 1);
            }
            return entry.Slice(from, to);
        }
    }

    /// <summary>Reads the events at the given runs by assigning the partition and seeking to each run: never a scan.</summary>
    internal async IAsyncEnumerable<RecordedEvent> ReadRunsAsync(StreamName stream, int partition, List<OffsetRun> runs, bool backwards,
        [EnumeratorCancellation] CancellationToken ct)
    {
        if (runs.Count == 0) yield break;
        using var lease = Consumers.Rent();
        var tp = new TopicPartition(Options.Topic, partition);
        if (!backwards)
        {
            // The offset the consumer delivers next; -1 before the first seek.
            var next = -1L;
            foreach (var run in runs)
            {
                // A seek costs a fetch round trip: a run that starts a little ahead (the stream's next batch, with other
                // streams' records, commit markers or race losers between) is reached by reading on and skipping.
                if (next < 0 || run.FirstOffset < next || run.FirstOffset - next > MaxSkippedRecords)
                    lease.Assign(new TopicPartitionOffset(tp, run.FirstOffset));
                next = run.LastOffset + 1;
                for (var offset = run.FirstOffset; offset <= run.LastOffset; offset++)
                {
                    var r = await NextOfRunAsync(lease, partition, offset, ct).ConfigureAwait(false);
                    yield return EventRecord.ToRecordedEvent(r, stream, run.FirstVersion + offset - run.FirstOffset, PositionOf(partition, offset));
                }
            }
            yield break;
        }
        var chunk = new List<RecordedEvent>(BackwardsChunk);
        for (var i = runs.Count - 1; i >= 0; i--)
        {
            var run = runs[i];
            for (var end = run.Count; end > 0; end -= BackwardsChunk)
            {
                var start = Math.Max(0, end - BackwardsChunk);
                chunk.Clear();
                lease.Assign(new TopicPartitionOffset(tp, run.FirstOffset + start));
                for (var offset = run.FirstOffset + start; offset < run.FirstOffset + end; offset++)
                {
                    var r = await NextOfRunAsync(lease, partition, offset, ct).ConfigureAwait(false);
                    chunk.Add(EventRecord.ToRecordedEvent(r, stream, run.FirstVersion + offset - run.FirstOffset, PositionOf(partition, offset)));
                }
                for (var j = chunk.Count - 1; j >= 0; j--) yield return chunk[j];
            }
        }
    }

    /// <summary>
    /// The record at <paramref name="offset"/>, the next one of a run the consumer is assigned to: a run's records are
    /// contiguous (one append's batch), so a later offset means the broker deleted the record.
    /// </summary>
    private async ValueTask<ConsumeResult<byte[], byte[]>> NextOfRunAsync(ConsumerPool.Lease lease, int partition, long offset, CancellationToken ct)
    {
        while (true)
        {
            var r = await lease.NextAsync(ct).ConfigureAwait(false);
            if (r is null || r.IsPartitionEOF || r.Offset.Value < offset) continue;
            if (r.Offset.Value > offset) throw EventsLost(partition, offset);
            return r;
        }
    }

    internal EventStoreException EventsLost(int partition, long offset) =>
        new($"Offset {offset} of partition {partition} of topic '{Options.Topic}' is gone: the broker deleted events (retention or log size limit). The events topic must keep events forever (retention.ms=-1, retention.bytes=-1).");

    /// <inheritdoc />
    public IAsyncEnumerable<RecordedEvent> ReadAllAsync(ReadAllOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= ReadAllOptions.Default;
        options.EnsureValid();
        return ReadAllCoreAsync(options, cancellationToken);
    }

    /// <inheritdoc />
    public IAsyncEnumerable<RecordedEvent> ReadCategoryAsync(string category, ReadAllOptions? options = null, CancellationToken cancellationToken = default)
    {
        EventGuard.ValidateCategory(category);
        options ??= ReadAllOptions.Default;
        options.EnsureValid();
        return ReadAllCoreAsync(options with { Filter = options.Filter with { Categories = [category] } }, cancellationToken);
    }

    private async IAsyncEnumerable<RecordedEvent> ReadAllCoreAsync(ReadAllOptions options, [EnumeratorCancellation] CancellationToken ct)
    {
        if (options.MaxCount == 0) yield break;
        var writers = await WritersAsync(ct).ConfigureAwait(false);
        var ends = await SafeEndsAsync(writers, ct).ConfigureAwait(false);
        var count = 0L;
        if (options.Direction == ReadDirection.Forwards)
        {
            var start = StartOffsets(options.From, writers.Length);
            await foreach (var item in ScanAsync(start, ends, options.Filter, ct).ConfigureAwait(false))
            {
                if (item.Event is null) continue;
                yield return item.Event;
                if (++count >= options.MaxCount) yield break;
            }
            yield break;
        }
        var upper = options.From is { IsStart: false } from ? UpperBounds(from, writers.Length) : ends;
        var bounds = new long[writers.Length];
        for (var p = 0; p < writers.Length; p++) bounds[p] = Math.Min(upper[p], ends[p]);
        var sources = Enumerable.Range(0, writers.Length).Select(p => ReadPartitionBackwardsAsync(p, bounds[p], ct)).ToArray();
        await foreach (var r in MergeAsync(sources, backwards: true, ct).ConfigureAwait(false))
        {
            var p = r.Partition.Value;
            bounds[p] = r.Offset.Value;
            if (!TryCommittedEvent(writers[p].Index, r, out var stream, out var version) || !options.Filter.Matches(stream, EventTypeOf(r))) continue;
            var position = writers.Length == 1 ? Position.FromInt64(r.Offset.Value) : Position.FromParts(bounds);
            yield return EventRecord.ToRecordedEvent(r, stream, version, position);
            if (++count >= options.MaxCount) yield break;
        }
    }

    /// <summary>
    /// Merges the partitions' records into one deterministic order: by producer timestamp, then partition (forwards
    /// the oldest head first, backwards the newest). Each partition stays in offset order; two readers of the same
    /// records see the same sequence and the same positions.
    /// </summary>
    private static async IAsyncEnumerable<ConsumeResult<byte[], byte[]>> MergeAsync(IAsyncEnumerable<ConsumeResult<byte[], byte[]>>[] sources, bool backwards,
        [EnumeratorCancellation] CancellationToken ct)
    {
        if (sources.Length == 1)
        {
            await foreach (var r in sources[0].WithCancellation(ct).ConfigureAwait(false)) yield return r;
            yield break;
        }
        var enumerators = sources.Select(s => s.GetAsyncEnumerator(ct)).ToArray();
        var heads = new ConsumeResult<byte[], byte[]>?[enumerators.Length];
        try
        {
            for (var i = 0; i < enumerators.Length; i++)
                heads[i] = await enumerators[i].MoveNextAsync().ConfigureAwait(false) ? enumerators[i].Current : null;
            while (true)
            {
                var pick = -1;
                for (var i = 0; i < heads.Length; i++)
                {
                    if (heads[i] is not { } h) continue;
                    if (pick < 0) { pick = i; continue; }
                    var c = h.Message.Timestamp.UnixTimestampMs.CompareTo(heads[pick]!.Message.Timestamp.UnixTimestampMs);
                    if (backwards ? c > 0 : c < 0) pick = i;
                }
                if (pick < 0) yield break;
                yield return heads[pick]!;
                heads[pick] = await enumerators[pick].MoveNextAsync().ConfigureAwait(false) ? enumerators[pick].Current : null;
            }
        }
        finally
        {
            foreach (var e in enumerators) await e.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async IAsyncEnumerable<ConsumeResult<byte[], byte[]>> ReadPartitionBackwardsAsync(int partition, long end, [EnumeratorCancellation] CancellationToken ct)
    {
        for (; end > 0; end -= BackwardsChunk)
        {
            var chunk = new List<ConsumeResult<byte[], byte[]>>(BackwardsChunk);
            await foreach (var r in ReadPartitionRangeAsync(partition, Math.Max(0, end - BackwardsChunk), end, ct).ConfigureAwait(false)) chunk.Add(r);
            for (var j = chunk.Count - 1; j >= 0; j--) yield return chunk[j];
        }
    }

    private static async Task<long[]> SafeEndsAsync(PartitionWriter[] writers, CancellationToken ct)
    {
        await Task.WhenAll(writers.Select(w => w.CatchUpAsync(ct))).ConfigureAwait(false);
        return writers.Select(w => w.Index.SafeEnd).ToArray();
    }

    private static string EventTypeOf(ConsumeResult<byte[], byte[]> r) =>
        r.Message.Headers.TryGetLastBytes(EventRecord.TypeHeader, out var b) ? Encoding.UTF8.GetString(b) : "";

    /// <summary>True when the record is an event the index accepted (not a marker, a torn batch or a race loser).</summary>
    private static bool TryCommittedEvent(PartitionIndex index, ConsumeResult<byte[], byte[]> r, out StreamName stream, out long version)
    {
        stream = default;
        version = -1;
        if (!EventRecord.TryReadHeader(r, out var h) || h.Kind != RecordKind.Event || !StreamName.TryParse(h.Stream, out stream)) return false;
        version = h.Version;
        return index.IsCommitted(h.Stream, h.Version, r.Offset.Value);
    }

    /// <summary>One processed record of a forward scan: the event when it passes the filter, and the position after it.</summary>
    private readonly record struct ScanItem(RecordedEvent? Event, Position Progress);

    /// <summary>Scans partitions forward from <paramref name="start"/> up to <paramref name="ends"/>, merged deterministically.</summary>
    private async IAsyncEnumerable<ScanItem> ScanAsync(long[] start, long[] ends, EventFilter filter, [EnumeratorCancellation] CancellationToken ct)
    {
        var writers = _writers;
        var next = (long[])start.Clone();
        var sources = Enumerable.Range(0, writers.Length).Select(p => ReadPartitionRangeAsync(p, start[p], ends[p], ct)).ToArray();
        await foreach (var r in MergeAsync(sources, backwards: false, ct).ConfigureAwait(false))
        {
            var p = r.Partition.Value;
            var offset = r.Offset.Value;
            next[p] = offset + 1;
            var progress = writers.Length == 1 ? Position.FromInt64(offset) : Position.FromParts(next);
            if (TryCommittedEvent(writers[p].Index, r, out var stream, out var version) && filter.Matches(stream, EventTypeOf(r)))
                yield return new ScanItem(EventRecord.ToRecordedEvent(r, stream, version, progress), progress);
            else
                yield return new ScanItem(null, progress);
        }
    }

    private async IAsyncEnumerable<ConsumeResult<byte[], byte[]>> ReadPartitionRangeAsync(int partition, long start, long end, [EnumeratorCancellation] CancellationToken ct)
    {
        if (start >= end) yield break;
        using var lease = Consumers.Rent();
        lease.Assign(new TopicPartitionOffset(Options.Topic, partition, start));
        while (true)
        {
            var r = await lease.NextAsync(ct).ConfigureAwait(false);
            if (r is null) continue;
            if (r.IsPartitionEOF || r.Offset.Value >= end) yield break;
            if (r.Offset.Value < start) continue;
            yield return r;
            if (r.Offset.Value + 1 >= end) yield break;
        }
    }

    /// <inheritdoc />
    public async Task<Position> GetHeadPositionAsync(CancellationToken cancellationToken = default)
    {
        var writers = await WritersAsync(cancellationToken).ConfigureAwait(false);
        var ends = await SafeEndsAsync(writers, cancellationToken).ConfigureAwait(false);
        if (writers.Length == 1)
        {
            var last = writers[0].Index.LastEventOffset;
            return last < 0 || last >= ends[0] ? Position.Start : Position.FromInt64(last);
        }
        return ends.All(e => e == 0) ? Position.Start : Position.FromParts(ends);
    }
}
