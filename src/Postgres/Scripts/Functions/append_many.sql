-- The current definition of __schema__.append_many. Applied (CREATE OR REPLACE) after the migrations whenever this
-- file's content differs from the hash recorded in __schema__.schema_functions.

-- Several appends (to one or more streams) in one transaction: what the store sends when appends from concurrent
-- callers queue up, so they share a round trip and a commit. Append i has p_counts[i] events, stored one append
-- after another in the event arrays. Returns one row per append, in order, as append_events would have. Every
-- stream's lock is taken first, in one order (so two of these cannot deadlock) and before the transaction has an
-- id (so stream order holds in $all as for single appends).
CREATE OR REPLACE FUNCTION __schema__.append_many(
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
