using System.Runtime.InteropServices;

namespace EventStore.Providers.Bench.Core;

/// <summary>The machine and servers a run measured, printed on every table and chart so numbers are never read without it.</summary>
internal sealed record EnvironmentInfo
{
    public required string Machine { get; init; }
    public required int Cores { get; init; }
    public required string Os { get; init; }
    public required string Runtime { get; init; }
    public required string Cpu { get; init; }
    /// <summary>Server versions and settings per backend, e.g. postgres: "15.18, fsync=on".</summary>
    public Dictionary<string, string> Servers { get; init; } = [];

    public static EnvironmentInfo Capture() => new()
    {
        Machine = System.Environment.MachineName,
        Cores = System.Environment.ProcessorCount,
        Os = RuntimeInformation.OSDescription,
        Runtime = RuntimeInformation.FrameworkDescription,
        Cpu = ReadCpuModel(),
    };

    /// <summary>One line for chart footers.</summary>
    public string OneLine(string timestamp) =>
        $"{timestamp} · {Cores} cores · {Cpu} · {Os} · {Runtime}" +
        (Servers.Count > 0 ? " · " + string.Join(" · ", Servers.Select(kv => $"{kv.Key}: {kv.Value}")) : "");

    private static string ReadCpuModel()
    {
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            if (line is not null) return line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return RuntimeInformation.ProcessArchitecture.ToString();
    }
}
