"""Issue 9, the client side: `lwk report` (here the lwk-report binary)
connects as an analyst or the programme office and gives, for the fixture of
test_analysis.py, exactly the expected numbers in JSON; CSV and JSON are
well formed and agree; suppressed numbers never show, in any format; free
text never appears; logins that may not read reports get a clear error."""
import csv
import io
import json
import os
import subprocess

from lwktest import SRC, run
from test_analysis import (DEPT, ORG_A, ORG_B, S4, SECRET, T1, T3, Fixture)

LWK_REPORT = os.environ.get("LWK_REPORT", os.path.join(SRC, "build", "client", "lwk-report"))
REPORTS = ("trend", "heatmap", "gaps", "actions", "themes", "participation", "change")


def report(fx, user, *args, lang="C", check=True):
    env = dict(os.environ, LANGUAGE=lang, LANG="nl_NL.UTF-8" if lang == "nl" else "C.UTF-8", LC_ALL="")
    env.pop("LWK_REPORT_DB", None)
    p = subprocess.run([LWK_REPORT, "--db", fx.conninfo(user)] + list(args), capture_output=True, text=True,
                       env=env, timeout=60)
    if check:
        assert p.returncode == 0, (args, p.returncode, p.stderr)
    return p


def rows_of(fx, user, name, *args):
    doc = json.loads(report(fx, user, name, "--format", "json", *args).stdout)
    assert doc["report"] == name
    return doc["rows"]


def pick(rows, **kv):
    found = [r for r in rows if all(r.get(k) == v for k, v in kv.items())]
    assert len(found) == 1, (kv, found)
    return found[0]


def json_reports_give_the_fixture_numbers():
    fx = Fixture()
    try:
        a = fx.analyst_a
        doc = json.loads(report(fx, a, "trend", "--format", "json").stdout)
        # An analyst with one organisation gets it without naming it.
        assert doc["scope"] == {"level": "organisation", "unit_id": ORG_A, "organisation_id": ORG_A,
                                "name": "Zorg Alfa"}, doc["scope"]
        assert doc["k"] == 5 and doc["period"] == "quarter" and doc["refreshed_at"], doc
        q1 = pick(doc["rows"], item_key="absorptie", period_start="2024-01-01")
        assert (q1["n_participants"], q1["mean"], q1["median"], q1["q1"], q1["q3"], q1["sd"]) == \
            (15, 5.0, 5.0, 3.0, 6.5, 2.1), q1
        assert [q1["d%d" % v] for v in range(1, 11)] == [0, 2, 3, 1, 2, 3, 3, 0, 1, 0], q1
        assert (q1["desired_mean"], q1["gap"], q1["change"], q1["suppressed"]) == (7.5, 2.5, None, False), q1
        q2 = pick(doc["rows"], item_key="absorptie", period_start="2024-04-01")
        assert (q2["mean"], q2["change"], q2["prev_period_start"]) == (5.67, 0.67, "2024-01-01"), q2
        assert [r["item_key"] for r in doc["rows"]] == ["absorptie", "absorptie", "verbindend", "verbindend"]

        year = rows_of(fx, a, "trend", "--period", "year", "--item", "absorptie")
        assert [(r["n_participants"], r["n_scores"], r["mean"]) for r in year] == [(15, 24, 5.25)], year
        # By item number as well, and a range that keeps Q2 only.
        q2only = rows_of(fx, a, "trend", "--item", "0", "--from", "2024-05-01", "--to", "2024-06-30")
        assert [(r["period_start"], r["mean"]) for r in q2only] == [("2024-04-01", 5.67)], q2only

        team = rows_of(fx, a, "trend", "--team", "Team Een", "--item", "absorptie")
        assert [(r["period_start"], r["mean"], r["median"], r["sd"], r["change"]) for r in team] == \
            [("2024-01-01", 7.0, 7.0, 1.22, None), ("2024-04-01", 7.8, 8.0, 0.84, 0.8)], team
        dept = rows_of(fx, a, "trend", "--unit", str(DEPT), "--item", "absorptie")
        assert (dept[0]["n_participants"], dept[0]["mean"], dept[0]["median"]) == (9, 5.0, 6.0), dept

        heat = rows_of(fx, a, "heatmap", "--to", "2024-03-31")
        assert {(r["unit_name"], r["item_key"]): (r["mean"], r["suppressed"]) for r in heat} == {
            ("Team Een", "absorptie"): (7.0, False), ("Team Een", "verbindend"): (6.0, False),
            ("Team Twee", "absorptie"): (5.0, False), ("Team Twee", "verbindend"): (5.5, False),
            ("Team Klein", "absorptie"): (None, True)}, heat
        assert {r["period_start"] for r in heat} == {"2024-01-01"}
        # Without --to: the latest quarter with scores.
        assert {(r["unit_id"], r["period_start"]) for r in rows_of(fx, a, "heatmap", "--item", "absorptie")} == \
            {(T1, "2024-04-01"), (T3, "2024-04-01")}

        gaps = rows_of(fx, a, "gaps", "--to", "2024-03-31")
        assert [(r["item_key"], r["mean"], r["desired_mean"], r["gap"]) for r in gaps] == \
            [("absorptie", 5.0, 7.5, 2.5), ("verbindend", 5.73, 7.0, 1.27)], gaps

        acts = rows_of(fx, a, "actions", "--to", "2024-06-30")
        assert [(r["period_start"], r["n_actions"], r["n_open"], r["n_in_progress"], r["n_done"], r["n_dropped"],
                 r["n_overdue"], r["completion_rate"], r["overdue_rate"], r["median_days_to_done"],
                 r["suppressed"]) for r in acts] == \
            [("2024-01-01", 6, 1, 1, 3, 1, 1, 0.5, 0.167, 30.0, False),
             ("2024-04-01", None, None, None, None, None, None, None, None, None, True)], acts

        part = rows_of(fx, a, "participation", "--to", "2024-06-30")
        assert [(r["n_sessions"], r["n_teams"], r["n_participants"], r["n_participations"], r["n_ratings"],
                 r["rating_mean"]) for r in part] == [(3, 3, 15, 15, 11, 4.64), (2, 2, 9, 9, None, None)], part

        change = rows_of(fx, a, "change", "--team", "Team Een", "--from", "2024-05-01")
        assert [(r["item_key"], r["session_date"], r["prev_session_date"], r["mean"], r["prev_mean"],
                 r["change"]) for r in change] == \
            [("absorptie", "2024-05-15", "2024-02-10", 7.8, 7.0, 0.8),
             ("verbindend", "2024-05-15", "2024-02-10", 7.0, 6.0, 1.0)], change

        assert rows_of(fx, a, "themes") == []
        fx.sql("UPDATE lwk.analysis_settings SET theme_min_sessions = 3")
        assert rows_of(fx, a, "themes", "--period", "year") == \
            [{"period_start": "2024-01-01", "rank": 1, "theme": "werkdruk", "n_sessions": 3, "n_teams": 3}]
    finally:
        fx.drop()


def programme_office_reports_across_organisations():
    fx = Fixture()
    try:
        p = fx.programme
        doc = json.loads(report(fx, p, "trend", "--format", "json", "--item", "absorptie", "--to",
                                "2024-03-31").stdout)
        assert doc["scope"]["level"] == "all" and doc["scope"]["organisation_id"] is None, doc["scope"]
        assert [(r["n_participants"], r["mean"]) for r in doc["rows"]] == [(20, 6.25)], doc["rows"]
        heat = rows_of(fx, p, "heatmap", "--item", "absorptie", "--to", "2024-03-31")
        assert [(r["unit_id"], r["level"], r["mean"]) for r in heat] == \
            [(ORG_A, "organisation", 5.0), (ORG_B, "organisation", 10.0)], heat
        assert rows_of(fx, p, "trend", "--org", "Zorg Beta", "--item", "absorptie")[0]["mean"] == 10.0
        # Team level is not the programme office's: no unit to name, no rows.
        r = report(fx, p, "trend", "--team", "Team Een", check=False)
        assert r.returncode == 1 and "Team Een" in r.stderr, r.stderr
        assert rows_of(fx, p, "heatmap", "--by", "team") == []
        r = report(fx, p, "change", check=False)
        assert r.returncode == 1 and "per team" in r.stderr, r.stderr
    finally:
        fx.drop()


def team_of_four_shows_no_number_in_any_format():
    fx = Fixture()
    try:
        a = fx.analyst_a
        for name in ("trend", "gaps", "participation", "actions"):
            for r in rows_of(fx, a, name, "--team", "Team Klein", "--period", "year"):
                assert r["suppressed"] is True, (name, r)
                nums = [k for k in ("mean", "median", "n_participants", "n_actions", "rating_mean", "d2") if k in r]
                assert nums and all(r[k] is None for k in nums), (name, r)
        table = report(fx, a, "trend", "--team", "Team Klein", "--period", "year").stdout
        line = [ln for ln in table.splitlines() if ln.startswith("2024-01-01")][0]
        assert "\u2014" in line and "2." not in line and "3." not in line, table
        assert "suppressed: computed from fewer than 5 people" in table, table
        nl = report(fx, a, "trend", "--team", "Team Klein", "--period", "year", lang="nl").stdout
        assert "onderdrukt" in nl and "Verloop per vermogen" in nl, nl
        csv_rows = list(csv.DictReader(io.StringIO(
            report(fx, a, "trend", "--team", "Team Klein", "--format", "csv").stdout)))
        assert csv_rows and all(r["suppressed"] == "true" and r["mean"] == "" for r in csv_rows), csv_rows
        # The fifth person: a number.
        fx.sql("INSERT INTO lwk.participants (session_id, pid, display_name) VALUES (%d, 5, 'Vijfde');"
               "INSERT INTO lwk.scores (session_id, item, round, pid, value) VALUES (%d, 0, 1, 5, 4);"
               "SELECT lwk.refresh_analysis();" % (S4, S4))
        rows = rows_of(fx, a, "trend", "--team", str(T3), "--to", "2024-03-31")
        assert [(r["suppressed"], r["n_participants"], r["mean"]) for r in rows] == [(False, 5, 2.8)], rows
        assert "2.80" in report(fx, a, "trend", "--team", str(T3), "--to", "2024-03-31").stdout
    finally:
        fx.drop()


def csv_and_json_are_well_formed_and_agree():
    fx = Fixture()
    try:
        a = fx.analyst_a
        # Names with the characters CSV and JSON must escape.
        fx.sql("UPDATE lwk.org_units SET name = 'Team \"Twee\", west\\ 2' WHERE name = 'Team Twee';"
               "UPDATE lwk.analysis_settings SET theme_min_sessions = 1")
        for name in REPORTS:
            doc = json.loads(report(fx, a, name, "--format", "json").stdout)
            raw = subprocess.run([LWK_REPORT, "--db", fx.conninfo(a), name, "--format", "csv"],
                                 capture_output=True, check=True).stdout
            assert raw.endswith(b"\r\n") and raw.count(b"\r\n") == raw.count(b"\n"), name  # RFC 4180
            text = raw.decode("utf-8")
            table = list(csv.reader(io.StringIO(text, newline="")))
            header, body = table[0], table[1:]
            assert len(body) == len(doc["rows"]) > 0, (name, len(body), len(doc["rows"]))
            assert all(len(r) == len(header) for r in body), name
            for crow, jrow in zip(body, doc["rows"]):
                assert list(jrow) == header, (name, list(jrow), header)
                for k, v in zip(header, crow):
                    j = jrow[k]
                    if j is None:
                        assert v == "", (name, k, v)
                    elif isinstance(j, bool):
                        assert v == ("true" if j else "false"), (name, k, v)
                    elif isinstance(j, (int, float)):
                        assert float(v) == j, (name, k, v, j)
                    else:
                        assert v == j, (name, k, v, j)
        heat = rows_of(fx, a, "heatmap", "--to", "2024-03-31")
        assert 'Team "Twee", west\\ 2' in {r["unit_name"] for r in heat}, heat
        everything = json.loads(report(fx, a, "all", "--format", "json").stdout)
        assert set(everything["reports"]) == set(REPORTS), everything.keys()
    finally:
        fx.drop()


def free_text_never_reaches_a_report():
    fx = Fixture()
    try:
        fx.sql("UPDATE lwk.analysis_settings SET theme_min_sessions = 1, k = 1")
        for user in (fx.analyst_a, fx.programme):
            for fmt in ("json", "html", "table"):
                out = report(fx, user, "all", "--format", fmt).stdout
                assert SECRET not in out, (user, fmt)
                assert "deelnemer" not in out and "Recent" not in out, (user, fmt)
        # With k = 1 the single sessions show, still without names or text.
        assert "werkdruk" in report(fx, fx.analyst_a, "themes").stdout
    finally:
        fx.drop()


def logins_without_rights_get_clear_errors():
    fx = Fixture()
    try:
        r = report(fx, "lwkd", "trend", check=False)
        assert r.returncode == 4 and "lwk_analyst or lwk_programme" in r.stderr, (r.returncode, r.stderr)
        r = report(fx, fx.analyst_none, "trend", check=False)
        assert r.returncode == 1 and "no organisation" in r.stderr, (r.returncode, r.stderr)
        r = report(fx, fx.analyst_a, "trend", "--team", "Team Beta", check=False)
        assert r.returncode == 1 and "Team Beta" in r.stderr and "Zorg" not in r.stdout, r.stderr
        r = report(fx, fx.analyst_a, "trend", "--org", str(ORG_B), check=False)
        assert r.returncode == 1, r.stderr
        for bad in (["--period", "week"], ["--format", "xml"], ["nonsense"], ["--format", "csv", "all"],
                    ["--from", "2024-13-01"], ["--by", "ward"], ["--limit", "0"],
                    ["--team", "Team Een", "--unit", "Afdeling Alfa"]):
            r = report(fx, fx.analyst_a, *bad, check=False)
            assert r.returncode == 2 and r.stderr, (bad, r.returncode)
        r = subprocess.run([LWK_REPORT, "--db", "host=/nonexistent dbname=x"], capture_output=True, text=True)
        assert r.returncode == 3 and "cannot connect" in r.stderr, r.stderr
        # LWK_REPORT_DB, and -o writes the whole file or nothing.
        out = os.path.join(fx.db.own.dir if fx.db.own else "/tmp", "lwk-report-%s.json" % fx.db.name)
        env = dict(os.environ, LWK_REPORT_DB=fx.conninfo(fx.analyst_a))
        r = subprocess.run([LWK_REPORT, "gaps", "--format", "json", "-o", out], capture_output=True, text=True,
                           env=env)
        assert r.returncode == 0 and r.stdout == "", r.stderr
        with open(out) as f:
            assert json.load(f)["report"] == "gaps"
        assert not os.path.exists(out + ".tmp")
        os.unlink(out)
        r = subprocess.run([LWK_REPORT, "--help"], capture_output=True, text=True)
        assert r.returncode == 0 and "--format" in r.stdout
    finally:
        fx.drop()


if __name__ == "__main__":
    run([json_reports_give_the_fixture_numbers,
         programme_office_reports_across_organisations,
         team_of_four_shows_no_number_in_any_format,
         csv_and_json_are_well_formed_and_agree,
         free_text_never_reaches_a_report,
         logins_without_rights_get_clear_errors])
