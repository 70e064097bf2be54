using System.Data.Common;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
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
    /// How long a read to the end of <c>$all</c> (or a head query) waits for appends that are still committing and
    /// hold positions below events that already committed. Waiting lets the read include those later events
    /// without ever letting a lower position appear behind a reader. Appends are single statements, so the wait is
    /// normally milliseconds; when it runs out the read returns the part of the log that is final and logs a
    /// warning. Default 10 seconds.
    /// </summary>
    public TimeSpan PendingAppendWait { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Send a NOTIFY after each append so subscriptions in other processes wake at once (default true). The
    /// notification goes out after the append commits, on a separate connection, and bursts of appends share one.
    /// Subscriptions in the same process are woken directly either way; without it others wake at <see cref="PollInterval"/>.
    /// </summary>
    public bool NotifyOnAppend { get; set; } = true;

    /// <summary>
    /// Send appends that callers make while others are on their way together (default true): one round trip and one
    /// commit for the group, each append still checked and answered on its own. An append that finds a free call
    /// slot (see <see cref="AppendConcurrency"/>) is sent at once and alone, so a single writer sees no difference.
    /// </summary>
    public bool CombineConcurrentAppends { get; set; } = true;

    /// <summary>
    /// The lowest level of Npgsql's own log lines passed to the application's logging (default Warning). Npgsql logs
    /// every command it runs at Information; set <c>Information</c> or <c>Debug</c> to see them. Applies when the
    /// store builds its own data source from <see cref="ConnectionString"/>; a data source you register keeps its own
    /// logging.
    /// </summary>
    public Microsoft.Extensions.Logging.LogLevel ClientLogLevel { get; set; } = Microsoft.Extensions.Logging.LogLevel.Warning;

    /// <summary>
    /// With <see cref="CombineConcurrentAppends"/>, how many append calls may be on their way to PostgreSQL at once;
    /// appends arriving while all are busy go together in the next free one. Default 2.
    /// </summary>
    public int AppendConcurrency { get; set; } = 2;

    /// <summary>
    /// Validates the options; <paramref name="section"/> prefixes the key named in the error.
    /// <paramref name="hasDataSource"/> tells whether a data source replaces <see cref="ConnectionString"/>.
    /// </summary>
    /// <exception cref="EventStoreConfigurationException">An option is missing or invalid; the message names its key.</exception>
    public void Validate(bool hasDataSource, string section = SectionName) =>
        new PostgresEventStoreOptionsValidator(section, hasDataSource).ThrowIfInvalid(this);

    internal static bool IsValidSchema(string? schema) => schema is not null && SchemaPattern().IsMatch(schema);

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,47}$", RegexOptions.CultureInvariant)]
    private static partial Regex SchemaPattern();
}

/// <summary>
/// Validates <see cref="PostgresEventStoreOptions"/>, the connection string included: it must parse, name a host, a
/// port from 1 to 65535 and a usable pool (<c>Maximum Pool Size</c> of 1 or more, not below <c>Minimum Pool Size</c>).
/// Messages name the key and the connection string keyword at fault, never the connection string itself.
/// </summary>
/// <param name="sectionPath">The configuration path of the options.</param>
/// <param name="hasDataSource">Whether an <see cref="NpgsqlDataSource"/> replaces a missing connection string.</param>
public sealed class PostgresEventStoreOptionsValidator(string sectionPath = PostgresEventStoreOptions.SectionName, bool hasDataSource = false)
    : EventStoreOptionsValidator<PostgresEventStoreOptions>(sectionPath, Options.DefaultName)
{
    /// <inheritdoc />
    protected override IEnumerable<ConfigurationProblem> Check(PostgresEventStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            if (!hasDataSource)
                yield return new(nameof(options.ConnectionString), "is missing; set an Npgsql connection string or register an NpgsqlDataSource.");
        }
        else if (CheckConnectionString(options.ConnectionString) is { } problem)
        {
            yield return new(nameof(options.ConnectionString), problem);
        }
        if (!PostgresEventStoreOptions.IsValidSchema(options.Schema))
            yield return new(nameof(options.Schema), $"is '{options.Schema}'; it must start with a lower-case letter or '_' and hold only lower-case letters, digits and '_' (at most 48 characters).");
        if (options.PollInterval <= TimeSpan.Zero || options.PollInterval > TimeSpan.FromHours(1))
            yield return new(nameof(options.PollInterval), $"is {options.PollInterval}; it must be more than zero and at most one hour.");
        if (options.PendingAppendWait <= TimeSpan.Zero || options.PendingAppendWait > TimeSpan.FromMinutes(10))
            yield return new(nameof(options.PendingAppendWait), $"is {options.PendingAppendWait}; it must be more than zero and at most 10 minutes.");
        if (options.AppendConcurrency is < 1 or > 1024)
            yield return new(nameof(options.AppendConcurrency), $"is {options.AppendConcurrency}; it must be between 1 and 1,024.");
        if (options.ReadPageSize is < 1 or > 100_000)
            yield return new(nameof(options.ReadPageSize), $"is {options.ReadPageSize}; it must be between 1 and 100,000.");
    }

    // Parser messages may quote the connection string, password included: only keywords are named.
    private static string? CheckConnectionString(string connectionString)
    {
        var pairs = new DbConnectionStringBuilder();
        try
        {
            pairs.ConnectionString = connectionString;
        }
        catch (ArgumentException)
        {
            return "is not a valid connection string (expected 'Keyword=value' pairs separated by ';').";
        }
        var csb = new NpgsqlConnectionStringBuilder();
        foreach (string keyword in pairs.Keys)
        {
            try
            {
                csb[keyword] = pairs[keyword];
            }
            catch (Exception e) when (e is ArgumentException or FormatException or OverflowException or InvalidCastException)
            {
                return csb.ContainsKey(keyword)
                    ? $"has an invalid value for '{keyword}'."
                    : $"has '{keyword}', which is not an Npgsql connection string keyword.";
            }
        }
        if (string.IsNullOrWhiteSpace(csb.Host))
            return "names no Host; add 'Host=...' (a server name, address or Unix socket directory).";
        if (csb.Port is < 1 or > 65535)
            return $"has Port={csb.Port}; it must be from 1 to 65535.";
        if (csb.Pooling && csb.MaxPoolSize < 1)
            return $"has Maximum Pool Size={csb.MaxPoolSize}; it must be 1 or more.";
        if (csb.Pooling && csb.MinPoolSize > csb.MaxPoolSize)
            return $"has Minimum Pool Size={csb.MinPoolSize} above Maximum Pool Size={csb.MaxPoolSize}.";
        return null;
    }
}
