using System.Globalization;
using System.Reflection;
using System.Text;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace EventStore.Providers.Postgres;

/// <summary>
/// Creates the schema, applies the numbered migrations embedded in this assembly (<c>Scripts/Migrations/1_Schema.sql</c>,
/// ...: tables and data) that the schema's <c>schema_migrations</c> table does not list yet, then re-applies each
/// function of <c>Scripts/Functions</c> (one current file per function, <c>CREATE OR REPLACE</c>) whose content
/// differs from the SHA-256 recorded in <c>schema_functions</c>.
/// </summary>
/// <remarks>
/// Everything runs in one transaction under a transaction-level advisory lock keyed by the schema name: several app
/// instances starting at once queue on the lock, and each one after the first finds every script applied. A failed
/// script rolls back with its transaction, leaving the schema as it was.
/// </remarks>
internal sealed class SchemaMigrator(NpgsqlDataSource dataSource, string schema, ILogger logger)
{
    internal sealed record Script(int Number, string Name, string Sql);

    /// <summary>The embedded migrations in the order they apply.</summary>
    internal static IReadOnlyList<Script> Scripts { get; } = LoadScripts();

    /// <summary>One current definition per function, by name.</summary>
    internal sealed record Function(string Name, string Sql, string Sha256)
    {
        /// <summary>Whether this version of the file is the one <paramref name="recorded"/> says was applied.</summary>
        public bool IsRecordedIn(IReadOnlyDictionary<string, string> recorded) => recorded.TryGetValue(Name, out var hash) && hash == Sha256;
    }

    /// <summary>The embedded function files, by name.</summary>
    internal static IReadOnlyList<Function> Functions { get; } = LoadFunctions();

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
            logger.LogApplyingMigration(script.Name, schema);
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
        count += await ApplyFunctionsAsync(connection, tx, quoted, cancellationToken).ConfigureAwait(false);
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        if (count == 0) logger.LogSchemaUpToDate(schema);
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
        if (missing.Count > 0) return $"schema '{schema}' lacks the migrations {string.Join(", ", missing)}";
        // The functions are current only when each file's hash is the one recorded when it was applied.
        Dictionary<string, string> recorded;
        try
        {
            recorded = await ReadRecordedFunctionsAsync(connection, null, SqlText.QuoteIdentifier(schema), cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            // Every numbered migration is recorded but the function hashes are not: only this version's migrator
            // applies migration 6 and it records the hashes too, so the store was changed by hand. Migrating repairs it.
            return $"schema '{schema}' has no record of its functions (schema_functions)";
        }
        var stale = Functions.Where(f => !f.IsRecordedIn(recorded)).Select(f => f.Name).ToList();
        return stale.Count == 0 ? null : $"schema '{schema}' holds older versions of the functions {string.Join(", ", stale)}";
    }

    // After the migrations (the functions may use what they create), in the same transaction: a function whose file
    // changed is replaced together with the migrations that need it, or not at all.
    private async Task<int> ApplyFunctionsAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string quoted, CancellationToken cancellationToken)
    {
        await using (var cmd = new NpgsqlCommand(
            $"CREATE TABLE IF NOT EXISTS {quoted}.schema_functions (name text PRIMARY KEY, sha256 text NOT NULL, applied timestamptz NOT NULL DEFAULT now())",
            connection, tx))
        {
            await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        var recorded = await ReadRecordedFunctionsAsync(connection, tx, quoted, cancellationToken).ConfigureAwait(false);
        var count = 0;
        foreach (var function in Functions)
        {
            if (function.IsRecordedIn(recorded)) continue;
            logger.LogApplyingFunction(function.Name, schema);
            await using (var cmd = new NpgsqlCommand(SqlText.ForSchema(function.Sql, schema), connection, tx))
            {
                await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            await using (var cmd = new NpgsqlCommand(
                $"INSERT INTO {quoted}.schema_functions (name, sha256) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET sha256 = excluded.sha256, applied = now()",
                connection, tx))
            {
                cmd.Parameters.AddWithValue(function.Name);
                cmd.Parameters.AddWithValue(function.Sha256);
                await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            count++;
        }
        return count;
    }

    /// <summary>The hash of each function file as it was when applied, by function name.</summary>
    private static async Task<Dictionary<string, string>> ReadRecordedFunctionsAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, string quoted, CancellationToken cancellationToken)
    {
        var recorded = new Dictionary<string, string>(StringComparer.Ordinal);
        await using var cmd = new NpgsqlCommand($"SELECT name, sha256 FROM {quoted}.schema_functions", connection, tx);
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) recorded[reader.GetString(0)] = reader.GetString(1);
        return recorded;
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

    private static List<Function> LoadFunctions()
    {
        var assembly = typeof(SchemaMigrator).Assembly;
        const string prefix = "EventStore.Providers.Postgres.Functions.";
        var functions = new List<Function>();
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            if (!resource.StartsWith(prefix, StringComparison.Ordinal) || !resource.EndsWith(".sql", StringComparison.Ordinal)) continue;
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream, Encoding.UTF8);
            var sql = reader.ReadToEnd();
            var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(sql)));
            functions.Add(new Function(resource[prefix.Length..^".sql".Length], sql, hash));
        }
        // Name order: a SQL-language function is checked against what exists when it is created, so none of them may
        // call a function that sorts after it (plpgsql bodies are resolved when they run).
        functions.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return functions;
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
