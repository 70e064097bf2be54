using Npgsql;

namespace EventStore.Providers.Postgres;

// How PostgreSQL appends: one call of the append_events function (Scripts/5_CommitOrderPositions.sql, which
// replaced the versions of scripts 2 and 4) per append, as a prepared statement in autocommit: one round trip, one
// transaction. The function takes the stream's advisory lock, checks the expected version and idempotence there,
// derives positions from its transaction id and inserts the batch with unnest. Subscribers are notified after the
// commit (NotificationListener.OnAppended). Appends made while others are on their way are sent together by the
// AppendBatcher (append_many: one round trip and one commit for the group, each append checked on its own).
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
        var append = new PendingAppend(stream, expectedVersion, events, cancellationToken);
        AppendOutcome outcome;
        if (_batcher is null) outcome = await AppendOneAsync(append, cancellationToken).ConfigureAwait(false);
        else outcome = await _batcher.SubmitAsync(append).ConfigureAwait(false);

        var (status, lastVersion, lastPosition, conflictId) = outcome;
        switch ((AppendStatus)status)
        {
            case AppendStatus.Written:
                return new AppendResult(lastVersion, FromRaw(lastPosition));
            case AppendStatus.Idempotent:
                _logger.LogIdempotentAppend(stream.Value, lastVersion);
                return new AppendResult(lastVersion, FromRaw(lastPosition), WroteEvents: false);
            case AppendStatus.EmptyBatch:
                return new AppendResult(lastVersion, FromRaw(lastPosition), WroteEvents: false);
            case AppendStatus.WrongExpectedVersion:
                throw new WrongExpectedVersionException(stream, expectedVersion, lastVersion);
            case AppendStatus.EventIdConflict:
                throw new EventIdConflictException(stream, conflictId ?? append.Ids[0]);
            case AppendStatus.Tombstoned:
                throw new StreamDeletedException(stream);
            default:
                throw new EventStoreException($"PostgreSQL append_events returned unknown status {status}.");
        }
    }

    /// <summary>
    /// One append_events call in its own transaction; database failures come back as typed exceptions. Wakes
    /// subscriptions when it wrote.
    /// </summary>
    internal async Task<AppendOutcome> AppendOneAsync(PendingAppend append, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var cmd = new NpgsqlCommand(_sql.Append, connection);
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = append.Stream.Value });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = append.Stream.Category });
            cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = (int)append.Expected.Kind });
            cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = append.SqlExpectedVersion });
            cmd.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = append.Ids });
            cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = append.Types });
            cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = append.ContentTypes });
            cmd.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = append.SchemaVersions });
            cmd.Parameters.Add(new NpgsqlParameter<byte[][]> { TypedValue = append.Data });
            cmd.Parameters.Add(new NpgsqlParameter<byte[][]> { TypedValue = append.Metadata });
            // Prepared once per physical connection; later prepares of the same text are a local lookup.
            await cmd.PrepareAsync(cancellationToken).ConfigureAwait(false);
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                throw new EventStoreException("PostgreSQL append_events returned no row.");
            var outcome = ReadOutcome(reader);
            if (outcome.Status == (int)AppendStatus.Written) _listener.OnAppended();
            return outcome;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation && e.ConstraintName == "events_stream_event_id")
        {
            // The expectation held but an id of the batch is already elsewhere in the stream.
            throw new EventIdConflictException(append.Stream, await FindStoredIdAsync(append.Stream, append.Ids, cancellationToken).ConfigureAwait(false) ?? append.Ids[0]);
        }
        catch (Exception e) when (PostgresErrors.ShouldMap(e))
        {
            throw PostgresErrors.Map(e, "append", cancellationToken);
        }
    }

    /// <summary>
    /// Several appends in one append_many call (one round trip, one transaction), one outcome per append in order.
    /// A database error fails the whole call, and nothing of it is stored; the batcher then sends each append alone.
    /// Wakes subscriptions once when any append of the group wrote.
    /// </summary>
    internal async Task<AppendOutcome[]> AppendManyAsync(IReadOnlyList<PendingAppend> appends)
    {
        var total = 0;
        foreach (var a in appends) total += a.Ids.Length;
        var streams = new string[appends.Count];
        var categories = new string[appends.Count];
        var kinds = new int[appends.Count];
        var versions = new long[appends.Count];
        var counts = new int[appends.Count];
        var ids = new Guid[total];
        var types = new string[total];
        var contentTypes = new string[total];
        var schemaVersions = new int[total];
        var data = new byte[total][];
        var metadata = new byte[total][];
        var at = 0;
        for (var i = 0; i < appends.Count; i++)
        {
            var a = appends[i];
            streams[i] = a.Stream.Value;
            categories[i] = a.Stream.Category;
            kinds[i] = (int)a.Expected.Kind;
            versions[i] = a.SqlExpectedVersion;
            counts[i] = a.Ids.Length;
            a.Ids.CopyTo(ids, at);
            a.Types.CopyTo(types, at);
            a.ContentTypes.CopyTo(contentTypes, at);
            a.SchemaVersions.CopyTo(schemaVersions, at);
            a.Data.CopyTo(data, at);
            a.Metadata.CopyTo(metadata, at);
            at += a.Ids.Length;
        }
        await using var connection = await OpenAsync(CancellationToken.None).ConfigureAwait(false);
        await using var cmd = new NpgsqlCommand(_sql.AppendMany, connection);
        cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = streams });
        cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = categories });
        cmd.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = kinds });
        cmd.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = versions });
        cmd.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = counts });
        cmd.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = ids });
        cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = types });
        cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = contentTypes });
        cmd.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = schemaVersions });
        cmd.Parameters.Add(new NpgsqlParameter<byte[][]> { TypedValue = data });
        cmd.Parameters.Add(new NpgsqlParameter<byte[][]> { TypedValue = metadata });
        await cmd.PrepareAsync(CancellationToken.None).ConfigureAwait(false);
        var outcomes = new AppendOutcome[appends.Count];
        await using var reader = await cmd.ExecuteReaderAsync(CancellationToken.None).ConfigureAwait(false);
        for (var i = 0; i < outcomes.Length; i++)
        {
            if (!await reader.ReadAsync(CancellationToken.None).ConfigureAwait(false))
                throw new EventStoreException("PostgreSQL append_many returned fewer rows than appends.");
            outcomes[i] = ReadOutcome(reader);
        }
        if (outcomes.Any(o => o.Status == (int)AppendStatus.Written)) _listener.OnAppended();
        return outcomes;
    }

    private static AppendOutcome ReadOutcome(NpgsqlDataReader reader) =>
        new(reader.GetInt32(0), reader.GetInt64(1), reader.GetInt64(2), reader.IsDBNull(3) ? null : reader.GetGuid(3));

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
}
