using EventStore.Providers;
using EventStore.Providers.Diagnostics;
using EventStore.Providers.Hosting;
using EventStore.Providers.Projections;
using EventStore.Providers.Serialization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers hosted subscriptions and projections.</summary>
public static class SubscriptionServiceCollectionExtensions
{
    /// <summary>
    /// Runs a catch-up subscription with <typeparamref name="THandler"/> (a singleton) for the life of the host. Its
    /// <see cref="SubscriptionRunner"/> is a keyed singleton (key = <paramref name="subscriptionId"/>). Options come from
    /// <paramref name="configure"/>, then from <c>EventStore:Subscriptions:{id}</c> in the application's configuration,
    /// and are validated at start. With <see cref="SubscriptionOptions.Group"/> set, the runner is one instance of a
    /// subscription group, coordinated by the provider's registered <see cref="ISubscriptionGroupCoordinatorFactory"/>
    /// (native groups) or else through its registered <see cref="ISubscriptionLeaseStore"/>; a provider with neither
    /// fails the start with an <see cref="EventStoreConfigurationException"/> naming <c>...:Group:Mode</c>.
    /// </summary>
    /// <exception cref="InvalidOperationException">A subscription with this id is already registered.</exception>
    public static IServiceCollection AddEventStoreSubscription<THandler>(this IServiceCollection services, string subscriptionId, EventFilter? filter = null, Action<SubscriptionOptions>? configure = null)
        where THandler : class, ISubscriptionHandler
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(subscriptionId);
        if (services.Any(d => d.IsKeyedService && d.ServiceType == typeof(SubscriptionRunner) && Equals(d.ServiceKey, subscriptionId)))
            throw new InvalidOperationException($"A subscription with id '{subscriptionId}' is already registered; ids are checkpoint keys and must be unique.");

        services.TryAddSingleton<THandler>();
        var section = $"EventStore:Subscriptions:{subscriptionId}";
        services.AddOptions<SubscriptionOptions>(subscriptionId)
            .Configure(o =>
            {
                if (filter is not null) o.Filter = filter;
                configure?.Invoke(o);
            })
            .Configure<IServiceProvider>((o, sp) =>
            {
                var configuration = sp.GetService<IConfiguration>();
                if (configuration is not null) EventStoreOptionsBuilderExtensions.BindChecked(o, configuration.GetSection(section));
            })
            .ValidateEventStoreOptions(section, o => ValidateSubscription(subscriptionId, o));

        services.AddKeyedSingleton(subscriptionId, (sp, _) =>
        {
            var handler = sp.GetRequiredService<THandler>();
            var serializer = sp.GetService<IEventSerializer>();
            var options = sp.GetRequiredService<IOptionsMonitor<SubscriptionOptions>>().Get(subscriptionId);
            if (options.Filter.IsEmpty && handler is Projection projection && serializer is not null)
                options = Copy(options, projection.CreateFilter(serializer));
            // Without stored checkpoints the runner keeps them in this process only: a restart starts from the beginning.
            var checkpoints = options.StoreCheckpoints ? sp.GetRequiredService<ICheckpointStore>() : new InProcessCheckpointStore();
            return new SubscriptionRunner(subscriptionId, sp.GetRequiredService<IEventStore>(), checkpoints, handler,
                options, serializer, sp.GetService<TimeProvider>(), sp.GetService<ILogger<SubscriptionRunner>>(),
                options.Group.Mode == SubscriptionGroupMode.None ? null : GroupCoordinators(sp), sp.GetService<EventStoreInstrumentation>());
        });
        services.AddSingleton(sp => sp.GetRequiredKeyedService<SubscriptionRunner>(subscriptionId));
        services.AddSingleton<IHostedService>(sp => new SubscriptionHostedService(sp.GetRequiredKeyedService<SubscriptionRunner>(subscriptionId)));
        return services;
    }

    /// <summary>
    /// Runs the projection <typeparamref name="TProjection"/> as a hosted subscription named
    /// <paramref name="subscriptionId"/> (default: the class name) that receives only the event types it handles.
    /// Get its runner with <c>GetRequiredKeyedService&lt;SubscriptionRunner&gt;(id)</c> to wait for it or rebuild it.
    /// </summary>
    public static IServiceCollection AddProjection<TProjection>(this IServiceCollection services, string? subscriptionId = null, Action<SubscriptionOptions>? configure = null)
        where TProjection : Projection =>
        services.AddEventStoreSubscription<TProjection>(subscriptionId ?? typeof(TProjection).Name, null, configure);

    // A native mechanism (Kafka consumer groups) wins over leases; null when the provider offers neither.
    private static ISubscriptionGroupCoordinatorFactory? GroupCoordinators(IServiceProvider sp) =>
        sp.GetService<ISubscriptionGroupCoordinatorFactory>()
        ?? (sp.GetService<ISubscriptionLeaseStore>() is { } leases ? new LeaseCoordinatorFactory(leases, sp.GetService<ILoggerFactory>()) : null);

    private static ConfigurationProblem? ValidateSubscription(string subscriptionId, SubscriptionOptions o) =>
        ValidateGroup(subscriptionId, o.Group) ??
        (o.BatchSize < 1 ? new(nameof(o.BatchSize), $"is {o.BatchSize}; it must be 1 or more.") :
        o.CheckpointAfterEvents < 1 ? new(nameof(o.CheckpointAfterEvents), $"is {o.CheckpointAfterEvents}; it must be 1 or more.") :
        o.CheckpointAfterTime <= TimeSpan.Zero ? new(nameof(o.CheckpointAfterTime), $"is {o.CheckpointAfterTime}; it must be a positive duration.") :
        o.FilteredCheckpointInterval < 1 ? new(nameof(o.FilteredCheckpointInterval), $"is {o.FilteredCheckpointInterval}; it must be 1 or more.") :
        o.ResubscribeAttempts < 0 ? new(nameof(o.ResubscribeAttempts), $"is {o.ResubscribeAttempts}; it must be 0 or more.") :
        o.ResubscribeDelay < TimeSpan.Zero ? new(nameof(o.ResubscribeDelay), $"is {o.ResubscribeDelay}; it must not be negative.") :
        null);

    private static ConfigurationProblem? ValidateGroup(string subscriptionId, SubscriptionGroupOptions? g) =>
        g is null ? new("Group", "is missing.") :
        !Enum.IsDefined(g.Mode) ? new("Group:Mode", $"is {g.Mode}; it must be None, ActiveStandby or Partitioned.") :
        g.Mode != SubscriptionGroupMode.None && subscriptionId.Contains('/', StringComparison.Ordinal) ? new("Group:Mode", $"is {g.Mode}, but the subscription id '{subscriptionId}' contains '/', which a group's lease record names cannot.") :
        g.Shares is < 1 or > 1024 ? new("Group:Shares", $"is {g.Shares}; it must be from 1 to 1024.") :
        g.LeaseTime <= TimeSpan.Zero ? new("Group:LeaseTime", $"is {g.LeaseTime}; it must be a positive duration such as 00:00:10.") :
        g.RenewInterval <= TimeSpan.Zero ? new("Group:RenewInterval", $"is {g.RenewInterval}; it must be a positive duration such as 00:00:02.") :
        g.RenewInterval * 2 > g.LeaseTime ? new("Group:RenewInterval", $"is {g.RenewInterval}; it must be at most half of Group:LeaseTime ({g.LeaseTime}), so a lease is renewed at least twice before it lapses.") :
        g.InstanceId is not null && string.IsNullOrWhiteSpace(g.InstanceId) ? new("Group:InstanceId", "is blank; set a name unique to this instance or leave it unset for a generated one.") :
        null;

    private static SubscriptionOptions Copy(SubscriptionOptions o, EventFilter filter) => new()
    {
        Filter = filter,
        BatchSize = o.BatchSize,
        CheckpointAfterEvents = o.CheckpointAfterEvents,
        CheckpointAfterTime = o.CheckpointAfterTime,
        UseTransactionalCheckpoints = o.UseTransactionalCheckpoints,
        StoreCheckpoints = o.StoreCheckpoints,
        FilteredCheckpointInterval = o.FilteredCheckpointInterval,
        ResubscribeAttempts = o.ResubscribeAttempts,
        ResubscribeDelay = o.ResubscribeDelay,
        Group = o.Group,
    };
}
