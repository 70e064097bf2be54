using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace EventStore.Providers.Postgres;

/// <summary>Healthy when the store's database answers a query; the result never carries the connection string.</summary>
internal sealed class PostgresHealthCheck(PostgresEventStore store) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var connection = await store.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var cmd = new NpgsqlCommand("SELECT 1", connection);
            await cmd.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            return HealthCheckResult.Healthy($"PostgreSQL answers (schema {store.Schema}).");
        }
        catch (Exception e) when (PostgresErrors.ShouldMap(e))
        {
            var mapped = PostgresErrors.Map(e, "health check", cancellationToken);
            return new HealthCheckResult(context.Registration.FailureStatus, mapped.Message);
        }
    }
}
