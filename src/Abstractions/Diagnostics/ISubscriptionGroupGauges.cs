using System.Diagnostics.Metrics;

namespace EventStore.Providers.Diagnostics;

/// <summary>What a running subscription-group instance reports to the observable gauges of <see cref="EventStoreInstrumentation"/>.</summary>
internal interface ISubscriptionGroupGauges
{
    /// <summary>How many shares the instance holds, tagged with the subscription and the instance.</summary>
    Measurement<long> SharesHeld();

    /// <summary>The lag of each held share, tagged with the subscription, the instance and the share.</summary>
    IEnumerable<Measurement<double>> Lag();
}
