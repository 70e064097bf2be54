using EventStore.Providers.Subscriptions.CatchUp;

namespace EventStore.Providers.DynamoDB;

/// <summary>
/// Wakes caught-up subscriptions: at once after an append made through this store instance, and otherwise after an
/// adaptive poll delay. While the log moves (an append here, or a subscription that got further than any before it) a
/// subscription reads again after <see cref="FastPoll"/>; the delay then grows with the time since that activity, up
/// to the configured <c>PollInterval</c>, so an idle store costs few reads and a busy one is followed closely.
/// </summary>
internal sealed class AppendNotifier(TimeProvider time, TimeSpan pollInterval) : IStoreChangeNotifier
{
    /// <summary>The poll delay right after activity.</summary>
    public static readonly TimeSpan FastPoll = TimeSpan.FromMilliseconds(20);

    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _lastActivity = time.GetTimestamp();
    private long _furthest;

    public Task WaitForChangeAsync(Position after, CancellationToken cancellationToken)
    {
        if (after.Parts.Length == 1 && after.Parts[0] > Interlocked.Read(ref _furthest))
        {
            Interlocked.Exchange(ref _furthest, after.Parts[0]);
            Interlocked.Exchange(ref _lastActivity, time.GetTimestamp());
        }
        return Task.WhenAny(Volatile.Read(ref _next).Task, Task.Delay(NextDelay(), time, cancellationToken))
            .Unwrap().WaitAsync(cancellationToken);
    }

    /// <summary>The poll delay now: the time since the last activity, between <see cref="FastPoll"/> and the poll interval.</summary>
    public TimeSpan NextDelay()
    {
        var idle = time.GetElapsedTime(Interlocked.Read(ref _lastActivity));
        var floor = FastPoll < pollInterval ? FastPoll : pollInterval;
        return idle < floor ? floor : idle > pollInterval ? pollInterval : idle;
    }

    public void Signal()
    {
        Interlocked.Exchange(ref _lastActivity, time.GetTimestamp());
        Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }
}
