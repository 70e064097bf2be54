-- The current definition of __schema__.safe_position. Applied (CREATE OR REPLACE) after the migrations whenever this
-- file's content differs from the hash recorded in __schema__.schema_functions.

-- Every position below this value is final: all transactions with a smaller id have committed or rolled back.
CREATE OR REPLACE FUNCTION __schema__.safe_position() RETURNS bigint LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT __schema__.position_base() + (pg_snapshot_xmin(pg_current_snapshot())::text::bigint << 16) $$;
