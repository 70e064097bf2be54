using EventStore.Providers.Conformance;
using Xunit;

namespace EventStore.Providers.DynamoDB.Tests;

public sealed class DynamoDBAppendTests(DynamoDBFixture f) : Conformance.AppendTests(f), IClassFixture<DynamoDBFixture>;
public sealed class DynamoDBExpectedVersionTests(DynamoDBFixture f) : Conformance.ExpectedVersionTests(f), IClassFixture<DynamoDBFixture>;
public sealed class DynamoDBIdempotenceTests(DynamoDBFixture f) : Conformance.IdempotenceTests(f), IClassFixture<DynamoDBFixture>;
public sealed class DynamoDBAtomicityTests(DynamoDBFixture f) : Conformance.AtomicityTests(f), IClassFixture<DynamoDBFixture>;
public sealed class DynamoDBConcurrencyTests(DynamoDBFixture f) : Conformance.ConcurrencyTests(f), IClassFixture<DynamoDBFixture>;
public sealed class DynamoDBReadStreamTests(DynamoDBFixture f) : Conformance.ReadStreamTests(f), IClassFixture<DynamoDBFixture>;
public sealed class DynamoDBReadAllTests(DynamoDBFixture f) : Conformance.ReadAllTests(f), IClassFixture<DynamoDBFixture>;
public sealed class DynamoDBGapSafetyTests(DynamoDBFixture f) : Conformance.GapSafetyTests(f), IClassFixture<DynamoDBFixture>;
public sealed class DynamoDBFilterTests(DynamoDBFixture f) : Conformance.FilterTests(f), IClassFixture<DynamoDBFixture>;
public sealed class DynamoDBSubscriptionTests(DynamoDBFixture f) : Conformance.SubscriptionTests(f), IClassFixture<DynamoDBFixture>;
public sealed class DynamoDBCheckpointTests(DynamoDBFixture f) : Conformance.CheckpointTests(f), IClassFixture<DynamoDBFixture>;
public sealed class DynamoDBSubscriptionLeaseStoreTests(DynamoDBFixture f) : Conformance.SubscriptionLeaseStoreTests(f), IClassFixture<DynamoDBFixture>;
public sealed class DynamoDBSubscriptionGroupTests(DynamoDBFixture f) : Conformance.SubscriptionGroupTests(f), IClassFixture<DynamoDBFixture>;
public sealed class DynamoDBSnapshotTests(DynamoDBFixture f) : Conformance.SnapshotTests(f), IClassFixture<DynamoDBFixture>;
public sealed class DynamoDBLifecycleTests(DynamoDBFixture f) : Conformance.LifecycleTests(f), IClassFixture<DynamoDBFixture>;
public sealed class DynamoDBBadInputTests(DynamoDBFixture f) : Conformance.BadInputTests(f), IClassFixture<DynamoDBFixture>;
public sealed class DynamoDBCancellationTests(DynamoDBFixture f) : Conformance.CancellationTests(f), IClassFixture<DynamoDBFixture>;
public sealed class DynamoDBMetacharacterTests(DynamoDBFixture f) : Conformance.MetacharacterTests(f), IClassFixture<DynamoDBFixture>;

// With fenced commits every append writes an intent before its commit, and a reader that gives up on a hole fences the
// slot it names: the promises about appends, deletion, $all and subscriptions are run again in that mode.
public sealed class FencedDynamoDBAppendTests(FencedDynamoDBFixture f) : Conformance.AppendTests(f), IClassFixture<FencedDynamoDBFixture>;
public sealed class FencedDynamoDBExpectedVersionTests(FencedDynamoDBFixture f) : Conformance.ExpectedVersionTests(f), IClassFixture<FencedDynamoDBFixture>;
public sealed class FencedDynamoDBIdempotenceTests(FencedDynamoDBFixture f) : Conformance.IdempotenceTests(f), IClassFixture<FencedDynamoDBFixture>;
public sealed class FencedDynamoDBAtomicityTests(FencedDynamoDBFixture f) : Conformance.AtomicityTests(f), IClassFixture<FencedDynamoDBFixture>;
public sealed class FencedDynamoDBConcurrencyTests(FencedDynamoDBFixture f) : Conformance.ConcurrencyTests(f), IClassFixture<FencedDynamoDBFixture>;
public sealed class FencedDynamoDBReadAllTests(FencedDynamoDBFixture f) : Conformance.ReadAllTests(f), IClassFixture<FencedDynamoDBFixture>;
public sealed class FencedDynamoDBGapSafetyTests(FencedDynamoDBFixture f) : Conformance.GapSafetyTests(f), IClassFixture<FencedDynamoDBFixture>;
public sealed class FencedDynamoDBSubscriptionTests(FencedDynamoDBFixture f) : Conformance.SubscriptionTests(f), IClassFixture<FencedDynamoDBFixture>;
public sealed class FencedDynamoDBLifecycleTests(FencedDynamoDBFixture f) : Conformance.LifecycleTests(f), IClassFixture<FencedDynamoDBFixture>;

// With the event-type index, type-filtered reads and subscriptions query it: the filter promises are run again that way.
public sealed class TypeIndexedDynamoDBFilterTests(TypeIndexedDynamoDBFixture f) : Conformance.FilterTests(f), IClassFixture<TypeIndexedDynamoDBFixture>;
public sealed class TypeIndexedDynamoDBSubscriptionTests(TypeIndexedDynamoDBFixture f) : Conformance.SubscriptionTests(f), IClassFixture<TypeIndexedDynamoDBFixture>;

[Collection(nameof(MemoryMeasurement))]
public sealed class DynamoDBLargeReadTests(DynamoDBFixture f) : Conformance.LargeReadTests(f), IClassFixture<DynamoDBFixture>;

/// <summary>Live-memory measurements run alone, so other tests' allocations do not blur them.</summary>
[CollectionDefinition(nameof(MemoryMeasurement), DisableParallelization = true)]
public sealed class MemoryMeasurement;
