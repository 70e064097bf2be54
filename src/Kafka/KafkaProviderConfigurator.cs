using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace EventStore.Providers.Kafka;

/// <summary>Configures the Kafka provider from <c>EventStore:Kafka</c> when <c>EventStore:Provider</c> is <c>Kafka</c>.</summary>
public sealed class KafkaProviderConfigurator : IEventStoreProviderConfigurator
{
    /// <inheritdoc />
    public void Configure(EventStoreBuilder builder, IConfigurationSection section)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(section);
        var options = new KafkaEventStoreOptions();
        try
        {
            section.Bind(options);
        }
        catch (InvalidOperationException e)
        {
            throw new EventStoreConfigurationException(section.Path, $"could not be read: {e.Message}", e);
        }
        builder.UseKafka(options, section.Path);
    }
}
