using Amazon.DynamoDBv2;
using EventStore.Providers.Conformance;

namespace EventStore.Providers.DynamoDB.Tests;

/// <summary>Makes a fresh store per test: its own table on the shared DynamoDB endpoint, dropped when the test ends.</summary>
public class DynamoDBFixture(DynamoDBServer server) : IEventStoreFixture
{
    /// <summary>Whether the stores this fixture makes fence commits against skips (<see cref="DynamoDBEventStoreOptions.FenceCommits"/>).</summary>
    public virtual bool FenceCommits => false;

    /// <summary>Whether the tables this fixture makes have the event-type index (<see cref="DynamoDBEventStoreOptions.IndexEventTypes"/>).</summary>
    public virtual bool IndexEventTypes => false;

    public DynamoDBServer Server { get; } = server;

    // dynalite on a shared 2-core machine: the contract's minimum keeps the lazy-read test to about half a minute.
    public int LargeReadEventCount => 100_000;

    // Flat, not proportional to the count: DynamoDB hands out query pages of up to 1 MB, and $all merges its four
    // index partitions, each holding one page while the merge runs (plus the SDK's copy of the page being parsed).
    public long LargeReadMemoryBudgetBytes => 8L * 1024 * 1024;

    public DynamoDBEventStoreOptions NewOptions() => new()
    {
        TableName = "es-" + Guid.NewGuid().ToString("N")[..16],
        ServiceUrl = Server.Url,
        Region = "us-east-1",
        AccessKeyId = "test",
        SecretAccessKey = "test",
        PollInterval = TimeSpan.FromMilliseconds(25),
        FenceCommits = FenceCommits,
        IndexEventTypes = IndexEventTypes,
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
        await initializer.CreateTablesAsync(cancellationToken);
        var store = new DynamoDBEventStore(used, options, timeProvider: time);
        return new StoreUnderTest(store, new DynamoDBSnapshotStore(raw, options), new DynamoDBCheckpointStore(raw, options),
            _ => Task.FromResult<IEventStore>(new DynamoDBEventStore(raw, options, timeProvider: time)),
            async () =>
            {
                await initializer.DeleteTablesAsync();
                raw.Dispose();
            })
        {
            Leases = new DynamoDBSubscriptionLeaseStore(raw, options),
        };
    }
}

/// <summary>The same stores with <see cref="DynamoDBEventStoreOptions.FenceCommits"/> on: each append writes an intent first.</summary>
public sealed class FencedDynamoDBFixture(DynamoDBServer server) : DynamoDBFixture(server)
{
    public override bool FenceCommits => true;
}

/// <summary>The same stores on tables with the event-type index: type-filtered reads query it instead of filtering <c>$all</c>.</summary>
public sealed class TypeIndexedDynamoDBFixture(DynamoDBServer server) : DynamoDBFixture(server)
{
    public override bool IndexEventTypes => true;
}
