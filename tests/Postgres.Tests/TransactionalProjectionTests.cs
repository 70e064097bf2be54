using EventStore.Providers.Conformance;
using EventStore.Providers.Projections;
using Npgsql;

namespace EventStore.Providers.Postgres.Tests;

/// <summary>A projection writing to the same PostgreSQL stores its read-model change and checkpoint in one transaction.</summary>
public sealed class TransactionalProjectionTests(PostgresFixture fixture) : IAsyncLifetime
{
    private StoreUnderTest _sut = null!;
    private PostgresEventStore _store = null!;
    private PostgresCheckpointStore _checkpoints = null!;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _sut = await fixture.CreateStoreAsync(Ct);
        _store = (PostgresEventStore)_sut.Store;
        _checkpoints = new PostgresCheckpointStore(_store);
        await using var connection = await fixture.DataSource.OpenConnectionAsync(Ct);
        await using var cmd = new NpgsqlCommand($"CREATE TABLE \"{_store.Schema}\".order_totals (id text PRIMARY KEY, total int NOT NULL); INSERT INTO \"{_store.Schema}\".order_totals VALUES ('o1', 10)", connection);
        await cmd.ExecuteNonQueryAsync(Ct);
    }

    public async ValueTask DisposeAsync() => await _sut.DisposeAsync();

    [Fact]
    public async Task A_committed_unit_stores_the_read_model_change_and_the_checkpoint()
    {
        await _checkpoints.SaveAtomicallyAsync("totals", Position.FromInt64(5), (c, t, ct) => AddToTotalAsync(c, t, 7, ct), Ct);

        Assert.Equal(17, await TotalAsync());
        Assert.Equal(Position.FromInt64(5), await _checkpoints.LoadAsync("totals", Ct));
    }

    [Fact]
    public async Task A_unit_that_fails_after_writing_rolls_back_both_the_read_model_and_the_checkpoint()
    {
        await _checkpoints.SaveAtomicallyAsync("totals", Position.FromInt64(5), (c, t, ct) => AddToTotalAsync(c, t, 7, ct), Ct);

        await Assert.ThrowsAsync<InvalidOperationException>(() => _checkpoints.SaveAtomicallyAsync("totals", Position.FromInt64(9), async (c, t, ct) =>
        {
            await AddToTotalAsync(c, t, 100, ct);
            throw new InvalidOperationException("handler failed after its write");
        }, Ct));

        Assert.Equal(17, await TotalAsync());
        Assert.Equal(Position.FromInt64(5), await _checkpoints.LoadAsync("totals", Ct));
    }

    [Fact]
    public async Task The_subscription_runner_hook_hands_the_handler_the_open_npgsql_transaction()
    {
        ITransactionalCheckpointStore hook = _checkpoints;
        object? seen = null;

        await hook.HandleAndSaveAsync("totals", Position.FromInt64(3), async (transaction, ct) =>
        {
            seen = transaction;
            var tx = Assert.IsType<NpgsqlTransaction>(transaction);
            await AddToTotalAsync(tx.Connection!, tx, 1, ct);
        }, Ct);

        Assert.NotNull(seen);
        Assert.Equal(11, await TotalAsync());
        Assert.Equal(Position.FromInt64(3), await _checkpoints.LoadAsync("totals", Ct));
    }

    [Fact]
    public async Task Stopping_the_runner_while_a_batch_is_in_its_handler_commits_the_finished_batch_with_its_checkpoint()
    {
        var appended = await _store.AppendAsync(new StreamName("Order-stop"), ExpectedVersion.NoStream, [TestEvents.New()], Ct);
        var stopSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // The handler writes, then finishes only once the stop has reached it: the stop lands between its work and the commit.
        var handler = new DelegateHandler(async (events, context, ct) =>
        {
            var tx = Assert.IsType<NpgsqlTransaction>(context.Transaction);
            await AddToTotalAsync(tx.Connection!, tx, events.Count, CancellationToken.None);
            entered.TrySetResult();
            await using (ct.Register(() => stopSeen.TrySetResult())) await stopSeen.Task;
        });
        var runner = new SubscriptionRunner("totals", _store, _checkpoints, handler, new SubscriptionOptions { BatchSize = 1 });

        await runner.StartAsync(Ct);
        await entered.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        await runner.StopAsync(Ct);

        Assert.Equal(11, await TotalAsync());
        Assert.Equal(appended.Position, await _checkpoints.LoadAsync("totals", Ct));
    }

    private sealed class DelegateHandler(Func<IReadOnlyList<RecordedEvent>, SubscriptionContext, CancellationToken, Task> handle) : ISubscriptionHandler
    {
        public Task HandleAsync(IReadOnlyList<RecordedEvent> events, SubscriptionContext context, CancellationToken cancellationToken) =>
            handle(events, context, cancellationToken);
    }

    private async Task AddToTotalAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, int amount, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand($"UPDATE \"{_store.Schema}\".order_totals SET total = total + $1 WHERE id = 'o1'", connection, transaction);
        cmd.Parameters.AddWithValue(amount);
        Assert.Equal(1, await cmd.ExecuteNonQueryAsync(ct));
    }

    private async Task<int> TotalAsync()
    {
        await using var connection = await fixture.DataSource.OpenConnectionAsync(Ct);
        await using var cmd = new NpgsqlCommand($"SELECT total FROM \"{_store.Schema}\".order_totals WHERE id = 'o1'", connection);
        return (int)(await cmd.ExecuteScalarAsync(Ct))!;
    }
}
