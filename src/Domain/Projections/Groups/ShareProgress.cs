namespace EventStore.Providers.Projections;

/// <summary>
/// What one instance knows about a share it handles: the claim (for fenced saves), how far it has handled and stored,
/// and the events waiting for the share's next batch.
/// </summary>
internal sealed class ShareProgress(ShareClaim claim, long now)
{
    public ShareClaim Claim { get; } = claim;

    public int Share => Claim.Share;

    /// <summary>Every event of the share up to here is handled (or was handled by a previous owner).</summary>
    public Position? Processed { get; private set; } = claim.Checkpoint;

    public Position? Stored { get; private set; } = claim.Checkpoint;

    public int Unsaved { get; private set; }

    public long LastSaveTimestamp { get; private set; } = now;

    public List<RecordedEvent> Batch { get; } = [];

    /// <summary>How long the newest handled event waited between being recorded and being handled, in seconds.</summary>
    public double LagSeconds { get; private set; }

    public bool HasUnsaved => Processed is not null && Processed != Stored;

    public bool Covers(GlobalOrdering ordering, Position position) => Processed is { } p && PositionOrder.Reached(ordering, p, position);

    public void Handled(RecordedEvent last, int count, DateTimeOffset now)
    {
        Processed = last.Position;
        Unsaved += count;
        LagSeconds = Math.Max(0, (now - last.CreatedUtc).TotalSeconds);
    }

    /// <summary>The log passed <paramref name="position"/> with nothing left of this share before it.</summary>
    public void Passed(GlobalOrdering ordering, Position position)
    {
        if (Processed is not { } p || !PositionOrder.Reached(ordering, p, position)) Processed = position;
    }

    public void Saved(Position position, long now)
    {
        Stored = position;
        Unsaved = 0;
        LastSaveTimestamp = now;
    }
}
