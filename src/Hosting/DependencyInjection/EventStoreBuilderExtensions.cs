using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using EventStore.Providers;
using EventStore.Providers.Aggregates;
using EventStore.Providers.Serialization;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers typed events, upcasters and aggregate options on <see cref="EventStoreBuilder"/>.</summary>
public static class EventStoreBuilderExtensions
{
    /// <summary>Registers every type marked <see cref="EventTypeAttribute"/> in <paramref name="assemblies"/>.</summary>
    public static EventStoreBuilder AddEventTypes(this EventStoreBuilder builder, params Assembly[] assemblies)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(assemblies);
        builder.Services.Configure<EventSerializationOptions>(o =>
        {
            foreach (var assembly in assemblies) o.Types.RegisterAssembly(assembly);
        });
        return builder;
    }

    /// <summary>Registers <typeparamref name="TEvent"/> under <paramref name="name"/> (default: its attribute, else its class name).</summary>
    public static EventStoreBuilder AddEventType<TEvent>(this EventStoreBuilder builder, string? name = null, int? schemaVersion = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.Configure<EventSerializationOptions>(o => o.Types.Register<TEvent>(name, schemaVersion));
        return builder;
    }

    /// <summary>Adds an upcaster from <paramref name="eventType"/> v<paramref name="fromSchemaVersion"/> to the next version.</summary>
    public static EventStoreBuilder AddUpcaster(this EventStoreBuilder builder, string eventType, int fromSchemaVersion, Func<JsonObject, JsonObject> upcast)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.Configure<EventSerializationOptions>(o => o.Upcasters.Add(eventType, fromSchemaVersion, upcast));
        return builder;
    }

    /// <summary>Adds an upcaster.</summary>
    public static EventStoreBuilder AddUpcaster(this EventStoreBuilder builder, IEventUpcaster upcaster)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.Configure<EventSerializationOptions>(o => o.Upcasters.Add(upcaster));
        return builder;
    }

    /// <summary>Configures the JSON options of event payloads.</summary>
    public static EventStoreBuilder ConfigureJson(this EventStoreBuilder builder, Action<JsonSerializerOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.Configure<EventSerializationOptions>(o => configure(o.Json));
        return builder;
    }

    /// <summary>Configures the <see cref="AggregateStore"/> (snapshot policy per aggregate type, snapshot JSON).</summary>
    public static EventStoreBuilder ConfigureAggregates(this EventStoreBuilder builder, Action<AggregateStoreOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.Configure(configure);
        return builder;
    }
}
