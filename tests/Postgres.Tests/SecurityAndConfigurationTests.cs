using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace EventStore.Providers.Postgres.Tests;

/// <summary>Secrets never leak into exceptions or logs; configuration errors name their key; DI wiring works.</summary>
public sealed class SecurityAndConfigurationTests(PostgresFixture fixture)
{
    private const string Password = "Sup3r-S3cret-Pa55word!";
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_unreachable_server_is_a_transient_error_whose_message_and_logs_hold_no_password()
    {
        var logs = new CapturingLoggerFactory();
        var options = new PostgresEventStoreOptions { ConnectionString = $"Host=127.0.0.1;Port={ClosedPort()};Username=app;Password={Password};Timeout=3" };
        await using var store = PostgresEventStore.Create(options, logs);

        var e = await Assert.ThrowsAsync<TransientEventStoreException>(() => store.AppendAsync(new StreamName("Order-1"), ExpectedVersion.Any, [TestEvents.New()], Ct));
        var read = await Assert.ThrowsAsync<TransientEventStoreException>(() => store.ReadAllAsync(cancellationToken: Ct).ToListAsync(Ct));

        foreach (var text in new[] { e.ToString(), read.ToString() }.Concat(logs.Lines))
            Assert.DoesNotContain(Password, text, StringComparison.Ordinal);
        Assert.DoesNotContain("Password", e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Npgsql_logs_no_command_at_the_default_level_and_no_password_at_any_level_even_with_persist_security_info()
    {
        var csb = new NpgsqlConnectionStringBuilder(fixture.ConnectionString) { Password = Password, PersistSecurityInfo = true };
        var quiet = new CapturingLoggerFactory();
        await using (var store = PostgresEventStore.Create(new PostgresEventStoreOptions { ConnectionString = csb.ConnectionString, Schema = PostgresFixture.NewSchema() }, quiet))
        {
            await store.InitializeAsync(Ct);
            await store.AppendAsync(new StreamName("Order-1"), ExpectedVersion.Any, [TestEvents.New()], Ct);
            Assert.DoesNotContain(Password, store.DataSource.ConnectionString, StringComparison.Ordinal);
        }
        // The migrations and the append ran dozens of commands; Npgsql logs each (its SQL) at Information, and none passed.
        Assert.DoesNotContain(quiet.Lines, l => l.Contains("CREATE", StringComparison.Ordinal));

        var verbose = new CapturingLoggerFactory();
        await using (var store = PostgresEventStore.Create(new PostgresEventStoreOptions { ConnectionString = csb.ConnectionString, Schema = PostgresFixture.NewSchema(), ClientLogLevel = LogLevel.Trace }, verbose))
        {
            await store.InitializeAsync(Ct);
            await store.AppendAsync(new StreamName("Order-1"), ExpectedVersion.Any, [TestEvents.New()], Ct);
        }
        Assert.Contains(verbose.Lines, l => l.Contains("CREATE", StringComparison.Ordinal));
        Assert.All(verbose.Lines, l => Assert.DoesNotContain(Password, l, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Refused_permissions_are_reported_as_access_denied_without_the_password()
    {
        // The test server trusts local connections, so the password is not checked; a role without the right to create
        // the schema gets a refusal, which must come back typed and without the password.
        var role = "r_" + Guid.NewGuid().ToString("N")[..12];
        await using (var connection = await fixture.DataSource.OpenConnectionAsync(Ct))
        {
            await using var cmd = new NpgsqlCommand($"CREATE ROLE {role} LOGIN", connection);
            await cmd.ExecuteNonQueryAsync(Ct);
        }
        var csb = new NpgsqlConnectionStringBuilder(fixture.ConnectionString) { Username = role, Password = Password, Pooling = false };
        await using var store = PostgresEventStore.Create(new PostgresEventStoreOptions { ConnectionString = csb.ConnectionString, Schema = PostgresFixture.NewSchema() });

        var e = await Assert.ThrowsAnyAsync<EventStoreException>(() => store.InitializeAsync(Ct));

        Assert.DoesNotContain(Password, e.ToString(), StringComparison.Ordinal);
        Assert.IsType<AccessDeniedException>(e);
        await using (var connection = await fixture.DataSource.OpenConnectionAsync(Ct))
        {
            await using var cmd = new NpgsqlCommand($"DROP ROLE {role}", connection);
            await cmd.ExecuteNonQueryAsync(Ct);
        }
    }

    [Fact]
    public void An_invalid_connection_string_is_named_by_its_key_without_echoing_it()
    {
        var options = new PostgresEventStoreOptions { ConnectionString = $"Host=localhost;Password={Password};NotAKeyword=1" };

        var e = Assert.Throws<EventStoreConfigurationException>(() => options.Validate(hasDataSource: false));

        Assert.Equal("EventStore:Postgres:ConnectionString", e.Key);
        Assert.DoesNotContain(Password, e.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Schema", "Bad-Schema", "EventStore:Postgres:Schema")]
    [InlineData("PollInterval", "soon", "EventStore:Postgres:PollInterval")]
    [InlineData("ReadPageSize", "0", "EventStore:Postgres:ReadPageSize")]
    [InlineData("MigrateOnStart", "maybe", "EventStore:Postgres:MigrateOnStart")]
    [InlineData("PendingAppendWait", "later", "EventStore:Postgres:PendingAppendWait")]
    [InlineData("PendingAppendWait", "00:00:00", "EventStore:Postgres:PendingAppendWait")]
    [InlineData("NotifyOnAppend", "sometimes", "EventStore:Postgres:NotifyOnAppend")]
    [InlineData("CombineConcurrentAppends", "often", "EventStore:Postgres:CombineConcurrentAppends")]
    [InlineData("AppendConcurrency", "many", "EventStore:Postgres:AppendConcurrency")]
    [InlineData("AppendConcurrency", "0", "EventStore:Postgres:AppendConcurrency")]
    [InlineData("ConnectionString", "", "EventStore:Postgres:ConnectionString")]
    public void Invalid_configuration_is_refused_naming_the_key(string key, string value, string expectedKey)
    {
        var settings = new Dictionary<string, string?>
        {
            ["EventStore:Provider"] = "Postgres",
            ["EventStore:Postgres:ConnectionString"] = fixture.ConnectionString,
            [$"EventStore:Postgres:{key}"] = value,
        };
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();

        var e = Assert.Throws<EventStoreConfigurationException>(() =>
        {
            var services = new ServiceCollection().AddEventStore(configuration.GetSection("EventStore"));
            using var provider = services.BuildServiceProvider();
            provider.GetRequiredService<IEventStore>();
        });

        Assert.Equal(expectedKey, e.Key);
    }

    [Fact]
    public async Task Configuration_picks_the_postgres_provider_and_its_services_share_one_store()
    {
        var schema = PostgresFixture.NewSchema();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["EventStore:Provider"] = "Postgres",
            ["EventStore:Postgres:ConnectionString"] = fixture.ConnectionString,
            ["EventStore:Postgres:Schema"] = schema,
        }).Build();
        await using var provider = new ServiceCollection().AddEventStore(configuration.GetSection("EventStore")).BuildServiceProvider();
        try
        {
            await provider.GetRequiredService<IEventStoreInitializer>().InitializeAsync(Ct);
            var store = provider.GetRequiredService<IEventStore>();
            await store.AppendAsync(new StreamName("Order-1"), ExpectedVersion.NoStream, [TestEvents.New()], Ct);

            Assert.Equal("Postgres", store.Capabilities.ProviderName);
            Assert.Same(provider.GetRequiredService<PostgresEventStore>(), provider.GetRequiredService<IEventStoreInitializer>());
            Assert.IsType<PostgresCheckpointStore>(provider.GetRequiredService<ICheckpointStore>());
            Assert.IsType<PostgresSnapshotStore>(provider.GetRequiredService<ISnapshotStore>());
            Assert.IsType<PostgresSubscriptionLeaseStore>(provider.GetRequiredService<ISubscriptionLeaseStore>());
            Assert.True(store.Capabilities.SubscriptionGroups);
            Assert.NotNull(await provider.GetRequiredService<ISubscriptionLeaseStore>().TryAcquireAsync("p/share/0", "a", DateTimeOffset.UnixEpoch, TimeSpan.FromSeconds(1), Ct));
            Assert.Equal(0, (await store.GetStreamInfoAsync(new StreamName("Order-1"), Ct)).LastVersion);
        }
        finally
        {
            await fixture.DropSchemaAsync(schema);
        }
    }

    [Fact]
    public async Task UsePostgres_takes_an_npgsql_data_source_registered_in_di()
    {
        var schema = PostgresFixture.NewSchema();
        var services = new ServiceCollection();
        services.AddSingleton(fixture.DataSource);
        services.AddEventStore(o => o.UsePostgres(p => p.Schema = schema));
        await using var provider = services.BuildServiceProvider();
        try
        {
            var store = provider.GetRequiredService<PostgresEventStore>();
            Assert.Same(fixture.DataSource, store.DataSource);
            Assert.Equal(0, (await store.AppendAsync(new StreamName("Order-1"), ExpectedVersion.NoStream, [TestEvents.New()], Ct)).LastVersion);
        }
        finally
        {
            await fixture.DropSchemaAsync(schema);
        }
    }

    [Theory]
    [InlineData("Host=localhost;Username=app;Password=" + Password + ";Min Pool Size=10;Max Pool Size=5", "Pool Size")]
    [InlineData("Username=app;Password=" + Password + ";Database=db", "Host")]
    [InlineData("Host=localhost;Port=70000;Username=app;Password=" + Password, "Port")]
    [InlineData("Host=localhost;Maximum Pool Size=0;Username=app;Password=" + Password, "Maximum Pool Size")]
    [InlineData("Host=localhost;Username=app;Password=" + Password + ";Timeout=soon", "Timeout")]
    public void A_connection_string_that_parses_but_cannot_work_fails_validation_naming_the_key_without_the_password(string connectionString, string named)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["EventStore:Provider"] = "PostgreSQL",
            ["EventStore:Postgres:ConnectionString"] = connectionString,
        }).Build();
        using var provider = new ServiceCollection().AddEventStore(configuration.GetSection("EventStore")).BuildServiceProvider();

        var e = Assert.Throws<EventStoreConfigurationException>(() => provider.GetRequiredService<IEventStore>());

        Assert.Equal("EventStore:Postgres:ConnectionString", e.Key);
        Assert.Contains(named, e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(Password, e.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Configure_after_AddEventStore_takes_effect_and_IOptions_is_the_real_options()
    {
        var schema = PostgresFixture.NewSchema();
        var services = new ServiceCollection().AddEventStore(o => o.UsePostgres(fixture.ConnectionString, p => p.ReadPageSize = 0));
        services.Configure<PostgresEventStoreOptions>(p => { p.Schema = schema; p.ReadPageSize = 7; });
        await using var provider = services.BuildServiceProvider();
        try
        {
            Assert.Equal(7, provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<PostgresEventStoreOptions>>().Value.ReadPageSize);
            Assert.Equal(schema, provider.GetRequiredService<PostgresEventStore>().Schema);
        }
        finally
        {
            await fixture.DropSchemaAsync(schema);
        }
    }

    [Fact]
    public void An_invalid_option_resolved_without_a_host_names_its_full_key_and_lists_the_others()
    {
        var services = new ServiceCollection().AddEventStore(o => o.UsePostgres(fixture.ConnectionString, p => { p.ReadPageSize = 0; p.AppendConcurrency = 0; }));
        using var provider = services.BuildServiceProvider();

        var e = Assert.Throws<EventStoreConfigurationException>(() => provider.GetRequiredService<IEventStore>());

        Assert.Equal("EventStore:Postgres:AppendConcurrency", e.Key);
        Assert.Contains("EventStore:Postgres:ReadPageSize is 0;", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task The_health_check_is_the_one_eventstore_check_and_reports_a_missing_schema_as_unhealthy(bool migrate)
    {
        var schema = PostgresFixture.NewSchema();
        var services = new ServiceCollection().AddLogging()
            .AddEventStore(o => o.UsePostgres(fixture.ConnectionString, p => { p.Schema = schema; p.MigrateOnStart = migrate; }));
        await using var provider = services.BuildServiceProvider();
        try
        {
            if (migrate) await provider.GetRequiredService<IEventStoreInitializer>().InitializeAsync(Ct);
            var report = await provider.GetRequiredService<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckService>().CheckHealthAsync(Ct);

            var (name, entry) = Assert.Single(report.Entries);
            Assert.Equal("eventstore", name);
            Assert.Equal(["eventstore", "postgres"], entry.Tags.Order());
            Assert.Equal(migrate ? Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy : Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Unhealthy, entry.Status);
            if (!migrate) Assert.Contains($"schema '{schema}' does not exist", entry.Description, StringComparison.Ordinal);
            Assert.DoesNotContain("retry", entry.Description, StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            await fixture.DropSchemaAsync(schema);
        }
    }

    [Fact]
    public async Task An_unreachable_server_is_unhealthy_with_a_message_describing_the_state()
    {
        var services = new ServiceCollection().AddLogging()
            .AddEventStore(o => o.UsePostgres($"Host=127.0.0.1;Port={ClosedPort()};Username=app;Password={Password};Timeout=2"));
        await using var provider = services.BuildServiceProvider();

        var entry = Assert.Single((await provider.GetRequiredService<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckService>().CheckHealthAsync(Ct)).Entries).Value;

        Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Unhealthy, entry.Status);
        Assert.Contains("unreachable", entry.Description, StringComparison.Ordinal);
        Assert.DoesNotContain("retry", entry.Description, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(Password, entry.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void EnableHealthCheck_false_registers_no_event_store_check()
    {
        var services = new ServiceCollection().AddLogging()
            .AddEventStore(o => { o.UsePostgres(fixture.ConnectionString); o.EnableHealthCheck = false; });
        services.AddHealthChecks();
        using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckServiceOptions>>().Value;

        Assert.Empty(options.Registrations);
    }

    private static int ClosedPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private sealed class CapturingLoggerFactory : ILoggerFactory
    {
        private readonly ConcurrentQueue<string> _lines = new();

        public IEnumerable<string> Lines => _lines;

        public ILogger CreateLogger(string categoryName) => new Logger(_lines);

        public void AddProvider(ILoggerProvider provider) { }

        public void Dispose() { }

        private sealed class Logger(ConcurrentQueue<string> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                lines.Enqueue($"{logLevel}: {formatter(state, exception)} {exception}");
        }
    }
}
