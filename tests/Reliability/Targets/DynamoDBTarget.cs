using EventStore.Providers.TestServers;

namespace EventStore.Providers.Reliability.Tests.Targets;

/// <summary>DynamoDB (dynalite locally): one table per store; with <paramref name="fenceCommits"/>, commits fenced against skips.</summary>
public sealed class DynamoDBTarget(string serviceUrl, string requestTimeout = "00:00:05", int maxErrorRetry = 8, bool fenceCommits = false) : ConfiguredStoreTarget
{
    /// <summary>The endpoint.</summary>
    public string ServiceUrl { get; } = serviceUrl;

    /// <inheritdoc />
    public override string Name => fenceCommits ? "DynamoDB(fenced)" : "DynamoDB";

    /// <inheritdoc />
    protected override Task<Dictionary<string, string?>> ConfigurationForAsync(string isolationId, CancellationToken cancellationToken) =>
        Task.FromResult(new Dictionary<string, string?>
        {
            ["EventStore:Provider"] = "DynamoDB",
            ["EventStore:DynamoDB:ServiceUrl"] = ServiceUrl,
            ["EventStore:DynamoDB:Region"] = "us-east-1",
            ["EventStore:DynamoDB:AccessKeyId"] = "reliability",
            ["EventStore:DynamoDB:SecretAccessKey"] = "reliability-secret",
            ["EventStore:DynamoDB:TableName"] = isolationId,
            ["EventStore:DynamoDB:CreateTables"] = "true",
            ["EventStore:DynamoDB:RequestTimeout"] = requestTimeout,
            // The provider requires at least four request timeouts before a reserved position counts as abandoned.
            ["EventStore:DynamoDB:GapTimeout"] = (TimeSpan.Parse(requestTimeout, System.Globalization.CultureInfo.InvariantCulture) * 4 + TimeSpan.FromSeconds(1)).ToString("c", System.Globalization.CultureInfo.InvariantCulture),
            ["EventStore:DynamoDB:MaxErrorRetry"] = maxErrorRetry.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["EventStore:DynamoDB:FenceCommits"] = fenceCommits ? "true" : "false",
        });
}

/// <summary>
/// The DynamoDB endpoint the DynamoDB tests share, from tests/TestServers: <c>EVENTSTORE_DYNAMODB_URL</c>, else
/// DynamoDB Local in a container where Docker is reachable, else a dynalite this run starts and stops. Failing all
/// fails the tests (never skips them).
/// </summary>
public sealed class DynamoDBFixture : IAsyncLifetime
{
    private TestServer? _server;

    /// <summary>The target over the shared server.</summary>
    public DynamoDBTarget Target { get; private set; } = null!;

    /// <inheritdoc />
    public async ValueTask InitializeAsync()
    {
        _server = await Servers.AcquireAsync(Backend.DynamoDB);
        Target = new DynamoDBTarget(_server.Address);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }
}
