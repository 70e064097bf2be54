using EventStore.Providers;
using EventStore.Providers.InMemory;
using Microsoft.Extensions.DependencyInjection.Extensions;

[assembly: EventStoreProvider("InMemory", typeof(InMemoryProviderConfigurator))]

// In this namespace so `o.UseInMemory()` is found without an extra using, as Microsoft.Extensions does.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Chooses the in-memory provider.</summary>
public static class InMemoryEventStoreBuilderExtensions
{
    /// <summary>
    /// Uses the embedded in-memory store: registers one <see cref="InMemoryStorage"/> and, over it, singleton
    /// <see cref="IEventStore"/>, <see cref="ISnapshotStore"/> and <see cref="ICheckpointStore"/>. A registered
    /// <see cref="TimeProvider"/> stamps event times.
    /// </summary>
    public static EventStoreBuilder UseInMemory(this EventStoreBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.UseProvider("InMemory", services =>
        {
            services.TryAddSingleton<InMemoryStorage>();
            services.TryAddSingleton(sp => new InMemoryEventStore(sp.GetRequiredService<InMemoryStorage>(), sp.GetService<TimeProvider>()));
            services.TryAddSingleton<IEventStore>(sp => sp.GetRequiredService<InMemoryEventStore>());
            services.TryAddSingleton<ISnapshotStore>(sp => new InMemorySnapshotStore(sp.GetRequiredService<InMemoryStorage>(), sp.GetService<TimeProvider>()));
            services.TryAddSingleton<ICheckpointStore>(sp => new InMemoryCheckpointStore(sp.GetRequiredService<InMemoryStorage>()));
        });
    }
}
