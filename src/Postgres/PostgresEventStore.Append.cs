using System.Runtime.InteropServices;
using Npgsql;

namespace EventStore.Providers.Postgres;

// How PostgreSQL appends: one call of the append_events function (Scripts/5_CommitOrderPositions.sql, which
// replaced the versions of scripts 2 and 4) per append, as a prepared statement in autocommit: one round trip, one
// transaction. The function takes the stream's advisory lock, checks the expected version and idempotence there,
// derives positions from its transaction id and inserts the batch with unnest. Subscribers are notified after the
// commit (NotificationListener.OnAppended).
public sealed partial class PostgresEventStore
{
    private enum AppendStatus
    {
        Written = 0,
        Idempotent = 1,
        WrongExpectedVersion = 2,
        EventIdConflict = 3,
        Tombstoned = 4,
        EmptyBatch = 5,
    }

    /// <inheritdoc />
    public async Task<AppendResult> AppendAsync(StreamName stream, ExpectedVersion expectedVersion, IReadOnlyList<EventData> events, CancellationToken cancellationToken = default)
    {
        EventGuard.ValidateAppend(stream, expectedVersion, events, Capabilities);
        cancellationToken.ThrowIfCancellationRequested();
        var n = events.Count;
        var ids = new Guid[n];
        var types = new string[n];
        var contentTypes = new string[n];
        var schemaVersions = new int[n];
        var data = new byte[n][];
        var metadata = new byte[n][];
        for (var i = 0; i < n; i++)
        {
            var e = events[i];
            ids[i] = e.EventId;
            types[i] = e.EventType;
            contentTypes[i] = e.ContentType;
            schemaVersions[i] = e.SchemaVersion;
            data[i] = AsArray(e.Data);
            metadata[i] = AsArray(e.Metadata);
        }

        int status;
        long lastVersion, lastPosition;
        Guid? conflictId;
        try
        {
            await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var cmd = new NpgsqlCommand(_sql.Append, connection);
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stream.Value });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stream.Category });
            cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = (int)expectedVersion.Kind });
            cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = expectedVersion.Version });
            cmd.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = ids });
            cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = types });
            cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = contentTypes });
            cmd.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = schemaVersions });
            cmd.Parameters.Add(new NpgsqlParameter<byte[][]> { TypedValue = data });
            cmd.Parameters.Add(new NpgsqlParameter<byte[][]> { TypedValue = metadata });
            // Prepared once per physical connection; later prepares of the same text are a local lookup.
            await cmd.PrepareAsync(cancellationToken).ConfigureAwait(false);
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                throw new EventStoreException("PostgreSQL append_events returned no row.");
            status = reader.GetInt32(0);
            lastVersion = reader.GetInt64(1);
            lastPosition = reader.GetInt64(2);
            conflictId = reader.IsDBNull(3) ? null : reader.GetGuid(3);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation && e.ConstraintName == "events_stream_event_id")
        {
            // The expectation held but an id of the batch is already elsewhere in the stream.
            throw new EventIdConflictException(stream, await FindStoredIdAsync(stream, ids, cancellationToken).ConfigureAwait(false) ?? ids[0]);
        }
        catch (Exception e) when (PostgresErrors.ShouldMap(e))
        {
            throw PostgresErrors.Map(e, "append", cancellationToken);
        }

        switch ((AppendStatus)status)
        {
            case AppendStatus.Written:
                _listener.OnAppended();
                return new AppendResult(lastVersion, FromRaw(lastPosition));
            case AppendStatus.Idempotent:
                _logger.LogIdempotentAppend(stream.Value, lastVersion);
                return new AppendResult(lastVersion, FromRaw(lastPosition), WroteEvents: false);
            case AppendStatus.EmptyBatch:
                return new AppendResult(lastVersion, FromRaw(lastPosition), WroteEvents: false);
            case AppendStatus.WrongExpectedVersion:
                throw new WrongExpectedVersionException(stream, expectedVersion, lastVersion);
            case AppendStatus.EventIdConflict:
                throw new EventIdConflictException(stream, conflictId ?? ids[0]);
            case AppendStatus.Tombstoned:
                throw new StreamDeletedException(stream);
            default:
                throw new EventStoreException($"PostgreSQL append_events returned unknown status {status}.");
        }
    }

    private async Task<Guid?> FindStoredIdAsync(StreamName stream, Guid[] ids, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var cmd = new NpgsqlCommand(_sql.FindStoredId, connection);
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stream.Value });
            cmd.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = ids });
            return await cmd.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as Guid?;
        }
        catch (Exception e) when (PostgresErrors.ShouldMap(e))
        {
            throw PostgresErrors.Map(e, "append", cancellationToken);
        }
    }

    /// <inheritdoc />
    public async Task DeleteStreamAsync(StreamName stream, ExpectedVersion expectedVersion, StreamDeletionMode mode = StreamDeletionMode.Soft, CancellationToken cancellationToken = default)
    {
        EventGuard.ValidateStream(stream, Capabilities);
        expectedVersion.EnsureValid();
        if (!Enum.IsDefined(mode)) throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown deletion mode.");
        int status;
        long actual;
        try
        {
            await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var cmd = new NpgsqlCommand(_sql.Delete, connection);
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stream.Value });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stream.Category });
            cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = (int)expectedVersion.Kind });
            cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = expectedVersion.Version });
            cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = mode == StreamDeletionMode.Tombstone ? 1 : 0 });
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            status = reader.GetInt32(0);
            actual = reader.GetInt64(1);
        }
        catch (Exception e) when (PostgresErrors.ShouldMap(e))
        {
            throw PostgresErrors.Map(e, "delete", cancellationToken);
        }
        switch (status)
        {
            case 0:
                _logger.LogStreamDeleted(stream.Value, mode);
                return;
            case 2:
                throw new WrongExpectedVersionException(stream, expectedVersion, actual);
            case 4:
                throw new StreamDeletedException(stream);
            default:
                throw new EventStoreException($"PostgreSQL delete_stream returned unknown status {status}.");
        }
    }

    private static byte[] AsArray(ReadOnlyMemory<byte> memory) =>
        MemoryMarshal.TryGetArray(memory, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : memory.ToArray();
}
