using Confluent.Kafka;
using Microsoft.Extensions.Options;

namespace EventStore.Providers.Kafka;

/// <summary>Options of the Kafka provider, bound from <c>EventStore:Kafka</c>.</summary>
public sealed class KafkaEventStoreOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string SectionName = "EventStore:Kafka";

    /// <summary>Comma-separated <c>host:port</c> list of brokers. Required.</summary>
    public string BootstrapServers { get; set; } = "";

    /// <summary>The events topic (the log). Default <c>eventstore-events</c>.</summary>
    public string Topic { get; set; } = "eventstore-events";

    /// <summary>
    /// Partitions of the events topic when the provider creates it. One partition gives a total order over
    /// <c>$all</c>; several give per-partition order and vector positions (see the README).
    /// </summary>
    public int Partitions { get; set; } = 1;

    /// <summary>Replication factor used when the provider creates topics. Default 3.</summary>
    public short ReplicationFactor { get; set; } = 3;

    /// <summary>The compacted topic holding index snapshots. Default <c>{Topic}-index</c>.</summary>
    public string? IndexTopic { get; set; }

    /// <summary>The compacted topic of the snapshot store. Default <c>{Topic}-snapshots</c>.</summary>
    public string? SnapshotTopic { get; set; }

    /// <summary>The compacted topic of the checkpoint store. Default <c>{Topic}-checkpoints</c>.</summary>
    public string? CheckpointTopic { get; set; }

    /// <summary>Create the topics at initialisation when they are missing (needs the Admin API). Default false.</summary>
    public bool CreateTopics { get; set; }

    /// <summary>
    /// Refuse to start unless the events topic keeps events forever (<c>retention.ms=-1</c>,
    /// <c>retention.bytes=-1</c>, <c>cleanup.policy=delete</c>). Default true. Turn off only against brokers
    /// without DescribeConfigs (the librdkafka mock cluster); a warning is logged.
    /// </summary>
    public bool VerifyTopicConfiguration { get; set; } = true;

    /// <summary>
    /// Fence writers of other processes with one transactional producer per partition
    /// (<c>transactional.id = {TransactionalIdPrefix}-{partition}</c>). Default true: on for real Kafka. Turn it off
    /// where the broker lacks transactions (the mock cluster); cross-process safety is then best-effort (README).
    /// </summary>
    public bool UseTransactions { get; set; } = true;

    /// <summary>
    /// Before each group of appends, read the partition up to its end so other processes' writes are in the index
    /// before expected versions are checked. Default false. Correctness does not depend on it: a refusal
    /// (wrong expected version) is only ever decided after reading the partition to its end, and a delivered append
    /// that another process's write preceded is re-decided against the log. Turning it on costs one broker round trip
    /// per group of appends and makes dead batches (an <c>Any</c> append racing another instance's write to the same
    /// stream) rarer.
    /// </summary>
    public bool CatchUpBeforeAppend { get; set; }

    /// <summary>Prefix of the transactional ids. Default <c>{Topic}-writer</c>.</summary>
    public string? TransactionalIdPrefix { get; set; }

    /// <summary>
    /// Prefix of the consumer groups of subscription groups: the group of subscription <c>{id}</c> is
    /// <c>{GroupIdPrefix}-{id}</c>. Default <c>{Topic}-group</c>.
    /// </summary>
    public string? GroupIdPrefix { get; set; }

    /// <summary>
    /// This process's part of its transactional ids: <c>{TransactionalIdPrefix}-{InstanceId}-{partition}</c>. Default
    /// null: a random id per store instance, so two instances (two processes of one app) never fence each other; a
    /// crashed writer's open transaction then holds back <c>read_committed</c> readers of its partition until the
    /// broker's transaction timeout (librdkafka default 60 s) aborts it. Set a value that is stable per process and
    /// unique among the running ones (a pod or host name) to have a restarted process fence its previous incarnation
    /// at once. Two running instances sharing a value fence each other on every append.
    /// </summary>
    public string? InstanceId { get; set; }

    /// <summary>
    /// How long a live subscription waits in the consumer for new records before checking again (other processes'
    /// appends; this instance's own appends wake its subscriptions at once). Default 500 ms.
    /// </summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// The broker's <c>message.max.bytes</c> (or the topic's <c>max.message.bytes</c>): events whose data, metadata
    /// and headers would exceed it are refused before anything is produced. Default 1,000,000.
    /// </summary>
    public int MaxMessageBytes { get; set; } = 1_000_000;

    /// <summary>Write an index snapshot to the index topic after this many events of a partition. Default 10,000.</summary>
    public int IndexSnapshotInterval { get; set; } = 10_000;

    /// <summary>How long a single broker request may take before the call fails as transient. Default 30 s.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Extra librdkafka settings for every client, e.g. <c>security.protocol</c>, <c>sasl.mechanism</c>,
    /// <c>sasl.username</c>, <c>sasl.password</c>, <c>ssl.ca.location</c>. Values are never logged.
    /// </summary>
    public IDictionary<string, string> ClientConfig { get; set; } = new Dictionary<string, string>(StringComparer.Ordinal);

    internal string EffectiveIndexTopic => IndexTopic ?? Topic + "-index";
    internal string EffectiveSnapshotTopic => SnapshotTopic ?? Topic + "-snapshots";
    internal string EffectiveCheckpointTopic => CheckpointTopic ?? Topic + "-checkpoints";
    internal string EffectiveTransactionalIdPrefix => TransactionalIdPrefix ?? Topic + "-writer";
    internal string EffectiveGroupIdPrefix => GroupIdPrefix ?? Topic + "-group";

    /// <summary>Throws <see cref="EventStoreConfigurationException"/> naming the first bad key.</summary>
    public void Validate(string sectionPath = SectionName) => new KafkaEventStoreOptionsValidator(sectionPath).ThrowIfInvalid(this);

    /// <summary>Settings the provider fixes because its guarantees rest on them.</summary>
    internal static readonly HashSet<string> ReservedClientKeys = new(StringComparer.Ordinal)
    {
        "bootstrap.servers", "enable.idempotence", "acks", "request.required.acks", "transactional.id",
        "isolation.level", "enable.auto.commit", "max.in.flight.requests.per.connection", "max.in.flight",
    };

    internal T Apply<T>(T config) where T : ClientConfig
    {
        config.BootstrapServers = BootstrapServers;
        foreach (var (k, v) in ClientConfig) config.Set(k, v);
        return config;
    }
}

/// <summary>Validates <see cref="KafkaEventStoreOptions"/>; every failure names its full configuration key.</summary>
/// <param name="sectionPath">The configuration path of the options.</param>
public sealed class KafkaEventStoreOptionsValidator(string sectionPath = KafkaEventStoreOptions.SectionName)
    : EventStoreOptionsValidator<KafkaEventStoreOptions>(sectionPath, Options.DefaultName)
{
    /// <inheritdoc />
    protected override IEnumerable<ConfigurationProblem> Check(KafkaEventStoreOptions o)
    {
        ArgumentNullException.ThrowIfNull(o);
        if (string.IsNullOrWhiteSpace(o.BootstrapServers))
            yield return new(nameof(o.BootstrapServers), "is missing; set it to the brokers' host:port list.");
        var topics = new (string Key, string? Value)[] { (nameof(o.Topic), o.Topic), (nameof(o.IndexTopic), o.IndexTopic), (nameof(o.SnapshotTopic), o.SnapshotTopic), (nameof(o.CheckpointTopic), o.CheckpointTopic) };
        foreach (var (key, value) in topics)
            if ((key == nameof(o.Topic) || value is not null) && CheckTopic(value) is { } problem)
                yield return new(key, problem);
        var names = new[] { o.Topic, o.EffectiveIndexTopic, o.EffectiveSnapshotTopic, o.EffectiveCheckpointTopic };
        if (names.Distinct(StringComparer.Ordinal).Count() != names.Length)
            yield return new(nameof(o.Topic), "must differ from IndexTopic, SnapshotTopic and CheckpointTopic.");
        if (o.Partitions is < 1 or > 10_000)
            yield return new(nameof(o.Partitions), $"is {o.Partitions}; it must be between 1 and 10000.");
        if (o.ReplicationFactor < 1)
            yield return new(nameof(o.ReplicationFactor), $"is {o.ReplicationFactor}; it must be 1 or more.");
        if (o.MaxMessageBytes < 1024)
            yield return new(nameof(o.MaxMessageBytes), $"is {o.MaxMessageBytes}; it must be at least 1024.");
        if (o.IndexSnapshotInterval < 1)
            yield return new(nameof(o.IndexSnapshotInterval), $"is {o.IndexSnapshotInterval}; it must be 1 or more.");
        if (o.RequestTimeout <= TimeSpan.Zero)
            yield return new(nameof(o.RequestTimeout), $"is {o.RequestTimeout}; it must be positive.");
        if (o.PollInterval <= TimeSpan.Zero || o.PollInterval > TimeSpan.FromMinutes(1))
            yield return new(nameof(o.PollInterval), $"is {o.PollInterval}; it must be between 1 ms and 1 minute.");
        if (o.InstanceId is not null && (o.InstanceId.Length == 0 || !o.InstanceId.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-')))
            yield return new(nameof(o.InstanceId), $"is '{o.InstanceId}'; use letters, digits, '.', '_' or '-'.");
        if (o.TransactionalIdPrefix is not null && string.IsNullOrWhiteSpace(o.TransactionalIdPrefix))
            yield return new(nameof(o.TransactionalIdPrefix), "is empty.");
        if (o.GroupIdPrefix is not null && string.IsNullOrWhiteSpace(o.GroupIdPrefix))
            yield return new(nameof(o.GroupIdPrefix), "is empty.");
        foreach (var key in o.ClientConfig.Keys.Where(KafkaEventStoreOptions.ReservedClientKeys.Contains))
            yield return new($"{nameof(o.ClientConfig)}:{key}", "is set by the provider itself (its guarantees depend on it) and cannot be overridden.");
    }

    private static string? CheckTopic(string? topic) =>
        string.IsNullOrWhiteSpace(topic) ? "is missing." :
        topic.Length > 249 || topic is "." or ".." || !topic.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-')
            ? $"is '{topic}'; a Kafka topic name has 1-249 characters of [a-zA-Z0-9._-]."
            : null;
}
