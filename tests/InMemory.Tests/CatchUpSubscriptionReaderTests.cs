using EventStore.Providers.Subscriptions.CatchUp;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace EventStore.Providers.InMemory.Tests;

/// <summary>
/// The shared catch-up reader under conditions the in-memory store never produces by itself: no wake-up signal, a
/// broken signal, and small pages.
/// </summary>
public sealed class CatchUpSubscriptionReaderTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static EventData NewEvent(string type = "T") => new(Guid.NewGuid(), type, "{}"u8.ToArray());

    private sealed class BrokenNotifier : IStoreChangeNotifier
    {
        public int Calls;

        public Task WaitForChangeAsync(Position after, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Calls);
            return Task.FromException(new InvalidOperationException("LISTEN connection dropped"));
        }
    }

    private static async Task<List<SubscriptionMessage>> TakeAsync(IAsyncEnumerable<SubscriptionMessage> source, Func<List<SubscriptionMessage>, bool> done, CancellationToken token)
    {
        var messages = new List<SubscriptionMessage>();
        await foreach (var m in source.WithCancellation(token))
        {
            messages.Add(m);
            if (done(messages)) break;
        }
        return messages;
    }

    [Fact]
    public async Task Small_pages_deliver_history_in_order_without_repeats_then_caught_up_once()
    {
        var store = new InMemoryEventStore();
        for (var i = 0; i < 7; i++) await store.AppendAsync(new StreamName($"Page-{i % 3}"), ExpectedVersion.Any, [NewEvent(), NewEvent()], Ct);
        var reader = new CatchUpSubscriptionReader(store, new CatchUpOptions { PageSize = 3 });
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));

        var messages = await TakeAsync(reader.SubscribeToAllAsync(cancellationToken: timeout.Token), m => m[^1].Kind == SubscriptionMessageKind.CaughtUp, timeout.Token);

        Assert.Equal(Enumerable.Range(1, 14).Select(i => (long)i), messages.Where(m => m.Kind == SubscriptionMessageKind.Event).Select(m => m.Position.ToInt64()));
        Assert.Equal(Position.FromInt64(14), messages[^1].Position);
    }

    [Fact]
    public async Task Without_a_wake_up_signal_live_events_arrive_on_the_next_poll()
    {
        var clock = new FakeTimeProvider();
        var store = new InMemoryEventStore();
        var reader = new CatchUpSubscriptionReader(store, new CatchUpOptions { PollInterval = TimeSpan.FromSeconds(5), TimeProvider = clock });
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        await using var messages = reader.SubscribeToAllAsync(cancellationToken: timeout.Token).GetAsyncEnumerator(timeout.Token);

        Assert.True(await messages.MoveNextAsync());
        Assert.Equal(SubscriptionMessageKind.CaughtUp, messages.Current.Kind);
        var next = messages.MoveNextAsync().AsTask();
        await store.AppendAsync(new StreamName("Poll-1"), ExpectedVersion.NoStream, [NewEvent()], Ct);
        await Task.Delay(100, Ct);
        Assert.False(next.IsCompleted, "Without a signal the reader must wait for its poll interval.");

        while (!next.IsCompleted && !timeout.IsCancellationRequested)
        {
            clock.Advance(TimeSpan.FromSeconds(5));
            await Task.WhenAny(next, Task.Delay(50, Ct));
        }

        Assert.True(await next);
        Assert.Equal(SubscriptionMessageKind.Event, messages.Current.Kind);
    }

    [Fact]
    public async Task A_broken_wake_up_signal_falls_back_to_polling_instead_of_spinning()
    {
        var clock = new FakeTimeProvider();
        var notifier = new BrokenNotifier();
        var store = new InMemoryEventStore();
        var reader = new CatchUpSubscriptionReader(store, new CatchUpOptions { PollInterval = TimeSpan.FromSeconds(5), TimeProvider = clock, Notifier = notifier });
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        await using var messages = reader.SubscribeToAllAsync(cancellationToken: timeout.Token).GetAsyncEnumerator(timeout.Token);
        Assert.True(await messages.MoveNextAsync());

        var next = messages.MoveNextAsync().AsTask();
        await Task.Delay(200, Ct);

        Assert.Equal(1, Volatile.Read(ref notifier.Calls));
        await store.AppendAsync(new StreamName("Broken-1"), ExpectedVersion.NoStream, [NewEvent()], Ct);
        while (!next.IsCompleted && !timeout.IsCancellationRequested)
        {
            clock.Advance(TimeSpan.FromSeconds(5));
            await Task.WhenAny(next, Task.Delay(50, Ct));
        }
        Assert.True(await next);
    }

    [Fact]
    public async Task A_filtered_subscription_checkpoints_at_the_safe_head_when_nothing_matched()
    {
        var store = new InMemoryEventStore();
        await store.AppendAsync(new StreamName("Noise-1"), ExpectedVersion.NoStream, [NewEvent(), NewEvent(), NewEvent()], Ct);
        var reader = new CatchUpSubscriptionReader(store);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));

        var messages = await TakeAsync(
            reader.SubscribeToAllAsync(new SubscribeToAllOptions { Filter = EventFilter.ForCategories("Wanted") }, timeout.Token),
            m => m[^1].Kind == SubscriptionMessageKind.CaughtUp, timeout.Token);

        Assert.Equal([SubscriptionMessageKind.Checkpoint, SubscriptionMessageKind.CaughtUp], messages.Select(m => m.Kind));
        Assert.All(messages, m => Assert.Equal(Position.FromInt64(3), m.Position));
    }

    [Fact]
    public async Task A_stream_subscription_continues_after_a_soft_delete_and_re_append()
    {
        var store = new InMemoryEventStore();
        var stream = new StreamName("Revive-1");
        await store.AppendAsync(stream, ExpectedVersion.NoStream, [NewEvent()], Ct);
        var reader = new CatchUpSubscriptionReader(store, new CatchUpOptions { Notifier = store.Storage.Changes });
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        await using var messages = reader.SubscribeToStreamAsync(stream, cancellationToken: timeout.Token).GetAsyncEnumerator(timeout.Token);
        Assert.True(await messages.MoveNextAsync());
        Assert.True(await messages.MoveNextAsync());
        Assert.Equal(SubscriptionMessageKind.CaughtUp, messages.Current.Kind);

        await store.DeleteStreamAsync(stream, ExpectedVersion.Any, StreamDeletionMode.Soft, Ct);
        await store.AppendAsync(stream, ExpectedVersion.NoStream, [NewEvent()], Ct);

        Assert.True(await messages.MoveNextAsync());
        Assert.Equal(1, messages.Current.Event!.Version);
    }
}
