using Npgsql;

namespace EventStore.Providers.Postgres;

/// <summary>Snapshots in the store's <c>snapshots</c> table: one row per stream, only ever replaced by a newer version.</summary>
public sealed class PostgresSnapshotStore(PostgresEventStore store) : ISnapshotStore
{
    private readonly PostgresEventStore _store = store ?? throw new ArgumentNullException(nameof(store));

    /// <inheritdoc />
    public async Task<Snapshot?> LoadAsync(StreamName stream, CancellationToken cancellationToken = default)
    {
        EventGuard.ValidateStream(stream, _store.Capabilities);
        try
        {
            await using var connection = await _store.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var cmd = new NpgsqlCommand(_store.Sql.SnapshotLoad, connection);
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stream.Value });
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) return null;
            return new Snapshot(stream, reader.GetInt64(0), reader.GetString(1), reader.GetFieldValue<byte[]>(2), reader.GetInt32(3))
            {
                CreatedUtc = new DateTimeOffset(reader.GetFieldValue<DateTime>(4), TimeSpan.Zero),
            };
        }
        catch (Exception e) when (PostgresErrors.ShouldMap(e))
        {
            throw PostgresErrors.Map(e, "snapshot load", cancellationToken);
        }
    }

    /// <inheritdoc />
    public async Task SaveAsync(Snapshot snapshot, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        EventGuard.ValidateStream(snapshot.Stream, _store.Capabilities);
        ArgumentOutOfRangeException.ThrowIfNegative(snapshot.Version);
        ArgumentException.ThrowIfNullOrWhiteSpace(snapshot.SnapshotType);
        try
        {
            await using var connection = await _store.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var cmd = new NpgsqlCommand(_store.Sql.SnapshotSave, connection);
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = snapshot.Stream.Value });
            cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = snapshot.Version });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = snapshot.SnapshotType });
            cmd.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = snapshot.Data.ToArray() });
            cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = snapshot.SchemaVersion });
            await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (PostgresErrors.ShouldMap(e))
        {
            throw PostgresErrors.Map(e, "snapshot save", cancellationToken);
        }
    }

    /// <inheritdoc />
    public async Task DeleteAsync(StreamName stream, CancellationToken cancellationToken = default)
    {
        EventGuard.ValidateStream(stream, _store.Capabilities);
        try
        {
            await using var connection = await _store.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var cmd = new NpgsqlCommand(_store.Sql.SnapshotDelete, connection);
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stream.Value });
            await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (PostgresErrors.ShouldMap(e))
        {
            throw PostgresErrors.Map(e, "snapshot delete", cancellationToken);
        }
    }
}
