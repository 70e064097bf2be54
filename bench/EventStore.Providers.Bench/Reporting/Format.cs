using System.Globalization;

namespace EventStore.Providers.Bench.Reporting;

internal static class Format
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static string Rate(double perSecond) => perSecond switch
    {
        >= 1_000_000 => $"{(perSecond / 1_000_000).ToString("0.00", Inv)}M/s",
        >= 10_000 => $"{(perSecond / 1000).ToString("0.0", Inv)}k/s",
        _ => $"{perSecond.ToString("N0", Inv)}/s",
    };

    public static string Ms(double ms) => ms switch
    {
        < 0.1 => ms.ToString("0.000", Inv),
        < 10 => ms.ToString("0.00", Inv),
        _ => ms.ToString("N0", Inv),
    };

    public static string Mb(double? mb) => mb is null ? "-" : $"{mb.Value.ToString("N1", Inv)} MB";

    public static string Ratio(double? r) => r is null ? "-" : $"{(r.Value * 100).ToString("N0", Inv)}%";

    public static string Growth(double? r) => r is null ? "-" : $"{(r.Value * 100).ToString("+0;-0", Inv)}%";

    public static string N(long n) => n.ToString("N0", Inv);

    /// <summary>Markdown table cells must not contain pipes or new lines.</summary>
    public static string Cell(string? text) => (text ?? "").Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);

    public static readonly string[] WorkloadOrder =
        ["append-1w", "append-1w-indexed", "append-1w-commit-item", "append-1w-alternating", "append-8w", "append-8w-indexed", "append-16w", "append-16w-indexed", "append-race", "append-pipelined", "batch-100", "read-stream", "read-all", "read-all-large",
         "subscription", "aggregate", "aggregate-snapshot", "under-load", "projection", "projection-live", "groups-1", "groups-2", "groups-4", "groups-handover", "scale"];

    public static string Describe(string workload) => workload switch
    {
        "append-1w" => "single-event append, 1 writer",
        "append-1w-indexed" => "single-event append, 1 writer, the item in the provider's indexes (raw peer)",
        "append-1w-commit-item" => "single-event append, 1 writer, the provider's own commit item (raw peer)",
        "append-1w-alternating" => "single-event append, 1 writer, in rounds alternating with the plain put",
        "append-8w" => "single-event append, 8 writers, distinct streams",
        "append-16w" => "single-event append, 16 writers, distinct streams (writer scaling)",
        "append-8w-indexed" => "single-event append, 8 writers, the item in the provider's indexes (raw peer)",
        "append-16w-indexed" => "single-event append, 16 writers, the item in the provider's indexes (raw peer)",
        "append-race" => "8 writers racing on 1 stream",
        "append-pipelined" => "pipelined produce (many in flight)",
        "batch-100" => "100-event batch append",
        "read-stream" => "read one stream",
        "read-all" => "$all catch-up",
        "read-all-large" => "$all read of the whole scale store",
        "subscription" => "subscription append -> handler",
        "aggregate" => "aggregate load, no snapshot",
        "aggregate-snapshot" => "aggregate load, snapshot",
        "under-load" => "16 writers x 100 streams + live subscription",
        "projection" => "projection (SubscriptionRunner + checkpoints) catching up on a backlog",
        "projection-live" => "projection live under 16 writers",
        "groups-1" => "subscription group, 1 instance, catching up on a backlog, then live",
        "groups-2" => "subscription group, 2 instances (Partitioned), same backlog, then live",
        "groups-4" => "subscription group, 4 instances (Partitioned), same backlog, then live",
        "groups-handover" => "group handover after an instance stops without leaving (p50 / max ms)",
        "scale" => "append latency as the store grows",
        _ => workload,
    };

    public static int Order(string workload)
    {
        var i = Array.IndexOf(WorkloadOrder, workload);
        return i < 0 ? WorkloadOrder.Length : i;
    }
}
