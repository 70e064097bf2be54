using EventStore.Providers.Conformance;
using EventStore.Providers.TestServers;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

[assembly: AssemblyFixture(typeof(EventStore.Providers.Kafka.Tests.KafkaServer))]

namespace EventStore.Providers.Kafka.Tests;

/// <summary>
/// The Kafka of this test run from tests/TestServers: the broker <c>EVENTSTORE_KAFKA_BOOTSTRAP</c> names, else a
/// Testcontainers broker where Docker is reachable, else librdkafka's mock cluster (3 brokers) in process.
/// </summary>
public sealed class KafkaServer : IAsyncLifetime
{
    private static TestServer? _current;

    /// <summary>The server; set before any test runs.</summary>
    internal static TestServer Current => _current ?? throw new InvalidOperationException("The Kafka server assembly fixture has not started.");

    /// <summary>Replication factor of topics created on a real broker (its broker count, at most 3).</summary>
    internal static short ReplicationFactor { get; private set; } = 3;

    public async ValueTask InitializeAsync()
    {
        var server = await Servers.AcquireAsync(Backend.Kafka);
        if (server.IsRealKafkaBroker) ReplicationFactor = Servers.KafkaReplicationFactor(server.Address);
        _current = server;
    }

    public async ValueTask DisposeAsync()
    {
        if (_current is not null) await _current.DisposeAsync();
        _current = null;
    }
}

/// <summary>
/// Every store gets its own topics. On a real broker the store creates them (with the settings it requires) and runs
/// as in production: transactions and the topic-configuration check on. The mock cluster has neither DescribeConfigs
/// nor transactions that fence, so there topics are created natively and stores turn both off (see BACKENDS.md).
/// </summary>
public abstract class KafkaFixture : IEventStoreFixture, IAsyncDisposable
{
    private static int _counter;

    /// <summary>Partitions of each events topic this fixture creates.</summary>
    protected abstract int Partitions { get; }

    /// <summary>True on librdkafka's mock cluster, false on a real broker.</summary>
    internal static bool IsMock => KafkaServer.Current.KafkaMock is not null;

    /// <inheritdoc />
    public int LargeReadEventCount => 100_000;

    internal KafkaEventStoreOptions NewTopics(int? partitions = null)
    {
        var topic = $"events-{Interlocked.Increment(ref _counter)}-{Guid.NewGuid():N}"[..40];
        var options = OptionsFor(topic);
        if (KafkaServer.Current.KafkaMock is { } mock)
        {
            mock.CreateTopic(options.Topic, partitions ?? Partitions);
            mock.CreateTopic(options.EffectiveIndexTopic, 1);
            mock.CreateTopic(options.EffectiveSnapshotTopic, 1);
            mock.CreateTopic(options.EffectiveCheckpointTopic, 1);
        }
        else
        {
            options.CreateTopics = true;
            options.Partitions = partitions ?? Partitions;
            options.ReplicationFactor = KafkaServer.ReplicationFactor;
        }
        return options;
    }

    internal static KafkaEventStoreOptions OptionsFor(string topic) => new()
    {
        BootstrapServers = KafkaServer.Current.Address,
        Topic = topic,
        UseTransactions = !IsMock,
        VerifyTopicConfiguration = !IsMock,
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
            })
        {
            // Kafka coordinates groups natively: consumer groups over the events topic's partitions.
            GroupCoordinators = store.SubscriptionGroups,
        };
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
