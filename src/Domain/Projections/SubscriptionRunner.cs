using EventStore.Providers.Diagnostics;
using EventStore.Providers.Serialization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EventStore.Providers.Projections;

/// <summary>
/// Runs a catch-up subscription over any <see cref="IEventStore"/>: resumes after the stored checkpoint, hands events
/// to an <see cref="ISubscriptionHandler"/> in batches, and stores the checkpoint every
/// <see cref="SubscriptionOptions.CheckpointAfterEvents"/> events, after <see cref="SubscriptionOptions.CheckpointAfterTime"/>,
/// on the store's checkpoint messages, when caught up and when stopped. A <see cref="TransientEventStoreException"/>
/// from the store makes it resubscribe from its last handled position, with back-off, up to
/// <see cref="SubscriptionOptions.ResubscribeAttempts"/> times in a row. A failing handler stops it:
/// <see cref="Status"/> becomes <see cref="SubscriptionStatus.Faulted"/> with the exception in <see cref="Error"/>.
/// With <see cref="SubscriptionOptions.Group"/> set, it runs as one instance of a subscription group: it handles only
/// the shares it holds, with their checkpoints kept by the group's coordinator instead of the checkpoint store.
/// </summary>
public sealed partial class SubscriptionRunner : IAsyncDisposable
{
    private readonly IEventStore _store;
    private readonly ICheckpointStore _checkpoints;
    private readonly ISubscriptionHandler _handler;
    private readonly SubscriptionOptions _options;
    private readonly IEventSerializer? _serializer;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly SubscriptionGroupRunner? _group;

    private Position? _processed;
    private Position? _stored;
    private int _unsavedEvents;
    private long _lastSaveTimestamp;
    private TaskCompletionSource _progress = NewSignal();
    private CancellationTokenSource? _runCts;
    private Task? _run;
    private volatile SubscriptionStatus _status;
    private volatile Exception? _error;
    private int _disposed;

    /// <summary>Creates a runner.</summary>
    /// <param name="subscriptionId">The subscription's id: its checkpoint key.</param>
    /// <param name="store">The event store.</param>
    /// <param name="checkpoints">Where checkpoints are stored.</param>
    /// <param name="handler">What handles the events.</param>
    /// <param name="options">Batching, checkpointing and filter options.</param>
    /// <param name="serializer">The serializer handed to handlers for typed events.</param>
    /// <param name="timeProvider">The clock for time-based checkpoints.</param>
    /// <param name="logger">Logger.</param>
    public SubscriptionRunner(
        string subscriptionId,
        IEventStore store,
        ICheckpointStore checkpoints,
        ISubscriptionHandler handler,
        SubscriptionOptions? options = null,
        IEventSerializer? serializer = null,
        TimeProvider? timeProvider = null,
        ILogger<SubscriptionRunner>? logger = null)
        : this(subscriptionId, store, checkpoints, handler, options, serializer, timeProvider, logger, null, null)
    {
    }

    /// <summary>Creates a runner that can run as an instance of a subscription group.</summary>
    /// <param name="subscriptionId">The subscription's id: its checkpoint key, and the group's name.</param>
    /// <param name="store">The event store.</param>
    /// <param name="checkpoints">Where checkpoints are stored (not used in a group: each share keeps its own).</param>
    /// <param name="handler">What handles the events.</param>
    /// <param name="options">Batching, checkpointing, filter and group options.</param>
    /// <param name="serializer">The serializer handed to handlers for typed events.</param>
    /// <param name="timeProvider">The clock for time-based checkpoints and leases.</param>
    /// <param name="logger">Logger.</param>
    /// <param name="groupCoordinators">
    /// Makes the group's coordinator when <see cref="SubscriptionOptions.Group"/> is set: the provider's native one, or a
    /// <see cref="LeaseCoordinatorFactory"/> over its lease store.
    /// </param>
    /// <param name="instrumentation">Where a group instance reports its shares, lag and hand-overs; none when null.</param>
    /// <exception cref="EventStoreConfigurationException">A group mode is set and <paramref name="groupCoordinators"/> is null.</exception>
    public SubscriptionRunner(
        string subscriptionId,
        IEventStore store,
        ICheckpointStore checkpoints,
        ISubscriptionHandler handler,
        SubscriptionOptions? options,
        IEventSerializer? serializer,
        TimeProvider? timeProvider,
        ILogger<SubscriptionRunner>? logger,
        ISubscriptionGroupCoordinatorFactory? groupCoordinators,
        EventStoreInstrumentation? instrumentation)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(subscriptionId);
        SubscriptionId = subscriptionId;
        _store = store ?? throw new ArgumentNullException(nameof(store));
        _checkpoints = checkpoints ?? throw new ArgumentNullException(nameof(checkpoints));
        _handler = handler ?? throw new ArgumentNullException(nameof(handler));
        _options = options ?? new SubscriptionOptions();
        _options.EnsureValid();
        _serializer = serializer;
        _time = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        if (_options.Group.Mode == SubscriptionGroupMode.None) return;
        if (groupCoordinators is null)
            throw new EventStoreConfigurationException($"EventStore:Subscriptions:{subscriptionId}:Group:Mode",
                $"is {_options.Group.Mode}, but the {store.Capabilities.ProviderName} provider does not support subscription groups (it registers neither a lease store nor a native group coordinator).");
        _group = new SubscriptionGroupRunner(this, _store, _handler, _options, groupCoordinators, _serializer, _time, _logger, instrumentation);
    }

    /// <summary>The subscription's id.</summary>
    public string SubscriptionId { get; }

    /// <summary>The handler.</summary>
    public ISubscriptionHandler Handler => _handler;

    /// <summary>Where the subscription is.</summary>
    public SubscriptionStatus Status => _status;

    /// <summary>Why the subscription stopped, when <see cref="Status"/> is <see cref="SubscriptionStatus.Faulted"/>.</summary>
    public Exception? Error => _error;

    /// <summary>In a subscription group: this instance's name in the group; null otherwise.</summary>
    public string? InstanceId => _group?.InstanceId;

    /// <summary>In a subscription group: the shares this instance handles now (empty for a standby); empty otherwise.</summary>
    public IReadOnlyList<int> HeldShares => _group?.HeldShares ?? [];

    /// <summary>
    /// The position of the last handled (or passed) message; null before the first. In a subscription group: every event
    /// of the shares this instance holds is handled up to here.
    /// </summary>
    public Position? ProcessedPosition { get { lock (_gate) return _processed; } }

    /// <summary>The last checkpoint stored; null when none was.</summary>
    public Position? StoredCheckpoint { get { lock (_gate) return _stored; } }

    /// <summary>Starts the subscription in the background. Failures are recorded in <see cref="Status"/> and <see cref="Error"/>, and logged.</summary>
    /// <exception cref="InvalidOperationException">It is already running.</exception>
    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (_run is { IsCompleted: false }) throw new InvalidOperationException($"Subscription '{SubscriptionId}' is already running.");
            _runCts = new CancellationTokenSource();
            var token = _runCts.Token;
            // Set before the loop runs so a waiter right after StartAsync does not see the previous run's Stopped.
            _error = null;
            _status = SubscriptionStatus.CatchingUp;
            _run = Task.Run(async () =>
            {
                try
                {
                    await RunAsync(token).ConfigureAwait(false);
                }
                catch (Exception) when (_status == SubscriptionStatus.Faulted)
                {
                    // Recorded in Status/Error and logged by RunAsync; a background failure must not crash the host.
                }
            }, CancellationToken.None);
        }
        return Task.CompletedTask;
    }

    /// <summary>Stops the subscription started by <see cref="StartAsync"/>, storing the checkpoint of what was handled.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        Task? run;
        lock (_gate)
        {
            run = _run;
            _runCts?.Cancel();
        }
        if (run is not null) await run.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Rebuilds from scratch: stops the subscription, deletes its checkpoint, resets the read model
    /// (<see cref="IResettableHandler"/>) and, if it was running, starts it again from the beginning of the log.
    /// </summary>
    /// <exception cref="NotSupportedException">The subscription runs as a group: its checkpoints belong to the shares.</exception>
    public async Task RebuildAsync(CancellationToken cancellationToken = default)
    {
        if (_group is not null)
            throw new NotSupportedException($"Subscription '{SubscriptionId}' runs as a group, whose checkpoints are kept per share by every instance; rebuild it by running the projection under a new subscription id.");
        bool wasRunning;
        lock (_gate) wasRunning = _run is { IsCompleted: false };
        await StopAsync(cancellationToken).ConfigureAwait(false);
        await _checkpoints.DeleteAsync(SubscriptionId, cancellationToken).ConfigureAwait(false);
        if (_handler is IResettableHandler resettable) await resettable.ResetAsync(cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            _processed = null;
            _stored = null;
        }
        LogRebuilt(SubscriptionId);
        if (wasRunning) await StartAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Waits until the subscription has handled (or passed) <paramref name="position"/>, for example the position of an
    /// append whose effect a caller wants to read back. With <see cref="GlobalOrdering.PerPartition"/> a position is
    /// reached when each of its per-partition entries is. A filtered subscription passes filtered-out events only when the store sends
    /// a checkpoint message (when caught up, then every <see cref="SubscriptionOptions.FilteredCheckpointInterval"/>
    /// filtered events), so wait for the position of an event the subscription receives.
    /// </summary>
    /// <exception cref="SubscriptionStoppedException">The subscription failed or stopped first.</exception>
    public async Task WaitForPositionAsync(Position position, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            Task signal;
            lock (_gate)
            {
                if (_processed is { } p && Reached(p, position)) return;
                signal = _progress.Task;
            }
            if (_status is SubscriptionStatus.Faulted or SubscriptionStatus.Stopped)
                throw new SubscriptionStoppedException(SubscriptionId, _status, _error);
            await signal.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// On a <see cref="GlobalOrdering.PerPartition"/> store a position is a vector of per-partition offsets and an
    /// append's position carries only its own partition's entry: it is reached when every entry is, not when the
    /// vectors compare lexicographically (which another partition's progress would satisfy before the event).
    /// </summary>
    private bool Reached(Position processed, Position position) => PositionOrder.Reached(_store.Capabilities.GlobalOrder, processed, position);

    /// <summary>
    /// Runs the subscription until <paramref name="cancellationToken"/> is cancelled (then returns after storing the
    /// checkpoint) or until it fails.
    /// </summary>
    /// <exception cref="SubscriptionHandlerException">The handler failed; the checkpoint stays before the failed batch.</exception>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (_group is not null)
        {
            await RunAsGroupInstanceAsync(_group, cancellationToken).ConfigureAwait(false);
            return;
        }
        _error = null;
        _status = SubscriptionStatus.CatchingUp;
        Signal();
        try
        {
            var start = await _checkpoints.LoadAsync(SubscriptionId, cancellationToken).ConfigureAwait(false);
            lock (_gate)
            {
                _processed = start;
                _stored = start;
                _unsavedEvents = 0;
                _lastSaveTimestamp = _time.GetTimestamp();
            }
            LogStarting(SubscriptionId, start?.ToString() ?? "the start");
            var failures = 0;
            while (true)
            {
                var before = ProcessedPosition;
                try
                {
                    await SubscribeOnceAsync(before, cancellationToken).ConfigureAwait(false);
                    throw new InvalidOperationException($"The event store ended subscription '{SubscriptionId}', which should run until cancelled.");
                }
                catch (TransientEventStoreException e) when (!cancellationToken.IsCancellationRequested)
                {
                    // Progress since the last failure means the backend recovered in between: count afresh.
                    failures = ProcessedPosition == before ? failures + 1 : 1;
                    if (failures > _options.ResubscribeAttempts) throw;
                    var delay = ResubscribeDelay(failures);
                    LogResubscribing(e, SubscriptionId, failures, _options.ResubscribeAttempts, delay.TotalMilliseconds);
                    _status = SubscriptionStatus.CatchingUp;
                    await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await SaveCheckpointIfBehindAsync().ConfigureAwait(false);
            _status = SubscriptionStatus.Stopped;
            LogStopped(SubscriptionId, StoredCheckpoint?.ToString() ?? "none");
        }
        catch (Exception e)
        {
            await SaveCheckpointIfBehindAsync().ConfigureAwait(false);
            _error = e;
            _status = SubscriptionStatus.Faulted;
            LogFaulted(e, SubscriptionId, StoredCheckpoint?.ToString() ?? "none");
            throw;
        }
        finally
        {
            Signal();
        }
    }

    private async Task RunAsGroupInstanceAsync(SubscriptionGroupRunner group, CancellationToken cancellationToken)
    {
        _error = null;
        _status = SubscriptionStatus.CatchingUp;
        lock (_gate) _processed = null;
        Signal();
        try
        {
            await group.RunAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _status = SubscriptionStatus.Stopped;
            LogStopped(SubscriptionId, "each share's own");
        }
        catch (Exception e)
        {
            _error = e;
            _status = SubscriptionStatus.Faulted;
            LogFaulted(e, SubscriptionId, "each share's last");
            throw;
        }
        finally
        {
            Signal();
        }
    }

    internal void ReportGroupStatus(SubscriptionStatus status)
    {
        if (_status == status) return;
        _status = status;
        Signal();
    }

    internal void ReportGroupProgress(Position position) => Advance(position, 0);

    internal void ReportResubscribing(TransientEventStoreException exception, int failures, TimeSpan delay)
    {
        LogResubscribing(exception, SubscriptionId, failures, _options.ResubscribeAttempts, delay.TotalMilliseconds);
        _status = SubscriptionStatus.CatchingUp;
    }

    // One subscription attempt from the last handled position; returns only if the store ends the subscription.
    private async Task SubscribeOnceAsync(Position? from, CancellationToken cancellationToken)
    {
        await using var pump = SubscriptionPump.Start(_store, _options, from, cancellationToken);
        await ConsumeAsync(pump, cancellationToken).ConfigureAwait(false);
    }

    private TimeSpan ResubscribeDelay(int failures) => ResubscribeDelay(_options, failures);

    internal static TimeSpan ResubscribeDelay(SubscriptionOptions options, int failures)
    {
        var ticks = options.ResubscribeDelay.Ticks * Math.Pow(2, Math.Min(failures - 1, 16));
        return TimeSpan.FromTicks((long)Math.Min(ticks, TimeSpan.FromSeconds(30).Ticks));
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        // The container disposes the runner once per registration (keyed and unkeyed): the second call does nothing.
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        await StopAsync().ConfigureAwait(false);
        _runCts?.Dispose();
    }

    private async Task ConsumeAsync(SubscriptionPump pump, CancellationToken cancellationToken)
    {
        var reader = pump.Reader;
        var batch = new List<RecordedEvent>(_options.BatchSize);
        while (true)
        {
            if (!reader.TryRead(out var message))
            {
                if (!await pump.WaitForMessageAsync(TimeUntilCheckpointDue, SaveCheckpointAsync, _time, cancellationToken).ConfigureAwait(false))
                {
                    await reader.Completion.ConfigureAwait(false);
                    return;
                }
                continue;
            }
            if (message.Kind == SubscriptionMessageKind.Event && message.Event is not null)
            {
                batch.Add(message.Event);
                SubscriptionMessage next = default;
                var hasNext = false;
                while (batch.Count < _options.BatchSize && reader.TryRead(out next))
                {
                    if (next.Kind == SubscriptionMessageKind.Event && next.Event is not null) batch.Add(next.Event);
                    else { hasNext = true; break; }
                }
                await HandleBatchAsync(batch, cancellationToken).ConfigureAwait(false);
                batch.Clear();
                if (hasNext) await HandleControlAsync(next, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await HandleControlAsync(message, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task HandleControlAsync(SubscriptionMessage message, CancellationToken cancellationToken)
    {
        switch (message.Kind)
        {
            case SubscriptionMessageKind.Checkpoint:
                Advance(message.Position, 0);
                await SaveCheckpointAsync(cancellationToken).ConfigureAwait(false);
                break;
            case SubscriptionMessageKind.CaughtUp:
                if (!message.Position.IsStart) Advance(message.Position, 0);
                await SaveCheckpointAsync(cancellationToken).ConfigureAwait(false);
                _status = SubscriptionStatus.Live;
                LogCaughtUp(SubscriptionId, ProcessedPosition?.ToString() ?? "the start");
                Signal();
                break;
        }
    }

    private async Task HandleBatchAsync(List<RecordedEvent> batch, CancellationToken cancellationToken)
    {
        var events = batch.ToArray();
        var last = events[^1].Position;
        var context = new SubscriptionContext(SubscriptionId, _serializer);
        try
        {
            if (_options.UseTransactionalCheckpoints && _checkpoints is ITransactionalCheckpointStore transactional)
            {
                using var grace = new StopGrace(cancellationToken);
                await transactional.HandleAndSaveAsync(SubscriptionId, last,
                    (transaction, _) => _handler.HandleAsync(events, context with { Transaction = transaction }, cancellationToken), grace.Token).ConfigureAwait(false);
                Advance(last, events.Length);
                MarkSaved(last);
                return;
            }
            await _handler.HandleAsync(events, context, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (!(e is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            throw new SubscriptionHandlerException(SubscriptionId, events[0], events.Length, e);
        }
        Advance(last, events.Length);
        bool due;
        lock (_gate) due = _unsavedEvents >= _options.CheckpointAfterEvents;
        if (due || TimeUntilCheckpointDue() <= TimeSpan.Zero) await SaveCheckpointAsync(cancellationToken).ConfigureAwait(false);
    }

    private void Advance(Position position, int events)
    {
        lock (_gate)
        {
            if (_processed is null || position > _processed.Value) _processed = position;
            _unsavedEvents += events;
        }
        Signal();
    }

    private TimeSpan? TimeUntilCheckpointDue()
    {
        lock (_gate)
        {
            if (_processed is null || _processed == _stored) return null;
            return _options.CheckpointAfterTime - _time.GetElapsedTime(_lastSaveTimestamp);
        }
    }

    private async Task SaveCheckpointAsync(CancellationToken cancellationToken)
    {
        Position position;
        lock (_gate)
        {
            if (_processed is null || _processed == _stored) return;
            position = _processed.Value;
        }
        await _checkpoints.SaveAsync(SubscriptionId, position, cancellationToken).ConfigureAwait(false);
        MarkSaved(position);
        LogCheckpointStored(SubscriptionId, position.ToString());
    }

    private void MarkSaved(Position position)
    {
        lock (_gate)
        {
            _stored = position;
            _unsavedEvents = 0;
            _lastSaveTimestamp = _time.GetTimestamp();
        }
    }

    // On the way out (stop or failure) the progress already made is stored even though the run's token is cancelled.
    private async Task SaveCheckpointIfBehindAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(StopGrace.Period);
            await SaveCheckpointAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            LogFinalCheckpointFailed(e, SubscriptionId);
        }
    }

    private void Signal()
    {
        TaskCompletionSource previous;
        lock (_gate)
        {
            previous = _progress;
            _progress = NewSignal();
        }
        previous.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    [LoggerMessage(EventId = 1200, Level = LogLevel.Information, Message = "Subscription {SubscriptionId} starting after {Checkpoint}")]
    private partial void LogStarting(string subscriptionId, string checkpoint);

    [LoggerMessage(EventId = 1201, Level = LogLevel.Information, Message = "Subscription {SubscriptionId} caught up at {Position}; now live")]
    private partial void LogCaughtUp(string subscriptionId, string position);

    [LoggerMessage(EventId = 1202, Level = LogLevel.Debug, Message = "Subscription {SubscriptionId} stored checkpoint {Checkpoint}")]
    private partial void LogCheckpointStored(string subscriptionId, string checkpoint);

    [LoggerMessage(EventId = 1203, Level = LogLevel.Warning, Message = "Subscription {SubscriptionId} lost its connection to the store (failure {Failure} of {MaxFailures}); resubscribing in {DelayMs} ms from its last handled position")]
    private partial void LogResubscribing(Exception exception, string subscriptionId, int failure, int maxFailures, double delayMs);

    [LoggerMessage(EventId = 1204, Level = LogLevel.Information, Message = "Subscription {SubscriptionId} stopped at checkpoint {Checkpoint}")]
    private partial void LogStopped(string subscriptionId, string checkpoint);

    [LoggerMessage(EventId = 1205, Level = LogLevel.Error, Message = "Subscription {SubscriptionId} stopped by a failure; its checkpoint stays at {Checkpoint}")]
    private partial void LogFaulted(Exception exception, string subscriptionId, string checkpoint);

    [LoggerMessage(EventId = 1206, Level = LogLevel.Warning, Message = "Subscription {SubscriptionId} could not store its checkpoint while stopping; the events since the last one will be delivered again")]
    private partial void LogFinalCheckpointFailed(Exception exception, string subscriptionId);

    [LoggerMessage(EventId = 1207, Level = LogLevel.Information, Message = "Subscription {SubscriptionId} checkpoint deleted and read model reset for a rebuild")]
    private partial void LogRebuilt(string subscriptionId);
}
