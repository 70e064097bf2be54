namespace EventStore.Providers.TestServers;

/// <summary>
/// The server one backend's tests run against, and where it came from. Disposing it stops what this process started
/// (a container, a local server, the mock cluster); a server named by the environment is left alone.
/// </summary>
public sealed class TestServer : IAsyncDisposable
{
    private readonly Func<ValueTask>? _dispose;

    internal TestServer(Backend backend, ServerSource source, string address, string description, KafkaMockCluster? kafkaMock, Func<ValueTask>? dispose)
    {
        Backend = backend;
        Source = source;
        Address = address;
        Description = description;
        KafkaMock = kafkaMock;
        _dispose = dispose;
    }

    /// <summary>The backend.</summary>
    public Backend Backend { get; }

    /// <summary>Where the server came from.</summary>
    public ServerSource Source { get; }

    /// <summary>
    /// How to reach it: a PostgreSQL connection string, a DynamoDB endpoint URL, Kafka bootstrap servers or an
    /// EventStoreDB connection string; empty when <see cref="IsAvailable"/> is false.
    /// </summary>
    public string Address { get; }

    /// <summary>False only for a backend without a local server that neither the environment nor Docker supplied.</summary>
    public bool IsAvailable => Source != ServerSource.Unavailable;

    /// <summary>Where it came from, in words, without secrets; for <see cref="ServerSource.Unavailable"/> the reason and how to get one.</summary>
    public string Description { get; }

    /// <summary>The line runs print: <c>test servers: postgres from ...</c>.</summary>
    public string Line => $"test servers: {ServerSelection.Label(Backend)} {Description}";

    /// <summary>The in-process mock cluster when Kafka is local (create topics on it natively); null for a real broker.</summary>
    public KafkaMockCluster? KafkaMock { get; }

    /// <summary>True when Kafka is a real broker (environment or container): transactions and the topic check are on.</summary>
    public bool IsRealKafkaBroker => Backend == Backend.Kafka && IsAvailable && KafkaMock is null;

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _dispose?.Invoke() ?? ValueTask.CompletedTask;
}
