using System.Runtime.CompilerServices;
using EventStore.Providers.EventStoreDB.Protocol;
using EventStore.Providers.EventStoreDB.Protocol.Streams;
using ProtoEmpty = EventStore.Providers.EventStoreDB.Protocol.Empty;

namespace EventStore.Providers.EventStoreDB;

// Catch-up subscriptions to $all and to one stream.
public sealed partial class EventStoreDBEventStore
{
    /// <inheritdoc />
    public IAsyncEnumerable<SubscriptionMessage> SubscribeToAllAsync(SubscribeToAllOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new SubscribeToAllOptions();
        options.EnsureValid();
        if (options.From is { IsStart: false } f) EsdbProtocol.FromPosition(f);
        return SubscribeToAllCoreAsync(options, cancellationToken);
    }

    private async IAsyncEnumerable<SubscriptionMessage> SubscribeToAllCoreAsync(SubscribeToAllOptions options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // The log head before subscribing: a filtered subscription checkpoints there when it catches up, since the
        // server's caught-up message carries no position.
        var headBefore = await GetLogHeadAsync(cancellationToken).ConfigureAwait(false);
        var last = options.From ?? Position.Start;
        ReadReq Request()
        {
            var allOptions = new ReadReq.Types.Options.Types.AllOptions();
            if (!last.IsStart)
            {
                var (commit, prepare) = EsdbProtocol.FromPosition(last);
                allOptions.Position = new ReadReq.Types.Options.Types.Position { CommitPosition = commit, PreparePosition = prepare };
            }
            else allOptions.Start = new ProtoEmpty();
            return new ReadReq
            {
                Options = new ReadReq.Types.Options
                {
                    All = allOptions,
                    ReadDirection = ReadReq.Types.Options.Types.ReadDirection.Forwards,
                    Subscription = new ReadReq.Types.Options.Types.SubscriptionOptions(),
                    Filter = EsdbProtocol.BuildFilter(Names.Prefix, options.Filter, (uint)options.CheckpointInterval),
                    UuidOption = new ReadReq.Types.Options.Types.UUIDOption { Structured = new ProtoEmpty() },
                },
            };
        }
        var caughtUp = false;
        await foreach (var response in ResilientSubscriptionAsync(Request, null, cancellationToken).ConfigureAwait(false))
        {
            // Caught up once the log head before subscribing has been scanned: the server's caught_up says so, and so
            // does any event or checkpoint at or past it (servers before 23.10 send no caught_up at all).
            var reached = false;
            switch (response.ContentCase)
            {
                case ReadResp.ContentOneofCase.Confirmation:
                    reached = headBefore.IsStart || options.From is { } from && from >= headBefore;
                    break;
                case ReadResp.ContentOneofCase.Event:
                    if (response.Event.Event is { } raw) reached = EsdbProtocol.ToPosition(raw.CommitPosition, raw.PreparePosition) >= headBefore;
                    var e = Accept(response.Event, options.Filter, last, forwards: true);
                    if (e is null) break;
                    last = e.Position;
                    yield return SubscriptionMessage.ForEvent(e);
                    break;
                case ReadResp.ContentOneofCase.Checkpoint:
                    var checkpoint = EsdbProtocol.ToPosition(response.Checkpoint.CommitPosition, response.Checkpoint.PreparePosition);
                    reached = checkpoint >= headBefore;
                    // Only filtered subscriptions checkpoint, as on every provider.
                    if (options.Filter.IsEmpty || checkpoint <= last) break;
                    last = checkpoint;
                    yield return SubscriptionMessage.ForCheckpoint(checkpoint);
                    break;
                case ReadResp.ContentOneofCase.CaughtUp:
                    reached = true;
                    break;
            }
            if (!reached || caughtUp) continue;
            caughtUp = true;
            if (!options.Filter.IsEmpty && headBefore > last)
            {
                last = headBefore;
                yield return SubscriptionMessage.ForCheckpoint(headBefore);
            }
            yield return SubscriptionMessage.ForCaughtUp(last);
        }
    }

    /// <inheritdoc />
    public IAsyncEnumerable<SubscriptionMessage> SubscribeToStreamAsync(StreamName stream, long? afterVersion = null, CancellationToken cancellationToken = default)
    {
        EventGuard.ValidateStream(stream, Capabilities);
        if (afterVersion is < 0) throw new ArgumentOutOfRangeException(nameof(afterVersion), afterVersion, "The version to subscribe after must be 0 or more.");
        return SubscribeToStreamCoreAsync(stream, afterVersion, cancellationToken);
    }

    private async IAsyncEnumerable<SubscriptionMessage> SubscribeToStreamCoreAsync(StreamName stream, long? afterVersion, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var serverStream = Names.ToServer(stream);
        var subscription = new StreamSubscription(stream, afterVersion, async ct =>
            await ReadLastAsync(serverStream, ct).ConfigureAwait(false) is { } last ? checked((long)last.StreamRevision) : -1);
        ReadReq Request()
        {
            var streamOptions = new ReadReq.Types.Options.Types.StreamOptions { StreamIdentifier = EsdbProtocol.StreamId(serverStream) };
            // The server's subscription revision is exclusive: it delivers the events after it.
            if (subscription.LastVersion >= 0) streamOptions.Revision = (ulong)subscription.LastVersion;
            else streamOptions.Start = new ProtoEmpty();
            return new ReadReq
            {
                Options = new ReadReq.Types.Options
                {
                    Stream = streamOptions,
                    ReadDirection = ReadReq.Types.Options.Types.ReadDirection.Forwards,
                    Subscription = new ReadReq.Types.Options.Types.SubscriptionOptions(),
                    NoFilter = new ProtoEmpty(),
                    UuidOption = new ReadReq.Types.Options.Types.UUIDOption { Structured = new ProtoEmpty() },
                },
            };
        }
        await foreach (var message in subscription.FollowAsync(ResilientSubscriptionAsync(Request, stream, cancellationToken), cancellationToken).ConfigureAwait(false))
            yield return message;
    }

    /// <summary>
    /// A subscription call that survives transient failures: it resubscribes after the last position the consumer
    /// saw (<paramref name="request"/> is rebuilt each time), up to <c>maxRetries</c> failures in a row.
    /// </summary>
    private async IAsyncEnumerable<ReadResp> ResilientSubscriptionAsync(Func<ReadReq> request, StreamName? stream, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var failures = 0;
        while (true)
        {
            var responses = ReadAsync(request(), stream, cancellationToken).GetAsyncEnumerator(cancellationToken);
            try
            {
                while (true)
                {
                    bool hasNext;
                    try
                    {
                        hasNext = await responses.MoveNextAsync().ConfigureAwait(false);
                    }
                    catch (TransientEventStoreException e) when (_connection.CanRetry(e, failures, cancellationToken))
                    {
                        _logger.LogResubscribing(e.Message);
                        break;
                    }
                    if (!hasNext)
                    {
                        // A subscription only ends by cancellation or error; an ended call is a dropped connection.
                        if (failures >= _connection.Settings.MaxRetries)
                            throw new TransientEventStoreException("EventStoreDB ended the subscription repeatedly; resume from the last checkpoint.");
                        break;
                    }
                    failures = 0;
                    yield return responses.Current;
                }
            }
            finally
            {
                await responses.DisposeAsync().ConfigureAwait(false);
            }
            failures++;
            await EsdbConnection.BackoffAsync(failures, cancellationToken).ConfigureAwait(false);
        }
    }
}
