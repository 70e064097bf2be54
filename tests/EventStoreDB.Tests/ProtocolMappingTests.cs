using System.Text;
using System.Text.RegularExpressions;
using EventStore.Providers.EventStoreDB.Protocol;
using EventStore.Providers.EventStoreDB.Protocol.Streams;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using ProtoEmpty = EventStore.Providers.EventStoreDB.Protocol.Empty;
using RpcCode = EventStore.Providers.EventStoreDB.Protocol.Rpc.Code;
using RpcStatus = EventStore.Providers.EventStoreDB.Protocol.Rpc.Status;
using WrongExpectedVersionDetail = EventStore.Providers.EventStoreDB.Protocol.WrongExpectedVersion;

namespace EventStore.Providers.EventStoreDB.Tests;

public sealed class ExpectedVersionMappingTests
{
    [Fact]
    public void Each_expected_version_selects_its_own_protocol_case_on_append()
    {
        AppendReq.Types.Options Map(ExpectedVersion v) { var o = new AppendReq.Types.Options(); EsdbProtocol.SetExpected(o, v); return o; }
        Assert.Equal(AppendReq.Types.Options.ExpectedStreamRevisionOneofCase.Any, Map(ExpectedVersion.Any).ExpectedStreamRevisionCase);
        Assert.Equal(AppendReq.Types.Options.ExpectedStreamRevisionOneofCase.NoStream, Map(ExpectedVersion.NoStream).ExpectedStreamRevisionCase);
        Assert.Equal(AppendReq.Types.Options.ExpectedStreamRevisionOneofCase.StreamExists, Map(ExpectedVersion.StreamExists).ExpectedStreamRevisionCase);
        var exact = Map(ExpectedVersion.Exact(41));
        Assert.Equal(AppendReq.Types.Options.ExpectedStreamRevisionOneofCase.Revision, exact.ExpectedStreamRevisionCase);
        Assert.Equal(41UL, exact.Revision);
    }

    [Fact]
    public void Each_expected_version_selects_its_own_protocol_case_on_batch_append_delete_and_tombstone()
    {
        var batch = new BatchAppendReq.Types.Options();
        EsdbProtocol.SetExpected(batch, ExpectedVersion.Exact(0));
        Assert.Equal(BatchAppendReq.Types.Options.ExpectedStreamPositionOneofCase.StreamPosition, batch.ExpectedStreamPositionCase);
        EsdbProtocol.SetExpected(batch, ExpectedVersion.NoStream);
        Assert.Equal(BatchAppendReq.Types.Options.ExpectedStreamPositionOneofCase.NoStream, batch.ExpectedStreamPositionCase);
        var delete = new DeleteReq.Types.Options();
        EsdbProtocol.SetExpected(delete, ExpectedVersion.StreamExists);
        Assert.Equal(DeleteReq.Types.Options.ExpectedStreamRevisionOneofCase.StreamExists, delete.ExpectedStreamRevisionCase);
        var tombstone = new TombstoneReq.Types.Options();
        EsdbProtocol.SetExpected(tombstone, ExpectedVersion.Exact(7));
        Assert.Equal(7UL, tombstone.Revision);
    }

    [Fact]
    public void The_wire_bytes_use_the_servers_field_numbers()
    {
        var options = new AppendReq.Types.Options { StreamIdentifier = EsdbProtocol.StreamId("a") };
        EsdbProtocol.SetExpected(options, ExpectedVersion.Exact(5));
        // stream_identifier = 1 (length-delimited) holding stream_name = 3 ("a"); revision = 2 (varint 5).
        Assert.Equal(new byte[] { 0x0A, 0x03, 0x1A, 0x01, (byte)'a', 0x10, 0x05 }, options.ToByteArray());

        var noStream = new AppendReq.Types.Options();
        EsdbProtocol.SetExpected(noStream, ExpectedVersion.NoStream);
        Assert.Equal(new byte[] { 0x1A, 0x00 }, noStream.ToByteArray());

        var batch = new BatchAppendReq { IsFinal = true };
        Assert.Equal(new byte[] { 0x20, 0x01 }, batch.ToByteArray());
    }
}

public sealed class WrongExpectedVersionResponseTests
{
    private static readonly StreamName Stream = new("Order-1");
    private static readonly EventData[] Events = [new(Guid.NewGuid(), "OrderPlaced", "{}"u8.ToArray())];

    [Fact]
    public void Append_success_gives_the_revision_and_commit_prepare_position()
    {
        var response = new AppendResp
        {
            Success = new AppendResp.Types.Success { CurrentRevision = 9, Position = new AppendResp.Types.Position { CommitPosition = 1200, PreparePosition = 1100 } },
        };
        var outcome = EsdbProtocol.FromAppendResponse(response);
        Assert.True(outcome.Succeeded);
        Assert.Equal(9, outcome.LastVersion);
        Assert.Equal(Position.FromParts(1200, 1100), outcome.Position);
    }

    [Fact]
    public void Append_wrong_expected_version_carries_the_current_revision()
    {
        var response = new AppendResp
        {
            WrongExpectedVersion = new AppendResp.Types.WrongExpectedVersion { CurrentRevision = 3, ExpectedRevision = 1 },
        };
        var outcome = EsdbProtocol.FromAppendResponse(response);
        Assert.False(outcome.Succeeded);
        Assert.Equal(3, outcome.ActualVersion);
    }

    [Fact]
    public void Append_wrong_expected_version_on_a_missing_stream_is_minus_one()
    {
        var response = new AppendResp
        {
            WrongExpectedVersion = new AppendResp.Types.WrongExpectedVersion { CurrentNoStream = new ProtoEmpty(), ExpectedStreamExists = new ProtoEmpty() },
        };
        Assert.Equal(-1, EsdbProtocol.FromAppendResponse(response).ActualVersion);
    }

    [Fact]
    public void Append_wrong_expected_version_from_a_20_6_server_uses_the_old_fields()
    {
        var response = new AppendResp { WrongExpectedVersion = new AppendResp.Types.WrongExpectedVersion { CurrentRevision2060 = 12 } };
        Assert.Equal(12, EsdbProtocol.FromAppendResponse(response).ActualVersion);
        var parsed = AppendResp.Parser.ParseFrom(response.ToByteArray());
        Assert.Equal(12, EsdbProtocol.FromAppendResponse(parsed).ActualVersion);
    }

    [Fact]
    public void Batch_append_wrong_expected_version_is_a_status_with_the_detail_packed()
    {
        var response = new BatchAppendResp
        {
            CorrelationId = EsdbProtocol.ToUuid(Guid.NewGuid()),
            Error = new RpcStatus
            {
                Code = RpcCode.AlreadyExists,
                Message = "WrongExpectedVersion",
                Details = Any.Pack(new WrongExpectedVersionDetail { CurrentStreamRevision = 4, ExpectedStreamPosition = 2 }),
            },
        };
        var parsed = BatchAppendResp.Parser.ParseFrom(response.ToByteArray());
        var outcome = EsdbProtocol.FromBatchAppendResponse(parsed, Stream, Events);
        Assert.False(outcome.Succeeded);
        Assert.Equal(4, outcome.ActualVersion);
    }

    [Fact]
    public void Batch_append_wrong_expected_version_on_a_missing_stream_is_minus_one()
    {
        var response = new BatchAppendResp
        {
            Error = new RpcStatus { Code = RpcCode.AlreadyExists, Details = Any.Pack(new WrongExpectedVersionDetail { CurrentNoStream = new Google.Protobuf.WellKnownTypes.Empty(), ExpectedStreamPosition = 0 }) },
        };
        Assert.Equal(-1, EsdbProtocol.FromBatchAppendResponse(response, Stream, Events).ActualVersion);
    }

    [Fact]
    public void Batch_append_success_gives_revision_and_position()
    {
        var response = new BatchAppendResp
        {
            Success = new BatchAppendResp.Types.Success { CurrentRevision = 0, Position = new AllStreamPosition { CommitPosition = 77, PreparePosition = 77 } },
        };
        var outcome = EsdbProtocol.FromBatchAppendResponse(response, Stream, Events);
        Assert.True(outcome.Succeeded);
        Assert.Equal(0, outcome.LastVersion);
        Assert.Equal("77:77", outcome.Position.ToString());
    }

    [Fact]
    public void Batch_append_errors_map_to_typed_exceptions()
    {
        BatchAppendResp With(RpcCode code, IMessage detail) => new() { Error = new RpcStatus { Code = code, Details = Any.Pack(detail) } };
        Assert.IsType<StreamDeletedException>(Assert.ThrowsAny<Exception>(() =>
            EsdbProtocol.FromBatchAppendResponse(With(RpcCode.NotFound, new StreamDeleted { StreamIdentifier = EsdbProtocol.StreamId("Order-1") }), Stream, Events)));
        Assert.IsType<AccessDeniedException>(Assert.ThrowsAny<Exception>(() =>
            EsdbProtocol.FromBatchAppendResponse(With(RpcCode.PermissionDenied, new AccessDenied()), Stream, Events)));
        Assert.IsType<TransientEventStoreException>(Assert.ThrowsAny<Exception>(() =>
            EsdbProtocol.FromBatchAppendResponse(With(RpcCode.DeadlineExceeded, new EventStore.Providers.EventStoreDB.Protocol.Timeout()), Stream, Events)));
        var tooLarge = Assert.IsType<EventTooLargeException>(Assert.ThrowsAny<Exception>(() =>
            EsdbProtocol.FromBatchAppendResponse(With(RpcCode.InvalidArgument, new MaximumAppendSizeExceeded { MaxAppendSize = 1_048_576 }), Stream, Events)));
        Assert.Equal(1_048_576, tooLarge.Limit);
        Assert.Equal(Events[0].EventId, tooLarge.EventId);
        var eventTooLarge = Assert.IsType<EventTooLargeException>(Assert.ThrowsAny<Exception>(() =>
            EsdbProtocol.FromBatchAppendResponse(With(RpcCode.InvalidArgument, new MaximumAppendEventSizeExceeded { EventId = Events[0].EventId.ToString(), ProposedEventSize = 5000, MaxAppendEventSize = 4096 }), Stream, Events)));
        Assert.Equal(5000, eventTooLarge.Size);
        Assert.Equal(4096, eventTooLarge.Limit);
    }
}

public sealed class TrailerMappingTests
{
    private static readonly StreamName Stream = new("Order-1");

    private static RpcException Failure(StatusCode code, params (string Key, string Value)[] trailers)
    {
        var metadata = new Metadata();
        foreach (var (k, v) in trailers) metadata.Add(k, v);
        return new RpcException(new Status(code, "failed"), metadata);
    }

    [Fact]
    public void Stream_deleted_trailer_becomes_StreamDeletedException_for_the_stream()
    {
        var e = Assert.IsType<StreamDeletedException>(EsdbProtocol.FromRpcException(Failure(StatusCode.FailedPrecondition, ("exception", "stream-deleted"), ("stream-name", "Order-1")), Stream));
        Assert.Equal(Stream, e.Stream);
    }

    [Fact]
    public void Wrong_expected_version_trailer_carries_the_actual_version()
    {
        var e = Assert.IsType<WrongExpectedVersionException>(EsdbProtocol.FromRpcException(
            Failure(StatusCode.FailedPrecondition, ("exception", "wrong-expected-version"), ("stream-name", "Order-1"), ("expected-version", "2"), ("actual-version", "5")),
            Stream, ExpectedVersion.Exact(2)));
        Assert.Equal(5, e.ActualVersion);
        Assert.Equal(ExpectedVersion.Exact(2), e.Expected);
        var unknown = Assert.IsType<WrongExpectedVersionException>(EsdbProtocol.FromRpcException(
            Failure(StatusCode.FailedPrecondition, ("exception", "wrong-expected-version"), ("actual-version", "")), Stream, ExpectedVersion.Exact(2)));
        Assert.Null(unknown.ActualVersion);
    }

    [Fact]
    public void Size_exceeded_trailers_become_EventTooLargeException_with_the_servers_limit()
    {
        EventData[] events = [new(Guid.NewGuid(), "Big", new byte[10]), new(Guid.NewGuid(), "Bigger", new byte[20])];
        var e = Assert.IsType<EventTooLargeException>(EsdbProtocol.FromRpcException(
            Failure(StatusCode.InvalidArgument, ("exception", "maximum-append-size-exceeded"), ("maximum-append-size", "1048576")), Stream, ExpectedVersion.Any, events));
        Assert.Equal(1_048_576, e.Limit);
        Assert.Equal(events[1].EventId, e.EventId);
        Assert.Equal(30, e.Size);
    }

    [Fact]
    public void Access_denied_and_permission_codes_become_AccessDeniedException()
    {
        Assert.IsType<AccessDeniedException>(EsdbProtocol.FromRpcException(Failure(StatusCode.PermissionDenied, ("exception", "access-denied")), Stream));
        Assert.IsType<AccessDeniedException>(EsdbProtocol.FromRpcException(Failure(StatusCode.Unauthenticated), Stream));
    }

    [Fact]
    public void Missing_required_metadata_becomes_InvalidEventException()
    {
        Assert.IsType<InvalidEventException>(EsdbProtocol.FromRpcException(Failure(StatusCode.InvalidArgument, ("exception", "missing-required-metadata-property")), Stream));
    }

    [Fact]
    public void Unavailable_deadline_and_not_leader_are_transient_and_retried()
    {
        Assert.True(EsdbProtocol.IsTransient(Failure(StatusCode.Unavailable)));
        Assert.True(EsdbProtocol.IsTransient(Failure(StatusCode.DeadlineExceeded)));
        Assert.True(EsdbProtocol.IsTransient(Failure(StatusCode.NotFound, ("exception", "not-leader"), ("leader-endpoint-host", "node2"), ("leader-endpoint-port", "2114"))));
        Assert.False(EsdbProtocol.IsTransient(Failure(StatusCode.FailedPrecondition, ("exception", "stream-deleted"))));
        Assert.False(EsdbProtocol.IsTransient(Failure(StatusCode.InvalidArgument)));
        Assert.IsType<TransientEventStoreException>(EsdbProtocol.FromRpcException(Failure(StatusCode.Unavailable), Stream));
    }

    [Fact]
    public void Not_leader_names_the_leader_to_switch_to()
    {
        var leader = EsdbProtocol.LeaderFrom(Failure(StatusCode.NotFound, ("exception", "not-leader"), ("leader-endpoint-host", "node2"), ("leader-endpoint-port", "2114")));
        Assert.Equal(new EventStoreDBEndpoint("node2", 2114), leader);
        Assert.Null(EsdbProtocol.LeaderFrom(Failure(StatusCode.Unavailable)));
    }
}

public sealed class PositionAndIdTests
{
    [Fact]
    public void Commit_and_prepare_become_a_two_part_position_and_back()
    {
        var p = EsdbProtocol.ToPosition(4096, 4000);
        Assert.Equal("4096:4000", p.ToString());
        Assert.Equal(p, Position.Parse("4096:4000"));
        Assert.Equal((4096UL, 4000UL), EsdbProtocol.FromPosition(p));
    }

    [Fact]
    public void Positions_order_by_commit_then_prepare()
    {
        Assert.True(EsdbProtocol.ToPosition(10, 5) < EsdbProtocol.ToPosition(10, 6));
        Assert.True(EsdbProtocol.ToPosition(10, 9) < EsdbProtocol.ToPosition(11, 0));
    }

    [Fact]
    public void The_servers_no_position_marker_is_Start()
    {
        Assert.True(EsdbProtocol.ToPosition(ulong.MaxValue, ulong.MaxValue).IsStart);
    }

    [Fact]
    public void A_position_of_another_provider_is_refused()
    {
        Assert.Throws<InvalidPositionException>(() => EsdbProtocol.FromPosition(Position.FromInt64(42)));
        Assert.Throws<InvalidPositionException>(() => EsdbProtocol.FromPosition(Position.FromParts(1, 2, 3)));
    }

    [Fact]
    public void Reading_all_without_a_position_starts_at_the_right_end()
    {
        Assert.Equal(ReadReq.Types.Options.Types.AllOptions.AllOptionOneofCase.Start, EsdbProtocol.AllFrom(null, ReadDirection.Forwards).AllOptionCase);
        Assert.Equal(ReadReq.Types.Options.Types.AllOptions.AllOptionOneofCase.End, EsdbProtocol.AllFrom(null, ReadDirection.Backwards).AllOptionCase);
        var at = EsdbProtocol.AllFrom(Position.FromParts(7, 6), ReadDirection.Forwards);
        Assert.Equal(7UL, at.Position.CommitPosition);
        Assert.Equal(6UL, at.Position.PreparePosition);
    }

    [Fact]
    public void Event_ids_use_the_servers_big_endian_halves()
    {
        var id = Guid.Parse("00112233-4455-6677-8899-aabbccddeeff");
        var uuid = EsdbProtocol.ToUuid(id);
        Assert.Equal(0x0011223344556677L, uuid.Structured.MostSignificantBits);
        Assert.Equal(unchecked((long)0x8899AABBCCDDEEFFUL), uuid.Structured.LeastSignificantBits);
        Assert.Equal(id, EsdbProtocol.FromUuid(uuid));
        Assert.Equal(id, EsdbProtocol.FromUuid(new UUID { String = id.ToString() }));
    }

    [Fact]
    public void Random_ids_round_trip()
    {
        for (var i = 0; i < 100; i++)
        {
            var id = Guid.NewGuid();
            Assert.Equal(id, EsdbProtocol.FromUuid(UUID.Parser.ParseFrom(EsdbProtocol.ToUuid(id).ToByteArray())));
        }
    }
}

public sealed class MetadataRoundTripTests
{
    private static readonly StreamNames Names = new("");

    private static RecordedEvent RoundTrip(EventData e, long ticks = 638_000_000_000_000_000)
    {
        var proposed = AppendReq.Types.ProposedMessage.Parser.ParseFrom(EsdbProtocol.ToProposed(e).ToByteArray());
        var recorded = new ReadResp.Types.ReadEvent.Types.RecordedEvent
        {
            Id = proposed.Id,
            StreamIdentifier = EsdbProtocol.StreamId("Order-1"),
            StreamRevision = 3,
            CommitPosition = 900,
            PreparePosition = 800,
            Data = proposed.Data,
            CustomMetadata = proposed.CustomMetadata,
        };
        // The server keeps the type, reduces the content type to JSON or not, and adds the creation time.
        recorded.Metadata["type"] = proposed.Metadata["type"];
        recorded.Metadata["content-type"] = proposed.Metadata["content-type"];
        recorded.Metadata["created"] = ticks.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return EsdbProtocol.ToRecorded(new ReadResp.Types.ReadEvent { Event = recorded, CommitPosition = 900 }, Names)!;
    }

    [Fact]
    public void Type_and_content_type_go_in_the_required_metadata_entries()
    {
        var json = EsdbProtocol.ToProposed(new EventData(Guid.NewGuid(), "OrderPlaced", "{}"u8.ToArray()));
        Assert.Equal("OrderPlaced", json.Metadata["type"]);
        Assert.Equal("application/json", json.Metadata["content-type"]);
        var binary = EsdbProtocol.ToProposed(new EventData(Guid.NewGuid(), "Blob", new byte[] { 1 }, ContentType: "image/png"));
        Assert.Equal("application/octet-stream", binary.Metadata["content-type"]);
        var charset = EsdbProtocol.ToProposed(new EventData(Guid.NewGuid(), "T", "{}"u8.ToArray(), ContentType: "Application/JSON; charset=utf-8"));
        Assert.Equal("application/json", charset.Metadata["content-type"]);
    }

    [Fact]
    public void Everything_we_append_reads_back_exactly()
    {
        var e = new EventData(Guid.NewGuid(), "Order \"Placed\" ü$^", "{\"total\":12.5}"u8.ToArray(), "{\"correlationId\":\"c-1\",\"causationId\":\"k-2\"}"u8.ToArray(), "application/vnd.order+json", 4);
        var r = RoundTrip(e, ticks: 17_000_000_000_000_000);
        Assert.Equal(e.EventId, r.EventId);
        Assert.Equal(e.EventType, r.EventType);
        Assert.Equal(e.Data.ToArray(), r.Data.ToArray());
        Assert.Equal(e.Metadata.ToArray(), r.Metadata.ToArray());
        Assert.Equal("application/vnd.order+json", r.ContentType);
        Assert.Equal(4, r.SchemaVersion);
        Assert.Equal(new StreamName("Order-1"), r.Stream);
        Assert.Equal(3, r.Version);
        Assert.Equal(Position.FromParts(900, 800), r.Position);
        Assert.Equal(DateTimeOffset.UnixEpoch.AddTicks(17_000_000_000_000_000), r.CreatedUtc);
    }

    [Theory]
    [InlineData("")]
    [InlineData("{}")]
    [InlineData("[1,2]")]
    [InlineData(" {\"a\":1}")]
    [InlineData("{\"a\":1}\n")]
    [InlineData("not json at all")]
    [InlineData("{\"broken\":")]
    [InlineData("{\"$esp\":2}")]
    public void Application_metadata_round_trips_byte_for_byte_whatever_it_holds(string metadata)
    {
        var bytes = Encoding.UTF8.GetBytes(metadata);
        var r = RoundTrip(new EventData(Guid.NewGuid(), "T", "{}"u8.ToArray(), bytes));
        Assert.Equal(bytes, r.Metadata.ToArray());
        Assert.Equal("application/json", r.ContentType);
        Assert.Equal(1, r.SchemaVersion);
    }

    [Fact]
    public void Binary_metadata_round_trips()
    {
        var bytes = new byte[] { 0, 255, 10, 13, 0x7B, 0x7D };
        Assert.Equal(bytes, RoundTrip(new EventData(Guid.NewGuid(), "T", new byte[] { 1 }, bytes, "application/octet-stream")).Metadata.ToArray());
    }

    [Fact]
    public void Events_written_by_other_clients_read_with_their_raw_metadata()
    {
        var recorded = new ReadResp.Types.ReadEvent.Types.RecordedEvent
        {
            Id = EsdbProtocol.ToUuid(Guid.NewGuid()),
            StreamIdentifier = EsdbProtocol.StreamId("Order-9"),
            CustomMetadata = ByteString.CopyFromUtf8("{\"$correlationId\":\"z\"}"),
            Data = ByteString.CopyFromUtf8("{}"),
        };
        recorded.Metadata["type"] = "Legacy";
        recorded.Metadata["content-type"] = "application/octet-stream";
        var r = EsdbProtocol.ToRecorded(recorded, new StreamName("Order-9"));
        Assert.Equal("{\"$correlationId\":\"z\"}", Encoding.UTF8.GetString(r.Metadata.Span));
        Assert.Equal("application/octet-stream", r.ContentType);
        Assert.Equal(1, r.SchemaVersion);
    }

    [Fact]
    public void Events_of_other_prefixes_and_system_streams_are_not_ours()
    {
        var names = new StreamNames("t1_");
        var read = new ReadResp.Types.ReadEvent { Event = new ReadResp.Types.ReadEvent.Types.RecordedEvent { StreamIdentifier = EsdbProtocol.StreamId("t2_Order-1") } };
        Assert.Null(EsdbProtocol.ToRecorded(read, names));
        read.Event.StreamIdentifier = EsdbProtocol.StreamId("$ce-t1_Order");
        Assert.Null(EsdbProtocol.ToRecorded(read, names));
        read.Event.StreamIdentifier = EsdbProtocol.StreamId("t1_Order-1");
        read.Event.Metadata["type"] = "X";
        Assert.Equal(new StreamName("Order-1"), EsdbProtocol.ToRecorded(read, names)!.Stream);
        Assert.Null(EsdbProtocol.ToRecorded(new ReadResp.Types.ReadEvent { Link = read.Event }, names));
    }
}

public sealed class FilterConstructionTests
{
    [Fact]
    public void Categories_filter_by_stream_prefix_with_the_store_prefix_and_the_dash()
    {
        var f = EsdbProtocol.BuildFilter("t1_", EventFilter.ForCategories("Order", "Cart"), 500);
        Assert.Equal(ReadReq.Types.Options.Types.FilterOptions.FilterOneofCase.StreamIdentifier, f.FilterCase);
        Assert.Equal(["t1_Order-", "t1_Cart-"], f.StreamIdentifier.Prefix);
        Assert.Equal("", f.StreamIdentifier.Regex);
        Assert.Equal(500u, f.Max);
        Assert.Equal(1u, f.CheckpointIntervalMultiplier);
    }

    [Fact]
    public void Event_types_filter_by_an_anchored_regex_on_the_server()
    {
        var f = EsdbProtocol.BuildFilter("", EventFilter.ForEventTypes("OrderPlaced", "OrderShipped"), 32);
        Assert.Equal(ReadReq.Types.Options.Types.FilterOptions.FilterOneofCase.EventType, f.FilterCase);
        Assert.Equal("^(?:OrderPlaced|OrderShipped)$", f.EventType.Regex);
        Assert.Empty(f.EventType.Prefix);
    }

    [Theory]
    [InlineData("a.b")]
    [InlineData("Order(Placed)+")]
    [InlineData("[x]{2}*?")]
    [InlineData("^$|\\")]
    [InlineData("ü #\"'")]
    public void Event_type_regex_matches_exactly_the_type_and_nothing_else(string eventType)
    {
        var regex = new Regex(EsdbProtocol.EventTypeRegex([eventType, "Other"]));
        Assert.Matches(regex, eventType);
        Assert.Matches(regex, "Other");
        Assert.DoesNotMatch(regex, eventType + "x");
        Assert.DoesNotMatch(regex, "x" + eventType);
        Assert.DoesNotMatch(regex, "Oth");
        if (eventType == "a.b") Assert.DoesNotMatch(regex, "aXb");
    }

    [Fact]
    public void Without_a_filter_the_server_drops_system_events()
    {
        var f = EsdbProtocol.BuildFilter("", EventFilter.None, 32);
        Assert.Equal(EsdbProtocol.ExcludeSystemEventsRegex, f.EventType.Regex);
        var regex = new Regex(f.EventType.Regex);
        Assert.Matches(regex, "OrderPlaced");
        Assert.DoesNotMatch(regex, "$metadata");
    }

    [Fact]
    public void A_store_prefix_with_event_types_filters_the_prefix_on_the_server_and_types_here()
    {
        var f = EsdbProtocol.BuildFilter("t1_", EventFilter.ForEventTypes("A"), 32);
        Assert.Equal(["t1_"], f.StreamIdentifier.Prefix);
    }
}
