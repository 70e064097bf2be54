namespace EventStore.Providers.Postgres;

/// <summary>The store's SQL with the schema filled in once. Every value reaches the server as a parameter.</summary>
internal sealed class Queries
{
    private const string EventColumns = "e.position, e.stream_name, e.version, e.event_id, e.event_type, e.data, e.metadata, e.content_type, e.schema_version, e.created";

    public Queries(string schema)
    {
        var s = SqlText.QuoteIdentifier(schema);
        Append = $"SELECT status, last_version, last_position, conflict_id FROM {s}.append_events($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
        AppendMany = $"SELECT status, last_version, last_position, conflict_id FROM {s}.append_many($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
        Delete = $"SELECT status, actual_version FROM {s}.delete_stream($1, $2, $3, $4, $5)";
        FindStoredId = $"SELECT e.event_id FROM unnest($2::uuid[]) AS u(id) JOIN {s}.events e ON e.event_id = u.id AND e.stream_id = (SELECT st.stream_id FROM {s}.streams st WHERE st.stream_name = $1) LIMIT 1";
        StreamInfo = $"SELECT coalesce((SELECT e.version FROM {s}.events e WHERE e.stream_id = st.stream_id ORDER BY e.version DESC LIMIT 1), -1), st.soft_deleted, st.tombstoned FROM {s}.streams st WHERE st.stream_name = $1";
        // One snapshot: the safe position (below it every position is final), the highest committed position, the
        // position base, the snapshot's next transaction id and, only when something committed sits at or above the
        // safe position, the 32-bit ids of this schema's appends still running (LogHorizon). An append is a session
        // holding a stream advisory lock; its id is read from the session (pg_stat_get_activity's backend_xid), which
        // has it from the moment snapshots count it as running. The lock on the id that pg_locks shows comes a moment
        // later, and a read in between left a running append out (RunningAppendsTests). The snapshot is taken before
        // the sessions are read, so an append that has no id yet gets one of at least that next id.
        Visibility = $"""
            SELECT v.safe, v.visible, {s}.position_base(), pg_snapshot_xmax(pg_current_snapshot())::text::bigint,
                   CASE WHEN v.visible >= v.safe THEN array(
                       SELECT DISTINCT b.backend_xid::text::bigint
                         FROM pg_locks a, LATERAL pg_stat_get_activity(a.pid) b
                        WHERE a.locktype = 'advisory' AND a.granted AND a.objsubid = 2 AND a.pid IS NOT NULL
                          AND a.classid = {s}.stream_lock_class()::oid AND b.backend_xid IS NOT NULL) ELSE ARRAY[]::bigint[] END
              FROM (SELECT {s}.safe_position() AS safe, coalesce((SELECT max(position) FROM {s}.events), 0) AS visible) v
            """;
        // Which of these ids a session still runs: a session drops its id when the commit becomes visible.
        StillRunning = "SELECT array(SELECT backend_xid::text::bigint FROM pg_stat_get_activity(NULL) WHERE backend_xid::text::bigint = ANY ($1))";
        MaxBelow = $"SELECT coalesce(max(position), 0) FROM {s}.events WHERE position < $1";
        var streamPage = $"""
            SELECT st.tombstoned, {EventColumns}
              FROM {s}.streams st
              LEFT JOIN LATERAL (
                SELECT {EventColumns} FROM {s}.events e
                 WHERE e.stream_id = st.stream_id AND e.version @cond@
                 ORDER BY e.version @dir@ LIMIT $3) e ON true
             WHERE st.stream_name = $1
            """;
        ReadStreamForwards = streamPage.Replace("@cond@", ">= greatest($2, st.truncate_before)", StringComparison.Ordinal).Replace("@dir@", "", StringComparison.Ordinal);
        ReadStreamBackwards = streamPage.Replace("@cond@", "BETWEEN st.truncate_before AND $2", StringComparison.Ordinal).Replace("@dir@", "DESC", StringComparison.Ordinal);
        var safeBelow = $"greatest({s}.safe_position(), $3)";
        var allPage = $"SELECT {EventColumns} FROM {s}.events e WHERE e.position @op@ $1 AND e.position < {safeBelow} ORDER BY e.position @dir@ LIMIT $2";
        _logPages[LogPageIndex(true, LogFilterKind.None)] = allPage.Replace("@op@", ">", StringComparison.Ordinal).Replace("@dir@", "", StringComparison.Ordinal);
        _logPages[LogPageIndex(false, LogFilterKind.None)] = allPage.Replace("@op@", "<", StringComparison.Ordinal).Replace("@dir@", "DESC", StringComparison.Ordinal);
        // A filtered page reads each wanted category (or type) from its own index range, bounded by row comparisons on
        // (key, position). Only the (key, position) index can answer such a condition, so no plan PostgreSQL may
        // choose (custom or generic) walks the primary key and filters the whole log: reading a category that holds
        // one event, or none, costs an index probe whatever the size of the log (tests: ReadPlanTests). With both
        // categories and types the types are checked on the category's rows, in a form no index can answer, so the
        // plan never depends on a guess about which of the two is rarer.
        var filtered = $"""
            SELECT x.* FROM unnest($4::text[]) AS f(v) CROSS JOIN LATERAL (
                SELECT {EventColumns} FROM {s}.events e
                 WHERE (e.@key@, e.position) > (f.v, @low@) AND (e.@key@, e.position) < (f.v, @high@)@types@
                 ORDER BY e.@key@ @dir@, e.position @dir@ LIMIT $2) x
             ORDER BY x.position @dir@ LIMIT $2
            """;
        foreach (var forwards in (bool[])[true, false])
        {
            foreach (var kind in (LogFilterKind[])[LogFilterKind.Categories, LogFilterKind.EventTypes, LogFilterKind.CategoriesAndEventTypes])
            {
                _logPages[LogPageIndex(forwards, kind)] = filtered
                    .Replace("@key@", kind == LogFilterKind.EventTypes ? "event_type" : "category", StringComparison.Ordinal)
                    .Replace("@low@", forwards ? "$1" : "0", StringComparison.Ordinal)
                    .Replace("@high@", forwards ? safeBelow : $"least($1, {safeBelow})", StringComparison.Ordinal)
                    .Replace("@types@", kind == LogFilterKind.CategoriesAndEventTypes ? " AND array_position($5, e.event_type) IS NOT NULL" : "", StringComparison.Ordinal)
                    .Replace("@dir@", forwards ? "" : "DESC", StringComparison.Ordinal);
            }
        }
        SnapshotLoad = $"SELECT version, snapshot_type, data, schema_version, created FROM {s}.snapshots WHERE stream_name = $1";
        SnapshotSave = $"""
            INSERT INTO {s}.snapshots AS t (stream_name, version, snapshot_type, data, schema_version) VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (stream_name) DO UPDATE
               SET version = excluded.version, snapshot_type = excluded.snapshot_type, data = excluded.data,
                   schema_version = excluded.schema_version, created = clock_timestamp()
             WHERE t.version <= excluded.version
            """;
        SnapshotDelete = $"DELETE FROM {s}.snapshots WHERE stream_name = $1";
        CheckpointLoad = $"SELECT position FROM {s}.checkpoints WHERE subscription_id = $1";
        CheckpointSave = $"""
            INSERT INTO {s}.checkpoints (subscription_id, position) VALUES ($1, $2)
            ON CONFLICT (subscription_id) DO UPDATE SET position = excluded.position, updated = clock_timestamp()
            """;
        CheckpointDelete = $"DELETE FROM {s}.checkpoints WHERE subscription_id = $1";
        Leases = new LeaseQueries(s);
    }

    public string Append { get; }
    public string AppendMany { get; }
    public string Delete { get; }
    public string FindStoredId { get; }
    public string StreamInfo { get; }
    public string Visibility { get; }
    public string StillRunning { get; }
    public string MaxBelow { get; }
    public string ReadStreamForwards { get; }
    public string ReadStreamBackwards { get; }

    private readonly string[] _logPages = new string[8];

    private static int LogPageIndex(bool forwards, LogFilterKind kind) => (forwards ? 0 : 4) + (int)kind;

    /// <summary>
    /// One page of <c>$all</c> after (forwards) or before (backwards) $1, at most $2 rows, below the safe position or
    /// $3 when higher. Filtered pages take the distinct categories (or, without categories, event types) as the text
    /// array $4, and with both the event types as $5.
    /// </summary>
    public string LogPage(bool forwards, LogFilterKind kind) => _logPages[LogPageIndex(forwards, kind)];
    public string SnapshotLoad { get; }
    public string SnapshotSave { get; }
    public string SnapshotDelete { get; }
    public string CheckpointLoad { get; }
    public string CheckpointSave { get; }
    public string CheckpointDelete { get; }
    public LeaseQueries Leases { get; }
}

/// <summary>Which index a <c>$all</c> page reads through.</summary>
internal enum LogFilterKind
{
    /// <summary>No filter: the position (primary key) range.</summary>
    None,

    /// <summary>Categories: the (category, position) index.</summary>
    Categories,

    /// <summary>Event types only: the (event_type, position) index.</summary>
    EventTypes,

    /// <summary>Both: the category index, the event types checked on its rows.</summary>
    CategoriesAndEventTypes,
}
