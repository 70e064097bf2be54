-- Soft-deletes (p_mode 0) or tombstones (p_mode 1) a stream under its row lock, checking the expected version
-- like append_events. Status: 0 done, 2 wrong expected version (actual_version), 4 already tombstoned.
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
    SELECT s.stream_id, s.last_version, s.soft_deleted, s.tombstoned INTO v_id, v_last, v_soft, v_tomb
      FROM __schema__.streams s WHERE s.stream_name = p_stream FOR UPDATE;

    IF NOT FOUND THEN
        IF p_expected_kind IN (2, 3) THEN
            RETURN QUERY SELECT 2, -1::bigint; RETURN;
        END IF;
        IF p_mode = 1 THEN
            INSERT INTO __schema__.streams (stream_name, category, tombstoned) VALUES (p_stream, p_category, true)
                ON CONFLICT (stream_name) DO UPDATE SET tombstoned = true;
        END IF;
        RETURN QUERY SELECT 0, -1::bigint; RETURN;
    END IF;

    IF v_tomb THEN
        RETURN QUERY SELECT 4, v_last; RETURN;
    END IF;

    v_current := CASE WHEN v_soft THEN -1 ELSE v_last END;
    v_ok := CASE p_expected_kind
        WHEN 0 THEN true
        WHEN 1 THEN v_current = -1
        WHEN 2 THEN v_current >= 0
        ELSE v_current = p_expected_version END;
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
