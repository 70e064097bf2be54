using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace EventStore.Providers.Kafka;

/// <summary>
/// The narrow part of a librdkafka consumer the store uses: assign, consume, watermarks. A seam so the catch-up and
/// confirmation logic is tested over logs a mock cluster cannot produce (control markers, offset gaps, a last stable
/// offset behind the high watermark).
/// </summary>
internal interface IPartitionConsumer : IDisposable
{
    /// <summary>Low and high watermark as the broker reports them (ListOffsets).</summary>
    WatermarkOffsets QueryWatermarkOffsets(TopicPartition partition, TimeSpan timeout);

    void Assign(IEnumerable<TopicPartitionOffset> partitions);

    void Unassign();

    /// <summary>
    /// The next record, or an end-of-partition event whose offset is the end the consumer can read to (the last stable
    /// offset with read_committed), or null when nothing arrived within <paramref name="timeout"/>.
    /// </summary>
    ConsumeResult<byte[], byte[]>? Consume(TimeSpan timeout);
}

/// <summary>Creates the Kafka clients of a store; the real one talks to brokers, tests pass fakes.</summary>
internal interface IKafkaClientFactory : IDisposable
{
    IProducer<byte[], byte[]> CreateProducer(ProducerConfig config);

    IPartitionConsumer CreateConsumer(ConsumerConfig config);

    /// <summary>The partition count of <paramref name="topic"/>, 0 when it does not exist.</summary>
    int PartitionCount(string topic, TimeSpan timeout);

    /// <summary>The admin client for topic creation and the retention check (created on first use).</summary>
    IAdminClient Admin { get; }
}

/// <summary>The real clients: librdkafka producers and consumers whose log lines go to the store's logger.</summary>
internal sealed class KafkaClientFactory : IKafkaClientFactory
{
    private readonly KafkaEventStoreOptions _options;
    private readonly ILogger _logger;
    private readonly Lazy<IAdminClient> _admin;
    private volatile string? _allBrokersDown;
    private volatile string? _lastConnectionError;

    public KafkaClientFactory(KafkaEventStoreOptions options, ILogger logger)
    {
        _options = options;
        _logger = logger;
        _admin = new(() => new AdminClientBuilder(options.Apply(new AdminClientConfig
        {
            SocketTimeoutMs = (int)Math.Min(options.RequestTimeout.TotalMilliseconds, 60_000),
            // Asking for a missing topic must not create it with the broker's defaults (finite retention).
            AllowAutoCreateTopics = false,
        }))
            .SetLogHandler((_, m) => ClientLog(logger, "admin", m))
            .SetErrorHandler((_, e) =>
            {
                // librdkafka reports each failed connection, then "all brokers down": the broker is unreachable.
                if (e.Code == ErrorCode.Local_AllBrokersDown) _allBrokersDown = e.Reason;
                else if (e.Code is ErrorCode.Local_Transport or ErrorCode.Local_Resolve or ErrorCode.Local_Authentication) _lastConnectionError = e.Reason;
            }).Build());
    }

    public IAdminClient Admin => _admin.Value;

    public IProducer<byte[], byte[]> CreateProducer(ProducerConfig config) =>
        new ProducerBuilder<byte[], byte[]>(config).SetLogHandler((_, m) => ClientLog(_logger, config.TransactionalId ?? "producer", m)).Build();

    public IPartitionConsumer CreateConsumer(ConsumerConfig config) =>
        new ConfluentPartitionConsumer(new ConsumerBuilder<byte[], byte[]>(config).SetLogHandler((_, m) => ClientLog(_logger, "consumer", m)).Build());

    /// <exception cref="TransientEventStoreException">No broker answered: unreachable (connection refused, unknown host) or timed out.</exception>
    public int PartitionCount(string topic, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var slice = TimeSpan.FromTicks(Math.Clamp((deadline - DateTime.UtcNow).Ticks, TimeSpan.FromMilliseconds(10).Ticks, TimeSpan.FromMilliseconds(500).Ticks));
            try
            {
                var metadata = Admin.GetMetadata(topic, slice);
                _allBrokersDown = null;
                var t = metadata.Topics.FirstOrDefault(x => x.Topic == topic);
                return t is null || t.Error.IsError ? 0 : t.Partitions.Count;
            }
            catch (KafkaException e) when (e.Error.IsLocalError)
            {
                // Fail as soon as librdkafka has found every broker down, instead of waiting out the request timeout.
                if (_allBrokersDown is not null || DateTime.UtcNow >= deadline) throw Unreachable(e);
            }
        }
    }

    private TransientEventStoreException Unreachable(KafkaException e) => new(
        $"The Kafka broker(s) {_options.BootstrapServers} are unreachable ({_lastConnectionError ?? _allBrokersDown ?? e.Error.Reason}). Check EventStore:Kafka:BootstrapServers, the network and the brokers.", e);

    /// <summary>librdkafka's own lines (they name brokers and settings, never secret values) at their syslog level.</summary>
    internal static void ClientLog(ILogger logger, string client, LogMessage m)
    {
        var level = m.Level switch
        {
            <= SyslogLevel.Error => LogLevel.Error,
            SyslogLevel.Warning => LogLevel.Warning,
            SyslogLevel.Notice or SyslogLevel.Info => LogLevel.Information,
            _ => LogLevel.Debug,
        };
        logger.LibrdkafkaLine(level, client, m.Facility, m.Message);
    }

    public void Dispose()
    {
        if (_admin.IsValueCreated) _admin.Value.Dispose();
    }
}

/// <summary>A Confluent.Kafka consumer behind <see cref="IPartitionConsumer"/>.</summary>
internal sealed class ConfluentPartitionConsumer(IConsumer<byte[], byte[]> consumer) : IPartitionConsumer
{
    public WatermarkOffsets QueryWatermarkOffsets(TopicPartition partition, TimeSpan timeout) => consumer.QueryWatermarkOffsets(partition, timeout);
    public void Assign(IEnumerable<TopicPartitionOffset> partitions) => consumer.Assign(partitions);
    public void Unassign() => consumer.Unassign();
    public ConsumeResult<byte[], byte[]>? Consume(TimeSpan timeout) => consumer.Consume(timeout);
    public void Dispose() => consumer.Dispose();
}
