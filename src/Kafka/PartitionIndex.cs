using System.Buffers.Binary;

namespace EventStore.Providers.Kafka;

/// <summary>A run of consecutive versions of one stream stored at consecutive offsets.</summary>
internal readonly record struct OffsetRun(long FirstVersion, long FirstOffset, int Count)
{
    public long LastVersion => FirstVersion + Count - 1;
    public long LastOffset => FirstOffset + Count - 1;
}

/// <summary>What the index knows about one stream.</summary>
internal sealed class StreamEntry
{
    /// <summary>How many recent event ids stay in memory for idempotence checks; older ones are read from Kafka.</summary>
    public const int RecentIdCapacity = 128;

    public List<OffsetRun> Runs { get; } = [];
    public long LastVersion { get; set; } = -1;
    /// <summary>The first visible version: a soft delete moves it past the last version.</summary>
    public long TruncateBefore { get; set; }
    public bool Tombstoned { get; set; }
    /// <summary>The offset of the last record applied to this entry; replays at or below it are ignored.</summary>
    public long LastOffset { get; set; } = -1;
    /// <summary>Ids of the most recent events, oldest first; the first is the id of version <see cref="RecentFirstVersion"/>.</summary>
    public List<Guid> RecentIds { get; } = [];
    public long RecentFirstVersion { get; set; }

    public bool SoftDeleted => !Tombstoned && LastVersion >= 0 && TruncateBefore > LastVersion;
    public bool Visible => !Tombstoned && LastVersion >= TruncateBefore;

    public void AddEvents(long firstVersion, IReadOnlyList<(long Offset, Guid Id)> events)
    {
        for (var i = 0; i < events.Count; i++)
        {
            var (offset, id) = events[i];
            var version = firstVersion + i;
            if (Runs.Count > 0 && Runs[^1] is var last && last.LastOffset + 1 == offset && last.LastVersion + 1 == version)
                Runs[^1] = last with { Count = last.Count + 1 };
            else
                Runs.Add(new OffsetRun(version, offset, 1));
            if (RecentIds.Count == 0) RecentFirstVersion = version;
            RecentIds.Add(id);
        }
        if (RecentIds.Count > RecentIdCapacity)
        {
            var drop = RecentIds.Count - RecentIdCapacity;
            RecentIds.RemoveRange(0, drop);
            RecentFirstVersion += drop;
        }
        LastVersion = firstVersion + events.Count - 1;
        LastOffset = events[^1].Offset;
    }

    /// <summary>The runs covering versions <paramref name="from"/>..<paramref name="to"/> (inclusive), clipped.</summary>
    public List<OffsetRun> Slice(long from, long to)
    {
        var result = new List<OffsetRun>();
        if (from > to || Runs.Count == 0) return result;
        var lo = 0;
        var hi = Runs.Count - 1;
        while (lo < hi)
        {
            var mid = (lo + hi + 1) / 2;
            if (Runs[mid].FirstVersion <= from) lo = mid; else hi = mid - 1;
        }
        for (var i = lo; i < Runs.Count && Runs[i].FirstVersion <= to; i++)
        {
            var r = Runs[i];
            var start = Math.Max(from, r.FirstVersion);
            var end = Math.Min(to, r.LastVersion);
            if (start > end) continue;
            result.Add(new OffsetRun(start, r.FirstOffset + (start - r.FirstVersion), (int)(end - start + 1)));
        }
        return result;
    }

    public byte[] Serialize()
    {
        var buffer = new byte[8 * 3 + 1 + 4 + Runs.Count * 20];
        var span = buffer.AsSpan();
        BinaryPrimitives.WriteInt64BigEndian(span, LastVersion);
        BinaryPrimitives.WriteInt64BigEndian(span[8..], TruncateBefore);
        BinaryPrimitives.WriteInt64BigEndian(span[16..], LastOffset);
        span[24] = Tombstoned ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteInt32BigEndian(span[25..], Runs.Count);
        var at = 29;
        foreach (var r in Runs)
        {
            BinaryPrimitives.WriteInt64BigEndian(span[at..], r.FirstVersion);
            BinaryPrimitives.WriteInt64BigEndian(span[(at + 8)..], r.FirstOffset);
            BinaryPrimitives.WriteInt32BigEndian(span[(at + 16)..], r.Count);
            at += 20;
        }
        return buffer;
    }

    public static StreamEntry Deserialize(ReadOnlySpan<byte> span)
    {
        var e = new StreamEntry
        {
            LastVersion = BinaryPrimitives.ReadInt64BigEndian(span),
            TruncateBefore = BinaryPrimitives.ReadInt64BigEndian(span[8..]),
            LastOffset = BinaryPrimitives.ReadInt64BigEndian(span[16..]),
            Tombstoned = span[24] == 1,
        };
        var count = BinaryPrimitives.ReadInt32BigEndian(span[25..]);
        var at = 29;
        for (var i = 0; i < count; i++, at += 20)
            e.Runs.Add(new OffsetRun(BinaryPrimitives.ReadInt64BigEndian(span[at..]), BinaryPrimitives.ReadInt64BigEndian(span[(at + 8)..]), BinaryPrimitives.ReadInt32BigEndian(span[(at + 16)..])));
        // Recent ids are not persisted: the idempotence check reads them back from Kafka when it needs them.
        e.RecentFirstVersion = e.LastVersion + 1;
        return e;
    }
}

/// <summary>
/// The index of one partition: stream name -> last version, soft-delete/tombstone state and the offsets of its
/// events. Mutated only by the partition's writer; readers take the lock for short look-ups.
/// </summary>
/// <remarks>
/// Records are applied in offset order. A batch (the events of one append) is applied only when its last event
/// (version = its <c>es-batch-last</c> header) has been seen: a batch interrupted by any other record is torn (its
/// writer died mid-append) and ignored, which is what makes a multi-event append atomic. A batch whose first version
/// is not the stream's last version + 1 lost a cross-process race (possible only without fencing) and is ignored too.
/// </remarks>
internal sealed class PartitionIndex(int partition)
{
    private readonly Dictionary<string, StreamEntry> _streams = new(StringComparer.Ordinal);
    private OpenBatch? _open;

    public int Partition { get; } = partition;
    public object Sync { get; } = new();

    /// <summary>The next offset of the partition not yet applied.</summary>
    public long NextOffset { get; set; }

    /// <summary>The offset of the first record of a batch still waiting for its last event, if any.</summary>
    public long? OpenBatchOffset => _open?.Events[0].Offset;

    public int EventsSinceSnapshot { get; set; }

    public StreamEntry? Find(string stream)
    {
        lock (Sync) return _streams.GetValueOrDefault(stream);
    }

    public StreamEntry GetOrAdd(string stream)
    {
        lock (Sync)
        {
            if (!_streams.TryGetValue(stream, out var e)) _streams[stream] = e = new StreamEntry();
            return e;
        }
    }

    /// <summary>Applies one record read from the partition (offset order).</summary>
    public void Apply(long offset, in EventRecord.Header h)
    {
        lock (Sync)
        {
            if (offset < NextOffset) return;
            NextOffset = offset + 1;
            if (h.Kind != RecordKind.Event)
            {
                _open = null;
                ApplyMarker(offset, h);
                return;
            }
            if (_open is { } open && (open.Stream != h.Stream || open.NextVersion != h.Version))
                _open = null;
            _open ??= new OpenBatch(h.Stream, h.Version);
            _open.Events.Add((offset, h.EventId));
            if (h.Version >= h.BatchLastVersion)
            {
                var batch = _open;
                _open = null;
                Commit(batch.Stream, batch.FirstVersion, batch.Events);
            }
        }
    }

    /// <summary>
    /// Moves past offsets that hold no record a reader will ever receive: the end-of-partition offset a consumer
    /// reported (past control markers, aborted records and compacted gaps).
    /// </summary>
    public void AdvanceTo(long end)
    {
        lock (Sync) NextOffset = Math.Max(NextOffset, end);
    }

    /// <summary>
    /// The last offset of this process's last committed transaction on the partition: its commit marker lies after
    /// it and before the next transaction's first record, so a single offset between the two is that marker.
    /// </summary>
    public long OwnTransactionEnd { get; set; } = -2;

    /// <summary>
    /// Applies a batch this process just wrote when it directly follows everything applied so far (or follows it
    /// after this process's own commit marker); returns false (applying nothing) otherwise, and the writer then reads
    /// the gap so the log's order decides.
    /// </summary>
    public bool TryApplyOwn(string stream, long firstVersion, IReadOnlyList<(long Offset, Guid Id)> events)
    {
        lock (Sync)
        {
            if (_open is not null || !FollowsApplied(events[0].Offset)) return false;
            if (!Commit(stream, firstVersion, events)) return false;
            NextOffset = events[^1].Offset + 1;
            return true;
        }
    }

    /// <summary>True when <paramref name="offset"/> is the next offset, or the one after our own commit marker.</summary>
    private bool FollowsApplied(long offset)
    {
        if (offset == NextOffset) return true;
        if (offset != NextOffset + 1 || NextOffset != OwnTransactionEnd + 1) return false;
        NextOffset++;
        return true;
    }

    public bool TryApplyOwnMarker(long offset, in EventRecord.Header h)
    {
        lock (Sync)
        {
            if (_open is not null || !FollowsApplied(offset)) return false;
            ApplyMarker(offset, h);
            NextOffset = offset + 1;
            return MarkerAppliedCore(h.Stream, h.Kind, h.Version, offset);
        }
    }

    /// <summary>True when the marker at <paramref name="offset"/> took effect on its stream.</summary>
    public bool MarkerApplied(string stream, RecordKind kind, long version, long offset)
    {
        lock (Sync) return MarkerAppliedCore(stream, kind, version, offset);
    }

    private bool MarkerAppliedCore(string stream, RecordKind kind, long version, long offset)
    {
        if (!_streams.TryGetValue(stream, out var e) || e.LastOffset < offset) return false;
        return kind == RecordKind.Tombstone ? e.Tombstoned : e.TruncateBefore >= version + 1;
    }

    private bool Commit(string stream, long firstVersion, IReadOnlyList<(long Offset, Guid Id)> events)
    {
        var entry = _streams.GetValueOrDefault(stream);
        if (entry is not null && events[0].Offset <= entry.LastOffset) return false;
        if (firstVersion != (entry?.LastVersion ?? -1) + 1 || entry?.Tombstoned == true) return false;
        if (entry is null) _streams[stream] = entry = new StreamEntry();
        entry.AddEvents(firstVersion, events);
        EventsSinceSnapshot += events.Count;
        LastEventOffset = Math.Max(LastEventOffset, events[^1].Offset);
        return true;
    }

    /// <summary>A marker applies only to the version its writer saw: one that lost a race to an append is ignored.</summary>
    private void ApplyMarker(long offset, in EventRecord.Header h)
    {
        if (!_streams.TryGetValue(h.Stream, out var entry)) _streams[h.Stream] = entry = new StreamEntry();
        if (offset <= entry.LastOffset || h.Version != entry.LastVersion || entry.Tombstoned) return;
        entry.LastOffset = offset;
        if (h.Kind == RecordKind.Tombstone) entry.Tombstoned = true;
        else entry.TruncateBefore = Math.Max(entry.TruncateBefore, entry.LastVersion + 1);
    }

    /// <summary>The offset of the newest committed event, or -1.</summary>
    public long LastEventOffset { get; private set; } = -1;

    /// <summary>Serializes every entry and the offset the snapshot is valid up to; null while a batch is open.</summary>
    public (List<(string Stream, byte[] Value)> Entries, long ValidUpTo, long LastEventOffset)? TakeSnapshot()
    {
        lock (Sync)
        {
            if (_open is not null) return null;
            EventsSinceSnapshot = 0;
            return (_streams.Select(kv => (kv.Key, kv.Value.Serialize())).ToList(), NextOffset, LastEventOffset);
        }
    }

    /// <summary>True when <paramref name="offset"/> holds the committed event <paramref name="version"/> of <paramref name="stream"/>.</summary>
    public bool IsCommitted(string stream, long version, long offset)
    {
        lock (Sync)
        {
            if (!_streams.TryGetValue(stream, out var e) || version > e.LastVersion) return false;
            var slice = e.Slice(version, version);
            return slice.Count == 1 && slice[0].FirstOffset == offset;
        }
    }

    /// <summary>The end below which every record is applied and no batch is open: what readers may read up to.</summary>
    public long SafeEnd
    {
        get { lock (Sync) return _open?.Events[0].Offset ?? NextOffset; }
    }

    public void Load(IEnumerable<(string Stream, StreamEntry Entry)> entries, long validUpTo, long lastEventOffset)
    {
        lock (Sync)
        {
            foreach (var (stream, entry) in entries) _streams[stream] = entry;
            NextOffset = validUpTo;
            LastEventOffset = lastEventOffset;
        }
    }

    public int StreamCount
    {
        get { lock (Sync) return _streams.Count; }
    }

    private sealed class OpenBatch(string stream, long firstVersion)
    {
        public string Stream { get; } = stream;
        public long FirstVersion { get; } = firstVersion;
        public List<(long Offset, Guid Id)> Events { get; } = [];
        public long NextVersion => FirstVersion + Events.Count;
    }
}
