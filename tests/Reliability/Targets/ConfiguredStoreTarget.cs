using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EventStore.Providers.Reliability.Tests.Targets;

/// <summary>
/// Builds stores the way an application does: <c>services.AddEventStore(configuration)</c> with the provider's
/// configuration keys, then the registered <see cref="IEventStoreInitializer"/>s. Using the public configuration path
/// keeps these tests independent of each provider's constructors, and the same keys drive the crash child process.
/// </summary>
public abstract class ConfiguredStoreTarget : IStoreTarget
{
    private int _next;

    /// <inheritdoc />
    public abstract string Name { get; }

    /// <inheritdoc />
    public virtual long? LogBytesLimit => null;

    /// <inheritdoc />
    public virtual bool SurvivesProcessCrash => true;

    /// <summary>Logs of every store this target built, for the secrets tests.</summary>
    public ILoggerProvider? LoggerProvider { get; init; }

    /// <summary>The <c>EventStore:*</c> keys of a store isolated under <paramref name="isolationId"/> (a schema, a table, a topic).</summary>
    protected abstract Task<Dictionary<string, string?>> ConfigurationForAsync(string isolationId, CancellationToken cancellationToken);

    /// <summary>Drops what <see cref="ConfigurationForAsync"/> created, if the provider needs it.</summary>
    protected virtual ValueTask DropAsync(string isolationId) => ValueTask.CompletedTask;

    /// <inheritdoc />
    public async Task<TargetStore> CreateStoreAsync(CancellationToken cancellationToken = default)
    {
        var isolationId = $"rel{Environment.ProcessId}x{Interlocked.Increment(ref _next)}x{Random.Shared.Next(1000, 9999)}";
        var configuration = await ConfigurationForAsync(isolationId, cancellationToken);
        var providers = new List<ServiceProvider>();
        var first = await OpenAsync(configuration, providers, cancellationToken);
        return new TargetStore(
            first,
            ct => OpenAsync(configuration, providers, ct),
            configuration,
            async () =>
            {
                // A provider whose disposal throws would hide the failure of the test using it; the failure is
                // printed here and asserted by DisposalTests instead.
                foreach (var p in providers)
                {
                    try
                    {
                        await p.DisposeAsync();
                    }
                    catch (ObjectDisposedException e)
                    {
                        Infrastructure.Report.Line($"[reliability] {Name}: disposing the service provider threw {e.GetType().Name}: {e.Message} (see DisposalTests)");
                    }
                }
                await DropAsync(isolationId);
            });
    }

    /// <summary>Builds a service provider from <paramref name="configuration"/> and returns its initialized store.</summary>
    public async Task<IEventStore> OpenAsync(IReadOnlyDictionary<string, string?> configuration, List<ServiceProvider> owned, CancellationToken cancellationToken)
    {
        var provider = BuildServices(configuration, LoggerProvider);
        lock (owned) owned.Add(provider);
        foreach (var initializer in provider.GetServices<IEventStoreInitializer>())
            await initializer.InitializeAsync(cancellationToken);
        return provider.GetRequiredService<IEventStore>();
    }

    /// <summary>The application's service container for <paramref name="configuration"/>.</summary>
    public static ServiceProvider BuildServices(IReadOnlyDictionary<string, string?> configuration, ILoggerProvider? loggerProvider = null)
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(configuration).Build();
        var services = new ServiceCollection();
        services.AddLogging(b =>
        {
            b.SetMinimumLevel(LogLevel.Trace);
            if (loggerProvider is not null) b.AddProvider(loggerProvider);
        });
        services.AddEventStore(config.GetSection("EventStore"));
        return services.BuildServiceProvider();
    }

    /// <inheritdoc />
    public virtual ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }
}
