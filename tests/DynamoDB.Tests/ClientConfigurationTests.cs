using Xunit;

namespace EventStore.Providers.DynamoDB.Tests;

/// <summary>
/// Issue 12 item 4: a first try against a local endpoint works without AWS credentials, and a missing region is a
/// configuration error naming the key instead of the SDK's bare client error.
/// </summary>
public sealed class ClientConfigurationTests(DynamoDBServer server)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_local_endpoint_without_keys_or_region_works_without_aws_credentials()
    {
        var options = new DynamoDBEventStoreOptions { TableName = "es-" + Guid.NewGuid().ToString("N")[..16], ServiceUrl = server.Url, CreateTables = true };
        using var client = DynamoDBClientFactory.Create(options);
        await new DynamoDBTableInitializer(client, options).InitializeAsync(Ct);
        using var store = new DynamoDBEventStore(client, options);
        var stream = StreamName.For("Local", Guid.NewGuid().ToString("N"));

        var result = await store.AppendAsync(stream, ExpectedVersion.NoStream, [TestEvents.New()], Ct);

        Assert.Equal(0, result.LastVersion);
        Assert.True((await store.GetStreamInfoAsync(stream, Ct)).Exists);
    }

    [Theory]
    [InlineData("http://localhost:8000", true)]
    [InlineData("http://127.0.0.1:4567", true)]
    [InlineData("http://127.1.2.3:4567", true)]
    [InlineData("http://[::1]:8000", true)]
    [InlineData("https://dynamodb.eu-west-1.amazonaws.com", false)]
    [InlineData("http://dynalite:8000", false)]
    [InlineData(null, false)]
    public void Only_loopback_endpoints_count_as_local(string? serviceUrl, bool local)
    {
        Assert.Equal(local, DynamoDBClientFactory.IsLocalEndpoint(serviceUrl));
    }

    [Fact]
    public void No_region_and_no_endpoint_is_a_configuration_error_naming_the_region_key()
    {
        Assert.SkipWhen(
            Environment.GetEnvironmentVariable("AWS_REGION") is { Length: > 0 } || Environment.GetEnvironmentVariable("AWS_DEFAULT_REGION") is { Length: > 0 },
            "AWS_REGION or AWS_DEFAULT_REGION is set in this environment, so the SDK finds a region.");

        var e = Assert.Throws<EventStoreConfigurationException>(() => DynamoDBClientFactory.Create(new DynamoDBEventStoreOptions { AccessKeyId = "k", SecretAccessKey = "s" }));

        Assert.Contains("EventStore:DynamoDB:Region", e.Message, StringComparison.Ordinal);
        Assert.Contains("ServiceUrl", e.Message, StringComparison.Ordinal);
    }
}
