using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace EventStore.Providers;

/// <summary>
/// How a provider registers: its options, their validator and its stores. Every provider hands one of these to
/// <see cref="EventStoreBuilder.UseProvider{TOptions, TStore}(EventStoreProviderRegistration{TOptions, TStore}, IConfiguration?, Action{TOptions}?)"/>,
/// which registers all of them the same way.
/// </summary>
/// <typeparam name="TOptions">The provider's options class, bound from <see cref="SectionName"/>.</typeparam>
/// <typeparam name="TStore">The provider's event store.</typeparam>
public sealed class EventStoreProviderRegistration<TOptions, TStore>
    where TOptions : class, new()
    where TStore : class, IEventStore
{
    /// <summary>The provider's name, as <c>EventStore:Provider</c> spells it (<c>Postgres</c>).</summary>
    public required string Name { get; init; }

    /// <summary>The configuration section of the options when set from code (<c>EventStore:Postgres</c>), for error messages.</summary>
    public required string SectionName { get; init; }

    /// <summary>The options' validator, given the services and the configuration path the options bind from.</summary>
    public Func<IServiceProvider, string, IValidateOptions<TOptions>>? CreateValidator { get; init; }

    /// <summary>Builds the store from the validated options.</summary>
    public required Func<IServiceProvider, TOptions, TStore> CreateStore { get; init; }

    /// <summary>The snapshot store over the store.</summary>
    public required Func<IServiceProvider, TStore, ISnapshotStore> CreateSnapshotStore { get; init; }

    /// <summary>The checkpoint store over the store.</summary>
    public required Func<IServiceProvider, TStore, ICheckpointStore> CreateCheckpointStore { get; init; }

    /// <summary>
    /// The subscription-group lease store over the store, registered as <see cref="ISubscriptionLeaseStore"/>; null when
    /// the provider keeps no leases (it coordinates groups natively, or does not support them).
    /// </summary>
    public Func<IServiceProvider, TStore, ISubscriptionLeaseStore>? CreateLeaseStore { get; init; }

    /// <summary>What creates or verifies the provider's storage at start; null when it has none.</summary>
    public Func<IServiceProvider, TStore, IEventStoreInitializer>? CreateInitializer { get; init; }

    /// <summary>
    /// A provider-specific health probe run by the <c>eventstore</c> health check (within its timeout); null probes
    /// the head position.
    /// </summary>
    public Func<IServiceProvider, TStore, IHealthCheck>? CreateHealthCheck { get; init; }

    internal void Register(IServiceCollection services, IConfiguration? section, Action<TOptions>? configure)
    {
        var path = section is IConfigurationSection s ? s.Path : SectionName;
        var options = services.AddOptions<TOptions>();
        if (section is not null) options.BindEventStoreSection(section);
        if (configure is not null) options.Configure(configure);
        if (CreateValidator is { } validator)
            services.AddSingleton<IValidateOptions<TOptions>>(sp => validator(sp, path));
        options.ValidateOnStart();

        services.AddSingleton(sp => CreateStore(sp, sp.GetValidatedOptions<TOptions>()));
        services.AddSingleton<IEventStore>(sp => sp.GetRequiredService<TStore>());
        services.AddSingleton(sp => CreateSnapshotStore(sp, sp.GetRequiredService<TStore>()));
        services.AddSingleton(sp => CreateCheckpointStore(sp, sp.GetRequiredService<TStore>()));
        if (CreateLeaseStore is { } leases)
            services.AddSingleton(sp => leases(sp, sp.GetRequiredService<TStore>()));
        if (CreateInitializer is { } initializer)
            services.AddSingleton(sp => initializer(sp, sp.GetRequiredService<TStore>()));
        if (CreateHealthCheck is { } health)
            services.AddKeyedSingleton(EventStoreCoreServices.ProviderHealthCheckKey, (sp, _) => health(sp, sp.GetRequiredService<TStore>()));
    }
}
