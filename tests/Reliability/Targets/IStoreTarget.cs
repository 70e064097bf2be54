namespace EventStore.Providers.Reliability.Tests.Targets;

/// <summary>
/// How the reliability tests reach one provider: fresh isolated stores, a second instance over the same storage, and
/// (where storage outlives the process) the configuration another process uses to open it. One implementation per
/// provider; every test is written against this interface only.
/// </summary>
public interface IStoreTarget : IAsyncDisposable
{
    /// <summary>The provider's name, as test output prints it.</summary>
    string Name { get; }

    /// <summary>True when the store keeps its data after the process that wrote it dies (every provider but in-memory).</summary>
    bool SurvivesProcessCrash { get; }

    /// <summary>
    /// The most bytes one partition of the store's log keeps before it drops its oldest records, or null when the
    /// storage drops nothing. Tests that write a lot and then read everything back keep their volume well under it.
    /// </summary>
    long? LogBytesLimit => null;

    /// <summary>Creates a fresh, empty store isolated from every other store this target made.</summary>
    Task<TargetStore> CreateStoreAsync(CancellationToken cancellationToken = default);
}

/// <summary>One isolated store and the ways to reach its storage again.</summary>
public sealed class TargetStore(
    IEventStore store,
    Func<CancellationToken, Task<IEventStore>> openAnotherInstance,
    IReadOnlyDictionary<string, string?>? processConfiguration,
    Func<ValueTask> dispose) : IAsyncDisposable
{
    /// <summary>The store.</summary>
    public IEventStore Store { get; } = store;

    /// <summary>Opens another store instance over the same storage, as a restarted application would.</summary>
    public Func<CancellationToken, Task<IEventStore>> OpenAnotherInstanceAsync { get; } = openAnotherInstance;

    /// <summary>
    /// The <c>EventStore:*</c> configuration another process passes to <c>AddEventStore(configuration)</c> to open the same
    /// storage; null when the storage lives inside this process.
    /// </summary>
    public IReadOnlyDictionary<string, string?>? ProcessConfiguration { get; } = processConfiguration;

    /// <inheritdoc />
    public ValueTask DisposeAsync() => dispose();
}
