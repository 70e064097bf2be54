using System.Diagnostics;
using System.Globalization;
using EventStore.Providers.Reliability.Tests.Infrastructure;

namespace EventStore.Providers.Reliability.Tests.Servers;

/// <summary>
/// A dynalite process owned by the test run, like eng/dynalite.sh starts it (same pinned version and install folder),
/// but held by the test so it can be killed with SIGKILL and restarted over the same <c>--path</c> and port.
/// </summary>
public sealed class DynaliteServer : IAsyncDisposable
{
    private const string Version = "4.0.0";
    private static readonly TimeSpan StartLimit = TimeSpan.FromSeconds(30);
    private static readonly SemaphoreSlim InstallGate = new(1, 1);
    private readonly string? _dataPath;
    private Process? _process;

    private DynaliteServer(int port, string? dataPath)
    {
        Port = port;
        _dataPath = dataPath;
    }

    /// <summary>The port on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>The endpoint URL for the AWS SDK.</summary>
    public string ServiceUrl => string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{Port}");

    private static string Prefix => Path.Combine(Report.RepositoryRoot, ".tmp", "dynalite");

    private static string Cli => Path.Combine(Prefix, "node_modules", "dynalite", "cli.js");

    /// <summary>Installs dynalite if needed and starts it; with <paramref name="persistent"/> its data lives in a folder and survives a kill.</summary>
    /// <exception cref="InvalidOperationException">dynalite could not be installed or started: the test fails loudly.</exception>
    public static async Task<DynaliteServer> StartAsync(bool persistent, CancellationToken cancellationToken = default)
    {
        await InstallGate.WaitAsync(cancellationToken);
        try
        {
            if (!File.Exists(Cli))
            {
                Directory.CreateDirectory(Prefix);
                await ProcessRunner.RunAsync("npm", ["install", "--prefix", Prefix, "--no-audit", "--no-fund", "--loglevel=error", $"dynalite@{Version}"], TimeSpan.FromMinutes(5), cancellationToken);
            }
        }
        finally
        {
            InstallGate.Release();
        }
        var dataPath = persistent ? Path.Combine(Path.GetTempPath(), $"reliability-dynalite-{Guid.NewGuid():N}") : null;
        var server = new DynaliteServer(ProcessRunner.FreePort(), dataPath);
        await server.StartAgainAsync(cancellationToken);
        return server;
    }

    /// <summary>Starts the process (again) on the same port and data folder.</summary>
    public async Task StartAgainAsync(CancellationToken cancellationToken = default)
    {
        var info = new ProcessStartInfo("node") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { Cli, "--host", "127.0.0.1", "--port", Port.ToString(CultureInfo.InvariantCulture), "--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0" })
            info.ArgumentList.Add(a);
        if (_dataPath is not null)
        {
            Directory.CreateDirectory(_dataPath);
            info.ArgumentList.Add("--path");
            info.ArgumentList.Add(_dataPath);
        }
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start node for dynalite");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        var started = Stopwatch.StartNew();
        while (!await ProcessRunner.IsListeningAsync(Port))
        {
            if (process.HasExited) throw new InvalidOperationException($"dynalite exited with {process.ExitCode} during start-up on port {Port}");
            if (started.Elapsed > StartLimit) throw new InvalidOperationException($"dynalite did not listen on port {Port} within {StartLimit.TotalSeconds} s");
            await Task.Delay(50, cancellationToken);
        }
    }

    /// <summary>Kills the process with SIGKILL and waits until it is gone (a second process may not open the same folder before).</summary>
    public async Task CrashAsync(CancellationToken cancellationToken = default)
    {
        var process = _process ?? throw new InvalidOperationException("dynalite is not running");
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync(cancellationToken);
        process.Dispose();
        _process = null;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_process is not null) await CrashAsync();
        if (_dataPath is not null && Directory.Exists(_dataPath)) Directory.Delete(_dataPath, recursive: true);
    }
}
