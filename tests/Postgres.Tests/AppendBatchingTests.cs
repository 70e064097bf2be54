using Npgsql;

namespace EventStore.Providers.Postgres.Tests;

/// <summary>
/// Appends made while the store's append calls are busy go to PostgreSQL together (append_many). Each must still be
/// checked and answered on its own. The tests hold a stream's advisory lock from another connection so that the one
/// call in flight waits, the next appends queue behind it, and they are sent as one group when the lock is released.
/// </summary>
public sealed class AppendBatchingTests(PostgresFixture fixture) : IAsyncLifetime
{
    private readonly string _schema = PostgresFixture.NewSchema();
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync() => await fixture.DropSchemaAsync(_schema);

    private async Task<PostgresEventStore> NewStoreAsync()
    {
        var options = PostgresFixture.Options(_schema);
        options.AppendConcurrency = 1;
        var store = new PostgresEventStore(fixture.DataSource, options);
        await store.InitializeAsync(Ct);
        return store;
    }

    private Task<NpgsqlTransaction> HoldStreamLockAsync(string stream) => fixture.HoldStreamLockAsync(_schema, stream, Ct);

    private static async Task WaitUntilBlockedAsync(NpgsqlDataSource dataSource)
    {
        for (var i = 0; i < 500; i++)
        {
            await using var cmd = dataSource.CreateCommand("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND wait_event = 'advisory' AND query LIKE '%append_events%'");
            if ((long)(await cmd.ExecuteScalarAsync(Ct))! > 0) return;
            await Task.Delay(10, Ct);
        }
        Assert.Fail("the append never started waiting for the held stream lock");
    }

    [Fact]
    public async Task Queued_appends_sent_together_each_get_their_own_answer_even_when_one_fails_the_group()
    {
        await using var store = await NewStoreAsync();
        var stored = TestEvents.New();
        await store.AppendAsync(new StreamName("Order-4"), ExpectedVersion.NoStream, [stored, TestEvents.New()], Ct);
        var resent = TestEvents.Many(2);
        var original = await store.AppendAsync(new StreamName("Order-5"), ExpectedVersion.NoStream, resent, Ct);

        var held = await HoldStreamLockAsync("Order-1");
        var first = store.AppendAsync(new StreamName("Order-1"), ExpectedVersion.NoStream, [TestEvents.New()], Ct);
        await WaitUntilBlockedAsync(fixture.DataSource);
        // Queued behind the blocked call, so they leave as one group.
        var fresh = store.AppendAsync(new StreamName("Order-2"), ExpectedVersion.NoStream, TestEvents.Many(3), Ct);
        var wrong = store.AppendAsync(new StreamName("Order-3"), ExpectedVersion.Exact(7), [TestEvents.New()], Ct);
        var reusedId = store.AppendAsync(new StreamName("Order-4"), ExpectedVersion.Exact(1), [stored], Ct);
        var again = store.AppendAsync(new StreamName("Order-5"), ExpectedVersion.NoStream, resent, Ct);
        var sameStream = store.AppendAsync(new StreamName("Order-2"), ExpectedVersion.Exact(2), [TestEvents.New()], Ct);
        await held.RollbackAsync(Ct);
        await held.Connection!.DisposeAsync();

        Assert.Equal(0, (await first).LastVersion);
        Assert.Equal(2, (await fresh).LastVersion);
        Assert.Equal(-1, (await Assert.ThrowsAsync<WrongExpectedVersionException>(() => wrong)).ActualVersion);
        Assert.Equal(stored.EventId, (await Assert.ThrowsAsync<EventIdConflictException>(() => reusedId)).EventId);
        Assert.Equal(original with { WroteEvents = false }, await again);
        var appended = await sameStream;
        Assert.Equal(3, appended.LastVersion);

        var all = await store.ReadAllAsync(cancellationToken: Ct).ToListAsync(Ct);
        Assert.Equal(2 + 2 + 1 + 3 + 1, all.Count);
        Assert.Equal(all.Count, all.Select(e => e.EventId).Distinct().Count());
        Assert.Equal(all.Select(e => e.Position).Order(), all.Select(e => e.Position));
        Assert.Equal([0L, 1L, 2L, 3L], all.Where(e => e.Stream.Value == "Order-2").Select(e => e.Version));
        Assert.Equal(appended.Position, all.Last(e => e.Stream.Value == "Order-2").Position);
        Assert.DoesNotContain(all, e => e.Stream.Value == "Order-3");
    }

    [Fact]
    public async Task Queued_appends_without_errors_commit_together_in_one_transaction_with_their_own_positions()
    {
        await using var store = await NewStoreAsync();
        var held = await HoldStreamLockAsync("Order-0");
        var blocked = store.AppendAsync(new StreamName("Order-0"), ExpectedVersion.NoStream, [TestEvents.New()], Ct);
        await WaitUntilBlockedAsync(fixture.DataSource);
        var queued = Enumerable.Range(1, 10)
            .Select(i => store.AppendAsync(new StreamName($"Order-{i}"), ExpectedVersion.NoStream, TestEvents.Many(i % 3 + 1), Ct))
            .ToArray();
        await held.RollbackAsync(Ct);
        await held.Connection!.DisposeAsync();
        await blocked;
        var results = await Task.WhenAll(queued);

        // One transaction: every position of the group carries the same transaction id (the high bits).
        Assert.Single(results.Select(r => r.Position.Parts[0] >> 16).Distinct());
        Assert.Equal(results.Length, results.Select(r => r.Position).Distinct().Count());
        foreach (var (result, i) in results.Select((r, i) => (r, i + 1)))
        {
            var events = await store.ReadStreamAsync(new StreamName($"Order-{i}"), cancellationToken: Ct).ToListAsync(Ct);
            Assert.Equal(i % 3 + 1, events.Count);
            Assert.Equal(result.Position, events[^1].Position);
        }
    }

    [Fact]
    public async Task An_append_cancelled_while_queued_is_never_sent()
    {
        await using var store = await NewStoreAsync();
        var held = await HoldStreamLockAsync("Order-1");
        var blocked = store.AppendAsync(new StreamName("Order-1"), ExpectedVersion.NoStream, [TestEvents.New()], Ct);
        await WaitUntilBlockedAsync(fixture.DataSource);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var queued = store.AppendAsync(new StreamName("Order-2"), ExpectedVersion.NoStream, [TestEvents.New()], cancel.Token);

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued);
        await held.RollbackAsync(Ct);
        await held.Connection!.DisposeAsync();
        await blocked;

        Assert.False((await store.GetStreamInfoAsync(new StreamName("Order-2"), Ct)).Exists);
        var next = await store.AppendAsync(new StreamName("Order-2"), ExpectedVersion.NoStream, [TestEvents.New()], Ct);
        Assert.Equal(0, next.LastVersion);
    }

    [Fact]
    public async Task A_group_failed_by_a_client_side_error_of_one_member_answers_every_other_member_on_its_own()
    {
        await using var store = await NewStoreAsync();
        // A batcher of its own, fed PendingAppends directly: the poisoned one (a lone surrogate the UTF-8 encoder
        // refuses) bypasses EventGuard, as any failure the guard does not foresee would.
        var batcher = new AppendBatcher(store, maxCalls: 1);
        PendingAppend Pending(string stream, string eventType = "Ok") =>
            new(new StreamName(stream), ExpectedVersion.NoStream, [TestEvents.New(eventType)], Ct);

        var held = await HoldStreamLockAsync("Order-1");
        var first = batcher.SubmitAsync(Pending("Order-1"));
        await WaitUntilBlockedAsync(fixture.DataSource);
        var before = batcher.SubmitAsync(Pending("Order-2"));
        var poisoned = batcher.SubmitAsync(Pending("Order-3", "Bad\uD800Type"));
        var after = batcher.SubmitAsync(Pending("Order-4"));
        await held.RollbackAsync(Ct);
        await held.Connection!.DisposeAsync();

        Assert.Equal(0, (await first).Status);
        Assert.Equal(0, (await before).Status);
        Assert.Equal(0, (await after).Status);
        await Assert.ThrowsAnyAsync<Exception>(() => poisoned);
        Assert.True((await store.GetStreamInfoAsync(new StreamName("Order-2"), Ct)).Exists);
        Assert.False((await store.GetStreamInfoAsync(new StreamName("Order-3"), Ct)).Exists);
        Assert.True((await store.GetStreamInfoAsync(new StreamName("Order-4"), Ct)).Exists);
        // The store is still usable afterwards.
        Assert.Equal(0, (await store.AppendAsync(new StreamName("Order-3"), ExpectedVersion.NoStream, [TestEvents.New()], Ct)).LastVersion);
    }
}
