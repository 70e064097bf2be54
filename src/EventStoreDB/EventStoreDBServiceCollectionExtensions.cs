using EventStore.Providers;
using EventStore.Providers.EventStoreDB;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

[assembly: EventStoreProvider("EventStoreDB", typeof(EventStoreDBProviderConfigurator))]

// In this namespace so `o.UseEventStoreDB(...)` is found without an extra using, as Microsoft.Extensions does.
namespace Microsoft.Extensions.DependencyInjection
{
    /// <summary>Chooses the EventStoreDB provider in <c>AddEventStore</c>.</summary>
    public static class EventStoreDBEventStoreBuilderExtensions
    {
        /// <summary>Uses EventStoreDB / KurrentDB at <paramref name="connectionString"/> (<c>esdb://host:2113?tls=false</c>).</summary>
        /// <exception cref="EventStoreConfigurationException">The connection string is invalid; the message names the problem, never the password.</exception>
        public static EventStoreBuilder UseEventStoreDB(this EventStoreBuilder builder, string connectionString) =>
            builder.UseEventStoreDB(o => o.ConnectionString = connectionString);

        /// <summary>Uses EventStoreDB / KurrentDB with options set in <paramref name="configure"/>; they are validated now.</summary>
        /// <exception cref="EventStoreConfigurationException">An option is invalid; the message names its key.</exception>
        public static EventStoreBuilder UseEventStoreDB(this EventStoreBuilder builder, Action<EventStoreDBOptions> configure)
        {
            ArgumentNullException.ThrowIfNull(builder);
            ArgumentNullException.ThrowIfNull(configure);
            var options = new EventStoreDBOptions();
            configure(options);
            return builder.UseEventStoreDB(options, EventStoreDBOptions.SectionPath);
        }

        internal static EventStoreBuilder UseEventStoreDB(this EventStoreBuilder builder, EventStoreDBOptions options, string sectionPath)
        {
            options.Validate(sectionPath);
            return builder.UseProvider("EventStoreDB", services =>
            {
                services.TryAddSingleton(sp => new EventStoreDBEventStore(options, sp.GetService<ILogger<EventStoreDBEventStore>>()));
                services.TryAddSingleton<IEventStore>(sp => sp.GetRequiredService<EventStoreDBEventStore>());
                services.TryAddSingleton<IEventReader>(sp => sp.GetRequiredService<EventStoreDBEventStore>());
                services.TryAddSingleton<IEventWriter>(sp => sp.GetRequiredService<EventStoreDBEventStore>());
                services.TryAddSingleton<IEventSubscriber>(sp => sp.GetRequiredService<EventStoreDBEventStore>());
                services.TryAddSingleton<ISnapshotStore>(sp => new EventStoreDBSnapshotStore(sp.GetRequiredService<EventStoreDBEventStore>()));
                services.TryAddSingleton<ICheckpointStore>(sp => new EventStoreDBCheckpointStore(sp.GetRequiredService<EventStoreDBEventStore>()));
                services.AddHealthChecks().Add(new HealthCheckRegistration("eventstore-eventstoredb",
                    sp => new EventStoreDBHealthCheck(sp.GetRequiredService<EventStoreDBEventStore>()), failureStatus: null, tags: ["eventstore"]));
            });
        }
    }
}

namespace EventStore.Providers.EventStoreDB
{
    /// <summary>Configures the provider from <c>EventStore:EventStoreDB</c> when <c>EventStore:Provider</c> is <c>EventStoreDB</c>.</summary>
    public sealed class EventStoreDBProviderConfigurator : IEventStoreProviderConfigurator
    {
        /// <inheritdoc />
        public void Configure(EventStoreBuilder builder, IConfigurationSection section)
        {
            ArgumentNullException.ThrowIfNull(builder);
            ArgumentNullException.ThrowIfNull(section);
            var options = new EventStoreDBOptions
            {
                ConnectionString = section["ConnectionString"],
                StreamPrefix = section["StreamPrefix"] ?? "",
            };
            var categoryReads = section["CategoryReads"];
            if (categoryReads is not null)
            {
                if (!Enum.TryParse<CategoryReadSource>(categoryReads, ignoreCase: true, out var source) || !Enum.IsDefined(source))
                    throw new EventStoreConfigurationException($"{section.Path}:CategoryReads", $"is '{categoryReads}'; it must be FilteredAll or CategoryStream.");
                options.CategoryReads = source;
            }
            var batchBytes = section["BatchAppendMaxBytes"];
            if (batchBytes is not null)
            {
                if (!int.TryParse(batchBytes, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var bytes))
                    throw new EventStoreConfigurationException($"{section.Path}:BatchAppendMaxBytes", $"is '{batchBytes}'; it must be a whole number of bytes.");
                options.BatchAppendMaxBytes = bytes;
            }
            Microsoft.Extensions.DependencyInjection.EventStoreDBEventStoreBuilderExtensions.UseEventStoreDB(builder, options, section.Path);
        }
    }
}
