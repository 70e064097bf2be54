using System.Diagnostics;

namespace EventStore.Providers.Serialization;

/// <summary>
/// The metadata envelope stored with every typed event: who caused it and in which flow. Written as JSON into
/// <see cref="EventData.Metadata"/>; correlation and causation use the <c>$correlationId</c> / <c>$causationId</c>
/// names EventStoreDB understands.
/// </summary>
public sealed record EventMetadata
{
    /// <summary>The id of the whole flow (a request, a saga) the event belongs to.</summary>
    public string? CorrelationId { get; init; }

    /// <summary>The id of the message or operation that directly caused the event.</summary>
    public string? CausationId { get; init; }

    /// <summary>The user on whose behalf the event was written.</summary>
    public string? UserId { get; init; }

    /// <summary>When the application raised the event (the store's own time is <see cref="RecordedEvent.CreatedUtc"/>).</summary>
    public DateTimeOffset? Timestamp { get; init; }

    /// <summary>Application headers.</summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = EmptyHeaders;

    private static readonly IReadOnlyDictionary<string, string> EmptyHeaders = new Dictionary<string, string>();

    /// <summary>Empty metadata.</summary>
    public static EventMetadata Empty { get; } = new();

    /// <summary>
    /// Metadata for the current <see cref="Activity"/>: correlation = its trace id, causation = its span id; empty
    /// when there is no current activity.
    /// </summary>
    public static EventMetadata FromCurrentActivity() => FromActivity(Activity.Current);

    /// <summary>Metadata for <paramref name="activity"/> (trace id as correlation, span id as causation); empty for null.</summary>
    public static EventMetadata FromActivity(Activity? activity) =>
        activity is null || activity.IdFormat != ActivityIdFormat.W3C
            ? new EventMetadata { CorrelationId = activity?.RootId, CausationId = activity?.Id }
            : new EventMetadata { CorrelationId = activity.TraceId.ToHexString(), CausationId = activity.SpanId.ToHexString() };

    /// <summary>Metadata for an event caused by <paramref name="cause"/>: same correlation (or the cause's id when it had none), causation = the cause's id.</summary>
    public static EventMetadata CausedBy(EventEnvelope cause)
    {
        ArgumentNullException.ThrowIfNull(cause);
        var id = cause.EventId.ToString();
        return new EventMetadata { CorrelationId = cause.Metadata.CorrelationId ?? id, CausationId = id, UserId = cause.Metadata.UserId };
    }

    /// <summary>Fills values this metadata lacks from <paramref name="fallback"/> (headers are merged; this one wins).</summary>
    public EventMetadata WithDefaults(EventMetadata fallback)
    {
        ArgumentNullException.ThrowIfNull(fallback);
        Dictionary<string, string>? headers = null;
        if (fallback.Headers.Count > 0)
        {
            headers = new Dictionary<string, string>(fallback.Headers, StringComparer.Ordinal);
            foreach (var (key, value) in Headers) headers[key] = value;
        }
        return this with
        {
            CorrelationId = CorrelationId ?? fallback.CorrelationId,
            CausationId = CausationId ?? fallback.CausationId,
            UserId = UserId ?? fallback.UserId,
            Timestamp = Timestamp ?? fallback.Timestamp,
            Headers = headers ?? Headers,
        };
    }

    /// <summary>A copy with one more header.</summary>
    public EventMetadata WithHeader(string key, string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(value);
        return this with { Headers = new Dictionary<string, string>(Headers, StringComparer.Ordinal) { [key] = value } };
    }

    /// <inheritdoc />
    public bool Equals(EventMetadata? other) =>
        other is not null && CorrelationId == other.CorrelationId && CausationId == other.CausationId && UserId == other.UserId
        && Timestamp == other.Timestamp && Headers.Count == other.Headers.Count
        && Headers.All(h => other.Headers.TryGetValue(h.Key, out var v) && v == h.Value);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(CorrelationId, CausationId, UserId, Timestamp, Headers.Count);
}
