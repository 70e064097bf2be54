using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace EventStore.Providers.Kafka.Tests;

/// <summary>Behaviour specific to the Kafka provider: the index, the topic checks, the size limit, the options.</summary>
public sealed class KafkaStoreTests
{
    private static readonly SinglePartitionKafkaFixture Fixture = new();

    private static EventData Event(string type = "Happened", int size = 10) =>
        new(Guid.NewGuid(), type, Encoding.UTF8.GetBytes(new string('x', size)), Encoding.UTF8.GetBytes("{\"m\":1}"));

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>
    /// How many records the partition holds, counted by consuming it to its end: offsets are not contiguous on a
    /// broker with transactions (commit markers) or compaction, so the high watermark is not a record count.
    /// </summary>
    private static async Task<long> RecordCountAsync(KafkaEventStoreOptions options, int partition = 0)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig
        {
            BootstrapServers = options.BootstrapServers, GroupId = "probe", EnablePartitionEof = true, IsolationLevel = IsolationLevel.ReadCommitted,
        }).Build();
        consumer.Assign(new TopicPartitionOffset(options.Topic, partition, Offset.Beginning));
        return await Task.Run(() =>
        {
            var count = 0L;
            while (true)
            {
                var r = consumer.Consume(TimeSpan.FromSeconds(10)) ?? throw new TimeoutException($"no end of partition after {count} records");
                if (r.IsPartitionEOF) return count;
                count++;
            }
        });
    }

    [Fact]
    public async Task A_new_store_instance_on_the_same_topic_rebuilds_every_streams_version_from_the_log()
    {
        var options = Fixture.NewTopics(partitions: 3);
        var expected = new Dictionary<string, long>();
        await using (var first = await KafkaFixture.OpenAsync(options, Ct))
        {
            for (var i = 0; i < 30; i++)
            {
                var stream = new StreamName($"Order-{i}");
                var result = await first.AppendAsync(stream, ExpectedVersion.NoStream, Enumerable.Range(0, 1 + i % 4).Select(_ => Event()).ToList(), Ct);
                expected[stream.Value] = result.LastVersion;
            }
            await first.DeleteStreamAsync(new StreamName("Order-0"), ExpectedVersion.Exact(0), StreamDeletionMode.Soft, Ct);
            await first.DeleteStreamAsync(new StreamName("Order-1"), ExpectedVersion.Any, StreamDeletionMode.Tombstone, Ct);
        }
        await using var second = await KafkaFixture.OpenAsync(options, Ct);
        foreach (var (name, last) in expected.Where(kv => kv.Key is not "Order-0" and not "Order-1"))
        {
            var info = await second.GetStreamInfoAsync(new StreamName(name), Ct);
            Assert.True(info.Exists);
            Assert.Equal(last, info.LastVersion);
        }
        Assert.Equal(new StreamInfo(new StreamName("Order-0"), false, -1, true), await second.GetStreamInfoAsync(new StreamName("Order-0"), Ct));
        await Assert.ThrowsAsync<StreamDeletedException>(() => second.AppendAsync(new StreamName("Order-1"), ExpectedVersion.Any, [Event()], Ct));
        await Assert.ThrowsAsync<WrongExpectedVersionException>(() => second.AppendAsync(new StreamName("Order-5"), ExpectedVersion.Exact(0), [Event()], Ct));
        var appended = await second.AppendAsync(new StreamName("Order-5"), ExpectedVersion.Exact(expected["Order-5"]), [Event()], Ct);
        Assert.Equal(expected["Order-5"] + 1, appended.LastVersion);
    }

    [Fact]
    public async Task A_restart_loads_the_index_snapshot_and_replays_only_the_events_after_it()
    {
        var options = Fixture.NewTopics();
        options.IndexSnapshotInterval = 50;
        await using (var first = await KafkaFixture.OpenAsync(options, Ct))
        {
            for (var i = 0; i < 120; i++)
                await first.AppendAsync(new StreamName($"Cart-{i % 10}"), ExpectedVersion.Any, [Event()], Ct);
        }
        await using var second = await KafkaFixture.OpenAsync(options, Ct);
        // The snapshot covers at least 100 of the 120 events: the start read the index topic's few messages and the
        // events after the snapshot, far fewer than the 120 a replay would read.
        Assert.InRange(second.MessagesConsumed, 1, 40);
        for (var i = 0; i < 10; i++)
            Assert.Equal(11, (await second.GetStreamInfoAsync(new StreamName($"Cart-{i}"), Ct)).LastVersion);
        var events = await second.ReadStreamAsync(new StreamName("Cart-3"), cancellationToken: Ct).ToListAsync(Ct);
        Assert.Equal(Enumerable.Range(0, 12).Select(v => (long)v), events.Select(e => e.Version));
    }

    [Fact]
    public async Task Reading_a_stream_consumes_only_its_own_messages_never_scanning_the_topic()
    {
        var options = Fixture.NewTopics();
        await using var store = await KafkaFixture.OpenAsync(options, Ct);
        for (var round = 0; round < 20; round++)
            for (var s = 0; s < 50; s++)
                await store.AppendAsync(new StreamName($"Account-{s}"), ExpectedVersion.Any, [Event()], Ct);
        Assert.Equal(1000, await RecordCountAsync(options));
        var before = store.MessagesConsumed;
        var forwards = await store.ReadStreamAsync(new StreamName("Account-7"), cancellationToken: Ct).ToListAsync(Ct);
        Assert.Equal(20, forwards.Count);
        Assert.Equal(20, store.MessagesConsumed - before);
        before = store.MessagesConsumed;
        var backwards = await store.ReadStreamAsync(new StreamName("Account-7"), ReadDirection.Backwards, 9, 5, Ct).ToListAsync(Ct);
        Assert.Equal([9L, 8, 7, 6, 5], backwards.Select(e => e.Version));
        Assert.Equal(5, store.MessagesConsumed - before);
    }

    [Fact]
    public async Task An_event_over_the_message_size_limit_is_refused_before_anything_is_produced()
    {
        var options = Fixture.NewTopics();
        options.MaxMessageBytes = 64 * 1024;
        await using var store = await KafkaFixture.OpenAsync(options, Ct);
        var stream = new StreamName("Upload-1");
        await store.AppendAsync(stream, ExpectedVersion.NoStream, [Event()], Ct);
        var tooBigData = await Assert.ThrowsAsync<EventTooLargeException>(() => store.AppendAsync(stream, ExpectedVersion.Exact(0), [Event(), Event(size: 64 * 1024)], Ct));
        Assert.Equal(64 * 1024 - 4096, tooBigData.Limit);
        // Under the data limit, but the stream name and type push the whole message over message.max.bytes.
        var longType = new string('€', 500);
        var nearLimit = new EventData(Guid.NewGuid(), longType, new byte[64 * 1024 - 4096]);
        var tooBigMessage = await Assert.ThrowsAsync<EventTooLargeException>(() => store.AppendAsync(new StreamName("Upload-" + new string('€', 990)), ExpectedVersion.Any, [nearLimit], Ct));
        Assert.Equal(options.MaxMessageBytes, tooBigMessage.Limit);
        Assert.Equal(1, await RecordCountAsync(options));
        Assert.Equal(0, (await store.GetStreamInfoAsync(stream, Ct)).LastVersion);
    }

    [Fact]
    public void The_retention_check_refuses_finite_retention_size_limits_and_compaction()
    {
        var safe = new Dictionary<string, string?> { ["retention.ms"] = "-1", ["retention.bytes"] = "-1", ["cleanup.policy"] = "delete" };
        Assert.Empty(TopicConfiguration.UnsafeSettings(safe));
        Assert.Contains(TopicConfiguration.UnsafeSettings(new Dictionary<string, string?>(safe) { ["retention.ms"] = "604800000" }), p => p.StartsWith("retention.ms", StringComparison.Ordinal));
        Assert.Contains(TopicConfiguration.UnsafeSettings(new Dictionary<string, string?>(safe) { ["retention.bytes"] = "1073741824" }), p => p.StartsWith("retention.bytes", StringComparison.Ordinal));
        Assert.Contains(TopicConfiguration.UnsafeSettings(new Dictionary<string, string?>(safe) { ["cleanup.policy"] = "compact,delete" }), p => p.StartsWith("cleanup.policy", StringComparison.Ordinal));
        Assert.Single(TopicConfiguration.UnsafeSettings(new Dictionary<string, string?> { ["cleanup.policy"] = "delete" }));
    }

    [Fact]
    public async Task The_retention_check_fails_loudly_when_the_broker_cannot_describe_the_topic()
    {
        // The mock cluster has no DescribeConfigs (BACKENDS.md): with the check on, start-up must refuse rather than
        // run unverified. Against real Kafka the same path reads the topic's settings and refuses unsafe ones.
        Assert.SkipUnless(KafkaFixture.IsMock, "Needs a broker without DescribeConfigs (the mock cluster); this run is against a real broker, where every store runs the check.");
        var options = Fixture.NewTopics();
        options.VerifyTopicConfiguration = true;
        options.RequestTimeout = TimeSpan.FromSeconds(2);
        await using var store = new KafkaEventStore(options);
        var e = await Assert.ThrowsAsync<EventStoreConfigurationException>(() => store.InitializeAsync(Ct));
        Assert.Equal("EventStore:Kafka:VerifyTopicConfiguration", e.Key);
    }

    [Fact]
    public void Options_name_the_configuration_key_at_fault()
    {
        var e = Assert.Throws<EventStoreConfigurationException>(() => new KafkaEventStore(new KafkaEventStoreOptions()));
        Assert.Equal("EventStore:Kafka:BootstrapServers", e.Key);
        var partitions = Assert.Throws<EventStoreConfigurationException>(() => new KafkaEventStoreOptions { BootstrapServers = "b:9092", Partitions = 0 }.Validate());
        Assert.Equal("EventStore:Kafka:Partitions", partitions.Key);
        var topic = Assert.Throws<EventStoreConfigurationException>(() => new KafkaEventStoreOptions { BootstrapServers = "b:9092", Topic = "bad topic" }.Validate());
        Assert.Equal("EventStore:Kafka:Topic", topic.Key);
        var reserved = Assert.Throws<EventStoreConfigurationException>(() => new KafkaEventStoreOptions
        {
            BootstrapServers = "b:9092",
            ClientConfig = new Dictionary<string, string> { ["acks"] = "1" },
        }.Validate());
        Assert.Equal("EventStore:Kafka:ClientConfig:acks", reserved.Key);
    }

    [Fact]
    public void Configuration_selects_the_Kafka_provider_and_reports_a_missing_bootstrap_server_by_key()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["EventStore:Provider"] = "Kafka",
            ["EventStore:Kafka:Topic"] = "orders",
            ["EventStore:Kafka:ClientConfig:security.protocol"] = "SASL_SSL",
            ["EventStore:Kafka:ClientConfig:sasl.password"] = "s3cret",
        }).Build();
        using (var invalid = new ServiceCollection().AddEventStore(config.GetSection("EventStore")).BuildServiceProvider())
        {
            var e = Assert.Throws<EventStoreConfigurationException>(() => invalid.GetRequiredService<IEventStore>());
            Assert.Equal("EventStore:Kafka:BootstrapServers", e.Key);
            Assert.DoesNotContain("s3cret", e.Message, StringComparison.Ordinal);
        }

        config["EventStore:Kafka:BootstrapServers"] = "broker:9092";
        var services = new ServiceCollection().AddEventStore(config.GetSection("EventStore"));
        using var provider = services.BuildServiceProvider();
        var options = provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<KafkaEventStoreOptions>>().Value;
        Assert.Equal("orders", options.Topic);
        Assert.Equal("SASL_SSL", options.ClientConfig["security.protocol"]);
        Assert.Contains(services, d => d.ServiceType == typeof(IEventStore));
    }

    [Fact]
    public async Task Subscription_groups_run_on_the_stores_consumer_group_coordinators_from_configuration_as_from_code()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["EventStore:Provider"] = "Kafka",
            ["EventStore:Kafka:BootstrapServers"] = "broker:9092",
        }).Build();
        await using var fromConfiguration = new ServiceCollection().AddEventStore(config.GetSection("EventStore")).BuildServiceProvider();
        await using var fromCode = new ServiceCollection().AddEventStore(o => o.UseKafka(k => k.BootstrapServers = "broker:9092")).BuildServiceProvider();

        foreach (var provider in new[] { fromConfiguration, fromCode })
        {
            var store = provider.GetRequiredService<KafkaEventStore>();
            Assert.Same(store.SubscriptionGroups, provider.GetRequiredService<EventStore.Providers.Projections.ISubscriptionGroupCoordinatorFactory>());
            Assert.True(store.Capabilities.SubscriptionGroups);
        }
    }

    [Fact]
    public async Task Concurrent_writers_with_one_expected_version_have_exactly_one_winner_across_two_instances()
    {
        var options = Fixture.NewTopics();
        await using var a = await KafkaFixture.OpenAsync(options, Ct);
        await using var b = await KafkaFixture.OpenAsync(options, Ct);
        var stream = new StreamName("Race-1");
        await a.AppendAsync(stream, ExpectedVersion.NoStream, [Event()], Ct);
        var results = await Task.WhenAll(Enumerable.Range(0, 10).Select(async i =>
        {
            try
            {
                await (i % 2 == 0 ? a : b).AppendAsync(stream, ExpectedVersion.Exact(0), [Event()], Ct);
                return true;
            }
            catch (WrongExpectedVersionException)
            {
                return false;
            }
        }));
        Assert.Single(results, r => r);
        var versions = await b.ReadStreamAsync(stream, cancellationToken: Ct).Select(e => e.Version).ToListAsync(Ct);
        Assert.Equal([0L, 1], versions);
    }

    [Fact]
    public async Task A_resent_batch_returns_the_original_result_without_writing()
    {
        var options = Fixture.NewTopics();
        await using var store = await KafkaFixture.OpenAsync(options, Ct);
        var stream = new StreamName("Pay-1");
        var batch = new[] { Event(), Event() };
        var first = await store.AppendAsync(stream, ExpectedVersion.NoStream, batch, Ct);
        var again = await store.AppendAsync(stream, ExpectedVersion.NoStream, batch, Ct);
        Assert.False(again.WroteEvents);
        Assert.Equal(first.LastVersion, again.LastVersion);
        Assert.Equal(first.Position, again.Position);
        await Assert.ThrowsAsync<EventIdConflictException>(() => store.AppendAsync(stream, ExpectedVersion.NoStream, [batch[0], Event()], Ct));
        Assert.Equal(2, await RecordCountAsync(options));
    }

    [Fact]
    public async Task Resending_a_streams_last_batch_with_StreamExists_returns_the_original_result_instead_of_writing_it_again()
    {
        var options = Fixture.NewTopics();
        await using var store = await KafkaFixture.OpenAsync(options, Ct);
        var stream = new StreamName("Ship-1");
        var earlier = new[] { Event(), Event(), Event() };
        await store.AppendAsync(stream, ExpectedVersion.NoStream, earlier, Ct);
        var last = new[] { Event(), Event(), Event() };
        var first = await store.AppendAsync(stream, ExpectedVersion.StreamExists, last, Ct);
        var again = await store.AppendAsync(stream, ExpectedVersion.StreamExists, last, Ct);
        Assert.Equal(5, first.LastVersion);
        Assert.False(again.WroteEvents);
        Assert.Equal(first.LastVersion, again.LastVersion);
        Assert.Equal(first.Position, again.Position);
        await Assert.ThrowsAsync<EventIdConflictException>(() => store.AppendAsync(stream, ExpectedVersion.StreamExists, [last[2], Event()], Ct));
        await Assert.ThrowsAsync<EventIdConflictException>(() => store.AppendAsync(stream, ExpectedVersion.Any, [earlier[1], Event()], Ct));
        Assert.Equal(6, await RecordCountAsync(options));
        Assert.Equal(5, (await store.GetStreamInfoAsync(stream, Ct)).LastVersion);
    }

    [Fact]
    public async Task Without_the_pre_append_catch_up_the_log_still_picks_one_winner_and_recognises_a_resend_from_another_instance()
    {
        var options = Fixture.NewTopics();
        options.CatchUpBeforeAppend = false;
        await using var a = await KafkaFixture.OpenAsync(options, Ct);
        await using var b = await KafkaFixture.OpenAsync(options, Ct);
        var stream = new StreamName("Stale-1");
        var batch = new[] { Event(), Event() };
        var written = await a.AppendAsync(stream, ExpectedVersion.NoStream, batch, Ct);

        // b's index has not seen a's write: b writes a batch that loses in the log, then recognises it as a re-send.
        var resent = await b.AppendAsync(stream, ExpectedVersion.NoStream, batch, Ct);
        Assert.False(resent.WroteEvents);
        Assert.Equal(written.LastVersion, resent.LastVersion);

        var stale = await Assert.ThrowsAsync<WrongExpectedVersionException>(() => b.AppendAsync(new StreamName("Stale-2"), ExpectedVersion.Exact(0), [Event()], Ct));
        Assert.Equal(-1, stale.ActualVersion);
        await a.AppendAsync(new StreamName("Stale-3"), ExpectedVersion.NoStream, [Event()], Ct);
        await Assert.ThrowsAsync<WrongExpectedVersionException>(() => b.AppendAsync(new StreamName("Stale-3"), ExpectedVersion.NoStream, [Event()], Ct));

        foreach (var reader in new[] { a, b })
        {
            Assert.Equal(batch.Select(e => e.EventId), await reader.ReadStreamAsync(stream, cancellationToken: Ct).Select(e => e.EventId).ToListAsync(Ct));
            Assert.Single(await reader.ReadStreamAsync(new StreamName("Stale-3"), cancellationToken: Ct).ToListAsync(Ct));
            Assert.Equal(3, await reader.ReadAllAsync(cancellationToken: Ct).CountAsync(Ct));
        }
    }

    [Fact]
    public async Task Two_instances_alternating_appends_with_correct_expected_versions_all_succeed_first_time()
    {
        var options = Fixture.NewTopics();
        await using var a = await KafkaFixture.OpenAsync(options, Ct);
        await using var b = await KafkaFixture.OpenAsync(options, Ct);
        var stream = new StreamName("Turns-1");
        for (var v = 0; v < 20; v++)
        {
            var result = await (v % 2 == 0 ? a : b).AppendAsync(stream, v == 0 ? ExpectedVersion.NoStream : ExpectedVersion.Exact(v - 1), [Event()], Ct);
            Assert.Equal(v, result.LastVersion);
        }
        // No dead batches: each instance read the other's write before deciding, so every record is an accepted event.
        Assert.Equal(20, await RecordCountAsync(options));
        foreach (var reader in new[] { a, b })
            Assert.Equal(Enumerable.Range(0, 20).Select(v => (long)v), await reader.ReadStreamAsync(stream, cancellationToken: Ct).Select(e => e.Version).ToListAsync(Ct));
    }

    [Fact]
    public async Task A_read_only_instance_beside_a_writer_creates_no_producer_and_does_not_disturb_it()
    {
        var options = Fixture.NewTopics();
        await using var writer = await KafkaFixture.OpenAsync(options, Ct);
        var stream = new StreamName("Watched-1");
        await writer.AppendAsync(stream, ExpectedVersion.NoStream, [Event()], Ct);
        await using var reader = await KafkaFixture.OpenAsync(options, Ct);
        await TransactionalBrokerTests.ReadEverythingAsync(reader, stream);
        Assert.Equal(0, reader.ProducersCreated);
        Assert.Equal(1, (await writer.AppendAsync(stream, ExpectedVersion.Exact(0), [Event()], Ct)).LastVersion);
        Assert.Equal(1, (await reader.GetStreamInfoAsync(stream, Ct)).LastVersion);
        Assert.Equal(0, reader.ProducersCreated);
    }

    [Fact]
    public async Task Event_ids_are_written_in_RFC_4122_byte_order_and_records_of_earlier_versions_stay_readable()
    {
        var options = Fixture.NewTopics();
        var legacyId = Guid.NewGuid();
        using (var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = options.BootstrapServers }).Build())
        {
            static byte[] Int64(long v) => [.. BitConverter.GetBytes(v).Reverse()];
            // The layout earlier versions wrote: es-id in Guid.ToByteArray order and no es-format header.
            await producer.ProduceAsync(new TopicPartition(options.Topic, 0), new Message<byte[], byte[]>
            {
                Key = "Legacy-1"u8.ToArray(),
                Value = "{}"u8.ToArray(),
                Headers = new Headers
                {
                    { "es-id", legacyId.ToByteArray() }, { "es-type", "Old"u8.ToArray() }, { "es-version", Int64(0) },
                    { "es-batch-last", Int64(0) }, { "es-content-type", "application/json"u8.ToArray() }, { "es-schema-version", Int64(1) },
                },
            }, Ct);
        }
        await using var store = await KafkaFixture.OpenAsync(options, Ct);
        Assert.Equal(legacyId, (await store.ReadStreamAsync(new StreamName("Legacy-1"), cancellationToken: Ct).SingleAsync(Ct)).EventId);

        var e = Event();
        await store.AppendAsync(new StreamName("Modern-1"), ExpectedVersion.NoStream, [e], Ct);
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = options.BootstrapServers, GroupId = "probe" }).Build();
        consumer.Assign(new TopicPartitionOffset(options.Topic, 0, 1));
        var record = consumer.Consume(TimeSpan.FromSeconds(10))!;
        // What a Java or Go reader does with the 16 bytes: read them as the UUID's hex digits in order.
        Assert.Equal(e.EventId.ToString("N"), Convert.ToHexStringLower(record.Message.Headers.GetLastBytes("es-id")));
        Assert.Equal([2], record.Message.Headers.GetLastBytes("es-format"));
        Assert.Equal(8, record.Message.Headers.GetLastBytes("es-schema-version").Length);
        Assert.Equal(e.EventId, (await store.ReadStreamAsync(new StreamName("Modern-1"), cancellationToken: Ct).SingleAsync(Ct)).EventId);
    }
}
