namespace EventStore.Providers.Projections;

/// <summary>
/// Which shares an instance should hold, computed alike by every member from the same list of live members: share s
/// belongs to the member at index s mod count of the members sorted by id, so shares spread evenly and each one has
/// exactly one wanted owner once the members agree on who is alive.
/// </summary>
internal static class ShareAssignment
{
    public static HashSet<int> Desired(SubscriptionGroupMode mode, int shares, IEnumerable<string> liveMembers, string me)
    {
        if (mode == SubscriptionGroupMode.ActiveStandby) return [0];
        var members = liveMembers.Append(me).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var index = members.IndexOf(me);
        var desired = new HashSet<int>();
        for (var s = index; s < shares; s += members.Count) desired.Add(s);
        return desired;
    }
}
