#!/usr/bin/env bash
# seed-demo.sh: fill an lwk database with realistic synthetic history for
# demonstrations, tests and the analysis benchmark: organisations with
# locations, departments and teams; quarterly LWK-meting sessions with
# participants, blind scores (trends per team, noise per person, a re-score
# now and then), desired scores, themes (spelled inconsistently, as people
# do), keywords, actions with their status history, evaluations, reactions.
# Everything is generated inside PostgreSQL (generate_series, random()), so
# ten million scores need no client-side work.
#
#   usage: seed-demo.sh CONNINFO [options]
#
#   --orgs N          organisations (default 3)
#   --teams N         teams per organisation (default 8)
#   --years N         years of quarterly cycles, ending today (default 2)
#   --scale N         about N scores in all: sets --orgs from --teams/--years
#                     (e.g. --scale 10000000 --teams 50 --years 8)
#   --prefix TEXT     start of the organisation names (default "Demo"); run
#                     again with another prefix to add more organisations
#   --seed X          random seed in -1..1 (default 0.42): same seed, same data
#   --fast            skip foreign-key triggers while loading session content
#                     (superuser only; the generated rows are consistent)
#   --no-refresh      do not call lwk.refresh_analysis() at the end
#
# Prints what it made. The database must be migrated (scripts/migrate.sh).
set -euo pipefail
prog=${0##*/}
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)

usage() {
    sed -n '/^#   usage:/,/^# Prints/p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}
[[ $# -ge 1 && $1 != -* ]] || usage
conninfo=$1
shift

orgs=3 teams=8 years=2 scale= prefix=Demo seed=0.42 fast=off refresh=1
while [[ $# -gt 0 ]]; do
    case $1 in
    --orgs) orgs=$2; shift 2 ;;
    --teams) teams=$2; shift 2 ;;
    --years) years=$2; shift 2 ;;
    --scale) scale=$2; shift 2 ;;
    --prefix) prefix=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --fast) fast=on; shift ;;
    --no-refresh) refresh=0; shift ;;
    -h | --help) usage ;;
    *) echo "$prog: unknown option $1" >&2; usage ;;
    esac
done
for v in orgs teams years; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "$prog: --$v must be a positive number" >&2; exit 2; }
done
if [[ -n $scale ]]; then
    [[ $scale =~ ^[1-9][0-9]*$ ]] || { echo "$prog: --scale must be a positive number" >&2; exit 2; }
    # About 0.9 sessions per team and quarter, 9.3 scoring participants,
    # 4 items, 8% of items scored twice: ~36 scores per session.
    per_org=$((teams * years * 4 * 9 / 10 * 36))
    orgs=$(((scale + per_org - 1) / per_org))
fi

definition=$(cat "$here/../sql/instruments/lwk-meting.lwki")
start=$(date +%s)

psql -X -q -v ON_ERROR_STOP=1 -d "$conninfo" \
    -v orgs="$orgs" -v teams="$teams" -v years="$years" -v prefix="$prefix" \
    -v seed="$seed" -v fast="$fast" -v definition="$definition" <<'SQL'
SET client_min_messages = warning;
BEGIN;
SELECT setseed(:seed) \g /dev/null

-- The instrument: the shipped LWK-meting, unless the database has it already.
INSERT INTO lwk.instruments (key, name) VALUES ('lwk-meting', 'LWK-meting')
    ON CONFLICT (key) DO NOTHING;
INSERT INTO lwk.instrument_versions (instrument_id, version, definition)
SELECT i.id, 1, :'definition' FROM lwk.instruments i
 WHERE i.key = 'lwk-meting'
   AND NOT EXISTS (SELECT 1 FROM lwk.instrument_versions v WHERE v.instrument_id = i.id);
CREATE TEMP TABLE g_version AS
SELECT v.id FROM lwk.instrument_versions v JOIN lwk.instruments i ON i.id = v.instrument_id
 WHERE i.key = 'lwk-meting' ORDER BY v.version DESC LIMIT 1;
INSERT INTO lwk.instrument_items (instrument_version_id, position, key, name, scored, scale_min, scale_max)
SELECT g.id, x.pos, x.key, x.name, true, 1, 10
  FROM g_version g,
       (VALUES (0, 'absorptie', 'Absorptievermogen'), (1, 'verbindend', 'Verbindend vermogen'),
               (2, 'opleidend', 'Opleidend vermogen'), (3, 'lerend', 'Lerend vermogen')) AS x (pos, key, name)
 WHERE NOT EXISTS (SELECT 1 FROM lwk.instrument_items it WHERE it.instrument_version_id = g.id);

-- Organisations, locations, departments, teams.
INSERT INTO lwk.organisations (name)
SELECT format('%s %s %s %s', :'prefix',
              (ARRAY['Zorggroep', 'Stichting', 'Woonzorg', 'Zorgcentra', 'Thuiszorg'])[1 + i % 5],
              (ARRAY['De Linde', 'Maasoever', 'Het Baken', 'Noorderlicht', 'De Zeven Bronnen',
                     'Rivierland', 'Heuvelrug', 'De Kempen', 'Waterweide', 'Oostergo'])[1 + (i / 5) % 10],
              lpad(i::text, 3, '0'))
  FROM generate_series(1, :orgs) AS i;
CREATE TEMP TABLE g_org AS
SELECT o.id, row_number() OVER (ORDER BY o.id) AS n
  FROM lwk.organisations o
 WHERE o.name LIKE :'prefix' || ' %' AND NOT EXISTS (SELECT 1 FROM lwk.org_units u WHERE u.organisation_id = o.id);

INSERT INTO lwk.org_units (organisation_id, kind, name)
SELECT o.id, 'location',
       (ARRAY['Huis aan de Brink', 'De Hofstede', 'Parkzicht', 'Het Anker', 'De Waterhoek'])[l]
  FROM g_org o, generate_series(1, 1 + (o.n % 3)::int) AS l;
INSERT INTO lwk.org_units (organisation_id, kind, parent_id, name)
SELECT u.organisation_id, 'department', u.id, d.name
  FROM lwk.org_units u JOIN g_org o ON o.id = u.organisation_id,
       (VALUES ('Somatiek'), ('Psychogeriatrie')) AS d (name)
 WHERE u.kind = 'location';

-- Each team hangs under a department, or (every fourth) directly under a
-- location, and has its own level, trend, size and item profile.
CREATE TEMP TABLE g_team_plan AS
WITH parents AS (
    SELECT u.organisation_id, u.id, u.kind,
           row_number() OVER (PARTITION BY u.organisation_id, u.kind ORDER BY u.id) - 1 AS i,
           count(*) OVER (PARTITION BY u.organisation_id, u.kind) AS cnt
      FROM lwk.org_units u JOIN g_org o ON o.id = u.organisation_id
)
SELECT o.id AS organisation_id, t, p.id AS parent_id
  FROM g_org o
 CROSS JOIN generate_series(1, :teams) AS t
  JOIN parents p ON p.organisation_id = o.id
               AND p.kind = CASE WHEN t % 4 = 0 THEN 'location' ELSE 'department' END
               AND p.i = t % p.cnt;
INSERT INTO lwk.org_units (organisation_id, kind, parent_id, name)
SELECT organisation_id, 'team', parent_id, format('Team %s', t) FROM g_team_plan;

CREATE TEMP TABLE g_team AS
SELECT u.id, u.organisation_id,
       4.6 + random() * 2.8 AS base,                         -- level at the start
       -0.25 + random() * 0.7 AS slope,                      -- change per year
       CASE WHEN random() < 0.12 THEN 3 + (random() * 2)::int -- small teams: suppressed
            ELSE 6 + (random() * 8)::int END AS size,
       ARRAY[random() - 0.5, random() - 0.3, random() - 0.7, random() - 0.5] AS item_offset
  FROM lwk.org_units u JOIN g_org o ON o.id = u.organisation_id
 WHERE u.kind = 'team';

-- Sessions: one per team and quarter, 90% of the time, on a day of the
-- team's own somewhere in the quarter; all closed. (random() in a select
-- list runs once per row; in a lateral subquery it may run once in all.)
CREATE TEMP TABLE g_session AS
SELECT x.id, x.team_id, x.organisation_id, x.base, x.slope, x.size, x.item_offset, x.started_at
  FROM (SELECT (1 + floor(random() * 4611686018427387000))::bigint AS id,
               t.id AS team_id, t.organisation_id, t.base, t.slope, t.size, t.item_offset,
               date_trunc('quarter', now() - make_interval(years => :years))
               + make_interval(months => q * 3, days => (random() * 80)::int,
                               hours => 9 + (random() * 7)::int) AS started_at,
               random() AS u
          FROM g_team t CROSS JOIN generate_series(0, :years * 4 - 1) AS q) x
 WHERE x.u < 0.9 AND x.started_at < now() - interval '1 day';
-- Random ids: a duplicate is astronomically unlikely, but never fatal.
DELETE FROM g_session a USING g_session b WHERE a.id = b.id AND a.ctid > b.ctid;
ALTER TABLE g_session ADD PRIMARY KEY (id);
ANALYZE g_session;

INSERT INTO lwk.sessions (id, organisation_id, team_id, instrument_version_id, status,
                          planned_at, started_at, closed_at, created_at, updated_at)
SELECT s.id, s.organisation_id, s.team_id, v.id, 'closed',
       s.started_at, s.started_at, s.started_at + interval '100 minutes',
       s.started_at - interval '14 days', s.started_at + interval '100 minutes'
  FROM g_session s, g_version v;

-- Session content. With --fast the foreign-key triggers are skipped (the
-- rows below are consistent by construction); needs a superuser.
SELECT :'fast' = 'on' AS fast_load \gset
\if :fast_load
SET LOCAL session_replication_role = replica;
\endif

CREATE TEMP TABLE g_participant AS
SELECT s.id AS session_id, p AS pid, s.started_at,
       (random() - 0.5) * 1.6 AS bias,              -- this person's leaning
       random() < 0.02 AS removed
  FROM g_session s
 CROSS JOIN LATERAL generate_series(1, greatest(3, s.size + (random() * 4)::int - 2)) AS p;
INSERT INTO lwk.participants (session_id, pid, display_name, joined_at, removed)
SELECT session_id, pid, 'Deelnemer ' || pid, started_at, removed FROM g_participant;

-- One round per item; 8% of items are scored again after the explanations.
CREATE TEMP TABLE g_round AS
SELECT x.id AS session_id, x.i AS item, r AS round,
       x.started_at + make_interval(mins => 10 + x.i * 15 + (r - 1) * 8) AS opened_at
  FROM (SELECT s.id, s.started_at, i, random() AS u        -- random() here: once per row
          FROM g_session s CROSS JOIN generate_series(0, 3) AS i) x
 CROSS JOIN generate_series(1, 2) AS r
 WHERE r = 1 OR x.u < 0.08;
INSERT INTO lwk.score_rounds (session_id, item, round, opened_at, revealed_at)
SELECT session_id, item, round, opened_at, opened_at + interval '4 minutes' FROM g_round;

-- A score: the team's level and trend, the item's profile, the person's
-- leaning and some noise (Box-Muller), rounded to a grade 1..10. A re-score
-- moves a little toward the middle.
INSERT INTO lwk.scores (session_id, item, round, pid, value, updated_at)
SELECT r.session_id, r.item, r.round, p.pid,
       least(10, greatest(1, round(
           s.base + s.slope * extract(epoch FROM s.started_at - (now() - make_interval(years => :years))) / 31557600
           + s.item_offset[r.item + 1] + p.bias
           + 1.1 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())
           - (r.round - 1) * 0.3 * sign(p.bias))))::smallint,
       r.opened_at + interval '2 minutes'
  FROM g_round r
  JOIN g_session s ON s.id = r.session_id
  JOIN g_participant p ON p.session_id = r.session_id;

-- Desired scores: a point or two above where the team stands, agreed.
INSERT INTO lwk.desired_scores (session_id, item, value, agreed, updated_at)
SELECT s.id, i,
       least(10, greatest(1, round(s.base + s.item_offset[i + 1] + 1 + random() * 1.5)))::smallint,
       random() < 0.95, s.started_at + interval '70 minutes'
  FROM g_session s CROSS JOIN generate_series(0, 3) AS i;

-- Keywords: two per session, about a random item, from a random participant.
INSERT INTO lwk.keywords (session_id, kid, pid, item, text, created_at, updated_at)
SELECT s.id, k, 1 + (k % 3), (k % 4)::smallint,
       (ARRAY['nieuwe collega''s vaak alleen', 'buddy werkt goed', 'weinig tijd voor uitleg',
              'studenten voelen zich welkom', 'vaste werkbegeleider ontbreekt',
              'fouten bespreken lukt steeds beter'])[1 + (random() * 5)::int],
       s.started_at, s.started_at
  FROM g_session s CROSS JOIN generate_series(1, 2) AS k;

-- Themes: a long tail over a common core, written in the varied ways people
-- write them (case, accents, stray spaces and punctuation).
CREATE TEMP TABLE g_theme AS
SELECT s.id AS session_id, th AS tid, s.started_at,
       (ARRAY['Werkdruk', 'Begeleiding van studenten', 'Inwerken nieuwe collega''s', 'Tijd voor scholing',
              'Feedback geven', 'Personeelstekort', 'Kennis delen', 'Veiligheid om fouten te bespreken',
              'Rol van de werkbegeleider', 'Intervisie', 'Ruimte voor reflectie', 'Roosterdruk',
              'Samenwerking met de leidinggevende', 'Scholingsbudget', 'Overdracht', 'Vertrouwen in elkaar',
              'Taakverdeling', 'Zelfroosteren', 'Praktijkopleider', 'Ziekteverzuim'])
           [1 + floor(20 * random() ^ 2)::int] AS label,
       random() AS style
  FROM (SELECT id, started_at, random() AS u FROM g_session) s
 CROSS JOIN generate_series(1, 4) AS th
 WHERE th <= 2 + floor(s.u * 3);
INSERT INTO lwk.themes (session_id, tid, text, created_at, updated_at)
SELECT session_id, tid,
       CASE WHEN style < 0.60 THEN label
            WHEN style < 0.75 THEN lower(label)
            WHEN style < 0.85 THEN ' ' || label || ' '
            WHEN style < 0.93 THEN label || '!'
            ELSE replace(replace(label, 'e', 'é'), 'o', 'ö') END,
       started_at + interval '60 minutes', started_at + interval '60 minutes'
  FROM g_theme;
INSERT INTO lwk.theme_items (session_id, tid, item)
SELECT session_id, tid, (tid % 4)::smallint FROM g_theme;

-- Actions: one to three per session. The older the session, the likelier
-- the action is done; some are dropped, some run past their deadline.
CREATE TEMP TABLE g_action AS
SELECT s.id AS session_id, s.team_id, s.organisation_id, a AS aid, s.started_at,
       (s.started_at + make_interval(days => 30 + (random() * 90)::int))::date AS deadline,
       random() AS fate,
       least(0.9, extract(epoch FROM now() - s.started_at) / (86400 * 365.0)) AS p_done,
       10 + (random() * 120)::int AS days_to_done
  FROM (SELECT *, random() AS u FROM g_session) s
 CROSS JOIN generate_series(1, 3) AS a
 WHERE a <= 1 + floor(s.u * 3);
INSERT INTO lwk.actions (organisation_id, team_id, session_id, aid, description, owner, deadline,
                         feedback_moment, item, status, confirmed, created_at, updated_at)
SELECT organisation_id, team_id, session_id, aid,
       (ARRAY['Elke nieuwe collega krijgt een buddy', 'Vast moment voor intervisie in het teamoverleg',
              'Inwerkmap bijwerken', 'Studenten schuiven aan bij de overdracht',
              'Maandelijks leermoment over een casus'])[1 + (aid + (fate * 4)::int) % 5],
       'Deelnemer ' || aid, deadline, 'teamoverleg', ((aid - 1) % 4)::smallint,
       CASE WHEN fate < 0.08 THEN 'dropped'
            WHEN fate < 0.08 + p_done
                 AND started_at + make_interval(days => days_to_done) < now() THEN 'done'
            WHEN fate < 0.6 + p_done / 3 THEN 'in_progress'
            ELSE 'open' END,
       true, started_at, started_at
  FROM g_action;
INSERT INTO lwk.action_status_history (action_session_id, aid, status, changed_at)
SELECT a.session_id, a.aid, 'in_progress', g.started_at + make_interval(days => g.days_to_done / 3)
  FROM lwk.actions a JOIN g_action g ON g.session_id = a.session_id AND g.aid = a.aid
 WHERE a.status IN ('in_progress', 'done');
INSERT INTO lwk.action_status_history (action_session_id, aid, status, changed_at)
SELECT a.session_id, a.aid, a.status,
       g.started_at + make_interval(days => CASE WHEN a.status = 'done' THEN g.days_to_done ELSE 20 END)
  FROM lwk.actions a JOIN g_action g ON g.session_id = a.session_id AND g.aid = a.aid
 WHERE a.status IN ('done', 'dropped');
UPDATE lwk.actions a SET updated_at = h.changed_at
  FROM (SELECT action_session_id, aid, max(changed_at) AS changed_at
          FROM lwk.action_status_history GROUP BY 1, 2) h
 WHERE h.action_session_id = a.session_id AND h.aid = a.aid
   AND a.session_id IN (SELECT id FROM g_session);

-- The look back: most rate the session, mostly well; a few write something.
INSERT INTO lwk.evaluations (session_id, pid, rating, text, updated_at)
SELECT session_id, pid,
       (ARRAY[2, 3, 3, 4, 4, 4, 4, 5, 5, 5])[1 + (random() * 9)::int]::smallint,
       CASE WHEN random() < 0.2 THEN 'Fijn om dit samen te bespreken' END,
       started_at + interval '95 minutes'
  FROM g_participant
 WHERE NOT removed AND random() < 0.75;
INSERT INTO lwk.reactions (session_id, kid, pid, text, updated_at)
SELECT session_id, pid, pid, 'Herkenbaar', started_at + interval '90 minutes'
  FROM g_participant
 WHERE NOT removed AND random() < 0.3;
INSERT INTO lwk.summaries (session_id, text, updated_at)
SELECT id, 'Het team herkent de scores en kiest twee acties.', started_at + interval '85 minutes'
  FROM g_session;

SELECT format('seed-demo: %s organisations, %s teams, %s sessions, %s participants, %s scores, %s actions, %s themes',
              (SELECT count(*) FROM g_org), (SELECT count(*) FROM g_team), (SELECT count(*) FROM g_session),
              (SELECT count(*) FROM g_participant),
              (SELECT count(*) FROM g_round r JOIN g_participant p USING (session_id)),
              (SELECT count(*) FROM g_action), (SELECT count(*) FROM g_theme)) AS summary \gset
COMMIT;
\echo :summary
SQL

for t in organisations org_units sessions participants score_rounds scores desired_scores keywords themes \
    actions action_status_history evaluations reactions summaries; do
    psql -X -q -d "$conninfo" -c "ANALYZE lwk.$t" >/dev/null
done
if ((refresh)); then
    psql -X -q -v ON_ERROR_STOP=1 -d "$conninfo" -c "SELECT lwk.refresh_analysis(false)" >/dev/null
fi
echo "seed-demo: done in $(($(date +%s) - start)) s"
