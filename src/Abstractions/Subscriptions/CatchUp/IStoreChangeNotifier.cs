namespace EventStore.Providers.Subscriptions.CatchUp;

/// <summary>
/// Wakes a caught-up subscription when the store may hold events after a position, so live delivery does not wait for
/// the next poll. The in-memory store signals on append; PostgreSQL can use LISTEN/NOTIFY; a backend without push
/// notifications uses <see cref="PollingChangeNotifier"/>.
/// </summary>
/// <remarks>
/// A notifier may wake spuriously (the reader simply reads an empty page and waits again), but it must not miss a
/// change that happened after <c>after</c> was observed: completing at once when the store's head is already past
/// <c>after</c> is the simplest way to honour that.
/// </remarks>
public interface IStoreChangeNotifier
{
    /// <summary>Completes when the store may hold an event after <paramref name="after"/>, or when cancelled.</summary>
    /// <param name="after">The position up to which the caller has seen everything.</param>
    /// <param name="cancellationToken">Cancels the wait (the task then ends as cancelled).</param>
    Task WaitForChangeAsync(Position after, CancellationToken cancellationToken);
}

/// <summary>A notifier that never signals: the reader falls back to its poll interval alone.</summary>
public sealed class PollingChangeNotifier : IStoreChangeNotifier
{
    /// <summary>The shared instance.</summary>
    public static PollingChangeNotifier Instance { get; } = new();

    private PollingChangeNotifier() { }

    /// <inheritdoc />
    public Task WaitForChangeAsync(Position after, CancellationToken cancellationToken) =>
        Task.Delay(Timeout.Infinite, cancellationToken);
}
