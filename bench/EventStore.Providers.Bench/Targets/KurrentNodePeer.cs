using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using EventStore.Providers.Bench.Core;

namespace EventStore.Providers.Bench.Targets;

/// <summary>
/// The official Node.js client as the EventStoreDB peer: bench/node-peer/kurrentdb-peer.mjs, installed with its
/// package into .tmp/kurrentdb-peer (as eng/dynalite.sh installs dynalite), runs the same workloads with the same
/// payload on the same node and prints one JSON line per workload.
/// </summary>
internal sealed class KurrentNodePeer(string? repoRoot, string connection) : IPeer
{
    public const string Package = "@kurrent/kurrentdb-client";
    public const string PackageVersion = "1.3.1";
    public const string ScriptName = "kurrentdb-peer.mjs";

    /// <summary>The workloads the script knows, in the provider's names.</summary>
    public static readonly string[] Workloads = ["append-1w", "append-8w", "batch-100", "read-stream", "read-all"];

    public string Name => Package;

    public async Task<IReadOnlyList<Measurement>> RunAsync(BenchOptions options, Func<string, Action<double>> progress, CancellationToken ct)
    {
        var workloads = Workloads.Where(options.Runs).ToList();
        if (workloads.Count == 0) return [];
        if (repoRoot is null) throw new TargetUnavailableException("the repository root was not found, so bench/node-peer is missing");
        var report = progress($"{Name}: {string.Join(", ", workloads)}");
        var dir = Path.Combine(repoRoot, ".tmp", "kurrentdb-peer");
        await InstallAsync(dir, ct).ConfigureAwait(false);
        File.Copy(Path.Combine(repoRoot, "bench", "node-peer", ScriptName), Path.Combine(dir, ScriptName), overwrite: true);
        var run = Guid.NewGuid().ToString("N")[..8];
        // Setup writes (a 10,000-event stream, 100,000 events for $all) come on top of the timed runs.
        var limit = TimeSpan.FromTicks(options.Duration.Ticks * workloads.Count * 3) + options.SetupFillBudget * 2 + TimeSpan.FromMinutes(2);
        var (code, stdout, stderr) = await ExecAsync(dir, "node", Arguments(options, workloads, connection, run), limit, ct).ConfigureAwait(false);
        report(1);
        if (code != 0)
            throw new InvalidOperationException($"{ScriptName} exited with {code}: {LastLine(stderr)}");
        return Parse(stdout);
    }

    /// <summary>The node command line: the script, then its options (see the script's header).</summary>
    internal static List<string> Arguments(BenchOptions options, IReadOnlyList<string> workloads, string connection, string run) =>
    [
        ScriptName,
        "--connection", connection,
        "--workloads", string.Join(',', workloads),
        "--duration-ms", ((long)options.Duration.TotalMilliseconds).ToString(CultureInfo.InvariantCulture),
        "--stream-read-size", options.StreamReadSize.ToString(CultureInfo.InvariantCulture),
        "--all-read-size", options.AllReadSize.ToString(CultureInfo.InvariantCulture),
        "--payload-base64", Convert.ToBase64String(Payload.Json),
        "--event-type", Payload.EventType,
        "--run", run,
    ];

    /// <summary>One measurement per JSON line the script printed; other lines (client warnings) are ignored.</summary>
    internal static List<Measurement> Parse(string stdout)
    {
        var results = new List<Measurement>();
        foreach (var line in stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!line.StartsWith('{')) continue;
            using var json = JsonDocument.Parse(line);
            var root = json.RootElement;
            results.Add(new Measurement
            {
                Backend = "esdb",
                Subject = Package,
                Workload = root.GetProperty("workload").GetString()!,
                Method = root.TryGetProperty("method", out var m) ? m.GetString() : null,
                Operations = root.GetProperty("operations").GetInt64(),
                Events = root.GetProperty("events").GetInt64(),
                Seconds = root.GetProperty("seconds").GetDouble(),
            });
        }
        return results;
    }

    private static async Task InstallAsync(string dir, CancellationToken ct)
    {
        var manifest = Path.Combine(dir, "node_modules", "@kurrent", "kurrentdb-client", "package.json");
        if (File.Exists(manifest))
        {
            using var json = JsonDocument.Parse(await File.ReadAllTextAsync(manifest, ct).ConfigureAwait(false));
            if (json.RootElement.TryGetProperty("version", out var v) && v.GetString() == PackageVersion) return;
        }
        Directory.CreateDirectory(dir);
        // An ES module needs a package.json saying so next to it.
        await File.WriteAllTextAsync(Path.Combine(dir, "package.json"), """{"private":true,"type":"module"}""", ct).ConfigureAwait(false);
        var (code, _, stderr) = await ExecAsync(dir, "npm",
            ["install", "--no-audit", "--no-fund", "--loglevel=error", $"{Package}@{PackageVersion}"], TimeSpan.FromMinutes(5), ct).ConfigureAwait(false);
        if (code != 0) throw new TargetUnavailableException($"npm install {Package}@{PackageVersion} failed (exit {code}): {LastLine(stderr)}");
    }

    private static async Task<(int Code, string Stdout, string Stderr)> ExecAsync(string dir, string file, IEnumerable<string> args, TimeSpan timeout, CancellationToken ct)
    {
        var psi = new ProcessStartInfo(file) { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        Process p;
        try
        {
            p = Process.Start(psi) ?? throw new TargetUnavailableException($"could not start {file}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new TargetUnavailableException($"{file} is not installed", e);
        }
        using (p)
        {
            var stdout = p.StandardOutput.ReadToEndAsync(ct);
            var stderr = p.StandardError.ReadToEndAsync(ct);
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(timeout);
            try
            {
                await p.WaitForExitAsync(cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                p.Kill(entireProcessTree: true);
                if (ct.IsCancellationRequested) throw;
                throw new InvalidOperationException($"{file} did not finish within {timeout.TotalMinutes:N0} min");
            }
            return (p.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
        }
    }

    private static string LastLine(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault()?.Trim() ?? "";
}
