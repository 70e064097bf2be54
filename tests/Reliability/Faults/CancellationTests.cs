using EventStore.Providers.Reliability.Tests.Infrastructure;
using EventStore.Providers.Reliability.Tests.Targets;

namespace EventStore.Providers.Reliability.Tests.Faults;

/// <summary>
/// An append cancelled at a random moment (before, while or after it is sent) has either fully happened or not at
/// all, and retrying it with the same event ids and expected version writes each event exactly once.
/// </summary>
public abstract class CancellationTests(IStoreTarget target)
{
    private const int Attempts = 150;

    [Fact]
    public async Task An_append_cancelled_at_a_random_moment_and_retried_with_the_same_ids_is_stored_exactly_once()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var handle = await target.CreateStoreAsync(ct);
        var store = handle.Store;
        var random = new Random(8);
        var stream = new StreamName("Cancel-1");
        var written = new List<Guid>();
        int cancelled = 0, completed = 0;
        for (var attempt = 0; attempt < Attempts; attempt++)
        {
            var batch = Enumerable.Range(0, random.Next(1, 4)).Select(_ => new EventData(Guid.NewGuid(), "Cancelled", new byte[16])).ToList();
            var expected = ExpectedVersion.FromLastSeen(written.Count - 1);
            using (var cancel = new CancellationTokenSource())
            {
                // A fifth are cancelled before the call; the rest after 0-3 ms (ticks: most providers answer within a millisecond here).
                if (random.Next(5) == 0) await cancel.CancelAsync();
                else cancel.CancelAfter(TimeSpan.FromTicks(random.Next(0, 30_000)));
                try
                {
                    await store.AppendAsync(stream, expected, batch, cancel.Token);
                    completed++;
                }
                catch (OperationCanceledException)
                {
                    cancelled++;
                }
            }
            var stored = await store.ReadStreamAsync(stream, cancellationToken: ct).Select(e => e.EventId).ToListAsync(ct);
            var present = batch.Count(e => stored.Contains(e.EventId));
            Assert.True(present == 0 || present == batch.Count, $"attempt {attempt}: {present} of {batch.Count} events of a cancelled append are visible");

            var retry = await store.AppendAsync(stream, expected, batch, ct);
            written.AddRange(batch.Select(e => e.EventId));
            Assert.Equal(written.Count - 1, retry.LastVersion);
            Assert.Equal(present == 0, retry.WroteEvents);
        }
        var final = await store.ReadStreamAsync(stream, cancellationToken: ct).ToListAsync(ct);
        Assert.Equal(written, final.Select(e => e.EventId));
        Assert.Equal(Enumerable.Range(0, written.Count).Select(v => (long)v), final.Select(e => e.Version));
        Report.Count(target.Name, "cancelled-then-retried appends (each stored once)", Attempts);
        Report.Count(target.Name, "appends actually cancelled mid-way", cancelled);
        Report.Count(target.Name, "appends that completed despite the cancellation", completed);
    }
}
