using System.Buffers;
using System.Text;

namespace EventStore.Providers.DynamoDB;

/// <summary>One event decoded from an item, before stream, version and position are attached.</summary>
internal readonly record struct StoredEvent(Guid EventId, string EventType, string ContentType, int SchemaVersion, ReadOnlyMemory<byte> Data, ReadOnlyMemory<byte> Metadata);

/// <summary>
/// Packs a batch of events into one binary attribute: one binary value is far cheaper for the SDK to marshal than a
/// list of maps, and it is byte-exact for data and metadata. Layout per event: id (16 bytes), type, content type
/// (7-bit length + UTF-8), schema version (7-bit), data and metadata (7-bit length + bytes).
/// </summary>
internal static class EventCodec
{
    public static int EncodedSize(EventData e) =>
        16 + StringSize(e.EventType) + StringSize(e.ContentType) + 5 + 5 + e.Data.Length + 5 + e.Metadata.Length;

    private static int StringSize(string s) => 5 + Encoding.UTF8.GetByteCount(s);

    public static byte[] Encode(IReadOnlyList<EventData> events, int start, int count)
    {
        var writer = new ArrayBufferWriter<byte>(256 * count);
        for (var i = start; i < start + count; i++)
        {
            var e = events[i];
            var span = writer.GetSpan(16);
            e.EventId.TryWriteBytes(span);
            writer.Advance(16);
            WriteString(writer, e.EventType);
            WriteString(writer, e.ContentType);
            WriteVarint(writer, (uint)e.SchemaVersion);
            WriteBytes(writer, e.Data.Span);
            WriteBytes(writer, e.Metadata.Span);
        }
        return writer.WrittenSpan.ToArray();
    }

    public static List<StoredEvent> Decode(ReadOnlyMemory<byte> blob)
    {
        var result = new List<StoredEvent>();
        var offset = 0;
        var span = blob.Span;
        while (offset < span.Length)
        {
            var id = new Guid(span.Slice(offset, 16));
            offset += 16;
            var type = ReadString(span, ref offset);
            var contentType = ReadString(span, ref offset);
            var schema = (int)ReadVarint(span, ref offset);
            var dataLength = (int)ReadVarint(span, ref offset);
            var data = blob.Slice(offset, dataLength);
            offset += dataLength;
            var metaLength = (int)ReadVarint(span, ref offset);
            var meta = blob.Slice(offset, metaLength);
            offset += metaLength;
            result.Add(new StoredEvent(id, type, contentType, schema, data, meta));
        }
        return result;
    }

    private static void WriteString(ArrayBufferWriter<byte> writer, string value)
    {
        var length = Encoding.UTF8.GetByteCount(value);
        WriteVarint(writer, (uint)length);
        var span = writer.GetSpan(length);
        Encoding.UTF8.GetBytes(value, span);
        writer.Advance(length);
    }

    private static void WriteBytes(ArrayBufferWriter<byte> writer, ReadOnlySpan<byte> value)
    {
        WriteVarint(writer, (uint)value.Length);
        writer.Write(value);
    }

    private static void WriteVarint(ArrayBufferWriter<byte> writer, uint value)
    {
        var span = writer.GetSpan(5);
        var i = 0;
        while (value >= 0x80)
        {
            span[i++] = (byte)(value | 0x80);
            value >>= 7;
        }
        span[i++] = (byte)value;
        writer.Advance(i);
    }

    private static uint ReadVarint(ReadOnlySpan<byte> span, ref int offset)
    {
        uint result = 0;
        var shift = 0;
        while (true)
        {
            var b = span[offset++];
            result |= (uint)(b & 0x7F) << shift;
            if (b < 0x80) return result;
            shift += 7;
        }
    }

    private static string ReadString(ReadOnlySpan<byte> span, ref int offset)
    {
        var length = (int)ReadVarint(span, ref offset);
        var s = Encoding.UTF8.GetString(span.Slice(offset, length));
        offset += length;
        return s;
    }
}
