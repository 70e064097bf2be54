using System.Diagnostics;
using System.Reflection;
using EventStore.Providers.Aggregates;
using EventStore.Providers.Diagnostics;
using EventStore.Providers.InMemory;
using EventStore.Providers.Projections;
using EventStore.Providers.Serialization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;

namespace EventStore.Providers.Abstractions.Tests;

public class DependencyInjectionTests
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    private static HostApplicationBuilder NewHost(params (string Key, string Value)[] settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value)));
        return builder;
    }

    private static IHost Build(HostApplicationBuilder builder, Action<EventStoreBuilder>? configure = null)
    {
        builder.Services.AddEventStore(builder.Configuration.GetSection("EventStore"), o =>
        {
            o.AddEventTypes(typeof(OrderPlaced).Assembly);
            configure?.Invoke(o);
        });
        return builder.Build();
    }

    [Fact]
    public void The_provider_chosen_in_configuration_is_registered_behind_the_instrumentation_decorator()
    {
        using var host = Build(NewHost(("EventStore:Provider", "InMemory")));

        var store = Assert.IsType<InstrumentedEventStore>(host.Services.GetRequiredService<IEventStore>());

        Assert.IsType<InMemoryEventStore>(store.Inner);
        Assert.IsType<JsonEventSerializer>(host.Services.GetRequiredService<IEventSerializer>());
        Assert.NotNull(host.Services.GetRequiredService<AggregateStore>());
        Assert.Same(store, host.Services.GetRequiredService<IEventStore>());
    }

    [Fact]
    public void Instrumentation_can_be_turned_off()
    {
        var builder = new ServiceCollection().AddLogging();
        builder.AddEventStore(o => { o.UseInMemory(); o.EnableInstrumentation = false; });

        Assert.IsType<InMemoryEventStore>(builder.BuildServiceProvider().GetRequiredService<IEventStore>());
    }

    [Fact]
    public void A_missing_provider_key_is_named_in_the_error()
    {
        var builder = NewHost(("EventStore:SnapshotEvery", "5"));

        var error = Assert.Throws<EventStoreConfigurationException>(() => Build(builder));

        Assert.Equal("EventStore:Provider", error.Key);
    }

    [Fact]
    public void An_unknown_provider_is_named_in_the_error()
    {
        var error = Assert.Throws<EventStoreConfigurationException>(() => Build(NewHost(("EventStore:Provider", "Oracle"))));

        Assert.Equal("EventStore:Provider", error.Key);
        Assert.Contains("Oracle", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_value_of_the_wrong_type_fails_the_start_naming_its_key()
    {
        using var host = Build(NewHost(("EventStore:Provider", "InMemory"), ("EventStore:HealthCheckTimeout", "soon")));

        var error = await Assert.ThrowsAsync<EventStoreConfigurationException>(() => host.StartAsync(Ct));

        Assert.Equal("EventStore:HealthCheckTimeout", error.Key);
        Assert.Contains("'soon'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_out_of_range_value_fails_the_start_naming_its_key()
    {
        using var host = Build(NewHost(("EventStore:Provider", "InMemory"), ("EventStore:HealthCheckTimeout", "-00:00:01")));

        // ValidateOnStart: the host reports every failure at once, each starting with its full key.
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(Ct));

        Assert.StartsWith("EventStore:HealthCheckTimeout is -00:00:01;", Assert.Single(error.Failures), StringComparison.Ordinal);
    }

    [Fact]
    public void An_out_of_range_value_resolved_without_a_host_is_a_configuration_error_naming_its_key()
    {
        using var host = Build(NewHost(("EventStore:Provider", "InMemory"), ("EventStore:HealthCheckTimeout", "-00:00:01")));

        var error = Assert.Throws<EventStoreConfigurationException>(() => host.Services.GetValidatedOptions<EventStoreOptions>());

        Assert.Equal("EventStore:HealthCheckTimeout", error.Key);
        Assert.IsType<OptionsValidationException>(error.InnerException);
    }

    [Fact]
    public async Task A_bad_subscription_option_in_configuration_fails_the_start_naming_its_key()
    {
        var builder = NewHost(("EventStore:Provider", "InMemory"), ("EventStore:Subscriptions:totals:BatchSize", "0"));
        builder.Services.AddProjection<OrderTotalsProjection>("totals");
        using var host = Build(builder);

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(Ct));

        Assert.StartsWith("EventStore:Subscriptions:totals:BatchSize is 0;", Assert.Single(error.Failures), StringComparison.Ordinal);
    }

    [Fact]
    public void Two_subscriptions_with_one_id_are_rejected_at_registration()
    {
        var services = new ServiceCollection().AddProjection<OrderTotalsProjection>("same");

        Assert.Throws<InvalidOperationException>(() => services.AddEventStoreSubscription<RecordingHandler>("same"));
    }

    [Fact(Timeout = 30_000)]
    public async Task Every_registered_initializer_runs_when_the_host_starts()
    {
        var builder = NewHost(("EventStore:Provider", "InMemory"));
        var first = new CountingInitializer();
        var second = new CountingInitializer();
        builder.Services.AddSingleton<IEventStoreInitializer>(first).AddSingleton<IEventStoreInitializer>(second);
        using var host = Build(builder);

        await host.StartAsync(Ct);
        await host.StopAsync(Ct);

        Assert.Equal(1, first.Runs);
        Assert.Equal(1, second.Runs);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_hosted_projection_catches_up_with_events_written_through_the_aggregate_store()
    {
        var builder = NewHost(("EventStore:Provider", "InMemory"), ("EventStore:Subscriptions:OrderTotalsProjection:BatchSize", "2"));
        builder.Services.AddProjection<OrderTotalsProjection>();
        using var host = Build(builder);
        await host.StartAsync(Ct);
        var aggregates = host.Services.GetRequiredService<AggregateStore>();

        await aggregates.HandleAsync<Order>(AggregateStore.StreamFor<Order>("o-7"), o => o.Place("o-7", 7m), cancellationToken: Ct);
        var saved = await aggregates.HandleAsync<Order>(AggregateStore.StreamFor<Order>("o-7"), o => o.Ship("UPS"), cancellationToken: Ct);
        var head = await host.Services.GetRequiredService<IEventStore>().GetHeadPositionAsync(Ct);
        var runner = host.Services.GetRequiredKeyedService<SubscriptionRunner>(nameof(OrderTotalsProjection));
        await runner.WaitForPositionAsync(head, Ct);
        await host.StopAsync(Ct);

        var projection = host.Services.GetRequiredService<OrderTotalsProjection>();
        Assert.Equal(7m, projection.TotalOf("o-7"));
        Assert.Equal(["o-7"], projection.Shipped);
        Assert.Equal(1, saved.OriginalVersion);
    }

    [Fact]
    public async Task The_health_check_is_registered_automatically_and_reports_a_reachable_store_as_healthy()
    {
        using var host = Build(NewHost(("EventStore:Provider", "InMemory")));

        var report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(Ct);

        var entry = Assert.Single(report.Entries);
        Assert.Equal("eventstore", entry.Key);
        Assert.Equal(HealthStatus.Healthy, entry.Value.Status);
        Assert.Equal("InMemory", entry.Value.Data["provider"]);
    }

    [Fact]
    public async Task An_explicit_health_check_registration_replaces_the_automatic_one()
    {
        var builder = NewHost(("EventStore:Provider", "InMemory"));
        builder.Services.AddHealthChecks().AddEventStore("store", HealthStatus.Degraded, ["ready"]);
        using var host = Build(builder);

        var report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(Ct);

        var entry = Assert.Single(report.Entries);
        Assert.Equal("store", entry.Key);
        Assert.Contains("ready", entry.Value.Tags);
    }

    [Fact]
    public async Task A_failing_store_is_unhealthy_and_the_report_never_contains_the_backends_message()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddEventStore(o => o.UseProvider("Broken", s => s.AddSingleton(BrokenStore.Create("Host=db;Password=hunter2"))));

        var report = await services.BuildServiceProvider().GetRequiredService<HealthCheckService>().CheckHealthAsync(Ct);

        var entry = Assert.Single(report.Entries).Value;
        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        Assert.DoesNotContain("hunter2", entry.Description, StringComparison.Ordinal);
        Assert.DoesNotContain(entry.Data.Values, v => v.ToString()!.Contains("hunter2", StringComparison.Ordinal));
        Assert.Null(entry.Exception);
    }

    [Fact]
    public async Task Appends_emit_counters_latency_and_conflicts_on_the_event_store_meter()
    {
        using var host = Build(NewHost(("EventStore:Provider", "InMemory")));
        var meter = host.Services.GetRequiredService<EventStoreInstrumentation>().Meter;
        using var appends = new MetricCollector<long>(meter, "eventstore.appends");
        using var events = new MetricCollector<long>(meter, "eventstore.events.appended");
        using var conflicts = new MetricCollector<long>(meter, "eventstore.append.conflicts");
        using var latency = new MetricCollector<double>(meter, "eventstore.append.duration");
        using var reads = new MetricCollector<double>(meter, "eventstore.read.duration");
        var store = host.Services.GetRequiredService<IEventStore>();
        var serializer = host.Services.GetRequiredService<IEventSerializer>();
        var stream = Streams.NewOrder();

        await store.AppendEventsAsync(serializer, stream, ExpectedVersion.NoStream, [new OrderPlaced("m", 1m), new OrderPlaced("m", 2m)], cancellationToken: Ct);
        await Assert.ThrowsAsync<WrongExpectedVersionException>(() => store.AppendEventsAsync(serializer, stream, ExpectedVersion.NoStream, [new OrderPlaced("m", 3m)], cancellationToken: Ct));
        Assert.Equal(2, await store.ReadStreamAsync(stream, cancellationToken: Ct).CountAsync(Ct));

        Assert.Equal(["written", "conflict"], appends.GetMeasurementSnapshot().Select(m => (string)m.Tags["eventstore.outcome"]!));
        Assert.Equal(2, events.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.Equal(1, conflicts.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.Equal(2, latency.GetMeasurementSnapshot().Count);
        Assert.All(latency.GetMeasurementSnapshot(), m => Assert.Equal("InMemory", m.Tags["eventstore.provider"]));
        Assert.Single(reads.GetMeasurementSnapshot());
    }

    [Fact]
    public async Task Appends_are_traced_on_the_event_store_activity_source()
    {
        using var host = Build(NewHost(("EventStore:Provider", "InMemory")));
        var stream = Streams.NewOrder();
        var seen = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == EventStoreInstrumentation.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a => { if ((string?)a.GetTagItem("eventstore.stream") == stream.Value) lock (seen) seen.Add(a); },
        };
        ActivitySource.AddActivityListener(listener);

        await host.Services.GetRequiredService<IEventStore>().AppendEventsAsync(host.Services.GetRequiredService<IEventSerializer>(), stream, ExpectedVersion.Any, [new OrderPlaced("t", 1m)], cancellationToken: Ct);

        var activity = Assert.Single(seen);
        Assert.Equal("eventstore.append", activity.OperationName);
        Assert.Equal(1, activity.GetTagItem("eventstore.event_count"));
    }

    [Fact]
    public async Task Appends_and_conflicts_are_logged_at_debug_without_a_stack_and_failures_at_warning()
    {
        var builder = NewHost(("EventStore:Provider", "InMemory"));
        builder.Services.AddFakeLogging(o => o.FilteredCategories.Add(typeof(InstrumentedEventStore).FullName!));
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        using var host = Build(builder);
        var store = host.Services.GetRequiredService<IEventStore>();
        var serializer = host.Services.GetRequiredService<IEventSerializer>();
        var stream = Streams.NewOrder();

        await store.AppendEventsAsync(serializer, stream, ExpectedVersion.NoStream, [new OrderPlaced("l", 1m)], cancellationToken: Ct);
        await Assert.ThrowsAsync<WrongExpectedVersionException>(() => store.AppendEventsAsync(serializer, stream, ExpectedVersion.NoStream, [new OrderPlaced("l", 1m)], cancellationToken: Ct));

        await Assert.ThrowsAsync<InvalidEventException>(() => store.AppendAsync(stream, ExpectedVersion.Any, [new EventData(Guid.NewGuid(), "Bad\nType", "{}"u8.ToArray())], Ct));

        var logs = host.Services.GetFakeLogCollector().GetSnapshot();
        Assert.Equal([LogLevel.Debug, LogLevel.Debug, LogLevel.Warning], logs.Select(l => l.Level));
        Assert.Contains(stream.Value, logs[0].Message, StringComparison.Ordinal);
        // The conflict: Debug, the versions in the message, no exception (so no stack trace in the log).
        Assert.Null(logs[1].Exception);
        Assert.Equal(1001, logs[1].Id.Id);
        Assert.Contains("expected version NoStream, actual 0", logs[1].Message, StringComparison.Ordinal);
        Assert.IsType<InvalidEventException>(logs[2].Exception);
    }

    [Fact]
    public void Snapshot_every_from_configuration_reaches_the_aggregate_store_options()
    {
        using var host = Build(NewHost(("EventStore:Provider", "InMemory"), ("EventStore:SnapshotEvery", "25")));

        var options = host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<AggregateStoreOptions>>().Value;

        Assert.Equal(25, options.SnapshotEveryOf(typeof(Order)));
    }

    private sealed class CountingInitializer : IEventStoreInitializer
    {
        public int Runs { get; private set; }

        public Task InitializeAsync(CancellationToken cancellationToken = default)
        {
            Runs++;
            return Task.CompletedTask;
        }
    }

    /// <summary>A store whose backend fails with a message holding a secret, as a driver's connection error might.</summary>
    public class BrokenStore : DispatchProxy
    {
        private string _message = "";

        public static IEventStore Create(string message)
        {
            var store = DispatchProxy.Create<IEventStore, BrokenStore>();
            ((BrokenStore)(object)store)._message = message;
            return store;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) =>
            targetMethod?.Name == "get_" + nameof(IEventStore.Capabilities)
                ? new EventStoreCapabilities { ProviderName = "Broken" }
                : throw new InvalidOperationException($"Connection failed: {_message}");
    }
}
