using System.Text;

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
}
