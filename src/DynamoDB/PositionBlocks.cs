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
/// <remarks>
/// Without a fixed size, a block is sized to what this instance handed out since its previous counter update, scaled
/// to half the lifetime: an instance appending 1,000 events/s with the default 50 ms lifetime reserves 25 at a time
/// (one counter update per 25 appends), one appending a few times a second reserves 1 (nothing is held back), and a
/// block is usually used up before it is old enough to be retired with an unused rest.
/// </remarks>
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
    private readonly int? _fixedSize;
    private readonly int _maxSize;
    private long _handedOut;
    private long _handedOutAtReserve;
    private long _lastReserveAt;
    private readonly TimeSpan _lifetime;
    private readonly Lock _gate = new();
    private readonly ITimer _timer;
    private readonly List<Waiter> _waiting = [];
    private Block? _block;
    private Task? _reserving;
    private bool _disposed;

    /// <param name="reserve">Reserves at least the given number of positions (one counter update); returns the range.</param>
    /// <param name="release">Writes a skip marker for positions no append will use (never throws).</param>
    /// <param name="time">The clock.</param>
    /// <param name="size">Positions per block (a bigger batch reserves a block of its own size); null: sized to the recent append rate, up to <paramref name="maxSize"/>.</param>
    /// <param name="lifetime">The longest a block is used after it was reserved.</param>
    /// <param name="maxSize">The largest block when <paramref name="size"/> is null.</param>
    public PositionBlocks(Func<int, Task<(long First, long Last)>> reserve, Func<long, long, string, Task> release, TimeProvider time, int? size, TimeSpan lifetime,
        int maxSize = DynamoDBEventStoreOptions.MaxAdaptivePositionBlockSize)
    {
        _reserve = reserve;
        _release = release;
        _time = time;
        _fixedSize = size;
        _maxSize = maxSize;
        _lifetime = lifetime;
        _timer = time.CreateTimer(_ => ReleaseIfStale(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>How long a block may go unused before its rest is released.</summary>
    public TimeSpan IdleRelease => _lifetime / 5;

    /// <summary>
    /// Takes <paramref name="count"/> consecutive positions: from the current block, or from the next counter update.
    /// Appends that wait at the same time share one update sized to all of them (and at least a block), so concurrent
    /// writers do not queue behind each other's round trips to the counter item, and no position is left unused.
    /// </summary>
    public async Task<Reservation> TakeAsync(int count, CancellationToken cancellationToken)
    {
        Waiter waiter;
        (long First, long Last)? rest = null;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (TryTakeFromBlock(count, ref rest) is { } taken) return taken;
            waiter = new Waiter(count);
            _waiting.Add(waiter);
            _reserving ??= Task.Run(ReserveForWaitersAsync, CancellationToken.None);
        }
        if (rest is { } r) _ = _release(r.First, r.Last, "the block ran out or grew old");
        try
        {
            return await waiter.Done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            lock (_gate)
                if (_waiting.Remove(waiter)) throw;
            // Already part of a counter update: its positions must be marked unused, or readers wait for them.
            var reservation = await waiter.Done.Task.ConfigureAwait(false);
            await _release(reservation.First, reservation.Last, "the append was cancelled").ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Positions from the current block when it has room and is young enough; otherwise retires it (its rest in <paramref name="rest"/>).</summary>
    private Reservation? TryTakeFromBlock(int count, ref (long First, long Last)? rest)
    {
        if (_block is not { } b) return null;
        if (b.Last - b.Next + 1 >= count && _time.GetElapsedTime(b.TakenAt) < _lifetime)
        {
            var taken = new Reservation(b.Next, b.Next + count - 1, b.TakenAt);
            b.Next += count;
            _handedOut += count;
            b.LastUsedAt = _time.GetTimestamp();
            return taken;
        }
        if (b.HasRest) rest = (b.Next, b.Last);
        _block = null;
        return null;
    }

    /// <summary>One counter update per round for every append waiting when it starts; runs until nobody waits.</summary>
    private async Task ReserveForWaitersAsync()
    {
        while (true)
        {
            List<Waiter> batch = [];
            (long First, long Last)? rest = null;
            var size = 1;
            lock (_gate)
            {
                foreach (var w in _waiting)
                {
                    if (!_disposed && TryTakeFromBlock(w.Count, ref rest) is { } taken) w.Done.TrySetResult(taken);
                    else batch.Add(w);
                }
                _waiting.Clear();
                if (batch.Count == 0 || _disposed)
                {
                    _reserving = null;
                    foreach (var w in batch) w.Done.TrySetException(new ObjectDisposedException(nameof(PositionBlocks)));
                    batch.Clear();
                }
                else
                {
                    size = NextBlockSize();
                    foreach (var w in batch) _handedOut += w.Count;
                }
            }
            if (rest is { } r) await _release(r.First, r.Last, "the block ran out or grew old").ConfigureAwait(false);
            if (batch.Count == 0) return;

            var needed = 0;
            foreach (var w in batch) needed += w.Count;
            long first, last;
            try
            {
                (first, last) = await _reserve(Math.Max(needed, size)).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                foreach (var w in batch) w.Done.TrySetException(e);
                continue;
            }
            var takenAt = _time.GetTimestamp();
            var next = first;
            foreach (var w in batch)
            {
                w.Done.TrySetResult(new Reservation(next, next + w.Count - 1, takenAt));
                next += w.Count;
            }
            if (next > last) continue;
            (long First, long Last)? unused = null;
            lock (_gate)
            {
                if (_disposed || _block is not null) unused = (next, last);
                else
                {
                    _block = new Block(next, last, takenAt) { LastUsedAt = takenAt };
                    _timer.Change(IdleRelease, Timeout.InfiniteTimeSpan);
                }
            }
            if (unused is { } u) await _release(u.First, u.Last, "the store was disposed").ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The fixed size, or the positions handed out since the previous counter update (over at least a tenth of the
    /// lifetime) scaled to half the lifetime (1 before the first update, or when the clock has not moved). Called under
    /// the gate, once per update.
    /// </summary>
    private int NextBlockSize()
    {
        if (_fixedSize is { } fixedSize) return fixedSize;
        var now = _time.GetTimestamp();
        var size = 1;
        if (_lastReserveAt != 0)
        {
            var elapsed = _time.GetElapsedTime(_lastReserveAt, now);
            if (elapsed > TimeSpan.Zero)
            {
                // Over less than a tenth of the lifetime the count is a burst, not a rate: 16 appends arriving together
                // a millisecond after the last update would otherwise ask for a block that outlives its lifetime.
                var window = elapsed > _lifetime / 10 ? elapsed : _lifetime / 10;
                var rate = (_handedOut - _handedOutAtReserve) / window.TotalSeconds;
                size = (int)Math.Clamp(rate * _lifetime.TotalSeconds / 2, 1, _maxSize);
            }
        }
        _lastReserveAt = now;
        _handedOutAtReserve = _handedOut;
        return size;
    }

    private sealed class Waiter(int count)
    {
        public int Count { get; } = count;
        public TaskCompletionSource<Reservation> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
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

    /// <summary>
    /// Retires the current block when its unused rest starts at <paramref name="position"/>, a hole a reader of this
    /// instance has reached: the rest is released at once instead of after the block's idle time. False when the hole
    /// is not this instance's rest (another instance's, or an append of this one still on its way).
    /// </summary>
    public async Task<bool> ReleaseRestAtAsync(long position)
    {
        (long First, long Last) rest;
        lock (_gate)
        {
            if (_block is not { HasRest: true } b || b.Next != position) return false;
            rest = (b.Next, b.Last);
            _block = null;
        }
        await _release(rest.First, rest.Last, "a reader reached them").ConfigureAwait(false);
        return true;
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
