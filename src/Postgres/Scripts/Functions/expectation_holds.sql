-- The current definition of __schema__.expectation_holds. Applied (CREATE OR REPLACE) after the migrations whenever this
-- file's content differs from the hash recorded in __schema__.schema_functions.

-- Whether an expected version (0 Any, 1 NoStream, 2 StreamExists, 3 Exact) holds for a stream whose current last
-- version is p_current (-1 when missing or soft-deleted). Shared by append_events and delete_stream.
CREATE OR REPLACE FUNCTION __schema__.expectation_holds(p_kind int, p_expected bigint, p_current bigint) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT CASE p_kind WHEN 0 THEN true WHEN 1 THEN p_current = -1 WHEN 2 THEN p_current >= 0 ELSE p_current = p_expected END $$;
