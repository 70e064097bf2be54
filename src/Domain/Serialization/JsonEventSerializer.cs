using System.Text.Json;
using System.Text.Json.Nodes;

namespace EventStore.Providers.Serialization;

/// <summary>
/// The System.Text.Json event serializer: payloads as JSON (<c>application/json</c>) with the schema version from the
/// <see cref="EventTypeRegistry"/>, the <see cref="EventMetadata"/> envelope as JSON metadata, and upcasting of older
/// schema versions on read through the <see cref="EventUpcasterRegistry"/>.
/// </summary>
public sealed class JsonEventSerializer : IEventSerializer
{
    private readonly TimeProvider _time;

    /// <summary>Creates the serializer.</summary>
    /// <param name="types">The event-type registry.</param>
    /// <param name="upcasters">Upcasters for older schema versions; none when null.</param>
    /// <param name="options">JSON options; <see cref="JsonSerializerDefaults.Web"/> when null.</param>
    /// <param name="timeProvider">The clock for metadata timestamps; the system clock when null.</param>
    public JsonEventSerializer(EventTypeRegistry types, EventUpcasterRegistry? upcasters = null, JsonSerializerOptions? options = null, TimeProvider? timeProvider = null)
    {
        Types = types ?? throw new ArgumentNullException(nameof(types));
        Upcasters = upcasters ?? new EventUpcasterRegistry();
        Options = options ?? new JsonSerializerOptions(JsonSerializerDefaults.Web);
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>The event-type registry.</summary>
    public EventTypeRegistry Types { get; }

    /// <summary>The upcasters.</summary>
    public EventUpcasterRegistry Upcasters { get; }

    /// <summary>The JSON options used for payloads.</summary>
    public JsonSerializerOptions Options { get; }

    /// <inheritdoc />
    public string GetEventTypeName(Type eventType) => Types.GetName(eventType);

    /// <inheritdoc />
    public EventData Serialize(object @event, EventMetadata? metadata = null, Guid? eventId = null)
    {
        ArgumentNullException.ThrowIfNull(@event);
        var registration = Types.GetRegistration(@event.GetType());
        var data = JsonSerializer.SerializeToUtf8Bytes(@event, registration.ClrType, Options);
        var envelope = (metadata ?? EventMetadata.Empty).WithDefaults(EventMetadata.FromCurrentActivity());
        if (envelope.Timestamp is null) envelope = envelope with { Timestamp = _time.GetUtcNow() };
        return new EventData(eventId ?? Guid.CreateVersion7(), registration.Name, data, MetadataJson.Write(envelope), EventData.JsonContentType, registration.SchemaVersion);
    }

    /// <inheritdoc />
    public EventEnvelope Deserialize(RecordedEvent recorded)
    {
        ArgumentNullException.ThrowIfNull(recorded);
        var registration = Types.GetRegistration(recorded.EventType);
        if (!recorded.ContentType.StartsWith(EventData.JsonContentType, StringComparison.OrdinalIgnoreCase))
            throw new EventDeserializationException(recorded.EventType, recorded.SchemaVersion, $"the content type is '{recorded.ContentType}', not {EventData.JsonContentType}");
        if (recorded.SchemaVersion > registration.SchemaVersion)
            throw new EventDeserializationException(recorded.EventType, recorded.SchemaVersion, $"it is newer than {registration.ClrType}, which is at schema version {registration.SchemaVersion}");
        object? payload;
        try
        {
            if (recorded.SchemaVersion == registration.SchemaVersion)
            {
                payload = JsonSerializer.Deserialize(recorded.Data.Span, registration.ClrType, Options);
            }
            else
            {
                var node = JsonNode.Parse(recorded.Data.Span) as JsonObject
                    ?? throw new EventDeserializationException(recorded.EventType, recorded.SchemaVersion, "the payload is not a JSON object, so it cannot be upcast");
                var upcast = Upcasters.Upcast(recorded.EventType, recorded.SchemaVersion, registration.SchemaVersion, node);
                payload = upcast.Deserialize(registration.ClrType, Options);
            }
        }
        catch (JsonException e)
        {
            throw new EventDeserializationException(recorded.EventType, recorded.SchemaVersion, $"the JSON does not match {registration.ClrType}: {e.Message}", e);
        }
        if (payload is null)
            throw new EventDeserializationException(recorded.EventType, recorded.SchemaVersion, "the payload is JSON null");
        return new EventEnvelope(recorded, payload, DeserializeMetadata(recorded.Metadata));
    }

    /// <inheritdoc />
    public EventMetadata DeserializeMetadata(ReadOnlyMemory<byte> metadata) => MetadataJson.Read(metadata.Span);
}
