using System.Collections.Concurrent;
using System.Text.Json.Nodes;

namespace EventStore.Providers.Serialization;

/// <summary>Rewrites the JSON of one event type from one schema version to the next.</summary>
public interface IEventUpcaster
{
    /// <summary>The stored event type this upcaster applies to.</summary>
    string EventType { get; }

    /// <summary>The schema version it reads; it produces <c>FromSchemaVersion + 1</c>.</summary>
    int FromSchemaVersion { get; }

    /// <summary>Returns the payload in the next schema version. It may change <paramref name="data"/> in place and return it.</summary>
    JsonObject Upcast(JsonObject data);
}

/// <summary>
/// Upcasters keyed by (event type, schema version). On read an event stored at version 1 of a type whose current
/// version is 3 goes through the v1 and v2 upcasters, in that order, before it is deserialised. Thread-safe.
/// </summary>
public sealed class EventUpcasterRegistry
{
    private readonly ConcurrentDictionary<(string EventType, int FromVersion), IEventUpcaster> _upcasters = new();

    /// <summary>Adds an upcaster.</summary>
    /// <exception cref="ArgumentException">One is already registered for the same event type and version.</exception>
    public EventUpcasterRegistry Add(IEventUpcaster upcaster)
    {
        ArgumentNullException.ThrowIfNull(upcaster);
        ArgumentException.ThrowIfNullOrWhiteSpace(upcaster.EventType);
        ArgumentOutOfRangeException.ThrowIfLessThan(upcaster.FromSchemaVersion, 1);
        if (!_upcasters.TryAdd((upcaster.EventType, upcaster.FromSchemaVersion), upcaster))
            throw new ArgumentException($"An upcaster for '{upcaster.EventType}' v{upcaster.FromSchemaVersion} is already registered.", nameof(upcaster));
        return this;
    }

    /// <summary>Adds an upcaster from <paramref name="eventType"/> v<paramref name="fromSchemaVersion"/> to the next version.</summary>
    public EventUpcasterRegistry Add(string eventType, int fromSchemaVersion, Func<JsonObject, JsonObject> upcast) =>
        Add(new DelegateUpcaster(eventType, fromSchemaVersion, upcast ?? throw new ArgumentNullException(nameof(upcast))));

    /// <summary>Brings <paramref name="data"/> of <paramref name="eventType"/> from version <paramref name="from"/> to <paramref name="to"/>.</summary>
    /// <exception cref="EventDeserializationException">A step of the chain has no upcaster, or an upcaster failed.</exception>
    public JsonObject Upcast(string eventType, int from, int to, JsonObject data)
    {
        ArgumentNullException.ThrowIfNull(data);
        for (var version = from; version < to; version++)
        {
            if (!_upcasters.TryGetValue((eventType, version), out var upcaster))
                throw new EventDeserializationException(eventType, from, $"no upcaster is registered from schema version {version} to {version + 1} (the current version is {to})");
            try
            {
                data = upcaster.Upcast(data) ?? throw new InvalidOperationException("the upcaster returned null");
            }
            catch (Exception e) when (e is not EventDeserializationException and not OperationCanceledException)
            {
                throw new EventDeserializationException(eventType, from, $"the upcaster from v{version} to v{version + 1} failed: {e.Message}", e);
            }
        }
        return data;
    }

    private sealed record DelegateUpcaster(string EventType, int FromSchemaVersion, Func<JsonObject, JsonObject> Transform) : IEventUpcaster
    {
        public JsonObject Upcast(JsonObject data) => Transform(data);
    }
}
