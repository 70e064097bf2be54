using Xunit;

namespace EventStore.Providers.Conformance;

/// <summary>
/// docs/conformance.md item 24: names with quotes, SQL or regex metacharacters and non-ASCII text round-trip exactly and can
/// never change a query.
/// </summary>
[Promise(24)]
public abstract class MetacharacterTests(IEventStoreFixture fixture) : ConformanceTestBase(fixture)
{
    /// <summary>Categories (a category cannot hold '-'; the ids add SQL comments) that are hostile to SQL, LIKE, regex, JSON, paths and encodings.</summary>
    public static TheoryData<string> HostileCategories =>
    [
        "It's\"quoted\"`back`",
        "Drop'); DROP TABLE events;#",
        "Regex.*+?^$[az]{2}(x|y)\\d",
        "Like%_",
        "Ünïcödé日本語🎉café",
        "Json{\"a\":[1]}",
        "Path/..\\x",
    ];

    [Theory]
    [MemberData(nameof(HostileCategories))]
    public async Task Stream_names_with_metacharacters_round_trip_exactly(string category)
    {
        var stream = StreamName.For(category, "id'; --%_.*-" + Guid.NewGuid().ToString("N"));
        var e = TestEvents.Create();

        await AppendAsync(stream, ExpectedVersion.NoStream, e);

        var read = Assert.Single(await ReadStreamAsync(stream));
        Assert.Equal(stream.Value, read.Stream.Value);
        Assert.Equal(category, read.Stream.Category);
        var info = await Store.GetStreamInfoAsync(stream, Ct);
        Assert.True(info.Exists);
        Assert.Equal(stream.Value, (await ReadAllAsync()).Single().Stream.Value);
    }

    [Theory]
    [MemberData(nameof(HostileCategories))]
    public async Task Event_types_with_metacharacters_round_trip_and_filter_exactly(string eventType)
    {
        var stream = NewStream();
        var hostile = TestEvents.Create(eventType);
        await AppendAsync(stream, ExpectedVersion.NoStream, TestEvents.Create("Plain"), hostile, TestEvents.Create("PlainOther"));

        var read = await ReadStreamAsync(stream);
        var filtered = await ReadAllAsync(new ReadAllOptions { Filter = EventFilter.ForEventTypes(eventType) });

        Assert.Equal(eventType, read[1].EventType);
        Assert.Equal(hostile.EventId, Assert.Single(filtered).EventId);
    }

    [Theory]
    [MemberData(nameof(HostileCategories))]
    public async Task A_category_with_metacharacters_matches_only_its_own_streams(string category)
    {
        var mine = StreamName.For(category, Guid.NewGuid().ToString("N"));
        await SeedAsync(mine, 2);
        await SeedAsync(NewStream("Order"), 2);
        await SeedAsync(NewStream("LikeXY"), 2);
        await SeedAsync(NewStream("Regexa"), 2);

        var read = await CollectAsync(Store.ReadCategoryAsync(category, cancellationToken: Ct));

        Assert.Equal(2, read.Count);
        Assert.All(read, e => Assert.Equal(mine, e.Stream));
    }

    [Fact]
    public async Task A_stream_name_that_looks_like_a_wildcard_never_reads_other_streams()
    {
        var id = Guid.NewGuid().ToString("N");
        await SeedAsync(StreamName.For("Order", id + "1"), 1);
        await SeedAsync(StreamName.For("Order", id + "2"), 1);

        Assert.Empty(await ReadStreamAsync(StreamName.For("Order", id + "%")));
        Assert.Empty(await ReadStreamAsync(StreamName.For("Order", id + "_")));
        Assert.Empty(await ReadStreamAsync(StreamName.For("Order", id + ".*")));
        Assert.Empty(await ReadStreamAsync(StreamName.For("Order", id + "' OR '1'='1")));
    }

    [Fact]
    public async Task Event_type_filters_with_wildcards_match_only_literally()
    {
        await AppendAsync(NewStream(), ExpectedVersion.NoStream, TestEvents.Create("OrderPlaced"), TestEvents.Create("OrderShipped"));

        Assert.Empty(await ReadAllAsync(new ReadAllOptions { Filter = EventFilter.ForEventTypes("Order%") }));
        Assert.Empty(await ReadAllAsync(new ReadAllOptions { Filter = EventFilter.ForEventTypes("Order.*") }));
        Assert.Empty(await ReadAllAsync(new ReadAllOptions { Filter = EventFilter.ForEventTypes("OrderPlace_") }));
        Assert.Empty(await ReadAllAsync(new ReadAllOptions { Filter = EventFilter.ForEventTypes("orderplaced") }));
    }

    [Fact]
    public async Task Non_ascii_payloads_and_metadata_round_trip_byte_for_byte()
    {
        var stream = StreamName.For("Ünïcödé", "日本語-🎉");
        var e = new EventData(Guid.NewGuid(), "Zoë's ☃ event", "{\"text\":\"Ελληνικά — 中文 — עברית — 🎉\"}"u8.ToArray(), "{\"user\":\"Zoë\"}"u8.ToArray());

        await AppendAsync(stream, ExpectedVersion.NoStream, e);

        AssertSameEvent(e, Assert.Single(await ReadStreamAsync(stream)));
    }
}
