using System.Runtime.CompilerServices;

namespace EventStore.Providers.Serialization;

/// <summary>Appends and reads typed events through an <see cref="IEventSerializer"/>.</summary>
public static class TypedEventStoreExtensions
{
    /// <summary>Serialises <paramref name="events"/> with one shared <paramref name="metadata"/> envelope and appends them atomically.</summary>
    /// <exception cref="UnknownEventTypeException">An event's type is not registered; nothing was written.</exception>
    /// <exception cref="WrongExpectedVersionException">The stream does not match <paramref name="expectedVersion"/>; nothing was written.</exception>
    public static Task<AppendResult> AppendEventsAsync(
        this IEventWriter store,
        IEventSerializer serializer,
        StreamName stream,
        ExpectedVersion expectedVersion,
        IEnumerable<object> events,
        EventMetadata? metadata = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(serializer);
        ArgumentNullException.ThrowIfNull(events);
        var batch = events.Select(e => serializer.Serialize(e, metadata)).ToArray();
        return store.AppendAsync(stream, expectedVersion, batch, cancellationToken);
    }

    /// <summary>Reads a stream and deserialises every event (upcasting older schema versions).</summary>
    public static async IAsyncEnumerable<EventEnvelope> ReadEventsAsync(
        this IEventReader store,
        IEventSerializer serializer,
        StreamName stream,
        ReadDirection direction = ReadDirection.Forwards,
        long? fromVersion = null,
        long maxCount = long.MaxValue,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(serializer);
        await foreach (var recorded in store.ReadStreamAsync(stream, direction, fromVersion, maxCount, cancellationToken).ConfigureAwait(false))
            yield return serializer.Deserialize(recorded);
    }

    /// <summary>Reads the global log (or a filtered part of it) and deserialises every event.</summary>
    public static async IAsyncEnumerable<EventEnvelope> ReadAllEventsAsync(
        this IEventReader store,
        IEventSerializer serializer,
        ReadAllOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(serializer);
        await foreach (var recorded in store.ReadAllAsync(options, cancellationToken).ConfigureAwait(false))
            yield return serializer.Deserialize(recorded);
    }
}
