using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace EventStore.Providers.Kafka.Tests;

/// <summary>
/// The provider over a fake broker that does what the mock cluster cannot (BACKENDS.md): transactions with control
/// markers, a last stable offset held back by other producers' open transactions, aborted records, compaction gaps
/// and fencing. These are the situations a real broker produces; the logic under test is the provider's.
/// </summary>
public sealed class TransactionalBrokerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static EventData Event(string type = "Happened") => new(Guid.NewGuid(), type, Encoding.UTF8.GetBytes("{\"a\":1}"));

    private static KafkaEventStoreOptions Options(string? instanceId = null) => new()
    {
        BootstrapServers = "fake:9092",
        Topic = "events",
        UseTransactions = true,
        VerifyTopicConfiguration = false,
        InstanceId = instanceId,
        RequestTimeout = TimeSpan.FromSeconds(20),
    };

    private static async Task<KafkaEventStore> OpenAsync(FakeBroker broker, KafkaEventStoreOptions options)
    {
        var store = new KafkaEventStore(options, NullLogger.Instance, broker);
        await store.InitializeAsync(Ct);
        return store;
    }

    [Fact]
    public async Task Appends_commit_in_transactions_whose_markers_leave_offset_gaps_that_reads_and_restarts_handle()
    {
        var options = Options();
        var broker = new FakeBroker().CreateTopics(options);
        var stream = new StreamName("Order-1");
        await using (var store = await OpenAsync(broker, options))
        {
            for (var v = 0; v < 3; v++)
            {
                var result = await store.AppendAsync(stream, v == 0 ? ExpectedVersion.NoStream : ExpectedVersion.Exact(2 * v - 1), [Event(), Event()], Ct);
                Assert.Equal(2 * v + 1, result.LastVersion);
            }
            var log = broker.Log(options.Topic, 0);
            Assert.Equal(3, log.Markers);
            Assert.Equal(9, log.End);
            // Our own commit markers are recognised: the index stays at the end without reading anything back.
            Assert.Equal(5, (await store.GetStreamInfoAsync(stream, Ct)).LastVersion);
            Assert.Equal(0, store.MessagesConsumed);
            Assert.Equal(Enumerable.Range(0, 6).Select(v => (long)v), await store.ReadStreamAsync(stream, cancellationToken: Ct).Select(e => e.Version).ToListAsync(Ct));
        }
        Assert.Equal(0, broker.ProducedOutsideTransaction);

        // Compaction-like gaps and another producer's aborted transaction between our records.
        broker.Log(options.Topic, 0).Skip(4);
        broker.OpenForeignTransaction(options.Topic, 0).Abort();
        await using var restarted = await OpenAsync(broker, options);
        Assert.Equal(5, (await restarted.GetStreamInfoAsync(stream, Ct)).LastVersion);
        // The 6 events and the index topic's partition-count record; nothing of the markers, gaps or aborted records.
        Assert.Equal(7, restarted.MessagesConsumed);
        var appended = await restarted.AppendAsync(stream, ExpectedVersion.Exact(5), [Event()], Ct);
        Assert.Equal(6, appended.LastVersion);
        Assert.Equal(7, await restarted.ReadAllAsync(cancellationToken: Ct).CountAsync(Ct));
        Assert.Equal(6, (await restarted.ReadStreamAsync(stream, ReadDirection.Backwards, cancellationToken: Ct).FirstAsync(Ct)).Version);
        Assert.Equal(appended.Position, await restarted.GetHeadPositionAsync(Ct));
    }

    [Fact]
    public async Task A_stream_read_reaches_each_next_append_past_the_commit_markers_and_other_streams_without_seeking_again()
    {
        var options = Options();
        var broker = new FakeBroker().CreateTopics(options);
        var stream = new StreamName("Order-1");
        await using var store = await OpenAsync(broker, options);
        for (var v = 0; v < 20; v++)
        {
            await store.AppendAsync(stream, v == 0 ? ExpectedVersion.NoStream : ExpectedVersion.Exact(5 * v - 1), [Event(), Event(), Event(), Event(), Event()], Ct);
            await store.AppendAsync(new StreamName($"Other-{v}"), ExpectedVersion.NoStream, [Event()], Ct);
        }
        // The index catches up past the last commit marker first (its own seek), so what follows counts the read's seeks.
        Assert.Equal(99, (await store.GetStreamInfoAsync(stream, Ct)).LastVersion);
        var before = broker.Assigns;

        var versions = await store.ReadStreamAsync(stream, cancellationToken: Ct).Select(e => e.Version).ToListAsync(Ct);

        Assert.Equal(Enumerable.Range(0, 100).Select(v => (long)v), versions);
        // 20 runs of the stream, each followed by a marker, another stream's record and its marker: one seek, not 20.
        Assert.Equal(1, broker.Assigns - before);
    }

    [Fact]
    public async Task A_fenced_writer_reinitialises_and_retries_the_append_with_the_same_ids()
    {
        var options = Options();
        var broker = new FakeBroker().CreateTopics(options);
        var fenced = 0;
        broker.BeforeCommit = p =>
        {
            if (Interlocked.Increment(ref fenced) != 1) return null;
            // A producer with the same transactional id (a zombie's successor) initialises: ours is fenced.
            broker.InitTransactions(new FakeProducer(broker, p.TransactionalId));
            return null;
        };
        await using var store = await OpenAsync(broker, options);
        var events = new[] { Event(), Event() };
        var result = await store.AppendAsync(new StreamName("Pay-1"), ExpectedVersion.NoStream, events, Ct);
        Assert.Equal(1, result.LastVersion);
        Assert.True(result.WroteEvents);
        Assert.Equal(events.Select(e => e.EventId), await store.ReadStreamAsync(new StreamName("Pay-1"), cancellationToken: Ct).Select(e => e.EventId).ToListAsync(Ct));
        Assert.Equal(2, broker.TransactionalProducersCreated);
        Assert.Equal(0, broker.ProducedOutsideTransaction);
        // The fenced attempt's records are in the log but aborted: a fresh instance sees the batch once.
        await using var other = await OpenAsync(broker, Options());
        Assert.Equal(2, await other.ReadAllAsync(cancellationToken: Ct).CountAsync(Ct));
    }

    [Fact]
    public async Task A_commit_that_fails_with_a_fencing_error_is_decided_again_after_re_reading_the_log()
    {
        var options = Options();
        var broker = new FakeBroker().CreateTopics(options);
        var calls = 0;
        broker.BeforeCommit = _ => Interlocked.Increment(ref calls) == 1
            ? new Confluent.Kafka.KafkaException(new Confluent.Kafka.Error(Confluent.Kafka.ErrorCode.InvalidProducerEpoch, "epoch", true))
            : null;
        await using var store = await OpenAsync(broker, options);
        var stream = new StreamName("Cart-1");
        await store.AppendAsync(stream, ExpectedVersion.NoStream, [Event()], Ct);
        Assert.Equal(0, (await store.GetStreamInfoAsync(stream, Ct)).LastVersion);
        Assert.Equal(2, broker.TransactionalProducersCreated);
    }

    [Fact]
    public async Task Two_instances_have_their_own_transactional_ids_and_alternate_appends_without_fencing_or_refusals()
    {
        var broker = new FakeBroker().CreateTopics(Options());
        await using var a = await OpenAsync(broker, Options());
        await using var b = await OpenAsync(broker, Options());
        var stream = new StreamName("Shared-1");
        for (var v = 0; v < 20; v++)
        {
            var writer = v % 2 == 0 ? a : b;
            var result = await writer.AppendAsync(stream, v == 0 ? ExpectedVersion.NoStream : ExpectedVersion.Exact(v - 1), [Event()], Ct);
            Assert.Equal(v, result.LastVersion);
        }
        Assert.Equal(2, broker.TransactionalProducersCreated);
        Assert.Equal(20, await a.ReadStreamAsync(stream, cancellationToken: Ct).CountAsync(Ct));
        Assert.Equal(0, broker.ProducedOutsideTransaction);
    }

    [Fact]
    public async Task Two_instances_sharing_an_instance_id_fence_each_other_but_every_append_still_succeeds_inside_the_provider()
    {
        var broker = new FakeBroker().CreateTopics(Options());
        await using var a = await OpenAsync(broker, Options("pod-1"));
        await using var b = await OpenAsync(broker, Options("pod-1"));
        var stream = new StreamName("Zombie-1");
        for (var v = 0; v < 6; v++)
        {
            var writer = v % 2 == 0 ? a : b;
            Assert.Equal(v, (await writer.AppendAsync(stream, v == 0 ? ExpectedVersion.NoStream : ExpectedVersion.Exact(v - 1), [Event()], Ct)).LastVersion);
        }
        Assert.True(a.ProducersCreated > 1);
        Assert.Equal(6, await b.ReadStreamAsync(stream, cancellationToken: Ct).CountAsync(Ct));
    }

    [Fact]
    public async Task An_append_is_confirmed_once_another_producers_open_transaction_below_it_finishes()
    {
        var options = Options();
        var broker = new FakeBroker().CreateTopics(options);
        await using var store = await OpenAsync(broker, options);
        var foreign = broker.OpenForeignTransaction(options.Topic, 0);
        var stream = new StreamName("Blocked-1");
        var append = store.AppendAsync(stream, ExpectedVersion.NoStream, [Event()], Ct);
        await Task.Delay(300, Ct);
        Assert.False(append.IsCompleted);
        // Reads stop at the last stable offset instead of waiting for the high watermark.
        Assert.False((await store.GetStreamInfoAsync(stream, Ct)).Exists);
        foreign.Commit();
        var result = await append;
        Assert.Equal(0, result.LastVersion);
        Assert.True(result.WroteEvents);
        Assert.Equal(0, (await store.GetStreamInfoAsync(stream, Ct)).LastVersion);
        Assert.Equal(0, broker.ProducedOutsideTransaction);
    }

    [Fact]
    public async Task An_append_behind_an_open_transaction_that_outlasts_the_timeout_is_transient_and_a_resend_is_recognised()
    {
        var options = Options();
        options.RequestTimeout = TimeSpan.FromSeconds(1);
        var broker = new FakeBroker().CreateTopics(options);
        await using var store = await OpenAsync(broker, options);
        var foreign = broker.OpenForeignTransaction(options.Topic, 0);
        var stream = new StreamName("Blocked-2");
        var events = new[] { Event(), Event() };
        var e = await Assert.ThrowsAsync<TransientEventStoreException>(() => store.AppendAsync(stream, ExpectedVersion.NoStream, events, Ct));
        Assert.Contains("open transaction", e.Message, StringComparison.Ordinal);
        foreign.Abort();
        var again = await store.AppendAsync(stream, ExpectedVersion.NoStream, events, Ct);
        Assert.False(again.WroteEvents);
        Assert.Equal(1, again.LastVersion);
        Assert.Equal(2, await store.ReadAllAsync(cancellationToken: Ct).CountAsync(Ct));
    }

    [Fact]
    public async Task A_stale_index_never_refuses_an_append_the_log_allows()
    {
        var broker = new FakeBroker().CreateTopics(Options());
        await using var a = await OpenAsync(broker, Options());
        await using var b = await OpenAsync(broker, Options());
        var stream = new StreamName("Stale-1");
        await a.AppendAsync(stream, ExpectedVersion.NoStream, [Event()], Ct);
        await b.AppendAsync(stream, ExpectedVersion.Exact(0), [Event()], Ct);
        // a's index still says version 0; it reads the log before refusing, and accepts.
        Assert.Equal(2, (await a.AppendAsync(stream, ExpectedVersion.Exact(1), [Event()], Ct)).LastVersion);
        var refused = await Assert.ThrowsAsync<WrongExpectedVersionException>(() => b.AppendAsync(stream, ExpectedVersion.Exact(1), [Event()], Ct));
        Assert.Equal(2, refused.ActualVersion);
    }

    [Fact]
    public async Task A_read_only_instance_creates_no_producer()
    {
        var options = Options();
        var broker = new FakeBroker().CreateTopics(options);
        await using var writer = await OpenAsync(broker, options);
        var stream = new StreamName("Read-1");
        await writer.AppendAsync(stream, ExpectedVersion.NoStream, [Event()], Ct);
        await using var reader = await OpenAsync(broker, Options());
        await ReadEverythingAsync(reader, stream);
        Assert.Equal(0, reader.ProducersCreated);
        Assert.Equal(1, (await writer.AppendAsync(stream, ExpectedVersion.Exact(0), [Event()], Ct)).LastVersion);
        Assert.Equal(1, broker.TransactionalProducersCreated);
    }

    /// <summary>Every read API once: stream (both directions), info, $all, category, head, subscriptions, snapshot and checkpoint loads.</summary>
    internal static async Task ReadEverythingAsync(KafkaEventStore reader, StreamName stream)
    {
        Assert.NotEmpty(await reader.ReadStreamAsync(stream, cancellationToken: Ct).ToListAsync(Ct));
        Assert.NotEmpty(await reader.ReadStreamAsync(stream, ReadDirection.Backwards, cancellationToken: Ct).ToListAsync(Ct));
        Assert.True((await reader.GetStreamInfoAsync(stream, Ct)).Exists);
        Assert.NotEmpty(await reader.ReadAllAsync(cancellationToken: Ct).ToListAsync(Ct));
        Assert.NotEmpty(await reader.ReadCategoryAsync(stream.Category, cancellationToken: Ct).ToListAsync(Ct));
        Assert.False((await reader.GetHeadPositionAsync(Ct)).IsStart);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        await foreach (var m in reader.SubscribeToAllAsync(cancellationToken: cts.Token))
            if (m.Kind == SubscriptionMessageKind.CaughtUp) break;
        await foreach (var m in reader.SubscribeToStreamAsync(stream, cancellationToken: cts.Token))
            if (m.Kind == SubscriptionMessageKind.CaughtUp) break;
        Assert.Null(await reader.Snapshots.LoadAsync(stream, Ct));
        Assert.Null(await reader.Checkpoints.LoadAsync("sub-1", Ct));
    }
}
