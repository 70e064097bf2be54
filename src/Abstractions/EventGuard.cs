namespace EventStore.Providers;

/// <summary>
/// Input checks every provider runs before it writes or reads anything, so bad input gets the same typed error on
/// every backend and nothing is written.
/// </summary>
public static class EventGuard
{
    /// <summary>Returns why <paramref name="eventType"/> is not a valid event type, or null when it is.</summary>
    public static string? ValidateEventType(string? eventType)
    {
        if (eventType is null) return "the event type is null";
        if (eventType.Length == 0 || string.IsNullOrWhiteSpace(eventType)) return "the event type is empty";
        if (eventType.Length > EventData.MaxEventTypeLength) return $"the event type is {eventType.Length} characters; the limit is {EventData.MaxEventTypeLength}";
        foreach (var c in eventType)
            if (char.IsControl(c)) return "the event type contains a control character";
        if (HasUnpairedSurrogate(eventType)) return "the event type contains an unpaired UTF-16 surrogate (not valid Unicode text)";
        return null;
    }

    /// <summary>Returns why <paramref name="contentType"/> is not a valid content type, or null when it is.</summary>
    public static string? ValidateContentType(string? contentType)
    {
        if (string.IsNullOrWhiteSpace(contentType)) return "the content type is empty";
        if (contentType.Any(char.IsControl)) return "the content type contains a control character";
        if (HasUnpairedSurrogate(contentType)) return "the content type contains an unpaired UTF-16 surrogate (not valid Unicode text)";
        return null;
    }

    /// <summary>Returns why <paramref name="category"/> is not a valid category, or null when it is.</summary>
    public static string? ValidateCategoryName(string? category)
    {
        if (string.IsNullOrWhiteSpace(category)) return "it is empty";
        if (category.Contains('-', StringComparison.Ordinal)) return "it contains '-'";
        if (category.Any(char.IsControl)) return "it contains a control character";
        if (HasUnpairedSurrogate(category)) return "it contains an unpaired UTF-16 surrogate (not valid Unicode text)";
        return null;
    }

    /// <summary>
    /// True when <paramref name="text"/> holds a UTF-16 surrogate that is not part of a high-low pair: such text
    /// is not Unicode, cannot be encoded as UTF-8 and would be stored differently (or not at all) by each backend.
    /// </summary>
    public static bool HasUnpairedSurrogate(ReadOnlySpan<char> text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c))
            {
                if (i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) i++;
                else return true;
            }
            else if (char.IsLowSurrogate(c))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Throws when <paramref name="stream"/> is the default value or longer than the provider allows.</summary>
    /// <exception cref="InvalidStreamNameException">The name is missing or too long.</exception>
    public static void ValidateStream(StreamName stream, EventStoreCapabilities capabilities)
    {
        ArgumentNullException.ThrowIfNull(capabilities);
        var value = stream.ToString();
        if (value.Length == 0) throw new InvalidStreamNameException(null, "the stream name is missing (default StreamName)");
        if (value.Length > capabilities.MaxStreamNameLength)
            throw new InvalidStreamNameException(value, $"the name is {value.Length} characters long; the {capabilities.ProviderName} provider's limit is {capabilities.MaxStreamNameLength}");
    }

    /// <summary>Validates everything about an append before anything is written.</summary>
    /// <exception cref="InvalidStreamNameException">The stream name is missing or too long.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The expected version is not a defined value.</exception>
    /// <exception cref="ArgumentNullException">The batch or one of its events is null.</exception>
    /// <exception cref="InvalidEventException">An event is malformed.</exception>
    /// <exception cref="EventTooLargeException">An event is over the provider's limit.</exception>
    /// <exception cref="DuplicateEventIdException">Two events share an id.</exception>
    public static void ValidateAppend(StreamName stream, ExpectedVersion expectedVersion, IReadOnlyList<EventData> events, EventStoreCapabilities capabilities)
    {
        ValidateStream(stream, capabilities);
        expectedVersion.EnsureValid();
        ArgumentNullException.ThrowIfNull(events);
        if (events.Count > capabilities.MaxEventsPerAppend)
            throw new ArgumentOutOfRangeException(nameof(events), events.Count, $"The {capabilities.ProviderName} provider appends at most {capabilities.MaxEventsPerAppend} events atomically.");
        HashSet<Guid>? seen = events.Count > 1 ? new HashSet<Guid>(events.Count) : null;
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i] ?? throw new ArgumentNullException(nameof(events), $"Event #{i} of the batch is null.");
            if (e.EventId == Guid.Empty) throw new InvalidEventException(null, $"event #{i} has an empty event id");
            var typeProblem = ValidateEventType(e.EventType);
            if (typeProblem is not null) throw new InvalidEventException(e.EventId, typeProblem);
            var contentTypeProblem = ValidateContentType(e.ContentType);
            if (contentTypeProblem is not null) throw new InvalidEventException(e.EventId, contentTypeProblem);
            if (e.SchemaVersion < 1) throw new InvalidEventException(e.EventId, $"the schema version is {e.SchemaVersion}; it must be 1 or more");
            if (e.Size > capabilities.MaxEventSize) throw new EventTooLargeException(stream, e.EventId, e.Size, capabilities.MaxEventSize);
            if (seen is not null && !seen.Add(e.EventId)) throw new DuplicateEventIdException(stream, e.EventId);
        }
    }

    /// <summary>Validates the arguments of a stream read.</summary>
    public static void ValidateReadStream(StreamName stream, ReadDirection direction, long? fromVersion, long maxCount, EventStoreCapabilities capabilities)
    {
        ValidateStream(stream, capabilities);
        if (!Enum.IsDefined(direction)) throw new ArgumentOutOfRangeException(nameof(direction), direction, "Unknown read direction.");
        if (fromVersion is < 0) throw new ArgumentOutOfRangeException(nameof(fromVersion), fromVersion, "The version to read from must be 0 or more.");
        ArgumentOutOfRangeException.ThrowIfNegative(maxCount);
    }

    /// <summary>Validates a category name for <see cref="IEventReader.ReadCategoryAsync"/>.</summary>
    /// <exception cref="ArgumentException">The category is empty or holds '-', a control character or an unpaired surrogate.</exception>
    public static void ValidateCategory(string category)
    {
        var problem = ValidateCategoryName(category);
        if (problem is not null)
            throw new ArgumentException($"Invalid category '{category}': {problem}; it must be non-empty text without '-' or control characters.", nameof(category));
    }
}
