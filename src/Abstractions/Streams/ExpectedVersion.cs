using System.ComponentModel;
using System.Globalization;
using System.Text.Json.Serialization;

namespace EventStore.Providers;

/// <summary>What a writer expects the stream to look like when it appends; the basis of optimistic concurrency.</summary>
public enum ExpectedVersionKind
{
    /// <summary>No check: append whatever the stream holds.</summary>
    Any = 0,
    /// <summary>The stream must not exist yet.</summary>
    NoStream = 1,
    /// <summary>The stream must exist (have at least one event).</summary>
    StreamExists = 2,
    /// <summary>The stream's last event must have exactly <see cref="ExpectedVersion.Version"/>.</summary>
    Exact = 3,
}

/// <summary>
/// The expected version of a stream on append: <see cref="Any"/>, <see cref="NoStream"/>, <see cref="StreamExists"/>
/// or an exact version (the version of the last event the writer saw; versions start at 0).
/// </summary>
/// <remarks>
/// <para><c>default(ExpectedVersion)</c> is <see cref="Any"/>.</para>
/// <para>
/// Its text (<see cref="ToString"/>, <see cref="Parse(string)"/>) is <c>Any</c>, <c>NoStream</c>, <c>StreamExists</c>
/// or the exact version, for example <c>3</c>; JSON and <see cref="TypeConverter"/> use that text.
/// </para>
/// </remarks>
[JsonConverter(typeof(ExpectedVersionJsonConverter))]
[TypeConverter(typeof(ExpectedVersionTypeConverter))]
public readonly record struct ExpectedVersion : IParsable<ExpectedVersion>
{
    private ExpectedVersion(ExpectedVersionKind kind, long version)
    {
        Kind = kind;
        Version = version;
    }

    /// <summary>The kind of expectation.</summary>
    public ExpectedVersionKind Kind { get; }

    /// <summary>For <see cref="ExpectedVersionKind.Exact"/>, the expected last version; otherwise -1.</summary>
    public long Version { get; }

    /// <summary>Append without a concurrency check.</summary>
    public static ExpectedVersion Any => new(ExpectedVersionKind.Any, -1);

    /// <summary>The stream must not exist.</summary>
    public static ExpectedVersion NoStream => new(ExpectedVersionKind.NoStream, -1);

    /// <summary>The stream must exist.</summary>
    public static ExpectedVersion StreamExists => new(ExpectedVersionKind.StreamExists, -1);

    /// <summary>The stream's last event must have version <paramref name="version"/> (0 or more).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="version"/> is negative.</exception>
    public static ExpectedVersion Exact(long version)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(version);
        return new ExpectedVersion(ExpectedVersionKind.Exact, version);
    }

    /// <summary>
    /// The expectation for a writer that has seen <paramref name="lastVersion"/> (null or -1 for a stream it saw
    /// as missing): exact when it saw events, <see cref="NoStream"/> otherwise.
    /// </summary>
    public static ExpectedVersion FromLastSeen(long? lastVersion) =>
        lastVersion is null or < 0 ? NoStream : Exact(lastVersion.Value);

    /// <summary>Throws when this value was forged from an undefined kind (for example by a cast).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The kind is not one of the defined kinds, or an exact version is negative.</exception>
    public void EnsureValid(string paramName = "expectedVersion")
    {
        if (!Enum.IsDefined(Kind))
            throw new ArgumentOutOfRangeException(paramName, Kind, $"Unknown expected-version kind {(int)Kind}.");
        if (Kind == ExpectedVersionKind.Exact && Version < 0)
            throw new ArgumentOutOfRangeException(paramName, Version, "An exact expected version must be 0 or more.");
    }

    /// <summary>Checks a stream's current last version (-1 when it does not exist) against this expectation.</summary>
    public bool IsSatisfiedBy(long currentLastVersion) => Kind switch
    {
        ExpectedVersionKind.Any => true,
        ExpectedVersionKind.NoStream => currentLastVersion < 0,
        ExpectedVersionKind.StreamExists => currentLastVersion >= 0,
        ExpectedVersionKind.Exact => currentLastVersion == Version,
        _ => false,
    };

    /// <summary>
    /// Parses the text made by <see cref="ToString"/>: <c>Any</c>, <c>NoStream</c>, <c>StreamExists</c> (ignoring
    /// case) or a version (decimal digits, 0 or more, no sign, white space or leading zeros).
    /// </summary>
    /// <exception cref="FormatException">The text is not an expected version.</exception>
    public static ExpectedVersion Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParse(text, out var value) ? value
            : throw new FormatException($"'{(text.Length > 40 ? text[..40] + "…" : text)}' is not an expected version: use Any, NoStream, StreamExists or a version 0 or more.");
    }

    /// <summary>Parses the text made by <see cref="ToString"/> (the format provider is ignored).</summary>
    /// <exception cref="FormatException">The text is not an expected version.</exception>
    public static ExpectedVersion Parse(string s, IFormatProvider? provider) => Parse(s);

    /// <summary>Parses the text made by <see cref="ToString"/> without throwing; see <see cref="Parse(string)"/>.</summary>
    public static bool TryParse(string? text, out ExpectedVersion result)
    {
        result = Any;
        if (string.IsNullOrEmpty(text)) return false;
        if (string.Equals(text, nameof(ExpectedVersionKind.Any), StringComparison.OrdinalIgnoreCase)) return true;
        if (string.Equals(text, nameof(ExpectedVersionKind.NoStream), StringComparison.OrdinalIgnoreCase)) { result = NoStream; return true; }
        if (string.Equals(text, nameof(ExpectedVersionKind.StreamExists), StringComparison.OrdinalIgnoreCase)) { result = StreamExists; return true; }
        if ((text[0] == '0' && text.Length > 1) || !text.All(char.IsAsciiDigit)
            || !long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var version)) return false;
        result = Exact(version);
        return true;
    }

    /// <summary>Parses the text made by <see cref="ToString"/> without throwing (the format provider is ignored).</summary>
    public static bool TryParse(string? s, IFormatProvider? provider, out ExpectedVersion result) => TryParse(s, out result);

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        ExpectedVersionKind.Exact => Version.ToString(CultureInfo.InvariantCulture),
        _ => Kind.ToString(),
    };
}
