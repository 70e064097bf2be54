using System.Runtime.CompilerServices;
using Amazon.DynamoDBv2.Model;

namespace EventStore.Providers.DynamoDB;

public sealed partial class DynamoDBEventStore
{
    /// <summary>
    /// How long one read of the global log still waits, in real time, for a hole with events beyond it to close: an
    /// append of another instance still on its way, or the unused rest of its position block, which that instance
    /// releases within <see cref="DynamoDBEventStoreOptions.PositionBlockLifetime"/> (this instance's own rest is released
    /// at once). Waiting is what lets a read return every append acknowledged before it began, whichever instance made
    /// it, when the holes in front of it close in time. The delay between looks doubles from 1 ms to 16 ms.
    /// </summary>
    private sealed class HoleWait(TimeSpan budget)
    {
        private readonly long _deadline = System.Diagnostics.Stopwatch.GetTimestamp() + (long)(budget.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
        private TimeSpan _delay = TimeSpan.FromMilliseconds(1);

        /// <summary>
        /// The highest position in the log when the walk met its first hole: holes above it belong to appends that
        /// started after the read did, so the walk does not wait for them (it would chase the tail of a busy log).
        /// </summary>
        public long? Horizon { get; set; }

        /// <summary>Waits before the next look; false once the budget is spent.</summary>
        public async ValueTask<bool> TryWaitAsync(CancellationToken cancellationToken)
        {
            var left = System.Diagnostics.Stopwatch.GetElapsedTime(System.Diagnostics.Stopwatch.GetTimestamp(), _deadline);
            if (left <= TimeSpan.Zero) return false;
            await Task.Delay(left < _delay ? left : _delay, cancellationToken).ConfigureAwait(false);
            _delay = TimeSpan.FromTicks(Math.Min(_delay.Ticks * 2, TimeSpan.FromMilliseconds(16).Ticks));
            return true;
        }
    }

    private HoleWait NewHoleWait() => new(_options.EffectivePositionBlockLifetime * 2 + HoleWaitMargin);

    /// <summary>Time for the release of a block rest (one skip-marker write) on top of the block lifetime.</summary>
    private static readonly TimeSpan HoleWaitMargin = TimeSpan.FromMilliseconds(200);

    /// <summary>Where a forward walk of the global log got to: every position up to it is committed or skipped.</summary>
    private sealed class WalkProgress(long position)
    {
        public long Position { get; set; } = position;
    }

    /// <inheritdoc />
    public IAsyncEnumerable<RecordedEvent> ReadAllAsync(ReadAllOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= ReadAllOptions.Default;
        options.EnsureValid();
        var from = ToNumber(options.From);
        return options.Filter.IsEmpty
            ? options.Direction == ReadDirection.Forwards
                ? ReadAllForwardAsync(from, options.MaxCount, new WalkProgress(from), cancellationToken)
                : ReadAllBackwardAsync(options.From is null ? null : from, options.MaxCount, cancellationToken)
            : ReadFilteredAsync(options.Filter, options.Direction, options.From is null ? null : from, options.MaxCount, null, cancellationToken);
    }

    /// <inheritdoc />
    public IAsyncEnumerable<RecordedEvent> ReadCategoryAsync(string category, ReadAllOptions? options = null, CancellationToken cancellationToken = default)
    {
        EventGuard.ValidateCategory(category);
        options ??= ReadAllOptions.Default;
        options.EnsureValid();
        var filter = options.Filter with { Categories = [category] };
        var from = ToNumber(options.From);
        return ReadFilteredAsync(filter, options.Direction, options.From is null ? null : from, options.MaxCount, null, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>
    /// The safe head may end in a skip marker (a released block rest, a rejected commit's positions); the head position
    /// is the last event at or below it, found by reading the <c>all</c> index backwards past skip markers.
    /// </remarks>
    public async Task<Position> GetHeadPositionAsync(CancellationToken cancellationToken = default)
    {
        var (head, lastEvent) = await SafeHeadAndLastEventAsync(cancellationToken).ConfigureAwait(false);
        if (head == 0) return Position.Start;
        if (lastEvent is { } known) return Position.FromInt64(known);
        // No event known at or below the safe head yet: look down the index. Keys only, a few items a page: usually the
        // first item down is an event.
        var partitions = AllPartitionQueriesDown(head, keysOnly: true, pageSize: 25, "Query ($all head)", cancellationToken);
        await foreach (var raw in AsyncMerge.ByKey(partitions, i => Schema.GetLong(i, Schema.LastPosition), descending: true, cancellationToken).ConfigureAwait(false))
        {
            var item = LogItem.Parse(raw);
            if (!item.IsSkip) return Position.FromInt64(item.Last);
        }
        return Position.Start;
    }

    private static long ToNumber(Position? position)
    {
        if (position is null || position.Value.IsStart) return 0;
        if (position.Value.Parts.Length != 1 || position.Value.Parts[0] < 0)
            throw new InvalidPositionException(position.Value.ToString(), "a DynamoDB position is one number");
        return position.Value.Parts[0];
    }

    /// <summary>
    /// Walks the global log forwards from after <paramref name="after"/> while it is contiguous: every position is in a
    /// commit or a skip marker. It stops at the first hole (a reserved position not written yet), so a reader never
    /// passes a position that may still commit; a hole older than the gap timeout is marked skipped instead. Before it
    /// stops it waits (<paramref name="wait"/>) for the hole to close.
    /// </summary>
    private async IAsyncEnumerable<(LogItem Item, long From)> WalkContiguousAsync(long after, bool keysOnly, HoleWait wait, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var expected = after + 1;
        var partitions = AllPartitionQueries(after, keysOnly);
        await foreach (var raw in AsyncMerge.ByKey(partitions, i => Schema.GetLong(i, Schema.LastPosition), descending: false, cancellationToken).ConfigureAwait(false))
        {
            var item = LogItem.Parse(raw);
            if (item.Last < expected) continue; // a range covered twice (a late skip marker over a commit)
            if (item.First > expected)
            {
                _gaps.Passed(expected);
                var abandoned = _gaps.Abandoned(expected, item.First - 1);
                if (abandoned is not { } range)
                {
                    // The horizon is read only when the hole is not this instance's own rest, which is released at once.
                    if (await _blocks.ReleaseRestAtAsync(expected).ConfigureAwait(false)
                        || (expected <= (wait.Horizon ??= await HighestPositionAsync(cancellationToken).ConfigureAwait(false))
                            && await wait.TryWaitAsync(cancellationToken).ConfigureAwait(false)))
                    {
                        // Look again from the hole: a commit or release that landed meanwhile is read in order.
                        await foreach (var rest in WalkContiguousAsync(expected - 1, keysOnly, wait, cancellationToken).ConfigureAwait(false))
                            yield return rest;
                        yield break;
                    }
                    // Start the clocks of the holes behind this one now, so after an outage they all time out together.
                    await LookAheadAsync(item.Last, cancellationToken).ConfigureAwait(false);
                    yield break;
                }
                if (_fence is null) await WriteSkipAsync(range.First, range.Last, CancellationToken.None).ConfigureAwait(false);
                else if (await _fence.SkipAbandonedAsync(range.First, range.Last, CancellationToken.None).ConfigureAwait(false) == CommitFence.Outcome.Committed)
                {
                    // A commit of the range is stored and its index entry not visible yet: wait for it like any hole.
                    _logger.LogGapCommitted(range.First, range.Last);
                    yield break;
                }
                _logger.LogGapSkipped(range.First, range.Last, _options.GapTimeout);
                // Re-walk from the hole so the new marker (and anything that landed meanwhile) is read in order.
                await foreach (var rest in WalkContiguousAsync(expected - 1, keysOnly, wait, cancellationToken).ConfigureAwait(false))
                    yield return rest;
                yield break;
            }
            yield return (item, expected);
            expected = item.Last + 1;
        }
        _gaps.Passed(expected);
    }

    /// <summary>The highest last position in the <c>all</c> index (one item from the top of each partition), 0 when empty.</summary>
    private async Task<long> HighestPositionAsync(CancellationToken cancellationToken)
    {
        var tops = AllPartitionQueriesDown(long.MaxValue, keysOnly: true, pageSize: 1, "Query ($all top)", cancellationToken);
        await foreach (var raw in AsyncMerge.ByKey(tops, i => Schema.GetLong(i, Schema.LastPosition), descending: true, cancellationToken).ConfigureAwait(false))
            return Schema.GetLong(raw, Schema.LastPosition);
        return 0;
    }

    /// <summary>
    /// Records every hole of the global log after <paramref name="covered"/> (a position known to be written or
    /// skipped) with the gap tracker, reading only keys and only beyond what an earlier look-ahead already checked.
    /// </summary>
    private async Task LookAheadAsync(long covered, CancellationToken cancellationToken)
    {
        var previous = Math.Max(covered, _gaps.ScannedUpTo);
        await foreach (var raw in AsyncMerge.ByKey(AllPartitionQueries(previous, keysOnly: true), i => Schema.GetLong(i, Schema.LastPosition), descending: false, cancellationToken).ConfigureAwait(false))
        {
            var item = LogItem.Parse(raw);
            if (item.Last <= previous) continue;
            if (item.First > previous + 1) _gaps.Observe(previous + 1, item.First - 1);
            previous = item.Last;
        }
        _gaps.Scanned(previous);
    }

    /// <summary>Queries of every partition of the <c>$all</c> index for items ending after <paramref name="after"/>, lowest first.</summary>
    private List<IAsyncEnumerable<Dictionary<string, AttributeValue>>> AllPartitionQueries(long after, bool keysOnly) =>
        AllPartitionQueries("ap > :bound", after, forwards: true, keysOnly, pageSize: null, "Query ($all)", cancellationToken: default);

    /// <summary>Queries of every partition of the <c>$all</c> index for items ending at or below <paramref name="upper"/>, highest first.</summary>
    private List<IAsyncEnumerable<Dictionary<string, AttributeValue>>> AllPartitionQueriesDown(long upper, bool keysOnly, int? pageSize, string operation, CancellationToken cancellationToken) =>
        AllPartitionQueries("ap <= :bound", upper, forwards: false, keysOnly, pageSize, operation, cancellationToken);

    private List<IAsyncEnumerable<Dictionary<string, AttributeValue>>> AllPartitionQueries(string range, long bound, bool forwards, bool keysOnly, int? pageSize, string operation,
        CancellationToken cancellationToken)
    {
        var partitions = new List<IAsyncEnumerable<Dictionary<string, AttributeValue>>>(_options.AllPartitions);
        for (var p = 0; p < _options.AllPartitions; p++)
        {
            var request = new QueryRequest
            {
                TableName = _table,
                IndexName = Schema.AllIndex,
                KeyConditionExpression = "ab = :p AND " + range,
                ExpressionAttributeValues = new() { [":p"] = Schema.S(Schema.AllPartitionKey(p)), [":bound"] = Schema.N(bound) },
                ScanIndexForward = forwards,
            };
            if (pageSize is { } limit) request.Limit = limit;
            if (keysOnly)
            {
                // Walks that only need the ranges do not fetch the events.
                request.ProjectionExpression = "pk, sk, gp, ap, #k";
                request.ExpressionAttributeNames = new() { ["#k"] = Schema.Kind };
            }
            partitions.Add(QueryIndexAsync(request, operation, cancellationToken));
        }
        return partitions;
    }

    private async IAsyncEnumerable<RecordedEvent> ReadAllForwardAsync(long after, long maxCount, WalkProgress progress, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (maxCount == 0) yield break;
        var returned = 0L;
        await foreach (var (item, from) in WalkContiguousAsync(after, keysOnly: false, NewHoleWait(), cancellationToken).ConfigureAwait(false))
        {
            if (!item.IsSkip)
            {
                foreach (var e in await ToRecordedAsync(item, cancellationToken).ConfigureAwait(false))
                {
                    if (e.Position.ToInt64() < from) continue;
                    progress.Position = e.Position.ToInt64();
                    cancellationToken.ThrowIfCancellationRequested();
                    yield return e;
                    if (++returned >= maxCount) yield break;
                }
            }
            progress.Position = item.Last;
        }
    }

    private async IAsyncEnumerable<RecordedEvent> ReadAllBackwardAsync(long? before, long maxCount, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (maxCount == 0) yield break;
        var head = await SafeHeadAsync(cancellationToken).ConfigureAwait(false);
        var bound = before is null ? head : Math.Min(head, before.Value - 1);
        if (bound < 1) yield break;
        // A commit holding `bound` may end after it (by at most one batch), but never after the safe head.
        var upper = Math.Min(head, bound + Capabilities.MaxEventsPerAppend);
        var partitions = AllPartitionQueriesDown(upper, keysOnly: false, pageSize: null, "Query ($all backwards)", cancellationToken);
        var returned = 0L;
        var below = bound + 1;
        await foreach (var raw in AsyncMerge.ByKey(partitions, i => Schema.GetLong(i, Schema.LastPosition), descending: true, cancellationToken).ConfigureAwait(false))
        {
            var item = LogItem.Parse(raw);
            if (item.IsSkip) continue;
            var events = await ToRecordedAsync(item, cancellationToken).ConfigureAwait(false);
            for (var i = events.Count - 1; i >= 0; i--)
            {
                var position = events[i].Position.ToInt64();
                if (position >= below) continue;
                below = position;
                cancellationToken.ThrowIfCancellationRequested();
                yield return events[i];
                if (++returned >= maxCount) yield break;
            }
        }
    }

    /// <summary>
    /// Category and event-type reads: queries of the category index (or the type index plus the mixed-type
    /// partition), merged by position and bounded by the safe head so they are as gap-safe as <c>$all</c>.
    /// </summary>
    private async IAsyncEnumerable<RecordedEvent> ReadFilteredAsync(EventFilter filter, ReadDirection direction, long? from, long maxCount, long? knownSafeHead,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (maxCount == 0) yield break;
        var head = knownSafeHead ?? await SafeHeadAsync(cancellationToken).ConfigureAwait(false);
        long lower, upper;
        if (direction == ReadDirection.Forwards)
        {
            lower = (from ?? 0) + 1;
            upper = head;
        }
        else
        {
            var bound = from is null ? head : Math.Min(head, from.Value - 1);
            lower = 1;
            upper = Math.Min(head, bound + Capabilities.MaxEventsPerAppend);
            from = bound + 1;
        }
        if (lower > upper) yield break;

        await _initialized.RunAsync(cancellationToken).ConfigureAwait(false);
        var sources = FilteredQueries(filter, direction == ReadDirection.Forwards, lower, upper, cancellationToken);
        var returned = 0L;
        await foreach (var raw in AsyncMerge.ByKey(sources, i => Schema.GetLong(i, Schema.LastPosition), direction == ReadDirection.Backwards, cancellationToken).ConfigureAwait(false))
        {
            var item = LogItem.Parse(raw);
            if (item.IsSkip) continue;
            var events = await ToRecordedAsync(item, cancellationToken).ConfigureAwait(false);
            for (var n = 0; n < events.Count; n++)
            {
                var e = direction == ReadDirection.Forwards ? events[n] : events[events.Count - 1 - n];
                var position = e.Position.ToInt64();
                if (direction == ReadDirection.Forwards ? position <= (from ?? 0) : position >= from) continue;
                if (!filter.Matches(e.Stream, e.EventType)) continue;
                cancellationToken.ThrowIfCancellationRequested();
                yield return e;
                if (++returned >= maxCount) yield break;
            }
        }
    }

    /// <summary>
    /// The queries a filtered read merges, over positions <paramref name="lower"/>-<paramref name="upper"/>: the category
    /// index's partition of each category; else the type index's partition of each type plus the mixed-type one; or,
    /// when the table has no type index (<see cref="DynamoDBEventStoreOptions.IndexEventTypes"/>), every partition of
    /// the <c>$all</c> index with a filter on the type attribute each commit carries.
    /// </summary>
    private List<IAsyncEnumerable<Dictionary<string, AttributeValue>>> FilteredQueries(EventFilter filter, bool forwards, long lower, long upper, CancellationToken cancellationToken)
    {
        var range = new Dictionary<string, AttributeValue> { [":lower"] = Schema.N(lower), [":upper"] = Schema.N(upper) };
        List<string> typeKeys = [];
        if (filter.Categories.Count == 0)
            typeKeys = [.. filter.EventTypes.Distinct(StringComparer.Ordinal).Select(t => "t#" + t).Append(Schema.MixedTypes)];
        var (index, attribute, keys) = filter.Categories.Count > 0
            ? (Schema.CategoryIndex, Schema.CategoryKey, filter.Categories.Distinct(StringComparer.Ordinal).Select(c => "c#" + c).ToList())
            : _tables.HasTypeIndex
                ? (Schema.TypeIndex, Schema.TypeKey, typeKeys)
                : (Schema.AllIndex, Schema.AllPartition, Enumerable.Range(0, _options.AllPartitions).Select(p => Schema.AllPartitionKey(p)).ToList());
        return keys.Select(key =>
        {
            var request = new QueryRequest
            {
                TableName = _table,
                IndexName = index,
                KeyConditionExpression = $"{attribute} = :k AND ap BETWEEN :lower AND :upper",
                ExpressionAttributeValues = new(range) { [":k"] = Schema.S(key) },
                ScanIndexForward = forwards,
            };
            // DynamoDB takes at most 100 operands of IN; past that the types are matched here, after the read.
            if (index == Schema.AllIndex && typeKeys.Count < 100)
            {
                request.FilterExpression = $"{Schema.TypeKey} IN ({string.Join(", ", typeKeys.Select((_, i) => ":t" + i.ToString(System.Globalization.CultureInfo.InvariantCulture)))})";
                for (var i = 0; i < typeKeys.Count; i++) request.ExpressionAttributeValues[":t" + i.ToString(System.Globalization.CultureInfo.InvariantCulture)] = Schema.S(typeKeys[i]);
            }
            return QueryIndexAsync(request, index == Schema.AllIndex ? "Query ($all filtered by type)" : "Query (category/type index)", cancellationToken);
        }).ToList();
    }

    /// <summary>
    /// The safe head: the end of the contiguous prefix of the global log (see <see cref="SafeHeadAndLastEventAsync"/>).
    /// </summary>
    private async Task<long> SafeHeadAsync(CancellationToken cancellationToken) =>
        (await SafeHeadAndLastEventAsync(cancellationToken).ConfigureAwait(false)).Head;

    /// <summary>The end of the contiguous prefix this instance last walked to, and the last event at or below it (0: none seen).</summary>
    private sealed record SafePoint(long Head, long LastEvent);

    private SafePoint? _safe;
    private long _watermarkWritten;
    private long _watermarkWrittenAt;

    /// <summary>How far the safe head moves, or how long passes, before this instance writes it to the stored watermark.</summary>
    private const long WatermarkStep = 1_000;

    private static readonly TimeSpan WatermarkInterval = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The safe head, and the last position of the last event at or below it (null when none is known). The walk starts
    /// at what this instance already walked to (positions below a safe head stay covered: nothing is ever removed from
    /// the log), or at the stored watermark the first time, which other instances move forward. The watermark is written
    /// when the head moved by <see cref="WatermarkStep"/> or after <see cref="WatermarkInterval"/>, not on every walk, so a
    /// subscription's wake-up is the walk alone.
    /// </summary>
    private async Task<(long Head, long? LastEvent)> SafeHeadAndLastEventAsync(CancellationToken cancellationToken)
    {
        var known = Volatile.Read(ref _safe);
        long start;
        if (known is not null)
        {
            start = known.Head;
        }
        else
        {
            var get = new GetItemRequest { TableName = _table, Key = Schema.Key(Schema.WatermarkKey, 0), ConsistentRead = true };
            var response = await CallAsync(() => _client.GetItemAsync(get, cancellationToken), "GetItem (watermark)", cancellationToken).ConfigureAwait(false);
            start = response.Item is { Count: > 0 } item ? Schema.GetLong(item, Schema.Value) : 0;
        }
        var head = start;
        long? lastEvent = known is { LastEvent: > 0 } ? known.LastEvent : null;
        await foreach (var (logItem, _) in WalkContiguousAsync(start, keysOnly: true, NewHoleWait(), cancellationToken).ConfigureAwait(false))
        {
            head = logItem.Last;
            if (!logItem.IsSkip) lastEvent = logItem.Last;
        }
        Remember(new SafePoint(head, lastEvent ?? 0));
        if (head > Volatile.Read(ref _watermarkWritten)
            && (head - Volatile.Read(ref _watermarkWritten) >= WatermarkStep || _time.GetElapsedTime(Volatile.Read(ref _watermarkWrittenAt)) >= WatermarkInterval))
            await WriteWatermarkAsync(head, cancellationToken).ConfigureAwait(false);
        return (head, lastEvent);
    }

    /// <summary>Keeps the furthest safe point any walk of this instance reached.</summary>
    private void Remember(SafePoint point)
    {
        while (true)
        {
            var current = Volatile.Read(ref _safe);
            if (current is not null && current.Head >= point.Head) return;
            if (Interlocked.CompareExchange(ref _safe, point, current) == current) return;
        }
    }

    /// <summary>Moves the stored watermark forward (a conditional update: never backwards).</summary>
    private async Task WriteWatermarkAsync(long head, CancellationToken cancellationToken)
    {
        var update = new UpdateItemRequest
        {
            TableName = _table,
            Key = Schema.Key(Schema.WatermarkKey, 0),
            UpdateExpression = "SET #v = :h",
            ConditionExpression = "attribute_not_exists(#v) OR #v < :h",
            ExpressionAttributeNames = new() { ["#v"] = Schema.Value },
            ExpressionAttributeValues = new() { [":h"] = Schema.N(head) },
        };
        try
        {
            await CallAsync(() => _client.UpdateItemAsync(update, cancellationToken), "UpdateItem (watermark)", cancellationToken).ConfigureAwait(false);
        }
        catch (ConditionalCheckFailedException)
        {
            // Another reader moved it further already.
        }
        Volatile.Write(ref _watermarkWritten, head);
        Volatile.Write(ref _watermarkWrittenAt, _time.GetTimestamp());
    }

    private async ValueTask<List<RecordedEvent>> ToRecordedAsync(LogItem item, CancellationToken cancellationToken)
    {
        var stream = new StreamName(item.Pk[Schema.StreamPrefix.Length..]);
        var created = CreatedOf(item.Raw);
        var events = await LoadEventsAsync(item.Raw, cancellationToken).ConfigureAwait(false);
        var result = new List<RecordedEvent>(events.Count);
        for (var i = 0; i < events.Count; i++)
            result.Add(ToRecorded(stream, item.Raw, item.Slot, item.First, created, events[i], i));
        return result;
    }
}
