using System.Text.Json;
using EventStore.Providers.Serialization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace EventStore.Providers.Aggregates;

/// <summary>Options of the <see cref="AggregateStore"/>.</summary>
public sealed class AggregateStoreOptions
{
    private readonly Dictionary<Type, int> _perType = [];

    /// <summary>Save a snapshot each time a stream passes a multiple of this many events (0 = never). Default 0.</summary>
    public int SnapshotEvery { get; set; }

    /// <summary>JSON options for snapshot state; <see cref="JsonSerializerDefaults.Web"/> by default.</summary>
    public JsonSerializerOptions SnapshotJson { get; set; } = new(JsonSerializerDefaults.Web);

    /// <summary>Overrides <see cref="SnapshotEvery"/> for one aggregate type.</summary>
    public AggregateStoreOptions SnapshotEveryFor<TAggregate>(int events) where TAggregate : Aggregate
    {
        ArgumentOutOfRangeException.ThrowIfNegative(events);
        _perType[typeof(TAggregate)] = events;
        return this;
    }

    /// <summary>The snapshot interval for <paramref name="aggregateType"/>.</summary>
    public int SnapshotEveryOf(Type aggregateType) => _perType.TryGetValue(aggregateType, out var n) ? n : SnapshotEvery;
}

/// <summary>
/// Loads aggregates (latest snapshot plus only the events after it), runs commands and stores the new events with
/// the loaded version as the expected version, so a concurrent writer makes the save fail with
/// <see cref="WrongExpectedVersionException"/> instead of losing an update.
/// </summary>
public sealed partial class AggregateStore
{
    private readonly IEventStore _store;
    private readonly IEventSerializer _serializer;
    private readonly ISnapshotStore? _snapshots;
    private readonly AggregateStoreOptions _options;
    private readonly ILogger _logger;

    /// <summary>Creates the store.</summary>
    /// <param name="store">The event store.</param>
    /// <param name="serializer">The event serializer.</param>
    /// <param name="snapshots">The snapshot store; no snapshots when null.</param>
    /// <param name="options">Snapshot policy.</param>
    /// <param name="logger">Logger.</param>
    public AggregateStore(IEventStore store, IEventSerializer serializer, ISnapshotStore? snapshots = null, IOptions<AggregateStoreOptions>? options = null, ILogger<AggregateStore>? logger = null)
    {
        _store = store ?? throw new ArgumentNullException(nameof(store));
        _serializer = serializer ?? throw new ArgumentNullException(nameof(serializer));
        _snapshots = snapshots;
        _options = options?.Value ?? new AggregateStoreOptions();
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>The stream of the aggregate <typeparamref name="TAggregate"/> with id <paramref name="id"/>: <c>{TypeName}-{id}</c>.</summary>
    public static StreamName StreamFor<TAggregate>(string id) where TAggregate : Aggregate => StreamName.For(typeof(TAggregate).Name, id);

    /// <summary>Loads an aggregate: the newest usable snapshot, then the events after it. A missing stream gives a new aggregate (version -1).</summary>
    public async Task<TAggregate> LoadAsync<TAggregate>(StreamName stream, CancellationToken cancellationToken = default) where TAggregate : Aggregate, new()
    {
        var aggregate = new TAggregate();
        long? from = null;
        if (_snapshots is not null && _options.SnapshotEveryOf(typeof(TAggregate)) > 0)
        {
            var snapshot = await _snapshots.LoadAsync(stream, cancellationToken).ConfigureAwait(false);
            if (snapshot is not null && TryRestore(aggregate, snapshot))
                from = snapshot.Version + 1;
        }
        await foreach (var recorded in _store.ReadStreamAsync(stream, ReadDirection.Forwards, from, long.MaxValue, cancellationToken).ConfigureAwait(false))
            aggregate.Replay(_serializer.Deserialize(recorded).Event, recorded.Version);
        return aggregate;
    }

    /// <summary>
    /// Stores the aggregate's pending changes with its loaded version as the expected version, then saves a snapshot
    /// when the stream crossed a multiple of the snapshot interval. Does nothing when there are no changes.
    /// </summary>
    /// <exception cref="WrongExpectedVersionException">Another writer changed the stream since it was loaded; nothing was written.</exception>
    /// <exception cref="TransientEventStoreException">The store could not be reached; the changes stay pending, and calling
    /// <c>SaveAsync</c> again with the same aggregate is safe (the same event ids are sent).</exception>
    public async Task<AppendResult?> SaveAsync<TAggregate>(StreamName stream, TAggregate aggregate, EventMetadata? metadata = null, CancellationToken cancellationToken = default) where TAggregate : Aggregate
    {
        ArgumentNullException.ThrowIfNull(aggregate);
        if (aggregate.Changes.Count == 0) return null;
        var original = aggregate.OriginalVersion;
        // The ids were fixed when the changes were raised: calling SaveAsync again after a lost reply or a transient
        // failure re-sends the same batch, which the store answers with the original result instead of a conflict.
        var batch = new EventData[aggregate.Changes.Count];
        for (var i = 0; i < batch.Length; i++) batch[i] = _serializer.Serialize(aggregate.Changes[i], metadata, aggregate.ChangeIds[i]);
        var result = await _store.AppendAsync(stream, ExpectedVersion.FromLastSeen(original), batch, cancellationToken).ConfigureAwait(false);
        aggregate.MarkCommitted(result.LastVersion);
        var every = _options.SnapshotEveryOf(typeof(TAggregate));
        if (_snapshots is not null && every > 0 && (result.LastVersion + 1) / every > (original + 1) / every)
            await SaveSnapshotAsync(stream, aggregate, cancellationToken).ConfigureAwait(false);
        return result;
    }

    /// <summary>Loads the aggregate, runs <paramref name="command"/> on it and saves its changes.</summary>
    /// <exception cref="WrongExpectedVersionException">Another writer changed the stream in between; nothing was written.</exception>
    public async Task<TAggregate> HandleAsync<TAggregate>(StreamName stream, Action<TAggregate> command, EventMetadata? metadata = null, CancellationToken cancellationToken = default) where TAggregate : Aggregate, new()
    {
        ArgumentNullException.ThrowIfNull(command);
        var aggregate = await LoadAsync<TAggregate>(stream, cancellationToken).ConfigureAwait(false);
        command(aggregate);
        await SaveAsync(stream, aggregate, metadata, cancellationToken).ConfigureAwait(false);
        return aggregate;
    }

    private bool TryRestore(Aggregate aggregate, Snapshot snapshot)
    {
        var schema = Aggregate.SnapshotSchemaOf(aggregate.StateType);
        if (snapshot.SnapshotType != aggregate.StateType.Name || snapshot.SchemaVersion != schema)
        {
            LogSnapshotIgnored(snapshot.Stream, snapshot.SnapshotType, snapshot.SchemaVersion, aggregate.StateType.Name, schema);
            return false;
        }
        try
        {
            var state = JsonSerializer.Deserialize(snapshot.Data.Span, aggregate.StateType, _options.SnapshotJson);
            if (state is null) return false;
            aggregate.Restore(state, snapshot.Version);
            return true;
        }
        catch (JsonException e)
        {
            LogSnapshotUnreadable(e, snapshot.Stream);
            return false;
        }
    }

    // The events are already stored: a failed snapshot only costs a longer replay next time, so it must not fail the command.
    private async Task SaveSnapshotAsync(StreamName stream, Aggregate aggregate, CancellationToken cancellationToken)
    {
        try
        {
            var data = JsonSerializer.SerializeToUtf8Bytes(aggregate.StateObject, aggregate.StateType, _options.SnapshotJson);
            await _snapshots!.SaveAsync(new Snapshot(stream, aggregate.OriginalVersion, aggregate.StateType.Name, data, Aggregate.SnapshotSchemaOf(aggregate.StateType)), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogSnapshotSaveFailed(e, stream);
        }
    }

    [LoggerMessage(EventId = 1100, Level = LogLevel.Debug, Message = "Ignoring snapshot of {Stream}: it holds {SnapshotType} v{SnapshotSchema}, the aggregate needs {StateType} v{StateSchema}; replaying all events")]
    private partial void LogSnapshotIgnored(StreamName stream, string snapshotType, int snapshotSchema, string stateType, int stateSchema);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Warning, Message = "Ignoring unreadable snapshot of {Stream}; replaying all events")]
    private partial void LogSnapshotUnreadable(Exception exception, StreamName stream);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Warning, Message = "Could not save a snapshot of {Stream}; the events are stored")]
    private partial void LogSnapshotSaveFailed(Exception exception, StreamName stream);
}
