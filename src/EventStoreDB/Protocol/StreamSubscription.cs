using System.Runtime.CompilerServices;
using EventStore.Providers.EventStoreDB.Protocol.Streams;

namespace EventStore.Providers.EventStoreDB.Protocol;

/// <summary>
/// Turns a stream subscription's server messages into ours and decides when it has caught up, without relying on
/// the server's <c>caught_up</c> message: servers before 23.10 never send it, and 23.10 sends nothing after the
/// confirmation of a subscription to a missing stream until the stream gets events.
/// </summary>
/// <remarks>
/// After the first confirmation the subscription reads the stream's last revision once (<c>readLastRevision</c>,
/// -1 when the stream is missing). It is caught up as soon as it has delivered up to that revision, which for a
/// missing stream (or a subscription already past the end) is at once; a server <c>caught_up</c> that comes first
/// counts too. CaughtUp is emitted once; resubscriptions after a dropped call keep the state.
/// </remarks>
internal sealed class StreamSubscription(StreamName stream, long? afterVersion, Func<CancellationToken, Task<long>> readLastRevision)
{
    private long? _target;
    private bool _caughtUp;

    /// <summary>The last revision delivered (or subscribed after); a resubscription starts after it.</summary>
    public long LastVersion { get; private set; } = afterVersion ?? -1;

    /// <summary>The position of the last event delivered; CaughtUp carries it.</summary>
    public Position LastPosition { get; private set; } = Position.Start;

    public async IAsyncEnumerable<SubscriptionMessage> FollowAsync(IAsyncEnumerable<ReadResp> responses, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var response in responses.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            switch (response.ContentCase)
            {
                case ReadResp.ContentOneofCase.Confirmation when !_caughtUp && _target is null:
                    _target = await readLastRevision(cancellationToken).ConfigureAwait(false);
                    if (TryCatchUp()) yield return SubscriptionMessage.ForCaughtUp(LastPosition);
                    break;
                case ReadResp.ContentOneofCase.Event when response.Event.Event is { } raw:
                    var e = EsdbProtocol.ToRecorded(raw, stream);
                    if (e.Version <= LastVersion) continue;
                    LastVersion = e.Version;
                    LastPosition = e.Position;
                    yield return SubscriptionMessage.ForEvent(e);
                    if (TryCatchUp()) yield return SubscriptionMessage.ForCaughtUp(LastPosition);
                    break;
                case ReadResp.ContentOneofCase.CaughtUp when !_caughtUp:
                    _caughtUp = true;
                    yield return SubscriptionMessage.ForCaughtUp(LastPosition);
                    break;
            }
        }
    }

    private bool TryCatchUp()
    {
        if (_caughtUp || _target is not { } target || LastVersion < target) return false;
        _caughtUp = true;
        return true;
    }
}
