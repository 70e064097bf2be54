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

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _dispose?.Invoke() ?? ValueTask.CompletedTask;
}
