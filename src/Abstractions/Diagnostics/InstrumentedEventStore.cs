using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EventStore.Providers.Diagnostics;

/// <summary>
/// Wraps a provider's <see cref="IEventStore"/> with tracing (<see cref="EventStoreInstrumentation.ActivitySource"/>),
/// metrics and logging (appends and expected-version conflicts at Debug, failures at Warning). <c>AddEventStore</c> puts it around every provider.
/// </summary>
public sealed partial class InstrumentedEventStore : IEventStore
{
    private readonly IEventStore _inner;
    private readonly EventStoreInstrumentation _instrumentation;
    private readonly ILogger _logger;
    private readonly KeyValuePair<string, object?> _providerTag;

    /// <summary>Wraps <paramref name="inner"/>.</summary>
    public InstrumentedEventStore(IEventStore inner, EventStoreInstrumentation instrumentation, ILogger<InstrumentedEventStore>? logger = null)
    {
        _inner = inner ?? throw new ArgumentNullException(nameof(inner));
        _instrumentation = instrumentation ?? throw new ArgumentNullException(nameof(instrumentation));
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _providerTag = new("eventstore.provider", inner.Capabilities.ProviderName);
    }

    /// <summary>The wrapped provider store.</summary>
    public IEventStore Inner => _inner;

    /// <inheritdoc />
    public EventStoreCapabilities Capabilities => _inner.Capabilities;

    /// <inheritdoc />
    public async Task<AppendResult> AppendAsync(StreamName stream, ExpectedVersion expectedVersion, IReadOnlyList<EventData> events, CancellationToken cancellationToken = default)
    {
        using var activity = EventStoreInstrumentation.ActivitySource.StartActivity("eventstore.append", ActivityKind.Client);
        activity?.SetTag(_providerTag.Key, _providerTag.Value);
        activity?.SetTag("eventstore.stream", stream.ToString());
        activity?.SetTag("eventstore.expected_version", expectedVersion.ToString());
        activity?.SetTag("eventstore.event_count", events?.Count ?? 0);
        var started = Stopwatch.GetTimestamp();
        string outcome = "failed";
        try
        {
            var result = await _inner.AppendAsync(stream, expectedVersion, events!, cancellationToken).ConfigureAwait(false);
            outcome = result.WroteEvents ? "written" : events!.Count == 0 ? "empty" : "idempotent";
            if (result.WroteEvents) _instrumentation.EventsAppended.Add(events!.Count, _providerTag);
            activity?.SetTag("eventstore.last_version", result.LastVersion);
            LogAppended(events!.Count, stream, result.LastVersion, outcome);
            return result;
        }
        catch (WrongExpectedVersionException e)
        {
            outcome = "conflict";
            _instrumentation.Conflicts.Add(1, _providerTag);
            activity?.SetStatus(ActivityStatusCode.Error, nameof(WrongExpectedVersionException));
            // An expected outcome of optimistic concurrency, not a failure: Debug, and no stack trace.
            LogConflict(events?.Count ?? 0, stream, expectedVersion.ToString(), e.ActualVersion?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unknown");
            throw;
        }
        catch (Exception e)
        {
            outcome = e is OperationCanceledException ? "cancelled" : "failed";
            activity?.SetStatus(ActivityStatusCode.Error, e.GetType().Name);
            if (e is not OperationCanceledException) LogAppendFailed(e, events?.Count ?? 0, stream, expectedVersion.ToString());
            throw;
        }
        finally
        {
            var outcomeTag = new KeyValuePair<string, object?>("eventstore.outcome", outcome);
            _instrumentation.Appends.Add(1, _providerTag, outcomeTag);
            _instrumentation.AppendDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, _providerTag, outcomeTag);
        }
    }

    /// <inheritdoc />
    public IAsyncEnumerable<RecordedEvent> ReadStreamAsync(StreamName stream, ReadDirection direction = ReadDirection.Forwards, long? fromVersion = null, long maxCount = long.MaxValue, CancellationToken cancellationToken = default) =>
        Measure("stream", _inner.ReadStreamAsync(stream, direction, fromVersion, maxCount, cancellationToken), cancellationToken);

    /// <inheritdoc />
    public IAsyncEnumerable<RecordedEvent> ReadAllAsync(ReadAllOptions? options = null, CancellationToken cancellationToken = default) =>
        Measure("all", _inner.ReadAllAsync(options, cancellationToken), cancellationToken);

    /// <inheritdoc />
    public IAsyncEnumerable<RecordedEvent> ReadCategoryAsync(string category, ReadAllOptions? options = null, CancellationToken cancellationToken = default) =>
        Measure("category", _inner.ReadCategoryAsync(category, options, cancellationToken), cancellationToken);

    /// <inheritdoc />
    public Task<StreamInfo> GetStreamInfoAsync(StreamName stream, CancellationToken cancellationToken = default) => _inner.GetStreamInfoAsync(stream, cancellationToken);

    /// <inheritdoc />
    public Task<Position> GetHeadPositionAsync(CancellationToken cancellationToken = default) => _inner.GetHeadPositionAsync(cancellationToken);

    /// <inheritdoc />
    public IAsyncEnumerable<SubscriptionMessage> SubscribeToAllAsync(SubscribeToAllOptions? options = null, CancellationToken cancellationToken = default) =>
        _inner.SubscribeToAllAsync(options, cancellationToken);

    /// <inheritdoc />
    public IAsyncEnumerable<SubscriptionMessage> SubscribeToStreamAsync(StreamName stream, long? afterVersion = null, CancellationToken cancellationToken = default) =>
        _inner.SubscribeToStreamAsync(stream, afterVersion, cancellationToken);

    /// <inheritdoc />
    public async Task DeleteStreamAsync(StreamName stream, ExpectedVersion expectedVersion, StreamDeletionMode mode = StreamDeletionMode.Soft, CancellationToken cancellationToken = default)
    {
        using var activity = EventStoreInstrumentation.ActivitySource.StartActivity("eventstore.delete", ActivityKind.Client);
        activity?.SetTag(_providerTag.Key, _providerTag.Value);
        activity?.SetTag("eventstore.stream", stream.ToString());
        activity?.SetTag("eventstore.delete_mode", mode.ToString());
        try
        {
            await _inner.DeleteStreamAsync(stream, expectedVersion, mode, cancellationToken).ConfigureAwait(false);
            LogDeleted(stream, mode);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            activity?.SetStatus(ActivityStatusCode.Error, e.GetType().Name);
            LogDeleteFailed(e, stream, mode);
            throw;
        }
    }

    // The wrapped enumerable keeps the provider's laziness: the clock runs from the first MoveNext to the end of
    // the enumeration, however the caller ends it.
    private async IAsyncEnumerable<RecordedEvent> Measure(string source, IAsyncEnumerable<RecordedEvent> inner, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var activity = EventStoreInstrumentation.ActivitySource.StartActivity("eventstore.read", ActivityKind.Client);
        activity?.SetTag(_providerTag.Key, _providerTag.Value);
        activity?.SetTag("eventstore.read_source", source);
        var started = Stopwatch.GetTimestamp();
        long count = 0;
        var sourceTag = new KeyValuePair<string, object?>("eventstore.read_source", source);
        try
        {
            await foreach (var e in inner.WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                count++;
                yield return e;
            }
        }
        finally
        {
            activity?.SetTag("eventstore.event_count", count);
            _instrumentation.EventsRead.Add(count, _providerTag, sourceTag);
            _instrumentation.ReadDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, _providerTag, sourceTag);
        }
    }

    [LoggerMessage(EventId = 1002, Level = LogLevel.Debug, Message = "Appended {Count} event(s) to {Stream}: last version {LastVersion} ({Outcome})")]
    private partial void LogAppended(int count, StreamName stream, long lastVersion, string outcome);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Debug, Message = "Append of {Count} event(s) to {Stream} met a concurrency conflict: expected version {ExpectedVersion}, actual {ActualVersion}")]
    private partial void LogConflict(int count, StreamName stream, string expectedVersion, string actualVersion);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Warning, Message = "Append of {Count} event(s) to {Stream} with expected version {ExpectedVersion} failed")]
    private partial void LogAppendFailed(Exception exception, int count, StreamName stream, string expectedVersion);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Debug, Message = "Deleted {Stream} ({Mode})")]
    private partial void LogDeleted(StreamName stream, StreamDeletionMode mode);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Warning, Message = "Delete of {Stream} ({Mode}) failed")]
    private partial void LogDeleteFailed(Exception exception, StreamName stream, StreamDeletionMode mode);
}
