using EventStore.Providers;
using EventStore.Providers.Postgres;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Npgsql;

// In this namespace so `o.UsePostgres(...)` is found without an extra using, as Microsoft.Extensions does.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Chooses PostgreSQL as the event store: <c>services.AddEventStore(o =&gt; o.UsePostgres(...))</c>.</summary>
public static class PostgresEventStoreBuilderExtensions
{
    /// <summary>Uses PostgreSQL through <paramref name="connectionString"/> (never logged).</summary>
    /// <exception cref="EventStoreConfigurationException">The connection string or another option is invalid.</exception>
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
    /// Uses PostgreSQL with the given options. When <see cref="PostgresEventStoreOptions.ConnectionString"/> is not
    /// set, an <see cref="NpgsqlDataSource"/> registered in DI is used (for example by <c>AddNpgsqlDataSource</c>).
    /// Registers <see cref="IEventStore"/>, <see cref="IEventStoreInitializer"/> (migrations),
    /// <see cref="ISnapshotStore"/>, <see cref="ICheckpointStore"/>, the concrete PostgreSQL types and a health check.
    /// </summary>
    /// <exception cref="EventStoreConfigurationException">An option is invalid; the message names its configuration key.</exception>
    public static EventStoreBuilder UsePostgres(this EventStoreBuilder builder, Action<PostgresEventStoreOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        var options = new PostgresEventStoreOptions();
        configure(options);
        return builder.UsePostgres(options, PostgresEventStoreOptions.SectionName);
    }

    internal static EventStoreBuilder UsePostgres(this EventStoreBuilder builder, PostgresEventStoreOptions options, string section)
    {
        // The connection string may come from a data source registered after this call: check it when resolved.
        options.Validate(hasDataSource: true, section);
        var useOwnDataSource = !string.IsNullOrWhiteSpace(options.ConnectionString);
        if (useOwnDataSource) options.Validate(hasDataSource: false, section);
        return builder.UseProvider("Postgres", services =>
        {
            services.AddSingleton(options);
            services.AddSingleton(sp =>
            {
                var loggerFactory = sp.GetService<ILoggerFactory>();
                if (useOwnDataSource) return PostgresEventStore.Create(options, loggerFactory);
                var dataSource = sp.GetService<NpgsqlDataSource>();
                if (dataSource is null) options.Validate(hasDataSource: false, section);
                return new PostgresEventStore(dataSource!, options, loggerFactory?.CreateLogger<PostgresEventStore>());
            });
            services.AddSingleton<IEventStore>(sp => sp.GetRequiredService<PostgresEventStore>());
            services.AddSingleton<IEventStoreInitializer>(sp => sp.GetRequiredService<PostgresEventStore>());
            services.AddSingleton(sp => new PostgresSnapshotStore(sp.GetRequiredService<PostgresEventStore>()));
            services.AddSingleton<ISnapshotStore>(sp => sp.GetRequiredService<PostgresSnapshotStore>());
            services.AddSingleton(sp => new PostgresCheckpointStore(sp.GetRequiredService<PostgresEventStore>()));
            services.AddSingleton<ICheckpointStore>(sp => sp.GetRequiredService<PostgresCheckpointStore>());
            services.AddHealthChecks().Add(new HealthCheckRegistration(
                "eventstore-postgres",
                sp => new PostgresHealthCheck(sp.GetRequiredService<PostgresEventStore>()),
                HealthStatus.Unhealthy,
                ["eventstore", "postgres"]));
        });
    }
}
