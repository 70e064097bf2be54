using System.Net;
using System.Net.Sockets;
using System.Text;

namespace EventStore.Providers.TestServers;

/// <summary>
/// Pings the Docker engine Testcontainers would use: <c>DOCKER_HOST</c> (<c>unix://</c> or <c>tcp://</c>) when set,
/// otherwise the usual sockets (<c>/var/run/docker.sock</c>, rootless and Docker Desktop ones). A socket file that is
/// there but does not answer <c>GET /_ping</c> within two seconds counts as unreachable.
/// </summary>
public sealed class DockerProbe(IEnvironmentReader environment) : IDockerProbe
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(2);

    /// <summary>A probe over the process environment.</summary>
    public static DockerProbe Default { get; } = new(ProcessEnvironment.Instance);

    /// <inheritdoc />
    public bool IsReachable() => Endpoints().Any(Ping);

    private IEnumerable<EndPoint> Endpoints()
    {
        if (environment.Get("DOCKER_HOST") is { } host)
        {
            if (host.StartsWith("unix://", StringComparison.Ordinal)) yield return new UnixDomainSocketEndPoint(host["unix://".Length..]);
            else if (host.StartsWith("tcp://", StringComparison.Ordinal) && Uri.TryCreate("http://" + host["tcp://".Length..], UriKind.Absolute, out var uri))
                yield return new DnsEndPoint(uri.Host, uri.Port);
            yield break;
        }
        var candidates = new List<string> { "/var/run/docker.sock" };
        if (environment.Get("XDG_RUNTIME_DIR") is { } runtime) candidates.Add(Path.Combine(runtime, "docker.sock"));
        if (environment.Get("HOME") is { } home) candidates.Add(Path.Combine(home, ".docker", "run", "docker.sock"));
        foreach (var path in candidates.Where(File.Exists)) yield return new UnixDomainSocketEndPoint(path);
    }

    private static bool Ping(EndPoint endpoint)
    {
        try
        {
            using var socket = endpoint is UnixDomainSocketEndPoint
                ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
                : new Socket(SocketType.Stream, ProtocolType.Tcp);
            using var limit = new CancellationTokenSource(Limit);
            socket.ConnectAsync(endpoint, limit.Token).AsTask().GetAwaiter().GetResult();
            socket.Send(Encoding.ASCII.GetBytes("GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n"));
            socket.ReceiveTimeout = (int)Limit.TotalMilliseconds;
            var buffer = new byte[256];
            var read = socket.Receive(buffer);
            var status = Encoding.ASCII.GetString(buffer, 0, read);
            return status.StartsWith("HTTP/1.", StringComparison.Ordinal) && status.Contains(" 200 ", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or IOException)
        {
            return false;
        }
    }
}
