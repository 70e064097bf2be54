using EventStore.Providers.Conformance;
using EventStore.Providers.TestServers;
using Npgsql;

[assembly: AssemblyFixture(typeof(EventStore.Providers.Postgres.Tests.PostgresFixture))]

namespace EventStore.Providers.Postgres.Tests;

/// <summary>
/// The PostgreSQL server of this test run from tests/TestServers: <c>EVENTSTORE_POSTGRES_CONNECTION</c>, else a
/// Testcontainers container where Docker is reachable, else a local server started with eng/postgres.sh (stopped when
/// the run ends); failing all, every test fails with the reason. Each <see cref="CreateStoreAsync"/> gets its own schema.
/// </summary>
public sealed class PostgresFixture : IEventStoreFixture, ITransactionalCheckpointFixture, ITransactionalLeaseFixture, IAsyncLifetime
{
    private NpgsqlDataSource? _dataSource;
    private TestServer? _server;

    /// <summary>The server's connection string.</summary>
    public string ConnectionString { get; private set; } = "";

    /// <summary>The data source every test store shares, so the server's connection limit is never reached.</summary>
    public NpgsqlDataSource DataSource => _dataSource ?? throw new InvalidOperationException("The fixture is not initialized.");

    /// <summary>Writing a million events through appends takes minutes here; the contract allows 100,000.</summary>
    public int LargeReadEventCount => 100_000;

    public async ValueTask InitializeAsync()
    {
        _server = await Servers.AcquireAsync(Backend.Postgres);
        ConnectionString = _server.Address;
        var builder = new NpgsqlConnectionStringBuilder(ConnectionString) { MaxPoolSize = 200 };
        _dataSource = PostgresEventStore.BuildDataSource(builder.ConnectionString, null);
        await using var connection = await _dataSource.OpenConnectionAsync();
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
            })
        {
            Leases = new PostgresSubscriptionLeaseStore(store),
        };
    }

    public async Task WriteReadModelAndCheckpointAsync(StoreUnderTest store, string subscriptionId, Position checkpoint, string readModelKey,
        bool failBeforeCommit, CancellationToken cancellationToken)
    {
        var pg = (PostgresEventStore)store.Store;
        await CreateReadModelAsync(pg.Schema, cancellationToken);
        await using var connection = await DataSource.OpenConnectionAsync(cancellationToken);
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

    public async Task WriteReadModelAsync(StoreUnderTest store, object transaction, string readModelKey, CancellationToken cancellationToken)
    {
        var pg = (PostgresEventStore)store.Store;
        await CreateReadModelAsync(pg.Schema, cancellationToken);
        var tx = Assert.IsType<NpgsqlTransaction>(transaction);
        await using var cmd = new NpgsqlCommand($"INSERT INTO \"{pg.Schema}\".read_model (key) VALUES ($1)", tx.Connection, tx);
        cmd.Parameters.AddWithValue(readModelKey);
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task CreateReadModelAsync(string schema, CancellationToken cancellationToken)
    {
        await using var connection = await DataSource.OpenConnectionAsync(cancellationToken);
        await using var create = new NpgsqlCommand($"CREATE TABLE IF NOT EXISTS \"{schema}\".read_model (key text PRIMARY KEY)", connection);
        await create.ExecuteNonQueryAsync(cancellationToken);
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
        if (_server is not null) await _server.DisposeAsync();
    }
}
