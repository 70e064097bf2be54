using EventStore.Providers.Reliability.Tests.Infrastructure;
using EventStore.Providers.TestServers;
using EventStore.Providers.Reliability.Tests.Targets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace EventStore.Providers.Reliability.Tests.Security;

/// <summary>
/// Secrets given in configuration (passwords in connection strings, access keys) never appear in logs, exception
/// messages or health-check output, even while connections fail.
/// </summary>
public abstract class SecretsTests
{
    /// <summary>The provider's name.</summary>
    protected abstract string Provider { get; }

    /// <summary>A configuration holding <paramref name="secret"/> whose server does not answer on <paramref name="deadPort"/>.</summary>
    protected abstract Dictionary<string, string?> UnreachableConfiguration(string secret, int deadPort);

    /// <summary>Configurations holding <paramref name="secret"/> that are invalid and must be refused without quoting it.</summary>
    protected abstract IEnumerable<Dictionary<string, string?>> InvalidConfigurations(string secret);

    [Fact]
    public async Task A_secret_in_the_configuration_never_appears_in_logs_exceptions_or_health_checks_while_connections_fail()
    {
        var ct = TestContext.Current.CancellationToken;
        var secret = $"S3cr3t-{Guid.NewGuid():N}";
        var logs = new CapturingLoggerProvider();
        var texts = new List<string>();
        await using (var services = ConfiguredStoreTarget.BuildServices(UnreachableConfiguration(secret, ProcessRunner.FreePort()), logs))
        {
            foreach (var initializer in services.GetServices<IEventStoreInitializer>())
                texts.Add(Describe(await Record.ExceptionAsync(() => initializer.InitializeAsync(ct))));
            var store = services.GetRequiredService<IEventStore>();
            var failure = await Record.ExceptionAsync(() => store.AppendAsync(new StreamName("Secret-1"), ExpectedVersion.Any, [new EventData(Guid.NewGuid(), "T", new byte[1])], ct));
            Assert.True(failure is EventStoreException, $"an append to an unreachable server ended with {failure?.GetType().Name ?? "success"}");
            texts.Add(Describe(failure));
            texts.Add(Describe(await Record.ExceptionAsync(async () => await store.ReadStreamAsync(new StreamName("Secret-1"), cancellationToken: ct).ToListAsync(ct))));
            texts.Add(Describe(await Record.ExceptionAsync(() => store.GetHeadPositionAsync(ct))));
            if (services.GetService<HealthCheckService>() is { } health)
            {
                var report = await health.CheckHealthAsync(ct);
                Assert.NotEqual(HealthStatus.Healthy, report.Status);
                texts.AddRange(report.Entries.Select(e => $"{e.Key} {e.Value.Status} {e.Value.Description} {Describe(e.Value.Exception)}"));
            }
        }
        var leaks = texts.Concat(logs.Entries).Where(t => t.Contains(secret, StringComparison.Ordinal)).ToList();
        Assert.True(leaks.Count == 0, $"the secret leaked in: {string.Join(Environment.NewLine, leaks.Select(l => l.Replace(secret, "<SECRET>", StringComparison.Ordinal)))}");
        Report.Count(Provider, "texts checked for a leaked secret (logs, exceptions, health)", texts.Count + logs.Entries.Count);
    }

    [Fact]
    public void An_invalid_configuration_holding_a_secret_is_refused_without_quoting_the_secret()
    {
        var secret = $"S3cr3t-{Guid.NewGuid():N}";
        var refused = 0;
        foreach (var configuration in InvalidConfigurations(secret))
        {
            var e = Assert.Throws<EventStoreConfigurationException>(() => ConfiguredStoreTarget.BuildServices(configuration).GetRequiredService<IEventStore>());
            Assert.DoesNotContain(secret, e.ToString(), StringComparison.Ordinal);
            Assert.StartsWith("EventStore:", e.Key, StringComparison.Ordinal);
            refused++;
        }
        Report.Count(Provider, "invalid configurations with a secret refused without quoting it", refused);
    }

    private static string Describe(Exception? e) => e?.ToString() ?? "";
}

public sealed class PostgresSecretsTests : SecretsTests
{
    protected override string Provider => "Postgres";

    protected override Dictionary<string, string?> UnreachableConfiguration(string secret, int deadPort) => new()
    {
        ["EventStore:Provider"] = "Postgres",
        ["EventStore:Postgres:ConnectionString"] = $"Host=127.0.0.1;Port={deadPort};Username=app;Password={secret};Database=events;Timeout=2",
    };

    protected override IEnumerable<Dictionary<string, string?>> InvalidConfigurations(string secret) =>
    [
        new() { ["EventStore:Provider"] = "Postgres", ["EventStore:Postgres:ConnectionString"] = $"Host=127.0.0.1;Password={secret};No Such Keyword=1" },
        new() { ["EventStore:Provider"] = "Postgres", ["EventStore:Postgres:ConnectionString"] = $"Host=127.0.0.1;Password={secret};Port=notaport" },
        new() { ["EventStore:Provider"] = "Postgres", ["EventStore:Postgres:ConnectionString"] = $"Password={secret};Host=x", ["EventStore:Postgres:Schema"] = "Bad-Schema" },
    ];
}

public sealed class DynamoDBSecretsTests : SecretsTests
{
    protected override string Provider => "DynamoDB";

    protected override Dictionary<string, string?> UnreachableConfiguration(string secret, int deadPort) => new()
    {
        ["EventStore:Provider"] = "DynamoDB",
        ["EventStore:DynamoDB:ServiceUrl"] = $"http://127.0.0.1:{deadPort}",
        ["EventStore:DynamoDB:Region"] = "us-east-1",
        ["EventStore:DynamoDB:AccessKeyId"] = "AKIDRELIABILITY",
        ["EventStore:DynamoDB:SecretAccessKey"] = secret,
        ["EventStore:DynamoDB:TableName"] = "Secrets",
        ["EventStore:DynamoDB:RequestTimeout"] = "00:00:02",
        ["EventStore:DynamoDB:MaxErrorRetry"] = "0",
    };

    protected override IEnumerable<Dictionary<string, string?>> InvalidConfigurations(string secret) =>
    [
        new() { ["EventStore:Provider"] = "DynamoDB", ["EventStore:DynamoDB:SecretAccessKey"] = secret, ["EventStore:DynamoDB:ServiceUrl"] = "not a url" },
        new() { ["EventStore:Provider"] = "DynamoDB", ["EventStore:DynamoDB:SecretAccessKey"] = secret, ["EventStore:DynamoDB:TableName"] = "" },
        new() { ["EventStore:Provider"] = "DynamoDB", ["EventStore:DynamoDB:SecretAccessKey"] = secret, ["EventStore:DynamoDB:AccessKeyId"] = null, ["EventStore:DynamoDB:Region"] = "mars" },
    ];
}
