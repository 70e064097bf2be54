using System.Text;

namespace EventStore.Providers.Conformance;

/// <summary>Builds events for tests: unique ids, small JSON payloads, recognisable metadata.</summary>
public static class TestEvents
{
    /// <summary>The event type used when a test does not care.</summary>
    public const string DefaultType = "TestEvent";

    private static long _sequence;

    /// <summary>One event with a fresh id and a payload naming a process-wide sequence number.</summary>
    public static EventData Create(string eventType = DefaultType, string? json = null)
    {
        var n = Interlocked.Increment(ref _sequence);
        return new EventData(
            Guid.NewGuid(),
            eventType,
            Encoding.UTF8.GetBytes(json ?? $"{{\"n\":{n}}}"),
            Encoding.UTF8.GetBytes($"{{\"correlationId\":\"{Guid.NewGuid()}\"}}"));
    }

    /// <summary><paramref name="count"/> events of <paramref name="eventType"/>.</summary>
    public static EventData[] Batch(int count, string eventType = DefaultType)
    {
        var events = new EventData[count];
        for (var i = 0; i < count; i++) events[i] = Create(eventType);
        return events;
    }

    /// <summary>The same event with another id (to build batches that only partly overlap).</summary>
    public static EventData WithNewId(this EventData e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return e with { EventId = Guid.NewGuid() };
    }
}
