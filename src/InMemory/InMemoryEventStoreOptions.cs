namespace EventStore.Providers.InMemory;

/// <summary>
/// Options of the in-memory provider, bound from <c>EventStore:InMemory</c>. It has nothing to configure today; the
/// class exists so the provider registers like every other (<c>services.Configure&lt;InMemoryEventStoreOptions&gt;</c>).
/// </summary>
public sealed class InMemoryEventStoreOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string SectionName = "EventStore:InMemory";
}
