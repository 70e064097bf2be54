using System.Net;
using System.Net.Sockets;

namespace EventStore.Providers.Reliability.Tests.Infrastructure;

/// <summary>
/// A TCP proxy on 127.0.0.1 in front of a server. While <see cref="DropReplies"/> is set, requests still reach the
/// server but its replies are thrown away, so the client never learns whether its call succeeded (a lost response).
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _upstreamPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _open = [];
    private readonly Task _accepting;
    private volatile bool _dropReplies;

    /// <summary>Starts the proxy in front of 127.0.0.1:<paramref name="upstreamPort"/>.</summary>
    public TcpProxy(int upstreamPort)
    {
        _upstreamPort = upstreamPort;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>The proxy's port.</summary>
    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>How many reply bytes were dropped so far.</summary>
    public long DroppedBytes => Interlocked.Read(ref _dropped);

    private long _dropped;

    private long _requestsSinceArmed;
    private long _passBeforeDropping;

    /// <summary>Drops server replies while true.</summary>
    public bool DropReplies
    {
        get => _dropReplies;
        set => DropRepliesAfter(value ? 0 : -1);
    }

    /// <summary>
    /// Lets the replies to the next <paramref name="requests"/> client writes through, then drops every reply (a call
    /// made of several requests loses only its later replies); a negative value stops dropping.
    /// </summary>
    public void DropRepliesAfter(int requests)
    {
        Interlocked.Exchange(ref _requestsSinceArmed, 0);
        Interlocked.Exchange(ref _passBeforeDropping, requests);
        _dropReplies = requests >= 0;
    }

    /// <summary>Closes every proxied connection (their clients see a broken connection).</summary>
    public void CloseAll()
    {
        lock (_open)
        {
            foreach (var c in _open) c.Dispose();
            _open.Clear();
        }
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            _ = Task.Run(() => PipeAsync(client));
        }
    }

    private async Task PipeAsync(TcpClient client)
    {
        var upstream = new TcpClient();
        lock (_open)
        {
            _open.Add(client);
            _open.Add(upstream);
        }
        try
        {
            await upstream.ConnectAsync(IPAddress.Loopback, _upstreamPort, _stop.Token);
            var up = CopyAsync(client.GetStream(), upstream.GetStream(), drop: false);
            var down = CopyAsync(upstream.GetStream(), client.GetStream(), drop: true);
            await Task.WhenAny(up, down);
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
        {
            // The client, the server or CloseAll ended the connection; both sides are closed below.
        }
        finally
        {
            client.Dispose();
            upstream.Dispose();
        }
    }

    private async Task CopyAsync(Stream from, Stream to, bool drop)
    {
        var buffer = new byte[16 * 1024];
        while (true)
        {
            var n = await from.ReadAsync(buffer, _stop.Token);
            if (n == 0) return;
            if (!drop) Interlocked.Increment(ref _requestsSinceArmed);
            if (drop && _dropReplies && Interlocked.Read(ref _requestsSinceArmed) > Interlocked.Read(ref _passBeforeDropping))
            {
                Interlocked.Add(ref _dropped, n);
                continue;
            }
            await to.WriteAsync(buffer.AsMemory(0, n), _stop.Token);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        CloseAll();
        await _accepting;
        _stop.Dispose();
    }
}
