using EventStore.Providers.Bench.Core;
using EventStore.Providers.TestServers;
using Npgsql;

namespace EventStore.Providers.Bench.Targets;

/// <summary>
/// PostgreSQL with durable defaults: our provider, Marten's event store and raw Npgsql on the same server, each in a
/// database of its own made for this run and dropped after it.
/// </summary>
internal sealed class PostgresTarget : IBenchTarget
{
    public string Key => "postgres";
    public string Subject => "PostgreSQL";

    public async Task<TargetSession> StartAsync(BenchOptions options, CancellationToken ct)
    {
        var server = await BenchServers.AcquireAsync(Backend.Postgres, ct).ConfigureAwait(false);
        var session = new Session(server.Address, server);
        try
        {
            await session.DescribeServerAsync(ct).ConfigureAwait(false);
        }
        catch (NpgsqlException e)
        {
            await session.DisposeAsync().ConfigureAwait(false);
            throw new TargetUnavailableException($"cannot reach PostgreSQL: {Measurement.FirstLine(e.Message)}", e);
        }
        session.Peers.Add(new MartenPeer(session));
        session.Peers.Add(new NpgsqlRawPeer(session));
        return session;
    }

    internal sealed class Session(string connectionString, TestServer server) : TargetSession
    {
        private readonly string _run = Guid.NewGuid().ToString("N")[..8];
        private readonly List<string> _databases = [];

        public async Task DescribeServerAsync(CancellationToken ct)
        {
            await using var conn = new NpgsqlConnection(connectionString);
            await conn.OpenAsync(ct).ConfigureAwait(false);
            var settings = new List<string> { $"PostgreSQL {conn.PostgreSqlVersion}" };
            foreach (var name in new[] { "fsync", "synchronous_commit", "full_page_writes", "shared_buffers" })
            {
                await using var cmd = new NpgsqlCommand($"SHOW {name}", conn);
                settings.Add($"{name}={await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false)}");
            }
            if (settings.Contains("fsync=off"))
                settings.Add("NOT the durable defaults: appends look faster than they would be in production");
            ServerInfo["postgres"] = string.Join(", ", settings);
        }

        /// <summary>A fresh database on the server; dropped when the session ends.</summary>
        public async Task<string> CreateDatabaseAsync(string label, CancellationToken ct)
        {
            var name = $"bench_{_run}_{label.Replace('-', '_')}".ToLowerInvariant();
            await using (var conn = new NpgsqlConnection(connectionString))
            {
                await conn.OpenAsync(ct).ConfigureAwait(false);
                await using var cmd = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", conn);
                await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }
            _databases.Add(name);
            return new NpgsqlConnectionStringBuilder(connectionString) { Database = name }.ConnectionString;
        }

        public override async Task<StoreHandle> CreateStoreAsync(string label, CancellationToken ct)
        {
            var cs = await CreateDatabaseAsync(label, ct).ConfigureAwait(false);
            var settings = new Dictionary<string, string?> { ["ConnectionString"] = cs };
            // Tuning experiments: BENCH_POSTGRES_OPTIONS="AppendConcurrency=1;NotifyOnAppend=false".
            foreach (var setting in (Environment.GetEnvironmentVariable("BENCH_POSTGRES_OPTIONS") ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var parts = setting.Split('=', 2, StringSplitOptions.TrimEntries);
                if (parts.Length != 2 || parts[0].Length == 0 || parts[0].Equals("ConnectionString", StringComparison.OrdinalIgnoreCase))
                    throw new ArgumentException($"BENCH_POSTGRES_OPTIONS: '{setting}' is not Key=Value for an EventStore:Postgres option other than ConnectionString.");
                settings[parts[0]] = parts[1];
            }
            return await StoreHandle.FromConfigurationAsync("Postgres", settings, ct).ConfigureAwait(false);
        }

        public override async ValueTask DisposeAsync()
        {
            NpgsqlConnection.ClearAllPools();
            if (_databases.Count > 0)
            {
                try
                {
                    await using var conn = new NpgsqlConnection(connectionString);
                    await conn.OpenAsync().ConfigureAwait(false);
                    foreach (var db in _databases)
                    {
                        await using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)", conn);
                        await cmd.ExecuteNonQueryAsync().ConfigureAwait(false);
                    }
                }
                catch (NpgsqlException)
                {
                    // The server may already be gone; the databases go with its data directory.
                }
            }
            await server.DisposeAsync().ConfigureAwait(false);
        }
    }
}
