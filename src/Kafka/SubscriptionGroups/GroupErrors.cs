using Confluent.Kafka;

namespace EventStore.Providers.Kafka;

/// <summary>What a consumer-group error means for a subscription group: the share moved, the broker is busy, or a fault.</summary>
internal static class GroupErrors
{
    /// <summary>
    /// The broker refused a commit because this member is no longer the one the group's current generation gave the
    /// partition to (its session expired, a rebalance moved on without it, a static member replaced it), or librdkafka
    /// already knows the assignment is lost. Nothing was stored.
    /// </summary>
    public static bool MeansShareLost(ErrorCode code) => code is
        ErrorCode.IllegalGeneration or ErrorCode.UnknownMemberId or
        ErrorCode.FencedInstanceId or ErrorCode.StaleMemberEpoch or ErrorCode.Local_AssignmentLost;

    /// <summary>
    /// The coordinator is moving, loading or unreachable, a request timed out, or the group is between generations
    /// (<c>RebalanceInProgress</c>: the commit was refused, but the partition may well stay with this member; if it
    /// moves, the revocation releases the claim): the same call may succeed later.
    /// </summary>
    public static bool IsTransient(ErrorCode code) => code is
        ErrorCode.RebalanceInProgress or
        ErrorCode.Local_Transport or ErrorCode.Local_AllBrokersDown or ErrorCode.Local_TimedOut or ErrorCode.Local_WaitCoord or
        ErrorCode.Local_Resolve or ErrorCode.RequestTimedOut or ErrorCode.NetworkException or ErrorCode.NotCoordinatorForGroup or
        ErrorCode.GroupCoordinatorNotAvailable or ErrorCode.GroupLoadInProgress or ErrorCode.NotEnoughReplicas or
        ErrorCode.NotEnoughReplicasAfterAppend or ErrorCode.LeaderNotAvailable or ErrorCode.NotLeaderForPartition;

    /// <summary>The error of a failed call: a commit or offset fetch reports it per partition, everything else once.</summary>
    public static ErrorCode CodeOf(KafkaException e) =>
        e is TopicPartitionOffsetException { Results: var results } && results.FirstOrDefault(r => r.Error.IsError) is { } failed
            ? failed.Error.Code
            : e.Error.Code;

    /// <summary>A transient or permanent store exception for an error that does not mean the share moved.</summary>
    public static EventStoreException Wrap(string what, KafkaException e)
    {
        var code = CodeOf(e);
        return IsTransient(code)
            ? new TransientEventStoreException($"Kafka consumer group: {what} failed ({code}: {e.Message}); retry.", e)
            : new EventStoreException($"Kafka consumer group: {what} failed ({code}: {e.Message}).", e);
    }
}
