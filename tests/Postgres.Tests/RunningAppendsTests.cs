using System.Collections.Concurrent;
using Npgsql;

namespace EventStore.Providers.Postgres.Tests;

/// <summary>
/// The list of running appends that lets a read pass a committed event (LogHorizon) must hold every append that
/// already has its transaction id: an append it leaves out may still commit below what the read returns, and a
/// subscription would skip it for good (a CI load run lost one group of six appends that way).
/// </summary>
public sealed class RunningAppendsTests(PostgresFixture fixture) : IAsyncLifetime
{
    private readonly string _schema = PostgresFixture.NewSchema();
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync() => await fixture.DropSchemaAsync(_schema);

    [Theory]
    [InlineData(0x0000_0000_0000_1000L, 0x0000_0FF0L, 0x0000_0000_0000_0FF0L)] // older than the next id
    [InlineData(0x0000_0000_0000_1000L, 0x0000_1000L, 0x0000_0000_0000_1000L)] // the next id itself
    [InlineData(0x0000_0000_0000_1000L, 0x0000_1010L, 0x0000_0000_0000_1010L)] // assigned after the snapshot
    [InlineData(0x0000_0002_0000_0010L, 0xFFFF_FFF0L, 0x0000_0001_FFFF_FFF0L)] // older, before the epoch turned
    [InlineData(0x0000_0001_FFFF_FFF0L, 0x0000_0010L, 0x0000_0002_0000_0010L)] // newer, after the epoch turned
    public void A_32_bit_transaction_id_is_placed_within_two_billion_of_the_snapshots_next_id(long nextXid, long xid32, long expected) =>
        Assert.Equal(expected, LogHorizon.FullTransactionId(xid32, nextXid));

    /// <summary>
    /// PostgreSQL puts a new transaction id in the process array (so snapshots count it as running) a moment before
    /// it takes the lock on that id that <c>pg_locks</c> shows, and a <c>pg_locks</c> read in between used to leave
    /// the append out. The checkers compare the production visibility statement with its own snapshot's running ids:
    /// an append id in the snapshot that is still running after the statement, but absent from the list, is the
    /// failure. A session holding 2,000 other locks makes each <c>pg_locks</c> read slower, and so that moment
    /// likelier to be caught; with the old list (taken from the transaction-id locks) 12 s of this caught it in
    /// one run of three on a 2-core machine.
    /// </summary>
    [Fact]
    public async Task Every_append_that_has_its_transaction_id_is_listed_as_running_until_it_ends()
    {
        var options = PostgresFixture.Options(_schema);
        options.PendingAppendWait = TimeSpan.FromMinutes(1);
        await using var store = new PostgresEventStore(fixture.DataSource, options);
        await store.InitializeAsync(Ct);
        long positionBase;
        await using (var cmd = fixture.DataSource.CreateCommand($"SELECT {_schema}.position_base()"))
            positionBase = (long)(await cmd.ExecuteScalarAsync(Ct))!;

        await using var ballast = await fixture.DataSource.OpenConnectionAsync(Ct);
        await using var ballastTx = await ballast.BeginTransactionAsync(Ct);
        await using (var cmd = new NpgsqlCommand("SELECT count(pg_advisory_xact_lock(424242, g)) FROM generate_series(1, 2000) g", ballast, ballastTx))
            await cmd.ExecuteScalarAsync(Ct);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        stop.CancelAfter(TimeSpan.FromSeconds(12));
        var appended = new ConcurrentBag<long>();
        var missed = new ConcurrentBag<(long Xid, string Snapshot, string Listed)>();
        var checks = 0L;
        var writers = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            var stream = new StreamName($"Writer{w}-stream");
            var expected = ExpectedVersion.NoStream;
            while (!stop.IsCancellationRequested)
            {
                var result = await store.AppendAsync(stream, expected, TestEvents.Many(1), Ct);
                expected = result.NextExpectedVersion;
                appended.Add((long)((ulong)result.Position.Parts[0] - (ulong)positionBase) >> 16);
            }
        }, Ct)).ToArray();
        var checkers = Enumerable.Range(0, 3).Select(_ => Task.Run(async () =>
        {
            await using var connection = await fixture.DataSource.OpenConnectionAsync(Ct);
            await using var visibility = new NpgsqlCommand(
                $"SELECT q.*, array(SELECT pg_snapshot_xip(pg_current_snapshot())::text::bigint) FROM ({store.Sql.Visibility}) q", connection);
            await using var stillRunning = new NpgsqlCommand(
                "SELECT array(SELECT x FROM unnest($1::bigint[]) x WHERE pg_xact_status(x::text::xid8) = 'in progress')", connection);
            var candidates = new NpgsqlParameter<long[]> { TypedValue = [] };
            stillRunning.Parameters.Add(candidates);
            while (!stop.IsCancellationRequested)
            {
                long safe, visible, nextXid;
                long[] listed, snapshotRunning;
                await using (var reader = await visibility.ExecuteReaderAsync(Ct))
                {
                    await reader.ReadAsync(Ct);
                    (safe, visible, nextXid) = (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(3));
                    listed = reader.GetFieldValue<long[]>(4);
                    snapshotRunning = reader.GetFieldValue<long[]>(5);
                }
                Interlocked.Increment(ref checks);
                if (visible < safe) continue; // all final: the list is not read, nor needed
                var listedFull = listed.Select(x => LogHorizon.FullTransactionId(x, nextXid)).ToHashSet();
                candidates.TypedValue = [.. snapshotRunning.Where(x => !listedFull.Contains(x))]; // pg_snapshot_xip gives 64-bit ids
                if (candidates.TypedValue.Length == 0) continue;
                var running = (long[])(await stillRunning.ExecuteScalarAsync(Ct))!;
                foreach (var xid in running)
                    missed.Add((xid, string.Join(",", snapshotRunning), string.Join(",", listed)));
            }
        }, Ct)).ToArray();
        await Task.WhenAll(writers.Concat(checkers));
        await ballastTx.RollbackAsync(Ct);

        TestContext.Current.SendDiagnosticMessage($"{appended.Count} appends, {Interlocked.Read(ref checks)} visibility reads");
        Assert.True(appended.Count > 1_000, $"only {appended.Count} appends in 12 s: too few for the check to mean anything");
        var ours = appended.ToHashSet();
        var lost = missed.Where(m => ours.Contains(m.Xid)).ToList();
        Assert.True(lost.Count == 0, $"{lost.Count} visibility reads left out an append that had its transaction id and was still running: "
            + string.Join("; ", lost.Take(5).Select(m => $"xid {m.Xid} (snapshot running {m.Snapshot}; listed {m.Listed})")));
    }
}
