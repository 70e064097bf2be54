using System.Text;
using System.Threading.Channels;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace EventStore.Providers.Kafka;

/// <summary>
/// The one writer of a partition in this process: every append and delete for the partition goes through its
/// channel, so the expected-version check against the index and the produce that follows cannot interleave with
/// another append of this process.
/// </summary>
/// <remarks>
/// Before each group of appends the writer reads the partition from the index's next offset up to the high
/// watermark, so writes of other processes are in the index before versions are checked (skipped while this
/// process holds the partition's transactional id: fencing makes it the only writer).
/// </remarks>
internal sealed class PartitionWriter : IAsyncDisposable
{
    private readonly KafkaEventStore _store;
    private readonly KafkaEventStoreOptions _options;
    private readonly TopicPartition _tp;
    private readonly ILogger _logger;
    private readonly Channel<WorkItem> _channel = Channel.CreateUnbounded<WorkItem>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConsumerPool.Lease _catchUp;
    private readonly IProducer<byte[], byte[]> _sharedProducer;
    private IProducer<byte[], byte[]>? _transactional;
    private bool _exclusive;
    private Task? _loop;

    public PartitionWriter(KafkaEventStore store, int partition, IProducer<byte[], byte[]> sharedProducer, ConsumerPool pool, ILogger logger)
    {
        _store = store;
        _options = store.Options;
        _tp = new TopicPartition(_options.Topic, partition);
        _sharedProducer = sharedProducer;
        _logger = logger;
        _catchUp = pool.Rent();
        Index = new PartitionIndex(partition);
    }

    public PartitionIndex Index { get; }

    public void Start() => _loop = Task.Run(RunAsync);

    public Task<AppendResult> AppendAsync(StreamName stream, ExpectedVersion expected, IReadOnlyList<EventData> events, CancellationToken ct)
    {
        var item = new WorkItem(WorkKind.Append, stream, expected, events, StreamDeletionMode.Soft, ct);
        if (!_channel.Writer.TryWrite(item)) throw new ObjectDisposedException(nameof(KafkaEventStore));
        return item.Completion.Task;
    }

    public Task<AppendResult> DeleteAsync(StreamName stream, ExpectedVersion expected, StreamDeletionMode mode, CancellationToken ct)
    {
        var item = new WorkItem(WorkKind.Delete, stream, expected, [], mode, ct);
        if (!_channel.Writer.TryWrite(item)) throw new ObjectDisposedException(nameof(KafkaEventStore));
        return item.Completion.Task;
    }

    /// <summary>Completes once the index holds every record below the high watermark seen when the request ran.</summary>
    public Task CatchUpAsync(CancellationToken ct)
    {
        var item = new WorkItem(WorkKind.CatchUp, default, default, [], default, ct);
        if (!_channel.Writer.TryWrite(item)) throw new ObjectDisposedException(nameof(KafkaEventStore));
        return item.Completion.Task.WaitAsync(ct);
    }

    private async Task RunAsync()
    {
        var batch = new List<WorkItem>();
        var inFlight = new List<(WorkItem Item, Pending Pending)>();
        var streamsInFlight = new HashSet<string>(StringComparer.Ordinal);
        while (await _channel.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            while (batch.Count < 1000 && _channel.Reader.TryRead(out var item)) batch.Add(item);
            try
            {
                await EnsureWriterAsync().ConfigureAwait(false);
                if ((!_exclusive && _options.CatchUpBeforeAppend) || batch.Exists(i => i.Kind == WorkKind.CatchUp))
                    await CatchUpCoreAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                foreach (var item in batch) item.Completion.TrySetException(Transient("catching up the partition index", e));
                continue;
            }
            var transaction = false;
            foreach (var item in batch)
            {
                if (item.Kind == WorkKind.CatchUp)
                {
                    item.Completion.TrySetResult(null!);
                    continue;
                }
                if (item.CancellationToken.IsCancellationRequested)
                {
                    item.Completion.TrySetCanceled(item.CancellationToken);
                    continue;
                }
                if (streamsInFlight.Contains(item.Stream.Value))
                {
                    await FinishAsync(inFlight, transaction).ConfigureAwait(false);
                    transaction = false;
                    streamsInFlight.Clear();
                }
                try
                {
                    var pending = await DecideAsync(item).ConfigureAwait(false);
                    if (pending is null) continue;
                    if (_transactional is not null && !transaction)
                    {
                        _transactional.BeginTransaction();
                        transaction = true;
                    }
                    pending.Produce(_transactional ?? _sharedProducer, _tp);
                    inFlight.Add((item, pending));
                    streamsInFlight.Add(item.Stream.Value);
                }
                catch (Exception e)
                {
                    item.Completion.TrySetException(e is EventStoreException or OperationCanceledException ? e : Transient("appending", e));
                }
            }
            await FinishAsync(inFlight, transaction).ConfigureAwait(false);
            streamsInFlight.Clear();
            if (Index.EventsSinceSnapshot >= _options.IndexSnapshotInterval)
                await _store.WriteIndexSnapshotAsync(Index).ConfigureAwait(false);
        }
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

    private async Task FinishAsync(List<(WorkItem Item, Pending Pending)> inFlight, bool transaction)
    {
        if (inFlight.Count == 0) return;
        Exception? failure = null;
        foreach (var (_, p) in inFlight)
        {
            try { await p.Delivered.Task.ConfigureAwait(false); }
            catch (Exception e) { failure ??= e; }
        }
        if (transaction && _transactional is not null)
        {
            try
            {
                if (failure is null) await Task.Run(() => _transactional.CommitTransaction(_options.RequestTimeout)).ConfigureAwait(false);
                else await Task.Run(() => _transactional.AbortTransaction(_options.RequestTimeout)).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                failure ??= e;
                if (e is KafkaException k && (k.Error.IsFatal || k.Error.Code is ErrorCode.ProducerFenced or ErrorCode.InvalidProducerEpoch))
                {
                    _logger.LogWarning("Partition {Partition}: this writer was fenced by another process; it will re-initialise and catch up.", _tp.Partition.Value);
                    _transactional.Dispose();
                    _transactional = null;
                }
            }
        }
        foreach (var (item, p) in inFlight)
        {
            if (failure is not null)
            {
                // The records may or may not be in the log: read them back before the next decision.
                _exclusive = false;
                item.Completion.TrySetException(Transient("appending", failure));
                continue;
            }
            try
            {
                item.Completion.TrySetResult(await ConfirmAsync(item, p).ConfigureAwait(false));
            }
            catch (Exception e)
            {
                item.Completion.TrySetException(e is EventStoreException ? e : Transient("confirming an append", e));
            }
        }
        inFlight.Clear();
    }

    /// <summary>
    /// Decides whether a delivered append won. When its records directly follow what the index has applied, nothing
    /// came between the check and the write. Otherwise another process wrote in between: the writer reads the
    /// partition in offset order (as every instance does) and the first batch for a version wins; a losing batch stays
    /// in the log but no index accepts it, so no reader ever returns it.
    /// </summary>
    private async Task<AppendResult> ConfirmAsync(WorkItem item, Pending p)
    {
        var offsets = p.Offsets;
        if (p.Kind == RecordKind.Event)
        {
            var events = offsets.Select((o, i) => (o, p.Ids[i])).ToList();
            if (!Index.TryApplyOwn(p.Stream, p.FirstVersion, events))
            {
                await CatchUpCoreAsync(CancellationToken.None).ConfigureAwait(false);
                if (!Index.IsCommitted(p.Stream, p.FirstVersion, offsets[0]))
                {
                    if (item.Attempt++ < 10)
                    {
                        // Decide again against the caught-up index: the winner may be this very batch re-sent by
                        // another instance (idempotent success), an Any append writes again after the winner, and
                        // anything else is a wrong expected version.
                        var retry = await DecideAsync(item).ConfigureAwait(false);
                        if (retry is null) return await item.Completion.Task.ConfigureAwait(false);
                        retry.Produce(_transactional ?? _sharedProducer, _tp);
                        await retry.Delivered.Task.ConfigureAwait(false);
                        return await ConfirmAsync(item, retry).ConfigureAwait(false);
                    }
                    var entry = Index.Find(p.Stream);
                    throw new WrongExpectedVersionException(item.Stream, item.Expected, entry is { Visible: true } ? entry.LastVersion : -1);
                }
            }
            return new AppendResult(p.FirstVersion + offsets.Length - 1, _store.PositionOf(Index.Partition, offsets[^1]));
        }
        var last = p.FirstVersion;
        var header = new EventRecord.Header(p.Stream, p.Kind, last, last, Guid.Empty);
        if (!Index.TryApplyOwnMarker(offsets[0], header))
        {
            await CatchUpCoreAsync(CancellationToken.None).ConfigureAwait(false);
            if (!Index.MarkerApplied(p.Stream, p.Kind, last, offsets[0]))
            {
                var entry = Index.Find(p.Stream);
                throw new WrongExpectedVersionException(item.Stream, item.Expected, entry is { Visible: true } ? entry.LastVersion : -1);
            }
        }
        return new AppendResult(last, _store.PositionOf(Index.Partition, offsets[0]));
    }

    private async Task EnsureWriterAsync()
    {
        if (!_options.UseTransactions || _transactional is not null) return;
        var config = _options.Apply(_store.ProducerConfig());
        config.TransactionalId = $"{_options.EffectiveTransactionalIdPrefix}-{_tp.Partition.Value}";
        var producer = new ProducerBuilder<byte[], byte[]>(config).Build();
        // Initialising fences every older producer with this transactional id; afterwards only this one can write.
        await Task.Run(() => producer.InitTransactions(_options.RequestTimeout)).ConfigureAwait(false);
        _transactional = producer;
        _exclusive = false;
        await CatchUpCoreAsync(CancellationToken.None).ConfigureAwait(false);
        _exclusive = true;
    }

    /// <summary>Reads the partition from the index's next offset to the high watermark into the index.</summary>
    internal async Task CatchUpCoreAsync(CancellationToken ct)
    {
        var consumer = _catchUp.Consumer;
        // A sub-millisecond round trip on the writer's own loop: cheaper to block than to hop threads.
        var watermarks = consumer.QueryWatermarkOffsets(_tp, _options.RequestTimeout);
        var high = watermarks.High.Value;
        if (Index.NextOffset < watermarks.Low.Value)
            throw new EventStoreException($"Partition {_tp.Partition.Value} of topic '{_tp.Topic}' starts at offset {watermarks.Low.Value} but the index needs offset {Index.NextOffset}: events were deleted by retention. The topic must keep events forever.");
        if (Index.NextOffset >= high) return;
        consumer.Assign(new TopicPartitionOffset(_tp, Index.NextOffset));
        try
        {
            while (Index.NextOffset < high)
            {
                var r = await _catchUp.NextAsync(ct).ConfigureAwait(false);
                if (r is null) continue;
                if (r.IsPartitionEOF) break;
                if (EventRecord.TryReadHeader(r, out var h)) Index.Apply(r.Offset.Value, h);
                else Index.NextOffset = Math.Max(Index.NextOffset, r.Offset.Value + 1);
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
        _transactional?.Dispose();
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
