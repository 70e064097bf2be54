using System.Text.Json;
using EventStore.Providers.Bench.Reporting;
using Xunit;

namespace EventStore.Providers.Bench.Tests;

/// <summary>
/// Runs the bench's own entry point with --quick into a temp folder and checks what it leaves behind. Numbers are never
/// asserted (they belong to the bench, as ratios); only that every selected provider and workload is accounted for and
/// the artifacts are well formed.
/// </summary>
public sealed class QuickRunTests
{
    private static readonly string[] ProviderWorkloads =
        ["append-1w", "append-8w", "append-16w", "append-race", "batch-100", "read-stream", "read-all", "read-all-large",
         "subscription", "aggregate", "aggregate-snapshot", "under-load", "projection", "projection-live", "groups-1", "groups-2", "groups-4", "groups-handover", "scale"];

    private static readonly string[] Charts = ["throughput.png", "latency.png", "scale.png"];

    [Fact]
    public async Task A_quick_run_on_the_in_memory_provider_measures_every_workload_and_writes_json_markdown_and_charts()
    {
        // A quick run leaves the groups workload out unless it is named; this run names every workload.
        var run = await RunQuickAsync("inmemory", "--workloads", string.Join(',', Core.BenchOptions.AllWorkloads));

        var measurements = Measurements(run, "InMemory");
        foreach (var workload in ProviderWorkloads)
        {
            var m = Assert.Single(measurements, m => m.GetProperty("workload").GetString() == workload);
            Assert.True(m.GetProperty("status").GetString() == "ok", $"InMemory {workload}: {m.GetProperty("status")} {Reason(m)}");
            if (workload != "scale") Assert.True(m.GetProperty("events").GetInt64() > 0, $"InMemory {workload} counted no events");
        }
        AssertArtifacts(run, ["InMemory"]);

        // The cost curves: every measure at every requested store size (quick: 0 and 10,000), each with its chart.
        var costs = Json(run).GetProperty("costCurves").EnumerateArray().Where(p => p.GetProperty("subject").GetString() == "InMemory").ToList();
        foreach (var measure in new[] { "append", "read-stream", "read-all-page", "category-rare", "category-common", "aggregate" })
        {
            var sizes = costs.Where(p => p.GetProperty("measure").GetString() == measure).Select(p => p.GetProperty("storeSize").GetInt64()).ToList();
            Assert.True(sizes.Count == 2, $"{measure}: {sizes.Count} points");
            Assert.True(sizes[1] >= 10_000 && sizes[1] < 20_000, $"{measure}: the second point is at {sizes[1]} events, not near the requested 10,000");
            Assert.True(File.Exists(Path.Combine(run.FullName, $"cost-{measure}.png")), $"cost-{measure}.png was not written");
        }
        Assert.Contains("## Cost curves", File.ReadAllText(Path.Combine(run.FullName, "results.md")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_run_without_charts_writes_no_chart_and_its_report_lists_none()
    {
        var run = await RunQuickAsync("inmemory", "--workloads", "append-1w,read-stream", "--no-charts");

        Assert.Empty(run.GetFiles("*.png"));
        var md = File.ReadAllText(Path.Combine(run.FullName, "results.md"));
        Assert.Contains("Charts: none", md, StringComparison.Ordinal);
        Assert.DoesNotContain("throughput.png", md, StringComparison.Ordinal);
    }

    [Fact]
    public void The_readme_benchmark_section_is_generated_from_the_committed_results()
    {
        var root = RepoRoot();
        var readme = File.ReadAllText(Path.Combine(root, "README.md"));
        var results = File.ReadAllText(Path.Combine(root, "docs", "bench", "results.md"));

        // Regenerate with: dotnet run --project bench/EventStore.Providers.Bench -- --update-readme docs/bench/results.md
        Assert.Equal(ReadmeSection.From(results, "docs/bench/results.md"), ReadmeSection.Current(readme));
    }

    [Fact]
    public async Task A_quick_run_on_in_memory_and_postgres_measures_the_provider_and_its_peers_and_computes_the_ratios()
    {
        var run = await RunQuickAsync("inmemory,postgres");

        foreach (var subject in new[] { "InMemory", "PostgreSQL" })
        {
            var measurements = Measurements(run, subject);
            // A plain quick run leaves the groups workload out (it runs only when named).
            Assert.DoesNotContain(measurements, m => m.GetProperty("workload").GetString()!.StartsWith("groups", StringComparison.Ordinal));
            foreach (var workload in ProviderWorkloads.Where(w => !w.StartsWith("groups", StringComparison.Ordinal)))
            {
                var m = Assert.Single(measurements, m => m.GetProperty("workload").GetString() == workload);
                Assert.True(m.GetProperty("status").GetString() == "ok", $"{subject} {workload}: {m.GetProperty("status")} {Reason(m)}");
            }
        }
        foreach (var (peer, workloads) in new[] { ("Npgsql raw", new[] { "append-1w", "append-8w", "batch-100", "read-all" }), ("Marten", new[] { "append-1w", "append-8w", "batch-100" }) })
        {
            var measurements = Measurements(run, peer);
            foreach (var workload in workloads)
                Assert.Contains(measurements, m => m.GetProperty("workload").GetString() == workload && m.GetProperty("status").GetString() == "ok");
        }
        var ratios = Json(run).GetProperty("ratios").EnumerateArray().Where(r => r.GetProperty("backend").GetString() == "postgres").ToList();
        Assert.Equal(7, ratios.Count);
        Assert.All(ratios, r => Assert.Equal(JsonValueKind.Number, r.GetProperty("value").ValueKind));
        // A raw peer is the limit its ratio is a fraction of: where it ran slower than the provider, the table says so.
        Assert.All(ratios.Where(r => r.GetProperty("peerIsLimit").GetBoolean() && r.GetProperty("value").GetDouble() > 1),
            r => Assert.Contains(Ratios.PeerSlowerNote, r.GetProperty("note").GetString() ?? "", StringComparison.Ordinal));
        Assert.Contains(ratios, r => r.GetProperty("peerIsLimit").GetBoolean());
        // test.sh may hand over its non-durable test server; the bench must then say which it measured.
        Assert.Matches("fsync=(on|off)", Json(run).GetProperty("environment").GetProperty("servers").GetProperty("postgres").GetString());
        AssertArtifacts(run, ["InMemory", "PostgreSQL", "Marten", "Npgsql raw"]);
    }

    private static async Task<DirectoryInfo> RunQuickAsync(string providers, params string[] more)
    {
        var root = Directory.CreateTempSubdirectory("bench-smoke-");
        var console = new StringWriter();
        var code = await BenchApp.RunAsync(["--quick", "--providers", providers, "--out", root.FullName, .. more], console, TestContext.Current.CancellationToken);
        Assert.True(code == 0, $"the bench exited with {code}:\n{console}");
        var run = Assert.Single(root.GetDirectories());
        Assert.Contains("artifacts:", console.ToString(), StringComparison.Ordinal);
        return run;
    }

    private static JsonElement Json(DirectoryInfo run) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(run.FullName, "results.json"))).RootElement;

    private static List<JsonElement> Measurements(DirectoryInfo run, string subject) =>
        Json(run).GetProperty("measurements").EnumerateArray().Where(m => m.GetProperty("subject").GetString() == subject).ToList();

    private static string Reason(JsonElement m) => m.TryGetProperty("reason", out var r) ? r.GetString() ?? "" : "";

    private static void AssertArtifacts(DirectoryInfo run, string[] subjects)
    {
        var json = Json(run);
        Assert.True(json.GetProperty("environment").GetProperty("cores").GetInt32() > 0);
        var ran = json.GetProperty("subjects").EnumerateArray().Select(s => s.GetProperty("subject").GetString()).ToList();
        foreach (var s in subjects)
        {
            Assert.Contains(s, ran);
            var peak = json.GetProperty("subjects").EnumerateArray().First(x => x.GetProperty("subject").GetString() == s).GetProperty("peakWorkingSetMb");
            Assert.True(peak.GetDouble() > 0, $"{s} has no peak working set");
        }

        foreach (var m in json.GetProperty("measurements").EnumerateArray())
        {
            var quality = m.GetProperty("quality").GetString() ?? "";
            Assert.True(quality == m.GetProperty("status").GetString() || quality.StartsWith("too few samples", StringComparison.Ordinal),
                $"{m.GetProperty("subject")} {m.GetProperty("workload")}: quality '{quality}'");
        }

        var md = File.ReadAllText(Path.Combine(run.FullName, "results.md"));
        Assert.StartsWith("# EventStore.Providers benchmark", md, StringComparison.Ordinal);
        Assert.DoesNotContain("allocated: MB", md, StringComparison.Ordinal);
        var header = md.Split('\n').First(l => l.StartsWith("| Workload |", StringComparison.Ordinal));
        foreach (var s in subjects) Assert.Contains($" {s} |", header, StringComparison.Ordinal);
        Assert.Contains("cores", md, StringComparison.Ordinal);

        byte[] signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
        foreach (var chart in Charts)
        {
            var path = Path.Combine(run.FullName, chart);
            Assert.True(File.Exists(path), $"{chart} was not written");
            var bytes = File.ReadAllBytes(path);
            Assert.True(bytes.Length > 10_000, $"{chart} is only {bytes.Length} bytes");
            Assert.Equal(signature, bytes[..8]);
            Assert.Equal("IHDR"u8.ToArray(), bytes[12..16]);
            var width = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16, 4));
            Assert.True(width <= 1200, $"{chart} is {width} px wide; the README shows it at about 900 px");
        }
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "EventStore.Providers.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no EventStore.Providers.sln above {AppContext.BaseDirectory}");
    }
}
