using EventStore.Providers;
using EventStore.Providers.Postgres;
using Microsoft.Extensions.Logging;
using Npgsql;

// In this namespace so `o.UsePostgres(...)` is found without an extra using, as Microsoft.Extensions does.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Chooses PostgreSQL as the event store: <c>services.AddEventStore(o =&gt; o.UsePostgres(...))</c>.</summary>
public static class PostgresEventStoreBuilderExtensions
{
    /// <summary>Uses PostgreSQL through <paramref name="connectionString"/> (never logged).</summary>
    public static EventStoreBuilder UsePostgres(this EventStoreBuilder builder, string connectionString, Action<PostgresEventStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.UsePostgres(o =>
        {
            o.ConnectionString = connectionString;
            configure?.Invoke(o);
        });
    }

    /// <summary>
    /// Uses PostgreSQL with options set in <paramref name="configure"/> (and by any <c>services.Configure&lt;PostgresEventStoreOptions&gt;</c>).
    /// When <see cref="PostgresEventStoreOptions.ConnectionString"/> is not set, an <see cref="NpgsqlDataSource"/>
    /// registered in DI is used (for example by <c>AddNpgsqlDataSource</c>). Registers <see cref="IEventStore"/>,
    /// <see cref="IEventStoreInitializer"/> (migrations), <see cref="ISnapshotStore"/>, <see cref="ICheckpointStore"/>,
    /// <see cref="ISubscriptionLeaseStore"/>, <see cref="PostgresEventStore"/> and the health check. The options are validated when the host starts or the
    /// store is first resolved (<see cref="EventStoreConfigurationException"/> naming the key).
    /// </summary>
    public static EventStoreBuilder UsePostgres(this EventStoreBuilder builder, Action<PostgresEventStoreOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        return builder.UseProvider(Registration, configure: configure);
    }

    internal static readonly EventStoreProviderRegistration<PostgresEventStoreOptions, PostgresEventStore> Registration = new()
    {
        Name = "Postgres",
        SectionName = PostgresEventStoreOptions.SectionName,
        CreateValidator = (sp, path) => new PostgresEventStoreOptionsValidator(path,
            sp.GetService<IServiceProviderIsService>()?.IsService(typeof(NpgsqlDataSource)) == true),
        CreateStore = (sp, options) => string.IsNullOrWhiteSpace(options.ConnectionString)
            ? new PostgresEventStore(sp.GetRequiredService<NpgsqlDataSource>(), options, sp.GetService<ILogger<PostgresEventStore>>())
            : PostgresEventStore.Create(options, sp.GetService<ILoggerFactory>()),
        CreateSnapshotStore = (_, store) => new PostgresSnapshotStore(store),
        CreateCheckpointStore = (_, store) => new PostgresCheckpointStore(store),
        CreateLeaseStore = (_, store) => new PostgresSubscriptionLeaseStore(store),
        CreateInitializer = (_, store) => store,
        CreateHealthCheck = (_, store) => new PostgresHealthCheck(store),
    };
}
