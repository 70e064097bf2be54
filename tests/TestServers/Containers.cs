using System.Globalization;
using System.Net;
using DotNet.Testcontainers.Builders;
using Testcontainers.Kafka;
using Testcontainers.PostgreSql;

namespace EventStore.Providers.TestServers;

/// <summary>
/// The Testcontainers step: one container per backend for the process that asks, removed when it is disposed (and by
/// Testcontainers' reaper if the process dies). Each image can be replaced through <c>EVENTSTORE_&lt;BACKEND&gt;_IMAGE</c>.
/// </summary>
public static class Containers
{
    /// <summary>PostgreSQL image (override: <c>EVENTSTORE_POSTGRES_IMAGE</c>).</summary>
    public const string PostgresImage = "postgres:15-alpine";

    /// <summary>DynamoDB Local image (override: <c>EVENTSTORE_DYNAMODB_IMAGE</c>).</summary>
    public const string DynamoDBImage = "amazon/dynamodb-local:2.5.4";

    /// <summary>Kafka image (override: <c>EVENTSTORE_KAFKA_IMAGE</c>).</summary>
    public const string KafkaImage = "confluentinc/cp-kafka:7.9.0";

    /// <summary>KurrentDB (EventStoreDB) image (override: <c>EVENTSTORE_ESDB_IMAGE</c>).</summary>
    public const string EventStoreDBImage = "docker.kurrent.io/kurrent-latest/kurrentdb:25.0";

    /// <summary>The image used for <paramref name="backend"/>, after the override variable.</summary>
    public static string ImageFor(Backend backend, IEnvironmentReader environment) => backend switch
    {
        Backend.Postgres => environment.Get("EVENTSTORE_POSTGRES_IMAGE") ?? PostgresImage,
        Backend.DynamoDB => environment.Get("EVENTSTORE_DYNAMODB_IMAGE") ?? DynamoDBImage,
        Backend.Kafka => environment.Get("EVENTSTORE_KAFKA_IMAGE") ?? KafkaImage,
        Backend.EventStoreDB => environment.Get("EVENTSTORE_ESDB_IMAGE") ?? EventStoreDBImage,
        _ => throw new ArgumentOutOfRangeException(nameof(backend), backend, null),
    };

    /// <summary>Starts <paramref name="backend"/>'s container and returns its address and the container to dispose.</summary>
    public static async Task<(string Address, IAsyncDisposable Container)> StartAsync(Backend backend, string image, PostgresMode postgresMode, CancellationToken cancellationToken)
    {
        switch (backend)
        {
            case Backend.Postgres:
            {
                var builder = new PostgreSqlBuilder(image);
                if (postgresMode != PostgresMode.Durable)
                {
                    // The same settings eng/postgres.sh uses for tests.
                    var sync = postgresMode == PostgresMode.CrashSafe ? "on" : "off";
                    builder = builder.WithCommand("-c", "fsync=off", "-c", $"synchronous_commit={sync}", "-c", "full_page_writes=off", "-c", "max_connections=300");
                }
                var postgres = builder.Build();
                await postgres.StartAsync(cancellationToken).ConfigureAwait(false);
                return (postgres.GetConnectionString(), postgres);
            }
            case Backend.Kafka:
            {
                // One broker: transaction state and offsets need a replication factor of 1.
                var kafka = new KafkaBuilder(image)
                    .WithEnvironment("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "1")
                    .WithEnvironment("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "1")
                    .WithEnvironment("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "1")
                    .Build();
                await kafka.StartAsync(cancellationToken).ConfigureAwait(false);
                return (kafka.GetBootstrapAddress(), kafka);
            }
            case Backend.DynamoDB:
            {
                const ushort port = 8000;
                var dynamo = new ContainerBuilder(image)
                    .WithPortBinding(port, assignRandomHostPort: true)
                    .WithCommand("-jar", "DynamoDBLocal.jar", "-inMemory", "-sharedDb")
                    // DynamoDB Local answers a bare GET with 400: any HTTP answer means it is up.
                    .WithWaitStrategy(Wait.ForUnixContainer().UntilHttpRequestIsSucceeded(r => r.ForPort(port).ForStatusCodeMatching(_ => true)))
                    .Build();
                await dynamo.StartAsync(cancellationToken).ConfigureAwait(false);
                return (string.Create(CultureInfo.InvariantCulture, $"http://{dynamo.Hostname}:{dynamo.GetMappedPublicPort(port)}"), dynamo);
            }
            case Backend.EventStoreDB:
            {
                const ushort port = 2113;
                var node = new ContainerBuilder(image)
                    .WithPortBinding(port, assignRandomHostPort: true)
                    .WithEnvironment("EVENTSTORE_INSECURE", "true")
                    .WithEnvironment("EVENTSTORE_MEM_DB", "true")
                    .WithEnvironment("EVENTSTORE_RUN_PROJECTIONS", "None")
                    .WithEnvironment("EVENTSTORE_CLUSTER_SIZE", "1")
                    .WithEnvironment("KURRENTDB_INSECURE", "true")
                    .WithEnvironment("KURRENTDB_MEM_DB", "true")
                    .WithEnvironment("KURRENTDB_RUN_PROJECTIONS", "None")
                    .WithEnvironment("KURRENTDB_CLUSTER_SIZE", "1")
                    .WithWaitStrategy(Wait.ForUnixContainer().UntilHttpRequestIsSucceeded(r => r.ForPort(port).ForPath("/health/live")
                        .ForStatusCodeMatching(code => code is HttpStatusCode.OK or HttpStatusCode.NoContent)))
                    .Build();
                await node.StartAsync(cancellationToken).ConfigureAwait(false);
                return (string.Create(CultureInfo.InvariantCulture, $"esdb://{node.Hostname}:{node.GetMappedPublicPort(port)}?tls=false"), node);
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(backend), backend, null);
        }
    }
}
