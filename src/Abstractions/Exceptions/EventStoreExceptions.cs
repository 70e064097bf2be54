namespace EventStore.Providers;

/// <summary>The base of every exception this library throws for an event-store condition.</summary>
public class EventStoreException : Exception
{
    /// <summary>Creates the exception.</summary>
    public EventStoreException(string message) : base(message) { }

    /// <summary>Creates the exception with its cause.</summary>
    public EventStoreException(string message, Exception? innerException) : base(message, innerException) { }
}

/// <summary>An append (or delete) found the stream at another version than expected. Nothing was written.</summary>
public sealed class WrongExpectedVersionException : EventStoreException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="stream">The stream.</param>
    /// <param name="expected">What the writer expected.</param>
    /// <param name="actualVersion">The stream's last version, or -1 when it does not exist; null when the backend did not say.</param>
    public WrongExpectedVersionException(StreamName stream, ExpectedVersion expected, long? actualVersion)
        : base($"Append to stream '{stream}' failed: expected version {expected}, actual {(actualVersion is null ? "unknown" : actualVersion < 0 ? "NoStream" : actualVersion)}.")
    {
        Stream = stream;
        Expected = expected;
        ActualVersion = actualVersion;
    }

    /// <summary>The stream.</summary>
    public StreamName Stream { get; }

    /// <summary>What the writer expected.</summary>
    public ExpectedVersion Expected { get; }

    /// <summary>The stream's last version (-1: no stream); null when the backend did not report it.</summary>
    public long? ActualVersion { get; }
}

/// <summary>The stream was deleted (tombstoned) and can be neither read nor written.</summary>
public sealed class StreamDeletedException(StreamName stream)
    : EventStoreException($"Stream '{stream}' is deleted.")
{
    /// <summary>The stream.</summary>
    public StreamName Stream { get; } = stream;
}

/// <summary>An event is over the provider's size limit. Nothing was written.</summary>
public sealed class EventTooLargeException(StreamName stream, Guid eventId, long size, long limit)
    : EventStoreException($"Event {eventId} for stream '{stream}' is {size} bytes (data + metadata); the provider's limit is {limit} bytes. Nothing was written.")
{
    /// <summary>The stream.</summary>
    public StreamName Stream { get; } = stream;
    /// <summary>The event.</summary>
    public Guid EventId { get; } = eventId;
    /// <summary>Its size in bytes.</summary>
    public long Size { get; } = size;
    /// <summary>The provider's limit in bytes.</summary>
    public long Limit { get; } = limit;
}

/// <summary>A stream name is not valid.</summary>
public sealed class InvalidStreamNameException(string? name, string reason)
    : EventStoreException($"Invalid stream name '{Describe(name)}': {reason}.")
{
    /// <summary>The rejected name (may be null).</summary>
    public string? Name { get; } = name;
    /// <summary>Why it was rejected.</summary>
    public string Reason { get; } = reason;

    private static string Describe(string? name) => name is null ? "(null)" : name.Length > 80 ? name[..80] + "…" : name.Replace("\0", "\\0", StringComparison.Ordinal);
}

/// <summary>An event to append is malformed (event type, content type, schema version or id). Nothing was written.</summary>
public sealed class InvalidEventException(Guid? eventId, string reason)
    : EventStoreException($"Invalid event{(eventId is null ? "" : $" {eventId}")}: {reason}. Nothing was written.")
{
    /// <summary>The event's id, when known.</summary>
    public Guid? EventId { get; } = eventId;
    /// <summary>What is wrong.</summary>
    public string Reason { get; } = reason;
}

/// <summary>Two events of one append share an id. Nothing was written.</summary>
public sealed class DuplicateEventIdException(StreamName stream, Guid eventId)
    : EventStoreException($"The batch for stream '{stream}' contains event id {eventId} more than once. Nothing was written.")
{
    /// <summary>The stream.</summary>
    public StreamName Stream { get; } = stream;
    /// <summary>The repeated id.</summary>
    public Guid EventId { get; } = eventId;
}

/// <summary>An append partly overlaps events already stored in the stream (some ids are stored, some are new). Nothing was written.</summary>
public sealed class EventIdConflictException(StreamName stream, Guid eventId)
    : EventStoreException($"The batch for stream '{stream}' partly overlaps events already stored (event id {eventId} is stored); a batch is idempotent only when re-sent whole. Nothing was written.")
{
    /// <summary>The stream.</summary>
    public StreamName Stream { get; } = stream;
    /// <summary>An id of the batch that is already stored.</summary>
    public Guid EventId { get; } = eventId;
}

/// <summary>The backend failed in a way that is worth retrying (unavailable, timeout, throttled). Retry with the same event ids.</summary>
public sealed class TransientEventStoreException : EventStoreException
{
    /// <summary>Creates the exception.</summary>
    public TransientEventStoreException(string message, Exception? innerException = null) : base(message, innerException) { }
}

/// <summary>The backend refused the caller's credentials or permissions.</summary>
public sealed class AccessDeniedException : EventStoreException
{
    /// <summary>Creates the exception.</summary>
    public AccessDeniedException(string message, Exception? innerException = null) : base(message, innerException) { }
}

/// <summary>A position (checkpoint) text could not be parsed, or belongs to another kind of store.</summary>
public sealed class InvalidPositionException(string text, string? reason = null)
    : EventStoreException($"'{(text.Length > 80 ? text[..80] + "…" : text)}' is not a valid position{(reason is null ? "" : ": " + reason)}.")
{
    /// <summary>The rejected text.</summary>
    public string Text { get; } = text;
}

/// <summary>The provider cannot do what was asked; see <see cref="EventStoreCapabilities"/>.</summary>
public sealed class CapabilityNotSupportedException(string provider, string capability)
    : EventStoreException($"The {provider} provider does not support {capability}.")
{
    /// <summary>The provider.</summary>
    public string Provider { get; } = provider;
    /// <summary>The missing capability.</summary>
    public string Capability { get; } = capability;
}
