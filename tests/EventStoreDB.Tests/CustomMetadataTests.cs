using System.Text;
using System.Text.Json;
using EventStore.Providers.EventStoreDB.Protocol;
using EventStore.Providers.EventStoreDB.Protocol.Streams;
using EventStore.Providers.Serialization;
using Google.Protobuf;

namespace EventStore.Providers.EventStoreDB.Tests;

/// <summary>
/// What other EventStoreDB clients and the server's projections see of our events: the exact AppendReq and
/// BatchAppendReq messages we produce, and that records in the shape earlier versions wrote still decode.
/// </summary>
public sealed class CustomMetadataTests
{
    private sealed record OrderPlaced(decimal Total);

    private static (AppendReq.Types.ProposedMessage Plain, BatchAppendReq.Types.ProposedMessage Batch) Proposed(EventData e)
    {
        // Through the wire bytes, as the server receives them.
        var plain = AppendReq.Parser.ParseFrom(new AppendReq { ProposedMessage = EsdbProtocol.ToProposed(e) }.ToByteArray()).ProposedMessage;
        var batch = BatchAppendReq.Types.ProposedMessage.Parser.ParseFrom(EsdbProtocol.ToBatchProposed(e).ToByteArray());
        Assert.Equal(plain.CustomMetadata, batch.CustomMetadata);
        Assert.Equal(plain.Metadata, batch.Metadata);
        return (plain, batch);
    }

    private static RecordedEvent Read(ByteString custom, string serverContentType)
    {
        var recorded = new ReadResp.Types.ReadEvent.Types.RecordedEvent
        {
            Id = EsdbProtocol.ToUuid(Guid.NewGuid()),
            StreamIdentifier = EsdbProtocol.StreamId("Order-1"),
            CustomMetadata = custom,
            Data = ByteString.CopyFromUtf8("{}"),
        };
        recorded.Metadata["type"] = "T";
        recorded.Metadata["content-type"] = serverContentType;
        return EsdbProtocol.ToRecorded(recorded, new StreamName("Order-1"));
    }

    [Fact]
    public void A_typed_event_carries_the_applications_metadata_bytes_with_correlation_and_causation_at_the_top()
    {
        var serializer = new JsonEventSerializer(new EventTypeRegistry().Register<OrderPlaced>("OrderPlaced"));
        var e = serializer.Serialize(new OrderPlaced(12.5m), new EventMetadata { CorrelationId = "corr-1", CausationId = "cause-2", UserId = "u" });

        var (message, _) = Proposed(e);

        Assert.Equal(e.Metadata.ToArray(), message.CustomMetadata.ToByteArray());
        using var json = JsonDocument.Parse(message.CustomMetadata.Memory);
        Assert.Equal("corr-1", json.RootElement.GetProperty("$correlationId").GetString());
        Assert.Equal("cause-2", json.RootElement.GetProperty("$causationId").GetString());
        Assert.Equal(new Dictionary<string, string> { ["type"] = "OrderPlaced", ["content-type"] = "application/json" }, message.Metadata);
    }

    [Theory]
    [InlineData("application/vnd.order+json", "{\"$contentType\":\"application/vnd.order+json\",\"$correlationId\":\"c\"}")]
    [InlineData("application/json; charset=utf-8", "{\"$contentType\":\"application/json; charset=utf-8\",\"$correlationId\":\"c\"}")]
    [InlineData("Application/JSON", "{\"$contentType\":\"Application/JSON\",\"$correlationId\":\"c\"}")]
    public void Json_content_types_set_the_servers_json_flag_and_keep_their_exact_name_in_a_leading_property(string contentType, string expected)
    {
        var (message, _) = Proposed(new EventData(Guid.NewGuid(), "T", "{}"u8.ToArray(), "{\"$correlationId\":\"c\"}"u8.ToArray(), contentType));

        Assert.Equal("application/json", message.Metadata["content-type"]);
        Assert.Equal(expected, message.CustomMetadata.ToStringUtf8());
    }

    [Fact]
    public void A_schema_version_other_than_1_is_a_leading_property_and_nothing_else_is_added()
    {
        var (message, _) = Proposed(new EventData(Guid.NewGuid(), "T", "{}"u8.ToArray(), "{\"$causationId\":\"k\",\"n\":[1]}"u8.ToArray(), SchemaVersion: 3));
        Assert.Equal("{\"$schemaVersion\":3,\"$causationId\":\"k\",\"n\":[1]}", message.CustomMetadata.ToStringUtf8());

        var (both, _) = Proposed(new EventData(Guid.NewGuid(), "T", "{}"u8.ToArray(), default, "application/vnd.a+json", 2));
        Assert.Equal("{\"$contentType\":\"application/vnd.a+json\",\"$schemaVersion\":2}", both.CustomMetadata.ToStringUtf8());
    }

    [Fact]
    public void Plain_json_and_octet_stream_events_at_schema_1_carry_exactly_the_applications_metadata()
    {
        var (json, _) = Proposed(new EventData(Guid.NewGuid(), "T", "{}"u8.ToArray(), "not json"u8.ToArray()));
        Assert.Equal("not json", json.CustomMetadata.ToStringUtf8());
        var (empty, _) = Proposed(new EventData(Guid.NewGuid(), "T", new byte[] { 1 }, default, "application/octet-stream"));
        Assert.True(empty.CustomMetadata.IsEmpty);
        Assert.Equal("application/octet-stream", empty.Metadata["content-type"]);
    }

    [Fact]
    public void Binary_metadata_with_a_content_type_to_keep_falls_back_to_the_documented_wrapper()
    {
        var (message, _) = Proposed(new EventData(Guid.NewGuid(), "T", new byte[] { 1 }, new byte[] { 0, 255 }, "image/png"));
        Assert.Equal("application/octet-stream", message.Metadata["content-type"]);
        Assert.Equal("{\"$esp\":1,\"contentType\":\"image/png\",\"schemaVersion\":1,\"metadataBase64\":\"AP8=\"}", message.CustomMetadata.ToStringUtf8());
    }

    public static TheoryData<string, int, string> Shapes() => new()
    {
        { "application/json", 1, "" },
        { "application/json", 2, "" },
        { "application/json", 2, "{}" },
        { "application/json", 2, "{ }" },
        { "application/vnd.x+json", 1, "{}" },
        { "application/vnd.x+json", 5, "{\"a\":{\"b\":[1,2]}}" },
        { "application/vnd.x+json", 1, " {\"a\":1}" },
        { "application/vnd.x+json", 1, "[1]" },
        { "application/vnd.x+json", 1, "{\"$contentType\":\"mine\"}" },
        { "application/json", 1, "{\"$schemaVersion\":7}" },
        { "application/json", 2, "{ \"$schemaVersion\":7}" },
        { "application/json", 1, "{\"$esp\":1}" },
        { "text/plain", 1, "plain text" },
        { "text/plain", 4, "{\"x\":\"y\"}" },
        { "application/octet-stream", 1, "{\"broken\":" },
        { "application/octet-stream", 9, "" },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Every_shape_reads_back_exactly(string contentType, int schemaVersion, string metadata)
    {
        var bytes = Encoding.UTF8.GetBytes(metadata);
        var (message, _) = Proposed(new EventData(Guid.NewGuid(), "T", "{}"u8.ToArray(), bytes, contentType, schemaVersion));

        var r = Read(message.CustomMetadata, message.Metadata["content-type"]);

        Assert.Equal(metadata, Encoding.UTF8.GetString(r.Metadata.Span));
        Assert.Equal(contentType, r.ContentType);
        Assert.Equal(schemaVersion, r.SchemaVersion);
        if (metadata.StartsWith('{') && metadata.EndsWith('}'))
            Assert.Equal(JsonValueKind.Object, JsonDocument.Parse(message.CustomMetadata.Memory).RootElement.ValueKind);
    }

    [Fact]
    public void Records_in_the_earlier_wrapper_shape_still_read_back()
    {
        var json = Read(ByteString.CopyFromUtf8("{\"$esp\":1,\"contentType\":\"application/vnd.order+json\",\"schemaVersion\":3,\"metadata\":{\"$correlationId\":\"c\"}}"), "application/octet-stream");
        Assert.Equal("application/vnd.order+json", json.ContentType);
        Assert.Equal(3, json.SchemaVersion);
        Assert.Equal("{\"$correlationId\":\"c\"}", Encoding.UTF8.GetString(json.Metadata.Span));

        var binary = Read(ByteString.CopyFromUtf8("{\"$esp\":1,\"contentType\":\"image/png\",\"schemaVersion\":1,\"metadataBase64\":\"AP8=\"}"), "application/octet-stream");
        Assert.Equal("image/png", binary.ContentType);
        Assert.Equal(new byte[] { 0, 255 }, binary.Metadata.ToArray());

        var none = Read(ByteString.CopyFromUtf8("{\"$esp\":1,\"contentType\":\"application/json\",\"schemaVersion\":1}"), "application/json");
        Assert.Equal("application/json", none.ContentType);
        Assert.True(none.Metadata.IsEmpty);
    }

    [Fact]
    public void Metadata_written_by_other_clients_reads_verbatim_with_the_servers_content_type()
    {
        var r = Read(ByteString.CopyFromUtf8("{\"$correlationId\":\"z\",\"$contentType\":\"late\"}"), "application/json");
        Assert.Equal("{\"$correlationId\":\"z\",\"$contentType\":\"late\"}", Encoding.UTF8.GetString(r.Metadata.Span));
        Assert.Equal("application/json", r.ContentType);
        Assert.Equal(1, r.SchemaVersion);
    }
}
