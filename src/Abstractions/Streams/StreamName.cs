using System.ComponentModel;
using System.Text.Json.Serialization;

namespace EventStore.Providers;

/// <summary>
/// The name of an event stream, in the form <c>{Category}-{Id}</c>: the category is the text before the first
/// <c>-</c> and the id is everything after it (which may itself contain <c>-</c>).
/// </summary>
/// <remarks>
/// A stream name is validated when it is created, so a <see cref="StreamName"/> in hand is always well formed:
/// non-empty category and id, no leading or trailing white space, no control characters (NUL included), does not
/// start with <c>$</c> (reserved for system streams such as <c>$all</c> and <c>$ce-</c> categories), and at most
/// <see cref="MaxLength"/> characters. Providers may impose a lower limit through
/// <see cref="EventStoreCapabilities.MaxStreamNameLength"/>.
/// <para>
/// In JSON and wherever a <see cref="TypeConverter"/> applies, a stream name is its text (<c>"Order-42"</c>); text
/// that is not a valid name is rejected when read.
/// </para>
/// </remarks>
[JsonConverter(typeof(StreamNameJsonConverter))]
[TypeConverter(typeof(StreamNameTypeConverter))]
public readonly record struct StreamName : IParsable<StreamName>
{
    /// <summary>The longest stream name any provider accepts, in UTF-16 characters.</summary>
    public const int MaxLength = 1000;

    private readonly string? _value;

    /// <summary>Creates a stream name from its full text, validating it.</summary>
    /// <exception cref="InvalidStreamNameException">The text is not a valid stream name.</exception>
    public StreamName(string value)
    {
        var problem = Validate(value);
        if (problem is not null) throw new InvalidStreamNameException(value, problem);
        _value = value;
    }

    /// <summary>The full stream name, e.g. <c>Order-42</c>.</summary>
    public string Value => _value ?? throw new InvalidOperationException("A default StreamName has no value; create one with StreamName.For or new StreamName(text).");

    /// <summary>The category: the text before the first <c>-</c> (<c>Order</c> for <c>Order-42</c>).</summary>
    public string Category => Value[..Value.IndexOf('-', StringComparison.Ordinal)];

    /// <summary>The id: the text after the first <c>-</c> (<c>42</c> for <c>Order-42</c>).</summary>
    public string Id => Value[(Value.IndexOf('-', StringComparison.Ordinal) + 1)..];

    /// <summary>Builds <c>{category}-{id}</c>, validating both parts.</summary>
    /// <exception cref="InvalidStreamNameException">The category contains <c>-</c>, or either part is invalid.</exception>
    public static StreamName For(string category, string id)
    {
        ArgumentNullException.ThrowIfNull(category);
        ArgumentNullException.ThrowIfNull(id);
        if (category.Contains('-', StringComparison.Ordinal))
            throw new InvalidStreamNameException($"{category}-{id}", "the category must not contain '-'");
        return new StreamName($"{category}-{id}");
    }

    /// <summary>Builds a stream name for an aggregate or entity type: <c>{category}-{id}</c>.</summary>
    public static StreamName For<TCategory>(string id) => For(typeof(TCategory).Name, id);

    /// <summary>Parses a stream name (the same as <c>new StreamName(text)</c>).</summary>
    /// <exception cref="InvalidStreamNameException">The text is not a valid stream name.</exception>
    public static StreamName Parse(string s, IFormatProvider? provider) => new(s);

    /// <summary>Parses a stream name without throwing (the format provider is ignored).</summary>
    public static bool TryParse(string? s, IFormatProvider? provider, out StreamName result) => TryParse(s, out result);

    /// <summary>Parses a stream name without throwing.</summary>
    public static bool TryParse(string? value, out StreamName name)
    {
        if (value is not null && Validate(value) is null)
        {
            name = new StreamName(value);
            return true;
        }
        name = default;
        return false;
    }

    /// <summary>Returns why <paramref name="value"/> is not a valid stream name, or null when it is.</summary>
    public static string? Validate(string? value)
    {
        if (value is null) return "the name is null";
        if (value.Length == 0) return "the name is empty";
        if (string.IsNullOrWhiteSpace(value)) return "the name is white space";
        if (value.Length > MaxLength) return $"the name is {value.Length} characters long; the limit is {MaxLength}";
        if (char.IsWhiteSpace(value[0]) || char.IsWhiteSpace(value[^1])) return "the name starts or ends with white space";
        if (value[0] == '$') return "names starting with '$' are reserved for system streams";
        foreach (var c in value)
            if (char.IsControl(c)) return "the name contains a control character";
        if (EventGuard.HasUnpairedSurrogate(value)) return "the name contains an unpaired surrogate";
        var dash = value.IndexOf('-', StringComparison.Ordinal);
        if (dash < 0) return "the name must have the form {Category}-{Id}";
        if (dash == 0) return "the category (text before the first '-') is empty";
        if (dash == value.Length - 1) return "the id (text after the first '-') is empty";
        return null;
    }

    /// <inheritdoc />
    public override string ToString() => _value ?? string.Empty;

    /// <summary>Converts a stream name to its text.</summary>
    public static implicit operator string(StreamName name) => name.Value;
}
