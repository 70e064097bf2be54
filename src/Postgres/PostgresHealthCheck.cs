using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace EventStore.Providers.Postgres;

/// <summary>
/// Healthy when the store's database answers and its schema is migrated; Unhealthy when the schema is missing or
/// out of date; Degraded when an append to this schema has been running longer than
/// <see cref="PostgresEventStoreOptions.PendingAppendWait"/>, because readers of <c>$all</c> cannot pass it (see
/// README: "A stuck append"). The result never carries the connection string.
/// </summary>
internal sealed class PostgresHealthCheck(PostgresEventStore store) : IHealthCheck
{
    // Transactions holding one of this schema's stream locks (appends and deletes); the lock class is
    // stream_lock_class(), computed here so the check also works before the schema is migrated. Other roles'
    // sessions show no xact_start without pg_read_all_stats; they then count as just started.
    private const string OldestAppendSql = """
        SELECT coalesce(extract(epoch FROM max(clock_timestamp() - a.xact_start)), 0)::float8
          FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
         WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 AND l.classid = hashtext($1)::oid
        """;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        // Failures to connect propagate to EventStoreHealthCheck, which describes them without the backend's message.
        var missing = await new SchemaMigrator(store.DataSource, store.Schema, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance)
            .FindMissingAsync(cancellationToken).ConfigureAwait(false);
        if (missing is not null)
            return new HealthCheckResult(context.Registration.FailureStatus, $"PostgreSQL answers, but {missing}.", data: Data(store));
        await using var connection = await store.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var cmd = new NpgsqlCommand(OldestAppendSql, connection);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = SqlText.QuoteIdentifier(store.Schema) });
        var oldest = TimeSpan.FromSeconds((double)(await cmd.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!);
        if (oldest > store.PendingAppendWait)
            return HealthCheckResult.Degraded(
                $"An append to schema {store.Schema} has been running for {oldest.TotalSeconds:N0} s; $all readers and subscriptions wait below it until it ends.", data: Data(store));
        return HealthCheckResult.Healthy($"PostgreSQL answers and schema {store.Schema} is up to date.", Data(store));
    }

    private static Dictionary<string, object> Data(PostgresEventStore store) => new() { ["provider"] = "Postgres", ["schema"] = store.Schema };
}
