using System.Globalization;

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
/// <remarks><c>default(ExpectedVersion)</c> is <see cref="Any"/>.</remarks>
public readonly record struct ExpectedVersion
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

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        ExpectedVersionKind.Exact => Version.ToString(CultureInfo.InvariantCulture),
        _ => Kind.ToString(),
    };
}
