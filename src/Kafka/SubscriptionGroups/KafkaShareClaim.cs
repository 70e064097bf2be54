using EventStore.Providers.Projections;

namespace EventStore.Providers.Kafka;

/// <summary>
/// A partition of the events topic that the consumer group assigned to this instance, held from the assignment until
/// it is revoked or lost. Saving its checkpoint commits the partition's offset through the group, which the broker
/// refuses once another generation of the group has moved on.
/// </summary>
internal sealed class KafkaShareClaim(KafkaSubscriptionGroupCoordinator coordinator, int share, long token, Position? checkpoint, string memberId)
    : ShareClaim(share, token, checkpoint)
{
    private volatile bool _released;
    private volatile bool _givingBack;
    private volatile bool _storedSinceGiveBack;

    /// <summary>The group member id this claim was assigned under: a consumer that has since become another member no longer holds it.</summary>
    public string MemberId { get; } = memberId;

    /// <summary>Whether the claim was given back (revoked, lost, refused by the broker or left).</summary>
    public bool IsReleased => _released;

    public void Release() => _released = true;

    /// <summary>Whether the claim was revoked and is being handed over: out of the held set, still able to store its checkpoint.</summary>
    public bool IsGivingBack => _givingBack && !_released;

    /// <summary>Whether a checkpoint was stored since the hand-over began.</summary>
    public bool StoredSinceGiveBack => _storedSinceGiveBack;

    public void GiveBack() => _givingBack = true;

    public void MarkStored() => _storedSinceGiveBack = true;

    /// <inheritdoc />
    public override Task SaveCheckpointAsync(Position checkpoint, CancellationToken cancellationToken) =>
        coordinator.CommitAsync(this, checkpoint, cancellationToken);
}
