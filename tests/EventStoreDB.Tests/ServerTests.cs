using System.Text;
using EventStore.Providers.EventStoreDB.Protocol.Streams;
using EventStore.Providers.Serialization;

namespace EventStore.Providers.EventStoreDB.Tests;

/// <summary>
/// Protocol checks against a real server that the conformance suite does not make: they need a server and are
/// skipped (with the reason printed) without one.
/// </summary>
public sealed class ServerTests : IClassFixture<EventStoreDBFixture>
{
    private readonly EventStoreDBFixture _fixture;

    public ServerTests(EventStoreDBFixture fixture) => _fixture = fixture;

    private static EventData Event(string type = "OrderPlaced") => new(Guid.NewGuid(), type, Encoding.UTF8.GetBytes("{\"n\":1}"));

    [Fact]
    public async Task Appending_twice_with_the_same_ids_writes_once_and_reports_the_original_result()
    {
        await using var sut = await _fixture.CreateStoreAsync(TestContext.Current.CancellationToken);
        var stream = new StreamName("Order-1");
        EventData[] batch = [Event(), Event()];
        var first = await sut.Store.AppendAsync(stream, ExpectedVersion.NoStream, batch, TestContext.Current.CancellationToken);
        var again = await sut.Store.AppendAsync(stream, ExpectedVersion.NoStream, batch, TestContext.Current.CancellationToken);
        Assert.True(first.WroteEvents);
        Assert.False(again.WroteEvents);
        Assert.Equal(first.LastVersion, again.LastVersion);
        Assert.Equal(first.Position, again.Position);
        var other = await sut.OpenAnotherInstanceAsync(TestContext.Current.CancellationToken);
        var fromElsewhere = await other.AppendAsync(stream, ExpectedVersion.NoStream, batch, TestContext.Current.CancellationToken);
        Assert.Equal(first.LastVersion, fromElsewhere.LastVersion);
        Assert.False(fromElsewhere.WroteEvents);
        var stored = await sut.Store.ReadStreamAsync(stream, cancellationToken: TestContext.Current.CancellationToken).ToListAsync(TestContext.Current.CancellationToken);
        Assert.Equal(2, stored.Count);
    }

    [Fact]
    public async Task Many_concurrent_appends_share_the_batch_stream_and_all_land()
    {
        await using var sut = await _fixture.CreateStoreAsync(TestContext.Current.CancellationToken);
        var results = await Task.WhenAll(Enumerable.Range(0, 200).Select(i =>
            sut.Store.AppendAsync(new StreamName($"Cart-{i}"), ExpectedVersion.NoStream, [Event()], TestContext.Current.CancellationToken)));
        Assert.All(results, r => Assert.Equal(0, r.LastVersion));
        Assert.Equal(200, results.Select(r => r.Position).Distinct().Count());
        var all = await sut.Store.ReadAllAsync(cancellationToken: TestContext.Current.CancellationToken).ToListAsync(TestContext.Current.CancellationToken);
        Assert.Equal(200, all.Count);
    }

    [Fact]
    public async Task Stream_metadata_max_count_is_written_and_read_back()
    {
        await using var sut = await _fixture.CreateStoreAsync(TestContext.Current.CancellationToken);
        var store = (EventStoreDBEventStore)sut.Store;
        var stream = new StreamName("Log-1");
        await store.AppendAsync(stream, ExpectedVersion.Any, [Event(), Event(), Event()], TestContext.Current.CancellationToken);
        await store.SetStreamMetadataAsync(stream, new EventStoreDBStreamMetadata(MaxCount: 1, MaxAge: TimeSpan.FromDays(1)), TestContext.Current.CancellationToken);
        var metadata = await store.GetStreamMetadataAsync(stream, TestContext.Current.CancellationToken);
        Assert.Equal(1, metadata!.MaxCount);
        Assert.Equal(TimeSpan.FromDays(1), metadata.MaxAge);
        var visible = await store.ReadStreamAsync(stream, cancellationToken: TestContext.Current.CancellationToken).ToListAsync(TestContext.Current.CancellationToken);
        Assert.Equal(2, Assert.Single(visible).Version);
    }

    private static async Task<List<ReadResp.Types.ReadEvent>> ReadRawAsync(EventStoreDBEventStore store, string serverStream, bool resolveLinks = false)
    {
        var events = new List<ReadResp.Types.ReadEvent>();
        var request = EventStoreDBEventStore.StreamRead(serverStream, ReadDirection.Forwards, null, 100, resolveLinks);
        await foreach (var response in store.ReadAsync(request, null, TestContext.Current.CancellationToken))
            if (response.ContentCase == ReadResp.ContentOneofCase.Event) events.Add(response.Event);
        return events;
    }

    [Fact]
    public async Task A_plain_grpc_read_returns_the_applications_metadata_bytes_and_the_json_flag()
    {
        await using var sut = await _fixture.CreateStoreAsync(TestContext.Current.CancellationToken);
        var store = (EventStoreDBEventStore)sut.Store;
        var stream = new StreamName("Order-1");
        var metadata = "{\"$correlationId\":\"c-1\",\"tenant\":\"t\"}"u8.ToArray();
        EventData[] batch =
        [
            new(Guid.NewGuid(), "OrderPlaced", "{\"n\":1}"u8.ToArray(), metadata),
            new(Guid.NewGuid(), "OrderShipped", "{\"n\":2}"u8.ToArray(), metadata, "application/vnd.order+json"),
        ];
        await store.AppendAsync(stream, ExpectedVersion.NoStream, batch, TestContext.Current.CancellationToken);

        var raw = await ReadRawAsync(store, store.Names.ToServer(stream));

        Assert.Equal(2, raw.Count);
        Assert.Equal(metadata, raw[0].Event.CustomMetadata.ToByteArray());
        Assert.Equal("application/json", raw[0].Event.Metadata["content-type"]);
        Assert.Equal("application/json", raw[1].Event.Metadata["content-type"]);
        Assert.Equal("{\"$contentType\":\"application/vnd.order+json\",\"$correlationId\":\"c-1\",\"tenant\":\"t\"}", raw[1].Event.CustomMetadata.ToStringUtf8());
        var read = await store.ReadStreamAsync(stream, cancellationToken: TestContext.Current.CancellationToken).ToListAsync(TestContext.Current.CancellationToken);
        Assert.All(read, e => Assert.Equal(metadata, e.Metadata.ToArray()));
        Assert.Equal("application/vnd.order+json", read[1].ContentType);
    }

    [Fact]
    public async Task The_servers_correlation_projection_links_an_event_appended_with_a_correlation_id()
    {
        await using var sut = await _fixture.CreateStoreAsync(TestContext.Current.CancellationToken);
        var store = (EventStoreDBEventStore)sut.Store;
        var correlationId = $"corr-{Guid.NewGuid():N}";
        var serializer = new JsonEventSerializer(new EventTypeRegistry().Register<Dictionary<string, int>>("Counted"));
        var e = serializer.Serialize(new Dictionary<string, int> { ["n"] = 1 }, new EventMetadata { CorrelationId = correlationId, CausationId = "cause-1" });
        await store.AppendAsync(new StreamName("Order-1"), ExpectedVersion.NoStream, [e], TestContext.Current.CancellationToken);

        // The $by_correlation_id standard projection writes $bc-<id> asynchronously.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        List<ReadResp.Types.ReadEvent> links;
        while ((links = await ReadRawAsync(store, $"$bc-{correlationId}", resolveLinks: true)).Count == 0 && DateTime.UtcNow < deadline)
            await Task.Delay(250, TestContext.Current.CancellationToken);

        Assert.True(links.Count == 1, $"$bc-{correlationId} did not appear within 30 s: is the $by_correlation_id projection running (--run-projections=All --start-standard-projections=true)?");
        Assert.Equal(e.EventId, EventStore.Providers.EventStoreDB.Protocol.EsdbProtocol.FromUuid(links[0].Event.Id));
    }
}
