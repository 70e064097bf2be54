using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace EventStore.Providers.InMemory;

/// <summary>Selects the in-memory provider for <c>EventStore:Provider = InMemory</c>; it has no options of its own.</summary>
internal sealed class InMemoryProviderConfigurator : IEventStoreProviderConfigurator
{
    public void Configure(EventStoreBuilder builder, IConfigurationSection section) => builder.UseInMemory();
}
