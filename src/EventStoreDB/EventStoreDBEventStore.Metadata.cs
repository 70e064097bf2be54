using System.Text.Json.Nodes;
using EventStore.Providers.EventStoreDB.Protocol;
using EventStore.Providers.EventStoreDB.Protocol.Streams;
using Google.Protobuf;

namespace EventStore.Providers.EventStoreDB;

/// <summary>Stream metadata the server enforces (<c>$maxCount</c>, <c>$maxAge</c>, <c>$tb</c>); null leaves a value unchanged.</summary>
/// <param name="MaxCount">Keep only the newest this many events.</param>
/// <param name="MaxAge">Hide events older than this.</param>
/// <param name="TruncateBefore">Hide events below this version.</param>
public sealed record EventStoreDBStreamMetadata(long? MaxCount = null, TimeSpan? MaxAge = null, long? TruncateBefore = null);

// Stream metadata the server enforces ($maxCount, $maxAge, $tb).
public sealed partial class EventStoreDBEventStore
{
    /// <summary>
    /// Merges <paramref name="metadata"/> into the stream's metadata (<c>$maxCount</c>, <c>$maxAge</c> in seconds,
    /// <c>$tb</c>), keeping other entries. The server enforces them on read and when scavenging.
    /// </summary>
    public Task SetStreamMetadataAsync(StreamName stream, EventStoreDBStreamMetadata metadata, CancellationToken cancellationToken = default)
    {
        EventGuard.ValidateStream(stream, Capabilities);
        ArgumentNullException.ThrowIfNull(metadata);
        if (metadata.MaxCount is <= 0) throw new ArgumentOutOfRangeException(nameof(metadata), metadata.MaxCount, "$maxCount must be 1 or more.");
        if (metadata.MaxAge is { } age && age < TimeSpan.FromSeconds(1)) throw new ArgumentOutOfRangeException(nameof(metadata), age, "$maxAge must be at least one second.");
        if (metadata.TruncateBefore is < 0) throw new ArgumentOutOfRangeException(nameof(metadata), metadata.TruncateBefore, "$tb must be 0 or more.");
        return SetServerStreamMetadataAsync(Names.ToServer(stream), stream, metadata, cancellationToken);
    }

    /// <summary>The stream's metadata entries the server enforces, or null when it has none.</summary>
    public async Task<EventStoreDBStreamMetadata?> GetStreamMetadataAsync(StreamName stream, CancellationToken cancellationToken = default)
    {
        EventGuard.ValidateStream(stream, Capabilities);
        var json = await ReadStreamMetadataAsync(Names.ToServer(stream), cancellationToken).ConfigureAwait(false);
        if (json is null) return null;
        return new EventStoreDBStreamMetadata(
            json["$maxCount"] is JsonValue c && c.TryGetValue<long>(out var count) ? count : null,
            json["$maxAge"] is JsonValue a && a.TryGetValue<long>(out var seconds) ? TimeSpan.FromSeconds(seconds) : null,
            json["$tb"] is JsonValue t && t.TryGetValue<long>(out var tb) ? tb : null);
    }

    internal async Task<JsonObject?> ReadStreamMetadataAsync(string serverStream, CancellationToken cancellationToken)
    {
        var request = StreamRead("$$" + serverStream, ReadDirection.Backwards, null, 1, resolveLinks: false);
        await foreach (var response in ReadAsync(request, null, cancellationToken).ConfigureAwait(false))
        {
            if (response.ContentCase == ReadResp.ContentOneofCase.Event && response.Event.Event is { } e && !e.Data.IsEmpty)
            {
                try
                {
                    return JsonNode.Parse(e.Data.Memory.Span) as JsonObject;
                }
                catch (System.Text.Json.JsonException)
                {
                    return null;
                }
            }
        }
        return null;
    }

    internal async Task SetServerStreamMetadataAsync(string serverStream, StreamName? stream, EventStoreDBStreamMetadata change, CancellationToken cancellationToken)
    {
        var json = await ReadStreamMetadataAsync(serverStream, cancellationToken).ConfigureAwait(false) ?? [];
        if (change.MaxCount is { } count) json["$maxCount"] = count;
        if (change.MaxAge is { } age) json["$maxAge"] = (long)age.TotalSeconds;
        if (change.TruncateBefore is { } tb) json["$tb"] = tb;
        var message = new AppendReq.Types.ProposedMessage
        {
            Id = EsdbProtocol.ToUuid(Guid.NewGuid()),
            Data = ByteString.CopyFromUtf8(json.ToJsonString()),
        };
        message.Metadata[EsdbProtocol.TypeKey] = "$metadata";
        message.Metadata[EsdbProtocol.ContentTypeKey] = EventData.JsonContentType;
        var outcome = await PlainAppendAsync("$$" + serverStream, stream, ExpectedVersion.Any, [message], null, cancellationToken).ConfigureAwait(false);
        if (!outcome.Succeeded) throw new EventStoreException($"EventStoreDB refused the metadata of stream '{stream?.ToString() ?? serverStream}'.");
    }
}
