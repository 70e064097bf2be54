using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace EventStore.Providers.DynamoDB;

/// <summary>
/// Options of the DynamoDB provider, bound from <c>EventStore:DynamoDB</c>. Endpoint, region and credentials fall back
/// to the standard AWS configuration chain (environment, profile, instance role) when not set here.
/// </summary>
public sealed partial class DynamoDBEventStoreOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string SectionName = "EventStore:DynamoDB";

    /// <summary>The table holding streams, the global log's bookkeeping items and (by default) snapshots and checkpoints.</summary>
    public string TableName { get; set; } = "EventStore";

    /// <summary>The table for snapshots; null shares <see cref="TableName"/> (items are namespaced by key prefix).</summary>
    public string? SnapshotTableName { get; set; }

    /// <summary>The table for subscription checkpoints; null shares <see cref="TableName"/>.</summary>
    public string? CheckpointTableName { get; set; }

    /// <summary>A service endpoint such as <c>http://127.0.0.1:8000</c> (dynalite, DynamoDB Local); null uses AWS.</summary>
    public string? ServiceUrl { get; set; }

    /// <summary>
    /// Check each index entry a read uses against its table item (one consistent <c>BatchGetItem</c> of keys per index
    /// page) and ignore entries whose commit was never stored. Needed on dynalite, which writes index entries before the
    /// item: a server killed in between keeps entries of a commit that never happened, and a retried batch would then be
    /// read twice. DynamoDB itself never shows an index entry before its item. Null (the default) turns it on when
    /// <see cref="ServiceUrl"/> is set (an emulator or a custom endpoint) and off for AWS endpoints.
    /// </summary>
    public bool? VerifyIndexEntries { get; set; }

    /// <summary>Whether reads check index entries against the table (see <see cref="VerifyIndexEntries"/>).</summary>
    public bool VerifiesIndexEntries => VerifyIndexEntries ?? ServiceUrl is not null;

    /// <summary>The AWS region (for example <c>eu-west-1</c>); null uses the AWS configuration chain.</summary>
    public string? Region { get; set; }

    /// <summary>An access key id; leave both keys unset to use the AWS credentials chain.</summary>
    public string? AccessKeyId { get; set; }

    /// <summary>The secret access key paired with <see cref="AccessKeyId"/>. Never logged.</summary>
    public string? SecretAccessKey { get; set; }

    /// <summary>Create the tables (on-demand billing) at start-up when they are missing.</summary>
    public bool CreateTables { get; set; }

    /// <summary>
    /// How many partitions the <c>$all</c> index is spread over, so appends do not all land on one hot index key.
    /// Readers merge the partitions by position. Fixed for the life of a table.
    /// </summary>
    public int AllPartitions { get; set; } = 4;

    /// <summary>
    /// How long a reserved but unwritten global position may hold readers back before a reader declares it abandoned
    /// (a writer crashed between reserving and writing) and records a skip marker for it.
    /// </summary>
    public TimeSpan GapTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Make a commit and the skip of its positions exclude each other by a condition. Each append first writes an
    /// <em>intent</em> item naming its positions and its stream slot (a second <c>PutItem</c> before the commit), and a
    /// reader that gives up on positions after <see cref="GapTimeout"/> fences the slot the intent names before it skips
    /// them, so a commit that DynamoDB applies however late can never land behind readers. Off (the default), an append is
    /// one round trip and a commit is protected by its send budget alone: no attempt is sent once half of
    /// <see cref="GapTimeout"/> has passed since its positions were reserved, but a request DynamoDB applies later than
    /// that is not excluded. Every store instance on a table must use the same setting: the table records the first
    /// instance's, and an instance configured otherwise fails at start with <see cref="EventStoreConfigurationException"/>.
    /// </summary>
    public bool FenceCommits { get; set; }

    /// <summary>
    /// Give the events table a global secondary index on event type, so a read or subscription filtered by event type
    /// queries only the commits of those types. Off (the default), such a read queries the <c>$all</c> index with a
    /// filter on the type: DynamoDB reads (and bills) every commit in the range and returns the matching ones, as
    /// EventStoreDB filters <c>$all</c> on the server. The index costs every append one more index write (the benchmark
    /// reports what it costs the append rate on dynalite; on AWS a commit takes one more write unit), so it pays off
    /// when type-filtered reads of a large log are frequent. The table decides: a store uses a type index whenever its table has an active one
    /// (created with this option, or added later with <c>UpdateTable</c>; commits always carry the type attribute, so
    /// DynamoDB backfills it). With this option on, a missing or inactive type index fails the start with
    /// <see cref="EventStoreConfigurationException"/>.
    /// </summary>
    public bool IndexEventTypes { get; set; }

    /// <summary>
    /// The longest a caught-up subscription waits before it reads again. Appends made through the same store instance
    /// wake its subscriptions at once; for appends made elsewhere a subscription polls every 20 ms (or this interval if
    /// shorter) while the log keeps moving and backs off to this interval when it is idle, so an event appended by
    /// another process is delivered within about this interval. Default 500 ms.
    /// </summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// How many global positions a store instance reserves with one update of the position counter, and hands out to
    /// its appends without touching the counter again (a bigger batch reserves a block of its own size). Default null:
    /// the size follows this instance's append rate, so a block lasts about half of <see cref="PositionBlockLifetime"/>
    /// (from 1 for an instance that appends rarely to <see cref="MaxAdaptivePositionBlockSize"/>); a busy instance then
    /// appends in one round trip, and once half of a block of 4 or more is used it reserves the next one in the
    /// background, so no append waits for the counter. A number fixes the size (1: every append updates the counter). The unused rest of a
    /// block is a hole in <c>$all</c> until it is released (after a fifth of <see cref="PositionBlockLifetime"/> without an
    /// append, or at that age); a read of <c>$all</c> that reaches such a hole with events beyond it waits up to twice
    /// <see cref="PositionBlockLifetime"/> plus 200 ms for it to close (a rest of its own instance is released at once),
    /// so it still returns every append acknowledged before it began, unless an append of another writer is still on
    /// its way for longer.
    /// </summary>
    public int? PositionBlockSize { get; set; }

    /// <summary>The largest block an adaptive <see cref="PositionBlockSize"/> reserves.</summary>
    public const int MaxAdaptivePositionBlockSize = 1_000;

    /// <summary>
    /// The longest a reserved block of positions is used. Unused positions hold back readers of <c>$all</c> once another
    /// instance has written past them, so the rest of a block is released when the block is this old, or after a fifth
    /// of it without an append. Default 50 ms; capped at an eighth of <see cref="GapTimeout"/>.
    /// </summary>
    public TimeSpan PositionBlockLifetime { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>How many times the AWS SDK retries a throttled or failed request (with exponential back-off).</summary>
    public int MaxErrorRetry { get; set; } = 8;

    /// <summary>The timeout of one request to DynamoDB.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(5);

    internal TimeSpan EffectivePositionBlockLifetime => PositionBlockLifetime < GapTimeout / 8 ? PositionBlockLifetime : GapTimeout / 8;

    internal string EffectiveSnapshotTable => string.IsNullOrWhiteSpace(SnapshotTableName) ? TableName : SnapshotTableName;

    internal string EffectiveCheckpointTable => string.IsNullOrWhiteSpace(CheckpointTableName) ? TableName : CheckpointTableName;

    /// <summary>Checks every option; the exception names the configuration key at fault.</summary>
    /// <param name="sectionPath">The configuration path the options came from, used in error messages.</param>
    /// <exception cref="EventStoreConfigurationException">An option is invalid.</exception>
    public void Validate(string sectionPath = SectionName) => new DynamoDBEventStoreOptionsValidator(sectionPath).ThrowIfInvalid(this);

    internal static bool IsTableName(string value) => TableNamePattern().IsMatch(value);

    internal static bool IsRegion(string value) => RegionPattern().IsMatch(value);

    [GeneratedRegex("^[a-zA-Z0-9_.-]{3,255}$")]
    private static partial Regex TableNamePattern();

    [GeneratedRegex("^[a-z]{2}(-[a-z]+)+-[0-9]+$")]
    private static partial Regex RegionPattern();
}

/// <summary>Validates <see cref="DynamoDBEventStoreOptions"/>; every failure names its full configuration key.</summary>
/// <param name="sectionPath">The configuration path of the options.</param>
public sealed class DynamoDBEventStoreOptionsValidator(string sectionPath = DynamoDBEventStoreOptions.SectionName)
    : EventStoreOptionsValidator<DynamoDBEventStoreOptions>(sectionPath, Options.DefaultName)
{
    /// <inheritdoc />
    protected override IEnumerable<ConfigurationProblem> Check(DynamoDBEventStoreOptions o)
    {
        ArgumentNullException.ThrowIfNull(o);
        var problems = new List<ConfigurationProblem?>
        {
            CheckTableName(nameof(o.TableName), o.TableName, required: true),
            CheckTableName(nameof(o.SnapshotTableName), o.SnapshotTableName, required: false),
            CheckTableName(nameof(o.CheckpointTableName), o.CheckpointTableName, required: false),
        };
        if (o.ServiceUrl is not null && (!Uri.TryCreate(o.ServiceUrl, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)))
            problems.Add(new(nameof(o.ServiceUrl), "must be an absolute http or https URL."));
        if (o.Region is not null && (o.Region.Length == 0 || !DynamoDBEventStoreOptions.IsRegion(o.Region)))
            problems.Add(new(nameof(o.Region), $"is '{o.Region}'; it must look like 'eu-west-1'."));
        if (string.IsNullOrEmpty(o.AccessKeyId) != string.IsNullOrEmpty(o.SecretAccessKey))
            problems.Add(new(string.IsNullOrEmpty(o.AccessKeyId) ? nameof(o.AccessKeyId) : nameof(o.SecretAccessKey),
                "is missing; set both AccessKeyId and SecretAccessKey, or neither to use the AWS credentials chain."));
        if (o.AllPartitions is < 1 or > 64)
            problems.Add(new(nameof(o.AllPartitions), $"is {o.AllPartitions}; it must be between 1 and 64."));
        if (o.GapTimeout < TimeSpan.FromMilliseconds(100) || o.GapTimeout > TimeSpan.FromHours(1))
            problems.Add(new(nameof(o.GapTimeout), $"is {o.GapTimeout}; it must be between 100 ms and 1 hour."));
        else if (o.GapTimeout < o.RequestTimeout * 4)
            problems.Add(new(nameof(o.GapTimeout), $"is {o.GapTimeout}; it must be at least four times {nameof(o.RequestTimeout)} ({o.RequestTimeout}) so a slow write is not declared abandoned."));
        if (o.PollInterval <= TimeSpan.Zero || o.PollInterval > TimeSpan.FromMinutes(1))
            problems.Add(new(nameof(o.PollInterval), $"is {o.PollInterval}; it must be between 1 ms and 1 minute."));
        if (o.PositionBlockSize is < 1 or > 100_000)
            problems.Add(new(nameof(o.PositionBlockSize), $"is {o.PositionBlockSize}; it must be between 1 and 100000."));
        if (o.PositionBlockLifetime < TimeSpan.FromMilliseconds(5) || o.PositionBlockLifetime > TimeSpan.FromMinutes(1))
            problems.Add(new(nameof(o.PositionBlockLifetime), $"is {o.PositionBlockLifetime}; it must be between 5 ms and 1 minute."));
        if (o.MaxErrorRetry is < 0 or > 50)
            problems.Add(new(nameof(o.MaxErrorRetry), $"is {o.MaxErrorRetry}; it must be between 0 and 50."));
        if (o.RequestTimeout <= TimeSpan.Zero || o.RequestTimeout > TimeSpan.FromMinutes(5))
            problems.Add(new(nameof(o.RequestTimeout), $"is {o.RequestTimeout}; it must be between 1 ms and 5 minutes."));
        return problems.OfType<ConfigurationProblem>();
    }

    private static ConfigurationProblem? CheckTableName(string key, string? value, bool required)
    {
        if (value is null && !required) return null;
        if (string.IsNullOrWhiteSpace(value))
            return !required && value is not null ? null : new(key, "is missing.");
        return DynamoDBEventStoreOptions.IsTableName(value)
            ? null
            : new(key, $"is '{value}'; a DynamoDB table name is 3 to 255 characters of a-z, A-Z, 0-9, '_', '-' and '.'.");
    }
}
