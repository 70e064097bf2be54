using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit;

namespace EventStore.Providers.Conformance;

/// <summary>
/// The start-up matrix every provider with storage to create follows (docs/startup.md): <c>EventStore:InitializeOnStartup</c>
/// decides whether anything runs when the host starts; the provider's create switch decides create-or-verify, at start
/// and, when nothing ran at start (no host, or start-up initialization off), before the first operation. With creation
/// off and the storage missing, both fail with <see cref="EventStoreConfigurationException"/> naming the switch and
/// the missing storage.
/// </summary>
public abstract class StartupMatrixTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The full key of the provider's create switch, e.g. <c>EventStore:Postgres:MigrateOnStart</c>.</summary>
    protected abstract string CreateSwitchKey { get; }

    /// <summary>The name of the storage the test uses (schema, table, topic), fresh for each test.</summary>
    protected abstract string StorageName { get; }

    /// <summary>The provider's settings under <c>EventStore</c> for fresh storage named <see cref="StorageName"/>.</summary>
    protected abstract IDictionary<string, string?> Settings();

    /// <summary>Whether the storage named <see cref="StorageName"/> exists now.</summary>
    protected abstract Task<bool> StorageExistsAsync(CancellationToken cancellationToken);

    /// <summary>Removes the storage after the test.</summary>
    protected abstract Task DropStorageAsync();

    /// <inheritdoc />
    public virtual ValueTask InitializeAsync() => ValueTask.CompletedTask;

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await DropStorageAsync();
        GC.SuppressFinalize(this);
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(false, false)]
    public async Task With_a_host_startup_creates_verifies_or_leaves_it_to_the_first_operation(bool initializeOnStartup, bool create)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(Configuration(initializeOnStartup, create));
        builder.Services.AddEventStore(builder.Configuration.GetSection("EventStore"));
        using var host = builder.Build();

        if (initializeOnStartup && !create)
        {
            AssertNamesSwitchAndStorage(await Assert.ThrowsAsync<EventStoreConfigurationException>(() => host.StartAsync(Ct)));
            Assert.False(await StorageExistsAsync(Ct));
            return;
        }
        await host.StartAsync(Ct);
        Assert.Equal(initializeOnStartup, await StorageExistsAsync(Ct));

        await FirstOperationAsync(host.Services, create);
        await host.StopAsync(Ct);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Without_a_host_the_first_operation_creates_or_verifies(bool create)
    {
        await using var services = new ServiceCollection().AddEventStore(new ConfigurationBuilder()
            .AddInMemoryCollection(Configuration(initializeOnStartup: true, create)).Build().GetSection("EventStore")).BuildServiceProvider();

        await FirstOperationAsync(services, create);
    }

    private async Task FirstOperationAsync(IServiceProvider services, bool create)
    {
        var store = services.GetRequiredService<IEventStore>();
        var stream = new StreamName("Startup-" + Guid.NewGuid().ToString("N")[..8]);
        Task Append() => store.AppendAsync(stream, ExpectedVersion.Any, [new EventData(Guid.NewGuid(), "Started", "{}"u8.ToArray())], Ct);
        if (create)
        {
            await Append();
            Assert.True(await StorageExistsAsync(Ct));
            return;
        }
        AssertNamesSwitchAndStorage(await Assert.ThrowsAsync<EventStoreConfigurationException>(Append));
        // The failure is not remembered: the same call a second time checks again and says the same.
        AssertNamesSwitchAndStorage(await Assert.ThrowsAsync<EventStoreConfigurationException>(Append));
        Assert.False(await StorageExistsAsync(Ct));
    }

    private void AssertNamesSwitchAndStorage(EventStoreConfigurationException e)
    {
        Assert.Equal(CreateSwitchKey, e.Key);
        Assert.Contains(StorageName, e.Message, StringComparison.Ordinal);
        Assert.Contains($"{CreateSwitchKey}=true", e.Message, StringComparison.Ordinal);
    }

    private IEnumerable<KeyValuePair<string, string?>> Configuration(bool initializeOnStartup, bool create)
    {
        var settings = new Dictionary<string, string?>(Settings())
        {
            ["EventStore:InitializeOnStartup"] = initializeOnStartup.ToString(),
            [CreateSwitchKey] = create.ToString(),
            ["EventStore:EnableHealthCheck"] = "false",
        };
        return settings;
    }
}
