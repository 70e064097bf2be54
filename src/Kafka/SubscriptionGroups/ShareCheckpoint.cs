namespace EventStore.Providers.Kafka;

/// <summary>
/// Converts between a share's checkpoint (a store <see cref="Position"/>) and the consumer group's committed offset of
/// its partition, which is the next offset to handle (Kafka's convention).
/// </summary>
/// <remarks>
/// One partition: a position is the offset of the last event handled, so the committed offset is one more. Several:
/// positions are vectors of next offsets (see the README); a share's checkpoint is the vector with its own partition's
/// entry set and the others 0, the same shape a stream read gives (only the share's own entry means anything, so
/// checkpoints of several shares combine by taking each share's own entry, or the element-wise maximum).
/// </remarks>
internal static class ShareCheckpoint
{
    /// <summary>The checkpoint of <paramref name="partition"/> whose committed next offset is <paramref name="committed"/>; null when nothing was committed.</summary>
    public static Position? FromCommitted(long committed, int partition, int partitions)
    {
        if (committed <= 0) return null;
        if (partitions == 1) return Position.FromInt64(committed - 1);
        var parts = new long[partitions];
        parts[partition] = committed;
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
