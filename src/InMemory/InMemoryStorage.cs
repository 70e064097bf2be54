using System.Collections.Concurrent;
using EventStore.Providers.Subscriptions.CatchUp;

namespace EventStore.Providers.InMemory;

/// <summary>
/// The data of an in-memory event store: the global log, the streams, snapshots, checkpoints and subscription-group leases. Several
/// <see cref="InMemoryEventStore"/> instances over one storage behave like several application instances over one
/// database (they see each other's writes and wake each other's subscriptions).
/// </summary>
/// <remarks>The layout is described in the provider's README.md.</remarks>
public sealed class InMemoryStorage
{
    /// <summary>Serialises appends and deletes: one writer at a time keeps positions dense and gap-free.</summary>
    internal object WriteLock { get; } = new();

    /// <summary>Every event in position order; position = index + 1.</summary>
    internal AppendOnlyLog<RecordedEvent> All { get; } = new();

    /// <summary>The streams by name (ordinal).</summary>
    internal ConcurrentDictionary<string, StreamState> Streams { get; } = new(StringComparer.Ordinal);

    /// <summary>The newest snapshot per stream name.</summary>
    internal ConcurrentDictionary<string, Snapshot> Snapshots { get; } = new(StringComparer.Ordinal);

    /// <summary>Checkpoints by subscription id.</summary>
    internal ConcurrentDictionary<string, Position> Checkpoints { get; } = new(StringComparer.Ordinal);

    /// <summary>Subscription-group leases, with their own lock (they never wait on appends).</summary>
    internal LeaseTable Leases { get; } = new();

    /// <summary>Wakes live subscriptions after an append.</summary>
    internal AppendSignal Changes { get; }

    /// <summary>Creates empty storage.</summary>
    public InMemoryStorage() => Changes = new AppendSignal(All);

    /// <summary>The safe head: the last published position, or <see cref="Position.Start"/>.</summary>
    internal Position Head
    {
        get
        {
            var count = All.Count;
            return count == 0 ? Position.Start : Position.FromInt64(count);
        }
    }
}

/// <summary>One stream: its events (version = index) and what readers may see of them.</summary>
internal sealed class StreamState
{
    /// <summary>The stream's events; index = version.</summary>
    public AppendOnlyLog<RecordedEvent> Events { get; } = new();

    /// <summary>Version of each stored event id, for idempotent re-sends. Touched only under the write lock.</summary>
    public Dictionary<Guid, int> VersionById { get; } = [];

    /// <summary>What readers see, replaced whole by writers so one read gets a consistent view.</summary>
    public volatile StreamHead Head = StreamHead.Empty;
}

/// <summary>An immutable view of a stream's visible state.</summary>
/// <param name="Count">Events stored (the last version + 1).</param>
/// <param name="DeletedBefore">Versions below this were soft-deleted and read as missing.</param>
/// <param name="Tombstoned">The stream was hard-deleted.</param>
internal sealed record StreamHead(int Count, int DeletedBefore, bool Tombstoned)
{
    public static StreamHead Empty { get; } = new(0, 0, false);

    /// <summary>The last readable version for expected-version checks; -1 when nothing is readable.</summary>
    public long EffectiveLastVersion => Count > DeletedBefore ? Count - 1 : -1;
}

/// <summary>Completes waiters when the log grows past the position they have seen.</summary>
internal sealed class AppendSignal(AppendOnlyLog<RecordedEvent> log) : IStoreChangeNotifier
{
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task WaitForChangeAsync(Position after, CancellationToken cancellationToken)
    {
        // Take the signal before looking at the log: an append published after the look then completes this signal.
        var signal = Volatile.Read(ref _next);
        var count = log.Count;
        if (count > 0 && Position.FromInt64(count) > after) return Task.CompletedTask;
        return signal.Task.WaitAsync(cancellationToken);
    }

    public void Signal() =>
        Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
}
