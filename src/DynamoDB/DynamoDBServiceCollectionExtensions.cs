using Amazon.DynamoDBv2;
using EventStore.Providers;
using EventStore.Providers.DynamoDB;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

[assembly: EventStoreProvider("DynamoDB", typeof(DynamoDBProviderConfigurator))]

// In this namespace so `o.UseDynamoDB(...)` is found without an extra using, as Microsoft.Extensions does.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the DynamoDB provider.</summary>
public static class DynamoDBEventStoreBuilderExtensions
{
    /// <summary>
    /// Uses DynamoDB: registers <see cref="IEventStore"/>, <see cref="ISnapshotStore"/>, <see cref="ICheckpointStore"/>
    /// and <see cref="IEventStoreInitializer"/> (which creates the tables; run at start-up when
    /// <see cref="DynamoDBEventStoreOptions.CreateTables"/> is set).
    /// </summary>
    /// <exception cref="EventStoreConfigurationException">An option is invalid; the message names its key.</exception>
    public static EventStoreBuilder UseDynamoDB(this EventStoreBuilder builder, Action<DynamoDBEventStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new DynamoDBEventStoreOptions();
        configure?.Invoke(options);
        return builder.UseDynamoDB(options, DynamoDBEventStoreOptions.SectionPath);
    }

    internal static EventStoreBuilder UseDynamoDB(this EventStoreBuilder builder, DynamoDBEventStoreOptions options, string sectionPath)
    {
        options.Validate(sectionPath);
        return builder.UseProvider("DynamoDB", services =>
        {
            services.AddSingleton(options);
            // The provider's own client, so an application's IAmazonDynamoDB (other settings) is left alone.
            services.AddSingleton(_ => new DynamoDBClientHolder(DynamoDBClientFactory.Create(options)));
            services.AddSingleton(sp => new DynamoDBEventStore(sp.GetRequiredService<DynamoDBClientHolder>().Client, options,
                sp.GetService<ILogger<DynamoDBEventStore>>(), sp.GetService<TimeProvider>()));
            services.AddSingleton<IEventStore>(sp => sp.GetRequiredService<DynamoDBEventStore>());
            services.AddSingleton<ISnapshotStore>(sp => new DynamoDBSnapshotStore(sp.GetRequiredService<DynamoDBClientHolder>().Client, options, sp.GetService<TimeProvider>()));
            services.AddSingleton<ICheckpointStore>(sp => new DynamoDBCheckpointStore(sp.GetRequiredService<DynamoDBClientHolder>().Client, options));
            services.AddSingleton<IEventStoreInitializer>(sp => new DynamoDBTableInitializer(sp.GetRequiredService<DynamoDBClientHolder>().Client, options,
                sp.GetService<ILogger<DynamoDBTableInitializer>>()));
            if (options.CreateTables)
                services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, DynamoDBTableCreationService>());
        });
    }
}
