using Amazon.DynamoDBv2.Model;
using EventStore.Providers.Conformance;

namespace EventStore.Providers.DynamoDB.Tests;

/// <summary>The start-up matrix against dynalite: the switch is CreateTables, the storage the events table.</summary>
public sealed class StartupTests(DynamoDBServer server) : StartupMatrixTests
{
    private readonly DynamoDBEventStoreOptions _options = new DynamoDBFixture(server).NewOptions();

    protected override string CreateSwitchKey => "EventStore:DynamoDB:CreateTables";

    protected override string StorageName => _options.TableName;

    protected override IDictionary<string, string?> Settings() => new Dictionary<string, string?>
    {
        ["EventStore:Provider"] = "DynamoDB",
        ["EventStore:DynamoDB:TableName"] = _options.TableName,
        ["EventStore:DynamoDB:ServiceUrl"] = _options.ServiceUrl,
        ["EventStore:DynamoDB:Region"] = _options.Region,
        ["EventStore:DynamoDB:AccessKeyId"] = _options.AccessKeyId,
        ["EventStore:DynamoDB:SecretAccessKey"] = _options.SecretAccessKey,
    };

    protected override async Task<bool> StorageExistsAsync(CancellationToken cancellationToken)
    {
        using var client = DynamoDBClientFactory.Create(_options);
        try
        {
            await client.DescribeTableAsync(new DescribeTableRequest { TableName = _options.TableName }, cancellationToken);
            return true;
        }
        catch (ResourceNotFoundException)
        {
            return false;
        }
    }

    protected override async Task DropStorageAsync()
    {
        using var client = DynamoDBClientFactory.Create(_options);
        await new DynamoDBTableInitializer(client, _options).DeleteTablesAsync();
    }
}
