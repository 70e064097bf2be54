using System.Globalization;

namespace EventStore.Providers.Reliability.Tests.Servers;

/// <summary>
/// A PostgreSQL server owned by one test class: its own data directory and port, so stopping it with
/// <c>pg_ctl -m immediate</c> (a crash: no checkpoint, recovery from WAL on start) disturbs nobody else. The logic
/// follows eng/postgres.sh (initdb and postgres refuse root, so both run as the <c>postgres</c> user) with options
/// that script does not need: crash and restart on the same port.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private const string Bin = "/usr/lib/postgresql/15/bin";
    private static readonly TimeSpan CommandLimit = TimeSpan.FromSeconds(60);
    private readonly string _root;

    private PostgresServer(string root, int port)
    {
        _root = root;
        Port = port;
    }

    /// <summary>The port on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>A connection string for the <c>postgres</c> superuser (trust authentication).</summary>
    public string ConnectionString => string.Create(CultureInfo.InvariantCulture, $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres");

    private string Data => Path.Combine(_root, "data");

    /// <summary>
    /// Creates and starts a server. fsync stays off for speed (a killed process loses nothing the kernel holds), but
    /// synchronous_commit stays on: with it off an acknowledged commit could still sit in PostgreSQL's own memory
    /// when the server is killed, which would be a test-setup loss, not a provider bug.
    /// </summary>
    /// <exception cref="InvalidOperationException">PostgreSQL could not be started: the test fails loudly.</exception>
    public static async Task<PostgresServer> StartAsync(CancellationToken cancellationToken = default)
    {
        if (!File.Exists(Path.Combine(Bin, "initdb")))
            throw new InvalidOperationException($"PostgreSQL 15 binaries are missing from {Bin}; run eng/postgres.sh start once (it installs postgresql-15) or install the package.");
        var root = Path.Combine(Path.GetTempPath(), $"reliability-pg-{Environment.ProcessId}-{Guid.NewGuid():N}"[..48]);
        Directory.CreateDirectory(Path.Combine(root, "socket"));
        await ProcessRunner.RunAsync("chown", ["-R", "postgres:", root], CommandLimit, cancellationToken);
        await ProcessRunner.RunAsync("chmod", ["700", root], CommandLimit, cancellationToken);
        await AsPostgres([Path.Combine(Bin, "initdb"), "-D", Path.Combine(root, "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"], cancellationToken);
        var server = new PostgresServer(root, ProcessRunner.FreePort());
        await server.StartAgainAsync(cancellationToken);
        return server;
    }

    private static Task<string> AsPostgres(IEnumerable<string> command, CancellationToken cancellationToken) =>
        ProcessRunner.RunAsync("runuser", ["-u", "postgres", "--", .. command], CommandLimit, cancellationToken);

    /// <summary>Starts the server (again) on the same port and data.</summary>
    public Task StartAgainAsync(CancellationToken cancellationToken = default)
    {
        var options = string.Create(CultureInfo.InvariantCulture,
            $"-c listen_addresses=127.0.0.1 -p {Port} -c unix_socket_directories={_root}/socket -c max_connections=200 -c fsync=off -c full_page_writes=off");
        return AsPostgres([Path.Combine(Bin, "pg_ctl"), "-D", Data, "-l", Path.Combine(_root, "server.log"), "-o", options, "-w", "-t", "60", "start"], cancellationToken);
    }

    /// <summary>Crashes the server: <c>pg_ctl -m immediate stop</c> (every backend killed, no shutdown checkpoint).</summary>
    public Task CrashAsync(CancellationToken cancellationToken = default) =>
        AsPostgres([Path.Combine(Bin, "pg_ctl"), "-D", Data, "-m", "immediate", "-w", "stop"], cancellationToken);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        try
        {
            await AsPostgres([Path.Combine(Bin, "pg_ctl"), "-D", Data, "-m", "immediate", "-w", "stop"], CancellationToken.None);
        }
        catch (InvalidOperationException)
        {
            // Already stopped by the test.
        }
        Directory.Delete(_root, recursive: true);
    }
}
