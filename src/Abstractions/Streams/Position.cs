using System.Collections.Immutable;
using System.Globalization;
using System.Text;

namespace EventStore.Providers;

/// <summary>
/// The position of an event in the global log (<c>$all</c>), and the checkpoint a reader resumes after.
/// </summary>
/// <remarks>
/// <para>
/// A position is opaque to applications: store it with <see cref="ToString"/> and get it back with
/// <see cref="Parse"/>. Inside it is one or more 64-bit components chosen by the provider: one number for
/// PostgreSQL, DynamoDB and in-memory; commit and prepare positions for EventStoreDB; one offset per partition
/// (a vector) for a multi-partition Kafka topic.
/// </para>
/// <para>
/// Positions of one store compare in log order when the provider has a total order
/// (<see cref="EventStoreCapabilities.GlobalOrder"/> is <see cref="GlobalOrdering.Total"/>). Vector positions are
/// only ordered within a partition; comparing them orders by components and says nothing about time.
/// </para>
/// <para><see cref="Start"/> is before every event: reading <c>$all</c> after it returns everything.</para>
/// </remarks>
public readonly struct Position : IEquatable<Position>, IComparable<Position>
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

    /// <summary>A position made of several components, for providers whose positions are not one number.</summary>
    /// <exception cref="ArgumentException">No components were given.</exception>
    public static Position FromParts(params ReadOnlySpan<long> parts)
    {
        if (parts.IsEmpty) throw new ArgumentException("A position needs at least one component; use Position.Start for the beginning.", nameof(parts));
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

    /// <summary>Parses the text made by <see cref="ToString"/>.</summary>
    /// <exception cref="InvalidPositionException">The text is not a position.</exception>
    public static Position Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParse(text, out var p) ? p : throw new InvalidPositionException(text);
    }

    /// <summary>Parses the text made by <see cref="ToString"/> without throwing.</summary>
    public static bool TryParse(string? text, out Position position)
    {
        position = default;
        if (string.IsNullOrEmpty(text)) return false;
        if (text == StartText) return true;
        var pieces = text.Split(':');
        var parts = ImmutableArray.CreateBuilder<long>(pieces.Length);
        foreach (var piece in pieces)
        {
            if (!long.TryParse(piece, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) || v < -1)
                return false;
            parts.Add(v);
        }
        position = new Position(parts.MoveToImmutable());
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
