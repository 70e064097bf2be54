using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace EventStore.Providers;

/// <summary>
/// Configures the event store in <c>services.AddEventStore(o =&gt; o.UseXxx(...))</c>. Provider packages add
/// <c>UseXxx</c> extension methods that call <see cref="UseProvider"/>.
/// </summary>
public sealed class EventStoreBuilder
{
    internal EventStoreBuilder(IServiceCollection services, IConfiguration? configuration)
    {
        Services = services;
        Configuration = configuration;
    }

    /// <summary>The application's services.</summary>
    public IServiceCollection Services { get; }

    /// <summary>The <c>EventStore</c> configuration section when configured from configuration; otherwise null.</summary>
    public IConfiguration? Configuration { get; }

    /// <summary>The chosen provider's name, once one was chosen.</summary>
    public string? ProviderName { get; private set; }

    /// <summary>Snapshot after this many events by default (0 = never). Bound from <c>EventStore:SnapshotEvery</c>.</summary>
    public int SnapshotEvery { get; set; }

    /// <summary>Wrap the provider's <see cref="IEventStore"/> with tracing, metrics and logging. Default true. Bound from <c>EventStore:EnableInstrumentation</c>.</summary>
    public bool EnableInstrumentation { get; set; } = true;

    /// <summary>
    /// Register the <c>eventstore</c> health check (tags <c>eventstore</c> and the provider's name in lower case) with
    /// the host's health checks. Default true; false registers no event store check at all. Bound from
    /// <c>EventStore:EnableHealthCheck</c>.
    /// </summary>
    public bool EnableHealthCheck { get; set; } = true;

    /// <summary>
    /// Chooses the provider. A provider registers <see cref="IEventStore"/>, <see cref="ISnapshotStore"/>,
    /// <see cref="ICheckpointStore"/>, optionally <see cref="IEventStoreInitializer"/>, and its health check, in
    /// <paramref name="register"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">A provider was already chosen.</exception>
    public EventStoreBuilder UseProvider(string providerName, Action<IServiceCollection> register)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(providerName);
        ArgumentNullException.ThrowIfNull(register);
        if (ProviderName is not null)
            throw new InvalidOperationException($"The event store provider is already set to '{ProviderName}'; cannot also use '{providerName}'.");
        ProviderName = providerName;
        register(Services);
        return this;
    }

    /// <summary>
    /// Chooses a provider described by <paramref name="provider"/>: its options are bound from
    /// <paramref name="section"/> (when given), then set by <paramref name="configure"/> and any later
    /// <c>services.Configure&lt;TOptions&gt;</c>, and validated when the host starts or the store is first resolved.
    /// The store is a singleton behind <see cref="IEventStore"/> and the role interfaces.
    /// </summary>
    /// <exception cref="InvalidOperationException">A provider was already chosen.</exception>
    public EventStoreBuilder UseProvider<TOptions, TStore>(EventStoreProviderRegistration<TOptions, TStore> provider, IConfiguration? section = null, Action<TOptions>? configure = null)
        where TOptions : class, new()
        where TStore : class, IEventStore
    {
        ArgumentNullException.ThrowIfNull(provider);
        return UseProvider(provider.Name, services => provider.Register(services, section, configure));
    }
}

/// <summary>
/// Marks a provider assembly so <c>AddEventStore(configuration)</c> can find it by the <c>Provider</c> key. The
/// assembly must be named <c>EventStore.Providers.{Name}</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = false)]
public sealed class EventStoreProviderAttribute(string name, Type configuratorType) : Attribute
{
    /// <summary>The value of <c>EventStore:Provider</c> that selects this provider.</summary>
    public string Name { get; } = name;

    /// <summary>A type implementing <see cref="IEventStoreProviderConfigurator"/> with a public parameterless constructor.</summary>
    public Type ConfiguratorType { get; } = configuratorType;
}

/// <summary>Configures a provider from its configuration section (<c>EventStore:{Provider}</c>).</summary>
public interface IEventStoreProviderConfigurator
{
    /// <summary>Binds and validates the provider's options from <paramref name="section"/> and registers the provider.</summary>
    void Configure(EventStoreBuilder builder, IConfigurationSection section);
}
