using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace EventStore.Providers.EventStoreDB.Tests;

public sealed class RegistrationTests
{
    private static IConfigurationSection Section(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build().GetSection("EventStore");

    [Fact]
    public void Configuration_without_a_connection_string_fails_naming_the_key()
    {
        var e = Assert.Throws<EventStoreConfigurationException>(() =>
            new ServiceCollection().AddEventStore(Section(("EventStore:Provider", "EventStoreDB"))));
        Assert.Equal("EventStore:EventStoreDB:ConnectionString", e.Key);
    }

    [Fact]
    public void Configuration_with_a_bad_category_source_fails_naming_the_key()
    {
        var e = Assert.Throws<EventStoreConfigurationException>(() => new ServiceCollection().AddEventStore(Section(
            ("EventStore:Provider", "EventStoreDB"), ("EventStore:EventStoreDB:ConnectionString", "esdb://localhost:2113?tls=false"),
            ("EventStore:EventStoreDB:CategoryReads", "Projection"))));
        Assert.Equal("EventStore:EventStoreDB:CategoryReads", e.Key);
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
    public void UseEventStoreDB_validates_the_connection_string_at_registration()
    {
        var e = Assert.Throws<EventStoreConfigurationException>(() =>
            new ServiceCollection().AddEventStore(o => o.UseEventStoreDB("esdb://admin:hunter2@localhost:notaport")));
        Assert.DoesNotContain("hunter2", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_store_declares_its_capabilities_honestly()
    {
        using var store = new EventStoreDBEventStore(new EventStoreDBOptions { ConnectionString = "esdb://localhost:2113?tls=false", StreamPrefix = "p_" });
        Assert.Equal("EventStoreDB", store.Capabilities.ProviderName);
        Assert.True(store.Capabilities.SoftDelete);
        Assert.True(store.Capabilities.Tombstone);
        Assert.False(store.Capabilities.TransactionalCheckpoints);
        Assert.Equal(GlobalOrdering.Total, store.Capabilities.GlobalOrder);
        Assert.Equal(StreamName.MaxLength - 2, store.Capabilities.MaxStreamNameLength);
    }
}
