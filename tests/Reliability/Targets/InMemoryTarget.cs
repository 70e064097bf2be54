using EventStore.Providers.InMemory;

namespace EventStore.Providers.Reliability.Tests.Targets;

/// <summary>The in-memory provider: each store has its own storage; another instance shares that storage.</summary>
public sealed class InMemoryTarget : IStoreTarget
{
    /// <inheritdoc />
    public string Name => "InMemory";

    /// <inheritdoc />
    public bool SurvivesProcessCrash => false;

    /// <inheritdoc />
    public Task<TargetStore> CreateStoreAsync(CancellationToken cancellationToken = default)
    {
        var storage = new InMemoryStorage();
        return Task.FromResult(new TargetStore(
            new InMemoryEventStore(storage),
            _ => Task.FromResult<IEventStore>(new InMemoryEventStore(storage)),
            processConfiguration: null,
            () => ValueTask.CompletedTask));
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
