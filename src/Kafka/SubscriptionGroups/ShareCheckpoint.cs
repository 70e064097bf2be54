namespace EventStore.Providers.Kafka;

/// <summary>
/// Converts between a share's checkpoint (a store <see cref="Position"/>) and the consumer group's committed offsets of
/// the partitions the share owns, which are the next offsets to handle (Kafka's convention). A partitioned group's
/// share owns its own partition; an active/standby group's one share owns them all.
/// </summary>
/// <remarks>
/// One partition: a position is the offset of the last event handled, so the committed offset is one more. Several:
/// positions are vectors of next offsets (see the README). A checkpoint's owned entries are the committed offsets
/// (0 where none was committed); every other entry is that partition's end when the share was taken, meaning "nothing
/// of this share before here": so the element-wise minimum of several shares' checkpoints (where a runner starts its
/// one <c>$all</c> read) is each held partition's own checkpoint, and an event of the share is covered by the
/// checkpoint exactly when its own entry is.
/// </remarks>
internal static class ShareCheckpoint
{
    /// <summary>
    /// The checkpoint of a share owning the partitions of <paramref name="committed"/>; null when the group never
    /// committed any of them (one partition: also when it committed 0, nothing handled).
    /// </summary>
    /// <param name="committed">The committed next offset of each owned partition, negative (<see cref="Confluent.Kafka.Offset.Unset"/>) when none.</param>
    /// <param name="ends">Every partition's end offset when the share is taken (only read for partitions not owned).</param>
    public static Position? FromCommitted(IReadOnlyDictionary<int, long> committed, IReadOnlyList<long> ends)
    {
        if (committed.Values.All(c => c < 0)) return null;
        if (ends.Count == 1) return committed[0] == 0 ? null : Position.FromInt64(committed[0] - 1);
        var parts = new long[ends.Count];
        for (var p = 0; p < parts.Length; p++) parts[p] = Math.Max(0, committed.TryGetValue(p, out var c) ? c : ends[p]);
        return Position.FromParts(parts);
    }

    /// <summary>The next offsets of the <paramref name="owned"/> partitions to commit for <paramref name="checkpoint"/>.</summary>
    /// <exception cref="InvalidPositionException">The position is not one of this topic's (wrong number of components).</exception>
    public static IReadOnlyList<(int Partition, long Offset)> NextOffsets(Position checkpoint, IReadOnlyList<int> owned, int partitions)
    {
        if (checkpoint.IsStart) return owned.Select(p => (p, 0L)).ToList();
        var parts = checkpoint.Parts;
        if (partitions == 1)
        {
            if (parts.Length != 1) throw new InvalidPositionException(checkpoint.ToString(), "the events topic has one partition; its positions are one offset");
            return [(0, parts[0] + 1)];
        }
        if (parts.Length != partitions)
            throw new InvalidPositionException(checkpoint.ToString(), $"the events topic has {partitions} partitions; its positions are vectors of {partitions} offsets");
        var offsets = new List<(int, long)>(owned.Count);
        foreach (var p in owned) offsets.Add((p, parts[p]));
        return offsets;
    }
}
