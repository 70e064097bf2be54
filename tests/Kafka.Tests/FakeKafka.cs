using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace EventStore.Providers.Kafka.Tests;

/// <summary>
/// An in-memory broker behaving the way a real Kafka broker does where librdkafka's mock cluster does not
/// (BACKENDS.md): commits and aborts write control markers that take an offset no consumer receives; a
/// read_committed consumer stops at the last stable offset while any transaction on the partition is open and never
/// sees aborted records; <c>InitTransactions</c> with an existing transactional id fences the older producer and
/// aborts its open transaction; producing outside a transaction on a transactional producer fails ("Erroneous
/// state"). Offsets can be skipped to imitate compaction.
/// </summary>
internal sealed class FakeBroker : IKafkaClientFactory
{
    private readonly Dictionary<string, FakeLog[]> _topics = new(StringComparer.Ordinal);
    private readonly Dictionary<string, FakeProducer> _transactional = new(StringComparer.Ordinal);

    public object Sync { get; } = new();

    /// <summary>Runs before each commit of a transactional producer; an exception it returns fails the commit.</summary>
    public Func<FakeProducer, Exception?>? BeforeCommit { get; set; }

    public int ProducersCreated;

    /// <summary>Seeks: partition assignments made by the store's consumers (each costs a fetch round trip on a real broker).</summary>
    public int Assigns;

    public int TransactionalProducersCreated;

    /// <summary>Records produced outside a transaction by a transactional producer (must stay 0).</summary>
    public int ProducedOutsideTransaction;

    public FakeBroker CreateTopic(string topic, int partitions)
    {
        lock (Sync) _topics[topic] = Enumerable.Range(0, partitions).Select(_ => new FakeLog()).ToArray();
        return this;
    }

    public FakeBroker CreateTopics(KafkaEventStoreOptions options, int partitions = 1) =>
        CreateTopic(options.Topic, partitions).CreateTopic(options.EffectiveIndexTopic, 1)
            .CreateTopic(options.EffectiveSnapshotTopic, 1).CreateTopic(options.EffectiveCheckpointTopic, 1);

    public FakeLog Log(string topic, int partition)
    {
        lock (Sync) return _topics[topic][partition];
    }

    public IProducer<byte[], byte[]> CreateProducer(ProducerConfig config)
    {
        Interlocked.Increment(ref ProducersCreated);
        if (config.TransactionalId is not null) Interlocked.Increment(ref TransactionalProducersCreated);
        return new FakeProducer(this, config.TransactionalId);
    }

    public IPartitionConsumer CreateConsumer(ConsumerConfig config) => new FakeConsumer(this, config.IsolationLevel == IsolationLevel.ReadCommitted);

    public int PartitionCount(string topic, TimeSpan timeout)
    {
        lock (Sync) return _topics.TryGetValue(topic, out var logs) ? logs.Length : 0;
    }

    public IAdminClient Admin => throw new NotSupportedException("The fake broker has no admin API; tests turn the topic check off.");

    /// <summary>Registers a transactional producer; an older one with the same id is fenced (its open transaction aborted).</summary>
    internal void InitTransactions(FakeProducer producer)
    {
        lock (Sync)
        {
            if (_transactional.TryGetValue(producer.TransactionalId!, out var older) && !ReferenceEquals(older, producer)) older.Fence();
            _transactional[producer.TransactionalId!] = producer;
        }
    }

    /// <summary>Another producer (another tool, another prefix) opens a transaction and writes one record to the partition.</summary>
    public FakeTransaction OpenForeignTransaction(string topic, int partition)
    {
        lock (Sync)
        {
            var txn = new FakeTransaction(this);
            txn.Append(topic, partition, new Message<byte[], byte[]> { Key = "foreign"u8.ToArray(), Value = "{}"u8.ToArray(), Headers = [] });
            return txn;
        }
    }

    public void Dispose()
    {
    }
}

/// <summary>One partition's log: records, control markers and gaps, each at its own offset.</summary>
internal sealed class FakeLog
{
    private readonly List<Entry> _entries = [];

    /// <summary>The high watermark: the offset the next record (or marker) takes.</summary>
    public long End { get; private set; }

    public sealed record Entry(long Offset, Message<byte[], byte[]>? Message, FakeTransaction? Transaction)
    {
        public bool IsMarker => Message is null;

        public bool VisibleTo(bool readCommitted) =>
            !IsMarker && (Transaction is null || !readCommitted || Transaction.State == FakeTransaction.TxnState.Committed);
    }

    /// <summary>The last stable offset: the first offset of the oldest open transaction, else the high watermark.</summary>
    public long StableOffset => _entries.Where(e => e.Transaction?.State == FakeTransaction.TxnState.Open).Select(e => e.Offset).DefaultIfEmpty(End).Min();

    public IReadOnlyList<Entry> Entries => _entries;

    public long Append(Message<byte[], byte[]>? message, FakeTransaction? txn)
    {
        if (message is not null && message.Timestamp.Type == TimestampType.NotAvailable)
            message.Timestamp = new Timestamp(DateTime.UtcNow);
        var offset = End++;
        _entries.Add(new Entry(offset, message, txn));
        return offset;
    }

    /// <summary>Offsets that hold nothing any more (compaction, deleted segments of aborted data).</summary>
    public void Skip(int count) => End += count;

    public int Markers => _entries.Count(e => e.IsMarker);
}

/// <summary>A transaction of a producer: its records become visible to read_committed readers when it commits.</summary>
internal sealed class FakeTransaction(FakeBroker broker)
{
    public enum TxnState { Open, Committed, Aborted }

    private readonly HashSet<FakeLog> _touched = [];

    public TxnState State { get; private set; } = TxnState.Open;

    public long Append(string topic, int partition, Message<byte[], byte[]> message)
    {
        lock (broker.Sync)
        {
            var log = broker.Log(topic, partition);
            _touched.Add(log);
            return log.Append(message, this);
        }
    }

    public void Commit() => End(TxnState.Committed);

    public void Abort() => End(TxnState.Aborted);

    private void End(TxnState state)
    {
        lock (broker.Sync)
        {
            if (State != TxnState.Open) return;
            State = state;
            foreach (var log in _touched) log.Append(null, this);
        }
    }
}

/// <summary>A producer on the fake broker (transactional when it has a transactional id).</summary>
internal sealed class FakeProducer(FakeBroker broker, string? transactionalId) : IProducer<byte[], byte[]>
{
    private FakeTransaction? _txn;
    private bool _initialised;
    private bool _fenced;

    public string? TransactionalId { get; } = transactionalId;

    public int Commits { get; private set; }

    internal void Fence()
    {
        _fenced = true;
        _txn?.Abort();
        _txn = null;
    }

    private static KafkaException Fenced() => new(new Error(ErrorCode.ProducerFenced, "There is a newer producer with the same transactionalId which fences the current one.", true));

    public void Produce(TopicPartition topicPartition, Message<byte[], byte[]> message, Action<DeliveryReport<byte[], byte[]>>? deliveryHandler = null)
    {
        long offset;
        var error = new Error(ErrorCode.NoError);
        lock (broker.Sync)
        {
            if (TransactionalId is not null)
            {
                if (_fenced) error = Fenced().Error;
                else if (_txn is null)
                {
                    Interlocked.Increment(ref broker.ProducedOutsideTransaction);
                    throw new KafkaException(new Error(ErrorCode.Local_State, "Erroneous state"));
                }
            }
            offset = error.IsError ? -1 : _txn is null
                ? broker.Log(topicPartition.Topic, topicPartition.Partition.Value).Append(message, null)
                : _txn.Append(topicPartition.Topic, topicPartition.Partition.Value, message);
        }
        var report = new DeliveryReport<byte[], byte[]>
        {
            Message = message,
            TopicPartitionOffset = new TopicPartitionOffset(topicPartition, offset),
            Error = error,
            Status = error.IsError ? PersistenceStatus.NotPersisted : PersistenceStatus.Persisted,
        };
        if (deliveryHandler is not null) ThreadPool.QueueUserWorkItem(_ => deliveryHandler(report));
    }

    public void Produce(string topic, Message<byte[], byte[]> message, Action<DeliveryReport<byte[], byte[]>>? deliveryHandler = null) =>
        Produce(new TopicPartition(topic, 0), message, deliveryHandler);

    public Task<DeliveryResult<byte[], byte[]>> ProduceAsync(TopicPartition topicPartition, Message<byte[], byte[]> message, CancellationToken cancellationToken = default)
    {
        var done = new TaskCompletionSource<DeliveryResult<byte[], byte[]>>(TaskCreationOptions.RunContinuationsAsynchronously);
        Produce(topicPartition, message, r =>
        {
            if (r.Error.IsError) done.TrySetException(new ProduceException<byte[], byte[]>(r.Error, r));
            else done.TrySetResult(r);
        });
        return done.Task;
    }

    public Task<DeliveryResult<byte[], byte[]>> ProduceAsync(string topic, Message<byte[], byte[]> message, CancellationToken cancellationToken = default) =>
        ProduceAsync(new TopicPartition(topic, 0), message, cancellationToken);

    public void InitTransactions(TimeSpan timeout)
    {
        broker.InitTransactions(this);
        _initialised = true;
    }

    public void BeginTransaction()
    {
        lock (broker.Sync)
        {
            if (_fenced) throw Fenced();
            if (!_initialised || _txn is not null) throw new KafkaException(new Error(ErrorCode.Local_State, "Erroneous state"));
            _txn = new FakeTransaction(broker);
        }
    }

    public void CommitTransaction(TimeSpan timeout)
    {
        if (broker.BeforeCommit?.Invoke(this) is { } failure) throw failure;
        lock (broker.Sync)
        {
            if (_fenced) throw Fenced();
            var txn = _txn ?? throw new KafkaException(new Error(ErrorCode.Local_State, "Erroneous state"));
            txn.Commit();
            _txn = null;
            Commits++;
        }
    }

    public void CommitTransaction() => CommitTransaction(TimeSpan.FromSeconds(30));

    public void AbortTransaction(TimeSpan timeout)
    {
        lock (broker.Sync)
        {
            if (_fenced) throw Fenced();
            _txn?.Abort();
            _txn = null;
        }
    }

    public void AbortTransaction() => AbortTransaction(TimeSpan.FromSeconds(30));

    public int Poll(TimeSpan timeout) => 0;

    public int Flush(TimeSpan timeout) => 0;

    public void Flush(CancellationToken cancellationToken = default)
    {
    }

    public void SendOffsetsToTransaction(IEnumerable<TopicPartitionOffset> offsets, IConsumerGroupMetadata groupMetadata, TimeSpan timeout) =>
        throw new NotSupportedException();

    public Handle Handle => throw new NotSupportedException();

    public string Name => TransactionalId ?? "fake-producer";

    public int AddBrokers(string brokers) => 0;

    public void SetSaslCredentials(string username, string password)
    {
    }

    public void Dispose()
    {
    }
}

/// <summary>
/// An assign-only consumer on the fake broker: skips markers (and, with read_committed, aborted and open
/// transactions' records), stops at the last stable offset, and reports end-of-partition there once per end.
/// </summary>
internal sealed class FakeConsumer(FakeBroker broker, bool readCommitted) : IPartitionConsumer
{
    private readonly List<Assignment> _assigned = [];
    private int _next;

    private sealed class Assignment(TopicPartition tp, long position)
    {
        public TopicPartition Partition { get; } = tp;
        public long Position { get; set; } = position;
        public long EofAt { get; set; } = -1;
    }

    public WatermarkOffsets QueryWatermarkOffsets(TopicPartition partition, TimeSpan timeout)
    {
        lock (broker.Sync) return new WatermarkOffsets(0, broker.Log(partition.Topic, partition.Partition.Value).End);
    }

    public void Assign(IEnumerable<TopicPartitionOffset> partitions)
    {
        Interlocked.Increment(ref broker.Assigns);
        _assigned.Clear();
        foreach (var p in partitions) _assigned.Add(new Assignment(p.TopicPartition, p.Offset.Value));
    }

    public void Unassign() => _assigned.Clear();

    public ConsumeResult<byte[], byte[]>? Consume(TimeSpan timeout)
    {
        lock (broker.Sync)
        {
            for (var i = 0; i < _assigned.Count; i++)
            {
                var a = _assigned[(_next + i) % _assigned.Count];
                var log = broker.Log(a.Partition.Topic, a.Partition.Partition.Value);
                var end = readCommitted ? log.StableOffset : log.End;
                var entry = log.Entries.FirstOrDefault(e => e.Offset >= a.Position && e.Offset < end && e.VisibleTo(readCommitted));
                if (entry is not null)
                {
                    _next = (_next + i + 1) % _assigned.Count;
                    a.Position = entry.Offset + 1;
                    return new ConsumeResult<byte[], byte[]>
                    {
                        TopicPartitionOffset = new TopicPartitionOffset(a.Partition, entry.Offset),
                        Message = entry.Message,
                    };
                }
                // Like librdkafka: the fetch position moves past markers and filtered records up to the end.
                if (a.Position < end) a.Position = end;
                if (a.Position >= end && a.EofAt != end)
                {
                    a.EofAt = end;
                    return new ConsumeResult<byte[], byte[]> { TopicPartitionOffset = new TopicPartitionOffset(a.Partition, end), IsPartitionEOF = true };
                }
            }
        }
        Thread.Sleep(TimeSpan.FromMilliseconds(Math.Min(2, timeout.TotalMilliseconds)));
        return null;
    }

    public void Dispose()
    {
    }
}
