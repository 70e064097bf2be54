using System.Globalization;

namespace EventStore.Providers.Projections;

/// <summary>
/// The lease records of one group, all under <c>{subscriptionId}/</c>:
/// <list type="table">
/// <item><term><c>{id}/share/{n}</c></term><description>share n: its owner, fencing token and checkpoint.</description></item>
/// <item><term><c>{id}/member/{instanceId}</c></term><description>a live instance (renewed with its shares).</description></item>
/// <item><term><c>{id}/layout/{shares}</c></term><description>written once, never held: the share count the group started with.</description></item>
/// </list>
/// </summary>
internal sealed class GroupRecords(string subscriptionId)
{
    public string Prefix { get; } = subscriptionId + "/";

    public string SharePrefix { get; } = subscriptionId + "/share/";

    public string MemberPrefix { get; } = subscriptionId + "/member/";

    public string LayoutPrefix { get; } = subscriptionId + "/layout/";

    public string Share(int share) => SharePrefix + share.ToString(CultureInfo.InvariantCulture);

    public string Member(string instanceId) => MemberPrefix + instanceId;

    public string Layout(int shares) => LayoutPrefix + shares.ToString(CultureInfo.InvariantCulture);

    /// <summary>The share number of a share record's name, or null for other records.</summary>
    public int? ShareOf(string name) => NumberAfter(SharePrefix, name);

    /// <summary>The share count of a layout record's name, or null for other records.</summary>
    public int? LayoutOf(string name) => NumberAfter(LayoutPrefix, name);

    private static int? NumberAfter(string prefix, string name) =>
        name.StartsWith(prefix, StringComparison.Ordinal)
        && int.TryParse(name.AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;
}
