using EventStore.Providers.Projections;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace EventStore.Providers.Hosting;

/// <summary>
/// Reports whether the event store answers within a timeout: the provider's own probe when it has one (for example
/// PostgreSQL also checks its schema and stuck appends), else a head-position query. The result describes the state
/// and names the provider and the kind of failure only, never connection strings or backend messages, which may hold
/// secrets. The data also says where each hosted subscription is (<c>subscription:{id}</c>: its status and, in a
/// subscription group, which shares this instance holds); that does not change the result's status.
/// </summary>
/// <param name="store">The store to check.</param>
/// <param name="timeout">How long the check waits.</param>
/// <param name="providerCheck">The provider's probe; null queries the head position.</param>
/// <param name="subscriptions">The hosted subscriptions to describe; none when null.</param>
public sealed class EventStoreHealthCheck(IEventStore store, TimeSpan timeout, IHealthCheck? providerCheck = null, IEnumerable<SubscriptionRunner>? subscriptions = null) : IHealthCheck
{
    /// <summary>The default timeout.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(5);

    /// <inheritdoc />
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var result = await CheckStoreAsync(context, cancellationToken).ConfigureAwait(false);
        var runners = subscriptions?.ToList() ?? [];
        if (runners.Count == 0) return result;
        var data = new Dictionary<string, object>(result.Data);
        foreach (var runner in runners) data[$"subscription:{runner.SubscriptionId}"] = Describe(runner);
        return new HealthCheckResult(result.Status, result.Description, result.Exception, data);
    }

    private static string Describe(SubscriptionRunner runner) => runner.InstanceId is { } instance
        ? $"{runner.Status}; instance {instance} holds share(s) [{string.Join(", ", runner.HeldShares)}]"
        : runner.Status.ToString();

    private async Task<HealthCheckResult> CheckStoreAsync(HealthCheckContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var provider = store.Capabilities.ProviderName;
        using var timeoutCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutCts.CancelAfter(timeout);
        try
        {
            if (providerCheck is not null) return await providerCheck.CheckHealthAsync(context, timeoutCts.Token).ConfigureAwait(false);
            var head = await store.GetHeadPositionAsync(timeoutCts.Token).ConfigureAwait(false);
            return HealthCheckResult.Healthy($"The {provider} event store answers.", new Dictionary<string, object>
            {
                ["provider"] = provider,
                ["head"] = head.ToString(),
            });
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Failed(context, provider, $"The {provider} event store did not answer within {timeout.TotalSeconds:0.###} s.", null);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return Failed(context, provider, Describe(provider, e), e.GetType().Name);
        }
    }

    // Configuration messages name keys and storage, never values that may be secret; other messages may quote the backend.
    private static string Describe(string provider, Exception e) => e switch
    {
        EventStoreConfigurationException => $"The {provider} event store is not usable as configured: {e.Message}",
        AccessDeniedException => $"The {provider} event store refuses access to this application's credentials.",
        TransientEventStoreException => $"The {provider} event store is unreachable or unavailable ({e.GetType().Name}).",
        _ => $"The {provider} event store failed ({e.GetType().Name}).",
    };

    private static HealthCheckResult Failed(HealthCheckContext context, string provider, string description, string? error)
    {
        var data = new Dictionary<string, object> { ["provider"] = provider };
        if (error is not null) data["error"] = error;
        return new HealthCheckResult(context.Registration.FailureStatus, description, data: data);
    }
}
