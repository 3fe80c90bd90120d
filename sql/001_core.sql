-- 001_core.sql: roles, the lwk schema, and the slowly changing reference
-- data every session hangs off: organisations and their units (location,
-- department, team), pseudonymous persons, facilitators, access tokens, and
-- instruments with their versioned definitions and items.
--
-- Applied once by scripts/migrate.sh inside one transaction (never add
-- BEGIN/COMMIT here). Run as a superuser, or as a member of lwk_owner with
-- CREATE on the database when the roles already exist.
--
-- Every object is created while acting as lwk_owner, so lwk_owner owns it and
-- the daemon's role never does: owners bypass row-level security, and the
-- daemon must not. Later migrations follow the same pattern: SET LOCAL ROLE
-- lwk_owner and SET LOCAL search_path = lwk before creating anything.

-- Roles are cluster-wide and may already exist (another database in the same
-- cluster, or an operator who created them first): create only what is missing.
DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['lwk_owner', 'lwk_daemon', 'lwk_analyst', 'lwk_programme'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN', r);
            EXCEPTION WHEN duplicate_object THEN
                NULL;   -- created concurrently by a migration of another database
            END;
        END IF;
    END LOOP;

    -- A pre-existing role with these attributes would silently defeat
    -- row-level security for every login that inherits from it.
    IF EXISTS (SELECT 1 FROM pg_roles
               WHERE rolname IN ('lwk_daemon', 'lwk_analyst', 'lwk_programme')
                 AND (rolsuper OR rolbypassrls)) THEN
        RAISE EXCEPTION 'lwk_daemon, lwk_analyst and lwk_programme must be neither SUPERUSER nor BYPASSRLS';
    END IF;
    IF pg_has_role('lwk_daemon', 'lwk_owner', 'MEMBER') THEN
        RAISE EXCEPTION 'lwk_daemon must not be a member of lwk_owner';
    END IF;
END
$$;

CREATE SCHEMA lwk AUTHORIZATION lwk_owner;
REVOKE ALL ON SCHEMA lwk FROM PUBLIC;

-- The daemon may check the schema version at startup.
GRANT SELECT ON public.schema_migrations TO lwk_daemon;

SET LOCAL ROLE lwk_owner;
SET LOCAL search_path = lwk;

GRANT USAGE ON SCHEMA lwk TO lwk_daemon;
-- lwk_analyst (one organisation, through row-level security) and lwk_programme
-- (the programme office: aggregates only) get no rights here on purpose: a later
-- migration adds the analysis views (security_invoker, RLS on organisation_id)
-- and grants them USAGE on the schema and SELECT on those views only.

-- Trigger function for append-only tables: rows are never rewritten. Deleting
-- stays possible for the owner (retention), never for the daemon (no grant).
CREATE FUNCTION reject_update() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog
AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: rows cannot be updated', TG_TABLE_NAME
        USING ERRCODE = 'feature_not_supported';
END
$$;

-- ---------------------------------------------------------------------------
-- Organisations and their structure
-- ---------------------------------------------------------------------------

CREATE TABLE organisations (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now(),
    archived_at timestamptz,
    UNIQUE (name)
);

-- The hierarchy below an organisation: location -> department -> team.
-- Levels may be skipped (a team directly under a location, or at the top),
-- but never inverted: parent_kind mirrors the parent's kind through the
-- composite foreign key, the CHECK orders the kinds, and so cycles and
-- cross-organisation parents are impossible. parent_kind is set by a trigger;
-- callers leave it out.
CREATE TABLE org_units (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organisation_id bigint NOT NULL REFERENCES organisations (id),
    kind            text NOT NULL CHECK (kind IN ('location', 'department', 'team')),
    parent_id       bigint,
    parent_kind     text,
    name            text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    created_at      timestamptz NOT NULL DEFAULT now(),
    archived_at     timestamptz,
    UNIQUE (organisation_id, id),
    UNIQUE (organisation_id, id, kind),
    UNIQUE NULLS NOT DISTINCT (organisation_id, parent_id, name),
    FOREIGN KEY (organisation_id, parent_id, parent_kind)
        REFERENCES org_units (organisation_id, id, kind),
    -- Fails when parent_id names no unit of the same organisation.
    CONSTRAINT org_units_parent_exists CHECK ((parent_id IS NULL) = (parent_kind IS NULL)),
    CONSTRAINT org_units_kind_order CHECK (CASE kind
               WHEN 'location'   THEN parent_kind IS NULL
               WHEN 'department' THEN parent_kind IS NULL OR parent_kind = 'location'
               WHEN 'team'       THEN parent_kind IS NULL OR parent_kind IN ('location', 'department')
           END)
);

CREATE FUNCTION org_units_fill_parent_kind() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog
AS $$
BEGIN
    -- Always derived from the parent, whatever the caller supplied; a parent
    -- that does not exist (in this organisation) leaves NULL and trips
    -- org_units_parent_exists.
    NEW.parent_kind := NULL;
    IF NEW.parent_id IS NOT NULL THEN
        SELECT u.kind INTO NEW.parent_kind
          FROM lwk.org_units u
         WHERE u.id = NEW.parent_id AND u.organisation_id = NEW.organisation_id;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER org_units_fill_parent_kind
    BEFORE INSERT OR UPDATE ON org_units
    FOR EACH ROW EXECUTE FUNCTION org_units_fill_parent_kind();

-- Pseudonymous identity of someone who takes part in several sessions, so the
-- same person can be followed over time within one organisation. No real
-- names are required; the pseudonym is whatever the organisation chooses.
CREATE TABLE persons (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organisation_id bigint NOT NULL REFERENCES organisations (id),
    pseudonym       text NOT NULL CHECK (char_length(pseudonym) BETWEEN 1 AND 200),
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (organisation_id, pseudonym)
);

-- ---------------------------------------------------------------------------
-- Facilitators and access tokens. Only the SHA-256 of a token is stored, as
-- 64 lower-case hex digits; the token itself is shown once when issued.
-- ---------------------------------------------------------------------------

CREATE TABLE facilitators (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organisation_id bigint REFERENCES organisations (id),  -- NULL: works for several organisations
    name            text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    created_at      timestamptz NOT NULL DEFAULT now(),
    disabled_at     timestamptz
);

CREATE TABLE facilitator_tokens (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    facilitator_id bigint NOT NULL REFERENCES facilitators (id),
    token_sha256   text NOT NULL UNIQUE CHECK (token_sha256 ~ '^[0-9a-f]{64}$'),
    label          text CHECK (char_length(label) <= 200),
    created_at     timestamptz NOT NULL DEFAULT now(),
    revoked_at     timestamptz,
    CHECK (revoked_at IS NULL OR revoked_at >= created_at)
);
CREATE INDEX facilitator_tokens_facilitator_idx ON facilitator_tokens (facilitator_id);

CREATE TABLE admin_tokens (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    label        text NOT NULL CHECK (char_length(label) BETWEEN 1 AND 200),
    token_sha256 text NOT NULL UNIQUE CHECK (token_sha256 ~ '^[0-9a-f]{64}$'),
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz,
    CHECK (revoked_at IS NULL OR revoked_at >= created_at)
);

-- ---------------------------------------------------------------------------
-- Instruments. A version's definition is the plain-text source it was parsed
-- from and never changes once a session may refer to it: publish a new version
-- instead. instrument_items is the parsed list of items of one version.
-- ---------------------------------------------------------------------------

CREATE TABLE instruments (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key        text NOT NULL UNIQUE CHECK (key ~ '^[a-z0-9][a-z0-9-]{0,63}$'),  -- 'lwk-meting', 'quickscan', 'klwo'
    name       text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE instrument_versions (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    instrument_id bigint NOT NULL REFERENCES instruments (id),
    version       int NOT NULL CHECK (version >= 1),
    definition    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (instrument_id, version)
);

-- position is the item number used as "item" throughout the session tables
-- (scores.item, themes, desired_scores, actions).
CREATE TABLE instrument_items (
    instrument_version_id bigint NOT NULL REFERENCES instrument_versions (id),
    position              smallint NOT NULL CHECK (position >= 0),
    key                   text NOT NULL CHECK (char_length(key) BETWEEN 1 AND 64),
    name                  text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    scored                boolean NOT NULL,
    scale_min             smallint,
    scale_max             smallint,
    PRIMARY KEY (instrument_version_id, position),
    UNIQUE (instrument_version_id, key),
    -- Scored items carry a scale inside the 1..10 range that scores.value allows.
    CHECK (scored = (scale_min IS NOT NULL AND scale_max IS NOT NULL)),
    CHECK (scale_min IS NULL OR scale_min >= 1),
    CHECK (scale_max IS NULL OR scale_max <= 10),
    CHECK (scale_min < scale_max)
);

-- ---------------------------------------------------------------------------
-- The daemon's rights. Administration goes through the daemon, so it may add
-- and edit the structure, facilitators and instruments; it may not rewrite an
-- instrument version, and it only reads admin tokens (issued by the operator).
-- No DELETE anywhere: records are archived, disabled or revoked instead.
-- ---------------------------------------------------------------------------

GRANT SELECT, INSERT, UPDATE ON organisations, org_units, persons, facilitators, instruments
    TO lwk_daemon;
GRANT SELECT, INSERT ON facilitator_tokens, instrument_versions, instrument_items TO lwk_daemon;
GRANT UPDATE (revoked_at, label) ON facilitator_tokens TO lwk_daemon;
GRANT SELECT ON admin_tokens TO lwk_daemon;
