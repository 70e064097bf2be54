using Microsoft.Extensions.Logging;

namespace EventStore.Providers.EventStoreDB;

/// <summary>The provider's log messages (source-generated, so disabled levels cost nothing); event ids 4000-4999.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 4000, Level = LogLevel.Debug, Message = "EventStoreDB store created for {Connection}")]
    public static partial void LogStoreCreated(this ILogger logger, string connection);

    [LoggerMessage(EventId = 4001, Level = LogLevel.Debug, Message = "EventStoreDB call failed ({Reason}); retry {Attempt} of {Max}")]
    public static partial void LogRetrying(this ILogger logger, string reason, int attempt, int max);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Information, Message = "EventStoreDB node {Node} is not the leader; switching to {Leader}")]
    public static partial void LogSwitchingToLeader(this ILogger logger, string node, string leader);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Warning, Message = "EventStoreDB node {Node} is unavailable; trying {Next}")]
    public static partial void LogNodeUnavailable(this ILogger logger, string node, string next);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Debug, Message = "EventStoreDB BatchAppend call ended: {Status}")]
    public static partial void LogBatchCallEnded(this ILogger logger, Grpc.Core.StatusCode status);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Information, Message = "EventStoreDB subscription dropped ({Reason}); resubscribing")]
    public static partial void LogResubscribing(this ILogger logger, string reason);
}
