using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace EventStore.Providers.EventStoreDB;

/// <summary>Healthy when the server answers a one-event read of <c>$all</c>; the message never shows credentials.</summary>
public sealed class EventStoreDBHealthCheck(EventStoreDBEventStore store) : IHealthCheck
{
    /// <inheritdoc />
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var head = await store.GetHeadPositionAsync(cancellationToken).ConfigureAwait(false);
            return HealthCheckResult.Healthy($"EventStoreDB answered; head {head}.");
        }
        catch (EventStoreException e)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, $"EventStoreDB did not answer: {e.Message}");
        }
    }
}
