namespace EventStore.Providers.Serialization;

/// <summary>A recorded event with its payload deserialised (and upcast) and its metadata envelope read.</summary>
/// <param name="Record">The event as stored.</param>
/// <param name="Event">The deserialised payload, an instance of the CLR type registered for <see cref="RecordedEvent.EventType"/>.</param>
/// <param name="Metadata">The metadata envelope.</param>
public sealed record EventEnvelope(RecordedEvent Record, object Event, EventMetadata Metadata)
{
    /// <summary>The stream.</summary>
    public StreamName Stream => Record.Stream;

    /// <summary>The version in the stream.</summary>
    public long Version => Record.Version;

    /// <summary>The position in the global log.</summary>
    public Position Position => Record.Position;

    /// <summary>The event id.</summary>
    public Guid EventId => Record.EventId;

    /// <summary>The stored event type name.</summary>
    public string EventType => Record.EventType;

    /// <summary>When the store recorded the event.</summary>
    public DateTimeOffset CreatedUtc => Record.CreatedUtc;
}

/// <summary>An event whose payload could not be turned into its CLR type (bad content type, bad JSON, missing or failing upcaster).</summary>
public sealed class EventDeserializationException(string eventType, int schemaVersion, string reason, Exception? innerException = null)
    : EventStoreException($"Cannot deserialise event type '{eventType}' (schema version {schemaVersion}): {reason}.", innerException)
{
    /// <summary>The stored event type.</summary>
    public string EventType { get; } = eventType;

    /// <summary>The stored schema version.</summary>
    public int SchemaVersion { get; } = schemaVersion;
}
