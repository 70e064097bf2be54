using EventStore.Providers.Projections;
using Microsoft.Extensions.Hosting;

namespace EventStore.Providers.Hosting;

/// <summary>Runs one <see cref="SubscriptionRunner"/> for the life of the host.</summary>
/// <remarks>A handler failure stops the subscription (logged, see <see cref="SubscriptionRunner.Status"/>), not the host.</remarks>
public sealed class SubscriptionHostedService(SubscriptionRunner runner) : IHostedService
{
    /// <summary>The hosted runner.</summary>
    public SubscriptionRunner Runner { get; } = runner ?? throw new ArgumentNullException(nameof(runner));

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken) => Runner.StartAsync(cancellationToken);

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken) => Runner.StopAsync(cancellationToken);
}
