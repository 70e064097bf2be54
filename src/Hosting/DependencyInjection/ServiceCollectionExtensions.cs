using System.Reflection;
using EventStore.Providers;
using Microsoft.Extensions.Configuration;

// In this namespace so `services.AddEventStore` is found without an extra using, as Microsoft.Extensions does.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the event store.</summary>
public static class EventStoreServiceCollectionExtensions
{
    /// <summary>The provider names this library ships, for error messages.</summary>
    private static readonly string[] KnownProviders = ["InMemory", "Postgres", "EventStoreDB", "DynamoDB", "Kafka"];

    /// <summary>The spellings of <c>EventStore:Provider</c> each provider answers to (case-insensitive).</summary>
    private static readonly Dictionary<string, string> ProviderSpellings = new(StringComparer.OrdinalIgnoreCase)
    {
        ["InMemory"] = "InMemory", ["Memory"] = "InMemory",
        ["Postgres"] = "Postgres", ["PostgreSQL"] = "Postgres", ["Npgsql"] = "Postgres",
        ["EventStoreDB"] = "EventStoreDB", ["EventStore"] = "EventStoreDB", ["ESDB"] = "EventStoreDB", ["KurrentDB"] = "EventStoreDB", ["Kurrent"] = "EventStoreDB",
        ["DynamoDB"] = "DynamoDB", ["Dynamo"] = "DynamoDB",
        ["Kafka"] = "Kafka",
    };

    /// <summary>
    /// Registers the event store with the provider chosen in <paramref name="configure"/>, wrapped with
    /// instrumentation, plus the typed-event serializer, the <see cref="EventStore.Providers.Aggregates.AggregateStore"/>,
    /// a hosted service running every <see cref="IEventStoreInitializer"/> at start, and the <c>eventstore</c> health check.
    /// </summary>
    /// <exception cref="InvalidOperationException">No provider was chosen.</exception>
    public static IServiceCollection AddEventStore(this IServiceCollection services, Action<EventStoreBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        var builder = new EventStoreBuilder(services, null);
        configure(builder);
        if (builder.ProviderName is null)
            throw new InvalidOperationException("AddEventStore: no provider was chosen; call o.UseInMemory(), o.UsePostgres(...), o.UseEventStoreDB(...), o.UseDynamoDB(...) or o.UseKafka(...).");
        services.AddOptions<EventStoreOptions>().ValidateEventStoreOptions("EventStore", EventStoreOptions.Validate);
        EventStoreCoreServices.Add(builder);
        return services;
    }

    /// <summary>
    /// Registers the event store from configuration: <c>Provider</c> names the provider (InMemory, Postgres,
    /// EventStoreDB, DynamoDB, Kafka) and the section of that name holds its options, for example
    /// <c>EventStore:Provider = Postgres</c> and <c>EventStore:Postgres:ConnectionString</c>. The provider's package
    /// must be referenced by the application.
    /// </summary>
    /// <exception cref="EventStoreConfigurationException">A key is missing or invalid; the message names it.</exception>
    public static IServiceCollection AddEventStore(this IServiceCollection services, IConfiguration section, Action<EventStoreBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(section);
        var prefix = section is IConfigurationSection s ? s.Path + ":" : "";
        var builder = new EventStoreBuilder(services, section);
        var provider = section["Provider"];
        if (string.IsNullOrWhiteSpace(provider))
            throw new EventStoreConfigurationException($"{prefix}Provider", $"is missing; set it to one of {string.Join(", ", KnownProviders)}.");
        EventStoreOptionsBuilderExtensions.BindChecked(builder, section);
        if (builder.SnapshotEvery < 0)
            throw new EventStoreConfigurationException($"{prefix}SnapshotEvery", $"is {builder.SnapshotEvery}; it must be 0 or more.");
        // Another library's provider is found by its assembly name, EventStore.Providers.{Provider}.
        var known = ProviderSpellings.TryGetValue(provider.Trim(), out var canonical);
        var name = canonical ?? provider.Trim();
        var configurator = FindConfigurator(name, known, provider, $"{prefix}Provider");
        // Options live under the provider's own name (EventStore:Postgres), or under the name as written.
        var options = section.GetSection(name);
        if (!options.Exists() && section.GetSection(provider).Exists()) options = section.GetSection(provider);
        configurator.Configure(builder, options);
        services.AddOptions<EventStoreOptions>()
            .BindEventStoreSection(section)
            .ValidateEventStoreOptions(prefix.TrimEnd(':'), EventStoreOptions.Validate);
        configure?.Invoke(builder);
        EventStoreCoreServices.Add(builder);
        return services;
    }

    private static IEventStoreProviderConfigurator FindConfigurator(string name, bool known, string provider, string key)
    {
        var package = $"EventStore.Providers.{name}";
        Assembly assembly;
        try
        {
            assembly = Assembly.Load(new AssemblyName(package));
        }
        catch (Exception e) when (e is FileNotFoundException or FileLoadException or BadImageFormatException)
        {
            throw new EventStoreConfigurationException(key, known
                ? $"is '{provider}', but the application does not reference the package {package}; add it with 'dotnet add package {package}'."
                : $"is '{provider}', which is not a known provider; use one of {string.Join(", ", KnownProviders)} (spellings such as PostgreSQL, KurrentDB, ESDB, Dynamo and Memory work too).", e);
        }
        var attribute = assembly.GetCustomAttribute<EventStoreProviderAttribute>()
            ?? throw new EventStoreConfigurationException(key, $"is '{provider}', but assembly {assembly.GetName().Name} declares no [EventStoreProvider].");
        return Activator.CreateInstance(attribute.ConfiguratorType, nonPublic: true) as IEventStoreProviderConfigurator
            ?? throw new EventStoreConfigurationException(key, $"is '{provider}', but {attribute.ConfiguratorType} is not an IEventStoreProviderConfigurator.");
    }
}
