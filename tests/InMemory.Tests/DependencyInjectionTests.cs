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

        var store = provider.GetRequiredService<IEventStore>();
        Assert.IsType<InMemoryEventStore>(store);
        Assert.Same(store, provider.GetRequiredService<IEventStore>());
        Assert.IsType<InMemorySnapshotStore>(provider.GetRequiredService<ISnapshotStore>());
        Assert.IsType<InMemoryCheckpointStore>(provider.GetRequiredService<ICheckpointStore>());
        Assert.Same(((InMemoryEventStore)store).Storage, provider.GetRequiredService<InMemoryStorage>());

        await store.AppendAsync(new StreamName("Di-1"), ExpectedVersion.NoStream, [new EventData(Guid.NewGuid(), "T", "{}"u8.ToArray())], Ct);
        await provider.GetRequiredService<ICheckpointStore>().SaveAsync("p", await store.GetHeadPositionAsync(Ct), Ct);
        Assert.Equal(Position.FromInt64(1), await provider.GetRequiredService<ICheckpointStore>().LoadAsync("p", Ct));
    }

    [Fact]
    public async Task Configuration_with_Provider_InMemory_selects_the_in_memory_store()
    {
        var services = new ServiceCollection().AddEventStore(Section(("Provider", "InMemory")));
        await using var provider = services.BuildServiceProvider();

        Assert.IsType<InMemoryEventStore>(provider.GetRequiredService<IEventStore>());
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

    [Fact]
    public void Choosing_a_second_provider_fails()
    {
        Assert.Throws<InvalidOperationException>(() => new ServiceCollection().AddEventStore(o => o.UseInMemory().UseInMemory()));
    }
}
