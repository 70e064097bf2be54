namespace EventStore.Providers.Serialization;

/// <summary>Turns typed events into <see cref="EventData"/> and recorded events back into typed events.</summary>
public interface IEventSerializer
{
    /// <summary>The stored type name of <paramref name="eventType"/>.</summary>
    /// <exception cref="UnknownEventTypeException">The type is not registered.</exception>
    string GetEventTypeName(Type eventType);

    /// <summary>Serialises <paramref name="event"/> with its envelope into an event to append.</summary>
    /// <param name="event">The payload; its CLR type must be registered.</param>
    /// <param name="metadata">The envelope; missing correlation/causation are taken from the current <see cref="System.Diagnostics.Activity"/>, a missing timestamp is now.</param>
    /// <param name="eventId">The event id; a new time-ordered id when null. Pass a stable id to make retries idempotent.</param>
    /// <exception cref="UnknownEventTypeException">The event's type is not registered.</exception>
    EventData Serialize(object @event, EventMetadata? metadata = null, Guid? eventId = null);

    /// <summary>Deserialises a recorded event, upcasting older schema versions first.</summary>
    /// <exception cref="UnknownEventTypeException">No CLR type is registered for the event type.</exception>
    /// <exception cref="EventDeserializationException">The payload cannot be read as that type.</exception>
    EventEnvelope Deserialize(RecordedEvent recorded);

    /// <summary>Reads only the metadata envelope of a recorded event (empty when it has none or it is not an envelope).</summary>
    EventMetadata DeserializeMetadata(ReadOnlyMemory<byte> metadata);
}
