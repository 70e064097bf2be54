using System.Text.Json.Serialization;

namespace EventStore.Providers;

/// <summary>What a store knows about one stream.</summary>
/// <param name="Stream">The stream.</param>
/// <param name="Exists">True when the stream has events that can be read.</param>
/// <param name="LastVersion">The version of the last event, or -1 when the stream has none.</param>
/// <param name="IsDeleted">True when the stream was deleted (soft or tombstone).</param>
/// <remarks>JSON (System.Text.Json): <c>{"stream":"Order-1","exists":true,"lastVersion":3,"isDeleted":false}</c>.</remarks>
[JsonConverter(typeof(StreamInfoJsonConverter))]
public sealed record StreamInfo(StreamName Stream, bool Exists, long LastVersion, bool IsDeleted = false)
{
    /// <summary>The info of a stream that does not exist.</summary>
    public static StreamInfo NotFound(StreamName stream) => new(stream, false, -1);
}

/// <summary>The result of a successful append.</summary>
/// <param name="LastVersion">The version of the stream's last event after the append (the next expected version).</param>
/// <param name="Position">
/// The position of the last event written (or of the stream head for an empty append). On providers whose
/// <see cref="EventStoreCapabilities.GlobalOrder"/> is <see cref="GlobalOrdering.Total"/> it equals that event's
/// position in $all and can be used as a $all checkpoint. On <see cref="GlobalOrdering.PerPartition"/> providers
/// (Kafka with several partitions) it only identifies the event's offset in its own partition (other components 0):
/// it is not a $all checkpoint, because $all positions there are vectors merged over all partitions.
/// </param>
/// <param name="WroteEvents">False when nothing was written: an empty batch, or an idempotent re-send of a batch already stored.</param>
/// <remarks>
/// JSON (System.Text.Json): <c>{"lastVersion":3,"position":"17","wroteEvents":true}</c>, the position as its text so
/// <c>Results.Ok(await store.AppendAsync(...))</c> works and a client can hand the position back.
/// </remarks>
[JsonConverter(typeof(AppendResultJsonConverter))]
public sealed record AppendResult(long LastVersion, Position Position, bool WroteEvents = true)
{
    /// <summary>The expected version to pass to the next append on this stream.</summary>
    public ExpectedVersion NextExpectedVersion => ExpectedVersion.FromLastSeen(LastVersion);
}
