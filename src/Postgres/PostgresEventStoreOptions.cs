using System.Text.RegularExpressions;
using Npgsql;

namespace EventStore.Providers.Postgres;

/// <summary>
/// Options of the PostgreSQL provider, bound from <c>EventStore:Postgres</c> when configured from configuration.
/// </summary>
public sealed partial class PostgresEventStoreOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string SectionName = "EventStore:Postgres";

    /// <summary>The schema used when none is configured.</summary>
    public const string DefaultSchema = "eventstore";

    /// <summary>
    /// An Npgsql connection string (host, port, database, credentials, <c>SSL Mode</c>, ...). Not needed when an
    /// <see cref="NpgsqlDataSource"/> is registered in DI or passed directly. Never logged.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>The schema holding the store's tables; lower-case letters, digits and <c>_</c>, at most 48 characters.</summary>
    public string Schema { get; set; } = DefaultSchema;

    /// <summary>Create the schema and apply missing migrations when the store starts (default true).</summary>
    public bool MigrateOnStart { get; set; } = true;

    /// <summary>
    /// How often a live subscription re-reads when no LISTEN/NOTIFY connection is available (the fallback). While the
    /// listener is connected, subscriptions sleep until notified. Default 1 second.
    /// </summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How many events one read query fetches (reads page through larger results). Default 2,048.</summary>
    public int ReadPageSize { get; set; } = 2048;

    /// <summary>
    /// Validates the options; <paramref name="section"/> prefixes the key named in the error.
    /// <paramref name="hasDataSource"/> tells whether a data source replaces <see cref="ConnectionString"/>.
    /// </summary>
    /// <exception cref="EventStoreConfigurationException">An option is missing or invalid; the message names its key.</exception>
    public void Validate(bool hasDataSource, string section = SectionName)
    {
        if (!hasDataSource)
        {
            if (string.IsNullOrWhiteSpace(ConnectionString))
                throw new EventStoreConfigurationException($"{section}:ConnectionString", "is missing; set an Npgsql connection string or register an NpgsqlDataSource.");
            try
            {
                _ = new NpgsqlConnectionStringBuilder(ConnectionString);
            }
            catch (ArgumentException)
            {
                // The parser's message may quote the connection string, password included: do not pass it on.
                throw new EventStoreConfigurationException($"{section}:ConnectionString", "is not a valid Npgsql connection string.");
            }
        }
        if (Schema is null || !SchemaPattern().IsMatch(Schema))
            throw new EventStoreConfigurationException($"{section}:Schema", $"is '{Schema}'; it must start with a lower-case letter or '_' and hold only lower-case letters, digits and '_' (at most 48 characters).");
        if (PollInterval <= TimeSpan.Zero || PollInterval > TimeSpan.FromHours(1))
            throw new EventStoreConfigurationException($"{section}:PollInterval", $"is {PollInterval}; it must be more than zero and at most one hour.");
        if (ReadPageSize is < 1 or > 100_000)
            throw new EventStoreConfigurationException($"{section}:ReadPageSize", $"is {ReadPageSize}; it must be between 1 and 100,000.");
    }

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,47}$", RegexOptions.CultureInvariant)]
    private static partial Regex SchemaPattern();
}
