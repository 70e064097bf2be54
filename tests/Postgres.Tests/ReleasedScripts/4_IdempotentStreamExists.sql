-- Replaces append_events of 2_AppendEvents.sql (applied scripts are never edited): a batch re-sent with
-- StreamExists on an existing stream now gets the idempotence check that Any gets, so it returns the original
-- result (status 1) instead of failing on the unique event id constraint. Everything else is unchanged.
-- Appends a batch to one stream in the caller's single statement (one round trip, one transaction).
-- Expected kinds: 0 Any, 1 NoStream, 2 StreamExists, 3 Exact (p_expected_version).
-- Status: 0 written, 1 idempotent re-send (nothing written, original result), 2 wrong expected version
-- (last_version = actual), 3 event id conflict (conflict_id = a stored id), 4 tombstoned, 5 empty batch accepted.
CREATE OR REPLACE FUNCTION __schema__.append_events(
    p_stream text, p_category text, p_expected_kind int, p_expected_version bigint,
    p_ids uuid[], p_types text[], p_content_types text[], p_schema_versions int[], p_data bytea[], p_metadata bytea[])
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
    v_head     bigint;
BEGIN
    SELECT s.stream_id, s.last_version, s.truncate_before, s.soft_deleted, s.tombstoned
      INTO v_id, v_last, v_truncate, v_soft, v_tomb
      FROM __schema__.streams s WHERE s.stream_name = p_stream FOR UPDATE;

    IF NOT FOUND THEN
        IF p_expected_kind IN (2, 3) THEN
            RETURN QUERY SELECT 2, -1::bigint, 0::bigint, NULL::uuid; RETURN;
        END IF;
        IF v_count = 0 THEN
            RETURN QUERY SELECT 5, -1::bigint, 0::bigint, NULL::uuid; RETURN;
        END IF;
        -- A concurrent creator makes this insert wait for its commit and then do nothing; the locking read below
        -- then sees its row and the expectation is checked against it.
        INSERT INTO __schema__.streams (stream_name, category) VALUES (p_stream, p_category)
            ON CONFLICT (stream_name) DO NOTHING;
        SELECT s.stream_id, s.last_version, s.truncate_before, s.soft_deleted, s.tombstoned
          INTO v_id, v_last, v_truncate, v_soft, v_tomb
          FROM __schema__.streams s WHERE s.stream_name = p_stream FOR UPDATE;
    END IF;

    IF v_tomb THEN
        RETURN QUERY SELECT 4, v_last, 0::bigint, NULL::uuid; RETURN;
    END IF;

    -- A soft-deleted stream behaves as a missing one for expectations; its versions continue after v_last.
    v_current := CASE WHEN v_soft THEN -1 ELSE v_last END;
    v_ok := CASE p_expected_kind
        WHEN 0 THEN true
        WHEN 1 THEN v_current = -1
        WHEN 2 THEN v_current >= 0
        ELSE v_current = p_expected_version END;

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
    IF NOT v_ok OR p_expected_kind IN (0, 2) THEN
        -- Idempotence: is this batch already stored where it would have gone?
        IF p_expected_kind IN (1, 3) THEN
            v_start := CASE WHEN p_expected_kind = 1 THEN v_truncate ELSE p_expected_version + 1 END;
            SELECT array_agg(e.event_id ORDER BY e.version) INTO v_stored
              FROM __schema__.events e
             WHERE e.stream_id = v_id AND e.version BETWEEN v_start AND v_start + v_count - 1;
            v_min := v_start;
            v_max := v_start + v_count - 1;
        ELSE
            SELECT array_agg(e.event_id ORDER BY e.version), min(e.version), max(e.version) INTO v_stored, v_min, v_max
              FROM __schema__.events e
             WHERE e.stream_id = v_id AND e.event_id = ANY (p_ids);
        END IF;
        IF v_stored = p_ids AND v_max - v_min = v_count - 1 THEN
            RETURN QUERY SELECT 1, v_max, e.position, NULL::uuid
              FROM __schema__.events e WHERE e.stream_id = v_id AND e.version = v_max;
            RETURN;
        END IF;
        IF p_expected_kind IN (1, 3) THEN
            SELECT e.event_id INTO conflict_id FROM __schema__.events e
             WHERE e.stream_id = v_id AND e.event_id = ANY (p_ids) LIMIT 1;
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

    UPDATE __schema__.streams s SET last_version = v_last + v_count, soft_deleted = false WHERE s.stream_id = v_id;

    -- Taken as late as possible: the row lock on log_head is held until commit and orders every writer's positions.
    UPDATE __schema__.log_head h SET last_position = h.last_position + v_count WHERE h.id = 1
        RETURNING h.last_position INTO v_head;

    INSERT INTO __schema__.events (position, stream_id, version, event_id, schema_version, stream_name, event_type, category, content_type, data, metadata)
    SELECT v_head - v_count + u.n, v_id, v_last + u.n, u.id, u.sv, p_stream, u.t, p_category, u.ct, u.d, u.m
      FROM unnest(p_ids, p_types, p_content_types, p_schema_versions, p_data, p_metadata)
           WITH ORDINALITY AS u(id, t, ct, sv, d, m, n);

    PERFORM pg_notify('__channel__', '');

    RETURN QUERY SELECT 0, v_last + v_count, v_head, NULL::uuid;
END
$$;
