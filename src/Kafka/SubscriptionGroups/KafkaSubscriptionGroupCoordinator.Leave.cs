using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace EventStore.Providers.Kafka;

// Leaving the group: on stop or dispose, bounded however librdkafka behaves.
internal sealed partial class KafkaSubscriptionGroupCoordinator
{
    /// <inheritdoc />
    /// <exception cref="TransientEventStoreException">The group coordinator did not answer; the others take the shares when the session expires.</exception>
    public async Task LeaveAsync(CancellationToken cancellationToken)
    {
        await _refreshGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await Task.Run(Leave, CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _refreshGate.Release();
        }
    }

    private void Leave()
    {
        if (_consumer is not { } consumer) return;
        // The runner stored its checkpoints before leaving: what the consumer revokes now is released at once.
        _leaving = true;
        var stopped = EndHandover();
        _ = stopped?.Exception;
        _gate.Wait();
        try
        {
            _consumer = null;
        }
        finally
        {
            _gate.Release();
        }
        try
        {
            CloseWithinRequestTimeout(consumer);
        }
        catch (KafkaException e)
        {
            throw GroupErrors.Wrap($"leaving group '{_settings.GroupId}'", e);
        }
        finally
        {
            ReleaseAll("left the group");
            _leaving = false;
        }
    }

    /// <summary>
    /// Closes the consumer (it revokes the assignment through the listener, then sends LeaveGroup, so the others
    /// rebalance at once) and disposes it, on a thread of its own, waiting at most the request timeout. librdkafka can
    /// block for good in either step: a CI run sat 20 minutes in close (librdkafka issue 4041) and, after that was
    /// worked around, another in rd_kafka_destroy, its main thread never seeing the group handle terminate. An
    /// application stopping must not hang on that: after the timeout the leave goes on, logs it, and the client is left
    /// to finish on its thread. The others take the shares when this member's session expires, as after a crash.
    /// </summary>
    private void CloseWithinRequestTimeout(IGroupConsumer consumer)
    {
        var closing = Task.Factory.StartNew(() =>
        {
            try
            {
                consumer.Close();
            }
            finally
            {
                consumer.Dispose();
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        // Waits without throwing (Task.Wait would wrap a refusal in AggregateException), then rethrows it as it was.
        if (((IAsyncResult)closing).AsyncWaitHandle.WaitOne(_settings.RequestTimeout) || closing.IsCompleted)
        {
            closing.GetAwaiter().GetResult();
            return;
        }
        _logger.GroupLeaveTimedOut(_settings.GroupId, _instanceId, _settings.RequestTimeout);
        closing.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
    }

    /// <summary>Leaves the group (the others take over at once) and closes the consumer.</summary>
    public async ValueTask DisposeAsync()
    {
        await _refreshGate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_disposed) return;
            _disposed = true;
            await Task.Run(Leave).ConfigureAwait(false);
        }
        catch (EventStoreException e)
        {
            _logger.GroupLeaveFailed(e, _settings.GroupId, _instanceId);
        }
        finally
        {
            _refreshGate.Release();
        }
    }
}
