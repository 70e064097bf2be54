using System.Collections.Concurrent;
using EventStore.Providers.Projections;

namespace EventStore.Providers.Conformance;

/// <summary>
/// What the group tests can do to one instance from outside, as an operator could to its process: kill it (every
/// further store call fails and its handler stops, without leaving the group or storing anything) or pause it (every
/// store call and its handler wait, like a long GC pause, until resumed). It also records the instance's checkpoint
/// saves, stored and refused, per share.
/// </summary>
internal sealed class InstanceSwitch(string instanceId)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<int, Position> _lastStored = [];
    private TaskCompletionSource? _pause;
    private volatile bool _killed;
    private int _refreshes;
    private int _refused;
    private int _storedWhilePaused;

    public string InstanceId { get; } = instanceId;

    public bool Killed => _killed;

    public bool Paused { get { lock (_gate) return _pause is not null; } }

    /// <summary>Completed coordination rounds (a lease-store listing or a native refresh): how the test knows the instance kept up with the clock.</summary>
    public int Refreshes => Volatile.Read(ref _refreshes);

    /// <summary>Checkpoint saves the store refused because another instance held the share.</summary>
    public int Refused => Volatile.Read(ref _refused);

    /// <summary>Checkpoint saves that were stored after the pause began.</summary>
    public int StoredSincePause => Volatile.Read(ref _storedWhilePaused);

    public void Kill() => _killed = true;

    public void Pause()
    {
        lock (_gate) _pause ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _storedWhilePaused, 0);
    }

    public void Resume()
    {
        TaskCompletionSource? pause;
        lock (_gate) (pause, _pause) = (_pause, null);
        pause?.TrySetResult();
    }

    /// <summary>The last checkpoint this instance stored for <paramref name="share"/>, if any.</summary>
    public Position? LastStored(int share)
    {
        lock (_gate) return _lastStored.TryGetValue(share, out var p) ? p : null;
    }

    /// <summary>Passes when the instance is alive; waits while it is paused; throws once it is killed.</summary>
    public async Task GateAsync(CancellationToken cancellationToken)
    {
        Task? pause;
        lock (_gate) pause = _pause?.Task;
        if (pause is not null) await pause.WaitAsync(cancellationToken);
        if (_killed) throw new IOException($"Instance {InstanceId} was killed.");
    }

    public void Refreshed() => Interlocked.Increment(ref _refreshes);

    public async Task SaveAsync(int share, Position checkpoint, Func<Task> save)
    {
        try
        {
            await save();
        }
        catch (LeaseLostException)
        {
            Interlocked.Increment(ref _refused);
            throw;
        }
        lock (_gate) _lastStored[share] = checkpoint;
        Interlocked.Increment(ref _storedWhilePaused);
    }
}

/// <summary>A provider's lease store as one instance sees it, behind its <see cref="InstanceSwitch"/>.</summary>
internal class SwitchedLeaseStore(ISubscriptionLeaseStore inner, InstanceSwitch control) : ISubscriptionLeaseStore
{
    protected ISubscriptionLeaseStore Inner => inner;

    protected InstanceSwitch Control => control;

    public static SwitchedLeaseStore For(ISubscriptionLeaseStore inner, InstanceSwitch control) =>
        inner is ITransactionalSubscriptionLeaseStore ? new SwitchedTransactionalLeaseStore(inner, control) : new SwitchedLeaseStore(inner, control);

    protected static int ShareOf(string name) => int.Parse(name[(name.LastIndexOf('/') + 1)..], System.Globalization.CultureInfo.InvariantCulture);

    public async Task<SubscriptionLease?> TryAcquireAsync(string name, string owner, DateTimeOffset now, TimeSpan duration, CancellationToken cancellationToken = default)
    {
        await control.GateAsync(cancellationToken);
        return await inner.TryAcquireAsync(name, owner, now, duration, cancellationToken);
    }

    public async Task<SubscriptionLease?> RenewAsync(SubscriptionLease lease, DateTimeOffset now, TimeSpan duration, CancellationToken cancellationToken = default)
    {
        await control.GateAsync(cancellationToken);
        return await inner.RenewAsync(lease, now, duration, cancellationToken);
    }

    public async Task ReleaseAsync(SubscriptionLease lease, CancellationToken cancellationToken = default)
    {
        await control.GateAsync(cancellationToken);
        await inner.ReleaseAsync(lease, cancellationToken);
    }

    public async Task SaveCheckpointAsync(SubscriptionLease lease, Position checkpoint, CancellationToken cancellationToken = default)
    {
        await control.GateAsync(cancellationToken);
        await control.SaveAsync(ShareOf(lease.Name), checkpoint, () => inner.SaveCheckpointAsync(lease, checkpoint, cancellationToken));
    }

    public async Task<IReadOnlyList<SubscriptionLease>> ListAsync(string prefix, CancellationToken cancellationToken = default)
    {
        await control.GateAsync(cancellationToken);
        var records = await inner.ListAsync(prefix, cancellationToken);
        control.Refreshed();
        return records;
    }

    public async Task<bool> DeleteAsync(string name, long token, CancellationToken cancellationToken = default)
    {
        await control.GateAsync(cancellationToken);
        return await inner.DeleteAsync(name, token, cancellationToken);
    }
}

internal sealed class SwitchedTransactionalLeaseStore(ISubscriptionLeaseStore inner, InstanceSwitch control)
    : SwitchedLeaseStore(inner, control), ITransactionalSubscriptionLeaseStore
{
    public async Task HandleAndSaveCheckpointAsync(SubscriptionLease lease, Position checkpoint, Func<object, CancellationToken, Task> handle, CancellationToken cancellationToken = default)
    {
        await Control.GateAsync(cancellationToken);
        await Control.SaveAsync(ShareOf(lease.Name), checkpoint,
            () => ((ITransactionalSubscriptionLeaseStore)Inner).HandleAndSaveCheckpointAsync(lease, checkpoint, handle, cancellationToken));
    }
}

/// <summary>A provider's native coordinators as one instance sees them, behind its <see cref="InstanceSwitch"/>.</summary>
internal sealed class SwitchedCoordinatorFactory(ISubscriptionGroupCoordinatorFactory inner, InstanceSwitch control) : ISubscriptionGroupCoordinatorFactory
{
    public ISubscriptionGroupCoordinator Create(string subscriptionId, string instanceId, SubscriptionGroupOptions options, TimeProvider timeProvider) =>
        new Coordinator(inner.Create(subscriptionId, instanceId, options, timeProvider), control);

    private sealed class Coordinator(ISubscriptionGroupCoordinator inner, InstanceSwitch control) : ISubscriptionGroupCoordinator
    {
        private readonly ConcurrentDictionary<(int, long), Claim> _claims = new();

        public int Shares => inner.Shares;

        public int ShareOf(StreamName stream) => inner.ShareOf(stream);

        public async Task<IReadOnlyList<ShareClaim>> RefreshAsync(CancellationToken cancellationToken)
        {
            await control.GateAsync(cancellationToken);
            var claims = await inner.RefreshAsync(cancellationToken);
            control.Refreshed();
            return [.. claims.Select(c => _claims.GetOrAdd((c.Share, c.Token), _ => new Claim(c, control)))];
        }

        public async Task LeaveAsync(CancellationToken cancellationToken)
        {
            await control.GateAsync(cancellationToken);
            await inner.LeaveAsync(cancellationToken);
        }

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }

    private sealed class Claim(ShareClaim inner, InstanceSwitch control) : ShareClaim(inner.Share, inner.Token, inner.Checkpoint)
    {
        public override bool IsTransactional => inner.IsTransactional;

        public override async Task SaveCheckpointAsync(Position checkpoint, CancellationToken cancellationToken)
        {
            await control.GateAsync(cancellationToken);
            await control.SaveAsync(Share, checkpoint, () => inner.SaveCheckpointAsync(checkpoint, cancellationToken));
        }

        public override async Task HandleAndSaveCheckpointAsync(Position checkpoint, Func<object, CancellationToken, Task> handle, CancellationToken cancellationToken)
        {
            await control.GateAsync(cancellationToken);
            await control.SaveAsync(Share, checkpoint, () => inner.HandleAndSaveCheckpointAsync(checkpoint, handle, cancellationToken));
        }
    }
}

/// <summary>One event as an instance handled it, numbered in the order handlers ran across all instances.</summary>
internal sealed record HandledEvent(long Sequence, string Instance, int Share, RecordedEvent Event);

/// <summary>
/// The handler every instance of a test shares a log with: records what each instance handles, notices two instances
/// inside one stream at once, and lets a test stall an instance's next batch.
/// </summary>
internal sealed class GroupHandler(InstanceSwitch control, GroupHandlingLog log) : ISubscriptionHandler
{
    private TaskCompletionSource? _stall;
    private readonly TaskCompletionSource _stalled = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Makes the next batch wait (ignoring cancellation, as a paused thread would) until <see cref="Unstall"/>.</summary>
    public Task StallNextBatch()
    {
        _stall = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return _stalled.Task;
    }

    public void Unstall() => _stall?.TrySetResult();

    /// <summary>Runs inside the stalled batch once it resumes, with its context (and transaction).</summary>
    public Func<SubscriptionContext, CancellationToken, Task>? AfterStall { get; set; }

    public async Task HandleAsync(IReadOnlyList<RecordedEvent> events, SubscriptionContext context, CancellationToken cancellationToken)
    {
        if (control.Killed)
        {
            // A dead process does nothing more.
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        var streams = events.Select(e => e.Stream).Distinct().ToList();
        log.Enter(control.InstanceId, streams);
        try
        {
            if (_stall is { } stall)
            {
                _stalled.TrySetResult();
                await stall.Task;
                _stall = null;
                if (AfterStall is { } after) await after(context, cancellationToken);
            }
            foreach (var e in events) log.Record(control.InstanceId, context.Share ?? -1, e);
        }
        finally
        {
            log.Leave(control.InstanceId, streams);
        }
    }
}

/// <summary>What every instance of one test handled.</summary>
internal sealed class GroupHandlingLog
{
    private readonly ConcurrentQueue<HandledEvent> _handled = new();
    private readonly ConcurrentDictionary<StreamName, string> _inside = new();
    private readonly ConcurrentQueue<string> _overlaps = new();
    private long _sequence;

    public IReadOnlyList<HandledEvent> Handled => [.. _handled.OrderBy(h => h.Sequence)];

    public IReadOnlyList<string> Overlaps => [.. _overlaps];

    public int DistinctHandled => _handled.Select(h => h.Event.EventId).Distinct().Count();

    public void Enter(string instance, IEnumerable<StreamName> streams)
    {
        foreach (var stream in streams)
        {
            var holder = _inside.GetOrAdd(stream, instance);
            if (holder != instance) _overlaps.Enqueue($"{stream} handled by {instance} while {holder} was inside it");
        }
    }

    public void Leave(string instance, IEnumerable<StreamName> streams)
    {
        foreach (var stream in streams) _inside.TryRemove(KeyValuePair.Create(stream, instance));
    }

    public void Record(string instance, int share, RecordedEvent e) =>
        _handled.Enqueue(new HandledEvent(Interlocked.Increment(ref _sequence), instance, share, e));
}

/// <summary>One running instance of the group under test.</summary>
internal sealed class GroupInstance(SubscriptionRunner runner, InstanceSwitch control, GroupHandler handler, IEventStore store) : IAsyncDisposable
{
    public SubscriptionRunner Runner { get; } = runner;

    public InstanceSwitch Control { get; } = control;

    public GroupHandler Handler { get; } = handler;

    public string Id => Control.InstanceId;

    public bool Live => !Control.Killed && !Control.Paused;

    public async ValueTask DisposeAsync()
    {
        Handler.Unstall();
        Control.Resume();
        await Runner.DisposeAsync();
        if (store is IAsyncDisposable disposable) await disposable.DisposeAsync();
    }
}
