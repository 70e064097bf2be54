using EventStore.Providers.Reliability.Tests.Servers;

namespace EventStore.Providers.Reliability.Tests.Targets;

/// <summary>DynamoDB on dynalite: one table per store.</summary>
public sealed class DynamoDBTarget(string serviceUrl, string requestTimeout = "00:00:05", int maxErrorRetry = 8) : ConfiguredStoreTarget
{
    /// <summary>The endpoint.</summary>
    public string ServiceUrl { get; } = serviceUrl;

    /// <inheritdoc />
    public override string Name => "DynamoDB";

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
        });
}

/// <summary>
/// The dynalite the DynamoDB tests share: <c>EVENTSTORE_DYNAMODB_URL</c> when set, otherwise one this test run starts
/// and stops. Failing to reach either fails the tests (never skips them).
/// </summary>
public sealed class DynamoDBFixture : IAsyncLifetime
{
    private DynaliteServer? _server;

    /// <summary>The target over the shared server.</summary>
    public DynamoDBTarget Target { get; private set; } = null!;

    /// <inheritdoc />
    public async ValueTask InitializeAsync()
    {
        var url = Environment.GetEnvironmentVariable("EVENTSTORE_DYNAMODB_URL");
        if (string.IsNullOrWhiteSpace(url))
        {
            _server = await DynaliteServer.StartAsync(persistent: false);
            url = _server.ServiceUrl;
        }
        Target = new DynamoDBTarget(url);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }
}
