using System.Collections.Concurrent;
using System.Reflection;

namespace EventStore.Providers.Serialization;

/// <summary>
/// Names a CLR event type for storage: <c>[EventType("OrderPlaced", SchemaVersion = 2)]</c>. The name is what the
/// store records as <see cref="EventData.EventType"/>, so it must stay stable when the class is renamed or moved.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct, AllowMultiple = false, Inherited = false)]
public sealed class EventTypeAttribute(string name) : Attribute
{
    /// <summary>The stored type name.</summary>
    public string Name { get; } = name;

    /// <summary>The current schema version of the type (1 or more); events stored with a lower version are upcast on read.</summary>
    public int SchemaVersion { get; set; } = 1;
}

/// <summary>One mapping between a CLR type and its stored name.</summary>
/// <param name="ClrType">The .NET type.</param>
/// <param name="Name">The stable stored type name.</param>
/// <param name="SchemaVersion">The schema version new events of this type are written with.</param>
public sealed record EventTypeRegistration(Type ClrType, string Name, int SchemaVersion);

/// <summary>
/// Maps CLR event types to stable stored type names and back. Types are registered explicitly
/// (<see cref="Register{TEvent}"/>), by scanning an assembly for <see cref="EventTypeAttribute"/>
/// (<see cref="RegisterAssembly"/>), or on first use when the type carries the attribute. Thread-safe.
/// </summary>
public sealed class EventTypeRegistry
{
    private readonly ConcurrentDictionary<Type, EventTypeRegistration> _byType = new();
    private readonly ConcurrentDictionary<string, EventTypeRegistration> _byName = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <summary>Every registration so far.</summary>
    public IReadOnlyCollection<EventTypeRegistration> Registrations => [.. _byType.Values];

    /// <summary>Registers <typeparamref name="TEvent"/>; name and version default to its <see cref="EventTypeAttribute"/>, else its class name and 1.</summary>
    /// <exception cref="ArgumentException">The name is invalid or already taken by another type, or the version is below 1.</exception>
    public EventTypeRegistry Register<TEvent>(string? name = null, int? schemaVersion = null) => Register(typeof(TEvent), name, schemaVersion);

    /// <summary>Registers <paramref name="clrType"/>; name and version default to its <see cref="EventTypeAttribute"/>, else its class name and 1.</summary>
    /// <exception cref="ArgumentException">The name is invalid or already taken by another type, or the version is below 1.</exception>
    public EventTypeRegistry Register(Type clrType, string? name = null, int? schemaVersion = null)
    {
        ArgumentNullException.ThrowIfNull(clrType);
        var attribute = clrType.GetCustomAttribute<EventTypeAttribute>();
        var registration = new EventTypeRegistration(clrType, name ?? attribute?.Name ?? clrType.Name, schemaVersion ?? attribute?.SchemaVersion ?? 1);
        Add(registration);
        return this;
    }

    /// <summary>Registers every type of <paramref name="assembly"/> that carries <see cref="EventTypeAttribute"/>.</summary>
    public EventTypeRegistry RegisterAssembly(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        foreach (var type in assembly.GetTypes())
            if (type.GetCustomAttribute<EventTypeAttribute>() is not null)
                Register(type);
        return this;
    }

    /// <summary>The registration of <paramref name="clrType"/>, registering it on first use when it carries <see cref="EventTypeAttribute"/>.</summary>
    /// <exception cref="UnknownEventTypeException">The type is neither registered nor attributed.</exception>
    public EventTypeRegistration GetRegistration(Type clrType)
    {
        ArgumentNullException.ThrowIfNull(clrType);
        if (_byType.TryGetValue(clrType, out var registration)) return registration;
        if (clrType.GetCustomAttribute<EventTypeAttribute>() is null) throw new UnknownEventTypeException(clrType);
        Register(clrType);
        return _byType[clrType];
    }

    /// <summary>The registration of the stored type name <paramref name="name"/>.</summary>
    /// <exception cref="UnknownEventTypeException">No type is registered under that name.</exception>
    public EventTypeRegistration GetRegistration(string name) =>
        TryGetRegistration(name, out var registration) ? registration : throw new UnknownEventTypeException(name);

    /// <summary>Finds the registration of a stored type name without throwing.</summary>
    public bool TryGetRegistration(string name, out EventTypeRegistration registration)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _byName.TryGetValue(name, out registration!);
    }

    /// <summary>The stored name of <paramref name="clrType"/>.</summary>
    /// <exception cref="UnknownEventTypeException">The type is neither registered nor attributed.</exception>
    public string GetName(Type clrType) => GetRegistration(clrType).Name;

    private void Add(EventTypeRegistration registration)
    {
        var problem = EventGuard.ValidateEventType(registration.Name);
        if (problem is not null) throw new ArgumentException($"Cannot register {registration.ClrType}: {problem}.", nameof(registration));
        if (registration.SchemaVersion < 1)
            throw new ArgumentException($"Cannot register {registration.ClrType}: schema version {registration.SchemaVersion} is below 1.", nameof(registration));
        lock (_gate)
        {
            if (_byName.TryGetValue(registration.Name, out var byName) && byName.ClrType != registration.ClrType)
                throw new ArgumentException($"Event type name '{registration.Name}' is already registered for {byName.ClrType}; cannot also use it for {registration.ClrType}.", nameof(registration));
            if (_byType.TryGetValue(registration.ClrType, out var byType) && byType.Name != registration.Name)
                throw new ArgumentException($"{registration.ClrType} is already registered as '{byType.Name}'; cannot also register it as '{registration.Name}'.", nameof(registration));
            _byType[registration.ClrType] = registration;
            _byName[registration.Name] = registration;
        }
    }
}

/// <summary>An event type is not known to the <see cref="EventTypeRegistry"/>: a stored name with no CLR type, or a CLR type with no name.</summary>
public sealed class UnknownEventTypeException : EventStoreException
{
    /// <summary>For a stored type name that no CLR type is registered under.</summary>
    public UnknownEventTypeException(string eventType)
        : base($"Event type '{eventType}' is not registered. Register its CLR type with [EventType(\"{eventType}\")] and RegisterAssembly, or with EventTypeRegistry.Register<T>(\"{eventType}\").")
    {
        EventType = eventType;
    }

    /// <summary>For a CLR type that has no stored name.</summary>
    public UnknownEventTypeException(Type clrType)
        : base($"{clrType} is not a registered event type. Mark it with [EventType(\"Name\")] or register it with EventTypeRegistry.Register<{clrType.Name}>(\"Name\").")
    {
        ClrType = clrType;
    }

    /// <summary>The stored type name, when the name was unknown.</summary>
    public string? EventType { get; }

    /// <summary>The CLR type, when the type was unknown.</summary>
    public Type? ClrType { get; }
}
