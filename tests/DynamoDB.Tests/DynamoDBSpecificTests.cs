using Amazon.DynamoDBv2.Model;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace EventStore.Providers.DynamoDB.Tests;

/// <summary>What is particular to DynamoDB: item and page limits, unknown outcomes, reserved positions.</summary>
public sealed class DynamoDBSpecificTests(DynamoDBServer server)
{
    private readonly DynamoDBFixture _fixture = new(server);

    [Fact]
    public async Task An_event_over_the_item_limit_is_refused_before_anything_is_written()
    {
        await using var sut = await _fixture.CreateStoreAsync(TestContext.Current.CancellationToken);
        var stream = TestEvents.Stream();
        var small = TestEvents.New();
        var huge = TestEvents.New(dataBytes: sut.Store.Capabilities.MaxEventSize + 1);
        var e = await Assert.ThrowsAsync<EventTooLargeException>(() => sut.Store.AppendAsync(stream, ExpectedVersion.NoStream, [small, huge]));
        Assert.Equal(huge.EventId, e.EventId);
        Assert.False((await sut.Store.GetStreamInfoAsync(stream)).Exists);
        Assert.Empty(await sut.Store.ReadAllAsync().ToListAsync());
        Assert.Equal(Position.Start, await sut.Store.GetHeadPositionAsync());
    }

    [Fact]
    public async Task An_event_of_exactly_the_declared_maximum_size_is_stored_and_read_back()
    {
        await using var sut = await _fixture.CreateStoreAsync(TestContext.Current.CancellationToken);
        var stream = TestEvents.Stream();
        var biggest = new EventData(Guid.NewGuid(), new string('T', EventData.MaxEventTypeLength), new byte[sut.Store.Capabilities.MaxEventSize - 10], new byte[10]);
        await sut.Store.AppendAsync(stream, ExpectedVersion.NoStream, [biggest]);
        var read = Assert.Single(await sut.Store.ReadStreamAsync(stream).ToListAsync());
        Assert.Equal(sut.Store.Capabilities.MaxEventSize, read.Data.Length + read.Metadata.Length);
    }

    [Fact]
    public async Task A_batch_bigger_than_one_item_is_appended_atomically_and_reads_back_in_order()
    {
        await using var sut = await _fixture.CreateStoreAsync(TestContext.Current.CancellationToken);
        var stream = TestEvents.Stream();
        var batch = TestEvents.Many(8, dataBytes: 200_000); // 1.6 MB: five chunk items behind one commit
        var racing = TestEvents.Many(1);
        await sut.Store.AppendAsync(stream, ExpectedVersion.NoStream, batch);
        await Assert.ThrowsAsync<WrongExpectedVersionException>(() => sut.Store.AppendAsync(stream, ExpectedVersion.NoStream, racing));
        var read = await sut.Store.ReadStreamAsync(stream).ToListAsync();
        Assert.Equal(batch.Select(e => e.EventId), read.Select(e => e.EventId));
        Assert.Equal(batch.Select(e => e.Data.ToArray()), read.Select(e => e.Data.ToArray()));
        var all = await sut.Store.ReadAllAsync().ToListAsync();
        Assert.Equal(batch.Select(e => e.EventId), all.Select(e => e.EventId));
        var again = await sut.Store.AppendAsync(stream, ExpectedVersion.NoStream, batch);
        Assert.False(again.WroteEvents);
        Assert.Equal(7, again.LastVersion);
    }

    [Fact]
    public async Task Reads_page_transparently_across_one_megabyte_query_pages()
    {
        await using var sut = await _fixture.CreateStoreAsync(TestContext.Current.CancellationToken);
        var stream = TestEvents.Stream();
        // 16 commits of 150 KB: 2.4 MB, so every query needs at least three pages.
        var expected = new List<Guid>();
        for (var i = 0; i < 16; i++)
        {
            var e = TestEvents.New(dataBytes: 150_000);
            expected.Add(e.EventId);
            await sut.Store.AppendAsync(stream, ExpectedVersion.FromLastSeen(i - 1), [e]);
        }
        Assert.Equal(expected, (await sut.Store.ReadStreamAsync(stream).ToListAsync()).Select(e => e.EventId));
        Assert.Equal(expected.AsEnumerable().Reverse(), (await sut.Store.ReadStreamAsync(stream, ReadDirection.Backwards).ToListAsync()).Select(e => e.EventId));
        Assert.Equal(expected, (await sut.Store.ReadAllAsync().ToListAsync()).Select(e => e.EventId));
        Assert.Equal(expected, (await sut.Store.ReadCategoryAsync(stream.Category).ToListAsync()).Select(e => e.EventId));
        Assert.Equal(expected.AsEnumerable().Reverse(), (await sut.Store.ReadAllAsync(new ReadAllOptions { Direction = ReadDirection.Backwards }).ToListAsync()).Select(e => e.EventId));
    }

    [Fact]
    public async Task A_retried_append_after_a_lost_response_writes_nothing_twice()
    {
        var options = _fixture.NewOptions();
        using var raw = DynamoDBClientFactory.Create(options);
        var client = LosingResponsesProxy.Wrap(raw, out var control);
        await using var sut = await _fixture.CreateStoreAsync(options, client, null, TestContext.Current.CancellationToken);
        var stream = TestEvents.Stream();
        await sut.Store.AppendAsync(stream, ExpectedVersion.NoStream, TestEvents.Many(1));

        foreach (var expected in new[] { ExpectedVersion.Exact(0), ExpectedVersion.Any })
        {
            var batch = TestEvents.Many(3);
            control.LoseNextCommitResponses(1);
            await Assert.ThrowsAsync<TransientEventStoreException>(() => sut.Store.AppendAsync(stream, expected, batch));
            var retried = await sut.Store.AppendAsync(stream, expected, batch);
            Assert.False(retried.WroteEvents);
            var stored = await sut.Store.ReadStreamAsync(stream).ToListAsync();
            Assert.Equal(stored[^1].Version, retried.LastVersion);
            Assert.Equal(stored[^1].Position, retried.Position);
            Assert.Equal(batch.Select(e => e.EventId), stored.TakeLast(3).Select(e => e.EventId));
        }
        var all = await sut.Store.ReadAllAsync().ToListAsync();
        Assert.Equal(7, all.Count);
        Assert.Equal(7, all.Select(e => e.EventId).Distinct().Count());
    }

    [Fact]
    public async Task A_crash_between_a_commits_index_entries_and_its_item_does_not_show_the_retried_batch_twice()
    {
        // dynalite writes index entries before the item: killed in between, it keeps index entries of a commit that was
        // never stored. The writer retries the same batch into the same (still empty) slot with new positions.
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var options = _fixture.NewOptions();
        using var raw = DynamoDBClientFactory.Create(options);
        var client = CrashBetweenIndexAndItemProxy.Wrap(raw, out var control);
        await using var sut = await _fixture.CreateStoreAsync(options, client, time, TestContext.Current.CancellationToken);
        var stream = TestEvents.Stream("Outage");
        var expected = new List<Guid>();
        foreach (var version in new[] { ExpectedVersion.NoStream, ExpectedVersion.Any })
        {
            var first = TestEvents.Many(3);
            await sut.Store.AppendAsync(stream, version, first);
            expected.AddRange(first.Select(e => e.EventId));
        }
        foreach (var version in new[] { ExpectedVersion.Exact(5), ExpectedVersion.Any })
        {
            var batch = TestEvents.Many(3);
            control.CrashDuringNextCommit();
            await Assert.ThrowsAsync<TransientEventStoreException>(() => sut.Store.AppendAsync(stream, version, batch));
            var retried = await sut.Store.AppendAsync(stream, version, batch);
            Assert.True(retried.WroteEvents);
            expected.AddRange(batch.Select(e => e.EventId));
        }
        var after = TestEvents.Many(3);
        await sut.Store.AppendAsync(stream, ExpectedVersion.Any, after);
        expected.AddRange(after.Select(e => e.EventId));

        // The positions of the lost commits stay a hole until the gap timeout, then every read shows each event once.
        var category = EventFilter.ForCategories("Outage");
        Assert.Equal(expected.Take(6), (await sut.Store.ReadAllAsync(new ReadAllOptions { Filter = category }).ToListAsync()).Select(e => e.EventId));
        // Two holes: the read that stopped at the first one saw the second behind it, so both time out together.
        time.Advance(options.GapTimeout + TimeSpan.FromSeconds(1));
        await sut.Store.GetHeadPositionAsync();
        Assert.Equal(expected, (await sut.Store.ReadStreamAsync(stream).ToListAsync()).Select(e => e.EventId));
        Assert.Equal(expected, (await sut.Store.ReadAllAsync().ToListAsync()).Select(e => e.EventId));
        Assert.Equal(expected, (await sut.Store.ReadAllAsync(new ReadAllOptions { Filter = category }).ToListAsync()).Select(e => e.EventId));
        Assert.Equal(expected, (await sut.Store.ReadCategoryAsync("Outage").ToListAsync()).Select(e => e.EventId));
        Assert.Equal(expected, (await sut.Store.ReadAllAsync(new ReadAllOptions { Filter = EventFilter.ForEventTypes("Happened") }).ToListAsync()).Select(e => e.EventId));
        var backwards = expected.AsEnumerable().Reverse();
        Assert.Equal(backwards, (await sut.Store.ReadAllAsync(new ReadAllOptions { Direction = ReadDirection.Backwards }).ToListAsync()).Select(e => e.EventId));
        Assert.Equal(backwards, (await sut.Store.ReadAllAsync(new ReadAllOptions { Filter = category, Direction = ReadDirection.Backwards }).ToListAsync()).Select(e => e.EventId));
    }

    [Fact]
    public async Task Racing_appends_keep_all_gap_free_for_a_reader_paging_from_its_checkpoint()
    {
        await using var sut = await _fixture.CreateStoreAsync(TestContext.Current.CancellationToken);
        const int writers = 4, appendsEach = 30;
        var seen = new List<RecordedEvent>();
        var done = false;
        var reader = Task.Run(async () =>
        {
            Position? checkpoint = null;
            while (true)
            {
                var finished = Volatile.Read(ref done);
                var page = await sut.Store.ReadAllAsync(new ReadAllOptions { From = checkpoint, MaxCount = 7 }).ToListAsync();
                seen.AddRange(page);
                if (page.Count > 0) checkpoint = page[^1].Position;
                else if (finished) return;
            }
        });
        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            var store = await sut.OpenAnotherInstanceAsync(default);
            var streams = Enumerable.Range(0, 3).Select(_ => TestEvents.Stream("Race" + w)).ToArray();
            for (var i = 0; i < appendsEach; i++)
                await store.AppendAsync(streams[i % 3], ExpectedVersion.Any, TestEvents.Many(1 + i % 3));
        })));
        Volatile.Write(ref done, true);
        await reader;

        var all = await sut.Store.ReadAllAsync().ToListAsync();
        Assert.Equal(writers * Enumerable.Range(0, appendsEach).Sum(i => 1 + i % 3), all.Count);
        Assert.Equal(all.Select(e => e.EventId), seen.Select(e => e.EventId));
        Assert.Equal(all.Select(e => e.Position).Order(), all.Select(e => e.Position));
    }

    [Fact]
    public async Task Category_and_event_type_reads_return_exactly_the_matching_events_in_position_order()
    {
        await using var sut = await _fixture.CreateStoreAsync(TestContext.Current.CancellationToken);
        var order1 = TestEvents.Stream("Order");
        var order2 = TestEvents.Stream("Order");
        var user = TestEvents.Stream("User");
        var expectedOrders = new List<Guid>();
        var expectedPlaced = new List<Guid>();
        for (var i = 0; i < 5; i++)
        {
            var placed = TestEvents.New("Placed");
            var shipped = TestEvents.New("Shipped");
            await sut.Store.AppendAsync(i % 2 == 0 ? order1 : order2, ExpectedVersion.Any, [placed, shipped]); // mixed-type commit
            var single = TestEvents.New("Placed");
            await sut.Store.AppendAsync(user, ExpectedVersion.Any, [single]);                                     // single-type commit
            expectedOrders.AddRange([placed.EventId, shipped.EventId]);
            expectedPlaced.AddRange([placed.EventId, single.EventId]);
        }
        Assert.Equal(expectedOrders, (await sut.Store.ReadCategoryAsync("Order").ToListAsync()).Select(e => e.EventId));
        Assert.Equal(expectedPlaced, (await sut.Store.ReadAllAsync(new ReadAllOptions { Filter = EventFilter.ForEventTypes("Placed") }).ToListAsync()).Select(e => e.EventId));
        var placedOrders = await sut.Store.ReadCategoryAsync("Order", new ReadAllOptions { Filter = EventFilter.ForEventTypes("Placed") }).ToListAsync();
        Assert.Equal(expectedOrders.Where((_, i) => i % 2 == 0), placedOrders.Select(e => e.EventId));
        var backwards = await sut.Store.ReadCategoryAsync("Order", new ReadAllOptions { Direction = ReadDirection.Backwards, MaxCount = 3 }).ToListAsync();
        Assert.Equal(expectedOrders.AsEnumerable().Reverse().Take(3), backwards.Select(e => e.EventId));
        var afterFirst = await sut.Store.ReadCategoryAsync("Order", new ReadAllOptions { From = placedOrders[0].Position }).ToListAsync();
        Assert.Equal(expectedOrders.Skip(1), afterFirst.Select(e => e.EventId));
    }

    [Fact]
    public async Task All_pages_by_any_size_without_skipping_or_repeating_in_both_directions()
    {
        await using var sut = await _fixture.CreateStoreAsync(TestContext.Current.CancellationToken);
        for (var i = 0; i < 20; i++)
            await sut.Store.AppendAsync(TestEvents.Stream(), ExpectedVersion.NoStream, TestEvents.Many(1 + i % 4));
        var all = await sut.Store.ReadAllAsync().ToListAsync();
        foreach (var direction in new[] { ReadDirection.Forwards, ReadDirection.Backwards })
        {
            var paged = new List<RecordedEvent>();
            Position? from = null;
            while (true)
            {
                var page = await sut.Store.ReadAllAsync(new ReadAllOptions { Direction = direction, From = from, MaxCount = 3 }).ToListAsync();
                if (page.Count == 0) break;
                paged.AddRange(page);
                from = page[^1].Position;
            }
            var expected = direction == ReadDirection.Forwards ? all : all.AsEnumerable().Reverse().ToList();
            Assert.Equal(expected.Select(e => e.EventId), paged.Select(e => e.EventId));
        }
    }

    [Fact]
    public async Task A_large_stream_written_in_bulk_appends_reads_back_lazily_in_order()
    {
        await using var sut = await _fixture.CreateStoreAsync(TestContext.Current.CancellationToken);
        var stream = TestEvents.Stream();
        const int batches = 2, size = 10_000;
        for (var b = 0; b < batches; b++)
            await sut.Store.AppendAsync(stream, ExpectedVersion.FromLastSeen(b * size - 1), TestEvents.Many(size, dataBytes: 20));
        var next = 0L;
        await foreach (var e in sut.Store.ReadStreamAsync(stream))
            Assert.Equal(next++, e.Version);
        Assert.Equal(batches * size, next);
        Assert.Equal(batches * size, (await sut.Store.ReadAllAsync(new ReadAllOptions { From = Position.FromInt64(size / 2) }).ToListAsync()).Count + size / 2);
    }

    [Fact]
    public async Task Lease_items_carry_no_index_key_and_no_event_read_sees_them()
    {
        var ct = TestContext.Current.CancellationToken;
        var options = _fixture.NewOptions();
        using var raw = DynamoDBClientFactory.Create(options);
        await using var sut = await _fixture.CreateStoreAsync(options, raw, null, ct);
        var leases = sut.Leases!;
        var stream = new StreamName("Order-1");
        await sut.Store.AppendAsync(stream, ExpectedVersion.NoStream, TestEvents.Many(1), ct);
        var lease = (await leases.TryAcquireAsync("Order/share/0", "a", DateTimeOffset.UnixEpoch, TimeSpan.FromSeconds(10), ct))!;
        await leases.SaveCheckpointAsync(lease, Position.FromInt64(1), ct);

        var items = await raw.QueryAsync(new QueryRequest
        {
            TableName = options.TableName,
            ConsistentRead = true,
            KeyConditionExpression = "pk = :pk",
            ExpressionAttributeValues = new() { [":pk"] = new AttributeValue { S = LeaseItem.PartitionKey("Order") } },
        }, ct);

        Assert.Equal(2, items.Items.Count); // the record and the group's token counter
        Assert.All(items.Items, item => Assert.DoesNotContain(item.Keys, k => k is Schema.AllPartition or Schema.LastPosition or Schema.CategoryKey or Schema.TypeKey));
        var all = Assert.Single(await sut.Store.ReadAllAsync(cancellationToken: ct).ToListAsync(ct));
        Assert.Equal(stream, all.Stream);
        Assert.Single(await sut.Store.ReadCategoryAsync("Order", cancellationToken: ct).ToListAsync(ct));
        Assert.Equal(all.Position, await sut.Store.GetHeadPositionAsync(ct));
    }
}
