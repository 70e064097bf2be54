using System.Collections.Concurrent;

namespace EventStore.Providers.DynamoDB;

/// <summary>
/// Remembers when this process first saw each hole in the global log, so a hole left by a writer that reserved
/// positions and then died is declared abandoned after the gap timeout, while a hole of a write still in flight is
/// waited for. Only the range seen at the first sighting is ever declared abandoned: positions reserved later get
/// their own timer.
/// </summary>
internal sealed class GapTracker(TimeProvider time, TimeSpan timeout)
{
    private readonly ConcurrentDictionary<long, (long SeenAt, long LastMissing)> _gaps = new();

    /// <summary>Returns the abandoned range starting at <paramref name="firstMissing"/>, or null while it may still fill.</summary>
    public (long First, long Last)? Abandoned(long firstMissing, long lastMissing)
    {
        var seen = _gaps.GetOrAdd(firstMissing, _ => (time.GetTimestamp(), lastMissing));
        if (_gaps.Count > 1024) Prune(firstMissing);
        if (time.GetElapsedTime(seen.SeenAt) < timeout) return null;
        return (firstMissing, Math.Min(seen.LastMissing, lastMissing));
    }

    public void Resolved(long firstMissing) => _gaps.TryRemove(firstMissing, out _);

    private void Prune(long below)
    {
        foreach (var key in _gaps.Keys)
            if (key < below) _gaps.TryRemove(key, out _);
    }
}
