namespace EventStore.Providers.InMemory;

/// <summary>Keeps the newest snapshot per stream in an <see cref="InMemoryStorage"/>.</summary>
/// <param name="storage">The storage shared with the event store.</param>
/// <param name="timeProvider">The clock stamping <see cref="Snapshot.CreatedUtc"/>; the system clock when null.</param>
public sealed class InMemorySnapshotStore(InMemoryStorage storage, TimeProvider? timeProvider = null) : ISnapshotStore
{
    private readonly InMemoryStorage _storage = storage ?? throw new ArgumentNullException(nameof(storage));
    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;

    /// <inheritdoc />
    public Task<Snapshot?> LoadAsync(StreamName stream, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested) return Task.FromCanceled<Snapshot?>(cancellationToken);
        if (stream.ToString().Length == 0) return Task.FromException<Snapshot?>(new InvalidStreamNameException(null, "the stream name is missing (default StreamName)"));
        return Task.FromResult(_storage.Snapshots.TryGetValue(stream.Value, out var s) ? s : null);
    }

    /// <inheritdoc />
    public Task SaveAsync(Snapshot snapshot, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested) return Task.FromCanceled(cancellationToken);
        if (snapshot is null) return Task.FromException(new ArgumentNullException(nameof(snapshot)));
        if (snapshot.Stream.ToString().Length == 0) return Task.FromException(new InvalidStreamNameException(null, "the snapshot's stream name is missing (default StreamName)"));
        if (snapshot.Version < 0) return Task.FromException(new ArgumentOutOfRangeException(nameof(snapshot), snapshot.Version, "A snapshot's version must be 0 or more."));
        if (string.IsNullOrWhiteSpace(snapshot.SnapshotType)) return Task.FromException(new ArgumentException("A snapshot needs a type name.", nameof(snapshot)));
        // Copied so the caller reusing its buffer cannot change the stored state.
        var stored = snapshot with { Data = snapshot.Data.ToArray(), CreatedUtc = _time.GetUtcNow().ToUniversalTime() };
        _storage.Snapshots.AddOrUpdate(snapshot.Stream.Value, stored, (_, existing) => existing.Version > stored.Version ? existing : stored);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task DeleteAsync(StreamName stream, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested) return Task.FromCanceled(cancellationToken);
        if (stream.ToString().Length == 0) return Task.FromException(new InvalidStreamNameException(null, "the stream name is missing (default StreamName)"));
        _storage.Snapshots.TryRemove(stream.Value, out _);
        return Task.CompletedTask;
    }
}
