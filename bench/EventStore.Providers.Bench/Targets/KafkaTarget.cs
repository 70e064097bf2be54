using System.Globalization;
using Confluent.Kafka;
using EventStore.Providers.Bench.Core;
using EventStore.Providers.Kafka;
using EventStore.Providers.TestServers;

namespace EventStore.Providers.Bench.Targets;

/// <summary>
/// Kafka from tests/TestServers (a broker named by EVENTSTORE_KAFKA_BOOTSTRAP, a container, else librdkafka's mock
/// cluster of 3 brokers in this process): our provider and raw Confluent.Kafka produce/consume against the same brokers.
/// </summary>
internal sealed class KafkaTarget : IBenchTarget
{
    public string Key => "kafka";
    public string Subject => "Kafka";

    public async Task<TargetSession> StartAsync(BenchOptions options, CancellationToken ct)
    {
        var server = await BenchServers.AcquireAsync(Backend.Kafka, ct).ConfigureAwait(false);
        var session = new Session(server, server.IsRealKafkaBroker ? Servers.KafkaReplicationFactor(server.Address) : (short)3);
        session.ServerInfo["kafka"] = server.IsRealKafkaBroker
            ? $"{server.Description}; provider with transactions and the topic check"
            : $"librdkafka {Library.VersionString} mock cluster, 3 brokers, in process; provider without transactions (the mock has none)";
        if (server.IsRealKafkaBroker) session.Peers.Add(new KafkaTransactionalRawPeer(session));
        session.Peers.Add(new KafkaRawPeer(session));
        return session;
    }

    internal sealed class Session(TestServer server, short replicationFactor) : TargetSession
    {
        public string Run { get; } = Guid.NewGuid().ToString("N")[..8];
        public string Bootstrap => server.Address;
        public bool Transactional => server.IsRealKafkaBroker;

        // The mock cluster has no DescribeConfigs and no isolating transactions (BACKENDS.md); topics are auto-created
        // there. A real broker gets the provider's own topics and runs as in production.
        public override Task<StoreHandle> CreateStoreAsync(string label, CancellationToken ct) =>
            StoreHandle.FromConfigurationAsync("Kafka", new Dictionary<string, string?>
            {
                ["BootstrapServers"] = Bootstrap,
                ["Topic"] = $"bench-{Run}-{label}",
                ["CreateTopics"] = server.IsRealKafkaBroker.ToString(CultureInfo.InvariantCulture),
                ["ReplicationFactor"] = replicationFactor.ToString(CultureInfo.InvariantCulture),
                ["VerifyTopicConfiguration"] = server.IsRealKafkaBroker.ToString(CultureInfo.InvariantCulture),
                ["UseTransactions"] = server.IsRealKafkaBroker.ToString(CultureInfo.InvariantCulture),
                // The store never creates topics by asking for them; on the mock, let it (no topic admin API there).
                ["ClientConfig:allow.auto.create.topics"] = server.IsRealKafkaBroker ? "false" : "true",
            }, ct);

        /// <summary>
        /// The raw consume of the provider's read-stream records, measured when the provider had written them and just
        /// before it read them: the mock cluster finds a fetch's records by walking the partition's log, whose head it
        /// trims as later workloads write, so the two reads must see the same log.
        /// </summary>
        public Measurement? ProviderStreamRead { get; private set; }

        public override async Task StreamFilledAsync(StoreHandle handle, StreamName stream, BenchOptions options, CancellationToken ct)
        {
            var store = handle.Store;
            if (handle.Services.GetService(typeof(KafkaEventStore)) is not KafkaEventStore kafka) return;
            var first = await FirstAsync(store.ReadStreamAsync(stream, ReadDirection.Forwards, maxCount: 1, cancellationToken: ct)).ConfigureAwait(false);
            var last = await FirstAsync(store.ReadStreamAsync(stream, ReadDirection.Backwards, maxCount: 1, cancellationToken: ct)).ConfigureAwait(false);
            if (first is null || last is null) return;
            var (partition, firstOffset) = OffsetOf(first.Position);
            var (_, lastOffset) = OffsetOf(last.Position);
            var records = new StreamRecords(kafka.Options.Topic, partition, firstOffset, lastOffset, last.Version - first.Version + 1);
            try
            {
                ProviderStreamRead = await KafkaRawPeer.ConsumeRecordsAsync(this, records, options, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                ProviderStreamRead = Measurement.Failed("kafka", KafkaRawPeer.PeerName, "read-stream", e);
            }
        }

        private static async Task<RecordedEvent?> FirstAsync(IAsyncEnumerable<RecordedEvent> events)
        {
            await foreach (var e in events.ConfigureAwait(false)) return e;
            return null;
        }

        // One partition: the position is the offset. Several: a vector holding the event's next offset in its partition only.
        private static (int Partition, long Offset) OffsetOf(Position position)
        {
            var parts = position.Parts;
            if (parts.Length == 1) return (0, parts[0]);
            for (var p = 0; p < parts.Length; p++)
                if (parts[p] > 0) return (p, parts[p] - 1);
            throw new InvalidOperationException($"A stream event's position {position} names no partition.");
        }

        public override ValueTask DisposeAsync() => server.DisposeAsync();
    }

    /// <summary>The provider's stream records: offsets <c>First..Last</c> of one partition, <c>Events</c> of them the stream's.</summary>
    internal sealed record StreamRecords(string Topic, int Partition, long First, long Last, long Events);
}

/// <summary>
/// The limits on the same mock cluster: awaited ProduceAsync, pipelined Produce, and consuming contiguous messages. Every
/// message has the layout of the provider's records (key, payload and the same headers, built by the provider's own
/// <see cref="EventStore.Providers.Kafka.EventRecord"/>), so the client moves the same bytes for both subjects.
/// </summary>
internal sealed class KafkaRawPeer(KafkaTarget.Session session) : IPeer
{
    public const string PeerName = "Confluent.Kafka raw";

    public string Name => PeerName;

    /// <summary>A message as the provider writes a single-event append of the benchmark's event to <paramref name="stream"/>.</summary>
    internal static Message<byte[], byte[]> Record(string stream) =>
        EventStore.Providers.Kafka.EventRecord.ToMessage(System.Text.Encoding.UTF8.GetBytes(stream), Payload.Event(), 0, 0);

    public async Task<IReadOnlyList<Measurement>> RunAsync(BenchOptions options, Func<string, Action<double>> progress, CancellationToken ct)
    {
        var results = new List<Measurement>();
        var topic = $"raw-{session.Run}";
        var partition = new TopicPartition(topic, new Partition(0));
        var awaitedConfig = new ProducerConfig
        {
            BootstrapServers = session.Bootstrap, Acks = Acks.All, EnableIdempotence = true, LingerMs = 0,
        };
        using (var producer = new ProducerBuilder<byte[], byte[]>(awaitedConfig).Build())
        {
            foreach (var (workload, writers) in new[] { ("append-1w", 1), ("append-8w", 8) })
            {
                if (!options.Runs(workload)) continue;
                var run = await Timed.RunAsync(writers, options.Duration, async (w, _) =>
                {
                    await producer.ProduceAsync(partition, Record($"Raw-s{w}"), ct).ConfigureAwait(false);
                    return OpOutcome.Wrote(1);
                }, progress($"{Name}: {workload} (awaited ProduceAsync)"), ct).ConfigureAwait(false);
                results.Add(Measure(workload, run, $"awaited ProduceAsync, acks=all, idempotent, linger 0, {writers} writer(s)"));
            }
        }

        var pipelinedConfig = new ProducerConfig { BootstrapServers = session.Bootstrap, Acks = Acks.All, EnableIdempotence = true };
        long produced = 0;
        using (var producer = new ProducerBuilder<byte[], byte[]>(pipelinedConfig).Build())
        {
            var report = progress($"{Name}: append-pipelined");
            var needed = Math.Max(options.StreamReadSize, options.AllReadSize);
            long failed = 0;
            var run = await Timed.RunAsync(1, options.Duration, (_, i) =>
            {
                const int chunk = 10_000;
                for (var k = 0; k < chunk; k++)
                    producer.Produce(partition, Record($"Raw-s{(i * chunk + k) % 100}"),
                        r => { if (r.Error.IsError) Interlocked.Increment(ref failed); });
                producer.Flush(ct);
                return Task.FromResult(OpOutcome.Wrote(chunk));
            }, report, ct).ConfigureAwait(false);
            produced = run.Events;
            if (Interlocked.Read(ref failed) > 0) throw new InvalidOperationException($"{failed} pipelined messages failed");
            if (options.Runs("append-pipelined") || options.Runs("append-8w"))
            {
                var m = Measure("append-pipelined", run, "Produce with delivery callbacks, 10,000 in flight then Flush, acks=all, idempotent") with { Latency = null };
                m.Notes["latency"] = "per 10,000-message chunk, not reported";
                results.Add(m);
            }
            while (produced < needed)
            {
                for (var k = 0; k < 10_000; k++) producer.Produce(partition, Record("Raw-fill"));
                producer.Flush(ct);
                produced += 10_000;
            }
        }

        foreach (var (workload, wanted) in new[] { ("read-stream", options.StreamReadSize), ("read-all", options.AllReadSize) })
        {
            if (!options.Runs(workload)) continue;
            try
            {
                results.Add(workload == "read-stream" && session.ProviderStreamRead is { } measured
                    ? measured
                    : await ConsumeAsync(workload, partition, wanted, options, progress, ct).ConfigureAwait(false));
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                results.Add(Measurement.Failed("kafka", Name, workload, e));
            }
        }
        return results;
    }

    /// <summary>
    /// Consumes the newest <paramref name="wanted"/> messages of the partition: the mock cluster keeps only about the
    /// last 100,000 messages of a partition, so reading from offset 0 could ask for messages it has already dropped.
    /// </summary>
    private async Task<Measurement> ConsumeAsync(string workload, TopicPartition partition, int wanted, BenchOptions options,
        Func<string, Action<double>> progress, CancellationToken ct)
    {
        using var consumer = Consumer(session);
        var marks = consumer.QueryWatermarkOffsets(partition, TimeSpan.FromSeconds(10));
        var start = Math.Max(marks.Low.Value, marks.High.Value - wanted);
        var count = (int)(marks.High.Value - start);
        var run = await TimedConsumeAsync(consumer, partition, start, marks.High.Value - 1, options, progress($"{Name}: {workload} (consume)"), ct).ConfigureAwait(false);
        var m = Measure(workload, run, $"assign + consume {count:N0} contiguous messages");
        if (count < wanted) m.Notes["messages"] = $"{count:N0} of {wanted:N0}: the partition retained no more (low watermark {marks.Low.Value:N0})";
        return m;
    }

    /// <summary>
    /// Consumes the very records the provider's stream read returns (its stream's offsets in its partition): the mock
    /// cluster answers a fetch with one produce request's records and finds them by walking the partition's log, so
    /// the cost of a read depends on how the records were written and what precedes them, not only on their number.
    /// </summary>
    internal static async Task<Measurement> ConsumeRecordsAsync(KafkaTarget.Session session, KafkaTarget.StreamRecords records, BenchOptions options, CancellationToken ct)
    {
        using var consumer = Consumer(session);
        var partition = new TopicPartition(records.Topic, new Partition(records.Partition));
        var run = await TimedConsumeAsync(consumer, partition, records.First, records.Last, options, _ => { }, ct).ConfigureAwait(false);
        var m = Measure("read-stream", run, $"assign + consume the provider's stream records ({records.Last - records.First + 1:N0} offsets of its partition, as it wrote them), just before the provider reads them");
        m.Notes["records"] = $"{records.Events:N0} events of the stream at offsets {records.First:N0}..{records.Last:N0} of partition {records.Partition}";
        return m;
    }

    // A short fetch wait: the limit is how fast messages flow, not how long the broker holds an empty fetch.
    private static IConsumer<byte[], byte[]> Consumer(KafkaTarget.Session session) => new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
    {
        BootstrapServers = session.Bootstrap, GroupId = $"raw-{session.Run}", EnableAutoCommit = false, FetchWaitMaxMs = 5,
    }).Build();

    /// <summary>Each operation assigns the partition at <paramref name="first"/> and consumes every record up to offset <paramref name="last"/>.</summary>
    private static Task<TimedRun> TimedConsumeAsync(IConsumer<byte[], byte[]> consumer, TopicPartition partition, long first, long last, BenchOptions options,
        Action<double> report, CancellationToken ct) =>
        Timed.RunAsync(1, options.Duration, (_, _) =>
        {
            var n = 0;
            if (last < first) return Task.FromResult(OpOutcome.Wrote(n));
            consumer.Assign(new TopicPartitionOffset(partition, new Offset(first)));
            while (true)
            {
                var r = consumer.Consume(TimeSpan.FromSeconds(10)) ?? throw new TimeoutException($"consumed {n} records from offset {first} of {partition}, up to {last} wanted");
                if (r.IsPartitionEOF) continue;
                n++;
                if (r.Offset.Value >= last) break;
            }
            consumer.Unassign();
            return Task.FromResult(OpOutcome.Wrote(n));
        }, report, ct, warmup: 1);

    private static Measurement Measure(string workload, TimedRun run, string method) => new()
    {
        Backend = "kafka", Subject = PeerName, Workload = workload, Method = method,
        Operations = run.Operations, Events = run.Events, Seconds = run.Seconds, Latency = run.Latency.Summary(),
    };
}

/// <summary>
/// The transactional limit, on a real broker only (the mock's transactions neither isolate nor fence): one
/// transactional producer, each operation BeginTransaction, an awaited ProduceAsync and CommitTransaction, as the
/// provider's single appends with transactions on.
/// </summary>
internal sealed class KafkaTransactionalRawPeer(KafkaTarget.Session session) : IPeer
{
    public string Name => "Confluent.Kafka raw transactional";

    public async Task<IReadOnlyList<Measurement>> RunAsync(BenchOptions options, Func<string, Action<double>> progress, CancellationToken ct)
    {
        var results = new List<Measurement>();
        if (!options.Runs("append-1w")) return results;
        var partition = new TopicPartition($"raw-txn-{session.Run}", new Partition(0));
        var config = new ProducerConfig
        {
            BootstrapServers = session.Bootstrap, Acks = Acks.All, EnableIdempotence = true, LingerMs = 0,
            TransactionalId = $"bench-raw-{session.Run}",
        };
        using var producer = new ProducerBuilder<byte[], byte[]>(config).Build();
        producer.InitTransactions(TimeSpan.FromSeconds(30));
        var run = await Timed.RunAsync(1, options.Duration, async (_, _) =>
        {
            producer.BeginTransaction();
            await producer.ProduceAsync(partition, KafkaRawPeer.Record("Raw-s0"), ct).ConfigureAwait(false);
            producer.CommitTransaction();
            return OpOutcome.Wrote(1);
        }, progress($"{Name}: append-1w (produce + commit)"), ct).ConfigureAwait(false);
        results.Add(new Measurement
        {
            Backend = "kafka", Subject = Name, Workload = "append-1w", Method = "BeginTransaction, awaited ProduceAsync, CommitTransaction; acks=all",
            Operations = run.Operations, Events = run.Events, Seconds = run.Seconds, Latency = run.Latency.Summary(),
        });
        return results;
    }
}
