namespace EventStore.Providers.TestServers;

/// <summary>A backend the tests, the reliability runs and the benchmark need a server for.</summary>
public enum Backend
{
    /// <summary>PostgreSQL.</summary>
    Postgres,

    /// <summary>DynamoDB (dynalite locally, DynamoDB Local in a container).</summary>
    DynamoDB,

    /// <summary>Kafka (librdkafka's mock cluster locally, a broker in a container).</summary>
    Kafka,

    /// <summary>EventStoreDB / KurrentDB (no local server: environment or container only).</summary>
    EventStoreDB,
}

/// <summary>Where a backend's server came from, in the order they are tried.</summary>
public enum ServerSource
{
    /// <summary>Named by the backend's environment variable; used as is, never started or stopped.</summary>
    Environment,

    /// <summary>A Testcontainers container started for this process (Docker was reachable).</summary>
    Container,

    /// <summary>A local server this process started: eng/postgres.sh, eng/dynalite.sh, or the in-process Kafka mock cluster.</summary>
    Local,

    /// <summary>No server: the backend has no local server and neither the environment nor Docker gave one.</summary>
    Unavailable,
}

/// <summary>Reads environment variables; a seam so the selection can be tested without touching the process environment.</summary>
public interface IEnvironmentReader
{
    /// <summary>The variable's value, or null when it is unset or blank.</summary>
    string? Get(string name);
}

/// <summary>The process environment.</summary>
public sealed class ProcessEnvironment : IEnvironmentReader
{
    /// <summary>The one instance.</summary>
    public static ProcessEnvironment Instance { get; } = new();

    /// <inheritdoc />
    public string? Get(string name) => System.Environment.GetEnvironmentVariable(name) is { } value && !string.IsNullOrWhiteSpace(value) ? value : null;
}

/// <summary>Says whether a Docker engine answers; a seam so the selection can be tested on machines with and without one.</summary>
public interface IDockerProbe
{
    /// <summary>True when a Docker engine answers its ping.</summary>
    bool IsReachable();
}

/// <summary>
/// The order every consumer gets a backend in: (1) the server the environment names, (2) a Testcontainers container
/// where Docker is reachable (unless <see cref="ContainersVariable"/> is <c>off</c>), (3) the project's local server,
/// and for EventStoreDB, which has none, <see cref="ServerSource.Unavailable"/>.
/// </summary>
public static class ServerSelection
{
    /// <summary>Connection string of a PostgreSQL server to use as is.</summary>
    public const string PostgresVariable = "EVENTSTORE_POSTGRES_CONNECTION";

    /// <summary>Endpoint URL of a DynamoDB (or DynamoDB Local, LocalStack, dynalite) to use as is.</summary>
    public const string DynamoDBVariable = "EVENTSTORE_DYNAMODB_URL";

    /// <summary>Bootstrap servers of a real Kafka broker: the Kafka suite then runs with transactions and the topic check on.</summary>
    public const string KafkaVariable = "EVENTSTORE_KAFKA_BOOTSTRAP";

    /// <summary>Connection string of an EventStoreDB / KurrentDB node, e.g. <c>esdb://localhost:2113?tls=false</c>.</summary>
    public const string EventStoreDBVariable = "EVENTSTORE_ESDB_CONNECTION";

    /// <summary>Set to <c>off</c> to skip the container step even where Docker is reachable.</summary>
    public const string ContainersVariable = "EVENTSTORE_TESTCONTAINERS";

    /// <summary>All backends, in the order runs print them.</summary>
    public static IReadOnlyList<Backend> Backends { get; } = [Backend.Postgres, Backend.DynamoDB, Backend.Kafka, Backend.EventStoreDB];

    /// <summary>The environment variable that names a server for <paramref name="backend"/>.</summary>
    public static string VariableFor(Backend backend) => backend switch
    {
        Backend.Postgres => PostgresVariable,
        Backend.DynamoDB => DynamoDBVariable,
        Backend.Kafka => KafkaVariable,
        Backend.EventStoreDB => EventStoreDBVariable,
        _ => throw new ArgumentOutOfRangeException(nameof(backend), backend, null),
    };

    /// <summary>The short name runs print, e.g. <c>postgres</c>.</summary>
    public static string Label(Backend backend) => backend switch
    {
        Backend.Postgres => "postgres",
        Backend.DynamoDB => "dynamodb",
        Backend.Kafka => "kafka",
        Backend.EventStoreDB => "eventstoredb",
        _ => throw new ArgumentOutOfRangeException(nameof(backend), backend, null),
    };

    /// <summary>True when the project can start a server for <paramref name="backend"/> on this machine without Docker.</summary>
    public static bool HasLocalServer(Backend backend) => backend != Backend.EventStoreDB;

    /// <summary>True unless <see cref="ContainersVariable"/> turns the container step off.</summary>
    public static bool ContainersAllowed(IEnvironmentReader environment) =>
        environment.Get(ContainersVariable) is not { } value
        || !(value.Equals("off", StringComparison.OrdinalIgnoreCase) || value.Equals("false", StringComparison.OrdinalIgnoreCase) || value == "0");

    /// <summary>Where <paramref name="backend"/>'s server comes from, given the environment and whether Docker answers.</summary>
    public static ServerSource Choose(Backend backend, IEnvironmentReader environment, IDockerProbe docker)
    {
        if (environment.Get(VariableFor(backend)) is not null) return ServerSource.Environment;
        if (ContainersAllowed(environment) && docker.IsReachable()) return ServerSource.Container;
        return HasLocalServer(backend) ? ServerSource.Local : ServerSource.Unavailable;
    }

    /// <summary>Why there is no server for <paramref name="backend"/> and how to get one (the text of a skip).</summary>
    public static string HowToGetAServer(Backend backend) =>
        $"No {backend} server: set {VariableFor(backend)}{(backend == Backend.EventStoreDB ? " (e.g. esdb://localhost:2113?tls=false)" : "")} to use your own, " +
        $"or make a Docker engine reachable (and leave {ContainersVariable} unset) so Testcontainers starts one. None runs on CI machines.";
}
