using System.Globalization;

namespace EventStore.Providers.EventStoreDB;

/// <summary>One node address of a connection string.</summary>
/// <param name="Host">Host name or IP address.</param>
/// <param name="Port">gRPC port (2113 by default).</param>
public readonly record struct EventStoreDBEndpoint(string Host, int Port)
{
    /// <inheritdoc />
    public override string ToString() => Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
}

/// <summary>
/// A parsed <c>esdb://</c> or <c>kurrentdb://</c> connection string:
/// <c>esdb://[user:password@]host[:port][,host[:port]...][?tls=false&amp;tlsVerifyCert=true&amp;keepAliveInterval=10000&amp;...]</c>.
/// </summary>
/// <remarks>
/// Settings (names case-insensitive): <c>tls</c> (default true), <c>tlsVerifyCert</c> (default true), <c>tlsCaFile</c>,
/// <c>keepAliveInterval</c> and <c>keepAliveTimeout</c> (milliseconds, -1 = off; defaults 10,000),
/// <c>defaultDeadline</c> (milliseconds; default 10,000), <c>connectionName</c>, <c>nodePreference</c>
/// (<c>leader</c>, <c>follower</c>, <c>random</c>, <c>readOnlyReplica</c>) and <c>maxRetries</c> (transient failures
/// retried per call; default 3). Gossip discovery (<c>+discover</c> schemes) is not supported: list the nodes.
/// <see cref="ToString"/> never shows the password.
/// </remarks>
public sealed class EventStoreDBConnectionString
{
    /// <summary>The configuration key the provider reads the connection string from.</summary>
    public const string ConfigurationKey = "EventStore:EventStoreDB:ConnectionString";

    private EventStoreDBConnectionString() { }

    /// <summary>The scheme as given (<c>esdb</c> or <c>kurrentdb</c>).</summary>
    public string Scheme { get; private init; } = "esdb";

    /// <summary>The nodes, in the order they are tried.</summary>
    public IReadOnlyList<EventStoreDBEndpoint> Endpoints { get; private init; } = [];

    /// <summary>The user name for Basic authentication, or null.</summary>
    public string? UserName { get; private init; }

    /// <summary>The password (never printed by <see cref="ToString"/>).</summary>
    internal string? Password { get; private init; }

    /// <summary>True when credentials were given.</summary>
    public bool HasCredentials => UserName is not null;

    /// <summary>Whether TLS is used (HTTP/2 over TLS); false uses cleartext HTTP/2 (h2c).</summary>
    public bool Tls { get; private init; } = true;

    /// <summary>Whether the server certificate is validated.</summary>
    public bool TlsVerifyCert { get; private init; } = true;

    /// <summary>A PEM/DER CA certificate file that the server certificate must chain to, or null.</summary>
    public string? TlsCaFile { get; private init; }

    /// <summary>The HTTP/2 keep-alive ping interval; <see cref="Timeout.InfiniteTimeSpan"/> turns pings off.</summary>
    public TimeSpan KeepAliveInterval { get; private init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a keep-alive ping may go unanswered before the connection is dropped.</summary>
    public TimeSpan KeepAliveTimeout { get; private init; } = TimeSpan.FromSeconds(10);

    /// <summary>The deadline of each call that is not a subscription.</summary>
    public TimeSpan DefaultDeadline { get; private init; } = TimeSpan.FromSeconds(10);

    /// <summary>The connection name sent to the server (shown in its logs).</summary>
    public string? ConnectionName { get; private init; }

    /// <summary>Which node writes and reads go to; <c>leader</c> sends the <c>requires-leader</c> header.</summary>
    public string NodePreference { get; private init; } = "leader";

    /// <summary>How many times a transient failure (unavailable, deadline exceeded) is retried per call.</summary>
    public int MaxRetries { get; private init; } = 3;

    /// <summary>Parses a connection string.</summary>
    /// <param name="connectionString">The connection string.</param>
    /// <param name="key">The configuration key named in errors.</param>
    /// <exception cref="EventStoreConfigurationException">The string is malformed; the message says what is wrong, never the password.</exception>
    public static EventStoreDBConnectionString Parse(string? connectionString, string key = ConfigurationKey)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
            throw new EventStoreConfigurationException(key, "is missing; set it to a connection string such as esdb://localhost:2113?tls=false.");
        var text = connectionString.Trim();
        var schemeEnd = text.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd <= 0)
            throw new EventStoreConfigurationException(key, "has no scheme; it must start with esdb:// or kurrentdb://.");
        var scheme = text[..schemeEnd].ToLowerInvariant();
        if (scheme is "esdb+discover" or "kurrentdb+discover" or "kdb+discover")
            throw new EventStoreConfigurationException(key, $"uses the scheme '{scheme}': gossip discovery is not supported by this provider; list the nodes with esdb://host1:2113,host2:2113.");
        if (scheme is not ("esdb" or "kurrentdb" or "kdb"))
            throw new EventStoreConfigurationException(key, $"uses the scheme '{scheme}'; it must be esdb:// or kurrentdb://.");
        var rest = text[(schemeEnd + 3)..];

        string? user = null, password = null;
        // A password with an unencoded '?' would otherwise be read as a host: never echo host text then.
        var mayHoldSecret = rest.Contains('@', StringComparison.Ordinal);
        var at = rest.LastIndexOf('@');
        var queryStart = rest.IndexOf('?', StringComparison.Ordinal);
        if (at >= 0 && (queryStart < 0 || at < queryStart))
        {
            var userInfo = rest[..at];
            rest = rest[(at + 1)..];
            var colon = userInfo.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || colon == userInfo.Length - 1)
                throw new EventStoreConfigurationException(key, "has credentials that are not of the form username:password@.");
            user = Uri.UnescapeDataString(userInfo[..colon]);
            password = Uri.UnescapeDataString(userInfo[(colon + 1)..]);
            queryStart = rest.IndexOf('?', StringComparison.Ordinal);
        }

        var hostsPart = queryStart >= 0 ? rest[..queryStart] : rest;
        var query = queryStart >= 0 ? rest[(queryStart + 1)..] : "";
        hostsPart = hostsPart.TrimEnd('/');
        if (hostsPart.Length == 0)
            throw new EventStoreConfigurationException(key, "names no host; it must be of the form esdb://host:port.");
        var endpoints = new List<EventStoreDBEndpoint>();
        foreach (var hostText in hostsPart.Split(','))
            endpoints.Add(ParseEndpoint(hostText.Trim(), key, mayHoldSecret));

        var result = new Builder { Scheme = scheme, Endpoints = endpoints, UserName = user, Password = password };
        if (query.Length > 0)
        {
            foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                var eq = pair.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0)
                    throw new EventStoreConfigurationException(key, $"has the setting '{(mayHoldSecret ? "(not shown: the connection string contains '@')" : Shorten(pair))}' without a value (expected name=value).");
                var name = pair[..eq];
                var value = Uri.UnescapeDataString(pair[(eq + 1)..]);
                ApplySetting(result, name, value, key, mayHoldSecret);
            }
        }
        return result.Build();
    }

    private static EventStoreDBEndpoint ParseEndpoint(string text, string key, bool mayHoldSecret)
    {
        string Shorten(string value) => mayHoldSecret ? "(not shown: the connection string contains '@')" : EventStoreDBConnectionString.Shorten(value);
        if (text.Length == 0) throw new EventStoreConfigurationException(key, "has an empty host in its host list.");
        string host;
        string? portText = null;
        if (text[0] == '[')
        {
            var close = text.IndexOf(']', StringComparison.Ordinal);
            if (close < 0) throw new EventStoreConfigurationException(key, $"has the host '{Shorten(text)}' with an unclosed '['.");
            host = text[1..close];
            if (close + 1 < text.Length)
            {
                if (text[close + 1] != ':') throw new EventStoreConfigurationException(key, $"has the host '{Shorten(text)}', which is not [address]:port.");
                portText = text[(close + 2)..];
            }
        }
        else
        {
            var colon = text.LastIndexOf(':');
            host = colon >= 0 ? text[..colon] : text;
            portText = colon >= 0 ? text[(colon + 1)..] : null;
        }
        if (host.Length == 0 || host.Any(c => char.IsWhiteSpace(c) || c is '/' or '?' or '#'))
            throw new EventStoreConfigurationException(key, $"has the invalid host '{Shorten(host)}'.");
        var port = 2113;
        if (portText is not null && (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535))
            throw new EventStoreConfigurationException(key, $"has the port '{Shorten(portText)}' for host '{Shorten(host)}'; a port is a number from 1 to 65535.");
        return new EventStoreDBEndpoint(host, port);
    }

    private static void ApplySetting(Builder b, string name, string value, string key, bool mayHoldSecret)
    {
        switch (name.ToLowerInvariant())
        {
            case "tls": b.Tls = ParseBool(name, value, key); break;
            case "tlsverifycert": b.TlsVerifyCert = ParseBool(name, value, key); break;
            case "tlscafile":
                if (string.IsNullOrWhiteSpace(value)) throw new EventStoreConfigurationException(key, "has an empty tlsCaFile.");
                b.TlsCaFile = value;
                break;
            case "keepaliveinterval": b.KeepAliveInterval = ParseMilliseconds(name, value, key, allowInfinite: true); break;
            case "keepalivetimeout": b.KeepAliveTimeout = ParseMilliseconds(name, value, key, allowInfinite: true); break;
            case "defaultdeadline": b.DefaultDeadline = ParseMilliseconds(name, value, key, allowInfinite: false); break;
            case "connectionname": b.ConnectionName = value; break;
            case "nodepreference":
                b.NodePreference = value.ToLowerInvariant() switch
                {
                    "leader" => "leader",
                    "follower" => "follower",
                    "random" => "random",
                    "readonlyreplica" => "readOnlyReplica",
                    _ => throw new EventStoreConfigurationException(key, $"has nodePreference='{Shorten(value)}'; it must be leader, follower, random or readOnlyReplica."),
                };
                break;
            case "maxretries":
                if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var retries) || retries > 100)
                    throw new EventStoreConfigurationException(key, $"has maxRetries='{Shorten(value)}'; it must be a whole number from 0 to 100.");
                b.MaxRetries = retries;
                break;
            // Discovery settings of other clients are harmless with a static node list.
            case "maxdiscoverattempts" or "discoveryinterval" or "gossiptimeout" or "throwondeadlineexceeded": break;
            default:
                throw new EventStoreConfigurationException(key, $"has the unknown setting '{(mayHoldSecret ? "(not shown: the connection string contains '@')" : Shorten(name))}' (known: tls, tlsVerifyCert, tlsCaFile, keepAliveInterval, keepAliveTimeout, defaultDeadline, connectionName, nodePreference, maxRetries).");
        }
    }

    private static bool ParseBool(string name, string value, string key) => value.ToLowerInvariant() switch
    {
        "true" => true,
        "false" => false,
        _ => throw new EventStoreConfigurationException(key, $"has {name}='{Shorten(value)}'; it must be true or false."),
    };

    private static TimeSpan ParseMilliseconds(string name, string value, string key, bool allowInfinite)
    {
        if (!long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var ms) || ms < -1 || ms == 0 && !allowInfinite || ms == -1 && !allowInfinite || ms > int.MaxValue)
            throw new EventStoreConfigurationException(key, $"has {name}='{Shorten(value)}'; it must be a positive number of milliseconds{(allowInfinite ? " or -1 for off" : "")}.");
        return ms == -1 ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(ms);
    }

    private static string Shorten(string text) => text.Length > 60 ? text[..60] + "…" : text;

    /// <summary>The connection string with the password masked, safe to log.</summary>
    public override string ToString()
    {
        var credentials = UserName is null ? "" : $"{Uri.EscapeDataString(UserName)}:***@";
        var settings = new List<string> { $"tls={(Tls ? "true" : "false")}" };
        if (!TlsVerifyCert) settings.Add("tlsVerifyCert=false");
        if (TlsCaFile is not null) settings.Add("tlsCaFile=" + Uri.EscapeDataString(TlsCaFile));
        return $"{Scheme}://{credentials}{string.Join(',', Endpoints)}?{string.Join('&', settings)}";
    }

    private sealed class Builder
    {
        public string Scheme = "esdb";
        public List<EventStoreDBEndpoint> Endpoints = [];
        public string? UserName, Password, TlsCaFile, ConnectionName;
        public bool Tls = true, TlsVerifyCert = true;
        public TimeSpan KeepAliveInterval = TimeSpan.FromSeconds(10), KeepAliveTimeout = TimeSpan.FromSeconds(10), DefaultDeadline = TimeSpan.FromSeconds(10);
        public string NodePreference = "leader";
        public int MaxRetries = 3;

        public EventStoreDBConnectionString Build() => new()
        {
            Scheme = Scheme, Endpoints = Endpoints, UserName = UserName, Password = Password, Tls = Tls,
            TlsVerifyCert = TlsVerifyCert, TlsCaFile = TlsCaFile, KeepAliveInterval = KeepAliveInterval,
            KeepAliveTimeout = KeepAliveTimeout, DefaultDeadline = DefaultDeadline, ConnectionName = ConnectionName,
            NodePreference = NodePreference, MaxRetries = MaxRetries,
        };
    }
}
