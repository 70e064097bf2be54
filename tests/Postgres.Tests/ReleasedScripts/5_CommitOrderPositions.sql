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

-- The first key of the advisory locks that serialise appends and deletes per stream (the second is hashtext(stream)).
CREATE FUNCTION __schema__.stream_lock_class() RETURNS int LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT hashtext('__schema__') $$;

-- Whether an expected version (0 Any, 1 NoStream, 2 StreamExists, 3 Exact) holds for a stream whose current last
-- version is p_current (-1 when missing or soft-deleted). Shared by append_events and delete_stream.
CREATE FUNCTION __schema__.expectation_holds(p_kind int, p_expected bigint, p_current bigint) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT CASE p_kind WHEN 0 THEN true WHEN 1 THEN p_current = -1 WHEN 2 THEN p_current >= 0 ELSE p_current = p_expected END $$;

-- Every position below this value is final: all transactions with a smaller id have committed or rolled back.
CREATE FUNCTION __schema__.safe_position() RETURNS bigint LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT __schema__.position_base() + (pg_snapshot_xmin(pg_current_snapshot())::text::bigint << 16) $$;

-- Appends a batch to one stream whose advisory lock the caller holds (append_events, append_many). Its events take
-- positions base + p_offset + 1.. of this transaction, so several appends of one transaction do not overlap.
-- Expected kinds: 0 Any, 1 NoStream, 2 StreamExists, 3 Exact (p_expected_version).
-- Status: 0 written, 1 idempotent re-send (nothing written, original result), 2 wrong expected version
-- (last_version = actual), 3 event id conflict (conflict_id = a stored id), 4 tombstoned, 5 empty batch accepted.
CREATE FUNCTION __schema__.append_locked(
    p_stream text, p_category text, p_expected_kind int, p_expected_version bigint,
    p_ids uuid[], p_types text[], p_content_types text[], p_schema_versions int[], p_data bytea[], p_metadata bytea[],
    p_offset int)
RETURNS TABLE (status int, last_version bigint, last_position bigint, conflict_id uuid)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_count    int := coalesce(cardinality(p_ids), 0);
    v_id       bigint;
    v_last     bigint;
    v_truncate bigint;
    v_soft     boolean;
    v_tomb     boolean;
    v_current  bigint;
    v_ok       boolean;
    v_start    bigint;
    v_stored   uuid[];
    v_min      bigint;
    v_max      bigint;
    v_base     bigint;
BEGIN
    -- The stream's last version is its newest event's (a backwards probe of the stream/version index), so an
    -- append writes only its events: no stream-head row update, no second WAL record.
    SELECT s.stream_id, s.truncate_before, s.soft_deleted, s.tombstoned,
           coalesce((SELECT e.version FROM __schema__.events e WHERE e.stream_id = s.stream_id ORDER BY e.version DESC LIMIT 1), -1)
      INTO v_id, v_truncate, v_soft, v_tomb, v_last
      FROM __schema__.streams s WHERE s.stream_name = p_stream;

    IF NOT FOUND THEN
        IF p_expected_kind IN (2, 3) THEN
            RETURN QUERY SELECT 2, -1::bigint, 0::bigint, NULL::uuid; RETURN;
        END IF;
        IF v_count = 0 THEN
            RETURN QUERY SELECT 5, -1::bigint, 0::bigint, NULL::uuid; RETURN;
        END IF;
        -- The advisory lock makes this writer the stream's only creator.
        INSERT INTO __schema__.streams (stream_name, category) VALUES (p_stream, p_category)
            RETURNING stream_id, -1, truncate_before, soft_deleted, tombstoned
            INTO v_id, v_last, v_truncate, v_soft, v_tomb;
    END IF;

    IF v_tomb THEN
        RETURN QUERY SELECT 4, v_last, 0::bigint, NULL::uuid; RETURN;
    END IF;

    -- A soft-deleted stream behaves as a missing one for expectations; its versions continue after v_last.
    v_current := CASE WHEN v_soft THEN -1 ELSE v_last END;
    v_ok := __schema__.expectation_holds(p_expected_kind, p_expected_version, v_current);

    IF v_count = 0 THEN
        IF NOT v_ok THEN
            RETURN QUERY SELECT 2, v_current, 0::bigint, NULL::uuid; RETURN;
        END IF;
        RETURN QUERY SELECT 5, v_current,
            coalesce((SELECT e.position FROM __schema__.events e WHERE e.stream_id = v_id AND e.version = v_current), 0),
            NULL::uuid;
        RETURN;
    END IF;

    -- StreamExists is checked like Any even when it holds: a re-sent batch is then already stored in the stream, and
    -- writing it again would only hit the unique event id constraint instead of returning the original result.
    -- For those two the full check runs only when the batch's first id is stored; otherwise any other stored id
    -- trips UNIQUE (stream_id, event_id) on insert, which the client reports as the same conflict.
    IF NOT v_ok OR (p_expected_kind IN (0, 2)
                    AND EXISTS (SELECT 1 FROM __schema__.events e WHERE e.stream_id = v_id AND e.event_id = p_ids[1])) THEN
        -- Idempotence: is this batch already stored where it would have gone?
        IF p_expected_kind IN (1, 3) THEN
            v_start := CASE WHEN p_expected_kind = 1 THEN v_truncate ELSE p_expected_version + 1 END;
            SELECT array_agg(e.event_id ORDER BY e.version) INTO v_stored
              FROM __schema__.events e
             WHERE e.stream_id = v_id AND e.version BETWEEN v_start AND v_start + v_count - 1;
            v_min := v_start;
            v_max := v_start + v_count - 1;
        ELSE
            -- One probe of (stream_id, event_id) per id: written as `event_id = ANY (p_ids)` the planner may scan
            -- the whole stream with the ids as a filter, which made Any appends to long streams slow.
            SELECT array_agg(e.event_id ORDER BY e.version), min(e.version), max(e.version) INTO v_stored, v_min, v_max
              FROM unnest(p_ids) AS u(id)
              JOIN __schema__.events e ON e.stream_id = v_id AND e.event_id = u.id;
        END IF;
        IF v_stored = p_ids AND v_max - v_min = v_count - 1 THEN
            RETURN QUERY SELECT 1, v_max, e.position, NULL::uuid
              FROM __schema__.events e WHERE e.stream_id = v_id AND e.version = v_max;
            RETURN;
        END IF;
        IF p_expected_kind IN (1, 3) THEN
            SELECT e.event_id INTO conflict_id
              FROM unnest(p_ids) AS u(id)
              JOIN __schema__.events e ON e.stream_id = v_id AND e.event_id = u.id
             LIMIT 1;
        ELSE
            conflict_id := v_stored[1];
        END IF;
        IF conflict_id IS NOT NULL THEN
            RETURN QUERY SELECT 3, v_current, 0::bigint, conflict_id; RETURN;
        END IF;
        IF NOT v_ok THEN
            RETURN QUERY SELECT 2, v_current, 0::bigint, NULL::uuid; RETURN;
        END IF;
    END IF;

    IF v_soft THEN
        UPDATE __schema__.streams s SET soft_deleted = false WHERE s.stream_id = v_id;
    END IF;

    -- This gives the transaction its id if the stream insert did not: after the advisory locks, as the ordering needs.
    v_base := __schema__.position_base() + (pg_current_xact_id()::text::bigint << 16) + p_offset;

    INSERT INTO __schema__.events (position, stream_id, version, event_id, schema_version, stream_name, event_type, category, content_type, data, metadata)
    SELECT v_base + u.n, v_id, v_last + u.n, u.id, u.sv, p_stream, u.t, p_category, u.ct, u.d, u.m
      FROM unnest(p_ids, p_types, p_content_types, p_schema_versions, p_data, p_metadata)
           WITH ORDINALITY AS u(id, t, ct, sv, d, m, n);

    RETURN QUERY SELECT 0, v_last + v_count, v_base + v_count, NULL::uuid;
END
$$;

-- Appends a batch to one stream in the caller's single statement (one round trip, one transaction).
CREATE OR REPLACE FUNCTION __schema__.append_events(
    p_stream text, p_category text, p_expected_kind int, p_expected_version bigint,
    p_ids uuid[], p_types text[], p_content_types text[], p_schema_versions int[], p_data bytea[], p_metadata bytea[])
RETURNS TABLE (status int, last_version bigint, last_position bigint, conflict_id uuid)
LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(cardinality(p_ids), 0) > 65535 THEN
        RAISE EXCEPTION 'an append holds at most 65535 events' USING ERRCODE = '22023';
    END IF;
    -- First, before anything assigns this transaction its id: appends and deletes of one stream queue here, so
    -- the id (and with it every position) of a later append to the stream is larger than an earlier one's.
    PERFORM pg_advisory_xact_lock(__schema__.stream_lock_class(), hashtext(p_stream));
    RETURN QUERY SELECT * FROM __schema__.append_locked(p_stream, p_category, p_expected_kind, p_expected_version,
        p_ids, p_types, p_content_types, p_schema_versions, p_data, p_metadata, 0);
END
$$;

-- Several appends (to one or more streams) in one transaction: what the store sends when appends from concurrent
-- callers queue up, so they share a round trip and a commit. Append i has p_counts[i] events, stored one append
-- after another in the event arrays. Returns one row per append, in order, as append_events would have. Every
-- stream's lock is taken first, in one order (so two of these cannot deadlock) and before the transaction has an
-- id (so stream order holds in $all as for single appends).
CREATE FUNCTION __schema__.append_many(
    p_streams text[], p_categories text[], p_expected_kinds int[], p_expected_versions bigint[], p_counts int[],
    p_ids uuid[], p_types text[], p_content_types text[], p_schema_versions int[], p_data bytea[], p_metadata bytea[])
RETURNS TABLE (status int, last_version bigint, last_position bigint, conflict_id uuid)
LANGUAGE plpgsql AS $$
DECLARE
    v_key    int;
    v_from   int := 1;
    v_to     int;
    v_offset int := 0;
    v_result record;
BEGIN
    IF coalesce(cardinality(p_ids), 0) > 65535 THEN
        RAISE EXCEPTION 'appends of one transaction hold at most 65535 events' USING ERRCODE = '22023';
    END IF;
    FOR v_key IN SELECT DISTINCT hashtext(s) FROM unnest(p_streams) AS s ORDER BY 1 LOOP
        PERFORM pg_advisory_xact_lock(__schema__.stream_lock_class(), v_key);
    END LOOP;
    FOR i IN 1 .. coalesce(cardinality(p_streams), 0) LOOP
        v_to := v_from + p_counts[i] - 1;
        SELECT * INTO v_result FROM __schema__.append_locked(p_streams[i], p_categories[i], p_expected_kinds[i], p_expected_versions[i],
            p_ids[v_from:v_to], p_types[v_from:v_to], p_content_types[v_from:v_to], p_schema_versions[v_from:v_to],
            p_data[v_from:v_to], p_metadata[v_from:v_to], v_offset);
        status := v_result.status;
        last_version := v_result.last_version;
        last_position := v_result.last_position;
        conflict_id := v_result.conflict_id;
        RETURN NEXT;
        IF v_result.status = 0 THEN
            v_offset := v_offset + p_counts[i];
        END IF;
        v_from := v_to + 1;
    END LOOP;
END
$$;

-- Deletes queue on the same advisory lock as appends, which no longer lock or update the stream row themselves.
CREATE OR REPLACE FUNCTION __schema__.delete_stream(
    p_stream text, p_category text, p_expected_kind int, p_expected_version bigint, p_mode int)
RETURNS TABLE (status int, actual_version bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_id      bigint;
    v_last    bigint;
    v_soft    boolean;
    v_tomb    boolean;
    v_current bigint;
    v_ok      boolean;
BEGIN
    PERFORM pg_advisory_xact_lock(__schema__.stream_lock_class(), hashtext(p_stream));

    SELECT s.stream_id, s.soft_deleted, s.tombstoned,
           coalesce((SELECT e.version FROM __schema__.events e WHERE e.stream_id = s.stream_id ORDER BY e.version DESC LIMIT 1), -1)
      INTO v_id, v_soft, v_tomb, v_last
      FROM __schema__.streams s WHERE s.stream_name = p_stream;

    IF NOT FOUND THEN
        IF p_expected_kind IN (2, 3) THEN
            RETURN QUERY SELECT 2, -1::bigint; RETURN;
        END IF;
        IF p_mode = 1 THEN
            INSERT INTO __schema__.streams (stream_name, category, tombstoned) VALUES (p_stream, p_category, true);
        END IF;
        RETURN QUERY SELECT 0, -1::bigint; RETURN;
    END IF;

    IF v_tomb THEN
        RETURN QUERY SELECT 4, v_last; RETURN;
    END IF;

    v_current := CASE WHEN v_soft THEN -1 ELSE v_last END;
    v_ok := __schema__.expectation_holds(p_expected_kind, p_expected_version, v_current);
    IF NOT v_ok THEN
        RETURN QUERY SELECT 2, v_current; RETURN;
    END IF;

    IF p_mode = 1 THEN
        UPDATE __schema__.streams s SET tombstoned = true WHERE s.stream_id = v_id;
    ELSE
        UPDATE __schema__.streams s SET soft_deleted = true, truncate_before = v_last + 1 WHERE s.stream_id = v_id;
    END IF;
    RETURN QUERY SELECT 0, v_current;
END
$$;
