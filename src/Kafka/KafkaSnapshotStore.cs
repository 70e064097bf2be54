using System.Buffers.Binary;
using System.Text;

namespace EventStore.Providers.Kafka;

/// <summary>
/// Snapshots in a compacted topic keyed by stream name: compaction keeps the newest per stream. Saving an older
/// version than the stored one is ignored (checked against the caught-up table, so across processes the last
/// writer wins between two saves racing within one round trip).
/// </summary>
public sealed class KafkaSnapshotStore : ISnapshotStore
{
    private readonly CompactedTopic _table;

    internal KafkaSnapshotStore(KafkaEventStore store) => _table = new CompactedTopic(store.Options.EffectiveSnapshotTopic, store);

    /// <inheritdoc />
    public async Task<Snapshot?> LoadAsync(StreamName stream, CancellationToken cancellationToken = default)
    {
        EventGuard.ValidateStream(stream, KafkaEventStore.CapabilitiesFor(1, 1_000_000));
        var value = await _table.GetAsync(stream.Value, cancellationToken).ConfigureAwait(false);
        return value is null ? null : Decode(stream, value);
    }

    /// <inheritdoc />
    public async Task SaveAsync(Snapshot snapshot, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentOutOfRangeException.ThrowIfNegative(snapshot.Version);
        ArgumentException.ThrowIfNullOrWhiteSpace(snapshot.SnapshotType);
        var current = await LoadAsync(snapshot.Stream, cancellationToken).ConfigureAwait(false);
        if (current is not null && current.Version > snapshot.Version) return;
        await _table.PutAsync(snapshot.Stream.Value, Encode(snapshot), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task DeleteAsync(StreamName stream, CancellationToken cancellationToken = default) =>
        _table.PutAsync(stream.Value, null, cancellationToken);

    private static byte[] Encode(Snapshot s)
    {
        var type = Encoding.UTF8.GetBytes(s.SnapshotType);
        var buffer = new byte[8 + 4 + 8 + 4 + type.Length + s.Data.Length];
        var span = buffer.AsSpan();
        BinaryPrimitives.WriteInt64BigEndian(span, s.Version);
        BinaryPrimitives.WriteInt32BigEndian(span[8..], s.SchemaVersion);
        BinaryPrimitives.WriteInt64BigEndian(span[12..], DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        BinaryPrimitives.WriteInt32BigEndian(span[20..], type.Length);
        type.CopyTo(span[24..]);
        s.Data.Span.CopyTo(span[(24 + type.Length)..]);
        return buffer;
    }

    private static Snapshot Decode(StreamName stream, byte[] value)
    {
        var span = value.AsSpan();
        var typeLength = BinaryPrimitives.ReadInt32BigEndian(span[20..]);
        return new Snapshot(stream, BinaryPrimitives.ReadInt64BigEndian(span), Encoding.UTF8.GetString(span.Slice(24, typeLength)),
            value.AsMemory(24 + typeLength), BinaryPrimitives.ReadInt32BigEndian(span[8..]))
        {
            CreatedUtc = DateTimeOffset.FromUnixTimeMilliseconds(BinaryPrimitives.ReadInt64BigEndian(span[12..])),
        };
    }
}

/// <summary>Subscription checkpoints in a compacted topic keyed by subscription id.</summary>
public sealed class KafkaCheckpointStore : ICheckpointStore
{
    private readonly CompactedTopic _table;

    internal KafkaCheckpointStore(KafkaEventStore store) => _table = new CompactedTopic(store.Options.EffectiveCheckpointTopic, store);

    /// <inheritdoc />
    public async Task<Position?> LoadAsync(string subscriptionId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(subscriptionId);
        var value = await _table.GetAsync(subscriptionId, cancellationToken).ConfigureAwait(false);
        return value is null ? null : Position.Parse(Encoding.UTF8.GetString(value));
    }

    /// <inheritdoc />
    public Task SaveAsync(string subscriptionId, Position position, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(subscriptionId);
        return _table.PutAsync(subscriptionId, Encoding.UTF8.GetBytes(position.ToString()), cancellationToken);
    }

    /// <inheritdoc />
    public Task DeleteAsync(string subscriptionId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(subscriptionId);
        return _table.PutAsync(subscriptionId, null, cancellationToken);
    }
}
