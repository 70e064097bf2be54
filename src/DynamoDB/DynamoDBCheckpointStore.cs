using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;

namespace EventStore.Providers.DynamoDB;

/// <summary>Stores each subscription's checkpoint in one item keyed by the subscription id.</summary>
public sealed class DynamoDBCheckpointStore : ICheckpointStore
{
    private readonly IAmazonDynamoDB _client;
    private readonly string _table;

    /// <summary>Creates the store over <paramref name="client"/> and the table named by the options.</summary>
    public DynamoDBCheckpointStore(IAmazonDynamoDB client, DynamoDBEventStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        _client = client;
        _table = options.EffectiveCheckpointTable;
    }

    /// <inheritdoc />
    public async Task<Position?> LoadAsync(string subscriptionId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(subscriptionId);
        var request = new GetItemRequest { TableName = _table, Key = Schema.Key(Schema.CheckpointPrefix + subscriptionId, 0), ConsistentRead = true };
        var response = await DynamoDBErrors.Run(() => _client.GetItemAsync(request, cancellationToken), "GetItem (checkpoint)", cancellationToken).ConfigureAwait(false);
        return response.Item is { Count: > 0 } item ? Position.Parse(Schema.GetString(item, Schema.Value)!) : null;
    }

    /// <inheritdoc />
    public async Task SaveAsync(string subscriptionId, Position position, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(subscriptionId);
        var request = new PutItemRequest
        {
            TableName = _table,
            Item = new()
            {
                [Schema.Pk] = Schema.S(Schema.CheckpointPrefix + subscriptionId),
                [Schema.Sk] = Schema.N(0),
                [Schema.Value] = Schema.S(position.ToString()),
            },
        };
        await DynamoDBErrors.Run(() => _client.PutItemAsync(request, cancellationToken), "PutItem (checkpoint)", cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task DeleteAsync(string subscriptionId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(subscriptionId);
        var request = new DeleteItemRequest { TableName = _table, Key = Schema.Key(Schema.CheckpointPrefix + subscriptionId, 0) };
        await DynamoDBErrors.Run(() => _client.DeleteItemAsync(request, cancellationToken), "DeleteItem (checkpoint)", cancellationToken).ConfigureAwait(false);
    }
}
