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
        if (section["MigrateOnStart"] is { } migrate)
        {
            options.MigrateOnStart = bool.TryParse(migrate, out var m)
                ? m
                : throw new EventStoreConfigurationException($"{section.Path}:MigrateOnStart", $"is '{migrate}'; it must be true or false.");
        }
        if (section["PollInterval"] is { } poll)
        {
            options.PollInterval = TimeSpan.TryParse(poll, CultureInfo.InvariantCulture, out var p)
                ? p
                : throw new EventStoreConfigurationException($"{section.Path}:PollInterval", $"is '{poll}'; it must be a time span such as 00:00:01.");
        }
        if (section["PendingAppendWait"] is { } wait)
        {
            options.PendingAppendWait = TimeSpan.TryParse(wait, CultureInfo.InvariantCulture, out var w)
                ? w
                : throw new EventStoreConfigurationException($"{section.Path}:PendingAppendWait", $"is '{wait}'; it must be a time span such as 00:00:10.");
        }
        if (section["NotifyOnAppend"] is { } notify)
        {
            options.NotifyOnAppend = bool.TryParse(notify, out var n)
                ? n
                : throw new EventStoreConfigurationException($"{section.Path}:NotifyOnAppend", $"is '{notify}'; it must be true or false.");
        }
        if (section["CombineConcurrentAppends"] is { } combine)
        {
            options.CombineConcurrentAppends = bool.TryParse(combine, out var c)
                ? c
                : throw new EventStoreConfigurationException($"{section.Path}:CombineConcurrentAppends", $"is '{combine}'; it must be true or false.");
        }
        if (section["AppendConcurrency"] is { } concurrency)
        {
            options.AppendConcurrency = int.TryParse(concurrency, NumberStyles.Integer, CultureInfo.InvariantCulture, out var k)
                ? k
                : throw new EventStoreConfigurationException($"{section.Path}:AppendConcurrency", $"is '{concurrency}'; it must be a whole number.");
        }
        if (section["ReadPageSize"] is { } size)
        {
            options.ReadPageSize = int.TryParse(size, NumberStyles.Integer, CultureInfo.InvariantCulture, out var s)
                ? s
                : throw new EventStoreConfigurationException($"{section.Path}:ReadPageSize", $"is '{size}'; it must be a whole number.");
        }
        builder.UsePostgres(options, section.Path);
    }
}
