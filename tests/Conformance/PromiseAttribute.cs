using System.Globalization;
using Xunit.v3;

namespace EventStore.Providers.Conformance;

/// <summary>
/// The docs/conformance.md item(s) a test class or test checks, as the xUnit trait <c>Promise</c>, so one promise runs
/// across every provider: <c>dotnet test --filter Promise=13</c>. On a class it covers every test of the class; a class
/// covering several items marks each test instead.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, AllowMultiple = false, Inherited = true)]
public sealed class PromiseAttribute(params int[] items) : Attribute, ITraitAttribute
{
    /// <summary>The trait name.</summary>
    public const string TraitName = "Promise";

    /// <summary>The docs/conformance.md item numbers.</summary>
    public IReadOnlyList<int> Items { get; } = items;

    /// <inheritdoc />
    public IReadOnlyCollection<KeyValuePair<string, string>> GetTraits() =>
        [.. Items.Select(i => new KeyValuePair<string, string>(TraitName, i.ToString(CultureInfo.InvariantCulture)))];
}
