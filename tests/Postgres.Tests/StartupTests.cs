using EventStore.Providers.Conformance;
using Npgsql;

namespace EventStore.Providers.Postgres.Tests;

/// <summary>The start-up matrix against the local PostgreSQL: the switch is MigrateOnStart, the storage a schema.</summary>
public sealed class StartupTests(PostgresFixture fixture) : StartupMatrixTests
{
    private readonly string _schema = PostgresFixture.NewSchema();

    protected override string CreateSwitchKey => "EventStore:Postgres:MigrateOnStart";

    protected override string StorageName => _schema;

    protected override IDictionary<string, string?> Settings() => new Dictionary<string, string?>
    {
        ["EventStore:Provider"] = "Postgres",
        ["EventStore:Postgres:ConnectionString"] = fixture.ConnectionString,
        ["EventStore:Postgres:Schema"] = _schema,
    };

    protected override async Task<bool> StorageExistsAsync(CancellationToken cancellationToken)
    {
        await using var cmd = fixture.DataSource.CreateCommand("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)");
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _schema });
        return (bool)(await cmd.ExecuteScalarAsync(cancellationToken))!;
    }

    protected override Task DropStorageAsync() => fixture.DropSchemaAsync(_schema);
}
