-- 011_rls.sql: row-level security on every table in schema lwk, forced so
-- that not even the owner reads past it by accident (superusers still do).
--
-- Policies (permissive; a role that no policy names sees and changes no row):
--
--   lwk_owner_all     lwk_owner: everything. Migrations, refresh_analysis()
--                     and apply_retention() act as the owner.
--   lwk_daemon_all    lwk_daemon: everything, on the tables it keeps. The
--                     daemon serves every organisation; what it may do at all
--                     is decided by its GRANTs (001..004).
--   lwk_analyst_read  lwk_analyst, SELECT only, rows of the organisations that
--                     analyst_organisations maps to the caller's role (or a
--                     role it is a member of). Only where a row belongs to an
--                     organisation (organisation_id, or a session of one);
--                     the global instrument tables are readable as a whole.
--
-- lwk_programme has no policy on any table: it reads aggregates through the
-- report views only. Analysts have GRANTs on organisations, org_units,
-- sessions (not the join and kiosk code hashes) and the instrument tables;
-- the policies on the other tables are a second wall should a GRANT ever be
-- added by mistake. The map itself is readable by an analyst for its own
-- rows only; the policies on the other tables read it through that policy.
--
-- The tables are found from the catalogue, so tables added by earlier
-- migrations (004_*) are covered too; tests/integration/test_analysis.py
-- fails if any table in lwk lacks forced RLS, which catches later ones.
--
-- Applied once by scripts/migrate.sh inside one transaction (no BEGIN/COMMIT).

SET LOCAL ROLE lwk_owner;
SET LOCAL search_path = lwk;

-- The caller's own rows of the map: its role or any role it is a member of.
CREATE POLICY lwk_analyst_read ON analyst_organisations FOR SELECT TO lwk_analyst
    USING (role_name IN (SELECT r.rolname FROM pg_catalog.pg_roles r
                          WHERE pg_catalog.pg_has_role(r.oid, 'MEMBER')));

DO $$
DECLARE
    t        record;
    analyst  text;
    -- The organisations the caller may see, through the map's own policy.
    visible  constant text := '(SELECT ao.organisation_id FROM lwk.analyst_organisations ao)';
BEGIN
    FOR t IN
        SELECT c.relname,
               EXISTS (SELECT 1 FROM pg_attribute a
                        WHERE a.attrelid = c.oid AND a.attname = 'organisation_id'
                          AND NOT a.attisdropped) AS has_org,
               EXISTS (SELECT 1 FROM pg_attribute a
                        WHERE a.attrelid = c.oid AND a.attname = 'action_session_id'
                          AND NOT a.attisdropped) AS has_action_session,
               EXISTS (SELECT 1 FROM pg_attribute a
                        WHERE a.attrelid = c.oid AND a.attname = 'session_id'
                          AND NOT a.attisdropped) AS has_session
          FROM pg_class c
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'lwk' AND c.relkind IN ('r', 'p')
         ORDER BY c.relname
    LOOP
        EXECUTE format('ALTER TABLE lwk.%I ENABLE ROW LEVEL SECURITY', t.relname);
        EXECUTE format('ALTER TABLE lwk.%I FORCE ROW LEVEL SECURITY', t.relname);
        EXECUTE format('CREATE POLICY lwk_owner_all ON lwk.%I TO lwk_owner USING (true) WITH CHECK (true)',
                       t.relname);

        -- The analysis layer's own tables are not the daemon's business.
        IF t.relname IN ('analysis_settings', 'analyst_organisations') THEN
            CONTINUE;
        END IF;
        EXECUTE format('CREATE POLICY lwk_daemon_all ON lwk.%I TO lwk_daemon USING (true) WITH CHECK (true)',
                       t.relname);

        analyst := CASE
            WHEN t.relname = 'organisations' THEN 'id IN ' || visible
            WHEN t.relname IN ('instruments', 'instrument_versions', 'instrument_items') THEN 'true'
            WHEN t.has_org THEN 'organisation_id IN ' || visible
            -- Action history and reviews belong to the action's session.
            WHEN t.has_action_session THEN 'action_session_id IN (SELECT s.id FROM lwk.sessions s)'
            -- Everything else keyed by session: through sessions' own policy.
            WHEN t.has_session THEN 'session_id IN (SELECT s.id FROM lwk.sessions s)'
            -- Tokens, admin tokens and anything not tied to an organisation:
            -- no policy, no rows.
            ELSE NULL
        END;
        IF analyst IS NOT NULL THEN
            EXECUTE format('CREATE POLICY lwk_analyst_read ON lwk.%I FOR SELECT TO lwk_analyst USING (%s)',
                           t.relname, analyst);
        END IF;
    END LOOP;
END
$$;

-- What analysts read directly; row-level security above decides which rows.
GRANT SELECT ON analyst_organisations, organisations, org_units,
                instruments, instrument_versions, instrument_items
    TO lwk_analyst;
GRANT SELECT (id, organisation_id, team_id, instrument_version_id, status, planned_at, started_at,
              closed_at, next_session_date, created_at)
    ON sessions TO lwk_analyst;
