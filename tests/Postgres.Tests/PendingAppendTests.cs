using Npgsql;

namespace EventStore.Providers.Postgres.Tests;

/// <summary>
/// What readers do while a transaction is still open: an append that has not committed holds back every later
/// position (it may still commit below them), while a transaction that is not an append holds back nothing.
/// </summary>
public sealed class PendingAppendTests(PostgresFixture fixture) : IAsyncLifetime
{
    private readonly string _schema = PostgresFixture.NewSchema();
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync() => await fixture.DropSchemaAsync(_schema);

    private PostgresEventStore NewStore(TimeSpan pendingAppendWait)
    {
        var options = PostgresFixture.Options(_schema);
        options.PendingAppendWait = pendingAppendWait;
        return new PostgresEventStore(fixture.DataSource, options);
    }

    [Fact]
    public async Task A_long_transaction_that_is_not_an_append_neither_hides_new_events_nor_makes_reads_wait()
    {
        // A wait this long would outlast the test's timeout: the read must not wait for the open transaction at all.
        await using var store = NewStore(TimeSpan.FromMinutes(10));
        await store.InitializeAsync(Ct);
        await using var other = await fixture.DataSource.OpenConnectionAsync(Ct);
        await using var tx = await other.BeginTransactionAsync(Ct);
        await using (var cmd = new NpgsqlCommand("SELECT pg_current_xact_id()", other, tx))
            await cmd.ExecuteScalarAsync(Ct);

        var written = await store.AppendAsync(new StreamName("Order-1"), ExpectedVersion.NoStream, TestEvents.Many(2), Ct);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        var all = await store.ReadAllAsync(cancellationToken: timeout.Token).ToListAsync(timeout.Token);
        Assert.Equal(2, all.Count);
        Assert.Equal(written.Position, all[^1].Position);
        Assert.Equal(written.Position, await store.GetHeadPositionAsync(timeout.Token));
        var backwards = await store.ReadAllAsync(new ReadAllOptions { Direction = ReadDirection.Backwards, MaxCount = 1 }, timeout.Token).ToListAsync(timeout.Token);
        Assert.Equal(written.Position, Assert.Single(backwards).Position);
        await tx.RollbackAsync(Ct);
    }

    [Fact]
    public async Task An_idle_transaction_does_not_make_reads_wait_for_an_append_that_holds_nothing_back()
    {
        // Reads would wait this long for the open append below if they waited for it at all.
        await using var store = NewStore(TimeSpan.FromMinutes(10));
        await store.InitializeAsync(Ct);
        await using var other = await fixture.DataSource.OpenConnectionAsync(Ct);
        await using var idle = await other.BeginTransactionAsync(Ct);
        await using (var cmd = new NpgsqlCommand("SELECT pg_current_xact_id()", other, idle))
            await cmd.ExecuteScalarAsync(Ct);
        var written = await store.AppendAsync(new StreamName("Order-1"), ExpectedVersion.NoStream, TestEvents.Many(2), Ct);
        // An append that starts after every committed event: it may still commit, but only above them.
        await using var slow = await fixture.DataSource.OpenConnectionAsync(Ct);
        await using var tx = await slow.BeginTransactionAsync(Ct);
        await using (var cmd = new NpgsqlCommand($"SELECT status FROM \"{_schema}\".append_events('Order-2', 'Order', 1, -1, $1, '{{Slow}}', '{{application/json}}', '{{1}}', $2, $2)", slow, tx))
        {
            cmd.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = [Guid.NewGuid()] });
            cmd.Parameters.Add(new NpgsqlParameter<byte[][]> { TypedValue = ["{}"u8.ToArray()] });
            Assert.Equal(0, (int)(await cmd.ExecuteScalarAsync(Ct))!);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        var all = await store.ReadAllAsync(cancellationToken: timeout.Token).ToListAsync(timeout.Token);
        Assert.Equal(written.Position, all[^1].Position);
        Assert.Equal(2, all.Count);
        Assert.Equal(written.Position, await store.GetHeadPositionAsync(timeout.Token));
        var backwards = await store.ReadAllAsync(new ReadAllOptions { Direction = ReadDirection.Backwards, MaxCount = 1 }, timeout.Token).ToListAsync(timeout.Token);
        Assert.Equal(written.Position, Assert.Single(backwards).Position);

        await tx.CommitAsync(Ct);
        Assert.Equal(3, (await store.ReadAllAsync(cancellationToken: timeout.Token).ToListAsync(timeout.Token)).Count);
        await idle.RollbackAsync(Ct);
    }

    [Fact]
    public async Task An_append_still_open_holds_back_later_commits_until_it_ends_and_then_reads_in_position_order()
    {
        await using var store = NewStore(TimeSpan.FromMilliseconds(300));
        await store.InitializeAsync(Ct);
        var first = await store.AppendAsync(new StreamName("Order-0"), ExpectedVersion.NoStream, [TestEvents.New()], Ct);

        // An append that takes its transaction id and then stays open, as a slow commit would.
        await using var slow = await fixture.DataSource.OpenConnectionAsync(Ct);
        await using var tx = await slow.BeginTransactionAsync(Ct);
        var slowId = Guid.NewGuid();
        await using (var cmd = new NpgsqlCommand($"SELECT status FROM \"{_schema}\".append_events('Order-1', 'Order', 1, -1, $1, '{{Slow}}', '{{application/json}}', '{{1}}', $2, $2)", slow, tx))
        {
            cmd.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = [slowId] });
            cmd.Parameters.Add(new NpgsqlParameter<byte[][]> { TypedValue = ["{}"u8.ToArray()] });
            Assert.Equal(0, (int)(await cmd.ExecuteScalarAsync(Ct))!);
        }
        var later = await store.AppendAsync(new StreamName("Order-2"), ExpectedVersion.NoStream, [TestEvents.New()], Ct);

        // The later append has committed, but the open one may still commit below it: readers stop before both.
        var whileOpen = await store.ReadAllAsync(cancellationToken: Ct).ToListAsync(Ct);
        Assert.Equal([first.Position], whileOpen.Select(e => e.Position));
        Assert.Equal(first.Position, await store.GetHeadPositionAsync(Ct));

        await using var subscription = store.SubscribeToAllAsync(cancellationToken: Ct).GetAsyncEnumerator(Ct);
        var delivered = new List<RecordedEvent>();
        while (await subscription.MoveNextAsync() && subscription.Current.Kind != SubscriptionMessageKind.CaughtUp)
            if (subscription.Current.Event is { } e) delivered.Add(e);
        Assert.Equal([first.Position], delivered.Select(e => e.Position));

        await tx.CommitAsync(Ct);

        var after = await store.ReadAllAsync(cancellationToken: Ct).ToListAsync(Ct);
        Assert.Equal(3, after.Count);
        Assert.Equal(slowId, after[1].EventId);
        Assert.Equal(later.Position, after[2].Position);
        while (delivered.Count < 3 && await subscription.MoveNextAsync())
            if (subscription.Current.Event is { } e) delivered.Add(e);
        Assert.Equal(after.Select(e => e.EventId), delivered.Select(e => e.EventId));
    }

    [Fact]
    public async Task The_health_check_turns_degraded_while_an_append_runs_longer_than_the_pending_wait()
    {
        await using var store = NewStore(TimeSpan.FromMilliseconds(200));
        await store.InitializeAsync(Ct);
        var check = new PostgresHealthCheck(store);
        var context = new Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckContext
        {
            Registration = new("eventstore-postgres", check, Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Unhealthy, null),
        };
        Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy, (await check.CheckHealthAsync(context, Ct)).Status);

        var tx = await fixture.HoldStreamLockAsync(_schema, "Order-1", Ct);
        await using var slow = tx.Connection!;
        await using var held = tx;
        await Task.Delay(TimeSpan.FromMilliseconds(400), Ct);

        var degraded = await check.CheckHealthAsync(context, Ct);
        Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Degraded, degraded.Status);
        Assert.Contains(_schema, degraded.Description, StringComparison.Ordinal);
        await tx.RollbackAsync(Ct);
        Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy, (await check.CheckHealthAsync(context, Ct)).Status);
    }
}
