using System.Diagnostics;
using System.Reflection;

namespace EventStore.Providers.Reliability.Tests.Infrastructure;

/// <summary>
/// Starts tests/Reliability.Child with a store's <c>EventStore:*</c> configuration as environment variables, and pauses,
/// resumes or kills it with POSIX signals.
/// </summary>
public static class ChildProcess
{
    /// <summary>The built child's assembly.</summary>
    public static string Assembly { get; } = Path.GetFullPath(
        typeof(ChildProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "ChildAssemblyPath").Value!);

    /// <summary>Starts the child with <paramref name="arguments"/>; its standard output and error are redirected.</summary>
    public static Process Start(IReadOnlyDictionary<string, string?> configuration, params string[] arguments)
    {
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Assembly);
        foreach (var a in arguments) info.ArgumentList.Add(a);
        foreach (var (key, value) in configuration) info.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        return Process.Start(info) ?? throw new InvalidOperationException("could not start the reliability child");
    }

    /// <summary>SIGSTOP: the process stops running (as in a long GC pause) until <see cref="Resume"/>.</summary>
    public static void Pause(Process process) => Signal(process, "STOP");

    /// <summary>SIGCONT after <see cref="Pause"/>.</summary>
    public static void Resume(Process process) => Signal(process, "CONT");

    // Through kill(1), which every POSIX system has, rather than a libc import.
    private static void Signal(Process process, string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-" + signal, process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false })
            ?? throw new InvalidOperationException("could not start kill(1)");
        kill.WaitForExit();
        if (kill.ExitCode != 0) throw new InvalidOperationException($"kill -{signal} {process.Id} exited with {kill.ExitCode}");
    }
}
