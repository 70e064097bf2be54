-- The current definition of __schema__.append_locked. Applied (CREATE OR REPLACE) after the migrations whenever this
-- file's content differs from the hash recorded in __schema__.schema_functions.

-- Appends a batch to one stream whose advisory lock the caller holds (append_events, append_many). Its events take
-- positions base + p_offset + 1.. of this transaction, so several appends of one transaction do not overlap.
-- Expected kinds: 0 Any, 1 NoStream, 2 StreamExists, 3 Exact (p_expected_version).
-- Status: 0 written, 1 idempotent re-send (nothing written, original result), 2 wrong expected version
-- (last_version = actual), 3 event id conflict (conflict_id = a stored id), 4 tombstoned, 5 empty batch accepted.
CREATE OR REPLACE FUNCTION __schema__.append_locked(
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
