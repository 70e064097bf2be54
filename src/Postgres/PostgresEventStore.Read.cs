using System.Runtime.CompilerServices;
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
        // Pages read below the safe position; at the end of the log a forwards read also takes in events that
        // committed while an older append was still running, once that append is done (LogHorizon).
        // A backwards read starts from the end, so it does that first.
        var horizon = 0L;
        var waited = !forwards;
        if (!forwards) horizon = await _horizon.FinalBelowAsync(await _horizon.ReadAsync(cancellationToken).ConfigureAwait(false), 0, cancellationToken).ConfigureAwait(false);
        while (remaining > 0)
        {
            var limit = (int)Math.Min(remaining, _options.ReadPageSize);
            var page = await ReadLogPageAsync(forwards, cursor, horizon, filter, limit, cancellationToken).ConfigureAwait(false);
            foreach (var e in page)
            {
                cancellationToken.ThrowIfCancellationRequested();
                yield return e;
            }
            remaining -= page.Count;
            if (page.Count > 0) cursor = page[^1].Position.Parts[0];
            if (page.Count < limit)
            {
                if (waited) yield break;
                waited = true;
                horizon = await _horizon.FinalBelowAsync(await _horizon.ReadAsync(cancellationToken).ConfigureAwait(false), cursor, cancellationToken).ConfigureAwait(false);
                if (horizon == 0) yield break;
            }
        }
    }

    /// <summary>
    /// One page of the global log after (forwards) or before (backwards) <paramref name="cursor"/>, only below the
    /// safe position (or <paramref name="horizon"/> when higher): everything there is final, so whatever a page
    /// returns is a prefix of the log that no later commit can add to (see README).
    /// </summary>
    private async Task<List<RecordedEvent>> ReadLogPageAsync(bool forwards, long cursor, long horizon, EventFilter filter, int limit, CancellationToken cancellationToken)
    {
        var events = new List<RecordedEvent>(Math.Min(limit, 1024));
        try
        {
            await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
            var kind = filter.Categories.Count > 0
                ? filter.EventTypes.Count > 0 ? LogFilterKind.CategoriesAndEventTypes : LogFilterKind.Categories
                : filter.EventTypes.Count > 0 ? LogFilterKind.EventTypes : LogFilterKind.None;
            await using var cmd = new NpgsqlCommand(_sql.LogPage(forwards, kind), connection);
            cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = cursor });
            cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
            cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = horizon });
            // Each distinct value is read from its own index range, so a repeated one would repeat its events.
            if (kind != LogFilterKind.None)
                cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. (kind == LogFilterKind.EventTypes ? filter.EventTypes : filter.Categories).Distinct(StringComparer.Ordinal)] });
            if (kind == LogFilterKind.CategoriesAndEventTypes)
                cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. filter.EventTypes] });
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
    /// <remarks>The last final position: after waiting for appends still committing below events already committed.</remarks>
    public async Task<Position> GetHeadPositionAsync(CancellationToken cancellationToken = default)
    {
        var visibility = await _horizon.ReadAsync(cancellationToken).ConfigureAwait(false);
        if (visibility.AllFinal) return FromRaw(visibility.Visible);
        // Not all final means something is committed (Visible > 0), so this returns a horizon above it.
        var horizon = await _horizon.FinalBelowAsync(visibility, 0, cancellationToken).ConfigureAwait(false);
        // Final up to above the highest committed event (an old transaction that is not an append held the safe
        // position back): that event is the head.
        if (horizon > visibility.Visible) return FromRaw(visibility.Visible);
        try
        {
            await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var cmd = new NpgsqlCommand(_sql.MaxBelow, connection);
            cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = horizon });
            return FromRaw((long)(await cmd.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!);
        }
        catch (Exception e) when (PostgresErrors.ShouldMap(e))
        {
            throw PostgresErrors.Map(e, "head position", cancellationToken);
        }
    }
}
