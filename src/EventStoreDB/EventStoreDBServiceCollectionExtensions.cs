using EventStore.Providers;
using EventStore.Providers.EventStoreDB;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

[assembly: EventStoreProvider("EventStoreDB", typeof(EventStoreDBProviderConfigurator))]

// In this namespace so `o.UseEventStoreDB(...)` is found without an extra using, as Microsoft.Extensions does.
namespace Microsoft.Extensions.DependencyInjection
{
    /// <summary>Chooses the EventStoreDB provider in <c>AddEventStore</c>.</summary>
    public static class EventStoreDBEventStoreBuilderExtensions
    {
        /// <summary>Uses EventStoreDB / KurrentDB at <paramref name="connectionString"/> (<c>esdb://host:2113?tls=false</c>).</summary>
        public static EventStoreBuilder UseEventStoreDB(this EventStoreBuilder builder, string connectionString) =>
            builder.UseEventStoreDB(o => o.ConnectionString = connectionString);

        /// <summary>
        /// Uses EventStoreDB / KurrentDB with options set in <paramref name="configure"/> (and by any
        /// <c>services.Configure&lt;EventStoreDBEventStoreOptions&gt;</c>). The options, connection string included, are
        /// validated when the host starts or the store is first resolved; the error names the key, never the password.
        /// </summary>
        public static EventStoreBuilder UseEventStoreDB(this EventStoreBuilder builder, Action<EventStoreDBEventStoreOptions> configure)
        {
            ArgumentNullException.ThrowIfNull(builder);
            ArgumentNullException.ThrowIfNull(configure);
            return builder.UseProvider(Registration, configure: configure);
        }

        internal static readonly EventStoreProviderRegistration<EventStoreDBEventStoreOptions, EventStoreDBEventStore> Registration = new()
        {
            Name = "EventStoreDB",
            SectionName = EventStoreDBEventStoreOptions.SectionName,
            CreateValidator = (_, path) => new EventStoreDBEventStoreOptionsValidator(path),
            CreateStore = (sp, options) => new EventStoreDBEventStore(options, sp.GetService<ILogger<EventStoreDBEventStore>>()),
            CreateSnapshotStore = (_, store) => new EventStoreDBSnapshotStore(store),
            CreateCheckpointStore = (_, store) => new EventStoreDBCheckpointStore(store),
            CreateLeaseStore = (_, store) => new EventStoreDBSubscriptionLeaseStore(store),
        };
    }
}

namespace EventStore.Providers.EventStoreDB
{
    /// <summary>Binds <see cref="EventStoreDBEventStoreOptions"/> from <c>EventStore:EventStoreDB</c> when <c>EventStore:Provider</c> is <c>EventStoreDB</c>.</summary>
    public sealed class EventStoreDBProviderConfigurator : IEventStoreProviderConfigurator
    {
        /// <inheritdoc />
        public void Configure(EventStoreBuilder builder, IConfigurationSection section)
        {
            ArgumentNullException.ThrowIfNull(builder);
            ArgumentNullException.ThrowIfNull(section);
            builder.UseProvider(Microsoft.Extensions.DependencyInjection.EventStoreDBEventStoreBuilderExtensions.Registration, section);
        }
    }
}
