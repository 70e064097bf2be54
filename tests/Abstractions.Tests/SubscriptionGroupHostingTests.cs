using EventStore.Providers.Projections;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace EventStore.Providers.Abstractions.Tests;

public class SubscriptionGroupHostingTests
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    private static HostApplicationBuilder NewHost(params (string Key, string Value)[] settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(
            [KeyValuePair.Create("EventStore:Provider", (string?)"InMemory"), .. settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value))]);
        builder.Services.AddEventStore(builder.Configuration.GetSection("EventStore"), o => o.AddEventTypes(typeof(OrderPlaced).Assembly));
        builder.Services.AddProjection<OrderTotalsProjection>("totals");
        return builder;
    }

    [Fact]
    public void The_nested_group_section_binds_from_configuration()
    {
        var builder = NewHost(
            ("EventStore:Subscriptions:totals:Group:Mode", "Partitioned"),
            ("EventStore:Subscriptions:totals:Group:Shares", "8"),
            ("EventStore:Subscriptions:totals:Group:LeaseTime", "00:00:20"),
            ("EventStore:Subscriptions:totals:Group:RenewInterval", "00:00:05"),
            ("EventStore:Subscriptions:totals:Group:InstanceId", "web-1"));
        using var host = builder.Build();

        var group = host.Services.GetRequiredService<IOptionsMonitor<SubscriptionOptions>>().Get("totals").Group;

        Assert.Equal(SubscriptionGroupMode.Partitioned, group.Mode);
        Assert.Equal(8, group.Shares);
        Assert.Equal(TimeSpan.FromSeconds(20), group.LeaseTime);
        Assert.Equal(TimeSpan.FromSeconds(5), group.RenewInterval);
        Assert.Equal("web-1", group.InstanceId);
    }

    [Theory]
    [InlineData("Shares", "0")]
    [InlineData("LeaseTime", "-00:00:01")]
    [InlineData("RenewInterval", "00:00:06")]
    [InlineData("InstanceId", " ")]
    public async Task A_bad_group_option_fails_the_start_naming_its_full_key(string key, string value)
    {
        using var host = NewHost(("EventStore:Subscriptions:totals:Group:Mode", "Partitioned"), ($"EventStore:Subscriptions:totals:Group:{key}", value)).Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(Ct));

        Assert.StartsWith($"EventStore:Subscriptions:totals:Group:{key} is", Assert.Single(error.Failures), StringComparison.Ordinal);
    }

    [Fact]
    public void A_group_value_that_does_not_parse_is_a_configuration_error_naming_its_full_key()
    {
        using var host = NewHost(("EventStore:Subscriptions:totals:Group:LeaseTime", "ten seconds")).Build();

        var error = Assert.Throws<EventStoreConfigurationException>(() => host.Services.GetRequiredService<IOptionsMonitor<SubscriptionOptions>>().Get("totals"));

        Assert.Equal("EventStore:Subscriptions:totals:Group:LeaseTime", error.Key);
    }

    [Fact]
    public async Task A_group_on_a_provider_with_neither_leases_nor_native_groups_fails_the_start_naming_the_mode_key()
    {
        var builder = NewHost(("EventStore:Subscriptions:totals:Group:Mode", "ActiveStandby"));
        builder.Services.RemoveAll<ISubscriptionLeaseStore>().RemoveAll<ISubscriptionGroupCoordinatorFactory>();
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<EventStoreConfigurationException>(() => host.StartAsync(Ct));

        Assert.Equal("EventStore:Subscriptions:totals:Group:Mode", error.Key);
        Assert.Contains("does not support subscription groups", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_registered_lease_store_makes_the_hosted_runner_a_group_instance()
    {
        var builder = NewHost(
            ("EventStore:Subscriptions:totals:Group:Mode", "ActiveStandby"),
            ("EventStore:Subscriptions:totals:Group:InstanceId", "web-1"));
        builder.Services.RemoveAll<ISubscriptionLeaseStore>().AddSingleton<ISubscriptionLeaseStore>(new TestLeaseStore());
        using var host = builder.Build();
        var runner = host.Services.GetRequiredKeyedService<SubscriptionRunner>("totals");

        await host.StartAsync(Ct);
        while (runner.HeldShares.Count == 0) await Task.Delay(10, Ct);
        var health = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(Ct);
        await host.StopAsync(Ct);

        Assert.Matches(@"^(CatchingUp|Live); instance web-1 holds share\(s\) \[0\]$", (string)health.Entries["eventstore"].Data["subscription:totals"]);
        Assert.Equal("web-1", runner.InstanceId);
        Assert.Equal(SubscriptionStatus.Stopped, runner.Status);
    }
}
