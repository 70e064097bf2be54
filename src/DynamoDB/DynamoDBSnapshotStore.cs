using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;

namespace EventStore.Providers.DynamoDB;

/// <summary>Keeps the newest snapshot per stream in one item, replaced only by a snapshot of a higher or equal version.</summary>
public sealed class DynamoDBSnapshotStore : ISnapshotStore
{
    /// <summary>The largest snapshot payload one item holds (DynamoDB's item limit is 400 KB).</summary>
    public const int MaxSnapshotSize = 390_000;

    private readonly IAmazonDynamoDB _client;
    private readonly string _table;
    private readonly TimeProvider _time;

    /// <summary>Creates the store over <paramref name="client"/> and the table named by the options.</summary>
    public DynamoDBSnapshotStore(IAmazonDynamoDB client, DynamoDBEventStoreOptions options, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        _client = client;
        _table = options.EffectiveSnapshotTable;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <inheritdoc />
    public async Task<Snapshot?> LoadAsync(StreamName stream, CancellationToken cancellationToken = default)
    {
        var request = new GetItemRequest { TableName = _table, Key = Schema.Key(Schema.SnapshotPrefix + stream.Value, 0), ConsistentRead = true };
        var response = await DynamoDBErrors.Run(() => _client.GetItemAsync(request, cancellationToken), "GetItem (snapshot)", cancellationToken).ConfigureAwait(false);
        if (response.Item is not { Count: > 0 } item) return null;
        return new Snapshot(stream, Schema.GetLong(item, Schema.Value), Schema.GetString(item, "st")!, Schema.GetBytes(item, "d").ToArray(), (int)Schema.GetLong(item, "sv", 1))
        {
            CreatedUtc = DateTimeOffset.FromUnixTimeMilliseconds(Schema.GetLong(item, Schema.Created)),
        };
    }

    /// <inheritdoc />
    public async Task SaveAsync(Snapshot snapshot, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentOutOfRangeException.ThrowIfNegative(snapshot.Version);
        ArgumentException.ThrowIfNullOrWhiteSpace(snapshot.SnapshotType);
        if (snapshot.Data.Length > MaxSnapshotSize)
            throw new ArgumentException($"The snapshot of '{snapshot.Stream}' is {snapshot.Data.Length} bytes; the DynamoDB provider stores at most {MaxSnapshotSize} bytes per snapshot.", nameof(snapshot));
        var request = new PutItemRequest
        {
            TableName = _table,
            Item = new()
            {
                [Schema.Pk] = Schema.S(Schema.SnapshotPrefix + snapshot.Stream.Value),
                [Schema.Sk] = Schema.N(0),
                [Schema.Value] = Schema.N(snapshot.Version),
                ["st"] = Schema.S(snapshot.SnapshotType),
                ["d"] = new AttributeValue { B = new MemoryStream(snapshot.Data.ToArray()) },
                ["sv"] = Schema.N(snapshot.SchemaVersion),
                [Schema.Created] = Schema.N(_time.GetUtcNow().ToUnixTimeMilliseconds()),
            },
            // An older snapshot arriving late must not replace a newer one.
            ConditionExpression = "attribute_not_exists(pk) OR #v <= :v",
            ExpressionAttributeNames = new() { ["#v"] = Schema.Value },
            ExpressionAttributeValues = new() { [":v"] = Schema.N(snapshot.Version) },
        };
        try
        {
            await DynamoDBErrors.Run(() => _client.PutItemAsync(request, cancellationToken), "PutItem (snapshot)", cancellationToken).ConfigureAwait(false);
        }
        catch (ConditionalCheckFailedException)
        {
            // A newer snapshot is stored; keeping it is the contract.
        }
    }

    /// <inheritdoc />
    public async Task DeleteAsync(StreamName stream, CancellationToken cancellationToken = default)
    {
        var request = new DeleteItemRequest { TableName = _table, Key = Schema.Key(Schema.SnapshotPrefix + stream.Value, 0) };
        await DynamoDBErrors.Run(() => _client.DeleteItemAsync(request, cancellationToken), "DeleteItem (snapshot)", cancellationToken).ConfigureAwait(false);
    }
}
