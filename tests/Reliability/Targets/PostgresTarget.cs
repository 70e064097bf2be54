using EventStore.Providers.TestServers;
using Npgsql;

namespace EventStore.Providers.Reliability.Tests.Targets;

/// <summary>PostgreSQL: one schema per store on one server.</summary>
public sealed class PostgresTarget(string connectionString) : ConfiguredStoreTarget
{
    /// <summary>The server's connection string (without the provider's options).</summary>
    public string ConnectionString { get; } = connectionString;

    /// <inheritdoc />
    public override string Name => "Postgres";

    /// <inheritdoc />
    protected override Task<Dictionary<string, string?>> ConfigurationForAsync(string isolationId, CancellationToken cancellationToken) =>
        Task.FromResult(new Dictionary<string, string?>
        {
            ["EventStore:Provider"] = "Postgres",
            ["EventStore:Postgres:ConnectionString"] = ConnectionString,
            ["EventStore:Postgres:Schema"] = isolationId,
            ["EventStore:Postgres:PollInterval"] = "00:00:00.200",
        });

    /// <inheritdoc />
    protected override async ValueTask DropAsync(string isolationId)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP SCHEMA IF EXISTS \"{isolationId}\" CASCADE", connection);
        await drop.ExecuteNonQueryAsync();
    }
}

/// <summary>
/// The PostgreSQL server the PostgreSQL tests share, from tests/TestServers: <c>EVENTSTORE_POSTGRES_CONNECTION</c>,
/// else a container where Docker is reachable, else a local server this run starts and stops. Failing all fails the
/// tests (never skips them).
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private TestServer? _server;

    /// <summary>The target over the shared server.</summary>
    public PostgresTarget Target { get; private set; } = null!;

    /// <inheritdoc />
    public async ValueTask InitializeAsync()
    {
        _server = await Servers.AcquireAsync(Backend.Postgres);
        Target = new PostgresTarget(_server.Address);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }
}
