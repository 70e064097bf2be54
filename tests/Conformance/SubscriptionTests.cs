using Xunit;

namespace EventStore.Providers.Conformance;

/// <summary>docs/conformance.md items 16, 17 and 18: catch-up subscriptions, restarts from checkpoints, filtered checkpoints.</summary>
public abstract class SubscriptionTests(IEventStoreFixture fixture) : ConformanceTestBase(fixture)
{
    private static int CountOf(IReadOnlyList<SubscriptionMessage> messages, SubscriptionMessageKind kind) => messages.Count(m => m.Kind == kind);

    [Fact]
    [Promise(16)]
    public async Task A_subscription_to_all_delivers_history_then_caught_up_then_live_events_in_order_each_once()
    {
        var stream = NewStream();
        var history = await SeedAsync(stream, 3);
        await using var probe = Subscribe(ct => Store.SubscribeToAllAsync(cancellationToken: ct));
        await probe.WaitForCaughtUpAsync();

        var live = TestEvents.Batch(2);
        await AppendAsync(stream, ExpectedVersion.Exact(2), live);
        await probe.WaitForEventsAsync(5);

        var messages = probe.Messages;
        var caughtUpAt = messages.ToList().FindIndex(m => m.Kind == SubscriptionMessageKind.CaughtUp);
        Assert.Equal(history.Select(e => e.EventId), messages.Take(caughtUpAt).Where(m => m.Kind == SubscriptionMessageKind.Event).Select(m => m.Event!.EventId));
        Assert.Equal(live.Select(e => e.EventId), messages.Skip(caughtUpAt + 1).Where(m => m.Kind == SubscriptionMessageKind.Event).Select(m => m.Event!.EventId));
        Assert.Equal(1, CountOf(messages, SubscriptionMessageKind.CaughtUp));
        Assert.All(messages.Where(m => m.Kind == SubscriptionMessageKind.Event), m => Assert.Equal(m.Event!.Position, m.Position));
        AssertInLogOrder(probe.Events);
    }

    [Fact]
    [Promise(16)]
    public async Task A_subscription_to_all_from_a_checkpoint_delivers_only_later_events()
    {
        var stream = NewStream();
        await SeedAsync(stream, 5);
        var checkpoint = (await ReadAllAsync())[1].Position;

        await using var probe = Subscribe(ct => Store.SubscribeToAllAsync(new SubscribeToAllOptions { From = checkpoint }, ct));
        await probe.WaitForCaughtUpAsync();

        Assert.Equal([2L, 3L, 4L], probe.Events.Select(e => e.Version));
    }

    [Fact]
    [Promise(16)]
    public async Task A_subscription_to_an_empty_store_is_caught_up_at_once_and_then_delivers_live_events()
    {
        await using var probe = Subscribe(ct => Store.SubscribeToAllAsync(cancellationToken: ct));
        await probe.WaitForCaughtUpAsync();
        Assert.Empty(probe.Events);

        var e = TestEvents.Create();
        await AppendAsync(NewStream(), ExpectedVersion.NoStream, e);

        Assert.Equal(e.EventId, Assert.Single(await probe.WaitForEventsAsync(1)).EventId);
    }

    [Fact]
    [Promise(16)]
    public async Task Caught_up_is_yielded_exactly_once_however_many_live_events_follow()
    {
        var stream = NewStream();
        await SeedAsync(stream, 2);
        await using var probe = Subscribe(ct => Store.SubscribeToAllAsync(cancellationToken: ct));
        await probe.WaitForCaughtUpAsync();

        for (var i = 0; i < 5; i++) await AppendAsync(stream, ExpectedVersion.Exact(i + 1), TestEvents.Create());
        await probe.WaitForEventsAsync(7);

        Assert.Equal(1, CountOf(probe.Messages, SubscriptionMessageKind.CaughtUp));
    }

    [Fact]
    [Promise(17)]
    public async Task Resuming_from_the_caught_up_position_delivers_only_events_appended_after_it()
    {
        var stream = NewStream();
        await SeedAsync(stream, 3);
        Position caughtUp;
        await using (var first = Subscribe(ct => Store.SubscribeToAllAsync(cancellationToken: ct)))
        {
            var messages = await first.WaitUntilAsync(m => m.Any(x => x.Kind == SubscriptionMessageKind.CaughtUp), "caught up");
            caughtUp = messages.First(m => m.Kind == SubscriptionMessageKind.CaughtUp).Position;
        }
        var later = TestEvents.Create();
        await AppendAsync(stream, ExpectedVersion.Exact(2), later);

        await using var second = Subscribe(ct => Store.SubscribeToAllAsync(new SubscribeToAllOptions { From = caughtUp }, ct));
        await second.WaitForCaughtUpAsync();

        Assert.Equal(later.EventId, Assert.Single(second.Events).EventId);
    }

    [Fact]
    [Promise(17)]
    public async Task Restarting_from_a_stored_checkpoint_on_another_instance_loses_nothing_and_repeats_nothing()
    {
        var stream = NewStream();
        var written = (await SeedAsync(stream, 4)).ToList();
        const string subscriptionId = "restart-test";
        await using (var first = Subscribe(ct => Store.SubscribeToAllAsync(cancellationToken: ct)))
        {
            var events = await first.WaitForEventsAsync(2);
            await Sut.Checkpoints.SaveAsync(subscriptionId, events[1].Position, Ct);
        }
        var more = TestEvents.Batch(2);
        await AppendAsync(stream, ExpectedVersion.Exact(3), more);
        written.AddRange(more);

        var restarted = await Sut.OpenAnotherInstanceAsync(Ct);
        var checkpoint = await Sut.Checkpoints.LoadAsync(subscriptionId, Ct);
        await using var second = Subscribe(ct => restarted.SubscribeToAllAsync(new SubscribeToAllOptions { From = checkpoint }, ct));
        await second.WaitForCaughtUpAsync();

        Assert.Equal(written.Skip(2).Select(e => e.EventId), second.Events.Select(e => e.EventId));
    }

    [Fact]
    [Promise(14, 16)]
    public async Task A_filtered_subscription_delivers_only_matching_events_from_history_and_live()
    {
        await AppendAsync(NewStream("Other"), ExpectedVersion.NoStream, TestEvents.Batch(3));
        var wanted = NewStream("Wanted");
        await AppendAsync(wanted, ExpectedVersion.NoStream, TestEvents.Create());
        await using var probe = Subscribe(ct => Store.SubscribeToAllAsync(new SubscribeToAllOptions { Filter = EventFilter.ForCategories("Wanted") }, ct));
        await probe.WaitForCaughtUpAsync();

        await AppendAsync(NewStream("Other"), ExpectedVersion.NoStream, TestEvents.Batch(2));
        await AppendAsync(wanted, ExpectedVersion.Exact(0), TestEvents.Create());
        var events = await probe.WaitForEventsAsync(2);

        Assert.All(events, e => Assert.Equal(wanted, e.Stream));
        Assert.Equal([0L, 1L], events.Select(e => e.Version));
    }

    [Fact]
    [Promise(18)]
    public async Task A_filtered_subscription_checkpoints_past_filtered_out_events_before_catching_up()
    {
        await AppendAsync(NewStream("Wanted"), ExpectedVersion.NoStream, TestEvents.Create());
        // A store that merges partitions by record time (Kafka) orders two appends in the same millisecond by partition,
        // which could put the filtered-out events first, where the wanted event's own position already covers them.
        await Task.Delay(10, Ct);
        var other = NewStream("Other");
        await AppendAsync(other, ExpectedVersion.NoStream, TestEvents.Batch(5));
        var lastFilteredOut = (await ReadAllAsync(new ReadAllOptions { Direction = ReadDirection.Backwards, MaxCount = 1 })).Single();

        await using var probe = Subscribe(ct => Store.SubscribeToAllAsync(new SubscribeToAllOptions { Filter = EventFilter.ForCategories("Wanted") }, ct));
        var messages = await probe.WaitUntilAsync(m => m.Any(x => x.Kind == SubscriptionMessageKind.CaughtUp), "caught up");

        var checkpoint = messages.Last(m => m.Kind != SubscriptionMessageKind.Event).Position;
        Assert.Contains(messages, m => m.Kind == SubscriptionMessageKind.Checkpoint);
        if (HasTotalOrder) Assert.True(checkpoint >= lastFilteredOut.Position, $"The checkpoint {checkpoint} did not move past the filtered-out event at {lastFilteredOut.Position}.");
        Assert.Empty(await ReadAllAsync(new ReadAllOptions { From = checkpoint, Filter = EventFilter.ForCategories("Other") }));
    }

    [Fact]
    [Promise(18)]
    public async Task A_filtered_subscription_emits_a_checkpoint_at_least_every_checkpoint_interval_filtered_out_events()
    {
        await AppendAsync(NewStream("Other"), ExpectedVersion.NoStream, TestEvents.Batch(35));
        var wanted = TestEvents.Create();
        await AppendAsync(NewStream("Wanted"), ExpectedVersion.NoStream, wanted);

        await using var probe = Subscribe(ct => Store.SubscribeToAllAsync(new SubscribeToAllOptions { Filter = EventFilter.ForCategories("Wanted"), CheckpointInterval = 10 }, ct));
        var messages = await probe.WaitUntilAsync(m => m.Any(x => x.Kind == SubscriptionMessageKind.Event), "the wanted event");

        Assert.True(CountOf(messages, SubscriptionMessageKind.Checkpoint) >= 3,
            $"35 filtered-out events with a checkpoint interval of 10 gave {CountOf(messages, SubscriptionMessageKind.Checkpoint)} checkpoints before the first match.");
        Assert.Equal(wanted.EventId, messages.Single(m => m.Kind == SubscriptionMessageKind.Event).Event!.EventId);
    }

    [Fact]
    [Promise(17, 18)]
    public async Task A_consumer_failing_on_an_event_gets_it_again_when_restarted_from_its_last_checkpoint()
    {
        var stream = NewStream();
        var written = await SeedAsync(stream, 5);
        Position? checkpoint = null;

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            using var deadline = Deadline();
            await foreach (var m in Store.SubscribeToAllAsync(cancellationToken: deadline.Token).WithCancellation(deadline.Token))
            {
                if (m.Kind != SubscriptionMessageKind.Event) continue;
                if (m.Event!.Version == 2) throw new InvalidOperationException("handler failed on version 2");
                checkpoint = m.Position;
            }
        });
        Assert.Equal("handler failed on version 2", failure.Message);

        await using var probe = Subscribe(ct => Store.SubscribeToAllAsync(new SubscribeToAllOptions { From = checkpoint }, ct));
        await probe.WaitForCaughtUpAsync();
        Assert.Equal(written.Skip(2).Select(e => e.EventId), probe.Events.Select(e => e.EventId));
    }

    [Fact]
    [Promise(16)]
    public async Task Events_appended_through_another_instance_reach_a_live_subscription()
    {
        var other = await Sut.OpenAnotherInstanceAsync(Ct);
        await using var probe = Subscribe(ct => Store.SubscribeToAllAsync(cancellationToken: ct));
        await probe.WaitForCaughtUpAsync();

        var e = TestEvents.Create();
        await other.AppendAsync(NewStream(), ExpectedVersion.NoStream, [e], Ct);

        Assert.Equal(e.EventId, Assert.Single(await probe.WaitForEventsAsync(1)).EventId);
    }

    [Fact]
    [Promise(16)]
    public async Task A_stream_subscription_delivers_its_history_then_live_events_and_ignores_other_streams()
    {
        var stream = NewStream();
        var history = await SeedAsync(stream, 2);
        await SeedAsync(NewStream(), 3);
        await using var probe = Subscribe(ct => Store.SubscribeToStreamAsync(stream, cancellationToken: ct));
        await probe.WaitForCaughtUpAsync();

        await SeedAsync(NewStream(), 2);
        var live = TestEvents.Batch(2);
        await AppendAsync(stream, ExpectedVersion.Exact(1), live);
        var events = await probe.WaitForEventsAsync(4);

        Assert.Equal(history.Concat(live).Select(e => e.EventId), events.Select(e => e.EventId));
        Assert.Equal([0L, 1L, 2L, 3L], events.Select(e => e.Version));
        Assert.Equal(1, CountOf(probe.Messages, SubscriptionMessageKind.CaughtUp));
    }

    [Fact]
    [Promise(16)]
    public async Task A_stream_subscription_after_a_version_starts_after_it()
    {
        var stream = NewStream();
        await SeedAsync(stream, 5);

        await using var probe = Subscribe(ct => Store.SubscribeToStreamAsync(stream, afterVersion: 2, ct));
        await probe.WaitForCaughtUpAsync();

        Assert.Equal([3L, 4L], probe.Events.Select(e => e.Version));
    }

    [Fact]
    [Promise(16)]
    public async Task A_stream_subscription_to_a_missing_stream_delivers_it_once_it_is_created()
    {
        var stream = NewStream();
        await using var probe = Subscribe(ct => Store.SubscribeToStreamAsync(stream, cancellationToken: ct));
        await probe.WaitForCaughtUpAsync();

        var e = TestEvents.Create();
        await AppendAsync(stream, ExpectedVersion.NoStream, e);

        Assert.Equal(e.EventId, Assert.Single(await probe.WaitForEventsAsync(1)).EventId);
    }

    [Fact]
    [Promise(16)]
    public async Task Two_subscriptions_receive_the_same_live_events_independently()
    {
        await using var a = Subscribe(ct => Store.SubscribeToAllAsync(cancellationToken: ct));
        await using var b = Subscribe(ct => Store.SubscribeToAllAsync(cancellationToken: ct));
        await a.WaitForCaughtUpAsync();
        await b.WaitForCaughtUpAsync();

        var stream = NewStream();
        await SeedAsync(stream, 3);

        Assert.Equal((await a.WaitForEventsAsync(3)).Select(e => e.EventId), (await b.WaitForEventsAsync(3)).Select(e => e.EventId));
    }
}
