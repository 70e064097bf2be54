-- The current definition of __schema__.stream_lock_class. Applied (CREATE OR REPLACE) after the migrations whenever this
-- file's content differs from the hash recorded in __schema__.schema_functions.

-- The first key of the advisory locks that serialise appends and deletes per stream (the second is hashtext(stream)).
CREATE OR REPLACE FUNCTION __schema__.stream_lock_class() RETURNS int LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT hashtext('__schema__') $$;
