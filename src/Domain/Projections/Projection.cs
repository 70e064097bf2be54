using EventStore.Providers.Serialization;

namespace EventStore.Providers.Projections;

/// <summary>One typed event handed to a projection handler.</summary>
/// <typeparam name="TEvent">The event's CLR type.</typeparam>
/// <param name="Event">The deserialised event.</param>
/// <param name="Envelope">The event with its record and metadata.</param>
/// <param name="Context">The batch's context (subscription id, transaction).</param>
public sealed record ProjectionEvent<TEvent>(TEvent Event, EventEnvelope Envelope, SubscriptionContext Context);

/// <summary>
/// A read model built from typed events: register a handler per event type with <c>On&lt;TEvent&gt;(...)</c> in the
/// constructor. Events of other types are not deserialised. Host it with <c>services.AddProjection&lt;T&gt;()</c>,
/// which subscribes to exactly the event types it handles.
/// </summary>
public abstract class Projection : ISubscriptionHandler, IResettableHandler
{
    private readonly Dictionary<Type, Func<EventEnvelope, SubscriptionContext, CancellationToken, Task>> _handlers = [];
    private Dictionary<string, Func<EventEnvelope, SubscriptionContext, CancellationToken, Task>>? _byName;
    private IEventSerializer? _namedWith;

    /// <summary>The CLR event types this projection handles.</summary>
    public IReadOnlyCollection<Type> HandledEventTypes => _handlers.Keys;

    /// <summary>Registers an asynchronous handler for <typeparamref name="TEvent"/>.</summary>
    /// <exception cref="InvalidOperationException">A handler for <typeparamref name="TEvent"/> is already registered.</exception>
    protected void On<TEvent>(Func<ProjectionEvent<TEvent>, CancellationToken, Task> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        if (!_handlers.TryAdd(typeof(TEvent), (envelope, context, ct) => handler(new ProjectionEvent<TEvent>((TEvent)envelope.Event, envelope, context), ct)))
            throw new InvalidOperationException($"{GetType().Name} already handles {typeof(TEvent).Name}.");
        _byName = null;
    }

    /// <summary>Registers a synchronous handler for <typeparamref name="TEvent"/>.</summary>
    protected void On<TEvent>(Action<TEvent, EventEnvelope> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        On<TEvent>((e, _) =>
        {
            handler(e.Event, e.Envelope);
            return Task.CompletedTask;
        });
    }

    /// <summary>A filter selecting exactly the stored type names of <see cref="HandledEventTypes"/>.</summary>
    public EventFilter CreateFilter(IEventSerializer serializer)
    {
        ArgumentNullException.ThrowIfNull(serializer);
        return EventFilter.ForEventTypes([.. _handlers.Keys.Select(serializer.GetEventTypeName).Order(StringComparer.Ordinal)]);
    }

    /// <inheritdoc />
    public virtual async Task HandleAsync(IReadOnlyList<RecordedEvent> events, SubscriptionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(context);
        var serializer = context.Serializer ?? throw new InvalidOperationException($"{GetType().Name} needs an IEventSerializer; register one (AddEventStore does) or pass it to the SubscriptionRunner.");
        var byName = HandlersByName(serializer);
        foreach (var recorded in events)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (byName.TryGetValue(recorded.EventType, out var handler))
                await handler(serializer.Deserialize(recorded), context, cancellationToken).ConfigureAwait(false);
        }
        await OnBatchHandledAsync(context, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Called after each batch, for example to flush a buffered read-model write. Does nothing by default.</summary>
    protected virtual Task OnBatchHandledAsync(SubscriptionContext context, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Clears the read model before a rebuild. Override it in projections that keep state; does nothing by default.</summary>
    public virtual Task ResetAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private Dictionary<string, Func<EventEnvelope, SubscriptionContext, CancellationToken, Task>> HandlersByName(IEventSerializer serializer)
    {
        if (_byName is not null && ReferenceEquals(_namedWith, serializer)) return _byName;
        _byName = _handlers.ToDictionary(h => serializer.GetEventTypeName(h.Key), h => h.Value, StringComparer.Ordinal);
        _namedWith = serializer;
        return _byName;
    }
}
