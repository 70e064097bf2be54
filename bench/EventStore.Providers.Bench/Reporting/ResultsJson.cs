using System.Text.Json;
using System.Text.Json.Serialization;
using EventStore.Providers.Bench.Core;

namespace EventStore.Providers.Bench.Reporting;

internal static class ResultsJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static async Task WriteAsync(string path, BenchResults results, CancellationToken ct)
    {
        await using var file = File.Create(path);
        await JsonSerializer.SerializeAsync(file, results, Options, ct).ConfigureAwait(false);
    }
}
