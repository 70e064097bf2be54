using EventStore.Providers.Conformance;

namespace EventStore.Providers.InMemory.Tests;

/// <summary>Every store is a new <see cref="InMemoryStorage"/>; another instance is a second store over the same storage.</summary>
public sealed class InMemoryFixture : IEventStoreFixture
{
    public Task<StoreUnderTest> CreateStoreAsync(CancellationToken cancellationToken = default)
    {
        var storage = new InMemoryStorage();
        return Task.FromResult(new StoreUnderTest(
            new InMemoryEventStore(storage),
            new InMemorySnapshotStore(storage),
            new InMemoryCheckpointStore(storage),
            _ => Task.FromResult<IEventStore>(new InMemoryEventStore(storage)))
        {
            Leases = new InMemorySubscriptionLeaseStore(storage),
        });
    }
}
