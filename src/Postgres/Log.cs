using Microsoft.Extensions.Logging;

namespace EventStore.Providers.Postgres;

/// <summary>The provider's log messages (source-generated, so disabled levels cost nothing); event ids 3000-3999.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 3001, Level = LogLevel.Debug, Message = "Append to {Stream} was a re-send of a stored batch; nothing written (last version {LastVersion})")]
    public static partial void LogIdempotentAppend(this ILogger logger, string stream, long lastVersion);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Information, Message = "Stream {Stream} deleted ({Mode})")]
    public static partial void LogStreamDeleted(this ILogger logger, string stream, StreamDeletionMode mode);
    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "Appends still running after {Wait} hold back $all; the read returns the final part of the log up to position {Position}")]
    public static partial void LogPendingAppendsTimedOut(this ILogger logger, TimeSpan wait, long position);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Debug, Message = "NOTIFY on {Channel} failed ({Error})")]
    public static partial void LogNotifyFailed(this ILogger logger, string channel, string error);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Debug, Message = "Listening for appends on channel {Channel}")]
    public static partial void LogListening(this ILogger logger, string channel);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Warning, Message = "The LISTEN connection for {Channel} failed ({Error}); subscriptions poll until it reconnects")]
    public static partial void LogListenFailed(this ILogger logger, string channel, string error);

    [LoggerMessage(EventId = 3007, Level = LogLevel.Information, Message = "Applying PostgreSQL event store migration {Script} to schema {Schema}")]
    public static partial void LogApplyingMigration(this ILogger logger, string script, string schema);

    [LoggerMessage(EventId = 3008, Level = LogLevel.Debug, Message = "PostgreSQL event store schema {Schema} is up to date")]
    public static partial void LogSchemaUpToDate(this ILogger logger, string schema);

    [LoggerMessage(EventId = 3009, Level = LogLevel.Information, Message = "Applying PostgreSQL event store function {Function} to schema {Schema}")]
    public static partial void LogApplyingFunction(this ILogger logger, string function, string schema);
}
