using EventStore.Providers.Bench.Core;
using EventStore.Providers.Bench.Targets;

namespace EventStore.Providers.Bench.Reporting;

/// <summary>The ratios against their targets, each from two measurements of the same run on the same server.</summary>
internal static class Ratios
{
    /// <summary>The note a limit ratio above 100% carries: the peer is not the limit it is meant to be in this run.</summary>
    public const string PeerSlowerNote = "peer slower than the provider: not a limit in this run";

    public static IEnumerable<RatioResult> Compute(BenchResults r)
    {
        var ok = r.Measurements.Where(m => m.Status == "ok").ToList();
        double? Rate(string subject, string workload) =>
            ok.FirstOrDefault(m => m.Subject == subject && m.Workload == workload)?.EventsPerSecond;

        RatioResult Make(string backend, string name, string num, string numWorkload, string den, string denWorkload, double target, string targetText, string? note = null)
        {
            var a = Rate(num, numWorkload);
            var b = Rate(den, denWorkload);
            double? value = a is > 0 && b is > 0 ? a / b : null;
            var missing = value is null ? $"not measured: {(a is null ? $"{num} {numWorkload}" : $"{den} {denWorkload}")} did not run" : null;
            // Every peer but the two libraries (Marten, the official Node.js client) is a raw client: the limit the
            // provider's ratio is a fraction of (bench/README.md says why).
            var limit = den is not ("Marten" or KurrentNodePeer.Package);
            if (limit && value > 1) note = note is null ? PeerSlowerNote : $"{PeerSlowerNote}; {note}";
            return new RatioResult(backend, name, $"{num} {numWorkload}", $"{den} {denWorkload}", value, targetText,
                value is null ? null : value >= target, missing ?? note, limit);
        }

        // A ratio reported without a target; its note may compare two other measurements of the run ({0}: percent).
        RatioResult Reported(string backend, string name, (string Subject, string Workload) num, (string Subject, string Workload) den, string note) =>
            new(backend, name, $"{num.Subject} {num.Workload}", $"{den.Subject} {den.Workload}",
                Rate(num.Subject, num.Workload) is > 0 and var a && Rate(den.Subject, den.Workload) is > 0 and var b ? a / b : null, "reported", null, note, PeerIsLimit: true);
        string Percent((string Subject, string Workload) num, (string Subject, string Workload) den, string template) =>
            Rate(num.Subject, num.Workload) is > 0 and var a && Rate(den.Subject, den.Workload) is > 0 and var b
                ? string.Format(System.Globalization.CultureInfo.InvariantCulture, template, a / b * 100)
                : "not measured";

        // 1.5x Marten is out of reach when it is more than the raw INSERT, the least work that stores an event, did.
        string? AboveRawLimit(string workload) =>
            Rate("Marten", workload) is { } marten && Rate("Npgsql raw", workload) is { } raw && marten * 1.5 > raw
                ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"the target ({Format.Rate(marten * 1.5)}) is above the raw single-row INSERT in this run ({Format.Rate(raw)}): unreachable")
                : null;

        var ran = r.Subjects.Select(s => s.Backend).ToHashSet();
        if (ran.Contains("postgres"))
        {
            yield return Make("postgres", "single append, 1 writer / raw single-row INSERT", "PostgreSQL", "append-1w", "Npgsql raw", "append-1w", 0.60, ">= 60%");
            yield return Make("postgres", "single append, 8 writers / raw single-row INSERT", "PostgreSQL", "append-8w", "Npgsql raw", "append-8w", 0.40, ">= 40%");
            yield return Make("postgres", "single append, 1 writer / Marten quick append", "PostgreSQL", "append-1w", "Marten", "append-1w", 1.5, ">= 150%", AboveRawLimit("append-1w"));
            yield return Make("postgres", "single append, 8 writers / Marten quick append", "PostgreSQL", "append-8w", "Marten", "append-8w", 1.5, ">= 150%", AboveRawLimit("append-8w"));
            yield return Make("postgres", "100-event batches / raw binary COPY of 100 rows", "PostgreSQL", "batch-100", "Npgsql raw", "batch-100", 0.60, ">= 60%");
            yield return Make("postgres", "$all catch-up / raw streaming SELECT ORDER BY position", "PostgreSQL", "read-all", "Npgsql raw", "read-all", 0.50, ">= 50%");
            yield return Growth(r, "postgres", "PostgreSQL", 0.20, "<= +20%");
        }
        if (ran.Contains("dynamodb"))
        {
            yield return Make("dynamodb", "single append, 1 writer / raw conditional PutItem, timed in alternating rounds", "DynamoDB", "append-1w-alternating", "dynalite raw", "append-1w-alternating", 0.60, ">= 60%");
            (string, string) plainAlternating = ("dynalite raw", "append-1w-alternating");
            (string, string) fenced = (DynamoRawPeer.FencedSubject, "append-1w-alternating");
            yield return Reported("dynamodb", "single append, 1 writer, FenceCommits / raw conditional PutItem, same alternating rounds (reported)", fenced, plainAlternating,
                Percent(fenced, ("DynamoDB", "append-1w-alternating"), "{0:F0}% of the unfenced append: the intent is a second write before the commit"));
            (string, string) typed = (DynamoRawPeer.TypeIndexedSubject, "append-1w-alternating");
            yield return Reported("dynamodb", "single append, 1 writer, IndexEventTypes / raw conditional PutItem, same alternating rounds (reported)", typed, plainAlternating,
                Percent(typed, ("DynamoDB", "append-1w-alternating"), "{0:F0}% of the append without the type index: the commit is in a third index"));
            yield return Reported("dynamodb", "single append, 1 writer / raw conditional PutItem, timed one after the other (reported)", ("DynamoDB", "append-1w"), ("dynalite raw", "append-1w"),
                "the two ran minutes apart on a server whose speed drifts; the alternating row above is the target's measure");
            yield return Make("dynamodb", "single append, 8 writers / raw conditional PutItem", "DynamoDB", "append-8w", "dynalite raw", "append-8w", 0.50, ">= 50%");
            yield return Make("dynamodb", "single append, 16 writers / raw conditional PutItem (writer scaling)", "DynamoDB", "append-16w", "dynalite raw", "append-16w", 0.50, ">= 50%",
                "raw PutItem spreads its writes over 16 items; if appends were held by one hot item this ratio would fall below the 8-writer one");
            foreach (var (workload, writers) in new[] { ("append-8w", 8), ("append-16w", 16) })
                yield return Reported("dynamodb", $"single append, {writers} writers / raw PutItem in the provider's indexes (reported)", ("DynamoDB", workload), ("dynalite raw", $"{workload}-indexed"),
                    Percent(("dynalite raw", $"{workload}-indexed"), ("dynalite raw", workload), "the indexed put itself runs at {0:F0}% of the plain one"));
            (string, string) plain = ("dynalite raw", "append-1w");
            yield return Reported("dynamodb", "single append, 1 writer / raw PutItem in the provider's indexes (reported)", ("DynamoDB", "append-1w"), ("dynalite raw", "append-1w-indexed"),
                Percent(("dynalite raw", "append-1w-indexed"), plain, "the indexed put itself runs at {0:F0}% of the plain one"));
            yield return Reported("dynamodb", "single append, 1 writer / raw PutItem of the provider's own commit item (reported)", ("DynamoDB", "append-1w"), ("dynalite raw", "append-1w-commit-item"),
                Percent(("dynalite raw", "append-1w-commit-item"), plain, "that put itself runs at {0:F0}% of the plain one"));
            yield return Make("dynamodb", "stream read / raw Query of the same items", "DynamoDB", "read-stream", "dynalite raw", "read-stream", 0.70, ">= 70%");
            var all = Rate("DynamoDB", "read-all");
            yield return new RatioResult("dynamodb", "$all read (reported beside them)", "DynamoDB read-all", "-", null, "reported",
                null, all is null ? "not measured" : $"{Format.Rate(all.Value)} events");
        }
        if (ran.Contains("kafka"))
        {
            yield return Make("kafka", "single append, 1 writer / raw awaited ProduceAsync (acks=all, idempotent)", "Kafka", "append-1w", "Confluent.Kafka raw", "append-1w", 0.50, ">= 50%");
            // 8 appends in flight are limited by 8 messages in flight (throughput = in flight / round trip), so the limit is raw
            // produce with 8 in flight; the 10,000-in-flight pipelined rate stays in the table as the broker's ceiling.
            yield return Make("kafka", "8 appends in flight on distinct streams / raw produce with 8 in flight", "Kafka", "append-8w", "Confluent.Kafka raw", "append-8w", 0.30, ">= 30%");
            if (r.Subjects.Any(s => s.Subject == "Confluent.Kafka raw transactional"))
                yield return Make("kafka", "single append with transactions, 1 writer / raw produce + commit", "Kafka", "append-1w", "Confluent.Kafka raw transactional", "append-1w", 0.50, ">= 50%",
                    $"a real broker named by EVENTSTORE_KAFKA_BOOTSTRAP (or a container)");
            yield return Make("kafka", "stream read / raw consume of the same records (rate)", "Kafka", "read-stream", "Confluent.Kafka raw", "read-stream", 0.50, ">= 50% (time <= 2x)",
                "the peer consumes the provider's own stream records where it wrote them, just before the provider reads them (the mock answers a fetch with one produce request's records, found by walking the partition's log)");
        }
        if (ran.Contains("esdb"))
        {
            const string node = KurrentNodePeer.Package;
            yield return Make("esdb", "single append, 1 writer / official Node.js client", "EventStoreDB", "append-1w", node, "append-1w", 0.90, ">= 90%");
            yield return Make("esdb", "single append, 8 writers / official Node.js client", "EventStoreDB", "append-8w", node, "append-8w", 0.90, ">= 90%");
            yield return Make("esdb", "100-event batches / official Node.js client", "EventStoreDB", "batch-100", node, "batch-100", 0.90, ">= 90%");
            yield return Make("esdb", "stream read / official Node.js client", "EventStoreDB", "read-stream", node, "read-stream", 0.90, ">= 90%");
            yield return Make("esdb", "$all read / official Node.js client", "EventStoreDB", "read-all", node, "read-all", 0.90, ">= 90%");
        }
    }

    private static RatioResult Growth(BenchResults r, string backend, string subject, double limit, string targetText)
    {
        var points = r.ScaleCurve.Where(p => p.Subject == subject).OrderBy(p => p.StoreSize).ToList();
        if (points.Count < 2 || points[0].P50Ms <= 0)
            return new RatioResult(backend, "append p50 growth from the empty to the largest store", "scale", "scale", null, targetText, null, "not measured: the scale curve did not run");
        var growth = points[^1].P50Ms / points[0].P50Ms - 1;
        return new RatioResult(backend, $"append p50 growth from {Format.N(points[0].StoreSize)} to {Format.N(points[^1].StoreSize)} events", "scale", "scale",
            growth, targetText, growth <= limit, "the target is stated for 10,000,000 events; this run's largest size is shown");
    }
}
