using EventStore.Providers.EventStoreDB.Protocol;

namespace EventStore.Providers.EventStoreDB.Tests;

/// <summary>How an instance tells a fresh write from the server's identical answer to a re-send of an older one.</summary>
public sealed class CommitWatermarkTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_re_send_of_a_batch_committed_before_the_instance_first_looked_wrote_nothing()
    {
        var original = Position.FromParts(500, 480);
        var watermark = new CommitWatermark(_ => Task.FromResult(Position.FromParts(900, 900)));

        var before = await watermark.CurrentAsync(Ct);

        Assert.False(CommitWatermark.WroteEvents(original, before));
        Assert.True(CommitWatermark.WroteEvents(Position.FromParts(1000, 1000), before));
    }

    [Fact]
    public async Task The_instances_own_answers_raise_the_watermark_and_concurrent_answers_below_it_still_count_as_writes()
    {
        var reads = 0;
        var watermark = new CommitWatermark(_ => { reads++; return Task.FromResult(Position.Start); });
        var beforeA = await watermark.CurrentAsync(Ct);
        var beforeB = await watermark.CurrentAsync(Ct);
        watermark.Observe(Position.FromParts(700, 700));

        // B was sent before A's answer arrived: its lower position is still a fresh write.
        Assert.True(CommitWatermark.WroteEvents(Position.FromParts(650, 650), beforeB));
        Assert.True(CommitWatermark.WroteEvents(Position.FromParts(700, 700), beforeA));
        // After A's answer, a re-send of A (through this instance, past its memory) wrote nothing.
        Assert.False(CommitWatermark.WroteEvents(Position.FromParts(700, 700), await watermark.CurrentAsync(Ct)));
        Assert.Equal(1, reads);
    }

    [Fact]
    public async Task A_failed_first_look_is_retried_by_the_next_append()
    {
        var calls = 0;
        var watermark = new CommitWatermark(_ => ++calls == 1 ? Task.FromException<Position>(new TransientEventStoreException("down")) : Task.FromResult(Position.FromParts(10, 10)));

        await Assert.ThrowsAsync<TransientEventStoreException>(async () => await watermark.CurrentAsync(Ct));

        Assert.Equal(10, await watermark.CurrentAsync(Ct));
        Assert.Equal(2, calls);
    }

    [Fact]
    public void An_answer_without_a_position_counts_as_a_write()
    {
        Assert.True(CommitWatermark.WroteEvents(Position.Start, long.MaxValue));
    }
}
