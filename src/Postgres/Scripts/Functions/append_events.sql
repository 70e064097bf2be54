-- The current definition of __schema__.append_events. Applied (CREATE OR REPLACE) after the migrations whenever this
-- file's content differs from the hash recorded in __schema__.schema_functions.

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
