using EventStore.Providers.Reliability.Tests.Faults;
using EventStore.Providers.Reliability.Tests.Infrastructure;
using EventStore.Providers.Reliability.Tests.HostileInput;
using EventStore.Providers.Reliability.Tests.Load;
using EventStore.Providers.Reliability.Tests.ModelBased;
using EventStore.Providers.TestServers;
using EventStore.Providers.Reliability.Tests.Targets;

[assembly: AssemblyFixture(typeof(PostgresFixture))]
[assembly: AssemblyFixture(typeof(DynamoDBFixture))]
[assembly: AssemblyFixture(typeof(KafkaFixture))]
[assembly: AssemblyFixture(typeof(EventStoreDBFixture))]

namespace EventStore.Providers.Reliability.Tests.Targets;

// One line per provider and suite: the suites are written once against IStoreTarget.

public sealed class InMemoryModelBasedTests() : ModelBasedTests(new InMemoryTarget());
public sealed class InMemoryHostileInputTests() : HostileInputTests(new InMemoryTarget());
public sealed class InMemoryLoadTests() : LoadTests(new InMemoryTarget());
public sealed class InMemoryCancellationTests() : CancellationTests(new InMemoryTarget());

public sealed class PostgresModelBasedTests(PostgresFixture postgres) : ModelBasedTests(postgres.Target);
public sealed class PostgresHostileInputTests(PostgresFixture postgres) : HostileInputTests(postgres.Target);
public sealed class PostgresLoadTests(PostgresFixture postgres) : LoadTests(postgres.Target);
public sealed class PostgresCancellationTests(PostgresFixture postgres) : CancellationTests(postgres.Target);
public sealed class PostgresClientCrashTests(PostgresFixture postgres) : ClientCrashTests(postgres.Target);

public sealed class PostgresServerCrashTests : ServerCrashTests
{
    protected override async Task<CrashRig> CreateRigAsync(CancellationToken cancellationToken)
    {
        // A server of its own to kill; synchronous_commit stays on, so the kill loses no acknowledged commit.
        var server = await LocalServer.StartPostgresAsync(CrashableServer.NewName("pg"), PostgresMode.CrashSafe, cancellationToken);
        // Short timeouts so an outage surfaces as a transient failure in seconds.
        return new CrashRig(new CrashableServer(server), new PostgresTarget(server.Address + ";Timeout=3;Command Timeout=5;Cancellation Timeout=500"));
    }
}

public sealed class PostgresLostResponseTests(PostgresFixture postgres) : LostResponseTests
{
    private readonly Npgsql.NpgsqlConnectionStringBuilder _server = new(postgres.Target.ConnectionString);

    protected override int UpstreamPort => _server.Port;

    protected override IStoreTarget TargetThrough(int proxyPort) =>
        new PostgresTarget(new Npgsql.NpgsqlConnectionStringBuilder(_server.ConnectionString) { Host = "127.0.0.1", Port = proxyPort, CancellationTimeout = 500, CommandTimeout = 5, Timeout = 3 }.ConnectionString);
}

public sealed class DynamoDBModelBasedTests(DynamoDBFixture dynamo) : ModelBasedTests(dynamo.Target);
public sealed class DynamoDBHostileInputTests(DynamoDBFixture dynamo) : HostileInputTests(dynamo.Target);
public sealed class DynamoDBLoadTests(DynamoDBFixture dynamo) : LoadTests(dynamo.Target);
public sealed class DynamoDBCancellationTests(DynamoDBFixture dynamo) : CancellationTests(dynamo.Target);
// A short request timeout keeps the gap timeout (twice it, plus a second) short, so $all gets past an append the kill abandoned quickly.
public sealed class DynamoDBClientCrashTests(DynamoDBFixture dynamo) : ClientCrashTests(new DynamoDBTarget(dynamo.Target.ServiceUrl, requestTimeout: "00:00:01"));

// Killed writers leave intents without commits: readers fence their slots before skipping.
public sealed class FencedDynamoDBClientCrashTests : ClientCrashTests, IDisposable
{
    private readonly CapturingLoggerProvider _logs;

    public FencedDynamoDBClientCrashTests(DynamoDBFixture dynamo) : this(dynamo, new CapturingLoggerProvider())
    {
    }

    private FencedDynamoDBClientCrashTests(DynamoDBFixture dynamo, CapturingLoggerProvider logs)
        : base(new DynamoDBTarget(dynamo.Target.ServiceUrl, requestTimeout: "00:00:01", fenceCommits: true) { LoggerProvider = logs }) => _logs = logs;

    // Printed with the other counts: how often the audit's reads met an intent of a killed writer and fenced its slot.
    public void Dispose() => Report.Count("DynamoDB(fenced)", "client-crash: slots fenced against a killed writer's commit",
        _logs.Entries.Count(e => e.Contains("so the commit of global positions", StringComparison.Ordinal)));
}

public class DynamoDBServerCrashTests : ServerCrashTests
{
    /// <summary>Whether the target's commits are fenced against skips.</summary>
    protected virtual bool FenceCommits => false;

    protected override async Task<CrashRig> CreateRigAsync(CancellationToken cancellationToken)
    {
        // A dynalite of its own to kill, its tables in a folder so they survive the kill.
        var server = await LocalServer.StartDynaliteAsync(CrashableServer.NewName("dyn"), persistent: true, cancellationToken);
        // Short timeouts and few SDK retries so an outage surfaces as a transient failure in seconds.
        return new CrashRig(new CrashableServer(server), new DynamoDBTarget(server.Address, requestTimeout: "00:00:02", maxErrorRetry: 1, fenceCommits: FenceCommits));
    }
}

// Appends cut by the crash leave intents (some with their commit stored, some without): readers fence or wait.
public sealed class FencedDynamoDBServerCrashTests : DynamoDBServerCrashTests
{
    protected override bool FenceCommits => true;
}

/// <summary>A local server of the server-crash tests' own, killed and started again through eng/.</summary>
internal sealed class CrashableServer(LocalServer server) : ICrashableServer
{
    /// <summary>A server name no other test or process uses.</summary>
    public static string NewName(string kind) => $"crash-{kind}-{Environment.ProcessId}-{Guid.NewGuid():N}"[..32];

    public Task CrashAsync(CancellationToken cancellationToken) => server.CrashAsync(cancellationToken);
    public Task StartAgainAsync(CancellationToken cancellationToken) => server.StartAgainAsync(cancellationToken);
    public ValueTask DisposeAsync() => server.DisposeAsync();
}

public sealed class DynamoDBLostResponseTests(DynamoDBFixture dynamo) : LostResponseTests
{
    protected override int UpstreamPort => new Uri(dynamo.Target.ServiceUrl).Port;

    protected override IStoreTarget TargetThrough(int proxyPort) => new DynamoDBTarget($"http://127.0.0.1:{proxyPort}", requestTimeout: "00:00:02", maxErrorRetry: 0);
}

public sealed class KafkaModelBasedTests(KafkaFixture kafka) : ModelBasedTests(kafka.Target);
public sealed class PartitionedKafkaModelBasedTests(KafkaFixture kafka) : ModelBasedTests(kafka.PartitionedTarget);
public sealed class KafkaHostileInputTests(KafkaFixture kafka) : HostileInputTests(kafka.Target);
public sealed class KafkaLoadTests(KafkaFixture kafka) : LoadTests(kafka.Target);
public sealed class KafkaCancellationTests(KafkaFixture kafka) : CancellationTests(kafka.Target);
public sealed class KafkaClientCrashTests(KafkaFixture kafka) : ClientCrashTests(kafka.Target);

public sealed class PostgresDisposalTests(PostgresFixture postgres) : DisposalTests(postgres.Target);
public sealed class DynamoDBDisposalTests(DynamoDBFixture dynamo) : DisposalTests(dynamo.Target);
public sealed class KafkaDisposalTests(KafkaFixture kafka) : DisposalTests(kafka.Target);

// EventStoreDB: only against a node named by EVENTSTORE_ESDB_CONNECTION (none can be started here); skipped, with the
// reason, without one. No server-crash test: the node is not this run's to kill.
public sealed class EventStoreDBModelBasedTests(EventStoreDBFixture esdb) : ModelBasedTests(esdb.Target);
public sealed class EventStoreDBHostileInputTests(EventStoreDBFixture esdb) : HostileInputTests(esdb.Target);
public sealed class EventStoreDBLoadTests(EventStoreDBFixture esdb) : LoadTests(esdb.Target);
public sealed class EventStoreDBCancellationTests(EventStoreDBFixture esdb) : CancellationTests(esdb.Target);
public sealed class EventStoreDBClientCrashTests(EventStoreDBFixture esdb) : ClientCrashTests(esdb.Target);
public sealed class EventStoreDBDisposalTests(EventStoreDBFixture esdb) : DisposalTests(esdb.Target);

public sealed class EventStoreDBLostResponseTests(EventStoreDBFixture esdb) : LostResponseTests
{
    protected override int UpstreamPort => esdb.Target.Port;

    protected override IStoreTarget TargetThrough(int proxyPort) => esdb.Target.Through(proxyPort);
}

public sealed class PostgresSubscriptionGroupCrashTests(PostgresFixture postgres) : Groups.SubscriptionGroupCrashTests(postgres.Target);
public sealed class DynamoDBSubscriptionGroupCrashTests(DynamoDBFixture dynamo) : Groups.SubscriptionGroupCrashTests(dynamo.Target);
public sealed class KafkaSubscriptionGroupCrashTests(KafkaFixture kafka) : Groups.SubscriptionGroupCrashTests(kafka.PartitionedTarget);
