namespace EventStore.Providers;

/// <summary>How the global log is ordered.</summary>
public enum GlobalOrdering
{
    /// <summary>One total order over every event: positions compare.</summary>
    Total = 0,
    /// <summary>
    /// Ordered within partitions only (a multi-partition Kafka topic): a position is a vector of per-partition
    /// offsets, events of one stream stay in order, events of different partitions have no defined order.
    /// </summary>
    PerPartition = 1,
}

/// <summary>What a provider can do. The conformance suite and the README's feature matrix read these flags.</summary>
public sealed record EventStoreCapabilities
{
    /// <summary>The provider's name (<c>InMemory</c>, <c>Postgres</c>, <c>EventStoreDB</c>, <c>DynamoDB</c>, <c>Kafka</c>).</summary>
    public required string ProviderName { get; init; }

    /// <summary>How <c>$all</c> is ordered.</summary>
    public GlobalOrdering GlobalOrder { get; init; } = GlobalOrdering.Total;

    /// <summary>Soft delete is supported.</summary>
    public bool SoftDelete { get; init; }

    /// <summary>Tombstones (hard delete) are supported.</summary>
    public bool Tombstone { get; init; }

    /// <summary>A projection can store its read model and its checkpoint in one transaction.</summary>
    public bool TransactionalCheckpoints { get; init; }

    /// <summary>
    /// Subscription groups (one subscription shared by many application instances, with leases and fencing) are
    /// supported: the provider registers an <see cref="ISubscriptionLeaseStore"/> or its own native coordinator.
    /// </summary>
    public bool SubscriptionGroups { get; init; }

    /// <summary>The longest stream name, in characters.</summary>
    public int MaxStreamNameLength { get; init; } = StreamName.MaxLength;

    /// <summary>The largest event (data + metadata bytes) the provider stores.</summary>
    public int MaxEventSize { get; init; } = 1024 * 1024;

    /// <summary>The most events one append accepts atomically.</summary>
    public int MaxEventsPerAppend { get; init; } = 10_000;
}
