using EventStore.Providers.Conformance;
using Xunit;

namespace EventStore.Providers.EventStoreDB.Tests;

// The whole conformance suite, one line per suite class. Each test needs a server and is skipped, with the reason
// printed, when neither EVENTSTORE_ESDB_CONNECTION nor Docker gives a server (see EventStoreDBServer).
public sealed class EventStoreDBAppendTests(EventStoreDBFixture f) : AppendTests(f), IClassFixture<EventStoreDBFixture>;
public sealed class EventStoreDBExpectedVersionTests(EventStoreDBFixture f) : ExpectedVersionTests(f), IClassFixture<EventStoreDBFixture>;
public sealed class EventStoreDBIdempotenceTests(EventStoreDBFixture f) : IdempotenceTests(f), IClassFixture<EventStoreDBFixture>;
public sealed class EventStoreDBAtomicityTests(EventStoreDBFixture f) : AtomicityTests(f), IClassFixture<EventStoreDBFixture>;
public sealed class EventStoreDBConcurrencyTests(EventStoreDBFixture f) : ConcurrencyTests(f), IClassFixture<EventStoreDBFixture>;
public sealed class EventStoreDBReadStreamTests(EventStoreDBFixture f) : ReadStreamTests(f), IClassFixture<EventStoreDBFixture>;
public sealed class EventStoreDBReadAllTests(EventStoreDBFixture f) : ReadAllTests(f), IClassFixture<EventStoreDBFixture>;
public sealed class EventStoreDBGapSafetyTests(EventStoreDBFixture f) : GapSafetyTests(f), IClassFixture<EventStoreDBFixture>;
public sealed class EventStoreDBFilterTests(EventStoreDBFixture f) : FilterTests(f), IClassFixture<EventStoreDBFixture>;
public sealed class EventStoreDBSubscriptionTests(EventStoreDBFixture f) : SubscriptionTests(f), IClassFixture<EventStoreDBFixture>;
public sealed class EventStoreDBCheckpointTests(EventStoreDBFixture f) : CheckpointTests(f), IClassFixture<EventStoreDBFixture>;
public sealed class EventStoreDBSubscriptionLeaseStoreTests(EventStoreDBFixture f) : SubscriptionLeaseStoreTests(f), IClassFixture<EventStoreDBFixture>;
public sealed class EventStoreDBSubscriptionGroupTests(EventStoreDBFixture f) : SubscriptionGroupTests(f), IClassFixture<EventStoreDBFixture>;
public sealed class EventStoreDBSnapshotTests(EventStoreDBFixture f) : SnapshotTests(f), IClassFixture<EventStoreDBFixture>;
public sealed class EventStoreDBLifecycleTests(EventStoreDBFixture f) : LifecycleTests(f), IClassFixture<EventStoreDBFixture>;
public sealed class EventStoreDBBadInputTests(EventStoreDBFixture f) : BadInputTests(f), IClassFixture<EventStoreDBFixture>;
public sealed class EventStoreDBCancellationTests(EventStoreDBFixture f) : CancellationTests(f), IClassFixture<EventStoreDBFixture>;
public sealed class EventStoreDBMetacharacterTests(EventStoreDBFixture f) : MetacharacterTests(f), IClassFixture<EventStoreDBFixture>;
[Collection(nameof(MemoryMeasurement))]
public sealed class EventStoreDBLargeReadTests(EventStoreDBFixture f) : LargeReadTests(f), IClassFixture<EventStoreDBFixture>;

/// <summary>Live-memory measurements run alone, so other tests' allocations do not blur them.</summary>
[CollectionDefinition(nameof(MemoryMeasurement), DisableParallelization = true)]
public sealed class MemoryMeasurement;
