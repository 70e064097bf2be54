namespace EventStore.Providers.Projections;

/// <summary>
/// One instance's membership in a subscription group: which shares it may handle now, with their checkpoints and
/// fencing. Providers without a native mechanism get the lease-based coordinator over their
/// <see cref="ISubscriptionLeaseStore"/>; a provider with one (Kafka consumer groups) supplies its own through
/// <see cref="ISubscriptionGroupCoordinatorFactory"/>.
/// </summary>
public interface ISubscriptionGroupCoordinator : IAsyncDisposable
{
    /// <summary>How many shares the log is split into.</summary>
    int Shares { get; }

    /// <summary>The share of <paramref name="stream"/> (0 to <see cref="Shares"/> - 1); the same in every instance and process.</summary>
    int ShareOf(StreamName stream);

    /// <summary>
    /// Joins or stays in the group, renews what this instance holds, takes shares it should have and gives back those it
    /// should not. Called every <see cref="SubscriptionGroupOptions.RenewInterval"/>.
    /// </summary>
    /// <returns>The shares this instance holds after the call.</returns>
    Task<IReadOnlyList<ShareClaim>> RefreshAsync(CancellationToken cancellationToken);

    /// <summary>Gives back every share and leaves the group, so the others take over at once.</summary>
    Task LeaveAsync(CancellationToken cancellationToken);
}

/// <summary>A share held by this instance: its resume position and the fenced way to store a new one.</summary>
public abstract class ShareClaim
{
    /// <summary>Creates a claim.</summary>
    protected ShareClaim(int share, long token, Position? checkpoint)
    {
        Share = share;
        Token = token;
        Checkpoint = checkpoint;
    }

    /// <summary>The share (0 to <see cref="ISubscriptionGroupCoordinator.Shares"/> - 1).</summary>
    public int Share { get; }

    /// <summary>The fencing token of this holding; a later holder has a greater one.</summary>
    public long Token { get; }

    /// <summary>The share's checkpoint when it was taken: handling resumes after it (null: from the start).</summary>
    public Position? Checkpoint { get; }

    /// <summary>Stores the share's checkpoint if this instance still holds it.</summary>
    /// <exception cref="LeaseLostException">Another instance took the share over; nothing was stored.</exception>
    public abstract Task SaveCheckpointAsync(Position checkpoint, CancellationToken cancellationToken);

    /// <summary>Whether <see cref="HandleAndSaveCheckpointAsync"/> runs the handler and the fenced save in one transaction.</summary>
    public virtual bool IsTransactional => false;

    /// <summary>
    /// Runs <paramref name="handle"/> and stores the checkpoint in one transaction that commits only while the share is
    /// held (when <see cref="IsTransactional"/>; otherwise not supported).
    /// </summary>
    /// <exception cref="LeaseLostException">Another instance took the share over; the handler's change was rolled back.</exception>
    public virtual Task HandleAndSaveCheckpointAsync(Position checkpoint, Func<object, CancellationToken, Task> handle, CancellationToken cancellationToken) =>
        throw new NotSupportedException("This share's store cannot commit a handler's change and its checkpoint together.");
}

/// <summary>Creates the coordinator of one subscription group instance.</summary>
public interface ISubscriptionGroupCoordinatorFactory
{
    /// <summary>Creates the coordinator for the group <paramref name="subscriptionId"/> as the instance <paramref name="instanceId"/>.</summary>
    ISubscriptionGroupCoordinator Create(string subscriptionId, string instanceId, SubscriptionGroupOptions options, TimeProvider timeProvider);
}
