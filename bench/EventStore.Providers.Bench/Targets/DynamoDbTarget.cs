using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Amazon.Runtime;
using EventStore.Providers.Bench.Core;
using EventStore.Providers.DynamoDB;
using EventStore.Providers.TestServers;

namespace EventStore.Providers.Bench.Targets;

/// <summary>DynamoDB on dynalite: our provider and raw conditional PutItem / Query on the same server, a table each.</summary>
internal sealed class DynamoDbTarget : IBenchTarget
{
    public string Key => "dynamodb";
    public string Subject => "DynamoDB";

    public async Task<TargetSession> StartAsync(BenchOptions options, CancellationToken ct)
    {
        var server = await BenchServers.AcquireAsync(Backend.DynamoDB, ct).ConfigureAwait(false);
        var url = server.Address;
        var session = new Session(url, server);
        try
        {
            await session.Client.ListTablesAsync(new ListTablesRequest(), ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is AmazonServiceException or HttpRequestException or AmazonClientException)
        {
            await session.DisposeAsync().ConfigureAwait(false);
            throw new TargetUnavailableException($"cannot reach DynamoDB at {url}: {Measurement.FirstLine(e.Message)}", e);
        }
        session.ServerInfo["dynamodb"] = server.Description;
        await WarmUpServerAsync(session, ct).ConfigureAwait(false);
        session.Peers.Add(new DynamoRawPeer(session));
        return session;
    }

    /// <summary>
    /// dynalite is a Node.js process whose own JIT takes many seconds of requests to compile the paths of writes with
    /// index entries and of queries. Subjects run one after another, so a cold server slows whichever runs first, the
    /// provider: with 3 s of indexed puts before the run the provider's 1-writer append measured 26% of the plain put
    /// (333/s) and 47% in a full run, while timed in rounds alternating with a replay of its own commit item it ran at
    /// 94-100% of that replay. So the server first serves 6 s of indexed puts and queries, then 6 s of appends through
    /// a throwaway store of the provider (the same requests its workloads send), before any subject is timed.
    /// </summary>
    private static async Task WarmUpServerAsync(Session session, CancellationToken ct)
    {
        var table = $"warmup-{session.Run}";
        await session.Client.CreateTableAsync(DynamoRawPeer.IndexedTable(table), ct).ConfigureAwait(false);
        var started = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; started.Elapsed < TimeSpan.FromSeconds(6); i++)
        {
            var item = DynamoRawPeer.IndexedItem("warmup", i, i + 1);
            await DynamoRawPeer.PutNewAsync(session.Client, table, item, ct).ConfigureAwait(false);
            if (i % 10 == 0)
            {
                await session.Client.QueryAsync(new QueryRequest
                {
                    TableName = table,
                    IndexName = "all",
                    KeyConditionExpression = "ab = :p AND ap > :a",
                    ExpressionAttributeValues = new() { [":p"] = item["ab"], [":a"] = new AttributeValue { N = "0" } },
                    Limit = 25,
                }, ct).ConfigureAwait(false);
            }
        }
        await session.Client.DeleteTableAsync(table, ct).ConfigureAwait(false);

        await using var warm = await session.CreateStoreAsync("warmup", ct).ConfigureAwait(false);
        var cursor = new StreamCursor("Warmup", session.Run, 100);
        started.Restart();
        while (started.Elapsed < TimeSpan.FromSeconds(6)) await cursor.AppendEventAsync(warm.Store, ct).ConfigureAwait(false);
    }

    internal sealed class Session(string url, TestServer server) : TargetSession
    {
        public string Run { get; } = Guid.NewGuid().ToString("N")[..8];

        /// <summary>The table of the store <see cref="CreateStoreAsync"/> makes for <paramref name="label"/>.</summary>
        public string TableName(string label) => $"bench-{Run}-{label}";

        public AmazonDynamoDBClient Client { get; } = new(new BasicAWSCredentials("bench", "bench"),
            new AmazonDynamoDBConfig { ServiceURL = url, AuthenticationRegion = "us-east-1" });

        public override Task<StoreHandle> CreateStoreAsync(string label, CancellationToken ct) => CreateStoreAsync(label, fenceCommits: false, indexEventTypes: false, ct);

        /// <summary>
        /// A store whose commits are fenced against skips (<c>FenceCommits</c>: an intent put before each commit), or whose
        /// table has the event-type index (<c>IndexEventTypes</c>: each commit in a third index).
        /// </summary>
        public Task<StoreHandle> CreateStoreAsync(string label, bool fenceCommits, bool indexEventTypes, CancellationToken ct) =>
            StoreHandle.FromConfigurationAsync("DynamoDB", new Dictionary<string, string?>
            {
                ["ServiceUrl"] = url,
                ["Region"] = "us-east-1",
                ["TableName"] = TableName(label),
                ["CreateTables"] = "true",
                ["AccessKeyId"] = "bench",
                ["SecretAccessKey"] = "bench",
                ["FenceCommits"] = fenceCommits ? "true" : "false",
                ["IndexEventTypes"] = indexEventTypes ? "true" : "false",
            }, ct);

        public override async ValueTask DisposeAsync()
        {
            Client.Dispose();
            await server.DisposeAsync().ConfigureAwait(false);
        }
    }
}

/// <summary>The limits on the same dynalite: one conditional PutItem per event and paged Query of one partition.</summary>
internal sealed class DynamoRawPeer(DynamoDbTarget.Session session) : IPeer
{
    public string Name => "dynalite raw";

    public async Task<IReadOnlyList<Measurement>> RunAsync(BenchOptions options, Func<string, Action<double>> progress, CancellationToken ct)
    {
        var client = session.Client;
        var table = $"raw-{session.Run}";
        await client.CreateTableAsync(PlainTable(table), ct).ConfigureAwait(false);
        var results = new List<Measurement>();
        if (options.Runs("append-1w"))
        {
            // The provider's commit item is in its table's global secondary indexes ($all and category by default); dynalite
            // writes an index entry per index, which the plain put above does not. This put has the same indexes and index
            // keys, so the ratio against it shows how much of the gap is the server maintaining them.
            var indexed = $"raw-idx-{session.Run}";
            await client.CreateTableAsync(IndexedTable(indexed), ct).ConfigureAwait(false);
            long position = 0;
            var run = await Timed.RunAsync(1, options.Duration, async (_, i) =>
            {
                var item = IndexedItem("append-1w-indexed", i, ++position);
                await PutNewAsync(client, indexed, item, ct).ConfigureAwait(false);
                return OpOutcome.Wrote(1);
            }, progress($"{Name}: append-1w-indexed (PutItem, the provider's indexes)"), ct).ConfigureAwait(false);
            results.Add(Measure("append-1w-indexed", run, "conditional PutItem into a table with the provider's global secondary indexes ($all, category), the item in both, 1 writer(s)"));
            await client.DeleteTableAsync(indexed, ct).ConfigureAwait(false);
            results.Add(await ReplayCommitItemAsync(options, progress, ct).ConfigureAwait(false));
            results.AddRange(await AlternateWithPlainPutAsync(options, progress, ct).ConfigureAwait(false));
        }
        foreach (var (workload, writers) in new[] { ("append-1w", 1), ("append-8w", 8), ("append-16w", 16) })
        {
            if (!options.Runs(workload)) continue;
            var run = await Timed.RunAsync(writers, options.Duration, async (w, i) =>
            {
                await PutNewAsync(client, table, Item($"{workload}-{w}", i), ct).ConfigureAwait(false);
                return OpOutcome.Wrote(1);
            }, progress($"{Name}: {workload} (PutItem)"), ct).ConfigureAwait(false);
            results.Add(Measure(workload, run, $"conditional PutItem (attribute_not_exists), {writers} writer(s)"));
            if (writers > 1) results.Add(await IndexedPutsAsync(workload, writers, options, progress, ct).ConfigureAwait(false));
        }
        if (options.Runs("read-stream"))
        {
            var report = progress($"{Name}: read-stream (Query)");
            const string pk = "read-stream";
            for (var v = 0; v < options.StreamReadSize; v += 25)
            {
                var writes = Enumerable.Range(v, Math.Min(25, options.StreamReadSize - v))
                    .Select(i => new WriteRequest(new PutRequest(Item(pk, i)))).ToList();
                var pending = new Dictionary<string, List<WriteRequest>> { [table] = writes };
                while (pending.Count > 0 && pending.Values.Any(l => l.Count > 0))
                    pending = (await client.BatchWriteItemAsync(new BatchWriteItemRequest(pending), ct).ConfigureAwait(false)).UnprocessedItems ?? [];
            }
            var run = await Timed.RunAsync(1, options.Duration, async (_, _) =>
            {
                var n = 0;
                Dictionary<string, AttributeValue>? last = null;
                do
                {
                    var page = await client.QueryAsync(new QueryRequest
                    {
                        TableName = table,
                        KeyConditionExpression = "pk = :pk",
                        ExpressionAttributeValues = new() { [":pk"] = new AttributeValue { S = pk } },
                        ConsistentRead = true,
                        ExclusiveStartKey = last,
                    }, ct).ConfigureAwait(false);
                    n += page.Items?.Count ?? 0;
                    last = page.LastEvaluatedKey is { Count: > 0 } k ? k : null;
                }
                while (last is not null);
                return OpOutcome.Wrote(n);
            }, report, ct).ConfigureAwait(false);
            results.Add(Measure("read-stream", run, $"paged consistent Query of one {options.StreamReadSize:N0}-item partition"));
        }
        await client.DeleteTableAsync(table, ct).ConfigureAwait(false);
        return results;
    }

    /// <summary>
    /// Puts with <paramref name="writers"/> writers into a table with the provider's indexes, each item in both at a new
    /// global position: the server work the provider's appends cannot avoid (reported beside the
    /// plain-put target rows).
    /// </summary>
    private async Task<Measurement> IndexedPutsAsync(string workload, int writers, BenchOptions options, Func<string, Action<double>> progress, CancellationToken ct)
    {
        var client = session.Client;
        var indexed = $"raw-idx{writers}-{session.Run}";
        await client.CreateTableAsync(IndexedTable(indexed), ct).ConfigureAwait(false);
        long position = 0;
        var run = await Timed.RunAsync(writers, options.Duration, async (w, i) =>
        {
            await PutNewAsync(client, indexed, IndexedItem($"{workload}-indexed-{w}", i, Interlocked.Increment(ref position)), ct).ConfigureAwait(false);
            return OpOutcome.Wrote(1);
        }, progress($"{Name}: {workload}-indexed (PutItem, the provider's indexes)"), ct).ConfigureAwait(false);
        await client.DeleteTableAsync(indexed, ct).ConfigureAwait(false);
        return Measure($"{workload}-indexed", run, $"conditional PutItem into a table with the provider's global secondary indexes ($all, category), the item in both, {writers} writer(s)");
    }

    /// <summary>A conditional PutItem of an item whose key must be new (as a commit is): what every raw put here sends.</summary>
    internal static Task PutNewAsync(IAmazonDynamoDB client, string table, Dictionary<string, AttributeValue> item, CancellationToken ct) =>
        client.PutItemAsync(new PutItemRequest { TableName = table, Item = item, ConditionExpression = "attribute_not_exists(pk)" }, ct);

    /// <summary>A table keyed like the provider's (pk, sk) without indexes, for the plain put.</summary>
    private static CreateTableRequest PlainTable(string name) => new()
    {
        TableName = name,
        BillingMode = BillingMode.PAY_PER_REQUEST,
        KeySchema = [new KeySchemaElement("pk", KeyType.HASH), new KeySchemaElement("sk", KeyType.RANGE)],
        AttributeDefinitions = [new AttributeDefinition("pk", ScalarAttributeType.S), new AttributeDefinition("sk", ScalarAttributeType.N)],
    };

    /// <summary>
    /// A table with the global secondary indexes the provider gives a new events table by default ($all, category), each
    /// on a key and <c>ap</c>; the event-type index is opt-in (<c>IndexEventTypes</c>), timed in the alternating rounds.
    /// </summary>
    internal static CreateTableRequest IndexedTable(string name) => new()
    {
        TableName = name,
        BillingMode = BillingMode.PAY_PER_REQUEST,
        KeySchema = [new KeySchemaElement("pk", KeyType.HASH), new KeySchemaElement("sk", KeyType.RANGE)],
        AttributeDefinitions = [new("pk", ScalarAttributeType.S), new("sk", ScalarAttributeType.N), new("ab", ScalarAttributeType.S),
            new("ap", ScalarAttributeType.N), new("cp", ScalarAttributeType.S)],
        GlobalSecondaryIndexes = [Index("all", "ab"), Index("category", "cp")],
    };

    /// <summary>
    /// The least work that stores what a 1-writer append stores: one conditional PutItem of the provider's own commit
    /// item (taken from a store after one append), each time at a new key and a new global position, into the
    /// provider's own table. What the provider spends beyond it is its own; what this costs beyond the plain put is
    /// the item the provider's reads need (its index entries and attributes).
    /// </summary>
    private async Task<Measurement> ReplayCommitItemAsync(BenchOptions options, Func<string, Action<double>> progress, CancellationToken ct)
    {
        var client = session.Client;
        const string label = "commit-item";
        await using var handle = await session.CreateStoreAsync(label, ct).ConfigureAwait(false);
        var stream = new StreamName("Replay-1");
        await handle.Store.AppendAsync(stream, ExpectedVersion.NoStream, [Payload.Event()], ct).ConfigureAwait(false);
        var table = session.TableName(label);
        var sample = (await client.GetItemAsync(new GetItemRequest { TableName = table, Key = Schema.Key(Schema.StreamPk(stream), 0), ConsistentRead = true }, ct)
            .ConfigureAwait(false)).Item;
        if (sample is not { Count: > 0 } || !sample.ContainsKey(Schema.Events))
            throw new InvalidOperationException($"The provider's commit item of {stream} was not found in {table}.");
        var events = Schema.GetBytes(sample, Schema.Events).ToArray();
        // The store is made with the default number of $all partitions.
        var partitions = new DynamoDBEventStoreOptions().AllPartitions;
        var replayPk = Schema.StreamPk(new StreamName("Replay-2"));
        long position = 1L << 40;
        var run = await Timed.RunAsync(1, options.Duration, async (_, i) =>
        {
            var item = new Dictionary<string, AttributeValue>(sample)
            {
                [Schema.Pk] = Schema.S(replayPk),
                [Schema.Sk] = Schema.N(i),
                [Schema.FirstPosition] = Schema.N(++position),
                [Schema.LastPosition] = Schema.N(position),
                [Schema.AllPartition] = Schema.S(Schema.AllPartitionKey(position, partitions)),
                [Schema.Created] = Schema.N(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()),
                [Schema.Events] = new AttributeValue { B = new MemoryStream(events) },
            };
            await PutNewAsync(client, table, item, ct).ConfigureAwait(false);
            return OpOutcome.Wrote(1);
        }, progress($"{Name}: append-1w-commit-item (PutItem of the provider's own item)"), ct).ConfigureAwait(false);
        return Measure("append-1w-commit-item", run, "conditional PutItem of the provider's own commit item (one event, its attributes and index keys) into the provider's table, 1 writer(s)");
    }

    /// <summary>
    /// The provider's 1-writer append and the plain conditional put, timed in alternating rounds (6 of each, each a
    /// sixth of the duration) on the same server, so that neither meets a colder, emptier or fuller dynalite than the
    /// other: timed one after the other, the plain put's rate moved between 913/s and 2,156/s from run to run while the
    /// provider's stayed within 1,113-1,279/s. The 1-writer target row uses this pair. Two more subjects in the same
    /// rounds show what the options cost: the provider with <c>FenceCommits</c> (an intent put before each commit) and
    /// with <c>IndexEventTypes</c> (each commit also in the event-type index).
    /// </summary>
    private async Task<Measurement[]> AlternateWithPlainPutAsync(BenchOptions options, Func<string, Action<double>> progress, CancellationToken ct)
    {
        const int rounds = 6;
        var client = session.Client;
        await using var handle = await session.CreateStoreAsync("alternating", ct).ConfigureAwait(false);
        await using var fencedHandle = await session.CreateStoreAsync("alternating-fenced", fenceCommits: true, indexEventTypes: false, ct).ConfigureAwait(false);
        var fencedCursor = new StreamCursor("BenchAlternatingFenced", session.Run, 100);
        await using var typedHandle = await session.CreateStoreAsync("alternating-typed", fenceCommits: false, indexEventTypes: true, ct).ConfigureAwait(false);
        var typedCursor = new StreamCursor("BenchAlternatingTyped", session.Run, 100);
        var plainTable = $"raw-alt-{session.Run}";
        await client.CreateTableAsync(PlainTable(plainTable), ct).ConfigureAwait(false);
        var cursor = new StreamCursor("BenchAlternating", session.Run, 100);
        var slice = options.Duration / rounds;
        TimedRun? provider = null, plain = null, fenced = null, typed = null;
        var report = progress($"{Name}: append-1w-alternating (the provider's append, PutItem, the fenced and the type-indexed append, {rounds} rounds each)");
        for (var round = 0; round < rounds; round++)
        {
            // Only the first round of each warms up (as long as its slice); later rounds start timing at once.
            int? warmup = round == 0 ? null : 0;
            var p = await Timed.RunAsync(1, slice, async (_, _) =>
            {
                await cursor.AppendEventAsync(handle.Store, ct).ConfigureAwait(false);
                return OpOutcome.Wrote(1);
            }, null, ct, warmup).ConfigureAwait(false);
            var key = $"alternating-{round}";
            var q = await Timed.RunAsync(1, slice, async (_, i) =>
            {
                await PutNewAsync(client, plainTable, Item(key, i), ct).ConfigureAwait(false);
                return OpOutcome.Wrote(1);
            }, null, ct, warmup).ConfigureAwait(false);
            var f = await Timed.RunAsync(1, slice, async (_, _) =>
            {
                await fencedCursor.AppendEventAsync(fencedHandle.Store, ct).ConfigureAwait(false);
                return OpOutcome.Wrote(1);
            }, null, ct, warmup).ConfigureAwait(false);
            var t = await Timed.RunAsync(1, slice, async (_, _) =>
            {
                await typedCursor.AppendEventAsync(typedHandle.Store, ct).ConfigureAwait(false);
                return OpOutcome.Wrote(1);
            }, null, ct, warmup).ConfigureAwait(false);
            provider = Merge(provider, p);
            plain = Merge(plain, q);
            fenced = Merge(fenced, f);
            typed = Merge(typed, t);
            report((round + 1) / (double)rounds);
        }
        await client.DeleteTableAsync(plainTable, ct).ConfigureAwait(false);
        return
        [
            Measure("append-1w-alternating", provider!, $"AppendAsync of 1 event, expected version checked, 1 writer, in {rounds} rounds alternating with the plain put", "DynamoDB"),
            Measure("append-1w-alternating", plain!, $"conditional PutItem (attribute_not_exists), 1 writer, in {rounds} rounds alternating with the provider's append"),
            Measure("append-1w-alternating", fenced!, $"AppendAsync of 1 event with FenceCommits (an intent PutItem before the commit), 1 writer, in the same {rounds} rounds", FencedSubject),
            Measure("append-1w-alternating", typed!, $"AppendAsync of 1 event into a table with IndexEventTypes (the commit also in the event-type index), 1 writer, in the same {rounds} rounds", TypeIndexedSubject),
        ];
    }

    /// <summary>The subject name of the provider with <c>FenceCommits</c> on, in the alternating rounds.</summary>
    public const string FencedSubject = "DynamoDB fenced";

    /// <summary>The subject name of the provider on a table with the event-type index, in the alternating rounds.</summary>
    public const string TypeIndexedSubject = "DynamoDB type-indexed";

    private static TimedRun Merge(TimedRun? sum, TimedRun run)
    {
        if (sum is null) return run;
        sum.Latency.Add(run.Latency);
        return new TimedRun(sum.Operations + run.Operations, sum.Events + run.Events, sum.Conflicts + run.Conflicts, sum.Seconds + run.Seconds, sum.Latency);
    }

    /// <summary>One event as an item in both indexes of <see cref="IndexedTable"/>, at global position <paramref name="position"/>, with the type attribute a commit carries.</summary>
    internal static Dictionary<string, AttributeValue> IndexedItem(string pk, long sk, long position)
    {
        var item = Item(pk, sk);
        item["ab"] = new AttributeValue { S = "a#" + (position % 4).ToString(System.Globalization.CultureInfo.InvariantCulture) };
        item["ap"] = new AttributeValue { N = position.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        item["cp"] = new AttributeValue { S = "c#BenchAppend" };
        item["tp"] = new AttributeValue { S = "t#" + Payload.EventType };
        return item;
    }

    private static Dictionary<string, AttributeValue> Item(string pk, long sk) => new()
    {
        ["pk"] = new AttributeValue { S = pk },
        ["sk"] = new AttributeValue { N = sk.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        ["id"] = new AttributeValue { S = Guid.NewGuid().ToString() },
        ["type"] = new AttributeValue { S = Payload.EventType },
        ["data"] = new AttributeValue { B = new MemoryStream(Payload.Json) },
    };

    private static GlobalSecondaryIndex Index(string name, string partitionKey) => new()
    {
        IndexName = name,
        KeySchema = [new KeySchemaElement(partitionKey, KeyType.HASH), new KeySchemaElement("ap", KeyType.RANGE)],
        Projection = new Projection { ProjectionType = ProjectionType.ALL },
    };

    private Measurement Measure(string workload, TimedRun run, string method, string? subject = null) => new()
    {
        Backend = "dynamodb", Subject = subject ?? Name, Workload = workload, Method = method,
        Operations = run.Operations, Events = run.Events, Seconds = run.Seconds, Latency = run.Latency.Summary(),
    };
}
