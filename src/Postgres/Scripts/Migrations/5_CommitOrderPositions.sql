-- Positions from transaction ids instead of the log_head counter, so concurrent appends commit in parallel.
--
-- Before: every append updated the single log_head row and held its lock through the commit flush (and the
-- NOTIFY queue lock), so appends to different streams committed one after another and lost group commit.
-- Now: an append's events get position = position_base() + (xid << 16) + n, n = 1..count, where xid is the
-- appending transaction's 64-bit id. The id is assigned after the per-stream advisory lock is taken, so a later
-- append to the same stream always has a larger id, and $all keeps every stream's order. A reader only returns
-- positions below safe_position(), the snapshot's xmin shifted the same way: every transaction with a smaller
-- id has ended, so no lower position can commit later (the proof is in ../README.md). No NOTIFY here either: the
-- store sends it after the commit, outside the appending transaction.

-- Every position written before this script is below the base, so the log continues in order across the upgrade.
-- The row lock waits for any append still running with the previous function.
DO $migrate$
DECLARE
    v_base bigint;
BEGIN
    SELECT h.last_position INTO v_base FROM __schema__.log_head h WHERE h.id = 1 FOR UPDATE;
    EXECUTE format('CREATE FUNCTION __schema__.position_base() RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE AS %L',
                   'SELECT ' || v_base || '::bigint');
END
$migrate$;

COMMENT ON TABLE __schema__.log_head IS 'Unused since migration 5 (positions from transaction ids); last_position is the position base.';
COMMENT ON COLUMN __schema__.streams.last_version IS 'Not maintained since migration 5: a stream''s last version is the version of its newest event.';

-- The functions that use the position base (safe_position, append_locked, append_events, append_many,
-- delete_stream) live in ../Functions, one file each, applied after the migrations.
