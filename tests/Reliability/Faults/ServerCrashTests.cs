using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using EventStore.Providers.Reliability.Tests.Infrastructure;
using EventStore.Providers.Reliability.Tests.Targets;

namespace EventStore.Providers.Reliability.Tests.Faults;

/// <summary>A server the test may crash and start again on the same address and data.</summary>
public interface ICrashableServer : IAsyncDisposable
{
    /// <summary>Kills the server abruptly (no clean shutdown).</summary>
    Task CrashAsync(CancellationToken cancellationToken);

    /// <summary>Starts it again over the same data and port.</summary>
    Task StartAgainAsync(CancellationToken cancellationToken);
}

/// <summary>A dedicated server and a target over it.</summary>
public sealed record CrashRig(ICrashableServer Server, IStoreTarget Target);

/// <summary>
/// The server dies mid-load and comes back: calls during the outage fail with
/// <see cref="TransientEventStoreException"/> instead of hanging, the same store instance recovers, retried appends
/// (same ids, same expected version) never duplicate, and a subscription resumes from its checkpoint.
/// </summary>
public abstract class ServerCrashTests
{
    private const int Crashes = 3;
    private const int Streams = 5;
    // A call that has not returned after this long is a hang, far beyond any configured timeout of the rigs.
    private static readonly TimeSpan HangLimit = TimeSpan.FromSeconds(60);

    /// <summary>Starts a dedicated server and a target whose timeouts are short.</summary>
    protected abstract Task<CrashRig> CreateRigAsync(CancellationToken cancellationToken);

    [Fact]
    public async Task After_a_server_crash_calls_fail_as_transient_the_same_store_recovers_retries_do_not_duplicate_and_a_subscription_resumes_from_its_checkpoint()
    {
        var ct = TestContext.Current.CancellationToken;
        var rig = await CreateRigAsync(ct);
        await using var server = rig.Server;
        await using var target = rig.Target;
        await using var handle = await target.CreateStoreAsync(ct);
        var store = handle.Store;

        var sent = new ConcurrentQueue<JournalBatch>();
        var acknowledged = 0;
        long transientFailures = 0, otherFailures = 0, slowestFailureMs = 0;
        string? firstOtherFailure = null;
        using var stopWriting = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            var known = new long[Streams];
            Array.Fill(known, -1);
            for (var n = 0; !stopWriting.IsCancellationRequested; n++)
            {
                var s = n % Streams;
                var stream = new StreamName($"Outage-{s}");
                var events = Enumerable.Range(0, 3).Select(_ => new EventData(Guid.NewGuid(), "Written", new byte[32])).ToList();
                // Half the streams use exact versions, half Any: both must make a retry idempotent.
                var expected = s % 2 == 0 ? ExpectedVersion.FromLastSeen(known[s]) : ExpectedVersion.Any;
                var journal = new JournalBatch(stream.Value, events.Select(e => e.EventId).ToList(), null);
                sent.Enqueue(journal);
                while (true)
                {
                    var started = Stopwatch.StartNew();
                    try
                    {
                        var result = await store.AppendAsync(stream, expected, events, ct).WaitAsync(HangLimit, ct);
                        known[s] = result.LastVersion;
                        sent.Enqueue(journal with { AcknowledgedLastVersion = result.LastVersion });
                        Interlocked.Increment(ref acknowledged);
                        break;
                    }
                    catch (TransientEventStoreException)
                    {
                        Interlocked.Increment(ref transientFailures);
                        InterlockedMax(ref slowestFailureMs, started.ElapsedMilliseconds);
                        await Task.Delay(50, ct);
                    }
                    catch (Exception e) when (e is not TimeoutException)
                    {
                        // Anything else during an outage is a wrong answer (WrongExpectedVersion after a lost commit would be a duplicate in disguise).
                        Interlocked.Increment(ref otherFailures);
                        firstOtherFailure ??= e.GetType().Name + ": " + e.Message;
                        await Task.Delay(50, ct);
                    }
                }
            }
        }, ct);

        var received = new ConcurrentQueue<RecordedEvent>();
        long resumes = 0;
        using var stopSubscription = new CancellationTokenSource();
        var subscriber = Task.Run(async () =>
        {
            Position? checkpoint = null;
            while (!stopSubscription.IsCancellationRequested)
            {
                try
                {
                    await foreach (var m in store.SubscribeToAllAsync(new SubscribeToAllOptions { From = checkpoint }, stopSubscription.Token))
                    {
                        if (m.Kind == SubscriptionMessageKind.Event) received.Enqueue(m.Event!);
                        checkpoint = m.Position;
                    }
                }
                catch (TransientEventStoreException)
                {
                    Interlocked.Increment(ref resumes);
                    await Task.Delay(100, CancellationToken.None);
                }
                catch (OperationCanceledException) when (stopSubscription.IsCancellationRequested)
                {
                }
            }
        }, CancellationToken.None);

        var sinceRestart = new Stopwatch();
        for (var crash = 0; crash < Crashes; crash++)
        {
            await WaitForAsync(() => Volatile.Read(ref acknowledged) >= (crash + 1) * 40, "appends before the crash", ct);
            var failuresBefore = Interlocked.Read(ref transientFailures);
            await server.CrashAsync(ct);
            await WaitForAsync(() => Interlocked.Read(ref transientFailures) >= failuresBefore + 3, "transient failures during the outage", ct);
            await server.StartAgainAsync(ct);
            sinceRestart.Restart();
        }
        await WaitForAsync(() => Volatile.Read(ref acknowledged) >= (Crashes + 1) * 40, "appends after the last restart", ct);
        await stopWriting.CancelAsync();
        await writer;
        var writingAfterRestart = sinceRestart.ElapsedMilliseconds;

        var batches = sent.GroupBy(b => string.Join(',', b.Ids)).Select(g => g.Last()).ToList();
        // The audit first waits until $all has caught up with the streams (an append cut by the crash may hold a
        // gap-safe $all back until the provider's gap timeout); only then is the count the subscription must reach final.
        var audit = await Audit.VerifyAsync(store, "Outage", batches, ct);
        // How long after the last restart $all showed every acknowledged append (holes left by cut appends included).
        var recoveredAfter = sinceRestart.ElapsedMilliseconds;
        var expectedEvents = await store.ReadAllAsync(null, ct).CountAsync(ct);
        await WaitForAsync(() => received.Count >= expectedEvents, "the subscription to deliver every event", ct);
        await stopSubscription.CancelAsync();
        await subscriber;

        Assert.True(otherFailures == 0, $"{otherFailures} calls failed with something else than TransientEventStoreException, first: {firstOtherFailure}");
        var delivered = received.Select(e => e.EventId).ToList();
        Assert.Equal(delivered.Count, delivered.Distinct().Count());
        Assert.Equal(await store.ReadAllAsync(null, ct).Select(e => e.EventId).ToListAsync(ct), delivered);

        Report.Count(target.Name, "server crashes survived (same store instance recovered)", Crashes);
        Report.Count(target.Name, "server-crash: calls failed as TransientEventStoreException during outages", transientFailures);
        Report.Count(target.Name, "server-crash: slowest failing call (ms, informational)", slowestFailureMs);
        Report.Count(target.Name, "server-crash: ms from the last restart until $all held every acknowledged append", recoveredAfter);
        Report.Count(target.Name, "server-crash: of which ms the writer still appended after the restart", writingAfterRestart);
        Report.Count(target.Name, "server-crash: acknowledged appends verified exactly once", audit.AcknowledgedBatches);
        Report.Count(target.Name, "server-crash: subscription resumes from checkpoint", resumes);
        Report.Count(target.Name, "server-crash: events delivered once by the resumed subscription", delivered.Count);
    }

    private static void InterlockedMax(ref long location, long value)
    {
        var current = Interlocked.Read(ref location);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref location, value, current);
            if (seen == current) return;
            current = seen;
        }
    }

    private static async Task WaitForAsync(Func<bool> condition, string what, CancellationToken cancellationToken)
    {
        var started = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(started.Elapsed < HangLimit, string.Create(CultureInfo.InvariantCulture, $"waited {HangLimit.TotalSeconds} s for {what}"));
            await Task.Delay(20, cancellationToken);
        }
    }
}
