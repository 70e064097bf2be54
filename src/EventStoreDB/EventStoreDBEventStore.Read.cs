using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using EventStore.Providers.EventStoreDB.Protocol;
using EventStore.Providers.EventStoreDB.Protocol.Streams;
using Grpc.Core;
using ProtoEmpty = EventStore.Providers.EventStoreDB.Protocol.Empty;

namespace EventStore.Providers.EventStoreDB;

// Reads: one stream, $all, categories, stream info and the log head.
public sealed partial class EventStoreDBEventStore
{
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
                catch (RpcException e) when (!received && _connection.CanRetry(e, attempt, cancellationToken))
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
            await EsdbConnection.BackoffAsync(attempt, cancellationToken).ConfigureAwait(false);
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
}
