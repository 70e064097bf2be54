using System.Text.Json;

namespace EventStore.Providers.Serialization;

/// <summary>
/// What <c>AddEventStore</c> builds the registered <see cref="IEventSerializer"/> from: event types, upcasters and
/// JSON options. Configure it with <c>o.AddEventTypes(...)</c>, <c>o.AddUpcaster(...)</c> and <c>o.ConfigureJson(...)</c>.
/// </summary>
public sealed class EventSerializationOptions
{
    /// <summary>The event-type registry.</summary>
    public EventTypeRegistry Types { get; } = new();

    /// <summary>The upcasters.</summary>
    public EventUpcasterRegistry Upcasters { get; } = new();

    /// <summary>JSON options for payloads (<see cref="JsonSerializerDefaults.Web"/> by default).</summary>
    public JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web);
}
