namespace EventStore.Providers.DynamoDB;

/// <summary>
/// Remembers since when this process has seen ranges of the global log missing, so a hole left by a writer that
/// reserved positions and then died is declared abandoned once it has been missing for the gap timeout, while a hole
/// of a write still in flight is waited for. A reader stopped at one hole looks ahead and records every hole behind it
/// too (<see cref="Observe"/>), so after an outage all holes time out together instead of one after another. Only
/// positions seen missing for the whole timeout are ever declared abandoned.
/// </summary>
internal sealed class GapTracker(TimeProvider time, TimeSpan timeout)
{
    private const int MaxRanges = 4096;

    private readonly Lock _gate = new();
    // Ranges seen missing, each with the time it was first seen; ranges may overlap (a position keeps its oldest time).
    private readonly List<(long First, long Last, long SeenAt)> _missing = [];

    /// <summary>The end of the furthest look-ahead: positions up to here have been checked for holes.</summary>
    public long ScannedUpTo { get; private set; }

    /// <summary>Records that positions <paramref name="first"/>-<paramref name="last"/> are missing now.</summary>
    public void Observe(long first, long last)
    {
        if (last < first) return;
        var now = time.GetTimestamp();
        lock (_gate)
        {
            // Only the parts not seen yet are added: a position keeps the time it was first seen missing.
            var uncovered = new List<(long, long)> { (first, last) };
            foreach (var (f, l, _) in _missing)
            {
                var next = new List<(long, long)>();
                foreach (var (a, b) in uncovered)
                {
                    if (l < a || f > b) { next.Add((a, b)); continue; }
                    if (a < f) next.Add((a, f - 1));
                    if (b > l) next.Add((l + 1, b));
                }
                uncovered = next;
                if (uncovered.Count == 0) return;
            }
            foreach (var (a, b) in uncovered) _missing.Add((a, b, now));
            if (_missing.Count > MaxRanges) _missing.RemoveRange(0, _missing.Count - MaxRanges);
        }
    }

    /// <summary>Records how far a look-ahead got.</summary>
    public void Scanned(long upTo)
    {
        lock (_gate) ScannedUpTo = Math.Max(ScannedUpTo, upTo);
    }

    /// <summary>
    /// Records the hole <paramref name="firstMissing"/>-<paramref name="lastMissing"/> and returns the part of it starting
    /// at <paramref name="firstMissing"/> that has been missing for the whole timeout, or null while it may still fill.
    /// </summary>
    public (long First, long Last)? Abandoned(long firstMissing, long lastMissing)
    {
        Observe(firstMissing, lastMissing);
        lock (_gate)
        {
            // The longest run from firstMissing covered by ranges that are old enough.
            var end = firstMissing - 1;
            for (var grown = true; grown && end < lastMissing;)
            {
                grown = false;
                foreach (var (f, l, seenAt) in _missing)
                {
                    if (f <= end + 1 && l > end && time.GetElapsedTime(seenAt) >= timeout)
                    {
                        end = l;
                        grown = true;
                    }
                }
            }
            return end >= firstMissing ? (firstMissing, Math.Min(end, lastMissing)) : null;
        }
    }

    /// <summary>Forgets holes below <paramref name="position"/>: a walk found everything before it written or skipped.</summary>
    public void Passed(long position)
    {
        lock (_gate) _missing.RemoveAll(r => r.Last < position);
    }
}
