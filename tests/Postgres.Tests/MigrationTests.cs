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
            var all = await stores[0].ReadAllAsync(cancellationToken: Ct).ToListAsync(Ct);
            Assert.Equal(results.Select(r => r.Position).Order(), all.Select(e => e.Position));
            Assert.Equal(8, all.Select(e => e.Position).Distinct().Count());
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
    public async Task A_store_written_before_transaction_id_positions_continues_its_log_in_order_after_migrating()
    {
        // A schema as a store of an earlier release left it: scripts 1 to 4 applied, positions 1..3 from log_head.
        await CreateReleasedStoreAsync(4);
        await AppendThroughReleasedFunctionAsync("Order-1", 2);
        await AppendThroughReleasedFunctionAsync("Order-2", 1);

        await using var store = new PostgresEventStore(fixture.DataSource, PostgresFixture.Options(_schema));
        await store.InitializeAsync(Ct);
        var next = await store.AppendAsync(new StreamName("Order-1"), ExpectedVersion.Exact(1), [TestEvents.New()], Ct);

        Assert.Equal(SchemaMigrator.Scripts.Select(s => s.Number), await AppliedVersionsAsync());
        Assert.Equal(SchemaMigrator.Functions.Select(f => (f.Name, f.Sha256)), await RecordedFunctionsAsync());
        Assert.Equal(2, next.LastVersion);
        var all = await store.ReadAllAsync(cancellationToken: Ct).ToListAsync(Ct);
        Assert.Equal([1L, 2L, 3L], all.Take(3).Select(e => e.Position.Parts[0]));
        Assert.Equal(next.Position, all[3].Position);
        Assert.Equal(4, all.Count);
        Assert.Equal(next.Position, await store.GetHeadPositionAsync(Ct));
        var order1 = await store.ReadStreamAsync(new StreamName("Order-1"), cancellationToken: Ct).ToListAsync(Ct);
        Assert.Equal([0L, 1L, 2L], order1.Select(e => e.Version));
    }

    [Fact]
    public async Task A_store_of_the_released_scripts_1_to_5_moves_to_one_file_per_function_and_keeps_working()
    {
        await CreateReleasedStoreAsync(5);
        await AppendThroughReleasedFunctionAsync("Order-1", 2);
        // Without migrating, this version refuses the schema: it lacks the subscription-lease table of migration 6.
        var verifyOnly = PostgresFixture.Options(_schema);
        verifyOnly.MigrateOnStart = false;
        await using (var unmigrated = new PostgresEventStore(fixture.DataSource, verifyOnly))
        {
            var refused = await Assert.ThrowsAsync<EventStoreConfigurationException>(() => unmigrated.InitializeAsync(Ct));
            Assert.Contains("6_SubscriptionLeases", refused.Message, StringComparison.Ordinal);
        }

        await using var store = new PostgresEventStore(fixture.DataSource, PostgresFixture.Options(_schema));
        await store.InitializeAsync(Ct);
        Assert.Equal(SchemaMigrator.Scripts.Select(s => s.Number), await AppliedVersionsAsync());
        Assert.Equal(SchemaMigrator.Functions.Select(f => (f.Name, f.Sha256)), await RecordedFunctionsAsync());

        var next = await store.AppendAsync(new StreamName("Order-1"), ExpectedVersion.Exact(1), [TestEvents.New()], Ct);
        var all = await store.ReadAllAsync(cancellationToken: Ct).ToListAsync(Ct);
        Assert.Equal([0L, 1L, 2L], all.Select(e => e.Version));
        Assert.True(next.Position > all[1].Position);
    }

    [Fact]
    public async Task A_function_whose_file_changed_is_applied_again_and_an_unchanged_one_is_not()
    {
        await using var store = new PostgresEventStore(fixture.DataSource, PostgresFixture.Options(_schema));
        await store.InitializeAsync(Ct);
        await using (var connection = await fixture.DataSource.OpenConnectionAsync(Ct))
        {
            // As if append_events.sql had changed since this store was migrated: a different recorded hash, and a
            // definition that fails, which only re-applying the current file repairs.
            await using var change = new NpgsqlCommand($"""
                UPDATE "{_schema}".schema_functions SET sha256 = 'old' WHERE name = 'append_events';
                CREATE OR REPLACE FUNCTION "{_schema}".append_events(
                    p_stream text, p_category text, p_expected_kind int, p_expected_version bigint,
                    p_ids uuid[], p_types text[], p_content_types text[], p_schema_versions int[], p_data bytea[], p_metadata bytea[])
                RETURNS TABLE (status int, last_version bigint, last_position bigint, conflict_id uuid)
                LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'stale definition'; END $$;
                """, connection);
            await change.ExecuteNonQueryAsync(Ct);
        }
        var applied = await RecordedAppliedTimesAsync();

        await using var again = new PostgresEventStore(fixture.DataSource, PostgresFixture.Options(_schema));
        await again.InitializeAsync(Ct);

        Assert.Equal(SchemaMigrator.Functions.Select(f => (f.Name, f.Sha256)), await RecordedFunctionsAsync());
        var reapplied = await RecordedAppliedTimesAsync();
        Assert.NotEqual(applied["append_events"], reapplied["append_events"]);
        Assert.All(reapplied.Where(f => f.Key != "append_events"), f => Assert.Equal(applied[f.Key], f.Value));
        Assert.Equal(0, (await again.AppendAsync(new StreamName("Order-1"), ExpectedVersion.NoStream, [TestEvents.New()], Ct)).LastVersion);
    }

    [Fact]
    public void Each_function_is_defined_in_one_file_and_no_migration_defines_one()
    {
        Assert.All(SchemaMigrator.Scripts.Where(s => s.Number != 5), s => Assert.DoesNotContain("FUNCTION", s.Sql, StringComparison.Ordinal));
        foreach (var function in SchemaMigrator.Functions)
        {
            Assert.Contains($"FUNCTION __schema__.{function.Name}(", function.Sql, StringComparison.Ordinal);
            Assert.Single(System.Text.RegularExpressions.Regex.Matches(function.Sql, "CREATE OR REPLACE FUNCTION"));
        }
    }

    /// <summary>Creates the schema with the released scripts 1 to <paramref name="upTo"/>, recorded as applied.</summary>
    private async Task CreateReleasedStoreAsync(int upTo)
    {
        await using var connection = await fixture.DataSource.OpenConnectionAsync(Ct);
        await using (var create = new NpgsqlCommand($"CREATE SCHEMA \"{_schema}\"; CREATE TABLE \"{_schema}\".schema_migrations (version int PRIMARY KEY, name text NOT NULL, applied timestamptz NOT NULL DEFAULT now())", connection))
            await create.ExecuteNonQueryAsync(Ct);
        var assembly = typeof(MigrationTests).Assembly;
        foreach (var resource in assembly.GetManifestResourceNames().Where(r => r.StartsWith("Released.", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            var name = resource["Released.".Length..];
            var number = int.Parse(name[..name.IndexOf('_', StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture);
            if (number > upTo) continue;
            using var reader = new StreamReader(assembly.GetManifestResourceStream(resource)!);
            await using var cmd = new NpgsqlCommand(SqlText.ForSchema(await reader.ReadToEndAsync(Ct), _schema), connection);
            await cmd.ExecuteNonQueryAsync(Ct);
            await using var record = new NpgsqlCommand($"INSERT INTO \"{_schema}\".schema_migrations (version, name) VALUES ({number}, '{name}')", connection);
            await record.ExecuteNonQueryAsync(Ct);
        }
    }

    /// <summary>Appends <paramref name="count"/> events to a new stream through the append_events function a released script defined.</summary>
    private async Task AppendThroughReleasedFunctionAsync(string stream, int count)
    {
        await using var connection = await fixture.DataSource.OpenConnectionAsync(Ct);
        await using var append = new NpgsqlCommand($"SELECT status FROM \"{_schema}\".append_events($1, 'Order', 1, -1, $2, $3, $4, $5, $6, $7)", connection);
        append.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stream });
        append.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = [.. Enumerable.Range(0, count).Select(_ => Guid.NewGuid())] });
        append.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. Enumerable.Repeat("Old", count)] });
        append.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. Enumerable.Repeat("application/json", count)] });
        append.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = [.. Enumerable.Repeat(1, count)] });
        append.Parameters.Add(new NpgsqlParameter<byte[][]> { TypedValue = [.. Enumerable.Repeat("{}"u8.ToArray(), count)] });
        append.Parameters.Add(new NpgsqlParameter<byte[][]> { TypedValue = [.. Enumerable.Repeat("{}"u8.ToArray(), count)] });
        Assert.Equal(0, (int)(await append.ExecuteScalarAsync(Ct))!);
    }

    private async Task<List<(string, string)>> RecordedFunctionsAsync()
    {
        await using var connection = await fixture.DataSource.OpenConnectionAsync(Ct);
        await using var cmd = new NpgsqlCommand($"SELECT name, sha256 FROM \"{_schema}\".schema_functions ORDER BY name COLLATE \"C\"", connection);
        await using var reader = await cmd.ExecuteReaderAsync(Ct);
        var functions = new List<(string, string)>();
        while (await reader.ReadAsync(Ct)) functions.Add((reader.GetString(0), reader.GetString(1)));
        return functions;
    }

    private async Task<Dictionary<string, DateTime>> RecordedAppliedTimesAsync()
    {
        await using var connection = await fixture.DataSource.OpenConnectionAsync(Ct);
        await using var cmd = new NpgsqlCommand($"SELECT name, applied FROM \"{_schema}\".schema_functions", connection);
        await using var reader = await cmd.ExecuteReaderAsync(Ct);
        var applied = new Dictionary<string, DateTime>();
        while (await reader.ReadAsync(Ct)) applied[reader.GetString(0)] = reader.GetDateTime(1);
        return applied;
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
