using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace EventStore.Providers.Hosting;

/// <summary>
/// Runs every registered <see cref="IEventStoreInitializer"/> (schema, tables, topics) when the host starts, before
/// subscriptions and projections, which are registered after it. A failing initializer fails the start. Turned off by
/// <see cref="EventStoreOptions.InitializeOnStartup"/> = false.
/// </summary>
public sealed partial class EventStoreInitializerHostedService(
    IEnumerable<IEventStoreInitializer> initializers,
    ILogger<EventStoreInitializerHostedService>? logger = null,
    IOptions<EventStoreOptions>? options = null) : IHostedService
{
    // Optional so a container built without AddLogging (a console tool, a test) can still start the store.
    private readonly ILogger _logger = (ILogger?)logger ?? NullLogger.Instance;

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (options?.Value.InitializeOnStartup == false) return;
        foreach (var initializer in initializers)
        {
            var name = initializer.GetType().Name;
            LogInitializing(name);
            try
            {
                await initializer.InitializeAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogFailed(e, name);
                throw;
            }
            LogInitialized(name);
        }
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 1400, Level = LogLevel.Debug, Message = "Initializing event store storage with {Initializer}")]
    private partial void LogInitializing(string initializer);

    [LoggerMessage(EventId = 1401, Level = LogLevel.Information, Message = "Event store storage ready ({Initializer})")]
    private partial void LogInitialized(string initializer);

    [LoggerMessage(EventId = 1402, Level = LogLevel.Error, Message = "Event store initializer {Initializer} failed")]
    private partial void LogFailed(Exception exception, string initializer);
}
