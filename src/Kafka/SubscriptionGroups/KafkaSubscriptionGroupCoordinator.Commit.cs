using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace EventStore.Providers.Kafka;

// Storing a share's checkpoint: a commit through the group, fenced by the gate and the broker's generation check.
internal sealed partial class KafkaSubscriptionGroupCoordinator
{
    /// <summary>Commits <paramref name="claim"/>'s partition offsets for <paramref name="checkpoint"/> while the claim is held.</summary>
    /// <exception cref="LeaseLostException">The partition was revoked or lost, or the broker refused the commit's generation.</exception>
    /// <exception cref="TransientEventStoreException">The group coordinator is unreachable or moving; nothing is known to be stored.</exception>
    internal async Task CommitAsync(KafkaShareClaim claim, Position checkpoint, CancellationToken cancellationToken)
    {
        var offsets = ShareCheckpoint.NextOffsets(checkpoint, PartitionsOf(claim.Share), _partitions)
            .Select(o => new TopicPartitionOffset(_topic, o.Partition, o.Offset)).ToList();
        // While the group is between generations the broker refuses commits (RebalanceInProgress) although the
        // partition usually stays here: try again until the rebalance is done, each time as a new, fenced attempt, and
        // with the gate free in between so a refresh can apply a revocation (which then refuses the next attempt).
        var budget = TimeSpan.FromMilliseconds(Math.Min(_settings.SessionTimeoutMs / 2.0, _settings.RequestTimeout.TotalMilliseconds));
        var deadline = DateTime.UtcNow + budget;
        var generationRetries = 0;
        for (var pause = TimeSpan.FromMilliseconds(50); ; pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, TimeSpan.FromSeconds(1).Ticks)))
        {
            try
            {
                var mayFollowGeneration = generationRetries < MaxGenerationRetries;
                if (await CommitOnceAsync(claim, offsets, mayFollowGeneration, cancellationToken).ConfigureAwait(false) == CommitOutcome.Stored) return;
                // Sent in a generation that ended while it waited: the member is in the new one and kept the partition.
                // A new generation has started, so the wait for its rebalance to settle starts again too.
                generationRetries++;
                deadline = DateTime.UtcNow + budget;
                pause = TimeSpan.FromMilliseconds(25);
            }
            catch (TransientEventStoreException e) when (e.InnerException is KafkaException k && GroupErrors.CodeOf(k) == ErrorCode.RebalanceInProgress && DateTime.UtcNow + pause < deadline)
            {
                await Task.Delay(pause, cancellationToken).ConfigureAwait(false);
                await KeepMembershipAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Polls the consumer while a commit waits for a rebalance, unless a refresh is running already: the runner stops
    /// refreshing before it stores its last checkpoints, and a member that is not polled within the lease time leaves
    /// the group (its commits are refused from then on), so a stop that meets a rebalance would lose its checkpoint.
    /// </summary>
    private async Task KeepMembershipAsync()
    {
        if (!await _refreshGate.WaitAsync(0).ConfigureAwait(false)) return;
        try
        {
            if (!_disposed && _consumer is not null) await Task.Run(Refresh, CancellationToken.None).ConfigureAwait(false);
        }
        catch (EventStoreException e)
        {
            // The commit's next attempt reports what is wrong with the membership; this poll only kept it alive.
            _logger.GroupKeepAlivePollFailed(e, _settings.GroupId, _instanceId);
        }
        finally
        {
            _refreshGate.Release();
        }
    }

    /// <summary>How many generations in a row one checkpoint follows before its share counts as lost.</summary>
    private const int MaxGenerationRetries = 3;

    private enum CommitOutcome
    {
        Stored,
        GenerationMoved,
    }

    /// <param name="claim">The claim whose checkpoint is stored.</param>
    /// <param name="offsets">The offsets to commit.</param>
    /// <param name="mayFollowGeneration">Whether a refusal for a generation that ended may be answered by sending again; when false it is a lost share.</param>
    /// <param name="cancellationToken">Cancels the wait for the gate, not a commit once sent.</param>
    private async Task<CommitOutcome> CommitOnceAsync(KafkaShareClaim claim, List<TopicPartitionOffset> offsets, bool mayFollowGeneration, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (claim.IsReleased || _consumer is not { } consumer || !_held.TryGetValue(claim.Share, out var held) || !ReferenceEquals(held, claim))
                throw ShareLost(claim);
            if (consumer.MemberId != claim.MemberId)
            {
                // librdkafka already learned that the member it was is gone (and sends generation -1 now).
                ReleaseHeld(claim.Share, "the member that held it left the group");
                throw ShareLost(claim);
            }
            try
            {
                // Not cancellable once sent: the gate stays held until the broker has answered, so no claim is
                // released (and no revocation returns to librdkafka) while a commit is in flight.
                await Task.Run(() => consumer.Commit(offsets), CancellationToken.None).ConfigureAwait(false);
            }
            catch (KafkaException e) when (mayFollowGeneration && GroupErrors.CodeOf(e) == ErrorCode.IllegalGeneration && StillAssigned(consumer, claim))
            {
                // The broker knows this member (else: UnknownMemberId), so the member joined the group's current
                // generation, and it still has the partition; the commit carried the generation before, because it
                // was sent while the member rejoined and waited behind the rejoin. Nothing was stored. A later
                // revocation still goes through the gate, so trying again stays fenced.
                _logger.GroupCommitGenerationMoved(_settings.GroupId, _instanceId, claim.Share);
                return CommitOutcome.GenerationMoved;
            }
            catch (KafkaException e) when (GroupErrors.MeansShareLost(GroupErrors.CodeOf(e)))
            {
                ReleaseHeld(claim.Share, $"the broker refused its checkpoint: {GroupErrors.CodeOf(e)}");
                throw ShareLost(claim);
            }
            catch (KafkaException e)
            {
                throw GroupErrors.Wrap($"storing the checkpoint of share {claim.Share}", e);
            }
            if (claim.IsGivingBack)
            {
                // The hand-over can end: the next holder resumes from here.
                claim.MarkStored();
                Volatile.Read(ref _handover)?.Stored();
            }
            return CommitOutcome.Stored;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Whether the member that took <paramref name="claim"/> is still in the group with the claim's partition.</summary>
    private bool StillAssigned(IGroupConsumer consumer, KafkaShareClaim claim) =>
        consumer.MemberId == claim.MemberId && SharesWith(consumer.Assignment).Contains(claim.Share);

    private LeaseLostException ShareLost(KafkaShareClaim claim) => new($"{_subscriptionId}/share/{claim.Share}", claim.Token);
}
