namespace EventStore.Providers.DynamoDB;

/// <summary>A range of global positions taken for one commit attempt, and when its block was reserved.</summary>
internal readonly record struct Reservation(long First, long Last, long TakenAt);

/// <summary>
/// Hands out global positions from blocks this store instance reserves with one <c>ADD</c> on the counter item, so the
/// counter is written once per block instead of once per append (see README.md, "Global positions"). Positions of a
/// block that no append used are a hole in <c>$all</c> that holds back readers once another instance writes past it,
/// so the rest of a block is released (a skip marker) as soon as the block runs out, after
/// <see cref="IdleRelease"/> without an append, or <c>lifetime</c> after it was reserved. A busy instance reserves its
/// next block in the background once half of the current one is used, so its appends do not wait for the counter.
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
        public long Size { get; } = last - first + 1;
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
    // Reserved ahead while the current block is in use (see MaybePrefetch), and the counter update that fetches it.
    private Block? _next;
    private Task? _prefetching;
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
    /// The smallest block whose successor is reserved ahead: an instance that gets blocks this big appends often enough
    /// (with the default lifetime, about 160 times a second) that the next block is used before it grows old, while an
    /// instance that appends rarely holds no positions it may have to give back.
    /// </summary>
    public const int MinPrefetchSize = 4;

    /// <summary>Whether a block reserved ahead is waiting for the current one to run out (for tests).</summary>
    internal bool HasBlockAhead
    {
        get
        {
            lock (_gate) return _next is not null;
        }
    }

    /// <summary>Positions that will not be used: released (skip markers) once the gate is left.</summary>
    private struct Rests
    {
        private (long First, long Last)? _first;
        private List<(long First, long Last)>? _more;

        public void Add(long first, long last)
        {
            if (_first is null) _first = (first, last);
            else (_more ??= []).Add((first, last));
        }

        public readonly bool Any => _first is not null;

        public readonly async Task ReleaseAsync(Func<long, long, string, Task> release, string reason)
        {
            if (_first is { } a) await release(a.First, a.Last, reason).ConfigureAwait(false);
            foreach (var (first, last) in _more ?? []) await release(first, last, reason).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Takes <paramref name="count"/> consecutive positions: from the current block, or from the next counter update.
    /// Appends that wait at the same time share one update sized to all of them (and at least a block), so concurrent
    /// writers do not queue behind each other's round trips to the counter item, and no position is left unused.
    /// </summary>
    public async Task<Reservation> TakeAsync(int count, CancellationToken cancellationToken)
    {
        Waiter? waiter = null;
        var rests = new Rests();
        Reservation? taken;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            taken = TryTakeFromBlock(count, ref rests);
            if (taken is null)
            {
                waiter = new Waiter(count);
                _waiting.Add(waiter);
                _reserving ??= Task.Run(ReserveForWaitersAsync, CancellationToken.None);
            }
        }
        if (rests.Any) _ = rests.ReleaseAsync(_release, "the block ran out or grew old");
        return taken ?? await WaitAsync(waiter!, cancellationToken).ConfigureAwait(false);
    }

    private async Task<Reservation> WaitAsync(Waiter waiter, CancellationToken cancellationToken)
    {
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

    /// <summary>
    /// Positions from the current block when it has room and is young enough; otherwise retires it (its rest into
    /// <paramref name="rests"/>) and moves on to the block reserved ahead, if any. Called under the gate.
    /// </summary>
    private Reservation? TryTakeFromBlock(int count, ref Rests rests)
    {
        while (true)
        {
            if (_block is { } b)
            {
                if (b.Last - b.Next + 1 >= count && _time.GetElapsedTime(b.TakenAt) < _lifetime)
                {
                    var taken = new Reservation(b.Next, b.Next + count - 1, b.TakenAt);
                    b.Next += count;
                    _handedOut += count;
                    b.LastUsedAt = _time.GetTimestamp();
                    MaybePrefetch(b);
                    return taken;
                }
                if (b.HasRest) rests.Add(b.Next, b.Last);
                _block = null;
            }
            if (_next is not { } next) return null;
            _next = null;
            next.LastUsedAt = _time.GetTimestamp();
            _block = next;
        }
    }

    /// <summary>
    /// Once half of a big enough block is used, reserves the next one in the background (sized now, from the rate so
    /// far), so the append that finds this block used up takes its positions at once instead of waiting for the
    /// counter. Called under the gate.
    /// </summary>
    private void MaybePrefetch(Block current)
    {
        if (_next is not null || _prefetching is not null || _disposed || current.Size < MinPrefetchSize) return;
        if ((current.Last - current.Next + 1) * 2 > current.Size) return;
        // A rate that asks for a small block (or a clock that has not moved since the last update) reserves nothing ahead.
        var now = _time.GetTimestamp();
        var size = BlockSizeAt(now);
        if (size < MinPrefetchSize) return;
        CountUpdate(now);
        _prefetching = Task.Run(() => PrefetchAsync(size), CancellationToken.None);
    }

    private async Task PrefetchAsync(int size)
    {
        (long First, long Last) range;
        try
        {
            range = await _reserve(size).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Nothing is lost: the append that needs a block reserves one itself, and reports the failure if it recurs.
            lock (_gate) _prefetching = null;
            return;
        }
        var takenAt = _time.GetTimestamp();
        var unused = false;
        lock (_gate)
        {
            _prefetching = null;
            if (_disposed || _next is not null) unused = true;
            else
            {
                _next = new Block(range.First, range.Last, takenAt) { LastUsedAt = takenAt };
                if (_block is null) _timer.Change(IdleRelease, Timeout.InfiniteTimeSpan);
            }
        }
        if (unused) await _release(range.First, range.Last, "the store was disposed").ConfigureAwait(false);
    }

    /// <summary>One counter update per round for every append waiting when it starts; runs until nobody waits.</summary>
    private async Task ReserveForWaitersAsync()
    {
        while (true)
        {
            List<Waiter> batch = [];
            var rests = new Rests();
            var size = 1;
            Task? prefetching;
            lock (_gate) prefetching = _prefetching;
            // The block reserved ahead is on its way: the waiting appends take it rather than a counter update of their own.
            if (prefetching is not null) await prefetching.ConfigureAwait(false);
            lock (_gate)
            {
                foreach (var w in _waiting)
                {
                    if (!_disposed && TryTakeFromBlock(w.Count, ref rests) is { } taken) w.Done.TrySetResult(taken);
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
            await rests.ReleaseAsync(_release, "the block ran out or grew old").ConfigureAwait(false);
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
        var now = _time.GetTimestamp();
        var size = BlockSizeAt(now);
        CountUpdate(now);
        return size;
    }

    /// <summary>Starts the next rate window at a counter update sized at <paramref name="now"/>. Called under the gate.</summary>
    private void CountUpdate(long now)
    {
        _lastReserveAt = now;
        _handedOutAtReserve = _handedOut;
    }

    /// <summary>What <see cref="NextBlockSize"/> would reserve at <paramref name="now"/>, without counting it as an update.</summary>
    private int BlockSizeAt(long now)
    {
        if (_fixedSize is { } fixedSize) return fixedSize;
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
        return size;
    }

    private sealed class Waiter(int count)
    {
        public int Count { get; } = count;
        public TaskCompletionSource<Reservation> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private void ReleaseIfStale()
    {
        var rests = new Rests();
        lock (_gate)
        {
            var idleInstance = false;
            if (_block is { } b)
            {
                var idle = _time.GetElapsedTime(b.LastUsedAt);
                if (idle < IdleRelease && _time.GetElapsedTime(b.TakenAt) < _lifetime)
                {
                    _timer.Change(IdleRelease - idle, Timeout.InfiniteTimeSpan);
                    return;
                }
                if (b.HasRest) rests.Add(b.Next, b.Last);
                _block = null;
                idleInstance = idle >= IdleRelease;
            }
            if (_next is { } n)
            {
                // An idle instance gives back the block it reserved ahead too; a busy one moves on to it at its next
                // append, unless that append does not come within the idle time.
                var unused = _time.GetElapsedTime(n.TakenAt);
                if (idleInstance || unused >= IdleRelease)
                {
                    rests.Add(n.Next, n.Last);
                    _next = null;
                }
                else _timer.Change(IdleRelease - unused, Timeout.InfiniteTimeSpan);
            }
        }
        if (rests.Any) _ = rests.ReleaseAsync(_release, "no append used them");
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
            if (_block is { HasRest: true } b && b.Next == position)
            {
                rest = (b.Next, b.Last);
                _block = null;
            }
            else if (_next is { } n && n.Next == position)
            {
                // The block reserved ahead, with the current one used up before it.
                rest = (n.Next, n.Last);
                _next = null;
            }
            else return false;
        }
        await _release(rest.First, rest.Last, "a reader reached them").ConfigureAwait(false);
        return true;
    }

    /// <summary>Releases the rest of the current block and the block reserved ahead (waiting at most five seconds for the skip markers).</summary>
    public void Dispose()
    {
        var rests = new Rests();
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            if (_block is { HasRest: true } b) rests.Add(b.Next, b.Last);
            if (_next is { } n) rests.Add(n.Next, n.Last);
            _block = null;
            _next = null;
        }
        _timer.Dispose();
        if (rests.Any) rests.ReleaseAsync(_release, "the store was disposed").Wait(TimeSpan.FromSeconds(5));
    }
}
