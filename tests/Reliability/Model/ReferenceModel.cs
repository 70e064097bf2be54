namespace EventStore.Providers.Reliability.Tests.Model;

/// <summary>One event as the model remembers it.</summary>
public sealed record ModelEvent(string Stream, long Version, Guid EventId, string EventType, byte[] Data);

/// <summary>A batch the model accepted, with what the store answered, so an idempotent re-send can be checked against it.</summary>
public sealed record ModelBatch(string Stream, ExpectedVersion Expected, IReadOnlyList<EventData> Events, long LastVersion)
{
    /// <summary>The position the store reported for the batch's last event; learnt from the provider, never predicted.</summary>
    public Position? Position { get; set; }
}

/// <summary>What the model says an append must return: a success or a typed failure.</summary>
public sealed record ModelAppendOutcome(Type? Exception, long LastVersion, bool WroteEvents, ModelBatch? OriginalBatch)
{
    /// <summary>A success.</summary>
    public static ModelAppendOutcome Success(long lastVersion, bool wrote, ModelBatch? original = null) => new(null, lastVersion, wrote, original);

    /// <summary>A failure of the given type; <paramref name="actual"/> is the version a WrongExpectedVersionException reports.</summary>
    public static ModelAppendOutcome Failure<T>(long actual = -1) where T : Exception => new(typeof(T), actual, false, null);
}

/// <summary>
/// The contract of an event store written as plainly as possible: a list per stream and one global list. It is the
/// oracle of the model-based tests, so it follows the brief's wording literally and has no performance concerns.
/// </summary>
public sealed class ReferenceModel
{
    private readonly Dictionary<string, List<ModelEvent>> _streams = new(StringComparer.Ordinal);
    private readonly List<ModelEvent> _all = [];
    private readonly Dictionary<string, List<ModelBatch>> _batches = new(StringComparer.Ordinal);

    /// <summary>Every event in commit order.</summary>
    public IReadOnlyList<ModelEvent> All => _all;

    /// <summary>The stream's last version, -1 when it does not exist.</summary>
    public long LastVersion(string stream) => _streams.TryGetValue(stream, out var events) ? events.Count - 1 : -1;

    /// <summary>The batches written to a stream, oldest first.</summary>
    public IReadOnlyList<ModelBatch> Batches(string stream) => _batches.TryGetValue(stream, out var b) ? b : [];

    /// <summary>The events of a stream, oldest first.</summary>
    public IReadOnlyList<ModelEvent> Stream(string stream) => _streams.TryGetValue(stream, out var e) ? e : [];

    /// <summary>Applies an append and says what the store must answer.</summary>
    public ModelAppendOutcome Append(string stream, ExpectedVersion expected, IReadOnlyList<EventData> events)
    {
        var current = LastVersion(stream);
        if (events.Count == 0)
            return expected.IsSatisfiedBy(current)
                ? ModelAppendOutcome.Success(current, false)
                : ModelAppendOutcome.Failure<WrongExpectedVersionException>(current);

        var stored = Stream(stream);
        if (!expected.IsSatisfiedBy(current) || expected.Kind is ExpectedVersionKind.Any or ExpectedVersionKind.StreamExists)
        {
            // The events at the places the batch would have taken decide between an idempotent re-send, a partial
            // overlap and a plain conflict.
            var start = expected.Kind switch
            {
                ExpectedVersionKind.Exact => expected.Version + 1,
                ExpectedVersionKind.NoStream => 0,
                _ => Math.Max(0, stored.Count - events.Count),
            };
            var window = stored.Skip((int)Math.Min(start, stored.Count)).Take(events.Count).Select(e => e.EventId).ToList();
            var matches = events.Count(e => window.Contains(e.EventId));
            if (matches == events.Count && window.SequenceEqual(events.Select(e => e.EventId)))
            {
                var original = Batches(stream).FirstOrDefault(b => b.Events[^1].EventId == events[^1].EventId);
                return ModelAppendOutcome.Success(start + events.Count - 1, false, original);
            }
            if (matches > 0) return ModelAppendOutcome.Failure<EventIdConflictException>();
            if (!expected.IsSatisfiedBy(current)) return ModelAppendOutcome.Failure<WrongExpectedVersionException>(current);
        }

        if (!_streams.TryGetValue(stream, out var list)) _streams[stream] = list = [];
        foreach (var e in events)
        {
            var recorded = new ModelEvent(stream, list.Count, e.EventId, e.EventType, e.Data.ToArray());
            list.Add(recorded);
            _all.Add(recorded);
        }
        var batch = new ModelBatch(stream, expected, events, list.Count - 1);
        if (!_batches.TryGetValue(stream, out var batches)) _batches[stream] = batches = [];
        batches.Add(batch);
        return ModelAppendOutcome.Success(list.Count - 1, true, batch);
    }

    /// <summary>A stream read with the store's rules for direction, start and count.</summary>
    public IReadOnlyList<ModelEvent> ReadStream(string stream, ReadDirection direction, long? fromVersion, long maxCount)
    {
        var events = Stream(stream);
        IEnumerable<ModelEvent> selected = direction == ReadDirection.Forwards
            ? events.Where(e => e.Version >= (fromVersion ?? 0))
            : events.Where(e => fromVersion is null || e.Version <= fromVersion).Reverse();
        return selected.Take((int)Math.Min(maxCount, int.MaxValue)).ToList();
    }
}
