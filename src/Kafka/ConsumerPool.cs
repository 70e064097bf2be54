using System.Collections.Concurrent;
using Confluent.Kafka;

namespace EventStore.Providers.Kafka;

/// <summary>
/// Reusable assign-only consumers (no group membership, no commits): opening a librdkafka consumer costs a thread
/// and a metadata round trip, too much for every stream read.
/// </summary>
internal sealed class ConsumerPool(KafkaEventStoreOptions options, string groupId, IKafkaClientFactory clients) : IDisposable
{
    private readonly ConcurrentBag<IPartitionConsumer> _idle = [];
    private long _messagesConsumed;
    private bool _disposed;

    /// <summary>How many messages the store's readers have consumed from Kafka (what a scan would inflate).</summary>
    public long MessagesConsumed => Interlocked.Read(ref _messagesConsumed);

    public ConsumerConfig Config(string? group = null) => options.Apply(new ConsumerConfig
    {
        GroupId = group ?? groupId,
        EnableAutoCommit = false,
        EnableAutoOffsetStore = false,
        EnablePartitionEof = true,
        // Never jump silently past deleted events: a read of a missing offset fails.
        AutoOffsetReset = AutoOffsetReset.Error,
        IsolationLevel = options.UseTransactions ? IsolationLevel.ReadCommitted : IsolationLevel.ReadUncommitted,
        FetchWaitMaxMs = 20,
        QueuedMaxMessagesKbytes = 16 * 1024,
        MaxPartitionFetchBytes = 1024 * 1024,
        FetchMaxBytes = Math.Max(options.MaxMessageBytes * 2, 4 * 1024 * 1024),
        MessageMaxBytes = Math.Max(options.MaxMessageBytes * 2, 4 * 1024 * 1024),
    });

    public Lease Rent()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_idle.TryTake(out var consumer))
            consumer = clients.CreateConsumer(Config());
        return new Lease(this, consumer);
    }

    private void Return(IPartitionConsumer consumer)
    {
        try
        {
            consumer.Unassign();
        }
        catch (KafkaException)
        {
            consumer.Dispose();
            return;
        }
        if (_disposed || _idle.Count >= 8) consumer.Dispose();
        else _idle.Add(consumer);
    }

    public void Dispose()
    {
        _disposed = true;
        while (_idle.TryTake(out var c)) c.Dispose();
    }

    /// <summary>A rented consumer; disposing it returns it to the pool.</summary>
    internal sealed class Lease(ConsumerPool pool, IPartitionConsumer consumer) : IDisposable
    {
        public IPartitionConsumer Consumer { get; } = consumer;

        public void Assign(TopicPartitionOffset start) => Consumer.Assign([start]);

        /// <summary>
        /// The next message or end-of-partition marker; null when nothing arrived within the poll interval. Polls
        /// without blocking first (prefetched messages), and blocks on a pool thread only when it must wait.
        /// </summary>
        public async ValueTask<ConsumeResult<byte[], byte[]>?> NextAsync(CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            ConsumeResult<byte[], byte[]>? r;
            try
            {
                r = Consumer.Consume(TimeSpan.Zero)
                    ?? await Task.Run(() => Consumer.Consume(TimeSpan.FromMilliseconds(100)), cancellationToken).ConfigureAwait(false);
            }
            catch (ConsumeException e) when (e.Error.Code is ErrorCode.OffsetOutOfRange or ErrorCode.Local_AutoOffsetReset)
            {
                throw new EventStoreException($"Kafka no longer has the requested offset ({e.Error.Reason}): events were deleted by retention or a log size limit. The events topic must keep events forever.", e);
            }
            if (r is { IsPartitionEOF: false }) Interlocked.Increment(ref pool._messagesConsumed);
            return r;
        }

        public void Dispose() => pool.Return(Consumer);
    }
}
