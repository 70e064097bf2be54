using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace EventStore.Providers.Diagnostics;

/// <summary>
/// The <see cref="ActivitySource"/> and <see cref="System.Diagnostics.Metrics.Meter"/> of the event store, both named
/// <c>EventStore.Providers</c>. Subscribe to them with OpenTelemetry (<c>AddSource</c>/<c>AddMeter</c>).
/// </summary>
/// <remarks>
/// Instruments: <c>eventstore.appends</c> (appends by outcome), <c>eventstore.events.appended</c>,
/// <c>eventstore.append.conflicts</c> (wrong expected version), <c>eventstore.events.read</c>, and the histograms
/// <c>eventstore.append.duration</c> and <c>eventstore.read.duration</c> in seconds. Every measurement carries the tag
/// <c>eventstore.provider</c>. Subscription groups add <c>eventstore.subscription.shares</c> (shares each instance
/// holds; tags <c>subscription</c>, <c>instance</c>), <c>eventstore.subscription.lag</c> (per share, seconds between an
/// event being recorded and handled; tags <c>subscription</c>, <c>instance</c>, <c>share</c>) and
/// <c>eventstore.subscription.handovers</c> (shares taken, given back or lost; tags as for lag plus <c>change</c>).
/// </remarks>
public sealed class EventStoreInstrumentation : IDisposable
{
    /// <summary>The name of the activity source and the meter.</summary>
    public const string Name = "EventStore.Providers";

    /// <summary>The activity source.</summary>
    public static ActivitySource ActivitySource { get; } = new(Name, typeof(EventStoreInstrumentation).Assembly.GetName().Version?.ToString());

    private readonly bool _ownsMeter;
    private readonly ConcurrentDictionary<ISubscriptionGroupGauges, byte> _groups = new();

    /// <summary>Creates the instruments on a meter from <paramref name="meterFactory"/>, or on a meter of its own when null.</summary>
    public EventStoreInstrumentation(IMeterFactory? meterFactory = null)
    {
        _ownsMeter = meterFactory is null;
        Meter = meterFactory?.Create(Name) ?? new Meter(Name);
        Appends = Meter.CreateCounter<long>("eventstore.appends", "{append}", "Appends by outcome (written, idempotent, empty, conflict, failed).");
        EventsAppended = Meter.CreateCounter<long>("eventstore.events.appended", "{event}", "Events written by appends.");
        Conflicts = Meter.CreateCounter<long>("eventstore.append.conflicts", "{append}", "Appends rejected with a wrong expected version.");
        EventsRead = Meter.CreateCounter<long>("eventstore.events.read", "{event}", "Events returned by reads.");
        AppendDuration = Meter.CreateHistogram<double>("eventstore.append.duration", "s", "Time taken by appends.");
        ReadDuration = Meter.CreateHistogram<double>("eventstore.read.duration", "s", "Time taken by reads, from the call to the end of the enumeration.");
        SubscriptionHandovers = Meter.CreateCounter<long>("eventstore.subscription.handovers", "{share}", "Shares a subscription-group instance took, gave back or lost (tag change).");
        Meter.CreateObservableGauge("eventstore.subscription.shares", () => _groups.Keys.Select(g => g.SharesHeld()), "{share}", "Shares each subscription-group instance holds.");
        Meter.CreateObservableGauge("eventstore.subscription.lag", () => _groups.Keys.SelectMany(g => g.Lag()), "s", "Per share of a subscription group: how long the newest handled event waited between being recorded and being handled.");
    }

    /// <summary>The meter.</summary>
    public Meter Meter { get; }

    /// <summary>Appends by outcome.</summary>
    public Counter<long> Appends { get; }

    /// <summary>Events written.</summary>
    public Counter<long> EventsAppended { get; }

    /// <summary>Appends rejected with a wrong expected version.</summary>
    public Counter<long> Conflicts { get; }

    /// <summary>Events read.</summary>
    public Counter<long> EventsRead { get; }

    /// <summary>Append latency in seconds.</summary>
    public Histogram<double> AppendDuration { get; }

    /// <summary>Read latency in seconds.</summary>
    public Histogram<double> ReadDuration { get; }

    /// <summary>Shares taken, given back or lost by subscription-group instances.</summary>
    public Counter<long> SubscriptionHandovers { get; }

    /// <summary>Reports a running subscription-group instance's gauges until the result is disposed.</summary>
    internal IDisposable TrackSubscriptionGroup(ISubscriptionGroupGauges gauges)
    {
        _groups[gauges] = 0;
        return new Untrack(_groups, gauges);
    }

    private sealed class Untrack(ConcurrentDictionary<ISubscriptionGroupGauges, byte> groups, ISubscriptionGroupGauges gauges) : IDisposable
    {
        public void Dispose() => groups.TryRemove(gauges, out _);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        // A factory-made meter belongs to the factory, which disposes it with the container.
        if (_ownsMeter) Meter.Dispose();
    }
}
