namespace EventStore.Providers.Projections;

/// <summary>
/// How a stopping subscription treats the batch in its hands. The handler sees the stop at once (through its own
/// token) and may give up, which rolls its transaction back; a handler that finished anyway has its work committed
/// with its checkpoint under <see cref="Token"/>, which is cancelled only <see cref="Period"/> after the stop. Without
/// the grace a stop landing between the handler's return and the commit rolled finished work back, and whoever resumed
/// the subscription (another instance of a group, or this one after a restart) handled the batch a second time.
/// </summary>
internal sealed class StopGrace : IDisposable
{
    /// <summary>How long a finished batch may take to commit after the stop; the runners' final checkpoint saves get as long.</summary>
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(10);

    private readonly CancellationTokenSource _grace = new();
    private readonly CancellationTokenRegistration _registration;

    /// <summary>Starts the grace period when <paramref name="stop"/> is cancelled.</summary>
    public StopGrace(CancellationToken stop) =>
        _registration = stop.UnsafeRegister(static state => ((CancellationTokenSource)state!).CancelAfter(Period), _grace);

    /// <summary>The token for committing a batch whose handler may already have finished.</summary>
    public CancellationToken Token => _grace.Token;

    /// <inheritdoc />
    public void Dispose()
    {
        _registration.Dispose();
        _grace.Dispose();
    }
}
