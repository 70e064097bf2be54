using System.Globalization;
using System.Reflection;
using System.Text;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace EventStore.Providers.Postgres;

/// <summary>
/// Creates the schema and applies the numbered SQL scripts embedded in this assembly (<c>Scripts/1_Schema.sql</c>,
/// ...) that the schema's <c>schema_migrations</c> table does not list yet.
/// </summary>
/// <remarks>
/// Everything runs in one transaction under a transaction-level advisory lock keyed by the schema name: several app
/// instances starting at once queue on the lock, and each one after the first finds every script applied. A failed
/// script rolls back with its transaction, leaving the schema as it was.
/// </remarks>
internal sealed class SchemaMigrator(NpgsqlDataSource dataSource, string schema, ILogger logger)
{
    internal sealed record Script(int Number, string Name, string Sql);

    /// <summary>The embedded scripts in the order they apply.</summary>
    internal static IReadOnlyList<Script> Scripts { get; } = LoadScripts();

    /// <summary>Applies the missing scripts; returns how many were applied.</summary>
    public async Task<int> MigrateAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var cmd = new NpgsqlCommand("SELECT pg_advisory_xact_lock($1)", connection, tx))
        {
            cmd.Parameters.AddWithValue(LockKey(schema));
            await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        var quoted = SqlText.QuoteIdentifier(schema);
        await using (var cmd = new NpgsqlCommand(
            $"CREATE SCHEMA IF NOT EXISTS {quoted}; CREATE TABLE IF NOT EXISTS {quoted}.schema_migrations (version int PRIMARY KEY, name text NOT NULL, applied timestamptz NOT NULL DEFAULT now())",
            connection, tx))
        {
            await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        var applied = new HashSet<int>();
        await using (var cmd = new NpgsqlCommand($"SELECT version FROM {quoted}.schema_migrations", connection, tx))
        await using (var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) applied.Add(reader.GetInt32(0));
        }
        var count = 0;
        foreach (var script in Scripts)
        {
            if (applied.Contains(script.Number)) continue;
            logger.LogInformation("Applying PostgreSQL event store migration {Script} to schema {Schema}", script.Name, schema);
            await using (var cmd = new NpgsqlCommand(SqlText.ForSchema(script.Sql, schema), connection, tx))
            {
                await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            await using (var cmd = new NpgsqlCommand($"INSERT INTO {quoted}.schema_migrations (version, name) VALUES ($1, $2)", connection, tx))
            {
                cmd.Parameters.AddWithValue(script.Number);
                cmd.Parameters.AddWithValue(script.Name);
                await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            count++;
        }
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        if (count == 0) logger.LogDebug("PostgreSQL event store schema {Schema} is up to date", schema);
        return count;
    }

    /// <summary>
    /// What migrating would change without changing it: null when the schema is up to date, else a description of
    /// what is missing (the schema, or the scripts not applied yet).
    /// </summary>
    public async Task<string?> FindMissingAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var cmd = new NpgsqlCommand(
            "SELECT to_regclass(format('%I.schema_migrations', $1::text)) IS NOT NULL, EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", connection);
        cmd.Parameters.AddWithValue(schema);
        bool hasTable, hasSchema;
        await using (var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            (hasTable, hasSchema) = (reader.GetBoolean(0), reader.GetBoolean(1));
        }
        if (!hasSchema) return $"schema '{schema}' does not exist";
        if (!hasTable) return $"schema '{schema}' exists but holds no event store tables";
        var applied = new HashSet<int>();
        await using (var select = new NpgsqlCommand($"SELECT version FROM {SqlText.QuoteIdentifier(schema)}.schema_migrations", connection))
        await using (var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) applied.Add(reader.GetInt32(0));
        }
        var missing = Scripts.Where(s => !applied.Contains(s.Number)).Select(s => s.Name).ToList();
        return missing.Count == 0 ? null : $"schema '{schema}' lacks the migrations {string.Join(", ", missing)}";
    }

    /// <summary>A stable 64-bit key (FNV-1a) so every instance and version of the library locks the same key.</summary>
    internal static long LockKey(string schema)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes("EventStore.Providers.Postgres/migrate/" + schema))
        {
            hash ^= b;
            hash *= 1099511628211UL;
        }
        return unchecked((long)hash);
    }

    private static List<Script> LoadScripts()
    {
        var assembly = typeof(SchemaMigrator).Assembly;
        const string prefix = "EventStore.Providers.Postgres.Scripts.";
        var scripts = new List<Script>();
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            if (!resource.StartsWith(prefix, StringComparison.Ordinal) || !resource.EndsWith(".sql", StringComparison.Ordinal)) continue;
            var name = resource[prefix.Length..];
            var number = int.Parse(name[..name.IndexOf('_', StringComparison.Ordinal)], CultureInfo.InvariantCulture);
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream, Encoding.UTF8);
            scripts.Add(new Script(number, name, reader.ReadToEnd()));
        }
        scripts.Sort((a, b) => a.Number.CompareTo(b.Number));
        return scripts;
    }
}
