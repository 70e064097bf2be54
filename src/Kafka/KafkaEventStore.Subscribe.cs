using System.Runtime.CompilerServices;

namespace EventStore.Providers.Kafka;

// Subscriptions: catch up through the reads, then wait for new records.
public sealed partial class KafkaEventStore
{
    private TaskCompletionSource _appended = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <inheritdoc />
    public async IAsyncEnumerable<SubscriptionMessage> SubscribeToAllAsync(SubscribeToAllOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        options ??= new SubscribeToAllOptions();
        options.EnsureValid();
        var writers = await WritersAsync(cancellationToken).ConfigureAwait(false);
        var next = StartOffsets(options.From, writers.Length);
        Position last = options.From ?? Position.Start;
        var caughtUp = false;
        var filteredSinceCheckpoint = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            var signal = _appended.Task;
            var ends = await SafeEndsAsync(writers, cancellationToken).ConfigureAwait(false);
            await foreach (var item in ScanAsync(next, ends, options.Filter, cancellationToken).ConfigureAwait(false))
            {
                last = item.Progress;
                if (item.Event is not null)
                {
                    filteredSinceCheckpoint = 0;
                    yield return SubscriptionMessage.ForEvent(item.Event);
                }
                else if (++filteredSinceCheckpoint >= options.CheckpointInterval)
                {
                    filteredSinceCheckpoint = 0;
                    yield return SubscriptionMessage.ForCheckpoint(item.Progress);
                }
            }
            next = NextFromProgress(last, ends, next, writers.Length);
            if (filteredSinceCheckpoint > 0)
            {
                filteredSinceCheckpoint = 0;
                yield return SubscriptionMessage.ForCheckpoint(last);
            }
            if (!caughtUp)
            {
                caughtUp = true;
                yield return SubscriptionMessage.ForCaughtUp(last);
            }
            // Local appends wake the subscription at once; other processes' appends are seen by the periodic poll.
            await Task.WhenAny(signal, Task.Delay(100, cancellationToken)).ConfigureAwait(false);
        }
        cancellationToken.ThrowIfCancellationRequested();
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<SubscriptionMessage> SubscribeToStreamAsync(StreamName stream, long? afterVersion = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        EventGuard.ValidateStream(stream, Capabilities);
        if (afterVersion is < -1) throw new ArgumentOutOfRangeException(nameof(afterVersion), afterVersion, "The version must be -1 or more.");
        var writer = await WriterForAsync(stream, cancellationToken).ConfigureAwait(false);
        var nextVersion = (afterVersion ?? -1) + 1;
        var caughtUp = false;
        var position = Position.Start;
        while (!cancellationToken.IsCancellationRequested)
        {
            var signal = _appended.Task;
            await writer.CatchUpAsync(cancellationToken).ConfigureAwait(false);
            var runs = StreamRuns(writer.Index, stream, ReadDirection.Forwards, nextVersion, long.MaxValue);
            await foreach (var e in ReadRunsAsync(stream, writer.Index.Partition, runs, false, cancellationToken).ConfigureAwait(false))
            {
                nextVersion = e.Version + 1;
                position = e.Position;
                yield return SubscriptionMessage.ForEvent(e);
            }
            if (!caughtUp)
            {
                caughtUp = true;
                yield return SubscriptionMessage.ForCaughtUp(position);
            }
            await Task.WhenAny(signal, Task.Delay(100, cancellationToken)).ConfigureAwait(false);
        }
        cancellationToken.ThrowIfCancellationRequested();
    }
}
