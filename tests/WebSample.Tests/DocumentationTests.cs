using System.Collections;
using System.ComponentModel;
using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using EventStore.Providers;
using EventStore.Providers.Projections;

namespace WebSample.Tests;

/// <summary>The repository's documentation, read from the checkout these tests were built from.</summary>
internal static class Repository
{
    public static string Root { get; } = FindRoot();

    public static string Read(string relativePath) => File.ReadAllText(Path.Combine(Root, relativePath)).ReplaceLineEndings("\n");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "EventStore.Providers.sln"))) return dir.FullName;
        throw new InvalidOperationException($"No EventStore.Providers.sln above {AppContext.BaseDirectory}.");
    }
}

/// <summary>The README shows real code and nothing a reader cannot see or check.</summary>
public sealed class ReadmeTests
{
    [Fact]
    public void The_quick_start_in_the_README_is_docs_quickstart_Program_cs_verbatim()
    {
        // eng/package-smoke.sh builds and runs that file from the packed packages, so the README's code is tested code.
        var readme = Repository.Read("README.md");
        var match = Regex.Match(readme, "<!-- quickstart:begin docs/quickstart/Program.cs -->\n```csharp\n(?<code>.*?)```\n<!-- quickstart:end -->", RegexOptions.Singleline);
        Assert.True(match.Success, "README.md has no quickstart:begin/end block around a csharp fence");
        Assert.Equal(Repository.Read("docs/quickstart/Program.cs"), match.Groups["code"].Value);
    }

    [Theory]
    [InlineData("CONFORMANCE.md")]
    [InlineData("shared/")]
    [InlineData("provider issue")]
    [InlineData("Tests in CI")]
    [InlineData("--workloads append-1 ")]
    [InlineData("--workloads append-1`")]
    public void The_README_does_not_mention(string text) =>
        Assert.DoesNotContain(text, Repository.Read("README.md"), StringComparison.Ordinal);

    [Fact]
    public void The_conformance_contract_numbers_every_promise_the_suite_cites()
    {
        var contract = Repository.Read("docs/conformance.md");
        var numbers = Regex.Matches(contract, @"^(\d+)\. ", RegexOptions.Multiline).Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(Enumerable.Range(1, 29), numbers);
    }
}

/// <summary>docs/configuration.md has one row per configuration key, with the key's real default, and no other rows.</summary>
public sealed class ConfigurationReferenceTests
{
    private static readonly string[] ProviderAssemblies =
        ["EventStore.Providers.InMemory", "EventStore.Providers.Postgres", "EventStore.Providers.DynamoDB", "EventStore.Providers.Kafka", "EventStore.Providers.EventStoreDB"];

    /// <summary>Keys read from the EventStore section directly rather than bound to an options class.</summary>
    private static readonly string[] DirectlyReadKeys = ["EventStore:Provider", "EventStore:SnapshotEvery"];

    [Fact]
    public void Every_key_has_a_row_and_every_row_is_a_key()
    {
        var documented = DocumentedRows().Select(r => r.Key).ToList();
        Assert.Equal(documented.Count, documented.Distinct(StringComparer.OrdinalIgnoreCase).Count());
        var actual = OptionKeys().Select(k => k.Key).Concat(DirectlyReadKeys).ToHashSet(StringComparer.OrdinalIgnoreCase);

        var missing = actual.Except(documented, StringComparer.OrdinalIgnoreCase).Order().ToList();
        var unknown = documented.Except(actual, StringComparer.OrdinalIgnoreCase).Order().ToList();
        Assert.True(missing.Count == 0 && unknown.Count == 0,
            $"docs/configuration.md is out of step with the options classes. Missing rows: [{string.Join(", ", missing)}]. Rows for keys that do not exist: [{string.Join(", ", unknown)}].");
    }

    [Fact]
    public void Each_documented_default_is_the_real_default()
    {
        var rows = DocumentedRows().ToDictionary(r => r.Key, r => r.Default, StringComparer.OrdinalIgnoreCase);
        var wrong = new List<string>();
        foreach (var (key, property, instance) in OptionKeys())
        {
            if (!rows.TryGetValue(key, out var cell)) continue; // reported by the other test
            var expected = DescribeDefault(property.GetValue(instance));
            if (expected is null) continue;
            var ok = expected switch
            {
                "none" or "empty" => cell.StartsWith(expected, StringComparison.OrdinalIgnoreCase),
                _ => Regex.Match(cell, "`([^`]*)`") is { Success: true } m && m.Groups[1].Value == expected,
            };
            if (!ok) wrong.Add($"{key}: the page says '{cell}', the default is {(expected is "none" or "empty" ? expected : $"`{expected}`")}");
        }
        Assert.True(wrong.Count == 0, "Wrong defaults in docs/configuration.md:\n" + string.Join("\n", wrong));
    }

    /// <summary>Every public settable property of every options class bound from configuration, as its full key.</summary>
    private static IEnumerable<(string Key, PropertyInfo Property, object Instance)> OptionKeys()
    {
        var sections = new List<(string Section, Type Type)>
        {
            ("EventStore", typeof(EventStoreOptions)),
            ("EventStore:Subscriptions:{id}", typeof(SubscriptionOptions)),
        };
        foreach (var name in ProviderAssemblies)
        {
            var assembly = Assembly.Load(name);
            var provider = assembly.GetCustomAttribute<EventStoreProviderAttribute>()
                ?? throw new InvalidOperationException($"{name} declares no [EventStoreProvider].");
            // A provider's options: its public classes named *Options (e.g. PostgresEventStoreOptions).
            foreach (var type in assembly.GetExportedTypes().Where(t => t.IsClass && !t.IsAbstract && t.Name.EndsWith("Options", StringComparison.Ordinal)))
                sections.Add(($"EventStore:{provider.Name}", type));
        }
        foreach (var (section, type) in sections)
            foreach (var key in Keys(section, Activator.CreateInstance(type)!))
                yield return key;
    }

    // A nested options object (a subscription's Group) is a section of its own: its keys, not the object, have rows.
    private static IEnumerable<(string Key, PropertyInfo Property, object Instance)> Keys(string section, object instance)
    {
        foreach (var property in instance.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.SetMethod is { IsPublic: true }))
        {
            if (property.PropertyType.IsClass && property.PropertyType.Name.EndsWith("Options", StringComparison.Ordinal) && property.GetValue(instance) is { } nested)
            {
                foreach (var key in Keys($"{section}:{property.Name}", nested)) yield return key;
                continue;
            }
            yield return ($"{section}:{property.Name}", property, instance);
        }
    }

    /// <summary>The default as the page writes it: a literal, "none" for null, "empty" for an empty text or map; null = not checked.</summary>
    private static string? DescribeDefault(object? value) => value switch
    {
        null => "none",
        string { Length: 0 } => "empty",
        string s => s,
        bool b => b ? "true" : "false",
        TimeSpan t => t.ToString("c", CultureInfo.InvariantCulture),
        Enum e => e.ToString(),
        IDictionary { Count: 0 } => "empty",
        IConvertible c when value.GetType().IsPrimitive => c.ToString(CultureInfo.InvariantCulture),
        _ => TypeDescriptor.GetConverter(value.GetType()).CanConvertFrom(typeof(string)) ? Convert.ToString(value, CultureInfo.InvariantCulture) : null,
    };

    /// <summary>The rows of the page's tables: key (trailing <c>:{setting}</c> placeholders removed) and default cell.</summary>
    private static IEnumerable<(string Key, string Default)> DocumentedRows()
    {
        foreach (Match m in Regex.Matches(Repository.Read("docs/configuration.md"), @"^\| `(?<key>EventStore[^`]*)` \| (?<default>[^|]*) \|", RegexOptions.Multiline))
            yield return (Regex.Replace(m.Groups["key"].Value, @"(:\{[^}]+\})+$", ""), m.Groups["default"].Value.Trim());
    }
}
