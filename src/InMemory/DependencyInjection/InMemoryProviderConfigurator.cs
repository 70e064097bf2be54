using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace EventStore.Providers.InMemory;

/// <summary>Selects the in-memory provider for <c>EventStore:Provider = InMemory</c>.</summary>
internal sealed class InMemoryProviderConfigurator : IEventStoreProviderConfigurator
{
    public void Configure(EventStoreBuilder builder, IConfigurationSection section)
    {
        builder.Services.TryAddSingleton<InMemoryStorage>();
        builder.UseProvider(InMemoryEventStoreBuilderExtensions.Registration, section);
    }
}
