using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Google.Protobuf;

namespace EventStore.Providers.EventStoreDB.Protocol;

/// <summary>
/// What an event's <c>custom_metadata</c> and <c>content-type</c> entry hold, so that other EventStoreDB clients and
/// the server's projections see the application's own metadata, and the provider still gets back the exact content
/// type and schema version (which the server does not keep: it only stores an "is JSON" flag).
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>The server's <c>content-type</c> entry is <c>application/json</c> for JSON content types
/// (<c>application/json</c>, <c>application/*+json</c>, with or without parameters), else
/// <c>application/octet-stream</c>.</item>
/// <item>When the exact content type is what that entry reads back as and the schema version is 1, custom metadata is
/// the application's metadata bytes, verbatim (the official client's shape).</item>
/// <item>Otherwise, when the application's metadata is empty or one JSON object, the provider's values go in as
/// leading top-level properties <c>"$contentType"</c> and/or <c>"$schemaVersion"</c> of that object; the rest of the
/// object is the application's bytes. An object without members gets one space before its <c>}</c> so that
/// <c>{}</c> and empty metadata stay apart. Reading strips them again, byte for byte.</item>
/// <item>Otherwise (binary or non-object metadata with a content type or schema version to keep, or metadata that
/// itself starts with one of those property names) the documented fallback is the wrapper
/// <c>{"$esp":1,"contentType":...,"schemaVersion":...,"metadata":{...}}</c> (<c>metadataBase64</c> for non-JSON),
/// the only shape versions before this one wrote, which still reads back.</item>
/// </list>
/// </remarks>
internal static class CustomMetadata
{
    /// <summary>The wrapper's marker property; snapshots' and checkpoints' own metadata start with it too.</summary>
    internal const string MarkerProperty = "$esp";
    internal const string ContentTypeProperty = "$contentType";
    internal const string SchemaVersionProperty = "$schemaVersion";

    // Content types as other tools expect to read them ("+json", not "\u002Bjson"); this is no HTML context.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private const string OctetStream = "application/octet-stream";
    private static readonly byte[] MarkerPrefix = Encoding.UTF8.GetBytes("{\"$esp\":");
    private static readonly byte[] ContentTypePrefix = Encoding.UTF8.GetBytes("{\"$contentType\":");
    private static readonly byte[] SchemaVersionPrefix = Encoding.UTF8.GetBytes("{\"$schemaVersion\":");

    /// <summary>The value for the server's required <c>content-type</c> entry: it only distinguishes JSON.</summary>
    public static string ServerContentType(string contentType) => IsJson(contentType) ? EventData.JsonContentType : OctetStream;

    /// <summary>True for <c>application/json</c> and <c>application/*+json</c>, ignoring case and parameters.</summary>
    public static bool IsJson(string contentType)
    {
        var semicolon = contentType.IndexOf(';', StringComparison.Ordinal);
        var media = (semicolon >= 0 ? contentType.AsSpan(0, semicolon) : contentType.AsSpan()).Trim();
        return media.Equals(EventData.JsonContentType, StringComparison.OrdinalIgnoreCase) ||
               media.StartsWith("application/", StringComparison.OrdinalIgnoreCase) && media.EndsWith("+json", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>What an event's content type reads back as when nothing else was stored for it.</summary>
    private static string DefaultContentType(string serverContentType) =>
        string.Equals(serverContentType, EventData.JsonContentType, StringComparison.OrdinalIgnoreCase) ? EventData.JsonContentType : serverContentType;

    public static ByteString Encode(string contentType, int schemaVersion, ReadOnlyMemory<byte> metadata)
    {
        var span = metadata.Span;
        var keepType = !string.Equals(contentType, DefaultContentType(ServerContentType(contentType)), StringComparison.Ordinal);
        var keepVersion = schemaVersion != 1;
        var ambiguous = span.StartsWith(MarkerPrefix) || span.StartsWith(ContentTypePrefix) || span.StartsWith(SchemaVersionPrefix);
        if (!keepType && !keepVersion && !ambiguous) return UnsafeByteOperations.UnsafeWrap(metadata);
        if (!ambiguous && (span.IsEmpty || IsSingleJsonObject(span) && !FirstPropertyIsOurs(span)))
        {
            var buffer = new ArrayBufferWriter<byte>(span.Length + contentType.Length + 48);
            using (var w = new Utf8JsonWriter(buffer, WriterOptions))
            {
                w.WriteStartObject();
                if (keepType) w.WriteString(ContentTypeProperty, contentType);
                if (keepVersion) w.WriteNumber(SchemaVersionProperty, schemaVersion);
                // The writer closes the object itself; the application's members are spliced in after flushing.
                w.Flush();
            }
            var written = buffer.WrittenSpan;
            var result = new byte[written.Length + Math.Max(1, span.Length)];
            written.CopyTo(result);
            if (span.IsEmpty)
            {
                result[written.Length] = (byte)'}';
                return UnsafeByteOperations.UnsafeWrap(result);
            }
            // After our properties: "," before the application's first member, or " " when it has none.
            result[written.Length] = HasMembers(span) ? (byte)',' : (byte)' ';
            span[1..].CopyTo(result.AsSpan(written.Length + 1));
            return UnsafeByteOperations.UnsafeWrap(result);
        }
        return Wrap(contentType, schemaVersion, span);
    }

    private static ByteString Wrap(string contentType, int schemaVersion, ReadOnlySpan<byte> metadata)
    {
        var buffer = new ArrayBufferWriter<byte>(64 + metadata.Length * 4 / 3);
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
        {
            w.WriteStartObject();
            w.WriteNumber(MarkerProperty, 1);
            w.WriteString("contentType", contentType);
            w.WriteNumber("schemaVersion", schemaVersion);
            if (!metadata.IsEmpty)
            {
                if (IsSingleJsonContainer(metadata))
                {
                    w.WritePropertyName("metadata");
                    w.WriteRawValue(metadata, skipInputValidation: true);
                }
                else
                {
                    w.WriteBase64String("metadataBase64", metadata);
                }
            }
            w.WriteEndObject();
        }
        return ByteString.CopyFrom(buffer.WrittenSpan);
    }

    private static bool IsSingleJsonObject(ReadOnlySpan<byte> bytes) => bytes.Length >= 2 && bytes[0] == '{' && IsSingleJsonContainer(bytes);

    /// <summary>True when the bytes are one JSON object or array with nothing around it, so they embed verbatim.</summary>
    private static bool IsSingleJsonContainer(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 2 || bytes[0] is not ((byte)'{' or (byte)'[') || bytes[^1] is not ((byte)'}' or (byte)']'))
            return false;
        try
        {
            var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
            if (!reader.Read()) return false;
            reader.Skip();
            return reader.BytesConsumed == bytes.Length;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>True when a valid JSON object's first member is named like one of the properties we splice in.</summary>
    private static bool FirstPropertyIsOurs(ReadOnlySpan<byte> jsonObject)
    {
        var reader = new Utf8JsonReader(jsonObject);
        reader.Read();
        return reader.Read() && reader.TokenType == JsonTokenType.PropertyName &&
               (reader.ValueTextEquals(ContentTypeProperty) || reader.ValueTextEquals(SchemaVersionProperty) || reader.ValueTextEquals(MarkerProperty));
    }

    /// <summary>True when a valid JSON object has at least one member (anything but whitespace between its braces).</summary>
    private static bool HasMembers(ReadOnlySpan<byte> jsonObject) => !jsonObject[1..^1].Trim(" \t\r\n"u8).IsEmpty;

    /// <summary>Reads content type, schema version and the application's metadata back from custom metadata.</summary>
    public static (string ContentType, int SchemaVersion, ReadOnlyMemory<byte> Metadata) Decode(ReadOnlyMemory<byte> custom, string serverContentType)
    {
        var span = custom.Span;
        if (span.StartsWith(MarkerPrefix)) return Unwrap(custom, serverContentType);
        if (span.StartsWith(ContentTypePrefix) || span.StartsWith(SchemaVersionPrefix)) return Strip(custom, serverContentType);
        return (DefaultContentType(serverContentType), 1, custom);
    }

    private static (string, int, ReadOnlyMemory<byte>) Strip(ReadOnlyMemory<byte> custom, string serverContentType)
    {
        try
        {
            var reader = new Utf8JsonReader(custom.Span);
            string? contentType = null;
            var schemaVersion = 1;
            reader.Read();
            var end = (int)reader.BytesConsumed;
            // Ours are at most "$contentType" then "$schemaVersion", in that order; whatever follows is the application's.
            if (reader.Read() && reader.ValueTextEquals(ContentTypeProperty))
            {
                reader.Read();
                contentType = reader.GetString();
                end = (int)reader.BytesConsumed;
                reader.Read();
            }
            if (reader.TokenType == JsonTokenType.PropertyName && reader.ValueTextEquals(SchemaVersionProperty))
            {
                reader.Read();
                schemaVersion = reader.GetInt32();
                end = (int)reader.BytesConsumed;
            }
            var rest = custom.Span[end..];
            ReadOnlyMemory<byte> metadata;
            if (rest.Length == 1 && rest[0] == '}') metadata = ReadOnlyMemory<byte>.Empty;
            else if (rest.Length >= 2 && rest[0] is (byte)',' or (byte)' ')
            {
                var bytes = new byte[rest.Length];
                bytes[0] = (byte)'{';
                rest[1..].CopyTo(bytes.AsSpan(1));
                metadata = bytes;
            }
            else return (DefaultContentType(serverContentType), 1, custom);
            return (contentType ?? DefaultContentType(serverContentType), schemaVersion, metadata);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            return (DefaultContentType(serverContentType), 1, custom);
        }
    }

    private static (string, int, ReadOnlyMemory<byte>) Unwrap(ReadOnlyMemory<byte> custom, string serverContentType)
    {
        try
        {
            var reader = new Utf8JsonReader(custom.Span);
            string? contentType = null;
            var schemaVersion = 1;
            ReadOnlyMemory<byte> metadata = ReadOnlyMemory<byte>.Empty;
            reader.Read();
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.GetString();
                reader.Read();
                switch (name)
                {
                    case "contentType": contentType = reader.GetString(); break;
                    case "schemaVersion": schemaVersion = reader.GetInt32(); break;
                    case "metadata":
                        var start = (int)reader.TokenStartIndex;
                        reader.Skip();
                        metadata = custom.Slice(start, (int)reader.BytesConsumed - start);
                        break;
                    case "metadataBase64": metadata = reader.GetBytesFromBase64(); break;
                    default: reader.Skip(); break;
                }
            }
            return (contentType ?? DefaultContentType(serverContentType), schemaVersion, metadata);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            return (DefaultContentType(serverContentType), 1, custom);
        }
    }
}
