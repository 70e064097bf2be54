using System.Diagnostics;

namespace EventStore.Providers.Bench.Targets;

/// <summary>Starts and stops the project's servers through their eng/ scripts (KEY=value lines in .tmp/servers/NAME.env).</summary>
internal sealed class EngScript(string? repoRoot, string server)
{
    private bool _startedHere;

    public string? ScriptPath => repoRoot is null ? null : Path.Combine(repoRoot, "eng", $"{server}.sh");

    private string? EnvFile => repoRoot is null ? null : Path.Combine(repoRoot, ".tmp", "servers", $"{server}.env");

    /// <summary>Runs <c>eng/SERVER.sh start ARGS</c> and returns the variables it wrote.</summary>
    public async Task<Dictionary<string, string>> StartAsync(string[] args, CancellationToken ct)
    {
        if (ScriptPath is null || !File.Exists(ScriptPath))
            throw new TargetUnavailableException($"eng/{server}.sh is not in this checkout");
        var alreadyUp = EnvFile is not null && File.Exists(EnvFile);
        var (code, stdout, stderr) = await RunAsync(["start", .. args], TimeSpan.FromMinutes(4), ct).ConfigureAwait(false);
        if (code != 0)
        {
            var last = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault()
                ?? stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "";
            throw new TargetUnavailableException($"eng/{server}.sh start failed (exit {code}): {last.Trim()}");
        }
        _startedHere = !alreadyUp;
        var vars = Parse(stdout);
        if (EnvFile is not null && File.Exists(EnvFile))
            foreach (var (k, v) in Parse(await File.ReadAllTextAsync(EnvFile, ct).ConfigureAwait(false))) vars[k] = v;
        return vars;
    }

    /// <summary>Stops the server only if this run started it, so a server someone else is using keeps running.</summary>
    public async Task StopIfStartedAsync()
    {
        if (!_startedHere) return;
        await RunAsync(["stop"], TimeSpan.FromMinutes(1), CancellationToken.None).ConfigureAwait(false);
    }

    private static Dictionary<string, string> Parse(string text)
    {
        var vars = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            var eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) continue;
            var key = line[..eq].Trim();
            if (key.StartsWith("export ", StringComparison.Ordinal)) key = key[7..].Trim();
            if (key.Length == 0 || !key.All(c => char.IsAsciiLetterOrDigit(c) || c == '_')) continue;
            vars[key] = line[(eq + 1)..].Trim().Trim('"', '\'');
        }
        return vars;
    }

    private async Task<(int Code, string Stdout, string Stderr)> RunAsync(string[] args, TimeSpan timeout, CancellationToken ct)
    {
        var psi = new ProcessStartInfo("bash") { WorkingDirectory = repoRoot!, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(ScriptPath!);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new TargetUnavailableException($"could not start bash for eng/{server}.sh");
        var stdout = p.StandardOutput.ReadToEndAsync(ct);
        var stderr = p.StandardError.ReadToEndAsync(ct);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        try
        {
            await p.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            p.Kill(entireProcessTree: true);
            throw new TargetUnavailableException($"eng/{server}.sh {args[0]} did not finish within {timeout.TotalSeconds:N0} s");
        }
        return (p.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
    }

    /// <summary>The first variable whose name contains <paramref name="part"/> (scripts name them EVENTSTORE_..._CONNECTION or similar).</summary>
    public static string? Find(Dictionary<string, string> vars, string exact, string part) =>
        vars.TryGetValue(exact, out var v) ? v : vars.FirstOrDefault(kv => kv.Key.Contains(part, StringComparison.OrdinalIgnoreCase)).Value;
}
