using System.Globalization;
using Amazon.DynamoDBv2.Model;

namespace EventStore.Providers.DynamoDB;

/// <summary>Attribute names, key prefixes and index names of the item layout documented in README.md.</summary>
internal static class Schema
{
    public const string Pk = "pk";
    public const string Sk = "sk";

    /// <summary>$all index partition key: <c>a#{last position % partitions}</c>.</summary>
    public const string AllPartition = "ab";
    /// <summary>Sort key shared by the global indexes: the position of the item's last event.</summary>
    public const string LastPosition = "ap";
    /// <summary>Category index partition key: <c>c#{category}</c>.</summary>
    public const string CategoryKey = "cp";
    /// <summary>Event-type index partition key: <c>t#{type}</c>, or <see cref="MixedTypes"/> for a batch of several types.</summary>
    public const string TypeKey = "tp";

    public const string FirstPosition = "gp";
    public const string Count = "n";
    public const string Kind = "k";
    public const string TruncateBefore = "tb";
    public const string Created = "ts";
    public const string Events = "ev";
    public const string Chunks = "ch";
    public const string CommitId = "cid";
    public const string Value = "v";

    public const string AllIndex = "all";
    public const string CategoryIndex = "category";
    public const string TypeIndex = "type";

    public const string KindSoftDelete = "soft";
    public const string KindTombstone = "tomb";
    public const string KindSkip = "skip";
    public const string KindIntent = "intent";
    public const string KindVoid = "void";

    /// <summary>An intent's stream partition key and slot: where its commit goes.</summary>
    public const string IntentStream = "st";
    public const string IntentSlot = "sv";

    /// <summary>On a stream's empty next slot (a void) or soft-delete marker: first positions whose commit may not land there.</summary>
    public const string VoidedPositions = "vg";

    /// <summary>A soft-delete marker's (and a void's) last position of the stream.</summary>
    public const string MarkerLastPosition = "lp";

    public const string MixedTypes = "m";

    public const string StreamPrefix = "s#";
    public const string ChunkPrefix = "x#";
    public const string SkipPrefix = "k#";
    public const string SnapshotPrefix = "n#";
    public const string CheckpointPrefix = "p#";
    public const string SequenceKey = "$seq";
    public const string WatermarkKey = "$wm";
    /// <summary>The table's settings item: <see cref="FenceSetting"/>.</summary>
    public const string SettingsKey = "$cfg";
    public const string FenceSetting = "fc";

    /// <summary>
    /// Bytes of encoded events one item holds. DynamoDB's item limit is 400 KB including keys and index attributes
    /// (a 600-character stream name and a 500-character type take at most ~5 KB together).
    /// </summary>
    public const int ChunkBytes = 380_000;

    /// <summary>The largest event (data + metadata) accepted: what fits one item with its type and content type.</summary>
    public const int MaxEventSize = 370_000;

    /// <summary>Stream names are stored in the partition key (at most 2,048 UTF-8 bytes): 600 characters always fit.</summary>
    public const int MaxStreamNameLength = 600;

    public static string StreamPk(StreamName stream) => StreamPrefix + stream.Value;

    /// <summary>The partition key of the skip marker (or commit intent) whose range starts at <paramref name="first"/>.</summary>
    public static string SkipKey(long first) => SkipPrefix + first.ToString(CultureInfo.InvariantCulture);

    /// <summary>A skip marker for positions <paramref name="first"/>-<paramref name="last"/>, in the <c>all</c> index.</summary>
    public static Dictionary<string, AttributeValue> SkipItem(long first, long last, int allPartitions) => new()
    {
        [Pk] = S(SkipKey(first)),
        [Sk] = N(0),
        [Kind] = S(KindSkip),
        [FirstPosition] = N(first),
        [LastPosition] = N(last),
        [AllPartition] = S(AllPartitionKey(last, allPartitions)),
    };

    public static AttributeValue S(string value) => new() { S = value };

    public static AttributeValue N(long value) => new() { N = value.ToString(CultureInfo.InvariantCulture) };

    public static long GetLong(Dictionary<string, AttributeValue> item, string name, long fallback = 0) =>
        item.TryGetValue(name, out var v) && v.N is not null ? long.Parse(v.N, CultureInfo.InvariantCulture) : fallback;

    public static string? GetString(Dictionary<string, AttributeValue> item, string name) =>
        item.TryGetValue(name, out var v) ? v.S : null;

    public static ReadOnlyMemory<byte> GetBytes(Dictionary<string, AttributeValue> item, string name)
    {
        if (!item.TryGetValue(name, out var v) || v.B is null) return ReadOnlyMemory<byte>.Empty;
        return v.B.TryGetBuffer(out var segment) ? segment.AsMemory() : v.B.ToArray();
    }

    public static Dictionary<string, AttributeValue> Key(string pk, long sk) => new()
    {
        [Pk] = S(pk),
        [Sk] = N(sk),
    };

    public static string AllPartitionKey(long lastPosition, int partitions) => AllPartitionKey((int)(lastPosition % partitions));

    /// <summary>The <c>all</c> index partition key of partition <paramref name="partition"/>: <c>a#{partition}</c>.</summary>
    public static string AllPartitionKey(int partition) => "a#" + partition.ToString(CultureInfo.InvariantCulture);
}
