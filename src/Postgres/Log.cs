using Microsoft.Extensions.Logging;

namespace EventStore.Providers.Postgres;

/// <summary>The provider's log messages (source-generated, so disabled levels cost nothing).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Debug, Message = "Append to {Stream} was a re-send of a stored batch; nothing written (last version {LastVersion})")]
    public static partial void LogIdempotentAppend(this ILogger logger, string stream, long lastVersion);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Stream {Stream} deleted ({Mode})")]
    public static partial void LogStreamDeleted(this ILogger logger, string stream, StreamDeletionMode mode);
    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Appends still running after {Wait} hold back $all; the read returns the final part of the log up to position {Position}")]
    public static partial void LogPendingAppendsTimedOut(this ILogger logger, TimeSpan wait, long position);
}
