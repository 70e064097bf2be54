using System.Runtime.CompilerServices;
using Amazon.DynamoDBv2.Model;

namespace EventStore.Providers.DynamoDB;

public sealed partial class DynamoDBEventStore
{
    /// <inheritdoc />
    public IAsyncEnumerable<RecordedEvent> ReadStreamAsync(StreamName stream, ReadDirection direction = ReadDirection.Forwards, long? fromVersion = null,
        long maxCount = long.MaxValue, CancellationToken cancellationToken = default)
    {
        EventGuard.ValidateReadStream(stream, direction, fromVersion, maxCount, Capabilities);
        return ReadStreamCoreAsync(stream, direction, fromVersion, maxCount, knownHead: null, cancellationToken);
    }

    private async IAsyncEnumerable<RecordedEvent> ReadStreamCoreAsync(StreamName stream, ReadDirection direction, long? fromVersion, long maxCount,
        StreamHead? knownHead, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var pk = Schema.StreamPk(stream);
        if (direction == ReadDirection.Forwards)
        {
            var start = fromVersion ?? 0;
            // The head (for deletion) and the first page are fetched together: one round trip of latency.
            var headTask = knownHead is null ? ReadHeadAsync(pk, withEvents: false, cancellationToken) : Task.FromResult(knownHead);
            var firstSlotTask = start == 0 ? Task.FromResult(0L) : FindSlotContainingAsync(pk, start, cancellationToken);
            var head = await headTask.ConfigureAwait(false);
            if (head.Tombstoned) throw new StreamDeletedException(stream);
            if (maxCount == 0) yield break;
            var from = Math.Max(start, head.TruncateBefore);
            if (head.SoftDeleted || from > head.LastVersion) yield break;
            var firstSlot = from == start ? await firstSlotTask.ConfigureAwait(false) : head.TruncateBefore;

            var request = new QueryRequest
            {
                TableName = _table,
                KeyConditionExpression = "pk = :pk AND sk >= :from",
                ExpressionAttributeValues = new() { [":pk"] = Schema.S(pk), [":from"] = Schema.N(firstSlot) },
                ConsistentRead = true,
            };
            if (maxCount < 1000) request.Limit = (int)maxCount + 1;
            var returned = 0L;
            await foreach (var item in QueryAllAsync(request, "Query (read stream)", cancellationToken).ConfigureAwait(false))
            {
                if (item.ContainsKey(Schema.Kind)) continue; // deletion markers hold no events
                var slot = Schema.GetLong(item, Schema.Sk);
                var firstPosition = Schema.GetLong(item, Schema.FirstPosition);
                var created = CreatedOf(item);
                var events = await LoadEventsAsync(item, cancellationToken).ConfigureAwait(false);
                for (var i = 0; i < events.Count; i++)
                {
                    if (slot + i < from) continue;
                    cancellationToken.ThrowIfCancellationRequested();
                    yield return ToRecorded(stream, item, slot, firstPosition, created, events[i], i);
                    if (++returned >= maxCount) yield break;
                }
            }
        }
        else
        {
            var head = knownHead ?? await ReadHeadAsync(pk, withEvents: false, cancellationToken).ConfigureAwait(false);
            if (head.Tombstoned) throw new StreamDeletedException(stream);
            if (maxCount == 0 || head.SoftDeleted || head.LastVersion < 0) yield break;
            var from = Math.Min(fromVersion ?? head.LastVersion, head.LastVersion);
            if (from < head.TruncateBefore) yield break;

            var request = new QueryRequest
            {
                TableName = _table,
                KeyConditionExpression = "pk = :pk AND sk <= :from",
                ExpressionAttributeValues = new() { [":pk"] = Schema.S(pk), [":from"] = Schema.N(from) },
                ScanIndexForward = false,
                ConsistentRead = true,
            };
            if (maxCount < 1000) request.Limit = (int)maxCount + 1;
            var returned = 0L;
            await foreach (var item in QueryAllAsync(request, "Query (read stream backwards)", cancellationToken).ConfigureAwait(false))
            {
                if (item.ContainsKey(Schema.Kind)) continue;
                var slot = Schema.GetLong(item, Schema.Sk);
                var firstPosition = Schema.GetLong(item, Schema.FirstPosition);
                var created = CreatedOf(item);
                var events = await LoadEventsAsync(item, cancellationToken).ConfigureAwait(false);
                for (var i = events.Count - 1; i >= 0; i--)
                {
                    var version = slot + i;
                    if (version > from) continue;
                    if (version < head.TruncateBefore) yield break;
                    cancellationToken.ThrowIfCancellationRequested();
                    yield return ToRecorded(stream, item, slot, firstPosition, created, events[i], i);
                    if (++returned >= maxCount) yield break;
                }
            }
        }
    }

    /// <summary>The slot (first version) of the commit holding <paramref name="version"/>.</summary>
    private async Task<long> FindSlotContainingAsync(string pk, long version, CancellationToken cancellationToken)
    {
        var request = new QueryRequest
        {
            TableName = _table,
            KeyConditionExpression = "pk = :pk AND sk <= :v",
            ExpressionAttributeValues = new() { [":pk"] = Schema.S(pk), [":v"] = Schema.N(version) },
            ScanIndexForward = false,
            Limit = 1,
            ConsistentRead = true,
            ProjectionExpression = "sk",
        };
        var response = await CallAsync(() => _client.QueryAsync(request, cancellationToken), "Query (find commit)", cancellationToken).ConfigureAwait(false);
        return response.Items is { Count: > 0 } items ? Schema.GetLong(items[0], Schema.Sk) : 0;
    }
}
