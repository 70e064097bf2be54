using EventStore.Providers.Bench.Core;
using Spectre.Console;

namespace EventStore.Providers.Bench.Reporting;

internal static class ConsoleReport
{
    public static void Print(IAnsiConsole console, BenchResults r)
    {
        var subjects = r.Subjects.Select(s => s.Subject).Distinct().ToList();
        var table = new Table().Border(TableBorder.Rounded).Title("events/s · p50 / p99 ms");
        table.AddColumn("Workload");
        foreach (var s in subjects) table.AddColumn(Markup.Escape(s));
        foreach (var w in r.Measurements.Select(m => m.Workload).Distinct().Where(w => w != "peer").OrderBy(Format.Order))
        {
            var row = new List<string> { Markup.Escape(Format.Describe(w)) };
            foreach (var s in subjects)
            {
                var m = r.Measurements.FirstOrDefault(x => x.Subject == s && x.Workload == w);
                var text = Markup.Escape(MarkdownReport.Cell(m, r));
                row.Add(m is null ? "[grey]—[/]" : m.Status == "ok" ? text : $"[yellow]{text}[/]");
            }
            table.AddRow(row.ToArray());
        }
        console.Write(table);

        if (r.Ratios.Count > 0)
        {
            var ratios = new Table().Border(TableBorder.Rounded).Title("ratios against their targets");
            ratios.AddColumns("Backend", "Ratio", "Value", "Target", "Met");
            foreach (var x in r.Ratios)
                ratios.AddRow(x.Backend, Markup.Escape(x.Name), (x.Numerator == "scale" ? Format.Growth(x.Value) : Format.Ratio(x.Value)), Markup.Escape(x.Target),
                    x.Met is null ? Markup.Escape(x.Note ?? "-") : x.Met.Value ? "[green]yes[/]" : "[red]no[/]");
            console.Write(ratios);
        }

        var memory = new Table().Border(TableBorder.Rounded).Title("subjects");
        memory.AddColumns("Subject", "Status", "Peak working set", "Seconds");
        foreach (var s in r.Subjects)
            memory.AddRow(Markup.Escape(s.Subject), Markup.Escape(s.Status == "ok" ? "ok" : $"{s.Status}: {s.Reason}"), Format.Mb(s.PeakWorkingSetMb), $"{s.Seconds:N0}");
        console.Write(memory);
    }
}
