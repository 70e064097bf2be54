using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace EventStore.Providers.DynamoDB.Tests;

public sealed class StoresAndConfigurationTests(DynamoDBServer server)
{
    private readonly DynamoDBFixture _fixture = new(server);

    [Theory]
    [InlineData(null, null, false)]
    [InlineData("http://127.0.0.1:8000", null, true)]
    [InlineData("http://127.0.0.1:8000", false, false)]
    [InlineData(null, true, true)]
    public void Index_entries_are_checked_against_the_table_by_default_only_on_a_custom_endpoint(string? serviceUrl, bool? verify, bool expected)
    {
        var options = new DynamoDBEventStoreOptions { ServiceUrl = serviceUrl, VerifyIndexEntries = verify };
        Assert.Equal(expected, options.VerifiesIndexEntries);
    }

    [Fact]
    public async Task The_snapshot_store_keeps_the_newest_snapshot_and_ignores_an_older_one()
    {
        await using var sut = await _fixture.CreateStoreAsync(TestContext.Current.CancellationToken);
        var stream = TestEvents.Stream();
        Assert.Null(await sut.Snapshots.LoadAsync(stream));
        await sut.Snapshots.SaveAsync(new Snapshot(stream, 5, "State", new byte[] { 5 }));
        await sut.Snapshots.SaveAsync(new Snapshot(stream, 3, "State", new byte[] { 3 }));
        var loaded = await sut.Snapshots.LoadAsync(stream);
        Assert.Equal(5, loaded!.Version);
        Assert.Equal(new byte[] { 5 }, loaded.Data.ToArray());
        await sut.Snapshots.SaveAsync(new Snapshot(stream, 9, "State", new byte[] { 9 }, 2));
        Assert.Equal(2, (await sut.Snapshots.LoadAsync(stream))!.SchemaVersion);
        await sut.Snapshots.DeleteAsync(stream);
        Assert.Null(await sut.Snapshots.LoadAsync(stream));
    }

    [Fact]
    public async Task The_checkpoint_store_saves_loads_and_deletes_positions()
    {
        await using var sut = await _fixture.CreateStoreAsync(TestContext.Current.CancellationToken);
        Assert.Null(await sut.Checkpoints.LoadAsync("projection-a"));
        await sut.Checkpoints.SaveAsync("projection-a", Position.FromInt64(42));
        await sut.Checkpoints.SaveAsync("projection-a", Position.FromInt64(43));
        Assert.Equal(Position.FromInt64(43), await sut.Checkpoints.LoadAsync("projection-a"));
        await sut.Checkpoints.DeleteAsync("projection-a");
        Assert.Null(await sut.Checkpoints.LoadAsync("projection-a"));
    }

    [Fact]
    public async Task A_subscription_delivers_history_then_caught_up_then_live_events_once_each()
    {
        await using var sut = await _fixture.CreateStoreAsync(TestContext.Current.CancellationToken);
        var stream = TestEvents.Stream();
        await sut.Store.AppendAsync(stream, ExpectedVersion.NoStream, TestEvents.Many(3));
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(TimeSpan.FromMinutes(1));
        var kinds = new List<SubscriptionMessageKind>();
        var other = await sut.OpenAnotherInstanceAsync(default);
        await foreach (var m in sut.Store.SubscribeToAllAsync(cancellationToken: cts.Token))
        {
            kinds.Add(m.Kind);
            if (m.Kind == SubscriptionMessageKind.CaughtUp)
                await other.AppendAsync(stream, ExpectedVersion.Exact(2), TestEvents.Many(2)); // live, from another instance
            if (kinds.Count(k => k == SubscriptionMessageKind.Event) == 5) break;
        }
        Assert.Equal([SubscriptionMessageKind.Event, SubscriptionMessageKind.Event, SubscriptionMessageKind.Event, SubscriptionMessageKind.CaughtUp,
            SubscriptionMessageKind.Event, SubscriptionMessageKind.Event], kinds);
    }

    [Theory]
    [InlineData("TableName", "x", "EventStore:DynamoDB:TableName")]
    [InlineData("TableName", "bad name!", "EventStore:DynamoDB:TableName")]
    [InlineData("ServiceUrl", "not a url", "EventStore:DynamoDB:ServiceUrl")]
    [InlineData("AccessKeyId", "AKIA", "EventStore:DynamoDB:SecretAccessKey")]
    [InlineData("AllPartitions", "0", "EventStore:DynamoDB:AllPartitions")]
    public void Invalid_configuration_is_refused_naming_the_key(string key, string value, string expectedKey)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["EventStore:Provider"] = "DynamoDB",
            ["EventStore:DynamoDB:TableName"] = "events",
            [$"EventStore:DynamoDB:{key}"] = value,
        }).Build();
        using var provider = new ServiceCollection().AddEventStore(configuration.GetSection("EventStore")).BuildServiceProvider();
        var e = Assert.Throws<EventStoreConfigurationException>(() => provider.GetRequiredService<IEventStore>());
        Assert.Equal(expectedKey, e.Key);
        Assert.DoesNotContain("AKIA", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_provider_is_chosen_by_configuration_and_creates_its_tables_when_asked()
    {
        var table = "cfg-" + Guid.NewGuid().ToString("N")[..12];
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["EventStore:Provider"] = "DynamoDB",
            ["EventStore:DynamoDB:TableName"] = table,
            ["EventStore:DynamoDB:ServiceUrl"] = server.Url,
            ["EventStore:DynamoDB:Region"] = "us-east-1",
            ["EventStore:DynamoDB:AccessKeyId"] = "test",
            ["EventStore:DynamoDB:SecretAccessKey"] = "test",
            ["EventStore:DynamoDB:CreateTables"] = "true",
        }).Build();
        await using var provider = new ServiceCollection().AddEventStore(configuration.GetSection("EventStore")).BuildServiceProvider();
        await provider.GetRequiredService<IEventStoreInitializer>().InitializeAsync(TestContext.Current.CancellationToken);
        var store = provider.GetRequiredService<IEventStore>();
        Assert.Equal("DynamoDB", store.Capabilities.ProviderName);
        var stream = TestEvents.Stream();
        await store.AppendAsync(stream, ExpectedVersion.NoStream, TestEvents.Many(2));
        Assert.Equal(2, (await store.ReadStreamAsync(stream).ToListAsync()).Count);
        Assert.True(store.Capabilities.SubscriptionGroups);
        var leases = Assert.IsType<DynamoDBSubscriptionLeaseStore>(provider.GetRequiredService<ISubscriptionLeaseStore>());
        Assert.NotNull(await leases.TryAcquireAsync("p/share/0", "a", DateTimeOffset.UnixEpoch, TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken));
        var options = provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<DynamoDBEventStoreOptions>>().Value;
        await new DynamoDBTableInitializer(DynamoDBClientFactory.Create(options), options).DeleteTablesAsync(TestContext.Current.CancellationToken);
    }
}
