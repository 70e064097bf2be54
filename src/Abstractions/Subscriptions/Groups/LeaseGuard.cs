namespace EventStore.Providers;

/// <summary>
/// Input checks every <see cref="ISubscriptionLeaseStore"/> runs before it touches its backend, so a bad name, owner or
/// duration gets the same <see cref="ArgumentException"/> on every provider and nothing is written.
/// </summary>
public static class LeaseGuard
{
    /// <summary>The longest record name or owner, in characters (a DynamoDB key and a PostgreSQL index entry stay small).</summary>
    public const int MaxLength = 512;

    /// <summary>Checks a record name <c>{group}/{rest}</c> and returns its group.</summary>
    /// <exception cref="ArgumentException">The name is empty, too long, has no non-empty group before its first '/', or holds a control character.</exception>
    public static string ValidateName(string name)
    {
        var group = GroupOf(name, nameof(name), "record name");
        if (name.Length == group.Length + 1)
            throw new ArgumentException($"Invalid lease record name '{name}': nothing follows the group; names have the form {{group}}/{{rest}}.", nameof(name));
        return group;
    }

    /// <summary>Checks a <see cref="ISubscriptionLeaseStore.ListAsync"/> prefix, which starts with <c>{group}/</c>, and returns its group.</summary>
    /// <exception cref="ArgumentException">The prefix does not start with a non-empty group and '/'.</exception>
    public static string ValidatePrefix(string prefix) => GroupOf(prefix, nameof(prefix), "list prefix");

    /// <summary>Checks an owner (an instance id).</summary>
    /// <exception cref="ArgumentException">The owner is empty, too long or holds a control character.</exception>
    public static void ValidateOwner(string owner)
    {
        if (Problem(owner) is { } problem)
            throw new ArgumentException($"Invalid lease owner '{owner}': {problem}.", nameof(owner));
    }

    /// <summary>Checks a lease duration.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The duration is not positive.</exception>
    public static void ValidateDuration(TimeSpan duration)
    {
        if (duration <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(duration), duration, "A lease lasts a positive time.");
    }

    /// <summary>Checks a lease passed back to the store and returns its group.</summary>
    /// <exception cref="ArgumentNullException">The lease is null.</exception>
    /// <exception cref="ArgumentException">Its name is invalid.</exception>
    public static string ValidateLease(SubscriptionLease lease)
    {
        ArgumentNullException.ThrowIfNull(lease);
        return ValidateName(lease.Name);
    }

    private static string GroupOf(string value, string parameter, string what)
    {
        if (Problem(value) is { } problem)
            throw new ArgumentException($"Invalid lease {what} '{value}': {problem}.", parameter);
        var slash = value.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0)
            throw new ArgumentException($"Invalid lease {what} '{value}': it must start with the group and '/' ({{group}}/...).", parameter);
        return value[..slash];
    }

    private static string? Problem(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return "it is empty";
        if (value.Length > MaxLength) return $"it is {value.Length} characters; the limit is {MaxLength}";
        if (value.Any(char.IsControl)) return "it contains a control character";
        if (EventGuard.HasUnpairedSurrogate(value)) return "it contains an unpaired UTF-16 surrogate (not valid Unicode text)";
        return null;
    }
}
