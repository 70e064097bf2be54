using Amazon.DynamoDBv2;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace EventStore.Providers.DynamoDB;

/// <summary>Configures the DynamoDB provider from <c>EventStore:DynamoDB</c> when <c>EventStore:Provider</c> is DynamoDB.</summary>
public sealed class DynamoDBProviderConfigurator : IEventStoreProviderConfigurator
{
    /// <inheritdoc />
    public void Configure(EventStoreBuilder builder, IConfigurationSection section)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(section);
        var options = new DynamoDBEventStoreOptions();
        try
        {
            section.Bind(options);
        }
        catch (InvalidOperationException e)
        {
            throw new EventStoreConfigurationException(section.Path, $"could not be read: {e.Message}", e);
        }
        builder.UseDynamoDB(options, section.Path);
    }
}

/// <summary>Owns the provider's SDK client for the container's lifetime.</summary>
internal sealed class DynamoDBClientHolder(IAmazonDynamoDB client) : IDisposable
{
    public IAmazonDynamoDB Client { get; } = client;

    public void Dispose() => Client.Dispose();
}

/// <summary>Creates the tables before the application starts serving, when asked to.</summary>
internal sealed class DynamoDBTableCreationService(IEventStoreInitializer initializer) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => initializer.InitializeAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
