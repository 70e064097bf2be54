using System.Diagnostics;
using System.Globalization;
using EventStore.Providers.Reliability.Tests.Infrastructure;
using EventStore.Providers.Reliability.Tests.Targets;

namespace EventStore.Providers.Reliability.Tests.Faults;

/// <summary>
/// An append whose reply is lost on the wire (a proxy swallows it) reaches the server and commits; the client sees a
/// timeout or cancellation, retries with the same ids and expected version, and nothing is written twice.
/// </summary>
public abstract class LostResponseTests
{
    private const int Attempts = 10;
    // Far beyond the rigs' command timeouts: a cancelled call still running after this long hangs.
    private static readonly TimeSpan HangLimit = TimeSpan.FromSeconds(20);

    /// <summary>The server's port on 127.0.0.1.</summary>
    protected abstract int UpstreamPort { get; }

    /// <summary>A target whose clients connect to 127.0.0.1:<paramref name="proxyPort"/>.</summary>
    protected abstract IStoreTarget TargetThrough(int proxyPort);

    [Fact]
    public async Task An_append_whose_reply_is_lost_is_retried_with_the_same_ids_and_written_exactly_once()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var proxy = new TcpProxy(UpstreamPort);
        await using var target = TargetThrough(proxy.Port);
        await using var handle = await target.CreateStoreAsync(ct);
        var store = handle.Store;
        var stream = new StreamName("Lost-1");
        var written = new List<Guid>();
        int committedUnheard = 0, neverArrived = 0;
        double slowestSeconds = 0;
        try
        {
            for (var attempt = 0; attempt < Attempts; attempt++)
            {
                var batch = Enumerable.Range(0, 1 + attempt % 3).Select(_ => new EventData(Guid.NewGuid(), "Lost", new byte[8])).ToList();
                var expected = attempt % 2 == 0 ? ExpectedVersion.FromLastSeen(written.Count - 1) : ExpectedVersion.Any;
                var droppedBefore = proxy.DroppedBytes;
                // Some providers need several requests per append (DynamoDB reserves a position first): losing the reply of a
                // later request is the case where the write happened, of an earlier one where it did not.
                proxy.DropRepliesAfter(attempt % 3);
                var started = Stopwatch.StartNew();
                using (var giveUp = CancellationTokenSource.CreateLinkedTokenSource(ct))
                {
                    giveUp.CancelAfter(TimeSpan.FromSeconds(1));
                    var failure = await Record.ExceptionAsync(() => store.AppendAsync(stream, expected, batch, giveUp.Token).WaitAsync(HangLimit, ct));
                    Assert.False(failure is TimeoutException, $"attempt {attempt}: an append whose reply was lost was still running {HangLimit.TotalSeconds} s after it was cancelled (connect timeout 3 s, command timeout 5 s)");
                    // Success is possible when every reply the call needed came before the proxy started dropping.
                    Assert.True(failure is null or OperationCanceledException or TransientEventStoreException,
                        $"an append whose reply was dropped ended with {failure?.GetType().Name}: {failure?.Message}");
                }
                slowestSeconds = Math.Max(slowestSeconds, started.Elapsed.TotalSeconds);
                var dropped = proxy.DroppedBytes > droppedBefore;
                proxy.DropReplies = false;
                proxy.CloseAll();

                // Whether the request reached the server before its reply was lost decides what the retry must answer.
                var committed = (await RetryTransientAsync(() => store.ReadStreamAsync(stream, cancellationToken: ct).Select(e => e.EventId).ToListAsync(ct).AsTask()))
                    .Intersect(batch.Select(e => e.EventId)).Count();
                Assert.True(committed == 0 || committed == batch.Count, $"{committed} of {batch.Count} events of an append with a lost reply are stored");
                var retry = await RetryTransientAsync(() => store.AppendAsync(stream, expected, batch, ct));
                written.AddRange(batch.Select(e => e.EventId));
                Assert.Equal(written.Count - 1, retry.LastVersion);
                Assert.Equal(committed == 0, retry.WroteEvents);
                if (committed > 0 && dropped) committedUnheard++;
                else if (committed == 0) neverArrived++;
            }
        }
        finally
        {
            // Otherwise a failing attempt leaves replies dropped and the clean-up hangs, hiding the real failure.
            proxy.DropReplies = false;
        }
        var stored = await store.ReadStreamAsync(stream, cancellationToken: ct).Select(e => e.EventId).ToListAsync(ct);
        Assert.Equal(written, stored);
        // Otherwise no reply was lost after a commit, and the test proved nothing.
        Assert.True(committedUnheard > 0, "no append committed before its reply was lost");
        Report.Count(target.Name, "lost replies after a commit, retried without duplicates", committedUnheard);
        Report.Count(target.Name, "lost-reply appends that never reached the server, retried once", neverArrived);
        Report.Line(string.Create(CultureInfo.InvariantCulture, $"[reliability] {target.Name}: slowest cancelled append with a lost reply returned after {slowestSeconds:F1} s"));
    }

    // The proxy cut every pooled connection, so the first retry may meet a dead one: that is transient too.
    private static async Task<T> RetryTransientAsync<T>(Func<Task<T>> append)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await append();
            }
            catch (TransientEventStoreException) when (attempt < 5)
            {
                await Task.Delay(100);
            }
        }
    }
}
