using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EventStore.Providers.Kafka;

/// <summary>
/// An event store on a Kafka topic: one message per event keyed by stream name, a per-partition index for stream
/// reads and optimistic concurrency, and one writer per partition. See the README for the layout and guarantees.
/// </summary>
/// <remarks>
/// The class is split by concept: appends (<c>KafkaEventStore.Append.cs</c>), reads and <c>$all</c>
/// (<c>.Read.cs</c>), subscriptions (<c>.Subscribe.cs</c>), positions (<c>.Positions.cs</c>) and index snapshots
/// (<c>.IndexSnapshots.cs</c>). Reads never create a producer: an instance that only reads needs no WRITE
/// permission and no transaction coordinator, and never fences a writer.
/// </remarks>
public sealed partial class KafkaEventStore : IEventStore, IEventStoreInitializer, IAsyncDisposable
{
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _initGate = new(1, 1);
    private readonly IKafkaClientFactory _clients;
    private readonly Lazy<IProducer<byte[], byte[]>> _producer;
    private PartitionWriter[] _writers = [];
    private volatile bool _initialized;
    private EventStoreCapabilities _capabilities;
    private Task? _disposal;
    private int _producersCreated;

    /// <summary>Creates the store; call <see cref="InitializeAsync"/> (or let the first call do it).</summary>
    /// <exception cref="EventStoreConfigurationException">An option is invalid.</exception>
    public KafkaEventStore(KafkaEventStoreOptions options, ILogger<KafkaEventStore>? logger = null)
        : this(options, logger ?? (ILogger)NullLogger<KafkaEventStore>.Instance, null)
    {
    }

    /// <summary>The store over the given clients (tests pass fakes that behave like brokers the mock cannot imitate).</summary>
    internal KafkaEventStore(KafkaEventStoreOptions options, ILogger logger, IKafkaClientFactory? clients)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        _logger = logger;
        _clients = clients ?? new KafkaClientFactory(options, logger);
        InstanceId = options.InstanceId ?? Guid.NewGuid().ToString("N")[..12];
        // Created on the first write only: reads never initialise a producer.
        _producer = new Lazy<IProducer<byte[], byte[]>>(() => CreateProducer(ProducerConfig()));
        Consumers = new ConsumerPool(options, $"{options.Topic}-reader", _clients);
        _capabilities = CapabilitiesFor(options.Partitions, options.MaxMessageBytes);
        Snapshots = new KafkaSnapshotStore(this);
        Checkpoints = new KafkaCheckpointStore(this);
        SubscriptionGroups = new KafkaSubscriptionGroupCoordinatorFactory(this);
    }

    internal KafkaEventStoreOptions Options { get; }

    /// <summary>The idempotent (non-transactional) producer: appends without transactions, snapshots, checkpoints.</summary>
    internal IProducer<byte[], byte[]> Producer => _producer.Value;

    internal ConsumerPool Consumers { get; }

    internal ILogger Logger => _logger;

    /// <summary>This instance's part of its transactional ids (<see cref="KafkaEventStoreOptions.InstanceId"/> or random).</summary>
    internal string InstanceId { get; }

    /// <summary>How many producers this instance created (diagnostics: reads create none).</summary>
    internal int ProducersCreated => Volatile.Read(ref _producersCreated);

    /// <summary>The snapshot store on this store's snapshot topic.</summary>
    public KafkaSnapshotStore Snapshots { get; }

    /// <summary>The checkpoint store on this store's checkpoint topic.</summary>
    public KafkaCheckpointStore Checkpoints { get; }

    /// <summary>Subscription groups of this store's topic on Kafka consumer groups (one share per partition).</summary>
    public KafkaSubscriptionGroupCoordinatorFactory SubscriptionGroups { get; }

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
        SubscriptionGroups = true,
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

    internal IProducer<byte[], byte[]> CreateProducer(ProducerConfig config)
    {
        Interlocked.Increment(ref _producersCreated);
        return _clients.CreateProducer(config);
    }

    /// <summary>
    /// Verifies (and when asked creates) the topics, then builds each partition's index from the index topic and the
    /// events after it. Idempotent.
    /// </summary>
    /// <exception cref="EventStoreConfigurationException">The events topic could lose events, or a topic is missing.</exception>
    /// <exception cref="TransientEventStoreException">The brokers are unreachable.</exception>
    public async Task InitializeAsync(CancellationToken cancellationToken = default)
    {
        if (_initialized) return;
        await _initGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_initialized) return;
            // Metadata first: an unreachable broker fails here, fast and as such, not later as a topic problem.
            var partitions = PartitionCountOf(Options.Topic);
            if (Options.CreateTopics)
            {
                await TopicConfiguration.CreateAsync(_clients.Admin, Options, _logger, cancellationToken).ConfigureAwait(false);
                partitions = PartitionCountOf(Options.Topic);
            }
            if (partitions == 0) throw TopicMissing(Options.Topic, "Topic", "retention.ms=-1, cleanup.policy=delete");
            if (PartitionCountOf(Options.EffectiveSnapshotTopic) == 0) throw TopicMissing(Options.EffectiveSnapshotTopic, "SnapshotTopic", "cleanup.policy=compact");
            if (PartitionCountOf(Options.EffectiveCheckpointTopic) == 0) throw TopicMissing(Options.EffectiveCheckpointTopic, "CheckpointTopic", "cleanup.policy=compact");
            if (Options.VerifyTopicConfiguration) await TopicConfiguration.VerifyAsync(_clients.Admin, Options, cancellationToken).ConfigureAwait(false);
            else _logger.TopicCheckSkipped(Options.Topic);
            _capabilities = CapabilitiesFor(partitions, Options.MaxMessageBytes);
            var writers = new PartitionWriter[partitions];
            for (var p = 0; p < partitions; p++) writers[p] = new PartitionWriter(this, p, Consumers, _logger);
            await LoadIndexSnapshotsAsync(writers, cancellationToken).ConfigureAwait(false);
            foreach (var w in writers) await w.CatchUpCoreAsync(cancellationToken).ConfigureAwait(false);
            foreach (var w in writers) w.Start();
            _writers = writers;
            _initialized = true;
            _logger.StoreInitialized(Options.Topic, partitions, writers.Sum(w => w.Index.StreamCount));
        }
        finally
        {
            _initGate.Release();
        }
    }

    // Named by the switch that would create it (the start-up matrix, docs/startup.md), and by the key that names the topic.
    private static EventStoreConfigurationException TopicMissing(string topic, string key, string settings) =>
        new($"{KafkaEventStoreOptions.SectionName}:{nameof(KafkaEventStoreOptions.CreateTopics)}",
            $"is false and topic '{topic}' ({KafkaEventStoreOptions.SectionName}:{key}) does not exist; set {KafkaEventStoreOptions.SectionName}:{nameof(KafkaEventStoreOptions.CreateTopics)}=true to create it, or create it with {settings}.");

    internal int PartitionCountOf(string topic) => _clients.PartitionCount(topic, Options.RequestTimeout);

    private async ValueTask<PartitionWriter[]> WritersAsync(CancellationToken ct)
    {
        if (!_initialized) await InitializeAsync(ct).ConfigureAwait(false);
        return _writers;
    }

    private async ValueTask<PartitionWriter> WriterForAsync(StreamName stream, CancellationToken ct)
    {
        var writers = await WritersAsync(ct).ConfigureAwait(false);
        return writers[StreamPartitioner.PartitionOf(stream, writers.Length)];
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
        if (_producer.IsValueCreated)
        {
            _producer.Value.Flush(TimeSpan.FromSeconds(5));
            _producer.Value.Dispose();
        }
        Consumers.Dispose();
        _clients.Dispose();
    }
}

