using EventStore.Providers.Bench.Core;
using EventStore.Providers.TestServers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace EventStore.Providers.Bench.Targets;

/// <summary>Thrown by a target that cannot run here; its message is the "not run: why" of the table.</summary>
internal sealed class TargetUnavailableException(string why, Exception? inner = null) : Exception(why, inner);

/// <summary>Each backend's server from tests/TestServers: the environment, else a container, else the local eng/ server.</summary>
internal static class BenchServers
{
    /// <summary>The server for <paramref name="backend"/>; a target that cannot get one is "not run" with the reason.</summary>
    public static async Task<TestServer> AcquireAsync(Backend backend, CancellationToken ct)
    {
        TestServer server;
        try
        {
            server = await Servers.AcquireAsync(backend, PostgresMode.Durable, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException)
        {
            throw new TargetUnavailableException($"no {backend} server: {Measurement.FirstLine(e.Message)}", e);
        }
        if (!server.IsAvailable) throw new TargetUnavailableException(server.Description);
        return server;
    }
}

/// <summary>One provider's isolated store, opened through the same DI registration applications use.</summary>
internal sealed class StoreHandle(IEventStore store, ISnapshotStore? snapshots, ICheckpointStore? checkpoints, Func<ValueTask> dispose) : IAsyncDisposable
{
    public IEventStore Store { get; } = store;
    /// <summary>The provider's registrations (lease store, native group coordinator); empty for a store built without DI.</summary>
    public IServiceProvider Services { get; init; } = new ServiceCollection().BuildServiceProvider();
    public ISnapshotStore? Snapshots { get; } = snapshots;
    public ICheckpointStore? Checkpoints { get; } = checkpoints;
    public ValueTask DisposeAsync() => dispose();

    /// <summary>
    /// Builds a provider from configuration (<c>EventStore:Provider</c> plus its section), the route
    /// <c>services.AddEventStore(configuration)</c> takes in an application, so the bench needs no provider-specific code.
    /// </summary>
    public static async Task<StoreHandle> FromConfigurationAsync(string provider, IDictionary<string, string?> settings, CancellationToken ct)
    {
        var data = new Dictionary<string, string?> { ["EventStore:Provider"] = provider };
        foreach (var (k, v) in settings) data[$"EventStore:{provider}:{k}"] = v;
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(data).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddEventStore(configuration.GetSection("EventStore"));
        var sp = services.BuildServiceProvider();
        try
        {
            foreach (var init in sp.GetServices<IEventStoreInitializer>()) await init.InitializeAsync(ct).ConfigureAwait(false);
            var store = sp.GetService<IEventStore>()
                ?? throw new TargetUnavailableException($"provider '{provider}' registered no IEventStore");
            return new StoreHandle(store, sp.GetService<ISnapshotStore>(), sp.GetService<ICheckpointStore>(), sp.DisposeAsync) { Services = sp };
        }
        catch (Exception opening)
        {
            try
            {
                await sp.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception disposing)
            {
                // Report why the store did not open; a second failure while cleaning up must not hide it.
                throw new AggregateException(opening, disposing);
            }
            throw;
        }
    }
}

/// <summary>A subject other than our provider measured on the same server: a peer library or a raw client.</summary>
internal interface IPeer
{
    string Name { get; }
    Task<IReadOnlyList<Measurement>> RunAsync(BenchOptions options, Func<string, Action<double>> progress, CancellationToken ct);
}

/// <summary>A backend started for one run: fresh provider stores on demand, its peers, and what to print about the server.</summary>
internal abstract class TargetSession : IAsyncDisposable
{
    public Dictionary<string, string> ServerInfo { get; } = [];
    public List<IPeer> Peers { get; } = [];
    public abstract Task<StoreHandle> CreateStoreAsync(string label, CancellationToken ct);

    /// <summary>
    /// Called once the read-stream workload has written its stream and before the provider reads it, so a raw peer can
    /// read exactly the records the provider's stream read reads, in the same state of the server (where the backend's
    /// cost depends on how the records were written and what the log holds, not only on how many there are).
    /// </summary>
    public virtual Task StreamFilledAsync(StoreHandle handle, StreamName stream, BenchOptions options, CancellationToken ct) => Task.CompletedTask;

    public virtual ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>One backend of the comparison.</summary>
internal interface IBenchTarget
{
    /// <summary>The --providers key, e.g. "postgres".</summary>
    string Key { get; }
    /// <summary>The provider's name in tables, e.g. "PostgreSQL".</summary>
    string Subject { get; }
    Task<TargetSession> StartAsync(BenchOptions options, CancellationToken ct);
}

internal sealed class InMemoryTarget : IBenchTarget
{
    public string Key => "inmemory";
    public string Subject => "InMemory";

    public Task<TargetSession> StartAsync(BenchOptions options, CancellationToken ct) => Task.FromResult<TargetSession>(new Session());

    private sealed class Session : TargetSession
    {
        public Session() => ServerInfo["inmemory"] = "in process";

        public override Task<StoreHandle> CreateStoreAsync(string label, CancellationToken ct) =>
            StoreHandle.FromConfigurationAsync("InMemory", new Dictionary<string, string?>(), ct);
    }
}
