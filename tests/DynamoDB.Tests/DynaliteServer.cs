using System.Diagnostics;
using Xunit;

[assembly: AssemblyFixture(typeof(EventStore.Providers.DynamoDB.Tests.DynaliteServer))]

namespace EventStore.Providers.DynamoDB.Tests;

/// <summary>
/// Finds the DynamoDB endpoint the tests run against: EVENTSTORE_DYNAMODB_URL when set, otherwise a dynalite started
/// with eng/dynalite.sh for this test run. Without either the tests fail with the reason.
/// </summary>
public sealed class DynaliteServer : IAsyncLifetime
{
    public const string UrlVariable = "EVENTSTORE_DYNAMODB_URL";

    private string? _repoRoot;
    private bool _stopWhenDone;

    public string Url { get; private set; } = "";

    public async ValueTask InitializeAsync()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable(UrlVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            Url = fromEnvironment;
            return;
        }
        var root = FindRepoRoot();
        // A dynalite someone else started from this checkout (a benchmark, another run) is used, and left running.
        var alreadyRunning = File.Exists(Path.Combine(root, ".tmp", "servers", "dynalite.env"));
        _repoRoot = root;
        var (code, output) = await RunScriptAsync("start");
        _stopWhenDone = !alreadyRunning;
        var line = output.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.StartsWith(UrlVariable + "=", StringComparison.Ordinal));
        if (code != 0 || line is null)
            throw new InvalidOperationException($"No DynamoDB for the tests: {UrlVariable} is not set and eng/dynalite.sh start failed (exit {code}):\n{output}");
        Url = line[(UrlVariable.Length + 1)..];
    }

    public async ValueTask DisposeAsync()
    {
        if (_repoRoot is not null && _stopWhenDone) await RunScriptAsync("stop");
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "EventStore.Providers.sln"))) return dir.FullName;
        throw new InvalidOperationException($"No DynamoDB for the tests: {UrlVariable} is not set and the repository root (EventStore.Providers.sln) was not found above {AppContext.BaseDirectory} to run eng/dynalite.sh.");
    }

    private async Task<(int Code, string Output)> RunScriptAsync(string command)
    {
        var info = new ProcessStartInfo("bash", [Path.Combine(_repoRoot!, "eng", "dynalite.sh"), command])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = _repoRoot!,
        };
        using var process = Process.Start(info) ?? throw new InvalidOperationException("bash could not be started to run eng/dynalite.sh.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }
}
