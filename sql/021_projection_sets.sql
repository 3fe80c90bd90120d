-- 021_projection_sets.sql: the projection of 004, cheaper per event.
--
-- At thousands of submissions a second lwk.store_events spent most of its
-- time calling lwk.project_event once per event and firing two BEFORE ROW
-- triggers that act on session.created only (docs/bench.md). The result in
-- the tables stays exactly the same; only the work per event changes:
--
--   * The BEFORE ROW triggers fire only for session.created (WHEN clause),
--     instead of entering PL/pgSQL for every event to return at once.
--   * Events the projection has nothing to do for (presence, turns, turn,
--     notice, session.created) are not passed to project_event at all.
--   * The kinds nearly all events are (scored, revealed, joined,
--     keyword.added, and the rounds that phase, round and scored open) are
--     applied as sets, one statement per table and batch; the rest, a few
--     in a hundred, still go through project_event one at a time, in
--     (session, seq) order, after the sets. That order gives the same rows
--     as event by event: the sets only insert what nothing else inserts
--     (first event wins) or, for scores, keep the last value, reveals come
--     after the scores they show (a round is only scored before its reveal),
--     and what changes those rows later (removed, keyword.removed) comes
--     after them in the log as well.
--   * When anything in the fast path does not fit, the whole batch is
--     projected again one event at a time in (session, seq) order, recording
--     each event that fails, exactly as 004 did.
--
-- Applied once by scripts/migrate.sh inside one transaction (no BEGIN/COMMIT).

SET LOCAL ROLE lwk_owner;
SET LOCAL search_path = lwk;

DROP TRIGGER session_events_create_session ON session_events;
CREATE TRIGGER session_events_create_session
    BEFORE INSERT ON session_events
    FOR EACH ROW WHEN (NEW.kind = 'session.created')
    EXECUTE FUNCTION session_events_create_session();

DROP TRIGGER session_events_pin_version ON session_events;
CREATE TRIGGER session_events_pin_version
    BEFORE INSERT ON session_events
    FOR EACH ROW WHEN (NEW.kind = 'session.created')
    EXECUTE FUNCTION session_events_pin_version();

-- An event's time: its ts (ms since the epoch), or now().
CREATE FUNCTION event_time(d jsonb) RETURNS timestamptz
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN CASE WHEN d ? 'ts' THEN to_timestamp((d->>'ts')::double precision / 1000) ELSE now() END;

CREATE OR REPLACE FUNCTION session_events_project() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog
AS $$
DECLARE
    e record;
BEGIN
    BEGIN
        -- A score the table would refuse takes the slow path, which records
        -- it even when a later score of the batch replaces it.
        IF EXISTS (SELECT 1 FROM new_events n
                    WHERE n.kind = 'scored' AND n.data ? 'value'
                      AND NOT coalesce((n.data->>'value')::int BETWEEN 1 AND 10, false)) THEN
            RAISE EXCEPTION 'score out of range' USING ERRCODE = 'check_violation';
        END IF;

        -- Participants: the first join of each.
        INSERT INTO lwk.participants (session_id, pid, display_name, joined_at)
        SELECT DISTINCT ON (n.session_id, (n.data->>'pid')::int)
               n.session_id, (n.data->>'pid')::int, n.data->>'name', lwk.event_time(n.data)
          FROM new_events n
         WHERE n.kind = 'joined' AND n.data IS NOT NULL
         ORDER BY n.session_id, (n.data->>'pid')::int, n.seq
        ON CONFLICT (session_id, pid) DO NOTHING;

        -- Score rounds, opened by the first event that names them.
        INSERT INTO lwk.score_rounds (session_id, item, round, opened_at)
        SELECT DISTINCT ON (n.session_id, (n.data->>'item')::smallint, (n.data->>'round')::smallint)
               n.session_id, (n.data->>'item')::smallint, (n.data->>'round')::smallint,
               lwk.event_time(n.data)
          FROM new_events n
         WHERE (n.kind = 'round'
                OR (n.kind = 'phase' AND n.data->>'phase' IN ('score', 'explain')
                    AND n.data ? 'item' AND n.data ? 'round')
                OR (n.kind = 'scored' AND n.data ? 'value'))
           AND n.data IS NOT NULL
         ORDER BY n.session_id, (n.data->>'item')::smallint, (n.data->>'round')::smallint, n.seq
        ON CONFLICT DO NOTHING;

        -- Keywords, as added.
        INSERT INTO lwk.keywords (session_id, kid, pid, item, text, created_at, updated_at)
        SELECT DISTINCT ON (n.session_id, (n.data->>'kid')::int)
               n.session_id, (n.data->>'kid')::int, (n.data->>'pid')::int,
               (n.data->>'item')::smallint, n.data->>'text',
               lwk.event_time(n.data), lwk.event_time(n.data)
          FROM new_events n
         WHERE n.kind = 'keyword.added' AND n.data IS NOT NULL
         ORDER BY n.session_id, (n.data->>'kid')::int, n.seq
        ON CONFLICT (session_id, kid) DO NOTHING;

        -- Scores: the last value of each participant in each round.
        INSERT INTO lwk.scores (session_id, item, round, pid, value, updated_at)
        SELECT DISTINCT ON (n.session_id, (n.data->>'item')::smallint,
                            (n.data->>'round')::smallint, (n.data->>'pid')::int)
               n.session_id, (n.data->>'item')::smallint, (n.data->>'round')::smallint,
               (n.data->>'pid')::int, (n.data->>'value')::smallint, lwk.event_time(n.data)
          FROM new_events n
         WHERE n.kind = 'scored' AND n.data ? 'value'
         ORDER BY n.session_id, (n.data->>'item')::smallint, (n.data->>'round')::smallint,
                  (n.data->>'pid')::int, n.seq DESC
        ON CONFLICT (session_id, item, round, pid)
            DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at;

        -- Reveals: every value they show (values: pid, value, pid, ...),
        -- then the time of the reveal on its round.
        INSERT INTO lwk.scores (session_id, item, round, pid, value, updated_at)
        SELECT DISTINCT ON (n.session_id, (n.data->>'item')::smallint,
                            (n.data->>'round')::smallint, (n.data->'values'->>(2 * g))::int)
               n.session_id, (n.data->>'item')::smallint, (n.data->>'round')::smallint,
               (n.data->'values'->>(2 * g))::int, (n.data->'values'->>(2 * g + 1))::smallint,
               lwk.event_time(n.data)
          FROM new_events n,
               generate_series(0, jsonb_array_length(n.data->'values') / 2 - 1) AS g
         WHERE n.kind = 'revealed' AND n.data IS NOT NULL
         ORDER BY n.session_id, (n.data->>'item')::smallint, (n.data->>'round')::smallint,
                  (n.data->'values'->>(2 * g))::int, n.seq DESC
        ON CONFLICT (session_id, item, round, pid)
            DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at;
        UPDATE lwk.score_rounds r SET revealed_at = greatest(v.at, r.opened_at)
          FROM (SELECT DISTINCT ON (n.session_id, (n.data->>'item')::smallint,
                                    (n.data->>'round')::smallint)
                       n.session_id, (n.data->>'item')::smallint AS item,
                       (n.data->>'round')::smallint AS round, lwk.event_time(n.data) AS at
                  FROM new_events n
                 WHERE n.kind = 'revealed' AND n.data IS NOT NULL
                 ORDER BY n.session_id, (n.data->>'item')::smallint, (n.data->>'round')::smallint,
                          n.seq DESC) v
         WHERE r.session_id = v.session_id AND r.item = v.item AND r.round = v.round;

        -- Everything else, in order.
        FOR e IN SELECT n.session_id, n.seq, n.kind, n.data FROM new_events n
                  WHERE n.data IS NOT NULL
                    AND n.kind NOT IN ('session.created', 'presence', 'turns', 'turn', 'notice',
                                       'joined', 'round', 'scored', 'keyword.added', 'revealed')
                    AND (n.kind <> 'phase' OR n.data->>'phase' = 'closed')
                  ORDER BY n.session_id, n.seq LOOP
            PERFORM lwk.project_event(e.session_id, e.seq, e.kind, e.data);
        END LOOP;
    EXCEPTION WHEN OTHERS THEN
        IF lwk.is_transient(SQLSTATE) THEN
            RAISE;
        END IF;
        -- Something does not fit: every event again, one at a time, as 004.
        FOR e IN SELECT n.session_id, n.seq, n.kind, n.data FROM new_events n
                  WHERE n.data IS NOT NULL
                    AND n.kind NOT IN ('session.created', 'presence', 'turns', 'turn', 'notice')
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

REVOKE EXECUTE ON FUNCTION event_time(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION event_time(jsonb) TO lwk_daemon;
