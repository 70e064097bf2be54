using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Microsoft.Extensions.Logging;

namespace EventStore.Providers.Kafka;

/// <summary>Checks and creates the provider's topics.</summary>
internal static class TopicConfiguration
{
    /// <summary>What the events topic must have so no event is ever lost to retention or compaction.</summary>
    public static IReadOnlyDictionary<string, string> EventsTopicConfig { get; } = new Dictionary<string, string>
    {
        ["retention.ms"] = "-1",
        ["retention.bytes"] = "-1",
        ["cleanup.policy"] = "delete",
    };

    private static readonly Dictionary<string, string> CompactedConfig = new() { ["cleanup.policy"] = "compact" };

    /// <summary>The reasons an events topic with these settings could lose events; empty when it is safe.</summary>
    public static List<string> UnsafeSettings(IReadOnlyDictionary<string, string?> config)
    {
        var problems = new List<string>();
        var retentionMs = config.GetValueOrDefault("retention.ms");
        if (retentionMs != "-1")
            problems.Add($"retention.ms is {retentionMs ?? "unset (broker default)"}; it must be -1 (keep forever)");
        var retentionBytes = config.GetValueOrDefault("retention.bytes");
        if (retentionBytes is not null && retentionBytes != "-1")
            problems.Add($"retention.bytes is {retentionBytes}; it must be -1");
        var policy = config.GetValueOrDefault("cleanup.policy") ?? "";
        var policies = policy.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (policies.Contains("compact", StringComparer.OrdinalIgnoreCase))
            problems.Add($"cleanup.policy is '{policy}'; compaction would delete events, it must be 'delete' (with infinite retention)");
        return problems;
    }

    /// <summary>Creates the provider's topics (an existing one is left as it is).</summary>
    public static async Task CreateAsync(IAdminClient admin, KafkaEventStoreOptions options, ILogger logger, CancellationToken ct)
    {
        var specs = new List<TopicSpecification>
        {
            new() { Name = options.Topic, NumPartitions = options.Partitions, ReplicationFactor = options.ReplicationFactor, Configs = EventsTopicConfig.ToDictionary() },
            new() { Name = options.EffectiveIndexTopic, NumPartitions = 1, ReplicationFactor = options.ReplicationFactor, Configs = CompactedConfig },
            new() { Name = options.EffectiveSnapshotTopic, NumPartitions = 1, ReplicationFactor = options.ReplicationFactor, Configs = CompactedConfig },
            new() { Name = options.EffectiveCheckpointTopic, NumPartitions = 1, ReplicationFactor = options.ReplicationFactor, Configs = CompactedConfig },
        };
        try
        {
            await admin.CreateTopicsAsync(specs, new CreateTopicsOptions { RequestTimeout = options.RequestTimeout }).WaitAsync(ct).ConfigureAwait(false);
            logger.TopicsCreated(string.Join(", ", specs.Select(s => s.Name)));
        }
        catch (CreateTopicsException e) when (e.Results.All(r => r.Error.Code is ErrorCode.NoError or ErrorCode.TopicAlreadyExists))
        {
            logger.TopicsExisted();
        }
    }

    /// <summary>Refuses an events topic whose retention or cleanup policy could delete events.</summary>
    public static async Task VerifyAsync(IAdminClient admin, KafkaEventStoreOptions options, CancellationToken ct)
    {
        var resource = new ConfigResource { Type = ResourceType.Topic, Name = options.Topic };
        List<DescribeConfigsResult> described;
        try
        {
            described = await admin.DescribeConfigsAsync([resource], new DescribeConfigsOptions { RequestTimeout = options.RequestTimeout }).WaitAsync(ct).ConfigureAwait(false);
        }
        catch (KafkaException e)
        {
            throw new EventStoreConfigurationException($"{KafkaEventStoreOptions.SectionName}:VerifyTopicConfiguration",
                $"is on, but the broker did not describe topic '{options.Topic}' ({e.Error.Reason}). Fix access to DescribeConfigs, or turn the check off only for brokers without it.", e);
        }
        var entries = described[0].Entries.ToDictionary(kv => kv.Key, kv => (string?)kv.Value.Value, StringComparer.Ordinal);
        var problems = UnsafeSettings(entries);
        if (problems.Count > 0)
            throw new EventStoreConfigurationException($"{KafkaEventStoreOptions.SectionName}:Topic",
                $"names topic '{options.Topic}', which could lose events: {string.Join("; ", problems)}. Refusing to run.");
    }
}
