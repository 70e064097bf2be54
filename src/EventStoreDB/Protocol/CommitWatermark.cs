namespace EventStore.Providers.EventStoreDB.Protocol;

/// <summary>
/// Tells a fresh write from the server's idempotent answer to a re-send, which look the same on the wire (same
/// revision, same position). A fresh write commits after its request was sent, so its commit position is above every
/// commit position this instance had seen by then; a re-sent batch answers with the original's position, which is
/// at or below it whenever the original was committed before the instance last looked.
/// </summary>
/// <remarks>
/// The instance looks once, at its first append (one backwards read of one record of <c>$all</c>), and again at
/// every append answer. A re-send through another instance of a batch first written before that instance's first
/// append, or before its latest append, is reported <see cref="AppendResult.WroteEvents"/> = false, as the contract
/// asks. The one case still reported as written: the original landed after this instance's latest look (see the
/// README). Re-sends through the same instance are caught earlier by <see cref="RecentAppends"/>.
/// </remarks>
internal sealed class CommitWatermark(Func<CancellationToken, Task<Position>> readLogHead)
{
    private readonly Lock _gate = new();
    private Task? _first;
    private long _commit = -1;

    /// <summary>The commit position known committed now, reading the log head on first use.</summary>
    public async ValueTask<long> CurrentAsync(CancellationToken cancellationToken)
    {
        Task first;
        lock (_gate) first = _first ??= LookAsync();
        try
        {
            await first.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // A failed first look is tried again by the next append instead of failing every append after it.
            lock (_gate) if (ReferenceEquals(_first, first)) _first = null;
            throw;
        }
        return Volatile.Read(ref _commit);
    }

    private async Task LookAsync() => Observe(await readLogHead(CancellationToken.None).ConfigureAwait(false));

    /// <summary>Raises the watermark to a position the server reported committed.</summary>
    public void Observe(Position position)
    {
        var commit = CommitOf(position);
        var current = Volatile.Read(ref _commit);
        while (commit > current)
        {
            var seen = Interlocked.CompareExchange(ref _commit, commit, current);
            if (seen == current) return;
            current = seen;
        }
    }

    /// <summary>
    /// True when an append answered with <paramref name="answered"/> wrote events, given the watermark read before it
    /// was sent: only a position above it can be new. An answer without a position is taken as a write.
    /// </summary>
    public static bool WroteEvents(Position answered, long commitBeforeSend) => answered.IsStart || CommitOf(answered) > commitBeforeSend;

    private static long CommitOf(Position position) => position.IsStart ? -1 : (long)EsdbProtocol.FromPosition(position).Commit;
}
