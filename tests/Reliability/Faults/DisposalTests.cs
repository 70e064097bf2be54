using EventStore.Providers.Reliability.Tests.Targets;

namespace EventStore.Providers.Reliability.Tests.Faults;

/// <summary>
/// An application's container resolves the store under several service types (the store, IEventStore,
/// IEventStoreInitializer) and disposes it when the app stops; that must not throw.
/// </summary>
public abstract class DisposalTests(ConfiguredStoreTarget target)
{
    [Fact]
    public async Task Stopping_an_application_that_used_the_store_disposes_it_without_error()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var handle = await target.CreateStoreAsync(ct);
        var services = ConfiguredStoreTarget.BuildServices(handle.ProcessConfiguration!);
        foreach (var initializer in Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetServices<IEventStoreInitializer>(services))
            await initializer.InitializeAsync(ct);
        var store = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<IEventStore>(services);
        await store.AppendAsync(new StreamName("Dispose-1"), ExpectedVersion.Any, [new EventData(Guid.NewGuid(), "T", new byte[1])], ct);
        var failure = await Record.ExceptionAsync(async () => await services.DisposeAsync());
        Assert.True(failure is null, $"disposing the application's services threw {failure?.GetType().Name}: {failure?.Message}");
    }
}
