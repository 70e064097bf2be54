using Confluent.Kafka;
using EventStore.Providers.Projections;

namespace EventStore.Providers.Kafka;

/// <summary>
/// How a subscription group's options become a consumer group's settings: the group id, and the lease as the
/// session timeout (a member that stops heartbeating loses its partitions after it) and the poll deadline (a member
/// whose application stops refreshing leaves after it).
/// </summary>
internal sealed record GroupConsumerSettings(string GroupId, TimeSpan LeaseTime, string LeaseTimeKey, int SessionTimeoutMs, int HeartbeatIntervalMs, TimeSpan RequestTimeout)
{
    /// <summary>librdkafka's upper bound for <c>session.timeout.ms</c> and <c>heartbeat.interval.ms</c>.</summary>
    private const int MaxClientTimeoutMs = 3_600_000;

    public static GroupConsumerSettings For(KafkaEventStoreOptions options, string subscriptionId, SubscriptionGroupOptions group)
    {
        // librdkafka takes 1 ms to 1 h; brokers accept session timeouts between their group.min.session.timeout.ms
        // (default 6 s) and group.max.session.timeout.ms (default 30 min) and refuse the join otherwise, which the
        // coordinator reports naming LeaseTime. Heartbeats go at least three times per session, as Kafka advises.
        var session = (int)Math.Clamp(Math.Ceiling(group.LeaseTime.TotalMilliseconds), 1, MaxClientTimeoutMs);
        var heartbeat = (int)Math.Clamp(Math.Min(group.RenewInterval.TotalMilliseconds, session / 3.0), 1, session);
        return new(
            $"{options.EffectiveGroupIdPrefix}-{subscriptionId}",
            group.LeaseTime,
            $"EventStore:Subscriptions:{subscriptionId}:Group:{nameof(SubscriptionGroupOptions.LeaseTime)}",
            session,
            heartbeat,
            options.RequestTimeout);
    }

    /// <summary>The consumer's configuration: the user's client settings, then the group's own, which the coordinator's guarantees rest on.</summary>
    public ConsumerConfig ConsumerConfig(KafkaEventStoreOptions options, string instanceId)
    {
        var config = options.Apply(new ConsumerConfig());
        config.GroupId = GroupId;
        // Shown per member by the brokers' group tools: which instance holds which partition.
        config.ClientId ??= instanceId;
        config.EnableAutoCommit = false;
        config.EnableAutoOffsetStore = false;
        config.EnablePartitionEof = false;
        config.AllowAutoCreateTopics = false;
        config.AutoOffsetReset = AutoOffsetReset.Latest;
        config.IsolationLevel = options.UseTransactions ? IsolationLevel.ReadCommitted : IsolationLevel.ReadUncommitted;
        // Incremental rebalances: a partition that stays with its member is never revoked and re-read.
        config.PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky;
        config.SessionTimeoutMs = SessionTimeoutMs;
        config.HeartbeatIntervalMs = HeartbeatIntervalMs;
        // librdkafka requires it to be at least the session timeout; a stalled application then loses its partitions
        // within the same lease time as a dead process.
        config.MaxPollIntervalMs = SessionTimeoutMs;
        return config;
    }
}
