using System.Runtime.CompilerServices;

namespace EventStore.Providers.DynamoDB;

public sealed partial class DynamoDBEventStore
{
    private const int SubscriptionPageSize = 1000;

    /// <inheritdoc />
    public IAsyncEnumerable<SubscriptionMessage> SubscribeToAllAsync(SubscribeToAllOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new SubscribeToAllOptions();
        options.EnsureValid();
        var from = ToNumber(options.From);
        return options.Filter.IsEmpty
            ? SubscribeToAllCoreAsync(from, cancellationToken)
            : SubscribeFilteredAsync(from, options.Filter, cancellationToken);
    }

    /// <summary>Polls the gap-safe forward walk: history page by page, then live, each event once and in order.</summary>
    private async IAsyncEnumerable<SubscriptionMessage> SubscribeToAllCoreAsync(long from, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var progress = new WalkProgress(from);
        var caughtUp = false;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var delivered = 0;
            var last = progress.Position;
            await foreach (var e in ReadAllForwardAsync(last, SubscriptionPageSize, progress, cancellationToken).ConfigureAwait(false))
            {
                delivered++;
                yield return SubscriptionMessage.ForEvent(e);
            }
            if (delivered >= SubscriptionPageSize) continue;
            if (!caughtUp)
            {
                caughtUp = true;
                yield return SubscriptionMessage.ForCaughtUp(ToPosition(progress.Position));
            }
            await Task.Delay(_options.PollInterval, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Filtered subscriptions read the category/type indexes up to the safe head, then checkpoint at that head, so
    /// the checkpoint moves past every filtered-out event without reading it.
    /// </summary>
    private async IAsyncEnumerable<SubscriptionMessage> SubscribeFilteredAsync(long from, EventFilter filter, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var position = from;
        var caughtUp = false;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var head = await SafeHeadAsync(cancellationToken).ConfigureAwait(false);
            if (head > position)
            {
                await foreach (var e in ReadFilteredAsync(filter, ReadDirection.Forwards, position, long.MaxValue, head, cancellationToken).ConfigureAwait(false))
                {
                    position = e.Position.ToInt64();
                    yield return SubscriptionMessage.ForEvent(e);
                }
                if (head > position)
                {
                    position = head;
                    yield return SubscriptionMessage.ForCheckpoint(Position.FromInt64(head));
                }
                continue;
            }
            if (!caughtUp)
            {
                caughtUp = true;
                yield return SubscriptionMessage.ForCaughtUp(ToPosition(position));
            }
            await Task.Delay(_options.PollInterval, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public IAsyncEnumerable<SubscriptionMessage> SubscribeToStreamAsync(StreamName stream, long? afterVersion = null, CancellationToken cancellationToken = default)
    {
        EventGuard.ValidateStream(stream, Capabilities);
        if (afterVersion is < -1) throw new ArgumentOutOfRangeException(nameof(afterVersion), afterVersion, "The version to subscribe after must be -1 or more.");
        return SubscribeToStreamCoreAsync(stream, afterVersion, cancellationToken);
    }

    private async IAsyncEnumerable<SubscriptionMessage> SubscribeToStreamCoreAsync(StreamName stream, long? afterVersion, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var next = (afterVersion ?? -1) + 1;
        var lastPosition = Position.Start;
        var caughtUp = false;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var delivered = 0;
            await foreach (var e in ReadStreamCoreAsync(stream, ReadDirection.Forwards, next, SubscriptionPageSize, knownHead: null, cancellationToken).ConfigureAwait(false))
            {
                delivered++;
                next = e.Version + 1;
                lastPosition = e.Position;
                yield return SubscriptionMessage.ForEvent(e);
            }
            if (delivered >= SubscriptionPageSize) continue;
            if (!caughtUp)
            {
                caughtUp = true;
                yield return SubscriptionMessage.ForCaughtUp(lastPosition);
            }
            await Task.Delay(_options.PollInterval, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    private static Position ToPosition(long position) => position == 0 ? Position.Start : Position.FromInt64(position);
}
