using Confluent.Kafka;
using EventStore.Providers.Projections;

namespace EventStore.Providers.Kafka;

/// <summary>
/// Subscription groups on Kafka's own consumer groups: each instance is a member of the group
/// <c>{GroupIdPrefix}-{subscriptionId}</c> on the events topic, the shares are the topic's partitions, and the
/// group's committed offsets are the checkpoints (see the README).
/// </summary>
public sealed class KafkaSubscriptionGroupCoordinatorFactory : ISubscriptionGroupCoordinatorFactory
{
    private readonly KafkaEventStore _store;
    private readonly Func<ConsumerConfig, IRebalanceListener, IGroupConsumer>? _createConsumer;

    /// <summary>The factory of <paramref name="store"/>'s groups (tests pass fake group consumers).</summary>
    internal KafkaSubscriptionGroupCoordinatorFactory(KafkaEventStore store, Func<ConsumerConfig, IRebalanceListener, IGroupConsumer>? createConsumer = null)
    {
        _store = store;
        _createConsumer = createConsumer;
    }

    /// <inheritdoc />
    /// <remarks>
    /// <see cref="SubscriptionGroupOptions.Shares"/> is not used: with <see cref="SubscriptionGroupMode.Partitioned"/>
    /// the shares are the events topic's partitions; with <see cref="SubscriptionGroupMode.ActiveStandby"/> the group
    /// subscribes to the one-partition checkpoint topic instead, the holder of that partition is the active instance
    /// (it keeps it while others join), and the one share's checkpoint is every events partition's committed offset.
    /// <see cref="SubscriptionGroupOptions.LeaseTime"/> becomes the group's session timeout and poll deadline,
    /// <see cref="SubscriptionGroupOptions.RenewInterval"/> (at most a third of it) the heartbeat interval; the
    /// brokers keep that time, so <paramref name="timeProvider"/> does not drive it.
    /// </remarks>
    /// <exception cref="EventStoreConfigurationException">The events topic does not exist.</exception>
    /// <exception cref="TransientEventStoreException">The brokers are unreachable (the partition count is read when the store is not initialised yet).</exception>
    public ISubscriptionGroupCoordinator Create(string subscriptionId, string instanceId, SubscriptionGroupOptions options, TimeProvider timeProvider)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(subscriptionId);
        ArgumentException.ThrowIfNullOrWhiteSpace(instanceId);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        options.EnsureValid();
        var storeOptions = _store.Options;
        var topic = storeOptions.Topic;
        var partitions = _store.PartitionCount > 0 ? _store.PartitionCount : _store.PartitionCountOf(topic);
        if (partitions == 0)
            throw new EventStoreConfigurationException($"{KafkaEventStoreOptions.SectionName}:{nameof(KafkaEventStoreOptions.Topic)}",
                $"names '{topic}', which does not exist; a subscription group's shares are its partitions (initialise the store first, or create the topic).");
        var settings = GroupConsumerSettings.For(storeOptions, subscriptionId, options);
        var config = settings.ConsumerConfig(storeOptions, instanceId);
        var logger = _store.Logger;
        var create = _createConsumer ?? ((c, listener) => new ConfluentGroupConsumer(c, topic, listener, logger));
        return new KafkaSubscriptionGroupCoordinator(subscriptionId, instanceId, topic, partitions, options.Mode, storeOptions.EffectiveCheckpointTopic,
            settings, listener => create(config, listener), logger);
    }
}
