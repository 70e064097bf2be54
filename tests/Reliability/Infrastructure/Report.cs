using System.Globalization;
using System.Reflection;

namespace EventStore.Providers.Reliability.Tests.Infrastructure;

/// <summary>
/// Prints what a test counted (sequences run, kills survived, inputs tried) to the test output and to
/// <c>.tmp/reliability/counts.txt</c>, so the README's Guarantees section can cite the numbers of a real run.
/// </summary>
public static class Report
{
    private static readonly Lock Gate = new();

    /// <summary>The repository root (where the solution file is).</summary>
    public static string RepositoryRoot { get; } = Path.GetFullPath(
        typeof(Report).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepositoryRoot").Value!);

    /// <summary>Records one count.</summary>
    public static void Count(string provider, string what, long value)
    {
        var line = string.Create(CultureInfo.InvariantCulture, $"[reliability] {provider}: {what} = {value}");
        TestContext.Current.TestOutputHelper?.WriteLine(line);
        lock (Gate)
        {
            var dir = Path.Combine(RepositoryRoot, ".tmp", "reliability");
            Directory.CreateDirectory(dir);
            File.AppendAllText(Path.Combine(dir, "counts.txt"),
                string.Create(CultureInfo.InvariantCulture, $"{DateTimeOffset.UtcNow:O} {line}{Environment.NewLine}"));
        }
    }

    /// <summary>Writes a line to the test output.</summary>
    public static void Line(string text) => TestContext.Current.TestOutputHelper?.WriteLine(text);
}
