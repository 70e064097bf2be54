using EventStore.Providers.Conformance;
using Xunit;

namespace EventStore.Providers.InMemory.Tests;

public sealed class InMemoryAppendTests(InMemoryFixture f) : AppendTests(f), IClassFixture<InMemoryFixture>;
public sealed class InMemoryExpectedVersionTests(InMemoryFixture f) : ExpectedVersionTests(f), IClassFixture<InMemoryFixture>;
public sealed class InMemoryIdempotenceTests(InMemoryFixture f) : IdempotenceTests(f), IClassFixture<InMemoryFixture>;
public sealed class InMemoryAtomicityTests(InMemoryFixture f) : AtomicityTests(f), IClassFixture<InMemoryFixture>;
public sealed class InMemoryConcurrencyTests(InMemoryFixture f) : ConcurrencyTests(f), IClassFixture<InMemoryFixture>;
public sealed class InMemoryReadStreamTests(InMemoryFixture f) : ReadStreamTests(f), IClassFixture<InMemoryFixture>;
public sealed class InMemoryReadAllTests(InMemoryFixture f) : ReadAllTests(f), IClassFixture<InMemoryFixture>;
public sealed class InMemoryGapSafetyTests(InMemoryFixture f) : GapSafetyTests(f), IClassFixture<InMemoryFixture>;
public sealed class InMemoryFilterTests(InMemoryFixture f) : FilterTests(f), IClassFixture<InMemoryFixture>;
public sealed class InMemorySubscriptionTests(InMemoryFixture f) : SubscriptionTests(f), IClassFixture<InMemoryFixture>;
public sealed class InMemoryCheckpointTests(InMemoryFixture f) : CheckpointTests(f), IClassFixture<InMemoryFixture>;
public sealed class InMemorySubscriptionLeaseStoreTests(InMemoryFixture f) : SubscriptionLeaseStoreTests(f), IClassFixture<InMemoryFixture>;
public sealed class InMemorySnapshotTests(InMemoryFixture f) : SnapshotTests(f), IClassFixture<InMemoryFixture>;
public sealed class InMemoryLifecycleTests(InMemoryFixture f) : LifecycleTests(f), IClassFixture<InMemoryFixture>;
public sealed class InMemoryBadInputTests(InMemoryFixture f) : BadInputTests(f), IClassFixture<InMemoryFixture>;
public sealed class InMemoryCancellationTests(InMemoryFixture f) : CancellationTests(f), IClassFixture<InMemoryFixture>;
public sealed class InMemorySubscriptionGroupTests(InMemoryFixture f) : SubscriptionGroupTests(f), IClassFixture<InMemoryFixture>;
public sealed class InMemoryMetacharacterTests(InMemoryFixture f) : MetacharacterTests(f), IClassFixture<InMemoryFixture>;
[Collection(nameof(MemoryMeasurement))]
public sealed class InMemoryLargeReadTests(InMemoryFixture f) : LargeReadTests(f), IClassFixture<InMemoryFixture>;

/// <summary>Live-memory measurements run alone, so other tests' allocations do not blur them.</summary>
[CollectionDefinition(nameof(MemoryMeasurement), DisableParallelization = true)]
public sealed class MemoryMeasurement;
