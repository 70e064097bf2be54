using EventStore.Providers.Hosting;
using EventStore.Providers.Subscriptions.CatchUp;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace EventStore.Providers.Postgres;

/// <summary>
/// The PostgreSQL event store: streams and the global log in tables of one schema, appends through one server-side
/// function call (one round trip), gap-safe <c>$all</c> reads, subscriptions woken by LISTEN/NOTIFY.
/// </summary>
/// <remarks>
/// Thread-safe; create one per application (or per schema) and share it. The layout and the reasons behind it are
/// in the provider's README.md. Split by concern: <c>PostgresEventStore.Append.cs</c>, <c>.Read.cs</c>,
/// <c>.Subscribe.cs</c>.
/// </remarks>
public sealed partial class PostgresEventStore : IEventStore, IEventStoreInitializer, IAsyncDisposable
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly bool _ownsDataSource;
    private readonly PostgresEventStoreOptions _options;
    private readonly ILogger _logger;
    private readonly Queries _sql;
    private readonly NotificationListener _listener;
    private readonly LogHorizon _horizon;
    private readonly CatchUpSubscriptionReader _subscriptions;
    private readonly AppendBatcher? _batcher;
    private readonly InitializeOnce _initialized;
    private int _disposed;

    /// <summary>Creates a store over a data source the caller owns (for example one registered in DI).</summary>
    /// <param name="dataSource">Where to connect; its connection string, SSL mode and credentials are used as they are.</param>
    /// <param name="options">Schema and behaviour; <see cref="PostgresEventStoreOptions.ConnectionString"/> is ignored.</param>
    /// <param name="logger">Where to log; nothing is logged when null.</param>
    /// <exception cref="EventStoreConfigurationException">An option is invalid.</exception>
    public PostgresEventStore(NpgsqlDataSource dataSource, PostgresEventStoreOptions options, ILogger<PostgresEventStore>? logger = null)
        : this(dataSource, options, logger, ownsDataSource: false)
    {
    }

    private PostgresEventStore(NpgsqlDataSource dataSource, PostgresEventStoreOptions options, ILogger? logger, bool ownsDataSource)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(hasDataSource: true);
        _dataSource = dataSource;
        _ownsDataSource = ownsDataSource;
        _options = options;
        _logger = logger ?? NullLogger.Instance;
        _sql = new Queries(options.Schema);
        _horizon = new LogHorizon(OpenAsync, _sql, options.PendingAppendWait, _logger);
        _listener = new NotificationListener(dataSource, SqlText.Channel(options.Schema),
            async ct => (await _horizon.ReadAsync(ct).ConfigureAwait(false)).Visible, options.PollInterval, options.NotifyOnAppend, _logger);
        _subscriptions = new CatchUpSubscriptionReader(this, new CatchUpOptions
        {
            PageSize = options.ReadPageSize,
            // Only the bound on a lost notification: the listener wakes subscriptions, or polls while it is down.
            PollInterval = TimeSpan.FromSeconds(30),
            Notifier = _listener,
        });
        _batcher = options.CombineConcurrentAppends ? new AppendBatcher(this, options.AppendConcurrency) : null;
        _initialized = new InitializeOnce(CreateOrVerifyAsync);
        Capabilities = new EventStoreCapabilities
        {
            ProviderName = "Postgres",
            GlobalOrder = GlobalOrdering.Total,
            SoftDelete = true,
            Tombstone = true,
            TransactionalCheckpoints = true,
            SubscriptionGroups = true,
            // Stream names and event types sit in b-tree indexes, whose entries must stay under ~2.7 kB:
            // 500 UTF-16 characters are at most 1.5 kB of UTF-8.
            MaxStreamNameLength = MaxNameLength,
        };
    }

    internal const int MaxNameLength = 500;

    /// <summary>
    /// Creates a store that owns a data source built from <see cref="PostgresEventStoreOptions.ConnectionString"/>.
    /// Unless the connection string says otherwise, pooled connections are not reset on close (<c>No Reset On
    /// Close</c>): the store leaves no session state behind, and a reset would drop the cached plans of its functions.
    /// </summary>
    /// <exception cref="EventStoreConfigurationException">An option is missing or invalid.</exception>
    public static PostgresEventStore Create(PostgresEventStoreOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(hasDataSource: false);
        var dataSource = BuildDataSource(options.ConnectionString!, loggerFactory, options.ClientLogLevel);
        return new PostgresEventStore(dataSource, options, loggerFactory?.CreateLogger<PostgresEventStore>(), ownsDataSource: true);
    }

    internal static NpgsqlDataSource BuildDataSource(string connectionString, ILoggerFactory? loggerFactory, LogLevel clientLogLevel = LogLevel.Warning)
    {
        // Whatever the connection string says, the password stays out of the connection's visible settings, so it
        // cannot reach a log line or an error message through them.
        var csb = new NpgsqlConnectionStringBuilder(connectionString) { PersistSecurityInfo = false };
        if (!connectionString.Contains("Reset On Close", StringComparison.OrdinalIgnoreCase)
            && !connectionString.Contains("NoResetOnClose", StringComparison.OrdinalIgnoreCase))
            csb.NoResetOnClose = true;
        var builder = new NpgsqlDataSourceBuilder(csb.ConnectionString);
        if (loggerFactory is not null) builder.UseLoggerFactory(new ClientLogFilter(loggerFactory, clientLogLevel));
        return builder.Build();
    }

    /// <inheritdoc />
    public EventStoreCapabilities Capabilities { get; }

    /// <summary>The schema this store uses.</summary>
    public string Schema => _options.Schema;

    /// <summary>The data source this store connects through (for projections writing to the same database).</summary>
    public NpgsqlDataSource DataSource => _dataSource;

    internal Queries Sql => _sql;

    internal TimeSpan PendingAppendWait => _options.PendingAppendWait;

    /// <summary>
    /// With <see cref="PostgresEventStoreOptions.MigrateOnStart"/> (the default), creates the schema and applies missing
    /// migrations; without it, verifies that the schema is there and up to date. Idempotent; safe to run from several
    /// instances at once. The first operation runs it when nothing did before.
    /// </summary>
    /// <exception cref="EventStoreConfigurationException">Migration is off and the schema is missing or out of date; the message names it and <c>EventStore:Postgres:MigrateOnStart</c>.</exception>
    public Task InitializeAsync(CancellationToken cancellationToken = default) => _initialized.RunAsync(cancellationToken);

    private async Task CreateOrVerifyAsync(CancellationToken cancellationToken)
    {
        var migrator = new SchemaMigrator(_dataSource, _options.Schema, _logger);
        string? missing;
        try
        {
            if (_options.MigrateOnStart)
            {
                await migrator.MigrateAsync(cancellationToken).ConfigureAwait(false);
                return;
            }
            missing = await migrator.FindMissingAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (PostgresErrors.ShouldMap(e))
        {
            throw PostgresErrors.Map(e, "schema migration", cancellationToken);
        }
        if (missing is not null)
            throw new EventStoreConfigurationException($"{PostgresEventStoreOptions.SectionName}:{nameof(PostgresEventStoreOptions.MigrateOnStart)}",
                $"is false and {missing}; set {PostgresEventStoreOptions.SectionName}:{nameof(PostgresEventStoreOptions.MigrateOnStart)}=true to create it, or apply the migrations another way.");
    }

    /// <summary>Creates or verifies the schema once before first use (see <see cref="InitializeAsync"/>).</summary>
    internal Task EnsureInitializedAsync(CancellationToken cancellationToken) => _initialized.RunAsync(cancellationToken);

    internal async ValueTask<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        await EnsureInitializedAsync(cancellationToken).ConfigureAwait(false);
        return await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await _listener.DisposeAsync().ConfigureAwait(false);
        if (_ownsDataSource) await _dataSource.DisposeAsync().ConfigureAwait(false);
    }

    internal static long ToRaw(Position position)
    {
        if (position.IsStart) return 0;
        if (position.Parts.Length != 1 || position.Parts[0] < 0)
            throw new InvalidPositionException(position.ToString(), "a PostgreSQL position is one number of 0 or more");
        return position.Parts[0];
    }

    internal static Position FromRaw(long position) => position <= 0 ? Position.Start : Position.FromInt64(position);
}
