using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Npgsql;

namespace WebSample.Tests;

/// <summary>
/// The web sample hosted in memory with one provider chosen by configuration only, exactly as a deployment would
/// (the keys are the ones an environment variable such as <c>EventStore__Provider</c> sets).
/// </summary>
public abstract class SampleHost : IAsyncLifetime
{
    private readonly List<WebApplicationFactory<Program>> _factories = [];

    /// <summary>The provider name <c>GET /</c> should report.</summary>
    public abstract string ExpectedProvider { get; }

    /// <summary>Whether the store outlives the process (a second host sees the first one's events).</summary>
    public abstract bool Durable { get; }

    /// <summary>The configuration keys that choose and configure the provider.</summary>
    protected abstract IReadOnlyDictionary<string, string> Settings { get; }

    /// <summary>The client of the first host.</summary>
    public HttpClient Client { get; private set; } = null!;

    /// <summary>The services of the first host.</summary>
    public IServiceProvider Services => _factories[0].Services;

    /// <summary>
    /// Another host of the sample over the same storage, as a second process would be; it starts with its first
    /// client and stops when disposed (or with the fixture).
    /// </summary>
    public WebApplicationFactory<Program> CreateHost()
    {
        var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            foreach (var (key, value) in Settings) b.UseSetting(key, value);
            b.UseSetting("Logging:LogLevel:Default", "Warning");
        });
        _factories.Add(factory);
        return factory;
    }

    /// <inheritdoc />
    public virtual ValueTask InitializeAsync()
    {
        Client = CreateHost().CreateClient();
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public virtual async ValueTask DisposeAsync()
    {
        try
        {
            foreach (var f in _factories) await f.DisposeAsync();
        }
        catch (Exception e)
        {
            // xunit reports a fixture's cleanup failure by its type only; the cause goes to the log as well.
            await Console.Error.WriteLineAsync($"{GetType().Name}: stopping the sample hosts failed: {e}");
            throw;
        }
        GC.SuppressFinalize(this);
    }

    /// <summary>The value of a server variable that ./test.sh sets; a test run without it fails loudly.</summary>
    protected static string Required(string variable) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                $"{variable} is not set. ./test.sh sets it after starting the local servers; by hand: eng/postgres.sh start; " +
                "eng/dynalite.sh start; set -a; source .tmp/servers/postgres.env; source .tmp/servers/dynalite.env; set +a.");
}

/// <summary>The sample on the embedded in-memory store (its appsettings.json default).</summary>
public sealed class InMemoryHost : SampleHost
{
    /// <inheritdoc />
    public override string ExpectedProvider => "InMemory";

    /// <inheritdoc />
    public override bool Durable => false;

    /// <inheritdoc />
    protected override IReadOnlyDictionary<string, string> Settings { get; } = new Dictionary<string, string>();
}

/// <summary>The sample on PostgreSQL, in a schema of its own that is dropped at the end.</summary>
public sealed class PostgresHost : SampleHost
{
    private readonly string _connection = Required("EVENTSTORE_POSTGRES_CONNECTION");
    private readonly string _schema = "websample_" + Guid.NewGuid().ToString("N")[..12];

    /// <inheritdoc />
    public override string ExpectedProvider => "Postgres";

    /// <inheritdoc />
    public override bool Durable => true;

    /// <inheritdoc />
    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["EventStore:Provider"] = "Postgres",
        ["EventStore:Postgres:ConnectionString"] = _connection,
        ["EventStore:Postgres:Schema"] = _schema,
    };

    /// <inheritdoc />
    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        // The server is shared with the other test projects running at the same time: a refused connection (all
        // slots taken), a deadlock or a full lock table is tried again; anything else, or a fifth refusal, fails the
        // cleanup with its cause in the log.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var connection = new NpgsqlConnection(_connection);
                await connection.OpenAsync();
                await using var drop = new NpgsqlCommand($"DROP SCHEMA IF EXISTS {_schema} CASCADE", connection);
                await drop.ExecuteNonQueryAsync();
                return;
            }
            catch (PostgresException e) when (attempt < 5 && e.SqlState is PostgresErrorCodes.TooManyConnections or PostgresErrorCodes.DeadlockDetected
                or PostgresErrorCodes.OutOfMemory or PostgresErrorCodes.LockNotAvailable)
            {
                await Console.Error.WriteLineAsync($"PostgresHost: dropping schema {_schema} was refused ({e.SqlState}: {e.MessageText}); trying again");
                await Task.Delay(500);
            }
            catch (Exception e)
            {
                await Console.Error.WriteLineAsync($"PostgresHost: dropping schema {_schema} failed: {e}");
                throw;
            }
        }
    }
}

/// <summary>The sample on DynamoDB (dynalite), in a table of its own.</summary>
public sealed class DynamoDBHost : SampleHost
{
    private readonly string _url = Required("EVENTSTORE_DYNAMODB_URL");
    private readonly string _table = "websample-" + Guid.NewGuid().ToString("N")[..12];

    /// <inheritdoc />
    public override string ExpectedProvider => "DynamoDB";

    /// <inheritdoc />
    public override bool Durable => true;

    /// <inheritdoc />
    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["EventStore:Provider"] = "DynamoDB",
        ["EventStore:DynamoDB:ServiceUrl"] = _url,
        ["EventStore:DynamoDB:Region"] = "us-east-1",
        ["EventStore:DynamoDB:AccessKeyId"] = "local",
        ["EventStore:DynamoDB:SecretAccessKey"] = "local",
        ["EventStore:DynamoDB:TableName"] = _table,
        ["EventStore:DynamoDB:CreateTables"] = "true",
        ["EventStore:DynamoDB:PollInterval"] = "00:00:00.050",
    };
}
