using Microsoft.Extensions.Logging;

namespace EventStore.Providers.Kafka;

/// <summary>The provider's log messages (source-generated, so disabled levels cost nothing); event ids 6000-6999.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 6000, Message = "librdkafka {Client} {Facility}: {Line}")]
    public static partial void LibrdkafkaLine(this ILogger logger, LogLevel level, string client, string facility, string line);

    [LoggerMessage(EventId = 6001, Level = LogLevel.Information, Message = "Kafka event store on topic {Topic}: {Partitions} partition(s), {Streams} stream(s) indexed")]
    public static partial void StoreInitialized(this ILogger logger, string topic, int partitions, int streams);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Warning, Message = "Index topic {Topic} does not exist: every start replays the events topic")]
    public static partial void IndexTopicMissing(this ILogger logger, string topic);

    [LoggerMessage(EventId = 6003, Level = LogLevel.Warning, Message = "Partition {Partition}: the index snapshot is incomplete (two writers overlapped); replaying the partition")]
    public static partial void IndexSnapshotIncomplete(this ILogger logger, int partition);

    [LoggerMessage(EventId = 6004, Level = LogLevel.Information, Message = "Partition {Partition}: index loaded from snapshot ({Streams} streams, up to offset {Offset})")]
    public static partial void IndexSnapshotLoaded(this ILogger logger, int partition, int streams, long offset);

    [LoggerMessage(EventId = 6005, Level = LogLevel.Debug, Message = "Partition {Partition}: index snapshot valid up to offset {Offset} written")]
    public static partial void IndexSnapshotWritten(this ILogger logger, int partition, long offset);

    [LoggerMessage(EventId = 6006, Level = LogLevel.Warning, Message = "Partition {Partition}: writing the index snapshot failed; the next restart replays more of the partition")]
    public static partial void IndexSnapshotWriteFailed(this ILogger logger, Exception exception, int partition);

    [LoggerMessage(EventId = 6007, Level = LogLevel.Warning, Message = "Partition {Partition}: the index entry of a stream is too large for an index snapshot; restarts will replay the partition")]
    public static partial void IndexEntryTooLarge(this ILogger logger, int partition);

    [LoggerMessage(EventId = 6008, Level = LogLevel.Warning, Message = "Partition {Partition}: transactional producer {TransactionalId} failed ({Reason}); re-initialising it, re-reading the partition and retrying the appends with the same event ids")]
    public static partial void WriterReinitialising(this ILogger logger, int partition, string transactionalId, string reason);

    [LoggerMessage(EventId = 6009, Level = LogLevel.Information, Message = "Created Kafka topics {Topics}")]
    public static partial void TopicsCreated(this ILogger logger, string topics);

    [LoggerMessage(EventId = 6010, Level = LogLevel.Debug, Message = "Kafka topics already existed")]
    public static partial void TopicsExisted(this ILogger logger);

    [LoggerMessage(EventId = 6011, Level = LogLevel.Warning, Message = "Not verifying that Kafka topic {Topic} keeps events forever (VerifyTopicConfiguration is off): a retention or compaction setting on the topic would silently delete events")]
    public static partial void TopicCheckSkipped(this ILogger logger, string topic);

    [LoggerMessage(EventId = 6012, Level = LogLevel.Debug, Message = "Partition {Partition}: confirming the append at offset {Offset} waits for the last stable offset (now {Stable}): another producer holds an open transaction")]
    public static partial void WaitingForStableOffset(this ILogger logger, int partition, long offset, long stable);

    [LoggerMessage(EventId = 6013, Level = LogLevel.Warning, Message = "Partition {Partition}: transaction aborted ({Reason}); retrying its appends with the same event ids")]
    public static partial void TransactionAborted(this ILogger logger, int partition, string reason);

    [LoggerMessage(EventId = 6014, Level = LogLevel.Debug, Message = "Partition {Partition}: an append to {Stream} lost a race in the log; deciding it again")]
    public static partial void AppendLostRace(this ILogger logger, int partition, string stream);

    [LoggerMessage(EventId = 6015, Level = LogLevel.Information, Message = "Subscription group {Group}: instance {Instance} took partition {Partition} (token {Token}) from checkpoint {Checkpoint}")]
    public static partial void ShareTaken(this ILogger logger, string group, string instance, int partition, long token, string checkpoint);

    [LoggerMessage(EventId = 6016, Level = LogLevel.Information, Message = "Subscription group {Group}: instance {Instance} gave back partition {Partition} ({Reason})")]
    public static partial void ShareReleased(this ILogger logger, string group, string instance, int partition, string reason);

    [LoggerMessage(EventId = 6017, Level = LogLevel.Warning, Message = "Subscription group {Group}: reading the committed offsets of partitions {Partitions} failed; they are taken at a later refresh")]
    public static partial void ShareCheckpointsUnread(this ILogger logger, Exception exception, string group, string partitions);

    [LoggerMessage(EventId = 6018, Level = LogLevel.Warning, Message = "Subscription group {Group}: instance {Instance} did not refresh within the lease time and left the group; its partitions go to the others")]
    public static partial void GroupPollDeadlineMissed(this ILogger logger, string group, string instance);

    [LoggerMessage(EventId = 6019, Level = LogLevel.Warning, Message = "Subscription group {Group}: instance {Instance} could not leave the group cleanly; the others take its partitions when its session expires")]
    public static partial void GroupLeaveFailed(this ILogger logger, Exception exception, string group, string instance);

    [LoggerMessage(EventId = 6020, Level = LogLevel.Warning, Message = "Subscription group {Group}: instance {Instance}'s Kafka consumer did not close within {Timeout} (RequestTimeout); the leave goes on without it and the others take its partitions when its session expires")]
    public static partial void GroupLeaveTimedOut(this ILogger logger, string group, string instance, TimeSpan timeout);

    [LoggerMessage(EventId = 6021, Level = LogLevel.Information, Message = "Subscription group {Group}: instance {Instance}'s checkpoint of share {Share} was sent in a generation that ended while it waited; the member kept the partition in the new one and sends it again")]
    public static partial void GroupCommitGenerationMoved(this ILogger logger, string group, string instance, int share);

    [LoggerMessage(EventId = 6022, Level = LogLevel.Debug, Message = "Subscription group {Group}: instance {Instance}'s poll while a checkpoint waited for a rebalance failed")]
    public static partial void GroupKeepAlivePollFailed(this ILogger logger, Exception exception, string group, string instance);
}
