using EventStore.Providers.Subscriptions.CatchUp;

namespace EventStore.Providers.InMemory;

/// <summary>
/// The embedded event store: thread-safe, everything in process memory, the default for samples and tests. Passes the
/// whole conformance suite; positions are one number (1 for the first event, dense, no gaps).
/// </summary>
/// <remarks>
/// Appends and deletes take one lock for the whole storage, so positions are handed out in commit order and a reader
/// can never see a later position before an earlier one (gap safety for free). Reads take no lock: they snapshot a
/// count and iterate chunks that never move, so a long read never blocks writers and never copies the stream.
/// </remarks>
public sealed class InMemoryEventStore : IEventStore
{
    private static readonly EventStoreCapabilities InMemoryCapabilities = new()
    {
        ProviderName = "InMemory",
        GlobalOrder = GlobalOrdering.Total,
        SoftDelete = true,
        Tombstone = true,
        TransactionalCheckpoints = false,
        SubscriptionGroups = true,
    };

    private readonly InMemoryStorage _storage;
    private readonly TimeProvider _time;
    private readonly CatchUpSubscriptionReader _subscriptions;

    /// <summary>Creates a store over new, empty storage.</summary>
    public InMemoryEventStore() : this(new InMemoryStorage()) { }

    /// <summary>Creates a store over <paramref name="storage"/>, which other instances may share.</summary>
    /// <param name="storage">The data.</param>
    /// <param name="timeProvider">The clock stamping <see cref="RecordedEvent.CreatedUtc"/>; the system clock when null.</param>
    public InMemoryEventStore(InMemoryStorage storage, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(storage);
        _storage = storage;
        _time = timeProvider ?? TimeProvider.System;
        _subscriptions = new CatchUpSubscriptionReader(this, new CatchUpOptions
        {
            GlobalOrder = GlobalOrdering.Total,
            Notifier = storage.Changes,
            TimeProvider = _time,
        });
    }

    /// <summary>The storage this instance reads and writes.</summary>
    public InMemoryStorage Storage => _storage;

    /// <inheritdoc />
    public EventStoreCapabilities Capabilities => InMemoryCapabilities;

    /// <inheritdoc />
    public Task<AppendResult> AppendAsync(StreamName stream, ExpectedVersion expectedVersion, IReadOnlyList<EventData> events, CancellationToken cancellationToken = default)
    {
        AppendResult result;
        try
        {
            EventGuard.ValidateAppend(stream, expectedVersion, events, Capabilities);
            // Checked once, before the lock: past this point the append runs to completion, so a cancelled append
            // either happened whole or not at all.
            cancellationToken.ThrowIfCancellationRequested();
            lock (_storage.WriteLock)
                result = AppendLocked(stream, expectedVersion, events);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<AppendResult>(cancellationToken);
        }
        catch (Exception e)
        {
            return Task.FromException<AppendResult>(e);
        }
        if (result.WroteEvents) _storage.Changes.Signal();
        return Task.FromResult(result);
    }

    private AppendResult AppendLocked(StreamName stream, ExpectedVersion expected, IReadOnlyList<EventData> events)
    {
        _storage.Streams.TryGetValue(stream.Value, out var state);
        var head = state?.Head ?? StreamHead.Empty;
        if (head.Tombstoned) throw new StreamDeletedException(stream);
        var current = head.EffectiveLastVersion;
        var satisfied = expected.IsSatisfiedBy(current);

        if (events.Count == 0)
        {
            if (!satisfied) throw new WrongExpectedVersionException(stream, expected, current);
            return new AppendResult(current, current < 0 ? Position.Start : state!.Events[head.Count - 1].Position, WroteEvents: false);
        }

        if (state is not null && FindStoredBatch(stream, state, expected, events) is { } original)
            return original;
        if (!satisfied) throw new WrongExpectedVersionException(stream, expected, current);

        state ??= _storage.Streams.GetOrAdd(stream.Value, static _ => new StreamState());
        var now = _time.GetUtcNow().ToUniversalTime();
        var firstIndex = _storage.All.StagedCount;
        var firstVersion = head.Count;
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            // Copied so the caller reusing its buffers can never change a stored event.
            var recorded = new RecordedEvent(stream, firstVersion + i, Position.FromInt64(firstIndex + i + 1L), e.EventId, e.EventType,
                e.Data.ToArray(), e.Metadata.ToArray(), e.ContentType, e.SchemaVersion, now);
            _storage.All.Stage(recorded);
            state.Events.Stage(recorded);
            state.VersionById[e.EventId] = firstVersion + i;
        }
        state.Events.Publish();
        state.Head = head with { Count = firstVersion + events.Count };
        _storage.All.Publish();
        var last = state.Events[firstVersion + events.Count - 1];
        return new AppendResult(last.Version, last.Position);
    }

    /// <summary>
    /// The idempotence rule: returns the original result when the whole batch is already stored where it would have
    /// gone (for Exact(v): versions v+1..; NoStream: 0..; Any/StreamExists: wherever its first event is), throws <see cref="EventIdConflictException"/> when only part of it is (or it is stored elsewhere), and
    /// returns null when none of its ids is stored.
    /// </summary>
    private static AppendResult? FindStoredBatch(StreamName stream, StreamState state, ExpectedVersion expected, IReadOnlyList<EventData> events)
    {
        var ids = state.VersionById;
        long start = expected.Kind switch
        {
            ExpectedVersionKind.Exact => expected.Version + 1,
            ExpectedVersionKind.NoStream => 0,
            // Any / StreamExists: where the batch's first event is stored, if it is.
            _ => ids.TryGetValue(events[0].EventId, out var v) ? v : -1,
        };
        var inPlace = 0;
        Guid? stored = null;
        for (var i = 0; i < events.Count; i++)
        {
            if (!ids.TryGetValue(events[i].EventId, out var version)) continue;
            stored ??= events[i].EventId;
            if (start >= 0 && version == start + i) inPlace++;
        }
        if (stored is null) return null;
        if (inPlace == events.Count)
        {
            var last = state.Events[(int)(start + events.Count - 1)];
            return new AppendResult(last.Version, last.Position, WroteEvents: false);
        }
        // Ids already stored, but not as this exact batch: writing would duplicate them, and it is no whole re-send either.
        throw new EventIdConflictException(stream, stored.Value);
    }

    /// <inheritdoc />
    public IAsyncEnumerable<RecordedEvent> ReadStreamAsync(StreamName stream, ReadDirection direction = ReadDirection.Forwards, long? fromVersion = null,
        long maxCount = long.MaxValue, CancellationToken cancellationToken = default)
    {
        EventGuard.ValidateReadStream(stream, direction, fromVersion, maxCount, Capabilities);
        return new SyncAsyncEnumerable<RecordedEvent>(() => ReadStream(stream, direction, fromVersion, maxCount), cancellationToken);
    }

    private IEnumerable<RecordedEvent> ReadStream(StreamName stream, ReadDirection direction, long? fromVersion, long maxCount)
    {
        if (!_storage.Streams.TryGetValue(stream.Value, out var state)) yield break;
        var head = state.Head;
        if (head.Tombstoned) throw new StreamDeletedException(stream);
        if (direction == ReadDirection.Forwards)
        {
            var from = Math.Max(fromVersion ?? 0, head.DeletedBefore);
            for (var v = from; v < head.Count && maxCount > 0; v++, maxCount--)
                yield return state.Events[(int)v];
        }
        else
        {
            var from = Math.Min(fromVersion ?? long.MaxValue, head.Count - 1L);
            for (var v = from; v >= head.DeletedBefore && maxCount > 0; v--, maxCount--)
                yield return state.Events[(int)v];
        }
    }

    /// <inheritdoc />
    public IAsyncEnumerable<RecordedEvent> ReadAllAsync(ReadAllOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= ReadAllOptions.Default;
        options.EnsureValid();
        var from = ToIndexOrNull(options.From);
        return new SyncAsyncEnumerable<RecordedEvent>(() => ReadAll(options.Direction, from, options.MaxCount, options.Filter), cancellationToken);
    }

    /// <inheritdoc />
    public IAsyncEnumerable<RecordedEvent> ReadCategoryAsync(string category, ReadAllOptions? options = null, CancellationToken cancellationToken = default)
    {
        EventGuard.ValidateCategory(category);
        options ??= ReadAllOptions.Default;
        options.EnsureValid();
        var filter = new EventFilter { Categories = [category], EventTypes = options.Filter.EventTypes };
        var from = ToIndexOrNull(options.From);
        return new SyncAsyncEnumerable<RecordedEvent>(() => ReadAll(options.Direction, from, options.MaxCount, filter), cancellationToken);
    }

    /// <summary>The position number of an exclusive start (0 for <see cref="Position.Start"/>), or null for "from the end/beginning".</summary>
    private static long? ToIndexOrNull(Position? from)
    {
        if (from is not { } p) return null;
        if (p.IsStart) return 0;
        if (p.Parts.Length != 1) throw new InvalidPositionException(p.ToString(), "in-memory positions are one number");
        return p.Parts[0];
    }

    private IEnumerable<RecordedEvent> ReadAll(ReadDirection direction, long? fromPosition, long maxCount, EventFilter filter)
    {
        var log = _storage.All;
        var count = log.Count;
        var all = filter.IsEmpty;
        if (direction == ReadDirection.Forwards)
        {
            // Position p is at index p - 1, so "after p" starts at index p.
            for (var i = fromPosition ?? 0; i < count && maxCount > 0; i++)
            {
                var e = log[(int)i];
                if (!all && !filter.Matches(e)) continue;
                maxCount--;
                yield return e;
            }
        }
        else
        {
            // "Before p" starts at index p - 2.
            for (var i = Math.Min(fromPosition is { } p ? p - 2 : long.MaxValue, count - 1L); i >= 0 && maxCount > 0; i--)
            {
                var e = log[(int)i];
                if (!all && !filter.Matches(e)) continue;
                maxCount--;
                yield return e;
            }
        }
    }

    /// <inheritdoc />
    public Task<StreamInfo> GetStreamInfoAsync(StreamName stream, CancellationToken cancellationToken = default)
    {
        try
        {
            EventGuard.ValidateStream(stream, Capabilities);
            cancellationToken.ThrowIfCancellationRequested();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<StreamInfo>(cancellationToken);
        }
        catch (Exception e)
        {
            return Task.FromException<StreamInfo>(e);
        }
        if (!_storage.Streams.TryGetValue(stream.Value, out var state)) return Task.FromResult(StreamInfo.NotFound(stream));
        var head = state.Head;
        var last = head.EffectiveLastVersion;
        var deleted = head.Tombstoned || (head.DeletedBefore > 0 && last < 0);
        return Task.FromResult(new StreamInfo(stream, Exists: !head.Tombstoned && last >= 0, head.Tombstoned ? -1 : last, deleted));
    }

    /// <inheritdoc />
    public Task<Position> GetHeadPositionAsync(CancellationToken cancellationToken = default) =>
        cancellationToken.IsCancellationRequested ? Task.FromCanceled<Position>(cancellationToken) : Task.FromResult(_storage.Head);

    /// <inheritdoc />
    public IAsyncEnumerable<SubscriptionMessage> SubscribeToAllAsync(SubscribeToAllOptions? options = null, CancellationToken cancellationToken = default)
    {
        if (options?.From is { } from) ToIndexOrNull(from);
        return _subscriptions.SubscribeToAllAsync(options, cancellationToken);
    }

    /// <inheritdoc />
    public IAsyncEnumerable<SubscriptionMessage> SubscribeToStreamAsync(StreamName stream, long? afterVersion = null, CancellationToken cancellationToken = default)
    {
        EventGuard.ValidateStream(stream, Capabilities);
        return _subscriptions.SubscribeToStreamAsync(stream, afterVersion, cancellationToken);
    }

    /// <inheritdoc />
    public Task DeleteStreamAsync(StreamName stream, ExpectedVersion expectedVersion, StreamDeletionMode mode = StreamDeletionMode.Soft, CancellationToken cancellationToken = default)
    {
        try
        {
            EventGuard.ValidateStream(stream, Capabilities);
            expectedVersion.EnsureValid();
            if (!Enum.IsDefined(mode)) throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown deletion mode.");
            cancellationToken.ThrowIfCancellationRequested();
            lock (_storage.WriteLock)
            {
                var state = _storage.Streams.GetOrAdd(stream.Value, static _ => new StreamState());
                var head = state.Head;
                if (head.Tombstoned) throw new StreamDeletedException(stream);
                var current = head.EffectiveLastVersion;
                if (!expectedVersion.IsSatisfiedBy(current)) throw new WrongExpectedVersionException(stream, expectedVersion, current);
                state.Head = mode == StreamDeletionMode.Tombstone ? head with { Tombstoned = true } : head with { DeletedBefore = head.Count };
            }
            return Task.CompletedTask;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled(cancellationToken);
        }
        catch (Exception e)
        {
            return Task.FromException(e);
        }
    }
}
