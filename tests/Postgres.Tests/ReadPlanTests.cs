using Npgsql;

namespace EventStore.Providers.Postgres.Tests;

/// <summary>
/// Category and event-type pages must be answered from their (key, position) index under every plan PostgreSQL may
/// choose. A prepared statement switches to a generic plan after five runs; a plan that walks the primary key and
/// filters every row costs a whole-log scan for a category holding one event, or none. These tests EXPLAIN the exact
/// page queries the store sends, on a log where one category and one type dominate, under forced generic and forced
/// custom plans, for rare, common and missing values.
/// </summary>
public sealed class ReadPlanTests(PostgresFixture fixture) : IAsyncLifetime
{
    private const int EventCount = 60_000;
    private readonly string _schema = PostgresFixture.NewSchema();
    private PostgresEventStore? _store;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private PostgresEventStore Store => _store ?? throw new InvalidOperationException("Not initialized.");

    public async ValueTask InitializeAsync()
    {
        _store = new PostgresEventStore(fixture.DataSource, PostgresFixture.Options(_schema));
        await _store.InitializeAsync(Ct);
        // Straight into the tables (appends would take minutes): 600 streams of 100 events, 90% in category Order,
        // 9% Customer, and one event of category Rare and type RareType at the end of the log. Positions 1..N are
        // all below the safe position of a fresh schema.
        var s = $"\"{_schema}\"";
        await using var connection = await fixture.DataSource.OpenConnectionAsync(Ct);
        await using var cmd = new NpgsqlCommand($"""
            INSERT INTO {s}.streams (stream_name, category)
            SELECT c || '-' || n, c FROM (SELECT n, CASE WHEN n % 100 < 90 THEN 'Order' ELSE 'Customer' END AS c FROM generate_series(1, {EventCount / 100}) n) x;
            INSERT INTO {s}.events (position, stream_id, version, event_id, schema_version, stream_name, event_type, category, content_type, data, metadata)
            SELECT (st.stream_id - 1) * 100 + v + 1, st.stream_id, v, gen_random_uuid(), 1, st.stream_name,
                   CASE WHEN v % 10 = 0 THEN 'Shipped' ELSE 'Placed' END, st.category, 'application/json', '\x7b7d', '\x'
              FROM {s}.streams st, generate_series(0, 99) v;
            INSERT INTO {s}.streams (stream_name, category) VALUES ('Rare-1', 'Rare');
            INSERT INTO {s}.events (position, stream_id, version, event_id, schema_version, stream_name, event_type, category, content_type, data, metadata)
            SELECT {EventCount + 1}, stream_id, 0, gen_random_uuid(), 1, stream_name, 'RareType', 'Rare', 'application/json', '\x7b7d', '\x'
              FROM {s}.streams WHERE stream_name = 'Rare-1';
            ANALYZE {s}.events;
            """, connection);
        await cmd.ExecuteNonQueryAsync(Ct);
    }

    public async ValueTask DisposeAsync()
    {
        if (_store is not null) await _store.DisposeAsync();
        await fixture.DropSchemaAsync(_schema);
    }

    public static TheoryData<string, bool> PlanModes() => new()
    {
        { "force_generic_plan", true }, { "force_generic_plan", false },
        { "force_custom_plan", true }, { "force_custom_plan", false },
    };

    [Theory]
    [MemberData(nameof(PlanModes))]
    public async Task Category_pages_use_the_category_index_under_every_plan(string planMode, bool forwards)
    {
        foreach (var category in (string[])["Rare", "Order", "Missing"])
        {
            var plan = await ExplainAsync(planMode, Store.Sql.LogPage(forwards, LogFilterKind.Categories), forwards, [category]);
            AssertReadsOnlyThrough("events_category_position", plan);
            plan = await ExplainAsync(planMode, Store.Sql.LogPage(forwards, LogFilterKind.CategoriesAndEventTypes), forwards, [category], ["RareType"]);
            AssertReadsOnlyThrough("events_category_position", plan);
        }
    }

    [Theory]
    [MemberData(nameof(PlanModes))]
    public async Task Event_type_pages_use_the_type_index_under_every_plan(string planMode, bool forwards)
    {
        foreach (var type in (string[])["RareType", "Placed", "Missing"])
        {
            var plan = await ExplainAsync(planMode, Store.Sql.LogPage(forwards, LogFilterKind.EventTypes), forwards, [type]);
            AssertReadsOnlyThrough("events_type_position", plan);
        }
    }

    [Fact]
    public async Task Rare_and_missing_categories_and_types_read_exactly_their_events_in_both_directions()
    {
        foreach (var direction in (ReadDirection[])[ReadDirection.Forwards, ReadDirection.Backwards])
        {
            var options = new ReadAllOptions { Direction = direction };
            var rare = await Store.ReadCategoryAsync("Rare", options, Ct).ToListAsync(Ct);
            Assert.Equal("RareType", Assert.Single(rare).EventType);
            Assert.Empty(await Store.ReadCategoryAsync("Missing", options, Ct).ToListAsync(Ct));
            var byType = await Store.ReadAllAsync(options with { Filter = EventFilter.ForEventTypes("RareType", "RareType") }, Ct).ToListAsync(Ct);
            Assert.Equal("Rare-1", Assert.Single(byType).Stream.Value);
            var both = await Store.ReadAllAsync(options with { Filter = new EventFilter { Categories = ["Rare", "Customer"], EventTypes = ["RareType"] } }, Ct).ToListAsync(Ct);
            Assert.Equal("Rare-1", Assert.Single(both).Stream.Value);
        }
        // A common category pages in position order across pages and categories.
        var two = await Store.ReadAllAsync(new ReadAllOptions { Filter = EventFilter.ForCategories("Customer", "Rare") }, Ct).ToListAsync(Ct);
        Assert.Equal(EventCount / 10 + 1, two.Count);
        Assert.True(two.Zip(two.Skip(1)).All(p => p.First.Position < p.Second.Position));
    }

    /// <summary>EXPLAIN of a prepared page query under <paramref name="planMode"/>, with the store's parameters.</summary>
    private async Task<string> ExplainAsync(string planMode, string sql, bool forwards, string[] keys, string[]? types = null)
    {
        await using var connection = await fixture.DataSource.OpenConnectionAsync(Ct);
        var declared = types is null ? "bigint, int, bigint, text[]" : "bigint, int, bigint, text[], text[]";
        var cursor = forwards ? 0 : long.MaxValue;
        await using (var prepare = new NpgsqlCommand($"SET plan_cache_mode = {planMode}; PREPARE page ({declared}) AS {sql}", connection))
            await prepare.ExecuteNonQueryAsync(Ct);
        try
        {
            await using var explain = new NpgsqlCommand(
                $"EXPLAIN EXECUTE page ({cursor}, 2048, 0, {Literal(keys)}{(types is null ? "" : ", " + Literal(types))})", connection);
            var lines = new List<string>();
            await using (var reader = await explain.ExecuteReaderAsync(Ct))
                while (await reader.ReadAsync(Ct)) lines.Add(reader.GetString(0));
            return string.Join('\n', lines);
        }
        finally
        {
            await using var reset = new NpgsqlCommand("DEALLOCATE page; RESET plan_cache_mode", connection);
            await reset.ExecuteNonQueryAsync(Ct);
        }
    }

    private static string Literal(string[] values) => "ARRAY[" + string.Join(", ", values.Select(v => "'" + v + "'")) + "]::text[]";

    private static void AssertReadsOnlyThrough(string index, string plan)
    {
        Assert.True(plan.Contains(index, StringComparison.Ordinal)
            && !plan.Contains("events_pkey", StringComparison.Ordinal)
            && !plan.Contains("Seq Scan", StringComparison.Ordinal), $"The plan should read only through {index}:\n{plan}");
    }
}
