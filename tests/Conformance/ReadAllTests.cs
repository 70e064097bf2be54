using Xunit;

namespace EventStore.Providers.Conformance;

/// <summary>docs/conformance.md item 12: reading the global log forwards and backwards, paging by any size.</summary>
[Promise(12)]
public abstract class ReadAllTests(IEventStoreFixture fixture) : ConformanceTestBase(fixture)
{
    private async Task<List<EventData>> SeedInterleavedAsync(int streams = 3, int rounds = 4)
    {
        var names = Enumerable.Range(0, streams).Select(_ => NewStream()).ToList();
        var written = new List<EventData>();
        for (var r = 0; r < rounds; r++)
            foreach (var s in names)
            {
                var e = TestEvents.Create();
                await AppendAsync(s, r == 0 ? ExpectedVersion.NoStream : ExpectedVersion.Exact(r - 1), e);
                written.Add(e);
            }
        return written;
    }

    [Fact]
    public async Task Reading_all_forwards_returns_every_event_of_every_stream_in_position_order()
    {
        var written = await SeedInterleavedAsync();

        var read = await ReadAllAsync();

        Assert.Equal(written.Select(e => e.EventId).Order(), read.Select(e => e.EventId).Order());
        AssertInLogOrder(read);
        if (HasTotalOrder) Assert.Equal(written.Select(e => e.EventId), read.Select(e => e.EventId));
    }

    [Fact]
    public async Task Reading_all_from_a_position_returns_only_the_events_after_it()
    {
        await SeedInterleavedAsync();
        var all = await ReadAllAsync();

        var after = await ReadAllAsync(new ReadAllOptions { From = all[4].Position });

        Assert.DoesNotContain(after, e => e.EventId == all[4].EventId);
        if (HasTotalOrder) Assert.Equal(all.Skip(5).Select(e => e.EventId), after.Select(e => e.EventId));
        else Assert.Subset(all.Select(e => e.EventId).ToHashSet(), after.Select(e => e.EventId).ToHashSet());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(100)]
    public async Task Paging_all_forwards_by_any_page_size_neither_skips_nor_repeats(int pageSize)
    {
        var written = await SeedInterleavedAsync(streams: 4, rounds: 5);

        var read = new List<RecordedEvent>();
        Position? checkpoint = null;
        while (true)
        {
            var page = await ReadAllAsync(new ReadAllOptions { From = checkpoint, MaxCount = pageSize });
            Assert.True(page.Count <= pageSize, $"A page of max {pageSize} returned {page.Count} events.");
            if (page.Count == 0) break;
            read.AddRange(page);
            checkpoint = page[^1].Position;
        }

        Assert.Equal(written.Count, read.Count);
        Assert.Equal(written.Select(e => e.EventId).Order(), read.Select(e => e.EventId).Order());
        AssertInLogOrder(read);
    }

    [Fact]
    public async Task Reading_all_backwards_returns_the_newest_event_first()
    {
        await SeedInterleavedAsync();
        var forwards = await ReadAllAsync();

        var backwards = await ReadAllAsync(new ReadAllOptions { Direction = ReadDirection.Backwards });

        Assert.Equal(forwards.Count, backwards.Count);
        AssertInLogOrder(backwards, ReadDirection.Backwards);
        if (HasTotalOrder) Assert.Equal(forwards.Select(e => e.EventId).Reverse(), backwards.Select(e => e.EventId));
    }

    [Fact]
    public async Task Paging_all_backwards_from_a_position_is_exclusive_and_neither_skips_nor_repeats()
    {
        await SeedInterleavedAsync();
        var forwards = await ReadAllAsync();

        var read = new List<RecordedEvent>();
        Position? checkpoint = null;
        while (true)
        {
            var page = await ReadAllAsync(new ReadAllOptions { Direction = ReadDirection.Backwards, From = checkpoint, MaxCount = 5 });
            if (page.Count == 0) break;
            Assert.DoesNotContain(page, e => checkpoint is { } c && e.Position == c);
            read.AddRange(page);
            checkpoint = page[^1].Position;
        }

        Assert.Equal(forwards.Select(e => e.EventId).Order(), read.Select(e => e.EventId).Order());
        Assert.Equal(read.Count, read.Select(e => e.EventId).Distinct().Count());
    }

    [Fact]
    public async Task Reading_all_with_a_max_count_returns_at_most_that_many_events()
    {
        await SeedInterleavedAsync();

        Assert.Equal(7, (await ReadAllAsync(new ReadAllOptions { MaxCount = 7 })).Count);
        Assert.Equal(7, (await ReadAllAsync(new ReadAllOptions { MaxCount = 7, Direction = ReadDirection.Backwards })).Count);
        Assert.Empty(await ReadAllAsync(new ReadAllOptions { MaxCount = 0 }));
    }

    [Fact]
    public async Task An_empty_store_reads_as_empty_and_its_head_is_the_start()
    {
        Assert.Empty(await ReadAllAsync());
        Assert.Empty(await ReadAllAsync(new ReadAllOptions { Direction = ReadDirection.Backwards }));
        Assert.True((await Store.GetHeadPositionAsync(Ct)).IsStart);
    }

    [Fact]
    public async Task The_head_position_is_the_position_of_the_last_event_and_reading_after_it_is_empty()
    {
        await SeedInterleavedAsync();
        var last = (await ReadAllAsync(new ReadAllOptions { Direction = ReadDirection.Backwards, MaxCount = 1 })).Single();

        var head = await Store.GetHeadPositionAsync(Ct);

        if (HasTotalOrder) Assert.Equal(last.Position, head);
        Assert.Empty(await ReadAllAsync(new ReadAllOptions { From = head }));
    }

    [Fact]
    public async Task Reading_all_from_the_start_position_returns_everything()
    {
        var written = await SeedInterleavedAsync(streams: 2, rounds: 2);

        var read = await ReadAllAsync(new ReadAllOptions { From = Position.Start });

        Assert.Equal(written.Count, read.Count);
    }

    [Fact]
    public async Task A_position_resumes_the_same_way_after_a_round_trip_through_its_checkpoint_text()
    {
        await SeedInterleavedAsync();
        var all = await ReadAllAsync();
        var checkpoint = Position.Parse(all[5].Position.ToString());

        var resumed = await ReadAllAsync(new ReadAllOptions { From = checkpoint });

        Assert.Equal(all[5].Position, checkpoint);
        Assert.Equal(
            (await ReadAllAsync(new ReadAllOptions { From = all[5].Position })).Select(e => e.EventId),
            resumed.Select(e => e.EventId));
    }
}
