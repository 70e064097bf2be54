using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace EventStore.Providers.Postgres;

/// <summary>What append_events (or one row of append_many) answered for one append.</summary>
internal readonly record struct AppendOutcome(int Status, long LastVersion, long LastPosition, Guid? ConflictId);

/// <summary>One validated append, its events as the parallel arrays the SQL functions take, and its caller's wait.</summary>
internal sealed class PendingAppend
{
    private int _state; // 0 queued, 1 taken by a call, 2 abandoned by its caller

    public PendingAppend(StreamName stream, ExpectedVersion expected, IReadOnlyList<EventData> events, CancellationToken cancellationToken)
    {
        Stream = stream;
        Expected = expected;
        CancellationToken = cancellationToken;
        var n = events.Count;
        Ids = new Guid[n];
        Types = new string[n];
        ContentTypes = new string[n];
        SchemaVersions = new int[n];
        Data = new byte[n][];
        Metadata = new byte[n][];
        for (var i = 0; i < n; i++)
        {
            var e = events[i];
            Ids[i] = e.EventId;
            Types[i] = e.EventType;
            ContentTypes[i] = e.ContentType;
            SchemaVersions[i] = e.SchemaVersion;
            Data[i] = AsArray(e.Data);
            Metadata[i] = AsArray(e.Metadata);
        }
    }

    public StreamName Stream { get; }
    public ExpectedVersion Expected { get; }

    /// <summary>
    /// The expected version as sent to SQL. The append functions add the batch size to an exact version (where a
    /// re-sent batch would be stored), so a version within 65,536 of <see cref="long.MaxValue"/> overflowed into
    /// "bigint out of range". No stream can reach such a version (positions, also bigint, run out long before), so
    /// it is sent as the lowest of them: it fails the check the same way and the answer names the real version.
    /// </summary>
    public long SqlExpectedVersion => Expected.Kind == ExpectedVersionKind.Exact ? Math.Min(Expected.Version, MaxSqlExpectedVersion) : Expected.Version;

    private const long MaxSqlExpectedVersion = long.MaxValue - 65_536;
    public CancellationToken CancellationToken { get; }
    public Guid[] Ids { get; }
    public string[] Types { get; }
    public string[] ContentTypes { get; }
    public int[] SchemaVersions { get; }
    public byte[][] Data { get; }
    public byte[][] Metadata { get; }
    public TaskCompletionSource<AppendOutcome> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Claims the append for a call; false when its caller gave up first.</summary>
    public bool TryTake() => Interlocked.CompareExchange(ref _state, 1, 0) == 0;

    /// <summary>Gives up on an append no call has taken yet; false when one already has.</summary>
    public bool TryAbandon() => Interlocked.CompareExchange(ref _state, 2, 0) == 0;

    private static byte[] AsArray(ReadOnlyMemory<byte> memory) =>
        MemoryMarshal.TryGetArray(memory, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : memory.ToArray();
}

/// <summary>
/// Sends appends to PostgreSQL with at most <c>maxCalls</c> calls on their way at once. An append that finds a free
/// call slot goes at once, alone, exactly as without the batcher. Appends that arrive while every slot is busy
/// queue, and the next free call takes all of them (up to 64 appends and 10,000 events) in one append_many: one
/// round trip and one commit for the group, while each append is still checked on its own and gets its own answer.
/// </summary>
/// <remarks>
/// Under concurrent load this is the difference between one commit flush per append and one per group, and far fewer
/// round trips and transactions for the server to run. If the group call fails for any reason (a database error such
/// as an event id already stored elsewhere in a stream, a client-side error, a broken connection or a timeout), each
/// append is sent again alone, so one bad append cannot fail the others. A caller that cancels while its append is still queued gets
/// <see cref="OperationCanceledException"/> and nothing is sent; once sent, the append completes with its group.
/// </remarks>
internal sealed class AppendBatcher(PostgresEventStore store, int maxCalls)
{
    private const int MaxAppendsPerCall = 64;
    private const int MaxEventsPerCall = 10_000;
    private readonly ConcurrentQueue<PendingAppend> _queue = new();
    private int _calls;

    /// <summary>Queues the append and completes with its outcome (or its typed exception).</summary>
    public async Task<AppendOutcome> SubmitAsync(PendingAppend append)
    {
        _queue.Enqueue(append);
        if (TryReserveCall())
        {
            // The caller's own task sends the first group (usually just its append): no thread hop when idle.
            await SendGroupAsync().ConfigureAwait(false);
            ReleaseCall();
        }
        var token = append.CancellationToken;
        if (!token.CanBeCanceled) return await append.Completion.Task.ConfigureAwait(false);
        await using (token.Register(static state =>
                     {
                         var pending = (PendingAppend)state!;
                         if (pending.TryAbandon()) pending.Completion.TrySetCanceled(pending.CancellationToken);
                     }, append).ConfigureAwait(false))
        {
            return await append.Completion.Task.ConfigureAwait(false);
        }
    }

    private bool TryReserveCall()
    {
        while (true)
        {
            var calls = Volatile.Read(ref _calls);
            if (calls >= maxCalls || _queue.IsEmpty) return false;
            if (Interlocked.CompareExchange(ref _calls, calls + 1, calls) == calls) return true;
        }
    }

    // An append queued while every slot was busy is picked up here: whoever frees a slot drains what is left.
    private void ReleaseCall()
    {
        Interlocked.Decrement(ref _calls);
        if (TryReserveCall()) _ = Task.Run(DrainAsync);
    }

    private async Task DrainAsync()
    {
        while (await SendGroupAsync().ConfigureAwait(false))
        {
        }
        ReleaseCall();
    }

    /// <summary>Sends what is queued as one call; false when nothing was queued. Never throws.</summary>
    private async Task<bool> SendGroupAsync()
    {
        var group = new List<PendingAppend>();
        var events = 0;
        while (group.Count < MaxAppendsPerCall && _queue.TryPeek(out var next))
        {
            if (group.Count > 0 && events + next.Ids.Length > MaxEventsPerCall) break;
            if (!_queue.TryDequeue(out next)) break;
            if (!next.TryTake()) continue;
            group.Add(next);
            events += next.Ids.Length;
        }
        if (group.Count == 0) return false;
        if (group.Count == 1) await SendAloneAsync(group[0]).ConfigureAwait(false);
        else await SendTogetherAsync(group).ConfigureAwait(false);
        return true;
    }

    private async Task SendAloneAsync(PendingAppend append)
    {
        try
        {
            append.Completion.TrySetResult(await store.AppendOneAsync(append, append.CancellationToken).ConfigureAwait(false));
        }
        catch (Exception e)
        {
            append.Completion.TrySetException(e);
        }
    }

    private async Task SendTogetherAsync(List<PendingAppend> group)
    {
        AppendOutcome[] outcomes;
        try
        {
            outcomes = await store.AppendManyAsync(group).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Whatever failed the group (a database error such as an event id stored elsewhere in a stream, a value
            // the client cannot encode, a broken connection, a timeout), it is one call's failure, not each append's:
            // the transaction rolled back (or, if the connection broke after the commit, the appends are stored and
            // re-sending them with the same ids returns their original results). Each append is sent again alone, in
            // order, so it meets its own error or succeeds, and no append gets another's error.
            foreach (var append in group) await SendAloneAsync(append).ConfigureAwait(false);
            return;
        }
        for (var i = 0; i < group.Count; i++) group[i].Completion.TrySetResult(outcomes[i]);
    }
}
