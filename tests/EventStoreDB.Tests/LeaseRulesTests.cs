using EventStore.Providers.Conformance;
using EventStore.Providers.EventStoreDB.Leases;
using EventStore.Providers.InMemory;
using Xunit;

namespace EventStore.Providers.EventStoreDB.Tests;

/// <summary>
/// Lease records as EventStoreDB keeps them, in memory: one append-only log per record name whose appends are refused
/// unless the record is at the revision the writer read (the server's expected-revision check), and a list of names
/// per group. The lease store's rules run over it without a server.
/// </summary>
internal sealed class InMemoryLeaseRecordLog : ILeaseRecordLog
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, List<byte[]>> _records = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<string>> _names = new(StringComparer.Ordinal);

    public Task<StoredLease?> ReadAsync(string name, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            // Stored as the server stores it, encoded, so the codec is on the path too.
            StoredLease? stored = _records.TryGetValue(name, out var log) ? new StoredLease(log.Count - 1, EventStoreDBLeaseRecordLog.Decode(log[^1])) : null;
            return Task.FromResult(stored);
        }
    }

    public Task<bool> TryWriteAsync(string name, long? expectedRevision, LeaseState state, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            long? revision = _records.TryGetValue(name, out var log) ? log.Count - 1 : null;
            if (revision != expectedRevision) return Task.FromResult(false);
            if (log is null) _records[name] = log = [];
            log.Add(EventStoreDBLeaseRecordLog.Encode(state));
            return Task.FromResult(true);
        }
    }

    public Task<IReadOnlyList<string>> NamesAsync(string group, CancellationToken cancellationToken)
    {
        lock (_gate) return Task.FromResult<IReadOnlyList<string>>(_names.TryGetValue(group, out var names) ? [.. names] : []);
    }

    public Task AddNameAsync(string group, string name, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (!_names.TryGetValue(group, out var names)) _names[group] = names = [];
            names.Add(name);
        }
        return Task.CompletedTask;
    }
}

/// <summary>
/// The in-memory store for events, with the EventStoreDB lease store's rules over <see cref="InMemoryLeaseRecordLog"/>
/// for the groups: the lease and group promises (25-29) hold for those rules on every machine, while the classes in
/// ConformanceSuite.cs hold them against a server where one is named.
/// </summary>
public sealed class EventStoreDBLeaseRulesFixture : IEventStoreFixture
{
    public Task<StoreUnderTest> CreateStoreAsync(CancellationToken cancellationToken = default)
    {
        var storage = new InMemoryStorage();
        var leases = new InMemoryLeaseRecordLog();
        return Task.FromResult(new StoreUnderTest(
            new InMemoryEventStore(storage),
            new InMemorySnapshotStore(storage),
            new InMemoryCheckpointStore(storage),
            _ => Task.FromResult<IEventStore>(new InMemoryEventStore(storage)))
        {
            Leases = new EventStoreDBSubscriptionLeaseStore(leases),
        });
    }
}

public sealed class EventStoreDBLeaseRulesLeaseStoreTests(EventStoreDBLeaseRulesFixture f) : SubscriptionLeaseStoreTests(f), IClassFixture<EventStoreDBLeaseRulesFixture>;
public sealed class EventStoreDBLeaseRulesGroupTests(EventStoreDBLeaseRulesFixture f) : SubscriptionGroupTests(f), IClassFixture<EventStoreDBLeaseRulesFixture>;

public sealed class LeaseRecordCodecTests
{
    [Theory]
    [InlineData(null, false)]
    [InlineData("12", false)]
    [InlineData("3:0:7", true)]
    public void A_state_reads_back_as_it_was_written(string? checkpoint, bool deleted)
    {
        var state = new LeaseState("instance-\u00e9/1", 42, new DateTimeOffset(2030, 1, 2, 3, 4, 5, 678, TimeSpan.FromHours(2)), checkpoint, deleted);

        var back = EventStoreDBLeaseRecordLog.Decode(EventStoreDBLeaseRecordLog.Encode(state));

        Assert.Equal(state, back);
        Assert.Equal(state.ExpiresAt.UtcTicks, back.ExpiresAt.UtcTicks);
    }

    [Fact]
    public void A_released_lease_keeps_its_minimum_expiry()
    {
        var state = new LeaseState("a", 1, DateTimeOffset.MinValue, null);

        Assert.Equal(DateTimeOffset.MinValue, EventStoreDBLeaseRecordLog.Decode(EventStoreDBLeaseRecordLog.Encode(state)).ExpiresAt);
    }
}
