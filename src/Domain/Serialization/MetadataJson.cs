using System.Buffers;
using System.Text.Json;

namespace EventStore.Providers.Serialization;

/// <summary>
/// The stored JSON form of <see cref="EventMetadata"/>. Written by hand so the property names are fixed by this
/// format, not by whatever naming policy an application sets on its payload options.
/// </summary>
internal static class MetadataJson
{
    private const string Correlation = "$correlationId";
    private const string Causation = "$causationId";
    private const string User = "userId";
    private const string Time = "timestamp";
    private const string HeadersName = "headers";

    public static byte[] Write(EventMetadata metadata)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            if (metadata.CorrelationId is not null) writer.WriteString(Correlation, metadata.CorrelationId);
            if (metadata.CausationId is not null) writer.WriteString(Causation, metadata.CausationId);
            if (metadata.UserId is not null) writer.WriteString(User, metadata.UserId);
            if (metadata.Timestamp is not null) writer.WriteString(Time, metadata.Timestamp.Value);
            if (metadata.Headers.Count > 0)
            {
                writer.WriteStartObject(HeadersName);
                foreach (var (key, value) in metadata.Headers) writer.WriteString(key, value);
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    // Metadata written by other tools must not make an event unreadable: anything that is not our envelope reads as empty.
    public static EventMetadata Read(ReadOnlySpan<byte> json)
    {
        if (json.IsEmpty) return EventMetadata.Empty;
        try
        {
            var reader = new Utf8JsonReader(json);
            using var document = JsonDocument.ParseValue(ref reader);
            if (document.RootElement.ValueKind != JsonValueKind.Object) return EventMetadata.Empty;
            var root = document.RootElement;
            Dictionary<string, string>? headers = null;
            if (root.TryGetProperty(HeadersName, out var h) && h.ValueKind == JsonValueKind.Object)
            {
                headers = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var p in h.EnumerateObject())
                    if (p.Value.ValueKind == JsonValueKind.String) headers[p.Name] = p.Value.GetString()!;
            }
            return new EventMetadata
            {
                CorrelationId = String(root, Correlation),
                CausationId = String(root, Causation),
                UserId = String(root, User),
                Timestamp = root.TryGetProperty(Time, out var t) && t.ValueKind == JsonValueKind.String && t.TryGetDateTimeOffset(out var ts) ? ts : null,
                Headers = headers ?? EventMetadata.Empty.Headers,
            };
        }
        catch (JsonException)
        {
            return EventMetadata.Empty;
        }
    }

    private static string? String(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
