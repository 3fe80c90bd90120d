"""Issue 9, the database side: the analysis views give exact aggregates of a
small known fixture; a team of four never shows a number and a team of five
does; row-level security keeps every analyst to its own organisation (every
table and view, guessed ids, leaky functions), the programme office to
aggregates and the daemon away from reports; retention blanks free text and
keeps the aggregates.

The fixture (load_fixture) is shared with test_report.py, which checks the
same numbers through `lwk-report`."""
import os
import subprocess

from lwktest import SCRIPTS, Database, run

# Organisation A (analysed) and B (must never show to A's analyst).
ORG_A, ORG_B = 7001, 7002
LOC, DEPT, T1, T2, T3, TB = 7100, 7101, 7110, 7111, 7112, 7200
S1, S2, S3, S4, S4B, S5, S6 = (5550000000001, 5550000000002, 5550000000003, 5550000000004,
                               5550000000006, 5550000000005, 5550000000007)
# Strings that must never reach a report: names, keywords, evaluation text...
SECRET = "GEHEIM"
IDS = dict(A=ORG_A, B=ORG_B, LOC=LOC, DEPT=DEPT, T1=T1, T2=T2, T3=T3, TB=TB, S1=S1, S2=S2, S3=S3, S4=S4,
           S4B=S4B, S5=S5, S6=S6, SECRET=SECRET)
# What analyst A must never see of organisation B.
B_MARKERS = ("Beta", str(S5))


def _scores(sid, item, rnd, values, revealed=True, first_pid=1, opened="s.started_at"):
    """SQL for one score round and its scores (pids from first_pid on)."""
    rows = ", ".join("(%d, %d, %d, %d, %d)" % (sid, item, rnd, first_pid + i, v) for i, v in enumerate(values))
    rev = "s.started_at + interval '%d minutes'" % (10 * rnd + item) if revealed else "NULL"
    return ("INSERT INTO lwk.score_rounds (session_id, item, round, opened_at, revealed_at) "
            "SELECT s.id, %d, %d, %s, %s FROM lwk.sessions s WHERE s.id = %d;\n"
            "INSERT INTO lwk.scores (session_id, item, round, pid, value) VALUES %s;\n"
            % (item, rnd, opened, rev, sid, rows))


def fixture_sql():
    s = """
SET search_path = lwk;
INSERT INTO organisations (id, name) OVERRIDING SYSTEM VALUE VALUES (%(A)d, 'Zorg Alfa'), (%(B)d, 'Zorg Beta');
INSERT INTO org_units (id, organisation_id, kind, parent_id, name) OVERRIDING SYSTEM VALUE VALUES
    (%(LOC)d, %(A)d, 'location', NULL, 'Locatie Alfa'),
    (%(DEPT)d, %(A)d, 'department', %(LOC)d, 'Afdeling Alfa'),
    (%(T1)d, %(A)d, 'team', %(DEPT)d, 'Team Een'),
    (%(T2)d, %(A)d, 'team', %(LOC)d, 'Team Twee'),
    (%(T3)d, %(A)d, 'team', %(DEPT)d, 'Team Klein'),
    (%(TB)d, %(B)d, 'team', NULL, 'Team Beta');
INSERT INTO sessions (id, organisation_id, team_id, instrument_version_id, status, started_at, closed_at)
SELECT x.id, x.org, x.team, v.id, 'closed', x.at, x.at + interval '2 hours'
  FROM (VALUES (%(S1)d, %(A)d, %(T1)d, timestamptz '2024-02-10 10:00+01'),
               (%(S2)d, %(A)d, %(T1)d, timestamptz '2024-05-15 10:00+02'),
               (%(S3)d, %(A)d, %(T2)d, timestamptz '2024-02-20 10:00+01'),
               (%(S4)d, %(A)d, %(T3)d, timestamptz '2024-03-01 10:00+01'),
               (%(S4B)d, %(A)d, %(T3)d, timestamptz '2024-04-10 10:00+02'),
               (%(S5)d, %(B)d, %(TB)d, timestamptz '2024-02-12 10:00+01'),
               (%(S6)d, %(A)d, %(T1)d, now() - interval '2 days')) AS x (id, org, team, at),
       instrument_versions v JOIN instruments i ON i.id = v.instrument_id
 WHERE i.key = 'lwk-meting' AND v.version = 1;
INSERT INTO participants (session_id, pid, display_name, removed)
SELECT s, p, CASE WHEN s = %(S6)d THEN 'Recent' ELSE '%(SECRET)s' END || ' deelnemer ' || p,
       (s = %(S1)d AND p = 6)
  FROM (VALUES (%(S1)d, 6), (%(S2)d, 5), (%(S3)d, 6), (%(S4)d, 4), (%(S4B)d, 4), (%(S5)d, 5), (%(S6)d, 2))
       AS n (s, cnt),
       generate_series(1, n.cnt) AS p;
""" % IDS
    # S1: item 0 scored three times; round 2 is the last revealed one (the
    # removed participant 6 scored in it too); round 3 was never revealed.
    s += _scores(S1, 0, 1, [4, 5, 6, 7, 8])
    s += _scores(S1, 0, 2, [6, 6, 7, 7, 9, 1])
    s += _scores(S1, 0, 3, [1, 1, 1, 1, 1], revealed=False)
    s += _scores(S1, 1, 1, [5, 5, 6, 6, 8])
    s += _scores(S2, 0, 1, [7, 7, 8, 8, 9])
    s += _scores(S2, 1, 1, [6, 7, 7, 7, 8])
    s += _scores(S3, 0, 1, [3, 4, 5, 5, 6, 7])
    s += _scores(S3, 1, 1, [5, 5, 5, 6, 6, 6])
    s += _scores(S4, 0, 1, [2, 2, 3, 3])
    s += _scores(S4B, 0, 1, [3, 3, 3, 3])
    s += _scores(S5, 0, 1, [10, 10, 10, 10, 10])
    s += """
INSERT INTO desired_scores (session_id, item, value, agreed) VALUES
    (%(S1)d, 0, 8, true), (%(S1)d, 1, 7, true), (%(S1)d, 2, 9, false), (%(S3)d, 0, 7, true);
INSERT INTO actions (organisation_id, team_id, session_id, aid, description, owner, status, deadline,
                     confirmed, removed, updated_at) VALUES
    (%(A)d, %(T1)d, %(S1)d, 1, '%(SECRET)s actie', '%(SECRET)s eigenaar', 'done', NULL, true, false, now()),
    (%(A)d, %(T1)d, %(S1)d, 2, 'te laat', NULL, 'open', '2024-03-01', true, false, now()),
    (%(A)d, %(T1)d, %(S1)d, 3, 'vervallen', NULL, 'dropped', NULL, true, false, now()),
    (%(A)d, %(T1)d, %(S1)d, 4, 'bezig', NULL, 'in_progress', '2999-01-01', true, false, now()),
    (%(A)d, %(T1)d, %(S1)d, 5, 'weggehaald', NULL, 'done', NULL, true, true, now()),
    (%(A)d, %(T1)d, %(S1)d, 6, 'voorstel', NULL, 'open', NULL, false, false, now()),
    (%(A)d, %(T2)d, %(S3)d, 1, 'klaar', NULL, 'done', NULL, true, false, now()),
    (%(A)d, %(T2)d, %(S3)d, 2, 'klaar zonder historie', NULL, 'done', NULL, true, false,
     '2024-03-01 12:00+01'),
    (%(A)d, %(T3)d, %(S4B)d, 1, 'klein team', NULL, 'open', '2999-01-01', true, false, now()),
    (%(B)d, %(TB)d, %(S5)d, 1, 'Beta actie', NULL, 'done', NULL, true, false, now());
INSERT INTO action_status_history (action_session_id, aid, status, note, changed_at) VALUES
    (%(S1)d, 1, 'in_progress', '%(SECRET)s notitie', '2024-02-20 12:00+01'),
    (%(S1)d, 1, 'done', NULL, '2024-03-11 12:00+01'),
    (%(S3)d, 1, 'done', NULL, '2024-04-20 12:00+02'),
    (%(S5)d, 1, 'done', NULL, '2024-03-12 12:00+01');
INSERT INTO action_reviews (action_session_id, aid, session_id, effect, note)
    VALUES (%(S1)d, 1, %(S2)d, 4, '%(SECRET)s review');
INSERT INTO evaluations (session_id, pid, rating, text) VALUES
    (%(S1)d, 1, 4, '%(SECRET)s evaluatie'), (%(S1)d, 2, 4, NULL), (%(S1)d, 3, 5, NULL),
    (%(S1)d, 4, 5, NULL), (%(S1)d, 5, 3, NULL), (%(S1)d, 6, NULL, '%(SECRET)s alleen tekst'),
    (%(S3)d, 1, 5, NULL), (%(S3)d, 2, 5, NULL),
    (%(S4)d, 1, 5, NULL), (%(S4)d, 2, 5, NULL), (%(S4)d, 3, 5, NULL), (%(S4)d, 4, 5, NULL);
INSERT INTO reactions (session_id, kid, pid, text) VALUES (%(S1)d, 1, 1, '%(SECRET)s reactie');
INSERT INTO keywords (session_id, kid, pid, item, text) VALUES
    (%(S1)d, 1, 1, 0, '%(SECRET)s trefwoord'), (%(S6)d, 1, 1, 0, 'RECENT trefwoord');
INSERT INTO summaries (session_id, text) VALUES (%(S1)d, '%(SECRET)s samenvatting');
INSERT INTO look_ahead_items (session_id, lid, text) VALUES (%(S1)d, 1, '%(SECRET)s vooruitblik');
INSERT INTO themes (session_id, tid, text, deleted, merged_into) VALUES
    (%(S1)d, 1, 'Werkdruk', false, NULL), (%(S1)d, 2, 'Begeleiding', true, NULL),
    (%(S3)d, 1, ' werkdrúk! ', false, NULL), (%(S3)d, 2, 'Studenten', false, 1),
    (%(S4)d, 1, 'WERKDRUK', false, NULL), (%(S2)d, 1, 'Begeleiding', false, NULL),
    (%(S5)d, 1, 'werkdruk', false, NULL);
INSERT INTO session_events (session_id, seq, kind, payload, data) VALUES
    (%(S1)d, 1, 'keyword.added', '\\x01', '{"text": "%(SECRET)s event"}'),
    (%(S6)d, 1, 'keyword.added', '\\x01', '{"text": "RECENT event"}');
SELECT lwk.refresh_analysis();
""" % IDS
    return s


class Fixture:
    """A migrated database with the fixture and one login per role:
    analyst_a (organisation A), analyst_b (B), analyst_none (no mapping),
    programme, and lwkd (the daemon's login, made by dbsetup.sh)."""

    def __init__(self):
        self.db = Database()
        try:
            self._load()
        except BaseException:
            self.drop()
            raise

    def _load(self):
        p = self.db.name
        self.analyst_a, self.analyst_b = p + "_analyst_a", p + "_analyst_b"
        self.analyst_none, self.programme = p + "_analyst_none", p + "_programme"
        self.db.psql(fixture_sql())
        self.db.psql("""
CREATE ROLE %(a)s LOGIN IN ROLE lwk_analyst;
CREATE ROLE %(b)s LOGIN IN ROLE lwk_analyst;
CREATE ROLE %(n)s LOGIN IN ROLE lwk_analyst;
CREATE ROLE %(p)s LOGIN IN ROLE lwk_programme;
INSERT INTO lwk.analyst_organisations (role_name, organisation_id) VALUES ('%(a)s', %(A)d), ('%(b)s', %(B)d);
""" % dict(a=self.analyst_a, b=self.analyst_b, n=self.analyst_none, p=self.programme, A=ORG_A, B=ORG_B))

    def conninfo(self, user):
        return "host=%s dbname=%s user=%s" % (self.db.sock, self.db.name, user)

    def sql(self, sql, user="postgres", verbosity="sqlstate"):
        """(returncode, stdout, stderr) of psql; stderr carries SQLSTATEs."""
        p = subprocess.run(["psql", "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-v", "VERBOSITY=" + verbosity,
                            "-h", self.db.sock, "-U", user, "-d", self.db.name, "-c", sql],
                           capture_output=True, text=True)
        return p.returncode, p.stdout.strip(), p.stderr

    def rows(self, sql, user="postgres"):
        rc, out, err = self.sql(sql, user)
        assert rc == 0, "%s as %s: %s" % (sql, user, err)
        return [line.split("|") for line in out.splitlines()] if out else []

    def one(self, sql, user="postgres"):
        rows = self.rows(sql, user)
        assert len(rows) == 1 and len(rows[0]) == 1, (sql, rows)
        return rows[0][0]

    def denied(self, sql, user):
        rc, out, err = self.sql(sql, user)
        return rc != 0 and "42501" in err

    def drop(self):
        self.db.drop()
        for r in (self.analyst_a, self.analyst_b, self.analyst_none, self.programme):
            subprocess.call(["psql", "-X", "-q", "-h", self.db.sock, "-U", "postgres", "-d", "postgres",
                             "-c", "DROP ROLE IF EXISTS %s" % r], stderr=subprocess.DEVNULL)


def relations(fx, kinds="rvm"):
    """Tables (r), views (v) and materialized views (m) in schema lwk."""
    return [r[0] for r in fx.rows(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'lwk' AND strpos('%s', c.relkind::text) > 0 ORDER BY 1" % kinds)]


def readable_columns(fx, rel, user):
    return [r[0] for r in fx.rows(
        "SELECT a.attname FROM pg_attribute a WHERE a.attrelid = 'lwk.%s'::regclass AND a.attnum > 0 "
        "AND NOT a.attisdropped AND has_column_privilege('%s', a.attrelid, a.attnum, 'SELECT') "
        "ORDER BY a.attnum" % (rel, user))]


def has_column(fx, rel, col):
    return fx.one("SELECT count(*) FROM pg_attribute WHERE attrelid = 'lwk.%s'::regclass AND attname = '%s' "
                  "AND NOT attisdropped" % (rel, col)) == "1"


def score(fx, user, period, level, unit, item, cols, start):
    """One row of report_scores, the given columns joined with spaces."""
    rows = fx.rows("SELECT %s FROM lwk.report_scores WHERE period = '%s' AND level = '%s' AND unit_id = %d "
                   "AND item_key = '%s' AND period_start = '%s'" % (cols, period, level, unit, item, start), user)
    assert len(rows) == 1, rows
    return " ".join(rows[0])


# --- Exact aggregates ------------------------------------------------------

def aggregates_are_exact():
    fx = Fixture()
    try:
        a = fx.analyst_a
        cols = "n_sessions, n_teams, n_participants, n_scores, mean, median, q1, q3, sd, desired_mean, gap, change"
        got = fx.rows("SELECT %s FROM lwk.report_scores WHERE period = 'quarter' AND level = 'organisation' "
                      "AND unit_id = %d AND item_key = 'absorptie' ORDER BY period_start" % (cols, ORG_A), a)
        # Q1: S1 round 2 (6 6 7 7 9; the removed participant's 1 left out),
        # S3 (3 4 5 5 6 7), S4 (2 2 3 3); desired 8 (S1) and 7 (S3).
        assert got[0] == ["3", "3", "15", "15", "5.00", "5.00", "3.00", "6.50", "2.10", "7.50", "2.50", ""], got
        # Q2: S2 (7 7 8 8 9) and S4b (3 3 3 3): 51 / 9.
        assert got[1] == ["2", "2", "9", "9", "5.67", "7.00", "3.00", "8.00", "2.60", "", "", "0.67"], got
        assert len(got) == 2, got
        dist = fx.rows("SELECT d1, d2, d3, d4, d5, d6, d7, d8, d9, d10 FROM lwk.report_scores "
                       "WHERE period = 'quarter' AND level = 'organisation' AND unit_id = %d "
                       "AND item_key = 'absorptie' AND period_start = '2024-01-01'" % ORG_A, a)
        assert dist == [["0", "2", "3", "1", "2", "3", "3", "0", "1", "0"]], dist
        # Item 1 in Q1: S1 (30) + S3 (33) over 11; desired 7 from S1 only.
        assert fx.rows("SELECT n_participants, mean, desired_mean, gap FROM lwk.report_scores "
                       "WHERE period = 'quarter' AND level = 'organisation' AND unit_id = %d "
                       "AND item_key = 'verbindend' ORDER BY period_start" % ORG_A, a) == \
            [["11", "5.73", "7.00", "1.27"], ["5", "7.00", "", ""]]
        # The year: people counted per team as its largest session (5 + 6 + 4).
        assert fx.rows("SELECT n_participants, n_scores, mean FROM lwk.report_scores WHERE period = 'year' "
                       "AND level = 'organisation' AND unit_id = %d AND item_key = 'absorptie'" % ORG_A, a) == \
            [["15", "24", "5.25"]]
        # Team, department and location levels.
        assert fx.rows("SELECT mean, median, q1, q3, sd, d6, d7, d9, desired_mean, gap FROM lwk.report_scores "
                       "WHERE period = 'quarter' AND level = 'team' AND unit_id = %d AND item_key = 'absorptie' "
                       "AND period_start = '2024-01-01'" % T1, a) == \
            [["7.00", "7.00", "6.00", "7.00", "1.22", "2", "2", "1", "8.00", "1.00"]]
        assert score(fx, a, "quarter", "department", DEPT, "absorptie", "n_participants, mean, median", "2024-01-01") == "9 5.00 6.00"
        assert score(fx, a, "quarter", "location", LOC, "absorptie", "n_participants, mean",
                     "2024-01-01") == "15 5.00"
        assert score(fx, a, "month", "team", T1, "absorptie", "mean", "2024-02-01") == "7.00"
        # Change per team, one cycle back.
        assert fx.rows("SELECT item_key, session_date, prev_session_date, mean, prev_mean, change "
                       "FROM lwk.report_team_change WHERE team_id = %d AND prev_session_date IS NOT NULL "
                       "ORDER BY item_key" % T1, a) == \
            [["absorptie", "2024-05-15", "2024-02-10", "7.80", "7.00", "0.80"],
             ["verbindend", "2024-05-15", "2024-02-10", "7.00", "6.00", "1.00"]]
        # Participation and evaluations (Q2 has no ratings: nothing to suppress).
        assert fx.rows("SELECT n_sessions, n_teams, n_participants, n_participations, rating_suppressed, "
                       "n_ratings, rating_mean, r3, r4, r5 FROM lwk.report_participation "
                       "WHERE period = 'quarter' AND level = 'organisation' AND unit_id = %d "
                       "AND period_start <= '2024-04-01' ORDER BY period_start" % ORG_A, a) == \
            [["3", "3", "15", "15", "f", "11", "4.64", "1", "2", "8"],
             ["2", "2", "9", "9", "f", "", "", "", "", ""]]
        # Actions agreed in Q1: not the removed one, not the unconfirmed proposal.
        assert fx.rows("SELECT n_sessions, n_actions, n_open, n_in_progress, n_done, n_dropped, n_overdue, "
                       "completion_rate, overdue_rate, median_days_to_done FROM lwk.report_actions "
                       "WHERE period = 'quarter' AND level = 'organisation' AND unit_id = %d "
                       "ORDER BY period_start" % ORG_A, a) == \
            [["2", "6", "1", "1", "3", "1", "1", "0.500", "0.167", "30.0"],
             ["1", "", "", "", "", "", "", "", "", ""]]
        assert fx.rows("SELECT n_actions, n_done, completion_rate, overdue_rate, median_days_to_done "
                       "FROM lwk.report_actions WHERE period = 'quarter' AND level = 'team' AND unit_id = %d "
                       "AND period_start = '2024-01-01'" % T1, a) == [["4", "1", "0.250", "0.250", "30.0"]]
    finally:
        fx.drop()


def themes_are_normalised_counted_and_thresholded():
    fx = Fixture()
    try:
        a = fx.analyst_a
        # Default threshold: 5 sessions. Nobody named a theme that often.
        assert fx.one("SELECT count(*) FROM lwk.report_themes", a) == "0"
        fx.sql("UPDATE lwk.analysis_settings SET theme_min_sessions = 3")
        # 'Werkdruk', ' werkdrúk! ' and 'WERKDRUK' are one theme; the deleted
        # and the merged theme do not count; Begeleiding (1 session) stays out.
        assert fx.rows("SELECT period, level, unit_id, theme, n_sessions, n_teams FROM lwk.report_themes "
                       "WHERE period = 'quarter' ORDER BY level, unit_id", a) == \
            [["quarter", "location", str(LOC), "werkdruk", "3", "3"],
             ["quarter", "organisation", str(ORG_A), "werkdruk", "3", "3"]]
        # ... and the people behind it must reach k too.
        fx.sql("UPDATE lwk.analysis_settings SET theme_min_sessions = 2, k = 16")
        assert fx.one("SELECT count(*) FROM lwk.report_themes WHERE level = 'organisation'", a) == "0"
        fx.sql("UPDATE lwk.analysis_settings SET k = 5")
        assert fx.one("SELECT n_sessions FROM lwk.report_themes WHERE level = 'all' AND period = 'year'",
                      fx.programme) == "4"
        assert fx.one("SELECT lwk.normalise_text(' Ëën  Twéé!? ')", a) == "een twee"
    finally:
        fx.drop()


# --- Privacy: k ------------------------------------------------------------

def team_of_four_never_shows_a_number_and_five_does():
    fx = Fixture()
    try:
        a = fx.analyst_a
        # Team Klein: 4 people in S4 (Q1) and 4 in S4b (Q2). Not per month,
        # quarter or year, in no view.
        for view, cols in (("report_scores", "mean, median, q1, q3, sd, n_participants, n_scores, d2, d3, "
                                             "desired_mean, gap, change"),
                           ("report_participation", "n_participants, n_participations, n_ratings, rating_mean, r5"),
                           ("report_actions", "n_actions, n_open, n_done, completion_rate, overdue_rate")):
            rows = fx.rows("SELECT suppressed, %s FROM lwk.%s WHERE level = 'team' AND unit_id = %d"
                           % (cols, view, T3), a)
            assert len(rows) >= 1, view
            for r in rows:
                assert r[0] == "t" and all(v == "" for v in r[1:]), (view, r)
        rows = fx.rows("SELECT suppressed, mean, prev_mean, change FROM lwk.report_team_change "
                       "WHERE team_id = %d" % T3, a)
        assert rows == [["t", "", "", ""]] * 2, rows
        assert fx.one("SELECT count(*) FROM lwk.report_scores WHERE level = 'team' AND unit_id = %d "
                      "AND NOT suppressed" % T3, a) == "0"
        # A fifth participant scores 4 in S4: now the team shows.
        fx.sql("INSERT INTO lwk.participants (session_id, pid, display_name) VALUES (%d, 5, 'Vijfde');"
               "INSERT INTO lwk.scores (session_id, item, round, pid, value) VALUES (%d, 0, 1, 5, 4);"
               "SELECT lwk.refresh_analysis();" % (S4, S4))
        assert score(fx, a, "quarter", "team", T3, "absorptie", "suppressed, n_participants, mean",
                     "2024-01-01") == "f 5 2.80"
        # The year counts the team as its largest session: 5.
        assert score(fx, a, "year", "team", T3, "absorptie", "n_participants, mean",
                     "2024-01-01") == "5 2.89"
        # Q2 (S4b) still has four.
        assert score(fx, a, "quarter", "team", T3, "absorptie", "suppressed", "2024-04-01") == "t"
        # k is a setting: at 6, T1's five are suppressed as well.
        fx.sql("UPDATE lwk.analysis_settings SET k = 6")
        assert score(fx, a, "quarter", "team", T1, "absorptie", "suppressed", "2024-01-01") == "t"
        assert score(fx, a, "quarter", "team", T2, "absorptie", "suppressed, mean",
                     "2024-01-01") == "f 5.00"
    finally:
        fx.drop()


# --- Tenant isolation ------------------------------------------------------

def every_table_has_forced_row_level_security():
    fx = Fixture()
    try:
        bad = fx.rows("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                      "WHERE n.nspname = 'lwk' AND c.relkind IN ('r', 'p') "
                      "AND NOT (c.relrowsecurity AND c.relforcerowsecurity)")
        assert bad == [], bad
        # Report views are security barriers; nothing else but them (and the
        # RLS-filtered raw tables) is granted to analysts or the programme.
        bad = fx.rows("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                      "WHERE n.nspname = 'lwk' AND c.relkind = 'v' AND c.relname LIKE 'report%' "
                      "AND NOT coalesce(c.reloptions @> ARRAY['security_barrier=true'], false)")
        assert bad == [], bad
        for role in ("lwk_analyst", "lwk_programme"):
            # No writes anywhere: no unique key to probe another tenant with.
            bad = fx.rows("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                          "WHERE n.nspname = 'lwk' AND c.relkind IN ('r', 'v', 'm') "
                          "AND has_table_privilege('%s', c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE')" % role)
            assert bad == [], (role, bad)
            bad = fx.rows("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                          "WHERE n.nspname = 'lwk' AND c.relkind = 'm' "
                          "AND has_table_privilege('%s', c.oid, 'SELECT')" % role)
            assert bad == [], (role, bad)
        for role in ("lwk_daemon", "lwk_analyst", "lwk_programme"):
            assert fx.one("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = '%s'" % role) == "f"
    finally:
        fx.drop()


def analyst_sees_nothing_of_another_organisation():
    fx = Fixture()
    try:
        a = fx.analyst_a
        readable = 0
        for rel in relations(fx):
            cols = readable_columns(fx, rel, a)
            if not cols:
                assert fx.denied("SELECT 1 FROM lwk.%s LIMIT 1" % rel, a), rel
                continue
            readable += 1
            # Everything A may read of this relation, as text: no trace of B.
            rc, out, err = fx.sql("SELECT row(%s)::text FROM lwk.%s" % (", ".join(cols), rel), a)
            assert rc == 0, (rel, err)
            for m in B_MARKERS:
                assert m not in out, (rel, m, out[:500])
            # And by guessing B's ids.
            for col, ids in (("organisation_id", [ORG_B]), ("session_id", [S5]), ("team_id", [TB]),
                             ("unit_id", [ORG_B, TB]), ("id", [ORG_B, TB, S5]),
                             ("action_session_id", [S5])):
                if col in cols:
                    n = fx.one("SELECT count(*) FROM lwk.%s WHERE %s IN (%s)"
                               % (rel, col, ",".join(map(str, ids))), a)
                    assert n == "0", (rel, col, n)
        # Sanity: A does see its own organisation.
        assert readable >= 10, readable
        assert fx.one("SELECT string_agg(name, ',') FROM lwk.organisations", a) == "Zorg Alfa"
        assert fx.one("SELECT count(*) FROM lwk.org_units", a) == "5"
        assert fx.one("SELECT count(*) FROM lwk.sessions", a) == "6"
        assert int(fx.one("SELECT count(*) FROM lwk.report_scores", a)) > 20
        assert fx.one("SELECT count(*) FROM lwk.report_scores WHERE level = 'all'", a) == "0"
        # Raw individual data is not granted at all.
        for rel in ("scores", "participants", "keywords", "evaluations", "reactions", "actions", "themes",
                    "session_events", "persons", "facilitator_tokens", "admin_tokens", "analysis_settings"):
            assert fx.denied("SELECT count(*) FROM lwk.%s" % rel, a), rel
        # B's analyst, the other way round.
        assert fx.one("SELECT string_agg(DISTINCT organisation_name, ',') FROM lwk.report_scores",
                      fx.analyst_b) == "Zorg Beta"
        assert fx.one("SELECT count(*) FROM lwk.org_units WHERE organisation_id = %d" % ORG_A,
                      fx.analyst_b) == "0"
    finally:
        fx.drop()


def unmapped_analyst_and_bare_group_role_see_nothing():
    fx = Fixture()
    try:
        for user, prefix in ((fx.analyst_none, ""), (fx.analyst_a, "SET ROLE lwk_analyst; ")):
            for rel in relations(fx):
                cols = readable_columns(fx, rel, "lwk_analyst")
                if not cols or rel in ("instruments", "instrument_versions", "instrument_items",
                                       "report_items", "report_status"):
                    continue  # not readable, or not an organisation's rows
                n = fx.one(prefix + "SELECT count(*) FROM lwk.%s" % rel, user)
                assert n == "0", (user, rel, n)
        # A mapping row for the group role itself is refused.
        rc, out, err = fx.sql("INSERT INTO lwk.analyst_organisations VALUES ('lwk_analyst', %d)" % ORG_A)
        assert rc != 0 and "23514" in err, err
    finally:
        fx.drop()


def leaky_functions_see_no_foreign_rows():
    """As PostgreSQL's rowsecurity test: a cheap function that prints its
    argument must not be handed rows the caller may not see."""
    fx = Fixture()
    try:
        fx.sql("CREATE FUNCTION public.lwk_leak(x text) RETURNS boolean LANGUAGE plpgsql COST 0.0000001 AS "
               "$$ BEGIN RAISE NOTICE 'leak: %', x; RETURN true; END $$; "
               "GRANT EXECUTE ON FUNCTION public.lwk_leak(text) TO PUBLIC;"
               "UPDATE lwk.analysis_settings SET theme_min_sessions = 1")
        for q in ("SELECT count(*) FROM lwk.report_scores WHERE public.lwk_leak(organisation_name || unit_name)",
                  "SELECT count(*) FROM lwk.report_units WHERE public.lwk_leak(name)",
                  "SELECT count(*) FROM lwk.report_team_change WHERE public.lwk_leak(team_name)",
                  "SELECT count(*) FROM lwk.report_participation WHERE public.lwk_leak(organisation_name)",
                  "SELECT count(*) FROM lwk.report_actions WHERE public.lwk_leak(organisation_name)",
                  "SELECT count(*) FROM lwk.report_themes WHERE public.lwk_leak(organisation_name || theme)",
                  "SELECT count(*) FROM lwk.analyst_organisations WHERE public.lwk_leak(role_name)",
                  "SELECT count(*) FROM lwk.organisations WHERE public.lwk_leak(name)",
                  "SELECT count(*) FROM lwk.org_units WHERE public.lwk_leak(name)",
                  "SELECT count(*) FROM lwk.sessions WHERE public.lwk_leak(id::text)"):
            rc, out, err = fx.sql(q, fx.analyst_a, verbosity="default")
            assert rc == 0, (q, err)
            assert "leak:" in err, (q, err)  # the function did run, on A's rows
            for m in B_MARKERS:
                assert m not in err, (q, m)
    finally:
        fx.drop()


def programme_office_sees_aggregates_only():
    fx = Fixture()
    try:
        p = fx.programme
        for rel in relations(fx, "r"):
            assert fx.denied("SELECT 1 FROM lwk.%s LIMIT 1" % rel, p), rel
        for rel in relations(fx, "m"):
            assert fx.denied("SELECT 1 FROM lwk.%s LIMIT 1" % rel, p), rel
        assert fx.denied("SELECT count(*) FROM lwk.report_team_change", p)
        for view in ("report_scores", "report_participation", "report_actions", "report_themes"):
            assert fx.one("SELECT count(*) FROM lwk.%s WHERE level NOT IN ('organisation', 'all')" % view,
                          p) == "0", view
        assert fx.one("SELECT string_agg(DISTINCT level, ',') FROM lwk.report_units", p) == "organisation"
        # Across organisations: A's Q1 (75 over 15) and B's (50 over 5).
        assert score(fx, p, "quarter", "all", 0, "absorptie", "n_participants, mean",
                     "2024-01-01") == "20 6.25"
        assert score(fx, p, "quarter", "organisation", ORG_B, "absorptie", "mean", "2024-01-01") == "10.00"
        assert fx.denied("SELECT lwk.refresh_analysis()", p)
    finally:
        fx.drop()


def daemon_cannot_read_reports_but_keeps_working():
    fx = Fixture()
    try:
        d = "lwkd"
        for rel in relations(fx, "vm"):
            assert fx.denied("SELECT 1 FROM lwk.%s LIMIT 1" % rel, d), rel
        assert fx.denied("SELECT * FROM lwk.apply_retention('1 year')", d)
        assert fx.denied("SELECT * FROM lwk.analyst_organisations", d)
        # It may refresh (it gets no data back) ...
        rc, out, err = fx.sql("SELECT lwk.refresh_analysis() IS NOT NULL", d)
        assert rc == 0 and out == "t", err
        # ... and, forced RLS notwithstanding, still reads and writes every
        # organisation's session data.
        assert fx.one("SELECT count(*) FROM lwk.sessions", d) == "7"
        rc, out, err = fx.sql(
            "INSERT INTO lwk.participants (session_id, pid, display_name) VALUES (%d, 9, 'Nieuw');"
            "INSERT INTO lwk.score_rounds (session_id, item, round) VALUES (%d, 3, 1);"
            "INSERT INTO lwk.scores (session_id, item, round, pid, value) VALUES (%d, 3, 1, 9, 6) "
            "ON CONFLICT (session_id, item, round, pid) DO UPDATE SET value = excluded.value;"
            "UPDATE lwk.actions SET status = 'done' WHERE session_id = %d AND aid = 1 RETURNING aid"
            % (S5, S5, S5, S5), d)
        assert rc == 0 and out == "1", err
    finally:
        fx.drop()


# --- Retention -------------------------------------------------------------

def report_snapshot(fx):
    return fx.rows("SELECT * FROM lwk.report_scores ORDER BY period, level, unit_id, item_key, period_start",
                   fx.analyst_a) + \
        fx.rows("SELECT * FROM lwk.report_actions ORDER BY period, level, unit_id, period_start", fx.analyst_a) + \
        fx.rows("SELECT * FROM lwk.report_participation ORDER BY period, level, unit_id, period_start",
                fx.analyst_a)


def retention_blanks_free_text_and_keeps_aggregates():
    fx = Fixture()
    try:
        before = report_snapshot(fx)
        assert fx.denied("SELECT * FROM lwk.apply_retention('1 year')", fx.analyst_a)
        rc, out, err = fx.sql("SELECT * FROM lwk.apply_retention('0 days')")
        assert rc != 0 and "22023" in err, err
        got = dict(fx.rows("SELECT what, affected FROM lwk.apply_retention('1 year')"))
        assert got["sessions"] == "6" and got["keywords"] == "1" and got["reactions"] == "1", got
        assert got["evaluations"] == "2" and got["session_events"] == "1", got
        assert got["participants"] == str(6 + 5 + 6 + 4 + 4 + 5), got
        # No trace of the free text is left in any table.
        for rel in relations(fx, "r"):
            n = fx.one("SELECT count(*) FROM lwk.%s t WHERE t::text LIKE '%%%s%%'" % (rel, SECRET))
            assert n == "0", (rel, n)
        assert fx.one("SELECT display_name FROM lwk.participants WHERE session_id = %d AND pid = 3" % S1) == "#3"
        assert fx.one("SELECT count(*) FROM lwk.evaluations WHERE session_id = %d" % S1) == "5"
        # The recent session is untouched.
        assert fx.one("SELECT text FROM lwk.keywords WHERE session_id = %d" % S6) == "RECENT trefwoord"
        assert fx.one("SELECT count(*) FROM lwk.session_events WHERE session_id = %d" % S6) == "1"
        # Append-only still holds afterwards.
        rc, out, err = fx.sql("UPDATE lwk.action_status_history SET note = 'x'")
        assert rc != 0 and "0A000" in err, err
        fx.sql("SELECT lwk.refresh_analysis()")
        assert report_snapshot(fx) == before
        # The command-line form, with the configured default (2 years).
        p = subprocess.run([os.path.join(SCRIPTS, "retention.sh"), fx.conninfo("postgres")],
                           capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        assert "keywords" in p.stdout and "0" in p.stdout, p.stdout
        p = subprocess.run([os.path.join(SCRIPTS, "retention.sh"), fx.conninfo("postgres"), "bogus"],
                           capture_output=True, text=True)
        assert p.returncode != 0
    finally:
        fx.drop()


if __name__ == "__main__":
    run([aggregates_are_exact,
         themes_are_normalised_counted_and_thresholded,
         team_of_four_never_shows_a_number_and_five_does,
         every_table_has_forced_row_level_security,
         analyst_sees_nothing_of_another_organisation,
         unmapped_analyst_and_bare_group_role_see_nothing,
         leaky_functions_see_no_foreign_rows,
         programme_office_sees_aggregates_only,
         daemon_cannot_read_reports_but_keeps_working,
         retention_blanks_free_text_and_keeps_aggregates])
