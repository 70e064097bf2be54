using System.Collections.Concurrent;
using EventStore.Providers.Projections;

namespace EventStore.Providers.Abstractions.Tests;

/// <summary>Wraps a real checkpoint store and records every save, so tests can wait for and inspect them.</summary>
internal sealed class RecordingCheckpointStore(ICheckpointStore inner) : ICheckpointStore
{
    private readonly Lock _gate = new();
    private readonly List<Position> _saves = [];
    private readonly List<(Position Target, TaskCompletionSource Done)> _waiters = [];

    public IReadOnlyList<Position> Saves { get { lock (_gate) return [.. _saves]; } }

    public Task<Position?> LoadAsync(string subscriptionId, CancellationToken cancellationToken = default) => inner.LoadAsync(subscriptionId, cancellationToken);

    public async Task SaveAsync(string subscriptionId, Position position, CancellationToken cancellationToken = default)
    {
        await inner.SaveAsync(subscriptionId, position, cancellationToken);
        List<TaskCompletionSource> done = [];
        lock (_gate)
        {
            _saves.Add(position);
            foreach (var w in _waiters.Where(w => position >= w.Target).ToList())
            {
                done.Add(w.Done);
                _waiters.Remove(w);
            }
        }
        foreach (var d in done) d.TrySetResult();
    }

    public Task DeleteAsync(string subscriptionId, CancellationToken cancellationToken = default) => inner.DeleteAsync(subscriptionId, cancellationToken);

    public Task WaitForSaveAsync(Position target, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_saves.Any(p => p >= target)) return Task.CompletedTask;
            var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((target, tcs));
            return tcs.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
        }
    }
}

/// <summary>Records the batches it is given; can be told to fail on an event type.</summary>
internal sealed class RecordingHandler : ISubscriptionHandler
{
    private readonly ConcurrentQueue<IReadOnlyList<RecordedEvent>> _batches = new();

    public string? FailOnEventType { get; set; }

    public List<SubscriptionContext> Contexts { get; } = [];

    public IReadOnlyList<IReadOnlyList<RecordedEvent>> Batches => [.. _batches];

    public IReadOnlyList<RecordedEvent> Events => [.. _batches.SelectMany(b => b)];

    public Task HandleAsync(IReadOnlyList<RecordedEvent> events, SubscriptionContext context, CancellationToken cancellationToken)
    {
        var failing = events.FirstOrDefault(e => e.EventType == FailOnEventType);
        if (failing is not null) throw new InvalidOperationException($"cannot handle {failing.EventType}");
        lock (Contexts) Contexts.Add(context);
        _batches.Enqueue(events);
        return Task.CompletedTask;
    }
}

/// <summary>
/// A checkpoint store with the transactional hook, the way a PostgreSQL provider offers it: the handler's work and the
/// checkpoint commit together, so a failed handler leaves the checkpoint untouched.
/// </summary>
internal sealed class TransactionalCheckpointStore(ICheckpointStore inner) : ITransactionalCheckpointStore
{
    public sealed class Transaction
    {
        public List<string> Writes { get; } = [];
    }

    public List<Transaction> Committed { get; } = [];

    public Task<Position?> LoadAsync(string subscriptionId, CancellationToken cancellationToken = default) => inner.LoadAsync(subscriptionId, cancellationToken);

    public Task SaveAsync(string subscriptionId, Position position, CancellationToken cancellationToken = default) => inner.SaveAsync(subscriptionId, position, cancellationToken);

    public Task DeleteAsync(string subscriptionId, CancellationToken cancellationToken = default) => inner.DeleteAsync(subscriptionId, cancellationToken);

    public async Task HandleAndSaveAsync(string subscriptionId, Position checkpoint, Func<object, CancellationToken, Task> handle, CancellationToken cancellationToken)
    {
        var tx = new Transaction();
        await handle(tx, cancellationToken);
        await inner.SaveAsync(subscriptionId, checkpoint, cancellationToken);
        lock (Committed) Committed.Add(tx);
    }
}

/// <summary>Passes every call to a real store; test doubles override the one call they change.</summary>
internal abstract class DelegatingEventStore(IEventStore inner) : IEventStore
{
    protected IEventStore Inner => inner;

    public EventStoreCapabilities Capabilities => inner.Capabilities;
    public virtual Task<AppendResult> AppendAsync(StreamName stream, ExpectedVersion expectedVersion, IReadOnlyList<EventData> events, CancellationToken cancellationToken = default) => inner.AppendAsync(stream, expectedVersion, events, cancellationToken);
    public IAsyncEnumerable<RecordedEvent> ReadStreamAsync(StreamName stream, ReadDirection direction = ReadDirection.Forwards, long? fromVersion = null, long maxCount = long.MaxValue, CancellationToken cancellationToken = default) => inner.ReadStreamAsync(stream, direction, fromVersion, maxCount, cancellationToken);
    public IAsyncEnumerable<RecordedEvent> ReadAllAsync(ReadAllOptions? options = null, CancellationToken cancellationToken = default) => inner.ReadAllAsync(options, cancellationToken);
    public IAsyncEnumerable<RecordedEvent> ReadCategoryAsync(string category, ReadAllOptions? options = null, CancellationToken cancellationToken = default) => inner.ReadCategoryAsync(category, options, cancellationToken);
    public Task<StreamInfo> GetStreamInfoAsync(StreamName stream, CancellationToken cancellationToken = default) => inner.GetStreamInfoAsync(stream, cancellationToken);
    public Task<Position> GetHeadPositionAsync(CancellationToken cancellationToken = default) => inner.GetHeadPositionAsync(cancellationToken);
    public virtual IAsyncEnumerable<SubscriptionMessage> SubscribeToAllAsync(SubscribeToAllOptions? options = null, CancellationToken cancellationToken = default) => inner.SubscribeToAllAsync(options, cancellationToken);
    public IAsyncEnumerable<SubscriptionMessage> SubscribeToStreamAsync(StreamName stream, long? afterVersion = null, CancellationToken cancellationToken = default) => inner.SubscribeToStreamAsync(stream, afterVersion, cancellationToken);
    public Task DeleteStreamAsync(StreamName stream, ExpectedVersion expectedVersion, StreamDeletionMode mode = StreamDeletionMode.Soft, CancellationToken cancellationToken = default) => inner.DeleteStreamAsync(stream, expectedVersion, mode, cancellationToken);
}

/// <summary>
/// A real store whose first subscriptions break with a transient error after delivering a few messages, as a
/// dropped connection would.
/// </summary>
internal sealed class FlakySubscriptionStore(IEventStore store, int failures, int messagesBeforeFailure) : DelegatingEventStore(store)
{
    private int _subscriptions;

    public int Subscriptions => _subscriptions;

    public override async IAsyncEnumerable<SubscriptionMessage> SubscribeToAllAsync(SubscribeToAllOptions? options = null, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var attempt = Interlocked.Increment(ref _subscriptions);
        var delivered = 0;
        await foreach (var message in Inner.SubscribeToAllAsync(options, cancellationToken))
        {
            if (attempt <= failures && delivered == messagesBeforeFailure) throw new TransientEventStoreException("connection dropped");
            delivered++;
            yield return message;
        }
    }
}

/// <summary>Stores the first append, then loses its reply: the caller sees a transient failure after the commit.</summary>
internal sealed class LostFirstReplyStore(IEventStore store) : DelegatingEventStore(store)
{
    private int _appends;

    public override async Task<AppendResult> AppendAsync(StreamName stream, ExpectedVersion expectedVersion, IReadOnlyList<EventData> events, CancellationToken cancellationToken = default)
    {
        var result = await Inner.AppendAsync(stream, expectedVersion, events, cancellationToken);
        if (Interlocked.Increment(ref _appends) == 1) throw new TransientEventStoreException("The reply was lost after the commit.");
        return result;
    }
}
