namespace EventStore.Providers;

/// <summary>An event to append: what the writer supplies. The store adds stream, version, position and time.</summary>
/// <param name="EventId">Unique id of the event; re-sending the same ids makes an append idempotent.</param>
/// <param name="EventType">Stable type name (for example <c>OrderPlaced</c>); not empty, no control characters.</param>
/// <param name="Data">The payload bytes, stored byte for byte.</param>
/// <param name="Metadata">Metadata bytes (the envelope: correlation, causation, ...), stored byte for byte.</param>
/// <param name="ContentType">Media type of <paramref name="Data"/>; <c>application/json</c> by default.</param>
/// <param name="SchemaVersion">Version of the event's schema, for upcasting on read; 1 or more.</param>
public sealed record EventData(
    Guid EventId,
    string EventType,
    ReadOnlyMemory<byte> Data,
    ReadOnlyMemory<byte> Metadata = default,
    string ContentType = EventData.JsonContentType,
    int SchemaVersion = 1)
{
    /// <summary>The content type of JSON payloads.</summary>
    public const string JsonContentType = "application/json";

    /// <summary>The longest event type accepted, in characters.</summary>
    public const int MaxEventTypeLength = 500;

    /// <summary>The payload and metadata size in bytes (what size limits count).</summary>
    public int Size => Data.Length + Metadata.Length;
}
