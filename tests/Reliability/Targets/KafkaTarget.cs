using EventStore.Providers.Reliability.Tests.Servers;

namespace EventStore.Providers.Reliability.Tests.Targets;

/// <summary>Kafka on librdkafka's mock cluster: one set of topics per store.</summary>
public sealed class KafkaTarget(KafkaMockCluster cluster, int partitions) : ConfiguredStoreTarget
{
    /// <inheritdoc />
    public override string Name => partitions == 1 ? "Kafka" : $"Kafka({partitions} partitions)";

    /// <inheritdoc />
    protected override Task<Dictionary<string, string?>> ConfigurationForAsync(string isolationId, CancellationToken cancellationToken)
    {
        cluster.CreateTopic(isolationId, partitions);
        foreach (var suffix in new[] { "-index", "-snapshots", "-checkpoints" }) cluster.CreateTopic(isolationId + suffix, 1);
        return Task.FromResult(new Dictionary<string, string?>
        {
            ["EventStore:Provider"] = "Kafka",
            ["EventStore:Kafka:BootstrapServers"] = cluster.BootstrapServers,
            ["EventStore:Kafka:Topic"] = isolationId,
            ["EventStore:Kafka:Partitions"] = partitions.ToString(System.Globalization.CultureInfo.InvariantCulture),
            // The mock cluster has neither DescribeConfigs nor fencing transactions (BACKENDS.md).
            ["EventStore:Kafka:UseTransactions"] = "false",
            ["EventStore:Kafka:VerifyTopicConfiguration"] = "false",
        });
    }
}

/// <summary>The mock cluster every Kafka test of this run shares, held by this process.</summary>
public sealed class KafkaFixture : IDisposable
{
    private readonly KafkaMockCluster _cluster = new(3);

    /// <summary>A target with one partition (a total order over $all).</summary>
    public KafkaTarget Target => new(_cluster, 1);

    /// <summary>A target with three partitions (per-partition order).</summary>
    public KafkaTarget PartitionedTarget => new(_cluster, 3);

    /// <inheritdoc />
    public void Dispose() => _cluster.Dispose();
}
