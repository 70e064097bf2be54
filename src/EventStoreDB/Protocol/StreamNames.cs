namespace EventStore.Providers.EventStoreDB.Protocol;

/// <summary>
/// Maps our stream names to the server's and back under the store's <see cref="EventStoreDBEventStoreOptions.StreamPrefix"/>.
/// Internal streams (snapshots, checkpoints) live under the same prefix so one prefix isolates a whole store.
/// </summary>
internal sealed class StreamNames(string prefix)
{
    /// <summary>Event type of snapshot events; the leading <c>$</c> keeps them out of <c>$all</c> reads.</summary>
    public const string SnapshotEventType = "$esp.snapshot";

    /// <summary>Event type of checkpoint events; the leading <c>$</c> keeps them out of <c>$all</c> reads.</summary>
    public const string CheckpointEventType = "$esp.checkpoint";

    /// <summary>Event type of a subscription-group lease record's state; kept out of <c>$all</c> like the others.</summary>
    public const string LeaseEventType = "$esp.lease";

    /// <summary>Event type of an entry in a group's list of lease record names.</summary>
    public const string LeaseNameEventType = "$esp.lease-name";

    public string Prefix { get; } = prefix;

    public string ToServer(StreamName stream) => Prefix + stream.Value;

    public string Snapshots(StreamName stream) => $"{Prefix}esp.snapshot-{stream.Value}";

    public string Checkpoint(string subscriptionId) => $"{Prefix}esp.checkpoint-{subscriptionId}";

    public string Lease(string name) => $"{Prefix}esp.lease-{name}";

    public string LeaseNames(string group) => $"{Prefix}esp.leases-{group}";

    public string Category(string category) => $"$ce-{Prefix}{category}";

    /// <summary>Our name for a server stream; false for streams of other prefixes and system streams.</summary>
    public bool TryFromServer(string? serverName, out StreamName stream)
    {
        stream = default;
        if (serverName is null || !serverName.StartsWith(Prefix, StringComparison.Ordinal)) return false;
        return StreamName.TryParse(serverName[Prefix.Length..], out stream);
    }
}
