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
    protected override string? ActiveStandbyOpenDefect => KafkaGroupDefects.ActiveStandby;
}
[Collection(nameof(KafkaConsumerGroups))]
public sealed class Kafka3PSubscriptionGroupTests(ThreePartitionKafkaFixture f) : SubscriptionGroupTests(f), IClassFixture<ThreePartitionKafkaFixture>
{
    protected override string? ActiveStandbyOpenDefect => KafkaGroupDefects.ActiveStandby;
}

internal static class KafkaGroupDefects
{
    public const string ActiveStandby = "Open defect (found by CI on 2026-11-30; 5 failures in 24 loaded runs after the fixes of that day): in Kafka's ActiveStandby mode, when the standby joins, the active's first checkpoint commit blocks for about the lease time until librdkafka expels the member, so the checkpoint it stores on stopping is refused and the standby repeats what it handled. Not the coordinator's gate (a rebalance callback no longer waits for it) and not the test's clock (running it at real speed during the stop changed nothing); Partitioned mode is unaffected.";
}
