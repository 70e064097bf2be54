using EventStore.Providers.TestServers;
using Xunit;

[assembly: AssemblyFixture(typeof(EventStore.Providers.DynamoDB.Tests.DynamoDBServer))]

namespace EventStore.Providers.DynamoDB.Tests;

/// <summary>
/// The DynamoDB endpoint of this test run from tests/TestServers: <c>EVENTSTORE_DYNAMODB_URL</c>, else DynamoDB Local
/// in a Testcontainers container where Docker is reachable, else a dynalite started with eng/dynalite.sh (stopped when
/// the run ends). Failing all, the tests fail with the reason.
/// </summary>
public sealed class DynamoDBServer : IAsyncLifetime
{
    private TestServer? _server;

    /// <summary>The endpoint URL.</summary>
    public string Url { get; private set; } = "";

    public async ValueTask InitializeAsync()
    {
        _server = await Servers.AcquireAsync(Backend.DynamoDB);
        Url = _server.Address;
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }
}
