using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace EventStore.Providers.InMemory.Tests;

/// <summary>Registering the in-memory provider in code and from configuration.</summary>
public sealed class DependencyInjectionTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static IConfigurationSection Section(params (string Key, string? Value)[] values) =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>("EventStore:" + v.Key, v.Value)))
            .Build()
            .GetSection("EventStore");

    [Fact]
    public async Task UseInMemory_registers_one_store_whose_snapshot_and_checkpoint_stores_share_its_storage()
    {
        var services = new ServiceCollection().AddEventStore(o => o.UseInMemory());
        await using var provider = services.BuildServiceProvider();

        // IEventStore may be wrapped (instrumentation), so the test goes through behaviour, not the concrete type.
        var store = provider.GetRequiredService<IEventStore>();
        Assert.Equal("InMemory", store.Capabilities.ProviderName);
        Assert.Same(store, provider.GetRequiredService<IEventStore>());
        Assert.IsType<InMemorySnapshotStore>(provider.GetRequiredService<ISnapshotStore>());
        Assert.IsType<InMemoryCheckpointStore>(provider.GetRequiredService<ICheckpointStore>());
        Assert.IsType<InMemorySubscriptionLeaseStore>(provider.GetRequiredService<ISubscriptionLeaseStore>());

        var stream = new StreamName("Di-1");
        await store.AppendAsync(stream, ExpectedVersion.NoStream, [new EventData(Guid.NewGuid(), "T", "{}"u8.ToArray())], Ct);
        Assert.Equal(0, (await provider.GetRequiredService<InMemoryEventStore>().GetStreamInfoAsync(stream, Ct)).LastVersion);
        await provider.GetRequiredService<ICheckpointStore>().SaveAsync("p", await store.GetHeadPositionAsync(Ct), Ct);
        Assert.Equal(Position.FromInt64(1), await new InMemoryCheckpointStore(provider.GetRequiredService<InMemoryStorage>()).LoadAsync("p", Ct));
    }

    [Fact]
    public async Task Configuration_with_Provider_InMemory_selects_the_in_memory_store()
    {
        var services = new ServiceCollection().AddEventStore(Section(("Provider", "InMemory")));
        await using var provider = services.BuildServiceProvider();

        Assert.Equal("InMemory", provider.GetRequiredService<IEventStore>().Capabilities.ProviderName);
        Assert.NotNull(provider.GetRequiredService<InMemoryStorage>());
        var leases = provider.GetRequiredService<ISubscriptionLeaseStore>();
        var held = await leases.TryAcquireAsync("p/share/0", "a", DateTimeOffset.UnixEpoch, TimeSpan.FromSeconds(10), Ct);
        Assert.NotNull(held);
        Assert.Equal([held], await new InMemorySubscriptionLeaseStore(provider.GetRequiredService<InMemoryStorage>()).ListAsync("p/", Ct));
    }

    [Fact]
    public void The_provider_name_in_configuration_is_case_insensitive()
    {
        var services = new ServiceCollection().AddEventStore(Section(("Provider", "inmemory")));

        Assert.Contains(services, d => d.ServiceType == typeof(IEventStore));
    }

    [Fact]
    public void A_missing_provider_fails_with_an_error_naming_the_EventStore_Provider_key()
    {
        var error = Assert.Throws<EventStoreConfigurationException>(() => new ServiceCollection().AddEventStore(Section(("SnapshotEvery", "10"))));

        Assert.Equal("EventStore:Provider", error.Key);
        Assert.Contains("EventStore:Provider", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_provider_fails_with_an_error_naming_the_EventStore_Provider_key_and_the_value()
    {
        var error = Assert.Throws<EventStoreConfigurationException>(() => new ServiceCollection().AddEventStore(Section(("Provider", "Cassandra"))));

        Assert.Equal("EventStore:Provider", error.Key);
        Assert.Contains("Cassandra", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("InMemory")]
    [InlineData("memory")]
    [InlineData(" Memory ")]
    public void The_usual_spellings_of_the_provider_name_select_it(string spelling)
    {
        using var provider = new ServiceCollection().AddEventStore(Section(("Provider", spelling))).BuildServiceProvider();

        Assert.Equal("InMemory", provider.GetRequiredService<IEventStore>().Capabilities.ProviderName);
    }

    [Theory]
    [InlineData("PostgreSQL", "EventStore.Providers.Postgres")]
    [InlineData("postgres", "EventStore.Providers.Postgres")]
    [InlineData("KurrentDB", "EventStore.Providers.EventStoreDB")]
    [InlineData("ESDB", "EventStore.Providers.EventStoreDB")]
    [InlineData("Dynamo", "EventStore.Providers.DynamoDB")]
    [InlineData("kafka", "EventStore.Providers.Kafka")]
    public void A_known_provider_whose_package_is_missing_says_which_package_to_add(string spelling, string package)
    {
        // This test project references only the in-memory provider.
        var error = Assert.Throws<EventStoreConfigurationException>(() => new ServiceCollection().AddEventStore(Section(("Provider", spelling))));

        Assert.Equal("EventStore:Provider", error.Key);
        Assert.Contains($"dotnet add package {package}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_provider_lists_the_valid_names()
    {
        var error = Assert.Throws<EventStoreConfigurationException>(() => new ServiceCollection().AddEventStore(Section(("Provider", "Cassandra"))));

        foreach (var name in new[] { "InMemory", "Postgres", "EventStoreDB", "DynamoDB", "Kafka" })
            Assert.Contains(name, error.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_role_interfaces_resolve_to_the_instrumented_store()
    {
        await using var provider = new ServiceCollection().AddEventStore(o => o.UseInMemory()).BuildServiceProvider();

        var store = provider.GetRequiredService<IEventStore>();
        Assert.IsType<EventStore.Providers.Diagnostics.InstrumentedEventStore>(store);
        Assert.Same(store, provider.GetRequiredService<IEventReader>());
        Assert.Same(store, provider.GetRequiredService<IEventWriter>());
        Assert.Same(store, provider.GetRequiredService<IEventSubscriber>());
    }

    [Fact]
    public async Task The_options_are_registered_on_the_options_pattern()
    {
        await using var provider = new ServiceCollection().AddEventStore(Section(("Provider", "InMemory"))).BuildServiceProvider();

        Assert.NotNull(provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<InMemoryEventStoreOptions>>().Value);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task EnableHealthCheck_decides_whether_any_event_store_check_is_registered(bool enabled)
    {
        var services = new ServiceCollection().AddLogging().AddEventStore(Section(("Provider", "InMemory"), ("EnableHealthCheck", enabled.ToString())));
        services.AddHealthChecks();
        await using var provider = services.BuildServiceProvider();

        var report = await provider.GetRequiredService<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckService>().CheckHealthAsync(Ct);

        if (!enabled)
        {
            Assert.Empty(report.Entries);
            return;
        }
        var entry = Assert.Single(report.Entries);
        Assert.Equal("eventstore", entry.Key);
        Assert.Equal(["eventstore", "inmemory"], entry.Value.Tags.Order());
    }

    [Fact]
    public void Choosing_a_second_provider_fails()
    {
        Assert.Throws<InvalidOperationException>(() => new ServiceCollection().AddEventStore(o => o.UseInMemory().UseInMemory()));
    }
}
