using EventStore.Providers.Bench.Core;
using EventStore.Providers.TestServers;

namespace EventStore.Providers.Bench.Targets;

/// <summary>EventStoreDB from the environment or a container: there is no local server (no binary on these machines).</summary>
internal sealed class EventStoreDbTarget : IBenchTarget
{
    public string Key => "esdb";
    public string Subject => "EventStoreDB";

    public async Task<TargetSession> StartAsync(BenchOptions options, CancellationToken ct)
    {
        var server = await BenchServers.AcquireAsync(Backend.EventStoreDB, ct).ConfigureAwait(false);
        return new Session(server);
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
