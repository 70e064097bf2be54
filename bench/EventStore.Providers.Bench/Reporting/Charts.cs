using EventStore.Providers.Bench.Core;
using ScottPlot;

namespace EventStore.Providers.Bench.Reporting;

/// <summary>The PNG charts; each carries the environment line so a picture is never read without its machine.</summary>
internal static class Charts
{
    private static readonly IPalette Palette = new ScottPlot.Palettes.Category10();

    public static void Write(string dir, BenchResults r)
    {
        Throughput(r).SavePng(Path.Combine(dir, "throughput.png"), 1400, 700);
        var latency = Latency(r, out var groups);
        latency.SavePng(Path.Combine(dir, "latency.png"), Math.Max(1400, groups * 120), 750);
        Scale(r).SavePng(Path.Combine(dir, "scale.png"), 1100, 650);
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
        var plot = NewPlot(r, "Throughput per provider and workload (events/s)");
        var ok = r.Measurements.Where(m => m.Status == "ok" && m.Seconds > 0 && m.EventsPerSecond > 0).ToList();
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
        for (var si = 0; si < subjects.Count; si++)
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = subjects[si], FillColor = Palette.GetColor(si) });
        plot.Legend.Alignment = Alignment.UpperRight;
        plot.ShowLegend();
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
        "append-16w" => "append\n16 writers",
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
        _ => workload,
    };

    private static Plot Latency(BenchResults r, out int groupCount)
    {
        var plot = NewPlot(r, "Latency percentiles (ms): single append (1 writer), 8 writers, subscription append -> handler, under load");
        var picks = new[] { "append-1w", "append-8w", "subscription", "under-load" };
        var groups = r.Measurements
            .Where(m => m.Status == "ok" && m.Latency is not null && picks.Contains(m.Workload))
            .OrderBy(m => Array.IndexOf(picks, m.Workload)).ThenBy(m => m.Subject, StringComparer.Ordinal).ToList();
        var percentiles = new (string Name, Func<LatencySummary, double> Get)[] { ("p50", l => l.P50Ms), ("p90", l => l.P90Ms), ("p99", l => l.P99Ms) };
        var bars = new List<Bar>();
        for (var g = 0; g < groups.Count; g++)
            for (var p = 0; p < percentiles.Length; p++)
            {
                var ms = percentiles[p].Get(groups[g].Latency!);
                bars.Add(new Bar
                {
                    Position = g + (p - 1) * 0.27,
                    Value = Math.Log10(Math.Max(0.001, ms)),
                    ValueBase = -3,
                    Size = 0.25,
                    FillColor = Palette.GetColor(p),
                });
            }
        plot.Add.Bars(bars);
        for (var p = 0; p < percentiles.Length; p++)
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = percentiles[p].Name, FillColor = Palette.GetColor(p) });
        plot.ShowLegend();
        Ticks(plot, groups.Select(m => $"{m.Subject.Replace(' ', '\n')}\n{Short(m.Workload)}").ToList());
        LogAxis(plot, "ms");
        groupCount = groups.Count;
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
        plot.ShowLegend(Alignment.UpperLeft);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = x => $"{x:N0}" };
        return plot;
    }
}
