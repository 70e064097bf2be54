using System.Collections.Immutable;
using System.ComponentModel;
using System.Globalization;
using System.Text;
using System.Text.Json.Serialization;

namespace EventStore.Providers;

/// <summary>
/// The position of an event in the global log (<c>$all</c>), and the checkpoint a reader resumes after.
/// </summary>
/// <remarks>
/// <para>
/// A position is opaque to applications: store it with <see cref="ToString"/> and get it back with
/// <see cref="Parse(string)"/>. Inside it is one or more 64-bit components chosen by the provider: one number for
/// PostgreSQL, DynamoDB and in-memory; commit and prepare positions for EventStoreDB; one offset per partition
/// (a vector) for a multi-partition Kafka topic.
/// </para>
/// <para>
/// Positions of one store compare in log order when the provider has a total order
/// (<see cref="EventStoreCapabilities.GlobalOrder"/> is <see cref="GlobalOrdering.Total"/>). Vector positions are
/// only ordered within a partition; comparing them orders by components and says nothing about time.
/// </para>
/// <para><see cref="Start"/> is before every event: reading <c>$all</c> after it returns everything.</para>
/// <para>
/// In JSON (System.Text.Json) and wherever a <see cref="TypeConverter"/> applies (configuration binding, MVC route
/// values) a position is its <see cref="ToString"/> text, for example <c>"start"</c>, <c>"42"</c> or <c>"7:3"</c>.
/// Minimal-API route and query parameters bind through <see cref="TryParse(string?, IFormatProvider?, out Position)"/>.
/// </para>
/// </remarks>
[JsonConverter(typeof(PositionJsonConverter))]
[TypeConverter(typeof(PositionTypeConverter))]
public readonly struct Position : IEquatable<Position>, IComparable<Position>, IParsable<Position>
{
    private const string StartText = "start";
    private readonly ImmutableArray<long> _parts;

    private Position(ImmutableArray<long> parts) => _parts = parts;

    /// <summary>Before the first event of the log.</summary>
    public static Position Start => default;

    /// <summary>True for <see cref="Start"/>.</summary>
    public bool IsStart => _parts.IsDefaultOrEmpty;

    /// <summary>The provider-defined components (empty for <see cref="Start"/>).</summary>
    public ReadOnlySpan<long> Parts => _parts.IsDefault ? ReadOnlySpan<long>.Empty : _parts.AsSpan();

    /// <summary>A position made of one number (0 or more).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="value"/> is negative.</exception>
    public static Position FromInt64(long value)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        return new Position([value]);
    }

    /// <summary>A position made of several components (each 0 or more), for providers whose positions are not one number.</summary>
    /// <exception cref="ArgumentException">No components were given.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A component is negative.</exception>
    public static Position FromParts(params ReadOnlySpan<long> parts)
    {
        if (parts.IsEmpty) throw new ArgumentException("A position needs at least one component; use Position.Start for the beginning.", nameof(parts));
        foreach (var part in parts)
            if (part < 0) throw new ArgumentOutOfRangeException(nameof(parts), part, "Position components must be 0 or more.");
        return new Position([.. parts]);
    }

    /// <summary>The single component of a one-number position.</summary>
    /// <exception cref="InvalidOperationException">The position is <see cref="Start"/> or has several components.</exception>
    public long ToInt64()
    {
        if (_parts.IsDefaultOrEmpty || _parts.Length != 1)
            throw new InvalidOperationException($"Position '{this}' is not a single-number position.");
        return _parts[0];
    }

    /// <summary>Parses the text made by <see cref="ToString"/>, and nothing else.</summary>
    /// <remarks>
    /// Accepted: <c>start</c>, or one or more components joined by <c>:</c>, each a decimal number without sign,
    /// white space or leading zeros that fits in 64 bits. Any other text is rejected, so a checkpoint read back is
    /// exactly the position that was stored.
    /// </remarks>
    /// <exception cref="InvalidPositionException">The text is not a position.</exception>
    public static Position Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParse(text, out var p) ? p : throw new InvalidPositionException(text);
    }

    /// <summary>Parses the text made by <see cref="ToString"/> (the format provider is ignored: positions are culture-invariant).</summary>
    /// <exception cref="InvalidPositionException">The text is not a position.</exception>
    public static Position Parse(string s, IFormatProvider? provider) => Parse(s);

    /// <summary>Parses the text made by <see cref="ToString"/> without throwing; see <see cref="Parse(string)"/> for what is accepted.</summary>
    public static bool TryParse(string? text, out Position position)
    {
        position = default;
        if (string.IsNullOrEmpty(text)) return false;
        if (text == StartText) return true;
        var count = 1;
        foreach (var c in text)
            if (c == ':') count++;
        var parts = ImmutableArray.CreateBuilder<long>(count);
        var start = 0;
        for (var i = 0; i < count; i++)
        {
            var end = text.IndexOf(':', start);
            if (end < 0) end = text.Length;
            if (!TryParseComponent(text.AsSpan(start, end - start), out var value)) return false;
            parts.Add(value);
            start = end + 1;
        }
        position = new Position(parts.MoveToImmutable());
        return true;
    }

    /// <summary>Parses the text made by <see cref="ToString"/> without throwing (the format provider is ignored).</summary>
    public static bool TryParse(string? s, IFormatProvider? provider, out Position result) => TryParse(s, out result);

    // The canonical form of a long 0 or more: ASCII digits only, no sign, no leading zero (except "0" itself).
    private static bool TryParseComponent(ReadOnlySpan<char> text, out long value)
    {
        value = 0;
        if (text.IsEmpty || text.Length > 19 || (text[0] == '0' && text.Length > 1)) return false;
        foreach (var c in text)
        {
            if (c is < '0' or > '9') return false;
            var digit = c - '0';
            if (value > (long.MaxValue - digit) / 10) return false;
            value = value * 10 + digit;
        }
        return true;
    }

    /// <summary>The checkpoint text: <c>start</c>, or the components joined by <c>:</c>.</summary>
    public override string ToString()
    {
        if (_parts.IsDefaultOrEmpty) return StartText;
        if (_parts.Length == 1) return _parts[0].ToString(CultureInfo.InvariantCulture);
        var sb = new StringBuilder();
        for (var i = 0; i < _parts.Length; i++)
        {
            if (i > 0) sb.Append(':');
            sb.Append(_parts[i].ToString(CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }

    /// <inheritdoc />
    public bool Equals(Position other) => Parts.SequenceEqual(other.Parts);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is Position p && Equals(p);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var p in Parts) h.Add(p);
        return h.ToHashCode();
    }

    /// <summary>Orders component by component; <see cref="Start"/> is before everything.</summary>
    public int CompareTo(Position other) => Parts.SequenceCompareTo(other.Parts);

#pragma warning disable CS1591 // operators documented by CompareTo/Equals
    public static bool operator ==(Position left, Position right) => left.Equals(right);
    public static bool operator !=(Position left, Position right) => !left.Equals(right);
    public static bool operator <(Position left, Position right) => left.CompareTo(right) < 0;
    public static bool operator >(Position left, Position right) => left.CompareTo(right) > 0;
    public static bool operator <=(Position left, Position right) => left.CompareTo(right) <= 0;
    public static bool operator >=(Position left, Position right) => left.CompareTo(right) >= 0;
#pragma warning restore CS1591
}
