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
public sealed class EventStoreDBEventStoreOptions
{
    /// <summary>The configuration section the provider binds.</summary>
    public const string SectionName = "EventStore:EventStoreDB";

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

    /// <summary>Throws when an option is invalid; the message names the configuration key. Returns the parsed connection string.</summary>
    /// <exception cref="EventStoreConfigurationException">An option is invalid.</exception>
    public EventStoreDBConnectionString Validate(string sectionPath = SectionName)
    {
        new EventStoreDBEventStoreOptionsValidator(sectionPath).ThrowIfInvalid(this);
        return EventStoreDBConnectionString.Parse(ConnectionString, $"{sectionPath}:{nameof(ConnectionString)}");
    }
}

/// <summary>
/// Validates <see cref="EventStoreDBEventStoreOptions"/>, the connection string included (scheme, hosts, ports,
/// settings); every failure names its full configuration key and never shows the password.
/// </summary>
/// <param name="sectionPath">The configuration path of the options.</param>
public sealed class EventStoreDBEventStoreOptionsValidator(string sectionPath = EventStoreDBEventStoreOptions.SectionName)
    : EventStoreOptionsValidator<EventStoreDBEventStoreOptions>(sectionPath, Microsoft.Extensions.Options.Options.DefaultName)
{
    /// <inheritdoc />
    protected override IEnumerable<ConfigurationProblem> Check(EventStoreDBEventStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new List<ConfigurationProblem>();
        const string connectionKey = nameof(options.ConnectionString);
        try
        {
            EventStoreDBConnectionString.Parse(options.ConnectionString, connectionKey);
        }
        catch (EventStoreConfigurationException e)
        {
            problems.Add(new(connectionKey, e.Problem));
        }
        var prefix = options.StreamPrefix ?? "";
        if (prefix.Contains('-', StringComparison.Ordinal) || prefix.StartsWith('$') || prefix.Any(char.IsControl) || prefix.Any(char.IsWhiteSpace))
            problems.Add(new(nameof(options.StreamPrefix), $"is '{prefix}'; it must not contain '-', white space or control characters, nor start with '$'."));
        if (!Enum.IsDefined(options.CategoryReads))
            problems.Add(new(nameof(options.CategoryReads), $"is '{options.CategoryReads}'; it must be FilteredAll or CategoryStream."));
        if (options.BatchAppendMaxBytes is < 0 or > 16 * 1024 * 1024)
            problems.Add(new(nameof(options.BatchAppendMaxBytes), $"is {options.BatchAppendMaxBytes}; it must be from 0 to 16777216."));
        return problems;
    }
}
