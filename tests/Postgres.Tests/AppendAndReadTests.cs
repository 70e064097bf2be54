using System.Text;

namespace EventStore.Providers.Postgres.Tests;

/// <summary>The append and read rules as the PostgreSQL functions enforce them (the conformance suite covers the rest).</summary>
public sealed class AppendAndReadTests(PostgresFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Appends_get_dense_versions_and_consecutive_positions_and_read_back_byte_for_byte()
    {
        await using var sut = await fixture.CreateStoreAsync(Ct);
        var stream = new StreamName("Order-1");
        var batch = TestEvents.Many(3);
        var first = await sut.Store.AppendAsync(stream, ExpectedVersion.NoStream, batch, Ct);
        var second = await sut.Store.AppendAsync(new StreamName("Order-2"), ExpectedVersion.Any, [TestEvents.New()], Ct);

        Assert.Equal(2, first.LastVersion);
        Assert.True(second.Position > first.Position, "a later append must get a higher position");
        var read = await sut.Store.ReadStreamAsync(stream, cancellationToken: Ct).ToListAsync(Ct);
        Assert.Equal([0L, 1L, 2L], read.Select(e => e.Version));
        // One append's events sit at consecutive positions, the last one reported in the result.
        var last = first.Position.Parts[0];
        Assert.Equal([last - 2, last - 1, last], read.Select(e => e.Position.Parts[0]));
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(batch[i].EventId, read[i].EventId);
            Assert.Equal(batch[i].Data.ToArray(), read[i].Data.ToArray());
            Assert.Equal(batch[i].Metadata.ToArray(), read[i].Metadata.ToArray());
            Assert.Equal(batch[i].ContentType, read[i].ContentType);
            Assert.Equal(TimeSpan.Zero, read[i].CreatedUtc.Offset);
        }
        Assert.Equal(second.Position, await sut.Store.GetHeadPositionAsync(Ct));
    }

    [Fact]
    public async Task A_wrong_expected_version_names_the_actual_version_and_writes_nothing()
    {
        await using var sut = await fixture.CreateStoreAsync(Ct);
        var stream = new StreamName("Order-1");
        var written = await sut.Store.AppendAsync(stream, ExpectedVersion.NoStream, TestEvents.Many(2), Ct);

        var e = await Assert.ThrowsAsync<WrongExpectedVersionException>(() => sut.Store.AppendAsync(stream, ExpectedVersion.Exact(0), [TestEvents.New()], Ct));
        Assert.Equal(1, e.ActualVersion);
        var missing = await Assert.ThrowsAsync<WrongExpectedVersionException>(() => sut.Store.AppendAsync(new StreamName("Order-9"), ExpectedVersion.StreamExists, [TestEvents.New()], Ct));
        Assert.Equal(-1, missing.ActualVersion);
        Assert.Equal(written.Position, await sut.Store.GetHeadPositionAsync(Ct));
        Assert.Equal(2, await sut.Store.ReadAllAsync(cancellationToken: Ct).CountAsync(Ct));
    }

    [Fact]
    public async Task Re_sending_a_stored_batch_returns_the_original_result_and_a_partial_overlap_is_a_conflict()
    {
        await using var sut = await fixture.CreateStoreAsync(Ct);
        var stream = new StreamName("Order-1");
        var batch = TestEvents.Many(2);
        var original = await sut.Store.AppendAsync(stream, ExpectedVersion.NoStream, batch, Ct);
        await sut.Store.AppendAsync(stream, ExpectedVersion.Exact(1), [TestEvents.New()], Ct);

        var again = await sut.Store.AppendAsync(stream, ExpectedVersion.NoStream, batch, Ct);
        var againAny = await sut.Store.AppendAsync(stream, ExpectedVersion.Any, batch, Ct);

        Assert.Equal(original with { WroteEvents = false }, again);
        Assert.Equal(original with { WroteEvents = false }, againAny);
        await Assert.ThrowsAsync<EventIdConflictException>(() => sut.Store.AppendAsync(stream, ExpectedVersion.Exact(2), [batch[0], TestEvents.New()], Ct));
        await Assert.ThrowsAsync<EventIdConflictException>(() => sut.Store.AppendAsync(stream, ExpectedVersion.Any, [TestEvents.New(), batch[1]], Ct));
        Assert.Equal(3, (await sut.Store.ReadStreamAsync(stream, cancellationToken: Ct).ToListAsync(Ct)).Count);
    }

    [Fact]
    public async Task Re_sending_the_last_batch_with_StreamExists_returns_the_original_result_instead_of_an_event_id_conflict()
    {
        await using var sut = await fixture.CreateStoreAsync(Ct);
        var stream = new StreamName("Order-1");
        await sut.Store.AppendAsync(stream, ExpectedVersion.NoStream, [TestEvents.New()], Ct);
        var batch = TestEvents.Many(2);
        var original = await sut.Store.AppendAsync(stream, ExpectedVersion.StreamExists, batch, Ct);

        var again = await sut.Store.AppendAsync(stream, ExpectedVersion.StreamExists, batch, Ct);

        Assert.Equal(original with { WroteEvents = false }, again);
        await Assert.ThrowsAsync<EventIdConflictException>(() => sut.Store.AppendAsync(stream, ExpectedVersion.StreamExists, [batch[1], TestEvents.New()], Ct));
        var fresh = await sut.Store.AppendAsync(stream, ExpectedVersion.StreamExists, [TestEvents.New()], Ct);
        Assert.Equal(3, fresh.LastVersion);
        Assert.True(fresh.WroteEvents);
        Assert.Equal(fresh.Position, await sut.Store.GetHeadPositionAsync(Ct));
        Assert.Equal(4, await sut.Store.ReadAllAsync(cancellationToken: Ct).CountAsync(Ct));
    }

    [Fact]
    public async Task An_empty_batch_checks_the_expectation_and_never_creates_the_stream()
    {
        await using var sut = await fixture.CreateStoreAsync(Ct);
        var stream = new StreamName("Order-1");
        var result = await sut.Store.AppendAsync(stream, ExpectedVersion.NoStream, [], Ct);
        Assert.Equal(new AppendResult(-1, Position.Start, false), result);
        Assert.False((await sut.Store.GetStreamInfoAsync(stream, Ct)).Exists);
        await Assert.ThrowsAsync<WrongExpectedVersionException>(() => sut.Store.AppendAsync(stream, ExpectedVersion.StreamExists, [], Ct));
    }

    [Fact]
    public async Task A_soft_deleted_stream_reads_empty_and_continues_after_its_last_version()
    {
        await using var sut = await fixture.CreateStoreAsync(Ct);
        var stream = new StreamName("Order-1");
        await sut.Store.AppendAsync(stream, ExpectedVersion.NoStream, TestEvents.Many(2), Ct);
        await sut.Store.DeleteStreamAsync(stream, ExpectedVersion.Exact(1), StreamDeletionMode.Soft, Ct);

        Assert.Empty(await sut.Store.ReadStreamAsync(stream, cancellationToken: Ct).ToListAsync(Ct));
        Assert.Equal(new StreamInfo(stream, false, -1, true), await sut.Store.GetStreamInfoAsync(stream, Ct));
        var result = await sut.Store.AppendAsync(stream, ExpectedVersion.NoStream, [TestEvents.New()], Ct);
        Assert.Equal(2, result.LastVersion);
        Assert.Equal([2L], (await sut.Store.ReadStreamAsync(stream, cancellationToken: Ct).ToListAsync(Ct)).Select(e => e.Version));
    }

    [Fact]
    public async Task A_tombstoned_stream_refuses_reads_and_appends()
    {
        await using var sut = await fixture.CreateStoreAsync(Ct);
        var stream = new StreamName("Order-1");
        await sut.Store.AppendAsync(stream, ExpectedVersion.NoStream, TestEvents.Many(1), Ct);
        await sut.Store.DeleteStreamAsync(stream, ExpectedVersion.Any, StreamDeletionMode.Tombstone, Ct);

        await Assert.ThrowsAsync<StreamDeletedException>(() => sut.Store.ReadStreamAsync(stream, cancellationToken: Ct).ToListAsync(Ct));
        await Assert.ThrowsAsync<StreamDeletedException>(() => sut.Store.AppendAsync(stream, ExpectedVersion.Any, [TestEvents.New()], Ct));
        await Assert.ThrowsAsync<StreamDeletedException>(() => sut.Store.DeleteStreamAsync(stream, ExpectedVersion.Any, StreamDeletionMode.Soft, Ct));
    }

    [Fact]
    public async Task All_category_and_event_type_reads_filter_in_position_order_across_pages()
    {
        await using var sut = await fixture.CreateStoreAsync(Ct);
        for (var i = 0; i < 30; i++)
        {
            var category = i % 3 == 0 ? "Order" : "Invoice";
            await sut.Store.AppendAsync(new StreamName($"{category}-{i % 5}"), ExpectedVersion.Any, [TestEvents.New(i % 2 == 0 ? "Even" : "Odd")], Ct);
        }
        var all = await sut.Store.ReadAllAsync(new ReadAllOptions(), Ct).ToListAsync(Ct);
        Assert.Equal(30, all.Count);
        Assert.Equal(all.Select(e => e.Position).Order(), all.Select(e => e.Position));
        Assert.Equal(30, all.Select(e => e.Position).Distinct().Count());

        var paged = new List<RecordedEvent>();
        Position? from = null;
        while (true)
        {
            var page = await sut.Store.ReadAllAsync(new ReadAllOptions { From = from, MaxCount = 7 }, Ct).ToListAsync(Ct);
            if (page.Count == 0) break;
            paged.AddRange(page);
            from = page[^1].Position;
        }
        Assert.Equal(all.Select(e => e.EventId), paged.Select(e => e.EventId));

        var backwards = await sut.Store.ReadAllAsync(new ReadAllOptions { Direction = ReadDirection.Backwards, From = all[9].Position }, Ct).ToListAsync(Ct);
        Assert.Equal(all.Take(9).Reverse().Select(e => e.EventId), backwards.Select(e => e.EventId));

        var orders = await sut.Store.ReadCategoryAsync("Order", new ReadAllOptions { Filter = EventFilter.ForEventTypes("Even") }, Ct).ToListAsync(Ct);
        Assert.Equal(all.Where(e => e.Stream.Category == "Order" && e.EventType == "Even").Select(e => e.EventId), orders.Select(e => e.EventId));
        Assert.NotEmpty(orders);
    }

    [Fact]
    public async Task A_live_subscription_is_woken_by_a_commit_from_another_instance()
    {
        await using var sut = await fixture.CreateStoreAsync(Ct);
        await using var writer = (PostgresEventStore)await sut.OpenAnotherInstanceAsync(Ct);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(TimeSpan.FromSeconds(30));
        var received = new List<SubscriptionMessage>();
        await foreach (var m in sut.Store.SubscribeToAllAsync(new SubscribeToAllOptions(), cts.Token))
        {
            received.Add(m);
            if (m.Kind == SubscriptionMessageKind.CaughtUp)
                await writer.AppendAsync(new StreamName("Order-1"), ExpectedVersion.Any, [TestEvents.New(body: "{\"live\":true}")], Ct);
            if (m.Kind == SubscriptionMessageKind.Event) break;
        }
        Assert.Equal([SubscriptionMessageKind.CaughtUp, SubscriptionMessageKind.Event], received.Select(m => m.Kind));
        Assert.Equal("{\"live\":true}", Encoding.UTF8.GetString(received[1].Event!.Data.Span));
    }
}
