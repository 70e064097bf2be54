using System.Collections.Concurrent;

namespace EventStore.Providers.Postgres.Tests;

/// <summary>
/// A heavier version of the conformance gap-safety test: 16 writers append while a reader pages <c>$all</c> from its
/// checkpoint. Positions come from transaction ids and reads stay below the oldest running transaction (or wait for
/// the appends still running), so a lower position can never commit after a higher one was read: the reader must see
/// every event exactly once, in position order, and each stream's events in version order. Half the writers share
/// four streams, so appends to one stream race and queue on its lock.
/// </summary>
public sealed class GapSafetyStressTests(PostgresFixture fixture)
{
    private const int Writers = 16;
    private const int AppendsPerWriter = 150;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Sixteen_writers_and_a_paging_reader_see_every_event_exactly_once_in_position_order()
    {
        await using var sut = await fixture.CreateStoreAsync(Ct);
        var store = sut.Store;
        var written = new ConcurrentDictionary<Guid, byte>();
        var writersDone = 0;

        var writers = Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            var shared = w % 2 == 1;
            var stream = new StreamName(shared ? $"Shared-{w % 4}" : $"Writer{w}-stream");
            var expected = ExpectedVersion.NoStream;
            for (var i = 0; i < AppendsPerWriter; i++)
            {
                // Mostly single events, sometimes a small batch, so transactions of different sizes interleave.
                var batch = TestEvents.Many(i % 10 == 0 ? 3 : 1);
                expected = (await store.AppendAsync(stream, shared ? ExpectedVersion.Any : expected, batch, Ct)).NextExpectedVersion;
                foreach (var e in batch) written[e.EventId] = 0;
            }
            Interlocked.Increment(ref writersDone);
        }, Ct)).ToArray();

        var seen = new List<RecordedEvent>();
        Position? checkpoint = null;
        while (true)
        {
            var allWritten = Volatile.Read(ref writersDone) == Writers;
            var page = await store.ReadAllAsync(new ReadAllOptions { From = checkpoint, MaxCount = 37 }, Ct).ToListAsync(Ct);
            seen.AddRange(page);
            if (page.Count > 0) checkpoint = page[^1].Position;
            else if (allWritten) break;
        }
        await Task.WhenAll(writers);

        Assert.Equal(written.Count, seen.Count);
        Assert.Equal(seen.Count, seen.Select(e => e.EventId).Distinct().Count());
        Assert.True(seen.Select(e => e.EventId).All(written.ContainsKey), "the reader saw an event no writer wrote");
        for (var i = 1; i < seen.Count; i++)
            Assert.True(seen[i].Position > seen[i - 1].Position, $"position {seen[i].Position} follows {seen[i - 1].Position}");
        foreach (var stream in seen.GroupBy(e => e.Stream))
            Assert.Equal(Enumerable.Range(0, stream.Count()).Select(v => (long)v), stream.Select(e => e.Version));
        var reread = await store.ReadAllAsync(cancellationToken: Ct).ToListAsync(Ct);
        Assert.Equal(reread.Select(e => e.EventId), seen.Select(e => e.EventId));
    }
}
