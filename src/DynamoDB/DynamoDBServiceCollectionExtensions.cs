using EventStore.Providers;
using EventStore.Providers.DynamoDB;
using Microsoft.Extensions.Logging;

[assembly: EventStoreProvider("DynamoDB", typeof(DynamoDBProviderConfigurator))]

// In this namespace so `o.UseDynamoDB(...)` is found without an extra using, as Microsoft.Extensions does.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the DynamoDB provider.</summary>
public static class DynamoDBEventStoreBuilderExtensions
{
    /// <summary>
    /// Uses DynamoDB with options set in <paramref name="configure"/> (and by any
    /// <c>services.Configure&lt;DynamoDBEventStoreOptions&gt;</c>): registers <see cref="IEventStore"/>,
    /// <see cref="ISnapshotStore"/>, <see cref="ICheckpointStore"/>, <see cref="ISubscriptionLeaseStore"/> and
    /// <see cref="IEventStoreInitializer"/>, which
    /// creates the tables when <see cref="DynamoDBEventStoreOptions.CreateTables"/> is set and otherwise verifies them.
    /// The options are validated when the host starts or the store is first resolved.
    /// </summary>
    public static EventStoreBuilder UseDynamoDB(this EventStoreBuilder builder, Action<DynamoDBEventStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.UseProvider(Registration, configure: configure);
    }

    internal static readonly EventStoreProviderRegistration<DynamoDBEventStoreOptions, DynamoDBEventStore> Registration = new()
    {
        Name = "DynamoDB",
        SectionName = DynamoDBEventStoreOptions.SectionName,
        CreateValidator = (_, path) => new DynamoDBEventStoreOptionsValidator(path),
        // The store owns its SDK client (disposed with the container), so an application's IAmazonDynamoDB is left alone.
        CreateStore = (sp, options) => new DynamoDBEventStore(options, sp.GetService<ILogger<DynamoDBEventStore>>(), sp.GetService<TimeProvider>()),
        CreateSnapshotStore = (sp, store) => new DynamoDBSnapshotStore(store.Client, store.Options, sp.GetService<TimeProvider>()),
        CreateCheckpointStore = (_, store) => new DynamoDBCheckpointStore(store.Client, store.Options),
        CreateLeaseStore = (_, store) => new DynamoDBSubscriptionLeaseStore(store.Client, store.Options),
        CreateInitializer = (_, store) => store,
    };

}
