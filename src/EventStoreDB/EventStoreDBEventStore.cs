using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using EventStore.Providers.EventStoreDB.Protocol;
using EventStore.Providers.EventStoreDB.Protocol.Streams;
using Google.Protobuf;
using Duration = Google.Protobuf.WellKnownTypes.Duration;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ProtoEmpty = EventStore.Providers.EventStoreDB.Protocol.Empty;

namespace EventStore.Providers.EventStoreDB;

/// <summary>Stream metadata the server enforces (<c>$maxCount</c>, <c>$maxAge</c>, <c>$tb</c>); null leaves a value unchanged.</summary>
/// <param name="MaxCount">Keep only the newest this many events.</param>
/// <param name="MaxAge">Hide events older than this.</param>
/// <param name="TruncateBefore">Hide events below this version.</param>
public sealed record EventStoreDBStreamMetadata(long? MaxCount = null, TimeSpan? MaxAge = null, long? TruncateBefore = null);

/// <summary>
/// The EventStoreDB / KurrentDB provider: our event-store contract over the server's v1 gRPC Streams service,
/// written from the protocol (no official client). See the README beside this file for the mapping.
/// </summary>
public sealed class EventStoreDBEventStore : IEventStore, IAsyncDisposable, IDisposable
{
    private const int ReadFilterWindow = 4096;
    private readonly EventStoreDBEventStoreOptions _options;
    private readonly EsdbConnection _connection;
    private readonly BatchAppender _batch;
    private readonly RecentAppends _recent = new();
    private readonly ILogger _logger;

    /// <summary>Creates the store; the connection opens on first use.</summary>
    /// <param name="options">Validated options.</param>
    /// <param name="logger">Where connection events are logged (never credentials).</param>
    /// <exception cref="EventStoreConfigurationException">An option is invalid.</exception>
    public EventStoreDBEventStore(EventStoreDBEventStoreOptions options, ILogger<EventStoreDBEventStore>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var settings = options.Validate();
        _options = options;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _connection = new EsdbConnection(settings, _logger);
        _batch = new BatchAppender(_connection, _logger);
        Names = new StreamNames(options.StreamPrefix ?? "");
        Capabilities = new EventStoreCapabilities
        {
            ProviderName = "EventStoreDB",
            GlobalOrder = GlobalOrdering.Total,
            SoftDelete = true,
            Tombstone = true,
            TransactionalCheckpoints = false,
            MaxStreamNameLength = StreamName.MaxLength - Names.Prefix.Length,
            // The server's default limit is 1 MiB per append, counting type and our envelope too: leave room for them.
            MaxEventSize = 1_000_000,
            MaxEventsPerAppend = 10_000,
        };
        _logger.LogDebug("EventStoreDB store created for {Connection}", settings);
    }

    /// <inheritdoc />
    public EventStoreCapabilities Capabilities { get; }

    internal StreamNames Names { get; }

    internal EsdbConnection Connection => _connection;

    // ================================================================================================= append ====

    /// <inheritdoc />
    public async Task<AppendResult> AppendAsync(StreamName stream, ExpectedVersion expectedVersion, IReadOnlyList<EventData> events, CancellationToken cancellationToken = default)
    {
        EventGuard.ValidateAppend(stream, expectedVersion, events, Capabilities);
        cancellationToken.ThrowIfCancellationRequested();
        if (events.Count == 0) return await EmptyAppendAsync(stream, expectedVersion, cancellationToken).ConfigureAwait(false);

        var (verdict, known, conflicting) = _recent.Check(stream, expectedVersion, events);
        if (verdict == RecentAppends.Verdict.Idempotent) return known!;
        if (verdict == RecentAppends.Verdict.Conflict) throw new EventIdConflictException(stream, conflicting);

        var size = 0L;
        foreach (var e in events) size += e.Size + e.EventType.Length + 64;
        var outcome = size < _options.BatchAppendMaxBytes
            ? await BatchAppendAsync(stream, expectedVersion, events, cancellationToken).ConfigureAwait(false)
            : await PlainAppendAsync(Names.ToServer(stream), stream, expectedVersion, events.Select(EsdbProtocol.ToProposed).ToList(), events, cancellationToken).ConfigureAwait(false);
        if (outcome.Succeeded)
        {
            _recent.Remember(stream, events, outcome.LastVersion, outcome.Position);
            return new AppendResult(outcome.LastVersion, outcome.Position);
        }
        return await ResolveWrongVersionAsync(stream, expectedVersion, events, outcome.ActualVersion, cancellationToken).ConfigureAwait(false);
    }

    private async Task<AppendResult> EmptyAppendAsync(StreamName stream, ExpectedVersion expected, CancellationToken cancellationToken)
    {
        RecordedEvent? last = null;
        await foreach (var e in ReadStreamAsync(stream, ReadDirection.Backwards, null, 1, cancellationToken).ConfigureAwait(false)) last = e;
        var lastVersion = last?.Version ?? -1;
        if (!expected.IsSatisfiedBy(lastVersion)) throw new WrongExpectedVersionException(stream, expected, lastVersion);
        return new AppendResult(lastVersion, last?.Position ?? Position.Start, WroteEvents: false);
    }

    private async Task<AppendOutcome> BatchAppendAsync(StreamName stream, ExpectedVersion expected, IReadOnlyList<EventData> events, CancellationToken cancellationToken)
    {
        var options = new BatchAppendReq.Types.Options
        {
            StreamIdentifier = EsdbProtocol.StreamId(Names.ToServer(stream)),
            Deadline = Duration.FromTimeSpan(_connection.Settings.DefaultDeadline),
        };
        EsdbProtocol.SetExpected(options, expected);
        var proposed = events.Select(EsdbProtocol.ToBatchProposed).ToList();
        for (var attempt = 0; ; attempt++)
        {
            // A retry is a new request with a new correlation id but the same event ids: the server's idempotence
            // turns a write that did land into a success that writes nothing.
            var correlationId = Guid.NewGuid();
            var request = new BatchAppendReq { CorrelationId = EsdbProtocol.ToUuid(correlationId), Options = options, IsFinal = true };
            request.ProposedMessages.AddRange(proposed);
            try
            {
                var response = await _batch.AppendAsync(request, correlationId, _connection.Settings.DefaultDeadline + TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
                return EsdbProtocol.FromBatchAppendResponse(response, stream, events);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException(cancellationToken);
            }
            catch (RpcException e) when (attempt < _connection.Settings.MaxRetries && EsdbProtocol.IsTransient(e) && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50 * (1 << attempt)), cancellationToken).ConfigureAwait(false);
            }
            catch (TransientEventStoreException) when (attempt < _connection.Settings.MaxRetries && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50 * (1 << attempt)), cancellationToken).ConfigureAwait(false);
            }
            catch (RpcException e)
            {
                throw EsdbProtocol.FromRpcException(e, stream, expected, events);
            }
        }
    }

    /// <summary>A plain client-streaming Append: options first, then one message per event.</summary>
    private async Task<AppendOutcome> PlainAppendAsync(string serverStream, StreamName? stream, ExpectedVersion expected,
        IReadOnlyList<AppendReq.Types.ProposedMessage> proposed, IReadOnlyList<EventData>? events, CancellationToken cancellationToken)
    {
        var options = new AppendReq.Types.Options { StreamIdentifier = EsdbProtocol.StreamId(serverStream) };
        EsdbProtocol.SetExpected(options, expected);
        try
        {
            var response = await _connection.RetryAsync(async (client, callOptions) =>
            {
                using var call = client.Append(callOptions);
                try
                {
                    await call.RequestStream.WriteAsync(new AppendReq { Options = options }, cancellationToken).ConfigureAwait(false);
                    foreach (var message in proposed)
                        await call.RequestStream.WriteAsync(new AppendReq { ProposedMessage = message }, cancellationToken).ConfigureAwait(false);
                    await call.RequestStream.CompleteAsync().ConfigureAwait(false);
                }
                catch (Exception e) when (e is InvalidOperationException or RpcException)
                {
                    // The server answered early (deleted stream, size limit): its status is in the response.
                }
                return await call.ResponseAsync.ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(false);
            return EsdbProtocol.FromAppendResponse(response);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(cancellationToken);
        }
        catch (RpcException e)
        {
            throw EsdbProtocol.FromRpcException(e, stream, expected, events);
        }
    }

    /// <summary>
    /// The server said the expectation does not hold. Look where the batch would have landed: all its ids there in
    /// order means it was stored before (idempotent success); some of them means a partial overlap; none, a genuine
    /// wrong expected version.
    /// </summary>
    private async Task<AppendResult> ResolveWrongVersionAsync(StreamName stream, ExpectedVersion expected, IReadOnlyList<EventData> events, long? actual, CancellationToken cancellationToken)
    {
        var stored = new List<RecordedEvent>(events.Count);
        var (direction, from) = expected.Kind switch
        {
            ExpectedVersionKind.Exact => (ReadDirection.Forwards, (long?)(expected.Version + 1)),
            ExpectedVersionKind.NoStream => (ReadDirection.Forwards, 0L),
            _ => (ReadDirection.Backwards, (long?)null),
        };
        await foreach (var e in ReadStreamAsync(stream, direction, from, events.Count, cancellationToken).ConfigureAwait(false)) stored.Add(e);
        if (direction == ReadDirection.Backwards) stored.Reverse();
        if (stored.Count == events.Count && stored.Select(e => e.EventId).SequenceEqual(events.Select(e => e.EventId)))
        {
            var last = stored[^1];
            _recent.Remember(stream, events, last.Version, last.Position);
            return new AppendResult(last.Version, last.Position, WroteEvents: false);
        }
        var ids = events.Select(e => e.EventId).ToHashSet();
        var overlap = stored.FirstOrDefault(e => ids.Contains(e.EventId));
        if (overlap is not null) throw new EventIdConflictException(stream, overlap.EventId);
        throw new WrongExpectedVersionException(stream, expected, actual);
    }

    // =================================================================================================== read ====

    /// <inheritdoc />
    public async IAsyncEnumerable<RecordedEvent> ReadStreamAsync(StreamName stream, ReadDirection direction = ReadDirection.Forwards, long? fromVersion = null,
        long maxCount = long.MaxValue, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        EventGuard.ValidateReadStream(stream, direction, fromVersion, maxCount, Capabilities);
        if (maxCount == 0) yield break;
        var request = StreamRead(Names.ToServer(stream), direction, fromVersion, maxCount, resolveLinks: false);
        await foreach (var response in ReadAsync(request, stream, cancellationToken).ConfigureAwait(false))
        {
            if (response.ContentCase == ReadResp.ContentOneofCase.StreamNotFound) yield break;
            if (response.ContentCase != ReadResp.ContentOneofCase.Event || response.Event.Event is not { } e) continue;
            yield return EsdbProtocol.ToRecorded(e, stream);
        }
    }

    internal static ReadReq StreamRead(string serverStream, ReadDirection direction, long? fromVersion, long maxCount, bool resolveLinks)
    {
        var streamOptions = new ReadReq.Types.Options.Types.StreamOptions { StreamIdentifier = EsdbProtocol.StreamId(serverStream) };
        if (fromVersion is { } v) streamOptions.Revision = (ulong)v;
        else if (direction == ReadDirection.Forwards) streamOptions.Start = new ProtoEmpty();
        else streamOptions.End = new ProtoEmpty();
        return new ReadReq
        {
            Options = new ReadReq.Types.Options
            {
                Stream = streamOptions,
                ReadDirection = direction == ReadDirection.Forwards ? ReadReq.Types.Options.Types.ReadDirection.Forwards : ReadReq.Types.Options.Types.ReadDirection.Backwards,
                ResolveLinks = resolveLinks,
                Count = (ulong)maxCount,
                NoFilter = new ProtoEmpty(),
                UuidOption = new ReadReq.Types.Options.Types.UUIDOption { Structured = new ProtoEmpty() },
            },
        };
    }

    /// <summary>
    /// Streams the answers of one Read call without buffering. A transient failure before the first answer is
    /// retried; after it, the reader gets <see cref="TransientEventStoreException"/> and resumes from what it has.
    /// </summary>
    internal async IAsyncEnumerable<ReadResp> ReadAsync(ReadReq request, StreamName? stream, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var call = _connection.Client.Read(request, _connection.Options(cancellationToken, withDeadline: false));
            var received = false;
            var retry = false;
            while (true)
            {
                bool hasNext;
                try
                {
                    hasNext = await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false);
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && cancellationToken.IsCancellationRequested)
                {
                    throw new OperationCanceledException(cancellationToken);
                }
                catch (RpcException e) when (!received && attempt < _connection.Settings.MaxRetries && EsdbProtocol.IsTransient(e) && !cancellationToken.IsCancellationRequested)
                {
                    _connection.OnFailure(e);
                    retry = true;
                    break;
                }
                catch (RpcException e)
                {
                    throw EsdbProtocol.FromRpcException(e, stream);
                }
                if (!hasNext) break;
                received = true;
                yield return call.ResponseStream.Current;
            }
            if (!retry) yield break;
            await Task.Delay(TimeSpan.FromMilliseconds(50 * (1 << attempt)), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public IAsyncEnumerable<RecordedEvent> ReadAllAsync(ReadAllOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= ReadAllOptions.Default;
        options.EnsureValid();
        return ReadAllCoreAsync(options, cancellationToken);
    }

    private async IAsyncEnumerable<RecordedEvent> ReadAllCoreAsync(ReadAllOptions options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (options.MaxCount == 0) yield break;
        var from = options.From;
        if (from is { IsStart: false } f) EsdbProtocol.FromPosition(f);
        var forwards = options.Direction == ReadDirection.Forwards;
        if (from is { IsStart: true } && !forwards) yield break;
        var request = new ReadReq
        {
            Options = new ReadReq.Types.Options
            {
                All = EsdbProtocol.AllFrom(from, options.Direction),
                ReadDirection = forwards ? ReadReq.Types.Options.Types.ReadDirection.Forwards : ReadReq.Types.Options.Types.ReadDirection.Backwards,
                ResolveLinks = false,
                // The server filters; what comes back is checked again here, so the server's count cannot be the limit.
                Count = long.MaxValue,
                Filter = EsdbProtocol.BuildFilter(Names.Prefix, options.Filter, ReadFilterWindow),
                UuidOption = new ReadReq.Types.Options.Types.UUIDOption { Structured = new ProtoEmpty() },
            },
        };
        var yielded = 0L;
        await foreach (var response in ReadAsync(request, null, cancellationToken).ConfigureAwait(false))
        {
            if (response.ContentCase != ReadResp.ContentOneofCase.Event) continue;
            var e = Accept(response.Event, options.Filter, from, forwards);
            if (e is null) continue;
            yield return e;
            if (++yielded >= options.MaxCount) yield break;
        }
    }

    /// <summary>Our event for a read answer when it is one of this store's events, passes the filter and lies past <paramref name="from"/>.</summary>
    private RecordedEvent? Accept(ReadResp.Types.ReadEvent read, EventFilter filter, Position? from, bool forwards)
    {
        var e = EsdbProtocol.ToRecorded(read, Names);
        if (e is null || e.EventType.StartsWith('$')) return null;
        if (from is { IsStart: false } f && (forwards ? e.Position <= f : e.Position >= f)) return null;
        return filter.Matches(e) ? e : null;
    }

    /// <inheritdoc />
    public IAsyncEnumerable<RecordedEvent> ReadCategoryAsync(string category, ReadAllOptions? options = null, CancellationToken cancellationToken = default)
    {
        EventGuard.ValidateCategory(category);
        options ??= ReadAllOptions.Default;
        options.EnsureValid();
        var filter = new EventFilter { Categories = [category], EventTypes = options.Filter.EventTypes };
        return _options.CategoryReads == CategoryReadSource.CategoryStream
            ? ReadCategoryStreamAsync(category, options with { Filter = filter }, cancellationToken)
            : ReadAllCoreAsync(options with { Filter = filter }, cancellationToken);
    }

    /// <summary>Reads <c>$ce-{Category}</c> resolving its links (needs the <c>$by_category</c> projection).</summary>
    private async IAsyncEnumerable<RecordedEvent> ReadCategoryStreamAsync(string category, ReadAllOptions options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (options.MaxCount == 0) yield break;
        var forwards = options.Direction == ReadDirection.Forwards;
        if (options.From is { } f && !f.IsStart) EsdbProtocol.FromPosition(f);
        var request = StreamRead(Names.Category(category), options.Direction, null, long.MaxValue, resolveLinks: true);
        var yielded = 0L;
        await foreach (var response in ReadAsync(request, null, cancellationToken).ConfigureAwait(false))
        {
            if (response.ContentCase == ReadResp.ContentOneofCase.StreamNotFound) yield break;
            if (response.ContentCase != ReadResp.ContentOneofCase.Event) continue;
            var e = Accept(response.Event, options.Filter, options.From, forwards);
            if (e is null) continue;
            yield return e;
            if (++yielded >= options.MaxCount) yield break;
        }
    }

    /// <inheritdoc />
    public async Task<StreamInfo> GetStreamInfoAsync(StreamName stream, CancellationToken cancellationToken = default)
    {
        EventGuard.ValidateStream(stream, Capabilities);
        try
        {
            await foreach (var e in ReadStreamAsync(stream, ReadDirection.Backwards, null, 1, cancellationToken).ConfigureAwait(false))
                return new StreamInfo(stream, true, e.Version);
        }
        catch (StreamDeletedException)
        {
            return new StreamInfo(stream, false, -1, IsDeleted: true);
        }
        var metadata = await ReadStreamMetadataAsync(Names.ToServer(stream), cancellationToken).ConfigureAwait(false);
        // Soft deletion is the truncate-before marker the server wrote; like every provider, report it with no version.
        if (metadata?["$tb"] is JsonValue tb && tb.TryGetValue<long>(out _))
            return new StreamInfo(stream, false, -1, IsDeleted: true);
        return StreamInfo.NotFound(stream);
    }

    /// <inheritdoc />
    public async Task<Position> GetHeadPositionAsync(CancellationToken cancellationToken = default)
    {
        await foreach (var e in ReadAllCoreAsync(new ReadAllOptions { Direction = ReadDirection.Backwards, MaxCount = 1 }, cancellationToken).ConfigureAwait(false))
            return e.Position;
        return Position.Start;
    }

    /// <summary>The position of the newest record of the whole log (any stream), or Start.</summary>
    private async Task<Position> GetLogHeadAsync(CancellationToken cancellationToken)
    {
        var request = new ReadReq
        {
            Options = new ReadReq.Types.Options
            {
                All = new ReadReq.Types.Options.Types.AllOptions { End = new ProtoEmpty() },
                ReadDirection = ReadReq.Types.Options.Types.ReadDirection.Backwards,
                Count = 1,
                NoFilter = new ProtoEmpty(),
                UuidOption = new ReadReq.Types.Options.Types.UUIDOption { Structured = new ProtoEmpty() },
            },
        };
        await foreach (var response in ReadAsync(request, null, cancellationToken).ConfigureAwait(false))
            if (response.ContentCase == ReadResp.ContentOneofCase.Event && response.Event.Event is { } e)
                return EsdbProtocol.ToPosition(e.CommitPosition, e.PreparePosition);
        return Position.Start;
    }

    // ========================================================================================= subscriptions ====

    /// <inheritdoc />
    public IAsyncEnumerable<SubscriptionMessage> SubscribeToAllAsync(SubscribeToAllOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new SubscribeToAllOptions();
        options.EnsureValid();
        if (options.From is { IsStart: false } f) EsdbProtocol.FromPosition(f);
        return SubscribeToAllCoreAsync(options, cancellationToken);
    }

    private async IAsyncEnumerable<SubscriptionMessage> SubscribeToAllCoreAsync(SubscribeToAllOptions options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // The log head before subscribing has certainly been scanned once the server says "caught up": a filtered
        // subscription checkpoints there, since the server's caught-up message carries no position.
        var headBefore = await GetLogHeadAsync(cancellationToken).ConfigureAwait(false);
        var last = options.From ?? Position.Start;
        ReadReq Request()
        {
            var allOptions = new ReadReq.Types.Options.Types.AllOptions();
            if (!last.IsStart)
            {
                var (commit, prepare) = EsdbProtocol.FromPosition(last);
                allOptions.Position = new ReadReq.Types.Options.Types.Position { CommitPosition = commit, PreparePosition = prepare };
            }
            else allOptions.Start = new ProtoEmpty();
            return new ReadReq
            {
                Options = new ReadReq.Types.Options
                {
                    All = allOptions,
                    ReadDirection = ReadReq.Types.Options.Types.ReadDirection.Forwards,
                    Subscription = new ReadReq.Types.Options.Types.SubscriptionOptions(),
                    Filter = EsdbProtocol.BuildFilter(Names.Prefix, options.Filter, (uint)options.CheckpointInterval),
                    UuidOption = new ReadReq.Types.Options.Types.UUIDOption { Structured = new ProtoEmpty() },
                },
            };
        }
        var caughtUp = false;
        await foreach (var response in ResilientSubscriptionAsync(Request, null, cancellationToken).ConfigureAwait(false))
        {
            switch (response.ContentCase)
            {
                case ReadResp.ContentOneofCase.Event:
                    var e = Accept(response.Event, options.Filter, last, forwards: true);
                    if (e is null) continue;
                    last = e.Position;
                    yield return SubscriptionMessage.ForEvent(e);
                    break;
                case ReadResp.ContentOneofCase.Checkpoint:
                    var checkpoint = EsdbProtocol.ToPosition(response.Checkpoint.CommitPosition, response.Checkpoint.PreparePosition);
                    // Only filtered subscriptions checkpoint, as on every provider.
                    if (options.Filter.IsEmpty || checkpoint <= last) continue;
                    last = checkpoint;
                    yield return SubscriptionMessage.ForCheckpoint(checkpoint);
                    break;
                case ReadResp.ContentOneofCase.CaughtUp when !caughtUp:
                    caughtUp = true;
                    if (!options.Filter.IsEmpty && headBefore > last)
                    {
                        last = headBefore;
                        yield return SubscriptionMessage.ForCheckpoint(headBefore);
                    }
                    yield return SubscriptionMessage.ForCaughtUp(last);
                    break;
            }
        }
    }

    /// <inheritdoc />
    public IAsyncEnumerable<SubscriptionMessage> SubscribeToStreamAsync(StreamName stream, long? afterVersion = null, CancellationToken cancellationToken = default)
    {
        EventGuard.ValidateStream(stream, Capabilities);
        if (afterVersion is < 0) throw new ArgumentOutOfRangeException(nameof(afterVersion), afterVersion, "The version to subscribe after must be 0 or more.");
        return SubscribeToStreamCoreAsync(stream, afterVersion, cancellationToken);
    }

    private async IAsyncEnumerable<SubscriptionMessage> SubscribeToStreamCoreAsync(StreamName stream, long? afterVersion, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var lastVersion = afterVersion ?? -1;
        var lastPosition = Position.Start;
        var caughtUp = false;
        ReadReq Request()
        {
            var streamOptions = new ReadReq.Types.Options.Types.StreamOptions { StreamIdentifier = EsdbProtocol.StreamId(Names.ToServer(stream)) };
            // The server's subscription revision is exclusive: it delivers the events after it.
            if (lastVersion >= 0) streamOptions.Revision = (ulong)lastVersion;
            else streamOptions.Start = new ProtoEmpty();
            return new ReadReq
            {
                Options = new ReadReq.Types.Options
                {
                    Stream = streamOptions,
                    ReadDirection = ReadReq.Types.Options.Types.ReadDirection.Forwards,
                    Subscription = new ReadReq.Types.Options.Types.SubscriptionOptions(),
                    NoFilter = new ProtoEmpty(),
                    UuidOption = new ReadReq.Types.Options.Types.UUIDOption { Structured = new ProtoEmpty() },
                },
            };
        }
        await foreach (var response in ResilientSubscriptionAsync(Request, stream, cancellationToken).ConfigureAwait(false))
        {
            switch (response.ContentCase)
            {
                case ReadResp.ContentOneofCase.Event when response.Event.Event is { } raw:
                    var e = EsdbProtocol.ToRecorded(raw, stream);
                    if (e.Version <= lastVersion) continue;
                    lastVersion = e.Version;
                    lastPosition = e.Position;
                    yield return SubscriptionMessage.ForEvent(e);
                    break;
                case ReadResp.ContentOneofCase.CaughtUp when !caughtUp:
                    caughtUp = true;
                    yield return SubscriptionMessage.ForCaughtUp(lastPosition);
                    break;
            }
        }
    }

    /// <summary>
    /// A subscription call that survives transient failures: it resubscribes after the last position the consumer
    /// saw (<paramref name="request"/> is rebuilt each time), up to <c>maxRetries</c> failures in a row.
    /// </summary>
    private async IAsyncEnumerable<ReadResp> ResilientSubscriptionAsync(Func<ReadReq> request, StreamName? stream, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var failures = 0;
        while (true)
        {
            var responses = ReadAsync(request(), stream, cancellationToken).GetAsyncEnumerator(cancellationToken);
            try
            {
                while (true)
                {
                    bool hasNext;
                    try
                    {
                        hasNext = await responses.MoveNextAsync().ConfigureAwait(false);
                    }
                    catch (TransientEventStoreException e) when (failures < _connection.Settings.MaxRetries && !cancellationToken.IsCancellationRequested)
                    {
                        _logger.LogInformation("EventStoreDB subscription dropped ({Reason}); resubscribing", e.Message);
                        break;
                    }
                    if (!hasNext)
                    {
                        // A subscription only ends by cancellation or error; an ended call is a dropped connection.
                        if (failures >= _connection.Settings.MaxRetries)
                            throw new TransientEventStoreException("EventStoreDB ended the subscription repeatedly; resume from the last checkpoint.");
                        break;
                    }
                    failures = 0;
                    yield return responses.Current;
                }
            }
            finally
            {
                await responses.DisposeAsync().ConfigureAwait(false);
            }
            failures++;
            await Task.Delay(TimeSpan.FromMilliseconds(100 * (1 << Math.Min(failures, 6))), cancellationToken).ConfigureAwait(false);
        }
    }

    // ============================================================================================= lifecycle ====

    /// <inheritdoc />
    public async Task DeleteStreamAsync(StreamName stream, ExpectedVersion expectedVersion, StreamDeletionMode mode = StreamDeletionMode.Soft, CancellationToken cancellationToken = default)
    {
        EventGuard.ValidateStream(stream, Capabilities);
        expectedVersion.EnsureValid();
        if (!System.Enum.IsDefined(mode)) throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown deletion mode.");
        await DeleteServerStreamAsync(Names.ToServer(stream), stream, expectedVersion, mode, cancellationToken).ConfigureAwait(false);
        _recent.Forget(stream);
    }

    internal async Task DeleteServerStreamAsync(string serverStream, StreamName? stream, ExpectedVersion expected, StreamDeletionMode mode, CancellationToken cancellationToken)
    {
        try
        {
            if (mode == StreamDeletionMode.Tombstone)
            {
                var options = new TombstoneReq.Types.Options { StreamIdentifier = EsdbProtocol.StreamId(serverStream) };
                EsdbProtocol.SetExpected(options, expected);
                await _connection.RetryAsync(async (c, o) => await c.TombstoneAsync(new TombstoneReq { Options = options }, o).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
            }
            else
            {
                var options = new DeleteReq.Types.Options { StreamIdentifier = EsdbProtocol.StreamId(serverStream) };
                EsdbProtocol.SetExpected(options, expected);
                await _connection.RetryAsync(async (c, o) => await c.DeleteAsync(new DeleteReq { Options = options }, o).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
            }
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(cancellationToken);
        }
        catch (RpcException e)
        {
            throw EsdbProtocol.FromRpcException(e, stream, expected);
        }
    }

    /// <summary>
    /// Merges <paramref name="metadata"/> into the stream's metadata (<c>$maxCount</c>, <c>$maxAge</c> in seconds,
    /// <c>$tb</c>), keeping other entries. The server enforces them on read and when scavenging.
    /// </summary>
    public Task SetStreamMetadataAsync(StreamName stream, EventStoreDBStreamMetadata metadata, CancellationToken cancellationToken = default)
    {
        EventGuard.ValidateStream(stream, Capabilities);
        ArgumentNullException.ThrowIfNull(metadata);
        if (metadata.MaxCount is <= 0) throw new ArgumentOutOfRangeException(nameof(metadata), metadata.MaxCount, "$maxCount must be 1 or more.");
        if (metadata.MaxAge is { } age && age < TimeSpan.FromSeconds(1)) throw new ArgumentOutOfRangeException(nameof(metadata), age, "$maxAge must be at least one second.");
        if (metadata.TruncateBefore is < 0) throw new ArgumentOutOfRangeException(nameof(metadata), metadata.TruncateBefore, "$tb must be 0 or more.");
        return SetServerStreamMetadataAsync(Names.ToServer(stream), stream, metadata, cancellationToken);
    }

    /// <summary>The stream's metadata entries the server enforces, or null when it has none.</summary>
    public async Task<EventStoreDBStreamMetadata?> GetStreamMetadataAsync(StreamName stream, CancellationToken cancellationToken = default)
    {
        EventGuard.ValidateStream(stream, Capabilities);
        var json = await ReadStreamMetadataAsync(Names.ToServer(stream), cancellationToken).ConfigureAwait(false);
        if (json is null) return null;
        return new EventStoreDBStreamMetadata(
            json["$maxCount"] is JsonValue c && c.TryGetValue<long>(out var count) ? count : null,
            json["$maxAge"] is JsonValue a && a.TryGetValue<long>(out var seconds) ? TimeSpan.FromSeconds(seconds) : null,
            json["$tb"] is JsonValue t && t.TryGetValue<long>(out var tb) ? tb : null);
    }

    internal async Task<JsonObject?> ReadStreamMetadataAsync(string serverStream, CancellationToken cancellationToken)
    {
        var request = StreamRead("$$" + serverStream, ReadDirection.Backwards, null, 1, resolveLinks: false);
        await foreach (var response in ReadAsync(request, null, cancellationToken).ConfigureAwait(false))
        {
            if (response.ContentCase == ReadResp.ContentOneofCase.Event && response.Event.Event is { } e && !e.Data.IsEmpty)
            {
                try
                {
                    return JsonNode.Parse(e.Data.Memory.Span) as JsonObject;
                }
                catch (System.Text.Json.JsonException)
                {
                    return null;
                }
            }
        }
        return null;
    }

    internal async Task SetServerStreamMetadataAsync(string serverStream, StreamName? stream, EventStoreDBStreamMetadata change, CancellationToken cancellationToken)
    {
        var json = await ReadStreamMetadataAsync(serverStream, cancellationToken).ConfigureAwait(false) ?? [];
        if (change.MaxCount is { } count) json["$maxCount"] = count;
        if (change.MaxAge is { } age) json["$maxAge"] = (long)age.TotalSeconds;
        if (change.TruncateBefore is { } tb) json["$tb"] = tb;
        var message = new AppendReq.Types.ProposedMessage
        {
            Id = EsdbProtocol.ToUuid(Guid.NewGuid()),
            Data = ByteString.CopyFromUtf8(json.ToJsonString()),
        };
        message.Metadata[EsdbProtocol.TypeKey] = "$metadata";
        message.Metadata[EsdbProtocol.ContentTypeKey] = EventData.JsonContentType;
        var outcome = await PlainAppendAsync("$$" + serverStream, stream, ExpectedVersion.Any, [message], null, cancellationToken).ConfigureAwait(false);
        if (!outcome.Succeeded) throw new EventStoreException($"EventStoreDB refused the metadata of stream '{stream?.ToString() ?? serverStream}'.");
    }

    /// <summary>Appends prepared messages to a server stream (internal streams: snapshots, checkpoints).</summary>
    internal Task<AppendOutcome> AppendServerAsync(string serverStream, StreamName? stream, ExpectedVersion expected, IReadOnlyList<AppendReq.Types.ProposedMessage> messages, CancellationToken cancellationToken) =>
        PlainAppendAsync(serverStream, stream, expected, messages, null, cancellationToken);

    /// <summary>The newest event of a server stream, or null when it is missing or deleted.</summary>
    internal async Task<ReadResp.Types.ReadEvent.Types.RecordedEvent?> ReadLastAsync(string serverStream, CancellationToken cancellationToken)
    {
        var request = StreamRead(serverStream, ReadDirection.Backwards, null, 1, resolveLinks: false);
        try
        {
            await foreach (var response in ReadAsync(request, null, cancellationToken).ConfigureAwait(false))
                if (response.ContentCase == ReadResp.ContentOneofCase.Event && response.Event.Event is { } e) return e;
        }
        catch (EventStoreException e) when (e.InnerException is RpcException r && r.Trailers.GetValue(EsdbProtocol.ExceptionTrailer) == "stream-deleted")
        {
            // A tombstoned internal stream holds nothing usable.
        }
        return null;
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _batch.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _connection.Dispose();
    }
}
