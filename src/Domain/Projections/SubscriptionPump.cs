using System.Threading.Channels;

namespace EventStore.Providers.Projections;

/// <summary>
/// Reads a <c>$all</c> subscription on its own task into a bounded channel, so the consumer can batch whatever has
/// arrived and notice when the store goes quiet, which an <c>await foreach</c> alone cannot do.
/// </summary>
internal sealed class SubscriptionPump : IAsyncDisposable
{
    private readonly CancellationTokenSource _cts;
    private readonly Task _run;

    private SubscriptionPump(IEventStore store, SubscriptionOptions options, Position? from, CancellationToken cancellationToken)
    {
        _cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var channel = Channel.CreateBounded<SubscriptionMessage>(new BoundedChannelOptions(options.BatchSize * 2) { SingleWriter = true });
        Reader = channel.Reader;
        _run = RunAsync(store, options, from, channel.Writer, _cts.Token);
    }

    /// <summary>The messages; the channel completes with the subscription's failure, if any.</summary>
    public ChannelReader<SubscriptionMessage> Reader { get; }

    /// <summary>Starts reading after <paramref name="from"/> (null: from the start of the log).</summary>
    public static SubscriptionPump Start(IEventStore store, SubscriptionOptions options, Position? from, CancellationToken cancellationToken) =>
        new(store, options, from, cancellationToken);

    /// <summary>
    /// Waits for the next message, waking up to run <paramref name="saveCheckpoint"/> whenever
    /// <paramref name="timeUntilCheckpointDue"/> says a time-based checkpoint is due while the store is quiet.
    /// </summary>
    /// <returns>False when the channel completed.</returns>
    public async Task<bool> WaitForMessageAsync(Func<TimeSpan?> timeUntilCheckpointDue, Func<CancellationToken, Task> saveCheckpoint, TimeProvider time, CancellationToken cancellationToken)
    {
        while (true)
        {
            var due = timeUntilCheckpointDue();
            if (due is null) return await Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false);
            if (due <= TimeSpan.Zero)
            {
                await saveCheckpoint(cancellationToken).ConfigureAwait(false);
                continue;
            }
            using var delayCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var read = Reader.WaitToReadAsync(delayCts.Token).AsTask();
            var delay = Task.Delay(due.Value, time, delayCts.Token);
            var first = await Task.WhenAny(read, delay).ConfigureAwait(false);
            await delayCts.CancelAsync().ConfigureAwait(false);
            if (first == read) return await read.ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync().ConfigureAwait(false);
        // The pump never throws: it hands its failure to the channel, where the consumer surfaced it.
        await _run.ConfigureAwait(false);
        _cts.Dispose();
    }

    private static async Task RunAsync(IEventStore store, SubscriptionOptions options, Position? start, ChannelWriter<SubscriptionMessage> writer, CancellationToken cancellationToken)
    {
        try
        {
            var subscribe = new SubscribeToAllOptions { From = start, Filter = options.Filter, CheckpointInterval = options.FilteredCheckpointInterval };
            await foreach (var message in store.SubscribeToAllAsync(subscribe, cancellationToken).ConfigureAwait(false))
                await writer.WriteAsync(message, cancellationToken).ConfigureAwait(false);
            writer.TryComplete();
        }
        catch (Exception e)
        {
            writer.TryComplete(e);
        }
    }
}
