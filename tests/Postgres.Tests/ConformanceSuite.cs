using EventStore.Providers.Conformance;

namespace EventStore.Providers.Postgres.Tests;

// The whole conformance suite against PostgreSQL; PostgresFixture is an assembly fixture (one server, one pool).

public sealed class PostgresAppendTests(PostgresFixture f) : AppendTests(f);
public sealed class PostgresExpectedVersionTests(PostgresFixture f) : ExpectedVersionTests(f);
public sealed class PostgresIdempotenceTests(PostgresFixture f) : IdempotenceTests(f);
public sealed class PostgresAtomicityTests(PostgresFixture f) : AtomicityTests(f);
public sealed class PostgresConcurrencyTests(PostgresFixture f) : ConcurrencyTests(f);
public sealed class PostgresReadStreamTests(PostgresFixture f) : ReadStreamTests(f);
public sealed class PostgresReadAllTests(PostgresFixture f) : ReadAllTests(f);
public sealed class PostgresGapSafetyTests(PostgresFixture f) : GapSafetyTests(f);
public sealed class PostgresFilterTests(PostgresFixture f) : FilterTests(f);
public sealed class PostgresSubscriptionTests(PostgresFixture f) : SubscriptionTests(f);
public sealed class PostgresCheckpointTests(PostgresFixture f) : CheckpointTests(f);
public sealed class PostgresSubscriptionLeaseStoreTests(PostgresFixture f) : SubscriptionLeaseStoreTests(f);
public sealed class PostgresSubscriptionGroupTests(PostgresFixture f) : SubscriptionGroupTests(f);
public sealed class PostgresSnapshotTests(PostgresFixture f) : SnapshotTests(f);
public sealed class PostgresLifecycleTests(PostgresFixture f) : LifecycleTests(f);
public sealed class PostgresBadInputTests(PostgresFixture f) : BadInputTests(f);
public sealed class PostgresCancellationTests(PostgresFixture f) : CancellationTests(f);
public sealed class PostgresMetacharacterTests(PostgresFixture f) : MetacharacterTests(f);
[Collection(nameof(MemoryMeasurement))]
public sealed class PostgresLargeReadTests(PostgresFixture f) : LargeReadTests(f);

/// <summary>Live-memory measurements run alone, so other tests' allocations do not blur them.</summary>
[CollectionDefinition(nameof(MemoryMeasurement), DisableParallelization = true)]
public sealed class MemoryMeasurement;
