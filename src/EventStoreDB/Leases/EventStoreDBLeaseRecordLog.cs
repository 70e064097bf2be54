using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using EventStore.Providers.EventStoreDB.Protocol;
using EventStore.Providers.EventStoreDB.Protocol.Streams;
using Google.Protobuf;

namespace EventStore.Providers.EventStoreDB.Leases;

/// <summary>
/// Lease records in EventStoreDB: a stream per record whose newest event (type <c>$esp.lease</c>, JSON) is its state,
/// written with the expected revision; and a stream per group listing its record names (type <c>$esp.lease-name</c>).
/// </summary>
internal sealed class EventStoreDBLeaseRecordLog(EventStoreDBEventStore store) : ILeaseRecordLog
{
    /// <summary>How many states a record stream keeps: only the newest is read.</summary>
    private const int KeptStates = 16;

    private readonly ConcurrentDictionary<string, bool> _named = new(StringComparer.Ordinal);

    public async Task<StoredLease?> ReadAsync(string name, CancellationToken cancellationToken)
    {
        var e = await store.ReadLastAsync(store.Names.Lease(name), cancellationToken).ConfigureAwait(false);
        return e is null ? null : new StoredLease((long)e.StreamRevision, Decode(e.Data.Span));
    }

    public async Task<bool> TryWriteAsync(string name, long? expectedRevision, LeaseState state, CancellationToken cancellationToken)
    {
        var stream = store.Names.Lease(name);
        var expected = expectedRevision is { } revision ? ExpectedVersion.Exact(revision) : ExpectedVersion.NoStream;
        var outcome = await store.AppendServerAsync(stream, null, expected, [Message(StreamNames.LeaseEventType, Encode(state))], cancellationToken).ConfigureAwait(false);
        // Set once, when the record is created: the server then keeps only its newest states.
        if (outcome.Succeeded && expectedRevision is null)
            await store.SetServerStreamMetadataAsync(stream, null, new EventStoreDBStreamMetadata(MaxCount: KeptStates), cancellationToken).ConfigureAwait(false);
        return outcome.Succeeded;
    }

    public async Task<IReadOnlyList<string>> NamesAsync(string group, CancellationToken cancellationToken)
    {
        var names = new List<string>();
        var request = EventStoreDBEventStore.StreamRead(store.Names.LeaseNames(group), ReadDirection.Forwards, null, long.MaxValue, resolveLinks: false);
        await foreach (var response in store.ReadAsync(request, null, cancellationToken).ConfigureAwait(false))
            if (response.ContentCase == ReadResp.ContentOneofCase.Event && response.Event.Event is { } e)
                names.Add(e.Data.ToStringUtf8());
        return names;
    }

    public async Task AddNameAsync(string group, string name, CancellationToken cancellationToken)
    {
        if (_named.ContainsKey(name)) return;
        await store.AppendServerAsync(store.Names.LeaseNames(group), null, ExpectedVersion.Any, [Message(StreamNames.LeaseNameEventType, Encoding.UTF8.GetBytes(name))], cancellationToken)
            .ConfigureAwait(false);
        _named.TryAdd(name, true);
    }

    private static AppendReq.Types.ProposedMessage Message(string type, byte[] data)
    {
        var message = new AppendReq.Types.ProposedMessage { Id = EsdbProtocol.ToUuid(Guid.NewGuid()), Data = ByteString.CopyFrom(data) };
        message.Metadata[EsdbProtocol.TypeKey] = type;
        message.Metadata[EsdbProtocol.ContentTypeKey] = "application/json";
        return message;
    }

    internal static byte[] Encode(LeaseState state)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("owner", state.Owner);
            w.WriteNumber("token", state.Token);
            w.WriteNumber("expiresUtcTicks", state.ExpiresAt.UtcTicks);
            if (state.Checkpoint is { } checkpoint) w.WriteString("checkpoint", checkpoint);
            if (state.Deleted) w.WriteBoolean("deleted", true);
            w.WriteEndObject();
        }
        return buffer.ToArray();
    }

    internal static LeaseState Decode(ReadOnlySpan<byte> data)
    {
        var reader = new Utf8JsonReader(data);
        using var document = JsonDocument.ParseValue(ref reader);
        var root = document.RootElement;
        return new LeaseState(
            root.GetProperty("owner").GetString() ?? "",
            root.GetProperty("token").GetInt64(),
            new DateTimeOffset(root.GetProperty("expiresUtcTicks").GetInt64(), TimeSpan.Zero),
            root.TryGetProperty("checkpoint", out var c) ? c.GetString() : null,
            root.TryGetProperty("deleted", out var d) && d.GetBoolean());
    }
}
