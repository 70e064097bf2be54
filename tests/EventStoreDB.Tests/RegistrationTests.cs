using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace EventStore.Providers.EventStoreDB.Tests;

public sealed class RegistrationTests
{
    private static IConfigurationSection Section(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build().GetSection("EventStore");

    private static EventStoreConfigurationException ResolvingFails(IServiceCollection services)
    {
        using var provider = services.BuildServiceProvider();
        return Assert.Throws<EventStoreConfigurationException>(() => provider.GetRequiredService<IEventStore>());
    }

    [Fact]
    public void Configuration_without_a_connection_string_fails_naming_the_key()
    {
        var e = ResolvingFails(new ServiceCollection().AddEventStore(Section(("EventStore:Provider", "EventStoreDB"))));
        Assert.Equal("EventStore:EventStoreDB:ConnectionString", e.Key);
    }

    [Fact]
    public void Configuration_with_a_bad_category_source_fails_naming_the_key()
    {
        var e = ResolvingFails(new ServiceCollection().AddEventStore(Section(
            ("EventStore:Provider", "EventStoreDB"), ("EventStore:EventStoreDB:ConnectionString", "esdb://localhost:2113?tls=false"),
            ("EventStore:EventStoreDB:CategoryReads", "Projection"))));
        Assert.Equal("EventStore:EventStoreDB:CategoryReads", e.Key);
    }

    [Theory]
    [InlineData("esdb://admin:hunter2@localhost:70000?tls=false")]
    [InlineData("esdb://admin:hunter2@:2113?tls=false")]
    [InlineData("esdb://admin:hunter2@localhost:2113?maxRetries=many")]
    [InlineData("http://admin:hunter2@localhost:2113")]
    public void A_connection_string_that_parses_but_is_wrong_fails_validation_naming_the_key_without_the_password(string connectionString)
    {
        var e = ResolvingFails(new ServiceCollection().AddEventStore(o => o.UseEventStoreDB(connectionString)));
        Assert.Equal("EventStore:EventStoreDB:ConnectionString", e.Key);
        Assert.DoesNotContain("hunter2", e.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Configure_after_AddEventStore_reaches_the_store_and_IOptions()
    {
        var services = new ServiceCollection().AddEventStore(o => o.UseEventStoreDB("esdb://localhost:2113?tls=false"));
        services.Configure<EventStoreDBEventStoreOptions>(o => o.StreamPrefix = "late_");
        using var provider = services.BuildServiceProvider();

        Assert.Equal("late_", provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<EventStoreDBEventStoreOptions>>().Value.StreamPrefix);
        Assert.Equal(StreamName.MaxLength - 5, provider.GetRequiredService<EventStoreDBEventStore>().Capabilities.MaxStreamNameLength);
    }

    [Fact]
    public void Configuration_chooses_the_provider_and_registers_its_stores()
    {
        var services = new ServiceCollection().AddEventStore(Section(
            ("EventStore:Provider", "EventStoreDB"), ("EventStore:EventStoreDB:ConnectionString", "esdb://admin:changeit@localhost:2113?tls=false")));
        Assert.Contains(services, d => d.ServiceType == typeof(IEventStore));
        Assert.Contains(services, d => d.ServiceType == typeof(ISnapshotStore));
        Assert.Contains(services, d => d.ServiceType == typeof(ICheckpointStore));
        Assert.Contains(services, d => d.ServiceType == typeof(Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckService));
    }

    [Fact]
    public void UseEventStoreDB_validates_the_connection_string_when_the_store_is_resolved()
    {
        var e = ResolvingFails(new ServiceCollection().AddEventStore(o => o.UseEventStoreDB("esdb://admin:hunter2@localhost:notaport")));
        Assert.DoesNotContain("hunter2", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_store_declares_its_capabilities_honestly()
    {
        using var store = new EventStoreDBEventStore(new EventStoreDBEventStoreOptions { ConnectionString = "esdb://localhost:2113?tls=false", StreamPrefix = "p_" });
        Assert.Equal("EventStoreDB", store.Capabilities.ProviderName);
        Assert.True(store.Capabilities.SoftDelete);
        Assert.True(store.Capabilities.Tombstone);
        Assert.False(store.Capabilities.TransactionalCheckpoints);
        Assert.Equal(GlobalOrdering.Total, store.Capabilities.GlobalOrder);
        Assert.Equal(StreamName.MaxLength - 2, store.Capabilities.MaxStreamNameLength);
    }
}
