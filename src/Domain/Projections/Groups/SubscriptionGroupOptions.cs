namespace EventStore.Providers.Projections;

/// <summary>How the instances of an application share one subscription (see <see cref="SubscriptionOptions.Group"/>).</summary>
public enum SubscriptionGroupMode
{
    /// <summary>Every instance runs the whole subscription on its own (the default; one instance per subscription id is expected).</summary>
    None = 0,

    /// <summary>One instance handles everything, in log order; the others wait as hot standbys and take over when its lease lapses.</summary>
    ActiveStandby = 1,

    /// <summary>
    /// The log is split into <see cref="SubscriptionGroupOptions.Shares"/> shares by stream; each share is handled by
    /// one instance at a time, so a stream's events are handled in version order, and shares move between instances
    /// when instances join or leave.
    /// </summary>
    Partitioned = 2,
}

/// <summary>Options of a subscription group: one subscription run by many instances of an application against one store.</summary>
public sealed class SubscriptionGroupOptions
{
    /// <summary>Whether and how the subscription is shared. Default <see cref="SubscriptionGroupMode.None"/>.</summary>
    public SubscriptionGroupMode Mode { get; set; } = SubscriptionGroupMode.None;

    /// <summary>
    /// With <see cref="SubscriptionGroupMode.Partitioned"/>: how many shares the log is split into (1 to 1,024); the most
    /// instances that can work at once. Fixed for the life of the group: each share keeps its own checkpoint. Providers
    /// with native partitions (Kafka) use their partition count instead. Default 16.
    /// </summary>
    public int Shares { get; set; } = 16;

    /// <summary>How long a lease lasts without renewal: an instance that dies has its shares taken over after at most this long. Default 10 s.</summary>
    public TimeSpan LeaseTime { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often an instance renews its leases and looks for shares to take or give back; less than half of <see cref="LeaseTime"/>. Default 2 s.</summary>
    public TimeSpan RenewInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>This instance's name in the group; unique per running process. Default: machine name, process id and a random suffix.</summary>
    public string? InstanceId { get; set; }

    /// <summary>Throws when an option is out of range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range; the message names it.</exception>
    public void EnsureValid()
    {
        if (!Enum.IsDefined(Mode)) throw new ArgumentOutOfRangeException(nameof(Mode), Mode, "Unknown subscription group mode.");
        ArgumentOutOfRangeException.ThrowIfLessThan(Shares, 1, nameof(Shares));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Shares, 1024, nameof(Shares));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(LeaseTime, TimeSpan.Zero, nameof(LeaseTime));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(RenewInterval, TimeSpan.Zero, nameof(RenewInterval));
        if (RenewInterval * 2 > LeaseTime)
            throw new ArgumentOutOfRangeException(nameof(RenewInterval), RenewInterval, $"RenewInterval must be at most half of LeaseTime ({LeaseTime}).");
        if (InstanceId is not null) ArgumentException.ThrowIfNullOrWhiteSpace(InstanceId, nameof(InstanceId));
    }
}
