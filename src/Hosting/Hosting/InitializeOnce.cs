namespace EventStore.Providers.Hosting;

/// <summary>
/// Runs a provider's storage initialization (create or verify) at most once at a time: concurrent callers share one
/// run, a success is kept for the life of the store, a failure is not, so the next operation tries again (after the
/// table was created or the switch turned on) instead of repeating a stale error.
/// </summary>
/// <param name="initialize">The initialization; it runs without the callers' cancellation, which only stops their wait.</param>
public sealed class InitializeOnce(Func<CancellationToken, Task> initialize)
{
    private readonly Lock _lock = new();
    private Task? _run;

    /// <summary>Whether a run has succeeded.</summary>
    public bool IsDone => _run is { IsCompletedSuccessfully: true };

    /// <summary>Waits for the initialization, starting it unless one succeeded or is under way.</summary>
    public Task RunAsync(CancellationToken cancellationToken = default)
    {
        var run = _run;
        if (run is { IsCompletedSuccessfully: true }) return run;
        lock (_lock)
        {
            if (_run is null || _run.IsFaulted || _run.IsCanceled) _run = Task.Run(() => initialize(CancellationToken.None), CancellationToken.None);
            run = _run;
        }
        return run.WaitAsync(cancellationToken);
    }
}
