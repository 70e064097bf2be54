using Xunit;

namespace EventStore.Providers.Conformance;

/// <summary>docs/conformance.md item 14: category reads and event-type filters return exactly the matching events, in order.</summary>
[Promise(14)]
public abstract class FilterTests(IEventStoreFixture fixture) : ConformanceTestBase(fixture)
{
    private static readonly string Run = Guid.NewGuid().ToString("N")[..8];

    private async Task<List<RecordedEvent>> SeedMixAsync()
    {
        var orders = new[] { NewStream("Order"), NewStream("Order") };
        var lines = NewStream("OrderLine");
        var customers = NewStream("Customer");
        for (var round = 0; round < 3; round++)
        {
            var expected = round == 0 ? ExpectedVersion.NoStream : ExpectedVersion.Exact(round * 2 - 1);
            await AppendAsync(orders[0], expected, TestEvents.Create("OrderPlaced"), TestEvents.Create("OrderShipped"));
            await AppendAsync(lines, expected, TestEvents.Create("LineAdded"), TestEvents.Create("OrderPlaced"));
            await AppendAsync(customers, expected, TestEvents.Create("CustomerRegistered"), TestEvents.Create("OrderPlaced"));
            await AppendAsync(orders[1], expected, TestEvents.Create("OrderPlaced"), TestEvents.Create("OrderCancelled"));
        }
        return await ReadAllAsync();
    }

    [Fact]
    public async Task Reading_a_category_returns_exactly_the_events_of_its_streams_in_position_order()
    {
        var all = await SeedMixAsync();

        var read = await CollectAsync(Store.ReadCategoryAsync("Order", cancellationToken: Ct));

        var expected = all.Where(e => e.Stream.Category == "Order").ToList();
        Assert.Equal(12, read.Count);
        Assert.Equal(expected.Select(e => e.EventId).Order(), read.Select(e => e.EventId).Order());
        Assert.All(read, e => Assert.Equal("Order", e.Stream.Category));
        AssertInLogOrder(read);
        if (HasTotalOrder) Assert.Equal(expected.Select(e => e.EventId), read.Select(e => e.EventId));
    }

    [Fact]
    public async Task A_category_does_not_match_a_longer_category_that_starts_with_it()
    {
        await SeedMixAsync();

        var read = await CollectAsync(Store.ReadCategoryAsync("Order", cancellationToken: Ct));
        var lines = await CollectAsync(Store.ReadCategoryAsync("OrderLine", cancellationToken: Ct));

        Assert.DoesNotContain(read, e => e.Stream.Category == "OrderLine");
        Assert.Equal(6, lines.Count);
    }

    [Fact]
    public async Task Reading_a_category_with_an_event_type_filter_returns_events_matching_both()
    {
        await SeedMixAsync();

        var read = await CollectAsync(Store.ReadCategoryAsync("Order", new ReadAllOptions { Filter = EventFilter.ForEventTypes("OrderPlaced") }, Ct));

        Assert.Equal(6, read.Count);
        Assert.All(read, e => Assert.True(e.Stream.Category == "Order" && e.EventType == "OrderPlaced"));
    }

    [Fact]
    public async Task Reading_a_category_pages_from_an_exclusive_position_without_skipping_or_repeating()
    {
        await SeedMixAsync();
        var whole = await CollectAsync(Store.ReadCategoryAsync("Order", cancellationToken: Ct));

        var paged = new List<RecordedEvent>();
        Position? from = null;
        while (true)
        {
            var page = await CollectAsync(Store.ReadCategoryAsync("Order", new ReadAllOptions { From = from, MaxCount = 5 }, Ct));
            if (page.Count == 0) break;
            paged.AddRange(page);
            from = page[^1].Position;
        }

        Assert.Equal(whole.Select(e => e.EventId).Order(), paged.Select(e => e.EventId).Order());
        Assert.Equal(paged.Count, paged.Select(e => e.EventId).Distinct().Count());
    }

    [Fact]
    public async Task Reading_a_category_backwards_returns_its_newest_event_first()
    {
        await SeedMixAsync();
        var forwards = await CollectAsync(Store.ReadCategoryAsync("Customer", cancellationToken: Ct));

        var backwards = await CollectAsync(Store.ReadCategoryAsync("Customer", new ReadAllOptions { Direction = ReadDirection.Backwards }, Ct));

        Assert.Equal(forwards.Select(e => e.EventId).Reverse(), backwards.Select(e => e.EventId));
    }

    [Fact]
    public async Task Reading_an_unknown_category_is_empty()
    {
        await SeedMixAsync();

        Assert.Empty(await CollectAsync(Store.ReadCategoryAsync("Nothing" + Run, cancellationToken: Ct)));
    }

    [Fact]
    public async Task Filtering_all_by_event_type_returns_exactly_the_matching_events_in_order()
    {
        var all = await SeedMixAsync();

        var read = await ReadAllAsync(new ReadAllOptions { Filter = EventFilter.ForEventTypes("OrderPlaced", "LineAdded") });

        var expected = all.Where(e => e.EventType is "OrderPlaced" or "LineAdded").ToList();
        Assert.Equal(15, read.Count);
        Assert.Equal(expected.Select(e => e.EventId).Order(), read.Select(e => e.EventId).Order());
        AssertInLogOrder(read);
    }

    [Fact]
    public async Task Filtering_all_by_several_categories_returns_events_of_any_of_them()
    {
        await SeedMixAsync();

        var read = await ReadAllAsync(new ReadAllOptions { Filter = EventFilter.ForCategories("OrderLine", "Customer") });

        Assert.Equal(12, read.Count);
        Assert.All(read, e => Assert.Contains(e.Stream.Category, new[] { "OrderLine", "Customer" }));
    }

    [Fact]
    public async Task Filtering_all_by_category_and_event_type_requires_both()
    {
        await SeedMixAsync();

        var read = await ReadAllAsync(new ReadAllOptions { Filter = new EventFilter { Categories = ["Customer"], EventTypes = ["OrderPlaced"] } });

        Assert.Equal(3, read.Count);
        Assert.All(read, e => Assert.True(e.Stream.Category == "Customer" && e.EventType == "OrderPlaced"));
    }

    [Fact]
    public async Task A_filtered_read_with_max_count_returns_the_first_matching_events()
    {
        var all = await SeedMixAsync();

        var read = await ReadAllAsync(new ReadAllOptions { Filter = EventFilter.ForEventTypes("OrderShipped"), MaxCount = 2 });

        Assert.Equal(2, read.Count);
        if (HasTotalOrder)
            Assert.Equal(all.Where(e => e.EventType == "OrderShipped").Take(2).Select(e => e.EventId), read.Select(e => e.EventId));
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("Order-1")]
    public async Task Reading_an_invalid_category_throws_before_reading(string category)
    {
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await CollectAsync(Store.ReadCategoryAsync(category, cancellationToken: Ct)));
    }
}
