using System.Diagnostics;
using EventStore.Providers.Conformance;
using Npgsql;

[assembly: AssemblyFixture(typeof(EventStore.Providers.Postgres.Tests.PostgresFixture))]

namespace EventStore.Providers.Postgres.Tests;

/// <summary>
/// Finds a PostgreSQL server: <c>EVENTSTORE_POSTGRES_CONNECTION</c>, else one started by <c>eng/postgres.sh start</c>;
/// otherwise every test fails with the reason. Each <see cref="CreateStoreAsync"/> gets its own schema.
/// </summary>
public sealed class PostgresFixture : IEventStoreFixture, ITransactionalCheckpointFixture, IAsyncLifetime
{
    public const string EnvironmentVariable = "EVENTSTORE_POSTGRES_CONNECTION";
    private NpgsqlDataSource? _dataSource;

    /// <summary>The server's connection string (trust authentication, no secret in it).</summary>
    public string ConnectionString { get; private set; } = "";

    /// <summary>The data source every test store shares, so the server's connection limit is never reached.</summary>
    public NpgsqlDataSource DataSource => _dataSource ?? throw new InvalidOperationException("The fixture is not initialized.");

    /// <summary>Writing a million events through appends takes minutes here; the contract allows 100,000.</summary>
    public int LargeReadEventCount => 100_000;

    public async ValueTask InitializeAsync()
    {
        ConnectionString = Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } fromEnv ? fromEnv : await StartLocalServerAsync();
        var builder = new NpgsqlConnectionStringBuilder(ConnectionString) { MaxPoolSize = 200 };
        _dataSource = PostgresEventStore.BuildDataSource(builder.ConnectionString, null);
        await using var connection = await _dataSource.OpenConnectionAsync();
    }

    private static async Task<string> StartLocalServerAsync()
    {
        var root = FindRepoRoot() ?? throw new InvalidOperationException(
            $"No PostgreSQL for the tests: {EnvironmentVariable} is not set and the repository root (EventStore.Providers.sln) was not found from {AppContext.BaseDirectory}, so eng/postgres.sh cannot start one.");
        var script = Path.Combine(root, "eng", "postgres.sh");
        var psi = new ProcessStartInfo("bash", [script, "start"]) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = root };
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("Could not run eng/postgres.sh.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"No PostgreSQL for the tests: {EnvironmentVariable} is not set and 'eng/postgres.sh start' failed ({process.ExitCode}): {await stderr}");
        var envFile = Path.Combine(root, ".tmp", "servers", "postgres.env");
        foreach (var line in await File.ReadAllLinesAsync(envFile))
        {
            if (line.StartsWith(EnvironmentVariable + "=", StringComparison.Ordinal)) return line[(EnvironmentVariable.Length + 1)..].Trim().Trim('\'', '"');
        }
        throw new InvalidOperationException($"eng/postgres.sh started but {envFile} has no {EnvironmentVariable} line. Output: {await stdout}");
    }

    private static string? FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "EventStore.Providers.sln"))) return dir.FullName;
        }
        return null;
    }

    /// <summary>A fresh schema name.</summary>
    public static string NewSchema() => "t_" + Guid.NewGuid().ToString("N")[..20];

    /// <summary>Options for a store in <paramref name="schema"/>.</summary>
    public static PostgresEventStoreOptions Options(string schema) => new() { Schema = schema, PollInterval = TimeSpan.FromMilliseconds(200) };

    public async Task<StoreUnderTest> CreateStoreAsync(CancellationToken cancellationToken = default)
    {
        var schema = NewSchema();
        var store = new PostgresEventStore(DataSource, Options(schema));
        await store.InitializeAsync(cancellationToken);
        var others = new List<PostgresEventStore>();
        return new StoreUnderTest(store, new PostgresSnapshotStore(store), new PostgresCheckpointStore(store),
            ct =>
            {
                var other = new PostgresEventStore(DataSource, Options(schema));
                lock (others) others.Add(other);
                return Task.FromResult<IEventStore>(other);
            },
            async () =>
            {
                await store.DisposeAsync();
                foreach (var other in others) await other.DisposeAsync();
                await DropSchemaAsync(schema);
            });
    }

    public async Task WriteReadModelAndCheckpointAsync(StoreUnderTest store, string subscriptionId, Position checkpoint, string readModelKey,
        bool failBeforeCommit, CancellationToken cancellationToken)
    {
        var pg = (PostgresEventStore)store.Store;
        await using var connection = await DataSource.OpenConnectionAsync(cancellationToken);
        await using (var create = new NpgsqlCommand($"CREATE TABLE IF NOT EXISTS \"{pg.Schema}\".read_model (key text PRIMARY KEY)", connection))
        {
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var cmd = new NpgsqlCommand($"INSERT INTO \"{pg.Schema}\".read_model (key) VALUES ($1)", connection, transaction))
        {
            cmd.Parameters.AddWithValue(readModelKey);
            await cmd.ExecuteNonQueryAsync(cancellationToken);
        }
        await new PostgresCheckpointStore(pg).SaveAsync(transaction, subscriptionId, checkpoint, cancellationToken);
        if (failBeforeCommit) throw new InvalidOperationException("Simulated crash after both writes, before the commit.");
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<bool> ReadModelExistsAsync(StoreUnderTest store, string readModelKey, CancellationToken cancellationToken)
    {
        var pg = (PostgresEventStore)store.Store;
        await using var connection = await DataSource.OpenConnectionAsync(cancellationToken);
        await using (var exists = new NpgsqlCommand($"SELECT to_regclass('\"{pg.Schema}\".read_model') IS NOT NULL", connection))
        {
            if (!(bool)(await exists.ExecuteScalarAsync(cancellationToken))!) return false;
        }
        await using var cmd = new NpgsqlCommand($"SELECT EXISTS (SELECT 1 FROM \"{pg.Schema}\".read_model WHERE key = $1)", connection);
        cmd.Parameters.AddWithValue(readModelKey);
        return (bool)(await cmd.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>
    /// Opens a transaction holding the advisory lock an append of <paramref name="stream"/> takes, as an append still
    /// running would; roll it back (and dispose its connection) to release it.
    /// </summary>
    public async Task<NpgsqlTransaction> HoldStreamLockAsync(string schema, string stream, CancellationToken cancellationToken)
    {
        var connection = await DataSource.OpenConnectionAsync(cancellationToken);
        var tx = await connection.BeginTransactionAsync(cancellationToken);
        await using var cmd = new NpgsqlCommand($"SELECT pg_advisory_xact_lock(\"{schema}\".stream_lock_class(), hashtext($1))", connection, tx);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stream });
        await cmd.ExecuteNonQueryAsync(cancellationToken);
        return tx;
    }

    public async Task DropSchemaAsync(string schema)
    {
        await using var connection = await DataSource.OpenConnectionAsync();
        await using var cmd = new NpgsqlCommand($"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE", connection);
        await cmd.ExecuteNonQueryAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_dataSource is not null) await _dataSource.DisposeAsync();
    }
}
