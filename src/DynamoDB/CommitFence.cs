using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Microsoft.Extensions.Logging;

namespace EventStore.Providers.DynamoDB;

/// <summary>
/// Makes a commit and the skip of its positions exclude each other by conditions
/// (<see cref="DynamoDBEventStoreOptions.FenceCommits"/>), without transactions.
/// <list type="bullet">
/// <item>Before its commit, an append writes an <em>intent</em> at <c>k#{first position}</c> naming its stream slot,
/// only if nothing is there yet. Its commit is sent only after the intent is stored.</item>
/// <item>A reader giving up on a hole skips it one position at a time, at the same keys and with the same condition, so
/// it either claims a position no append can claim any more, or finds the intent there.</item>
/// <item>Where it finds an intent, it first fences the slot the intent names: a <em>void</em> item in the empty slot, or
/// the intent's first position added to the voided set of a void or soft-delete marker already there. Only then does it
/// turn the intent into a skip marker.</item>
/// <item>A commit's condition refuses a slot whose voided set holds its first position.</item>
/// </list>
/// So exactly one wins: a commit in its slot before the fence makes the reader wait for it instead of skipping, and a
/// fenced slot refuses the commit however late DynamoDB applies it. A refused writer retries at new positions.
/// </summary>
internal sealed class CommitFence(IAmazonDynamoDB client, string table, int allPartitions, ILogger logger)
{
    /// <summary>What a reader found where it meant to skip.</summary>
    public enum Outcome
    {
        /// <summary>Every position of the range is skipped, and any intent among them fenced.</summary>
        Skipped,

        /// <summary>The commit of an intent in the range is stored: the hole is an index still catching up. Not skipped.</summary>
        Committed,
    }

    /// <summary>
    /// Writes the intent of an append about to commit <paramref name="reservation"/> into <paramref name="head"/>'s next
    /// slot. False: a reader has already skipped its first position, so the append must take new positions.
    /// </summary>
    public async Task<bool> TryClaimAsync(Reservation reservation, string streamPk, StreamHead head, CancellationToken cancellationToken)
    {
        var request = new PutItemRequest
        {
            TableName = table,
            Item = new()
            {
                [Schema.Pk] = Schema.S(Schema.SkipKey(reservation.First)),
                [Schema.Sk] = Schema.N(0),
                [Schema.Kind] = Schema.S(Schema.KindIntent),
                [Schema.FirstPosition] = Schema.N(reservation.First),
                [Schema.LastPosition] = Schema.N(reservation.Last),
                [Schema.IntentStream] = Schema.S(streamPk),
                [Schema.IntentSlot] = Schema.N(head.NextSlot),
                [Schema.TruncateBefore] = Schema.N(head.TruncateBefore),
                [Schema.MarkerLastPosition] = Schema.N(head.LastPosition),
            },
            ConditionExpression = "attribute_not_exists(pk)",
        };
        try
        {
            await DynamoDBErrors.Run(() => client.PutItemAsync(request, cancellationToken), "PutItem (commit intent)", cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (ConditionalCheckFailedException)
        {
            // The SDK may have re-sent a put whose first attempt landed: then the intent there is this one.
            var stored = await GetAsync(Schema.SkipKey(reservation.First), 0, cancellationToken).ConfigureAwait(false);
            return stored is not null && Schema.GetString(stored, Schema.Kind) == Schema.KindIntent
                && Schema.GetString(stored, Schema.IntentStream) == streamPk && Schema.GetLong(stored, Schema.IntentSlot) == head.NextSlot;
        }
    }

    /// <summary>
    /// Skips the positions of an append that will never commit them (its commit was refused or never sent): turns its
    /// intent, if one is stored, into a skip marker.
    /// </summary>
    public Task WithdrawAsync(long first, long last, CancellationToken cancellationToken) => TurnIntoSkipAsync(first, last, cancellationToken);

    /// <summary>
    /// Skips <paramref name="first"/>-<paramref name="last"/>, abandoned by their writers, one position at a time; an
    /// intent met on the way has its slot fenced first and then covers its whole range.
    /// </summary>
    public async Task<Outcome> SkipAbandonedAsync(long first, long last, CancellationToken cancellationToken)
    {
        for (var p = first; p <= last;)
        {
            if (await TryPutSkipAsync(p, cancellationToken).ConfigureAwait(false))
            {
                p++;
                continue;
            }
            var item = await GetAsync(Schema.SkipKey(p), 0, cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"The skip-key item of position {p} refused a put and then could not be read; items there are never deleted.");
            if (Schema.GetString(item, Schema.Kind) == Schema.KindIntent)
            {
                if (await FenceSlotAsync(item, cancellationToken).ConfigureAwait(false) == Outcome.Committed) return Outcome.Committed;
                await TurnIntoSkipAsync(p, Schema.GetLong(item, Schema.LastPosition), cancellationToken).ConfigureAwait(false);
            }
            p = Math.Max(p + 1, Schema.GetLong(item, Schema.LastPosition) + 1);
        }
        return Outcome.Skipped;
    }

    /// <summary>
    /// Makes sure the commit an intent announces can never land: Committed when it already has, Skipped once its slot
    /// refuses it (fenced now, or taken by another commit or a tombstone).
    /// </summary>
    private async Task<Outcome> FenceSlotAsync(Dictionary<string, AttributeValue> intent, CancellationToken cancellationToken)
    {
        var pk = Schema.GetString(intent, Schema.IntentStream)!;
        var slot = Schema.GetLong(intent, Schema.IntentSlot);
        var first = Schema.GetLong(intent, Schema.FirstPosition);
        var voided = new AttributeValue { NS = [first.ToString(System.Globalization.CultureInfo.InvariantCulture)] };
        while (true)
        {
            var put = new PutItemRequest
            {
                TableName = table,
                Item = new()
                {
                    [Schema.Pk] = Schema.S(pk),
                    [Schema.Sk] = Schema.N(slot),
                    [Schema.Kind] = Schema.S(Schema.KindVoid),
                    [Schema.VoidedPositions] = voided,
                    [Schema.TruncateBefore] = Schema.N(Schema.GetLong(intent, Schema.TruncateBefore)),
                    [Schema.MarkerLastPosition] = Schema.N(Schema.GetLong(intent, Schema.MarkerLastPosition)),
                },
                ConditionExpression = "attribute_not_exists(pk)",
            };
            try
            {
                await DynamoDBErrors.Run(() => client.PutItemAsync(put, cancellationToken), "PutItem (void a stream slot)", cancellationToken).ConfigureAwait(false);
                logger.LogSlotFenced(pk, slot, first, Schema.GetLong(intent, Schema.LastPosition), "void");
                return Outcome.Skipped;
            }
            catch (ConditionalCheckFailedException)
            {
            }

            var current = await GetAsync(pk, slot, cancellationToken).ConfigureAwait(false);
            if (current is null) continue; // replaced meanwhile (a marker by a commit): look again
            var kind = Schema.GetString(current, Schema.Kind);
            if (kind == Schema.KindTombstone) return Outcome.Skipped;
            if (kind is null) return Schema.GetLong(current, Schema.FirstPosition) == first ? Outcome.Committed : Outcome.Skipped;
            // A void or a soft-delete marker: the commit could still replace it, unless it names the intent's positions.
            var update = new UpdateItemRequest
            {
                TableName = table,
                Key = Schema.Key(pk, slot),
                UpdateExpression = "ADD #vg :g",
                ConditionExpression = "#k = :kind",
                ExpressionAttributeNames = new() { ["#vg"] = Schema.VoidedPositions, ["#k"] = Schema.Kind },
                ExpressionAttributeValues = new() { [":g"] = voided, [":kind"] = Schema.S(kind) },
            };
            try
            {
                await DynamoDBErrors.Run(() => client.UpdateItemAsync(update, cancellationToken), "UpdateItem (void a stream slot)", cancellationToken).ConfigureAwait(false);
                logger.LogSlotFenced(pk, slot, first, Schema.GetLong(intent, Schema.LastPosition), kind);
                return Outcome.Skipped;
            }
            catch (ConditionalCheckFailedException)
            {
                // The slot changed meanwhile (a commit or a deletion replaced the marker): look again.
            }
        }
    }

    private async Task<bool> TryPutSkipAsync(long position, CancellationToken cancellationToken)
    {
        var request = new PutItemRequest
        {
            TableName = table,
            Item = Schema.SkipItem(position, position, allPartitions),
            ConditionExpression = "attribute_not_exists(pk)",
        };
        try
        {
            await DynamoDBErrors.Run(() => client.PutItemAsync(request, cancellationToken), "PutItem (skip marker)", cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (ConditionalCheckFailedException)
        {
            return false;
        }
    }

    private async Task TurnIntoSkipAsync(long first, long last, CancellationToken cancellationToken)
    {
        var request = new UpdateItemRequest
        {
            TableName = table,
            Key = Schema.Key(Schema.SkipKey(first), 0),
            // The last position stays what the intent said; the index partition follows from it.
            UpdateExpression = "SET #k = :skip, #ab = :ab",
            ConditionExpression = "#k = :intent",
            ExpressionAttributeNames = new() { ["#k"] = Schema.Kind, ["#ab"] = Schema.AllPartition },
            ExpressionAttributeValues = new()
            {
                [":skip"] = Schema.S(Schema.KindSkip),
                [":intent"] = Schema.S(Schema.KindIntent),
                [":ab"] = Schema.S(Schema.AllPartitionKey(last, allPartitions)),
            },
        };
        try
        {
            await DynamoDBErrors.Run(() => client.UpdateItemAsync(request, cancellationToken), "UpdateItem (intent to skip marker)", cancellationToken).ConfigureAwait(false);
        }
        catch (ConditionalCheckFailedException)
        {
            // No intent there (never written), or another reader or the writer turned it already.
        }
    }

    private async Task<Dictionary<string, AttributeValue>?> GetAsync(string pk, long sk, CancellationToken cancellationToken)
    {
        var request = new GetItemRequest { TableName = table, Key = Schema.Key(pk, sk), ConsistentRead = true };
        var response = await DynamoDBErrors.Run(() => client.GetItemAsync(request, cancellationToken), "GetItem (fence)", cancellationToken).ConfigureAwait(false);
        return response.Item is { Count: > 0 } item ? item : null;
    }
}
