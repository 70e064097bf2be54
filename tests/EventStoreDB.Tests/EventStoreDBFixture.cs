using EventStore.Providers.Conformance;
using EventStore.Providers.TestServers;
using Microsoft.Extensions.Logging.Abstractions;

[assembly: AssemblyFixture(typeof(EventStore.Providers.EventStoreDB.Tests.EventStoreDBServer))]

namespace EventStore.Providers.EventStoreDB.Tests;

/// <summary>
/// The EventStoreDB of this test run from tests/TestServers: <c>EVENTSTORE_ESDB_CONNECTION</c> (for example
/// <c>esdb://localhost:2113?tls=false</c>), else KurrentDB in a Testcontainers container where Docker is reachable.
/// There is no local server: without either, every server test is skipped with the reason and how to get a server
/// (EventStoreDB is the only provider allowed to skip; none runs on the CI machines).
/// </summary>
public sealed class EventStoreDBServer : IAsyncLifetime
{
    private TestServer? _server;

    /// <summary>The connection string, or null when there is no server.</summary>
    public string? ConnectionString { get; private set; }

    /// <summary>Why there is no server and how to get one; null when there is one.</summary>
    public string? SkipReason { get; private set; }

    public async ValueTask InitializeAsync()
    {
        _server = await Servers.AcquireAsync(Backend.EventStoreDB);
        if (_server.IsAvailable) ConnectionString = _server.Address;
        else SkipReason = ServerSelection.HowToGetAServer(Backend.EventStoreDB);
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }
}

/// <summary>Each store gets its own stream prefix, so tests sharing one server never see each other's events.</summary>
public sealed class EventStoreDBFixture(EventStoreDBServer server) : IEventStoreFixture, IAsyncDisposable
{
    private readonly List<EventStoreDBEventStore> _stores = [];

    /// <summary>Skips the calling test, with the reason and how to get a server, when there is none.</summary>
    public void SkipWithoutServer()
    {
        if (server.SkipReason is { } reason) Assert.Skip(reason);
    }

    /// <summary>Writing a million events to a 2-core single node takes minutes; the contract allows 100,000.</summary>
    public int LargeReadEventCount => 100_000;

    public Task<StoreUnderTest> CreateStoreAsync(CancellationToken cancellationToken = default)
    {
        SkipWithoutServer();
        var options = new EventStoreDBEventStoreOptions { ConnectionString = server.ConnectionString, StreamPrefix = $"t{Guid.NewGuid():N}_" };
        var store = Open(options);
        return Task.FromResult(new StoreUnderTest(store, new EventStoreDBSnapshotStore(store), new EventStoreDBCheckpointStore(store),
            _ => Task.FromResult<IEventStore>(Open(options)))
        {
            Leases = new EventStoreDBSubscriptionLeaseStore(store),
        });
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
