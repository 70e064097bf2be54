using EventStore.Providers;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the event store health check to <c>services.AddHealthChecks()</c>.</summary>
public static class EventStoreHealthChecksBuilderExtensions
{
    /// <summary>
    /// Adds (or replaces) the event store health check: it asks the store for its head position within
    /// <paramref name="timeout"/> (default <see cref="EventStoreOptions.HealthCheckTimeout"/>). <c>AddEventStore</c>
    /// already adds one named <c>eventstore</c>; call this to change its name, status, tags or timeout. The check always
    /// carries the tag <c>eventstore</c>.
    /// </summary>
    public static IHealthChecksBuilder AddEventStore(this IHealthChecksBuilder builder, string name = "eventstore", HealthStatus? failureStatus = null, IEnumerable<string>? tags = null, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (timeout is { } t) ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(t, TimeSpan.Zero, nameof(timeout));
        var registration = EventStoreCoreServices.CreateHealthCheck(name, failureStatus, [EventStoreCoreServices.HealthCheckTag, .. tags ?? []], timeout);
        builder.Services.Configure<HealthCheckServiceOptions>(o =>
        {
            var existing = o.Registrations.Where(r => r.Name == name || r.Tags.Contains(EventStoreCoreServices.HealthCheckTag)).ToList();
            foreach (var r in existing) o.Registrations.Remove(r);
            o.Registrations.Add(registration);
        });
        return builder;
    }
}
