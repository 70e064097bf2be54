namespace EventStore.Providers.DynamoDB;

/// <summary>A range of global positions taken for one commit attempt, and when its block was reserved.</summary>
internal readonly record struct Reservation(long First, long Last, long TakenAt);

/// <summary>
/// Hands out global positions from blocks this store instance reserves with one <c>ADD</c> on the counter item, so the
/// counter is written once per block instead of once per append (see README.md, "Global positions"). Positions of a
/// block that no append used are a hole in <c>$all</c> that holds back readers once another instance writes past it,
/// so the rest of a block is released (a skip marker) as soon as the block runs out, after
/// <see cref="IdleRelease"/> without an append, or <c>lifetime</c> after it was reserved.
/// </summary>
internal sealed class PositionBlocks : IDisposable
{
    private sealed class Block(long first, long last, long takenAt)
    {
        public long Next { get; set; } = first;
        public long Last { get; } = last;
        public long TakenAt { get; } = takenAt;
        public long LastUsedAt { get; set; } = takenAt;
        public bool HasRest => Next <= Last;
    }

    private readonly Func<int, Task<(long First, long Last)>> _reserve;
    private readonly Func<long, long, string, Task> _release;
    private readonly TimeProvider _time;
    private readonly int _size;
    private readonly TimeSpan _lifetime;
    private readonly Lock _gate = new();
    private readonly ITimer _timer;
    private Block? _block;
    private Task<Block>? _reserving;
    private bool _disposed;

    /// <param name="reserve">Reserves at least the given number of positions (one counter update); returns the range.</param>
    /// <param name="release">Writes a skip marker for positions no append will use (never throws).</param>
    /// <param name="time">The clock.</param>
    /// <param name="size">Positions per block; a bigger batch reserves a block of its own size.</param>
    /// <param name="lifetime">The longest a block is used after it was reserved.</param>
    public PositionBlocks(Func<int, Task<(long First, long Last)>> reserve, Func<long, long, string, Task> release, TimeProvider time, int size, TimeSpan lifetime)
    {
        _reserve = reserve;
        _release = release;
        _time = time;
        _size = size;
        _lifetime = lifetime;
        _timer = time.CreateTimer(_ => ReleaseIfStale(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>How long a block may go unused before its rest is released.</summary>
    public TimeSpan IdleRelease => _lifetime / 5;

    /// <summary>Takes <paramref name="count"/> consecutive positions: from the current block, or from a new one.</summary>
    public async Task<Reservation> TakeAsync(int count, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task<Block> pending;
            (long First, long Last)? rest = null;
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                if (_block is { } b)
                {
                    if (b.Last - b.Next + 1 >= count && _time.GetElapsedTime(b.TakenAt) < _lifetime)
                    {
                        var taken = new Reservation(b.Next, b.Next + count - 1, b.TakenAt);
                        b.Next += count;
                        b.LastUsedAt = _time.GetTimestamp();
                        return taken;
                    }
                    if (b.HasRest) rest = (b.Next, b.Last);
                    _block = null;
                }
                // Appends that find the block empty at the same time share one reservation.
                pending = _reserving ??= Task.Run(() => ReserveBlockAsync(count), CancellationToken.None);
            }
            if (rest is { } r) _ = _release(r.First, r.Last, "the block ran out or grew old");
            await pending.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<Block> ReserveBlockAsync(int count)
    {
        try
        {
            var (first, last) = await _reserve(Math.Max(count, _size)).ConfigureAwait(false);
            var block = new Block(first, last, _time.GetTimestamp());
            (long First, long Last)? rest = null;
            lock (_gate)
            {
                _reserving = null;
                if (_disposed)
                {
                    rest = (first, last);
                }
                else
                {
                    _block = block;
                    _timer.Change(IdleRelease, Timeout.InfiniteTimeSpan);
                }
            }
            if (rest is { } r) await _release(r.First, r.Last, "the store was disposed").ConfigureAwait(false);
            return block;
        }
        catch
        {
            lock (_gate) _reserving = null;
            throw;
        }
    }

    private void ReleaseIfStale()
    {
        (long First, long Last)? rest = null;
        lock (_gate)
        {
            if (_block is not { } b) return;
            var idle = _time.GetElapsedTime(b.LastUsedAt);
            var age = _time.GetElapsedTime(b.TakenAt);
            if (idle >= IdleRelease || age >= _lifetime)
            {
                if (b.HasRest) rest = (b.Next, b.Last);
                _block = null;
            }
            else
            {
                _timer.Change(IdleRelease - idle, Timeout.InfiniteTimeSpan);
            }
        }
        if (rest is { } r) _ = _release(r.First, r.Last, "no append used them");
    }

    /// <summary>Releases the rest of the current block (waiting at most five seconds for the skip marker).</summary>
    public void Dispose()
    {
        (long First, long Last)? rest = null;
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            if (_block is { HasRest: true } b) rest = (b.Next, b.Last);
            _block = null;
        }
        _timer.Dispose();
        if (rest is { } r) _release(r.First, r.Last, "the store was disposed").Wait(TimeSpan.FromSeconds(5));
    }
}
