using System.Text.Json.Serialization;

namespace EventStore.Providers;

/// <summary>An event as stored: the appended <see cref="EventData"/> plus where and when it was recorded.</summary>
/// <param name="Stream">The stream the event belongs to.</param>
/// <param name="Version">Its version in the stream (0 for the first event; dense).</param>
/// <param name="Position">Its position in the global log.</param>
/// <param name="EventId">The id given on append.</param>
/// <param name="EventType">The type name given on append.</param>
/// <param name="Data">The payload bytes, exactly as appended.</param>
/// <param name="Metadata">The metadata bytes, exactly as appended.</param>
/// <param name="ContentType">The content type given on append.</param>
/// <param name="SchemaVersion">The schema version given on append.</param>
/// <param name="CreatedUtc">When the store recorded the event (UTC).</param>
/// <remarks>
/// JSON (System.Text.Json): an object with <c>stream</c>, <c>version</c>, <c>position</c> (text), <c>eventId</c>,
/// <c>eventType</c>, <c>contentType</c>, <c>schemaVersion</c>, <c>createdUtc</c>, and the payload as <c>data</c>
/// (the JSON itself, for a JSON content type and a compact JSON payload) or <c>dataBase64</c>; metadata likewise as
/// <c>metadata</c> or <c>metadataBase64</c> (absent when empty). Reading it back gives the same bytes.
/// </remarks>
[JsonConverter(typeof(RecordedEventJsonConverter))]
public sealed record RecordedEvent(
    StreamName Stream,
    long Version,
    Position Position,
    Guid EventId,
    string EventType,
    ReadOnlyMemory<byte> Data,
    ReadOnlyMemory<byte> Metadata,
    string ContentType,
    int SchemaVersion,
    DateTimeOffset CreatedUtc);
