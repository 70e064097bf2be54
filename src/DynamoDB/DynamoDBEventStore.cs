using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Microsoft.Extensions.Logging;
using EventStore.Providers.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace EventStore.Providers.DynamoDB;

/// <summary>
/// The DynamoDB event store: one conditional PutItem per append (no transactions, so it also runs on dynalite),
/// global positions handed out from blocks reserved on an atomic counter, and a gap-safe <c>$all</c> merged from
/// partitioned indexes.
/// The item layout and why it is correct are in README.md beside this file.
/// </summary>
public sealed partial class DynamoDBEventStore : IEventStore, IEventStoreInitializer, IDisposable
{
    private const int StreamCacheLimit = 10_000;

    private readonly IAmazonDynamoDB _client;
    private readonly bool _ownsClient;
    private readonly DynamoDBEventStoreOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly GapTracker _gaps;
    private readonly string _table;
    private readonly DynamoDBTableInitializer _tables;
    private readonly InitializeOnce _initialized;
    private readonly PositionBlocks _blocks;
    // Set when commits and skips are fenced against each other (FenceCommits).
    private readonly CommitFence? _fence;

    // Heads this instance wrote itself: an exact-version append that matches one skips the head read, because the
    // conditional write on the next slot fails if anyone else wrote after it.
    private readonly ConcurrentDictionary<string, StreamHead> _heads = new(StringComparer.Ordinal);

    /// <summary>Creates the store with its own SDK client built from <paramref name="options"/>.</summary>
    public DynamoDBEventStore(DynamoDBEventStoreOptions options, ILogger<DynamoDBEventStore>? logger = null, TimeProvider? timeProvider = null)
        : this(CreateClient(options), ownsClient: true, options, logger, timeProvider)
    {
    }

    /// <summary>Creates the store over an existing SDK client (which the caller disposes).</summary>
    public DynamoDBEventStore(IAmazonDynamoDB client, DynamoDBEventStoreOptions options, ILogger<DynamoDBEventStore>? logger = null, TimeProvider? timeProvider = null)
        : this(client, ownsClient: false, options, logger, timeProvider)
    {
    }

    private DynamoDBEventStore(IAmazonDynamoDB client, bool ownsClient, DynamoDBEventStoreOptions options, ILogger? logger, TimeProvider? timeProvider)
    {
        ArgumentNullException.ThrowIfNull(client);
        _client = client;
        _ownsClient = ownsClient;
        _options = options;
        _logger = logger ?? NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
        _gaps = new GapTracker(_time, options.GapTimeout);
        _table = options.TableName;
        _tables = new DynamoDBTableInitializer(client, options, _logger);
        _initialized = new InitializeOnce(_tables.InitializeAsync);
        _appended = new AppendNotifier(_time, options.PollInterval);
        _blocks = new PositionBlocks(ReserveBlockAsync, ReleaseAsync, _time, options.PositionBlockSize, options.EffectivePositionBlockLifetime);
        _fence = options.FenceCommits ? new CommitFence(client, _table, options.AllPartitions, _logger) : null;
    }

    /// <summary>
    /// Creates the missing tables when <see cref="DynamoDBEventStoreOptions.CreateTables"/> is set, else verifies that
    /// they exist, failing with <see cref="EventStoreConfigurationException"/> naming the table and the switch. Runs
    /// once, at host start or before the first operation; a failure is retried by the next operation.
    /// </summary>
    public Task InitializeAsync(CancellationToken cancellationToken = default) => _initialized.RunAsync(cancellationToken);

    // Every request of the store goes through here, so the first one creates or verifies the tables.
    private async Task<T> CallAsync<T>(Func<Task<T>> call, string operation, CancellationToken cancellationToken)
    {
        await _initialized.RunAsync(cancellationToken).ConfigureAwait(false);
        return await DynamoDBErrors.Run(call, operation, cancellationToken).ConfigureAwait(false);
    }

    internal IAmazonDynamoDB Client => _client;

    internal DynamoDBEventStoreOptions Options => _options;

    private static IAmazonDynamoDB CreateClient(DynamoDBEventStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return DynamoDBClientFactory.Create(options);
    }

    /// <summary>What this provider can do: everything, with the item-size bound limits of DynamoDB.</summary>
    public EventStoreCapabilities Capabilities { get; } = new()
    {
        ProviderName = "DynamoDB",
        GlobalOrder = GlobalOrdering.Total,
        SoftDelete = true,
        Tombstone = true,
        TransactionalCheckpoints = false,
        SubscriptionGroups = true,
        MaxStreamNameLength = Schema.MaxStreamNameLength,
        MaxEventSize = Schema.MaxEventSize,
        MaxEventsPerAppend = 10_000,
    };

    /// <inheritdoc />
    public async Task<StreamInfo> GetStreamInfoAsync(StreamName stream, CancellationToken cancellationToken = default)
    {
        EventGuard.ValidateStream(stream, Capabilities);
        var head = await ReadHeadAsync(Schema.StreamPk(stream), withEvents: false, cancellationToken).ConfigureAwait(false);
        if (head.Tombstoned || head.SoftDeleted) return new StreamInfo(stream, false, -1, IsDeleted: true);
        return head.LastVersion < 0 ? StreamInfo.NotFound(stream) : new StreamInfo(stream, true, head.LastVersion);
    }

    /// <summary>Reads the newest item of a stream partition with a strongly consistent query.</summary>
    private async Task<StreamHead> ReadHeadAsync(string pk, bool withEvents, CancellationToken cancellationToken)
    {
        var request = new QueryRequest
        {
            TableName = _table,
            KeyConditionExpression = "pk = :pk",
            ExpressionAttributeValues = new() { [":pk"] = Schema.S(pk) },
            ScanIndexForward = false,
            Limit = 1,
            ConsistentRead = true,
        };
        if (!withEvents)
        {
            request.ProjectionExpression = "pk, sk, #n, #k, tb, ap, lp";
            request.ExpressionAttributeNames = new() { ["#n"] = Schema.Count, ["#k"] = Schema.Kind };
        }
        var response = await CallAsync(() => _client.QueryAsync(request, cancellationToken), "Query (stream head)", cancellationToken).ConfigureAwait(false);
        return StreamHead.FromItem(response.Items is { Count: > 0 } items ? items[0] : null);
    }

    /// <summary>Pages through a query transparently (each page is at most 1 MB).</summary>
    private async IAsyncEnumerable<Dictionary<string, AttributeValue>> QueryAllAsync(
        QueryRequest request, string operation, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        while (true)
        {
            var response = await CallAsync(() => _client.QueryAsync(request, cancellationToken), operation, cancellationToken).ConfigureAwait(false);
            if (response.Items is { } items)
            {
                for (var i = 0; i < items.Count; i++)
                {
                    // Dropped from the page once handed out, so a long read holds only what is left of one page.
                    var item = items[i];
                    items[i] = null!;
                    yield return item;
                }
            }
            if (response.LastEvaluatedKey is null || response.LastEvaluatedKey.Count == 0) yield break;
            request.ExclusiveStartKey = response.LastEvaluatedKey;
        }
    }

    /// <summary>
    /// Pages through a query of a global secondary index, handing out only entries whose table item exists as the
    /// index shows it. A commit counts only once its item is stored: dynalite writes index entries before the item, so a
    /// server killed in between keeps index entries of a commit that never happened, and the writer's retry then stores
    /// the batch in the same slot under new positions (two index entries, one batch). On DynamoDB an entry never
    /// precedes its item, so the check (one BatchGetItem of keys and first position per page) runs only when
    /// <see cref="DynamoDBEventStoreOptions.VerifiesIndexEntries"/>.
    /// </summary>
    private async IAsyncEnumerable<Dictionary<string, AttributeValue>> QueryIndexAsync(
        QueryRequest request, string operation, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (!_options.VerifiesIndexEntries)
        {
            await foreach (var item in QueryAllAsync(request, operation, cancellationToken).ConfigureAwait(false))
                yield return item;
            yield break;
        }
        while (true)
        {
            var response = await CallAsync(() => _client.QueryAsync(request, cancellationToken), operation, cancellationToken).ConfigureAwait(false);
            if (response.Items is { Count: > 0 } items)
            {
                var stored = await StoredCommitsAsync(items, cancellationToken).ConfigureAwait(false);
                for (var i = 0; i < items.Count; i++)
                {
                    var item = items[i];
                    items[i] = null!;
                    var pk = Schema.GetString(item, Schema.Pk);
                    if (pk is not null && pk.StartsWith(Schema.StreamPrefix, StringComparison.Ordinal)
                        && !stored.Contains((pk, Schema.GetLong(item, Schema.Sk), Schema.GetLong(item, Schema.FirstPosition))))
                        continue; // an index entry without its commit: not (or not yet) part of the log
                    yield return item;
                }
            }
            if (response.LastEvaluatedKey is null || response.LastEvaluatedKey.Count == 0) yield break;
            request.ExclusiveStartKey = response.LastEvaluatedKey;
        }
    }

    /// <summary>The commits of an index page that exist in the table, as (pk, slot, first position).</summary>
    private async Task<HashSet<(string Pk, long Slot, long First)>> StoredCommitsAsync(List<Dictionary<string, AttributeValue>> page, CancellationToken cancellationToken)
    {
        var found = new HashSet<(string, long, long)>();
        var keys = new List<Dictionary<string, AttributeValue>>();
        var seen = new HashSet<(string, long)>();
        foreach (var item in page)
        {
            var pk = Schema.GetString(item, Schema.Pk);
            if (pk is null || !pk.StartsWith(Schema.StreamPrefix, StringComparison.Ordinal)) continue;
            var sk = Schema.GetLong(item, Schema.Sk);
            if (seen.Add((pk, sk))) keys.Add(Schema.Key(pk, sk));
        }
        foreach (var group in keys.Chunk(100))
        {
            var pending = new Dictionary<string, KeysAndAttributes>
            {
                [_table] = new() { Keys = [.. group], ConsistentRead = true, ProjectionExpression = "pk, sk, gp" },
            };
            for (var round = 0; pending.Count > 0; round++)
            {
                var request = new BatchGetItemRequest { RequestItems = pending };
                var response = await CallAsync(() => _client.BatchGetItemAsync(request, cancellationToken), "BatchGetItem (index check)", cancellationToken).ConfigureAwait(false);
                if (response.Responses is { } responses && responses.TryGetValue(_table, out var items))
                    foreach (var item in items)
                        found.Add((Schema.GetString(item, Schema.Pk)!, Schema.GetLong(item, Schema.Sk), Schema.GetLong(item, Schema.FirstPosition)));
                pending = response.UnprocessedKeys is { Count: > 0 } left ? left : [];
                if (pending.Count > 0)
                    await BackOffUnprocessedAsync(round, "DynamoDB kept throttling a read of the global log; retry.", cancellationToken).ConfigureAwait(false);
            }
        }
        return found;
    }

    /// <summary>
    /// Waits before re-sending the items a batch call left unprocessed (throttling): 50 ms doubling to 1.6 s; after
    /// eleven rounds gives up with <see cref="TransientEventStoreException"/> carrying <paramref name="failure"/>.
    /// </summary>
    private Task BackOffUnprocessedAsync(int round, string failure, CancellationToken cancellationToken) =>
        round > 10
            ? throw new TransientEventStoreException(failure)
            : Task.Delay(TimeSpan.FromMilliseconds(50 << Math.Min(round, 5)), _time, cancellationToken);

    /// <summary>The events of a commit item: inline, or in the chunk items the commit points to.</summary>
    private async ValueTask<List<StoredEvent>> LoadEventsAsync(Dictionary<string, AttributeValue> item, CancellationToken cancellationToken)
    {
        var chunks = Schema.GetLong(item, Schema.Chunks);
        if (chunks == 0) return EventCodec.Decode(Schema.GetBytes(item, Schema.Events));
        var cid = Schema.GetString(item, Schema.CommitId)!;
        var request = new QueryRequest
        {
            TableName = _table,
            KeyConditionExpression = "pk = :pk",
            ExpressionAttributeValues = new() { [":pk"] = Schema.S(Schema.ChunkPrefix + cid) },
            ConsistentRead = true,
        };
        var events = new List<StoredEvent>();
        await foreach (var chunk in QueryAllAsync(request, "Query (commit chunks)", cancellationToken).ConfigureAwait(false))
            events.AddRange(EventCodec.Decode(Schema.GetBytes(chunk, Schema.Events)));
        return events;
    }

    private static RecordedEvent ToRecorded(StreamName stream, Dictionary<string, AttributeValue> item, long slot, long firstPosition, DateTimeOffset created, StoredEvent e, int index) =>
        new(stream, slot + index, Position.FromInt64(firstPosition + index), e.EventId, e.EventType, e.Data, e.Metadata, e.ContentType, e.SchemaVersion, created);

    private static DateTimeOffset CreatedOf(Dictionary<string, AttributeValue> item) =>
        DateTimeOffset.FromUnixTimeMilliseconds(Schema.GetLong(item, Schema.Created));

    private void RememberHead(string pk, StreamHead head)
    {
        if (_heads.Count >= StreamCacheLimit) _heads.Clear();
        _heads[pk] = head;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        // Unused reserved positions would hold back other instances' readers until the gap timeout.
        _blocks.Dispose();
        if (_ownsClient) _client.Dispose();
    }
}
