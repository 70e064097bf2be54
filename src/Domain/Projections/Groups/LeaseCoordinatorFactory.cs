using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EventStore.Providers.Projections;

/// <summary>
/// Makes subscription-group coordinators that keep membership, share ownership and per-share checkpoints as leases with
/// fencing tokens in a provider's <see cref="ISubscriptionLeaseStore"/> (records <c>{id}/share/{n}</c>,
/// <c>{id}/member/{instance}</c> and <c>{id}/layout/{shares}</c>). Used for every provider without a native group
/// mechanism.
/// </summary>
/// <param name="leases">The provider's lease store.</param>
/// <param name="loggerFactory">Where the coordinators log share hand-overs; none when null.</param>
public sealed class LeaseCoordinatorFactory(ISubscriptionLeaseStore leases, ILoggerFactory? loggerFactory = null) : ISubscriptionGroupCoordinatorFactory
{
    private readonly ISubscriptionLeaseStore _leases = leases ?? throw new ArgumentNullException(nameof(leases));

    /// <inheritdoc />
    public ISubscriptionGroupCoordinator Create(string subscriptionId, string instanceId, SubscriptionGroupOptions options, TimeProvider timeProvider)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(subscriptionId);
        ArgumentException.ThrowIfNullOrWhiteSpace(instanceId);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        if (subscriptionId.Contains('/', StringComparison.Ordinal))
            throw new ArgumentException($"A subscription group's id is the first part of its lease record names and cannot contain '/': '{subscriptionId}'.", nameof(subscriptionId));
        options.EnsureValid();
        var logger = (ILogger?)loggerFactory?.CreateLogger<LeaseCoordinatorFactory>() ?? NullLogger.Instance;
        return new LeaseCoordinator(_leases, subscriptionId, instanceId, options, timeProvider, logger);
    }
}
