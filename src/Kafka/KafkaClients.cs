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
internal sealed class KafkaClientFactory(KafkaEventStoreOptions options, ILogger logger) : IKafkaClientFactory
{
    private readonly Lazy<IAdminClient> _admin = new(() =>
        new AdminClientBuilder(options.Apply(new AdminClientConfig { SocketTimeoutMs = (int)Math.Min(options.RequestTimeout.TotalMilliseconds, 60_000) }))
            .SetLogHandler((_, m) => ClientLog(logger, "admin", m)).Build());

    public IAdminClient Admin => _admin.Value;

    public IProducer<byte[], byte[]> CreateProducer(ProducerConfig config) =>
        new ProducerBuilder<byte[], byte[]>(config).SetLogHandler((_, m) => ClientLog(logger, config.TransactionalId ?? "producer", m)).Build();

    public IPartitionConsumer CreateConsumer(ConsumerConfig config) =>
        new ConfluentPartitionConsumer(new ConsumerBuilder<byte[], byte[]>(config).SetLogHandler((_, m) => ClientLog(logger, "consumer", m)).Build());

    public int PartitionCount(string topic, TimeSpan timeout)
    {
        var metadata = Admin.GetMetadata(topic, timeout);
        var t = metadata.Topics.FirstOrDefault(x => x.Topic == topic);
        return t is null || t.Error.IsError ? 0 : t.Partitions.Count;
    }

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
