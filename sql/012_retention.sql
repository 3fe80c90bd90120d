-- 012_retention.sql: retention of free text. After the retention period
-- (analysis_settings.text_retention, default 2 years) what people wrote or
-- said in a session is removed, while everything the analysis counts stays:
-- scores, desired scores, ratings, action statuses and dates, theme counts.
--
--   SELECT * FROM lwk.apply_retention();            -- the configured period
--   SELECT * FROM lwk.apply_retention('18 months');  -- or an explicit one
--   scripts/retention.sh CONNINFO [INTERVAL]        -- the same, from cron
--
-- A session is past retention when it was closed before now() - period (a
-- session never closed: when it was last updated before that). For those
-- sessions:
--
--   keywords.text, reactions.text, summaries.text, look_ahead_items.text  -> ''
--   evaluations.text                   -> NULL (a row with no rating goes)
--   participants.display_name          -> '#<pid>'
--   action_reviews.note, action_status_history.note -> NULL
--   actions done or dropped: description -> '', owner, role, context,
--                            feedback_moment, resources -> NULL
--   session_events                     -> deleted (the payloads repeat the
--                                         texts; the tables keep the state)
--
-- Open and in-progress actions keep their text: they are still being worked
-- on. Theme labels stay; reports show them only as normalised counts above
-- the thresholds (docs/analysis.md).
--
-- Applied once by scripts/migrate.sh inside one transaction (no BEGIN/COMMIT).

SET LOCAL ROLE lwk_owner;
SET LOCAL search_path = lwk;

CREATE FUNCTION apply_retention(keep interval DEFAULT NULL)
    RETURNS TABLE (what text, affected bigint)
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, lwk, pg_temp
AS $$
DECLARE
    cutoff timestamptz;
    n      bigint;
BEGIN
    keep := coalesce(keep, (SELECT s.text_retention FROM lwk.analysis_settings s));
    -- A typo such as '0' or '-2 years' must not wipe live sessions.
    IF keep IS NULL OR keep < interval '1 day' THEN
        RAISE EXCEPTION 'retention period must be at least 1 day, got %', keep
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    cutoff := now() - keep;

    CREATE TEMPORARY TABLE lwk_retention_sessions ON COMMIT DROP AS
        SELECT s.id FROM lwk.sessions s
         WHERE CASE WHEN s.status = 'closed' THEN s.closed_at ELSE s.updated_at END < cutoff;
    ALTER TABLE lwk_retention_sessions ADD PRIMARY KEY (id);
    ANALYZE lwk_retention_sessions;

    what := 'sessions';
    SELECT count(*) INTO affected FROM lwk_retention_sessions;
    RETURN NEXT;

    UPDATE lwk.keywords k SET text = '', updated_at = now()
      FROM lwk_retention_sessions r WHERE k.session_id = r.id AND k.text <> '';
    GET DIAGNOSTICS n = ROW_COUNT;
    what := 'keywords'; affected := n; RETURN NEXT;

    UPDATE lwk.reactions x SET text = '', updated_at = now()
      FROM lwk_retention_sessions r WHERE x.session_id = r.id AND x.text <> '';
    GET DIAGNOSTICS n = ROW_COUNT;
    what := 'reactions'; affected := n; RETURN NEXT;

    DELETE FROM lwk.evaluations e
     USING lwk_retention_sessions r WHERE e.session_id = r.id AND e.rating IS NULL;
    GET DIAGNOSTICS n = ROW_COUNT;
    UPDATE lwk.evaluations e SET text = NULL, updated_at = now()
      FROM lwk_retention_sessions r WHERE e.session_id = r.id AND e.text IS NOT NULL;
    GET DIAGNOSTICS affected = ROW_COUNT;
    what := 'evaluations'; affected := affected + n; RETURN NEXT;

    UPDATE lwk.summaries x SET text = '', updated_at = now()
      FROM lwk_retention_sessions r WHERE x.session_id = r.id AND x.text <> '';
    GET DIAGNOSTICS n = ROW_COUNT;
    what := 'summaries'; affected := n; RETURN NEXT;

    UPDATE lwk.look_ahead_items x SET text = '', updated_at = now()
      FROM lwk_retention_sessions r WHERE x.session_id = r.id AND x.text <> '';
    GET DIAGNOSTICS n = ROW_COUNT;
    what := 'look_ahead_items'; affected := n; RETURN NEXT;

    -- Names are unique per session, and a real name might look like '#3':
    -- move every name of the session out of the way first.
    UPDATE lwk.participants p SET display_name = '#' || p.pid || '#' || r.id
      FROM lwk_retention_sessions r
     WHERE p.session_id = r.id
       AND EXISTS (SELECT 1 FROM lwk.participants q
                    WHERE q.session_id = r.id AND q.display_name <> '#' || q.pid);
    UPDATE lwk.participants p SET display_name = '#' || p.pid
      FROM lwk_retention_sessions r
     WHERE p.session_id = r.id AND p.display_name <> '#' || p.pid;
    GET DIAGNOSTICS n = ROW_COUNT;
    what := 'participants'; affected := n; RETURN NEXT;

    -- updated_at stays: it dates the change to done when the history lacks it.
    UPDATE lwk.actions a
       SET description = '', owner = NULL, role = NULL, context = NULL,
           feedback_moment = NULL, resources = NULL
      FROM lwk_retention_sessions r
     WHERE a.session_id = r.id AND a.status IN ('done', 'dropped')
       AND (a.description <> '' OR a.owner IS NOT NULL OR a.role IS NOT NULL
            OR a.context IS NOT NULL OR a.feedback_moment IS NOT NULL OR a.resources IS NOT NULL);
    GET DIAGNOSTICS n = ROW_COUNT;
    what := 'actions'; affected := n; RETURN NEXT;

    UPDATE lwk.action_reviews x SET note = NULL
      FROM lwk_retention_sessions r
     WHERE (x.session_id = r.id OR x.action_session_id = r.id) AND x.note IS NOT NULL;
    GET DIAGNOSTICS n = ROW_COUNT;
    what := 'action_reviews'; affected := n; RETURN NEXT;

    -- The status history is append-only (a trigger rejects UPDATE, for the
    -- owner too). Blanking a note is the one rewrite allowed, and only here:
    -- the trigger is off for this transaction's statement alone.
    IF EXISTS (SELECT 1 FROM lwk.action_status_history h
                 JOIN lwk_retention_sessions r ON h.action_session_id = r.id
                WHERE h.note IS NOT NULL) THEN
        ALTER TABLE lwk.action_status_history DISABLE TRIGGER action_status_history_append_only;
        UPDATE lwk.action_status_history h SET note = NULL
          FROM lwk_retention_sessions r
         WHERE h.action_session_id = r.id AND h.note IS NOT NULL;
        GET DIAGNOSTICS n = ROW_COUNT;
        ALTER TABLE lwk.action_status_history ENABLE TRIGGER action_status_history_append_only;
    ELSE
        n := 0;
    END IF;
    what := 'action_status_history'; affected := n; RETURN NEXT;

    DELETE FROM lwk.session_events e USING lwk_retention_sessions r WHERE e.session_id = r.id;
    GET DIAGNOSTICS n = ROW_COUNT;
    what := 'session_events'; affected := n; RETURN NEXT;

    DROP TABLE lwk_retention_sessions;
END
$$;
REVOKE ALL ON FUNCTION apply_retention(interval) FROM PUBLIC;
