-- 010_analysis.sql: the programme office's analysis layer (issue 9).
--
-- What it builds, bottom up (docs/analysis.md has the whole story):
--
--   settings      analysis_settings (one row: k, theme threshold, time zone,
--                 text retention, last refresh) and analyst_organisations
--                 (which login role may see which organisation).
--   base          materialized views per session and item (mv_session_item),
--                 per session (mv_session), per action (mv_action) and per
--                 session theme (mv_session_theme). "The score" of an item in
--                 a session is the last *revealed* round; unrevealed rounds
--                 never reach any analysis.
--   roll-ups      materialized views per period (month, quarter, year) and
--                 level (team, department, location, organisation, all):
--                 mv_item_period, mv_session_period, mv_action_period,
--                 mv_theme_period. Scores are kept as histograms (h1..h10), so
--                 means, medians, quartiles, spread and distributions roll up
--                 exactly without going back to the 10 million raw scores.
--   reports       report_* views: the only things analysts and the programme
--                 office may read. They apply the k threshold and the scope.
--
-- Privacy. No report view has a participant's individual score or any free
-- text except normalised theme labels that occur in at least
-- theme_min_sessions sessions. Every aggregate carries the number of people it
-- is computed from; below k it is NULL and suppressed = true. People are
-- counted conservatively as, per team, the largest number of participants in
-- any one session that contributed (the same team meets every quarter, so the
-- participants of different sessions are mostly the same people), summed over
-- teams. A team of 4 therefore never shows a number, whatever the period.
--
-- Scope. Materialized views have no row-level security, so nobody but the
-- owner may read them; the report views read them with the owner's rights
-- (security_barrier, so a caller's own WHERE clause cannot peek at filtered
-- rows) and keep only rows of organisations mapped to the caller's login role
-- in analyst_organisations (levels team .. organisation), or, for members of
-- lwk_programme, rows at organisation and "all" level. Anything else: no rows.
--
-- lwk.refresh_analysis() rebuilds the materialized views (the daemon or a
-- timer calls it); reports show data as of analysis_settings.refreshed_at.
--
-- Applied once by scripts/migrate.sh inside one transaction (no BEGIN/COMMIT).

SET LOCAL ROLE lwk_owner;
SET LOCAL search_path = lwk;

-- ---------------------------------------------------------------------------
-- Settings and the analyst -> organisation map
-- ---------------------------------------------------------------------------

-- Exactly one row. Changed by the operator (owner or superuser) only.
CREATE TABLE analysis_settings (
    id                 boolean PRIMARY KEY DEFAULT true CHECK (id),
    -- Aggregates over fewer distinct people than this are suppressed.
    k                  int NOT NULL DEFAULT 5 CHECK (k BETWEEN 1 AND 1000),
    -- A theme label appears in a report only when at least this many
    -- sessions named it (and the sessions' people reach k).
    theme_min_sessions int NOT NULL DEFAULT 5 CHECK (theme_min_sessions >= 1),
    -- Session dates and periods are taken in this time zone.
    time_zone          text NOT NULL DEFAULT 'Europe/Amsterdam'
                       CHECK (char_length(time_zone) BETWEEN 1 AND 64),
    -- Default for lwk.apply_retention() and scripts/retention.sh.
    text_retention     interval NOT NULL DEFAULT '2 years' CHECK (text_retention >= '1 day'),
    refreshed_at       timestamptz
);
INSERT INTO analysis_settings DEFAULT VALUES;

-- A login role (or a group role the logins are members of) and an
-- organisation it may analyse. The generic roles themselves are refused: a
-- row for lwk_analyst would open the organisation to every analyst.
CREATE TABLE analyst_organisations (
    role_name       name NOT NULL
                    CHECK (role_name NOT IN ('lwk_analyst', 'lwk_programme', 'lwk_daemon',
                                             'lwk_owner', 'public')),
    organisation_id bigint NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (role_name, organisation_id)
);
CREATE INDEX analyst_organisations_organisation_idx ON analyst_organisations (organisation_id);

-- ---------------------------------------------------------------------------
-- Helpers
-- ---------------------------------------------------------------------------

-- Theme labels are compared after folding case and the accents Dutch uses,
-- collapsing blank space and dropping punctuation at either end:
-- ' Werkdrúk! ' and 'werkdruk' are the same theme. translate() before lower()
-- so that the result does not depend on the database's locale.
CREATE FUNCTION normalise_text(t text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN nullif(pg_catalog.regexp_replace(pg_catalog.regexp_replace(
           pg_catalog.lower(pg_catalog.translate(t,
               'ÁÀÂÄÃÅĀÉÈÊËĒÍÌÎÏĪÓÒÔÖÕØŌÚÙÛÜŪÝŸÇÑáàâäãåāéèêëēíìîïīóòôöõøōúùûüūýÿçñ',
               'aaaaaaaeeeeeiiiiiooooooouuuuuyycnaaaaaaaeeeeeiiiiiooooooouuuuuyycn')),
           '[[:space:]]+', ' ', 'g'),
           '^[[:space:][:punct:]]+|[[:space:][:punct:]]+$', '', 'g'), '');

-- The q-quantile (0..1) of the integer values 1..n whose counts are h[1..n],
-- interpolated like percentile_cont: the median of 6, 7 is 6.5.
CREATE FUNCTION hist_percentile(h bigint[], q float8) RETURNS numeric
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog
AS $$
DECLARE
    n   bigint := 0;
    c   bigint := 0;
    pos float8;
    lo  bigint;
    hi  bigint;
    vlo int;
    vhi int;
BEGIN
    FOR i IN 1 .. coalesce(array_length(h, 1), 0) LOOP
        n := n + coalesce(h[i], 0);
    END LOOP;
    IF n = 0 OR q < 0 OR q > 1 THEN
        RETURN NULL;
    END IF;
    pos := q * (n - 1);          -- 0-based rank in the sorted values
    lo := floor(pos);
    hi := ceil(pos);
    FOR i IN 1 .. array_length(h, 1) LOOP
        c := c + coalesce(h[i], 0);
        IF vlo IS NULL AND c > lo THEN vlo := i; END IF;
        IF c > hi THEN vhi := i; EXIT; END IF;
    END LOOP;
    RETURN round((vlo + (vhi - vlo) * (pos - lo))::numeric, 2);
END
$$;

-- Team -> department -> location. Levels may be skipped (docs/schema.md):
-- a team directly under a location has no department.
CREATE VIEW team_units AS
SELECT t.id AS team_id,
       t.organisation_id,
       CASE WHEN t.parent_kind = 'department' THEN t.parent_id END AS department_id,
       CASE t.parent_kind WHEN 'location' THEN t.parent_id
                          WHEN 'department' THEN d.parent_id END AS location_id
  FROM org_units t
  LEFT JOIN org_units d ON d.id = t.parent_id AND t.parent_kind = 'department'
 WHERE t.kind = 'team';

-- The three period lengths. "C" collation: the roll-ups sort on these keys
-- millions of times, and byte order is all they need.
CREATE VIEW periods AS
SELECT period COLLATE "C" AS period FROM (VALUES ('month'), ('quarter'), ('year')) AS p (period);

-- Items are identified across instrument versions by (instrument key, item
-- key); name and position come from the newest version that has the item.
CREATE VIEW analysis_items AS
SELECT DISTINCT ON (i.key, it.key)
       i.key AS instrument, it.key AS item_key, it.position AS item, it.name AS item_name
  FROM instruments i
  JOIN instrument_versions v ON v.instrument_id = i.id
  JOIN instrument_items it ON it.instrument_version_id = v.id
 WHERE it.scored
 ORDER BY i.key, it.key, v.version DESC;

-- ---------------------------------------------------------------------------
-- Base materialized views
-- ---------------------------------------------------------------------------

-- One row per session that has participants: where and when, and how many
-- took part and rated the session (look back, 1..5). A session's date is its
-- start (else the planned date, else creation) in the configured time zone.
-- Removed participants are left out everywhere.
CREATE MATERIALIZED VIEW mv_session AS
WITH p AS (
    SELECT session_id, count(*) AS n_participants
      FROM participants
     WHERE NOT removed
     GROUP BY session_id
), e AS (
    SELECT ev.session_id,
           count(ev.rating) AS n_ratings,
           count(*) FILTER (WHERE ev.rating = 1) AS r1,
           count(*) FILTER (WHERE ev.rating = 2) AS r2,
           count(*) FILTER (WHERE ev.rating = 3) AS r3,
           count(*) FILTER (WHERE ev.rating = 4) AS r4,
           count(*) FILTER (WHERE ev.rating = 5) AS r5
      FROM evaluations ev
      JOIN participants pa ON pa.session_id = ev.session_id AND pa.pid = ev.pid AND NOT pa.removed
     WHERE ev.rating IS NOT NULL
     GROUP BY ev.session_id
)
SELECT s.id AS session_id,
       s.organisation_id, tu.location_id, tu.department_id, s.team_id,
       (coalesce(s.started_at, s.planned_at, s.created_at) AT TIME ZONE cfg.time_zone)::date
           AS session_date,
       i.key AS instrument,
       p.n_participants,
       coalesce(e.n_ratings, 0) AS n_ratings,
       coalesce(e.r1, 0) AS r1, coalesce(e.r2, 0) AS r2, coalesce(e.r3, 0) AS r3,
       coalesce(e.r4, 0) AS r4, coalesce(e.r5, 0) AS r5
  FROM sessions s
  JOIN p ON p.session_id = s.id
  JOIN team_units tu ON tu.team_id = s.team_id
  JOIN instrument_versions v ON v.id = s.instrument_version_id
  JOIN instruments i ON i.id = v.instrument_id
  LEFT JOIN e ON e.session_id = s.id
 CROSS JOIN analysis_settings cfg;
CREATE UNIQUE INDEX mv_session_pk ON mv_session (session_id);

-- One row per (session, scored item) with a revealed round: the histogram of
-- the last revealed round's scores, the agreed desired score, and the same
-- team's previous session with this item (for "change since last cycle").
CREATE MATERIALIZED VIEW mv_session_item AS
WITH last_round AS (
    SELECT session_id, item, max(round) AS round
      FROM score_rounds
     WHERE revealed_at IS NOT NULL
     GROUP BY session_id, item
), h AS (
    SELECT sc.session_id, sc.item, lr.round,
           count(*)::int AS n,
           sum(sc.value)::int AS score_sum,
           (count(*) FILTER (WHERE sc.value = 1))::int AS h1,
           (count(*) FILTER (WHERE sc.value = 2))::int AS h2,
           (count(*) FILTER (WHERE sc.value = 3))::int AS h3,
           (count(*) FILTER (WHERE sc.value = 4))::int AS h4,
           (count(*) FILTER (WHERE sc.value = 5))::int AS h5,
           (count(*) FILTER (WHERE sc.value = 6))::int AS h6,
           (count(*) FILTER (WHERE sc.value = 7))::int AS h7,
           (count(*) FILTER (WHERE sc.value = 8))::int AS h8,
           (count(*) FILTER (WHERE sc.value = 9))::int AS h9,
           (count(*) FILTER (WHERE sc.value = 10))::int AS h10
      FROM last_round lr
      JOIN scores sc ON sc.session_id = lr.session_id AND sc.item = lr.item AND sc.round = lr.round
      JOIN participants pa ON pa.session_id = sc.session_id AND pa.pid = sc.pid AND NOT pa.removed
     GROUP BY sc.session_id, sc.item, lr.round
), x AS (
    SELECT ms.session_id, ms.organisation_id, ms.location_id, ms.department_id, ms.team_id,
           ms.session_date, ms.instrument, it.key AS item_key, h.item, h.round,
           h.n, h.score_sum, h.h1, h.h2, h.h3, h.h4, h.h5, h.h6, h.h7, h.h8, h.h9, h.h10,
           ds.value AS desired
      FROM h
      JOIN mv_session ms ON ms.session_id = h.session_id
      JOIN sessions s ON s.id = h.session_id
      JOIN instrument_items it ON it.instrument_version_id = s.instrument_version_id
                              AND it.position = h.item AND it.scored
      LEFT JOIN desired_scores ds ON ds.session_id = h.session_id AND ds.item = h.item AND ds.agreed
)
SELECT x.*,
       lag(x.session_date) OVER w AS prev_session_date,
       lag(x.n) OVER w AS prev_n,
       lag(x.score_sum) OVER w AS prev_score_sum
  FROM x
WINDOW w AS (PARTITION BY x.team_id, x.instrument, x.item_key ORDER BY x.session_date, x.session_id);
CREATE UNIQUE INDEX mv_session_item_pk ON mv_session_item (session_id, item);
CREATE INDEX mv_session_item_org_idx ON mv_session_item (organisation_id, session_date);

-- One row per agreed action: confirmed by the group (a facilitator's action
-- is confirmed from the start, a participant's proposal once the group takes
-- it on) and not taken off the list. With the period of the session that
-- agreed it, its status, and for done actions the days from that session to
-- the (last) change to done. Description, owner and notes stay out: they are
-- free text.
CREATE MATERIALIZED VIEW mv_action AS
SELECT a.session_id, a.aid,
       ms.organisation_id, ms.location_id, ms.department_id, ms.team_id,
       ms.session_date, ms.instrument, ms.n_participants,
       a.status, a.deadline,
       CASE WHEN a.status = 'done' THEN
           ((coalesce(dh.done_at, a.updated_at) AT TIME ZONE cfg.time_zone)::date - ms.session_date)
       END AS days_to_done
  FROM actions a
  JOIN mv_session ms ON ms.session_id = a.session_id
  LEFT JOIN LATERAL (
        SELECT max(h.changed_at) AS done_at
          FROM action_status_history h
         WHERE h.action_session_id = a.session_id AND h.aid = a.aid AND h.status = 'done'
       ) dh ON true
 CROSS JOIN analysis_settings cfg
 WHERE a.confirmed AND NOT a.removed;
CREATE UNIQUE INDEX mv_action_pk ON mv_action (session_id, aid);

-- One row per (session, normalised theme label). Deleted themes and themes
-- merged into another are left out; the survivor counts once.
CREATE MATERIALIZED VIEW mv_session_theme AS
SELECT DISTINCT ms.session_id, ms.organisation_id, ms.location_id, ms.department_id, ms.team_id,
       ms.session_date, ms.instrument, ms.n_participants, normalise_text(t.text) AS theme
  FROM themes t
  JOIN mv_session ms ON ms.session_id = t.session_id
 WHERE NOT t.deleted AND t.merged_into IS NULL AND normalise_text(t.text) IS NOT NULL;
CREATE UNIQUE INDEX mv_session_theme_pk ON mv_session_theme (session_id, theme);

-- ---------------------------------------------------------------------------
-- Roll-ups per period and level
-- ---------------------------------------------------------------------------
--
-- Each roll-up first aggregates per (period, team), where "people" is the
-- largest session of that team in the period, and then sums teams up the
-- hierarchy with GROUPING SETS. Department and location rows exist only for
-- real departments and locations (teams directly under a location do not
-- make a NULL department). unit_id is the team, department, location or
-- organisation id, and 0 for level 'all'.

CREATE MATERIALIZED VIEW mv_item_period AS
WITH per_team AS (
    SELECT p.period, date_trunc(p.period, si.session_date::timestamp)::date AS period_start,
           si.organisation_id, si.location_id, si.department_id, si.team_id,
           si.instrument COLLATE "C" AS instrument, si.item_key COLLATE "C" AS item_key,
           count(*)::int AS n_sessions, max(si.n) AS people, sum(si.n)::int AS n_scores,
           sum(si.score_sum)::int AS score_sum,
           -- int, not bigint: sums of int are bigint with a fast accumulator,
           -- sums of bigint are numeric (slow, and the roll-up does millions)
           sum(si.h1)::int AS h1, sum(si.h2)::int AS h2, sum(si.h3)::int AS h3, sum(si.h4)::int AS h4,
           sum(si.h5)::int AS h5, sum(si.h6)::int AS h6, sum(si.h7)::int AS h7, sum(si.h8)::int AS h8,
           sum(si.h9)::int AS h9, sum(si.h10)::int AS h10,
           count(si.desired)::int AS n_desired, coalesce(sum(si.desired), 0)::int AS desired_sum,
           coalesce(max(si.n) FILTER (WHERE si.desired IS NOT NULL), 0) AS desired_people
      FROM mv_session_item si
     CROSS JOIN periods p
     GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
), rolled AS (
    SELECT period, period_start,
           CASE WHEN grouping(team_id) = 0 THEN 'team'
                WHEN grouping(department_id) = 0 THEN 'department'
                WHEN grouping(location_id) = 0 THEN 'location'
                WHEN grouping(organisation_id) = 0 THEN 'organisation'
                ELSE 'all' END AS level,
           CASE WHEN grouping(team_id) = 0 THEN team_id
                WHEN grouping(department_id) = 0 THEN department_id
                WHEN grouping(location_id) = 0 THEN location_id
                WHEN grouping(organisation_id) = 0 THEN organisation_id
                ELSE 0 END AS unit_id,
           organisation_id, location_id, department_id, team_id, instrument, item_key,
           sum(n_sessions) AS n_sessions, count(*) AS n_teams, sum(people) AS people,
           sum(n_scores) AS n_scores, sum(score_sum) AS score_sum,
           sum(h1) AS h1, sum(h2) AS h2, sum(h3) AS h3, sum(h4) AS h4, sum(h5) AS h5,
           sum(h6) AS h6, sum(h7) AS h7, sum(h8) AS h8, sum(h9) AS h9, sum(h10) AS h10,
           sum(n_desired) AS n_desired, sum(desired_sum) AS desired_sum,
           sum(desired_people) AS desired_people
      FROM per_team
     GROUP BY period, period_start, instrument, item_key,
              GROUPING SETS ((organisation_id, location_id, department_id, team_id),
                             (organisation_id, location_id, department_id),
                             (organisation_id, location_id),
                             (organisation_id),
                             ())
    HAVING NOT (grouping(team_id) = 1 AND grouping(department_id) = 0 AND department_id IS NULL)
       AND NOT (grouping(department_id) = 1 AND grouping(location_id) = 0 AND location_id IS NULL)
)
SELECT r.*,
       lag(r.period_start) OVER w AS prev_period_start,
       lag(r.people) OVER w AS prev_people,
       lag(r.n_scores) OVER w AS prev_n_scores,
       lag(r.score_sum) OVER w AS prev_score_sum
  FROM rolled r
WINDOW w AS (PARTITION BY r.period, r.level, r.unit_id, r.instrument, r.item_key ORDER BY r.period_start);
CREATE UNIQUE INDEX mv_item_period_pk
    ON mv_item_period (period, level, unit_id, instrument, item_key, period_start);
CREATE INDEX mv_item_period_org_idx
    ON mv_item_period (organisation_id, period, level, period_start);

CREATE MATERIALIZED VIEW mv_session_period AS
WITH per_team AS (
    SELECT p.period, date_trunc(p.period, ms.session_date::timestamp)::date AS period_start,
           ms.organisation_id, ms.location_id, ms.department_id, ms.team_id,
           ms.instrument COLLATE "C" AS instrument,
           count(*) AS n_sessions, max(ms.n_participants) AS people,
           sum(ms.n_participants)::bigint AS n_participations,
           sum(ms.n_ratings)::bigint AS n_ratings, max(ms.n_ratings) AS rating_people,
           sum(ms.r1)::bigint AS r1, sum(ms.r2)::bigint AS r2, sum(ms.r3)::bigint AS r3, sum(ms.r4)::bigint AS r4, sum(ms.r5)::bigint AS r5
      FROM mv_session ms
     CROSS JOIN periods p
     GROUP BY 1, 2, 3, 4, 5, 6, 7
)
SELECT period, period_start,
       CASE WHEN grouping(team_id) = 0 THEN 'team'
            WHEN grouping(department_id) = 0 THEN 'department'
            WHEN grouping(location_id) = 0 THEN 'location'
            WHEN grouping(organisation_id) = 0 THEN 'organisation'
            ELSE 'all' END AS level,
       CASE WHEN grouping(team_id) = 0 THEN team_id
            WHEN grouping(department_id) = 0 THEN department_id
            WHEN grouping(location_id) = 0 THEN location_id
            WHEN grouping(organisation_id) = 0 THEN organisation_id
            ELSE 0 END AS unit_id,
       organisation_id, location_id, department_id, team_id, instrument,
       sum(n_sessions)::bigint AS n_sessions, count(*) AS n_teams, sum(people)::bigint AS people,
       sum(n_participations)::bigint AS n_participations,
       sum(n_ratings)::bigint AS n_ratings, sum(rating_people)::bigint AS rating_people,
       sum(r1)::bigint AS r1, sum(r2)::bigint AS r2, sum(r3)::bigint AS r3, sum(r4)::bigint AS r4, sum(r5)::bigint AS r5
  FROM per_team
 GROUP BY period, period_start, instrument,
          GROUPING SETS ((organisation_id, location_id, department_id, team_id),
                         (organisation_id, location_id, department_id),
                         (organisation_id, location_id),
                         (organisation_id),
                         ())
HAVING NOT (grouping(team_id) = 1 AND grouping(department_id) = 0 AND department_id IS NULL)
   AND NOT (grouping(department_id) = 1 AND grouping(location_id) = 0 AND location_id IS NULL);
CREATE UNIQUE INDEX mv_session_period_pk
    ON mv_session_period (period, level, unit_id, instrument, period_start);
CREATE INDEX mv_session_period_org_idx
    ON mv_session_period (organisation_id, period, level, period_start);

-- Actions by the period in which they were agreed. Overdue means open or in
-- progress with a deadline before the day of the refresh.
CREATE MATERIALIZED VIEW mv_action_period AS
WITH a AS (
    SELECT p.period, date_trunc(p.period, ma.session_date::timestamp)::date AS period_start, ma.*,
           max(ma.n_participants) OVER (PARTITION BY p.period, date_trunc(p.period, ma.session_date::timestamp),
                                                     ma.team_id, ma.instrument) AS team_people,
           row_number() OVER (PARTITION BY p.period, date_trunc(p.period, ma.session_date::timestamp),
                                           ma.team_id, ma.instrument) = 1 AS first_of_team
      FROM mv_action ma
     CROSS JOIN periods p
)
SELECT a.period, a.period_start,
       CASE WHEN grouping(a.team_id) = 0 THEN 'team'
            WHEN grouping(a.department_id) = 0 THEN 'department'
            WHEN grouping(a.location_id) = 0 THEN 'location'
            WHEN grouping(a.organisation_id) = 0 THEN 'organisation'
            ELSE 'all' END AS level,
       CASE WHEN grouping(a.team_id) = 0 THEN a.team_id
            WHEN grouping(a.department_id) = 0 THEN a.department_id
            WHEN grouping(a.location_id) = 0 THEN a.location_id
            WHEN grouping(a.organisation_id) = 0 THEN a.organisation_id
            ELSE 0 END AS unit_id,
       a.organisation_id, a.location_id, a.department_id, a.team_id, a.instrument,
       count(DISTINCT a.session_id) AS n_sessions, count(DISTINCT a.team_id) AS n_teams,
       (sum(a.team_people) FILTER (WHERE a.first_of_team))::bigint AS people,
       count(*) AS n_actions,
       count(*) FILTER (WHERE a.status = 'open') AS n_open,
       count(*) FILTER (WHERE a.status = 'in_progress') AS n_in_progress,
       count(*) FILTER (WHERE a.status = 'done') AS n_done,
       count(*) FILTER (WHERE a.status = 'dropped') AS n_dropped,
       count(*) FILTER (WHERE a.status IN ('open', 'in_progress')
                          AND a.deadline < (now() AT TIME ZONE cfg.time_zone)::date) AS n_overdue,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY a.days_to_done) AS median_days_to_done
  FROM a
 CROSS JOIN analysis_settings cfg
 GROUP BY a.period, a.period_start, a.instrument,
          GROUPING SETS ((a.organisation_id, a.location_id, a.department_id, a.team_id),
                         (a.organisation_id, a.location_id, a.department_id),
                         (a.organisation_id, a.location_id),
                         (a.organisation_id),
                         ())
HAVING NOT (grouping(a.team_id) = 1 AND grouping(a.department_id) = 0 AND a.department_id IS NULL)
   AND NOT (grouping(a.department_id) = 1 AND grouping(a.location_id) = 0 AND a.location_id IS NULL);
CREATE UNIQUE INDEX mv_action_period_pk
    ON mv_action_period (period, level, unit_id, instrument, period_start);
CREATE INDEX mv_action_period_org_idx
    ON mv_action_period (organisation_id, period, level, period_start);

CREATE MATERIALIZED VIEW mv_theme_period AS
WITH per_team AS (
    SELECT p.period, date_trunc(p.period, st.session_date::timestamp)::date AS period_start,
           st.organisation_id, st.location_id, st.department_id, st.team_id,
           st.instrument COLLATE "C" AS instrument, st.theme COLLATE "C" AS theme,
           count(*) AS n_sessions, max(st.n_participants) AS people
      FROM mv_session_theme st
     CROSS JOIN periods p
     GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
)
SELECT period, period_start,
       CASE WHEN grouping(team_id) = 0 THEN 'team'
            WHEN grouping(department_id) = 0 THEN 'department'
            WHEN grouping(location_id) = 0 THEN 'location'
            WHEN grouping(organisation_id) = 0 THEN 'organisation'
            ELSE 'all' END AS level,
       CASE WHEN grouping(team_id) = 0 THEN team_id
            WHEN grouping(department_id) = 0 THEN department_id
            WHEN grouping(location_id) = 0 THEN location_id
            WHEN grouping(organisation_id) = 0 THEN organisation_id
            ELSE 0 END AS unit_id,
       organisation_id, location_id, department_id, team_id, instrument, theme,
       sum(n_sessions)::bigint AS n_sessions, count(*) AS n_teams, sum(people)::bigint AS people
  FROM per_team
 GROUP BY period, period_start, instrument, theme,
          GROUPING SETS ((organisation_id, location_id, department_id, team_id),
                         (organisation_id, location_id, department_id),
                         (organisation_id, location_id),
                         (organisation_id),
                         ())
HAVING NOT (grouping(team_id) = 1 AND grouping(department_id) = 0 AND department_id IS NULL)
   AND NOT (grouping(department_id) = 1 AND grouping(location_id) = 0 AND location_id IS NULL);
CREATE UNIQUE INDEX mv_theme_period_pk
    ON mv_theme_period (period, level, unit_id, instrument, theme, period_start);
CREATE INDEX mv_theme_period_org_idx
    ON mv_theme_period (organisation_id, period, level, period_start);

-- ---------------------------------------------------------------------------
-- Refresh
-- ---------------------------------------------------------------------------

-- Rebuilds every materialized view, base views first. CONCURRENTLY (the
-- default) lets reports keep reading the previous data meanwhile; false is
-- faster on a first load of a large database but blocks readers.
-- SECURITY DEFINER: refreshing needs the owner; the caller gets no data back.
CREATE FUNCTION refresh_analysis(concurrent boolean DEFAULT true) RETURNS timestamptz
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, lwk
AS $$
DECLARE
    mv text;
BEGIN
    -- One refresh at a time; a second caller waits and then refreshes again.
    PERFORM pg_advisory_xact_lock(30530600530962792);
    FOREACH mv IN ARRAY ARRAY['mv_session', 'mv_session_item', 'mv_action', 'mv_session_theme',
                              'mv_item_period', 'mv_session_period', 'mv_action_period',
                              'mv_theme_period'] LOOP
        IF concurrent THEN
            EXECUTE format('REFRESH MATERIALIZED VIEW CONCURRENTLY lwk.%I', mv);
        ELSE
            EXECUTE format('REFRESH MATERIALIZED VIEW lwk.%I', mv);
        END IF;
    END LOOP;
    UPDATE lwk.analysis_settings SET refreshed_at = now();
    RETURN now();
END
$$;
REVOKE ALL ON FUNCTION refresh_analysis(boolean) FROM PUBLIC;

UPDATE analysis_settings SET refreshed_at = now();

-- ---------------------------------------------------------------------------
-- Report views: the only analysis objects anyone but the owner may read.
-- ---------------------------------------------------------------------------
--
-- Every view keeps a row only when
--   (a) the row is below 'all' and its organisation is mapped in
--       analyst_organisations to the current role or a role it is a member
--       of (analysts), or
--   (b) the row is at 'organisation' or 'all' level and the current role is a
--       member of lwk_programme (the programme office).
-- current_user is the caller even inside these owner-rights views.
-- security_barrier keeps a caller's own WHERE clauses (which could call a
-- function that leaks its arguments) from running before this filter.

CREATE VIEW report_status WITH (security_barrier = true) AS
SELECT cfg.k, cfg.theme_min_sessions, cfg.time_zone, cfg.refreshed_at
  FROM analysis_settings cfg;

-- Organisations, locations, departments and teams the caller may name in a
-- report (the programme office: organisations only).
CREATE VIEW report_units WITH (security_barrier = true) AS
SELECT x.level, x.unit_id, x.name, x.organisation_id, x.parent_id, x.archived_at
  FROM (SELECT 'organisation'::text AS level, o.id AS unit_id, o.name, o.id AS organisation_id,
               NULL::bigint AS parent_id, o.archived_at
          FROM organisations o
        UNION ALL
        SELECT u.kind, u.id, u.name, u.organisation_id, u.parent_id, u.archived_at
          FROM org_units u) x
 -- One WHERE over the union, not one per branch: a view that is a bare
 -- UNION ALL is flattened into the caller's query and loses its barrier.
 WHERE x.organisation_id IN (SELECT ao.organisation_id FROM lwk.analyst_organisations ao
                               JOIN pg_catalog.pg_roles ro ON ro.rolname = ao.role_name
                              WHERE pg_catalog.pg_has_role(ro.oid, 'MEMBER'))
    OR (x.level = 'organisation' AND (SELECT pg_catalog.pg_has_role('lwk_programme', 'MEMBER')));

CREATE VIEW report_items WITH (security_barrier = true) AS
SELECT instrument, item_key, item, item_name FROM analysis_items;

-- Scores per period, level and item: mean, median, quartiles, standard
-- deviation, distribution (d1..d10 = how many gave 1..10), desired score and
-- gap, and the change since the previous period with data.
CREATE VIEW report_scores WITH (security_barrier = true) AS
SELECT r.period, r.period_start, r.level, r.unit_id,
       CASE r.level WHEN 'all' THEN 'Alle organisaties' WHEN 'organisation' THEN o.name
                    ELSE u.name END AS unit_name,
       r.organisation_id, o.name AS organisation_name, r.location_id, r.department_id, r.team_id,
       r.instrument, r.item_key, ai.item, ai.item_name,
       r.n_sessions, r.n_teams,
       r.people < cfg.k AS suppressed,
       CASE WHEN r.people >= cfg.k THEN r.people END AS n_participants,
       CASE WHEN r.people >= cfg.k THEN r.n_scores END AS n_scores,
       CASE WHEN r.people >= cfg.k THEN round(r.score_sum::numeric / r.n_scores, 2) END AS mean,
       CASE WHEN r.people >= cfg.k THEN hist_percentile(ARRAY[r.h1, r.h2, r.h3, r.h4, r.h5,
                                            r.h6, r.h7, r.h8, r.h9, r.h10], 0.5) END AS median,
       CASE WHEN r.people >= cfg.k THEN hist_percentile(ARRAY[r.h1, r.h2, r.h3, r.h4, r.h5,
                                            r.h6, r.h7, r.h8, r.h9, r.h10], 0.25) END AS q1,
       CASE WHEN r.people >= cfg.k THEN hist_percentile(ARRAY[r.h1, r.h2, r.h3, r.h4, r.h5,
                                            r.h6, r.h7, r.h8, r.h9, r.h10], 0.75) END AS q3,
       CASE WHEN r.people >= cfg.k AND r.n_scores > 1 THEN
           round(sqrt(greatest(0, (1 * r.h1 + 4 * r.h2 + 9 * r.h3 + 16 * r.h4 + 25 * r.h5 + 36 * r.h6
                                   + 49 * r.h7 + 64 * r.h8 + 81 * r.h9 + 100 * r.h10
                                   - r.score_sum::numeric * r.score_sum / r.n_scores)
                                  / (r.n_scores - 1))), 2) END AS sd,
       CASE WHEN r.people >= cfg.k THEN r.h1 END AS d1,
       CASE WHEN r.people >= cfg.k THEN r.h2 END AS d2,
       CASE WHEN r.people >= cfg.k THEN r.h3 END AS d3,
       CASE WHEN r.people >= cfg.k THEN r.h4 END AS d4,
       CASE WHEN r.people >= cfg.k THEN r.h5 END AS d5,
       CASE WHEN r.people >= cfg.k THEN r.h6 END AS d6,
       CASE WHEN r.people >= cfg.k THEN r.h7 END AS d7,
       CASE WHEN r.people >= cfg.k THEN r.h8 END AS d8,
       CASE WHEN r.people >= cfg.k THEN r.h9 END AS d9,
       CASE WHEN r.people >= cfg.k THEN r.h10 END AS d10,
       r.n_desired > 0 AND r.desired_people < cfg.k AS desired_suppressed,
       CASE WHEN r.n_desired > 0 AND r.desired_people >= cfg.k THEN
           round(r.desired_sum::numeric / r.n_desired, 2) END AS desired_mean,
       CASE WHEN r.n_desired > 0 AND r.desired_people >= cfg.k AND r.people >= cfg.k THEN
           round(r.desired_sum::numeric / r.n_desired, 2) - round(r.score_sum::numeric / r.n_scores, 2)
       END AS gap,
       r.prev_period_start,
       CASE WHEN r.people >= cfg.k AND r.prev_people >= cfg.k THEN
           round(r.prev_score_sum::numeric / r.prev_n_scores, 2) END AS prev_mean,
       CASE WHEN r.people >= cfg.k AND r.prev_people >= cfg.k THEN
           round(r.score_sum::numeric / r.n_scores, 2) - round(r.prev_score_sum::numeric / r.prev_n_scores, 2)
       END AS change
  FROM mv_item_period r
 CROSS JOIN analysis_settings cfg
  LEFT JOIN organisations o ON o.id = r.organisation_id
  LEFT JOIN org_units u ON u.id = r.unit_id AND r.level IN ('team', 'department', 'location')
  LEFT JOIN analysis_items ai ON ai.instrument = r.instrument AND ai.item_key = r.item_key
 WHERE (r.level <> 'all'
        AND r.organisation_id IN (SELECT ao.organisation_id FROM lwk.analyst_organisations ao
                                    JOIN pg_catalog.pg_roles ro ON ro.rolname = ao.role_name
                                   WHERE pg_catalog.pg_has_role(ro.oid, 'MEMBER')))
    OR (r.level IN ('organisation', 'all') AND (SELECT pg_catalog.pg_has_role('lwk_programme', 'MEMBER')));

-- Per team, per session and item: the mean against the team's previous
-- session (one cycle back). Analysts only: it is team level.
CREATE VIEW report_team_change WITH (security_barrier = true) AS
SELECT si.organisation_id, si.location_id, si.department_id, si.team_id, u.name AS team_name,
       si.instrument, si.item_key, ai.item, ai.item_name,
       si.session_date, si.prev_session_date,
       si.n < cfg.k AS suppressed,
       CASE WHEN si.n >= cfg.k THEN si.n END AS n_participants,
       CASE WHEN si.n >= cfg.k THEN round(si.score_sum::numeric / si.n, 2) END AS mean,
       CASE WHEN si.n >= cfg.k AND si.prev_n >= cfg.k THEN
           round(si.prev_score_sum::numeric / si.prev_n, 2) END AS prev_mean,
       CASE WHEN si.n >= cfg.k AND si.prev_n >= cfg.k THEN
           round(si.score_sum::numeric / si.n, 2) - round(si.prev_score_sum::numeric / si.prev_n, 2)
       END AS change
  FROM mv_session_item si
 CROSS JOIN analysis_settings cfg
  JOIN org_units u ON u.id = si.team_id
  LEFT JOIN analysis_items ai ON ai.instrument = si.instrument AND ai.item_key = si.item_key
 WHERE si.organisation_id IN (SELECT ao.organisation_id FROM lwk.analyst_organisations ao
                                JOIN pg_catalog.pg_roles ro ON ro.rolname = ao.role_name
                               WHERE pg_catalog.pg_has_role(ro.oid, 'MEMBER'));

-- Sessions, teams and participants per period and level, and the sessions'
-- evaluation ratings (1..5, r1..r5 = how many gave 1..5).
CREATE VIEW report_participation WITH (security_barrier = true) AS
SELECT r.period, r.period_start, r.level, r.unit_id,
       CASE r.level WHEN 'all' THEN 'Alle organisaties' WHEN 'organisation' THEN o.name
                    ELSE u.name END AS unit_name,
       r.organisation_id, o.name AS organisation_name, r.location_id, r.department_id, r.team_id,
       r.instrument, r.n_sessions, r.n_teams,
       r.people < cfg.k AS suppressed,
       CASE WHEN r.people >= cfg.k THEN r.people END AS n_participants,
       CASE WHEN r.people >= cfg.k THEN r.n_participations END AS n_participations,
       r.n_ratings > 0 AND r.rating_people < cfg.k AS rating_suppressed,
       CASE WHEN r.rating_people >= cfg.k THEN r.n_ratings END AS n_ratings,
       CASE WHEN r.rating_people >= cfg.k THEN
           round((r.r1 + 2 * r.r2 + 3 * r.r3 + 4 * r.r4 + 5 * r.r5)::numeric / r.n_ratings, 2)
       END AS rating_mean,
       CASE WHEN r.rating_people >= cfg.k THEN r.r1 END AS r1,
       CASE WHEN r.rating_people >= cfg.k THEN r.r2 END AS r2,
       CASE WHEN r.rating_people >= cfg.k THEN r.r3 END AS r3,
       CASE WHEN r.rating_people >= cfg.k THEN r.r4 END AS r4,
       CASE WHEN r.rating_people >= cfg.k THEN r.r5 END AS r5
  FROM mv_session_period r
 CROSS JOIN analysis_settings cfg
  LEFT JOIN organisations o ON o.id = r.organisation_id
  LEFT JOIN org_units u ON u.id = r.unit_id AND r.level IN ('team', 'department', 'location')
 WHERE (r.level <> 'all'
        AND r.organisation_id IN (SELECT ao.organisation_id FROM lwk.analyst_organisations ao
                                    JOIN pg_catalog.pg_roles ro ON ro.rolname = ao.role_name
                                   WHERE pg_catalog.pg_has_role(ro.oid, 'MEMBER')))
    OR (r.level IN ('organisation', 'all') AND (SELECT pg_catalog.pg_has_role('lwk_programme', 'MEMBER')));

-- Actions agreed per period and level: counts by status, completion rate
-- (done / all agreed), overdue rate (overdue / all agreed), median days from
-- the session to done.
CREATE VIEW report_actions WITH (security_barrier = true) AS
SELECT r.period, r.period_start, r.level, r.unit_id,
       CASE r.level WHEN 'all' THEN 'Alle organisaties' WHEN 'organisation' THEN o.name
                    ELSE u.name END AS unit_name,
       r.organisation_id, o.name AS organisation_name, r.location_id, r.department_id, r.team_id,
       r.instrument, r.n_sessions, r.n_teams,
       r.people < cfg.k AS suppressed,
       CASE WHEN r.people >= cfg.k THEN r.n_actions END AS n_actions,
       CASE WHEN r.people >= cfg.k THEN r.n_open END AS n_open,
       CASE WHEN r.people >= cfg.k THEN r.n_in_progress END AS n_in_progress,
       CASE WHEN r.people >= cfg.k THEN r.n_done END AS n_done,
       CASE WHEN r.people >= cfg.k THEN r.n_dropped END AS n_dropped,
       CASE WHEN r.people >= cfg.k THEN r.n_overdue END AS n_overdue,
       CASE WHEN r.people >= cfg.k THEN round(r.n_done::numeric / r.n_actions, 3) END AS completion_rate,
       CASE WHEN r.people >= cfg.k THEN round(r.n_overdue::numeric / r.n_actions, 3) END AS overdue_rate,
       CASE WHEN r.people >= cfg.k THEN round(r.median_days_to_done::numeric, 1) END AS median_days_to_done
  FROM mv_action_period r
 CROSS JOIN analysis_settings cfg
  LEFT JOIN organisations o ON o.id = r.organisation_id
  LEFT JOIN org_units u ON u.id = r.unit_id AND r.level IN ('team', 'department', 'location')
 WHERE (r.level <> 'all'
        AND r.organisation_id IN (SELECT ao.organisation_id FROM lwk.analyst_organisations ao
                                    JOIN pg_catalog.pg_roles ro ON ro.rolname = ao.role_name
                                   WHERE pg_catalog.pg_has_role(ro.oid, 'MEMBER')))
    OR (r.level IN ('organisation', 'all') AND (SELECT pg_catalog.pg_has_role('lwk_programme', 'MEMBER')));

-- Normalised theme labels named in at least theme_min_sessions sessions whose
-- people reach k. Rows below either threshold are left out altogether: the
-- label itself is what would identify, so there is nothing to show.
CREATE VIEW report_themes WITH (security_barrier = true) AS
SELECT r.period, r.period_start, r.level, r.unit_id,
       CASE r.level WHEN 'all' THEN 'Alle organisaties' WHEN 'organisation' THEN o.name
                    ELSE u.name END AS unit_name,
       r.organisation_id, o.name AS organisation_name, r.location_id, r.department_id, r.team_id,
       r.instrument, r.theme, r.n_sessions, r.n_teams
  FROM mv_theme_period r
 CROSS JOIN analysis_settings cfg
  LEFT JOIN organisations o ON o.id = r.organisation_id
  LEFT JOIN org_units u ON u.id = r.unit_id AND r.level IN ('team', 'department', 'location')
 WHERE r.n_sessions >= cfg.theme_min_sessions AND r.people >= cfg.k
   AND ((r.level <> 'all'
         AND r.organisation_id IN (SELECT ao.organisation_id FROM lwk.analyst_organisations ao
                                     JOIN pg_catalog.pg_roles ro ON ro.rolname = ao.role_name
                                    WHERE pg_catalog.pg_has_role(ro.oid, 'MEMBER')))
     OR (r.level IN ('organisation', 'all') AND (SELECT pg_catalog.pg_has_role('lwk_programme', 'MEMBER'))));

-- ---------------------------------------------------------------------------
-- Rights. Nothing here for lwk_daemon except calling the refresh: the daemon
-- keeps the data but does not read reports. Materialized views, helper views,
-- settings and the map are the owner's alone.
-- ---------------------------------------------------------------------------

GRANT USAGE ON SCHEMA lwk TO lwk_analyst, lwk_programme;
GRANT SELECT ON report_status, report_units, report_items, report_scores, report_participation,
                report_actions, report_themes
    TO lwk_analyst, lwk_programme;
GRANT SELECT ON report_team_change TO lwk_analyst;
GRANT EXECUTE ON FUNCTION normalise_text(text), hist_percentile(bigint[], float8)
    TO lwk_analyst, lwk_programme;
GRANT EXECUTE ON FUNCTION refresh_analysis(boolean) TO lwk_daemon;
