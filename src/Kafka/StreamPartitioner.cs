namespace EventStore.Providers.Kafka;

/// <summary>
/// Maps a stream to its partition with murmur2 over the UTF-8 key, positive-masked and taken modulo the partition
/// count: the same function as the Java client's default partitioner, so other Kafka tools keying by stream agree.
/// </summary>
internal static class StreamPartitioner
{
    public static int PartitionOf(ReadOnlySpan<byte> key, int partitions) => (Murmur2(key) & 0x7fffffff) % partitions;

    /// <summary>The partition of <paramref name="stream"/>: where its appends go, and its share in a subscription group.</summary>
    public static int PartitionOf(StreamName stream, int partitions) => PartitionOf(System.Text.Encoding.UTF8.GetBytes(stream.Value), partitions);

    private static int Murmur2(ReadOnlySpan<byte> data)
    {
        const uint m = 0x5bd1e995;
        var length = data.Length;
        var h = 0x9747b28cu ^ (uint)length;
        var blocks = length / 4;
        for (var i = 0; i < blocks; i++)
        {
            var k = data[i * 4] | ((uint)data[i * 4 + 1] << 8) | ((uint)data[i * 4 + 2] << 16) | ((uint)data[i * 4 + 3] << 24);
            k *= m;
            k ^= k >> 24;
            k *= m;
            h *= m;
            h ^= k;
        }
        var tail = length & ~3;
        switch (length % 4)
        {
            case 3:
                h ^= (uint)data[tail + 2] << 16;
                goto case 2;
            case 2:
                h ^= (uint)data[tail + 1] << 8;
                goto case 1;
            case 1:
                h ^= data[tail];
                h *= m;
                break;
        }
        h ^= h >> 13;
        h *= m;
        h ^= h >> 15;
        return (int)h;
    }
}
