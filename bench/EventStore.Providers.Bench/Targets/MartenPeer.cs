using EventStore.Providers.Bench.Core;
using JasperFx;
using JasperFx.Events;
using Marten;
using Npgsql;

namespace EventStore.Providers.Bench.Targets;

/// <summary>
/// Marten's event store on the same PostgreSQL at its best settings: quick append, string stream keys, and
/// No Reset On Close=true (otherwise the pool's DISCARD ALL drops Marten's cached function plans).
/// </summary>
internal sealed class MartenPeer(PostgresTarget.Session session) : IPeer
{
    private const string Backend = "postgres";
    public string Name => "Marten";

    /// <summary>The same fields as the bench's JSON body, as Marten serialises a typed event.</summary>
    public sealed record OrderLineAdded(string OrderId, string Sku, int Quantity, decimal Amount, string Currency);

    public async Task<IReadOnlyList<Measurement>> RunAsync(BenchOptions options, Func<string, Action<double>> progress, CancellationToken ct)
    {
        var cs = await session.CreateDatabaseAsync("marten", ct).ConfigureAwait(false);
        cs = new NpgsqlConnectionStringBuilder(cs) { NoResetOnClose = true }.ConnectionString;
        using var store = DocumentStore.For(o =>
        {
            o.Connection(cs);
            o.Events.StreamIdentity = StreamIdentity.AsString;
            o.Events.AppendMode = EventAppendMode.Quick;
            o.AutoCreateSchemaObjects = AutoCreate.All;
        });
        await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync().ConfigureAwait(false);
        var evt = new OrderLineAdded("ord-000000000001", "SKU-12345", 3, 12.5m, "EUR");
        var run = Guid.NewGuid().ToString("N")[..8];
        var results = new List<Measurement>();

        foreach (var (workload, writers, size) in new[] { ("append-1w", 1, 1), ("append-8w", 8, 1), ("batch-100", 1, 100) })
        {
            if (!options.Runs(workload)) continue;
            var versions = new long[writers];
            var streamIndex = new int[writers];
            var perStream = size == 1 ? 100 : 1_000;
            var events = Enumerable.Repeat((object)evt, size).ToArray();
            var timed = await Timed.RunAsync(writers, options.Duration, async (w, _) =>
            {
                var key = $"BenchMarten-{run}-{workload}-{w}-{streamIndex[w]}";
                await using var s = store.LightweightSession();
                if (versions[w] == 0) s.Events.StartStream(key, events);
                else s.Events.Append(key, versions[w] + size, events);
                await s.SaveChangesAsync(ct).ConfigureAwait(false);
                versions[w] += size;
                if (versions[w] >= perStream)
                {
                    versions[w] = 0;
                    streamIndex[w]++;
                }
                return OpOutcome.Wrote(size);
            }, progress($"{Name}: {workload}"), ct).ConfigureAwait(false);
            results.Add(new Measurement
            {
                Backend = Backend, Subject = Name, Workload = workload,
                Method = $"quick append of {size} event(s) with expected version, {writers} writer(s), No Reset On Close=true",
                Operations = timed.Operations, Events = timed.Events, Seconds = timed.Seconds, Latency = timed.Latency.Summary(),
            });
        }
        return results;
    }
}
