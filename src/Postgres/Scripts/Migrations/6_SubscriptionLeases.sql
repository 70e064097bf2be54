-- Leases of subscription groups (see ../README.md): one row per record ({group}/share/{n}, {group}/member/{id}),
-- held by one owner until expires_at. Every change of hands takes a new token from lease_tokens, so a token is never
-- handed out twice, even to a record deleted and created again; a write carrying an older token matches no row.

CREATE SEQUENCE __schema__.lease_tokens AS bigint;

CREATE TABLE __schema__.subscription_leases (
    -- "C" collation: names compare and sort by code point, as the other providers' leases do.
    name       text COLLATE "C" PRIMARY KEY,
    owner      text        NOT NULL,
    token      bigint      NOT NULL,
    -- From the clock of the instance that took or renewed the lease; 0001-01-01 once released.
    expires_at timestamptz NOT NULL,
    -- The share's checkpoint (the position text of EventStore.Providers.Position); null until one is saved.
    checkpoint text,
    updated    timestamptz NOT NULL DEFAULT clock_timestamp()
);
