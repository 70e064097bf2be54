using EventStore.Providers;
using EventStore.Providers.Postgres;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

[assembly: EventStoreProvider("Postgres", typeof(PostgresProviderConfigurator))]

namespace EventStore.Providers.Postgres;

/// <summary>Binds <see cref="PostgresEventStoreOptions"/> from <c>EventStore:Postgres</c> when <c>EventStore:Provider</c> is <c>Postgres</c>.</summary>
public sealed class PostgresProviderConfigurator : IEventStoreProviderConfigurator
{
    /// <inheritdoc />
    public void Configure(EventStoreBuilder builder, IConfigurationSection section)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(section);
        builder.UseProvider(PostgresEventStoreBuilderExtensions.Registration, section);
    }
}
