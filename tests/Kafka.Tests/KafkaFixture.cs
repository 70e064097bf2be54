using EventStore.Providers.Conformance;
using Microsoft.Extensions.Logging.Abstractions;

namespace EventStore.Providers.Kafka.Tests;

/// <summary>
/// One mock cluster (3 brokers) for the whole test assembly; every store gets its own topics. The mock cluster
/// has neither DescribeConfigs nor transactions that fence, so stores here turn both off (see BACKENDS.md).
/// </summary>
public abstract class KafkaFixture : IEventStoreFixture, IAsyncDisposable
{
    private static readonly Lazy<MockCluster> Cluster = new(() => new MockCluster(3));
    private static int _counter;

    /// <summary>Partitions of each events topic this fixture creates.</summary>
    protected abstract int Partitions { get; }

    internal static MockCluster Mock => Cluster.Value;

    /// <inheritdoc />
    public int LargeReadEventCount => 100_000;

    internal KafkaEventStoreOptions NewTopics(int? partitions = null)
    {
        var topic = $"events-{Interlocked.Increment(ref _counter)}-{Guid.NewGuid():N}"[..40];
        var options = OptionsFor(topic);
        Mock.CreateTopic(options.Topic, partitions ?? Partitions);
        Mock.CreateTopic(options.EffectiveIndexTopic, 1);
        Mock.CreateTopic(options.EffectiveSnapshotTopic, 1);
        Mock.CreateTopic(options.EffectiveCheckpointTopic, 1);
        return options;
    }

    internal static KafkaEventStoreOptions OptionsFor(string topic) => new()
    {
        BootstrapServers = Mock.BootstrapServers,
        Topic = topic,
        UseTransactions = false,
        VerifyTopicConfiguration = false,
    };

    internal static async Task<KafkaEventStore> OpenAsync(KafkaEventStoreOptions options, CancellationToken ct = default)
    {
        var store = new KafkaEventStore(options, NullLogger<KafkaEventStore>.Instance);
        await store.InitializeAsync(ct);
        return store;
    }

    /// <inheritdoc />
    public async Task<StoreUnderTest> CreateStoreAsync(CancellationToken cancellationToken = default)
    {
        var options = NewTopics();
        var opened = new List<KafkaEventStore>();
        var store = await OpenAsync(options, cancellationToken);
        opened.Add(store);
        return new StoreUnderTest(store, store.Snapshots, store.Checkpoints,
            async ct =>
            {
                var other = await OpenAsync(options, ct);
                lock (opened) opened.Add(other);
                return other;
            },
            async () =>
            {
                foreach (var s in opened) await s.DisposeAsync();
            });
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>Events topic with one partition: a total order over $all.</summary>
public sealed class SinglePartitionKafkaFixture : KafkaFixture
{
    /// <inheritdoc />
    protected override int Partitions => 1;
}

/// <summary>Events topic with three partitions: per-partition order and vector positions.</summary>
public sealed class ThreePartitionKafkaFixture : KafkaFixture
{
    /// <inheritdoc />
    protected override int Partitions => 3;
}
