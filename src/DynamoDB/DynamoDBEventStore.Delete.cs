using Amazon.DynamoDBv2.Model;

namespace EventStore.Providers.DynamoDB;

public sealed partial class DynamoDBEventStore
{
    /// <summary>
    /// Soft delete writes a marker in the stream's next slot (reads start after it; the next append replaces it and
    /// continues the versions). A tombstone is a marker nothing may replace. Events are never changed.
    /// </summary>
    public async Task DeleteStreamAsync(StreamName stream, ExpectedVersion expectedVersion, StreamDeletionMode mode = StreamDeletionMode.Soft, CancellationToken cancellationToken = default)
    {
        EventGuard.ValidateStream(stream, Capabilities);
        expectedVersion.EnsureValid();
        if (!Enum.IsDefined(mode)) throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown deletion mode.");
        var pk = Schema.StreamPk(stream);
        for (var attempt = 0; ; attempt++)
        {
            var head = await ReadHeadAsync(pk, withEvents: false, cancellationToken).ConfigureAwait(false);
            if (head.Tombstoned) throw new StreamDeletedException(stream);
            if (!head.Satisfies(expectedVersion)) throw new WrongExpectedVersionException(stream, expectedVersion, head.EffectiveVersion);
            if (mode == StreamDeletionMode.Soft && (head.SoftDeleted || head.LastVersion < 0)) return;

            var item = new Dictionary<string, AttributeValue>
            {
                [Schema.Pk] = Schema.S(pk),
                [Schema.Sk] = Schema.N(head.NextSlot),
                [Schema.Kind] = Schema.S(mode == StreamDeletionMode.Soft ? Schema.KindSoftDelete : Schema.KindTombstone),
                [Schema.Created] = Schema.N(_time.GetUtcNow().ToUnixTimeMilliseconds()),
                [Schema.MarkerLastPosition] = Schema.N(head.LastPosition),
            };
            if (mode == StreamDeletionMode.Tombstone) item[Schema.TruncateBefore] = Schema.N(head.TruncateBefore);
            cancellationToken.ThrowIfCancellationRequested();
            _heads.TryRemove(pk, out _);
            try
            {
                await PutCommitAsync(item, head, null, CancellationToken.None).ConfigureAwait(false);
                return;
            }
            catch (ConditionalCheckFailedException) when (attempt < MaxAppendAttempts)
            {
                // An append landed in the slot meanwhile: check the expectation again against the new head.
            }
        }
    }
}
