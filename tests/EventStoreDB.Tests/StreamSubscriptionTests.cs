using EventStore.Providers.EventStoreDB.Protocol;
using EventStore.Providers.EventStoreDB.Protocol.Streams;

namespace EventStore.Providers.EventStoreDB.Tests;

/// <summary>
/// When a stream subscription reports CaughtUp, fed with the message sequences servers really send: 23.10 sends only
/// a confirmation for a missing stream, servers before 23.10 never send caught_up, newer ones do.
/// </summary>
public sealed class StreamSubscriptionTests
{
    private static readonly StreamName Stream = new("Order-1");

    private static ReadResp Confirmation() => new() { Confirmation = new ReadResp.Types.SubscriptionConfirmation { SubscriptionId = "s" } };

    private static ReadResp CaughtUp() => new() { CaughtUp = new ReadResp.Types.CaughtUp() };

    private static ReadResp Event(long revision) => new()
    {
        Event = new ReadResp.Types.ReadEvent
        {
            Event = new ReadResp.Types.ReadEvent.Types.RecordedEvent
            {
                Id = EsdbProtocol.ToUuid(Guid.NewGuid()),
                StreamIdentifier = EsdbProtocol.StreamId("Order-1"),
                StreamRevision = (ulong)revision,
                CommitPosition = (ulong)(100 + revision),
                PreparePosition = (ulong)(100 + revision),
                Metadata = { ["type"] = "OrderPlaced", ["content-type"] = "application/json" },
            },
        },
    };

    private static async IAsyncEnumerable<ReadResp> Sequence(params ReadResp[] responses)
    {
        foreach (var r in responses)
        {
            await Task.Yield();
            yield return r;
        }
    }

    /// <summary>The messages as text: E&lt;version&gt; for events, C for CaughtUp.</summary>
    private static async Task<(List<string> Messages, int HeadReads)> FollowAsync(long lastRevision, long? afterVersion, params ReadResp[] responses)
    {
        var reads = 0;
        var subscription = new StreamSubscription(Stream, afterVersion, _ => { reads++; return Task.FromResult(lastRevision); });
        var messages = new List<string>();
        await foreach (var m in subscription.FollowAsync(Sequence(responses), TestContext.Current.CancellationToken))
            messages.Add(m.Kind == SubscriptionMessageKind.Event ? $"E{m.Event!.Version}" : m.Kind == SubscriptionMessageKind.CaughtUp ? "C" : "?");
        return (messages, reads);
    }

    [Fact]
    public async Task A_missing_stream_is_caught_up_right_after_the_confirmation()
    {
        var (messages, reads) = await FollowAsync(lastRevision: -1, afterVersion: null, Confirmation());
        Assert.Equal(["C"], messages);
        Assert.Equal(1, reads);
    }

    [Fact]
    public async Task A_missing_stream_then_created_delivers_its_events_after_caught_up_once()
    {
        var (messages, _) = await FollowAsync(-1, null, Confirmation(), Event(0), CaughtUp(), Event(1));
        Assert.Equal(["C", "E0", "E1"], messages);
    }

    [Fact]
    public async Task Without_caught_up_from_the_server_it_catches_up_at_the_revision_read_after_the_confirmation()
    {
        var (messages, _) = await FollowAsync(2, null, Confirmation(), Event(0), Event(1), Event(2), Event(3));
        Assert.Equal(["E0", "E1", "E2", "C", "E3"], messages);
    }

    [Fact]
    public async Task A_server_caught_up_that_comes_first_counts_once()
    {
        var (messages, _) = await FollowAsync(5, null, Confirmation(), Event(0), CaughtUp(), Event(1), CaughtUp());
        Assert.Equal(["E0", "C", "E1"], messages);
    }

    [Fact]
    public async Task A_subscription_already_past_the_end_is_caught_up_at_the_confirmation()
    {
        var (messages, _) = await FollowAsync(3, afterVersion: 3, Confirmation(), Event(4));
        Assert.Equal(["C", "E4"], messages);
    }

    [Fact]
    public async Task A_resubscription_reads_the_head_once_and_skips_what_was_delivered()
    {
        var (messages, reads) = await FollowAsync(1, null, Confirmation(), Event(0), Confirmation(), Event(0), Event(1), Event(2));
        Assert.Equal(["E0", "E1", "C", "E2"], messages);
        Assert.Equal(1, reads);
    }

    [Fact]
    public async Task Without_a_confirmation_or_caught_up_it_never_claims_to_be_caught_up()
    {
        var (messages, reads) = await FollowAsync(0, null, Event(0), Event(1));
        Assert.Equal(["E0", "E1"], messages);
        Assert.Equal(0, reads);
    }
}
