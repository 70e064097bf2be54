using System.Reflection;
using PublicApiGenerator;
using Xunit;

namespace EventStore.Providers.PublicApi.Tests;

/// <summary>
/// Every package's public API is written down in <c>api/&lt;package&gt;.txt</c>; a change to it fails here until the file
/// is updated in the same commit, so an API change is always a reviewed line in a diff. To accept a change, run
/// <c>UPDATE_PUBLIC_API=1 dotnet test tests/PublicApi.Tests</c> and commit the files it rewrites.
/// </summary>
public sealed class PublicApiTests
{
    public static TheoryData<string> Packages() =>
    [
        "EventStore.Providers.Abstractions", "EventStore.Providers.Domain", "EventStore.Providers.Hosting",
        "EventStore.Providers.InMemory", "EventStore.Providers.Postgres", "EventStore.Providers.DynamoDB",
        "EventStore.Providers.Kafka", "EventStore.Providers.EventStoreDB",
    ];

    // The compiler names an async method's state machine by its place among the type's members (d__64), so adding a
    // private member renumbers it: not an API change.
    private static readonly string[] CompilerNoise =
    [
        "System.Runtime.CompilerServices.AsyncStateMachineAttribute",
        "System.Runtime.CompilerServices.AsyncIteratorStateMachineAttribute",
        "System.Runtime.CompilerServices.IteratorStateMachineAttribute",
    ];

    [Theory]
    [MemberData(nameof(Packages))]
    public void The_public_api_matches_its_approved_file(string package)
    {
        var assembly = Assembly.Load(package);
        var api = assembly.GeneratePublicApi(new ApiGeneratorOptions { IncludeAssemblyAttributes = false, ExcludeAttributes = CompilerNoise }).ReplaceLineEndings("\n");
        var file = Path.Combine(RepoRoot(), "api", $"{package}.txt");
        if (Environment.GetEnvironmentVariable("UPDATE_PUBLIC_API") == "1")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            File.WriteAllText(file, api);
        }
        Assert.True(File.Exists(file), $"{file} is missing: run UPDATE_PUBLIC_API=1 dotnet test tests/PublicApi.Tests and commit it.");
        var approved = File.ReadAllText(file).ReplaceLineEndings("\n");
        Assert.True(approved == api,
            $"The public API of {package} changed. Review the difference, then run UPDATE_PUBLIC_API=1 dotnet test tests/PublicApi.Tests and commit api/{package}.txt.\n" +
            FirstDifference(approved, api));
    }

    [Fact]
    public void The_contract_package_depends_only_on_the_base_library_and_logging_abstractions()
    {
        var references = Assembly.Load("EventStore.Providers.Abstractions").GetReferencedAssemblies().Select(a => a.Name!).ToList();
        Assert.All(references, name => Assert.True(
            name.StartsWith("System", StringComparison.Ordinal) || name is "netstandard" or "Microsoft.Extensions.Logging.Abstractions",
            $"the contract references {name}"));
    }

    [Fact]
    public void Serialization_aggregates_and_projections_do_not_pull_in_hosting_or_dependency_injection()
    {
        var references = Assembly.Load("EventStore.Providers.Domain").GetReferencedAssemblies().Select(a => a.Name!).ToList();
        Assert.Contains("EventStore.Providers.Abstractions", references);
        Assert.DoesNotContain(references, name =>
            name.StartsWith("Microsoft.Extensions.Hosting", StringComparison.Ordinal) ||
            name.StartsWith("Microsoft.Extensions.DependencyInjection", StringComparison.Ordinal) ||
            name.StartsWith("Microsoft.Extensions.Diagnostics.HealthChecks", StringComparison.Ordinal) ||
            name.StartsWith("Microsoft.Extensions.Configuration", StringComparison.Ordinal) ||
            name == "EventStore.Providers.Hosting");
    }

    private static string FirstDifference(string approved, string actual)
    {
        var a = approved.Split('\n');
        var b = actual.Split('\n');
        for (var i = 0; i < Math.Max(a.Length, b.Length); i++)
        {
            var left = i < a.Length ? a[i] : "(end of file)";
            var right = i < b.Length ? b[i] : "(end of file)";
            if (left != right) return $"First difference at line {i + 1}:\n  approved: {left}\n  actual:   {right}";
        }
        return "";
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "EventStore.Providers.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no EventStore.Providers.sln above {AppContext.BaseDirectory}");
    }
}
