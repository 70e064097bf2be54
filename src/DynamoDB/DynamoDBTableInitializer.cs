using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EventStore.Providers.DynamoDB;

/// <summary>
/// Creates the provider's tables (on-demand billing) when missing and <see cref="DynamoDBEventStoreOptions.CreateTables"/>
/// is set, or verifies that they exist when it is not; then waits until they are active.
/// </summary>
public sealed class DynamoDBTableInitializer : IEventStoreInitializer
{
    private readonly IAmazonDynamoDB _client;
    private readonly DynamoDBEventStoreOptions _options;
    private readonly ILogger _logger;

    /// <summary>Creates the initializer.</summary>
    public DynamoDBTableInitializer(IAmazonDynamoDB client, DynamoDBEventStoreOptions options, ILogger<DynamoDBTableInitializer>? logger = null)
        : this(client, options, (ILogger?)logger)
    {
    }

    internal DynamoDBTableInitializer(IAmazonDynamoDB client, DynamoDBEventStoreOptions options, ILogger? logger)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        _client = client;
        _options = options;
        _logger = logger ?? (ILogger)NullLogger.Instance;
    }

    /// <inheritdoc />
    /// <exception cref="EventStoreConfigurationException">A table is missing and <see cref="DynamoDBEventStoreOptions.CreateTables"/> is off.</exception>
    /// <exception cref="EventStoreConfigurationException">The table was first used with another <see cref="DynamoDBEventStoreOptions.FenceCommits"/>.</exception>
    /// <exception cref="EventStoreConfigurationException"><see cref="DynamoDBEventStoreOptions.IndexEventTypes"/> is on and the table has no active type index.</exception>
    public async Task InitializeAsync(CancellationToken cancellationToken = default)
    {
        foreach (var (table, withIndexes) in Tables())
        {
            var description = await EnsureTableAsync(table, withIndexes, _options.CreateTables, cancellationToken).ConfigureAwait(false);
            if (withIndexes) HasTypeIndex = CheckTypeIndex(description);
        }
        await CheckFenceSettingAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Whether the events table has an active event-type index, as <see cref="InitializeAsync"/> found it: type-filtered
    /// reads query it when it does, and the <c>$all</c> index with a filter on the type when it does not.
    /// </summary>
    internal bool HasTypeIndex { get; private set; }

    private bool CheckTypeIndex(TableDescription table)
    {
        var index = table.GlobalSecondaryIndexes?.FirstOrDefault(i => i.IndexName == Schema.TypeIndex);
        var active = index is not null && index.IndexStatus == IndexStatus.ACTIVE;
        if (_options.IndexEventTypes && !active)
            throw new EventStoreConfigurationException($"{DynamoDBEventStoreOptions.SectionName}:{nameof(DynamoDBEventStoreOptions.IndexEventTypes)}",
                index is null
                    ? $"is true, but table '{table.TableName}' has no '{Schema.TypeIndex}' index. Add it with UpdateTable (partition key {Schema.TypeKey}, sort key {Schema.LastPosition}, both as in the provider's README, projection ALL; DynamoDB fills it from the stored commits), or set it to false to filter the $all index by type."
                    : $"is true, but the '{Schema.TypeIndex}' index of table '{table.TableName}' is {index.IndexStatus}; start again once it is ACTIVE, or set it to false meanwhile.");
        return active;
    }

    /// <summary>
    /// Records in the events table whether its commits are fenced (item <c>$cfg</c>, written by the first instance) and
    /// refuses an instance that says otherwise: a reader that skips a hole as one range does not look for the intents of
    /// fenced writers, so one such instance on the table would undo the fence.
    /// </summary>
    private async Task CheckFenceSettingAsync(CancellationToken cancellationToken)
    {
        var put = new PutItemRequest
        {
            TableName = _options.TableName,
            Item = new()
            {
                [Schema.Pk] = Schema.S(Schema.SettingsKey),
                [Schema.Sk] = Schema.N(0),
                [Schema.FenceSetting] = new AttributeValue { BOOL = _options.FenceCommits },
            },
            ConditionExpression = "attribute_not_exists(pk)",
        };
        try
        {
            await DynamoDBErrors.Run(() => _client.PutItemAsync(put, cancellationToken), "PutItem (table settings)", cancellationToken).ConfigureAwait(false);
            return;
        }
        catch (ConditionalCheckFailedException)
        {
        }
        var get = new GetItemRequest { TableName = _options.TableName, Key = Schema.Key(Schema.SettingsKey, 0), ConsistentRead = true };
        var stored = (await DynamoDBErrors.Run(() => _client.GetItemAsync(get, cancellationToken), "GetItem (table settings)", cancellationToken).ConfigureAwait(false)).Item;
        var fenced = stored is not null && stored.TryGetValue(Schema.FenceSetting, out var v) && v.BOOL == true;
        if (fenced != _options.FenceCommits)
            throw new EventStoreConfigurationException($"{DynamoDBEventStoreOptions.SectionName}:{nameof(DynamoDBEventStoreOptions.FenceCommits)}",
                $"is {(_options.FenceCommits ? "true" : "false")}, but table '{_options.TableName}' is used with {(fenced ? "true" : "false")}. Every instance on a table must use the same setting: change it here, or stop every instance and delete the item pk='{Schema.SettingsKey}' of that table to choose again.");
    }

    /// <summary>Creates the provider's tables when missing, whatever <see cref="DynamoDBEventStoreOptions.CreateTables"/> says (for tests and tooling).</summary>
    public async Task CreateTablesAsync(CancellationToken cancellationToken = default)
    {
        foreach (var (table, withIndexes) in Tables())
            await EnsureTableAsync(table, withIndexes, create: true, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes the provider's tables (for tests and tooling).</summary>
    public async Task DeleteTablesAsync(CancellationToken cancellationToken = default)
    {
        foreach (var (table, _) in Tables())
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

    private IEnumerable<(string Table, bool WithIndexes)> Tables() =>
        new[] { _options.TableName, _options.EffectiveSnapshotTable, _options.EffectiveCheckpointTable }
            .Distinct(StringComparer.Ordinal)
            .Select(t => (t, t == _options.TableName));

    private async Task<TableDescription> EnsureTableAsync(string table, bool withIndexes, bool create, CancellationToken cancellationToken)
    {
        var description = await DescribeAsync(table, cancellationToken).ConfigureAwait(false);
        if (description?.TableStatus == TableStatus.ACTIVE) return description;
        if (description is null && !create)
            throw new EventStoreConfigurationException($"{DynamoDBEventStoreOptions.SectionName}:{nameof(DynamoDBEventStoreOptions.CreateTables)}",
                $"is false and table '{table}' does not exist; set {DynamoDBEventStoreOptions.SectionName}:{nameof(DynamoDBEventStoreOptions.CreateTables)}=true to create it, or create it as the provider's README describes.");
        if (description is null) await CreateTableAsync(table, withIndexes, cancellationToken).ConfigureAwait(false);
        for (var wait = 0; ; wait++)
        {
            // Indexes created with the table become active with it.
            description = await DescribeAsync(table, cancellationToken).ConfigureAwait(false);
            if (description?.TableStatus == TableStatus.ACTIVE) return description;
            if (wait > 600) throw new EventStoreException($"DynamoDB table {table} did not become active within a minute.");
            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task CreateTableAsync(string table, bool withIndexes, CancellationToken cancellationToken)
    {
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
            ]);
            request.GlobalSecondaryIndexes =
            [
                Index(Schema.AllIndex, Schema.AllPartition),
                Index(Schema.CategoryIndex, Schema.CategoryKey),
            ];
            if (_options.IndexEventTypes)
            {
                request.AttributeDefinitions.Add(new AttributeDefinition(Schema.TypeKey, ScalarAttributeType.S));
                request.GlobalSecondaryIndexes.Add(Index(Schema.TypeIndex, Schema.TypeKey));
            }
        }
        try
        {
            await DynamoDBErrors.Run(() => _client.CreateTableAsync(request, cancellationToken), "CreateTable", cancellationToken).ConfigureAwait(false);
            _logger.LogTableCreated(table);
        }
        catch (ResourceInUseException)
        {
            // Another instance is creating it: the caller waits for it.
        }
    }

    private static GlobalSecondaryIndex Index(string name, string partitionKey) => new()
    {
        IndexName = name,
        KeySchema = [new KeySchemaElement(partitionKey, KeyType.HASH), new KeySchemaElement(Schema.LastPosition, KeyType.RANGE)],
        Projection = new Projection { ProjectionType = ProjectionType.ALL },
    };

    private async Task<TableDescription?> DescribeAsync(string table, CancellationToken cancellationToken)
    {
        try
        {
            var response = await DynamoDBErrors.Run(() => _client.DescribeTableAsync(new DescribeTableRequest { TableName = table }, cancellationToken), "DescribeTable", cancellationToken).ConfigureAwait(false);
            return response.Table;
        }
        catch (EventStoreException e) when (e.InnerException is ResourceNotFoundException)
        {
            return null;
        }
    }
}
