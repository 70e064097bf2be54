using System.Globalization;
using EventStore.Providers.TestServers;

namespace EventStore.Providers.Reliability.Tests.Targets;

/// <summary>
/// Kafka: one set of topics per store. On librdkafka's mock cluster the topics are created natively and the store runs
/// without transactions and without the topic check (the mock has neither); on a real broker the store creates its
/// topics and runs with both on.
/// </summary>
public sealed class KafkaTarget(TestServer server, short replicationFactor, int partitions) : ConfiguredStoreTarget
{
    /// <inheritdoc />
    public override string Name => partitions == 1 ? "Kafka" : $"Kafka({partitions} partitions)";

    /// <summary>
    /// librdkafka's mock cluster keeps at most 5 MiB (or 100,000 produce requests) per partition and drops the oldest
    /// part of the log beyond that (<c>rdkafka_mock.c</c>, not configurable); a real topic with <c>retention.ms=-1</c>
    /// keeps everything.
    /// </summary>
    public override long? LogBytesLimit => server.KafkaMock is null ? null : 5L * 1024 * 1024;

    /// <inheritdoc />
    protected override Task<Dictionary<string, string?>> ConfigurationForAsync(string isolationId, CancellationToken cancellationToken)
    {
        var mock = server.KafkaMock;
        if (mock is not null)
        {
            mock.CreateTopic(isolationId, partitions);
            foreach (var suffix in new[] { "-index", "-snapshots", "-checkpoints" }) mock.CreateTopic(isolationId + suffix, 1);
        }
        var real = (mock is null).ToString(CultureInfo.InvariantCulture);
        return Task.FromResult(new Dictionary<string, string?>
        {
            ["EventStore:Provider"] = "Kafka",
            ["EventStore:Kafka:BootstrapServers"] = server.Address,
            ["EventStore:Kafka:Topic"] = isolationId,
            ["EventStore:Kafka:Partitions"] = partitions.ToString(CultureInfo.InvariantCulture),
            ["EventStore:Kafka:CreateTopics"] = real,
            ["EventStore:Kafka:ReplicationFactor"] = replicationFactor.ToString(CultureInfo.InvariantCulture),
            // The mock cluster has neither DescribeConfigs nor fencing transactions (BACKENDS.md).
            ["EventStore:Kafka:UseTransactions"] = real,
            ["EventStore:Kafka:VerifyTopicConfiguration"] = real,
        });
    }
}

/// <summary>
/// The Kafka every Kafka test of this run shares, from tests/TestServers: <c>EVENTSTORE_KAFKA_BOOTSTRAP</c>, else a
/// container where Docker is reachable, else librdkafka's mock cluster held by this process.
/// </summary>
public sealed class KafkaFixture : IAsyncLifetime
{
    private TestServer? _server;
    private short _replicationFactor = 3;

    private TestServer Server => _server ?? throw new InvalidOperationException("The Kafka fixture has not started.");

    /// <summary>A target with one partition (a total order over $all).</summary>
    public KafkaTarget Target => new(Server, _replicationFactor, 1);

    /// <summary>A target with three partitions (per-partition order).</summary>
    public KafkaTarget PartitionedTarget => new(Server, _replicationFactor, 3);

    /// <inheritdoc />
    public async ValueTask InitializeAsync()
    {
        _server = await Servers.AcquireAsync(Backend.Kafka);
        if (_server.IsRealKafkaBroker) _replicationFactor = Servers.KafkaReplicationFactor(_server.Address);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }
}
