-- 004_persistence.sql: what lwkd's store needs around the event log.
--
--   * session_events.data: the decoded event as JSON (no resume tokens or
--     session codes: those stay in payload, which the restore needs).
--   * lwk.store_events(...): the daemon's one write. It takes a batch of
--     events as arrays, inserts them with ON CONFLICT (session_id, seq) DO
--     NOTHING (a batch sent twice is stored once) and returns how many were
--     new and how many it had to set aside. An event that cannot be stored
--     (its session has no row: no team unit, an unknown instrument key...)
--     goes to lwk.rejected_events with the error instead of blocking every
--     event behind it; nothing the daemon accepted is dropped.
--   * The projection: a trigger on session_events keeps the normalized
--     tables (sessions, participants, scores, keywords, themes, votes,
--     desired scores, actions, look ahead, summary, reactions, evaluations)
--     equal to what the events say. A BEFORE ROW trigger creates the
--     sessions row from session.created (the foreign key needs it first; it
--     is idempotent, since BEFORE triggers also fire for rows that ON
--     CONFLICT then skips); an AFTER STATEMENT trigger with a transition
--     table applies every other event exactly once, in (session, seq) order,
--     because the transition table holds only rows really inserted. An event
--     the projection cannot apply is recorded in lwk.projection_errors and
--     the others still are: the log stays complete either way.
--   * Columns the events carry but 002/003 had no place for (theme votes and
--     proposer, action proposer/confirmed/removed, one reaction per kid).
--   * The shipped instruments (sql/instruments/*.lwki), so that a session's
--     instrument_version_id can be found from its instrument key.
--
-- Applied once by scripts/migrate.sh inside one transaction (no BEGIN/COMMIT).

SET LOCAL ROLE lwk_owner;
SET LOCAL search_path = lwk;

-- ---------------------------------------------------------------------------
-- The event log: decoded events, and what could not be stored
-- ---------------------------------------------------------------------------

ALTER TABLE session_events ADD COLUMN data jsonb;

-- Events the database refused (sqlstate and message say why), kept whole so
-- an operator can fix the cause and store them again:
--     SELECT * FROM lwk.store_events(array_agg(session_id ORDER BY session_id, seq), ...)
--       FROM lwk.rejected_events WHERE ...;
CREATE TABLE rejected_events (
    session_id bigint NOT NULL,
    seq        bigint NOT NULL,
    kind       text NOT NULL,
    payload    bytea NOT NULL,
    data       jsonb,
    sqlstate   text NOT NULL,
    error      text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, seq)
);

-- Events stored in the log that the projection could not apply.
CREATE TABLE projection_errors (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_id bigint NOT NULL,
    seq        bigint NOT NULL,
    kind       text NOT NULL,
    sqlstate   text NOT NULL,
    error      text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX projection_errors_session_idx ON projection_errors (session_id, seq);

-- ---------------------------------------------------------------------------
-- Columns for what the events carry
-- ---------------------------------------------------------------------------

-- Who added a theme, and its total after the last vote (vote.closed).
ALTER TABLE themes ADD COLUMN pid int,
                   ADD COLUMN votes int NOT NULL DEFAULT 0 CHECK (votes >= 0);

-- Who proposed an action (NULL: the facilitator), whether the group
-- confirmed it, and whether it was taken off the list during the session.
ALTER TABLE actions ADD COLUMN pid int,
                    ADD COLUMN confirmed boolean NOT NULL DEFAULT false,
                    ADD COLUMN removed boolean NOT NULL DEFAULT false;

-- A participant may react to the summary more than once: reactions are
-- numbered per session (kid), as the events number them.
ALTER TABLE reactions ADD COLUMN kid int;
UPDATE reactions r SET kid = n.kid
  FROM (SELECT session_id, pid,
               row_number() OVER (PARTITION BY session_id ORDER BY updated_at, pid) AS kid
          FROM reactions) n
 WHERE n.session_id = r.session_id AND n.pid = r.pid;
ALTER TABLE reactions ALTER COLUMN kid SET NOT NULL,
                      ADD CHECK (kid >= 1),
                      DROP CONSTRAINT reactions_pkey,
                      ADD PRIMARY KEY (session_id, kid);
CREATE INDEX reactions_pid_idx ON reactions (session_id, pid);

-- ---------------------------------------------------------------------------
-- The projection
-- ---------------------------------------------------------------------------

-- SQLSTATE classes that say "try again later" rather than "this event does
-- not fit": they abort the whole statement, so the daemon retries the batch.
CREATE FUNCTION is_transient(state text) RETURNS boolean
    LANGUAGE sql IMMUTABLE
    SET search_path = pg_catalog
AS $$
    SELECT left(state, 2) IN ('08', '40', '53', '55', '57', '58', 'XX')
$$;

-- The instrument version of a session from its session.created event: the
-- event's instrument key and version (the newest version when the event has
-- none). A key or version the database does not know (a daemon newer than
-- the migrations, an instrument file installed on the daemon's host only) is
-- registered from the items the event lists, so a session is never refused
-- for it.
CREATE FUNCTION instrument_version_for(d jsonb) RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog
AS $$
DECLARE
    k    text := d->>'instrument';
    ver  int := (d->>'version')::int;
    inst bigint;
    v    bigint;
BEGIN
    SELECT iv.id INTO v
      FROM lwk.instruments i JOIN lwk.instrument_versions iv ON iv.instrument_id = i.id
     WHERE i.key = k AND (ver IS NULL OR iv.version = ver)
     ORDER BY iv.version DESC
     LIMIT 1;
    IF v IS NOT NULL THEN
        RETURN v;
    END IF;
    INSERT INTO lwk.instruments (key, name) VALUES (k, k) ON CONFLICT (key) DO NOTHING;
    SELECT id INTO inst FROM lwk.instruments WHERE key = k;
    INSERT INTO lwk.instrument_versions (instrument_id, version, definition)
    VALUES (inst,
            coalesce(ver, (SELECT coalesce(max(version), 0) + 1 FROM lwk.instrument_versions
                            WHERE instrument_id = inst)),
            '# registered by lwkd from a session.created event; items: '
                || coalesce(d->'rows', '[]'::jsonb)::text)
    RETURNING id INTO v;
    INSERT INTO lwk.instrument_items (instrument_version_id, position, key, name, scored,
                                      scale_min, scale_max)
    SELECT v, (r->>'item')::smallint, coalesce(r->>'item_key', 'item-' || (r->>'item')),
           left(r->>'name', 200),
           r ? 'values', (r->'values'->>0)::smallint, (r->'values'->>1)::smallint
      FROM jsonb_array_elements(coalesce(d->'rows', '[]'::jsonb)) AS r;
    RETURN v;
END
$$;

-- BEFORE INSERT on session_events: the sessions row of a session.created.
-- A session needs its team (the event's "unit", an org_units row of kind
-- team): without it the event fails here, the foreign key refuses the rest
-- of that session, and lwk.store_events sets them aside (rejected_events).
CREATE FUNCTION session_events_create_session() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog
AS $$
DECLARE
    d    jsonb := NEW.data;
    unit bigint;
    org  bigint;
    fac  bigint;
    at   timestamptz;
BEGIN
    IF NEW.kind <> 'session.created' OR d IS NULL
       OR EXISTS (SELECT 1 FROM lwk.sessions WHERE id = NEW.session_id) THEN
        RETURN NEW;
    END IF;
    unit := (d->>'unit')::bigint;
    SELECT u.organisation_id INTO org FROM lwk.org_units u WHERE u.id = unit AND u.kind = 'team';
    IF org IS NULL THEN
        RAISE EXCEPTION 'session %: unit % is not a known team', NEW.session_id, coalesce(unit::text, 'NULL')
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    -- The facilitator, when the name names exactly one active one.
    SELECT min(f.id) INTO fac FROM lwk.facilitators f
     WHERE f.name = d->>'name' AND f.disabled_at IS NULL
    HAVING count(*) = 1;
    at := CASE WHEN d ? 'ts' THEN to_timestamp((d->>'ts')::double precision / 1000) ELSE now() END;
    INSERT INTO lwk.sessions (id, organisation_id, team_id, instrument_version_id, facilitator_id,
                              status, started_at)
    VALUES (NEW.session_id, org, unit, lwk.instrument_version_for(d), fac, 'open', at)
    ON CONFLICT (id) DO NOTHING;
    RETURN NEW;
END
$$;

-- One event into the normalized tables. The same rules as proto/state.c's
-- reducer (which the daemon and every client use), written as upserts.
CREATE FUNCTION project_event(sid bigint, ev_seq bigint, ev_kind text, d jsonb) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog
AS $$
DECLARE
    at       timestamptz;
    fresh    boolean;
    it       smallint := (d->>'item')::smallint;
    rd       smallint := (d->>'round')::smallint;
    p        int := (d->>'pid')::int;
BEGIN
    IF d IS NULL THEN
        RETURN;
    END IF;
    at := CASE WHEN d ? 'ts' THEN to_timestamp((d->>'ts')::double precision / 1000) ELSE now() END;
    CASE ev_kind
    WHEN 'joined' THEN
        INSERT INTO lwk.participants (session_id, pid, display_name, joined_at)
        VALUES (sid, p, d->>'name', at)
        ON CONFLICT (session_id, pid) DO NOTHING;
    WHEN 'removed' THEN
        UPDATE lwk.participants SET removed = true WHERE session_id = sid AND pid = p;
    WHEN 'phase' THEN
        IF d->>'phase' IN ('score', 'explain') AND it IS NOT NULL AND rd IS NOT NULL THEN
            INSERT INTO lwk.score_rounds (session_id, item, round, opened_at)
            VALUES (sid, it, rd, at) ON CONFLICT DO NOTHING;
        ELSIF d->>'phase' = 'closed' THEN
            UPDATE lwk.sessions
               SET status = 'closed', closed_at = greatest(at, coalesce(started_at, at)),
                   updated_at = now()
             WHERE id = sid AND status <> 'closed';
        END IF;
    WHEN 'round' THEN
        INSERT INTO lwk.score_rounds (session_id, item, round, opened_at)
        VALUES (sid, it, rd, at) ON CONFLICT DO NOTHING;
    WHEN 'scored' THEN
        -- The full encoding carries the value; a score without one changes nothing here.
        IF d ? 'value' THEN
            INSERT INTO lwk.score_rounds (session_id, item, round, opened_at)
            VALUES (sid, it, rd, at) ON CONFLICT DO NOTHING;
            INSERT INTO lwk.scores (session_id, item, round, pid, value, updated_at)
            VALUES (sid, it, rd, p, (d->>'value')::smallint, at)
            ON CONFLICT (session_id, item, round, pid)
                DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at;
        END IF;
    WHEN 'revealed' THEN
        -- values: pid, value, pid, value, ...
        INSERT INTO lwk.scores (session_id, item, round, pid, value, updated_at)
        SELECT sid, it, rd, (d->'values'->>(2 * g))::int, (d->'values'->>(2 * g + 1))::smallint, at
          FROM generate_series(0, jsonb_array_length(d->'values') / 2 - 1) AS g
        ON CONFLICT (session_id, item, round, pid)
            DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at;
        UPDATE lwk.score_rounds SET revealed_at = greatest(at, opened_at)
         WHERE session_id = sid AND item = it AND round = rd;
    WHEN 'keyword.added' THEN
        INSERT INTO lwk.keywords (session_id, kid, pid, item, text, created_at, updated_at)
        VALUES (sid, (d->>'kid')::int, p, it, d->>'text', at, at)
        ON CONFLICT (session_id, kid) DO NOTHING;
    WHEN 'keyword.removed' THEN
        UPDATE lwk.keywords SET deleted = true, updated_at = at
         WHERE session_id = sid AND kid = (d->>'kid')::int;
    WHEN 'theme.added' THEN
        -- An existing id restores that theme (an undo of a delete or merge).
        INSERT INTO lwk.themes (session_id, tid, text, pid, created_at, updated_at)
        VALUES (sid, (d->>'theme')::int, d->>'text', p, at, at)
        ON CONFLICT (session_id, tid) DO UPDATE
            SET text = excluded.text, pid = coalesce(excluded.pid, lwk.themes.pid),
                merged_into = NULL, deleted = false, updated_at = excluded.updated_at;
        DELETE FROM lwk.theme_items WHERE session_id = sid AND tid = (d->>'theme')::int;
        INSERT INTO lwk.theme_items (session_id, tid, item)
        SELECT DISTINCT sid, (d->>'theme')::int, x::smallint
          FROM jsonb_array_elements_text(coalesce(d->'items', '[]'::jsonb)) AS x;
    WHEN 'theme.edited' THEN
        UPDATE lwk.themes SET text = d->>'text', updated_at = at
         WHERE session_id = sid AND tid = (d->>'theme')::int;
        IF d ? 'items' THEN
            DELETE FROM lwk.theme_items WHERE session_id = sid AND tid = (d->>'theme')::int;
            INSERT INTO lwk.theme_items (session_id, tid, item)
            SELECT DISTINCT sid, (d->>'theme')::int, x::smallint
              FROM jsonb_array_elements_text(d->'items') AS x;
        END IF;
    WHEN 'theme.merged' THEN
        UPDATE lwk.themes SET merged_into = (d->>'into')::int, updated_at = at
         WHERE session_id = sid AND tid = (d->>'theme')::int;
    WHEN 'theme.deleted' THEN
        UPDATE lwk.themes SET deleted = true, updated_at = at
         WHERE session_id = sid AND tid = (d->>'theme')::int;
    WHEN 'vote.opened' THEN
        -- A new vote starts from nothing.
        DELETE FROM lwk.theme_votes WHERE session_id = sid;
    WHEN 'voted' THEN
        -- A vote taken back only changes a row that exists (a proposed row
        -- with -1 would fail the CHECK before ON CONFLICT is looked at).
        IF (d->>'delta')::int < 0 THEN
            UPDATE lwk.theme_votes SET votes = votes + (d->>'delta')::int, updated_at = at
             WHERE session_id = sid AND tid = (d->>'theme')::int AND pid = p;
        ELSIF d ? 'theme' AND d ? 'delta' THEN
            INSERT INTO lwk.theme_votes (session_id, tid, pid, votes, updated_at)
            VALUES (sid, (d->>'theme')::int, p, (d->>'delta')::smallint, at)
            ON CONFLICT (session_id, tid, pid)
                DO UPDATE SET votes = lwk.theme_votes.votes + excluded.votes,
                              updated_at = excluded.updated_at;
        END IF;
    WHEN 'vote.closed' THEN
        -- values: theme, total, theme, total, ...
        UPDATE lwk.themes SET votes = 0 WHERE session_id = sid AND votes <> 0;
        UPDATE lwk.themes t SET votes = v.total
          FROM (SELECT (d->'values'->>(2 * g))::int AS tid, (d->'values'->>(2 * g + 1))::int AS total
                  FROM generate_series(0, jsonb_array_length(d->'values') / 2 - 1) AS g) v
         WHERE t.session_id = sid AND t.tid = v.tid;
    WHEN 'desired.proposed' THEN
        INSERT INTO lwk.desired_score_proposals (session_id, item, pid, value, updated_at)
        VALUES (sid, it, p, (d->>'value')::smallint, at)
        ON CONFLICT (session_id, item, pid)
            DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at;
    WHEN 'desired.agreed', 'desired.set' THEN
        IF d ? 'value' THEN
            INSERT INTO lwk.desired_scores (session_id, item, value, agreed, updated_at)
            VALUES (sid, it, (d->>'value')::smallint, true, at)
            ON CONFLICT (session_id, item)
                DO UPDATE SET value = excluded.value, agreed = true, updated_at = excluded.updated_at;
        ELSE
            DELETE FROM lwk.desired_scores WHERE session_id = sid AND item = it;
        END IF;
    WHEN 'action.added' THEN
        -- An existing id restores that action (an undo of a removal).
        INSERT INTO lwk.actions (organisation_id, team_id, session_id, aid, description, owner,
                                 role, context, deadline, feedback_moment, resources, item, tid,
                                 pid, confirmed, removed, created_at, updated_at)
        SELECT s.organisation_id, s.team_id, sid, (d->>'action')::int, d->>'text', d->>'owner',
               d->>'role', d->>'where', (d->>'deadline')::date, d->>'feedback', d->>'resources',
               it, (d->>'theme')::int, p, coalesce((d->>'confirmed')::boolean, false), false, at, at
          FROM lwk.sessions s WHERE s.id = sid
        ON CONFLICT (session_id, aid) DO UPDATE
            SET description = excluded.description, owner = excluded.owner, role = excluded.role,
                context = excluded.context, deadline = excluded.deadline,
                feedback_moment = excluded.feedback_moment, resources = excluded.resources,
                item = excluded.item, tid = excluded.tid, pid = excluded.pid,
                confirmed = excluded.confirmed, removed = false, updated_at = excluded.updated_at
        RETURNING (xmax = 0) INTO fresh;
        IF fresh THEN
            INSERT INTO lwk.action_status_history (action_session_id, aid, status, changed_at,
                                                   session_id, seq)
            VALUES (sid, (d->>'action')::int, 'open', at, sid, ev_seq)
            ON CONFLICT (session_id, seq) DO NOTHING;
        END IF;
    WHEN 'action.edited' THEN
        -- An edit restates every descriptive field: one left out is cleared.
        UPDATE lwk.actions
           SET description = d->>'text', owner = d->>'owner', role = d->>'role',
               context = d->>'where', deadline = (d->>'deadline')::date,
               feedback_moment = d->>'feedback', resources = d->>'resources', item = it,
               tid = (d->>'theme')::int, updated_at = at
         WHERE session_id = sid AND aid = (d->>'action')::int;
    WHEN 'action.confirmed' THEN
        UPDATE lwk.actions SET confirmed = (d->>'confirmed')::boolean, updated_at = at
         WHERE session_id = sid AND aid = (d->>'action')::int;
    WHEN 'action.removed' THEN
        UPDATE lwk.actions SET removed = true, updated_at = at
         WHERE session_id = sid AND aid = (d->>'action')::int;
    WHEN 'lookahead.date.set', 'lookahead.date' THEN
        UPDATE lwk.sessions SET next_session_date = (d->>'date')::date, updated_at = now()
         WHERE id = sid;
    WHEN 'lookahead.added' THEN
        INSERT INTO lwk.look_ahead_items (session_id, lid, text, created_at, updated_at)
        VALUES (sid, (d->>'kid')::int, d->>'text', at, at)
        ON CONFLICT (session_id, lid) DO NOTHING;
    WHEN 'lookahead.removed' THEN
        UPDATE lwk.look_ahead_items SET deleted = true, updated_at = at
         WHERE session_id = sid AND lid = (d->>'kid')::int;
    WHEN 'summary.set' THEN
        IF d ? 'text' THEN
            INSERT INTO lwk.summaries (session_id, text, updated_at) VALUES (sid, d->>'text', at)
            ON CONFLICT (session_id)
                DO UPDATE SET text = excluded.text, updated_at = excluded.updated_at;
        ELSE
            DELETE FROM lwk.summaries WHERE session_id = sid;
        END IF;
    WHEN 'reaction.added' THEN
        INSERT INTO lwk.reactions (session_id, kid, pid, text, updated_at)
        VALUES (sid, (d->>'kid')::int, p, d->>'text', at)
        ON CONFLICT (session_id, kid) DO NOTHING;
    WHEN 'evaluation.added' THEN
        INSERT INTO lwk.evaluations (session_id, pid, rating, text, updated_at)
        VALUES (sid, p, (d->>'rating')::smallint, d->>'text', at)
        ON CONFLICT (session_id, pid)
            DO UPDATE SET rating = excluded.rating, text = excluded.text,
                          updated_at = excluded.updated_at;
    WHEN 'paused' THEN
        UPDATE lwk.sessions
           SET status = CASE WHEN (d->>'online')::boolean THEN 'paused' ELSE 'open' END,
               updated_at = now()
         WHERE id = sid AND status <> 'closed';
    WHEN 'closed' THEN
        UPDATE lwk.sessions
           SET status = 'closed', closed_at = greatest(at, coalesce(started_at, at)),
               updated_at = now()
         WHERE id = sid AND status <> 'closed';
    ELSE
        NULL; -- session.created (BEFORE trigger), presence, turns, turn, notice
    END CASE;
END
$$;

-- AFTER INSERT ... FOR EACH STATEMENT: every event the statement really
-- inserted, once. All in one go; if one event does not fit, all of them
-- again one by one, recording which did not.
CREATE FUNCTION session_events_project() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog
AS $$
DECLARE
    e record;
BEGIN
    BEGIN
        FOR e IN SELECT n.session_id, n.seq, n.kind, n.data FROM new_events n
                  ORDER BY n.session_id, n.seq LOOP
            PERFORM lwk.project_event(e.session_id, e.seq, e.kind, e.data);
        END LOOP;
    EXCEPTION WHEN OTHERS THEN
        IF lwk.is_transient(SQLSTATE) THEN
            RAISE;
        END IF;
        FOR e IN SELECT n.session_id, n.seq, n.kind, n.data FROM new_events n
                  ORDER BY n.session_id, n.seq LOOP
            BEGIN
                PERFORM lwk.project_event(e.session_id, e.seq, e.kind, e.data);
            EXCEPTION WHEN OTHERS THEN
                IF lwk.is_transient(SQLSTATE) THEN
                    RAISE;
                END IF;
                INSERT INTO lwk.projection_errors (session_id, seq, kind, sqlstate, error)
                VALUES (e.session_id, e.seq, e.kind, SQLSTATE, SQLERRM);
            END;
        END LOOP;
    END;
    UPDATE lwk.sessions s SET last_seq = m.seq, updated_at = now()
      FROM (SELECT n.session_id, max(n.seq) AS seq FROM new_events n GROUP BY n.session_id) m
     WHERE s.id = m.session_id AND s.last_seq < m.seq;
    RETURN NULL;
END
$$;

CREATE TRIGGER session_events_create_session
    BEFORE INSERT ON session_events
    FOR EACH ROW EXECUTE FUNCTION session_events_create_session();
CREATE TRIGGER session_events_project
    AFTER INSERT ON session_events
    REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION session_events_project();

-- ---------------------------------------------------------------------------
-- The daemon's write
-- ---------------------------------------------------------------------------

-- Stores a batch: element i of every array is one event. Returns how many
-- were new (stored) and how many had to go to rejected_events. Order
-- matters within a session (the projection needs session.created first):
-- the arrays hold each session's events in seq order.
CREATE FUNCTION store_events(p_session bigint[], p_seq bigint[], p_kind text[], p_payload bytea[],
                             p_data jsonb[])
    RETURNS TABLE (stored int, rejected int)
    LANGUAGE plpgsql
    SET search_path = pg_catalog
AS $$
DECLARE
    n_new int;
BEGIN
    stored := 0;
    rejected := 0;
    BEGIN
        INSERT INTO lwk.session_events (session_id, seq, kind, payload, data)
        SELECT u.s, u.q, u.k, u.p, u.d
          FROM unnest(p_session, p_seq, p_kind, p_payload, p_data)
               WITH ORDINALITY AS u (s, q, k, p, d, o)
         ORDER BY u.o
        ON CONFLICT (session_id, seq) DO NOTHING;
        GET DIAGNOSTICS stored = ROW_COUNT;
        RETURN NEXT;
        RETURN;
    EXCEPTION WHEN OTHERS THEN
        IF lwk.is_transient(SQLSTATE) THEN
            RAISE;
        END IF;
    END;
    -- Some event does not fit: store the others one at a time.
    FOR i IN 1 .. coalesce(array_length(p_seq, 1), 0) LOOP
        BEGIN
            INSERT INTO lwk.session_events (session_id, seq, kind, payload, data)
            VALUES (p_session[i], p_seq[i], p_kind[i], p_payload[i], p_data[i])
            ON CONFLICT (session_id, seq) DO NOTHING;
            GET DIAGNOSTICS n_new = ROW_COUNT;
            stored := stored + n_new;
        EXCEPTION WHEN OTHERS THEN
            IF lwk.is_transient(SQLSTATE) THEN
                RAISE;
            END IF;
            INSERT INTO lwk.rejected_events (session_id, seq, kind, payload, data, sqlstate, error)
            VALUES (p_session[i], p_seq[i], p_kind[i], p_payload[i], p_data[i], SQLSTATE, SQLERRM)
            ON CONFLICT (session_id, seq) DO NOTHING;
            rejected := rejected + 1;
        END;
    END LOOP;
    RETURN NEXT;
END
$$;

-- ---------------------------------------------------------------------------
-- The shipped instruments, generated from sql/instruments/*.lwki (the
-- definition is the file's text). A changed file is a new version in a new
-- migration: a version is immutable once a session refers to it.
-- ---------------------------------------------------------------------------

-- lwk-meting version 1 (sql/instruments/lwk-meting.lwki)
INSERT INTO instruments (id, key, name) OVERRIDING SYSTEM VALUE VALUES (1, 'lwk-meting', 'LWK-meting');
INSERT INTO instrument_versions (id, instrument_id, version, definition) OVERRIDING SYSTEM VALUE
SELECT 1, id, 1, $lwki$# LWK-meting: the learning-work climate measurement (stappenkaart).
# The team grades four capabilities (vermogens), explains the grades, names
# themes and desired grades and agrees its own actions. Format:
# docs/instruments.md. Texts are our own wording of the LWWL toolkit.
format = 1
key = lwk-meting
version = 1
name.nl = LWK-meting
name.en = Learning-work climate measurement
description.nl = Het team geeft de vier vermogens elk een cijfer, licht die cijfers toe, zoekt de thema's erachter en kiest welk cijfer het wil bereiken. Daarna spreekt het team zelf acties af. Het gesprek is het doel; de cijfers brengen het op gang.
description.en = The team grades each of the four capabilities, explains the grades, looks for the themes behind them and chooses the grade it wants to reach. Then the team agrees its own actions. The conversation is the point; the grades get it started.
steps = review lobby score explain themes desired actions look_ahead summary closed
select = no
# Scores stay hidden until at least three are in, so no single grade can be
# traced back to the one person who gave it.
min_reveal = 3

[item absorptie]
name.nl = Absorptievermogen
name.en = Absorptive capacity
prompt.nl = Lukt het ons team om nieuwe collega's, leerlingen en stagiairs goed op te vangen, wegwijs te maken en te begeleiden?
prompt.en = Does our team manage to welcome new colleagues and students well, show them the ropes and guide them?
scored = yes
scale = 1-10
notes = no

[item verbindend]
name.nl = Verbindend vermogen
name.en = Connecting capacity
prompt.nl = Voelen medewerkers en studenten zich hier thuis, als deel van een vakgroep waar ze bij horen?
prompt.en = Do staff and students feel at home here, as part of a professional group they belong to?
scored = yes
scale = 1-10
notes = no

[item opleidend]
name.nl = Opleidend vermogen
name.en = Training capacity
prompt.nl = Slaagt onze organisatie erin nieuwe zorgmedewerkers op te leiden en hen daarna ook vast te houden?
prompt.en = Does our organisation succeed in training new care workers and then keeping them?
scored = yes
scale = 1-10
notes = no

[item lerend]
name.nl = Lerend vermogen
name.en = Learning capacity
prompt.nl = Is er ruimte om ingewikkelde situaties uit het werk samen te onderzoeken, open en nieuwsgierig?
prompt.en = Is there room to look into difficult situations from our work together, openly and with curiosity?
scored = yes
scale = 1-10
notes = no

[agenda terugblik]
title.nl = Acties van de vorige meting
title.en = Actions from the previous measurement
guide.nl = Kijk voordat het team binnenkomt welke afspraken er de vorige keer zijn gemaakt en wat ermee is gebeurd.
guide.en = Before the team comes in, check which agreements were made last time and what became of them.
minutes = 0
step = review

[agenda welkom]
title.nl = Welkom en werkwijze
title.en = Welcome and how we work
guide.nl = Leg uit hoe de meting verloopt. De begeleider bewaakt het proces; de uitkomst is van de leidinggevende en de deelnemers.
guide.en = Explain how the measurement runs. The facilitator looks after the process; the outcome belongs to the manager and the participants.
minutes = 0
step = lobby

[agenda cijfer]
title.nl = Stap 1a: ieder geeft een cijfer
title.en = Step 1a: everyone gives a grade
guide.nl = Iedereen kiest eerst voor zichzelf een cijfer. Pas als alle cijfers binnen zijn, worden ze samen getoond. Stap 2: doe 1a en 1b opnieuw tot alle vermogens aan bod zijn geweest.
guide.en = Everyone first picks a grade privately. Only when all grades are in are they shown together. Step 2: repeat 1a and 1b until every capability has had its turn.
minutes = 0
step = score
items = absorptie,verbindend,opleidend,lerend

[agenda toelichting]
title.nl = Stap 1b: cijfers toelichten
title.en = Step 1b: explaining the grades
guide.nl = Om de beurt licht ieder het eigen cijfer toe; de anderen luisteren. Wat gaat goed en wat niet? Welke kleine successen zie je, en wat zit je dwars? Noteer kernwoorden zo dat iedereen ze ziet.
guide.en = In turn, each person explains their grade while the others listen. What goes well and what does not? Which small successes do you see, and what bothers you? Note keywords where everyone can see them.
minutes = 0
step = explain
items = absorptie,verbindend,opleidend,lerend

[agenda themas]
title.nl = Stap 3a: thema's benoemen
title.en = Step 3a: naming themes
guide.nl = Wat zeggen de cijfers en toelichtingen samen? Welke thema's springen eruit? Schrijf ze in kernwoorden op.
guide.en = What do the grades and explanations say together? Which themes stand out? Write them down in keywords.
minutes = 0
step = themes

[agenda gewenst]
title.nl = Stap 3a: gewenste cijfers
title.en = Step 3a: desired grades
guide.nl = Welk cijfer wil het team per vermogen bereiken?
guide.en = Which grade does the team want to reach for each capability?
minutes = 0
step = desired
items = absorptie,verbindend,opleidend,lerend

[agenda acties]
title.nl = Stap 3b: acties en rollen
title.en = Step 3b: actions and roles
guide.nl = Het team bedenkt zelf de acties. Wat gaan we doen, wie pakt het op, waar, wanneer is het klaar en hoe horen we hoe het ging? Alles komt op het scoreblad.
guide.en = The team devises its own actions. What will we do, who takes it on, where, when is it done and how do we hear how it went? Everything goes on the score sheet.
minutes = 0
step = actions

[agenda vooruit]
title.nl = Stap 4: blik vooruit
title.en = Step 4: look ahead
guide.nl = Spreek af wanneer de vervolggesprekken zijn, en geef de vermogens een vaste plek in wat al terugkomt: teamoverleg, functioneringsgesprekken, inwerken.
guide.en = Agree when the follow-up conversations take place, and give the capabilities a regular place in what already recurs: team meetings, appraisal talks, onboarding.
minutes = 0
step = look_ahead

[agenda samenvatting]
title.nl = Samenvatting en terugblik
title.en = Summary and look back
guide.nl = Vat samen wat de sessie heeft opgeleverd en wat je opviel, ook in hoe de groep samenwerkte; laat de deelnemers aanvullen. Loop acties, eigenaren, termijnen en hulpmiddelen nog één keer na. Wat hebben we eraan gehad en hoe was het?
guide.en = Sum up what the session yielded and what struck you, including how the group worked together; let the participants add to it. Go over actions, owners, deadlines and resources once more. What did we gain and how was it?
minutes = 0
step = summary
$lwki$
  FROM instruments WHERE key = 'lwk-meting';
INSERT INTO instrument_items (instrument_version_id, position, key, name, scored, scale_min, scale_max)
SELECT v.id, i.position, i.key, i.name, i.scored, i.scale_min::smallint, i.scale_max::smallint
  FROM instruments n JOIN instrument_versions v ON v.instrument_id = n.id AND v.version = 1
  CROSS JOIN (VALUES
        (0, 'absorptie', 'Absorptievermogen', true, 1, 10),
        (1, 'verbindend', 'Verbindend vermogen', true, 1, 10),
        (2, 'opleidend', 'Opleidend vermogen', true, 1, 10),
        (3, 'lerend', 'Lerend vermogen', true, 1, 10)
  ) AS i (position, key, name, scored, scale_min, scale_max)
 WHERE n.key = 'lwk-meting';

-- quickscan version 1 (sql/instruments/quickscan.lwki)
INSERT INTO instruments (id, key, name) OVERRIDING SYSTEM VALUE VALUES (2, 'quickscan', 'Quickscan leervoorwaarden');
INSERT INTO instrument_versions (id, instrument_id, version, definition) OVERRIDING SYSTEM VALUE
SELECT 2, id, 1, $lwki$# Quickscan leervoorwaarden: a timed conversation of 30 to 35 minutes about
# what a learning culture needs (time, budget, processes, anchoring). The four
# scenarios are discussed, not scored. Format: docs/instruments.md.
format = 1
key = quickscan
version = 1
name.nl = Quickscan leervoorwaarden
name.en = Quickscan learning conditions
description.nl = Een kort gesprek op de klok over de voorwaarden voor een leercultuur: tijd, geld, processen en borging. Vier scenario's zetten het gesprek op gang; de afspraken die eruit komen gaan naar het opleidingsbeleid.
description.en = A short conversation against the clock about the conditions for a learning culture: time, money, processes and anchoring. Four scenarios start the discussion; the agreements that come out of it go into the training policy.
steps = lobby explain actions summary closed
select = no

[item budget]
name.nl = Budget en flexibiliteit
name.en = Budget and flexibility
prompt.nl = Niet al het geld voor leren en ontwikkelen wordt uitgegeven. Wat doen we met wat er overblijft, en waar gaat het naartoe als het jaar voorbij is?
prompt.en = Not all the money for learning and development gets spent. What do we do with what is left, and where does it go when the year is over?
scored = no
notes = no

[item tijd]
name.nl = Tijd en werkdruk
name.en = Time and workload
prompt.nl = Medewerkers en leidinggevenden zeggen dat ze door de drukte niet aan leren toekomen. Hoe houden we leren toch mogelijk?
prompt.en = Staff and managers say they are too busy to get round to learning. How do we keep learning possible anyway?
guide.nl = Bijvoorbeeld vaste leerblokken in het rooster, of leermomenten die meebewegen met het werk. Let op de maanden waarin het ieder jaar drukker is.
guide.en = For example fixed learning blocks in the roster, or learning moments that move with the work. Mind the months that are busier every year.
scored = no
notes = no

[item borging]
name.nl = Borging van het geleerde
name.en = Anchoring what was learned
prompt.nl = Hoe zorgen we dat wat medewerkers leren blijft hangen en bij anderen terechtkomt? Hoe leggen we persoonlijke ontwikkeldoelen vast, en welke concrete afspraken horen daarbij?
prompt.en = How do we make sure that what staff learn sticks and reaches others? How do we record personal development goals, and which concrete agreements go with that?
scored = no
notes = no

[item leerroute]
name.nl = Leerroute van een medewerker
name.en = An employee's learning route
prompt.nl = Een medewerker wil iets nieuws leren. Welke weg legt die af, en welke stappen moet hij of zij daarvoor zetten?
prompt.en = An employee wants to learn something new. Which way do they go, and which steps do they have to take?
scored = no
notes = no

[agenda inleiding]
title.nl = Inleiding en doel
title.en = Introduction and purpose
guide.nl = Leg kort uit hoe het gesprek loopt en waar het om gaat: samen verkennen wat een goede leercultuur nodig heeft.
guide.en = Briefly explain how the conversation runs and what it is for: exploring together what a good learning culture needs.
minutes = 3
step = lobby

[agenda scenarios]
title.nl = Vier scenario's bespreken
title.en = Discussing four scenarios
guide.nl = Verdeel de tijd eerlijk over de vier scenario's; de tijd bewaken hoort bij de werkvorm.
guide.en = Share the time fairly between the four scenarios; keeping time is part of the method.
minutes = 20
step = explain
items = budget,tijd,borging,leerroute

[agenda actiepunten]
title.nl = Actiepunten vastleggen
title.en = Recording action points
guide.nl = Wie houdt budget en planning in de gaten? Met welke eerste stappen zorgen we dat de afspraken blijven staan? Wanneer kijken we of het werkt? Leg elke afspraak meteen vast, met een eigenaar.
guide.en = Who keeps an eye on budget and planning? With which first steps do we make sure the agreements stick? When do we check whether it works? Record each agreement straight away, with an owner.
minutes = 7
step = actions

[agenda afsluiting]
title.nl = Samenvatting en afsluiting
title.en = Summary and close
guide.nl = Vat samen wat er besproken is en wie welke actie oppakt. De afspraken worden opgenomen in het opleidingsbeleid.
guide.en = Sum up what was discussed and who takes on which action. The agreements are added to the training policy.
minutes = 2
step = summary
$lwki$
  FROM instruments WHERE key = 'quickscan';
INSERT INTO instrument_items (instrument_version_id, position, key, name, scored, scale_min, scale_max)
SELECT v.id, i.position, i.key, i.name, i.scored, i.scale_min::smallint, i.scale_max::smallint
  FROM instruments n JOIN instrument_versions v ON v.instrument_id = n.id AND v.version = 1
  CROSS JOIN (VALUES
        (0, 'budget', 'Budget en flexibiliteit', false, NULL, NULL),
        (1, 'tijd', 'Tijd en werkdruk', false, NULL, NULL),
        (2, 'borging', 'Borging van het geleerde', false, NULL, NULL),
        (3, 'leerroute', 'Leerroute van een medewerker', false, NULL, NULL)
  ) AS i (position, key, name, scored, scale_min, scale_max)
 WHERE n.key = 'quickscan';

-- klwo version 1 (sql/instruments/klwo.lwki)
INSERT INTO instruments (id, key, name) OVERRIDING SYSTEM VALUE VALUES (3, 'klwo', 'Krachtige leerwerkomgeving (KLWO)');
INSERT INTO instrument_versions (id, instrument_id, version, definition) OVERRIDING SYSTEM VALUE
SELECT 3, id, 1, $lwki$# KLWO: krachtige leerwerkomgeving (powerful learning-work environment), after
# the HAN model of 13 interconnected design principles. Format:
# docs/instruments.md.
#
# TO CHECK: the source we have does not list the 13 principles. The texts
# below are our own plausible reading of the model's intent (learning and
# working integrated; individual, collective and organisational learning) and
# must be checked against the HAN source by the programme office before this
# instrument is used in sessions. Bump `version` when they are corrected.
#
# An organisation does not take on all principles at once: it selects the
# ones that fit its own developments (select = yes). The free notes per
# principle hold practice examples the regional network can collect.
format = 1
key = klwo
version = 1
name.nl = Krachtige leerwerkomgeving (KLWO)
name.en = Powerful learning-work environment (KLWO)
description.nl = Een denk- en kijkkader van de HAN met dertien ontwerpprincipes die samen bepalen hoe goed een organisatie leren en werken verbindt. De organisatie kiest vooraf de principes die passen bij wat er nu speelt; het team geeft die een cijfer en bespreekt ze.
description.en = A framework from the HAN with thirteen design principles that together determine how well an organisation connects learning and working. The organisation chooses beforehand the principles that fit what is going on now; the team grades and discusses them.
steps = review lobby score explain themes desired actions look_ahead summary closed
select = yes
# As in the LWK-meting: no grade is shown before three are in.
min_reveal = 3

[item leren-in-werk]
name.nl = Leren zit in het werk
name.en = Learning is part of the work
prompt.nl = Hoe vanzelfsprekend leren we van het dagelijkse werk zelf, in plaats van alleen in cursussen buiten de werkvloer?
prompt.en = How naturally do we learn from the daily work itself, rather than only in courses away from the floor?
scored = yes
scale = 1-10
notes = yes

[item tijd-en-ruimte]
name.nl = Tijd en ruimte om te leren
name.en = Time and room to learn
prompt.nl = Is tijd om te leren ingepland in roosters en werkverdeling, ook in drukke periodes?
prompt.en = Is time for learning built into rosters and the division of work, also in busy periods?
scored = yes
scale = 1-10
notes = yes

[item eigen-regie]
name.nl = Regie op de eigen ontwikkeling
name.en = Ownership of one's own development
prompt.nl = Kunnen medewerkers zelf kiezen wat, hoe en wanneer ze leren, en worden ze daarin gesteund?
prompt.en = Can staff choose what, how and when they learn, and are they supported in doing so?
scored = yes
scale = 1-10
notes = yes

[item samen-leren]
name.nl = Samen leren in het team
name.en = Learning together as a team
prompt.nl = Bespreekt het team regelmatig samen het eigen werk, bijvoorbeeld in intervisie of bij het nabespreken van lastige situaties?
prompt.en = Does the team regularly talk its own work through together, for example in peer review or when looking back on difficult situations?
scored = yes
scale = 1-10
notes = yes

[item organisatie-leert]
name.nl = De organisatie leert mee
name.en = The organisation learns too
prompt.nl = Komen de lessen uit de teams terecht in werkwijzen, beleid en besluiten van de organisatie?
prompt.en = Do the lessons from the teams find their way into the organisation's ways of working, policies and decisions?
scored = yes
scale = 1-10
notes = yes

[item begeleiding]
name.nl = Deskundige begeleiding op de werkplek
name.en = Skilled guidance at the workplace
prompt.nl = Zijn er genoeg toegeruste werkbegeleiders en praktijkopleiders, en hebben zij tijd voor die rol?
prompt.en = Are there enough well-prepared workplace mentors and practice educators, and do they have time for that role?
scored = yes
scale = 1-10
notes = yes

[item leiderschap]
name.nl = Leidinggevenden die leren stimuleren
name.en = Managers who encourage learning
prompt.nl = Moedigen leidinggevenden leren aan, geven ze het goede voorbeeld en maken ze ruimte vrij?
prompt.en = Do managers encourage learning, set an example and make room for it?
scored = yes
scale = 1-10
notes = yes

[item feedback]
name.nl = Feedback en reflectie
name.en = Feedback and reflection
prompt.nl = Is het gewoon om elkaar feedback te geven en om samen terug te kijken op wat goed ging en wat beter kan?
prompt.en = Is it normal to give each other feedback and to look back together on what went well and what could be better?
scored = yes
scale = 1-10
notes = yes

[item veiligheid]
name.nl = Veilig om te leren
name.en = Safe to learn
prompt.nl = Durven medewerkers vragen te stellen, twijfels te uiten en fouten te bespreken zonder dat het tegen hen werkt?
prompt.en = Do staff dare to ask questions, voice doubts and discuss mistakes without it counting against them?
scored = yes
scale = 1-10
notes = yes

[item loopbaan]
name.nl = Zicht op loopbaan en groei
name.en = Career and growth in view
prompt.nl = Weten medewerkers welke ontwikkelpaden en doorgroeimogelijkheden er voor hen zijn?
prompt.en = Do staff know which development paths and opportunities to grow are open to them?
scored = yes
scale = 1-10
notes = yes

[item onderwijs-praktijk]
name.nl = Verbinding tussen onderwijs en praktijk
name.en = Connection between education and practice
prompt.nl = Werken de organisatie en de opleidingen samen, zodat wat studenten op school en op de werkplek leren op elkaar aansluit?
prompt.en = Do the organisation and the schools work together, so that what students learn at school and at work fits together?
scored = yes
scale = 1-10
notes = yes

[item kennis-delen]
name.nl = Kennis delen en vasthouden
name.en = Sharing and keeping knowledge
prompt.nl = Wordt nieuwe kennis gedeeld tussen collega's en teams, en blijft die bewaard als mensen vertrekken?
prompt.en = Is new knowledge shared between colleagues and teams, and is it kept when people leave?
scored = yes
scale = 1-10
notes = yes

[item beleid]
name.nl = Leren verankerd in beleid
name.en = Learning anchored in policy
prompt.nl = Hebben leren en ontwikkelen een vaste plek in strategie, opleidingsbeleid, budget en HR-processen?
prompt.en = Do learning and development have a fixed place in strategy, training policy, budget and HR processes?
scored = yes
scale = 1-10
notes = yes

[agenda terugblik]
title.nl = Acties van de vorige keer
title.en = Actions from last time
guide.nl = Kijk voordat het team binnenkomt welke afspraken er de vorige keer zijn gemaakt en wat ermee is gebeurd.
guide.en = Before the team comes in, check which agreements were made last time and what became of them.
minutes = 0
step = review

[agenda welkom]
title.nl = Welkom en gekozen principes
title.en = Welcome and the chosen principles
guide.nl = Leg uit welke principes de organisatie heeft gekozen en waarom die nu passen.
guide.en = Explain which principles the organisation has chosen and why they fit now.
minutes = 0
step = lobby

[agenda cijfer]
title.nl = Ieder geeft een cijfer
title.en = Everyone gives a grade
guide.nl = Per gekozen principe kiest iedereen eerst voor zichzelf een cijfer; daarna worden de cijfers samen getoond.
guide.en = For each chosen principle, everyone first picks a grade privately; then the grades are shown together.
minutes = 0
step = score

[agenda toelichting]
title.nl = Cijfers toelichten en voorbeelden noemen
title.en = Explaining grades and giving examples
guide.nl = Om de beurt; de anderen luisteren. Noteer kernwoorden, en leg goede voorbeelden uit de praktijk vast in de notities.
guide.en = In turn; the others listen. Note keywords, and record good examples from practice in the notes.
minutes = 0
step = explain

[agenda themas]
title.nl = Thema's benoemen
title.en = Naming themes
minutes = 0
step = themes

[agenda gewenst]
title.nl = Gewenste cijfers
title.en = Desired grades
minutes = 0
step = desired

[agenda acties]
title.nl = Acties en rollen
title.en = Actions and roles
guide.nl = Wat gaan we doen, wie pakt het op, wanneer is het klaar en hoe koppelen we terug?
guide.en = What will we do, who takes it on, when is it done and how do we report back?
minutes = 0
step = actions

[agenda vooruit]
title.nl = Blik vooruit
title.en = Look ahead
minutes = 0
step = look_ahead

[agenda samenvatting]
title.nl = Samenvatting en terugblik
title.en = Summary and look back
minutes = 0
step = summary
$lwki$
  FROM instruments WHERE key = 'klwo';
INSERT INTO instrument_items (instrument_version_id, position, key, name, scored, scale_min, scale_max)
SELECT v.id, i.position, i.key, i.name, i.scored, i.scale_min::smallint, i.scale_max::smallint
  FROM instruments n JOIN instrument_versions v ON v.instrument_id = n.id AND v.version = 1
  CROSS JOIN (VALUES
        (0, 'leren-in-werk', 'Leren zit in het werk', true, 1, 10),
        (1, 'tijd-en-ruimte', 'Tijd en ruimte om te leren', true, 1, 10),
        (2, 'eigen-regie', 'Regie op de eigen ontwikkeling', true, 1, 10),
        (3, 'samen-leren', 'Samen leren in het team', true, 1, 10),
        (4, 'organisatie-leert', 'De organisatie leert mee', true, 1, 10),
        (5, 'begeleiding', 'Deskundige begeleiding op de werkplek', true, 1, 10),
        (6, 'leiderschap', 'Leidinggevenden die leren stimuleren', true, 1, 10),
        (7, 'feedback', 'Feedback en reflectie', true, 1, 10),
        (8, 'veiligheid', 'Veilig om te leren', true, 1, 10),
        (9, 'loopbaan', 'Zicht op loopbaan en groei', true, 1, 10),
        (10, 'onderwijs-praktijk', 'Verbinding tussen onderwijs en praktijk', true, 1, 10),
        (11, 'kennis-delen', 'Kennis delen en vasthouden', true, 1, 10),
        (12, 'beleid', 'Leren verankerd in beleid', true, 1, 10)
  ) AS i (position, key, name, scored, scale_min, scale_max)
 WHERE n.key = 'klwo';
-- Fixed ids (1 lwk-meting, 2 quickscan, 3 klwo) for fixtures and reports;
-- the identity sequences continue after them.
SELECT setval(pg_get_serial_sequence('lwk.instruments', 'id'), 3),
       setval(pg_get_serial_sequence('lwk.instrument_versions', 'id'), 3);

-- ---------------------------------------------------------------------------
-- Rights. The triggers run with the daemon's rights (SECURITY INVOKER): it
-- needs DELETE where an event clears something (desired.set and summary.set
-- without a value), and the two bookkeeping tables.
-- ---------------------------------------------------------------------------

GRANT DELETE ON desired_scores, summaries TO lwk_daemon;
GRANT SELECT, INSERT ON rejected_events, projection_errors TO lwk_daemon;
REVOKE EXECUTE ON FUNCTION is_transient(text), instrument_version_for(jsonb),
    session_events_create_session(), project_event(bigint, bigint, text, jsonb),
    session_events_project(), store_events(bigint[], bigint[], text[], bytea[], jsonb[])
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION is_transient(text), instrument_version_for(jsonb),
    project_event(bigint, bigint, text, jsonb),
    store_events(bigint[], bigint[], text[], bytea[], jsonb[])
    TO lwk_daemon;
