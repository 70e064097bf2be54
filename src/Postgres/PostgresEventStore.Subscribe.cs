using System.Runtime.CompilerServices;

namespace EventStore.Providers.Postgres;

// Catch-up subscriptions: page through history, say CaughtUp, then sleep until the LISTEN connection reports a
// commit (append_events notifies) or, while that connection is down, until the poll interval passes.
public sealed partial class PostgresEventStore
{
    // While LISTEN works, a subscription still re-reads this often, as a guard against a lost notification.
    private static readonly TimeSpan ListeningSafetyPoll = TimeSpan.FromSeconds(30);

    /// <inheritdoc />
    public async IAsyncEnumerable<SubscriptionMessage> SubscribeToAllAsync(SubscribeToAllOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        options ??= new SubscribeToAllOptions();
        options.EnsureValid();
        var cursor = options.From is { } from ? ToRaw(from) : 0;
        var filter = options.Filter;
        var pageSize = _options.ReadPageSize;
        // Positions are dense, so the filtered-out events between two positions are their distance minus the matches.
        long lastMessage = cursor;
        var caughtUp = false;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var signal = _listener.Signal;
            var head = await GetHeadAsync(cancellationToken).ConfigureAwait(false);
            while (cursor < head)
            {
                // Filtered scans go window by window so checkpoints can be emitted while nothing matches.
                var upTo = filter.IsEmpty ? head : Math.Min(head, cursor + options.CheckpointInterval);
                var page = await ReadLogPageAsync(true, cursor, upTo, filter, pageSize, cancellationToken).ConfigureAwait(false);
                foreach (var e in page)
                {
                    yield return SubscriptionMessage.ForEvent(e);
                    lastMessage = e.Position.Parts[0];
                }
                cursor = page.Count == pageSize ? page[^1].Position.Parts[0] : upTo;
                if (!filter.IsEmpty && cursor - lastMessage >= options.CheckpointInterval)
                {
                    yield return SubscriptionMessage.ForCheckpoint(FromRaw(cursor));
                    lastMessage = cursor;
                }
            }
            if (!caughtUp)
            {
                if (!filter.IsEmpty && cursor > lastMessage)
                {
                    yield return SubscriptionMessage.ForCheckpoint(FromRaw(cursor));
                    lastMessage = cursor;
                }
                caughtUp = true;
                _logger.LogCaughtUp("$all", FromRaw(cursor).ToString());
                yield return SubscriptionMessage.ForCaughtUp(FromRaw(cursor));
                continue;
            }
            await WaitForAppendAsync(signal, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<SubscriptionMessage> SubscribeToStreamAsync(StreamName stream, long? afterVersion = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        EventGuard.ValidateStream(stream, Capabilities);
        if (afterVersion is < -1) throw new ArgumentOutOfRangeException(nameof(afterVersion), afterVersion, "The version to subscribe after must be -1 or more.");
        var next = (afterVersion ?? -1) + 1;
        var position = Position.Start;
        var caughtUp = false;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var signal = _listener.Signal;
            while (true)
            {
                var page = await ReadStreamPageAsync(stream, true, next, _options.ReadPageSize, cancellationToken).ConfigureAwait(false);
                foreach (var e in page)
                {
                    yield return SubscriptionMessage.ForEvent(e);
                    next = e.Version + 1;
                    position = e.Position;
                }
                if (page.Count < _options.ReadPageSize) break;
            }
            if (!caughtUp)
            {
                caughtUp = true;
                _logger.LogCaughtUp(stream.Value, position.ToString());
                yield return SubscriptionMessage.ForCaughtUp(position);
                continue;
            }
            await WaitForAppendAsync(signal, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task WaitForAppendAsync(Task signal, CancellationToken cancellationToken)
    {
        var timeout = _listener.IsListening ? ListeningSafetyPoll : _options.PollInterval;
        try
        {
            await signal.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Nothing was notified in time: re-read anyway (the polling fallback).
        }
    }
}
