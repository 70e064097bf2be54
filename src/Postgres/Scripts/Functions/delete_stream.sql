-- The current definition of __schema__.delete_stream. Applied (CREATE OR REPLACE) after the migrations whenever this
-- file's content differs from the hash recorded in __schema__.schema_functions.

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
