using System.Buffers.Binary;
using System.Text;
using Confluent.Kafka;

namespace EventStore.Providers.Kafka;

// Index snapshots: a partition's index written to the compacted index topic so restarts replay only the tail.
public sealed partial class KafkaEventStore
{
    /// <summary>The index-topic key holding the events topic's partition count, written by the first writer.</summary>
    private const string PartitionCountKey = "partitions";

    private int _partitionCountRecorded;

    /// <summary>
    /// Records the events topic's partition count in the index topic once (on this instance's first write; reads write
    /// nothing), so a start against a topic whose partition count changed refuses instead of splitting streams.
    /// </summary>
    internal async Task RecordPartitionCountAsync()
    {
        if (Interlocked.Exchange(ref _partitionCountRecorded, 1) == 1 || PartitionCountOf(Options.EffectiveIndexTopic) == 0) return;
        var value = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(value, _writers.Length);
        try
        {
            await Producer.ProduceAsync(Options.EffectiveIndexTopic, new Message<byte[], byte[]> { Key = Encoding.UTF8.GetBytes(PartitionCountKey), Value = value }).ConfigureAwait(false);
        }
        catch (KafkaException)
        {
            Volatile.Write(ref _partitionCountRecorded, 0);
            throw;
        }
    }
    /// <summary>
    /// Writes the whole index of a partition to the index topic: chunks first, then a head naming the snapshot id,
    /// chunk count and the offset it is valid up to. A loader uses a snapshot only when every chunk carries the
    /// head's id, so snapshots of two instances written at once are never mixed.
    /// </summary>
    internal async Task WriteIndexSnapshotAsync(PartitionIndex index)
    {
        var snapshot = index.TakeSnapshot();
        if (snapshot is null) return;
        var (entries, validUpTo, lastEventOffset) = snapshot.Value;
        var id = Guid.NewGuid().ToByteArray();
        var limit = Options.MaxMessageBytes / 2;
        var chunks = new List<byte[]>();
        using (var ms = new MemoryStream())
        {
            void Flush()
            {
                chunks.Add(ms.ToArray());
                ms.SetLength(0);
            }
            var len = new byte[4];
            foreach (var (stream, value) in entries)
            {
                var name = Encoding.UTF8.GetBytes(stream);
                if (name.Length + value.Length + 8 > limit)
                {
                    _logger.IndexEntryTooLarge(index.Partition);
                    return;
                }
                if (ms.Length + name.Length + value.Length + 8 > limit) Flush();
                BinaryPrimitives.WriteInt32BigEndian(len, name.Length);
                ms.Write(len);
                ms.Write(name);
                BinaryPrimitives.WriteInt32BigEndian(len, value.Length);
                ms.Write(len);
                ms.Write(value);
            }
            if (ms.Length > 0) Flush();
        }
        try
        {
            var topic = Options.EffectiveIndexTopic;
            for (var i = 0; i < chunks.Count; i++)
                await Producer.ProduceAsync(topic, new Message<byte[], byte[]> { Key = Encoding.UTF8.GetBytes($"{index.Partition}#{i}"), Value = [.. id, .. chunks[i]] }).ConfigureAwait(false);
            var head = new byte[16 + 8 + 8 + 4];
            id.CopyTo(head, 0);
            BinaryPrimitives.WriteInt64BigEndian(head.AsSpan(16), validUpTo);
            BinaryPrimitives.WriteInt64BigEndian(head.AsSpan(24), lastEventOffset);
            BinaryPrimitives.WriteInt32BigEndian(head.AsSpan(32), chunks.Count);
            await Producer.ProduceAsync(topic, new Message<byte[], byte[]> { Key = Encoding.UTF8.GetBytes($"{index.Partition}"), Value = head }).ConfigureAwait(false);
            _logger.IndexSnapshotWritten(index.Partition, validUpTo);
        }
        catch (KafkaException e)
        {
            _logger.IndexSnapshotWriteFailed(e, index.Partition);
        }
    }

    private async Task LoadIndexSnapshotsAsync(PartitionWriter[] writers, CancellationToken ct)
    {
        var topic = Options.EffectiveIndexTopic;
        if (PartitionCountOf(topic) == 0)
        {
            _logger.IndexTopicMissing(topic);
            return;
        }
        var all = (await new CompactedTopic(topic, this).GetAllAsync(ct).ConfigureAwait(false)).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        if (all.TryGetValue(PartitionCountKey, out var recorded) && recorded.Length == 4)
        {
            var written = BinaryPrimitives.ReadInt32BigEndian(recorded);
            if (written != writers.Length)
                throw new EventStoreConfigurationException($"{KafkaEventStoreOptions.SectionName}:Topic",
                    $"names topic '{Options.Topic}', which has {writers.Length} partition(s), but its events were written with {written}: a stream's partition is its hash modulo the partition count, so streams would be split between partitions. Restore {written} partition(s), or copy the events into a new topic.");
            _partitionCountRecorded = 1;
        }
        foreach (var w in writers)
        {
            if (!all.TryGetValue($"{w.Index.Partition}", out var head) || head.Length != 36) continue;
            var id = head.AsSpan(0, 16);
            var count = BinaryPrimitives.ReadInt32BigEndian(head.AsSpan(32));
            var entries = new List<(string, StreamEntry)>();
            var complete = true;
            for (var i = 0; i < count && complete; i++)
            {
                if (!all.TryGetValue($"{w.Index.Partition}#{i}", out var chunk) || !chunk.AsSpan(0, 16).SequenceEqual(id))
                {
                    complete = false;
                    break;
                }
                var span = chunk.AsSpan(16);
                while (!span.IsEmpty)
                {
                    var nameLength = BinaryPrimitives.ReadInt32BigEndian(span);
                    var name = Encoding.UTF8.GetString(span.Slice(4, nameLength));
                    span = span[(4 + nameLength)..];
                    var valueLength = BinaryPrimitives.ReadInt32BigEndian(span);
                    entries.Add((name, StreamEntry.Deserialize(span.Slice(4, valueLength))));
                    span = span[(4 + valueLength)..];
                }
            }
            if (!complete)
            {
                _logger.IndexSnapshotIncomplete(w.Index.Partition);
                continue;
            }
            w.Index.Load(entries, BinaryPrimitives.ReadInt64BigEndian(head.AsSpan(16)), BinaryPrimitives.ReadInt64BigEndian(head.AsSpan(24)));
            _logger.IndexSnapshotLoaded(w.Index.Partition, entries.Count, w.Index.NextOffset);
        }
    }
}
