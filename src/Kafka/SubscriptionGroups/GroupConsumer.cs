using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace EventStore.Providers.Kafka;

/// <summary>
/// What a group consumer reports while it is polled: partitions the group gave to this member, and partitions taken
/// back (revoked in a rebalance, or lost when the member fell out of the group). Called on the polling thread, from
/// inside <see cref="IGroupConsumer.Poll"/> or <see cref="IGroupConsumer.Close"/>.
/// </summary>
internal interface IRebalanceListener
{
    void Assigned(IReadOnlyList<int> partitions);

    void Revoked(IReadOnlyList<int> partitions, bool lost);
}

/// <summary>
/// The narrow part of a librdkafka consumer in a consumer group that a subscription group coordinator uses: join,
/// serve rebalances, read and commit the group's offsets, leave. A seam so the coordinator's fencing and error
/// mapping are tested over refusals a mock cluster does not produce on demand.
/// </summary>
internal interface IGroupConsumer : IDisposable
{
    /// <summary>The member id the group coordinator gave this consumer ("" while it is not a member).</summary>
    string MemberId { get; }

    /// <summary>The partitions of the subscribed topic assigned to this member now.</summary>
    IReadOnlyList<int> Assignment { get; }

    /// <summary>Joins the group on <paramref name="topic"/>, whose partitions the group assigns.</summary>
    void Subscribe(string topic);

    /// <summary>
    /// Serves pending rebalances and errors without waiting. Returns the number of records it was handed (0 while
    /// every assigned partition is paused: the coordinator never reads events).
    /// </summary>
    /// <exception cref="KafkaException">The consumer reported an error (a refused join, a missed poll deadline, ...).</exception>
    int Poll();

    /// <summary>Stops fetching from the subscribed topic's partitions.</summary>
    void Pause(IEnumerable<int> partitions);

    /// <summary>The group's committed next offsets of the events topic's partitions (<see cref="Offset.Unset"/> where none).</summary>
    IReadOnlyList<TopicPartitionOffset> Committed(IEnumerable<int> partitions, TimeSpan timeout);

    /// <summary>The events topic partition's end offset (high watermark) as the broker reports it.</summary>
    long EndOffset(int partition, TimeSpan timeout);

    /// <summary>Commits next offsets through the group: the broker refuses a commit of a member or generation that is no longer current.</summary>
    void Commit(IEnumerable<TopicPartitionOffset> offsets);

    /// <summary>Leaves the group (revoking the assignment through the listener).</summary>
    void Close();
}

/// <summary>A Confluent.Kafka consumer in a group, behind <see cref="IGroupConsumer"/>.</summary>
internal sealed class ConfluentGroupConsumer : IGroupConsumer
{
    private readonly IConsumer<byte[], byte[]> _consumer;
    private readonly string _eventsTopic;
    private string? _subscribed;

    public ConfluentGroupConsumer(ConsumerConfig config, string eventsTopic, IRebalanceListener listener, ILogger logger)
    {
        _eventsTopic = eventsTopic;
        _consumer = new ConsumerBuilder<byte[], byte[]>(config)
            .SetLogHandler((_, m) => KafkaClientFactory.ClientLog(logger, config.GroupId ?? "group", m))
            .SetPartitionsAssignedHandler((_, partitions) =>
            {
                listener.Assigned(partitions.Select(p => p.Partition.Value).ToList());
                // Fetching starts at the end of the log: should a fetch slip in before the coordinator pauses the
                // partition, it carries no old events (and a paused partition's fetched records are dropped).
                return partitions.Select(p => new TopicPartitionOffset(p, Offset.End));
            })
            .SetPartitionsRevokedHandler((_, partitions) => listener.Revoked(partitions.Select(p => p.Partition.Value).ToList(), lost: false))
            .SetPartitionsLostHandler((_, partitions) => listener.Revoked(partitions.Select(p => p.Partition.Value).ToList(), lost: true))
            .Build();
    }

    public string MemberId => _consumer.MemberId ?? "";

    public IReadOnlyList<int> Assignment => _consumer.Assignment.Where(p => p.Topic == _subscribed).Select(p => p.Partition.Value).ToList();

    public void Subscribe(string topic)
    {
        _subscribed = topic;
        _consumer.Subscribe(topic);
    }

    public int Poll()
    {
        // Each call serves what is queued (rebalance callbacks, errors) and returns at once; a record would only come
        // from a partition not yet paused, and is dropped.
        var records = 0;
        while (records < 1000 && _consumer.Consume(TimeSpan.Zero) is not null) records++;
        return records;
    }

    public void Pause(IEnumerable<int> partitions) => _consumer.Pause(partitions.Select(p => new TopicPartition(_subscribed, p)));

    public IReadOnlyList<TopicPartitionOffset> Committed(IEnumerable<int> partitions, TimeSpan timeout) =>
        _consumer.Committed(partitions.Select(p => new TopicPartition(_eventsTopic, p)), timeout);

    public long EndOffset(int partition, TimeSpan timeout) => _consumer.QueryWatermarkOffsets(new TopicPartition(_eventsTopic, partition), timeout).High.Value;

    public void Commit(IEnumerable<TopicPartitionOffset> offsets) => _consumer.Commit(offsets);

    public void Close()
    {
        // librdkafka can hang for good when a rebalance callback that close() itself triggers asks for the rebalance
        // protocol, which Confluent.Kafka's callback does (librdkafka issue 4041; seen here as a CI run stuck in
        // Close). So the assignment is given up first, through an unsubscribe whose revocation is served by Consume on
        // this thread, as every other callback is; close() then has nothing left to revoke and only leaves.
        // An error the consumer reports meanwhile (a coordinator gone, say) must not skip the close: a consumer
        // destroyed without one closes inside rd_kafka_destroy, where nothing serves its callbacks.
        try
        {
            _consumer.Unsubscribe();
            var deadline = Environment.TickCount64 + (long)CloseRevokeTimeout.TotalMilliseconds;
            while (_consumer.Assignment.Count > 0 && Environment.TickCount64 < deadline)
            {
                try
                {
                    _consumer.Consume(TimeSpan.FromMilliseconds(10));
                }
                catch (ConsumeException)
                {
                    // The group's error (a coordinator gone, a member expired): leaving goes on, and the close below
                    // reports what still fails.
                }
            }
        }
        finally
        {
            _consumer.Close();
        }
    }

    /// <summary>How long <see cref="Close"/> serves the revocation of an unsubscribe before it closes anyway.</summary>
    private static readonly TimeSpan CloseRevokeTimeout = TimeSpan.FromSeconds(10);

    public void Dispose() => _consumer.Dispose();
}
