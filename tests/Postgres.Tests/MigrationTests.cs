using Npgsql;

namespace EventStore.Providers.Postgres.Tests;

/// <summary>The schema is created and migrated at startup by the embedded numbered scripts, idempotently and concurrently.</summary>
public sealed class MigrationTests(PostgresFixture fixture) : IAsyncLifetime
{
    private readonly string _schema = PostgresFixture.NewSchema();
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync() => await fixture.DropSchemaAsync(_schema);

    [Fact]
    public async Task Migrating_twice_applies_every_script_exactly_once_and_keeps_the_data()
    {
        await using var store = new PostgresEventStore(fixture.DataSource, PostgresFixture.Options(_schema));
        await store.InitializeAsync(Ct);
        await store.AppendAsync(new StreamName("Order-1"), ExpectedVersion.NoStream, [TestEvents.New()], Ct);

        await store.InitializeAsync(Ct);
        await using var again = new PostgresEventStore(fixture.DataSource, PostgresFixture.Options(_schema));
        await again.InitializeAsync(Ct);

        Assert.Equal(SchemaMigrator.Scripts.Select(s => s.Number), await AppliedVersionsAsync());
        Assert.Single(await again.ReadAllAsync(cancellationToken: Ct).ToListAsync(Ct));
    }

    [Fact]
    public async Task Eight_app_instances_migrating_a_new_schema_at_once_all_succeed()
    {
        var stores = Enumerable.Range(0, 8).Select(_ => new PostgresEventStore(fixture.DataSource, PostgresFixture.Options(_schema))).ToList();
        try
        {
            using var start = new Barrier(stores.Count);
            await Task.WhenAll(stores.Select(s => Task.Run(async () =>
            {
                start.SignalAndWait(Ct);
                await s.InitializeAsync(Ct);
            }, Ct)));

            Assert.Equal(SchemaMigrator.Scripts.Select(s => s.Number), await AppliedVersionsAsync());
            var results = await Task.WhenAll(stores.Select((s, i) => s.AppendAsync(new StreamName($"Order-{i}"), ExpectedVersion.NoStream, [TestEvents.New()], Ct)));
            Assert.Equal(Enumerable.Range(1, 8).Select(p => Position.FromInt64(p)), results.Select(r => r.Position).Order());
        }
        finally
        {
            foreach (var s in stores) await s.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_store_with_migrate_on_start_creates_its_schema_on_first_use()
    {
        var options = PostgresFixture.Options(_schema);
        options.MigrateOnStart = true;
        await using var store = new PostgresEventStore(fixture.DataSource, options);

        var result = await store.AppendAsync(new StreamName("Order-1"), ExpectedVersion.NoStream, [TestEvents.New()], Ct);

        Assert.Equal(0, result.LastVersion);
        Assert.Equal(SchemaMigrator.Scripts.Count, (await AppliedVersionsAsync()).Count);
    }

    [Fact]
    public async Task The_embedded_scripts_are_numbered_from_one_without_gaps()
    {
        Assert.Equal(Enumerable.Range(1, SchemaMigrator.Scripts.Count), SchemaMigrator.Scripts.Select(s => s.Number));
        Assert.StartsWith("1_Schema", SchemaMigrator.Scripts[0].Name, StringComparison.Ordinal);
        await Task.CompletedTask;
    }

    private async Task<List<int>> AppliedVersionsAsync()
    {
        await using var connection = await fixture.DataSource.OpenConnectionAsync(Ct);
        await using var cmd = new NpgsqlCommand($"SELECT version FROM \"{_schema}\".schema_migrations ORDER BY version", connection);
        await using var reader = await cmd.ExecuteReaderAsync(Ct);
        var versions = new List<int>();
        while (await reader.ReadAsync(Ct)) versions.Add(reader.GetInt32(0));
        return versions;
    }
}
