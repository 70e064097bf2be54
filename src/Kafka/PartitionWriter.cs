using System.Diagnostics;
using System.Text;
using System.Threading.Channels;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace EventStore.Providers.Kafka;

/// <summary>
/// The one writer of a partition in this process: every append and delete for the partition goes through its
/// channel, so the expected-version check against the index and the produce that follows cannot interleave with
/// another append of this process. Reads only ask it to catch the index up, which never creates a producer.
/// </summary>
/// <remarks>
/// Decisions: a positive expected-version decision may come from an index that has not seen other processes' latest
/// writes, because every delivered append is confirmed against the log afterwards; a negative one
/// (<see cref="WrongExpectedVersionException"/>) is only ever made after reading the partition to its end. After any
/// failure (fencing, an aborted or unknown transaction, a failed delivery) the index counts as stale and is caught up
/// before the next decision. With transactions, every record is produced inside a transaction, and a retried append
/// goes into a new one.
/// </remarks>
internal sealed class PartitionWriter : IAsyncDisposable
{
    /// <summary>How often one append is decided and written again (lost races, fencing, aborted transactions).</summary>
    private const int MaxAttempts = 10;

    private readonly KafkaEventStore _store;
    private readonly KafkaEventStoreOptions _options;
    private readonly TopicPartition _tp;
    private readonly ILogger _logger;
    private readonly Channel<WorkItem> _channel = Channel.CreateUnbounded<WorkItem>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Queue<WorkItem> _retry = new();
    private readonly ConsumerPool.Lease _catchUp;
    private IProducer<byte[], byte[]>? _producer;
    private bool _stale;
    private Task? _loop;

    public PartitionWriter(KafkaEventStore store, int partition, ConsumerPool pool, ILogger logger)
    {
        _store = store;
        _options = store.Options;
        _tp = new TopicPartition(_options.Topic, partition);
        _logger = logger;
        _catchUp = pool.Rent();
        Index = new PartitionIndex(partition);
    }

    public PartitionIndex Index { get; }

    /// <summary>This instance's transactional id for the partition: instances never share one unless configured to.</summary>
    public string TransactionalId => $"{_options.EffectiveTransactionalIdPrefix}-{_store.InstanceId}-{_tp.Partition.Value}";

    public void Start() => _loop = Task.Run(RunAsync);

    public Task<AppendResult> AppendAsync(StreamName stream, ExpectedVersion expected, IReadOnlyList<EventData> events, CancellationToken ct) =>
        Enqueue(new WorkItem(WorkKind.Append, stream, expected, events, StreamDeletionMode.Soft, ct));

    public Task<AppendResult> DeleteAsync(StreamName stream, ExpectedVersion expected, StreamDeletionMode mode, CancellationToken ct) =>
        Enqueue(new WorkItem(WorkKind.Delete, stream, expected, [], mode, ct));

    /// <summary>
    /// Completes once the index holds every record below the end the broker reported when the request ran (the high
    /// watermark, or the last stable offset while a transaction is open). Never creates a producer.
    /// </summary>
    public Task CatchUpAsync(CancellationToken ct) =>
        Enqueue(new WorkItem(WorkKind.CatchUp, default, default, [], default, ct)).WaitAsync(ct);

    private Task<AppendResult> Enqueue(WorkItem item)
    {
        if (!_channel.Writer.TryWrite(item)) throw new ObjectDisposedException(nameof(KafkaEventStore));
        return item.Completion.Task;
    }

    private async Task RunAsync()
    {
        var batch = new List<WorkItem>();
        while (true)
        {
            batch.Clear();
            while (_retry.TryDequeue(out var again)) batch.Add(again);
            while (batch.Count < 1000 && _channel.Reader.TryRead(out var item)) batch.Add(item);
            if (batch.Count == 0)
            {
                if (!await _channel.Reader.WaitToReadAsync().ConfigureAwait(false)) break;
                continue;
            }
            var writes = batch.Exists(i => i.Kind != WorkKind.CatchUp);
            await ProcessAsync(batch, writes).ConfigureAwait(false);
            if (writes && Index.EventsSinceSnapshot >= _options.IndexSnapshotInterval)
                await _store.WriteIndexSnapshotAsync(Index).ConfigureAwait(false);
        }
    }

    private async Task ProcessAsync(List<WorkItem> batch, bool writes)
    {
        var fresh = false;
        try
        {
            if (writes) await EnsureWriterAsync().ConfigureAwait(false);
            if (_stale || (writes && _options.CatchUpBeforeAppend) || batch.Exists(i => i.Kind == WorkKind.CatchUp))
                fresh = await CatchUpFreshAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            foreach (var item in batch) item.Completion.TrySetException(Transient("catching up the partition index", e));
            return;
        }
        var group = new Group();
        foreach (var item in batch)
        {
            if (item.Kind == WorkKind.CatchUp)
            {
                item.Completion.TrySetResult(null!);
                continue;
            }
            if (item.CancellationToken.IsCancellationRequested && item.Attempt == 0)
            {
                item.Completion.TrySetCanceled(item.CancellationToken);
                continue;
            }
            if (group.Streams.Contains(item.Stream.Value)) await FinishAsync(group).ConfigureAwait(false);
            try
            {
                Pending? pending;
                try
                {
                    pending = await DecideAsync(item).ConfigureAwait(false);
                }
                catch (WrongExpectedVersionException) when (!fresh)
                {
                    // Never refuse from an index that may be stale: read the partition to its end and decide again.
                    await FinishAsync(group).ConfigureAwait(false);
                    fresh = await CatchUpFreshAsync().ConfigureAwait(false);
                    pending = await DecideAsync(item).ConfigureAwait(false);
                }
                if (pending is null) continue;
                var producer = _producer;
                if (producer is null)
                {
                    // Re-initialised during this round (fenced): the next round creates the producer again.
                    Requeue(item, null);
                    continue;
                }
                if (_options.UseTransactions && !group.Transaction)
                {
                    try
                    {
                        producer.BeginTransaction();
                    }
                    catch (KafkaException e) when (IsFenced(e))
                    {
                        Reinitialise(e);
                        Requeue(item, e);
                        continue;
                    }
                    group.Transaction = true;
                }
                group.Add(item, pending);
                pending.Produce(producer, _tp);
            }
            catch (Exception e)
            {
                group.Remove(item);
                group.ProduceFailed |= group.Transaction;
                item.Completion.TrySetException(e is EventStoreException or OperationCanceledException ? e : Transient("appending", e));
            }
        }
        await FinishAsync(group).ConfigureAwait(false);
    }

    private async Task<bool> CatchUpFreshAsync()
    {
        await CatchUpCoreAsync(CancellationToken.None).ConfigureAwait(false);
        _stale = false;
        return true;
    }

    /// <summary>Checks the expectation against the index; returns what to produce, or null when the item is already answered.</summary>
    private async Task<Pending?> DecideAsync(WorkItem item)
    {
        var stream = item.Stream;
        var entry = Index.Find(stream.Value);
        if (entry?.Tombstoned == true) throw new StreamDeletedException(stream);
        var last = entry?.LastVersion ?? -1;
        var visible = entry is { Visible: true };
        var key = Encoding.UTF8.GetBytes(stream.Value);
        if (item.Kind == WorkKind.Delete)
        {
            if (!Satisfied(item.Expected, last, visible)) throw new WrongExpectedVersionException(stream, item.Expected, visible ? last : -1);
            if (item.Mode == StreamDeletionMode.Soft && !visible)
            {
                item.Completion.TrySetResult(new AppendResult(last, Position.Start, false));
                return null;
            }
            var kind = item.Mode == StreamDeletionMode.Tombstone ? RecordKind.Tombstone : RecordKind.SoftDelete;
            return new Pending(stream.Value, last, [EventRecord.Marker(key, kind, last)], [], kind);
        }
        var events = item.Events;
        // Any and StreamExists hold on an existing stream, so a re-sent batch would pass the version check: look for it first.
        if (!Satisfied(item.Expected, last, visible) || (item.Expected.Kind is ExpectedVersionKind.Any or ExpectedVersionKind.StreamExists && events.Count > 0 && visible))
        {
            var idempotent = await CheckIdempotenceAsync(stream, item.Expected, events, entry).ConfigureAwait(false);
            if (idempotent is not null)
            {
                item.Completion.TrySetResult(idempotent);
                return null;
            }
            if (!Satisfied(item.Expected, last, visible)) throw new WrongExpectedVersionException(stream, item.Expected, visible ? last : -1);
        }
        if (events.Count == 0)
        {
            item.Completion.TrySetResult(new AppendResult(visible ? last : -1, entry is null ? Position.Start : _store.PositionOf(Index.Partition, entry.LastOffset), false));
            return null;
        }
        var messages = new Message<byte[], byte[]>[events.Count];
        var batchLast = last + events.Count;
        for (var i = 0; i < events.Count; i++) messages[i] = EventRecord.ToMessage(key, events[i], last + 1 + i, batchLast);
        return new Pending(stream.Value, last + 1, messages, events.Select(e => e.EventId).ToArray(), RecordKind.Event);
    }

    /// <summary>
    /// A soft-deleted stream counts as missing for NoStream and StreamExists; an exact expectation still names its
    /// last version, since appending continues after it.
    /// </summary>
    private static bool Satisfied(ExpectedVersion expected, long last, bool visible) => expected.Kind switch
    {
        ExpectedVersionKind.Any => true,
        ExpectedVersionKind.NoStream => !visible,
        ExpectedVersionKind.StreamExists => visible,
        ExpectedVersionKind.Exact => visible && expected.Version == last,
        _ => false,
    };

    private async Task<AppendResult?> CheckIdempotenceAsync(StreamName stream, ExpectedVersion expected, IReadOnlyList<EventData> events, StreamEntry? entry)
    {
        if (events.Count == 0 || entry is null || entry.LastVersion < 0) return null;
        // Nothing is stored after the last version (and Exact(long.MaxValue) + 1 would overflow).
        if (expected.Kind == ExpectedVersionKind.Exact && expected.Version >= entry.LastVersion) return null;
        if (expected.Kind is ExpectedVersionKind.Any or ExpectedVersionKind.StreamExists)
            return await CheckRecentTailAsync(stream, events, entry).ConfigureAwait(false);
        var from = expected.Kind == ExpectedVersionKind.Exact ? expected.Version + 1 : 0;
        var count = (int)Math.Min(events.Count, entry.LastVersion - from + 1);
        var stored = count <= 0 ? [] : await StoredIdsAsync(stream, entry, from, count).ConfigureAwait(false);
        var matches = 0;
        for (var i = 0; i < stored.Count; i++) if (stored[i] == events[i].EventId) matches++;
        if (matches == events.Count) return Original(entry, from + count - 1);
        var storedSet = stored.ToHashSet();
        var overlap = events.FirstOrDefault(e => storedSet.Contains(e.EventId));
        if (overlap is not null) throw new EventIdConflictException(stream, overlap.EventId);
        return null;
    }

    /// <summary>
    /// Any and StreamExists name no place for the batch: it is a re-send when its first id is stored in the recent
    /// tail (the cached recent ids, and at least the last two batch lengths) and the rest follow it in order.
    /// </summary>
    private async Task<AppendResult?> CheckRecentTailAsync(StreamName stream, IReadOnlyList<EventData> events, StreamEntry entry)
    {
        var cached = entry.RecentFirstVersion <= entry.LastVersion ? entry.RecentFirstVersion : entry.LastVersion + 1;
        var from = Math.Max(0, Math.Min(cached, entry.LastVersion - 2L * events.Count + 1));
        var stored = await StoredIdsAsync(stream, entry, from, (int)(entry.LastVersion - from + 1)).ConfigureAwait(false);
        var start = stored.IndexOf(events[0].EventId);
        if (start >= 0 && start + events.Count <= stored.Count)
        {
            var inPlace = true;
            for (var i = 1; i < events.Count && inPlace; i++) inPlace = stored[start + i] == events[i].EventId;
            if (inPlace) return Original(entry, from + start + events.Count - 1);
        }
        var storedSet = stored.ToHashSet();
        var overlap = events.FirstOrDefault(e => storedSet.Contains(e.EventId));
        if (overlap is not null) throw new EventIdConflictException(stream, overlap.EventId);
        return null;
    }

    private AppendResult Original(StreamEntry entry, long lastVersion) =>
        new(lastVersion, _store.PositionOf(Index.Partition, entry.Slice(lastVersion, lastVersion)[0].FirstOffset), false);

    private async Task<List<Guid>> StoredIdsAsync(StreamName stream, StreamEntry entry, long from, int count)
    {
        if (from >= entry.RecentFirstVersion && from + count - 1 <= entry.LastVersion)
            return entry.RecentIds.GetRange((int)(from - entry.RecentFirstVersion), count);
        var ids = new List<Guid>(count);
        await foreach (var e in _store.ReadRunsAsync(stream, Index.Partition, entry.Slice(from, from + count - 1), false, CancellationToken.None).ConfigureAwait(false))
            ids.Add(e.EventId);
        return ids;
    }

    /// <summary>Waits for the group's deliveries, ends its transaction, and answers (or requeues) its items.</summary>
    private async Task FinishAsync(Group group)
    {
        if (group.Items.Count == 0 && !group.Transaction) return;
        Exception? failure = group.ProduceFailed ? new InvalidOperationException("a record of the transaction could not be produced") : null;
        foreach (var (_, p) in group.Items)
        {
            try { await p.Delivered.Task.ConfigureAwait(false); }
            catch (Exception e) { failure ??= e; }
        }
        var outcome = group.Transaction ? await EndTransactionAsync(failure).ConfigureAwait(false)
            : failure is null ? Outcome.Committed : Outcome.Failed;
        var items = group.Items.ToList();
        group.Reset();
        if (outcome != Outcome.Committed)
        {
            // The records may or may not be in the log: read it before the next decision.
            _stale = true;
            foreach (var (item, _) in items)
            {
                if (outcome == Outcome.Failed) item.Completion.TrySetException(Transient("appending", failure ?? new InvalidOperationException("the delivery failed")));
                else Requeue(item, failure);
            }
            return;
        }
        long last = -1;
        foreach (var (item, p) in items)
        {
            last = Math.Max(last, p.Offsets[^1]);
            try
            {
                var result = await ConfirmAsync(item, p).ConfigureAwait(false);
                if (result is null) _retry.Enqueue(item);
                else item.Completion.TrySetResult(result);
            }
            catch (Exception e)
            {
                item.Completion.TrySetException(e is EventStoreException ? e : Transient("confirming an append", e));
            }
        }
        if (_options.UseTransactions) Index.OwnTransactionEnd = last;
    }

    private enum Outcome { Committed, Aborted, Failed }

    /// <summary>Decides and writes the item again in the next round (same event ids), up to <see cref="MaxAttempts"/>.</summary>
    private void Requeue(WorkItem item, Exception? cause)
    {
        if (item.Attempt++ < MaxAttempts) _retry.Enqueue(item);
        else item.Completion.TrySetException(Transient("appending", cause ?? new InvalidOperationException("the transaction did not commit after several attempts")));
    }

    /// <summary>
    /// Commits (or, after a failed delivery, aborts) the open transaction. An abort makes its records invisible, so
    /// its appends are retried with the same ids; fencing or an error with an unknown outcome re-initialises the
    /// producer (which aborts or completes what it left open) and the appends are re-decided after re-reading the log.
    /// </summary>
    private async Task<Outcome> EndTransactionAsync(Exception? failure)
    {
        var producer = _producer!;
        if (failure is null)
        {
            try
            {
                await Task.Run(() => producer.CommitTransaction(_options.RequestTimeout)).ConfigureAwait(false);
                return Outcome.Committed;
            }
            catch (KafkaTxnRequiresAbortException e)
            {
                failure = e;
            }
            catch (KafkaException e)
            {
                Reinitialise(e);
                return Outcome.Aborted;
            }
        }
        try
        {
            await Task.Run(() => producer.AbortTransaction(_options.RequestTimeout)).ConfigureAwait(false);
            _logger.TransactionAborted(_tp.Partition.Value, Reason(failure));
            if (IsFenced(failure))
            {
                Reinitialise(failure);
                return Outcome.Aborted;
            }
            // Nothing of the transaction is visible; a retriable cause is retried here, anything else is the caller's.
            return failure is KafkaTxnRequiresAbortException or KafkaRetriableException ? Outcome.Aborted : Outcome.Failed;
        }
        catch (KafkaException e)
        {
            Reinitialise(e);
            return Outcome.Aborted;
        }
    }

    private static bool IsFenced(Exception e) =>
        e is KafkaException k && (k.Error.IsFatal || k.Error.Code is ErrorCode.ProducerFenced or ErrorCode.InvalidProducerEpoch or ErrorCode.InvalidProducerIdMapping);

    private void Reinitialise(Exception e)
    {
        _logger.WriterReinitialising(_tp.Partition.Value, TransactionalId, Reason(e));
        _producer?.Dispose();
        _producer = null;
        _stale = true;
    }

    private static string Reason(Exception e) => e is KafkaException k ? $"{k.Error.Code}: {k.Error.Reason}" : e.Message;

    /// <summary>
    /// Decides whether a delivered append won; null when it lost and is to be decided again. When its records directly
    /// follow what the index has applied, nothing came between the check and the write. Otherwise another process
    /// wrote in between: the writer reads the partition past the append (waiting while another producer's open
    /// transaction holds the last stable offset below it) and the first batch for a version wins; a losing batch stays
    /// in the log but no index accepts it, so no reader ever returns it.
    /// </summary>
    private async Task<AppendResult?> ConfirmAsync(WorkItem item, Pending p)
    {
        var offsets = p.Offsets;
        if (p.Kind == RecordKind.Event)
        {
            var events = offsets.Select((o, i) => (o, p.Ids[i])).ToList();
            if (!Index.TryApplyOwn(p.Stream, p.FirstVersion, events))
            {
                await CatchUpPastAsync(offsets[^1]).ConfigureAwait(false);
                if (!Index.IsCommitted(p.Stream, p.FirstVersion, offsets[0])) return Lost(item);
            }
            return new AppendResult(p.FirstVersion + offsets.Length - 1, _store.PositionOf(Index.Partition, offsets[^1]));
        }
        var last = p.FirstVersion;
        var header = new EventRecord.Header(p.Stream, p.Kind, last, last, Guid.Empty);
        if (!Index.TryApplyOwnMarker(offsets[0], header))
        {
            await CatchUpPastAsync(offsets[0]).ConfigureAwait(false);
            if (!Index.MarkerApplied(p.Stream, p.Kind, last, offsets[0])) return Lost(item);
        }
        return new AppendResult(last, _store.PositionOf(Index.Partition, offsets[0]));
    }

    /// <summary>
    /// A lost append is decided again against the caught-up index: the winner may be this very batch re-sent by
    /// another instance (idempotent success), an Any append writes again after the winner, and anything else is a
    /// wrong expected version.
    /// </summary>
    private AppendResult? Lost(WorkItem item)
    {
        _logger.AppendLostRace(_tp.Partition.Value, item.Stream.Value);
        if (item.Attempt++ < MaxAttempts) return null;
        var entry = Index.Find(item.Stream.Value);
        throw new WrongExpectedVersionException(item.Stream, item.Expected, entry is { Visible: true } ? entry.LastVersion : -1);
    }

    /// <summary>
    /// Catches the index up until it has passed <paramref name="offset"/>. With transactions a read_committed reader
    /// stops at the last stable offset, which another producer's open transaction can hold below a committed append:
    /// waits for it, and gives up as transient after the request timeout.
    /// </summary>
    private async Task CatchUpPastAsync(long offset)
    {
        var clock = Stopwatch.StartNew();
        var delay = 1;
        var logged = false;
        while (true)
        {
            await CatchUpCoreAsync(CancellationToken.None).ConfigureAwait(false);
            if (Index.NextOffset > offset) return;
            if (clock.Elapsed > _options.RequestTimeout)
            {
                _stale = true;
                throw new TransientEventStoreException(
                    $"Kafka partition {_tp.Partition.Value} of topic '{_tp.Topic}': the append at offset {offset} is written but cannot be confirmed yet: read_committed readers stop at the last stable offset {Index.NextOffset}, held back by another producer's open transaction on the partition. Retry with the same event ids.");
            }
            if (!logged)
            {
                _logger.WaitingForStableOffset(_tp.Partition.Value, offset, Index.NextOffset);
                logged = true;
            }
            AnswerReadsWhileWaiting();
            await Task.Delay(delay).ConfigureAwait(false);
            delay = Math.Min(delay * 2, 100);
        }
    }

    /// <summary>
    /// Reads must not queue behind an append waiting for another producer's transaction: the index has just been
    /// caught up to what the broker lets a reader see, so catch-up requests are answered now; appends wait their turn.
    /// </summary>
    private void AnswerReadsWhileWaiting()
    {
        while (_channel.Reader.TryRead(out var item))
        {
            if (item.Kind == WorkKind.CatchUp) item.Completion.TrySetResult(null!);
            else _retry.Enqueue(item);
        }
    }

    private async Task EnsureWriterAsync()
    {
        if (_producer is not null) return;
        await _store.RecordPartitionCountAsync().ConfigureAwait(false);
        if (!_options.UseTransactions)
        {
            _producer = _store.Producer;
            return;
        }
        var config = _store.ProducerConfig();
        config.TransactionalId = TransactionalId;
        var producer = _store.CreateProducer(config);
        try
        {
            // Fences only an older producer with this very id (a previous incarnation of this instance) and aborts
            // what it left open; other instances have their own ids.
            await Task.Run(() => producer.InitTransactions(_options.RequestTimeout)).ConfigureAwait(false);
        }
        catch
        {
            producer.Dispose();
            throw;
        }
        _producer = producer;
        _stale = true;
    }

    /// <summary>
    /// Reads the partition from the index's next offset up to the end the broker reports: the high watermark, or
    /// earlier the end-of-partition offset the consumer reaches (the last stable offset with read_committed). Offsets
    /// are not contiguous (control markers, aborted records, compaction): the end-of-partition offset moves the index
    /// past offsets that hold no record.
    /// </summary>
    internal async Task CatchUpCoreAsync(CancellationToken ct)
    {
        var consumer = _catchUp.Consumer;
        // A sub-millisecond round trip on the writer's own loop: cheaper to block than to hop threads.
        var watermarks = consumer.QueryWatermarkOffsets(_tp, _options.RequestTimeout);
        var high = watermarks.High.Value;
        if (Index.NextOffset < watermarks.Low.Value)
            throw new EventStoreException($"Partition {_tp.Partition.Value} of topic '{_tp.Topic}' starts at offset {watermarks.Low.Value} but the index needs offset {Index.NextOffset}: events were deleted by retention. The topic must keep events forever.");
        if (Index.NextOffset >= high) return;
        _catchUp.Assign(new TopicPartitionOffset(_tp, Index.NextOffset));
        try
        {
            while (Index.NextOffset < high)
            {
                var r = await _catchUp.NextAsync(ct).ConfigureAwait(false);
                if (r is null) continue;
                if (r.IsPartitionEOF)
                {
                    Index.AdvanceTo(r.Offset.Value);
                    break;
                }
                if (EventRecord.TryReadHeader(r, out var h)) Index.Apply(r.Offset.Value, h);
                else Index.AdvanceTo(r.Offset.Value + 1);
            }
        }
        finally
        {
            consumer.Unassign();
        }
    }

    private static TransientEventStoreException Transient(string what, Exception e) =>
        new($"Kafka failed while {what}: {(e is KafkaException k ? k.Error.Reason : e.Message)}. Retry with the same event ids.", e);

    public async ValueTask DisposeAsync()
    {
        _channel.Writer.TryComplete();
        if (_loop is not null) await _loop.ConfigureAwait(false);
        if (_options.UseTransactions) _producer?.Dispose();
        _catchUp.Consumer.Dispose();
    }

    private enum WorkKind { Append, Delete, CatchUp }

    private sealed class WorkItem(WorkKind kind, StreamName stream, ExpectedVersion expected, IReadOnlyList<EventData> events, StreamDeletionMode mode, CancellationToken ct)
    {
        public WorkKind Kind { get; } = kind;
        public StreamName Stream { get; } = stream;
        public ExpectedVersion Expected { get; } = expected;
        public IReadOnlyList<EventData> Events { get; } = events;
        public StreamDeletionMode Mode { get; } = mode;
        public CancellationToken CancellationToken { get; } = ct;
        public int Attempt { get; set; }
        public TaskCompletionSource<AppendResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Appends of one round produced together (one transaction with transactions on); one per stream.</summary>
    private sealed class Group
    {
        public List<(WorkItem Item, Pending Pending)> Items { get; } = [];
        public HashSet<string> Streams { get; } = new(StringComparer.Ordinal);
        public bool Transaction { get; set; }
        public bool ProduceFailed { get; set; }

        public void Add(WorkItem item, Pending pending)
        {
            Items.Add((item, pending));
            Streams.Add(item.Stream.Value);
        }

        public void Remove(WorkItem item)
        {
            Items.RemoveAll(x => ReferenceEquals(x.Item, item));
            Streams.Remove(item.Stream.Value);
        }

        public void Reset()
        {
            Items.Clear();
            Streams.Clear();
            Transaction = false;
            ProduceFailed = false;
        }
    }

    /// <summary>The records of one append on their way to the broker.</summary>
    private sealed class Pending(string stream, long firstVersion, Message<byte[], byte[]>[] messages, Guid[] ids, RecordKind kind)
    {
        private int _remaining = messages.Length;
        public string Stream { get; } = stream;
        public long FirstVersion { get; } = firstVersion;
        public Guid[] Ids { get; } = ids;
        public RecordKind Kind { get; } = kind;
        public long[] Offsets { get; } = new long[messages.Length];
        public TaskCompletionSource Delivered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Produce(IProducer<byte[], byte[]> producer, TopicPartition tp)
        {
            for (var i = 0; i < messages.Length; i++)
            {
                var index = i;
                producer.Produce(tp, messages[i], report =>
                {
                    if (report.Error.IsError)
                    {
                        Delivered.TrySetException(new KafkaException(report.Error));
                        return;
                    }
                    Offsets[index] = report.Offset.Value;
                    if (Interlocked.Decrement(ref _remaining) == 0) Delivered.TrySetResult();
                });
            }
        }
    }
}
