using EventStore.Providers.EventStoreDB;

namespace EventStore.Providers.Reliability.Tests.Targets;

/// <summary>EventStoreDB: one stream prefix per store on the node <c>EVENTSTORE_ESDB_CONNECTION</c> names.</summary>
public sealed class EventStoreDBTarget(string? connectionString) : ConfiguredStoreTarget
{
    /// <summary>The variable naming the node; without it every EventStoreDB reliability test is skipped.</summary>
    public const string Variable = "EVENTSTORE_ESDB_CONNECTION";

    /// <summary>The node's connection string, or null when none is named.</summary>
    public string? ConnectionString { get; } = connectionString;

    /// <inheritdoc />
    public override string Name => "EventStoreDB";

    /// <summary>Skips the calling test, saying why, when no node is named: none can be started on this machine.</summary>
    public string RequireServer()
    {
        if (ConnectionString is null)
            Assert.Skip($"No EventStoreDB server: set {Variable} (e.g. esdb://localhost:2113?tls=false) to run the EventStoreDB reliability tests. None can be started here.");
        return ConnectionString;
    }

    /// <inheritdoc />
    protected override Task<Dictionary<string, string?>> ConfigurationForAsync(string isolationId, CancellationToken cancellationToken) =>
        Task.FromResult(new Dictionary<string, string?>
        {
            ["EventStore:Provider"] = "EventStoreDB",
            ["EventStore:EventStoreDB:ConnectionString"] = RequireServer(),
            // Streams are never dropped on a shared node: a prefix per store isolates them instead.
            ["EventStore:EventStoreDB:StreamPrefix"] = isolationId + "_",
        });

    /// <summary>
    /// The same settings reaching the node through 127.0.0.1:<paramref name="port"/> (a proxy), with a short deadline
    /// and one retry so a swallowed reply surfaces in seconds.
    /// </summary>
    public EventStoreDBTarget Through(int port)
    {
        var server = RequireServer();
        var endpoint = EventStoreDBConnectionString.Parse(server).Endpoints[0];
        var at = server.IndexOf(endpoint.ToString(), StringComparison.OrdinalIgnoreCase);
        Assert.True(at >= 0, $"the connection string names its first node as something other than {endpoint}; cannot route it through a proxy");
        var routed = string.Concat(server.AsSpan(0, at), $"127.0.0.1:{port}", server.AsSpan(at + endpoint.ToString().Length));
        return new EventStoreDBTarget(routed + (routed.Contains('?', StringComparison.Ordinal) ? "&" : "?") + "defaultDeadline=2000&maxRetries=1");
    }

    /// <summary>The node's port, for a proxy in front of it.</summary>
    public int Port => EventStoreDBConnectionString.Parse(RequireServer()).Endpoints[0].Port;
}

/// <summary>The node every EventStoreDB reliability test of this run shares, if one is named.</summary>
public sealed class EventStoreDBFixture
{
    /// <summary>A target over the named node; its tests skip with the reason when there is none.</summary>
    public EventStoreDBTarget Target { get; } =
        new(Environment.GetEnvironmentVariable(EventStoreDBTarget.Variable) is { Length: > 0 } value ? value : null);
}
