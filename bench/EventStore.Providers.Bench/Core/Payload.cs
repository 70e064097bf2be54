using System.Text;
using System.Text.Json;

namespace EventStore.Providers.Bench.Core;

/// <summary>The one event body every subject writes (~100 bytes of JSON), so byte counts are equal across subjects.</summary>
internal static class Payload
{
    public const string EventType = "OrderLineAdded";

    public static readonly byte[] Json =
        Encoding.UTF8.GetBytes("""{"orderId":"ord-000000000001","sku":"SKU-12345","quantity":3,"amount":12.5,"currency":"EUR"}""");

    public static EventData Event(string type = EventType) => new(Guid.NewGuid(), type, Json);

    public static EventData[] Batch(int count)
    {
        var batch = new EventData[count];
        for (var i = 0; i < count; i++) batch[i] = Event();
        return batch;
    }

    /// <summary>The aggregate fold: reads the amount of each event, as a real Apply would touch the payload.</summary>
    public static decimal Amount(ReadOnlySpan<byte> json) => Number(json, "amount"u8);

    /// <summary>The first number property of that name (the snapshot's state is {"total":...}).</summary>
    public static decimal Number(ReadOnlySpan<byte> json, ReadOnlySpan<byte> property)
    {
        var reader = new Utf8JsonReader(json);
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.PropertyName && reader.ValueTextEquals(property))
            {
                reader.Read();
                return reader.GetDecimal();
            }
        }
        return 0;
    }
}

/// <summary>
/// Hands a worker the stream and expected version of its next append, moving to a new stream every
/// <c>eventsPerStream</c> events so streams stay aggregate-sized and creation (NoStream) is part of the mix.
/// </summary>
internal sealed class StreamCursor(string category, string owner, int eventsPerStream)
{
    private int _streamIndex;
    private long _last = -1;

    public StreamName Stream { get; private set; } = StreamName.For(category, $"{owner}-0");

    public ExpectedVersion Expected => ExpectedVersion.FromLastSeen(_last);

    /// <summary>Appends one <see cref="Payload.Event"/> to the current stream with the expected version, and moves on.</summary>
    public async Task AppendEventAsync(IEventStore store, CancellationToken ct)
    {
        var result = await store.AppendAsync(Stream, Expected, [Payload.Event()], ct).ConfigureAwait(false);
        Appended(result.LastVersion);
    }

    public void Appended(long lastVersion)
    {
        _last = lastVersion;
        if (_last + 1 >= eventsPerStream)
        {
            _streamIndex++;
            _last = -1;
            Stream = StreamName.For(category, $"{owner}-{_streamIndex}");
        }
    }
}
