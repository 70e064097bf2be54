using System.Runtime.CompilerServices;
using System.Text;
using Npgsql;

namespace EventStore.Providers.Postgres;

// Reads page through results with short queries (ReadPageSize rows each): memory stays flat however long the read,
// and no query holds a snapshot open while the caller works through its events.
public sealed partial class PostgresEventStore
{
    /// <inheritdoc />
    public async IAsyncEnumerable<RecordedEvent> ReadStreamAsync(StreamName stream, ReadDirection direction = ReadDirection.Forwards,
        long? fromVersion = null, long maxCount = long.MaxValue, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        EventGuard.ValidateReadStream(stream, direction, fromVersion, maxCount, Capabilities);
        var forwards = direction == ReadDirection.Forwards;
        var next = fromVersion ?? (forwards ? 0 : long.MaxValue);
        var remaining = maxCount;
        while (remaining > 0)
        {
            var limit = (int)Math.Min(remaining, _options.ReadPageSize);
            var page = await ReadStreamPageAsync(stream, forwards, next, limit, cancellationToken).ConfigureAwait(false);
            foreach (var e in page)
            {
                cancellationToken.ThrowIfCancellationRequested();
                yield return e;
            }
            if (page.Count < limit) yield break;
            remaining -= page.Count;
            next = forwards ? page[^1].Version + 1 : page[^1].Version - 1;
            if (next < 0) yield break;
        }
    }

    private async Task<List<RecordedEvent>> ReadStreamPageAsync(StreamName stream, bool forwards, long from, int limit, CancellationToken cancellationToken)
    {
        var events = new List<RecordedEvent>(Math.Min(limit, 256));
        try
        {
            await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var cmd = new NpgsqlCommand(forwards ? _sql.ReadStreamForwards : _sql.ReadStreamBackwards, connection);
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stream.Value });
            cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = from });
            cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
            await cmd.PrepareAsync(cancellationToken).ConfigureAwait(false);
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                if (reader.GetBoolean(0)) throw new StreamDeletedException(stream);
                if (reader.IsDBNull(1)) break;
                events.Add(ReadEvent(reader, 1, stream));
            }
        }
        catch (Exception e) when (PostgresErrors.ShouldMap(e))
        {
            throw PostgresErrors.Map(e, "stream read", cancellationToken);
        }
        return events;
    }

    /// <inheritdoc />
    public IAsyncEnumerable<RecordedEvent> ReadAllAsync(ReadAllOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= ReadAllOptions.Default;
        options.EnsureValid();
        return ReadLogAsync(options, null, cancellationToken);
    }

    /// <inheritdoc />
    public IAsyncEnumerable<RecordedEvent> ReadCategoryAsync(string category, ReadAllOptions? options = null, CancellationToken cancellationToken = default)
    {
        EventGuard.ValidateCategory(category);
        options ??= ReadAllOptions.Default;
        options.EnsureValid();
        return ReadLogAsync(options, category, cancellationToken);
    }

    private async IAsyncEnumerable<RecordedEvent> ReadLogAsync(ReadAllOptions options, string? category, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var forwards = options.Direction == ReadDirection.Forwards;
        long cursor;
        if (options.From is { } from) cursor = ToRaw(from);
        else cursor = forwards ? 0 : long.MaxValue;
        var filter = category is null ? options.Filter : options.Filter with { Categories = [category] };
        var remaining = options.MaxCount;
        while (remaining > 0)
        {
            var limit = (int)Math.Min(remaining, _options.ReadPageSize);
            var page = await ReadLogPageAsync(forwards, cursor, filter, limit, cancellationToken).ConfigureAwait(false);
            foreach (var e in page)
            {
                cancellationToken.ThrowIfCancellationRequested();
                yield return e;
            }
            if (page.Count < limit) yield break;
            remaining -= page.Count;
            cursor = page[^1].Position.Parts[0];
        }
    }

    /// <summary>
    /// One page of the global log after (forwards) or before (backwards) <paramref name="cursor"/>. Committed positions are always 1..N without holes (see README), so no
    /// high-water filter is needed: whatever a query sees is a prefix of the final log.
    /// </summary>
    private async Task<List<RecordedEvent>> ReadLogPageAsync(bool forwards, long cursor, EventFilter filter, int limit, CancellationToken cancellationToken)
    {
        var events = new List<RecordedEvent>(Math.Min(limit, 1024));
        try
        {
            await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var cmd = new NpgsqlCommand { Connection = connection };
            var sql = new StringBuilder(_sql.AllFrom);
            sql.Append(forwards ? "e.position > $1" : "e.position < $1");
            cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = cursor });
            cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
            if (filter.Categories.Count > 0)
            {
                cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. filter.Categories] });
                sql.Append(" AND e.category = ANY ($").Append(cmd.Parameters.Count).Append(')');
            }
            if (filter.EventTypes.Count > 0)
            {
                cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. filter.EventTypes] });
                sql.Append(" AND e.event_type = ANY ($").Append(cmd.Parameters.Count).Append(')');
            }
            sql.Append(forwards ? " ORDER BY e.position LIMIT $2" : " ORDER BY e.position DESC LIMIT $2");
            cmd.CommandText = sql.ToString();
            await cmd.PrepareAsync(cancellationToken).ConfigureAwait(false);
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            StreamName last = default;
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var name = reader.GetString(1);
                // Consecutive events often share a stream; skip re-validating its name.
                if (!string.Equals(last.ToString(), name, StringComparison.Ordinal)) last = new StreamName(name);
                events.Add(ReadEvent(reader, 0, last));
            }
        }
        catch (Exception e) when (PostgresErrors.ShouldMap(e))
        {
            throw PostgresErrors.Map(e, "$all read", cancellationToken);
        }
        return events;
    }

    // Columns from `offset`: position, stream_name, version, event_id, event_type, data, metadata, content_type, schema_version, created.
    private static RecordedEvent ReadEvent(NpgsqlDataReader reader, int offset, StreamName stream) => new(
        stream,
        reader.GetInt64(offset + 2),
        Position.FromInt64(reader.GetInt64(offset)),
        reader.GetGuid(offset + 3),
        reader.GetString(offset + 4),
        reader.GetFieldValue<byte[]>(offset + 5),
        reader.GetFieldValue<byte[]>(offset + 6),
        reader.GetString(offset + 7),
        reader.GetInt32(offset + 8),
        new DateTimeOffset(reader.GetFieldValue<DateTime>(offset + 9), TimeSpan.Zero));

    /// <inheritdoc />
    public async Task<StreamInfo> GetStreamInfoAsync(StreamName stream, CancellationToken cancellationToken = default)
    {
        EventGuard.ValidateStream(stream, Capabilities);
        try
        {
            await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var cmd = new NpgsqlCommand(_sql.StreamInfo, connection);
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stream.Value });
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) return StreamInfo.NotFound(stream);
            var last = reader.GetInt64(0);
            var soft = reader.GetBoolean(1);
            var tombstoned = reader.GetBoolean(2);
            if (tombstoned || soft) return new StreamInfo(stream, false, -1, IsDeleted: true);
            return new StreamInfo(stream, last >= 0, last);
        }
        catch (Exception e) when (PostgresErrors.ShouldMap(e))
        {
            throw PostgresErrors.Map(e, "stream info", cancellationToken);
        }
    }

    /// <inheritdoc />
    public async Task<Position> GetHeadPositionAsync(CancellationToken cancellationToken = default) =>
        FromRaw(await GetHeadAsync(cancellationToken).ConfigureAwait(false));

    internal async Task<long> GetHeadAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var cmd = new NpgsqlCommand(_sql.Head, connection);
            return (long)(await cmd.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }
        catch (Exception e) when (PostgresErrors.ShouldMap(e))
        {
            throw PostgresErrors.Map(e, "head position", cancellationToken);
        }
    }
}
