namespace EventStore.Providers.Subscriptions.CatchUp;

/// <summary>How a <see cref="CatchUpSubscriptionReader"/> pages and waits.</summary>
public sealed record CatchUpOptions
{
    /// <summary>Events asked for per read. Default 500.</summary>
    public int PageSize { get; init; } = 500;

    /// <summary>
    /// The longest a caught-up subscription waits before reading again even without a wake-up signal: the fallback
    /// for backends without notifications and the bound on a lost notification. Default 1 second.
    /// </summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How the store orders <c>$all</c>. With <see cref="GlobalOrdering.PerPartition"/> positions are not compared, so
    /// the reader only moves its cursor to the safe head when a page returned nothing.
    /// </summary>
    public GlobalOrdering GlobalOrder { get; init; } = GlobalOrdering.Total;

    /// <summary>Signals new events; <see cref="PollingChangeNotifier.Instance"/> (poll only) by default.</summary>
    public IStoreChangeNotifier Notifier { get; init; } = PollingChangeNotifier.Instance;

    /// <summary>The clock used for the poll interval (tests inject a fake one).</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Throws when an option is out of range.</summary>
    public void EnsureValid()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(PageSize, nameof(PageSize));
        if (PollInterval <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(PollInterval), PollInterval, "The poll interval must be positive.");
        ArgumentNullException.ThrowIfNull(Notifier, nameof(Notifier));
        ArgumentNullException.ThrowIfNull(TimeProvider, nameof(TimeProvider));
    }
}
