using System.Diagnostics;

namespace EventStore.Providers.Reliability.Tests.Faults;

/// <summary>An append a writer sent (intent) or had acknowledged, as its journal recorded it.</summary>
public sealed record JournalBatch(string Stream, IReadOnlyList<Guid> Ids, long? AcknowledgedLastVersion);

/// <summary>What an audit found.</summary>
public sealed record AuditResult(int Events, int AcknowledgedBatches, int UnacknowledgedCommitted, int UnacknowledgedAbsent);

/// <summary>
/// Checks a store after a fault against what writers journaled: every acknowledged event present exactly once at the
/// acknowledged version, no batch partly visible, versions dense, <c>$all</c> without gaps or repeats, nothing
/// present that no writer sent.
/// </summary>
public static class Audit
{
    private static readonly TimeSpan CatchUpLimit = TimeSpan.FromSeconds(60);

    /// <summary>Runs every check over the streams of <paramref name="category"/>; throws at the first violation.</summary>
    public static async Task<AuditResult> VerifyAsync(IEventStore store, string category, IReadOnlyCollection<JournalBatch> sent, CancellationToken cancellationToken)
    {
        // $all is gap-safe: an append abandoned by a killed writer may hold it back until the provider's gap timeout
        // declares the reservation dead. It must then catch up with the streams; waiting is bounded.
        var waited = Stopwatch.StartNew();
        List<RecordedEvent> all;
        Dictionary<string, List<RecordedEvent>> streams;
        while (true)
        {
            all = await store.ReadAllAsync(new ReadAllOptions { Filter = EventFilter.ForCategories(category) }, cancellationToken).ToListAsync(cancellationToken);
            streams = new Dictionary<string, List<RecordedEvent>>(StringComparer.Ordinal);
            foreach (var name in all.Select(e => e.Stream.Value).Concat(sent.Select(b => b.Stream)).Distinct())
                streams[name] = await store.ReadStreamAsync(new StreamName(name), cancellationToken: cancellationToken).ToListAsync(cancellationToken);
            if (streams.Values.Sum(s => s.Count) == all.Count || waited.Elapsed > CatchUpLimit) break;
            await Task.Delay(250, cancellationToken);
        }

        var duplicates = all.GroupBy(e => e.EventId).Where(g => g.Count() > 1).ToList();
        Assert.True(duplicates.Count == 0, $"$all holds {duplicates.Count} events more than once, e.g. {duplicates.FirstOrDefault()?.Key} at "
            + string.Join(", ", duplicates.FirstOrDefault()?.Select(e => $"{e.Stream}@{e.Version} position {e.Position}") ?? [])
            + $"; the streams hold {streams.Values.Sum(s => s.Count)} events, $all {all.Count}");
        if (store.Capabilities.GlobalOrder == GlobalOrdering.Total)
            for (var i = 1; i < all.Count; i++)
                Assert.True(all[i - 1].Position < all[i].Position, $"$all is out of order at {all[i - 1].Position} then {all[i].Position}");
        foreach (var (name, events) in streams)
        {
            Assert.Equal(Enumerable.Range(0, events.Count).Select(v => (long)v), events.Select(e => e.Version));
            Assert.Equal(events.Select(e => e.EventId), all.Where(e => e.Stream.Value == name).Select(e => e.EventId));
        }

        var where = streams.Values.SelectMany(s => s).ToDictionary(e => e.EventId);
        var sentIds = new HashSet<Guid>();
        int acknowledged = 0, committed = 0, absent = 0;
        foreach (var batch in sent)
        {
            foreach (var id in batch.Ids) sentIds.Add(id);
            var present = batch.Ids.Where(where.ContainsKey).Select(id => where[id]).ToList();
            Assert.True(present.Count == 0 || present.Count == batch.Ids.Count,
                $"an append of {batch.Ids.Count} events to {batch.Stream} is partly visible ({present.Count} events)");
            if (present.Count == 0)
            {
                Assert.True(batch.AcknowledgedLastVersion is null, $"an acknowledged append to {batch.Stream} (last version {batch.AcknowledgedLastVersion}) is missing");
                absent++;
                continue;
            }
            Assert.All(present, e => Assert.Equal(batch.Stream, e.Stream.Value));
            Assert.Equal(Enumerable.Range(0, present.Count).Select(i => present[0].Version + i), present.Select(e => e.Version));
            if (batch.AcknowledgedLastVersion is { } last)
            {
                Assert.Equal(last, present[^1].Version);
                acknowledged++;
            }
            else committed++;
        }
        var phantom = where.Keys.FirstOrDefault(id => !sentIds.Contains(id));
        Assert.True(phantom == Guid.Empty, $"event {phantom} is stored but no writer sent it");
        return new AuditResult(all.Count, acknowledged, committed, absent);
    }
}
