namespace EventStore.Providers.Conformance;

/// <summary>
/// How the conformance suite reaches a provider. A provider's test project implements this once (usually as an xUnit
/// assembly or class fixture that starts or finds its server) and subclasses the suite's abstract test classes.
/// </summary>
public interface IEventStoreFixture
{
    /// <summary>
    /// A fresh, empty store isolated from every other store this fixture made (its own schema, table or topic), so a
    /// test may assert on the whole of <c>$all</c>.
    /// </summary>
    Task<StoreUnderTest> CreateStoreAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// How many events the lazy large-read test writes and reads (1,000,000 by default; a provider where writing that
    /// takes minutes may lower it, never below 100,000).
    /// </summary>
    int LargeReadEventCount => 1_000_000;

    /// <summary>
    /// How much live managed memory may grow while the large read runs. The default, the larger of 2 MB and 4 bytes
    /// per event, is below what holding every event (or even one reference per event) would take, so a store that
    /// materialises the read fails; a provider whose client buffers more may raise it, staying far below the data size.
    /// </summary>
    long LargeReadMemoryBudgetBytes => Math.Max(2L * 1024 * 1024, 4L * LargeReadEventCount);
}

/// <summary>
/// Implemented by the fixture of a provider that declares <see cref="EventStoreCapabilities.TransactionalCheckpoints"/>:
/// lets the suite prove a read-model change and a checkpoint commit together or not at all.
/// </summary>
public interface ITransactionalCheckpointFixture
{
    /// <summary>
    /// In one transaction, writes a read-model row keyed <paramref name="readModelKey"/> and saves
    /// <paramref name="checkpoint"/> for <paramref name="subscriptionId"/>; when <paramref name="failBeforeCommit"/> is
    /// true, throws after both writes and before the commit (the transaction must roll back).
    /// </summary>
    Task WriteReadModelAndCheckpointAsync(StoreUnderTest store, string subscriptionId, Position checkpoint, string readModelKey,
        bool failBeforeCommit, CancellationToken cancellationToken);

    /// <summary>Whether the read-model row <paramref name="readModelKey"/> exists.</summary>
    Task<bool> ReadModelExistsAsync(StoreUnderTest store, string readModelKey, CancellationToken cancellationToken);
}

/// <summary>One isolated store made by <see cref="IEventStoreFixture.CreateStoreAsync"/> and what comes with it.</summary>
public sealed class StoreUnderTest : IAsyncDisposable
{
    private readonly Func<ValueTask>? _dispose;

    /// <summary>Creates the handle.</summary>
    /// <param name="store">The store.</param>
    /// <param name="snapshots">Its snapshot store.</param>
    /// <param name="checkpoints">Its checkpoint store.</param>
    /// <param name="openAnotherInstance">
    /// Opens a second, independent store instance over the same storage (as another process or a restarted app would),
    /// for restart and multi-instance tests.
    /// </param>
    /// <param name="dispose">Releases the storage (drop schema/table/topic) when the test ends.</param>
    public StoreUnderTest(IEventStore store, ISnapshotStore snapshots, ICheckpointStore checkpoints,
        Func<CancellationToken, Task<IEventStore>> openAnotherInstance, Func<ValueTask>? dispose = null)
    {
        Store = store;
        Snapshots = snapshots;
        Checkpoints = checkpoints;
        OpenAnotherInstanceAsync = openAnotherInstance;
        _dispose = dispose;
    }

    /// <summary>The store under test.</summary>
    public IEventStore Store { get; }

    /// <summary>The provider's snapshot store over the same storage.</summary>
    public ISnapshotStore Snapshots { get; }

    /// <summary>The provider's checkpoint store over the same storage.</summary>
    public ICheckpointStore Checkpoints { get; }

    /// <summary>Opens another store instance over the same storage.</summary>
    public Func<CancellationToken, Task<IEventStore>> OpenAnotherInstanceAsync { get; }

    /// <summary>
    /// The provider's lease store over the same storage, for the subscription-group promises; null when the provider
    /// coordinates groups natively (<see cref="GroupCoordinators"/>) or does not declare
    /// <see cref="EventStoreCapabilities.SubscriptionGroups"/>.
    /// </summary>
    public ISubscriptionLeaseStore? Leases { get; init; }

    /// <summary>
    /// Makes subscription-group coordinators for this storage with a native mechanism (Kafka consumer groups); null
    /// when the groups run on <see cref="Leases"/>.
    /// </summary>
    public EventStore.Providers.Projections.ISubscriptionGroupCoordinatorFactory? GroupCoordinators { get; init; }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _dispose?.Invoke() ?? ValueTask.CompletedTask;
}
