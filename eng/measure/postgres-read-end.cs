// Read-to-the-end latency of the PostgreSQL store while other sessions hold transactions open (issue 15).
//   eng/postgres.sh start --durable && source .tmp/servers/postgres.env && export EVENTSTORE_POSTGRES_CONNECTION
//   dotnet run eng/measure/postgres-read-end.cs [seconds per case, default 5]
// Cases: nothing else running; an idle-in-transaction session (holding a transaction id) in the same cluster; slow
// appends to this schema (each holds its transaction 50 ms before committing, 2 at a time); both.
// Each read starts 10 events before the end of $all and reads to the end, as a catching-up subscriber does.
#:project ../../src/Postgres/EventStore.Providers.Postgres.csproj
using System.Diagnostics;
using EventStore.Providers;
using EventStore.Providers.Postgres;
using Npgsql;

var connectionString = Environment.GetEnvironmentVariable("EVENTSTORE_POSTGRES_CONNECTION") ?? throw new InvalidOperationException("EVENTSTORE_POSTGRES_CONNECTION is not set");
var seconds = args.Length > 0 ? double.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 5;
var schema = "m_" + Guid.NewGuid().ToString("N")[..12];
await using var store = PostgresEventStore.Create(new PostgresEventStoreOptions { ConnectionString = connectionString, Schema = schema });
await store.InitializeAsync();
for (var i = 0; i < 100; i++)
    await store.AppendAsync(new StreamName($"Order-{i}"), ExpectedVersion.NoStream, [.. Enumerable.Range(0, 100).Select(_ => new EventData(Guid.NewGuid(), "Placed", "{}"u8.ToArray()))]);

try
{
    foreach (var (idle, slow) in new[] { (false, false), (true, false), (false, true), (true, true) })
    {
        using var stop = new CancellationTokenSource();
        await using var idleConnection = new NpgsqlConnection(connectionString);
        NpgsqlTransaction? idleTx = null;
        if (idle)
        {
            await idleConnection.OpenAsync();
            idleTx = await idleConnection.BeginTransactionAsync();
            await using var cmd = new NpgsqlCommand("SELECT pg_current_xact_id()", idleConnection, idleTx);
            await cmd.ExecuteScalarAsync();
        }
        var writers = slow ? Enumerable.Range(0, 2).Select(w => Task.Run(() => SlowAppendsAsync(w, stop.Token))).ToArray() : [];
        var latencies = new List<double>();
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed.TotalSeconds < seconds)
        {
            var tail = await store.ReadAllAsync(new ReadAllOptions { Direction = ReadDirection.Backwards, MaxCount = 10 }).ToArrayAsync();
            var from = tail[^1].Position;
            var t0 = Stopwatch.GetTimestamp();
            var n = 0;
            await foreach (var e in store.ReadAllAsync(new ReadAllOptions { From = from })) n++;
            latencies.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }
        await stop.CancelAsync();
        try { await Task.WhenAll(writers); } catch (OperationCanceledException) { }
        if (idleTx is not null) await idleTx.RollbackAsync();
        latencies.Sort();
        double P(double q) => latencies[(int)Math.Min(latencies.Count - 1, q * latencies.Count)];
        Console.WriteLine($"idle transaction {(idle ? "yes" : "no ")}  slow appends {(slow ? "yes" : "no ")}  reads {latencies.Count,5}  p50 {P(0.5),7:F2} ms  p90 {P(0.9),7:F2} ms  p99 {P(0.99),7:F2} ms");
    }
}
finally
{
    await using var conn = new NpgsqlConnection(connectionString);
    await conn.OpenAsync();
    await using var drop = new NpgsqlCommand($"DROP SCHEMA \"{schema}\" CASCADE", conn);
    await drop.ExecuteNonQueryAsync();
}

// An append that keeps its transaction open 50 ms after writing, as a slow commit would, then commits.
async Task SlowAppendsAsync(int writer, CancellationToken ct)
{
    await using var connection = new NpgsqlConnection(connectionString);
    await connection.OpenAsync(ct);
    for (var i = 0; !ct.IsCancellationRequested; i++)
    {
        await using var tx = await connection.BeginTransactionAsync(ct);
        await using (var cmd = new NpgsqlCommand($"SELECT status FROM \"{schema}\".append_events($1, 'Slow', 0, -1, $2, '{{Slow}}', '{{application/json}}', '{{1}}', $3, $3)", connection, tx))
        {
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = $"Slow-{writer}" });
            cmd.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = [Guid.NewGuid()] });
            cmd.Parameters.Add(new NpgsqlParameter<byte[][]> { TypedValue = ["{}"u8.ToArray()] });
            await cmd.ExecuteScalarAsync(ct);
        }
        await Task.Delay(50, CancellationToken.None);
        await tx.CommitAsync(CancellationToken.None);
    }
}
