using System.Runtime.CompilerServices;
using Confluent.Kafka;

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
        using var watcher = new NewRecordWatcher(this, Enumerable.Range(0, writers.Length).ToArray());
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
            await watcher.WaitAsync(signal, ends, cancellationToken).ConfigureAwait(false);
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
        using var watcher = new NewRecordWatcher(this, [writer.Index.Partition]);
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
            await watcher.WaitAsync(signal, PartitionEnd(writer), cancellationToken).ConfigureAwait(false);
        }
        cancellationToken.ThrowIfCancellationRequested();
    }

    private static long[] PartitionEnd(PartitionWriter writer) => [writer.Index.SafeEnd];

    /// <summary>
    /// Waits for something new without a fixed poll: this instance's appends wake the subscription directly; other
    /// processes' records wake it as soon as a consumer assigned at the subscription's end receives one (the broker
    /// holds the fetch until data arrives); at the latest after <see cref="KafkaEventStoreOptions.PollInterval"/>.
    /// </summary>
    private sealed class NewRecordWatcher(KafkaEventStore store, int[] partitions) : IDisposable
    {
        private ConsumerPool.Lease? _lease;
        private Task? _watch;

        public async Task WaitAsync(Task appended, long[] ends, CancellationToken ct)
        {
            if (_watch is null)
            {
                _lease ??= store.Consumers.Rent();
                var lease = _lease;
                lease.Consumer.Assign(partitions.Select((p, i) => new TopicPartitionOffset(store.Options.Topic, p, ends[i])));
                var poll = store.Options.PollInterval;
                _watch = Task.Run(() => WaitForRecord(lease.Consumer, poll), CancellationToken.None);
            }
            await Task.WhenAny(appended, _watch).WaitAsync(ct).ConfigureAwait(false);
            if (_watch.IsCompleted) _watch = null;
        }

        private static void WaitForRecord(IPartitionConsumer consumer, TimeSpan poll)
        {
            var deadline = DateTime.UtcNow + poll;
            try
            {
                for (var left = poll; left > TimeSpan.Zero; left = deadline - DateTime.UtcNow)
                {
                    if (consumer.Consume(left) is { IsPartitionEOF: false }) return;
                }
            }
            catch (ConsumeException)
            {
                // The next round's catch-up reports what is wrong with the partition.
            }
        }

        public void Dispose()
        {
            // A watch still blocked in the consumer ends within the poll interval; the consumer goes back after it.
            var lease = _lease;
            if (lease is null) return;
            if (_watch is null) lease.Dispose();
            else _watch.ContinueWith(_ => lease.Dispose(), TaskScheduler.Default);
        }
    }
}
