using System.Text;
using EventStore.Providers.Bench.Core;

namespace EventStore.Providers.Bench.Reporting;

/// <summary>results.md: the table the README embeds, its ratios, memory and the environment it was measured on.</summary>
internal static class MarkdownReport
{
    public static string Render(BenchResults r, IReadOnlyList<string> charts)
    {
        var sb = new StringBuilder();
        var env = r.Environment;
        sb.AppendLine($"# EventStore.Providers benchmark, {r.Timestamp}").AppendLine();
        sb.AppendLine($"Machine: {env.Cores} cores, {env.Cpu}, {env.Os}, {env.Runtime}. ");
        foreach (var (k, v) in env.Servers) sb.AppendLine($"{k}: {v}. ");
        sb.AppendLine($"Run: {string.Join(", ", r.Settings.Select(kv => $"{kv.Key} {kv.Value}"))}.").AppendLine();
        sb.AppendLine("Client and servers share the machine; compare subjects of one run (ratios), not numbers across machines.").AppendLine();

        sb.AppendLine("## Throughput (events/s, latency p50 / p99 in ms)").AppendLine();
        sb.AppendLine($"The subscription row is latency only (append -> handler p50 / p99 ms). A result resting on fewer than {Measurement.MinSamples} timed calls says **too few samples**.").AppendLine();
        var subjects = r.Subjects.Select(s => s.Subject).Distinct().ToList();
        sb.AppendLine($"| Workload | {string.Join(" | ", subjects.Select(Format.Cell))} |");
        sb.AppendLine($"|---|{string.Concat(subjects.Select(_ => "---|"))}");
        foreach (var w in r.Measurements.Select(m => m.Workload).Distinct().Where(w => w != "peer").OrderBy(Format.Order))
        {
            sb.Append($"| {Format.Cell(Format.Describe(w))} |");
            foreach (var s in subjects)
            {
                var m = r.Measurements.FirstOrDefault(x => x.Subject == s && x.Workload == w);
                sb.Append($" {Format.Cell(Cell(m, r))} |");
            }
            sb.AppendLine();
        }
        sb.AppendLine();

        if (r.Ratios.Count > 0)
        {
            sb.AppendLine("## Ratios against their targets").AppendLine();
            sb.AppendLine("| Backend | Ratio | Value | Target | Met | Note |");
            sb.AppendLine("|---|---|---|---|---|---|");
            foreach (var x in r.Ratios)
                sb.AppendLine($"| {x.Backend} | {Format.Cell(x.Name)} | {(x.Numerator == "scale" ? Format.Growth(x.Value) : Format.Ratio(x.Value))} | {Format.Cell(x.Target)} | {(x.Met is null ? "-" : x.Met.Value ? "yes" : "**no**")} | {Format.Cell(x.Note)} |");
            sb.AppendLine();
        }

        sb.AppendLine("## Subjects: status and peak working set of the process during their run").AppendLine();
        sb.AppendLine("| Backend | Subject | Status | Peak working set | Seconds |");
        sb.AppendLine("|---|---|---|---|---|");
        foreach (var s in r.Subjects)
            sb.AppendLine($"| {s.Backend} | {Format.Cell(s.Subject)} | {Format.Cell((s.Status == "ok" ? "ok" : $"{s.Status}: {s.Reason}") + string.Concat(s.Problems.Select(p => $"; {p}")))} | {Format.Mb(s.PeakWorkingSetMb)} | {s.Seconds:N0} |");
        sb.AppendLine();

        var reads = r.Measurements.Where(m => m.Status == "ok" && m.AllocatedMb is not null).ToList();
        if (reads.Count > 0)
        {
            sb.AppendLine("## Reads: memory (a streamed read keeps the heap flat)").AppendLine();
            sb.AppendLine("| Subject | Workload | Events per read | Allocated per read | Managed heap growth during the reads |");
            sb.AppendLine("|---|---|---|---|---|");
            foreach (var m in reads)
                sb.AppendLine($"| {Format.Cell(m.Subject)} | {m.Workload} | {Format.N(m.Operations > 0 ? m.Events / m.Operations : 0)} | {Format.Mb(m.AllocatedMb)} | {Format.Mb(m.HeapGrowthMb)} |");
            sb.AppendLine();
        }

        if (r.ScaleCurve.Count > 0)
        {
            sb.AppendLine("## Scale curve: single-append latency as the store grows").AppendLine();
            sb.AppendLine("| Subject | Store size (events) | p50 ms | p99 ms | appends/s |");
            sb.AppendLine("|---|---|---|---|---|");
            foreach (var p in r.ScaleCurve)
                sb.AppendLine($"| {Format.Cell(p.Subject)} | {Format.N(p.StoreSize)} | {Format.Ms(p.P50Ms)} | {Format.Ms(p.P99Ms)} | {Format.Rate(p.AppendsPerSecond)} |");
            sb.AppendLine();
        }

        var groups = r.Measurements.Where(m => m.Workload.StartsWith("groups-", StringComparison.Ordinal)).GroupBy(m => (m.Backend, m.Subject)).ToList();
        if (groups.Count > 0)
        {
            sb.AppendLine("## Subscription groups: catch-up throughput and live lag by instance count, and handover").AppendLine();
            sb.AppendLine($"Each run is timed from start-up; \"spread\" is when every instance first held a share, the part spent joining rather than handling. \"live lag\" is p50 / p99 from an append to its handling while the same instances then take {GroupWorkloads.LiveAppendsPerSecond} single-event appends/s.").AppendLine();
            sb.AppendLine("| Backend | Subject | 1 instance (events/s) | 2 instances | 4 instances | handover p50 / max |");
            sb.AppendLine("|---|---|---|---|---|---|");
            foreach (var g in groups)
            {
                string Of(string w) => g.FirstOrDefault(m => m.Workload == w) is { } m ? Cell(m, r) : "—";
                sb.AppendLine($"| {g.Key.Backend} | {Format.Cell(g.Key.Subject)} | {Format.Cell(Of("groups-1"))} | {Format.Cell(Of("groups-2"))} | {Format.Cell(Of("groups-4"))} | {Format.Cell(Of("groups-handover"))} |");
            }
            sb.AppendLine();
        }

        if (r.CostCurves.Count > 0)
        {
            sb.AppendLine("## Cost curves: p50 ms of each operation as the store grows").AppendLine();
            sb.AppendLine("| Measure | Subject | p50 ms at each store size (events) | p99 ms at the largest | p50 growth, smallest to largest |");
            sb.AppendLine("|---|---|---|---|---|");
            foreach (var (measure, description) in CostCurves.Measures)
                foreach (var g in r.CostCurves.Where(p => p.Measure == measure).GroupBy(p => p.Subject))
                {
                    var pts = g.OrderBy(p => p.StoreSize).ToList();
                    var cells = string.Join(" · ", pts.Select(p => $"{Format.Ms(p.P50Ms)} at {Format.N(p.StoreSize)}" + (p.Samples < Measurement.MinSamples ? $" (**too few samples: {p.Samples}**)" : "")));
                    var growth = pts.Count > 1 && pts[0].P50Ms > 0 ? Format.Growth(pts[^1].P50Ms / pts[0].P50Ms - 1) : "-";
                    var stopped = r.Measurements.FirstOrDefault(m => m.Subject == g.Key && m.Workload == "scale")?.Notes.GetValueOrDefault("largest size");
                    sb.AppendLine($"| {Format.Cell(description)} | {Format.Cell(g.Key)} | {cells} | {Format.Ms(pts[^1].P99Ms)} | {growth}{(stopped is not null && stopped.Contains('(') ? $" (stopped: {Format.Cell(stopped)})" : "")} |");
                }
            sb.AppendLine();
        }

        sb.AppendLine("## Details").AppendLine();
        sb.AppendLine("| Backend | Subject | Workload | What was done | Ops | Events/s | p50 | p90 | p99 | max | Conflicts | Notes |");
        sb.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var m in r.Measurements)
        {
            var l = m.Latency;
            var notes = string.Join("; ", m.Notes.Select(kv => $"{kv.Key}: {kv.Value}")
                .Concat(m.AllocatedMb is { } alloc ? [$"allocated {Format.Mb(alloc)} per full read"] : [])
                .Concat(m.Status == "ok" && m.Quality != "ok" ? [m.Quality] : [])
                .Concat(m.SecondaryLatency is { } s ? [$"subscription lag p50 {Format.Ms(s.P50Ms)} / p99 {Format.Ms(s.P99Ms)} ms"] : [])
                .Concat(m.Status != "ok" ? [$"{m.Status}: {m.Reason}"] : []));
            sb.AppendLine($"| {m.Backend} | {Format.Cell(m.Subject)} | {m.Workload} | {Format.Cell(m.Method)} | {Format.N(m.Operations)} | " +
                $"{(m.Status == "ok" && m.Seconds > 0 ? Format.Rate(m.EventsPerSecond) : "-")} | {Lat(l?.P50Ms)} | {Lat(l?.P90Ms)} | {Lat(l?.P99Ms)} | {Lat(l?.MaxMs)} | " +
                $"{(m.Workload == "append-race" ? Format.N(m.Conflicts) : "")} | {Format.Cell(notes)} |");
        }
        sb.AppendLine();
        sb.AppendLine(charts.Count > 0 ? $"Charts: {string.Join(", ", charts)} (beside this file)." : "Charts: none (run with --no-charts).");
        return sb.ToString();
    }

    private static string Lat(double? ms) => ms is null ? "-" : Format.Ms(ms.Value);

    public static string Cell(Measurement? m, BenchResults r)
    {
        if (m is null) return "—";
        if (m.Status != "ok")
        {
            var why = m.Reason ?? "";
            if (r.Subjects.Any(s => s.Subject == m.Subject && s.Status != "ok" && s.Reason == why)) return $"{m.Status} (why: see subjects)";
            return $"{m.Status}: {(why.Length > 60 ? why[..60] + "…" : why)}";
        }
        if (m.Workload == "scale") return m.Notes.GetValueOrDefault("p50 growth") ?? "-";
        if (m.Workload == "groups-handover") return m.Latency is { } h ? $"{Format.Ms(h.P50Ms)} / {Format.Ms(h.MaxMs)} ms" : "-";
        if (m.Workload is "groups-1" or "groups-2" or "groups-4")
        {
            // The rate, the speed-up against one instance (2 and 4), and when every instance held a share.
            List<string> parts = [Format.Rate(m.EventsPerSecond)];
            if (m.Workload != "groups-1" && m.Notes.GetValueOrDefault("vs 1 instance") is { } speedup) parts.Add(speedup);
            if (m.Notes.GetValueOrDefault(GroupWorkloads.SpreadNote) is { } spread) parts.Add($"spread {spread}");
            if (m.Latency is { } lag) parts.Add($"live lag {Format.Ms(lag.P50Ms)} / {Format.Ms(lag.P99Ms)} ms");
            return string.Join(" · ", parts);
        }
        var text = m.Workload == "subscription" && m.Latency is { } sub
            ? $"{Format.Ms(sub.P50Ms)} / {Format.Ms(sub.P99Ms)} ms"
            : Format.Rate(m.EventsPerSecond);
        if (m.Latency is { } lat && m.Workload != "subscription") text += $" · {Format.Ms(lat.P50Ms)} / {Format.Ms(lat.P99Ms)}";
        if (m.Workload == "append-race") text += $" · {Format.N(m.Conflicts)} conflicts";
        if (m.Workload is "under-load" or "projection-live" && m.SecondaryLatency is { } s) text += $" · lag p99 {Format.Ms(s.P99Ms)}";
        if (m.Quality != "ok") text += $" · **{m.Quality}**";
        return text;
    }
}
