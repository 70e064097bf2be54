using System.Collections.Concurrent;

namespace EventStore.Providers.EventStoreDB.Protocol;

/// <summary>
/// The ids of events this store instance appended recently, with where they landed. The server answers a re-sent
/// batch exactly like a fresh write (same revision, same position): this memory answers a re-send through the same
/// instance without a call, and tells a partial overlap from a re-send. Re-sends through other instances are told
/// apart by <see cref="CommitWatermark"/>.
/// </summary>
internal sealed class RecentAppends(int capacity = 100_000)
{
    private readonly ConcurrentDictionary<Guid, Entry> _byId = new();
    private readonly ConcurrentQueue<Guid> _order = new();

    private readonly record struct Entry(string Stream, long Version, Position Position);

    /// <summary>What the memory says about a batch about to be sent.</summary>
    public enum Verdict { Unknown, Idempotent, Conflict }

    public (Verdict Verdict, AppendResult? Result, Guid ConflictingId) Check(StreamName stream, ExpectedVersion expected, IReadOnlyList<EventData> events)
    {
        var found = 0;
        Entry first = default, last = default;
        var conflicting = Guid.Empty;
        var consecutive = true;
        for (var i = 0; i < events.Count; i++)
        {
            if (_byId.TryGetValue(events[i].EventId, out var entry) && entry.Stream == stream.Value)
            {
                if (found == 0) { first = entry; conflicting = events[i].EventId; }
                else if (entry.Version != last.Version + 1 || i != found) consecutive = false;
                last = entry;
                found++;
            }
        }
        if (found == 0) return (Verdict.Unknown, null, Guid.Empty);
        if (found < events.Count || !consecutive) return (Verdict.Conflict, null, conflicting);
        var inPlace = expected.Kind switch
        {
            ExpectedVersionKind.Exact => first.Version == expected.Version + 1,
            ExpectedVersionKind.NoStream => first.Version == 0,
            _ => true,
        };
        // Stored elsewhere than this expectation points: the server decides (wrong expected version, most likely).
        return inPlace ? (Verdict.Idempotent, new AppendResult(last.Version, last.Position, WroteEvents: false), Guid.Empty) : (Verdict.Unknown, null, Guid.Empty);
    }

    public void Remember(StreamName stream, IReadOnlyList<EventData> events, long lastVersion, Position lastPosition)
    {
        var firstVersion = lastVersion - events.Count + 1;
        for (var i = 0; i < events.Count; i++)
        {
            // Only the last event's position is known; the idempotent answer only ever needs that one.
            _byId[events[i].EventId] = new Entry(stream.Value, firstVersion + i, lastPosition);
            _order.Enqueue(events[i].EventId);
        }
        while (_order.Count > capacity && _order.TryDequeue(out var old)) _byId.TryRemove(old, out _);
    }

    public void Forget(StreamName stream)
    {
        foreach (var pair in _byId)
            if (pair.Value.Stream == stream.Value) _byId.TryRemove(pair.Key, out _);
    }
}
