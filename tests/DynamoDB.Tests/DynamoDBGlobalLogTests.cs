using System.Reflection;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace EventStore.Providers.DynamoDB.Tests;

/// <summary>How global positions are handed out, held back and given up: blocks, holes, the gap timeout.</summary>
public sealed class DynamoDBGlobalLogTests(DynamoDBServer server)
{
    private readonly DynamoDBFixture _fixture = new(server);

    [Fact]
    public async Task Appends_of_one_instance_update_the_position_counter_once_per_block()
    {
        var options = _fixture.NewOptions();
        options.PositionBlockSize = 100; // a fixed size: blocks are what these tests are about
        await using var sut = await _fixture.CreateStoreAsync(options, null, new FakeTimeProvider(DateTimeOffset.UtcNow), TestContext.Current.CancellationToken);
        var stream = TestEvents.Stream();
        var last = -1L;
        for (var i = 0; i < 40; i++)
            last = (await sut.Store.AppendAsync(stream, ExpectedVersion.FromLastSeen(last), TestEvents.Many(1 + i % 2))).LastVersion;
        // 60 positions in 40 appends: the first block, and the next one reserved ahead once half of the first was used.
        Assert.Equal(2 * options.PositionBlockSize!.Value, await CounterAsync(options));
        var all = await sut.Store.ReadAllAsync().ToListAsync();
        Assert.Equal(Enumerable.Range(1, 60).Select(p => (long)p), all.Select(e => e.Position.ToInt64()));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task One_read_of_all_returns_what_another_instance_acknowledged_behind_an_open_block(bool readByTheBlocksOwner)
    {
        var options = _fixture.NewOptions();
        options.PositionBlockSize = 100; // a fixed size: this instance's block rest stays open until it is released
        // Released after 200 ms without an append: the read below starts well before that.
        options.PositionBlockLifetime = TimeSpan.FromSeconds(1);
        await using var sut = await _fixture.CreateStoreAsync(options, null, null, TestContext.Current.CancellationToken);
        var other = await sut.OpenAnotherInstanceAsync(TestContext.Current.CancellationToken);
        var mine = await sut.Store.AppendAsync(TestEvents.Stream(), ExpectedVersion.NoStream, TestEvents.Many(1));
        var theirs = await other.AppendAsync(TestEvents.Stream(), ExpectedVersion.NoStream, TestEvents.Many(1));
        Assert.True(theirs.Position.ToInt64() > mine.Position.ToInt64() + 1, "the second instance reserved a block of its own");

        // One read, right away. The owner of the open rest releases it at once; the other instance waits for the
        // owner's release (within the block lifetime) instead of stopping at the hole.
        var reader = readByTheBlocksOwner ? sut.Store : other;
        var started = System.Diagnostics.Stopwatch.StartNew();
        var all = await reader.ReadAllAsync().ToListAsync();
        Assert.Equal([mine.Position, theirs.Position], all.Select(e => e.Position));
        Assert.Equal(theirs.Position, await reader.GetHeadPositionAsync());
        TestContext.Current.TestOutputHelper?.WriteLine($"the read took {started.ElapsedMilliseconds} ms (block lifetime {options.EffectivePositionBlockLifetime.TotalMilliseconds} ms)");
    }

    [Fact]
    public async Task A_commit_delayed_past_the_gap_timeout_cannot_land_behind_the_skip_marker_of_its_positions()
    {
        // The SDK retries a put with back-off; an attempt sent after a reader declared its positions abandoned would put
        // the events in their stream but behind every reader of $all that already passed those positions.
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var options = _fixture.NewOptions();
        options.PositionBlockSize = 100; // a fixed size: blocks are what these tests are about
        using var raw = DynamoDBClientFactory.Create(options);
        var client = HoldingCommitProxy.Wrap(raw, out var control);
        await using var sut = await _fixture.CreateStoreAsync(options, client, time, TestContext.Current.CancellationToken);
        var first = await sut.Store.AppendAsync(TestEvents.Stream(), ExpectedVersion.NoStream, TestEvents.Many(1));

        var slowStream = TestEvents.Stream();
        var slowBatch = TestEvents.Many(2);
        control.HoldNextCommitTo("s#" + slowStream.Value);
        var slow = sut.Store.AppendAsync(slowStream, ExpectedVersion.NoStream, slowBatch);
        await control.Holding.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        var later = await sut.Store.AppendAsync(TestEvents.Stream(), ExpectedVersion.NoStream, TestEvents.Many(1));
        Assert.Equal([first.Position], (await sut.Store.ReadAllAsync().ToListAsync()).Select(e => e.Position));

        // The held commit's positions are declared abandoned; a reader pages on from its checkpoint.
        time.Advance(options.GapTimeout + TimeSpan.FromSeconds(1));
        var page = await sut.Store.ReadAllAsync(new ReadAllOptions { MaxCount = 2 }).ToListAsync();
        Assert.Equal([first.Position, later.Position], page.Select(e => e.Position));
        var checkpoint = page[^1].Position;

        control.Release();
        var result = await slow.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        Assert.Equal(1, result.LastVersion);
        var stored = await sut.Store.ReadStreamAsync(slowStream).ToListAsync();
        Assert.Equal(slowBatch.Select(e => e.EventId), stored.Select(e => e.EventId));
        // Whatever is in its stream is in $all, after the checkpoint of the reader that passed the skipped positions.
        var rest = await sut.Store.ReadAllAsync(new ReadAllOptions { From = checkpoint }).ToListAsync();
        Assert.Equal(slowBatch.Select(e => e.EventId), rest.Select(e => e.EventId));
        Assert.Equal(stored.Select(e => e.Position), rest.Select(e => e.Position));
        Assert.Equal(4, (await sut.Store.ReadAllAsync().ToListAsync()).Count);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Holes_behind_the_first_one_time_out_together_with_it(bool fenced)
    {
        // After an outage several reservations may be abandoned: readers must not wait one gap timeout per hole.
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var options = _fixture.NewOptions();
        options.FenceCommits = fenced;
        options.PositionBlockSize = 1;
        await using var sut = await _fixture.CreateStoreAsync(options, null, time, TestContext.Current.CancellationToken);
        using var raw = DynamoDBClientFactory.Create(options);
        var expected = new List<Guid>();
        for (var hole = 0; hole < 3; hole++)
        {
            await AbandonPositionsAsync(raw, options, 2);
            var batch = TestEvents.Many(1);
            await sut.Store.AppendAsync(TestEvents.Stream(), ExpectedVersion.NoStream, batch);
            expected.AddRange(batch.Select(e => e.EventId));
        }
        Assert.Empty(await sut.Store.ReadAllAsync().ToListAsync());

        time.Advance(options.GapTimeout + TimeSpan.FromSeconds(1));
        Assert.Equal(expected, (await sut.Store.ReadAllAsync().ToListAsync()).Select(e => e.EventId));
        Assert.Equal(Position.FromInt64(9), await sut.Store.GetHeadPositionAsync());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_reservation_abandoned_by_a_crashed_writer_holds_readers_back_only_until_the_gap_timeout(bool fenced)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var options = _fixture.NewOptions();
        options.FenceCommits = fenced;
        options.PositionBlockSize = 100; // a fixed size: blocks are what these tests are about
        await using var sut = await _fixture.CreateStoreAsync(options, null, time, TestContext.Current.CancellationToken);
        using var raw = DynamoDBClientFactory.Create(options);
        var before = await sut.Store.AppendAsync(TestEvents.Stream(), ExpectedVersion.NoStream, TestEvents.Many(1));
        // Another instance reserved a block and died before any commit; this instance's next block comes after it.
        await AbandonPositionsAsync(raw, options, 3);
        time.Advance(options.EffectivePositionBlockLifetime);
        var after = await sut.Store.AppendAsync(TestEvents.Stream(), ExpectedVersion.NoStream, TestEvents.Many(1));
        Assert.Equal(options.PositionBlockSize!.Value + 4, after.Position.ToInt64());

        Assert.Equal([before.Position], (await sut.Store.ReadAllAsync().ToListAsync()).Select(e => e.Position));
        Assert.True(await sut.Store.GetHeadPositionAsync() < after.Position);
        Assert.Empty(await sut.Store.ReadAllAsync(new ReadAllOptions { From = before.Position }).ToListAsync());

        time.Advance(options.GapTimeout + TimeSpan.FromSeconds(1));
        Assert.Equal([before.Position, after.Position], (await sut.Store.ReadAllAsync().ToListAsync()).Select(e => e.Position));
        Assert.True(await sut.Store.GetHeadPositionAsync() >= after.Position);
        var other = await sut.OpenAnotherInstanceAsync(default);
        Assert.Equal([before.Position, after.Position], (await other.ReadAllAsync().ToListAsync()).Select(e => e.Position));
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, false)]
    [InlineData(true, true)]
    public async Task A_commit_DynamoDB_applies_after_a_reader_skipped_its_positions_is_refused_when_commits_are_fenced(bool fenced, bool intoSoftDeletedStream)
    {
        // A request already sent when the writer's budget ran out, or a writer cut off mid-send, can reach DynamoDB
        // after every timeout: here the writer's clock stands still, so its commit stays on its way until released.
        var ct = TestContext.Current.CancellationToken;
        var options = _fixture.NewOptions();
        options.FenceCommits = fenced;
        options.PositionBlockSize = 1;
        var readerTime = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var sut = await _fixture.CreateStoreAsync(options, null, readerTime, ct);
        using var raw = DynamoDBClientFactory.Create(options);
        var client = HoldingCommitProxy.Wrap(raw, out var control);
        using var writer = new DynamoDBEventStore(client, options, null, new FakeTimeProvider(DateTimeOffset.UtcNow));

        var before = await sut.Store.AppendAsync(TestEvents.Stream(), ExpectedVersion.NoStream, TestEvents.Many(1), ct);
        var lateStream = TestEvents.Stream();
        var lateBatch = TestEvents.Many(1);
        if (intoSoftDeletedStream)
        {
            // The commit then replaces the soft-delete marker in the slot, and the fence marks that marker instead.
            await sut.Store.AppendAsync(lateStream, ExpectedVersion.NoStream, TestEvents.Many(1), ct);
            await sut.Store.DeleteStreamAsync(lateStream, ExpectedVersion.Any, StreamDeletionMode.Soft, ct);
            before = await sut.Store.AppendAsync(TestEvents.Stream(), ExpectedVersion.NoStream, TestEvents.Many(1), ct);
            readerTime.Advance(options.GapTimeout + TimeSpan.FromSeconds(1));
            Assert.Equal(before.Position, (await sut.Store.ReadAllAsync(cancellationToken: ct).ToListAsync(ct))[^1].Position);
        }
        control.HoldNextCommitTo("s#" + lateStream.Value);
        var late = writer.AppendAsync(lateStream, ExpectedVersion.Any, lateBatch, ct);
        await control.Holding.WaitAsync(TimeSpan.FromSeconds(30), ct);
        var after = await sut.Store.AppendAsync(TestEvents.Stream(), ExpectedVersion.NoStream, TestEvents.Many(1), ct);
        Assert.Equal(before.Position, (await sut.Store.ReadAllAsync(cancellationToken: ct).ToListAsync(ct))[^1].Position);

        // Past the gap timeout the reader skips the held commit's positions and pages on from its checkpoint.
        readerTime.Advance(options.GapTimeout + TimeSpan.FromSeconds(1));
        var passed = await sut.Store.ReadAllAsync(new ReadAllOptions { From = before.Position }, ct).ToListAsync(ct);
        Assert.Equal([after.Position], passed.Select(e => e.Position));

        // Now DynamoDB applies the held request.
        control.Release();
        var result = await late.WaitAsync(TimeSpan.FromSeconds(30), ct);
        var held = await control.HeldOutcome.WaitAsync(TimeSpan.FromSeconds(30), ct);
        var stored = await sut.Store.ReadStreamAsync(lateStream, cancellationToken: ct).ToListAsync(ct);
        Assert.Equal(lateBatch.Select(e => e.EventId), stored.Select(e => e.EventId));
        var rest = await sut.Store.ReadAllAsync(new ReadAllOptions { From = after.Position }, ct).ToListAsync(ct);
        if (fenced)
        {
            // The fence won: the late request was refused by its slot, and the writer's retry stored the batch at new
            // positions, after everything the reader had passed.
            Assert.IsType<ConditionalCheckFailedException>(held);
            Assert.True(result.Position > after.Position, $"the batch was stored at {result.Position}, not after {after.Position}");
            Assert.Equal(lateBatch.Select(e => e.EventId), rest.Select(e => e.EventId));
        }
        else
        {
            // Unfenced, the late request lands on the skipped positions: in its stream, but never delivered to a reader
            // that had passed them (a reader from the start may see it). This is the limit the README states for the
            // default mode.
            Assert.Null(held);
            Assert.True(result.Position < after.Position);
            Assert.Empty(rest);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task An_instance_whose_FenceCommits_differs_from_the_tables_is_refused_at_start_naming_the_key(bool firstFenced)
    {
        var ct = TestContext.Current.CancellationToken;
        var options = _fixture.NewOptions();
        options.FenceCommits = firstFenced;
        await using var sut = await _fixture.CreateStoreAsync(options, null, null, ct);
        await sut.Store.AppendAsync(TestEvents.Stream(), ExpectedVersion.NoStream, TestEvents.Many(1), ct);

        var other = _fixture.NewOptions();
        other.TableName = options.TableName;
        other.FenceCommits = !firstFenced;
        using var client = DynamoDBClientFactory.Create(other);
        var refused = await Assert.ThrowsAsync<EventStoreConfigurationException>(() => new DynamoDBTableInitializer(client, other).InitializeAsync(ct));
        Assert.Equal("EventStore:DynamoDB:FenceCommits", refused.Key);
        Assert.Contains(options.TableName, refused.Message, StringComparison.Ordinal);
        using var store = new DynamoDBEventStore(client, other);
        await Assert.ThrowsAsync<EventStoreConfigurationException>(() => store.AppendAsync(TestEvents.Stream(), ExpectedVersion.NoStream, TestEvents.Many(1), ct));

        // The same setting is accepted.
        other.FenceCommits = firstFenced;
        await new DynamoDBTableInitializer(client, other).InitializeAsync(ct);
    }

    [Fact]
    public void A_subscription_polls_fast_while_the_log_moves_and_backs_off_to_the_poll_interval_when_idle()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var notifier = new AppendNotifier(time, TimeSpan.FromMilliseconds(500));
        notifier.Signal();
        Assert.Equal(AppendNotifier.FastPoll, notifier.NextDelay());
        time.Advance(TimeSpan.FromMilliseconds(100));
        Assert.Equal(TimeSpan.FromMilliseconds(100), notifier.NextDelay());
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(TimeSpan.FromMilliseconds(500), notifier.NextDelay());
        // A subscription that got further than any before it is activity too (another process appended).
        _ = notifier.WaitForChangeAsync(Position.FromInt64(10), TestContext.Current.CancellationToken);
        Assert.Equal(AppendNotifier.FastPoll, notifier.NextDelay());
    }

    /// <summary>What a writer that reserved positions and crashed before its commit leaves behind.</summary>
    private static Task AbandonPositionsAsync(IAmazonDynamoDB raw, DynamoDBEventStoreOptions options, int count) =>
        raw.UpdateItemAsync(new UpdateItemRequest
        {
            TableName = options.TableName,
            Key = new() { ["pk"] = new AttributeValue { S = "$seq" }, ["sk"] = new AttributeValue { N = "0" } },
            UpdateExpression = "ADD v :n",
            ExpressionAttributeValues = new() { [":n"] = new AttributeValue { N = count.ToString(System.Globalization.CultureInfo.InvariantCulture) } },
        }, TestContext.Current.CancellationToken);

    private static async Task<long> CounterAsync(DynamoDBEventStoreOptions options)
    {
        using var raw = DynamoDBClientFactory.Create(options);
        var item = await raw.GetItemAsync(new GetItemRequest
        {
            TableName = options.TableName,
            Key = new() { ["pk"] = new AttributeValue { S = "$seq" }, ["sk"] = new AttributeValue { N = "0" } },
            ConsistentRead = true,
        }, TestContext.Current.CancellationToken);
        return long.Parse(item.Item["v"].N, System.Globalization.CultureInfo.InvariantCulture);
    }
}

/// <summary>
/// Holds the next commit to one stream the way the SDK's retry back-off does: the put is sent only when released, and
/// not at all if the caller cancels it first.
/// </summary>
public class HoldingCommitProxy : ForwardingProxy
{
    private string? _streamPk;
    private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _holding = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<Exception?> _heldOutcome = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static IAmazonDynamoDB Wrap(IAmazonDynamoDB target, out HoldingCommitProxy control) => Wrap<HoldingCommitProxy>(target, out control);

    /// <summary>Completes when the armed commit has been caught.</summary>
    public Task Holding => _holding.Task;

    /// <summary>What the server answered to the held put once released: null when it was applied, else the failure.</summary>
    public Task<Exception?> HeldOutcome => _heldOutcome.Task;

    public void HoldNextCommitTo(string streamPk) => Volatile.Write(ref _streamPk, streamPk);

    public void Release() => _gate.TrySetResult();

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        if (targetMethod!.Name == nameof(IAmazonDynamoDB.PutItemAsync) && args?[0] is PutItemRequest put && _streamPk is { } pk
            && put.Item["pk"].S == pk && Interlocked.CompareExchange(ref _streamPk, null, pk) == pk)
            return HoldAsync(put, args.Length > 1 && args[1] is CancellationToken ct ? ct : CancellationToken.None);
        return Forward(targetMethod, args);
    }

    private async Task<PutItemResponse> HoldAsync(PutItemRequest put, CancellationToken cancellationToken)
    {
        _holding.TrySetResult();
        await _gate.Task.WaitAsync(cancellationToken);
        try
        {
            var response = await Target.PutItemAsync(put, CancellationToken.None);
            _heldOutcome.TrySetResult(null);
            return response;
        }
        catch (Exception e)
        {
            _heldOutcome.TrySetResult(e);
            throw;
        }
    }
}
