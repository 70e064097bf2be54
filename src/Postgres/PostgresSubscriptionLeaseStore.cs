using Npgsql;

namespace EventStore.Providers.Postgres;

/// <summary>
/// Subscription-group leases in the store's <c>subscription_leases</c> table (migration 6): every operation is one
/// statement on one row, conditional on the row's expiry or fencing token, so PostgreSQL's row lock decides every race.
/// <see cref="HandleAndSaveCheckpointAsync"/> commits a handler's read-model change together with the fenced checkpoint:
/// an instance that lost its lease can apply nothing.
/// </summary>
/// <param name="store">The store whose schema and data source hold the leases.</param>
public sealed class PostgresSubscriptionLeaseStore(PostgresEventStore store) : ITransactionalSubscriptionLeaseStore
{
    private readonly PostgresEventStore _store = store ?? throw new ArgumentNullException(nameof(store));

    private LeaseQueries Sql => _store.Sql.Leases;

    /// <inheritdoc />
    public async Task<SubscriptionLease?> TryAcquireAsync(string name, string owner, DateTimeOffset now, TimeSpan duration, CancellationToken cancellationToken = default)
    {
        LeaseGuard.ValidateName(name);
        LeaseGuard.ValidateOwner(owner);
        LeaseGuard.ValidateDuration(duration);
        try
        {
            await using var connection = await _store.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var cmd = new NpgsqlCommand(Sql.Acquire, connection);
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = owner });
            cmd.Parameters.Add(Time(now));
            cmd.Parameters.Add(Time(now + duration));
            return await ReadOneAsync(cmd, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (PostgresErrors.ShouldMap(e))
        {
            throw PostgresErrors.Map(e, "lease acquire", cancellationToken);
        }
    }

    /// <inheritdoc />
    public async Task<SubscriptionLease?> RenewAsync(SubscriptionLease lease, DateTimeOffset now, TimeSpan duration, CancellationToken cancellationToken = default)
    {
        LeaseGuard.ValidateLease(lease);
        LeaseGuard.ValidateDuration(duration);
        try
        {
            await using var connection = await _store.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var cmd = Fenced(Sql.Renew, connection, null, lease);
            cmd.Parameters.Add(Time(now + duration));
            return await ReadOneAsync(cmd, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (PostgresErrors.ShouldMap(e))
        {
            throw PostgresErrors.Map(e, "lease renew", cancellationToken);
        }
    }

    /// <inheritdoc />
    public async Task ReleaseAsync(SubscriptionLease lease, CancellationToken cancellationToken = default)
    {
        LeaseGuard.ValidateLease(lease);
        try
        {
            await using var connection = await _store.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var cmd = Fenced(Sql.Release, connection, null, lease);
            await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (PostgresErrors.ShouldMap(e))
        {
            throw PostgresErrors.Map(e, "lease release", cancellationToken);
        }
    }

    /// <inheritdoc />
    public async Task SaveCheckpointAsync(SubscriptionLease lease, Position checkpoint, CancellationToken cancellationToken = default)
    {
        LeaseGuard.ValidateLease(lease);
        int saved;
        try
        {
            await using var connection = await _store.OpenAsync(cancellationToken).ConfigureAwait(false);
            saved = await SaveCheckpointCoreAsync(connection, null, lease, checkpoint, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (PostgresErrors.ShouldMap(e))
        {
            throw PostgresErrors.Map(e, "lease checkpoint save", cancellationToken);
        }
        if (saved == 0) throw new LeaseLostException(lease.Name, lease.Token);
    }

    /// <inheritdoc />
    /// <remarks>The handler receives the <see cref="NpgsqlTransaction"/>; its connection is <c>transaction.Connection</c>.</remarks>
    public async Task HandleAndSaveCheckpointAsync(SubscriptionLease lease, Position checkpoint, Func<object, CancellationToken, Task> handle, CancellationToken cancellationToken = default)
    {
        LeaseGuard.ValidateLease(lease);
        ArgumentNullException.ThrowIfNull(handle);
        try
        {
            await using var connection = await _store.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await handle(transaction, cancellationToken).ConfigureAwait(false);
            if (await SaveCheckpointCoreAsync(connection, transaction, lease, checkpoint, cancellationToken).ConfigureAwait(false) == 0)
            {
                await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
                throw new LeaseLostException(lease.Name, lease.Token);
            }
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (PostgresErrors.ShouldMap(e))
        {
            throw PostgresErrors.Map(e, "transactional lease checkpoint save", cancellationToken);
        }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<SubscriptionLease>> ListAsync(string prefix, CancellationToken cancellationToken = default)
    {
        LeaseGuard.ValidatePrefix(prefix);
        try
        {
            await using var connection = await _store.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var cmd = new NpgsqlCommand(Sql.List, connection);
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = prefix });
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var leases = new List<SubscriptionLease>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) leases.Add(Read(reader));
            return leases;
        }
        catch (Exception e) when (PostgresErrors.ShouldMap(e))
        {
            throw PostgresErrors.Map(e, "lease list", cancellationToken);
        }
    }

    /// <inheritdoc />
    public async Task<bool> DeleteAsync(string name, long token, CancellationToken cancellationToken = default)
    {
        LeaseGuard.ValidateName(name);
        try
        {
            await using var connection = await _store.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var cmd = new NpgsqlCommand(Sql.Delete, connection);
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
            cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = token });
            return await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
        }
        catch (Exception e) when (PostgresErrors.ShouldMap(e))
        {
            throw PostgresErrors.Map(e, "lease delete", cancellationToken);
        }
    }

    private async Task<int> SaveCheckpointCoreAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, SubscriptionLease lease, Position checkpoint, CancellationToken cancellationToken)
    {
        await using var cmd = Fenced(Sql.SaveCheckpoint, connection, transaction, lease);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = checkpoint.ToString() });
        return await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A statement on the lease's row ($1 name) while it carries the lease's token ($2).</summary>
    private static NpgsqlCommand Fenced(string sql, NpgsqlConnection connection, NpgsqlTransaction? transaction, SubscriptionLease lease)
    {
        var cmd = new NpgsqlCommand(sql, connection, transaction);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = lease.Name });
        cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = lease.Token });
        return cmd;
    }

    // Npgsql writes timestamptz only from UTC offsets; the instant is what matters.
    private static NpgsqlParameter<DateTimeOffset> Time(DateTimeOffset time) => new() { TypedValue = time.ToUniversalTime() };

    private static async Task<SubscriptionLease?> ReadOneAsync(NpgsqlCommand cmd, CancellationToken cancellationToken)
    {
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? Read(reader) : null;
    }

    private static SubscriptionLease Read(NpgsqlDataReader reader) => new(
        reader.GetString(0),
        reader.GetString(1),
        reader.GetInt64(2),
        reader.GetFieldValue<DateTimeOffset>(3),
        reader.IsDBNull(4) ? null : Position.Parse(reader.GetString(4)));
}
