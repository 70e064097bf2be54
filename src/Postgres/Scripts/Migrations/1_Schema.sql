-- Tables of the PostgreSQL event store. __schema__ is replaced by the configured, quoted schema name.
-- See ../README.md for the layout and why $all is gap-safe.

-- One row per stream: the stream head. Appends lock this row, so optimistic concurrency is decided by the
-- database under the row lock, never by a read-then-write in the client.
CREATE TABLE __schema__.streams (
    stream_id       bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    last_version    bigint  NOT NULL DEFAULT -1,
    -- Soft delete hides versions below this one; a later append continues after the last version.
    truncate_before bigint  NOT NULL DEFAULT 0,
    soft_deleted    boolean NOT NULL DEFAULT false,
    tombstoned      boolean NOT NULL DEFAULT false,
    stream_name     text    NOT NULL,
    category        text    NOT NULL,
    CONSTRAINT streams_name UNIQUE (stream_name)
);

-- The single row that hands out global positions. Updating it serialises position assignment until commit, so
-- positions commit in order and the committed positions are always 1..N without holes (see README).
CREATE TABLE __schema__.log_head (
    id            int    PRIMARY KEY CHECK (id = 1),
    last_position bigint NOT NULL
);
INSERT INTO __schema__.log_head (id, last_position) VALUES (1, 0);

-- Events are only ever inserted: never updated in place, never deleted by any API.
CREATE TABLE __schema__.events (
    position       bigint      PRIMARY KEY,
    stream_id      bigint      NOT NULL,
    version        bigint      NOT NULL,
    event_id       uuid        NOT NULL,
    schema_version int         NOT NULL,
    created        timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- Stored beside stream_id so $all reads need no join; category is stored, never parsed at query time.
    stream_name    text        NOT NULL,
    event_type     text        NOT NULL,
    category       text        NOT NULL,
    content_type   text        NOT NULL,
    data           bytea       NOT NULL,
    metadata       bytea       NOT NULL,
    CONSTRAINT events_stream_version UNIQUE (stream_id, version),
    CONSTRAINT events_stream_event_id UNIQUE (stream_id, event_id)
);
CREATE INDEX events_category_position ON __schema__.events (category, position);
CREATE INDEX events_type_position ON __schema__.events (event_type, position);

-- The newest snapshot per stream.
CREATE TABLE __schema__.snapshots (
    stream_name    text        PRIMARY KEY,
    version        bigint      NOT NULL,
    schema_version int         NOT NULL,
    created        timestamptz NOT NULL DEFAULT clock_timestamp(),
    snapshot_type  text        NOT NULL,
    data           bytea       NOT NULL
);

-- Subscription checkpoints (the position text of EventStore.Providers.Position).
CREATE TABLE __schema__.checkpoints (
    subscription_id text        PRIMARY KEY,
    position        text        NOT NULL,
    updated         timestamptz NOT NULL DEFAULT clock_timestamp()
);
