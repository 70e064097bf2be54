using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace EventStore.Providers.DynamoDB;

/// <summary>Binds <see cref="DynamoDBEventStoreOptions"/> from <c>EventStore:DynamoDB</c> when <c>EventStore:Provider</c> is DynamoDB.</summary>
public sealed class DynamoDBProviderConfigurator : IEventStoreProviderConfigurator
{
    /// <inheritdoc />
    public void Configure(EventStoreBuilder builder, IConfigurationSection section)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(section);
        builder.UseProvider(DynamoDBEventStoreBuilderExtensions.Registration, section);
    }
}
