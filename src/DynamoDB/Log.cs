using Microsoft.Extensions.Logging;

namespace EventStore.Providers.DynamoDB;

/// <summary>The DynamoDB provider's log messages (source-generated; event ids 5000-5999).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "Created DynamoDB table {Table} (on-demand billing)")]
    public static partial void LogTableCreated(this ILogger logger, string table);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Warning, Message = "Global positions {First}-{Last} were reserved but never written within {Timeout}; marked them skipped")]
    public static partial void LogGapSkipped(this ILogger logger, long first, long last, TimeSpan timeout);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Warning, Message = "Could not write a skip marker for unused positions {First}-{Last}; readers will skip them after the gap timeout")]
    public static partial void LogSkipMarkerFailed(this ILogger logger, Exception exception, long first, long last);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Debug, Message = "Reserved global positions {First}-{Last} for this instance's appends")]
    public static partial void LogBlockReserved(this ILogger logger, long first, long last);

    [LoggerMessage(EventId = 5005, Level = LogLevel.Debug, Message = "Released unused global positions {First}-{Last} ({Reason})")]
    public static partial void LogBlockReleased(this ILogger logger, long first, long last, string reason);

    [LoggerMessage(EventId = 5006, Level = LogLevel.Warning, Message = "A commit to {Stream} was not sent within its position budget of {Budget}; its positions {First}-{Last} are released and it is retried at new positions")]
    public static partial void LogCommitBudgetExceeded(this ILogger logger, string stream, TimeSpan budget, long first, long last);

    [LoggerMessage(EventId = 5007, Level = LogLevel.Information, Message = "Global positions {First}-{Last} have a stored commit whose index entry is not visible yet; not skipping them")]
    public static partial void LogGapCommitted(this ILogger logger, long first, long last);

    [LoggerMessage(EventId = 5008, Level = LogLevel.Warning, Message = "Fenced slot {Slot} of {StreamKey} (in its {Marker}) so the commit of global positions {First}-{Last}, abandoned past the gap timeout, can never land there")]
    public static partial void LogSlotFenced(this ILogger logger, string streamKey, long slot, long first, long last, string marker);
}
