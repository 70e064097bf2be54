using Microsoft.Extensions.Logging;
using Npgsql;

namespace EventStore.Providers.Postgres;

/// <summary>
/// Which part of <c>$all</c> is final (no event can still commit below it), from one statement's snapshot: the
/// safe position, the highest committed position and, when something committed sits at or above the safe
/// position, the transaction ids of this schema's appends still running.
/// </summary>
/// <param name="Safe">Every position below it is final: every transaction older than the snapshot's xmin has ended.</param>
/// <param name="Visible">The highest committed position (0 when the log is empty).</param>
/// <param name="PositionBase">The schema's <c>position_base()</c>.</param>
/// <param name="NextXid">The snapshot's next transaction id: every transaction that starts later gets one at least as large.</param>
/// <param name="RunningAppends">The 32-bit ids of this schema's appends running when the snapshot was taken (read only when <see cref="AllFinal"/> is false).</param>
internal readonly record struct LogVisibility(long Safe, long Visible, long PositionBase, long NextXid, long[] RunningAppends)
{
    /// <summary>True when no committed event sits at or above the safe position.</summary>
    public bool AllFinal => Visible < Safe;

    /// <summary>The first position an append with the 64-bit transaction id <paramref name="xid"/> may write.</summary>
    public long FirstPositionOf(long xid) => PositionBase + (xid << 16);
}

/// <summary>
/// The gap-safety rule for readers that reach the end of the safe log (see README, "Why $all is gap-safe").
/// </summary>
/// <remarks>
/// <para>
/// Events are only ever written by appends, and an append holds its stream's advisory lock from before it gets a
/// transaction id until it ends. So below the first position of the oldest append still running (or of the next
/// transaction id, when none runs) every event that will ever exist has committed: a transaction that is not an
/// append (an idle session, a long report) never holds a reader back, however old it is. The snapshot is taken
/// before the sessions holding stream locks are read, so an append that had no id yet gets one of at least the snapshot's next id.
/// </para>
/// <para>
/// A read to the end also sees every append that committed before it started: when a running append is older than
/// committed events (it may still commit below them) the reader waits until it ends, polling every 1 to 20 ms, up to
/// <see cref="PostgresEventStoreOptions.PendingAppendWait"/>; then it stays below it and logs a warning.
/// </para>
/// </remarks>
internal sealed class LogHorizon(Func<CancellationToken, ValueTask<NpgsqlConnection>> open, Queries sql, TimeSpan pendingAppendWait, ILogger logger)
{
    /// <summary>Reads the visibility of the log in one statement.</summary>
    public async Task<LogVisibility> ReadAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await open(cancellationToken).ConfigureAwait(false);
            await using var cmd = new NpgsqlCommand(sql.Visibility, connection);
            await cmd.PrepareAsync(cancellationToken).ConfigureAwait(false);
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            return new LogVisibility(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetFieldValue<long[]>(4));
        }
        catch (Exception e) when (PostgresErrors.ShouldMap(e))
        {
            throw PostgresErrors.Map(e, "head position", cancellationToken);
        }
    }

    /// <summary>
    /// A position below which the log is final and holds every event committed when <paramref name="visibility"/>
    /// was read, waiting for older appends still running if needed; 0 when nothing is committed after
    /// <paramref name="cursor"/>. It may be above the safe position the caller's last page was read under.
    /// </summary>
    public async Task<long> FinalBelowAsync(LogVisibility visibility, long cursor, CancellationToken cancellationToken)
    {
        if (visibility.Visible <= cursor) return 0;
        if (visibility.AllFinal) return visibility.Safe;
        var running = visibility.RunningAppends;
        if (!HoldsBack(visibility, running)) return Below(visibility, running);
        try
        {
            await using var connection = await open(cancellationToken).ConfigureAwait(false);
            var delay = TimeSpan.FromMilliseconds(1);
            var deadline = TimeProvider.System.GetTimestamp() + (long)(pendingAppendWait.TotalSeconds * TimeProvider.System.TimestampFrequency);
            while (HoldsBack(visibility, running))
            {
                if (TimeProvider.System.GetTimestamp() > deadline)
                {
                    var bound = Below(visibility, running);
                    logger.LogPendingAppendsTimedOut(pendingAppendWait, bound);
                    return bound;
                }
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                await using var cmd = new NpgsqlCommand(sql.StillRunning, connection);
                cmd.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = running });
                running = (long[])(await cmd.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromMilliseconds(20).Ticks));
            }
            return Below(visibility, running);
        }
        catch (Exception e) when (PostgresErrors.ShouldMap(e))
        {
            throw PostgresErrors.Map(e, "$all read", cancellationToken);
        }
    }

    /// <summary>True when one of the <paramref name="running"/> appends may still commit below a committed event.</summary>
    private static bool HoldsBack(LogVisibility visibility, long[] running) =>
        running.Any(xid => visibility.FirstPositionOf(FullTransactionId(xid, visibility.NextXid)) < visibility.Visible);

    /// <summary>The first position of the oldest of <paramref name="running"/>, or of the snapshot's next id: final below it.</summary>
    private static long Below(LogVisibility visibility, long[] running)
    {
        var oldest = running.Length == 0 ? visibility.NextXid : Math.Min(visibility.NextXid, running.Min(xid => FullTransactionId(xid, visibility.NextXid)));
        return Math.Max(visibility.FirstPositionOf(oldest), visibility.Safe);
    }

    /// <summary>
    /// The 64-bit id of a running transaction from its 32-bit id and the snapshot's 64-bit next id: the one within
    /// 2^31 of it. A running transaction may be older than the snapshot or have taken its id since (then it is at least
    /// the next id); PostgreSQL keeps every running id within 2^31 of the next one.
    /// </summary>
    internal static long FullTransactionId(long xid32, long nextXid) => nextXid + unchecked((int)(uint)(xid32 - (nextXid & 0xFFFF_FFFFL)));
}
