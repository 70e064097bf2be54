using System.Net;
using System.Net.Sockets;
using System.Text;
using Xunit;

namespace EventStore.Providers.TestServers.Tests;

/// <summary>Which source each backend's server comes from, for every combination of environment and Docker.</summary>
public sealed class SelectionTests
{
    private sealed class FakeEnvironment(params (string Name, string Value)[] values) : IEnvironmentReader
    {
        public string? Get(string name) => values.Where(v => v.Name == name).Select(v => v.Value).FirstOrDefault();
    }

    private sealed class FakeDocker(bool reachable) : IDockerProbe
    {
        public int Asked { get; private set; }

        public bool IsReachable()
        {
            Asked++;
            return reachable;
        }
    }

    public static TheoryData<Backend, bool> EveryBackendWithAndWithoutDocker()
    {
        var data = new TheoryData<Backend, bool>();
        foreach (var backend in ServerSelection.Backends)
        {
            data.Add(backend, true);
            data.Add(backend, false);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(EveryBackendWithAndWithoutDocker))]
    public void A_server_named_by_the_environment_wins_whether_or_not_Docker_is_reachable(Backend backend, bool dockerReachable)
    {
        var docker = new FakeDocker(dockerReachable);
        var environment = new FakeEnvironment((ServerSelection.VariableFor(backend), "somewhere"));

        Assert.Equal(ServerSource.Environment, ServerSelection.Choose(backend, environment, docker));
        Assert.Equal(0, docker.Asked);
    }

    [Theory]
    [InlineData(Backend.Postgres)]
    [InlineData(Backend.DynamoDB)]
    [InlineData(Backend.Kafka)]
    [InlineData(Backend.EventStoreDB)]
    public void Without_the_variable_a_reachable_Docker_gives_a_container(Backend backend)
    {
        Assert.Equal(ServerSource.Container, ServerSelection.Choose(backend, new FakeEnvironment(), new FakeDocker(true)));
    }

    [Theory]
    [InlineData(Backend.Postgres, ServerSource.Local)]
    [InlineData(Backend.DynamoDB, ServerSource.Local)]
    [InlineData(Backend.Kafka, ServerSource.Local)]
    [InlineData(Backend.EventStoreDB, ServerSource.Unavailable)]
    public void Without_the_variable_or_Docker_the_local_server_is_used_and_EventStoreDB_has_none(Backend backend, ServerSource expected)
    {
        Assert.Equal(expected, ServerSelection.Choose(backend, new FakeEnvironment(), new FakeDocker(false)));
    }

    [Theory]
    [InlineData("off")]
    [InlineData("OFF")]
    [InlineData("false")]
    [InlineData("0")]
    public void Turning_containers_off_uses_the_local_server_even_with_Docker(string value)
    {
        var docker = new FakeDocker(true);
        var environment = new FakeEnvironment((ServerSelection.ContainersVariable, value));

        Assert.Equal(ServerSource.Local, ServerSelection.Choose(Backend.Postgres, environment, docker));
        Assert.Equal(ServerSource.Unavailable, ServerSelection.Choose(Backend.EventStoreDB, environment, docker));
        Assert.Equal(0, docker.Asked);
    }

    [Fact]
    public void Each_backend_has_its_own_variable_and_Kafka_has_the_new_bootstrap_one()
    {
        Assert.Equal(
            ["EVENTSTORE_POSTGRES_CONNECTION", "EVENTSTORE_DYNAMODB_URL", "EVENTSTORE_KAFKA_BOOTSTRAP", "EVENTSTORE_ESDB_CONNECTION"],
            ServerSelection.Backends.Select(ServerSelection.VariableFor));
    }

    [Fact]
    public async Task A_server_from_the_environment_is_used_as_is_and_its_line_never_shows_the_password()
    {
        var environment = new FakeEnvironment((ServerSelection.PostgresVariable, "Host=db.example;Port=6543;Username=u;Password=s3cret"));
        var docker = new FakeDocker(true);

        await using var server = await Servers.AcquireAsync(Backend.Postgres, PostgresMode.Fast, environment, docker, TestContext.Current.CancellationToken);

        Assert.Equal(ServerSource.Environment, server.Source);
        Assert.Equal("Host=db.example;Port=6543;Username=u;Password=s3cret", server.Address);
        Assert.Equal("test servers: postgres from the environment (EVENTSTORE_POSTGRES_CONNECTION: db.example:6543)", server.Line);
        Assert.DoesNotContain("s3cret", server.Line, StringComparison.Ordinal);
        Assert.Equal(0, docker.Asked);
    }

    [Fact]
    public async Task A_real_Kafka_broker_from_the_environment_is_not_the_mock()
    {
        var environment = new FakeEnvironment((ServerSelection.KafkaVariable, "broker-1:9092,broker-2:9092"));

        await using var server = await Servers.AcquireAsync(Backend.Kafka, PostgresMode.Fast, environment, new FakeDocker(false), TestContext.Current.CancellationToken);

        Assert.True(server.IsRealKafkaBroker);
        Assert.Null(server.KafkaMock);
        Assert.Equal("broker-1:9092,broker-2:9092", server.Address);
    }

    [Fact]
    public async Task EventStoreDB_without_the_variable_or_Docker_is_unavailable_and_says_how_to_get_a_server()
    {
        await using var server = await Servers.AcquireAsync(Backend.EventStoreDB, PostgresMode.Fast, new FakeEnvironment(), new FakeDocker(false), TestContext.Current.CancellationToken);

        Assert.False(server.IsAvailable);
        Assert.Equal(ServerSource.Unavailable, server.Source);
        Assert.Equal("", server.Address);
        Assert.Contains("EVENTSTORE_ESDB_CONNECTION", server.Description, StringComparison.Ordinal);
        Assert.Contains("Docker", server.Description, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Backend.DynamoDB, "http://user:pw@localhost:8000", "http://localhost:8000")]
    [InlineData(Backend.EventStoreDB, "esdb://admin:changeit@node:2113?tls=false", "esdb://node:2113")]
    [InlineData(Backend.Kafka, "b1:9092,b2:9092", "b1:9092,b2:9092")]
    [InlineData(Backend.Postgres, "Server=pg;Password=x", "pg:5432")]
    public void Printed_addresses_keep_host_and_port_only(Backend backend, string address, string printed)
    {
        Assert.Equal(printed, Servers.Redacted(backend, address));
    }

    [Fact]
    public void Container_images_can_be_replaced_through_the_environment()
    {
        var environment = new FakeEnvironment(("EVENTSTORE_ESDB_IMAGE", "eventstore/eventstore:24.10"));

        Assert.Equal("eventstore/eventstore:24.10", Containers.ImageFor(Backend.EventStoreDB, environment));
        Assert.Equal(Containers.PostgresImage, Containers.ImageFor(Backend.Postgres, environment));
    }

    [Fact]
    public void The_script_output_parser_reads_quoted_and_exported_values()
    {
        const string output = "postgres.sh: noise\nEVENTSTORE_POSTGRES_CONNECTION='Host=127.0.0.1;Port=5;Username=postgres'\nexport EVENTSTORE_DYNAMODB_URL=\"http://127.0.0.1:9\"\n";

        Assert.Equal("Host=127.0.0.1;Port=5;Username=postgres", LocalServer.ReadVariable(output, ServerSelection.PostgresVariable));
        Assert.Equal("http://127.0.0.1:9", LocalServer.ReadVariable(output, ServerSelection.DynamoDBVariable));
        Assert.Null(LocalServer.ReadVariable(output, ServerSelection.KafkaVariable));
    }
}

/// <summary>The real Docker probe against endpoints that are and are not a Docker engine.</summary>
public sealed class DockerProbeTests
{
    private sealed class Only(string name, string value) : IEnvironmentReader
    {
        public string? Get(string n) => n == name ? value : null;
    }

    [Fact]
    public void A_DOCKER_HOST_socket_that_does_not_exist_is_unreachable()
    {
        Assert.False(new DockerProbe(new Only("DOCKER_HOST", $"unix:///tmp/no-docker-{Guid.NewGuid():N}.sock")).IsReachable());
    }

    [Fact]
    public void A_DOCKER_HOST_port_nobody_listens_on_is_unreachable()
    {
        Assert.False(new DockerProbe(new Only("DOCKER_HOST", $"tcp://127.0.0.1:{ProcessRunner.FreePort()}")).IsReachable());
    }

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK", true)]
    [InlineData("HTTP/1.1 500 Internal Server Error\r\n\r\n", false)]
    [InlineData("SSH-2.0-OpenSSH_9.6\r\n", false)]
    public async Task Only_an_endpoint_answering_the_ping_with_200_counts_as_Docker(string answer, bool reachable)
    {
        var path = Path.Combine(Path.GetTempPath(), $"fake-docker-{Guid.NewGuid():N}.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen();
        var serve = Task.Run(async () =>
        {
            using var client = await listener.AcceptAsync(TestContext.Current.CancellationToken);
            var buffer = new byte[1024];
            var read = await client.ReceiveAsync(buffer, TestContext.Current.CancellationToken);
            Assert.StartsWith("GET /_ping ", Encoding.ASCII.GetString(buffer, 0, read), StringComparison.Ordinal);
            await client.SendAsync(Encoding.ASCII.GetBytes(answer), TestContext.Current.CancellationToken);
        }, TestContext.Current.CancellationToken);
        try
        {
            Assert.Equal(reachable, new DockerProbe(new Only("DOCKER_HOST", "unix://" + path)).IsReachable());
            await serve;
        }
        finally
        {
            File.Delete(path);
        }
    }
}
