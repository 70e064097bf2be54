using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using EventStore.Providers.Projections;
using Xunit;

namespace EventStore.Providers.Kafka.Tests;

/// <summary>Start-up checks (topics, partition count, reachability) and positions across partitions, on the mock cluster.</summary>
public sealed class KafkaStartupTests
{
    private static readonly ThreePartitionKafkaFixture Fixture = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static EventData Event() => new(Guid.NewGuid(), "Happened", Encoding.UTF8.GetBytes("{}"));

    [Fact]
    public async Task A_missing_events_snapshot_or_checkpoint_topic_is_named_as_missing()
    {
        // Topics are made one at a time through the mock cluster's own API; a real broker's are made by the store.
        if (KafkaServer.Current.KafkaMock is not { } mock)
        {
            Assert.Skip("creates topics one by one through the librdkafka mock cluster's API; the broker named here is a real one");
            return;
        }
        var options = KafkaFixture.OptionsFor($"absent-{Guid.NewGuid():N}"[..30]);
        options.RequestTimeout = TimeSpan.FromSeconds(5);
        await using (var store = new KafkaEventStore(options))
        {
            var e = await Assert.ThrowsAsync<EventStoreConfigurationException>(() => store.InitializeAsync(Ct));
            Assert.Equal("EventStore:Kafka:CreateTopics", e.Key);
            Assert.Contains($"topic '{options.Topic}' (EventStore:Kafka:Topic) does not exist", e.Message, StringComparison.Ordinal);
        }
        mock.CreateTopic(options.Topic, 1);
        await using (var store = new KafkaEventStore(options))
        {
            var e = await Assert.ThrowsAsync<EventStoreConfigurationException>(() => store.InitializeAsync(Ct));
            Assert.Equal("EventStore:Kafka:CreateTopics", e.Key);
            Assert.Contains("EventStore:Kafka:SnapshotTopic", e.Message, StringComparison.Ordinal);
            Assert.Contains(options.EffectiveSnapshotTopic, e.Message, StringComparison.Ordinal);
        }
        mock.CreateTopic(options.EffectiveSnapshotTopic, 1);
        await using (var store = new KafkaEventStore(options))
        {
            var e = await Assert.ThrowsAsync<EventStoreConfigurationException>(() => store.InitializeAsync(Ct));
            Assert.Equal("EventStore:Kafka:CreateTopics", e.Key);
            Assert.Contains("EventStore:Kafka:CheckpointTopic", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task An_unreachable_broker_fails_as_transient_naming_the_connection_error_before_the_request_timeout()
    {
        var options = new KafkaEventStoreOptions
        {
            // Port 1 on the loopback: nothing listens, connections are refused.
            BootstrapServers = "127.0.0.1:1",
            Topic = "unreachable",
            UseTransactions = false,
            RequestTimeout = TimeSpan.FromSeconds(60),
        };
        await using var store = new KafkaEventStore(options);
        var clock = Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<TransientEventStoreException>(() => store.InitializeAsync(Ct));
        Assert.Contains("unreachable", e.Message, StringComparison.Ordinal);
        Assert.Contains("127.0.0.1:1", e.Message, StringComparison.Ordinal);
        Assert.Contains("refused", e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.True(clock.Elapsed < options.RequestTimeout, $"failed only after {clock.Elapsed}");
    }

    [Fact]
    public async Task A_changed_partition_count_of_the_events_topic_stops_the_start()
    {
        var options = Fixture.NewTopics();
        await using (var store = await KafkaFixture.OpenAsync(options, Ct))
            await store.AppendAsync(new StreamName("Order-1"), ExpectedVersion.NoStream, [Event()], Ct);
        await using (var again = await KafkaFixture.OpenAsync(options, Ct))
            Assert.Equal(3, again.PartitionCount);
        // As if the topic had been created with 2 partitions and later grown to 3.
        using (var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = options.BootstrapServers }).Build())
            await producer.ProduceAsync(options.EffectiveIndexTopic, new Message<byte[], byte[]> { Key = "partitions"u8.ToArray(), Value = [0, 0, 0, 2] }, Ct);
        await using var changed = new KafkaEventStore(options);
        var e = await Assert.ThrowsAsync<EventStoreConfigurationException>(() => changed.InitializeAsync(Ct));
        Assert.Equal("EventStore:Kafka:Topic", e.Key);
        Assert.Contains($"'{options.Topic}', which has 3 partition(s), but its events were written with 2", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Waiting_for_an_append_position_on_several_partitions_waits_for_that_event()
    {
        var options = Fixture.NewTopics();
        await using var store = await KafkaFixture.OpenAsync(options, Ct);
        // Streams in every partition, so the subscription's vector is ahead in the other partitions.
        for (var i = 0; i < 12; i++) await store.AppendAsync(new StreamName($"Warm-{i}"), ExpectedVersion.Any, [Event()], Ct);
        var handler = new Recorder();
        await using var runner = new SubscriptionRunner("read-your-writes", store, store.Checkpoints, handler);
        await runner.StartAsync(Ct);
        for (var i = 0; i < 12; i++)
        {
            var e = Event();
            var result = await store.AppendAsync(new StreamName($"Target-{i}"), ExpectedVersion.Any, [e], Ct);
            await runner.WaitForPositionAsync(result.Position, Ct).WaitAsync(TimeSpan.FromSeconds(30), Ct);
            Assert.Contains(e.EventId, handler.Seen);
        }
    }

    private sealed class Recorder : ISubscriptionHandler
    {
        private readonly List<Guid> _seen = [];

        public IReadOnlyList<Guid> Seen
        {
            get { lock (_seen) return [.. _seen]; }
        }

        public async Task HandleAsync(IReadOnlyList<RecordedEvent> events, SubscriptionContext context, CancellationToken cancellationToken)
        {
            // A slow handler: progress in other partitions must not count as having handled this event.
            await Task.Delay(20, cancellationToken);
            lock (_seen) _seen.AddRange(events.Select(e => e.EventId));
        }
    }
}
