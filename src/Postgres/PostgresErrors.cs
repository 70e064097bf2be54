using System.Net.Sockets;
using Npgsql;

namespace EventStore.Providers.Postgres;

/// <summary>
/// Turns Npgsql failures into the library's typed exceptions. Messages name the operation and the SQLSTATE only:
/// never the connection string, host credentials or password.
/// </summary>
internal static class PostgresErrors
{
    /// <summary>True when <paramref name="e"/> is a failure this class translates.</summary>
    public static bool ShouldMap(Exception e) => e is NpgsqlException or TimeoutException or SocketException or IOException;

    /// <summary>The typed exception for <paramref name="e"/>, or a cancellation when the caller cancelled.</summary>
    public static Exception Map(Exception e, string operation, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested) return new OperationCanceledException($"PostgreSQL {operation} was cancelled.", e, cancellationToken);
        if (e is PostgresException pg)
        {
            if (pg.SqlState is PostgresErrorCodes.InvalidPassword or PostgresErrorCodes.InvalidAuthorizationSpecification or PostgresErrorCodes.InsufficientPrivilege)
                return new AccessDeniedException($"PostgreSQL refused the credentials or permissions for {operation} (SQLSTATE {pg.SqlState}).", e);
            if (pg.IsTransient || pg.SqlState.StartsWith("08", StringComparison.Ordinal) || pg.SqlState.StartsWith("53", StringComparison.Ordinal)
                || pg.SqlState.StartsWith("57P", StringComparison.Ordinal))
                return new TransientEventStoreException($"PostgreSQL {operation} failed transiently (SQLSTATE {pg.SqlState}); retry with the same event ids.", e);
            return new EventStoreException($"PostgreSQL {operation} failed (SQLSTATE {pg.SqlState}: {pg.MessageText}).", e);
        }
        if (e is NpgsqlException { IsTransient: true } or TimeoutException or SocketException or IOException or NpgsqlException { InnerException: TimeoutException or SocketException or IOException })
            return new TransientEventStoreException($"PostgreSQL {operation} failed: the server is unreachable or timed out ({Describe(e)}); retry with the same event ids.", e);
        return new EventStoreException($"PostgreSQL {operation} failed ({Describe(e)}).", e);
    }

    private static string Describe(Exception e) => (e.InnerException ?? e).GetType().Name;
}
