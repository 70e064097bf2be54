namespace EventStore.Providers.Postgres;

/// <summary>Fills the schema into the SQL of the scripts and queries. The schema name is validated by the options.</summary>
internal static class SqlText
{
    /// <summary>Quotes an identifier that <see cref="PostgresEventStoreOptions.Validate"/> accepted.</summary>
    public static string QuoteIdentifier(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    /// <summary>The LISTEN/NOTIFY channel of a schema's store.</summary>
    public static string Channel(string schema) => schema + "_events";

    /// <summary>Replaces <c>__schema__</c> with the quoted schema and <c>__channel__</c> with its channel name.</summary>
    public static string ForSchema(string sql, string schema) => sql
        .Replace("__schema__", QuoteIdentifier(schema), StringComparison.Ordinal)
        .Replace("__channel__", Channel(schema), StringComparison.Ordinal);
}
