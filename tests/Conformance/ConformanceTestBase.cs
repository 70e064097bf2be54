using Xunit;

namespace EventStore.Providers.Conformance;

/// <summary>
/// The base of every conformance suite class: one fresh, isolated store per test (from the provider's
/// <see cref="IEventStoreFixture"/>), the test run's cancellation token, and small helpers that keep tests readable.
/// </summary>
/// <remarks>
/// A provider's test project subclasses each suite class in one line, for example
/// <c>public sealed class PostgresAppendTests(PostgresFixture f) : AppendTests(f), IClassFixture&lt;PostgresFixture&gt;;</c>
/// (or with an xUnit assembly fixture instead of <c>IClassFixture</c>).
/// </remarks>
public abstract class ConformanceTestBase(IEventStoreFixture fixture) : IAsyncLifetime
{
    /// <summary>How long a test waits for a subscription or a concurrent scenario before failing (never hanging).</summary>
    protected static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    private StoreUnderTest? _sut;

    /// <summary>The provider's fixture.</summary>
    protected IEventStoreFixture Fixture { get; } = fixture ?? throw new ArgumentNullException(nameof(fixture));

    /// <summary>This test's isolated store and its companions.</summary>
    protected StoreUnderTest Sut => _sut ?? throw new InvalidOperationException("The store is created in InitializeAsync.");

    /// <summary>The store under test.</summary>
    protected IEventStore Store => Sut.Store;

    /// <summary>What the provider declares it can do.</summary>
    protected EventStoreCapabilities Capabilities => Store.Capabilities;

    /// <summary>True when positions of different streams compare (one global log).</summary>
    protected bool HasTotalOrder => Capabilities.GlobalOrder == GlobalOrdering.Total;

    /// <summary>The test run's cancellation token.</summary>
    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <inheritdoc />
    public virtual async ValueTask InitializeAsync() => _sut = await Fixture.CreateStoreAsync(Ct);

    /// <inheritdoc />
    public virtual async ValueTask DisposeAsync()
    {
        if (_sut is not null) await _sut.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    /// <summary>A new stream name in <paramref name="category"/>, unique across runs.</summary>
    protected static StreamName NewStream(string category = "Test") => StreamName.For(category, Guid.NewGuid().ToString("N"));

    /// <summary>A token cancelled after <paramref name="timeout"/> (default <see cref="DefaultTimeout"/>) or when the run is aborted.</summary>
    protected static CancellationTokenSource Deadline(TimeSpan? timeout = null)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(timeout ?? DefaultTimeout);
        return cts;
    }

    /// <summary>Skips the test, naming the provider and the missing capability, when <paramref name="supported"/> is false.</summary>
    protected void RequireCapability(bool supported, string capability) =>
        Assert.SkipUnless(supported, $"The {Capabilities.ProviderName} provider declares no {capability} (EventStoreCapabilities.{capability} = false), so this behaviour does not apply.");

    /// <summary>Appends <paramref name="events"/>.</summary>
    protected Task<AppendResult> AppendAsync(StreamName stream, ExpectedVersion expected, params EventData[] events) =>
        Store.AppendAsync(stream, expected, events, Ct);

    /// <summary>Creates <paramref name="stream"/> with <paramref name="count"/> new events and returns them.</summary>
    protected async Task<EventData[]> SeedAsync(StreamName stream, int count, string eventType = TestEvents.DefaultType)
    {
        var events = TestEvents.Batch(count, eventType);
        await Store.AppendAsync(stream, ExpectedVersion.NoStream, events, Ct);
        return events;
    }

    /// <summary>Reads a stream to a list.</summary>
    protected Task<List<RecordedEvent>> ReadStreamAsync(StreamName stream, ReadDirection direction = ReadDirection.Forwards, long? fromVersion = null, long maxCount = long.MaxValue) =>
        CollectAsync(Store.ReadStreamAsync(stream, direction, fromVersion, maxCount, Ct));

    /// <summary>Reads the global log to a list.</summary>
    protected Task<List<RecordedEvent>> ReadAllAsync(ReadAllOptions? options = null) => CollectAsync(Store.ReadAllAsync(options, Ct));

    /// <summary>Enumerates <paramref name="source"/> fully.</summary>
    protected static async Task<List<T>> CollectAsync<T>(IAsyncEnumerable<T> source)
    {
        var list = new List<T>();
        await foreach (var item in source.WithCancellation(Ct)) list.Add(item);
        return list;
    }

    /// <summary>
    /// Asserts events are in log order: strictly increasing positions on a totally ordered provider; on a
    /// per-partition provider only what holds there (each stream's versions increase).
    /// </summary>
    protected void AssertInLogOrder(IReadOnlyList<RecordedEvent> events, ReadDirection direction = ReadDirection.Forwards)
    {
        var sign = direction == ReadDirection.Forwards ? 1 : -1;
        if (HasTotalOrder)
        {
            for (var i = 1; i < events.Count; i++)
                Assert.True(sign * events[i].Position.CompareTo(events[i - 1].Position) > 0,
                    $"Event #{i} at {events[i].Position} is out of {direction} order after {events[i - 1].Position}.");
            return;
        }
        foreach (var stream in events.GroupBy(e => e.Stream))
        {
            var versions = stream.Select(e => e.Version).ToList();
            for (var i = 1; i < versions.Count; i++)
                Assert.True(sign * versions[i].CompareTo(versions[i - 1]) > 0, $"Stream {stream.Key}: version {versions[i]} is out of {direction} order after {versions[i - 1]}.");
        }
    }

    /// <summary>Asserts a recorded event carries exactly what was appended.</summary>
    protected static void AssertSameEvent(EventData expected, RecordedEvent actual)
    {
        Assert.Equal(expected.EventId, actual.EventId);
        Assert.Equal(expected.EventType, actual.EventType);
        Assert.Equal(expected.Data.ToArray(), actual.Data.ToArray());
        Assert.Equal(expected.Metadata.ToArray(), actual.Metadata.ToArray());
        Assert.Equal(expected.ContentType, actual.ContentType);
        Assert.Equal(expected.SchemaVersion, actual.SchemaVersion);
    }

    /// <summary>Starts consuming a subscription in the background; dispose to cancel it.</summary>
    protected static SubscriptionProbe Subscribe(Func<CancellationToken, IAsyncEnumerable<SubscriptionMessage>> subscribe, TimeSpan? timeout = null) =>
        SubscriptionProbe.Start(subscribe, timeout ?? DefaultTimeout, Ct);
}
