using System.Diagnostics.Metrics;
using EventStore.Providers.Aggregates;
using EventStore.Providers.Diagnostics;
using EventStore.Providers.Hosting;
using EventStore.Providers.Projections;
using EventStore.Providers.Serialization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EventStore.Providers;

/// <summary>What <c>AddEventStore</c> registers around the chosen provider.</summary>
internal static class EventStoreCoreServices
{
    /// <summary>The name of the health check registration.</summary>
    public const string HealthCheckName = "eventstore";

    /// <summary>The tag every event store health check carries; an explicit registration replaces the automatic one by it.</summary>
    public const string HealthCheckTag = "eventstore";

    /// <summary>The service key of the provider's own <see cref="IEventStore"/> once it is wrapped.</summary>
    public const string ProviderStoreKey = "EventStore.Providers:provider";

    /// <summary>The service key of the provider's own health probe, run by the <c>eventstore</c> check.</summary>
    public const string ProviderHealthCheckKey = "EventStore.Providers:health";

    public static void Add(EventStoreBuilder builder)
    {
        var services = builder.Services;
        // The health check service and the hosted services log; a container built without a host still resolves them.
        services.AddLogging();
        services.TryAddSingleton(TimeProvider.System);

        services.AddOptions<EventSerializationOptions>();
        services.TryAddSingleton(sp => sp.GetRequiredService<IOptions<EventSerializationOptions>>().Value.Types);
        services.TryAddSingleton(sp => sp.GetRequiredService<IOptions<EventSerializationOptions>>().Value.Upcasters);
        services.TryAddSingleton<IEventSerializer>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<EventSerializationOptions>>().Value;
            return new JsonEventSerializer(options.Types, options.Upcasters, options.Json, sp.GetService<TimeProvider>());
        });

        // Read when the options are first built, so o.SnapshotEvery set anywhere in the configure callback counts.
        services.AddOptions<AggregateStoreOptions>().Configure(o => o.SnapshotEvery = builder.SnapshotEvery);
        services.TryAddSingleton(sp => new AggregateStore(
            sp.GetRequiredService<IEventStore>(),
            sp.GetRequiredService<IEventSerializer>(),
            sp.GetService<ISnapshotStore>(),
            sp.GetRequiredService<IOptions<AggregateStoreOptions>>(),
            sp.GetService<ILogger<AggregateStore>>()));

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, EventStoreInitializerHostedService>());

        if (builder.EnableInstrumentation) Instrument(services);
        // The role interfaces are the same store, so readers and writers are measured like IEventStore users.
        services.TryAddSingleton<IEventReader>(sp => sp.GetRequiredService<IEventStore>());
        services.TryAddSingleton<IEventWriter>(sp => sp.GetRequiredService<IEventStore>());
        services.TryAddSingleton<IEventSubscriber>(sp => sp.GetRequiredService<IEventStore>());
        if (builder.EnableHealthCheck)
        {
            string[] tags = [HealthCheckTag, builder.ProviderName!.ToLowerInvariant()];
            services.AddHealthChecks();
            services.Configure<HealthCheckServiceOptions>(o =>
            {
                if (o.Registrations.All(r => r.Name != HealthCheckName && !r.Tags.Contains(HealthCheckTag)))
                    o.Registrations.Add(CreateHealthCheck(HealthCheckName, null, tags, null));
            });
        }
    }

    public static HealthCheckRegistration CreateHealthCheck(string name, HealthStatus? failureStatus, IEnumerable<string>? tags, TimeSpan? timeout) =>
        new(name,
            sp => new EventStoreHealthCheck(
                sp.GetRequiredService<IEventStore>(),
                timeout ?? sp.GetService<IOptions<EventStoreOptions>>()?.Value.HealthCheckTimeout ?? EventStoreHealthCheck.DefaultTimeout,
                sp.GetKeyedService<IHealthCheck>(ProviderHealthCheckKey),
                sp.GetServices<SubscriptionRunner>()),
            failureStatus,
            tags);

    // The provider registered IEventStore its own way (type, factory or instance); it is moved under a private key
    // and IEventStore becomes the instrumented wrapper around it, so application code is measured whatever the backend.
    private static void Instrument(IServiceCollection services)
    {
        services.TryAddSingleton(sp => new EventStoreInstrumentation(sp.GetService<IMeterFactory>()));
        var descriptor = services.LastOrDefault(d => d.ServiceType == typeof(IEventStore) && !d.IsKeyedService);
        if (descriptor is null || descriptor.ImplementationType == typeof(InstrumentedEventStore)) return;
        services.Remove(descriptor);
        services.Add(new ServiceDescriptor(typeof(IEventStore), ProviderStoreKey, (sp, _) => descriptor switch
        {
            { ImplementationInstance: { } instance } => instance,
            { ImplementationFactory: { } factory } => factory(sp),
            _ => ActivatorUtilities.CreateInstance(sp, descriptor.ImplementationType!),
        }, descriptor.Lifetime));
        services.Add(new ServiceDescriptor(typeof(IEventStore), sp => new InstrumentedEventStore(
            sp.GetRequiredKeyedService<IEventStore>(ProviderStoreKey),
            sp.GetRequiredService<EventStoreInstrumentation>(),
            sp.GetService<ILogger<InstrumentedEventStore>>()), descriptor.Lifetime));
    }
}
