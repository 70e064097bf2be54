using EventStore.Providers.Bench.Core;
using EventStore.Providers.TestServers;

namespace EventStore.Providers.Bench.Targets;

/// <summary>
/// EventStoreDB only when a server is named: the environment or a container, never a local server (no server binary on these machines). Its peer is
/// the official Node.js client on the same node.
/// </summary>
internal sealed class EventStoreDbTarget(string? repoRoot) : IBenchTarget
{
    public string Key => "esdb";
    public string Subject => "EventStoreDB";

    public async Task<TargetSession> StartAsync(BenchOptions options, CancellationToken ct)
    {
        var server = await BenchServers.AcquireAsync(Backend.EventStoreDB, ct).ConfigureAwait(false);
        var session = new Session(server);
        session.Peers.Add(new KurrentNodePeer(repoRoot, server.Address));
        return session;
    }

    private sealed class Session : TargetSession
    {
        private readonly TestServer _server;

        public Session(TestServer server)
        {
            _server = server;
            ServerInfo["esdb"] = server.Source == ServerSource.Environment
                ? "external server named by EVENTSTORE_ESDB_CONNECTION (shared store: the scale curve starts at its current size)"
                : server.Description;
        }

        public override Task<StoreHandle> CreateStoreAsync(string label, CancellationToken ct) =>
            StoreHandle.FromConfigurationAsync("EventStoreDB", new Dictionary<string, string?> { ["ConnectionString"] = _server.Address }, ct);

        public override ValueTask DisposeAsync() => _server.DisposeAsync();
    }
}
