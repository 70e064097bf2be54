using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using EventStore.Providers.EventStoreDB.Protocol.Streams;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using RpcStatus = EventStore.Providers.EventStoreDB.Protocol.Rpc.Status;

namespace EventStore.Providers.EventStoreDB.Protocol;

/// <summary>The outcome of an append as the server reported it, before idempotence is worked out.</summary>
/// <param name="Succeeded">True on success; false on a wrong expected version.</param>
/// <param name="LastVersion">On success, the stream's last revision (-1 for none).</param>
/// <param name="Position">On success, the position the server reported (Start when it gave none).</param>
/// <param name="ActualVersion">On a wrong expected version, the stream's current revision (-1: no stream).</param>
internal readonly record struct AppendOutcome(bool Succeeded, long LastVersion, Position Position, long? ActualVersion)
{
    public static AppendOutcome Success(long lastVersion, Position position) => new(true, lastVersion, position, null);
    public static AppendOutcome WrongVersion(long? actual) => new(false, -1, Position.Start, actual);
}

/// <summary>
/// Maps our contract to the EventStoreDB v1 gRPC messages and back: expected versions, ids, positions, metadata,
/// filters, wrong-expected-version answers and error trailers. Pure functions, unit-tested on constructed messages.
/// </summary>
internal static class EsdbProtocol
{
    public const string TypeKey = "type";
    public const string ContentTypeKey = "content-type";
    public const string CreatedKey = "created";
    public const string ExceptionTrailer = "exception";

    private static readonly Empty EmptyValue = new();

    // ---- ids -----------------------------------------------------------------------------------------------------

    /// <summary>The server's structured UUID: the RFC 4122 bytes as two big-endian 64-bit halves.</summary>
    public static UUID ToUuid(Guid id)
    {
        Span<byte> bytes = stackalloc byte[16];
        id.TryWriteBytes(bytes, bigEndian: true, out _);
        return new UUID
        {
            Structured = new UUID.Types.Structured
            {
                MostSignificantBits = BinaryPrimitives.ReadInt64BigEndian(bytes),
                LeastSignificantBits = BinaryPrimitives.ReadInt64BigEndian(bytes[8..]),
            },
        };
    }

    public static Guid FromUuid(UUID? uuid)
    {
        if (uuid is null) return Guid.Empty;
        if (uuid.ValueCase == UUID.ValueOneofCase.String) return Guid.Parse(uuid.String, CultureInfo.InvariantCulture);
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteInt64BigEndian(bytes, uuid.Structured.MostSignificantBits);
        BinaryPrimitives.WriteInt64BigEndian(bytes[8..], uuid.Structured.LeastSignificantBits);
        return new Guid(bytes, bigEndian: true);
    }

    public static StreamIdentifier StreamId(string name) => new() { StreamName = ByteString.CopyFromUtf8(name) };

    // ---- expected versions ---------------------------------------------------------------------------------------

    /// <summary>Sets the request's expected revision; the server checks it atomically with the write or delete.</summary>
    public static void SetExpected(IExpectedRevision options, ExpectedVersion expected)
    {
        switch (expected.Kind)
        {
            case ExpectedVersionKind.Any: options.ExpectAny(); break;
            case ExpectedVersionKind.NoStream: options.ExpectNoStream(); break;
            case ExpectedVersionKind.StreamExists: options.ExpectStreamExists(); break;
            case ExpectedVersionKind.Exact: options.ExpectRevision(checked((ulong)expected.Version)); break;
            default: throw new ArgumentOutOfRangeException(nameof(expected), expected.Kind, "Unknown expected-version kind.");
        }
    }

    // ---- positions -----------------------------------------------------------------------------------------------

    /// <summary>The server's "no position" marker (-1 as an unsigned 64-bit value).</summary>
    private const ulong NoPosition = ulong.MaxValue;

    /// <summary>Our position for a commit/prepare pair: <c>Position.FromParts(commit, prepare)</c>, text <c>commit:prepare</c>.</summary>
    public static Position ToPosition(ulong commit, ulong prepare) =>
        commit == NoPosition || prepare == NoPosition || commit > long.MaxValue || prepare > long.MaxValue
            ? Position.Start
            : Position.FromParts((long)commit, (long)prepare);

    /// <summary>Splits one of our positions into commit and prepare.</summary>
    /// <exception cref="InvalidPositionException">The position was not made by this provider.</exception>
    public static (ulong Commit, ulong Prepare) FromPosition(Position position)
    {
        var parts = position.Parts;
        if (parts.Length != 2 || parts[0] < 0 || parts[1] < 0)
            throw new InvalidPositionException(position.ToString(), "an EventStoreDB position has two components, commit:prepare");
        return ((ulong)parts[0], (ulong)parts[1]);
    }

    public static ReadReq.Types.Options.Types.AllOptions AllFrom(Position? from, ReadDirection direction)
    {
        var options = new ReadReq.Types.Options.Types.AllOptions();
        if (from is not { } p || p.IsStart)
        {
            if (direction == ReadDirection.Forwards || from is { IsStart: true }) options.Start = EmptyValue;
            else options.End = EmptyValue;
        }
        else
        {
            var (commit, prepare) = FromPosition(p);
            options.Position = new ReadReq.Types.Options.Types.Position { CommitPosition = commit, PreparePosition = prepare };
        }
        return options;
    }

    // ---- events --------------------------------------------------------------------------------------------------

    public static AppendReq.Types.ProposedMessage ToProposed(EventData e)
    {
        var message = new AppendReq.Types.ProposedMessage
        {
            Id = ToUuid(e.EventId),
            Data = UnsafeByteOperations.UnsafeWrap(e.Data),
            CustomMetadata = CustomMetadata.Encode(e.ContentType, e.SchemaVersion, e.Metadata),
        };
        message.Metadata[TypeKey] = e.EventType;
        message.Metadata[ContentTypeKey] = CustomMetadata.ServerContentType(e.ContentType);
        return message;
    }

    public static BatchAppendReq.Types.ProposedMessage ToBatchProposed(EventData e)
    {
        var message = new BatchAppendReq.Types.ProposedMessage
        {
            Id = ToUuid(e.EventId),
            Data = UnsafeByteOperations.UnsafeWrap(e.Data),
            CustomMetadata = CustomMetadata.Encode(e.ContentType, e.SchemaVersion, e.Metadata),
        };
        message.Metadata[TypeKey] = e.EventType;
        message.Metadata[ContentTypeKey] = CustomMetadata.ServerContentType(e.ContentType);
        return message;
    }

    /// <summary>
    /// Our recorded event for a read message: the resolved event when a link was resolved, with its own position.
    /// Null for links whose target is gone and for events outside <paramref name="names"/>.
    /// </summary>
    public static RecordedEvent? ToRecorded(ReadResp.Types.ReadEvent read, StreamNames names)
    {
        var e = read.Event;
        if (e is null) return null;
        if (!names.TryFromServer(e.StreamIdentifier?.StreamName.ToStringUtf8(), out var stream)) return null;
        return ToRecorded(e, stream);
    }

    public static RecordedEvent ToRecorded(ReadResp.Types.ReadEvent.Types.RecordedEvent e, StreamName stream)
    {
        e.Metadata.TryGetValue(TypeKey, out var type);
        e.Metadata.TryGetValue(ContentTypeKey, out var serverContentType);
        var created = DateTimeOffset.UnixEpoch;
        if (e.Metadata.TryGetValue(CreatedKey, out var ticksText) &&
            long.TryParse(ticksText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var ticks))
            created = DateTimeOffset.UnixEpoch.AddTicks(ticks);
        var (contentType, schemaVersion, metadata) = CustomMetadata.Decode(e.CustomMetadata.Memory, serverContentType ?? "application/octet-stream");
        return new RecordedEvent(
            stream,
            checked((long)e.StreamRevision),
            ToPosition(e.CommitPosition, e.PreparePosition),
            FromUuid(e.Id),
            type ?? "",
            e.Data.Memory,
            metadata,
            contentType,
            schemaVersion,
            created);
    }

    // ---- filters -------------------------------------------------------------------------------------------------

    /// <summary>The server's own "no system events" filter: event types not starting with <c>$</c>.</summary>
    public const string ExcludeSystemEventsRegex = @"^[^\$].*";

    /// <summary>
    /// The server-side filter for a <c>$all</c> read or subscription. The server filters on one dimension only, so
    /// with both categories and event types it filters stream prefixes and the caller applies
    /// <see cref="EventFilter.Matches(StreamName, string)"/> to what comes back (it always does; this only narrows).
    /// </summary>
    public static ReadReq.Types.Options.Types.FilterOptions BuildFilter(string streamPrefix, EventFilter filter, uint window, uint checkpointMultiplier = 1)
    {
        var options = new ReadReq.Types.Options.Types.FilterOptions { Max = Math.Max(1u, window), CheckpointIntervalMultiplier = Math.Max(1u, checkpointMultiplier) };
        var expression = new ReadReq.Types.Options.Types.FilterOptions.Types.Expression();
        if (filter.Categories.Count > 0)
        {
            foreach (var category in filter.Categories) expression.Prefix.Add($"{streamPrefix}{category}-");
            options.StreamIdentifier = expression;
        }
        else if (filter.EventTypes.Count > 0 && streamPrefix.Length == 0)
        {
            expression.Regex = EventTypeRegex(filter.EventTypes);
            options.EventType = expression;
        }
        else if (streamPrefix.Length > 0)
        {
            expression.Prefix.Add(streamPrefix);
            options.StreamIdentifier = expression;
        }
        else
        {
            expression.Regex = ExcludeSystemEventsRegex;
            options.EventType = expression;
        }
        return options;
    }

    /// <summary>An anchored alternation of the event types with every regex metacharacter escaped.</summary>
    public static string EventTypeRegex(IReadOnlyList<string> eventTypes)
    {
        var sb = new StringBuilder("^(?:");
        for (var i = 0; i < eventTypes.Count; i++)
        {
            if (i > 0) sb.Append('|');
            sb.Append(Regex.Escape(eventTypes[i]));
        }
        return sb.Append(")$").ToString();
    }

    // ---- append answers ------------------------------------------------------------------------------------------

    public static AppendOutcome FromAppendResponse(AppendResp response)
    {
        switch (response.ResultCase)
        {
            case AppendResp.ResultOneofCase.Success:
                var s = response.Success;
                var last = s.CurrentRevisionOptionCase == AppendResp.Types.Success.CurrentRevisionOptionOneofCase.CurrentRevision
                    ? checked((long)s.CurrentRevision) : -1;
                var position = s.PositionOptionCase == AppendResp.Types.Success.PositionOptionOneofCase.Position
                    ? ToPosition(s.Position.CommitPosition, s.Position.PreparePosition) : Position.Start;
                return AppendOutcome.Success(last, position);
            case AppendResp.ResultOneofCase.WrongExpectedVersion:
                var w = response.WrongExpectedVersion;
                long? actual = w.CurrentRevisionOptionCase switch
                {
                    AppendResp.Types.WrongExpectedVersion.CurrentRevisionOptionOneofCase.CurrentRevision => checked((long)w.CurrentRevision),
                    AppendResp.Types.WrongExpectedVersion.CurrentRevisionOptionOneofCase.CurrentNoStream => -1,
                    _ => w.CurrentRevisionOption2060Case switch
                    {
                        AppendResp.Types.WrongExpectedVersion.CurrentRevisionOption2060OneofCase.CurrentRevision2060 => checked((long)w.CurrentRevision2060),
                        AppendResp.Types.WrongExpectedVersion.CurrentRevisionOption2060OneofCase.NoStream2060 => -1,
                        _ => null,
                    },
                };
                return AppendOutcome.WrongVersion(actual);
            default:
                throw new EventStoreException("EventStoreDB answered an append with neither success nor wrong expected version.");
        }
    }

    /// <summary>Maps one BatchAppend answer; errors other than a wrong expected version become exceptions.</summary>
    public static AppendOutcome FromBatchAppendResponse(BatchAppendResp response, StreamName stream, IReadOnlyList<EventData> events)
    {
        if (response.ResultCase == BatchAppendResp.ResultOneofCase.Success)
        {
            var s = response.Success;
            var last = s.CurrentRevisionOptionCase == BatchAppendResp.Types.Success.CurrentRevisionOptionOneofCase.CurrentRevision
                ? checked((long)s.CurrentRevision) : -1;
            var position = s.PositionOptionCase == BatchAppendResp.Types.Success.PositionOptionOneofCase.Position
                ? ToPosition(s.Position.CommitPosition, s.Position.PreparePosition) : Position.Start;
            return AppendOutcome.Success(last, position);
        }
        if (response.ResultCase != BatchAppendResp.ResultOneofCase.Error)
            throw new EventStoreException("EventStoreDB answered a batch append with neither success nor error.");
        var status = response.Error;
        var details = status.Details;
        if (details is not null && details.Is(WrongExpectedVersion.Descriptor))
        {
            var w = details.Unpack<WrongExpectedVersion>();
            return AppendOutcome.WrongVersion(w.CurrentStreamRevisionOptionCase switch
            {
                WrongExpectedVersion.CurrentStreamRevisionOptionOneofCase.CurrentStreamRevision => checked((long)w.CurrentStreamRevision),
                WrongExpectedVersion.CurrentStreamRevisionOptionOneofCase.CurrentNoStream => -1,
                _ => null,
            });
        }
        throw FromBatchStatus(status, stream, events);
    }

    public static Exception FromBatchStatus(RpcStatus status, StreamName stream, IReadOnlyList<EventData> events)
    {
        var details = status.Details;
        if (details is not null)
        {
            if (details.Is(StreamDeleted.Descriptor)) return new StreamDeletedException(stream);
            if (details.Is(AccessDenied.Descriptor)) return new AccessDeniedException($"EventStoreDB denied the append to stream '{stream}'.");
            if (details.Is(Timeout.Descriptor)) return new TransientEventStoreException($"EventStoreDB timed out appending to stream '{stream}'; retry with the same event ids.");
            if (details.Is(MaximumAppendSizeExceeded.Descriptor))
            {
                var max = details.Unpack<MaximumAppendSizeExceeded>().MaxAppendSize;
                return TooLarge(stream, events, null, max);
            }
            if (details.Is(MaximumAppendEventSizeExceeded.Descriptor))
            {
                var d = details.Unpack<MaximumAppendEventSizeExceeded>();
                return TooLarge(stream, events, Guid.TryParse(d.EventId, out var id) ? id : null, d.MaxAppendEventSize, d.ProposedEventSize);
            }
            if (details.Is(BadRequest.Descriptor))
                return new EventStoreException($"EventStoreDB rejected the append to stream '{stream}': {details.Unpack<BadRequest>().Message}");
        }
        return status.Code switch
        {
            Rpc.Code.Unavailable or Rpc.Code.DeadlineExceeded or Rpc.Code.ResourceExhausted => new TransientEventStoreException($"EventStoreDB could not append to stream '{stream}' now ({status.Message}); retry with the same event ids."),
            Rpc.Code.PermissionDenied or Rpc.Code.Unauthenticated => new AccessDeniedException($"EventStoreDB denied the append to stream '{stream}'."),
            _ => new EventStoreException($"EventStoreDB failed the append to stream '{stream}': {status.Code} {status.Message}"),
        };
    }

    private static EventTooLargeException TooLarge(StreamName stream, IReadOnlyList<EventData> events, Guid? eventId, long limit, long? size = null)
    {
        var largest = events.Count == 0 ? null : events.MaxBy(e => e.Size);
        var culprit = eventId is { } id ? events.FirstOrDefault(e => e.EventId == id) ?? largest : largest;
        var total = size ?? (eventId is null ? events.Sum(e => (long)e.Size) : culprit?.Size ?? 0);
        return new EventTooLargeException(stream, culprit?.EventId ?? Guid.Empty, total, limit);
    }

    // ---- errors in trailers --------------------------------------------------------------------------------------

    /// <summary>
    /// Maps a failed call to our typed exceptions by the server's <c>exception</c> trailer and the status code. The
    /// result never carries request headers, so credentials cannot leak through it.
    /// </summary>
    public static Exception FromRpcException(RpcException e, StreamName? stream, ExpectedVersion? expected = null, IReadOnlyList<EventData>? events = null)
    {
        var kind = e.Trailers.GetValue(ExceptionTrailer);
        var streamText = stream?.ToString() ?? "$all";
        switch (kind)
        {
            case "stream-deleted":
                return stream is { } s ? new StreamDeletedException(s) : new EventStoreException("EventStoreDB reports the stream deleted.", e);
            case "wrong-expected-version":
                var actualText = e.Trailers.GetValue("actual-version");
                long? actual = long.TryParse(actualText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var a) ? a : null;
                return new WrongExpectedVersionException(stream ?? default, expected ?? ExpectedVersion.Any, actual);
            case "maximum-append-size-exceeded":
                {
                    var limit = long.TryParse(e.Trailers.GetValue("maximum-append-size"), NumberStyles.None, CultureInfo.InvariantCulture, out var l) ? l : 0;
                    return TooLarge(stream ?? default, events ?? [], null, limit);
                }
            case "maximum-append-event-size-exceeded":
                {
                    var limit = long.TryParse(e.Trailers.GetValue("maximum-append-event-size"), NumberStyles.None, CultureInfo.InvariantCulture, out var l) ? l : 0;
                    long? size = long.TryParse(e.Trailers.GetValue("proposed-append-event-size"), NumberStyles.None, CultureInfo.InvariantCulture, out var z) ? z : null;
                    var id = Guid.TryParse(e.Trailers.GetValue("event-id"), out var g) ? g : (Guid?)null;
                    return TooLarge(stream ?? default, events ?? [], id, limit, size);
                }
            case "access-denied":
                return new AccessDeniedException($"EventStoreDB denied access to '{streamText}'.", e);
            case "missing-required-metadata-property":
                return new InvalidEventException(null, "EventStoreDB requires the type and content-type metadata entries");
            case "not-leader":
                return new TransientEventStoreException($"The EventStoreDB node is not the leader; retry (the provider switches to the leader it named).", e);
            case "stream-not-found":
                return new EventStoreException($"EventStoreDB found no stream '{streamText}'.", e);
        }
        return e.StatusCode switch
        {
            StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Aborted or StatusCode.ResourceExhausted =>
                new TransientEventStoreException($"EventStoreDB did not answer in time or is unavailable ({e.StatusCode}); retry with the same event ids.", e),
            StatusCode.PermissionDenied or StatusCode.Unauthenticated => new AccessDeniedException($"EventStoreDB denied access to '{streamText}' ({e.StatusCode}).", e),
            _ => new EventStoreException($"EventStoreDB call on '{streamText}' failed: {e.StatusCode} {e.Status.Detail}", e),
        };
    }

    /// <summary>True for failures worth retrying with the same request (the server's idempotence makes appends safe).</summary>
    public static bool IsTransient(RpcException e) =>
        e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded ||
        e.StatusCode == StatusCode.Aborted && e.Status.Detail.Contains("timed out", StringComparison.OrdinalIgnoreCase) ||
        string.Equals(e.Trailers.GetValue(ExceptionTrailer), "not-leader", StringComparison.Ordinal);

    /// <summary>The leader a follower named in a <c>not-leader</c> answer, if any.</summary>
    public static EventStoreDBEndpoint? LeaderFrom(RpcException e)
    {
        if (!string.Equals(e.Trailers.GetValue(ExceptionTrailer), "not-leader", StringComparison.Ordinal)) return null;
        var host = e.Trailers.GetValue("leader-endpoint-host");
        return host is not null && int.TryParse(e.Trailers.GetValue("leader-endpoint-port"), NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            ? new EventStoreDBEndpoint(host, port) : null;
    }
}
