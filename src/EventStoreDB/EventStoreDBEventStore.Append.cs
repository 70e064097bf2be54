using EventStore.Providers.EventStoreDB.Protocol;
using EventStore.Providers.EventStoreDB.Protocol.Streams;
using Duration = Google.Protobuf.WellKnownTypes.Duration;
using Grpc.Core;

namespace EventStore.Providers.EventStoreDB;

// Appends: pipelined BatchAppend for ordinary batches, client-streaming Append for large ones, and the idempotence rules on top.
public sealed partial class EventStoreDBEventStore
{
    /// <inheritdoc />
    public async Task<AppendResult> AppendAsync(StreamName stream, ExpectedVersion expectedVersion, IReadOnlyList<EventData> events, CancellationToken cancellationToken = default)
    {
        EventGuard.ValidateAppend(stream, expectedVersion, events, Capabilities);
        cancellationToken.ThrowIfCancellationRequested();
        if (events.Count == 0) return await EmptyAppendAsync(stream, expectedVersion, cancellationToken).ConfigureAwait(false);

        var (verdict, known, conflicting) = _recent.Check(stream, expectedVersion, events);
        if (verdict == RecentAppends.Verdict.Idempotent) return known!;
        if (verdict == RecentAppends.Verdict.Conflict) throw new EventIdConflictException(stream, conflicting);

        var size = 0L;
        foreach (var e in events) size += e.Size + e.EventType.Length + 64;
        var watermark = await _watermark.CurrentAsync(cancellationToken).ConfigureAwait(false);
        var outcome = size < _options.BatchAppendMaxBytes
            ? await BatchAppendAsync(stream, expectedVersion, events, cancellationToken).ConfigureAwait(false)
            : await PlainAppendAsync(Names.ToServer(stream), stream, expectedVersion, events.Select(EsdbProtocol.ToProposed).ToList(), events, cancellationToken).ConfigureAwait(false);
        if (outcome.Succeeded)
        {
            _recent.Remember(stream, events, outcome.LastVersion, outcome.Position);
            _watermark.Observe(outcome.Position);
            return new AppendResult(outcome.LastVersion, outcome.Position, CommitWatermark.WroteEvents(outcome.Position, watermark));
        }
        return await ResolveWrongVersionAsync(stream, expectedVersion, events, outcome.ActualVersion, cancellationToken).ConfigureAwait(false);
    }

    private async Task<AppendResult> EmptyAppendAsync(StreamName stream, ExpectedVersion expected, CancellationToken cancellationToken)
    {
        RecordedEvent? last = null;
        await foreach (var e in ReadStreamAsync(stream, ReadDirection.Backwards, null, 1, cancellationToken).ConfigureAwait(false)) last = e;
        var lastVersion = last?.Version ?? -1;
        if (!expected.IsSatisfiedBy(lastVersion)) throw new WrongExpectedVersionException(stream, expected, lastVersion);
        return new AppendResult(lastVersion, last?.Position ?? Position.Start, WroteEvents: false);
    }

    private async Task<AppendOutcome> BatchAppendAsync(StreamName stream, ExpectedVersion expected, IReadOnlyList<EventData> events, CancellationToken cancellationToken)
    {
        var options = new BatchAppendReq.Types.Options
        {
            StreamIdentifier = EsdbProtocol.StreamId(Names.ToServer(stream)),
            Deadline = Duration.FromTimeSpan(_connection.Settings.DefaultDeadline),
        };
        EsdbProtocol.SetExpected(options, expected);
        var proposed = events.Select(EsdbProtocol.ToBatchProposed).ToList();
        var timeout = _connection.Settings.DefaultDeadline + TimeSpan.FromSeconds(1);
        return await _connection.CallAsync(async (_, _) =>
        {
            // Each attempt is a new request with a new correlation id but the same event ids: the server's
            // idempotence turns a write that did land into a success that writes nothing.
            var correlationId = Guid.NewGuid();
            var request = new BatchAppendReq { CorrelationId = EsdbProtocol.ToUuid(correlationId), Options = options, IsFinal = true };
            request.ProposedMessages.AddRange(proposed);
            var response = await _batch.AppendAsync(request, correlationId, timeout, cancellationToken).ConfigureAwait(false);
            return EsdbProtocol.FromBatchAppendResponse(response, stream, events);
        }, e => EsdbProtocol.FromRpcException(e, stream, expected, events), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A plain client-streaming Append: options first, then one message per event.</summary>
    private async Task<AppendOutcome> PlainAppendAsync(string serverStream, StreamName? stream, ExpectedVersion expected,
        IReadOnlyList<AppendReq.Types.ProposedMessage> proposed, IReadOnlyList<EventData>? events, CancellationToken cancellationToken)
    {
        var options = new AppendReq.Types.Options { StreamIdentifier = EsdbProtocol.StreamId(serverStream) };
        EsdbProtocol.SetExpected(options, expected);
        var response = await _connection.CallAsync(async (client, callOptions) =>
        {
            using var call = client.Append(callOptions);
            try
            {
                await call.RequestStream.WriteAsync(new AppendReq { Options = options }, cancellationToken).ConfigureAwait(false);
                foreach (var message in proposed)
                    await call.RequestStream.WriteAsync(new AppendReq { ProposedMessage = message }, cancellationToken).ConfigureAwait(false);
                await call.RequestStream.CompleteAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is InvalidOperationException or RpcException)
            {
                // The server answered early (deleted stream, size limit): its status is in the response.
            }
            return await call.ResponseAsync.ConfigureAwait(false);
        }, e => EsdbProtocol.FromRpcException(e, stream, expected, events), cancellationToken).ConfigureAwait(false);
        return EsdbProtocol.FromAppendResponse(response);
    }

    /// <summary>
    /// The server said the expectation does not hold. Look where the batch would have landed: all its ids there in
    /// order means it was stored before (idempotent success); some of them means a partial overlap; none, a genuine
    /// wrong expected version.
    /// </summary>
    private async Task<AppendResult> ResolveWrongVersionAsync(StreamName stream, ExpectedVersion expected, IReadOnlyList<EventData> events, long? actual, CancellationToken cancellationToken)
    {
        var stored = new List<RecordedEvent>(events.Count);
        var (direction, from) = expected.Kind switch
        {
            ExpectedVersionKind.Exact => (ReadDirection.Forwards, (long?)(expected.Version + 1)),
            ExpectedVersionKind.NoStream => (ReadDirection.Forwards, 0L),
            _ => (ReadDirection.Backwards, (long?)null),
        };
        await foreach (var e in ReadStreamAsync(stream, direction, from, events.Count, cancellationToken).ConfigureAwait(false)) stored.Add(e);
        if (direction == ReadDirection.Backwards) stored.Reverse();
        if (stored.Count == events.Count && stored.Select(e => e.EventId).SequenceEqual(events.Select(e => e.EventId)))
        {
            var last = stored[^1];
            _recent.Remember(stream, events, last.Version, last.Position);
            return new AppendResult(last.Version, last.Position, WroteEvents: false);
        }
        var ids = events.Select(e => e.EventId).ToHashSet();
        var overlap = stored.FirstOrDefault(e => ids.Contains(e.EventId));
        if (overlap is not null) throw new EventIdConflictException(stream, overlap.EventId);
        throw new WrongExpectedVersionException(stream, expected, actual);
    }

    /// <summary>Appends prepared messages to a server stream (internal streams: snapshots, checkpoints).</summary>
    internal Task<AppendOutcome> AppendServerAsync(string serverStream, StreamName? stream, ExpectedVersion expected, IReadOnlyList<AppendReq.Types.ProposedMessage> messages, CancellationToken cancellationToken) =>
        PlainAppendAsync(serverStream, stream, expected, messages, null, cancellationToken);
}
