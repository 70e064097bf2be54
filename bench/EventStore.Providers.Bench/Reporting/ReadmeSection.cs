using System.Text;

namespace EventStore.Providers.Bench.Reporting;

/// <summary>
/// The README's benchmark numbers, cut from one run's results.md so that nobody edits them by hand:
/// <c>dotnet run --project bench/EventStore.Providers.Bench -- --update-readme docs/bench/results.md</c> rewrites the
/// part of README.md between <see cref="Begin"/> and <see cref="End"/>, and tests/Bench.Tests fails when the two differ.
/// </summary>
public static class ReadmeSection
{
    /// <summary>The line that opens the generated part of README.md.</summary>
    public const string Begin = "<!-- bench:begin (generated from docs/bench/results.md by `dotnet run --project bench/EventStore.Providers.Bench -- --update-readme docs/bench/results.md`; do not edit) -->";

    /// <summary>The line that closes it.</summary>
    public const string End = "<!-- bench:end -->";

    /// <summary>The results.md sections the README carries, in this order.</summary>
    private static readonly string[] Sections = ["## Throughput", "## Ratios", "## Reads: memory", "## Cost curves"];

    /// <summary>What the README shows of <paramref name="resultsMarkdown"/>: the run's header, then its main tables.</summary>
    public static string From(string resultsMarkdown, string resultsLink)
    {
        ArgumentNullException.ThrowIfNull(resultsMarkdown);
        var lines = resultsMarkdown.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var sb = new StringBuilder();
        var title = lines.FirstOrDefault(l => l.StartsWith("# ", StringComparison.Ordinal))
            ?? throw new FormatException("results.md has no title line");
        sb.AppendLine($"Measured in one run: {title[2..].Replace("EventStore.Providers benchmark, ", "", StringComparison.Ordinal)} ([full output]({resultsLink})).");
        sb.AppendLine();
        // The header: machine, servers and settings, up to the first section.
        foreach (var line in lines.Skip(1).TakeWhile(l => !l.StartsWith("## ", StringComparison.Ordinal)))
            if (line.Length > 0) sb.AppendLine(line.TrimEnd() + "  ");
        foreach (var heading in Sections)
        {
            var start = Array.FindIndex(lines, l => l.StartsWith(heading, StringComparison.Ordinal));
            if (start < 0) continue;
            sb.AppendLine().AppendLine("#" + lines[start]);
            for (var i = start + 1; i < lines.Length && !lines[i].StartsWith("## ", StringComparison.Ordinal); i++)
                sb.AppendLine(lines[i]);
        }
        return sb.ToString().TrimEnd() + "\n";
    }

    /// <summary>Replaces the generated part of <paramref name="readme"/> with <paramref name="section"/>.</summary>
    /// <exception cref="FormatException">The README lacks the markers.</exception>
    public static string Splice(string readme, string section)
    {
        ArgumentNullException.ThrowIfNull(readme);
        var (start, end) = Bounds(readme);
        return readme[..(start + Begin.Length)] + "\n" + section + readme[end..];
    }

    /// <summary>The generated part of <paramref name="readme"/>, as <see cref="From"/> made it.</summary>
    public static string Current(string readme)
    {
        ArgumentNullException.ThrowIfNull(readme);
        var (start, end) = Bounds(readme);
        return readme[(start + Begin.Length + 1)..end];
    }

    private static (int Start, int End) Bounds(string readme)
    {
        var start = readme.IndexOf(Begin, StringComparison.Ordinal);
        var end = readme.IndexOf(End, StringComparison.Ordinal);
        if (start < 0 || end < start) throw new FormatException($"README.md has no generated benchmark section: the lines '{Begin}' and '{End}' are missing.");
        return (start, end);
    }
}
