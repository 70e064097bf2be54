using Confluent.Kafka;

namespace EventStore.Providers.Kafka;

// Positions: one partition is a total order and a position is an offset; several give vectors of next offsets.
public sealed partial class KafkaEventStore
{
    /// <summary>
    /// One partition: the event's offset. Several: a vector of next offsets, this partition's entry one past the
    /// event and the others 0 (a stream read knows nothing of the other partitions).
    /// </summary>
    internal Position PositionOf(int partition, long offset)
    {
        if (_writers.Length <= 1) return Position.FromInt64(offset);
        var parts = new long[_writers.Length];
        parts[partition] = offset + 1;
        return Position.FromParts(parts);
    }

    /// <summary>Forward start offsets: one partition's position is the last event read; a vector holds next offsets.</summary>
    private static long[] StartOffsets(Position? from, int partitions)
    {
        var start = new long[partitions];
        if (from is not { IsStart: false } f) return start;
        var parts = f.Parts;
        if (partitions == 1)
        {
            if (parts.Length != 1) throw new InvalidPositionException(f.ToString(), "this store has one partition; its positions are one offset");
            start[0] = parts[0] + 1;
            return start;
        }
        if (parts.Length != partitions) throw new InvalidPositionException(f.ToString(), $"this store has {partitions} partitions; its positions are vectors of {partitions} offsets");
        for (var p = 0; p < partitions; p++) start[p] = Math.Max(0, parts[p]);
        return start;
    }

    /// <summary>Backward exclusive bounds: one partition's position is an offset; a vector holds per-partition bounds.</summary>
    private static long[] UpperBounds(Position from, int partitions)
    {
        var parts = from.Parts;
        if (parts.Length != partitions) throw new InvalidPositionException(from.ToString(), $"this store's positions have {partitions} component(s)");
        var bounds = new long[partitions];
        for (var p = 0; p < partitions; p++) bounds[p] = Math.Max(0, parts[p]);
        return bounds;
    }

    private static long[] NextFromProgress(Position progress, long[] ends, long[] previous, int partitions)
    {
        if (progress.IsStart) return previous;
        if (partitions == 1) return [progress.ToInt64() + 1];
        var parts = progress.Parts;
        var next = new long[partitions];
        for (var p = 0; p < partitions; p++) next[p] = Math.Max(previous[p], parts[p]);
        return next;
    }
}
