using System.Buffers;
using System.Text;
using System.Text.Json;
using Google.Protobuf;

namespace EventStore.Providers.EventStoreDB;

/// <summary>
/// What we put in an event's <c>custom_metadata</c>: the server keeps only an "is JSON" flag for the content type and
/// knows nothing of schema versions, so both travel here with the application's metadata bytes.
/// </summary>
/// <remarks>
/// The format is a JSON object whose first property is <c>"$esp":1</c>:
/// <code>{"$esp":1,"contentType":"application/json","schemaVersion":2,"metadata":{...}}</code>
/// <c>metadata</c> holds the application's metadata verbatim when it is exactly one JSON object or array (so the
/// server's UI and projections see it as JSON); otherwise <c>metadataBase64</c> holds it. Both are left out when the
/// metadata is empty. Custom metadata that is not such an envelope (events written by other clients) is read as the
/// application's metadata, with content type from the server's JSON flag and schema version 1.
/// </remarks>
internal static class EventEnvelope
{
    internal const string MarkerProperty = "$esp";
    private static readonly byte[] MarkerPrefix = Encoding.UTF8.GetBytes("{\"$esp\":");

    /// <summary>The value for the server's required <c>content-type</c> entry: it only distinguishes JSON.</summary>
    public static string ServerContentType(string contentType) =>
        IsJson(contentType) ? EventData.JsonContentType : "application/octet-stream";

    private static bool IsJson(string contentType)
    {
        var semicolon = contentType.IndexOf(';', StringComparison.Ordinal);
        var media = (semicolon >= 0 ? contentType[..semicolon] : contentType).Trim();
        return string.Equals(media, EventData.JsonContentType, StringComparison.OrdinalIgnoreCase);
    }

    public static ByteString Encode(string contentType, int schemaVersion, ReadOnlyMemory<byte> metadata)
    {
        var buffer = new ArrayBufferWriter<byte>(64 + metadata.Length * 4 / 3);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber(MarkerProperty, 1);
            w.WriteString("contentType", contentType);
            w.WriteNumber("schemaVersion", schemaVersion);
            if (!metadata.IsEmpty)
            {
                if (IsSingleJsonContainer(metadata.Span))
                {
                    w.WritePropertyName("metadata");
                    w.WriteRawValue(metadata.Span, skipInputValidation: true);
                }
                else
                {
                    w.WriteBase64String("metadataBase64", metadata.Span);
                }
            }
            w.WriteEndObject();
        }
        return ByteString.CopyFrom(buffer.WrittenSpan);
    }

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

    /// <summary>Reads content type, schema version and application metadata back from custom metadata.</summary>
    public static (string ContentType, int SchemaVersion, ReadOnlyMemory<byte> Metadata) Decode(ReadOnlyMemory<byte> custom, string serverContentType)
    {
        if (!custom.Span.StartsWith(MarkerPrefix)) return (serverContentType, 1, custom);
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
            return (contentType ?? serverContentType, schemaVersion, metadata);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            return (serverContentType, 1, custom);
        }
    }
}
