using EventStore.Providers;
using EventStore.Providers.Kafka;
using EventStore.Providers.Projections;
using Microsoft.Extensions.Logging;

[assembly: EventStoreProvider("Kafka", typeof(KafkaProviderConfigurator))]

// In this namespace so `o.UseKafka(...)` is found without an extra using, as Microsoft.Extensions does.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Kafka provider.</summary>
public static class KafkaEventStoreBuilderExtensions
{
    /// <summary>
    /// Uses Kafka with options set in <paramref name="configure"/> (and by any
    /// <c>services.Configure&lt;KafkaEventStoreOptions&gt;</c>): <see cref="IEventStore"/>, <see cref="ISnapshotStore"/>,
    /// <see cref="ICheckpointStore"/>, <see cref="IEventStoreInitializer"/> and the subscription groups'
    /// <see cref="ISubscriptionGroupCoordinatorFactory"/> (Kafka consumer groups). The options are validated when the host
    /// starts or the store is first resolved.
    /// </summary>
    public static EventStoreBuilder UseKafka(this EventStoreBuilder builder, Action<KafkaEventStoreOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        return RegisterSubscriptionGroups(builder.UseProvider(Registration, configure: configure));
    }

    /// <summary>Subscription groups run on Kafka's consumer groups, not on a lease store.</summary>
    internal static EventStoreBuilder RegisterSubscriptionGroups(EventStoreBuilder builder)
    {
        builder.Services.AddSingleton<ISubscriptionGroupCoordinatorFactory>(sp => sp.GetRequiredService<KafkaEventStore>().SubscriptionGroups);
        return builder;
    }

    internal static readonly EventStoreProviderRegistration<KafkaEventStoreOptions, KafkaEventStore> Registration = new()
    {
        Name = "Kafka",
        SectionName = KafkaEventStoreOptions.SectionName,
        CreateValidator = (_, path) => new KafkaEventStoreOptionsValidator(path),
        CreateStore = (sp, options) => new KafkaEventStore(options, sp.GetService<ILogger<KafkaEventStore>>()),
        CreateSnapshotStore = (_, store) => store.Snapshots,
        CreateCheckpointStore = (_, store) => store.Checkpoints,
        CreateInitializer = (_, store) => store,
    };
}
