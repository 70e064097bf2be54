using System.Collections.Concurrent;
using System.Threading.Channels;
using EventStore.Providers.EventStoreDB.Protocol.Streams;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace EventStore.Providers.EventStoreDB.Protocol;

/// <summary>
/// Pipelines appends over one long-lived BatchAppend call: every append is one request message with a fresh
/// correlation id, written by a single writer loop, and answered out of order by the server; a reader loop hands
/// each answer to the waiting append. Many appends are in flight at once on one HTTP/2 stream. When the call breaks,
/// every waiting append fails with a transient error (the caller retries with the same event ids) and the next
/// append opens a new call.
/// </summary>
internal sealed class BatchAppender : IAsyncDisposable
{
    private readonly EsdbConnection _connection;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private Session? _session;
    private bool _disposed;

    public BatchAppender(EsdbConnection connection, ILogger logger)
    {
        _connection = connection;
        _logger = logger;
    }

    /// <summary>
    /// Sends one batch and waits for its answer. The server drops a re-send whose original is not yet replicated
    /// without answering, so an answer that does not come within <paramref name="timeout"/> is a DeadlineExceeded the
    /// caller retries.
    /// </summary>
    public async Task<BatchAppendResp> AppendAsync(BatchAppendReq request, Guid correlationId, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var session = GetSession();
        var answer = new TaskCompletionSource<BatchAppendResp>(TaskCreationOptions.RunContinuationsAsynchronously);
        session.Pending[correlationId] = answer;
        try
        {
            if (!session.Outgoing.Writer.TryWrite(request))
                throw session.Failure ?? new RpcException(new Status(StatusCode.Unavailable, "The BatchAppend call is closed."));
            return await answer.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException e)
        {
            throw new RpcException(new Status(StatusCode.DeadlineExceeded, "EventStoreDB did not answer the batch append in time.", e));
        }
        finally
        {
            session.Pending.TryRemove(correlationId, out _);
        }
    }

    private Session GetSession()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_session is { Failure: null } live) return live;
            var call = _connection.Client.BatchAppend(_connection.Options(CancellationToken.None, withDeadline: false));
            var session = new Session(call);
            session.WriterLoop = Task.Run(() => WriteLoopAsync(session));
            session.ReaderLoop = Task.Run(() => ReadLoopAsync(session));
            _session = session;
            return session;
        }
    }

    private async Task WriteLoopAsync(Session session)
    {
        try
        {
            await foreach (var request in session.Outgoing.Reader.ReadAllAsync().ConfigureAwait(false))
                await session.Call.RequestStream.WriteAsync(request).ConfigureAwait(false);
            // Completing the request side only after every answer arrived: the server stops answering once it closes.
            await session.Call.RequestStream.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Fail(session, e);
        }
    }

    private async Task ReadLoopAsync(Session session)
    {
        try
        {
            await foreach (var response in session.Call.ResponseStream.ReadAllAsync().ConfigureAwait(false))
            {
                if (session.Pending.TryRemove(EsdbProtocol.FromUuid(response.CorrelationId), out var waiting))
                    waiting.TrySetResult(response);
            }
            Fail(session, new RpcException(new Status(StatusCode.Unavailable, "The server ended the BatchAppend call.")));
        }
        catch (Exception e)
        {
            Fail(session, e);
        }
    }

    private void Fail(Session session, Exception e)
    {
        var failure = e as RpcException ?? new RpcException(new Status(StatusCode.Unavailable, "The BatchAppend call broke.", e));
        lock (_gate)
        {
            if (session.Failure is not null) return;
            session.Failure = failure;
            if (ReferenceEquals(_session, session)) _session = null;
        }
        if (!_disposed) _logger.LogBatchCallEnded(failure.StatusCode);
        session.Outgoing.Writer.TryComplete();
        foreach (var waiting in session.Pending.Values) waiting.TrySetException(failure);
        session.Call.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        Session? session;
        lock (_gate)
        {
            _disposed = true;
            session = _session;
            _session = null;
        }
        if (session is null) return;
        session.Outgoing.Writer.TryComplete();
        if (session.WriterLoop is { } writer) await writer.ConfigureAwait(false);
        Fail(session, new RpcException(new Status(StatusCode.Cancelled, "The store was disposed.")));
    }

    private sealed class Session(AsyncDuplexStreamingCall<BatchAppendReq, BatchAppendResp> call)
    {
        public AsyncDuplexStreamingCall<BatchAppendReq, BatchAppendResp> Call { get; } = call;
        public Channel<BatchAppendReq> Outgoing { get; } = Channel.CreateUnbounded<BatchAppendReq>(new UnboundedChannelOptions { SingleReader = true });
        public ConcurrentDictionary<Guid, TaskCompletionSource<BatchAppendResp>> Pending { get; } = new();
        public RpcException? Failure { get; set; }
        public Task? WriterLoop { get; set; }
        public Task? ReaderLoop { get; set; }
    }
}
