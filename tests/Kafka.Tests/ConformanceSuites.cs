using EventStore.Providers.Conformance;
using Xunit;

namespace EventStore.Providers.Kafka.Tests;

// The whole conformance suite on a one-partition events topic (total order over $all).
public sealed class Kafka1PAppendTests(SinglePartitionKafkaFixture f) : AppendTests(f), IClassFixture<SinglePartitionKafkaFixture>;
public sealed class Kafka1PExpectedVersionTests(SinglePartitionKafkaFixture f) : ExpectedVersionTests(f), IClassFixture<SinglePartitionKafkaFixture>;
public sealed class Kafka1PIdempotenceTests(SinglePartitionKafkaFixture f) : IdempotenceTests(f), IClassFixture<SinglePartitionKafkaFixture>;
public sealed class Kafka1PAtomicityTests(SinglePartitionKafkaFixture f) : AtomicityTests(f), IClassFixture<SinglePartitionKafkaFixture>;
public sealed class Kafka1PConcurrencyTests(SinglePartitionKafkaFixture f) : ConcurrencyTests(f), IClassFixture<SinglePartitionKafkaFixture>;
public sealed class Kafka1PReadStreamTests(SinglePartitionKafkaFixture f) : ReadStreamTests(f), IClassFixture<SinglePartitionKafkaFixture>;
public sealed class Kafka1PReadAllTests(SinglePartitionKafkaFixture f) : ReadAllTests(f), IClassFixture<SinglePartitionKafkaFixture>;
public sealed class Kafka1PGapSafetyTests(SinglePartitionKafkaFixture f) : GapSafetyTests(f), IClassFixture<SinglePartitionKafkaFixture>;
public sealed class Kafka1PFilterTests(SinglePartitionKafkaFixture f) : FilterTests(f), IClassFixture<SinglePartitionKafkaFixture>;
public sealed class Kafka1PSubscriptionTests(SinglePartitionKafkaFixture f) : SubscriptionTests(f), IClassFixture<SinglePartitionKafkaFixture>;
public sealed class Kafka1PCheckpointTests(SinglePartitionKafkaFixture f) : CheckpointTests(f), IClassFixture<SinglePartitionKafkaFixture>;
public sealed class Kafka1PSnapshotTests(SinglePartitionKafkaFixture f) : SnapshotTests(f), IClassFixture<SinglePartitionKafkaFixture>;
public sealed class Kafka1PLifecycleTests(SinglePartitionKafkaFixture f) : LifecycleTests(f), IClassFixture<SinglePartitionKafkaFixture>;
public sealed class Kafka1PBadInputTests(SinglePartitionKafkaFixture f) : BadInputTests(f), IClassFixture<SinglePartitionKafkaFixture>;
public sealed class Kafka1PCancellationTests(SinglePartitionKafkaFixture f) : CancellationTests(f), IClassFixture<SinglePartitionKafkaFixture>;
public sealed class Kafka1PMetacharacterTests(SinglePartitionKafkaFixture f) : MetacharacterTests(f), IClassFixture<SinglePartitionKafkaFixture>;
[Collection(nameof(MemoryMeasurement))]
public sealed class Kafka1PLargeReadTests(SinglePartitionKafkaFixture f) : LargeReadTests(f), IClassFixture<SinglePartitionKafkaFixture>;

// The whole conformance suite again on a three-partition events topic (per-partition order, vector positions).
public sealed class Kafka3PAppendTests(ThreePartitionKafkaFixture f) : AppendTests(f), IClassFixture<ThreePartitionKafkaFixture>;
public sealed class Kafka3PExpectedVersionTests(ThreePartitionKafkaFixture f) : ExpectedVersionTests(f), IClassFixture<ThreePartitionKafkaFixture>;
public sealed class Kafka3PIdempotenceTests(ThreePartitionKafkaFixture f) : IdempotenceTests(f), IClassFixture<ThreePartitionKafkaFixture>;
public sealed class Kafka3PAtomicityTests(ThreePartitionKafkaFixture f) : AtomicityTests(f), IClassFixture<ThreePartitionKafkaFixture>;
public sealed class Kafka3PConcurrencyTests(ThreePartitionKafkaFixture f) : ConcurrencyTests(f), IClassFixture<ThreePartitionKafkaFixture>;
public sealed class Kafka3PReadStreamTests(ThreePartitionKafkaFixture f) : ReadStreamTests(f), IClassFixture<ThreePartitionKafkaFixture>;
public sealed class Kafka3PReadAllTests(ThreePartitionKafkaFixture f) : ReadAllTests(f), IClassFixture<ThreePartitionKafkaFixture>;
public sealed class Kafka3PGapSafetyTests(ThreePartitionKafkaFixture f) : GapSafetyTests(f), IClassFixture<ThreePartitionKafkaFixture>;
public sealed class Kafka3PFilterTests(ThreePartitionKafkaFixture f) : FilterTests(f), IClassFixture<ThreePartitionKafkaFixture>;
public sealed class Kafka3PSubscriptionTests(ThreePartitionKafkaFixture f) : SubscriptionTests(f), IClassFixture<ThreePartitionKafkaFixture>;
public sealed class Kafka3PCheckpointTests(ThreePartitionKafkaFixture f) : CheckpointTests(f), IClassFixture<ThreePartitionKafkaFixture>;
public sealed class Kafka3PSnapshotTests(ThreePartitionKafkaFixture f) : SnapshotTests(f), IClassFixture<ThreePartitionKafkaFixture>;
public sealed class Kafka3PLifecycleTests(ThreePartitionKafkaFixture f) : LifecycleTests(f), IClassFixture<ThreePartitionKafkaFixture>;
public sealed class Kafka3PBadInputTests(ThreePartitionKafkaFixture f) : BadInputTests(f), IClassFixture<ThreePartitionKafkaFixture>;
public sealed class Kafka3PCancellationTests(ThreePartitionKafkaFixture f) : CancellationTests(f), IClassFixture<ThreePartitionKafkaFixture>;
public sealed class Kafka3PMetacharacterTests(ThreePartitionKafkaFixture f) : MetacharacterTests(f), IClassFixture<ThreePartitionKafkaFixture>;
[Collection(nameof(MemoryMeasurement))]
public sealed class Kafka3PLargeReadTests(ThreePartitionKafkaFixture f) : LargeReadTests(f), IClassFixture<ThreePartitionKafkaFixture>;

/// <summary>Live memory is process-wide: the large-read measurements run alone.</summary>
[CollectionDefinition(nameof(MemoryMeasurement), DisableParallelization = true)]
public sealed class MemoryMeasurement;

// Subscription groups (promises 26-29) on consumer groups: the shares are the partitions (one partition: one share,
// which one instance holds at a time).
[Collection(nameof(KafkaConsumerGroups))]
public sealed class Kafka1PSubscriptionGroupTests(SinglePartitionKafkaFixture f) : SubscriptionGroupTests(f), IClassFixture<SinglePartitionKafkaFixture>
{
    protected override TimeSpan LeaseTime => KafkaGroupLease.Time;
}
[Collection(nameof(KafkaConsumerGroups))]
public sealed class Kafka3PSubscriptionGroupTests(ThreePartitionKafkaFixture f) : SubscriptionGroupTests(f), IClassFixture<ThreePartitionKafkaFixture>
{
    protected override TimeSpan LeaseTime => KafkaGroupLease.Time;
}

internal static class KafkaGroupLease
{
    /// <summary>
    /// The lease (session timeout) of the conformance groups on Kafka. librdkafka's mock cluster, unlike a broker,
    /// completes a rebalance that a joining member starts only after the session timeout less 1 s, however soon every
    /// member has rejoined, and holds each member's commits until then. With a 10 s lease that left an instance
    /// stopping right after another joined about 1 s of the 10 s stop grace to store its checkpoint; 6 s leaves 5.
    /// </summary>
    public static readonly TimeSpan Time = TimeSpan.FromSeconds(6);
}
