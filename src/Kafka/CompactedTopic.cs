using System.Text;
using Confluent.Kafka;

namespace EventStore.Providers.Kafka;

/// <summary>
/// A key-value table kept in a compacted topic: writes produce the new value (null deletes), reads first catch up
/// with the topic's high watermark, so a read sees every write acknowledged before it started, from any process.
/// </summary>
internal sealed class CompactedTopic(string topic, KafkaEventStore store)
{
    private readonly Dictionary<string, byte[]> _state = new(StringComparer.Ordinal);
    private readonly Dictionary<int, long> _next = [];
    private readonly SemaphoreSlim _gate = new(1, 1);
    private int _partitions;

    public string Topic { get; } = topic;

    public async Task<byte[]?> GetAsync(string key, CancellationToken ct)
    {
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            await CatchUpAsync(ct).ConfigureAwait(false);
            return _state.GetValueOrDefault(key);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<List<KeyValuePair<string, byte[]>>> GetAllAsync(CancellationToken ct)
    {
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            await CatchUpAsync(ct).ConfigureAwait(false);
            return [.. _state];
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task PutAsync(string key, byte[]? value, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        try
        {
            // Not cancellable once produced: the write either lands or fails, never half.
            await store.Producer.ProduceAsync(Topic, new Message<byte[], byte[]> { Key = Encoding.UTF8.GetBytes(key), Value = value! }, CancellationToken.None).ConfigureAwait(false);
        }
        catch (KafkaException e)
        {
            throw new TransientEventStoreException($"Kafka failed while writing to topic '{Topic}': {e.Error.Reason}.", e);
        }
    }

    private async Task CatchUpAsync(CancellationToken ct)
    {
        if (_partitions == 0) _partitions = store.PartitionCountOf(Topic);
        using var lease = store.Consumers.Rent();
        var consumer = lease.Consumer;
        var assignments = new List<TopicPartitionOffset>();
        var highs = new Dictionary<int, long>();
        for (var p = 0; p < _partitions; p++)
        {
            var tp = new TopicPartition(Topic, p);
            var high = (await Task.Run(() => consumer.QueryWatermarkOffsets(tp, store.Options.RequestTimeout), ct).ConfigureAwait(false)).High.Value;
            var next = _next.GetValueOrDefault(p);
            if (next < high)
            {
                assignments.Add(new TopicPartitionOffset(tp, next));
                highs[p] = high;
            }
        }
        if (assignments.Count == 0) return;
        consumer.Assign(assignments);
        while (highs.Count > 0)
        {
            var r = await lease.NextAsync(ct).ConfigureAwait(false);
            if (r is null) continue;
            var p = r.Partition.Value;
            if (r.IsPartitionEOF)
            {
                highs.Remove(p);
                continue;
            }
            _next[p] = r.Offset.Value + 1;
            if (r.Message.Key is not null)
            {
                var key = Encoding.UTF8.GetString(r.Message.Key);
                if (r.Message.Value is null) _state.Remove(key);
                else _state[key] = r.Message.Value;
            }
            if (highs.TryGetValue(p, out var h) && r.Offset.Value + 1 >= h) highs.Remove(p);
        }
    }
}
