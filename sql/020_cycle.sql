-- 020_cycle.sql: instruments as data, timers, and the cycle between sessions
-- (docs/cycle.md).
--
--   * actions.id: a number of its own for every action, unique across
--     sessions, so that people (lwk action update 17) and a later session's
--     review (review.action, action.reviewed) can name it.
--   * The session's record of what an instrument adds: the items a KLWO
--     session chose (sessions.selected_items), practice examples per item
--     (practice_examples), and every countdown that ran over (timer_overruns).
--   * A second projection trigger for the events 004 does not know
--     (items.selected, example.added/removed, timer.overrun,
--     action.reviewed), hooked like 004's: AFTER INSERT ... FOR EACH
--     STATEMENT with the new rows as a transition table. Triggers of one kind
--     fire in name order, so session_events_project_cycle runs after
--     session_events_project (the actions it reviews exist by then). Events it
--     cannot apply go to projection_errors, as in 004.
--   * Version pinning: session.created names the instrument version it was
--     made from (version); a BEFORE trigger, after 004's, points the session
--     at exactly that version (004 takes the newest of the key, which is right
--     only until the next import).
--   * Functions the daemon calls for the cycle's requests (instrument.import,
--     action.list, action.update, team.history, team.due, example.list, and
--     the review a new session starts with). A facilitator sees the teams of
--     their own organisation (all of them when they work for several); the
--     admin sees everything.
--
-- Applied once by scripts/migrate.sh inside one transaction (no BEGIN/COMMIT).

SET LOCAL ROLE lwk_owner;
SET LOCAL search_path = lwk;

-- ---------------------------------------------------------------------------
-- Tables and columns
-- ---------------------------------------------------------------------------

ALTER TABLE actions ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY;
ALTER TABLE actions ADD CONSTRAINT actions_id_key UNIQUE (id);

-- select = yes instruments: the items (instrument_items.position) the
-- session works on, as chosen in its lobby. NULL: all items.
ALTER TABLE sessions ADD COLUMN selected_items smallint[];

-- A practice example the facilitator recorded for an item (a KLWO
-- principle): the regional network collects them per principle.
CREATE TABLE practice_examples (
    session_id bigint NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    kid        int NOT NULL CHECK (kid >= 1),
    item       smallint NOT NULL CHECK (item >= 0),
    text       text NOT NULL CHECK (char_length(text) <= 10000),
    removed    boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, kid)
);
CREATE INDEX practice_examples_item_idx ON practice_examples (item);

-- A timed agenda entry that ran past its planned time (timer.overrun). entry
-- is the index into the agenda of the session's instrument version;
-- planned_s the duration that passed, extensions included.
CREATE TABLE timer_overruns (
    session_id bigint NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    seq        bigint NOT NULL CHECK (seq >= 1),
    entry      smallint NOT NULL CHECK (entry >= 0),
    planned_s  int NOT NULL CHECK (planned_s >= 0),
    at         timestamptz NOT NULL,
    PRIMARY KEY (session_id, seq)
);

-- ---------------------------------------------------------------------------
-- Version pinning
-- ---------------------------------------------------------------------------

CREATE FUNCTION session_events_pin_version() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog
AS $$
DECLARE
    v bigint;
BEGIN
    IF NEW.kind <> 'session.created' OR NEW.data IS NULL OR NOT NEW.data ? 'version' THEN
        RETURN NEW;
    END IF;
    SELECT iv.id INTO v
      FROM lwk.instruments i JOIN lwk.instrument_versions iv ON iv.instrument_id = i.id
     WHERE i.key = NEW.data->>'instrument' AND iv.version = (NEW.data->>'version')::int;
    IF v IS NOT NULL THEN
        UPDATE lwk.sessions SET instrument_version_id = v
         WHERE id = NEW.session_id AND instrument_version_id <> v;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER session_events_pin_version
    BEFORE INSERT ON session_events
    FOR EACH ROW EXECUTE FUNCTION session_events_pin_version();

-- ---------------------------------------------------------------------------
-- The projection of the cycle's events
-- ---------------------------------------------------------------------------

CREATE FUNCTION project_cycle_event(sid bigint, ev_seq bigint, ev_kind text, d jsonb) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog
AS $$
DECLARE
    at    timestamptz;
    a     record;
BEGIN
    IF d IS NULL THEN
        RETURN;
    END IF;
    at := CASE WHEN d ? 'ts' THEN to_timestamp((d->>'ts')::double precision / 1000) ELSE now() END;
    CASE ev_kind
    WHEN 'items.selected' THEN
        UPDATE lwk.sessions
           SET selected_items = ARRAY(SELECT DISTINCT x::smallint
                                        FROM jsonb_array_elements_text(d->'items') AS x ORDER BY 1),
               updated_at = now()
         WHERE id = sid;
    WHEN 'example.added' THEN
        INSERT INTO lwk.practice_examples (session_id, kid, item, text, created_at, updated_at)
        VALUES (sid, (d->>'kid')::int, (d->>'item')::smallint, d->>'text', at, at)
        ON CONFLICT (session_id, kid) DO UPDATE
            SET item = excluded.item, text = excluded.text, removed = false,
                updated_at = excluded.updated_at;
    WHEN 'example.removed' THEN
        UPDATE lwk.practice_examples SET removed = true, updated_at = at
         WHERE session_id = sid AND kid = (d->>'kid')::int;
    WHEN 'timer.overrun' THEN
        INSERT INTO lwk.timer_overruns (session_id, seq, entry, planned_s, at)
        VALUES (sid, ev_seq, (d->>'entry')::smallint, (d->>'duration')::int, at)
        ON CONFLICT (session_id, seq) DO NOTHING;
    WHEN 'action.reviewed' THEN
        -- The event restates the whole review of one action in this session.
        SELECT x.session_id, x.aid, x.status INTO a
          FROM lwk.actions x WHERE x.id = (d->>'action')::bigint;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'action % does not exist', d->>'action'
                USING ERRCODE = 'foreign_key_violation';
        END IF;
        INSERT INTO lwk.action_reviews (action_session_id, aid, session_id, effect, note, reviewed_at)
        VALUES (a.session_id, a.aid, sid, (d->>'rating')::smallint, d->>'note', at)
        ON CONFLICT (action_session_id, aid, session_id) DO UPDATE
            SET effect = excluded.effect, note = excluded.note, reviewed_at = excluded.reviewed_at;
        IF d ? 'status' AND d->>'status' IS DISTINCT FROM a.status THEN
            UPDATE lwk.actions SET status = d->>'status', updated_at = at
             WHERE session_id = a.session_id AND aid = a.aid;
            INSERT INTO lwk.action_status_history (action_session_id, aid, status, note, changed_at,
                                                   session_id, seq)
            VALUES (a.session_id, a.aid, d->>'status', d->>'note', at, sid, ev_seq)
            ON CONFLICT (session_id, seq) DO NOTHING;
        END IF;
    ELSE
        NULL; -- 004 projects the rest; review.action, review.previous and timer are copies or clocks
    END CASE;
END
$$;

CREATE FUNCTION session_events_project_cycle() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog
AS $$
DECLARE
    e record;
BEGIN
    FOR e IN SELECT n.session_id, n.seq, n.kind, n.data FROM new_events n
              WHERE n.kind IN ('items.selected', 'example.added', 'example.removed',
                               'timer.overrun', 'action.reviewed')
              ORDER BY n.session_id, n.seq LOOP
        BEGIN
            PERFORM lwk.project_cycle_event(e.session_id, e.seq, e.kind, e.data);
        EXCEPTION WHEN OTHERS THEN
            IF lwk.is_transient(SQLSTATE) THEN
                RAISE;
            END IF;
            INSERT INTO lwk.projection_errors (session_id, seq, kind, sqlstate, error)
            VALUES (e.session_id, e.seq, e.kind, SQLSTATE, SQLERRM);
        END;
    END LOOP;
    RETURN NULL;
END
$$;

CREATE TRIGGER session_events_project_cycle
    AFTER INSERT ON session_events
    REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION session_events_project_cycle();

-- ---------------------------------------------------------------------------
-- Who may see what, and which team a request means
-- ---------------------------------------------------------------------------

-- True when facilitator fac (NULL: the admin) may see organisation org: an
-- active facilitator of that name works for it, or for several organisations.
CREATE FUNCTION may_see(fac text, org bigint) RETURNS boolean
    LANGUAGE sql STABLE
    SET search_path = pg_catalog
AS $$
    SELECT fac IS NULL OR EXISTS (
        SELECT 1 FROM lwk.facilitators f
         WHERE f.name = fac AND f.disabled_at IS NULL
           AND (f.organisation_id IS NULL OR f.organisation_id = org))
$$;

-- The team a request names: by unit number, else by name. Raises
-- no_data_found (P0002) when there is none the caller may see, and
-- cardinality_violation (21000) when the name fits several.
CREATE FUNCTION team_lookup(p_unit bigint, p_name text, fac text) RETURNS bigint
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog
AS $$
DECLARE
    t bigint;
    n int;
BEGIN
    SELECT min(u.id), count(*) INTO t, n
      FROM lwk.org_units u
     WHERE u.kind = 'team' AND u.archived_at IS NULL
       AND (CASE WHEN p_unit IS NOT NULL THEN u.id = p_unit ELSE u.name = p_name END)
       AND lwk.may_see(fac, u.organisation_id);
    IF n = 0 THEN
        RAISE EXCEPTION 'no team %', coalesce(p_unit::text, p_name) USING ERRCODE = 'no_data_found';
    ELSIF n > 1 THEN
        RAISE EXCEPTION 'several teams are called %: name the unit number', p_name
            USING ERRCODE = 'cardinality_violation';
    END IF;
    RETURN t;
END
$$;

-- ---------------------------------------------------------------------------
-- Instruments
-- ---------------------------------------------------------------------------

-- Stores a parsed and checked definition as a new version (lwkd parses it
-- with proto/instrument.c and decides the version). items: a JSON array of
-- {position, key, name, scored, scale_min, scale_max}. A version that exists
-- already fails with unique_violation.
CREATE FUNCTION instrument_store(p_key text, p_name text, p_version int, p_definition text,
                                 p_items jsonb) RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog
AS $$
DECLARE
    inst bigint;
    v    bigint;
BEGIN
    INSERT INTO lwk.instruments (key, name) VALUES (p_key, p_name)
    ON CONFLICT (key) DO UPDATE SET name = excluded.name
    RETURNING id INTO inst;
    INSERT INTO lwk.instrument_versions (instrument_id, version, definition)
    VALUES (inst, p_version, p_definition)
    RETURNING id INTO v;
    INSERT INTO lwk.instrument_items (instrument_version_id, position, key, name, scored,
                                      scale_min, scale_max)
    SELECT v, x.position, x.key, x.name, x.scored, x.scale_min, x.scale_max
      FROM jsonb_to_recordset(p_items)
           AS x (position smallint, key text, name text, scored boolean, scale_min smallint,
                 scale_max smallint);
    RETURN v;
END
$$;

-- ---------------------------------------------------------------------------
-- The review a new session of a team starts with
-- ---------------------------------------------------------------------------

-- The team's actions still open or in progress, oldest session first.
CREATE FUNCTION review_actions(p_team bigint, p_limit int) RETURNS TABLE (
    id bigint, session_id bigint, description text, owner text, feedback text, deadline date,
    status text, item_key text, session_date date, overdue boolean)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog
AS $$
    SELECT a.id, a.session_id, a.description, a.owner, a.feedback_moment, a.deadline, a.status,
           ii.key, s.started_at::date, coalesce(a.deadline < current_date, false)
      FROM lwk.actions a
      JOIN lwk.sessions s ON s.id = a.session_id
      LEFT JOIN lwk.instrument_items ii
             ON ii.instrument_version_id = s.instrument_version_id AND ii.position = a.item
     WHERE a.team_id = p_team AND NOT a.removed AND a.status IN ('open', 'in_progress')
     ORDER BY s.started_at, a.session_id, a.aid
     LIMIT p_limit
$$;

-- The mean of an item's last revealed round in a session (participants not
-- removed), and its agreed desired score.
CREATE FUNCTION session_item_results(p_session bigint) RETURNS TABLE (
    item smallint, item_key text, name text, mean numeric, desired smallint)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog
AS $$
    SELECT ii.position, ii.key, ii.name,
           (SELECT round(avg(sc.value), 2)
              FROM lwk.scores sc
              JOIN lwk.participants p ON p.session_id = sc.session_id AND p.pid = sc.pid
             WHERE sc.session_id = s.id AND sc.item = ii.position AND NOT p.removed
               AND sc.round = (SELECT max(r.round) FROM lwk.score_rounds r
                                WHERE r.session_id = s.id AND r.item = ii.position
                                  AND r.revealed_at IS NOT NULL)),
           d.value
      FROM lwk.sessions s
      JOIN lwk.instrument_items ii ON ii.instrument_version_id = s.instrument_version_id
      LEFT JOIN lwk.desired_scores d ON d.session_id = s.id AND d.item = ii.position
     WHERE s.id = p_session AND ii.scored
     ORDER BY ii.position
$$;

-- The team's last closed session of the same instrument, per item.
CREATE FUNCTION review_previous(p_team bigint, p_instrument text) RETURNS TABLE (
    session_id bigint, session_date date, item_key text, mean numeric, desired smallint)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog
AS $$
    WITH prev AS (
        SELECT s.id, s.started_at
          FROM lwk.sessions s
          JOIN lwk.instrument_versions v ON v.id = s.instrument_version_id
          JOIN lwk.instruments i ON i.id = v.instrument_id
         WHERE s.team_id = p_team AND i.key = p_instrument AND s.status = 'closed'
         ORDER BY s.started_at DESC, s.id DESC
         LIMIT 1)
    SELECT p.id, p.started_at::date, r.item_key, r.mean, r.desired
      FROM prev p, lwk.session_item_results(p.id) r
$$;

-- ---------------------------------------------------------------------------
-- Between sessions: lwk actions, lwk action update, lwk team history/due
-- ---------------------------------------------------------------------------

-- Actions of one team (or of every team the caller may see), with the
-- effect the last review gave them.
CREATE FUNCTION cycle_actions(p_unit bigint, p_team text, p_status text, p_overdue boolean,
                              fac text) RETURNS TABLE (
    id bigint, session_id bigint, team_id bigint, team text, description text, owner text,
    deadline date, feedback text, status text, overdue boolean, session_date date,
    effect smallint)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog
AS $$
DECLARE
    t bigint;
BEGIN
    IF p_unit IS NOT NULL OR p_team IS NOT NULL THEN
        t := lwk.team_lookup(p_unit, p_team, fac);
    END IF;
    RETURN QUERY
    SELECT a.id, a.session_id, a.team_id, u.name, a.description, a.owner, a.deadline,
           a.feedback_moment, a.status,
           coalesce(a.deadline < current_date AND a.status IN ('open', 'in_progress'), false),
           s.started_at::date,
           (SELECT r.effect FROM lwk.action_reviews r
             WHERE r.action_session_id = a.session_id AND r.aid = a.aid
             ORDER BY r.reviewed_at DESC LIMIT 1)
      FROM lwk.actions a
      JOIN lwk.sessions s ON s.id = a.session_id
      JOIN lwk.org_units u ON u.id = a.team_id
     WHERE NOT a.removed
       AND (CASE WHEN t IS NOT NULL THEN a.team_id = t ELSE lwk.may_see(fac, a.organisation_id) END)
       AND (p_status IS NULL OR a.status = p_status)
       AND (NOT coalesce(p_overdue, false)
            OR (a.deadline < current_date AND a.status IN ('open', 'in_progress')))
     ORDER BY u.name, s.started_at, a.aid;
END
$$;

-- A status change between sessions (session_id NULL in the history).
CREATE FUNCTION cycle_update_action(p_id bigint, p_status text, p_note text, fac text)
    RETURNS TABLE (id bigint, old_status text, status text)
    LANGUAGE plpgsql
    SET search_path = pg_catalog
AS $$
DECLARE
    a record;
BEGIN
    SELECT x.session_id, x.aid, x.status, x.organisation_id INTO a
      FROM lwk.actions x WHERE x.id = p_id AND NOT x.removed FOR UPDATE;
    IF NOT FOUND OR NOT lwk.may_see(fac, a.organisation_id) THEN
        RAISE EXCEPTION 'no action %', p_id USING ERRCODE = 'no_data_found';
    END IF;
    UPDATE lwk.actions x SET status = p_status, updated_at = now()
     WHERE x.session_id = a.session_id AND x.aid = a.aid;
    INSERT INTO lwk.action_status_history (action_session_id, aid, status, note)
    VALUES (a.session_id, a.aid, p_status, p_note);
    RETURN QUERY SELECT p_id, a.status, p_status;
END
$$;

-- A team's sessions over time, one row per session, per scored item and per
-- action it agreed (kind 'session', 'item', 'action'), in time order.
CREATE FUNCTION cycle_history(p_unit bigint, p_team text, fac text) RETURNS TABLE (
    kind text, session_id bigint, session_date date, instrument text, version int,
    next_date date, item smallint, name text, mean numeric, desired smallint, action_id bigint,
    status text, deadline date, overdue boolean, effect smallint, started_at timestamptz)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog
AS $$
DECLARE
    t bigint := lwk.team_lookup(p_unit, p_team, fac);
BEGIN
    RETURN QUERY
    WITH ss AS (
        SELECT s.id, s.started_at, s.next_session_date, i.key, v.version
          FROM lwk.sessions s
          JOIN lwk.instrument_versions v ON v.id = s.instrument_version_id
          JOIN lwk.instruments i ON i.id = v.instrument_id
         WHERE s.team_id = t)
    SELECT x.kind, x.session_id, x.session_date, x.instrument, x.version, x.next_date, x.item,
           x.name, x.mean, x.desired, x.action_id, x.status, x.deadline, x.overdue, x.effect,
           x.started_at
      FROM (
        SELECT 'session'::text AS kind, ss.id AS session_id, ss.started_at::date AS session_date,
               ss.key AS instrument, ss.version, ss.next_session_date AS next_date,
               NULL::smallint AS item, NULL::text AS name, NULL::numeric AS mean,
               NULL::smallint AS desired, NULL::bigint AS action_id, NULL::text AS status,
               NULL::date AS deadline, NULL::boolean AS overdue, NULL::smallint AS effect,
               ss.started_at, 0 AS o, 0 AS n
          FROM ss
        UNION ALL
        SELECT 'item', ss.id, NULL, NULL, NULL, NULL, r.item, r.name, r.mean, r.desired, NULL,
               NULL, NULL, NULL, NULL, ss.started_at, 1, r.item
          FROM ss, lwk.session_item_results(ss.id) r
        UNION ALL
        SELECT 'action', ss.id, NULL, NULL, NULL, NULL, a.item, a.description, NULL, NULL, a.id,
               a.status, a.deadline,
               coalesce(a.deadline < current_date AND a.status IN ('open', 'in_progress'), false),
               (SELECT r.effect FROM lwk.action_reviews r
                 WHERE r.action_session_id = a.session_id AND r.aid = a.aid
                 ORDER BY r.reviewed_at DESC LIMIT 1),
               ss.started_at, 2, a.aid
          FROM ss JOIN lwk.actions a ON a.session_id = ss.id AND NOT a.removed
      ) x
     ORDER BY x.started_at, x.session_id, x.o, x.n;
END
$$;

-- Teams whose next session, as agreed in the look ahead of their last one,
-- is due on p_day or earlier.
CREATE FUNCTION cycle_due(p_day date, p_org bigint, fac text) RETURNS TABLE (
    team_id bigint, team text, organisation_id bigint, session_id bigint, session_date date,
    next_date date, overdue boolean)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog
AS $$
    SELECT l.team_id, u.name, l.organisation_id, l.id, l.started_at::date, l.next_session_date,
           l.next_session_date < coalesce(p_day, current_date)
      FROM (SELECT DISTINCT ON (s.team_id) s.team_id, s.organisation_id, s.id, s.started_at,
                   s.next_session_date
              FROM lwk.sessions s
             ORDER BY s.team_id, s.started_at DESC, s.id DESC) l
      JOIN lwk.org_units u ON u.id = l.team_id AND u.archived_at IS NULL
     WHERE l.next_session_date <= coalesce(p_day, current_date)
       AND (p_org IS NULL OR l.organisation_id = p_org)
       AND lwk.may_see(fac, l.organisation_id)
     ORDER BY l.next_session_date, u.name
$$;

-- Practice examples per item of an instrument (all versions), across the
-- organisations the caller may see.
CREATE FUNCTION cycle_examples(p_instrument text, p_item_key text, p_org bigint, fac text)
    RETURNS TABLE (item_key text, item_name text, text text, team text, organisation_id bigint,
                   session_date date)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog
AS $$
    SELECT ii.key, ii.name, x.text, u.name, s.organisation_id, s.started_at::date
      FROM lwk.practice_examples x
      JOIN lwk.sessions s ON s.id = x.session_id
      JOIN lwk.instrument_versions v ON v.id = s.instrument_version_id
      JOIN lwk.instruments i ON i.id = v.instrument_id
      JOIN lwk.instrument_items ii ON ii.instrument_version_id = v.id AND ii.position = x.item
      JOIN lwk.org_units u ON u.id = s.team_id
     WHERE NOT x.removed AND i.key = p_instrument
       AND (p_item_key IS NULL OR ii.key = p_item_key)
       AND (p_org IS NULL OR s.organisation_id = p_org)
       AND lwk.may_see(fac, s.organisation_id)
     ORDER BY ii.key, s.started_at, x.session_id, x.kid
$$;

-- ---------------------------------------------------------------------------
-- Row-level security on the new tables, as 011 does for the others
-- ---------------------------------------------------------------------------

ALTER TABLE practice_examples ENABLE ROW LEVEL SECURITY;
ALTER TABLE practice_examples FORCE ROW LEVEL SECURITY;
ALTER TABLE timer_overruns ENABLE ROW LEVEL SECURITY;
ALTER TABLE timer_overruns FORCE ROW LEVEL SECURITY;
CREATE POLICY lwk_owner_all ON practice_examples TO lwk_owner USING (true) WITH CHECK (true);
CREATE POLICY lwk_owner_all ON timer_overruns TO lwk_owner USING (true) WITH CHECK (true);
CREATE POLICY lwk_daemon_all ON practice_examples TO lwk_daemon USING (true) WITH CHECK (true);
CREATE POLICY lwk_daemon_all ON timer_overruns TO lwk_daemon USING (true) WITH CHECK (true);
CREATE POLICY lwk_analyst_read ON practice_examples FOR SELECT TO lwk_analyst
    USING (session_id IN (SELECT s.id FROM lwk.sessions s));
CREATE POLICY lwk_analyst_read ON timer_overruns FOR SELECT TO lwk_analyst
    USING (session_id IN (SELECT s.id FROM lwk.sessions s));

-- ---------------------------------------------------------------------------
-- Rights. The triggers run with the daemon's rights.
-- ---------------------------------------------------------------------------

GRANT SELECT, INSERT, UPDATE ON practice_examples TO lwk_daemon;
GRANT SELECT, INSERT ON timer_overruns TO lwk_daemon;
REVOKE EXECUTE ON FUNCTION session_events_pin_version(), session_events_project_cycle(),
    project_cycle_event(bigint, bigint, text, jsonb), may_see(text, bigint),
    team_lookup(bigint, text, text), instrument_store(text, text, int, text, jsonb),
    review_actions(bigint, int), session_item_results(bigint), review_previous(bigint, text),
    cycle_actions(bigint, text, text, boolean, text), cycle_update_action(bigint, text, text, text),
    cycle_history(bigint, text, text), cycle_due(date, bigint, text),
    cycle_examples(text, text, bigint, text)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION project_cycle_event(bigint, bigint, text, jsonb), may_see(text, bigint),
    team_lookup(bigint, text, text), instrument_store(text, text, int, text, jsonb),
    review_actions(bigint, int), session_item_results(bigint), review_previous(bigint, text),
    cycle_actions(bigint, text, text, boolean, text), cycle_update_action(bigint, text, text, text),
    cycle_history(bigint, text, text), cycle_due(date, bigint, text),
    cycle_examples(text, text, bigint, text)
    TO lwk_daemon;
