using System.Collections.Concurrent;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using EventStore.Providers.EventStoreDB.Protocol.Streams;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;

namespace EventStore.Providers.EventStoreDB.Protocol;

/// <summary>
/// HTTP/2 channels to the nodes of a connection string, the call headers (Basic credentials, leader requirement,
/// connection name) and the retry of transient failures. One channel per node is shared by every call, so concurrent
/// calls multiplex over one HTTP/2 connection.
/// </summary>
internal sealed class EsdbConnection : IDisposable
{
    private readonly EventStoreDBConnectionString _settings;
    private readonly ILogger _logger;
    private readonly Metadata _headers;
    private readonly ConcurrentDictionary<EventStoreDBEndpoint, (GrpcChannel Channel, Streams.Streams.StreamsClient Client)> _nodes = new();
    private EventStoreDBEndpoint _current;
    private int _nodeIndex;

    public EsdbConnection(EventStoreDBConnectionString settings, ILogger logger)
    {
        _settings = settings;
        _logger = logger;
        _current = settings.Endpoints[0];
        _headers = [];
        if (settings.UserName is not null)
        {
            var token = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{settings.UserName}:{settings.Password}"));
            _headers.Add("authorization", "Basic " + token);
        }
        if (settings.NodePreference == "leader") _headers.Add("requires-leader", "true");
        _headers.Add("connection-name", settings.ConnectionName ?? "EventStore.Providers");
    }

    public EventStoreDBConnectionString Settings => _settings;

    public Streams.Streams.StreamsClient Client => Node(_current).Client;

    /// <summary>Call options; <paramref name="withDeadline"/> is false for reads and subscriptions the consumer paces.</summary>
    public CallOptions Options(CancellationToken cancellationToken, bool withDeadline = true) =>
        new(_headers, withDeadline ? DateTime.UtcNow + _settings.DefaultDeadline : null, cancellationToken);

    private (GrpcChannel Channel, Streams.Streams.StreamsClient Client) Node(EventStoreDBEndpoint endpoint) =>
        _nodes.GetOrAdd(endpoint, e =>
        {
            var channel = CreateChannel(e);
            return (channel, new Streams.Streams.StreamsClient(channel));
        });

    private GrpcChannel CreateChannel(EventStoreDBEndpoint endpoint)
    {
        var handler = new SocketsHttpHandler
        {
            // Concurrent appends share one connection; a second one opens only past the server's stream limit.
            EnableMultipleHttp2Connections = true,
            PooledConnectionIdleTimeout = System.Threading.Timeout.InfiniteTimeSpan,
            ConnectTimeout = _settings.DefaultDeadline,
            KeepAlivePingDelay = ClampPing(_settings.KeepAliveInterval),
            KeepAlivePingTimeout = ClampPing(_settings.KeepAliveTimeout),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
        };
        if (_settings.Tls)
        {
            if (!_settings.TlsVerifyCert)
                handler.SslOptions.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
            else if (_settings.TlsCaFile is { } caFile)
            {
                var ca = X509CertificateLoader.LoadCertificateFromFile(caFile);
                handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                {
                    if (certificate is null) return false;
                    if (errors == SslPolicyErrors.None) return true;
                    if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0) return false;
                    using var chain = new X509Chain();
                    chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    chain.ChainPolicy.CustomTrustStore.Add(ca);
                    chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    return chain.Build(new X509Certificate2(certificate));
                };
            }
        }
        var address = new Uri($"{(_settings.Tls ? "https" : "http")}://{endpoint}");
        return GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = handler,
            MaxReceiveMessageSize = 17 * 1024 * 1024,
            MaxSendMessageSize = 17 * 1024 * 1024,
        });
    }

    private static TimeSpan ClampPing(TimeSpan value) =>
        value == System.Threading.Timeout.InfiniteTimeSpan ? value : value < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : value;

    /// <summary>Moves to the leader a follower named, or to the next node after an unreachable one.</summary>
    public void OnFailure(RpcException e)
    {
        if (EsdbProtocol.LeaderFrom(e) is { } leader)
        {
            _logger.LogSwitchingToLeader(_current.ToString(), leader.ToString());
            _current = leader;
            return;
        }
        if (e.StatusCode == StatusCode.Unavailable && _settings.Endpoints.Count > 1)
        {
            var next = _settings.Endpoints[Interlocked.Increment(ref _nodeIndex) % _settings.Endpoints.Count];
            _logger.LogNodeUnavailable(_current.ToString(), next.ToString());
            _current = next;
        }
    }

    // The provider's one retry policy: appends, deletes, reads (before their first answer) and resubscriptions all
    // retry the same failures with the same back-off, at most maxRetries times in a row.

    /// <summary>
    /// True when an attempt that failed with <paramref name="e"/> is worth repeating: a transient failure, fewer than
    /// <c>maxRetries</c> failures so far, and the caller still waiting. Appends retried this way re-send the same
    /// event ids, which the server recognises as the same write.
    /// </summary>
    public bool CanRetry(Exception e, int failures, CancellationToken cancellationToken) =>
        failures < _settings.MaxRetries && !cancellationToken.IsCancellationRequested &&
        (e is RpcException r && EsdbProtocol.IsTransient(r) || e is TransientEventStoreException);

    /// <summary>Waits before the next attempt: 50 ms doubling per failure, capped at 3.2 s.</summary>
    public static Task BackoffAsync(int failures, CancellationToken cancellationToken) =>
        Task.Delay(TimeSpan.FromMilliseconds(50 * (1 << Math.Min(failures, 6))), cancellationToken);

    /// <summary>
    /// Runs a unary-style call under the retry policy. A cancelled call whose token was cancelled becomes
    /// <see cref="OperationCanceledException"/>; any other failure that is not retried goes through <paramref name="toError"/>.
    /// </summary>
    public async Task<T> CallAsync<T>(Func<Streams.Streams.StreamsClient, CallOptions, Task<T>> call, Func<RpcException, Exception> toError, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await call(Client, Options(cancellationToken)).ConfigureAwait(false);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException(cancellationToken);
            }
            catch (Exception e) when (CanRetry(e, attempt, cancellationToken))
            {
                if (e is RpcException r) OnFailure(r);
                _logger.LogRetrying(e.Message, attempt + 1, _settings.MaxRetries);
                await BackoffAsync(attempt, cancellationToken).ConfigureAwait(false);
            }
            catch (RpcException e)
            {
                throw toError(e);
            }
        }
    }

    public void Dispose()
    {
        foreach (var node in _nodes.Values) node.Channel.Dispose();
        _nodes.Clear();
    }
}
