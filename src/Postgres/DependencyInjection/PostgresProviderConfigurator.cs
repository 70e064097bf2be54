using System.Globalization;
using EventStore.Providers;
using EventStore.Providers.Postgres;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

[assembly: EventStoreProvider("Postgres", typeof(PostgresProviderConfigurator))]

namespace EventStore.Providers.Postgres;

/// <summary>
/// Configures the provider from <c>EventStore:Postgres</c> (<c>ConnectionString</c>, <c>Schema</c>,
/// <c>MigrateOnStart</c>, <c>PollInterval</c>, <c>ReadPageSize</c>, <c>PendingAppendWait</c>, <c>NotifyOnAppend</c>, <c>CombineConcurrentAppends</c>, <c>AppendConcurrency</c>) when <c>EventStore:Provider</c> is <c>Postgres</c>.
/// </summary>
public sealed class PostgresProviderConfigurator : IEventStoreProviderConfigurator
{
    /// <inheritdoc />
    public void Configure(EventStoreBuilder builder, IConfigurationSection section)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(section);
        var options = new PostgresEventStoreOptions { ConnectionString = section["ConnectionString"] };
        if (section["Schema"] is { } schema) options.Schema = schema;
        options.MigrateOnStart = Bool(section, "MigrateOnStart") ?? options.MigrateOnStart;
        options.PollInterval = Duration(section, "PollInterval", "00:00:01") ?? options.PollInterval;
        options.PendingAppendWait = Duration(section, "PendingAppendWait", "00:00:10") ?? options.PendingAppendWait;
        options.NotifyOnAppend = Bool(section, "NotifyOnAppend") ?? options.NotifyOnAppend;
        options.CombineConcurrentAppends = Bool(section, "CombineConcurrentAppends") ?? options.CombineConcurrentAppends;
        options.AppendConcurrency = Integer(section, "AppendConcurrency") ?? options.AppendConcurrency;
        options.ReadPageSize = Integer(section, "ReadPageSize") ?? options.ReadPageSize;
        builder.UsePostgres(options, section.Path);
    }

    // Each returns null when the key is absent and throws, naming the key, when its value does not parse.
    private static bool? Bool(IConfigurationSection section, string key) => section[key] is not { } value ? null
        : bool.TryParse(value, out var parsed) ? parsed
        : throw new EventStoreConfigurationException($"{section.Path}:{key}", $"is '{value}'; it must be true or false.");

    private static TimeSpan? Duration(IConfigurationSection section, string key, string example) => section[key] is not { } value ? null
        : TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out var parsed) ? parsed
        : throw new EventStoreConfigurationException($"{section.Path}:{key}", $"is '{value}'; it must be a time span such as {example}.");

    private static int? Integer(IConfigurationSection section, string key) => section[key] is not { } value ? null
        : int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) ? parsed
        : throw new EventStoreConfigurationException($"{section.Path}:{key}", $"is '{value}'; it must be a whole number.");
}
