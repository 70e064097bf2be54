using System.Globalization;
using System.Text;
using System.Text.Json;
using EventStore.Providers.EventStoreDB.Protocol;
using EventStore.Providers.EventStoreDB.Protocol.Streams;
using Google.Protobuf;

namespace EventStore.Providers.EventStoreDB;

/// <summary>
/// Snapshots as one server stream per aggregate stream (<c>{prefix}esp.snapshot-{stream}</c>) with <c>$maxCount</c> = 1,
/// so the server keeps only the newest. The event type <c>$esp.snapshot</c> keeps them out of <c>$all</c> reads.
/// </summary>
public sealed class EventStoreDBSnapshotStore : ISnapshotStore
{
    private const int MaxAttempts = 5;
    private readonly EventStoreDBEventStore _store;

    /// <summary>Creates the snapshot store over <paramref name="store"/>'s connection and stream prefix.</summary>
    public EventStoreDBSnapshotStore(EventStoreDBEventStore store) => _store = store ?? throw new ArgumentNullException(nameof(store));

    /// <inheritdoc />
    public async Task<Snapshot?> LoadAsync(StreamName stream, CancellationToken cancellationToken = default)
    {
        EventGuard.ValidateStream(stream, _store.Capabilities);
        var (snapshot, _) = await LoadWithRevisionAsync(stream, cancellationToken).ConfigureAwait(false);
        return snapshot;
    }

    private async Task<(Snapshot? Snapshot, long Revision)> LoadWithRevisionAsync(StreamName stream, CancellationToken cancellationToken)
    {
        var e = await _store.ReadLastAsync(_store.Names.Snapshots(stream), cancellationToken).ConfigureAwait(false);
        if (e is null) return (null, -1);
        using var document = JsonDocument.Parse(e.CustomMetadata.Memory);
        var header = document.RootElement;
        e.Metadata.TryGetValue(EsdbProtocol.CreatedKey, out var ticksText);
        DateTimeOffset? created = long.TryParse(ticksText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var ticks) ? DateTimeOffset.UnixEpoch.AddTicks(ticks) : null;
        var snapshot = new Snapshot(stream, header.GetProperty("version").GetInt64(), header.GetProperty("snapshotType").GetString() ?? "",
            e.Data.ToByteArray(), header.GetProperty("schemaVersion").GetInt32()) { CreatedUtc = created };
        return (snapshot, (long)e.StreamRevision);
    }

    /// <inheritdoc />
    public async Task SaveAsync(Snapshot snapshot, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        EventGuard.ValidateStream(snapshot.Stream, _store.Capabilities);
        ArgumentOutOfRangeException.ThrowIfNegative(snapshot.Version);
        ArgumentException.ThrowIfNullOrWhiteSpace(snapshot.SnapshotType);
        var serverStream = _store.Names.Snapshots(snapshot.Stream);
        for (var attempt = 1; ; attempt++)
        {
            var (current, revision) = await LoadWithRevisionAsync(snapshot.Stream, cancellationToken).ConfigureAwait(false);
            if (current is not null && current.Version > snapshot.Version) return;
            var expected = current is null ? ExpectedVersion.NoStream : ExpectedVersion.Exact(revision);
            var outcome = await _store.AppendServerAsync(serverStream, snapshot.Stream, expected, [ToMessage(snapshot)], cancellationToken).ConfigureAwait(false);
            if (outcome.Succeeded)
            {
                // Set once, when the stream is (re)created: the server then keeps only the newest snapshot.
                if (current is null)
                    await _store.SetServerStreamMetadataAsync(serverStream, snapshot.Stream, new EventStoreDBStreamMetadata(MaxCount: 1), cancellationToken).ConfigureAwait(false);
                return;
            }
            if (attempt >= MaxAttempts) throw new WrongExpectedVersionException(snapshot.Stream, expected, outcome.ActualVersion);
        }
    }

    private static AppendReq.Types.ProposedMessage ToMessage(Snapshot snapshot)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber(CustomMetadata.MarkerProperty, 1);
            w.WriteNumber("version", snapshot.Version);
            w.WriteString("snapshotType", snapshot.SnapshotType);
            w.WriteNumber("schemaVersion", snapshot.SchemaVersion);
            w.WriteEndObject();
        }
        var message = new AppendReq.Types.ProposedMessage
        {
            Id = EsdbProtocol.ToUuid(Guid.NewGuid()),
            Data = ByteString.CopyFrom(snapshot.Data.Span),
            CustomMetadata = ByteString.CopyFrom(buffer.GetBuffer(), 0, (int)buffer.Length),
        };
        message.Metadata[EsdbProtocol.TypeKey] = StreamNames.SnapshotEventType;
        message.Metadata[EsdbProtocol.ContentTypeKey] = "application/octet-stream";
        return message;
    }

    /// <inheritdoc />
    public async Task DeleteAsync(StreamName stream, CancellationToken cancellationToken = default)
    {
        EventGuard.ValidateStream(stream, _store.Capabilities);
        if (await _store.ReadLastAsync(_store.Names.Snapshots(stream), cancellationToken).ConfigureAwait(false) is null) return;
        await _store.DeleteServerStreamAsync(_store.Names.Snapshots(stream), stream, ExpectedVersion.Any, StreamDeletionMode.Soft, cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>
/// Checkpoints as one server stream per subscription (<c>{prefix}esp.checkpoint-{id}</c>) with <c>$maxCount</c> = 1;
/// the event's data is the position text. Not transactional with read models (declared in the capabilities).
/// </summary>
public sealed class EventStoreDBCheckpointStore : ICheckpointStore
{
    private readonly EventStoreDBEventStore _store;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> _limited = new(StringComparer.Ordinal);

    /// <summary>Creates the checkpoint store over <paramref name="store"/>'s connection and stream prefix.</summary>
    public EventStoreDBCheckpointStore(EventStoreDBEventStore store) => _store = store ?? throw new ArgumentNullException(nameof(store));

    private string StreamFor(string subscriptionId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(subscriptionId);
        if (subscriptionId.Any(char.IsControl) || subscriptionId.Length > 500)
            throw new ArgumentException("A subscription id must have no control characters and at most 500 characters.", nameof(subscriptionId));
        return _store.Names.Checkpoint(subscriptionId);
    }

    /// <inheritdoc />
    public async Task<Position?> LoadAsync(string subscriptionId, CancellationToken cancellationToken = default)
    {
        var e = await _store.ReadLastAsync(StreamFor(subscriptionId), cancellationToken).ConfigureAwait(false);
        return e is null ? null : Position.Parse(e.Data.ToStringUtf8());
    }

    /// <inheritdoc />
    public async Task SaveAsync(string subscriptionId, Position position, CancellationToken cancellationToken = default)
    {
        var stream = StreamFor(subscriptionId);
        var message = new AppendReq.Types.ProposedMessage
        {
            Id = EsdbProtocol.ToUuid(Guid.NewGuid()),
            Data = ByteString.CopyFrom(Encoding.UTF8.GetBytes(position.ToString())),
        };
        message.Metadata[EsdbProtocol.TypeKey] = StreamNames.CheckpointEventType;
        message.Metadata[EsdbProtocol.ContentTypeKey] = "application/octet-stream";
        await _store.AppendServerAsync(stream, null, ExpectedVersion.Any, [message], cancellationToken).ConfigureAwait(false);
        if (_limited.TryAdd(stream, true))
            await _store.SetServerStreamMetadataAsync(stream, null, new EventStoreDBStreamMetadata(MaxCount: 1), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task DeleteAsync(string subscriptionId, CancellationToken cancellationToken = default)
    {
        var stream = StreamFor(subscriptionId);
        if (await _store.ReadLastAsync(stream, cancellationToken).ConfigureAwait(false) is null) return;
        await _store.DeleteServerStreamAsync(stream, null, ExpectedVersion.Any, StreamDeletionMode.Soft, cancellationToken).ConfigureAwait(false);
        _limited.TryRemove(stream, out _);
    }
}
