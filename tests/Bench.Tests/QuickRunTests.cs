using System.Text.Json;
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
         "subscription", "aggregate", "aggregate-snapshot", "under-load", "scale"];

    private static readonly string[] Charts = ["throughput.png", "latency.png", "scale.png"];

    [Fact]
    public async Task A_quick_run_on_the_in_memory_provider_measures_every_workload_and_writes_json_markdown_and_charts()
    {
        var run = await RunQuickAsync("inmemory");

        var measurements = Measurements(run, "InMemory");
        foreach (var workload in ProviderWorkloads)
        {
            var m = Assert.Single(measurements, m => m.GetProperty("workload").GetString() == workload);
            Assert.True(m.GetProperty("status").GetString() == "ok", $"InMemory {workload}: {m.GetProperty("status")} {Reason(m)}");
            if (workload != "scale") Assert.True(m.GetProperty("events").GetInt64() > 0, $"InMemory {workload} counted no events");
        }
        AssertArtifacts(run, ["InMemory"]);
    }

    [Fact]
    public async Task A_quick_run_on_in_memory_and_postgres_measures_the_provider_and_its_peers_and_computes_the_ratios()
    {
        var run = await RunQuickAsync("inmemory,postgres");

        foreach (var subject in new[] { "InMemory", "PostgreSQL" })
        {
            var measurements = Measurements(run, subject);
            foreach (var workload in ProviderWorkloads)
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
        // test.sh may hand over its non-durable test server; the bench must then say which it measured.
        Assert.Matches("fsync=(on|off)", Json(run).GetProperty("environment").GetProperty("servers").GetProperty("postgres").GetString());
        AssertArtifacts(run, ["InMemory", "PostgreSQL", "Marten", "Npgsql raw"]);
    }

    private static async Task<DirectoryInfo> RunQuickAsync(string providers)
    {
        var root = Directory.CreateTempSubdirectory("bench-smoke-");
        var console = new StringWriter();
        var code = await BenchApp.RunAsync(["--quick", "--providers", providers, "--out", root.FullName], console, TestContext.Current.CancellationToken);
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

        var md = File.ReadAllText(Path.Combine(run.FullName, "results.md"));
        Assert.StartsWith("# EventStore.Providers benchmark", md, StringComparison.Ordinal);
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
        }
    }
}
