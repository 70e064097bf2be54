using Amazon.DynamoDBv2;
using EventStore.Providers.Conformance;

namespace EventStore.Providers.DynamoDB.Tests;

/// <summary>Makes a fresh store per test: its own table on the shared dynalite, dropped when the test ends.</summary>
public sealed class DynamoDBFixture(DynaliteServer server) : IEventStoreFixture
{
    public DynaliteServer Server { get; } = server;

    // Written with 10,000-event appends (chunked commits), 100,000 events keep the lazy-read test to seconds here.
    public int LargeReadEventCount => 100_000;

    public DynamoDBEventStoreOptions NewOptions() => new()
    {
        TableName = "es-" + Guid.NewGuid().ToString("N")[..16],
        ServiceUrl = Server.Url,
        Region = "us-east-1",
        AccessKeyId = "test",
        SecretAccessKey = "test",
        PollInterval = TimeSpan.FromMilliseconds(25),
    };

    public async Task<StoreUnderTest> CreateStoreAsync(CancellationToken cancellationToken = default)
    {
        var options = NewOptions();
        return await CreateStoreAsync(options, null, null, cancellationToken);
    }

    public async Task<StoreUnderTest> CreateStoreAsync(DynamoDBEventStoreOptions options, IAmazonDynamoDB? client, TimeProvider? time, CancellationToken cancellationToken = default)
    {
        var raw = DynamoDBClientFactory.Create(options);
        var used = client ?? raw;
        var initializer = new DynamoDBTableInitializer(raw, options);
        await initializer.InitializeAsync(cancellationToken);
        var store = new DynamoDBEventStore(used, options, timeProvider: time);
        return new StoreUnderTest(store, new DynamoDBSnapshotStore(raw, options), new DynamoDBCheckpointStore(raw, options),
            _ => Task.FromResult<IEventStore>(new DynamoDBEventStore(raw, options, timeProvider: time)),
            async () =>
            {
                await initializer.DeleteTablesAsync();
                raw.Dispose();
            });
    }
}
