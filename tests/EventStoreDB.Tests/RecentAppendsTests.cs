using EventStore.Providers.EventStoreDB.Protocol;

namespace EventStore.Providers.EventStoreDB.Tests;

public sealed class RecentAppendsTests
{
    private static readonly StreamName Stream = new("Order-1");
    private static EventData[] Batch(int n) => [.. Enumerable.Range(0, n).Select(_ => new EventData(Guid.NewGuid(), "T", "{}"u8.ToArray()))];

    [Fact]
    public void A_batch_never_seen_is_left_to_the_server()
    {
        var recent = new RecentAppends();
        Assert.Equal(RecentAppends.Verdict.Unknown, recent.Check(Stream, ExpectedVersion.NoStream, Batch(2)).Verdict);
    }

    [Fact]
    public void A_re_sent_batch_is_answered_with_the_original_result_and_nothing_written()
    {
        var recent = new RecentAppends();
        var batch = Batch(3);
        recent.Remember(Stream, batch, lastVersion: 4, Position.FromParts(900, 900));
        var (verdict, result, _) = recent.Check(Stream, ExpectedVersion.Exact(1), batch);
        Assert.Equal(RecentAppends.Verdict.Idempotent, verdict);
        Assert.Equal(new AppendResult(4, Position.FromParts(900, 900), WroteEvents: false), result);
        Assert.Equal(RecentAppends.Verdict.Idempotent, recent.Check(Stream, ExpectedVersion.Any, batch).Verdict);
    }

    [Fact]
    public void A_re_sent_batch_with_an_expectation_pointing_elsewhere_goes_to_the_server()
    {
        var recent = new RecentAppends();
        var batch = Batch(2);
        recent.Remember(Stream, batch, lastVersion: 3, Position.FromParts(5, 5));
        Assert.Equal(RecentAppends.Verdict.Unknown, recent.Check(Stream, ExpectedVersion.NoStream, batch).Verdict);
        Assert.Equal(RecentAppends.Verdict.Unknown, recent.Check(Stream, ExpectedVersion.Exact(0), batch).Verdict);
    }

    [Fact]
    public void A_batch_partly_overlapping_stored_ids_is_a_conflict_naming_a_stored_id()
    {
        var recent = new RecentAppends();
        var batch = Batch(2);
        recent.Remember(Stream, batch, lastVersion: 1, Position.FromParts(5, 5));
        var (verdict, _, id) = recent.Check(Stream, ExpectedVersion.NoStream, [batch[0], Batch(1)[0]]);
        Assert.Equal(RecentAppends.Verdict.Conflict, verdict);
        Assert.Equal(batch[0].EventId, id);
        Assert.Equal(RecentAppends.Verdict.Conflict, recent.Check(Stream, ExpectedVersion.NoStream, [.. batch, Batch(1)[0]]).Verdict);
        Assert.Equal(RecentAppends.Verdict.Conflict, recent.Check(Stream, ExpectedVersion.NoStream, [batch[1], batch[0]]).Verdict);
    }

    [Fact]
    public void Ids_stored_in_another_stream_or_forgotten_after_a_delete_are_unknown()
    {
        var recent = new RecentAppends();
        var batch = Batch(1);
        recent.Remember(Stream, batch, lastVersion: 0, Position.FromParts(5, 5));
        Assert.Equal(RecentAppends.Verdict.Unknown, recent.Check(new StreamName("Order-2"), ExpectedVersion.NoStream, batch).Verdict);
        recent.Forget(Stream);
        Assert.Equal(RecentAppends.Verdict.Unknown, recent.Check(Stream, ExpectedVersion.NoStream, batch).Verdict);
    }

    [Fact]
    public void The_memory_is_bounded()
    {
        var recent = new RecentAppends(capacity: 10);
        var first = Batch(1);
        recent.Remember(Stream, first, 0, Position.FromParts(1, 1));
        for (var i = 1; i <= 20; i++) recent.Remember(Stream, Batch(1), i, Position.FromParts(i + 1, i + 1));
        Assert.Equal(RecentAppends.Verdict.Unknown, recent.Check(Stream, ExpectedVersion.NoStream, first).Verdict);
    }
}
