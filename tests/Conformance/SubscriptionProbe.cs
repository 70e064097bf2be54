using Xunit;

namespace EventStore.Providers.Conformance;

/// <summary>
/// Consumes a subscription on a background task and lets a test wait, with a deadline, for what it expects. A broken
/// provider makes the wait fail with what was received, never hang.
/// </summary>
public sealed class SubscriptionProbe : IAsyncDisposable
{
    private readonly List<SubscriptionMessage> _messages = [];
    private readonly CancellationTokenSource _stop;
    private readonly TimeSpan _timeout;
    private readonly CancellationToken _run;
    private Task _consumer = Task.CompletedTask;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Exception? _failure;
    private bool _ended;

    private SubscriptionProbe(TimeSpan timeout, CancellationToken run)
    {
        _timeout = timeout;
        _run = run;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(run);
    }

    /// <summary>Starts consuming the subscription made by <paramref name="subscribe"/>.</summary>
    public static SubscriptionProbe Start(Func<CancellationToken, IAsyncEnumerable<SubscriptionMessage>> subscribe, TimeSpan timeout, CancellationToken run)
    {
        ArgumentNullException.ThrowIfNull(subscribe);
        var probe = new SubscriptionProbe(timeout, run);
        probe._consumer = Task.Run(() => probe.ConsumeAsync(subscribe), CancellationToken.None);
        return probe;
    }

    /// <summary>Everything received so far.</summary>
    public IReadOnlyList<SubscriptionMessage> Messages
    {
        get { lock (_messages) return [.. _messages]; }
    }

    /// <summary>The events received so far.</summary>
    public IReadOnlyList<RecordedEvent> Events => [.. Messages.Where(m => m.Kind == SubscriptionMessageKind.Event).Select(m => m.Event!)];

    /// <summary>The exception the subscription ended with, if it ended.</summary>
    public Exception? Failure => Volatile.Read(ref _failure);

    /// <summary>Waits until <paramref name="condition"/> holds for the messages received, failing the test after the timeout.</summary>
    public async Task<IReadOnlyList<SubscriptionMessage>> WaitUntilAsync(Func<IReadOnlyList<SubscriptionMessage>, bool> condition, string what)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_run);
        deadline.CancelAfter(_timeout);
        while (true)
        {
            var changed = Volatile.Read(ref _changed).Task;
            var messages = Messages;
            if (condition(messages)) return messages;
            if (Volatile.Read(ref _ended))
                Assert.Fail($"The subscription ended before {what}: {(Failure is null ? "it completed" : Failure.GetType().Name + ": " + Failure.Message)}. Received: {Describe(messages)}");
            try
            {
                await changed.WaitAsync(deadline.Token);
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested && !_run.IsCancellationRequested)
            {
                Assert.Fail($"Timed out after {_timeout.TotalSeconds:0}s waiting for {what}. Received: {Describe(Messages)}");
            }
        }
    }

    /// <summary>Waits for <paramref name="count"/> events.</summary>
    public async Task<IReadOnlyList<RecordedEvent>> WaitForEventsAsync(int count)
    {
        await WaitUntilAsync(m => m.Count(x => x.Kind == SubscriptionMessageKind.Event) >= count, $"{count} events");
        return Events;
    }

    /// <summary>Waits for the caught-up marker.</summary>
    public Task WaitForCaughtUpAsync() => WaitUntilAsync(m => m.Any(x => x.Kind == SubscriptionMessageKind.CaughtUp), "the caught-up marker");

    /// <summary>Waits for the subscription to end and returns how it ended (null: completed without an exception).</summary>
    public async Task<Exception?> WaitForEndAsync()
    {
        await WaitUntilAsync(_ => Volatile.Read(ref _ended), "the subscription to end");
        return Failure;
    }

    /// <summary>Stops consuming.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _consumer.WaitAsync(_timeout, CancellationToken.None);
        }
        catch (TimeoutException)
        {
            // Reported by the cancellation tests; a dispose must not hide the test's own outcome.
        }
        _stop.Dispose();
    }

    /// <summary>Cancels the subscription (as its consumer would) without disposing the probe.</summary>
    public Task CancelAsync() => _stop.CancelAsync();

    private async Task ConsumeAsync(Func<CancellationToken, IAsyncEnumerable<SubscriptionMessage>> subscribe)
    {
        try
        {
            await foreach (var message in subscribe(_stop.Token).WithCancellation(_stop.Token))
            {
                lock (_messages) _messages.Add(message);
                Signal();
            }
        }
        catch (Exception e)
        {
            Volatile.Write(ref _failure, e);
        }
        Volatile.Write(ref _ended, true);
        Signal();
    }

    private void Signal() =>
        Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    private static string Describe(IReadOnlyList<SubscriptionMessage> messages) =>
        messages.Count == 0 ? "nothing" :
        string.Join(", ", messages.Take(20).Select(m => m.Kind == SubscriptionMessageKind.Event ? $"{m.Event!.Stream}@{m.Event.Version}" : $"{m.Kind}({m.Position})"))
        + (messages.Count > 20 ? $", ... ({messages.Count} messages)" : "");
}
