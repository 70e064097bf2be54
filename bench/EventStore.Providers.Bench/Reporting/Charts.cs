using EventStore.Providers.Bench.Core;
using ScottPlot;

namespace EventStore.Providers.Bench.Reporting;

/// <summary>The PNG charts; each carries the environment line so a picture is never read without its machine.</summary>
internal static class Charts
{
    private static readonly IPalette Palette = new ScottPlot.Palettes.Category10();

    /// <summary>The README shows charts at about 900 px; each is drawn at a size that stays readable there.</summary>
    public static IReadOnlyList<string> Write(string dir, BenchResults r)
    {
        Throughput(r).SavePng(Path.Combine(dir, "throughput.png"), 1200, 650);
        Latency(r).SavePng(Path.Combine(dir, "latency.png"), 1200, 650);
        Scale(r).SavePng(Path.Combine(dir, "scale.png"), 1200, 600);
        var charts = new List<string> { "throughput.png", "latency.png", "scale.png" };
        foreach (var (measure, description) in CostCurves.Measures)
        {
            if (!r.CostCurves.Any(p => p.Measure == measure)) continue;
            var file = $"cost-{measure}.png";
            Cost(r, measure, description).SavePng(Path.Combine(dir, file), 1000, 500);
            charts.Add(file);
        }
        return charts;
    }

    /// <summary>A legend entry per subject, saying "not run" for one that has no mark in the chart.</summary>
    private static void SubjectLegend(Plot plot, BenchResults r, IReadOnlyList<string> subjects, Func<string, bool> plotted)
    {
        for (var si = 0; si < subjects.Count; si++)
        {
            var ran = plotted(subjects[si]);
            var why = r.Subjects.FirstOrDefault(s => s.Subject == subjects[si] && s.Status != "ok")?.Status ?? "no result";
            plot.Legend.ManualItems.Add(new LegendItem
            {
                LabelText = ran ? subjects[si] : $"{subjects[si]} ({why})",
                FillColor = ran ? Palette.GetColor(si) : Colors.LightGray,
            });
        }
        // Outside the data area, so no legend ever covers a bar or a point.
        plot.ShowLegend(Edge.Right);
    }

    private static Plot NewPlot(BenchResults r, string title)
    {
        var plot = new Plot();
        plot.Title(title);
        plot.Axes.Bottom.Label.Text = Wrap(r.Environment.OneLine(r.Timestamp), 170);
        plot.Axes.Bottom.Label.FontSize = 11;
        return plot;
    }

    private static string Wrap(string text, int width)
    {
        var lines = new List<string>();
        var line = "";
        foreach (var part in text.Split(" · "))
        {
            if (line.Length > 0 && line.Length + part.Length + 3 > width)
            {
                lines.Add(line);
                line = "";
            }
            line = line.Length == 0 ? part : $"{line} · {part}";
        }
        if (line.Length > 0) lines.Add(line);
        return string.Join("\n", lines);
    }

    /// <summary>Values span in-memory millions to dynalite hundreds, so the axis is log10 with readable labels.</summary>
    private static void LogAxis(Plot plot, string unit)
    {
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            IntegerTicksOnly = true,
            LabelFormatter = y => Math.Pow(10, y) switch
            {
                >= 1_000_000 => $"{Math.Pow(10, y) / 1_000_000:0.#}M",
                >= 1_000 => $"{Math.Pow(10, y) / 1_000:0.#}k",
                var v => $"{v:0.###}",
            },
        };
        plot.Axes.Left.Label.Text = unit + " (log scale)";
    }

    private static Plot Throughput(BenchResults r)
    {
        // Throughput workloads only: the subscription workload is a latency and has its own chart.
        var plot = NewPlot(r, "Throughput per provider and workload (events/s)");
        var ok = r.Measurements.Where(m => m.Status == "ok" && m.Seconds > 0 && m.EventsPerSecond > 0 && m.Workload != "subscription").ToList();
        var subjects = r.Subjects.Select(s => s.Subject).Distinct().ToList();
        var workloads = ok.Select(m => m.Workload).Distinct().OrderBy(Format.Order).ToList();
        var bars = new List<Bar>();
        var width = 0.8 / Math.Max(1, subjects.Count);
        for (var wi = 0; wi < workloads.Count; wi++)
            for (var si = 0; si < subjects.Count; si++)
            {
                var m = ok.FirstOrDefault(x => x.Workload == workloads[wi] && x.Subject == subjects[si]);
                if (m is null) continue;
                bars.Add(new Bar
                {
                    Position = wi + (si - (subjects.Count - 1) / 2.0) * width,
                    Value = Math.Log10(Math.Max(1, m.EventsPerSecond)),
                    ValueBase = 0,
                    Size = width * 0.95,
                    FillColor = Palette.GetColor(si),
                });
            }
        plot.Add.Bars(bars);
        SubjectLegend(plot, r, subjects, s => ok.Any(m => m.Subject == s));
        Ticks(plot, workloads.Select(Short).ToList());
        LogAxis(plot, "events/s");
        plot.Axes.Margins(bottom: 0);
        return plot;
    }

    private static void Ticks(Plot plot, List<string> labels)
    {
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        for (var i = 0; i < labels.Count; i++) ticks.AddMajor(i, labels[i]);
        plot.Axes.Bottom.TickGenerator = ticks;
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
    }

    private static string Short(string workload) => workload switch
    {
        "append-1w" => "append\n1 writer",
        "append-8w" => "append\n8 writers",
        "append-race" => "race on\n1 stream",
        "append-pipelined" => "pipelined\nproduce",
        "batch-100" => "100-event\nbatches",
        "read-stream" => "read\nstream",
        "read-all" => "$all\ncatch-up",
        "read-all-large" => "$all of the\nscale store",
        "subscription" => "subscription\ne2e",
        "aggregate" => "aggregate\nload",
        "aggregate-snapshot" => "aggregate\n+snapshot",
        "under-load" => "16 writers\n+subscription",
        "projection" => "projection\ncatch-up",
        "projection-live" => "projection\nlive",
        _ => workload,
    };

    private static Plot Latency(BenchResults r)
    {
        // One group per workload, one bar per subject at its p50 with a dot at its p99, in milliseconds.
        var plot = NewPlot(r, "Latency (ms): bar = p50, dot = p99");
        var picks = new[] { "append-1w", "append-8w", "subscription", "under-load" };
        var ok = r.Measurements.Where(m => m.Status == "ok" && m.Latency is not null && picks.Contains(m.Workload)).ToList();
        var subjects = r.Subjects.Select(s => s.Subject).Distinct().ToList();
        var workloads = picks.Where(w => ok.Any(m => m.Workload == w)).ToList();
        var width = 0.8 / Math.Max(1, subjects.Count);
        var bars = new List<Bar>();
        for (var wi = 0; wi < workloads.Count; wi++)
            for (var si = 0; si < subjects.Count; si++)
            {
                var m = ok.FirstOrDefault(x => x.Workload == workloads[wi] && x.Subject == subjects[si]);
                if (m is null) continue;
                var x = wi + (si - (subjects.Count - 1) / 2.0) * width;
                bars.Add(new Bar { Position = x, Value = Math.Log10(Math.Max(0.001, m.Latency!.P50Ms)), ValueBase = -3, Size = width * 0.95, FillColor = Palette.GetColor(si) });
                var p99 = plot.Add.Marker(x, Math.Log10(Math.Max(0.001, m.Latency.P99Ms)));
                p99.Color = Colors.Black;
                p99.Size = 6;
            }
        plot.Add.Bars(bars);
        SubjectLegend(plot, r, subjects, s => ok.Any(m => m.Subject == s));
        Ticks(plot, workloads.Select(w => w == "under-load" ? "append under load\n(16 writers)" : Short(w)).ToList());
        LogAxis(plot, "ms");
        return plot;
    }

    /// <summary>One measure's cost curve: p50 by store size, a line per subject; a subject without points says why.</summary>
    private static Plot Cost(BenchResults r, string measure, string description)
    {
        var plot = NewPlot(r, $"Cost as the store grows: {description}, p50 ms");
        var subjects = r.Subjects.Where(s => r.Measurements.Any(m => m.Subject == s.Subject && m.Workload == "scale")).Select(s => s.Subject).Distinct().ToList();
        for (var i = 0; i < subjects.Count; i++)
        {
            var pts = r.CostCurves.Where(p => p.Subject == subjects[i] && p.Measure == measure).OrderBy(p => p.StoreSize).ToList();
            if (pts.Count == 0) continue;
            var line = plot.Add.Scatter(pts.Select(p => (double)p.StoreSize).ToArray(), pts.Select(p => Math.Log10(Math.Max(0.001, p.P50Ms))).ToArray(), Palette.GetColor(i));
            line.LegendText = subjects[i];
        }
        foreach (var missing in subjects.Where(s => !r.CostCurves.Any(p => p.Subject == s && p.Measure == measure)))
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = $"{missing} (no points: see results.md)", FillColor = Colors.LightGray });
        LogAxis(plot, "ms");
        plot.ShowLegend(Edge.Right);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = x => $"{x:N0}" };
        return plot;
    }

    private static Plot Scale(BenchResults r)
    {
        var plot = NewPlot(r, "Single-append latency (p50 solid, p99 dashed) by store size in events");
        var subjects = r.ScaleCurve.Select(p => p.Subject).Distinct().ToList();
        for (var i = 0; i < subjects.Count; i++)
        {
            var pts = r.ScaleCurve.Where(p => p.Subject == subjects[i]).OrderBy(p => p.StoreSize).ToList();
            var xs = pts.Select(p => (double)p.StoreSize).ToArray();
            var p50 = plot.Add.Scatter(xs, pts.Select(p => Math.Log10(Math.Max(0.001, p.P50Ms))).ToArray(), Palette.GetColor(i));
            p50.LegendText = $"{subjects[i]} p50";
            var p99 = plot.Add.Scatter(xs, pts.Select(p => Math.Log10(Math.Max(0.001, p.P99Ms))).ToArray(), Palette.GetColor(i));
            p99.LegendText = $"{subjects[i]} p99";
            p99.LinePattern = LinePattern.Dashed;
        }
        LogAxis(plot, "append latency, ms");
        plot.ShowLegend(Edge.Right);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = x => $"{x:N0}" };
        return plot;
    }
}
