using System.Globalization;
using System.Text;

namespace EventStore.Providers.Reliability.Tests.Model;

/// <summary>A provider answered differently from the reference model.</summary>
public sealed class ModelMismatchException(string message) : Exception(message);

/// <summary>
/// Runs one generated sequence against a store and the reference model side by side and throws at the first
/// difference (success vs exception type, versions, positions, event ids read), with the whole trace so far.
/// </summary>
public sealed class SequenceRunner
{
    private static readonly TimeSpan SubscriptionLimit = TimeSpan.FromSeconds(30);

    private readonly Func<CancellationToken, Task<IEventStore>> _openAnother;
    private readonly ReferenceModel _model = new();
    private readonly string _category;
    private readonly StringBuilder _trace = new();
    private readonly bool _totalOrder;
    private IEventStore _store;
    private Position? _lastWritten;
    private int _eventCounter;

    /// <summary>Creates a runner writing to its own category of <paramref name="store"/>.</summary>
    public SequenceRunner(IEventStore store, Func<CancellationToken, Task<IEventStore>> openAnother, string category)
    {
        _store = store;
        _openAnother = openAnother;
        _category = category;
        _totalOrder = store.Capabilities.GlobalOrder == GlobalOrdering.Total;
    }

    /// <summary>How many operations ran.</summary>
    public int OperationsRun { get; private set; }

    private StreamName StreamOf(int index) => new($"{_category}-s{index}");

    /// <summary>Runs the whole sequence.</summary>
    public async Task RunAsync(IEnumerable<Op> ops, CancellationToken cancellationToken)
    {
        foreach (var op in ops)
        {
            _trace.Append(CultureInfo.InvariantCulture, $"{op}");
            switch (op)
            {
                case AppendOp a: await AppendAsync(a, cancellationToken); break;
                case ReadStreamOp r: await ReadStreamAsync(r, cancellationToken); break;
                case ReadAllOp r: await ReadAllAsync(r, cancellationToken); break;
                case StreamInfoOp i: await InfoAsync(i, cancellationToken); break;
                case RestartOp: _store = await _openAnother(cancellationToken); break;
                case SubscribeAllOp: await SubscribeAllAsync(cancellationToken); break;
                case SubscribeStreamOp s: await SubscribeStreamAsync(s, cancellationToken); break;
                default: throw new InvalidOperationException($"Unknown operation {op}.");
            }
            _trace.AppendLine();
            OperationsRun++;
        }
    }

    private void Fail(string what) =>
        throw new ModelMismatchException($"{_store.Capabilities.ProviderName} differs from the model: {what}{Environment.NewLine}Trace:{Environment.NewLine}{_trace}");

    private EventData NewEvent()
    {
        var n = Interlocked.Increment(ref _eventCounter);
        return new EventData(Guid.NewGuid(), $"Probe{n % 3}", Encoding.UTF8.GetBytes($"{{\"n\":{n}}}"), Encoding.UTF8.GetBytes($"{{\"m\":{n}}}"));
    }

    private (ExpectedVersion Expected, IReadOnlyList<EventData> Events, ModelBatch? Original) Materialise(AppendOp a, string stream)
    {
        var batches = _model.Batches(stream);
        var current = _model.LastVersion(stream);
        if (a.Resend != Resend.None && batches.Count > 0)
        {
            var original = batches[a.Pick % batches.Count];
            // A re-send with Any/StreamExists is only defined against the stream's most recent events.
            if (original.Expected.Kind is ExpectedVersionKind.Any or ExpectedVersionKind.StreamExists && !ReferenceEquals(original, batches[^1]))
                original = batches[^1];
            if (a.Resend == Resend.Whole) return (original.Expected, original.Events, original);
            var partial = original.Events.Count > 1
                ? [.. original.Events.Take(original.Events.Count - 1), NewEvent()]
                : new List<EventData> { original.Events[0], NewEvent() };
            return (original.Expected, partial, null);
        }
        var expected = a.Kind switch
        {
            ExpectedVersionKind.Any => ExpectedVersion.Any,
            ExpectedVersionKind.NoStream => ExpectedVersion.NoStream,
            ExpectedVersionKind.StreamExists => ExpectedVersion.StreamExists,
            _ => ExpectedVersion.Exact(Math.Max(0, current + a.ExactOffset)),
        };
        return (expected, Enumerable.Range(0, a.NewEvents).Select(_ => NewEvent()).ToList(), null);
    }

    private async Task AppendAsync(AppendOp a, CancellationToken cancellationToken)
    {
        var stream = StreamOf(a.Stream);
        var (expected, events, original) = Materialise(a, stream);
        _trace.Append(CultureInfo.InvariantCulture, $" => append {events.Count} to {stream} expecting {expected}");
        var outcome = _model.Append(stream, expected, events);
        AppendResult? result = null;
        Exception? error = null;
        try
        {
            result = await _store.AppendAsync(stream, expected, events, cancellationToken);
        }
        catch (EventStoreException e)
        {
            error = e;
        }
        _trace.Append(CultureInfo.InvariantCulture, $": model {(outcome.Exception?.Name ?? $"ok v{outcome.LastVersion} wrote={outcome.WroteEvents}")}, store {(error?.GetType().Name ?? $"ok v{result!.LastVersion} wrote={result.WroteEvents} @{result.Position}")}");

        if (outcome.Exception is not null)
        {
            if (error is null || error.GetType() != outcome.Exception)
                Fail($"append expected {outcome.Exception.Name} but got {(error is null ? "success" : error.GetType().Name + ": " + error.Message)}");
            if (error is WrongExpectedVersionException wev && wev.ActualVersion != outcome.LastVersion)
                Fail($"WrongExpectedVersionException.ActualVersion is {wev.ActualVersion?.ToString(CultureInfo.InvariantCulture) ?? "null"}, expected {outcome.LastVersion}");
            return;
        }
        if (error is not null) Fail($"append expected success but got {error.GetType().Name}: {error.Message}");
        if (result!.LastVersion != outcome.LastVersion) Fail($"LastVersion {result.LastVersion}, expected {outcome.LastVersion}");
        if (result.WroteEvents != outcome.WroteEvents) Fail($"WroteEvents {result.WroteEvents}, expected {outcome.WroteEvents}");
        if (outcome.WroteEvents)
        {
            if (_totalOrder && _lastWritten is { } last && result.Position <= last)
                Fail($"the append's position {result.Position} is not after the previous append's {last}");
            _lastWritten = result.Position;
            outcome.OriginalBatch!.Position = result.Position;
        }
        else if (events.Count > 0)
        {
            var first = original ?? outcome.OriginalBatch;
            if (first?.Position is { } p && result.Position != p)
                Fail($"an idempotent re-send returned position {result.Position}, the original append returned {p}");
        }
    }

    private static string Describe(IEnumerable<(long Version, Guid Id)> events) =>
        "[" + string.Join(", ", events.Select(e => $"v{e.Version}:{e.Id.ToString()[..8]}")) + "]";

    private void Compare(string what, IReadOnlyList<ModelEvent> expected, IReadOnlyList<RecordedEvent> actual)
    {
        var e = expected.Select(x => (x.Version, x.EventId)).ToList();
        var a = actual.Select(x => (x.Version, x.EventId)).ToList();
        if (!e.SequenceEqual(a)) Fail($"{what} returned {Describe(a)}, expected {Describe(e)}");
        for (var i = 0; i < actual.Count; i++)
        {
            var m = expected[i];
            var r = actual[i];
            if (r.Stream.Value != m.Stream || r.EventType != m.EventType || !r.Data.Span.SequenceEqual(m.Data))
                Fail($"{what}: event {r.EventId} came back as {r.Stream}/{r.EventType} with {r.Data.Length} bytes, stored in {m.Stream} as {m.EventType} with {m.Data.Length} bytes");
        }
        _trace.Append(CultureInfo.InvariantCulture, $" => {actual.Count} events");
    }

    private async Task ReadStreamAsync(ReadStreamOp r, CancellationToken cancellationToken)
    {
        var stream = StreamOf(r.Stream);
        var actual = await _store.ReadStreamAsync(stream, r.Direction, r.From, r.MaxCount, cancellationToken).ToListAsync(cancellationToken);
        Compare($"ReadStream({stream}, {r.Direction}, from {r.From?.ToString(CultureInfo.InvariantCulture) ?? "null"}, max {r.MaxCount})",
            _model.ReadStream(stream, r.Direction, r.From, r.MaxCount), actual);
    }

    private IReadOnlyList<ModelEvent> CategoryEvents() => _model.All.Where(e => e.Stream.StartsWith(_category + "-", StringComparison.Ordinal)).ToList();

    private async Task ReadAllAsync(ReadAllOp r, CancellationToken cancellationToken)
    {
        var filter = EventFilter.ForCategories(_category);
        var read = new List<RecordedEvent>();
        Position? from = null;
        for (var pages = 0; ; pages++)
        {
            if (pages > 1000) Fail("paging $all never ended");
            var page = await _store.ReadAllAsync(new ReadAllOptions { Direction = r.Direction, From = from, MaxCount = r.PageSize, Filter = filter }, cancellationToken)
                .ToListAsync(cancellationToken);
            if (page.Count > r.PageSize) Fail($"a page of $all had {page.Count} events, more than MaxCount {r.PageSize}");
            read.AddRange(page);
            if (page.Count < r.PageSize) break;
            from = page[^1].Position;
        }
        var expected = CategoryEvents();
        if (r.Direction == ReadDirection.Backwards) expected = expected.Reverse().ToList();
        CheckPositions(read, r.Direction);
        if (_totalOrder)
            Compare($"$all {r.Direction} in pages of {r.PageSize}", expected, read);
        else
            ComparePerStream($"$all {r.Direction} in pages of {r.PageSize}", expected, read);
    }

    private void CheckPositions(IReadOnlyList<RecordedEvent> read, ReadDirection direction)
    {
        for (var i = 1; _totalOrder && i < read.Count; i++)
        {
            var ordered = direction == ReadDirection.Forwards ? read[i - 1].Position < read[i].Position : read[i - 1].Position > read[i].Position;
            if (!ordered) Fail($"$all {direction} is out of order at {read[i - 1].Position} then {read[i].Position}");
        }
        // On per-partition providers an append's position names only its own partition's offset, while $all carries
        // merged vectors (AppendResult.Position docs): the two are comparable only under a total order.
        if (!_totalOrder) return;
        foreach (var e in read)
        {
            var batch = _model.Batches(e.Stream).FirstOrDefault(b => b.Events[^1].EventId == e.EventId);
            if (batch?.Position is { } p && p != e.Position)
                Fail($"event {e.EventId} is at position {e.Position} in $all but its append returned {p}");
        }
    }

    // Without a total order (Kafka partitions) $all only promises each stream's order and each event once.
    private void ComparePerStream(string what, IReadOnlyList<ModelEvent> expected, IReadOnlyList<RecordedEvent> actual)
    {
        foreach (var group in expected.GroupBy(e => e.Stream))
            Compare($"{what} (stream {group.Key})", group.ToList(), actual.Where(a => a.Stream.Value == group.Key).ToList());
        if (actual.Count != expected.Count) Fail($"{what} returned {actual.Count} events, expected {expected.Count}");
    }

    private async Task InfoAsync(StreamInfoOp i, CancellationToken cancellationToken)
    {
        var stream = StreamOf(i.Stream);
        var info = await _store.GetStreamInfoAsync(stream, cancellationToken);
        var last = _model.LastVersion(stream);
        _trace.Append(CultureInfo.InvariantCulture, $" => exists={info.Exists} last={info.LastVersion}");
        if (info.Exists != last >= 0 || info.LastVersion != last || info.IsDeleted)
            Fail($"GetStreamInfo({stream}) = {info}, expected Exists={last >= 0}, LastVersion={last}, IsDeleted=False");
    }

    private async Task<List<RecordedEvent>> CollectUntilCaughtUpAsync(IAsyncEnumerable<SubscriptionMessage> messages, string what, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(SubscriptionLimit);
        var events = new List<RecordedEvent>();
        try
        {
            await foreach (var m in messages.WithCancellation(limit.Token))
            {
                if (m.Kind == SubscriptionMessageKind.Event) events.Add(m.Event!);
                if (m.Kind == SubscriptionMessageKind.CaughtUp) return events;
            }
        }
        catch (OperationCanceledException) when (limit.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            Fail($"{what} did not report CaughtUp within {SubscriptionLimit.TotalSeconds} s ({events.Count} events received)");
        }
        Fail($"{what} ended before reporting CaughtUp");
        return events;
    }

    private async Task SubscribeAllAsync(CancellationToken cancellationToken)
    {
        var events = await CollectUntilCaughtUpAsync(
            _store.SubscribeToAllAsync(new SubscribeToAllOptions { Filter = EventFilter.ForCategories(_category) }, cancellationToken),
            "SubscribeToAll", cancellationToken);
        CheckPositions(events, ReadDirection.Forwards);
        if (_totalOrder) Compare("SubscribeToAll history", CategoryEvents(), events);
        else ComparePerStream("SubscribeToAll history", CategoryEvents(), events);
    }

    private async Task SubscribeStreamAsync(SubscribeStreamOp s, CancellationToken cancellationToken)
    {
        var stream = StreamOf(s.Stream);
        var events = await CollectUntilCaughtUpAsync(
            _store.SubscribeToStreamAsync(stream, s.AfterVersion, cancellationToken), $"SubscribeToStream({stream})", cancellationToken);
        Compare($"SubscribeToStream({stream}, after {s.AfterVersion?.ToString(CultureInfo.InvariantCulture) ?? "null"})",
            _model.Stream(stream).Where(e => s.AfterVersion is null || e.Version > s.AfterVersion).ToList(), events);
    }
}
