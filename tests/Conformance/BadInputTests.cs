using System.Reflection;
using Xunit;

namespace EventStore.Providers.Conformance;

/// <summary>docs/conformance.md item 22: bad input gets a clear typed exception before anything is written.</summary>
[Promise(22)]
public abstract class BadInputTests(IEventStoreFixture fixture) : ConformanceTestBase(fixture)
{
    private async Task AssertNothingWrittenAsync()
    {
        Assert.Empty(await ReadAllAsync());
        Assert.True((await Store.GetHeadPositionAsync(Ct)).IsStart);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("NoDash")]
    [InlineData("-id")]
    [InlineData("Category-")]
    [InlineData(" Order-1")]
    [InlineData("Order-1\0")]
    [InlineData("$all-1")]
    public void Invalid_stream_names_are_rejected_with_a_typed_exception(string name)
    {
        Assert.Throws<InvalidStreamNameException>(() => new StreamName(name));
        Assert.False(StreamName.TryParse(name, out _));
    }

    [Fact]
    public async Task Appending_to_a_default_stream_name_throws_invalid_stream_name_and_writes_nothing()
    {
        await Assert.ThrowsAsync<InvalidStreamNameException>(() => AppendAsync(default, ExpectedVersion.Any, TestEvents.Create()));

        await AssertNothingWrittenAsync();
    }

    [Fact]
    public async Task A_stream_name_over_the_provider_limit_is_rejected_and_nothing_is_written()
    {
        var tooLong = "Long-" + new string('x', Capabilities.MaxStreamNameLength + 1 - 5);

        await Assert.ThrowsAsync<InvalidStreamNameException>(() => AppendAsync(new StreamName(tooLong), ExpectedVersion.Any, TestEvents.Create()));

        await AssertNothingWrittenAsync();
    }

    [Fact]
    public async Task A_stream_name_at_the_provider_limit_is_stored_and_read_back()
    {
        var stream = new StreamName("Long-" + new string('x', Capabilities.MaxStreamNameLength - 5));
        var e = TestEvents.Create();

        await AppendAsync(stream, ExpectedVersion.NoStream, e);

        var read = Assert.Single(await ReadStreamAsync(stream));
        Assert.Equal(stream, read.Stream);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("Bad\nType")]
    public async Task An_invalid_event_type_is_rejected_and_nothing_is_written(string? eventType)
    {
        var e = new EventData(Guid.NewGuid(), eventType!, "{}"u8.ToArray());

        await Assert.ThrowsAsync<InvalidEventException>(() => AppendAsync(NewStream(), ExpectedVersion.Any, TestEvents.Create(), e));

        await AssertNothingWrittenAsync();
    }

    [Fact]
    public async Task An_event_over_the_size_limit_throws_event_too_large_naming_sizes_and_writes_nothing()
    {
        var e = new EventData(Guid.NewGuid(), "Huge", new byte[Capabilities.MaxEventSize], "x"u8.ToArray());

        var error = await Assert.ThrowsAsync<EventTooLargeException>(() => AppendAsync(NewStream(), ExpectedVersion.Any, e));

        Assert.Equal(e.EventId, error.EventId);
        Assert.Equal(Capabilities.MaxEventSize + 1, error.Size);
        Assert.Equal(Capabilities.MaxEventSize, error.Limit);
        await AssertNothingWrittenAsync();
    }

    [Fact]
    public async Task An_unknown_expected_version_kind_is_rejected_and_nothing_is_written()
    {
        object boxed = ExpectedVersion.Any;
        typeof(ExpectedVersion).GetField("<Kind>k__BackingField", BindingFlags.Instance | BindingFlags.NonPublic)!.SetValue(boxed, (ExpectedVersionKind)42);
        var forged = (ExpectedVersion)boxed;

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => AppendAsync(NewStream(), forged, TestEvents.Create()));

        await AssertNothingWrittenAsync();
    }

    [Fact]
    public async Task An_empty_event_id_a_zero_schema_version_or_an_empty_content_type_is_rejected()
    {
        var stream = NewStream();

        await Assert.ThrowsAsync<InvalidEventException>(() => AppendAsync(stream, ExpectedVersion.Any, TestEvents.Create() with { EventId = Guid.Empty }));
        await Assert.ThrowsAsync<InvalidEventException>(() => AppendAsync(stream, ExpectedVersion.Any, TestEvents.Create() with { SchemaVersion = 0 }));
        await Assert.ThrowsAsync<InvalidEventException>(() => AppendAsync(stream, ExpectedVersion.Any, TestEvents.Create() with { ContentType = "" }));

        await AssertNothingWrittenAsync();
    }

    [Fact]
    public async Task A_null_batch_or_a_null_event_is_rejected()
    {
        await Assert.ThrowsAnyAsync<ArgumentNullException>(() => Store.AppendAsync(NewStream(), ExpectedVersion.Any, null!, Ct));
        await Assert.ThrowsAnyAsync<ArgumentNullException>(() => Store.AppendAsync(NewStream(), ExpectedVersion.Any, [TestEvents.Create(), null!], Ct));

        await AssertNothingWrittenAsync();
    }

    [Fact]
    public async Task A_batch_over_the_provider_append_limit_is_rejected_and_nothing_is_written()
    {
        var batch = TestEvents.Batch(Capabilities.MaxEventsPerAppend + 1);

        await Assert.ThrowsAnyAsync<ArgumentOutOfRangeException>(() => AppendAsync(NewStream(), ExpectedVersion.Any, batch));

        await AssertNothingWrittenAsync();
    }

    [Fact]
    public async Task Negative_counts_and_versions_on_reads_are_rejected()
    {
        var stream = NewStream();
        await SeedAsync(stream, 1);

        await Assert.ThrowsAnyAsync<ArgumentOutOfRangeException>(() => ReadStreamAsync(stream, maxCount: -1));
        await Assert.ThrowsAnyAsync<ArgumentOutOfRangeException>(() => ReadStreamAsync(stream, fromVersion: -1));
        await Assert.ThrowsAnyAsync<ArgumentOutOfRangeException>(() => ReadAllAsync(new ReadAllOptions { MaxCount = -1 }));
        await Assert.ThrowsAnyAsync<ArgumentOutOfRangeException>(() => ReadStreamAsync(stream, (ReadDirection)7));
    }

    [Fact]
    public async Task Invalid_filters_and_subscription_options_are_rejected()
    {
        await Assert.ThrowsAnyAsync<ArgumentException>(() => ReadAllAsync(new ReadAllOptions { Filter = EventFilter.ForCategories("") }));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => ReadAllAsync(new ReadAllOptions { Filter = EventFilter.ForEventTypes("\n") }));
        await Assert.ThrowsAnyAsync<ArgumentOutOfRangeException>(async () =>
        {
            using var deadline = Deadline();
            await foreach (var _ in Store.SubscribeToAllAsync(new SubscribeToAllOptions { CheckpointInterval = 0 }, deadline.Token)) break;
        });
    }

    // Text that is not Unicode. Test cases carry a name, not the text: xUnit serializes theory data as UTF-8, which
    // would turn a lone surrogate into U+FFFD before the test sees it.
    private static readonly Dictionary<string, string> Unpaired = new()
    {
        ["lone high"] = "Bad\uD800Type",
        ["lone low"] = "\uDC00",
        ["reversed pair"] = "Type\uDE00\uD83D",
        ["cut pair"] = "Cut\uD83D",
    };

    /// <summary>The names of the unpaired-surrogate cases.</summary>
    public static TheoryData<string> UnpairedSurrogates => [.. Unpaired.Keys];

    [Theory]
    [MemberData(nameof(UnpairedSurrogates))]
    public void A_stream_name_with_an_unpaired_surrogate_is_rejected_with_a_typed_exception(string name)
    {
        var text = "Order-" + Unpaired[name];
        Assert.Throws<InvalidStreamNameException>(() => new StreamName(text));
        Assert.Throws<InvalidStreamNameException>(() => StreamName.For(Unpaired[name], "1"));
        Assert.False(StreamName.TryParse(text, out _));
    }

    [Theory]
    [MemberData(nameof(UnpairedSurrogates))]
    public async Task An_event_type_with_an_unpaired_surrogate_is_rejected_and_nothing_is_written(string name)
    {
        var bad = TestEvents.Create(Unpaired[name]);

        var error = await Assert.ThrowsAsync<InvalidEventException>(() => AppendAsync(NewStream(), ExpectedVersion.Any, TestEvents.Create(), bad));

        Assert.Equal(bad.EventId, error.EventId);
        Assert.Contains("surrogate", error.Reason, StringComparison.Ordinal);
        await AssertNothingWrittenAsync();
    }

    [Theory]
    [MemberData(nameof(UnpairedSurrogates))]
    public async Task A_content_type_with_an_unpaired_surrogate_is_rejected_and_nothing_is_written(string name)
    {
        var bad = TestEvents.Create() with { ContentType = "application/" + Unpaired[name] };

        var error = await Assert.ThrowsAsync<InvalidEventException>(() => AppendAsync(NewStream(), ExpectedVersion.Any, TestEvents.Create(), bad));

        Assert.Equal(bad.EventId, error.EventId);
        Assert.Contains("surrogate", error.Reason, StringComparison.Ordinal);
        await AssertNothingWrittenAsync();
    }

    [Theory]
    [MemberData(nameof(UnpairedSurrogates))]
    public async Task Categories_and_type_filters_with_an_unpaired_surrogate_are_rejected(string name)
    {
        var text = Unpaired[name];
        var stream = NewStream();
        await SeedAsync(stream, 1);

        await Assert.ThrowsAnyAsync<ArgumentException>(() => CollectAsync(Store.ReadCategoryAsync(text, null, Ct)));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => ReadAllAsync(new ReadAllOptions { Filter = EventFilter.ForCategories(text) }));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => ReadAllAsync(new ReadAllOptions { Filter = EventFilter.ForEventTypes(TestEvents.DefaultType, text) }));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => CollectAsync(Store.ReadCategoryAsync("Test", new ReadAllOptions { Filter = EventFilter.ForEventTypes(text) }, Ct)));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () =>
        {
            using var deadline = Deadline();
            await foreach (var _ in Store.SubscribeToAllAsync(new SubscribeToAllOptions { Filter = EventFilter.ForEventTypes(text) }, deadline.Token)) break;
        });
        Assert.Single(await ReadAllAsync());
    }

    [Fact]
    public async Task Paired_surrogates_in_the_event_type_and_content_type_are_valid_and_stored_exactly()
    {
        var stream = NewStream("Emoji\U0001F389");
        var e = TestEvents.Create("Order\U0001F600Placed") with { ContentType = "application/vnd.\U0001F680+json" };

        await AppendAsync(stream, ExpectedVersion.NoStream, e);

        AssertSameEvent(e, Assert.Single(await ReadStreamAsync(stream)));
        Assert.Equal(e.EventId, Assert.Single(await ReadAllAsync(new ReadAllOptions { Filter = EventFilter.ForEventTypes(e.EventType) })).EventId);
        Assert.Equal(e.EventId, Assert.Single(await CollectAsync(Store.ReadCategoryAsync("Emoji\U0001F389", null, Ct))).EventId);
    }

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("1:x")]
    [InlineData("-5")]
    [InlineData("+5")]
    [InlineData("-0")]
    [InlineData("1\0")]
    [InlineData("01")]
    public void An_unparseable_checkpoint_text_throws_invalid_position(string text)
    {
        Assert.Throws<InvalidPositionException>(() => Position.Parse(text));
    }

    [Fact]
    public async Task Bad_input_never_loses_earlier_events_and_the_store_stays_usable()
    {
        var stream = NewStream();
        var earlier = await SeedAsync(stream, 3);

        await Assert.ThrowsAsync<EventTooLargeException>(() => AppendAsync(stream, ExpectedVersion.Exact(2), new EventData(Guid.NewGuid(), "Huge", new byte[Capabilities.MaxEventSize + 1])));
        await Assert.ThrowsAsync<InvalidEventException>(() => AppendAsync(stream, ExpectedVersion.Exact(2), new EventData(Guid.NewGuid(), "", "{}"u8.ToArray())));
        await Assert.ThrowsAsync<DuplicateEventIdException>(() => AppendAsync(stream, ExpectedVersion.Exact(2), earlier[0].WithNewId(), earlier[0].WithNewId() with { EventId = earlier[1].EventId }, earlier[1]));
        var result = await AppendAsync(stream, ExpectedVersion.Exact(2), TestEvents.Create());

        Assert.Equal(3, result.LastVersion);
        var read = await ReadStreamAsync(stream);
        for (var i = 0; i < earlier.Length; i++) AssertSameEvent(earlier[i], read[i]);
        Assert.Equal(4, read.Count);
    }
}
