using System.Text;

namespace EventStore.Providers.Kafka;

// Appends and deletes: validated here, decided and written by the partition's writer.
public sealed partial class KafkaEventStore
{
    /// <inheritdoc />
    public async Task<AppendResult> AppendAsync(StreamName stream, ExpectedVersion expectedVersion, IReadOnlyList<EventData> events, CancellationToken cancellationToken = default)
    {
        EventGuard.ValidateAppend(stream, expectedVersion, events, Capabilities);
        foreach (var e in events)
        {
            var size = EventRecord.EstimateSize(stream.Value, e);
            if (size > Options.MaxMessageBytes) throw new EventTooLargeException(stream, e.EventId, size, Options.MaxMessageBytes);
        }
        cancellationToken.ThrowIfCancellationRequested();
        var writer = await WriterForAsync(stream, cancellationToken).ConfigureAwait(false);
        var result = await writer.AppendAsync(stream, expectedVersion, events, cancellationToken).ConfigureAwait(false);
        if (result.WroteEvents) Interlocked.Exchange(ref _appended, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        return result;
    }

    /// <inheritdoc />
    public async Task DeleteStreamAsync(StreamName stream, ExpectedVersion expectedVersion, StreamDeletionMode mode = StreamDeletionMode.Soft, CancellationToken cancellationToken = default)
    {
        EventGuard.ValidateStream(stream, Capabilities);
        expectedVersion.EnsureValid();
        if (!Enum.IsDefined(mode)) throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown deletion mode.");
        cancellationToken.ThrowIfCancellationRequested();
        var writer = await WriterForAsync(stream, cancellationToken).ConfigureAwait(false);
        await writer.DeleteAsync(stream, expectedVersion, mode, cancellationToken).ConfigureAwait(false);
    }
}
