using EventStore.Providers.Bench.Core;
using Npgsql;
using NpgsqlTypes;

namespace EventStore.Providers.Bench.Targets;

/// <summary>
/// The physical limits on the same PostgreSQL: single-row INSERT, binary COPY and a streaming SELECT, each on a table
/// with the provider's event columns, types, keys and indexes, decoded into the same .NET values the provider returns
/// (bytea as byte[], text as string). So each ratio is a fraction of the least work that stores or returns the same
/// rows; bench/README.md says why for each.
/// </summary>
internal sealed class NpgsqlRawPeer(PostgresTarget.Session session) : IPeer
{
    private const string Backend = "postgres";
    public string Name => "Npgsql raw";

    private const string Columns = "stream_id, version, event_id, schema_version, stream_name, event_type, category, content_type, data, metadata";
    private const string Insert = $"INSERT INTO raw_events ({Columns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
    private const string Copy = $"COPY raw_events ({Columns}) FROM STDIN (FORMAT BINARY)";

    /// <summary>The provider's events table (src/Postgres/Scripts) with an identity position instead of its computed one.</summary>
    private const string Table = """
        CREATE TABLE raw_events (
          position       bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
          stream_id      bigint      NOT NULL,
          version        bigint      NOT NULL,
          event_id       uuid        NOT NULL,
          schema_version int         NOT NULL,
          created        timestamptz NOT NULL DEFAULT clock_timestamp(),
          stream_name    text        NOT NULL,
          event_type     text        NOT NULL,
          category       text        NOT NULL,
          content_type   text        NOT NULL,
          data           bytea       NOT NULL,
          metadata       bytea       NOT NULL,
          UNIQUE (stream_id, version),
          UNIQUE (stream_id, event_id));
        CREATE INDEX ON raw_events (category, position);
        CREATE INDEX ON raw_events (event_type, position);
        """;

    public async Task<IReadOnlyList<Measurement>> RunAsync(BenchOptions options, Func<string, Action<double>> progress, CancellationToken ct)
    {
        var cs = await session.CreateDatabaseAsync("raw", ct).ConfigureAwait(false);
        await using var source = NpgsqlDataSource.Create(cs);
        await using (var cmd = source.CreateCommand(Table))
            await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        var json = Payload.Json;
        var results = new List<Measurement>();

        foreach (var (workload, writers) in new[] { ("append-1w", 1), ("append-8w", 8) })
        {
            if (!options.Runs(workload)) continue;
            var connections = new NpgsqlConnection[writers];
            var commands = new NpgsqlCommand[writers];
            for (var w = 0; w < writers; w++)
            {
                connections[w] = await source.OpenConnectionAsync(ct).ConfigureAwait(false);
                commands[w] = new NpgsqlCommand(Insert, connections[w])
                {
                    Parameters =
                    {
                        new() { NpgsqlDbType = NpgsqlDbType.Bigint }, new() { NpgsqlDbType = NpgsqlDbType.Bigint }, new() { NpgsqlDbType = NpgsqlDbType.Uuid },
                        new() { NpgsqlDbType = NpgsqlDbType.Integer }, new() { NpgsqlDbType = NpgsqlDbType.Text }, new() { NpgsqlDbType = NpgsqlDbType.Text },
                        new() { NpgsqlDbType = NpgsqlDbType.Text }, new() { NpgsqlDbType = NpgsqlDbType.Text }, new() { NpgsqlDbType = NpgsqlDbType.Bytea },
                        new() { NpgsqlDbType = NpgsqlDbType.Bytea },
                    },
                };
                await commands[w].PrepareAsync(ct).ConfigureAwait(false);
            }
            try
            {
                var run = await Timed.RunAsync(writers, options.Duration, async (w, i) =>
                {
                    var c = commands[w];
                    // The provider's append-1w moves to a new stream every 100 events; so does this.
                    var stream = writers * 1_000_000L + w * 10_000L + i / 100;
                    c.Parameters[0].Value = stream;
                    c.Parameters[1].Value = i % 100;
                    c.Parameters[2].Value = Guid.NewGuid();
                    c.Parameters[3].Value = 1;
                    c.Parameters[4].Value = $"BenchAppend-raw{stream}";
                    c.Parameters[5].Value = Payload.EventType;
                    c.Parameters[6].Value = "BenchAppend";
                    c.Parameters[7].Value = EventData.JsonContentType;
                    c.Parameters[8].Value = json;
                    c.Parameters[9].Value = Array.Empty<byte>();
                    await c.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                    return OpOutcome.Wrote(1);
                }, progress($"{Name}: {workload} (INSERT)"), ct).ConfigureAwait(false);
                results.Add(Measure(workload, run, $"prepared autocommit single-row INSERT, {writers} connection(s)"));
            }
            finally
            {
                foreach (var c in commands) await c.DisposeAsync().ConfigureAwait(false);
                foreach (var c in connections) await c.DisposeAsync().ConfigureAwait(false);
            }
        }

        await using var conn = await source.OpenConnectionAsync(ct).ConfigureAwait(false);
        if (options.Runs("batch-100"))
        {
            var run = await Timed.RunAsync(1, options.Duration, async (_, i) =>
            {
                await CopyAsync(conn, 2_000_000_000L + i, 100, json, ct).ConfigureAwait(false);
                return OpOutcome.Wrote(100);
            }, progress($"{Name}: batch-100 (COPY)"), ct).ConfigureAwait(false);
            results.Add(Measure("batch-100", run, "binary COPY of 100 rows"));
        }

        if (options.Runs("read-all"))
        {
            var report = progress($"{Name}: read-all (SELECT)");
            long start;
            await using (var max = new NpgsqlCommand("SELECT coalesce(max(position), 0) FROM raw_events", conn))
                start = (long)(await max.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
            for (var written = 0; written < options.AllReadSize; written += 1000)
                await CopyAsync(conn, 3_000_000_000L + written, Math.Min(1000, options.AllReadSize - written), json, ct).ConfigureAwait(false);
            var run = await Timed.RunAsync(1, options.Duration, async (_, _) =>
            {
                // The provider's $all columns in its order, each decoded to the type its RecordedEvent holds.
                await using var cmd = new NpgsqlCommand(
                    "SELECT position, stream_name, version, event_id, event_type, data, metadata, content_type, schema_version, created FROM raw_events WHERE position > $1 ORDER BY position LIMIT $2", conn)
                {
                    Parameters = { new() { Value = start }, new() { Value = (long)options.AllReadSize } },
                };
                await using var reader = await cmd.ExecuteReaderAsync(System.Data.CommandBehavior.SequentialAccess, ct).ConfigureAwait(false);
                var n = 0;
                while (await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    _ = reader.GetInt64(0);
                    _ = reader.GetString(1);
                    _ = reader.GetInt64(2);
                    _ = reader.GetGuid(3);
                    _ = reader.GetString(4);
                    _ = reader.GetFieldValue<byte[]>(5);
                    _ = reader.GetFieldValue<byte[]>(6);
                    _ = reader.GetString(7);
                    _ = reader.GetInt32(8);
                    _ = reader.GetFieldValue<DateTime>(9);
                    n++;
                }
                return OpOutcome.Wrote(n);
            }, report, ct).ConfigureAwait(false);
            results.Add(Measure("read-all", run, $"streaming SELECT ... ORDER BY position of {options.AllReadSize:N0} rows"));
        }
        return results;
    }

    private static async Task CopyAsync(NpgsqlConnection conn, long stream, int rows, byte[] json, CancellationToken ct)
    {
        await using var writer = await conn.BeginBinaryImportAsync(Copy, ct).ConfigureAwait(false);
        for (var v = 0; v < rows; v++)
        {
            await writer.StartRowAsync(ct).ConfigureAwait(false);
            await writer.WriteAsync(stream, NpgsqlDbType.Bigint, ct).ConfigureAwait(false);
            await writer.WriteAsync((long)v, NpgsqlDbType.Bigint, ct).ConfigureAwait(false);
            await writer.WriteAsync(Guid.NewGuid(), NpgsqlDbType.Uuid, ct).ConfigureAwait(false);
            await writer.WriteAsync(1, NpgsqlDbType.Integer, ct).ConfigureAwait(false);
            await writer.WriteAsync($"BenchBatch-raw{stream}", NpgsqlDbType.Text, ct).ConfigureAwait(false);
            await writer.WriteAsync(Payload.EventType, NpgsqlDbType.Text, ct).ConfigureAwait(false);
            await writer.WriteAsync("BenchBatch", NpgsqlDbType.Text, ct).ConfigureAwait(false);
            await writer.WriteAsync(EventData.JsonContentType, NpgsqlDbType.Text, ct).ConfigureAwait(false);
            await writer.WriteAsync(json, NpgsqlDbType.Bytea, ct).ConfigureAwait(false);
            await writer.WriteAsync(Array.Empty<byte>(), NpgsqlDbType.Bytea, ct).ConfigureAwait(false);
        }
        await writer.CompleteAsync(ct).ConfigureAwait(false);
    }

    private Measurement Measure(string workload, TimedRun run, string method) => new()
    {
        Backend = Backend, Subject = Name, Workload = workload, Method = method,
        Operations = run.Operations, Events = run.Events, Seconds = run.Seconds, Latency = run.Latency.Summary(),
    };
}
