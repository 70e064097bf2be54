namespace EventStore.Providers;

/// <summary>A stored snapshot of a stream's folded state at a version.</summary>
/// <param name="Stream">The stream the state was folded from.</param>
/// <param name="Version">The version of the last event folded into the state.</param>
/// <param name="SnapshotType">The state's type name.</param>
/// <param name="Data">The serialized state.</param>
/// <param name="SchemaVersion">The state schema's version; a snapshot of an older schema may be ignored by the loader.</param>
public sealed record Snapshot(StreamName Stream, long Version, string SnapshotType, ReadOnlyMemory<byte> Data, int SchemaVersion = 1)
{
    /// <summary>When the snapshot was saved (set by the store on load).</summary>
    public DateTimeOffset? CreatedUtc { get; init; }
}

/// <summary>Stores the newest snapshot per stream. A snapshot never changes what the events say.</summary>
public interface ISnapshotStore
{
    /// <summary>The newest snapshot of <paramref name="stream"/>, or null.</summary>
    Task<Snapshot?> LoadAsync(StreamName stream, CancellationToken cancellationToken = default);

    /// <summary>Saves a snapshot; a snapshot older than the stored one (lower version) is ignored.</summary>
    Task SaveAsync(Snapshot snapshot, CancellationToken cancellationToken = default);

    /// <summary>Deletes the snapshot of <paramref name="stream"/>, if any.</summary>
    Task DeleteAsync(StreamName stream, CancellationToken cancellationToken = default);
}

/// <summary>Stores subscription checkpoints: the position each subscription resumes after.</summary>
public interface ICheckpointStore
{
    /// <summary>The stored checkpoint of <paramref name="subscriptionId"/>, or null when it has none.</summary>
    Task<Position?> LoadAsync(string subscriptionId, CancellationToken cancellationToken = default);

    /// <summary>Stores the checkpoint of <paramref name="subscriptionId"/>.</summary>
    Task SaveAsync(string subscriptionId, Position position, CancellationToken cancellationToken = default);

    /// <summary>Removes the checkpoint (a projection rebuild starts from the beginning).</summary>
    Task DeleteAsync(string subscriptionId, CancellationToken cancellationToken = default);
}
