using EventStore.Providers;
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
    /// and are validated at start.
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
            .ValidateEventStoreOptions(section, ValidateSubscription);

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
                options, serializer, sp.GetService<TimeProvider>(), sp.GetService<ILogger<SubscriptionRunner>>());
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

    private static ConfigurationProblem? ValidateSubscription(SubscriptionOptions o) =>
        o.BatchSize < 1 ? new(nameof(o.BatchSize), $"is {o.BatchSize}; it must be 1 or more.") :
        o.CheckpointAfterEvents < 1 ? new(nameof(o.CheckpointAfterEvents), $"is {o.CheckpointAfterEvents}; it must be 1 or more.") :
        o.CheckpointAfterTime <= TimeSpan.Zero ? new(nameof(o.CheckpointAfterTime), $"is {o.CheckpointAfterTime}; it must be a positive duration.") :
        o.FilteredCheckpointInterval < 1 ? new(nameof(o.FilteredCheckpointInterval), $"is {o.FilteredCheckpointInterval}; it must be 1 or more.") :
        o.ResubscribeAttempts < 0 ? new(nameof(o.ResubscribeAttempts), $"is {o.ResubscribeAttempts}; it must be 0 or more.") :
        o.ResubscribeDelay < TimeSpan.Zero ? new(nameof(o.ResubscribeDelay), $"is {o.ResubscribeDelay}; it must not be negative.") :
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
