using System.Globalization;
using Confluent.Kafka;

namespace EventStore.Providers.TestServers;

/// <summary>
/// Gets each backend's server for the test projects, the reliability tests and the benchmark, in one order: the
/// server the environment names, else a Testcontainers container where Docker is reachable, else the project's local
/// server (eng/postgres.sh, eng/dynalite.sh, librdkafka's mock cluster in process); EventStoreDB has no local server
/// and comes back unavailable with the reason. Each acquisition prints one line saying where the server came from.
/// </summary>
public static class Servers
{
    private static readonly Lazy<bool> DockerReachable = new(DockerProbe.Default.IsReachable);

    /// <summary>Where lines are printed besides standard output (a test framework's diagnostic sink, say).</summary>
    public static event Action<string>? Announced;

    /// <summary>Gets <paramref name="backend"/>'s server for this process from the process environment and the real Docker probe.</summary>
    /// <param name="backend">The backend.</param>
    /// <param name="postgresMode">For PostgreSQL started here: test settings (default) or durable ones (benchmarks).</param>
    /// <param name="cancellationToken">Cancels starting a server.</param>
    /// <exception cref="InvalidOperationException">A container or local server could not be started: the caller fails loudly.</exception>
    public static Task<TestServer> AcquireAsync(Backend backend, PostgresMode postgresMode = PostgresMode.Fast, CancellationToken cancellationToken = default) =>
        AcquireAsync(backend, postgresMode, ProcessEnvironment.Instance, new CachedDockerProbe(), cancellationToken);

    /// <summary>As <see cref="AcquireAsync(Backend, PostgresMode, CancellationToken)"/>, with the environment and Docker probe given.</summary>
    public static async Task<TestServer> AcquireAsync(Backend backend, PostgresMode postgresMode, IEnvironmentReader environment, IDockerProbe docker, CancellationToken cancellationToken = default)
    {
        var server = await StartAsync(backend, postgresMode, environment, docker, cancellationToken).ConfigureAwait(false);
        Announce(server.Line);
        return server;
    }

    private static async Task<TestServer> StartAsync(Backend backend, PostgresMode postgresMode, IEnvironmentReader environment, IDockerProbe docker, CancellationToken cancellationToken)
    {
        var variable = ServerSelection.VariableFor(backend);
        switch (ServerSelection.Choose(backend, environment, docker))
        {
            case ServerSource.Environment:
            {
                var address = environment.Get(variable)!;
                return new TestServer(backend, ServerSource.Environment, address, $"from the environment ({variable}: {Redacted(backend, address)})", null, null);
            }
            case ServerSource.Container:
            {
                var image = Containers.ImageFor(backend, environment);
                var (address, container) = await Containers.StartAsync(backend, image, postgresMode, cancellationToken).ConfigureAwait(false);
                return new TestServer(backend, ServerSource.Container, address, $"from a Testcontainers container ({image} at {Redacted(backend, address)})", null, container.DisposeAsync);
            }
            case ServerSource.Local:
                return await StartLocalAsync(backend, postgresMode, cancellationToken).ConfigureAwait(false);
            default:
                return new TestServer(backend, ServerSource.Unavailable, "", $"unavailable: {ServerSelection.HowToGetAServer(backend)}", null, null);
        }
    }

    private static async Task<TestServer> StartLocalAsync(Backend backend, PostgresMode postgresMode, CancellationToken cancellationToken)
    {
        // One server per process, named after it, so parallel test processes never share (or stop) each other's.
        var name = string.Create(CultureInfo.InvariantCulture, $"run-{Environment.ProcessId}");
        switch (backend)
        {
            case Backend.Postgres:
            {
                var local = await LocalServer.StartPostgresAsync(name, postgresMode, cancellationToken).ConfigureAwait(false);
                return new TestServer(backend, ServerSource.Local, local.Address,
                    $"from a local server ({local.Command}, {postgresMode.ToString().ToLowerInvariant()} settings, {Redacted(backend, local.Address)})", null, local.DisposeAsync);
            }
            case Backend.DynamoDB:
            {
                var local = await LocalServer.StartDynaliteAsync(name, persistent: false, cancellationToken).ConfigureAwait(false);
                return new TestServer(backend, ServerSource.Local, local.Address, $"from a local dynalite ({local.Command}, {local.Address})", null, local.DisposeAsync);
            }
            case Backend.Kafka:
            {
                var mock = new KafkaMockCluster(3);
                return new TestServer(backend, ServerSource.Local, mock.BootstrapServers,
                    $"from librdkafka's mock cluster in process ({mock.Brokers} brokers; no transactions, no topic-configuration check)", mock,
                    () => { mock.Dispose(); return ValueTask.CompletedTask; });
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(backend), backend, "no local server");
        }
    }

    /// <summary>
    /// Prints a line to standard output (the benchmark, a console), as an xUnit diagnostic message when a test run is
    /// in progress (shown by <c>dotnet test</c>: the test projects turn diagnostic messages on in xunit.runner.json),
    /// and to every <see cref="Announced"/> handler.
    /// </summary>
    public static void Announce(string line)
    {
        Console.Out.WriteLine(line);
        Xunit.TestContext.Current.SendDiagnosticMessage(line);
        Announced?.Invoke(line);
    }

    /// <summary>The part of an address that is safe to print: host and port (and database), never a password.</summary>
    public static string Redacted(Backend backend, string address)
    {
        if (backend == Backend.Postgres)
        {
            var parts = address.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(p => p.Split('=', 2, StringSplitOptions.TrimEntries))
                .Where(kv => kv.Length == 2)
                .GroupBy(kv => kv[0].ToLowerInvariant()).ToDictionary(g => g.Key, g => g.Last()[1]);
            var host = parts.GetValueOrDefault("host") ?? parts.GetValueOrDefault("server") ?? "?";
            var port = parts.GetValueOrDefault("port") ?? "5432";
            return $"{host}:{port}";
        }
        if (backend == Backend.Kafka) return address;
        // URLs (DynamoDB, esdb://): drop any user:password@.
        return Uri.TryCreate(address, UriKind.Absolute, out var uri) ? $"{uri.Scheme}://{uri.Host}:{uri.Port}" : "(unparsable address)";
    }

    /// <summary>
    /// The replication factor topics on a broker can have: the number of brokers, at most 3. Used to create the
    /// provider's topics on a real broker (a single-broker container needs 1).
    /// </summary>
    public static short KafkaReplicationFactor(string bootstrapServers)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrapServers }).Build();
        var brokers = admin.GetMetadata(TimeSpan.FromSeconds(30)).Brokers.Count;
        return (short)Math.Clamp(brokers, 1, 3);
    }

    /// <summary>The real probe, asked once per process.</summary>
    private sealed class CachedDockerProbe : IDockerProbe
    {
        public bool IsReachable() => DockerReachable.Value;
    }
}
