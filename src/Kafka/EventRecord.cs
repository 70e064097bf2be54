using System.Buffers.Binary;
using System.Text;
using Confluent.Kafka;

namespace EventStore.Providers.Kafka;

/// <summary>What a message of the events topic is: an event or a stream-lifecycle marker.</summary>
internal enum RecordKind : byte
{
    Event = 0,
    SoftDelete = 1,
    Tombstone = 2,
}

/// <summary>
/// The message layout of the events topic: key = stream name (UTF-8), value = event data, and the rest in headers.
/// Metadata travels in a header rather than an envelope around the value, so the value stays the payload byte for
/// byte and other Kafka tools (consumers, connectors) read plain event data.
/// </summary>
internal static class EventRecord
{
    public const string IdHeader = "es-id";
    public const string TypeHeader = "es-type";
    public const string VersionHeader = "es-version";
    public const string BatchLastHeader = "es-batch-last";
    public const string ContentTypeHeader = "es-content-type";
    public const string SchemaVersionHeader = "es-schema-version";
    public const string MetadataHeader = "es-metadata";
    public const string KindHeader = "es-kind";
    public const string FormatHeader = "es-format";

    /// <summary>
    /// <c>es-format</c> of records written now: <c>es-id</c> in RFC 4122 byte order. Records without the header are
    /// from earlier versions, whose <c>es-id</c> is in .NET's <see cref="Guid.ToByteArray()"/> order.
    /// </summary>
    private const byte CurrentFormat = 2;

    /// <summary>Room for the record framing and header names, on top of the variable parts, when sizing a message.</summary>
    private const int FramingAllowance = 256;

    public static int EstimateSize(string stream, EventData e) =>
        FramingAllowance + Encoding.UTF8.GetByteCount(stream) + Encoding.UTF8.GetByteCount(e.EventType)
        + Encoding.UTF8.GetByteCount(e.ContentType) + e.Data.Length + e.Metadata.Length;

    public static Message<byte[], byte[]> ToMessage(byte[] key, EventData e, long version, long batchLastVersion)
    {
        var headers = new Headers
        {
            { IdHeader, e.EventId.ToByteArray(bigEndian: true) },
            { TypeHeader, Encoding.UTF8.GetBytes(e.EventType) },
            { VersionHeader, Int64(version) },
            { BatchLastHeader, Int64(batchLastVersion) },
            { ContentTypeHeader, Encoding.UTF8.GetBytes(e.ContentType) },
            { SchemaVersionHeader, Int64(e.SchemaVersion) },
            { FormatHeader, [CurrentFormat] },
        };
        if (!e.Metadata.IsEmpty) headers.Add(MetadataHeader, e.Metadata.ToArray());
        return new Message<byte[], byte[]> { Key = key, Value = e.Data.ToArray(), Headers = headers };
    }

    /// <summary>A lifecycle marker: soft delete (reads start after <paramref name="lastVersion"/>) or tombstone.</summary>
    public static Message<byte[], byte[]> Marker(byte[] key, RecordKind kind, long lastVersion) => new()
    {
        Key = key,
        Value = [],
        Headers = new Headers { { KindHeader, [(byte)kind] }, { VersionHeader, Int64(lastVersion) }, { BatchLastHeader, Int64(lastVersion) } },
    };

    private static byte[] Int64(long v)
    {
        var b = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(b, v);
        return b;
    }

    /// <summary>The index-relevant part of a message, read without copying the payload.</summary>
    public readonly record struct Header(string Stream, RecordKind Kind, long Version, long BatchLastVersion, Guid EventId);

    public static bool TryReadHeader(ConsumeResult<byte[], byte[]> r, out Header header)
    {
        header = default;
        var m = r.Message;
        if (m.Key is null || m.Headers is null) return false;
        string stream;
        try { stream = Encoding.UTF8.GetString(m.Key); }
        catch (ArgumentException) { return false; }
        var kind = RecordKind.Event;
        long version = -1, last = -1;
        byte[]? id = null;
        byte format = 1;
        foreach (var h in m.Headers)
        {
            switch (h.Key)
            {
                case KindHeader: kind = (RecordKind)h.GetValueBytes()[0]; break;
                case VersionHeader: version = BinaryPrimitives.ReadInt64BigEndian(h.GetValueBytes()); break;
                case BatchLastHeader: last = BinaryPrimitives.ReadInt64BigEndian(h.GetValueBytes()); break;
                case IdHeader: id = h.GetValueBytes(); break;
                case FormatHeader: format = h.GetValueBytes() is [var f, ..] ? f : (byte)1; break;
            }
        }
        if (version < 0 && kind == RecordKind.Event) return false;
        header = new Header(stream, kind, version, last, IdOf(id, format));
        return true;
    }

    public static RecordedEvent ToRecordedEvent(ConsumeResult<byte[], byte[]> r, StreamName stream, long version, Position position)
    {
        var m = r.Message;
        byte[]? id = null;
        byte format = 1;
        string type = "", contentType = EventData.JsonContentType;
        var schemaVersion = 1;
        byte[] metadata = [];
        foreach (var h in m.Headers)
        {
            switch (h.Key)
            {
                case IdHeader: id = h.GetValueBytes(); break;
                case FormatHeader: format = h.GetValueBytes() is [var f, ..] ? f : (byte)1; break;
                case TypeHeader: type = Encoding.UTF8.GetString(h.GetValueBytes()); break;
                case ContentTypeHeader: contentType = Encoding.UTF8.GetString(h.GetValueBytes()); break;
                case SchemaVersionHeader: schemaVersion = (int)BinaryPrimitives.ReadInt64BigEndian(h.GetValueBytes()); break;
                case MetadataHeader: metadata = h.GetValueBytes(); break;
            }
        }
        return new RecordedEvent(stream, version, position, IdOf(id, format), type, m.Value ?? [], metadata, contentType, schemaVersion,
            m.Timestamp.UtcDateTime);
    }

    /// <summary>The event id of an <c>es-id</c> header: RFC 4122 byte order from format 2 on, .NET order before.</summary>
    private static Guid IdOf(byte[]? bytes, byte format) =>
        bytes is not { Length: 16 } ? Guid.Empty : new Guid(bytes, bigEndian: format >= CurrentFormat);
}
