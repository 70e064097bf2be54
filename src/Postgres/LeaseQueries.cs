namespace EventStore.Providers.Postgres;

/// <summary>
/// The statements of <see cref="PostgresSubscriptionLeaseStore"/> over the <c>subscription_leases</c> table, each one
/// atomic: $1 is the record name, and a statement changing a held lease matches its row only while the row carries the
/// caller's token ($2).
/// </summary>
/// <param name="s">The quoted schema.</param>
internal sealed class LeaseQueries(string s)
{
    private const string Columns = "name, owner, token, expires_at, checkpoint";

    /// <summary>
    /// $2 owner, $3 now, $4 the new expiry. Takes a new row, an expired or released one, or one the same owner holds;
    /// the row lock of ON CONFLICT makes concurrent callers see each other's result, so exactly one of them wins. Only a
    /// change of hands takes the new token (a sequence value drawn for a row that stays with its owner goes unused).
    /// </summary>
    public string Acquire { get; } = $"""
        INSERT INTO {s}.subscription_leases AS l (name, owner, token, expires_at) VALUES ($1, $2, nextval('{s}.lease_tokens'), $4)
        ON CONFLICT (name) DO UPDATE
           SET owner = excluded.owner,
               token = CASE WHEN l.expires_at <= $3 THEN excluded.token ELSE l.token END,
               expires_at = excluded.expires_at, updated = clock_timestamp()
         WHERE l.expires_at <= $3 OR l.owner = excluded.owner
        RETURNING {Columns}
        """;

    /// <summary>$3 the new expiry.</summary>
    public string Renew { get; } = $"UPDATE {s}.subscription_leases SET expires_at = $3, updated = clock_timestamp() WHERE name = $1 AND token = $2 RETURNING {Columns}";

    /// <summary>Expires the lease at the earliest time there is, so any caller's now is past it.</summary>
    public string Release { get; } = $"UPDATE {s}.subscription_leases SET expires_at = '0001-01-01 00:00:00+00', updated = clock_timestamp() WHERE name = $1 AND token = $2";

    /// <summary>$3 the position text.</summary>
    public string SaveCheckpoint { get; } = $"UPDATE {s}.subscription_leases SET checkpoint = $3, updated = clock_timestamp() WHERE name = $1 AND token = $2";

    /// <summary>$1 the prefix; name order by code point (the column's "C" collation).</summary>
    public string List { get; } = $"SELECT {Columns} FROM {s}.subscription_leases WHERE starts_with(name, $1) ORDER BY name";

    /// <summary>Deletes the record while it carries the token.</summary>
    public string Delete { get; } = $"DELETE FROM {s}.subscription_leases WHERE name = $1 AND token = $2";
}
