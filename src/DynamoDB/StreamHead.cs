using Amazon.DynamoDBv2.Model;

namespace EventStore.Providers.DynamoDB;

/// <summary>
/// What the newest item of a stream partition says about the stream: where the next commit goes and whether the
/// stream is deleted. The newest item is a commit, a soft-delete marker, a tombstone or a void (an empty next slot a
/// reader fenced against a late commit; see README.md).
/// </summary>
internal sealed record StreamHead(
    long LastVersion,
    long NextSlot,
    long TruncateBefore,
    bool SoftDeleted,
    bool Tombstoned,
    long LastPosition,
    Dictionary<string, AttributeValue>? Item)
{
    public static StreamHead Missing { get; } = new(-1, 0, 0, false, false, 0, null);

    /// <summary>The version an expectation is checked against: a soft-deleted stream counts as missing.</summary>
    public long EffectiveVersion => SoftDeleted ? -1 : LastVersion;

    /// <summary>The next commit replaces a soft-delete marker instead of creating a new item.</summary>
    public bool SlotHoldsSoftMarker => SoftDeleted;

    /// <summary>The next slot holds a void: the next commit replaces it unless the void names the commit's positions.</summary>
    public bool SlotHoldsVoid { get; private init; }

    public bool Satisfies(ExpectedVersion expected) =>
        expected.IsSatisfiedBy(EffectiveVersion)
        || (SoftDeleted && expected.Kind == ExpectedVersionKind.Exact && expected.Version == LastVersion);

    public static StreamHead FromItem(Dictionary<string, AttributeValue>? item)
    {
        if (item is null) return Missing;
        var slot = Schema.GetLong(item, Schema.Sk);
        var kind = Schema.GetString(item, Schema.Kind);
        var tb = Schema.GetLong(item, Schema.TruncateBefore);
        var lastPosition = Schema.GetLong(item, Schema.LastPosition, Schema.GetLong(item, Schema.MarkerLastPosition));
        return kind switch
        {
            Schema.KindTombstone => new StreamHead(slot - 1, slot, tb, false, true, lastPosition, item),
            Schema.KindSoftDelete => new StreamHead(slot - 1, slot, slot, true, false, lastPosition, item),
            Schema.KindVoid => new StreamHead(slot - 1, slot, tb, false, false, lastPosition, item) { SlotHoldsVoid = true },
            _ => new StreamHead(slot + Schema.GetLong(item, Schema.Count) - 1, slot + Schema.GetLong(item, Schema.Count), tb, false, false, lastPosition, item),
        };
    }
}
