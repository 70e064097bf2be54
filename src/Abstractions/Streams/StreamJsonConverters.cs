using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Unicode;

namespace EventStore.Providers;

// System.Text.Json converters for the public stream types, attached with [JsonConverter] on each type so that
// `Results.Ok(await store.AppendAsync(...))` and friends serialize and read back with any JsonSerializerOptions.
// The wire shape is fixed here (camelCase names, positions as their text) instead of following an application's
// naming policy, so a client written against one service reads every other.

/// <summary>Base of the converters whose JSON form is one string (the type's canonical text).</summary>
internal abstract class TextJsonConverter<T> : JsonConverter<T> where T : struct
{
    protected abstract string What { get; }

    protected abstract string Format(T value);

    protected abstract bool TryParse(string text, out T value, out string? problem);

    /// <summary>The value a JSON <c>null</c> reads as, or null when null is an error.</summary>
    protected virtual T? NullValue => null;

    public override bool HandleNull => true;

    public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Null)
            return NullValue ?? throw new JsonException($"A {What} cannot be null in JSON.");
        if (reader.TokenType != JsonTokenType.String)
            throw new JsonException($"A {What} is written as a JSON string, not {reader.TokenType}.");
        return Parse(reader.GetString()!);
    }

    public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) => writer.WriteStringValue(Format(value));

    public override T ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => Parse(reader.GetString()!);

    public override void WriteAsPropertyName(Utf8JsonWriter writer, T value, JsonSerializerOptions options) => writer.WritePropertyName(Format(value));

    private T Parse(string text) => TryParse(text, out var value, out var problem) ? value
        : throw new JsonException($"'{(text.Length > 80 ? text[..80] + "…" : text)}' is not a valid {What}{(problem is null ? "" : ": " + problem)}.");
}

/// <summary><see cref="Position"/> as its text: <c>"start"</c>, <c>"42"</c>, <c>"7:3"</c>.</summary>
internal sealed class PositionJsonConverter : TextJsonConverter<Position>
{
    protected override string What => "position";
    protected override string Format(Position value) => value.ToString();
    protected override bool TryParse(string text, out Position value, out string? problem)
    {
        problem = null;
        return Position.TryParse(text, out value);
    }
}

/// <summary><see cref="StreamName"/> as its text; a default (empty) name is written as <c>null</c> and read back from it.</summary>
internal sealed class StreamNameJsonConverter : TextJsonConverter<StreamName>
{
    protected override string What => "stream name";
    protected override StreamName? NullValue => default(StreamName);
    protected override string Format(StreamName value) => value.ToString();
    protected override bool TryParse(string text, out StreamName value, out string? problem)
    {
        problem = StreamName.Validate(text);
        return StreamName.TryParse(text, out value);
    }

    public override void Write(Utf8JsonWriter writer, StreamName value, JsonSerializerOptions options)
    {
        if (value.ToString().Length == 0) writer.WriteNullValue();
        else writer.WriteStringValue(value.Value);
    }
}

/// <summary><see cref="ExpectedVersion"/> as its text: <c>"Any"</c>, <c>"NoStream"</c>, <c>"StreamExists"</c> or <c>"3"</c>.</summary>
internal sealed class ExpectedVersionJsonConverter : TextJsonConverter<ExpectedVersion>
{
    protected override string What => "expected version (Any, NoStream, StreamExists or a version 0 or more)";
    protected override string Format(ExpectedVersion value) => value.ToString();
    protected override bool TryParse(string text, out ExpectedVersion value, out string? problem)
    {
        problem = null;
        return ExpectedVersion.TryParse(text, out value);
    }
}

/// <summary>Reading helpers shared by the object converters.</summary>
internal static class StreamJson
{
    public static void ExpectStartObject(ref Utf8JsonReader reader, string what)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
            throw new JsonException($"{what} is written as a JSON object, not {reader.TokenType}.");
    }

    /// <summary>Moves to the next property of the object; returns false at its end.</summary>
    public static bool NextProperty(ref Utf8JsonReader reader, out string name)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.EndObject)
        {
            name = "";
            return false;
        }
        name = reader.GetString()!;
        reader.Read();
        return true;
    }

    public static bool Is(string name, string expected) => string.Equals(name, expected, StringComparison.OrdinalIgnoreCase);

    public static T Required<T>(T? value, string property, string what) where T : struct =>
        value ?? throw new JsonException($"{what} in JSON needs the property '{property}'.");

    public static T Required<T>(T? value, string property, string what) where T : class =>
        value ?? throw new JsonException($"{what} in JSON needs the property '{property}'.");

    public static Position ReadPosition(ref Utf8JsonReader reader, JsonSerializerOptions options) =>
        PositionConverter.Read(ref reader, typeof(Position), options);

    public static StreamName ReadStream(ref Utf8JsonReader reader, JsonSerializerOptions options) =>
        StreamConverter.Read(ref reader, typeof(StreamName), options);

    public static readonly PositionJsonConverter PositionConverter = new();
    public static readonly StreamNameJsonConverter StreamConverter = new();

    /// <summary>
    /// True when <paramref name="bytes"/> can be embedded in the JSON output as a value and read back byte for byte:
    /// one complete, valid, UTF-8 JSON value without surrounding white space, BOM or comments, and not deeply nested.
    /// </summary>
    public static bool IsEmbeddableJson(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty) return false;
        var first = bytes[0];
        var last = bytes[^1];
        if (first is not ((byte)'{' or (byte)'[' or (byte)'"' or (byte)'-' or (byte)'t' or (byte)'f' or (byte)'n' or (>= (byte)'0' and <= (byte)'9'))) return false;
        if (last is not ((byte)'}' or (byte)']' or (byte)'"' or (byte)'e' or (byte)'l' or (>= (byte)'0' and <= (byte)'9'))) return false;
        if (!Utf8.IsValid(bytes)) return false;
        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { MaxDepth = EmbeddedMaxDepth });
        try
        {
            while (reader.Read()) { }
            return reader.BytesConsumed == bytes.Length;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    // Deep enough for any sensible payload; shallow enough that the embedding object stays under the reader's
    // default depth limit (64) when the JSON is read back.
    private const int EmbeddedMaxDepth = 32;

    /// <summary>True for <c>application/json</c> and <c>*/*+json</c> media types (parameters ignored).</summary>
    public static bool IsJsonContentType(string? contentType)
    {
        if (string.IsNullOrEmpty(contentType)) return false;
        var media = contentType.AsSpan();
        var semicolon = media.IndexOf(';');
        if (semicolon >= 0) media = media[..semicolon];
        media = media.Trim();
        return media.Equals("application/json", StringComparison.OrdinalIgnoreCase) || media.EndsWith("+json", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Writes bytes as <c>name</c> (embedded JSON) when <paramref name="asJson"/> allows it, else as <c>nameBase64</c>.</summary>
    public static void WriteBytes(Utf8JsonWriter writer, string name, ReadOnlyMemory<byte> bytes, bool asJson)
    {
        if (asJson && IsEmbeddableJson(bytes.Span))
        {
            writer.WritePropertyName(name);
            writer.WriteRawValue(bytes.Span, skipInputValidation: true);
        }
        else
        {
            writer.WriteBase64String(name + "Base64", bytes.Span);
        }
    }

    /// <summary>Reads an embedded JSON value back as its exact UTF-8 text.</summary>
    public static byte[] ReadEmbeddedJson(ref Utf8JsonReader reader)
    {
        using var document = JsonDocument.ParseValue(ref reader);
        return Encoding.UTF8.GetBytes(document.RootElement.GetRawText());
    }
}

/// <summary><see cref="AppendResult"/> as <c>{"lastVersion":3,"position":"17","wroteEvents":true}</c>.</summary>
internal sealed class AppendResultJsonConverter : JsonConverter<AppendResult>
{
    private const string What = "An append result";

    public override AppendResult Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        StreamJson.ExpectStartObject(ref reader, What);
        long? lastVersion = null;
        Position? position = null;
        var wroteEvents = true;
        while (StreamJson.NextProperty(ref reader, out var name))
        {
            if (StreamJson.Is(name, "lastVersion")) lastVersion = reader.GetInt64();
            else if (StreamJson.Is(name, "position")) position = StreamJson.ReadPosition(ref reader, options);
            else if (StreamJson.Is(name, "wroteEvents")) wroteEvents = reader.GetBoolean();
            else reader.Skip();
        }
        return new AppendResult(StreamJson.Required(lastVersion, "lastVersion", What), StreamJson.Required(position, "position", What), wroteEvents);
    }

    public override void Write(Utf8JsonWriter writer, AppendResult value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WriteNumber("lastVersion", value.LastVersion);
        writer.WriteString("position", value.Position.ToString());
        writer.WriteBoolean("wroteEvents", value.WroteEvents);
        writer.WriteEndObject();
    }
}

/// <summary><see cref="StreamInfo"/> as <c>{"stream":"Order-1","exists":true,"lastVersion":3,"isDeleted":false}</c>.</summary>
internal sealed class StreamInfoJsonConverter : JsonConverter<StreamInfo>
{
    private const string What = "A stream info";

    public override StreamInfo Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        StreamJson.ExpectStartObject(ref reader, What);
        StreamName? stream = null;
        bool? exists = null;
        long? lastVersion = null;
        var isDeleted = false;
        while (StreamJson.NextProperty(ref reader, out var name))
        {
            if (StreamJson.Is(name, "stream")) stream = StreamJson.ReadStream(ref reader, options);
            else if (StreamJson.Is(name, "exists")) exists = reader.GetBoolean();
            else if (StreamJson.Is(name, "lastVersion")) lastVersion = reader.GetInt64();
            else if (StreamJson.Is(name, "isDeleted")) isDeleted = reader.GetBoolean();
            else reader.Skip();
        }
        return new StreamInfo(StreamJson.Required(stream, "stream", What), StreamJson.Required(exists, "exists", What),
            StreamJson.Required(lastVersion, "lastVersion", What), isDeleted);
    }

    public override void Write(Utf8JsonWriter writer, StreamInfo value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WritePropertyName("stream");
        StreamJson.StreamConverter.Write(writer, value.Stream, options);
        writer.WriteBoolean("exists", value.Exists);
        writer.WriteNumber("lastVersion", value.LastVersion);
        writer.WriteBoolean("isDeleted", value.IsDeleted);
        writer.WriteEndObject();
    }
}

/// <summary>
/// <see cref="RecordedEvent"/> as an object. The payload is written as <c>"data"</c> holding the JSON itself when
/// the content type is JSON and the bytes are one compact JSON value (so a web client sees the event, and the bytes
/// read back are exactly the stored ones), otherwise as <c>"dataBase64"</c>; metadata likewise as
/// <c>"metadata"</c> or <c>"metadataBase64"</c> (omitted when empty).
/// </summary>
internal sealed class RecordedEventJsonConverter : JsonConverter<RecordedEvent>
{
    private const string What = "A recorded event";

    public override RecordedEvent Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        StreamJson.ExpectStartObject(ref reader, What);
        StreamName? stream = null;
        long? version = null;
        Position? position = null;
        Guid? eventId = null;
        string? eventType = null, contentType = null;
        int? schemaVersion = null;
        DateTimeOffset? created = null;
        byte[] data = [], metadata = [];
        while (StreamJson.NextProperty(ref reader, out var name))
        {
            if (StreamJson.Is(name, "stream")) stream = StreamJson.ReadStream(ref reader, options);
            else if (StreamJson.Is(name, "version")) version = reader.GetInt64();
            else if (StreamJson.Is(name, "position")) position = StreamJson.ReadPosition(ref reader, options);
            else if (StreamJson.Is(name, "eventId")) eventId = reader.GetGuid();
            else if (StreamJson.Is(name, "eventType")) eventType = reader.GetString();
            else if (StreamJson.Is(name, "contentType")) contentType = reader.GetString();
            else if (StreamJson.Is(name, "schemaVersion")) schemaVersion = reader.GetInt32();
            else if (StreamJson.Is(name, "createdUtc")) created = reader.GetDateTimeOffset();
            else if (StreamJson.Is(name, "data")) data = StreamJson.ReadEmbeddedJson(ref reader);
            else if (StreamJson.Is(name, "dataBase64")) data = reader.GetBytesFromBase64();
            else if (StreamJson.Is(name, "metadata")) metadata = StreamJson.ReadEmbeddedJson(ref reader);
            else if (StreamJson.Is(name, "metadataBase64")) metadata = reader.GetBytesFromBase64();
            else reader.Skip();
        }
        return new RecordedEvent(
            StreamJson.Required(stream, "stream", What),
            StreamJson.Required(version, "version", What),
            StreamJson.Required(position, "position", What),
            StreamJson.Required(eventId, "eventId", What),
            StreamJson.Required(eventType, "eventType", What),
            data,
            metadata,
            StreamJson.Required(contentType, "contentType", What),
            StreamJson.Required(schemaVersion, "schemaVersion", What),
            StreamJson.Required(created, "createdUtc", What));
    }

    public override void Write(Utf8JsonWriter writer, RecordedEvent value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WritePropertyName("stream");
        StreamJson.StreamConverter.Write(writer, value.Stream, options);
        writer.WriteNumber("version", value.Version);
        writer.WriteString("position", value.Position.ToString());
        writer.WriteString("eventId", value.EventId);
        writer.WriteString("eventType", value.EventType);
        writer.WriteString("contentType", value.ContentType);
        writer.WriteNumber("schemaVersion", value.SchemaVersion);
        writer.WriteString("createdUtc", value.CreatedUtc);
        StreamJson.WriteBytes(writer, "data", value.Data, StreamJson.IsJsonContentType(value.ContentType));
        if (!value.Metadata.IsEmpty) StreamJson.WriteBytes(writer, "metadata", value.Metadata, asJson: true);
        writer.WriteEndObject();
    }
}
