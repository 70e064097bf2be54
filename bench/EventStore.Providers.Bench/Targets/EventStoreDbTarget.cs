using EventStore.Providers.Bench.Core;

namespace EventStore.Providers.Bench.Targets;

/// <summary>
/// EventStoreDB only when a server is named: the bench never starts one (no server binary on these machines). Its peer is
/// the official Node.js client on the same node.
/// </summary>
internal sealed class EventStoreDbTarget(string? repoRoot) : IBenchTarget
{
    public const string ConnectionVariable = "EVENTSTORE_ESDB_CONNECTION";

    public string Key => "esdb";
    public string Subject => "EventStoreDB";

    public Task<TargetSession> StartAsync(BenchOptions options, CancellationToken ct)
    {
        var connection = Environment.GetEnvironmentVariable(ConnectionVariable);
        if (string.IsNullOrWhiteSpace(connection))
            throw new TargetUnavailableException($"{ConnectionVariable} is not set");
        var session = new Session(connection);
        session.Peers.Add(new KurrentNodePeer(repoRoot, connection));
        return Task.FromResult<TargetSession>(session);
    }

    private sealed class Session : TargetSession
    {
        private readonly string _connection;

        public Session(string connection)
        {
            _connection = connection;
            ServerInfo["esdb"] = "external server named by EVENTSTORE_ESDB_CONNECTION (shared store: the scale curve starts at its current size)";
        }

        public override Task<StoreHandle> CreateStoreAsync(string label, CancellationToken ct) =>
            StoreHandle.FromConfigurationAsync("EventStoreDB", new Dictionary<string, string?> { ["ConnectionString"] = _connection }, ct);
    }
}
