using EventStore.Providers;
using EventStore.Providers.Kafka;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

[assembly: EventStoreProvider("Kafka", typeof(KafkaProviderConfigurator))]

// In this namespace so `o.UseKafka(...)` is found without an extra using, as Microsoft.Extensions does.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Kafka provider.</summary>
public static class KafkaEventStoreBuilderExtensions
{
    /// <summary>Uses Kafka: <see cref="IEventStore"/>, <see cref="ISnapshotStore"/>, <see cref="ICheckpointStore"/> and <see cref="IEventStoreInitializer"/>.</summary>
    /// <exception cref="EventStoreConfigurationException">An option is invalid; the message names its key.</exception>
    public static EventStoreBuilder UseKafka(this EventStoreBuilder builder, Action<KafkaEventStoreOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        var options = new KafkaEventStoreOptions();
        configure(options);
        return builder.UseKafka(options, KafkaEventStoreOptions.SectionName);
    }

    internal static EventStoreBuilder UseKafka(this EventStoreBuilder builder, KafkaEventStoreOptions options, string sectionPath)
    {
        options.Validate(sectionPath);
        return builder.UseProvider("Kafka", services =>
        {
            services.AddSingleton(options);
            services.AddSingleton(sp => new KafkaEventStore(options, sp.GetService<ILogger<KafkaEventStore>>()));
            services.AddSingleton<IEventStore>(sp => sp.GetRequiredService<KafkaEventStore>());
            services.AddSingleton<IEventStoreInitializer>(sp => sp.GetRequiredService<KafkaEventStore>());
            services.AddSingleton<ISnapshotStore>(sp => sp.GetRequiredService<KafkaEventStore>().Snapshots);
            services.AddSingleton<ICheckpointStore>(sp => sp.GetRequiredService<KafkaEventStore>().Checkpoints);
        });
    }
}
