using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace EventStore.Providers.Kafka;

/// <summary>Binds <see cref="KafkaEventStoreOptions"/> from <c>EventStore:Kafka</c> when <c>EventStore:Provider</c> is <c>Kafka</c>.</summary>
public sealed class KafkaProviderConfigurator : IEventStoreProviderConfigurator
{
    /// <inheritdoc />
    public void Configure(EventStoreBuilder builder, IConfigurationSection section)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(section);
        KafkaEventStoreBuilderExtensions.RegisterSubscriptionGroups(builder.UseProvider(KafkaEventStoreBuilderExtensions.Registration, section));
    }
}
