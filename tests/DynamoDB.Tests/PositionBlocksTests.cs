using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace EventStore.Providers.DynamoDB.Tests;

/// <summary>
/// <see cref="PositionBlocks"/> without a server: concurrent appends share counter updates, every position handed out
/// is used or released, and a cancelled append gives its positions back.
/// </summary>
public sealed class PositionBlocksTests
{
    private sealed class FakeCounter
    {
        private readonly Lock _gate = new();
        private long _value;
        public TaskCompletionSource Gate { get; set; } = CompletedGate();
        public int Updates { get; private set; }
        public int Entered => Volatile.Read(ref _entered);
        private int _entered;
        public List<(long First, long Last)> Released { get; } = [];
        public List<int> Sizes { get; } = [];

        public async Task<(long First, long Last)> ReserveAsync(int count)
        {
            Interlocked.Increment(ref _entered);
            await Gate.Task;
            lock (_gate)
            {
                Updates++;
                Sizes.Add(count);
                _value += count;
                return (_value - count + 1, _value);
            }
        }

        public Task ReleaseAsync(long first, long last, string reason)
        {
            lock (_gate) Released.Add((first, last));
            return Task.CompletedTask;
        }

        private static TaskCompletionSource CompletedGate()
        {
            var done = new TaskCompletionSource();
            done.SetResult();
            return done;
        }
    }

    [Fact]
    public async Task Appends_waiting_together_share_one_counter_update_and_use_every_position()
    {
        var counter = new FakeCounter { Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        using var blocks = new PositionBlocks(counter.ReserveAsync, counter.ReleaseAsync, new FakeTimeProvider(), size: 1, TimeSpan.FromSeconds(1));
        var first = blocks.TakeAsync(1, CancellationToken.None);
        // While the first update is on its way, seven more appends (of 1 to 3 events) arrive.
        var waiting = Enumerable.Range(0, 7).Select(i => blocks.TakeAsync(1 + i % 3, CancellationToken.None)).ToArray();
        counter.Gate.SetResult();
        var all = new List<Reservation> { await first };
        all.AddRange(await Task.WhenAll(waiting));

        Assert.InRange(counter.Updates, 1, 2); // the first alone, then the seven together (or all eight at once)
        var positions = all.SelectMany(r => Enumerable.Range((int)r.First, (int)(r.Last - r.First + 1))).Order().ToList();
        Assert.Equal(Enumerable.Range(1, positions.Count), positions); // disjoint, no hole between them
        Assert.Equal(1 + Enumerable.Range(0, 7).Sum(i => 1 + i % 3), positions.Count);
        Assert.Empty(counter.Released); // with blocks of 1 nothing is left over
    }

    [Fact]
    public async Task A_cancelled_append_already_in_a_counter_update_releases_its_positions()
    {
        var counter = new FakeCounter { Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        using var blocks = new PositionBlocks(counter.ReserveAsync, counter.ReleaseAsync, new FakeTimeProvider(), size: 1, TimeSpan.FromSeconds(1));
        using var cts = new CancellationTokenSource();
        var taking = blocks.TakeAsync(2, cts.Token);
        await WaitUntilAsync(() => counter.Entered == 1); // the append is part of the counter update on its way
        cts.Cancel();
        counter.Gate.SetResult();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => taking);
        Assert.Equal([(1L, 2L)], counter.Released);
    }

    [Fact]
    public async Task Without_a_fixed_size_a_busy_instance_reserves_blocks_that_last_half_the_lifetime()
    {
        var counter = new FakeCounter();
        var time = new FakeTimeProvider();
        using var blocks = new PositionBlocks(counter.ReserveAsync, counter.ReleaseAsync, time, size: null, TimeSpan.FromMilliseconds(50));
        var taken = new List<Reservation>();
        for (var i = 0; i < 300; i++)
        {
            taken.Add(await blocks.TakeAsync(1, CancellationToken.None));
            time.Advance(TimeSpan.FromMilliseconds(1)); // 1,000 appends a second
        }
        // The first update has no history (1 position), the second sees one position in a millisecond, counted over
        // at least 5 ms (a tenth of the lifetime). The third is reserved ahead once half of that block is used: three
        // positions in 2 ms, again over 5 ms. From then on 1,000/s x 25 ms = 25 positions per update.
        Assert.Equal([1, 5, 15], counter.Sizes.Take(3));
        Assert.All(counter.Sizes.Skip(3), s => Assert.Equal(25, s));
        Assert.InRange(counter.Updates, 12, 16);
        Assert.Equal(Enumerable.Range(1, 300).Select(p => (long)p), taken.Select(r => r.First));
        Assert.Empty(counter.Released);
    }

    [Fact]
    public async Task Without_a_fixed_size_a_burst_of_appends_does_not_reserve_a_block_that_outlives_its_lifetime()
    {
        var counter = new FakeCounter();
        var time = new FakeTimeProvider();
        using var blocks = new PositionBlocks(counter.ReserveAsync, counter.ReleaseAsync, time, size: null, TimeSpan.FromMilliseconds(50));
        await blocks.TakeAsync(1, CancellationToken.None);
        time.Advance(TimeSpan.FromMilliseconds(1));
        await blocks.TakeAsync(1, CancellationToken.None);
        // The rest of that block goes in one burst, and a millisecond later the next append needs a new block: counted
        // over the millisecond alone, the burst would look like thousands of appends a second.
        for (var i = 1; i < counter.Sizes[1]; i++) await blocks.TakeAsync(1, CancellationToken.None);
        time.Advance(TimeSpan.FromMilliseconds(1));
        await blocks.TakeAsync(1, CancellationToken.None);
        Assert.Equal([1, 5, 25], counter.Sizes); // over 5 ms (a tenth of the lifetime): 200/s, then 1,000/s, for 25 ms
    }

    [Fact]
    public async Task Without_a_fixed_size_an_instance_that_appends_rarely_holds_no_positions_back()
    {
        var counter = new FakeCounter();
        var time = new FakeTimeProvider();
        using var blocks = new PositionBlocks(counter.ReserveAsync, counter.ReleaseAsync, time, size: null, TimeSpan.FromMilliseconds(50));
        for (var i = 0; i < 5; i++)
        {
            await blocks.TakeAsync(1, CancellationToken.None);
            time.Advance(TimeSpan.FromSeconds(1));
        }
        Assert.Equal([1, 1, 1, 1, 1], counter.Sizes);
        Assert.Empty(counter.Released);
    }

    [Fact]
    public async Task A_busy_instance_reserves_its_next_block_ahead_so_no_append_waits_for_the_counter()
    {
        var counter = new FakeCounter();
        var time = new FakeTimeProvider();
        using var blocks = new PositionBlocks(counter.ReserveAsync, counter.ReleaseAsync, time, size: 10, TimeSpan.FromSeconds(1));
        // The first append takes position 1 from the first update; positions 2-10 are the block.
        var taken = new List<Reservation>();
        for (var i = 0; i < 5; i++) taken.Add(await blocks.TakeAsync(1, CancellationToken.None));
        Assert.Equal(1, counter.Updates); // five of nine left: nothing reserved ahead yet
        taken.Add(await blocks.TakeAsync(1, CancellationToken.None));
        await WaitUntilAsync(() => blocks.HasBlockAhead); // four left: the next block was reserved
        counter.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously); // the counter stops answering
        for (var i = 0; i < 10; i++)
        {
            var take = blocks.TakeAsync(1, CancellationToken.None);
            Assert.True(take.IsCompletedSuccessfully, $"append {taken.Count + 1} waited for the counter");
            taken.Add(await take);
        }
        Assert.Equal(Enumerable.Range(1, 16).Select(p => (long)p), taken.Select(r => r.First));
        await WaitUntilAsync(() => counter.Entered == 3); // half of the second block used: the third is asked for
        counter.Gate.SetResult();
        await WaitUntilAsync(() => counter.Updates == 3);
        Assert.Empty(counter.Released);
    }

    [Fact]
    public async Task An_instance_that_goes_idle_gives_back_the_block_it_reserved_ahead()
    {
        var counter = new FakeCounter();
        var time = new FakeTimeProvider();
        var blocks = new PositionBlocks(counter.ReserveAsync, counter.ReleaseAsync, time, size: 10, TimeSpan.FromSeconds(1));
        for (var i = 0; i < 6; i++) await blocks.TakeAsync(1, CancellationToken.None);
        await WaitUntilAsync(() => blocks.HasBlockAhead);
        time.Advance(blocks.IdleRelease);
        await WaitUntilAsync(() => counter.Released.Count == 2);
        Assert.Equal([(7L, 10L), (11L, 20L)], counter.Released);

        // Disposed with a block reserved ahead, the store gives that back too.
        var again = new FakeCounter();
        var other = new PositionBlocks(again.ReserveAsync, again.ReleaseAsync, time, size: 10, TimeSpan.FromSeconds(1));
        for (var i = 0; i < 10; i++) await other.TakeAsync(1, CancellationToken.None);
        await WaitUntilAsync(() => other.HasBlockAhead);
        other.Dispose();
        Assert.Equal([(11L, 20L)], again.Released);
        blocks.Dispose();
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("condition not reached");
            await Task.Delay(5);
        }
    }
}
