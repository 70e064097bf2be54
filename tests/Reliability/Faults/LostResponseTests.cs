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
        int lost = 0, idempotentRetries = 0;
        for (var attempt = 0; attempt < Attempts; attempt++)
        {
            var batch = Enumerable.Range(0, 1 + attempt % 3).Select(_ => new EventData(Guid.NewGuid(), "Lost", new byte[8])).ToList();
            var expected = attempt % 2 == 0 ? ExpectedVersion.FromLastSeen(written.Count - 1) : ExpectedVersion.Any;
            var droppedBefore = proxy.DroppedBytes;
            proxy.DropReplies = true;
            using (var giveUp = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                giveUp.CancelAfter(TimeSpan.FromSeconds(1));
                var failure = await Record.ExceptionAsync(() => store.AppendAsync(stream, expected, batch, giveUp.Token));
                Assert.True(failure is OperationCanceledException or TransientEventStoreException,
                    $"an append whose reply was dropped ended with {failure?.GetType().Name ?? "success"}");
            }
            Assert.True(proxy.DroppedBytes > droppedBefore, "the proxy dropped no reply: the append never reached the server");
            proxy.DropReplies = false;
            proxy.CloseAll();
            lost++;

            var retry = await store.AppendAsync(stream, expected, batch, ct);
            written.AddRange(batch.Select(e => e.EventId));
            Assert.Equal(written.Count - 1, retry.LastVersion);
            if (!retry.WroteEvents) idempotentRetries++;
        }
        var stored = await store.ReadStreamAsync(stream, cancellationToken: ct).Select(e => e.EventId).ToListAsync(ct);
        Assert.Equal(written, stored);
        // Every dropped reply belonged to a commit that reached the server, so every retry must have been recognised.
        Assert.Equal(Attempts, idempotentRetries);
        Report.Count(target.Name, "lost replies retried without duplicates", lost);
    }
}
