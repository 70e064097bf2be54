namespace EventStore.Providers.EventStoreDB;

/// <summary>Where <see cref="IEventReader.ReadCategoryAsync"/> reads a category from.</summary>
public enum CategoryReadSource
{
    /// <summary>
    /// <c>$all</c> filtered on the server by the stream prefix <c>{Category}-</c>. Always consistent with appends and
    /// needs no projection; the default.
    /// </summary>
    FilteredAll = 0,

    /// <summary>
    /// The <c>$ce-{Category}</c> stream with resolve-links. Needs the server's <c>$by_category</c> system projection
    /// (run projections with <c>--run-projections=System</c> or <c>All</c> and start that projection). The projection
    /// writes links asynchronously, so an event appended a moment ago may not be listed yet.
    /// </summary>
    CategoryStream = 1,
}

/// <summary>Options of the EventStoreDB provider, bound from <c>EventStore:EventStoreDB</c>.</summary>
public sealed class EventStoreDBOptions
{
    /// <summary>The configuration section the provider binds.</summary>
    public const string SectionPath = "EventStore:EventStoreDB";

    /// <summary>
    /// The connection string, <c>esdb://[user:password@]host:port[,host:port]?tls=false</c> or
    /// <c>kurrentdb://...</c>. See <see cref="EventStoreDBConnectionString"/> for the settings.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// A prefix put before every stream name this store writes and reads (for example <c>tenant1_</c>), so several
    /// logical stores can share one server; <c>$all</c> reads only see streams with the prefix. Empty by default.
    /// It must not contain <c>-</c> (the category separator) or start with <c>$</c>.
    /// </summary>
    public string StreamPrefix { get; set; } = "";

    /// <summary>Where category reads come from; see <see cref="CategoryReadSource"/>.</summary>
    public CategoryReadSource CategoryReads { get; set; } = CategoryReadSource.FilteredAll;

    /// <summary>
    /// Appends smaller than this many bytes go through the pipelined BatchAppend stream (many appends in flight on one
    /// HTTP/2 stream); larger ones use a plain Append call. 0 sends every append through plain Append.
    /// </summary>
    public int BatchAppendMaxBytes { get; set; } = 512 * 1024;

    /// <summary>Throws when an option is invalid; the message names the configuration key.</summary>
    /// <exception cref="EventStoreConfigurationException">An option is invalid.</exception>
    public EventStoreDBConnectionString Validate(string sectionPath = SectionPath)
    {
        var connection = EventStoreDBConnectionString.Parse(ConnectionString, $"{sectionPath}:ConnectionString");
        var prefix = StreamPrefix ?? "";
        if (prefix.Contains('-', StringComparison.Ordinal) || prefix.StartsWith('$') || prefix.Any(char.IsControl) || prefix.Any(char.IsWhiteSpace))
            throw new EventStoreConfigurationException($"{sectionPath}:StreamPrefix", $"is '{prefix}'; it must not contain '-', white space or control characters, nor start with '$'.");
        if (!Enum.IsDefined(CategoryReads))
            throw new EventStoreConfigurationException($"{sectionPath}:CategoryReads", $"is '{CategoryReads}'; it must be FilteredAll or CategoryStream.");
        if (BatchAppendMaxBytes is < 0 or > 16 * 1024 * 1024)
            throw new EventStoreConfigurationException($"{sectionPath}:BatchAppendMaxBytes", $"is {BatchAppendMaxBytes}; it must be from 0 to 16777216.");
        return connection;
    }
}
