namespace EventStore.Providers;

/// <summary>The direction of a read.</summary>
public enum ReadDirection
{
    /// <summary>Oldest first.</summary>
    Forwards = 0,
    /// <summary>Newest first.</summary>
    Backwards = 1,
}

/// <summary>
/// Selects events of the global log: by category and/or by event type. Within one list any entry matches (OR);
/// when both lists are given an event must match both (AND). An empty filter matches everything.
/// </summary>
public sealed record EventFilter
{
    /// <summary>Matches every event.</summary>
    public static EventFilter None { get; } = new();

    /// <summary>Categories to include (<c>Order</c> matches every <c>Order-*</c> stream); empty for all.</summary>
    public IReadOnlyList<string> Categories { get; init; } = [];

    /// <summary>Event types to include; empty for all.</summary>
    public IReadOnlyList<string> EventTypes { get; init; } = [];

    /// <summary>True when the filter matches everything.</summary>
    public bool IsEmpty => Categories.Count == 0 && EventTypes.Count == 0;

    /// <summary>A filter on one or more categories.</summary>
    public static EventFilter ForCategories(params string[] categories) => new() { Categories = categories };

    /// <summary>A filter on one or more event types.</summary>
    public static EventFilter ForEventTypes(params string[] eventTypes) => new() { EventTypes = eventTypes };

    /// <summary>True when <paramref name="e"/> passes the filter.</summary>
    public bool Matches(RecordedEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return Matches(e.Stream, e.EventType);
    }

    /// <summary>True when an event of <paramref name="eventType"/> in <paramref name="stream"/> passes the filter.</summary>
    public bool Matches(StreamName stream, string eventType)
    {
        if (Categories.Count > 0)
        {
            var category = stream.Category;
            var hit = false;
            foreach (var c in Categories)
                if (string.Equals(c, category, StringComparison.Ordinal)) { hit = true; break; }
            if (!hit) return false;
        }
        if (EventTypes.Count > 0)
        {
            foreach (var t in EventTypes)
                if (string.Equals(t, eventType, StringComparison.Ordinal)) return true;
            return false;
        }
        return true;
    }

    /// <summary>Throws when an entry is null, empty or not a valid category / event type.</summary>
    /// <exception cref="ArgumentException">An entry is invalid; the message names it.</exception>
    public void EnsureValid()
    {
        ArgumentNullException.ThrowIfNull(Categories, nameof(Categories));
        ArgumentNullException.ThrowIfNull(EventTypes, nameof(EventTypes));
        foreach (var c in Categories)
        {
            var problem = EventGuard.ValidateCategoryName(c);
            if (problem is not null)
                throw new ArgumentException($"Invalid category '{c}' in the filter: {problem}; it must be non-empty text without '-' or control characters.", nameof(Categories));
        }
        foreach (var t in EventTypes)
        {
            var problem = EventGuard.ValidateEventType(t);
            if (problem is not null)
                throw new ArgumentException($"Invalid event type in the filter: {problem}.", nameof(EventTypes));
        }
    }
}

/// <summary>Options for reading the global log (<c>$all</c>) or a category.</summary>
public sealed record ReadAllOptions
{
    /// <summary>Read forwards (default) or backwards.</summary>
    public ReadDirection Direction { get; init; } = ReadDirection.Forwards;

    /// <summary>
    /// Exclusive start: forwards, events after this position; backwards, events before it. Null means the
    /// beginning (forwards) or the end (backwards).
    /// </summary>
    public Position? From { get; init; }

    /// <summary>The most events to return (0 or more). Unbounded by default.</summary>
    public long MaxCount { get; init; } = long.MaxValue;

    /// <summary>Which events to return.</summary>
    public EventFilter Filter { get; init; } = EventFilter.None;

    /// <summary>Default options: everything, forwards.</summary>
    public static ReadAllOptions Default { get; } = new();

    /// <summary>Throws when a count is negative or the filter is invalid.</summary>
    public void EnsureValid()
    {
        if (!Enum.IsDefined(Direction)) throw new ArgumentOutOfRangeException(nameof(Direction), Direction, "Unknown read direction.");
        ArgumentOutOfRangeException.ThrowIfNegative(MaxCount, nameof(MaxCount));
        ArgumentNullException.ThrowIfNull(Filter, nameof(Filter));
        Filter.EnsureValid();
    }
}
