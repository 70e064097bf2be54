using EventStore.Providers.Conformance;
using Microsoft.Extensions.Logging.Abstractions;

namespace EventStore.Providers.EventStoreDB.Tests;

/// <summary>
/// Reaches the EventStoreDB named by <c>EVENTSTORE_ESDB_CONNECTION</c> (for example
/// <c>esdb://localhost:2113?tls=false</c>). Each store gets its own stream prefix, so tests sharing one server never
/// see each other's events. Without the variable every server test is skipped with the reason printed: there is no
/// EventStoreDB on the CI machines (the only provider allowed to skip).
/// </summary>
public sealed class EventStoreDBFixture : IEventStoreFixture, IAsyncDisposable
{
    public const string Variable = "EVENTSTORE_ESDB_CONNECTION";
    private readonly List<EventStoreDBEventStore> _stores = [];

    public static string? ConnectionString => Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } value ? value : null;

    public static void SkipWithoutServer()
    {
        if (ConnectionString is null)
            Assert.Skip($"No EventStoreDB server: set {Variable} (e.g. esdb://localhost:2113?tls=false) to run the conformance suite against one. None runs on CI machines.");
    }

    /// <summary>Writing a million events to a 2-core single node takes minutes; the contract allows 100,000.</summary>
    public int LargeReadEventCount => 100_000;

    public Task<StoreUnderTest> CreateStoreAsync(CancellationToken cancellationToken = default)
    {
        SkipWithoutServer();
        var options = new EventStoreDBEventStoreOptions { ConnectionString = ConnectionString, StreamPrefix = $"t{Guid.NewGuid():N}_" };
        var store = Open(options);
        return Task.FromResult(new StoreUnderTest(store, new EventStoreDBSnapshotStore(store), new EventStoreDBCheckpointStore(store),
            _ => Task.FromResult<IEventStore>(Open(options))));
    }

    private EventStoreDBEventStore Open(EventStoreDBEventStoreOptions options)
    {
        var store = new EventStoreDBEventStore(options, NullLogger<EventStoreDBEventStore>.Instance);
        lock (_stores) _stores.Add(store);
        return store;
    }

    public async ValueTask DisposeAsync()
    {
        EventStoreDBEventStore[] stores;
        lock (_stores) stores = [.. _stores];
        foreach (var store in stores) await store.DisposeAsync();
    }
}
