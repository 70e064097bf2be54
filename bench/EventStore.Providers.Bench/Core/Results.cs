using EventStore.Providers.Bench.Reporting;

namespace EventStore.Providers.Bench.Core;

/// <summary>Latency percentiles of one measurement, in milliseconds.</summary>
internal sealed record LatencySummary(long Count, double MeanMs, double P50Ms, double P90Ms, double P99Ms, double P999Ms, double MaxMs);

/// <summary>One workload measured on one subject (a provider, a peer library or a raw client).</summary>
internal sealed record Measurement
{
    public required string Backend { get; init; }
    public required string Subject { get; init; }
    public required string Workload { get; init; }
    /// <summary>What was actually done, e.g. "single-row INSERT" for a raw peer.</summary>
    public string? Method { get; init; }
    public string Status { get; init; } = "ok";
    public string? Reason { get; init; }
    /// <summary>The full error behind a failure, for whoever has to fix it (results.json only).</summary>
    public string? Detail { get; init; }
    public long Operations { get; init; }
    public long Events { get; init; }
    public double Seconds { get; init; }
    public double OperationsPerSecond => Seconds > 0 ? Operations / Seconds : 0;
    public double EventsPerSecond => Seconds > 0 ? Events / Seconds : 0;
    public LatencySummary? Latency { get; init; }
    /// <summary>A second latency of the same run (subscription lag under load).</summary>
    public LatencySummary? SecondaryLatency { get; init; }
    public long Conflicts { get; init; }
    public double? AllocatedMb { get; init; }
    public double? HeapGrowthMb { get; init; }
    public Dictionary<string, string> Notes { get; init; } = [];

    /// <summary>Fewer timed samples than this make a result too thin to compare; it is marked, not reported as plain ok.</summary>
    public const int MinSamples = 10;

    /// <summary>How many timed calls the result rests on.</summary>
    public long Samples => Latency?.Count ?? Operations;

    /// <summary>"ok", or "too few samples (n)" for a result that ran but rests on fewer than <see cref="MinSamples"/> calls.</summary>
    public string Quality => Status != "ok" ? Status : Workload is "scale" or "groups-handover" || Samples >= MinSamples ? "ok" : $"too few samples ({Samples})";

    public static Measurement NotRun(string backend, string subject, string workload, string why, Exception? e = null) =>
        new() { Backend = backend, Subject = subject, Workload = workload, Status = "not run", Reason = why, Detail = e?.ToString() };

    public static Measurement Failed(string backend, string subject, string workload, Exception e) =>
        new() { Backend = backend, Subject = subject, Workload = workload, Status = "failed", Reason = Why(e), Detail = e.ToString() };

    /// <summary>A one-line reason: configuration errors already read as sentences, others get their type name.</summary>
    public static string Why(Exception e) => e switch
    {
        EventStoreConfigurationException c => FirstLine(c.Message),
        AggregateException { InnerExceptions.Count: > 0 } a => Why(a.InnerExceptions[0]),
        _ => $"{e.GetType().Name}: {FirstLine(e.Message)}",
    };

    internal static string FirstLine(string text)
    {
        var line = text.Split('\n', 2)[0].Trim();
        return line.Length > 200 ? line[..200] + "…" : line;
    }
}

/// <summary>Append latency at one store size of the scale curve.</summary>
internal sealed record ScalePoint(string Backend, string Subject, long StoreSize, double P50Ms, double P99Ms, double AppendsPerSecond);

/// <summary>
/// The cost of one operation (<see cref="CostCurves.Measures"/>) at one store size: how a backend's cost grows as the store
/// grows. <see cref="Samples"/> is how many timed calls it rests on.
/// </summary>
internal sealed record CostPoint(string Backend, string Subject, string Measure, long StoreSize, double P50Ms, double P99Ms, long Samples);

/// <summary>A ratio one of the provider issues asks for, computed from two measurements of the same run.</summary>
/// <remarks>
/// <see cref="PeerIsLimit"/>: the denominator is a raw client doing the least work that returns what the provider returns,
/// so the ratio should stay at or below 100%; one above says so in its note (<see cref="Ratios.PeerSlowerNote"/>).
/// </remarks>
internal sealed record RatioResult(string Backend, string Name, string Numerator, string Denominator, double? Value, string Target, bool? Met, string? Note,
    bool PeerIsLimit = false);

/// <summary>One subject's run as a whole: whether it ran and its memory high-water mark.</summary>
internal sealed record SubjectRun(string Backend, string Subject, string Status, string? Reason, double? PeakWorkingSetMb, double Seconds)
{
    /// <summary>Errors outside the workloads, such as a store that failed to dispose.</summary>
    public List<string> Problems { get; init; } = [];
}

/// <summary>Everything results.json holds.</summary>
internal sealed record BenchResults
{
    public required string Timestamp { get; init; }
    public required EnvironmentInfo Environment { get; init; }
    public required Dictionary<string, string> Settings { get; init; }
    public List<SubjectRun> Subjects { get; init; } = [];
    public List<Measurement> Measurements { get; init; } = [];
    public List<ScalePoint> ScaleCurve { get; init; } = [];
    public List<CostPoint> CostCurves { get; init; } = [];
    public List<RatioResult> Ratios { get; init; } = [];
}
