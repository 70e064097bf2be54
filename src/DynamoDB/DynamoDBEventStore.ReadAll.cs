using System.Runtime.CompilerServices;
using Amazon.DynamoDBv2.Model;
using Microsoft.Extensions.Logging;

namespace EventStore.Providers.DynamoDB;

public sealed partial class DynamoDBEventStore
{
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
    public async Task<Position> GetHeadPositionAsync(CancellationToken cancellationToken = default)
    {
        var head = await SafeHeadAsync(cancellationToken).ConfigureAwait(false);
        return head == 0 ? Position.Start : Position.FromInt64(head);
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
    /// passes a position that may still commit; a hole older than the gap timeout is marked skipped instead.
    /// </summary>
    private async IAsyncEnumerable<(LogItem Item, long From)> WalkContiguousAsync(long after, bool keysOnly, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var expected = after + 1;
        var partitions = new List<IAsyncEnumerable<Dictionary<string, AttributeValue>>>(_options.AllPartitions);
        for (var p = 0; p < _options.AllPartitions; p++)
        {
            var request = new QueryRequest
            {
                TableName = _table,
                IndexName = Schema.AllIndex,
                KeyConditionExpression = "ab = :p AND ap > :after",
                ExpressionAttributeValues = new() { [":p"] = Schema.S("a#" + p.ToString(System.Globalization.CultureInfo.InvariantCulture)), [":after"] = Schema.N(after) },
            };
            if (keysOnly)
            {
                // The safe-head walk only needs the ranges, not the events.
                request.ProjectionExpression = "pk, sk, gp, ap, #k";
                request.ExpressionAttributeNames = new() { ["#k"] = Schema.Kind };
            }
            partitions.Add(QueryIndexAsync(request, "Query ($all)", cancellationToken));
        }
        await foreach (var raw in AsyncMerge.ByKey(partitions, i => Schema.GetLong(i, Schema.LastPosition), descending: false, cancellationToken).ConfigureAwait(false))
        {
            var item = LogItem.Parse(raw);
            if (item.Last < expected) continue; // a range covered twice (a late skip marker over a commit)
            if (item.First > expected)
            {
                var abandoned = _gaps.Abandoned(expected, item.First - 1);
                if (abandoned is not { } range) yield break;
                _logger.LogWarning("Global positions {First}-{Last} were reserved but never written within {Timeout}; marking them skipped", range.First, range.Last, _options.GapTimeout);
                await WriteSkipAsync(range.First, range.Last, CancellationToken.None).ConfigureAwait(false);
                _gaps.Resolved(expected);
                // Re-walk from the hole so the new marker (and anything that landed meanwhile) is read in order.
                await foreach (var rest in WalkContiguousAsync(expected - 1, keysOnly, cancellationToken).ConfigureAwait(false))
                    yield return rest;
                yield break;
            }
            _gaps.Resolved(expected);
            yield return (item, expected);
            expected = item.Last + 1;
        }
    }

    private async IAsyncEnumerable<RecordedEvent> ReadAllForwardAsync(long after, long maxCount, WalkProgress progress, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (maxCount == 0) yield break;
        var returned = 0L;
        await foreach (var (item, from) in WalkContiguousAsync(after, keysOnly: false, cancellationToken).ConfigureAwait(false))
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
        var partitions = new List<IAsyncEnumerable<Dictionary<string, AttributeValue>>>(_options.AllPartitions);
        for (var p = 0; p < _options.AllPartitions; p++)
        {
            partitions.Add(QueryIndexAsync(new QueryRequest
            {
                TableName = _table,
                IndexName = Schema.AllIndex,
                KeyConditionExpression = "ab = :p AND ap <= :upper",
                ExpressionAttributeValues = new() { [":p"] = Schema.S("a#" + p.ToString(System.Globalization.CultureInfo.InvariantCulture)), [":upper"] = Schema.N(upper) },
                ScanIndexForward = false,
            }, "Query ($all backwards)", cancellationToken));
        }
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

        var (index, attribute, keys) = filter.Categories.Count > 0
            ? (Schema.CategoryIndex, Schema.CategoryKey, filter.Categories.Distinct(StringComparer.Ordinal).Select(c => "c#" + c).ToList())
            : (Schema.TypeIndex, Schema.TypeKey, filter.EventTypes.Distinct(StringComparer.Ordinal).Select(t => "t#" + t).Append(Schema.MixedTypes).ToList());
        var sources = keys.Select(key => QueryIndexAsync(new QueryRequest
        {
            TableName = _table,
            IndexName = index,
            KeyConditionExpression = $"{attribute} = :k AND ap BETWEEN :lower AND :upper",
            ExpressionAttributeValues = new() { [":k"] = Schema.S(key), [":lower"] = Schema.N(lower), [":upper"] = Schema.N(upper) },
            ScanIndexForward = direction == ReadDirection.Forwards,
        }, "Query (category/type index)", cancellationToken)).ToList();

        var returned = 0L;
        await foreach (var raw in AsyncMerge.ByKey(sources, i => Schema.GetLong(i, Schema.LastPosition), direction == ReadDirection.Backwards, cancellationToken).ConfigureAwait(false))
        {
            var events = await ToRecordedAsync(LogItem.Parse(raw), cancellationToken).ConfigureAwait(false);
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
    /// The safe head: the end of the contiguous prefix of the global log. Walks from the stored watermark and moves
    /// the watermark forward (never back) so the next walk is short.
    /// </summary>
    private async Task<long> SafeHeadAsync(CancellationToken cancellationToken)
    {
        var get = new GetItemRequest { TableName = _table, Key = Schema.Key(Schema.WatermarkKey, 0), ConsistentRead = true };
        var response = await CallAsync(() => _client.GetItemAsync(get, cancellationToken), "GetItem (watermark)", cancellationToken).ConfigureAwait(false);
        var watermark = response.Item is { Count: > 0 } item ? Schema.GetLong(item, Schema.Value) : 0;
        var head = watermark;
        await foreach (var (logItem, _) in WalkContiguousAsync(watermark, keysOnly: true, cancellationToken).ConfigureAwait(false))
            head = logItem.Last;
        if (head > watermark)
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
        }
        return head;
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
