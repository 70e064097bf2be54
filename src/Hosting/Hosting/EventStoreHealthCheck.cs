using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace EventStore.Providers.Hosting;

/// <summary>
/// Reports whether the event store answers: asks for the head position within a timeout. The result names the
/// provider and the kind of failure only, never connection strings or backend messages, which may hold secrets.
/// </summary>
public sealed class EventStoreHealthCheck(IEventStore store, TimeSpan timeout) : IHealthCheck
{
    /// <summary>The default timeout.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(5);

    /// <inheritdoc />
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var provider = store.Capabilities.ProviderName;
        using var timeoutCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutCts.CancelAfter(timeout);
        try
        {
            var head = await store.GetHeadPositionAsync(timeoutCts.Token).ConfigureAwait(false);
            return HealthCheckResult.Healthy($"The {provider} event store answers.", new Dictionary<string, object>
            {
                ["provider"] = provider,
                ["head"] = head.ToString(),
            });
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, $"The {provider} event store did not answer within {timeout.TotalSeconds:0.###} s.",
                data: new Dictionary<string, object> { ["provider"] = provider });
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, $"The {provider} event store failed ({e.GetType().Name}).",
                data: new Dictionary<string, object> { ["provider"] = provider, ["error"] = e.GetType().Name });
        }
    }
}
