using System.Diagnostics;
using System.Globalization;
using EventStore.Providers.Bench.Core;
using EventStore.Providers.Bench.Reporting;
using EventStore.Providers.Bench.Targets;
using Spectre.Console;

namespace EventStore.Providers.Bench;

/// <summary>The bench's entry point, callable in-process by the smoke test.</summary>
public static class BenchApp
{
    /// <summary>Runs the bench with command-line <paramref name="args"/>, printing to <paramref name="output"/>; returns the exit code.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) });
        if (!ReferenceEquals(output, Console.Out) || Console.IsOutputRedirected)
            console.Profile.Width = 160;
        if (args.Contains("--help") || args.Contains("-h"))
        {
            console.WriteLine(BenchOptions.Usage);
            return 0;
        }
        if (args.Length == 2 && args[0] == "--update-readme")
            return await UpdateReadmeAsync(args[1], console, cancellationToken).ConfigureAwait(false);
        BenchOptions options;
        try
        {
            options = BenchOptions.Parse(args);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
        {
            console.MarkupLineInterpolated($"[red]{e.Message}[/]");
            console.WriteLine(BenchOptions.Usage);
            return 2;
        }

        var repoRoot = EventStore.Providers.TestServers.RepositoryRoot.TryFind();
        var timestamp = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        var outDir = Path.Combine(options.OutputRoot ?? Path.Combine(repoRoot ?? Directory.GetCurrentDirectory(), "artifacts", "bench"), timestamp);
        Directory.CreateDirectory(outDir);
        var environment = EnvironmentInfo.Capture();
        var results = new BenchResults
        {
            Timestamp = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture),
            Environment = environment,
            Settings = Describe(options),
        };
        console.MarkupLineInterpolated($"[bold]EventStore.Providers bench[/] {(options.Quick ? "(quick)" : "")} → {outDir}");
        console.MarkupLineInterpolated($"[grey]{environment.Cores} cores · {environment.Cpu} · {environment.Os} · {environment.Runtime}[/]");

        var targets = Targets(repoRoot);
        await console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async ctx =>
            {
                ProgressTask? current = null;
                Action<double> Progress(string label)
                {
                    current?.Value(current.MaxValue);
                    current = ctx.AddTask(Markup.Escape(label), maxValue: 1);
                    var task = current;
                    return v => task.Value = Math.Clamp(v, 0, 1);
                }
                foreach (var key in options.Providers)
                {
                    var target = targets.First(t => t.Key == key);
                    await RunTargetAsync(target, options, results, Progress, cancellationToken).ConfigureAwait(false);
                }
                current?.Value(current.MaxValue);
            }).ConfigureAwait(false);

        results.Ratios.AddRange(Ratios.Compute(results));
        await ResultsJson.WriteAsync(Path.Combine(outDir, "results.json"), results, cancellationToken).ConfigureAwait(false);
        var charts = options.Charts ? Charts.Write(outDir, results) : [];
        await File.WriteAllTextAsync(Path.Combine(outDir, "results.md"), MarkdownReport.Render(results, charts), cancellationToken).ConfigureAwait(false);
        ConsoleReport.Print(console, results);
        console.MarkupLineInterpolated($"[green]artifacts:[/] {outDir}");
        return 0;
    }

    /// <summary>Rewrites the README's generated benchmark section from <paramref name="resultsPath"/> (a results.md).</summary>
    private static async Task<int> UpdateReadmeAsync(string resultsPath, IAnsiConsole console, CancellationToken ct)
    {
        var root = EventStore.Providers.TestServers.RepositoryRoot.TryFind() ?? Directory.GetCurrentDirectory();
        var readmePath = Path.Combine(root, "README.md");
        var results = Path.GetFullPath(resultsPath);
        var link = Path.GetRelativePath(root, results).Replace('\\', '/');
        var readme = await File.ReadAllTextAsync(readmePath, ct).ConfigureAwait(false);
        var section = ReadmeSection.From(await File.ReadAllTextAsync(results, ct).ConfigureAwait(false), link);
        await File.WriteAllTextAsync(readmePath, ReadmeSection.Splice(readme, section), ct).ConfigureAwait(false);
        console.MarkupLineInterpolated($"[green]README.md[/]: benchmark section rewritten from {link}");
        return 0;
    }

    private static async Task RunTargetAsync(IBenchTarget target, BenchOptions options, BenchResults results,
        Func<string, Action<double>> progress, CancellationToken ct)
    {
        var backend = target.Key;
        var starting = progress($"{target.Subject}: starting");
        TargetSession session;
        var clock = Stopwatch.StartNew();
        try
        {
            session = await target.StartAsync(options, ct).ConfigureAwait(false);
            starting(1);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            var why = e is TargetUnavailableException ? e.Message : $"{e.GetType().Name}: {Measurement.FirstLine(e.Message)}";
            results.Subjects.Add(new SubjectRun(backend, target.Subject, "not run", why, null, 0));
            foreach (var w in options.Workloads) results.Measurements.Add(Measurement.NotRun(backend, target.Subject, w, why));
            starting(1);
            return;
        }
        await using (session.ConfigureAwait(false))
        {
            foreach (var (k, v) in session.ServerInfo) results.Environment.Servers[k] = v;
            using (var mem = MemorySampler.Start())
            {
                clock.Restart();
                var workloads = new ProviderWorkloads(backend, target.Subject, session, options, progress, ct);
                var measured = await workloads.RunAsync().ConfigureAwait(false);
                results.Measurements.AddRange(measured);
                results.ScaleCurve.AddRange(workloads.ScaleCurve);
                results.CostCurves.AddRange(workloads.CostCurves);
                var ran = measured.Any(m => m.Status == "ok");
                results.Subjects.Add(new SubjectRun(backend, target.Subject, ran ? "ok" : measured.FirstOrDefault()?.Status ?? "not run",
                    ran ? null : measured.FirstOrDefault()?.Reason, mem.PeakWorkingSetMb, clock.Elapsed.TotalSeconds) { Problems = workloads.Problems });
            }
            foreach (var peer in session.Peers)
            {
                using var mem = MemorySampler.Start();
                clock.Restart();
                try
                {
                    var measured = await peer.RunAsync(options, progress, ct).ConfigureAwait(false);
                    results.Measurements.AddRange(measured);
                    results.Subjects.Add(new SubjectRun(backend, peer.Name, "ok", null, mem.PeakWorkingSetMb, clock.Elapsed.TotalSeconds));
                }
                catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
                {
                    var why = $"{e.GetType().Name}: {Measurement.FirstLine(e.Message)}";
                    results.Subjects.Add(new SubjectRun(backend, peer.Name, "failed", why, mem.PeakWorkingSetMb, clock.Elapsed.TotalSeconds));
                    results.Measurements.Add(new Measurement { Backend = backend, Subject = peer.Name, Workload = "peer", Status = "failed", Reason = why });
                }
            }
        }
    }

    private static List<IBenchTarget> Targets(string? repoRoot) =>
    [
        new InMemoryTarget(),
        new PostgresTarget(),
        new DynamoDbTarget(),
        new KafkaTarget(),
        new EventStoreDbTarget(repoRoot),
    ];

    private static Dictionary<string, string> Describe(BenchOptions o) => new()
    {
        ["mode"] = o.Quick ? "quick" : "default",
        ["duration per timed workload"] = $"{o.Duration.TotalSeconds:0.##} s",
        ["providers"] = string.Join(",", o.Providers),
        ["workloads"] = string.Join(",", o.Workloads),
        ["stream read size"] = o.StreamReadSize.ToString("N0", CultureInfo.InvariantCulture),
        ["$all catch-up size"] = o.AllReadSize.ToString("N0", CultureInfo.InvariantCulture),
        ["scale sizes"] = string.Join(", ", o.ScaleSizes.Select(s => s.ToString("N0", CultureInfo.InvariantCulture))),
        ["scale fill budget"] = $"{o.ScaleFillBudget.TotalSeconds:0} s",
        ["aggregate"] = $"{o.AggregateCount} aggregates x {o.AggregateEvents} events",
        ["event body"] = $"{Payload.Json.Length} B JSON",
    };
}
