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
    /// <see cref="IEventStore"/>, <see cref="ISnapshotStore"/>, <see cref="ICheckpointStore"/> and <see cref="ISubscriptionLeaseStore"/>. A registered
    /// <see cref="TimeProvider"/> stamps event times.
    /// </summary>
    public static EventStoreBuilder UseInMemory(this EventStoreBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton<InMemoryStorage>();
        return builder.UseProvider(Registration);
    }

    internal static readonly EventStoreProviderRegistration<InMemoryEventStoreOptions, InMemoryEventStore> Registration = new()
    {
        Name = "InMemory",
        SectionName = InMemoryEventStoreOptions.SectionName,
        CreateStore = (sp, _) => new InMemoryEventStore(sp.GetRequiredService<InMemoryStorage>(), sp.GetService<TimeProvider>()),
        CreateSnapshotStore = (sp, _) => new InMemorySnapshotStore(sp.GetRequiredService<InMemoryStorage>(), sp.GetService<TimeProvider>()),
        CreateCheckpointStore = (sp, _) => new InMemoryCheckpointStore(sp.GetRequiredService<InMemoryStorage>()),
        CreateLeaseStore = (sp, _) => new InMemorySubscriptionLeaseStore(sp.GetRequiredService<InMemoryStorage>()),
    };
}
