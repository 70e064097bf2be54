using System.ComponentModel;
using System.Text;
using System.Text.Json;
using EventStore.Providers.Aggregates;
using EventStore.Providers.InMemory;
using EventStore.Providers.Serialization;
using Microsoft.Extensions.Configuration;

namespace EventStore.Providers.Abstractions.Tests;

/// <summary>
/// Issue 12 item 5: the types a web endpoint returns serialize and read back with System.Text.Json (with the default
/// and the ASP.NET web options), and the string-shaped ones convert from text for configuration and route binding.
/// </summary>
public class StreamTypesJsonTests
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    public static TheoryData<string> OptionSets => new() { "default", "web", "indented" };

    private static JsonSerializerOptions Options(string name) => name switch
    {
        "web" => JsonSerializerOptions.Web,
        "indented" => new JsonSerializerOptions { WriteIndented = true },
        _ => JsonSerializerOptions.Default,
    };

    private static T RoundTrip<T>(T value, string options)
    {
        var json = JsonSerializer.Serialize(value, Options(options));
        return JsonSerializer.Deserialize<T>(json, Options(options))!;
    }

    [Theory]
    [MemberData(nameof(OptionSets))]
    public void Positions_are_their_text_in_json_and_read_back_equal(string options)
    {
        foreach (var p in new[] { Position.Start, Position.FromInt64(0), Position.FromInt64(long.MaxValue), Position.FromParts(7, 3), Position.FromParts(0, 0, 9) })
        {
            Assert.Equal($"\"{p}\"", JsonSerializer.Serialize(p, Options(options)));
            Assert.Equal(p, RoundTrip(p, options));
        }
    }

    [Fact]
    public void Positions_work_as_dictionary_keys_and_as_nullable_values()
    {
        var map = new Dictionary<Position, string> { [Position.FromInt64(5)] = "five", [Position.Start] = "start" };
        var json = JsonSerializer.Serialize(map);

        Assert.Equal("""{"5":"five","start":"start"}""", json);
        Assert.Equal(map, JsonSerializer.Deserialize<Dictionary<Position, string>>(json));
        Assert.Null(JsonSerializer.Deserialize<Position?>("null"));
        Assert.Equal(Position.FromInt64(3), JsonSerializer.Deserialize<Position?>("\"3\""));
    }

    [Theory]
    [InlineData("\"-1\"")]
    [InlineData("\"+5\"")]
    [InlineData("\"01\"")]
    [InlineData("\"abc\"")]
    [InlineData("5")]
    [InlineData("null")]
    [InlineData("{}")]
    public void Json_that_is_not_a_position_fails_with_a_json_exception(string json)
    {
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<Position>(json));
    }

    [Fact]
    public void Stream_names_and_expected_versions_are_their_text_in_json()
    {
        var stream = StreamName.For("Order", "42-a");
        Assert.Equal("\"Order-42-a\"", JsonSerializer.Serialize(stream));
        Assert.Equal(stream, JsonSerializer.Deserialize<StreamName>("\"Order-42-a\""));
        Assert.Equal("null", JsonSerializer.Serialize(default(StreamName)));
        Assert.Equal(default, JsonSerializer.Deserialize<StreamName>("null"));
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<StreamName>("\"NoDash\""));
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<StreamName>("\"$all-1\""));

        foreach (var expected in new[] { ExpectedVersion.Any, ExpectedVersion.NoStream, ExpectedVersion.StreamExists, ExpectedVersion.Exact(0), ExpectedVersion.Exact(long.MaxValue) })
        {
            var json = JsonSerializer.Serialize(expected);
            Assert.Equal($"\"{expected}\"", json);
            Assert.Equal(expected, JsonSerializer.Deserialize<ExpectedVersion>(json));
        }
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<ExpectedVersion>("\"-1\""));
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<ExpectedVersion>("\"Sometimes\""));
    }

    [Theory]
    [MemberData(nameof(OptionSets))]
    public void Append_results_and_stream_infos_round_trip(string options)
    {
        var results = new[] { new AppendResult(3, Position.FromInt64(17)), new AppendResult(-1, Position.Start, WroteEvents: false), new AppendResult(0, Position.FromParts(1, 0)) };
        foreach (var r in results) Assert.Equal(r, RoundTrip(r, options));

        var infos = new[] { new StreamInfo(StreamName.For("Order", "1"), true, 3), StreamInfo.NotFound(StreamName.For("Order", "2")), new StreamInfo(StreamName.For("Order", "3"), false, -1, IsDeleted: true) };
        foreach (var i in infos) Assert.Equal(i, RoundTrip(i, options));
    }

    [Fact]
    public void Append_results_and_stream_infos_have_a_fixed_camel_case_shape()
    {
        Assert.Equal("""{"lastVersion":3,"position":"17","wroteEvents":true}""", JsonSerializer.Serialize(new AppendResult(3, Position.FromInt64(17))));
        Assert.Equal("""{"stream":"Order-1","exists":true,"lastVersion":3,"isDeleted":false}""", JsonSerializer.Serialize(new StreamInfo(StreamName.For("Order", "1"), true, 3)));
        Assert.Equal(new AppendResult(3, Position.FromInt64(17)), JsonSerializer.Deserialize<AppendResult>("""{"LastVersion":3,"Position":"17","extra":[1,{"a":2}]}"""));
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<AppendResult>("""{"lastVersion":3}"""));
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<StreamInfo>("""{"stream":"Order-1","lastVersion":3}"""));
    }

    private static RecordedEvent Recorded(string contentType, byte[] data, byte[] metadata) =>
        new(StreamName.For("Order", "7"), 4, Position.FromInt64(99), Guid.NewGuid(), "OrderPlaced", data, metadata, contentType, 2,
            new DateTimeOffset(2026, 11, 30, 1, 2, 3, 456, TimeSpan.Zero));

    private static void AssertSame(RecordedEvent expected, RecordedEvent actual)
    {
        Assert.Equal(expected.Stream, actual.Stream);
        Assert.Equal(expected.Version, actual.Version);
        Assert.Equal(expected.Position, actual.Position);
        Assert.Equal(expected.EventId, actual.EventId);
        Assert.Equal(expected.EventType, actual.EventType);
        Assert.Equal(expected.Data.ToArray(), actual.Data.ToArray());
        Assert.Equal(expected.Metadata.ToArray(), actual.Metadata.ToArray());
        Assert.Equal(expected.ContentType, actual.ContentType);
        Assert.Equal(expected.SchemaVersion, actual.SchemaVersion);
        Assert.Equal(expected.CreatedUtc, actual.CreatedUtc);
    }

    public static TheoryData<string, string, string> Payloads => new()
    {
        // content type, data (UTF-8 text or "hex:" bytes), metadata
        { "application/json", """{"orderId":"o-1","amount":10.5}""", """{"$correlationId":"c"}""" },
        { "application/json; charset=utf-8", """[1,2,{"a":"\u00e9\ud83d\ude00"}]""", "" },
        { "application/vnd.order+json", "\"just a string\"", "null" },
        { "application/json", "42", "true" },
        { "application/json", "{ \"spaced\" : 1 }\n", "{}" },
        { "application/json", "hex:EFBBBF7B7D", "" },
        { "application/json", "{\"unterminated\":", "" },
        { "application/json", "hex:22FF22", "" },
        { "application/json", "{} {}", "" },
        { "application/json", "", "" },
        { "application/octet-stream", "hex:00FF10", "hex:FFFE" },
        { "text/plain", "123", "" },
    };

    private static byte[] Bytes(string text) => text.StartsWith("hex:", StringComparison.Ordinal) ? Convert.FromHexString(text[4..]) : Encoding.UTF8.GetBytes(text);

    [Theory]
    [MemberData(nameof(Payloads))]
    public void Recorded_events_round_trip_byte_for_byte_with_every_payload(string contentType, string data, string metadata)
    {
        var e = Recorded(contentType, Bytes(data), Bytes(metadata));
        foreach (var options in new[] { "default", "web", "indented" })
            AssertSame(e, RoundTrip(e, options));
    }

    [Fact]
    public void A_compact_json_payload_is_embedded_as_json_and_anything_else_as_base64()
    {
        var json = Recorded("application/json", """{"orderId":"o-1"}"""u8.ToArray(), """{"$correlationId":"c"}"""u8.ToArray());
        using (var doc = JsonDocument.Parse(JsonSerializer.Serialize(json)))
        {
            var root = doc.RootElement;
            Assert.Equal("o-1", root.GetProperty("data").GetProperty("orderId").GetString());
            Assert.Equal("c", root.GetProperty("metadata").GetProperty("$correlationId").GetString());
            Assert.Equal("Order-7", root.GetProperty("stream").GetString());
            Assert.Equal("99", root.GetProperty("position").GetString());
            Assert.False(root.TryGetProperty("dataBase64", out _));
        }

        var binary = Recorded("application/octet-stream", [0, 255], []);
        using (var doc = JsonDocument.Parse(JsonSerializer.Serialize(binary)))
        {
            Assert.Equal("AP8=", doc.RootElement.GetProperty("dataBase64").GetString());
            Assert.False(doc.RootElement.TryGetProperty("data", out _));
            Assert.False(doc.RootElement.TryGetProperty("metadata", out _));
            Assert.False(doc.RootElement.TryGetProperty("metadataBase64", out _));
        }
    }

    [Fact]
    public async Task What_a_store_and_an_aggregate_store_return_serializes_for_a_web_response_and_reads_back()
    {
        var store = new InMemoryEventStore();
        var stream = Streams.NewOrder();
        var appended = await store.AppendAsync(stream, ExpectedVersion.NoStream, [new EventData(Guid.NewGuid(), "Placed", """{"n":1}"""u8.ToArray())], Ct);

        Assert.Equal(appended, RoundTrip(appended, "web"));

        var aggregates = new AggregateStore(store, new JsonEventSerializer(new EventTypeRegistry().RegisterAssembly(typeof(OrderPlaced).Assembly)));
        var order = new Order();
        order.Place("o-1", 10m);
        var saved = await aggregates.SaveAsync(Streams.NewOrder(), order, cancellationToken: Ct);
        Assert.Equal(saved, RoundTrip(saved, "web"));

        var read = new List<RecordedEvent>();
        await foreach (var e in store.ReadStreamAsync(stream, cancellationToken: Ct)) read.Add(e);
        var back = RoundTrip(read, "web");
        AssertSame(Assert.Single(read), Assert.Single(back));
        Assert.Equal(await store.GetStreamInfoAsync(stream, Ct), RoundTrip(await store.GetStreamInfoAsync(stream, Ct), "web"));
    }

    private sealed class BoundSettings
    {
        public Position Checkpoint { get; set; }
        public Position? Optional { get; set; }
        public StreamName Stream { get; set; }
        public ExpectedVersion Expected { get; set; }
    }

    [Fact]
    public void Position_stream_name_and_expected_version_bind_from_configuration()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Checkpoint"] = "7:3",
            ["Optional"] = "start",
            ["Stream"] = "Order-42",
            ["Expected"] = "NoStream",
        }).Build();

        var settings = configuration.Get<BoundSettings>()!;

        Assert.Equal(Position.FromParts(7, 3), settings.Checkpoint);
        Assert.Equal(Position.Start, settings.Optional);
        Assert.Equal(StreamName.For("Order", "42"), settings.Stream);
        Assert.Equal(ExpectedVersion.NoStream, settings.Expected);
    }

    [Fact]
    public void Configuration_text_that_is_not_a_position_fails_naming_the_key()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Checkpoint"] = "+5" }).Build();

        var e = Assert.Throws<InvalidOperationException>(() => configuration.Get<BoundSettings>());

        Assert.Contains("Checkpoint", e.Message, StringComparison.Ordinal);
        Assert.IsType<FormatException>(e.InnerException);
    }

    [Fact]
    public void Type_converters_convert_from_and_to_text()
    {
        var position = TypeDescriptor.GetConverter(typeof(Position));
        Assert.Equal(Position.FromParts(1, 2), position.ConvertFromInvariantString("1:2"));
        Assert.Equal("1:2", position.ConvertToInvariantString(Position.FromParts(1, 2)));
        Assert.True(position.IsValid("42"));
        Assert.False(position.IsValid("042"));
        Assert.Throws<FormatException>(() => position.ConvertFromInvariantString("1\0"));

        var stream = TypeDescriptor.GetConverter(typeof(StreamName));
        Assert.Equal(StreamName.For("Order", "1"), stream.ConvertFromInvariantString("Order-1"));
        Assert.Equal("Order-1", stream.ConvertToInvariantString(StreamName.For("Order", "1")));
        Assert.Throws<FormatException>(() => stream.ConvertFromInvariantString("nodash"));

        var expected = TypeDescriptor.GetConverter(typeof(ExpectedVersion));
        Assert.Equal(ExpectedVersion.Exact(5), expected.ConvertFromInvariantString("5"));
        Assert.Equal(ExpectedVersion.StreamExists, expected.ConvertFromInvariantString("streamexists"));
        Assert.Equal("Any", expected.ConvertToInvariantString(ExpectedVersion.Any));
        Assert.Throws<FormatException>(() => expected.ConvertFromInvariantString("5 "));
    }

    [Fact]
    public void The_string_shaped_types_parse_through_IParsable_as_minimal_apis_bind_them()
    {
        Assert.Equal(Position.FromInt64(9), ParseVia<Position>("9"));
        Assert.Equal(StreamName.For("Order", "9"), ParseVia<StreamName>("Order-9"));
        Assert.Equal(ExpectedVersion.Exact(9), ParseVia<ExpectedVersion>("9"));
        Assert.False(Position.TryParse("9 ", null, out _));
        Assert.False(StreamName.TryParse("9", null, out _));
        Assert.False(ExpectedVersion.TryParse("-9", null, out _));

        static T ParseVia<T>(string text) where T : IParsable<T> => T.TryParse(text, null, out var value) ? value : throw new FormatException(text);
    }
}
