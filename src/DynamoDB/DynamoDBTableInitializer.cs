using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EventStore.Providers.DynamoDB;

/// <summary>Creates the provider's tables (on-demand billing) when missing and waits until they are active.</summary>
public sealed class DynamoDBTableInitializer : IEventStoreInitializer
{
    private readonly IAmazonDynamoDB _client;
    private readonly DynamoDBEventStoreOptions _options;
    private readonly ILogger _logger;

    /// <summary>Creates the initializer.</summary>
    public DynamoDBTableInitializer(IAmazonDynamoDB client, DynamoDBEventStoreOptions options, ILogger<DynamoDBTableInitializer>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        _client = client;
        _options = options;
        _logger = logger ?? (ILogger)NullLogger.Instance;
    }

    /// <inheritdoc />
    public async Task InitializeAsync(CancellationToken cancellationToken = default)
    {
        await EnsureTableAsync(_options.TableName, withIndexes: true, cancellationToken).ConfigureAwait(false);
        foreach (var table in new[] { _options.EffectiveSnapshotTable, _options.EffectiveCheckpointTable }.Distinct(StringComparer.Ordinal))
            if (table != _options.TableName)
                await EnsureTableAsync(table, withIndexes: false, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes the provider's tables (for tests and tooling).</summary>
    public async Task DeleteTablesAsync(CancellationToken cancellationToken = default)
    {
        foreach (var table in new[] { _options.TableName, _options.EffectiveSnapshotTable, _options.EffectiveCheckpointTable }.Distinct(StringComparer.Ordinal))
        {
            try
            {
                await _client.DeleteTableAsync(new DeleteTableRequest { TableName = table }, cancellationToken).ConfigureAwait(false);
            }
            catch (ResourceNotFoundException)
            {
                // Already gone.
            }
        }
    }

    private async Task EnsureTableAsync(string table, bool withIndexes, CancellationToken cancellationToken)
    {
        if (await IsActiveAsync(table, cancellationToken).ConfigureAwait(false) == true) return;
        var request = new CreateTableRequest
        {
            TableName = table,
            BillingMode = BillingMode.PAY_PER_REQUEST,
            KeySchema = [new KeySchemaElement(Schema.Pk, KeyType.HASH), new KeySchemaElement(Schema.Sk, KeyType.RANGE)],
            AttributeDefinitions =
            [
                new AttributeDefinition(Schema.Pk, ScalarAttributeType.S),
                new AttributeDefinition(Schema.Sk, ScalarAttributeType.N),
            ],
        };
        if (withIndexes)
        {
            request.AttributeDefinitions.AddRange(
            [
                new AttributeDefinition(Schema.AllPartition, ScalarAttributeType.S),
                new AttributeDefinition(Schema.LastPosition, ScalarAttributeType.N),
                new AttributeDefinition(Schema.CategoryKey, ScalarAttributeType.S),
                new AttributeDefinition(Schema.TypeKey, ScalarAttributeType.S),
            ]);
            request.GlobalSecondaryIndexes =
            [
                Index(Schema.AllIndex, Schema.AllPartition),
                Index(Schema.CategoryIndex, Schema.CategoryKey),
                Index(Schema.TypeIndex, Schema.TypeKey),
            ];
        }
        try
        {
            await DynamoDBErrors.Run(() => _client.CreateTableAsync(request, cancellationToken), "CreateTable", cancellationToken).ConfigureAwait(false);
            _logger.LogTableCreated(table);
        }
        catch (ResourceInUseException)
        {
            // Another instance is creating it: wait for it below.
        }
        for (var wait = 0; await IsActiveAsync(table, cancellationToken).ConfigureAwait(false) != true; wait++)
        {
            if (wait > 600) throw new EventStoreException($"DynamoDB table {table} did not become active within a minute.");
            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
    }

    private static GlobalSecondaryIndex Index(string name, string partitionKey) => new()
    {
        IndexName = name,
        KeySchema = [new KeySchemaElement(partitionKey, KeyType.HASH), new KeySchemaElement(Schema.LastPosition, KeyType.RANGE)],
        Projection = new Projection { ProjectionType = ProjectionType.ALL },
    };

    private async Task<bool?> IsActiveAsync(string table, CancellationToken cancellationToken)
    {
        try
        {
            var response = await DynamoDBErrors.Run(() => _client.DescribeTableAsync(new DescribeTableRequest { TableName = table }, cancellationToken), "DescribeTable", cancellationToken).ConfigureAwait(false);
            return response.Table.TableStatus == TableStatus.ACTIVE;
        }
        catch (EventStoreException e) when (e.InnerException is ResourceNotFoundException)
        {
            return null;
        }
    }
}
