using EventStore.Providers.EventStoreDB.Protocol;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EventStore.Providers.EventStoreDB;

/// <summary>
/// The EventStoreDB / KurrentDB provider: our event-store contract over the server's v1 gRPC Streams service,
/// written from the protocol (no official client). See the README beside this file for the mapping.
/// </summary>
public sealed partial class EventStoreDBEventStore : IEventStore, IAsyncDisposable, IDisposable
{
    private const int ReadFilterWindow = 4096;
    private readonly EventStoreDBEventStoreOptions _options;
    private readonly EsdbConnection _connection;
    private readonly BatchAppender _batch;
    private readonly RecentAppends _recent = new();
    private readonly CommitWatermark _watermark;
    private readonly ILogger _logger;

    /// <summary>Creates the store; the connection opens on first use.</summary>
    /// <param name="options">Validated options.</param>
    /// <param name="logger">Where connection events are logged (never credentials).</param>
    /// <exception cref="EventStoreConfigurationException">An option is invalid.</exception>
    public EventStoreDBEventStore(EventStoreDBEventStoreOptions options, ILogger<EventStoreDBEventStore>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var settings = options.Validate();
        _options = options;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _connection = new EsdbConnection(settings, _logger);
        _batch = new BatchAppender(_connection, _logger);
        _watermark = new CommitWatermark(GetLogHeadAsync);
        Names = new StreamNames(options.StreamPrefix ?? "");
        Capabilities = new EventStoreCapabilities
        {
            ProviderName = "EventStoreDB",
            GlobalOrder = GlobalOrdering.Total,
            SoftDelete = true,
            Tombstone = true,
            TransactionalCheckpoints = false,
            SubscriptionGroups = true,
            MaxStreamNameLength = StreamName.MaxLength - Names.Prefix.Length,
            // The server's default limit is 1 MiB per append, counting type and our envelope too: leave room for them.
            MaxEventSize = 1_000_000,
            MaxEventsPerAppend = 10_000,
        };
        _logger.LogStoreCreated(settings.ToString());
    }

    /// <inheritdoc />
    public EventStoreCapabilities Capabilities { get; }

    internal StreamNames Names { get; }

    internal EsdbConnection Connection => _connection;


    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _batch.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _connection.Dispose();
    }
}
