namespace EventStore.Providers.InMemory;

/// <summary>
/// A list that one writer at a time appends to while any number of readers iterate it without locks. Items live in
/// fixed-size chunks that never move, so growing never copies events and a reader's snapshot (a count) stays valid.
/// </summary>
/// <remarks>
/// The writer (holding the storage's write lock) <see cref="Stage"/>s items past the published count and then
/// <see cref="Publish"/>es them all at once: readers see a batch whole or not at all.
/// </remarks>
internal sealed class AppendOnlyLog<T> where T : class
{
    private const int ChunkShift = 12;
    private const int ChunkSize = 1 << ChunkShift;
    private const int ChunkMask = ChunkSize - 1;

    private T[][] _chunks = new T[4][];
    private int _published;
    private int _staged;

    /// <summary>How many items readers may see.</summary>
    public int Count => Volatile.Read(ref _published);

    /// <summary>Reads item <paramref name="index"/>; only valid for an index below a <see cref="Count"/> read earlier.</summary>
    public T this[int index] => Volatile.Read(ref _chunks)[index >> ChunkShift][index & ChunkMask];

    /// <summary>The index the next staged item gets.</summary>
    public int StagedCount => _staged;

    /// <summary>Writes <paramref name="item"/> after the staged items, invisible to readers until <see cref="Publish"/>.</summary>
    public void Stage(T item)
    {
        var chunk = _staged >> ChunkShift;
        var chunks = _chunks;
        if (chunk == chunks.Length)
        {
            // Only the small array of chunk references is copied; readers holding the old one still find every published item.
            var grown = new T[chunks.Length * 2][];
            Array.Copy(chunks, grown, chunks.Length);
            chunks = grown;
            Volatile.Write(ref _chunks, chunks);
        }
        chunks[chunk] ??= new T[ChunkSize];
        chunks[chunk][_staged & ChunkMask] = item;
        _staged++;
    }

    /// <summary>Makes every staged item visible to readers.</summary>
    public void Publish() => Volatile.Write(ref _published, _staged);
}
