using Microsoft.Extensions.Logging;

namespace EventStore.Providers.Projections;

/// <summary>The log lines of subscription groups (event ids 1300-1399): who takes, gives back and loses which share.</summary>
internal static partial class GroupLog
{
    [LoggerMessage(EventId = 1300, Level = LogLevel.Information, Message = "Subscription {SubscriptionId}: instance {InstanceId} took share {Share} (fencing token {Token}), resuming after {Checkpoint}")]
    public static partial void ShareTaken(ILogger logger, string subscriptionId, string instanceId, int share, long token, string checkpoint);

    [LoggerMessage(EventId = 1301, Level = LogLevel.Information, Message = "Subscription {SubscriptionId}: instance {InstanceId} gives back share {Share}, which now belongs to another member")]
    public static partial void ShareGivenBack(ILogger logger, string subscriptionId, string instanceId, int share);

    [LoggerMessage(EventId = 1302, Level = LogLevel.Warning, Message = "Subscription {SubscriptionId}: instance {InstanceId} lost share {Share} (fencing token {Token}): another instance took it over after its lease lapsed; handling of the share stopped")]
    public static partial void ShareLost(ILogger logger, string subscriptionId, string instanceId, int share, long token);

    [LoggerMessage(EventId = 1303, Level = LogLevel.Information, Message = "Subscription {SubscriptionId}: share {Share} handed over from {PreviousOwner} to {InstanceId}")]
    public static partial void Handover(ILogger logger, string subscriptionId, int share, string previousOwner, string instanceId);

    [LoggerMessage(EventId = 1304, Level = LogLevel.Debug, Message = "Subscription {SubscriptionId}: removed the membership record of {DeadInstance}, expired since {ExpiredAt}")]
    public static partial void MemberRemoved(ILogger logger, string subscriptionId, string deadInstance, DateTimeOffset expiredAt);

    [LoggerMessage(EventId = 1305, Level = LogLevel.Information, Message = "Subscription {SubscriptionId}: instance {InstanceId} joined the group ({Mode}, {Shares} share(s))")]
    public static partial void Joined(ILogger logger, string subscriptionId, string instanceId, SubscriptionGroupMode mode, int shares);

    [LoggerMessage(EventId = 1306, Level = LogLevel.Information, Message = "Subscription {SubscriptionId}: instance {InstanceId} left the group, giving back {Shares} share(s)")]
    public static partial void Left(ILogger logger, string subscriptionId, string instanceId, int shares);

    [LoggerMessage(EventId = 1310, Level = LogLevel.Warning, Message = "Subscription {SubscriptionId}: instance {InstanceId} could not renew its leases (it keeps its shares until {Deadline} at most)")]
    public static partial void RefreshFailed(ILogger logger, Exception exception, string subscriptionId, string instanceId, DateTimeOffset deadline);

    [LoggerMessage(EventId = 1311, Level = LogLevel.Warning, Message = "Subscription {SubscriptionId}: instance {InstanceId} stops handling every share: its leases were not renewed within the lease time")]
    public static partial void LeasesLapsed(ILogger logger, string subscriptionId, string instanceId);

    [LoggerMessage(EventId = 1312, Level = LogLevel.Information, Message = "Subscription {SubscriptionId}: instance {InstanceId} now handles share(s) [{Shares}] from {Start}")]
    public static partial void Handling(ILogger logger, string subscriptionId, string instanceId, string shares, string start);

    [LoggerMessage(EventId = 1313, Level = LogLevel.Warning, Message = "Subscription {SubscriptionId}: instance {InstanceId} could not store the checkpoint of share {Share} while giving it back; its next owner repeats the events since the last one")]
    public static partial void GiveBackCheckpointFailed(ILogger logger, Exception exception, string subscriptionId, string instanceId, int share);

    [LoggerMessage(EventId = 1314, Level = LogLevel.Debug, Message = "Subscription {SubscriptionId}: share {Share} stored checkpoint {Checkpoint}")]
    public static partial void CheckpointStored(ILogger logger, string subscriptionId, int share, string checkpoint);

    [LoggerMessage(EventId = 1315, Level = LogLevel.Information, Message = "Subscription {SubscriptionId}: instance {InstanceId} caught up at {Position}; now live")]
    public static partial void CaughtUp(ILogger logger, string subscriptionId, string instanceId, string position);

    [LoggerMessage(EventId = 1316, Level = LogLevel.Warning, Message = "Subscription {SubscriptionId}: instance {InstanceId} could not leave the group cleanly; its shares pass to others when their leases lapse")]
    public static partial void LeaveFailed(ILogger logger, Exception exception, string subscriptionId, string instanceId);
}
