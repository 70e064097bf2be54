using System.Runtime.InteropServices;
using Confluent.Kafka;

namespace EventStore.Providers.TestServers;

/// <summary>
/// librdkafka's in-process mock cluster, the local Kafka of the tests and the benchmark, held by this process for the
/// whole run (a child process that connects to it can be killed while the "brokers" and their data live on). Topics
/// are created through the native mock API because the mock does not implement the Admin CreateTopics request; it has
/// neither DescribeConfigs nor fencing transactions either, so stores on it turn both off (BACKENDS.md).
/// </summary>
public sealed class KafkaMockCluster : IDisposable
{
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] private delegate IntPtr ConfNew();
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] private delegate IntPtr ClientNew(int type, IntPtr conf, IntPtr errors, UIntPtr errorsSize);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] private delegate IntPtr ClusterNew(IntPtr client, int brokers);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] private delegate IntPtr ClusterBootstraps(IntPtr cluster);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] private delegate int TopicCreate(IntPtr cluster, [MarshalAs(UnmanagedType.LPUTF8Str)] string topic, int partitions, int replicationFactor);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] private delegate int RebalanceDelay(IntPtr cluster, int milliseconds);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] private delegate void PushRequestErrorsArray(IntPtr cluster, short apiKey, UIntPtr count, int[] errors);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] private delegate void ClientDestroy(IntPtr client);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] private delegate void ClusterDestroy(IntPtr cluster);

    private readonly IntPtr _client;
    private readonly IntPtr _cluster;
    private readonly TopicCreate _topicCreate;
    private readonly PushRequestErrorsArray _pushRequestErrors;
    private readonly ClientDestroy _destroy;
    private readonly ClusterDestroy _destroyCluster;

    /// <summary>Starts a mock cluster of <paramref name="brokers"/> brokers on 127.0.0.1.</summary>
    public KafkaMockCluster(int brokers)
    {
        var library = NativeLibrary.Load(LoadedLibrdkafka());
        T Export<T>(string name) where T : Delegate => Marshal.GetDelegateForFunctionPointer<T>(NativeLibrary.GetExport(library, name));
        _topicCreate = Export<TopicCreate>("rd_kafka_mock_topic_create");
        _pushRequestErrors = Export<PushRequestErrorsArray>("rd_kafka_mock_push_request_errors_array");
        _destroy = Export<ClientDestroy>("rd_kafka_destroy");
        _destroyCluster = Export<ClusterDestroy>("rd_kafka_mock_cluster_destroy");
        var errors = Marshal.AllocHGlobal(512);
        try
        {
            _client = Export<ClientNew>("rd_kafka_new")(1, Export<ConfNew>("rd_kafka_conf_new")(), errors, 512);
            if (_client == IntPtr.Zero) throw new InvalidOperationException("rd_kafka_new failed: " + Marshal.PtrToStringUTF8(errors));
        }
        finally
        {
            Marshal.FreeHGlobal(errors);
        }
        Brokers = brokers;
        _cluster = Export<ClusterNew>("rd_kafka_mock_cluster_new")(_client, brokers);
        if (_cluster == IntPtr.Zero) throw new InvalidOperationException("rd_kafka_mock_cluster_new failed");
        Export<RebalanceDelay>("rd_kafka_mock_group_initial_rebalance_delay_ms")(_cluster, 0);
        BootstrapServers = Marshal.PtrToStringUTF8(Export<ClusterBootstraps>("rd_kafka_mock_cluster_bootstraps")(_cluster))
            ?? throw new InvalidOperationException("the mock cluster reported no bootstrap servers");
    }

    /// <summary>The brokers' addresses.</summary>
    public string BootstrapServers { get; }

    /// <summary>Number of brokers.</summary>
    public int Brokers { get; }

    /// <summary>Creates a topic on the mock brokers (replicated to up to 3 of them).</summary>
    public void CreateTopic(string name, int partitions)
    {
        var error = _topicCreate(_cluster, name, partitions, Math.Min(3, Brokers));
        if (error != 0) throw new InvalidOperationException($"creating mock topic {name} failed with librdkafka error {error}");
    }

    /// <summary>
    /// Makes the next requests of one kind (<paramref name="apiKey"/>, e.g. 8 = OffsetCommit) to any mock broker fail
    /// with the given Kafka error codes, one per request, whichever client sends them.
    /// </summary>
    public void PushRequestErrors(short apiKey, params int[] errors) => _pushRequestErrors(_cluster, apiKey, (UIntPtr)errors.Length, errors);

    // Confluent.Kafka loads its librdkafka when the first client is built; the process map then names the very file.
    private static string LoadedLibrdkafka()
    {
        using (new ProducerBuilder<Null, Null>(new ProducerConfig { BootstrapServers = "127.0.0.1:9" }).SetLogHandler((_, _) => { }).Build())
        {
        }
        return File.ReadLines("/proc/self/maps")
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields.Length >= 6 && fields[5].Contains("librdkafka", StringComparison.Ordinal))
            .Select(fields => fields[5])
            .FirstOrDefault() ?? throw new InvalidOperationException("librdkafka was not loaded by Confluent.Kafka; the mock cluster needs it (Linux).");
    }

    /// <inheritdoc />
    /// <remarks>librdkafka aborts the process when a client is destroyed while its mock cluster still lives.</remarks>
    public void Dispose()
    {
        _destroyCluster(_cluster);
        _destroy(_client);
    }
}
