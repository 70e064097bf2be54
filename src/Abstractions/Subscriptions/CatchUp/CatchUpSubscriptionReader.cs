using System.Runtime.CompilerServices;

namespace EventStore.Providers.Subscriptions.CatchUp;

/// <summary>
/// A provider-agnostic catch-up subscription built only on <see cref="IEventReader"/>: it pages the global log (or a
/// stream) from a checkpoint, yields <see cref="SubscriptionMessageKind.CaughtUp"/> once history is delivered, then
/// waits for a wake-up from <see cref="CatchUpOptions.Notifier"/> (or the poll interval) and reads on. Providers use it
/// to implement <see cref="IEventSubscriber"/>.
/// </summary>
/// <remarks>
/// <para>
/// Gap safety is the reader's job (<see cref="IEventReader.ReadAllAsync"/> only returns safely committed events); this
/// type only guarantees it neither repeats nor skips what the reads return: every page starts exclusively after the
/// last event it saw.
/// </para>
/// <para>
/// Filtered subscriptions read unfiltered pages and filter here, so they can count filtered-out events and emit a
/// <see cref="SubscriptionMessageKind.Checkpoint"/> at least every <see cref="SubscribeToAllOptions.CheckpointInterval"/>
/// of them, and once more whenever a page ends past the last message. The safe head is read <em>before</em> each
/// page: when a page comes back short, everything up to that head has been seen, so the cursor (and the checkpoint)
/// may move to it even when no event matched or the log has holes.
/// </para>
/// </remarks>
public sealed class CatchUpSubscriptionReader
{
    private readonly IEventReader _reader;
    private readonly CatchUpOptions _options;

    /// <summary>Creates a reader over <paramref name="reader"/>.</summary>
    /// <param name="reader">The store's reader (usually the provider's <see cref="IEventStore"/> itself).</param>
    /// <param name="options">Paging, waiting and ordering; defaults when null.</param>
    public CatchUpSubscriptionReader(IEventReader reader, CatchUpOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(reader);
        options ??= new CatchUpOptions();
        options.EnsureValid();
        _reader = reader;
        _options = options;
    }

    /// <summary>Subscribes to the global log; see <see cref="IEventSubscriber.SubscribeToAllAsync"/>.</summary>
    public IAsyncEnumerable<SubscriptionMessage> SubscribeToAllAsync(SubscribeToAllOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new SubscribeToAllOptions();
        options.EnsureValid();
        return SubscribeToAllCore(options, cancellationToken);
    }

    /// <summary>Subscribes to one stream; see <see cref="IEventSubscriber.SubscribeToStreamAsync"/>.</summary>
    /// <remarks>The <see cref="SubscriptionMessageKind.CaughtUp"/> position is that of the last event delivered (<see cref="Position.Start"/> when none).</remarks>
    public IAsyncEnumerable<SubscriptionMessage> SubscribeToStreamAsync(StreamName stream, long? afterVersion = null, CancellationToken cancellationToken = default)
    {
        if (stream.ToString().Length == 0) throw new InvalidStreamNameException(null, "the stream name is missing (default StreamName)");
        if (afterVersion is < 0) throw new ArgumentOutOfRangeException(nameof(afterVersion), afterVersion, "The version to subscribe after must be 0 or more (null for the whole stream).");
        return SubscribeToStreamCore(stream, afterVersion, cancellationToken);
    }

    private async IAsyncEnumerable<SubscriptionMessage> SubscribeToAllCore(SubscribeToAllOptions options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var filter = options.Filter;
        var total = _options.GlobalOrder == GlobalOrdering.Total;
        var cursor = options.From ?? Position.Start;
        var lastMessage = cursor;
        var filteredOut = 0;
        var caughtUp = false;
        while (true)
        {
            var head = await _reader.GetHeadPositionAsync(cancellationToken).ConfigureAwait(false);
            var seen = 0;
            var page = new ReadAllOptions { From = cursor.IsStart ? null : cursor, MaxCount = _options.PageSize };
            await foreach (var e in _reader.ReadAllAsync(page, cancellationToken).ConfigureAwait(false))
            {
                seen++;
                // A store that returned an event at or before the cursor would make us repeat it; drop it instead.
                if (total && !cursor.IsStart && e.Position <= cursor) continue;
                cursor = e.Position;
                if (filter.IsEmpty || filter.Matches(e))
                {
                    filteredOut = 0;
                    lastMessage = cursor;
                    yield return SubscriptionMessage.ForEvent(e);
                }
                else if (++filteredOut >= options.CheckpointInterval)
                {
                    filteredOut = 0;
                    lastMessage = cursor;
                    yield return SubscriptionMessage.ForCheckpoint(cursor);
                }
            }
            if (seen >= _options.PageSize) continue;

            // A short page means everything up to the head read before it has been seen.
            if (!head.IsStart && ((total && head > cursor) || (!total && seen == 0)))
                cursor = head;
            if (!filter.IsEmpty && cursor != lastMessage)
            {
                filteredOut = 0;
                lastMessage = cursor;
                yield return SubscriptionMessage.ForCheckpoint(cursor);
            }
            if (!caughtUp)
            {
                caughtUp = true;
                yield return SubscriptionMessage.ForCaughtUp(cursor);
            }
            await WaitForChangeAsync(cursor, cancellationToken).ConfigureAwait(false);
        }
    }

    private async IAsyncEnumerable<SubscriptionMessage> SubscribeToStreamCore(StreamName stream, long? afterVersion, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var next = afterVersion + 1 ?? 0;
        var lastPosition = Position.Start;
        var caughtUp = false;
        while (true)
        {
            var head = await _reader.GetHeadPositionAsync(cancellationToken).ConfigureAwait(false);
            var seen = 0;
            await foreach (var e in _reader.ReadStreamAsync(stream, ReadDirection.Forwards, next, _options.PageSize, cancellationToken).ConfigureAwait(false))
            {
                seen++;
                // Versions are dense, so anything below `next` was delivered already.
                if (e.Version < next) continue;
                next = e.Version + 1;
                lastPosition = e.Position;
                yield return SubscriptionMessage.ForEvent(e);
            }
            if (seen >= _options.PageSize) continue;
            if (!caughtUp)
            {
                caughtUp = true;
                yield return SubscriptionMessage.ForCaughtUp(lastPosition);
            }
            await WaitForChangeAsync(head, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task WaitForChangeAsync(Position after, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            var notified = _options.Notifier.WaitForChangeAsync(after, stop.Token);
            var poll = Task.Delay(_options.PollInterval, _options.TimeProvider, stop.Token);
            var first = await Task.WhenAny(notified, poll).ConfigureAwait(false);
            // A broken notifier (a dropped LISTEN connection, say) must not turn the wait into a busy loop: fall back to
            // the poll, which bounds the delay anyway.
            if (first == notified && notified.IsFaulted)
            {
                _ = notified.Exception; // observed here so it is not rethrown as an unobserved task exception
                await poll.ConfigureAwait(false);
            }
            cancellationToken.ThrowIfCancellationRequested();
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
        }
    }
}
