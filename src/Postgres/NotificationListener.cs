using EventStore.Providers.Subscriptions.CatchUp;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace EventStore.Providers.Postgres;

/// <summary>
/// One LISTEN connection per store instance that wakes every caught-up subscription when an append commits. The
/// store calls <see cref="OnAppended"/> after each commit: that wakes this process's subscriptions directly and sends
/// one NOTIFY for the burst (outside the appending transaction, whose commit would otherwise queue on the global
/// notification lock); under steady load the NOTIFYs are at least 5 ms apart. A waiter takes the current signal, then checks the highest committed position, then waits: a
/// commit after its last read either moved that position already or completes the signal it holds, so none is
/// missed. While the LISTEN connection is down, waiters poll every <c>pollInterval</c> instead.
/// </summary>
internal sealed class NotificationListener(NpgsqlDataSource dataSource, string channel, Func<CancellationToken, Task<long>> readCommitted,
    TimeSpan pollInterval, bool notifyOnAppend, ILogger logger) : IStoreChangeNotifier, IAsyncDisposable
{
    // Synchronous commit off: the notification carries no data, so its commit need not wait for a WAL flush.
    private readonly string _notifySql = $"BEGIN; SET LOCAL synchronous_commit = off; NOTIFY {SqlText.QuoteIdentifier(channel)}; COMMIT";
    private int _notifyState; // 0 idle, 1 sending, 2 sending and another append committed meanwhile
    private Task _notifier = Task.CompletedTask;

    private static readonly TimeSpan ReconnectDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MinNotifyInterval = TimeSpan.FromMilliseconds(5);
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _startLock = new();
    private TaskCompletionSource _signal = new(TaskCreationOptions.RunContinuationsAsynchronously);
    // Completes when the first LISTEN attempt has ended, connected or not.
    private readonly TaskCompletionSource _firstAttempt = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _loop;
    private volatile bool _connected;
    private int _disposed;

    /// <summary>True while the LISTEN connection is up; otherwise subscriptions fall back to polling.</summary>
    public bool IsListening => _connected;

    /// <summary>Completes at the next notification (or reconnect). Starts the listener on first use.</summary>
    public Task Signal
    {
        get
        {
            if (_loop is null)
            {
                lock (_startLock) _loop ??= Task.Run(() => RunAsync(_stop.Token));
            }
            return Volatile.Read(ref _signal).Task;
        }
    }

    /// <summary>
    /// Starts the listener and waits until its first attempt to LISTEN has ended: afterwards a NOTIFY sent by any
    /// process reaches this store, or (when the attempt failed) waiters poll. Subscriptions await this before they
    /// read, so none reports CaughtUp before it can hear the next append.
    /// </summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _ = Signal;
        return _firstAttempt.Task.WaitAsync(cancellationToken);
    }

    /// <inheritdoc />
    public async Task WaitForChangeAsync(Position after, CancellationToken cancellationToken)
    {
        var signal = Signal;
        if (!_connected)
        {
            // This process's appends and the listener's reconnect still complete the signal; other processes'
            // appends are found by the poll.
            await Task.WhenAny(signal, Task.Delay(pollInterval, cancellationToken)).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            return;
        }
        var seen = PostgresEventStore.ToRaw(after);
        // Anything committed past the reader's position, final or still held back by an older append (the read
        // waits for that one), is a reason to read again.
        if (await readCommitted(cancellationToken).ConfigureAwait(false) > seen) return;
        await signal.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Called after an append commits: wakes local waiters and makes sure a NOTIFY follows the commit.</summary>
    public void OnAppended()
    {
        Fire();
        if (!notifyOnAppend || Volatile.Read(ref _disposed) != 0) return;
        while (true)
        {
            var state = Volatile.Read(ref _notifyState);
            if (state == 2) return; // a send is already due after the current one, and it follows this commit
            if (Interlocked.CompareExchange(ref _notifyState, state + 1, state) != state) continue;
            if (state == 0) _notifier = Task.Run(SendNotificationsAsync);
            return;
        }
    }

    private async Task SendNotificationsAsync()
    {
        while (true)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(_stop.Token).ConfigureAwait(false);
                await using var cmd = new NpgsqlCommand(_notifySql, connection);
                await cmd.ExecuteNonQueryAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                Volatile.Write(ref _notifyState, 0);
                return;
            }
            catch (Exception e) when (PostgresErrors.ShouldMap(e))
            {
                // Subscriptions elsewhere then wake at their poll interval.
                logger.LogNotifyFailed(channel, e.GetType().Name);
            }
            if (Interlocked.CompareExchange(ref _notifyState, 0, 1) == 1) return;
            Volatile.Write(ref _notifyState, 1);
            // More appends committed while this one was sent: one more NOTIFY follows, but not sooner than this, so a
            // steady stream of appends costs the server a notification every few milliseconds, not one per append.
            try { await Task.Delay(MinNotifyInterval, _stop.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) { Volatile.Write(ref _notifyState, 0); return; }
        }
    }

    private void Fire() => Interlocked.Exchange(ref _signal, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    private async Task RunAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            NpgsqlConnection? connection = null;
            try
            {
                connection = await dataSource.OpenConnectionAsync(stop).ConfigureAwait(false);
                connection.Notification += (_, _) => Fire();
                await using (var cmd = new NpgsqlCommand($"LISTEN {SqlText.QuoteIdentifier(channel)}", connection))
                    await cmd.ExecuteNonQueryAsync(stop).ConfigureAwait(false);
                _connected = true;
                _firstAttempt.TrySetResult();
                logger.LogListening(channel);
                // Appends may have committed while no one listened: wake everyone to re-read once.
                Fire();
                while (true) await connection.WaitAsync(stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                _firstAttempt.TrySetResult();
                break;
            }
            catch (Exception e) when (PostgresErrors.ShouldMap(e))
            {
                _connected = false;
                _firstAttempt.TrySetResult();
                logger.LogListenFailed(channel, e.GetType().Name);
                Fire();
                try { await Task.Delay(ReconnectDelay, stop).ConfigureAwait(false); }
                catch (OperationCanceledException) { break; }
            }
            finally
            {
                _connected = false;
                if (connection is not null) await ReleaseAsync(connection).ConfigureAwait(false);
            }
        }
    }

    // A pooled connection must not go back to the pool still listening (the pool may be configured not to reset).
    private static async Task ReleaseAsync(NpgsqlConnection connection)
    {
        try
        {
            if (connection.State == System.Data.ConnectionState.Open)
            {
                await using var cmd = new NpgsqlCommand("UNLISTEN *", connection);
                await cmd.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (PostgresErrors.ShouldMap(e) || e is InvalidOperationException)
        {
            // A broken connection is not returned to the pool in a usable state anyway.
        }
        await connection.DisposeAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null) await _loop.ConfigureAwait(false);
        await _notifier.ConfigureAwait(false);
        _stop.Dispose();
        _firstAttempt.TrySetResult();
        _signal.TrySetResult();
    }
}
