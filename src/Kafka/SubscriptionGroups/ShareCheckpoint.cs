namespace EventStore.Providers.Kafka;

/// <summary>
/// Converts between a share's checkpoint (a store <see cref="Position"/>) and the consumer group's committed offset of
/// its partition, which is the next offset to handle (Kafka's convention).
/// </summary>
/// <remarks>
/// One partition: a position is the offset of the last event handled, so the committed offset is one more. Several:
/// positions are vectors of next offsets (see the README). A share's checkpoint has its own partition's entry set to
/// the committed offset and every other entry to that partition's end when the share was taken: entries of other
/// partitions mean "nothing of this share before here", so the element-wise minimum of several shares' checkpoints
/// (where a runner starts its one <c>$all</c> read) is each held partition's own checkpoint, and an event of the share
/// is covered by the checkpoint exactly when its own entry is.
/// </remarks>
internal static class ShareCheckpoint
{
    /// <summary>
    /// The checkpoint of <paramref name="partition"/> whose committed next offset is <paramref name="committed"/>;
    /// null when the group never committed one (one partition: also when it committed 0, nothing handled).
    /// </summary>
    /// <param name="committed">The committed next offset, negative (<see cref="Confluent.Kafka.Offset.Unset"/>) when none.</param>
    /// <param name="partition">The share's partition.</param>
    /// <param name="ends">Every partition's end offset when the share is taken (only read with several partitions).</param>
    public static Position? FromCommitted(long committed, int partition, IReadOnlyList<long> ends)
    {
        if (committed < 0 || (ends.Count == 1 && committed == 0)) return null;
        if (ends.Count == 1) return Position.FromInt64(committed - 1);
        var parts = new long[ends.Count];
        for (var p = 0; p < parts.Length; p++) parts[p] = p == partition ? committed : Math.Max(0, ends[p]);
        return Position.FromParts(parts);
    }

    /// <summary>The next offset of <paramref name="partition"/> to commit for <paramref name="checkpoint"/>.</summary>
    /// <exception cref="InvalidPositionException">The position is not one of this topic's (wrong number of components).</exception>
    public static long NextOffset(Position checkpoint, int partition, int partitions)
    {
        if (checkpoint.IsStart) return 0;
        var parts = checkpoint.Parts;
        if (partitions == 1)
        {
            if (parts.Length != 1) throw new InvalidPositionException(checkpoint.ToString(), "the events topic has one partition; its positions are one offset");
            return parts[0] + 1;
        }
        if (parts.Length != partitions)
            throw new InvalidPositionException(checkpoint.ToString(), $"the events topic has {partitions} partitions; its positions are vectors of {partitions} offsets");
        return parts[partition];
    }
}
