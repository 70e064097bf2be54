using EventStore.Providers.Projections;
using Npgsql;

namespace EventStore.Providers.Postgres;

/// <summary>
/// Subscription checkpoints in the store's <c>checkpoints</c> table, plus the transactional projection API: a
/// projection writing its read model to the same PostgreSQL saves the read-model change and its checkpoint in one
/// transaction (<see cref="SaveAtomicallyAsync"/>, or <see cref="SaveAsync(NpgsqlTransaction, string, Position, CancellationToken)"/>
/// inside a transaction the projection already runs). Either both are stored or neither, so a crash can never
/// re-apply or skip an event. The subscription runner uses it through <see cref="ITransactionalCheckpointStore"/>,
/// handing the handler the <see cref="NpgsqlTransaction"/> as <c>SubscriptionContext.Transaction</c>.
/// </summary>
public sealed class PostgresCheckpointStore(PostgresEventStore store) : ITransactionalCheckpointStore
{
    private readonly PostgresEventStore _store = store ?? throw new ArgumentNullException(nameof(store));

    /// <inheritdoc />
    public async Task<Position?> LoadAsync(string subscriptionId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(subscriptionId);
        try
        {
            await using var connection = await _store.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var cmd = new NpgsqlCommand(_store.Sql.CheckpointLoad, connection);
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = subscriptionId });
            return await cmd.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is string text ? Position.Parse(text) : null;
        }
        catch (Exception e) when (PostgresErrors.ShouldMap(e))
        {
            throw PostgresErrors.Map(e, "checkpoint load", cancellationToken);
        }
    }

    /// <inheritdoc />
    public async Task SaveAsync(string subscriptionId, Position position, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(subscriptionId);
        try
        {
            await using var connection = await _store.OpenAsync(cancellationToken).ConfigureAwait(false);
            await SaveCoreAsync(connection, null, subscriptionId, position, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (PostgresErrors.ShouldMap(e))
        {
            throw PostgresErrors.Map(e, "checkpoint save", cancellationToken);
        }
    }

    /// <summary>
    /// Saves the checkpoint inside <paramref name="transaction"/>, a transaction the caller opened on a connection to
    /// the same database; it commits or rolls back with the caller's own writes.
    /// </summary>
    public async Task SaveAsync(NpgsqlTransaction transaction, string subscriptionId, Position position, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        ArgumentException.ThrowIfNullOrWhiteSpace(subscriptionId);
        var connection = transaction.Connection ?? throw new InvalidOperationException("The transaction is already completed.");
        await _store.EnsureInitializedAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await SaveCoreAsync(connection, transaction, subscriptionId, position, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (PostgresErrors.ShouldMap(e))
        {
            throw PostgresErrors.Map(e, "checkpoint save", cancellationToken);
        }
    }

    /// <summary>
    /// Opens a transaction, runs <paramref name="work"/> (the projection's read-model change) in it, saves the
    /// checkpoint in it and commits. If <paramref name="work"/> throws or the commit fails, neither the read-model
    /// change nor the checkpoint is stored, and the exception propagates.
    /// </summary>
    /// <param name="subscriptionId">The projection's subscription id.</param>
    /// <param name="position">The checkpoint to store with the change (the position of the last event handled).</param>
    /// <param name="work">Writes the read-model change using the given connection and transaction.</param>
    /// <param name="cancellationToken">Cancels the whole unit; nothing is stored when cancelled before the commit.</param>
    public async Task SaveAtomicallyAsync(string subscriptionId, Position position,
        Func<NpgsqlConnection, NpgsqlTransaction, CancellationToken, Task> work, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(subscriptionId);
        ArgumentNullException.ThrowIfNull(work);
        NpgsqlConnection? connection = null;
        try
        {
            connection = await _store.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await work(connection, transaction, cancellationToken).ConfigureAwait(false);
            await SaveCoreAsync(connection, transaction, subscriptionId, position, cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (PostgresErrors.ShouldMap(e))
        {
            throw PostgresErrors.Map(e, "transactional checkpoint save", cancellationToken);
        }
        finally
        {
            if (connection is not null) await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    Task ITransactionalCheckpointStore.HandleAndSaveAsync(string subscriptionId, Position checkpoint, Func<object, CancellationToken, Task> handle, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(handle);
        return SaveAtomicallyAsync(subscriptionId, checkpoint, (_, transaction, ct) => handle(transaction, ct), cancellationToken);
    }

    /// <inheritdoc />
    public async Task DeleteAsync(string subscriptionId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(subscriptionId);
        try
        {
            await using var connection = await _store.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var cmd = new NpgsqlCommand(_store.Sql.CheckpointDelete, connection);
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = subscriptionId });
            await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (PostgresErrors.ShouldMap(e))
        {
            throw PostgresErrors.Map(e, "checkpoint delete", cancellationToken);
        }
    }

    private async Task SaveCoreAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string subscriptionId, Position position, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand(_store.Sql.CheckpointSave, connection, transaction);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = subscriptionId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = position.ToString() });
        await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
