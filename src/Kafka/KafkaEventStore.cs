using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EventStore.Providers.Kafka;

/// <summary>
/// An event store on a Kafka topic: one message per event keyed by stream name, a per-partition index for stream
/// reads and optimistic concurrency, and one writer per partition. See the README for the layout and guarantees.
/// </summary>
public sealed class KafkaEventStore : IEventStore, IEventStoreInitializer, IAsyncDisposable
{
    private const int BackwardsChunk = 256;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _initGate = new(1, 1);
    private readonly IAdminClient _admin;
    private PartitionWriter[] _writers = [];
    private volatile bool _initialized;
    private TaskCompletionSource _appended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private EventStoreCapabilities _capabilities;
    private Task? _disposal;

    /// <summary>Creates the store; call <see cref="InitializeAsync"/> (or let the first call do it).</summary>
    /// <exception cref="EventStoreConfigurationException">An option is invalid.</exception>
    public KafkaEventStore(KafkaEventStoreOptions options, ILogger<KafkaEventStore>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        _logger = logger ?? NullLogger<KafkaEventStore>.Instance;
        Producer = new ProducerBuilder<byte[], byte[]>(ProducerConfig()).SetLogHandler(LogClient).Build();
        _admin = new DependentAdminClientBuilder(Producer.Handle).Build();
        Consumers = new ConsumerPool(options, $"{options.Topic}-reader");
        _capabilities = CapabilitiesFor(options.Partitions, options.MaxMessageBytes);
        Snapshots = new KafkaSnapshotStore(this);
        Checkpoints = new KafkaCheckpointStore(this);
    }

    internal KafkaEventStoreOptions Options { get; }
    internal IProducer<byte[], byte[]> Producer { get; }
    internal ConsumerPool Consumers { get; }

    /// <summary>The snapshot store on this store's snapshot topic.</summary>
    public KafkaSnapshotStore Snapshots { get; }

    /// <summary>The checkpoint store on this store's checkpoint topic.</summary>
    public KafkaCheckpointStore Checkpoints { get; }

    /// <summary>How many messages this instance's readers consumed from Kafka (diagnostics; proves reads use the index).</summary>
    public long MessagesConsumed => Consumers.MessagesConsumed;

    /// <summary>The number of partitions of the events topic (known after initialisation).</summary>
    public int PartitionCount => _writers.Length;

    /// <inheritdoc />
    public EventStoreCapabilities Capabilities => _capabilities;

    internal static EventStoreCapabilities CapabilitiesFor(int partitions, int maxMessageBytes) => new()
    {
        ProviderName = "Kafka",
        GlobalOrder = partitions == 1 ? GlobalOrdering.Total : GlobalOrdering.PerPartition,
        SoftDelete = true,
        Tombstone = true,
        TransactionalCheckpoints = false,
        MaxEventSize = maxMessageBytes - 4096,
    };

    internal ProducerConfig ProducerConfig() => Options.Apply(new ProducerConfig
    {
        Acks = Acks.All,
        EnableIdempotence = true,
        LingerMs = 0,
        // Events of one append share key, type and header names: compressed batches are several times smaller.
        CompressionType = CompressionType.Lz4,
        MessageMaxBytes = Options.MaxMessageBytes + 4096,
        MessageTimeoutMs = (int)Options.RequestTimeout.TotalMilliseconds,
    });

    private void LogClient(IClient client, LogMessage m)
    {
        // librdkafka's own lines name brokers and settings, never secret values.
        if (m.Level <= SyslogLevel.Warning) _logger.LogWarning("librdkafka {Facility}: {Message}", m.Facility, m.Message);
    }

    /// <summary>
    /// Verifies (and when asked creates) the topics, then builds each partition's index from the index topic and the
    /// events after it. Idempotent.
    /// </summary>
    /// <exception cref="EventStoreConfigurationException">The events topic could lose events, or is missing.</exception>
    public async Task InitializeAsync(CancellationToken cancellationToken = default)
    {
        if (_initialized) return;
        await _initGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_initialized) return;
            await TopicConfiguration.EnsureAsync(_admin, Options, _logger, cancellationToken).ConfigureAwait(false);
            var partitions = PartitionCountOf(Options.Topic);
            if (partitions == 0)
                throw new EventStoreConfigurationException($"{KafkaEventStoreOptions.SectionName}:{nameof(KafkaEventStoreOptions.CreateTopics)}",
                    $"is false and topic '{Options.Topic}' does not exist; set {KafkaEventStoreOptions.SectionName}:{nameof(KafkaEventStoreOptions.CreateTopics)}=true to create it, or create it with retention.ms=-1 and cleanup.policy=delete.");
            _capabilities = CapabilitiesFor(partitions, Options.MaxMessageBytes);
            var writers = new PartitionWriter[partitions];
            for (var p = 0; p < partitions; p++) writers[p] = new PartitionWriter(this, p, Producer, Consumers, _logger);
            await LoadIndexSnapshotsAsync(writers, cancellationToken).ConfigureAwait(false);
            foreach (var w in writers) await w.CatchUpCoreAsync(cancellationToken).ConfigureAwait(false);
            foreach (var w in writers) w.Start();
            _writers = writers;
            _initialized = true;
            _logger.LogInformation("Kafka event store on topic {Topic}: {Partitions} partition(s), {Streams} stream(s) indexed.",
                Options.Topic, partitions, writers.Sum(w => w.Index.StreamCount));
        }
        finally
        {
            _initGate.Release();
        }
    }

    internal int PartitionCountOf(string topic)
    {
        var metadata = _admin.GetMetadata(topic, Options.RequestTimeout);
        var t = metadata.Topics.FirstOrDefault(x => x.Topic == topic);
        return t is null || t.Error.IsError ? 0 : t.Partitions.Count;
    }

    private async ValueTask<PartitionWriter[]> WritersAsync(CancellationToken ct)
    {
        if (!_initialized) await InitializeAsync(ct).ConfigureAwait(false);
        return _writers;
    }

    private async ValueTask<PartitionWriter> WriterForAsync(StreamName stream, CancellationToken ct)
    {
        var writers = await WritersAsync(ct).ConfigureAwait(false);
        return writers[StreamPartitioner.PartitionOf(Encoding.UTF8.GetBytes(stream.Value), writers.Length)];
    }

    /// <summary>
    /// One partition: the event's offset. Several: a vector of next offsets, this partition's entry one past the
    /// event and the others 0 (a stream read knows nothing of the other partitions).
    /// </summary>
    internal Position PositionOf(int partition, long offset)
    {
        if (_writers.Length <= 1) return Position.FromInt64(offset);
        var parts = new long[_writers.Length];
        parts[partition] = offset + 1;
        return Position.FromParts(parts);
    }

    /// <inheritdoc />
    public async Task<AppendResult> AppendAsync(StreamName stream, ExpectedVersion expectedVersion, IReadOnlyList<EventData> events, CancellationToken cancellationToken = default)
    {
        EventGuard.ValidateAppend(stream, expectedVersion, events, Capabilities);
        foreach (var e in events)
        {
            var size = EventRecord.EstimateSize(stream.Value, e);
            if (size > Options.MaxMessageBytes) throw new EventTooLargeException(stream, e.EventId, size, Options.MaxMessageBytes);
        }
        cancellationToken.ThrowIfCancellationRequested();
        var writer = await WriterForAsync(stream, cancellationToken).ConfigureAwait(false);
        var result = await writer.AppendAsync(stream, expectedVersion, events, cancellationToken).ConfigureAwait(false);
        if (result.WroteEvents) Interlocked.Exchange(ref _appended, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        return result;
    }

    /// <inheritdoc />
    public async Task DeleteStreamAsync(StreamName stream, ExpectedVersion expectedVersion, StreamDeletionMode mode = StreamDeletionMode.Soft, CancellationToken cancellationToken = default)
    {
        EventGuard.ValidateStream(stream, Capabilities);
        expectedVersion.EnsureValid();
        if (!Enum.IsDefined(mode)) throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown deletion mode.");
        cancellationToken.ThrowIfCancellationRequested();
        var writer = await WriterForAsync(stream, cancellationToken).ConfigureAwait(false);
        await writer.DeleteAsync(stream, expectedVersion, mode, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<StreamInfo> GetStreamInfoAsync(StreamName stream, CancellationToken cancellationToken = default)
    {
        EventGuard.ValidateStream(stream, Capabilities);
        var writer = await WriterForAsync(stream, cancellationToken).ConfigureAwait(false);
        await writer.CatchUpAsync(cancellationToken).ConfigureAwait(false);
        var entry = writer.Index.Find(stream.Value);
        if (entry is null || (entry.LastVersion < 0 && !entry.Tombstoned && entry.TruncateBefore == 0)) return StreamInfo.NotFound(stream);
        lock (writer.Index.Sync)
        {
            if (entry.Tombstoned) return new StreamInfo(stream, false, -1, true);
            if (entry.SoftDeleted) return new StreamInfo(stream, false, -1, true);
            return new StreamInfo(stream, true, entry.LastVersion);
        }
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<RecordedEvent> ReadStreamAsync(StreamName stream, ReadDirection direction = ReadDirection.Forwards, long? fromVersion = null,
        long maxCount = long.MaxValue, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        EventGuard.ValidateReadStream(stream, direction, fromVersion, maxCount, Capabilities);
        var writer = await WriterForAsync(stream, cancellationToken).ConfigureAwait(false);
        await writer.CatchUpAsync(cancellationToken).ConfigureAwait(false);
        var runs = StreamRuns(writer.Index, stream, direction, fromVersion, maxCount);
        await foreach (var e in ReadRunsAsync(stream, writer.Index.Partition, runs, direction == ReadDirection.Backwards, cancellationToken).ConfigureAwait(false))
            yield return e;
    }

    private static List<OffsetRun> StreamRuns(PartitionIndex index, StreamName stream, ReadDirection direction, long? fromVersion, long maxCount)
    {
        lock (index.Sync)
        {
            var entry = index.Find(stream.Value);
            if (entry is null) return [];
            if (entry.Tombstoned) throw new StreamDeletedException(stream);
            if (!entry.Visible || maxCount == 0) return [];
            long from, to;
            if (direction == ReadDirection.Forwards)
            {
                from = Math.Max(fromVersion ?? 0, entry.TruncateBefore);
                to = maxCount >= entry.LastVersion - from + 1 ? entry.LastVersion : from + maxCount - 1;
            }
            else
            {
                to = Math.Min(fromVersion ?? entry.LastVersion, entry.LastVersion);
                from = Math.Max(entry.TruncateBefore, maxCount > to ? 0 : to - maxCount + 1);
            }
            return entry.Slice(from, to);
        }
    }

    /// <summary>Reads the events at the given runs by assigning the partition and seeking to each run: never a scan.</summary>
    internal async IAsyncEnumerable<RecordedEvent> ReadRunsAsync(StreamName stream, int partition, List<OffsetRun> runs, bool backwards,
        [EnumeratorCancellation] CancellationToken ct)
    {
        if (runs.Count == 0) yield break;
        using var lease = Consumers.Rent();
        var tp = new TopicPartition(Options.Topic, partition);
        if (!backwards)
        {
            foreach (var run in runs)
            {
                lease.Consumer.Assign(new TopicPartitionOffset(tp, run.FirstOffset));
                var expected = run.FirstOffset;
                while (expected <= run.LastOffset)
                {
                    var r = await lease.NextAsync(ct).ConfigureAwait(false);
                    if (r is null || r.IsPartitionEOF) continue;
                    var offset = r.Offset.Value;
                    if (offset < expected) continue;
                    if (offset > expected) throw EventsLost(partition, expected);
                    expected = offset + 1;
                    yield return EventRecord.ToRecordedEvent(r, stream, run.FirstVersion + offset - run.FirstOffset, PositionOf(partition, offset));
                }
            }
            yield break;
        }
        var chunk = new List<RecordedEvent>(BackwardsChunk);
        for (var i = runs.Count - 1; i >= 0; i--)
        {
            var run = runs[i];
            for (var end = run.Count; end > 0; end -= BackwardsChunk)
            {
                var start = Math.Max(0, end - BackwardsChunk);
                chunk.Clear();
                var expected = run.FirstOffset + start;
                lease.Consumer.Assign(new TopicPartitionOffset(tp, expected));
                while (chunk.Count < end - start)
                {
                    var r = await lease.NextAsync(ct).ConfigureAwait(false);
                    if (r is null || r.IsPartitionEOF) continue;
                    var offset = r.Offset.Value;
                    if (offset < expected) continue;
                    if (offset > expected) throw EventsLost(partition, expected);
                    expected = offset + 1;
                    chunk.Add(EventRecord.ToRecordedEvent(r, stream, run.FirstVersion + offset - run.FirstOffset, PositionOf(partition, offset)));
                }
                for (var j = chunk.Count - 1; j >= 0; j--) yield return chunk[j];
            }
        }
    }

    internal EventStoreException EventsLost(int partition, long offset) =>
        new($"Offset {offset} of partition {partition} of topic '{Options.Topic}' is gone: the broker deleted events (retention or log size limit). The events topic must keep events forever (retention.ms=-1, retention.bytes=-1).");

    /// <inheritdoc />
    public IAsyncEnumerable<RecordedEvent> ReadAllAsync(ReadAllOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= ReadAllOptions.Default;
        options.EnsureValid();
        return ReadAllCoreAsync(options, cancellationToken);
    }

    /// <inheritdoc />
    public IAsyncEnumerable<RecordedEvent> ReadCategoryAsync(string category, ReadAllOptions? options = null, CancellationToken cancellationToken = default)
    {
        EventGuard.ValidateCategory(category);
        options ??= ReadAllOptions.Default;
        options.EnsureValid();
        return ReadAllCoreAsync(options with { Filter = options.Filter with { Categories = [category] } }, cancellationToken);
    }

    private async IAsyncEnumerable<RecordedEvent> ReadAllCoreAsync(ReadAllOptions options, [EnumeratorCancellation] CancellationToken ct)
    {
        if (options.MaxCount == 0) yield break;
        var writers = await WritersAsync(ct).ConfigureAwait(false);
        var ends = await SafeEndsAsync(writers, ct).ConfigureAwait(false);
        var count = 0L;
        if (options.Direction == ReadDirection.Forwards)
        {
            var start = StartOffsets(options.From, writers.Length);
            await foreach (var item in ScanAsync(start, ends, options.Filter, ct).ConfigureAwait(false))
            {
                if (item.Event is null) continue;
                yield return item.Event;
                if (++count >= options.MaxCount) yield break;
            }
            yield break;
        }
        var upper = options.From is { IsStart: false } from ? UpperBounds(from, writers.Length) : ends;
        var bounds = new long[writers.Length];
        for (var p = 0; p < writers.Length; p++) bounds[p] = Math.Min(upper[p], ends[p]);
        var sources = Enumerable.Range(0, writers.Length).Select(p => ReadPartitionBackwardsAsync(p, bounds[p], ct)).ToArray();
        await foreach (var r in MergeAsync(sources, backwards: true, ct).ConfigureAwait(false))
        {
            var p = r.Partition.Value;
            bounds[p] = r.Offset.Value;
            if (!TryCommittedEvent(writers[p].Index, r, out var stream, out var version) || !options.Filter.Matches(stream, EventTypeOf(r))) continue;
            var position = writers.Length == 1 ? Position.FromInt64(r.Offset.Value) : Position.FromParts(bounds);
            yield return EventRecord.ToRecordedEvent(r, stream, version, position);
            if (++count >= options.MaxCount) yield break;
        }
    }

    /// <summary>
    /// Merges the partitions' records into one deterministic order: by producer timestamp, then partition (forwards
    /// the oldest head first, backwards the newest). Each partition stays in offset order; two readers of the same
    /// records see the same sequence and the same positions.
    /// </summary>
    private static async IAsyncEnumerable<ConsumeResult<byte[], byte[]>> MergeAsync(IAsyncEnumerable<ConsumeResult<byte[], byte[]>>[] sources, bool backwards,
        [EnumeratorCancellation] CancellationToken ct)
    {
        if (sources.Length == 1)
        {
            await foreach (var r in sources[0].WithCancellation(ct).ConfigureAwait(false)) yield return r;
            yield break;
        }
        var enumerators = sources.Select(s => s.GetAsyncEnumerator(ct)).ToArray();
        var heads = new ConsumeResult<byte[], byte[]>?[enumerators.Length];
        try
        {
            for (var i = 0; i < enumerators.Length; i++)
                heads[i] = await enumerators[i].MoveNextAsync().ConfigureAwait(false) ? enumerators[i].Current : null;
            while (true)
            {
                var pick = -1;
                for (var i = 0; i < heads.Length; i++)
                {
                    if (heads[i] is not { } h) continue;
                    if (pick < 0) { pick = i; continue; }
                    var c = h.Message.Timestamp.UnixTimestampMs.CompareTo(heads[pick]!.Message.Timestamp.UnixTimestampMs);
                    if (backwards ? c > 0 : c < 0) pick = i;
                }
                if (pick < 0) yield break;
                yield return heads[pick]!;
                heads[pick] = await enumerators[pick].MoveNextAsync().ConfigureAwait(false) ? enumerators[pick].Current : null;
            }
        }
        finally
        {
            foreach (var e in enumerators) await e.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async IAsyncEnumerable<ConsumeResult<byte[], byte[]>> ReadPartitionBackwardsAsync(int partition, long end, [EnumeratorCancellation] CancellationToken ct)
    {
        for (; end > 0; end -= BackwardsChunk)
        {
            var chunk = new List<ConsumeResult<byte[], byte[]>>(BackwardsChunk);
            await foreach (var r in ReadPartitionRangeAsync(partition, Math.Max(0, end - BackwardsChunk), end, ct).ConfigureAwait(false)) chunk.Add(r);
            for (var j = chunk.Count - 1; j >= 0; j--) yield return chunk[j];
        }
    }

    /// <summary>Forward start offsets: one partition's position is the last event read; a vector holds next offsets.</summary>
    private static long[] StartOffsets(Position? from, int partitions)
    {
        var start = new long[partitions];
        if (from is not { IsStart: false } f) return start;
        var parts = f.Parts;
        if (partitions == 1)
        {
            if (parts.Length != 1) throw new InvalidPositionException(f.ToString(), "this store has one partition; its positions are one offset");
            start[0] = parts[0] + 1;
            return start;
        }
        if (parts.Length != partitions) throw new InvalidPositionException(f.ToString(), $"this store has {partitions} partitions; its positions are vectors of {partitions} offsets");
        for (var p = 0; p < partitions; p++) start[p] = Math.Max(0, parts[p]);
        return start;
    }

    /// <summary>Backward exclusive bounds: one partition's position is an offset; a vector holds per-partition bounds.</summary>
    private static long[] UpperBounds(Position from, int partitions)
    {
        var parts = from.Parts;
        if (parts.Length != partitions) throw new InvalidPositionException(from.ToString(), $"this store's positions have {partitions} component(s)");
        var bounds = new long[partitions];
        for (var p = 0; p < partitions; p++) bounds[p] = Math.Max(0, parts[p]);
        return bounds;
    }

    private static async Task<long[]> SafeEndsAsync(PartitionWriter[] writers, CancellationToken ct)
    {
        await Task.WhenAll(writers.Select(w => w.CatchUpAsync(ct))).ConfigureAwait(false);
        return writers.Select(w => w.Index.SafeEnd).ToArray();
    }

    private static string EventTypeOf(ConsumeResult<byte[], byte[]> r) =>
        r.Message.Headers.TryGetLastBytes(EventRecord.TypeHeader, out var b) ? Encoding.UTF8.GetString(b) : "";

    /// <summary>True when the record is an event the index accepted (not a marker, a torn batch or a race loser).</summary>
    private static bool TryCommittedEvent(PartitionIndex index, ConsumeResult<byte[], byte[]> r, out StreamName stream, out long version)
    {
        stream = default;
        version = -1;
        if (!EventRecord.TryReadHeader(r, out var h) || h.Kind != RecordKind.Event || !StreamName.TryParse(h.Stream, out stream)) return false;
        version = h.Version;
        return index.IsCommitted(h.Stream, h.Version, r.Offset.Value);
    }

    /// <summary>One processed record of a forward scan: the event when it passes the filter, and the position after it.</summary>
    private readonly record struct ScanItem(RecordedEvent? Event, Position Progress);

    /// <summary>Scans partitions forward from <paramref name="start"/> up to <paramref name="ends"/>, merged deterministically.</summary>
    private async IAsyncEnumerable<ScanItem> ScanAsync(long[] start, long[] ends, EventFilter filter, [EnumeratorCancellation] CancellationToken ct)
    {
        var writers = _writers;
        var next = (long[])start.Clone();
        var sources = Enumerable.Range(0, writers.Length).Select(p => ReadPartitionRangeAsync(p, start[p], ends[p], ct)).ToArray();
        await foreach (var r in MergeAsync(sources, backwards: false, ct).ConfigureAwait(false))
        {
            var p = r.Partition.Value;
            var offset = r.Offset.Value;
            next[p] = offset + 1;
            var progress = writers.Length == 1 ? Position.FromInt64(offset) : Position.FromParts(next);
            if (TryCommittedEvent(writers[p].Index, r, out var stream, out var version) && filter.Matches(stream, EventTypeOf(r)))
                yield return new ScanItem(EventRecord.ToRecordedEvent(r, stream, version, progress), progress);
            else
                yield return new ScanItem(null, progress);
        }
    }

    private async IAsyncEnumerable<ConsumeResult<byte[], byte[]>> ReadPartitionRangeAsync(int partition, long start, long end, [EnumeratorCancellation] CancellationToken ct)
    {
        if (start >= end) yield break;
        using var lease = Consumers.Rent();
        lease.Consumer.Assign(new TopicPartitionOffset(Options.Topic, partition, start));
        while (true)
        {
            var r = await lease.NextAsync(ct).ConfigureAwait(false);
            if (r is null) continue;
            if (r.IsPartitionEOF || r.Offset.Value >= end) yield break;
            if (r.Offset.Value < start) continue;
            yield return r;
            if (r.Offset.Value + 1 >= end) yield break;
        }
    }

    /// <inheritdoc />
    public async Task<Position> GetHeadPositionAsync(CancellationToken cancellationToken = default)
    {
        var writers = await WritersAsync(cancellationToken).ConfigureAwait(false);
        var ends = await SafeEndsAsync(writers, cancellationToken).ConfigureAwait(false);
        if (writers.Length == 1)
        {
            var last = writers[0].Index.LastEventOffset;
            return last < 0 || last >= ends[0] ? Position.Start : Position.FromInt64(last);
        }
        return ends.All(e => e == 0) ? Position.Start : Position.FromParts(ends);
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<SubscriptionMessage> SubscribeToAllAsync(SubscribeToAllOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        options ??= new SubscribeToAllOptions();
        options.EnsureValid();
        var writers = await WritersAsync(cancellationToken).ConfigureAwait(false);
        var next = StartOffsets(options.From, writers.Length);
        Position last = options.From ?? Position.Start;
        var caughtUp = false;
        var filteredSinceCheckpoint = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            var signal = _appended.Task;
            var ends = await SafeEndsAsync(writers, cancellationToken).ConfigureAwait(false);
            await foreach (var item in ScanAsync(next, ends, options.Filter, cancellationToken).ConfigureAwait(false))
            {
                last = item.Progress;
                if (item.Event is not null)
                {
                    filteredSinceCheckpoint = 0;
                    yield return SubscriptionMessage.ForEvent(item.Event);
                }
                else if (++filteredSinceCheckpoint >= options.CheckpointInterval)
                {
                    filteredSinceCheckpoint = 0;
                    yield return SubscriptionMessage.ForCheckpoint(item.Progress);
                }
            }
            next = NextFromProgress(last, ends, next, writers.Length);
            if (filteredSinceCheckpoint > 0)
            {
                filteredSinceCheckpoint = 0;
                yield return SubscriptionMessage.ForCheckpoint(last);
            }
            if (!caughtUp)
            {
                caughtUp = true;
                yield return SubscriptionMessage.ForCaughtUp(last);
            }
            // Local appends wake the subscription at once; other processes' appends are seen by the periodic poll.
            await Task.WhenAny(signal, Task.Delay(100, cancellationToken)).ConfigureAwait(false);
        }
        cancellationToken.ThrowIfCancellationRequested();
    }

    private static long[] NextFromProgress(Position progress, long[] ends, long[] previous, int partitions)
    {
        if (progress.IsStart) return previous;
        if (partitions == 1) return [progress.ToInt64() + 1];
        var parts = progress.Parts;
        var next = new long[partitions];
        for (var p = 0; p < partitions; p++) next[p] = Math.Max(previous[p], parts[p]);
        return next;
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<SubscriptionMessage> SubscribeToStreamAsync(StreamName stream, long? afterVersion = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        EventGuard.ValidateStream(stream, Capabilities);
        if (afterVersion is < -1) throw new ArgumentOutOfRangeException(nameof(afterVersion), afterVersion, "The version must be -1 or more.");
        var writer = await WriterForAsync(stream, cancellationToken).ConfigureAwait(false);
        var nextVersion = (afterVersion ?? -1) + 1;
        var caughtUp = false;
        var position = Position.Start;
        while (!cancellationToken.IsCancellationRequested)
        {
            var signal = _appended.Task;
            await writer.CatchUpAsync(cancellationToken).ConfigureAwait(false);
            var runs = StreamRuns(writer.Index, stream, ReadDirection.Forwards, nextVersion, long.MaxValue);
            await foreach (var e in ReadRunsAsync(stream, writer.Index.Partition, runs, false, cancellationToken).ConfigureAwait(false))
            {
                nextVersion = e.Version + 1;
                position = e.Position;
                yield return SubscriptionMessage.ForEvent(e);
            }
            if (!caughtUp)
            {
                caughtUp = true;
                yield return SubscriptionMessage.ForCaughtUp(position);
            }
            await Task.WhenAny(signal, Task.Delay(100, cancellationToken)).ConfigureAwait(false);
        }
        cancellationToken.ThrowIfCancellationRequested();
    }

    /// <summary>
    /// Writes the whole index of a partition to the index topic: chunks first, then a head naming the snapshot id,
    /// chunk count and the offset it is valid up to. A loader uses a snapshot only when every chunk carries the
    /// head's id, so snapshots of two instances written at once are never mixed.
    /// </summary>
    internal async Task WriteIndexSnapshotAsync(PartitionIndex index)
    {
        var snapshot = index.TakeSnapshot();
        if (snapshot is null) return;
        var (entries, validUpTo, lastEventOffset) = snapshot.Value;
        var id = Guid.NewGuid().ToByteArray();
        var limit = Options.MaxMessageBytes / 2;
        var chunks = new List<byte[]>();
        using (var ms = new MemoryStream())
        {
            void Flush()
            {
                chunks.Add(ms.ToArray());
                ms.SetLength(0);
            }
            var len = new byte[4];
            foreach (var (stream, value) in entries)
            {
                var name = Encoding.UTF8.GetBytes(stream);
                if (name.Length + value.Length + 8 > limit)
                {
                    _logger.LogWarning("Partition {Partition}: the index entry of a stream is too large for an index snapshot; restarts will replay the partition.", index.Partition);
                    return;
                }
                if (ms.Length + name.Length + value.Length + 8 > limit) Flush();
                BinaryPrimitives.WriteInt32BigEndian(len, name.Length);
                ms.Write(len);
                ms.Write(name);
                BinaryPrimitives.WriteInt32BigEndian(len, value.Length);
                ms.Write(len);
                ms.Write(value);
            }
            if (ms.Length > 0) Flush();
        }
        try
        {
            var topic = Options.EffectiveIndexTopic;
            for (var i = 0; i < chunks.Count; i++)
                await Producer.ProduceAsync(topic, new Message<byte[], byte[]> { Key = Encoding.UTF8.GetBytes($"{index.Partition}#{i}"), Value = [.. id, .. chunks[i]] }).ConfigureAwait(false);
            var head = new byte[16 + 8 + 8 + 4];
            id.CopyTo(head, 0);
            BinaryPrimitives.WriteInt64BigEndian(head.AsSpan(16), validUpTo);
            BinaryPrimitives.WriteInt64BigEndian(head.AsSpan(24), lastEventOffset);
            BinaryPrimitives.WriteInt32BigEndian(head.AsSpan(32), chunks.Count);
            await Producer.ProduceAsync(topic, new Message<byte[], byte[]> { Key = Encoding.UTF8.GetBytes($"{index.Partition}"), Value = head }).ConfigureAwait(false);
            _logger.LogDebug("Partition {Partition}: index snapshot valid up to offset {Offset} written.", index.Partition, validUpTo);
        }
        catch (KafkaException e)
        {
            _logger.LogWarning(e, "Partition {Partition}: writing the index snapshot failed; the next restart replays more of the partition.", index.Partition);
        }
    }

    private async Task LoadIndexSnapshotsAsync(PartitionWriter[] writers, CancellationToken ct)
    {
        var topic = Options.EffectiveIndexTopic;
        if (PartitionCountOf(topic) == 0)
        {
            _logger.LogWarning("Index topic {Topic} does not exist: every start replays the events topic.", topic);
            return;
        }
        var all = (await new CompactedTopic(topic, this).GetAllAsync(ct).ConfigureAwait(false)).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        foreach (var w in writers)
        {
            if (!all.TryGetValue($"{w.Index.Partition}", out var head) || head.Length != 36) continue;
            var id = head.AsSpan(0, 16);
            var count = BinaryPrimitives.ReadInt32BigEndian(head.AsSpan(32));
            var entries = new List<(string, StreamEntry)>();
            var complete = true;
            for (var i = 0; i < count && complete; i++)
            {
                if (!all.TryGetValue($"{w.Index.Partition}#{i}", out var chunk) || !chunk.AsSpan(0, 16).SequenceEqual(id))
                {
                    complete = false;
                    break;
                }
                var span = chunk.AsSpan(16);
                while (!span.IsEmpty)
                {
                    var nameLength = BinaryPrimitives.ReadInt32BigEndian(span);
                    var name = Encoding.UTF8.GetString(span.Slice(4, nameLength));
                    span = span[(4 + nameLength)..];
                    var valueLength = BinaryPrimitives.ReadInt32BigEndian(span);
                    entries.Add((name, StreamEntry.Deserialize(span.Slice(4, valueLength))));
                    span = span[(4 + valueLength)..];
                }
            }
            if (!complete)
            {
                _logger.LogWarning("Partition {Partition}: the index snapshot is incomplete (two writers overlapped); replaying the partition.", w.Index.Partition);
                continue;
            }
            w.Index.Load(entries, BinaryPrimitives.ReadInt64BigEndian(head.AsSpan(16)), BinaryPrimitives.ReadInt64BigEndian(head.AsSpan(24)));
            _logger.LogInformation("Partition {Partition}: index loaded from snapshot ({Streams} streams, up to offset {Offset}).",
                w.Index.Partition, entries.Count, w.Index.NextOffset);
        }
    }

    /// <summary>Stops the writers and closes the Kafka clients.</summary>
    /// <remarks>
    /// Idempotent: DI containers dispose one singleton once per service type it is registered under, so later (and
    /// concurrent) calls wait for the first disposal instead of touching the destroyed librdkafka handles.
    /// </remarks>
    public ValueTask DisposeAsync()
    {
        var first = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = Interlocked.CompareExchange(ref _disposal, first.Task, null);
        if (running is not null) return new ValueTask(running);
        _ = DisposeCoreAsync().ContinueWith(t =>
        {
            if (t.Exception is not null) first.TrySetException(t.Exception.InnerExceptions);
            else first.TrySetResult();
        }, TaskScheduler.Default);
        return new ValueTask(first.Task);
    }

    private async Task DisposeCoreAsync()
    {
        foreach (var w in _writers) await w.DisposeAsync().ConfigureAwait(false);
        Producer.Flush(TimeSpan.FromSeconds(5));
        _admin.Dispose();
        Consumers.Dispose();
        Producer.Dispose();
    }
}
