namespace EventStore.Providers.Projections;

/// <summary>
/// How positions compare for a subscription. On a <see cref="GlobalOrdering.PerPartition"/> store a position is a
/// vector of per-partition offsets: one is reached when every entry is (not when the vectors compare
/// lexicographically, which another partition's progress would satisfy first), and the lowest of several is taken entry
/// by entry.
/// </summary>
internal static class PositionOrder
{
    /// <summary>Whether <paramref name="processed"/> covers <paramref name="position"/>.</summary>
    public static bool Reached(GlobalOrdering ordering, Position processed, Position position)
    {
        if (ordering != GlobalOrdering.PerPartition) return processed >= position;
        var done = processed.Parts;
        var wanted = position.Parts;
        if (done.Length != wanted.Length) return processed >= position;
        for (var i = 0; i < done.Length; i++) if (done[i] < wanted[i]) return false;
        return true;
    }

    /// <summary>The position from which reading covers both <paramref name="a"/> and <paramref name="b"/>.</summary>
    public static Position Lowest(GlobalOrdering ordering, Position a, Position b)
    {
        var left = a.Parts;
        var right = b.Parts;
        if (ordering != GlobalOrdering.PerPartition || left.Length != right.Length || left.Length < 2) return a <= b ? a : b;
        var parts = new long[left.Length];
        for (var i = 0; i < parts.Length; i++) parts[i] = Math.Min(left[i], right[i]);
        return Position.FromParts(parts);
    }
}
