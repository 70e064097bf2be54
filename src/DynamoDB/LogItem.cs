using Amazon.DynamoDBv2.Model;

namespace EventStore.Providers.DynamoDB;

/// <summary>An item of the global log as the indexes return it: a commit (a batch of events) or a skip marker.</summary>
internal sealed class LogItem
{
    private LogItem(Dictionary<string, AttributeValue> raw)
    {
        Raw = raw;
        Pk = Schema.GetString(raw, Schema.Pk)!;
        Slot = Schema.GetLong(raw, Schema.Sk);
        Kind = Schema.GetString(raw, Schema.Kind);
        First = Schema.GetLong(raw, Schema.FirstPosition);
        Last = Schema.GetLong(raw, Schema.LastPosition);
    }

    public Dictionary<string, AttributeValue> Raw { get; }
    public string Pk { get; }
    public long Slot { get; }
    public string? Kind { get; }
    public long First { get; }
    public long Last { get; }
    public bool IsSkip => Kind == Schema.KindSkip;

    public static LogItem Parse(Dictionary<string, AttributeValue> raw) => new(raw);
}
