using System.Runtime.InteropServices;
using System.Text;
using Confluent.Kafka;

namespace EventStore.Providers.Kafka.Tests;

/// <summary>
/// librdkafka's in-process mock cluster, driven through its native API: Confluent.Kafka exposes no way to create
/// topics on the mock (its Admin CreateTopics is unsupported there), so the fixture resolves the mock functions from
/// the very librdkafka file Confluent.Kafka loaded.
/// </summary>
internal sealed unsafe class MockCluster : IDisposable
{
    private readonly IntPtr _client;
    private readonly IntPtr _cluster;
    private readonly delegate* unmanaged<IntPtr, byte*, int, int, int> _topicCreate;
    private readonly delegate* unmanaged<IntPtr, void> _destroy;

    public MockCluster(int brokers)
    {
        // Loading any client makes Confluent.Kafka load its librdkafka; /proc/self/maps then names the file.
        using (new ProducerBuilder<Null, Null>(new ProducerConfig { BootstrapServers = "127.0.0.1:9" }).SetLogHandler((_, _) => { }).Build())
        {
        }
        var path = File.ReadLines("/proc/self/maps")
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(p => p.Length >= 6 && p[5].Contains("librdkafka", StringComparison.Ordinal))
            .Select(p => p[5]).FirstOrDefault()
            ?? throw new InvalidOperationException("librdkafka is not loaded; the mock cluster needs Confluent.Kafka's native library (Linux only).");
        var lib = NativeLibrary.Load(path);
        var confNew = (delegate* unmanaged<IntPtr>)NativeLibrary.GetExport(lib, "rd_kafka_conf_new");
        var kafkaNew = (delegate* unmanaged<int, IntPtr, byte*, nuint, IntPtr>)NativeLibrary.GetExport(lib, "rd_kafka_new");
        var clusterNew = (delegate* unmanaged<IntPtr, int, IntPtr>)NativeLibrary.GetExport(lib, "rd_kafka_mock_cluster_new");
        var bootstraps = (delegate* unmanaged<IntPtr, IntPtr>)NativeLibrary.GetExport(lib, "rd_kafka_mock_cluster_bootstraps");
        var rebalanceDelay = (delegate* unmanaged<IntPtr, int, int>)NativeLibrary.GetExport(lib, "rd_kafka_mock_group_initial_rebalance_delay_ms");
        _topicCreate = (delegate* unmanaged<IntPtr, byte*, int, int, int>)NativeLibrary.GetExport(lib, "rd_kafka_mock_topic_create");
        _destroy = (delegate* unmanaged<IntPtr, void>)NativeLibrary.GetExport(lib, "rd_kafka_destroy");
        var error = stackalloc byte[512];
        _client = kafkaNew(0, confNew(), error, 512);
        if (_client == IntPtr.Zero) throw new InvalidOperationException("rd_kafka_new failed: " + Marshal.PtrToStringUTF8((IntPtr)error));
        _cluster = clusterNew(_client, brokers);
        if (_cluster == IntPtr.Zero) throw new InvalidOperationException("rd_kafka_mock_cluster_new failed.");
        rebalanceDelay(_cluster, 0);
        BootstrapServers = Marshal.PtrToStringUTF8(bootstraps(_cluster))!;
    }

    public string BootstrapServers { get; }

    public void CreateTopic(string name, int partitions)
    {
        var bytes = Encoding.UTF8.GetBytes(name + "\0");
        int err;
        fixed (byte* p = bytes) err = _topicCreate(_cluster, p, partitions, 3);
        if (err != 0) throw new InvalidOperationException($"rd_kafka_mock_topic_create({name}) failed with error {err}.");
    }

    public void Dispose() => _destroy(_client);
}
