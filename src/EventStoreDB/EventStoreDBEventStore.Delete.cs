using EventStore.Providers.EventStoreDB.Protocol;
using EventStore.Providers.EventStoreDB.Protocol.Streams;
using Grpc.Core;

namespace EventStore.Providers.EventStoreDB;

// Deletion: soft delete and tombstone.
public sealed partial class EventStoreDBEventStore
{
    /// <inheritdoc />
    public async Task DeleteStreamAsync(StreamName stream, ExpectedVersion expectedVersion, StreamDeletionMode mode = StreamDeletionMode.Soft, CancellationToken cancellationToken = default)
    {
        EventGuard.ValidateStream(stream, Capabilities);
        expectedVersion.EnsureValid();
        if (!System.Enum.IsDefined(mode)) throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown deletion mode.");
        await DeleteServerStreamAsync(Names.ToServer(stream), stream, expectedVersion, mode, cancellationToken).ConfigureAwait(false);
        _recent.Forget(stream);
    }

    internal async Task DeleteServerStreamAsync(string serverStream, StreamName? stream, ExpectedVersion expected, StreamDeletionMode mode, CancellationToken cancellationToken)
    {
        Exception ToError(RpcException e) => EsdbProtocol.FromRpcException(e, stream, expected);
        if (mode == StreamDeletionMode.Tombstone)
        {
            var options = new TombstoneReq.Types.Options { StreamIdentifier = EsdbProtocol.StreamId(serverStream) };
            EsdbProtocol.SetExpected(options, expected);
            await _connection.CallAsync(async (c, o) => await c.TombstoneAsync(new TombstoneReq { Options = options }, o).ConfigureAwait(false), ToError, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            var options = new DeleteReq.Types.Options { StreamIdentifier = EsdbProtocol.StreamId(serverStream) };
            EsdbProtocol.SetExpected(options, expected);
            await _connection.CallAsync(async (c, o) => await c.DeleteAsync(new DeleteReq { Options = options }, o).ConfigureAwait(false), ToError, cancellationToken).ConfigureAwait(false);
        }
    }
}
