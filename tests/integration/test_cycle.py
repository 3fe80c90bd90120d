"""Issue 8: instruments as data, timers, and the cycle between sessions.
Real lwkd, real PostgreSQL (docs/cycle.md):

  * instrument import: errors name the line; an identical file is no new
    version, a changed one is; export gives the canonical text of a version;
  * a whole Quickscan on shortened agenda minutes: countdowns broadcast with
    their start and duration, pause, resume, extend, and overruns recorded;
  * a KLWO session on a chosen subset of principles, with a practice
    example listed afterwards across the organisation;
  * two sessions of one team: the second starts with the review of the
    first's open actions (and last time's scores), what the group says is
    stored, and the team's history shows both sessions and the actions'
    fate; the team is due again.
"""
import datetime
import json
import os
import subprocess
import tempfile
import time

from lwktest import LWK, SRC, Daemon, Database, run, wait_for

FAST = ("--set", "rate_limit_rps=100000", "--set", "rate_limit_burst=1000000")
INSTRUMENTS = os.path.join(SRC, "sql", "instruments")


def ok(reply):
    assert reply.get("t") == "ok", reply
    return reply


def err(reply, code):
    assert reply.get("t") == "error" and reply.get("err") == code, reply
    return reply


def shipped(name):
    with open(os.path.join(INSTRUMENTS, name), encoding="utf-8") as f:
        return f.read()


def wait_written(d, timeout=30):
    wait_for(lambda: (lambda s: s["db"] == "ok" and s["waiting"] == 0)(d.status()),
             timeout=timeout, what="every event in the database")


class World:
    """A database, a daemon, an organisation with a team, a facilitator."""

    def __init__(self, env=None):
        self.db = Database()
        self.d = Daemon(self.db.url, extra=FAST, env=env)
        wait_for(lambda: self.d.status().get("db") == "ok", what="database")
        self.admin = self.d.client(kind="admin", token=self.d.admin_token)
        self.org = ok(self.admin.request("org.new", name="Zorggroep Oost"))["org"]
        self.unit = ok(self.admin.request("unit.new", org=self.org, level="team",
                                          name="Team De Linde"))["unit"]
        self.token = ok(self.admin.request("facilitator.new", name="Fleur", org=self.org))["token"]
        wait_for(lambda: self._fac_ok(), what="the facilitator's token")

    def _fac_ok(self):
        c = self.d.client()
        r = c.request("hello", proto=1, kind="facilitator", token=self.token)
        c.close()
        return r.get("t") == "welcome"

    def facilitator(self):
        return self.d.client(kind="facilitator", token=self.token)

    def close(self):
        try:
            assert self.d.stop() == 0, self.d.logtext()
        finally:
            self.db.drop()


def join(w, code, names):
    people = []
    for n in names:
        c = w.d.client()
        h = c.hello(kind="participant", code=code, name=n)
        c.pid = h["pid"]
        people.append(c)
    return people


def lwk(w, *args, token=None):
    """The lwk command line against w's daemon (C locale, no colour)."""
    e = w.d.env()
    for k in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LWK_SESSION"):
        e.pop(k, None)
    e.update(LANG="C.UTF-8", NO_COLOR="1", LWK_TOKEN=token or w.d.admin_token)
    return subprocess.run([LWK] + [str(a) for a in args], env=e, capture_output=True, text=True,
                          timeout=30)


def new_session(fac, **fields):
    """session.new, and the snapshot that follows its ok."""
    r = ok(fac.request("session.new", **fields))
    fac.wait(lambda m: m.get("t") == "snapshot" and m["session"] == r["session"])
    return r


def last(c, t):
    """The last event of type t the client has, after what is on its way."""
    c.drain_events(0.15)
    evs = events_of(c, t)
    return evs[-1] if evs else None


def events_of(c, t):
    return [e for e in c.events if e["t"] == t]


def state_phase(c):
    ph = [e for e in c.events if e["t"] == "phase"]
    return ph[-1] if ph else None


def drain(*clients):
    for c in clients:
        c.drain_events(0.1)


# ---- instruments -------------------------------------------------------------

def import_errors_point_at_the_line():
    w = World()
    try:
        text = shipped("quickscan.lwki")
        lines = text.split("\n")
        at = lines.index("minutes = 20")
        lines[at] = "minutes = 601"
        r = err(w.admin.request("instrument.import", definition="\n".join(lines)), 307)
        assert r["line"] == at + 1, r
        assert r["msg"].startswith("line %d: " % (at + 1)) and "minutes" in r["msg"], r
        # A line that is nothing at all, and a missing header setting (line 0).
        r = err(w.admin.request("instrument.import", definition="format = 1\nkey = x\nnonsense\n"),
                307)
        assert r["line"] == 3, r
        r = err(w.admin.request("instrument.import",
                                definition="format = 1\nkey = x\nversion = 1\n"), 307)
        assert r["line"] == 0 and "line" not in r["msg"], r
        # Only the admin imports; a facilitator may export.
        fac = w.facilitator()
        err(fac.request("instrument.import", definition=text), 201)

        # Unchanged: no new version.
        r = ok(w.admin.request("instrument.import", definition=text))
        assert (r["instrument"], r["version"], r["count"]) == ("quickscan", 1, 0), r
        # Comments only: still the same content.
        r = ok(w.admin.request("instrument.import", definition="# edited\n" + text))
        assert (r["version"], r["count"]) == (1, 0), r
        # Changed without raising `version`: stored as the next version.
        changed = text.replace("name.nl = Tijd en werkdruk", "name.nl = Tijd, werkdruk en drukte")
        assert changed != text
        r = ok(w.admin.request("instrument.import", definition=changed))
        assert (r["version"], r["count"]) == (2, 1), r
        r = ok(w.admin.request("instrument.import", definition=changed))
        assert (r["version"], r["count"]) == (2, 0), r
        stored = w.db.psql("SELECT definition FROM lwk.instrument_versions v JOIN lwk.instruments i "
                           "ON i.id = v.instrument_id WHERE i.key = 'quickscan' AND v.version = 2")
        assert "version = 2" in stored and "# Quickscan" in stored[:200], stored[:300]
        assert w.db.psql("SELECT it.name FROM lwk.instrument_items it JOIN lwk.instrument_versions v "
                         "ON v.id = it.instrument_version_id JOIN lwk.instruments i "
                         "ON i.id = v.instrument_id WHERE i.key = 'quickscan' AND v.version = 2 "
                         "AND it.position = 1") == "Tijd, werkdruk en drukte"
        # A raised version is taken as it is.
        raised = changed.replace("version = 1", "version = 5")
        raised = raised.replace("name.nl = Budget en flexibiliteit", "name.nl = Budget")
        r = ok(w.admin.request("instrument.import", definition=raised))
        assert (r["version"], r["count"]) == (5, 1), r

        # Export: the canonical text of the newest version, or of the one asked for.
        r = ok(fac.request("instrument.export", instrument="quickscan"))
        assert r["version"] == 5 and "version = 5\n" in r["definition"], r
        assert "name.nl = Budget\n" in r["definition"]
        assert not any(l.startswith("# Quickscan") for l in r["definition"].split("\n"))
        r1 = ok(fac.request("instrument.export", instrument="quickscan", version=1))
        assert "version = 1\n" in r1["definition"]
        assert "name.nl = Tijd en werkdruk\n" in r1["definition"]
        # Exported text imports back as the same version.
        r = ok(w.admin.request("instrument.import", definition=r["definition"]))
        assert (r["version"], r["count"]) == (5, 0), r
        err(fac.request("instrument.export", instrument="quickscan", version=3), 301)
        err(fac.request("instrument.export", instrument="nope"), 301)

        # A new session takes the newest version; a brand-new instrument works at once.
        s = new_session(fac, team="Team De Linde", unit=w.unit, instrument="quickscan")
        assert s["version"] == 5, s
        created = [e for e in fac.events if e["t"] == "session.created"][-1]
        assert created["version"] == 5 and created["rows"][0]["name"] == "Budget", created
        own = shipped("lwk-meting.lwki").replace("key = lwk-meting", "key = weekstart")
        r = ok(w.admin.request("instrument.import", definition=own))
        assert (r["instrument"], r["version"], r["count"]) == ("weekstart", 1, 1), r
        s = ok(fac.request("session.new", team="Team De Linde", unit=w.unit,
                           instrument="weekstart"))
        assert s["instrument"] == "weekstart" and s["version"] == 1, s
        err(fac.request("session.new", team="Team De Linde", unit=w.unit, instrument="onbekend"),
            301)
        rows = ok(fac.request("instrument.list"))["rows"]
        assert {"lwk-meting", "quickscan", "klwo", "weekstart"} <= {r["instrument"] for r in rows}

        # The same through lwk: FILE:LINE: problem, and export to a file.
        tmp = tempfile.mkdtemp(prefix="lwk-cycle-")
        bad = os.path.join(tmp, "bad.lwki")
        with open(bad, "w") as f:
            f.write("\r\n".join(lines))  # CR LF: lines keep their numbers
        r = lwk(w, "admin", "instrument", "import", bad)
        assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
        assert r.stderr.startswith("%s:%d: " % (bad, at + 1)) and "minutes" in r.stderr, r.stderr
        r = lwk(w, "admin", "instrument", "import", bad, token=w.token)
        assert r.returncode == 6, (r.returncode, r.stderr)
        out = os.path.join(tmp, "qs.lwki")
        r = lwk(w, "admin", "instrument", "export", "quickscan", "--version", "2", "-o", out,
                token=w.token)
        assert r.returncode == 0, r.stderr
        assert "version = 2\n" in open(out).read()
        # Going back to version 2's content is a change from version 5: version 6.
        r = lwk(w, "admin", "instrument", "import", out)
        assert r.returncode == 0 and "stored as version 6" in r.stdout, r.stdout + r.stderr
        r = lwk(w, "admin", "instrument", "import", out)
        assert r.returncode == 0 and "unchanged, still version 6" in r.stdout, r.stdout + r.stderr
        r = lwk(w, "--json", "admin", "instrument", "import",
                os.path.join(INSTRUMENTS, "klwo.lwki"))
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout) == {"instrument": "klwo", "version": 1, "new": False}, r.stdout
    finally:
        w.close()


# ---- timers ------------------------------------------------------------------

def quickscan_session_keeps_time():
    # One agenda minute lasts one second: 3 + 20 + 7 + 2 seconds.
    w = World(env={"LWKD_AGENDA_MINUTE_SECONDS": "1"})
    try:
        fac = w.facilitator()
        s = ok(fac.request("session.new", team="Team De Linde", unit=w.unit,
                           instrument="quickscan"))
        kiosk = w.d.client(kind="kiosk", code=s["kiosk_code"])
        people = join(w, s["join_code"], ["Anna", "Bram", "Cor"])
        kiosk.drain_events(0.2)
        created = events_of(kiosk, "session.created")[0]
        assert created["steps"] == [1, 3, 6, 8, 9], created
        assert [a["duration"] for a in created["agenda"]] == [3, 20, 7, 2], created["agenda"]
        assert created["agenda"][1]["items"] == [0, 1, 2, 3]
        # The introduction waits for the facilitator.
        t = events_of(kiosk, "timer")[-1]
        assert t["entry"] == 0 and t["running"] is False and t["left"] == 3000, t
        err(people[0].request("timer.resume"), 201)
        before = int(time.time() * 1000)
        ok(fac.request("timer.resume"))
        t = last(kiosk, "timer")
        assert t["running"] is True and t["duration"] == 3, t
        assert before - 50 <= t["start"] <= int(time.time() * 1000) + 50, t
        # Every member counts down from the same start: the overrun comes from lwkd.
        o = kiosk.wait(lambda m: m.get("t") == "timer.overrun", timeout=6)
        assert o["entry"] == 0 and o["duration"] == 3, o
        assert int(time.time() * 1000) >= t["start"] + 3000

        # The scenarios: one countdown over all four.
        ok(fac.request("next"))
        t = last(kiosk, "timer")
        assert t["entry"] == 1 and t["duration"] == 20 and t["running"], t
        start = t["start"]
        ph = last(kiosk, "phase")
        assert ph["phase"] == "explain" and ph["item"] == 0 and "round" not in ph, ph
        assert ph["seq"] == t["seq"] - 1  # the step, then its clock
        err(people[0].request("score", item=0, value=6), 300)
        ok(fac.request("turn.order", mode="join"))
        ok(people[0].request("keyword", text="budget blijft op de plank"))
        ok(fac.request("timer.pause"))
        t = last(kiosk, "timer")
        assert t["running"] is False and 0 < t["left"] <= 20000, t
        ok(fac.request("timer.extend", duration=10))
        t = last(kiosk, "timer")
        assert t["duration"] == 30 and t["running"] is False, t
        left = t["left"]
        time.sleep(1.2)
        ok(fac.request("timer.resume"))
        t = last(kiosk, "timer")
        assert t["running"] and t["duration"] == 30, t
        # Paused time does not count: the new start is later by the pause.
        assert t["start"] + 30000 - int(time.time() * 1000) <= left + 100, (t, left)
        assert t["start"] > start
        for item in (1, 2, 3):
            ok(fac.request("next"))
        drain(kiosk)
        assert len([e for e in kiosk.events if e["t"] == "timer" and e["entry"] == 1]) == 4
        # Actions: their own 7 seconds.
        ok(fac.request("next"))
        t = last(kiosk, "timer")
        assert t["entry"] == 2 and t["duration"] == 7, t
        ok(fac.request("action.propose", text="Leerbudget elk kwartaal bespreken",
                       owner="Bram", deadline="2030-01-31"))
        ok(fac.request("next"))
        t = last(kiosk, "timer")
        assert t["entry"] == 3 and t["duration"] == 2, t
        o = kiosk.wait(lambda m: m.get("t") == "timer.overrun", timeout=6)
        assert o["entry"] == 3, o
        ok(fac.request("summary", text="Budget en tijd staan op de agenda"))
        ok(fac.request("end"))
        drain(kiosk, fac)
        assert events_of(kiosk, "closed")
        # Everyone saw the same clock.
        for p in people:
            p.drain_events(0.1)
            assert [e["seq"] for e in events_of(p, "timer")] == \
                [e["seq"] for e in events_of(kiosk, "timer")]
        wait_written(w.d)
        sid = s["session"]
        assert w.db.psql("SELECT entry, planned_s FROM lwk.timer_overruns WHERE session_id = %d "
                         "ORDER BY seq" % sid) == "0|3\n3|2"
        assert w.db.psql("SELECT count(*) FROM lwk.projection_errors") == "0", \
            w.db.psql("SELECT * FROM lwk.projection_errors")
        assert w.db.psql("SELECT i.key || ' ' || v.version FROM lwk.sessions s "
                         "JOIN lwk.instrument_versions v ON v.id = s.instrument_version_id "
                         "JOIN lwk.instruments i ON i.id = v.instrument_id WHERE s.id = %d"
                         % sid) == "quickscan 1"
        assert w.db.psql("SELECT item, text FROM lwk.keywords WHERE session_id = %d" % sid) == \
            "0|budget blijft op de plank"
    finally:
        w.close()


# ---- KLWO --------------------------------------------------------------------

def klwo_session_on_chosen_principles():
    w = World()
    try:
        fac = w.facilitator()
        s = ok(fac.request("session.new", team="Team De Linde", unit=w.unit, instrument="klwo"))
        people = join(w, s["join_code"], ["Anna", "Bram", "Cor"])
        err(fac.request("next"), 302)  # choose first
        ok(fac.request("items.select", items=[8, 1, 4]))
        ok(fac.request("next"))
        walked = []
        for _ in range(20):
            fac.drain_events(0.05)
            ph = state_phase(fac)
            if ph["phase"] != "score" and ph["phase"] != "explain":
                break
            walked.append((ph["phase"], ph["item"]))
            if ph["phase"] == "score":
                for p in people:
                    ok(p.request("score", item=ph["item"], value=5 + p.pid))
                ok(fac.request("reveal"))
            if ph["phase"] == "explain" and ph["item"] == 1:
                ok(fac.request("example.add", item=1,
                               text="Roosteraar plant elke maand een leeruur in"))
                err(fac.request("example.add", item=2, text="niet gekozen"), 105)
            ok(fac.request("next"))
        assert walked == [("score", 1), ("explain", 1), ("score", 4), ("explain", 4),
                          ("score", 8), ("explain", 8)], walked
        ok(fac.request("end"))
        wait_written(w.d)
        sid = s["session"]
        assert w.db.psql("SELECT selected_items FROM lwk.sessions WHERE id = %d" % sid) == "{1,4,8}"
        assert w.db.psql("SELECT DISTINCT item FROM lwk.scores WHERE session_id = %d ORDER BY 1"
                         % sid) == "1\n4\n8"
        rows = ok(w.admin.request("example.list", instrument="klwo"))["rows"]
        assert len(rows) == 1, rows
        r = rows[0]
        assert r["item_key"] == "tijd-en-ruimte" and r["name"] == "Tijd en ruimte om te leren", r
        assert r["text"] == "Roosteraar plant elke maand een leeruur in"
        assert r["team"] == "Team De Linde" and r["org"] == w.org, r
        assert ok(fac.request("example.list", instrument="klwo", item_key="veiligheid"))["rows"] == []
        assert len(ok(fac.request("example.list", instrument="klwo",
                                  item_key="tijd-en-ruimte"))["rows"]) == 1
    finally:
        w.close()


# ---- the cycle ---------------------------------------------------------------

def run_lwk_meting(w, fac, s, people, actions, look_ahead):
    """Scores every vermogen (grade 5 + pid), desired 8 for the first,
    proposes the actions, sets the look-ahead date and ends the session."""
    ok(fac.request("next"))
    for item in range(4):
        for p in people:
            ok(p.request("score", item=item, value=5 + p.pid))
        ok(fac.request("reveal"))
        ok(fac.request("next"))  # explain
        ok(fac.request("next"))  # next score, or themes
    ok(fac.request("next"))  # desired
    ok(fac.request("desired.set", item=0, value=8))
    ok(fac.request("next"))  # actions
    ids = []
    for a in actions:
        ids.append(ok(fac.request("action.propose", **a))["action"])
    ok(fac.request("next"))  # look ahead
    ok(fac.request("lookahead.date", date=look_ahead))
    ok(fac.request("next"))  # summary
    ok(fac.request("end"))
    return ids


def second_session_reviews_the_first():
    w = World()
    try:
        fac = w.facilitator()
        s1 = ok(fac.request("session.new", team="Team De Linde", unit=w.unit))
        people = join(w, s1["join_code"], ["Anna", "Bram", "Cor"])
        past = (datetime.date.today() - datetime.timedelta(days=10)).isoformat()
        later = (datetime.date.today() + datetime.timedelta(days=30)).isoformat()
        run_lwk_meting(w, fac, s1, people, [
            {"text": "Inwerkmap bijwerken", "owner": "Bram", "deadline": past, "item": 0},
            {"text": "Intervisie elke maand", "owner": "Cor", "deadline": later,
             "feedback": "teamoverleg"},
        ], look_ahead=past)
        wait_written(w.d)
        for p in people:
            p.close()

        # Between sessions: the team's actions, one marked in progress.
        rows = ok(fac.request("action.list", unit=w.unit))["rows"]
        assert [r["text"] for r in rows] == ["Inwerkmap bijwerken", "Intervisie elke maand"], rows
        assert [r["status"] for r in rows] == ["open", "open"]
        assert rows[0]["overdue"] is True and rows[1]["overdue"] is False, rows
        a1, a2 = rows[0]["action"], rows[1]["action"]
        assert [r["action"] for r in ok(fac.request("action.list", team="Team De Linde",
                                                    overdue=True))["rows"]] == [a1]
        r = ok(fac.request("action.update", action=a2, status="in_progress",
                           note="eerste keer gepland"))
        assert r["action"] == a2 and r["status"] == "in_progress", r
        assert [x["action"] for x in ok(fac.request("action.list", unit=w.unit,
                                                    status="in_progress"))["rows"]] == [a2]
        err(fac.request("action.update", action=999999, status="done"), 301)
        err(fac.request("action.list", team="Geen Team"), 301)
        # The team is due: the look-ahead date has passed.
        due = ok(fac.request("team.due"))["rows"]
        assert [(r["unit"], r["deadline"], r["overdue"]) for r in due] == [(w.unit, past, True)], due

        # The second session starts with the review of the open actions.
        s2 = ok(fac.request("session.new", team="Team De Linde", unit=w.unit))
        kiosk = w.d.client(kind="kiosk", code=s2["kiosk_code"])
        kiosk.drain_events(0.2)
        reviews = events_of(kiosk, "review.action")
        assert [(r["action"], r["status"]) for r in reviews] == [(a1, "open"), (a2, "in_progress")]
        assert reviews[0]["text"] == "Inwerkmap bijwerken" and reviews[0]["overdue"] is True
        assert reviews[0]["item"] == 0 and reviews[0]["session"] == s1["session"], reviews[0]
        assert reviews[1]["feedback"] == "teamoverleg"
        prev = events_of(kiosk, "review.previous")
        assert len(prev) == 1 and prev[0]["session"] == s1["session"], prev
        # grades 6, 7, 8: mean 7.00; desired 8 for the first vermogen
        assert prev[0]["rows"][0] == {"item": 0, "mean": 700, "value": 8}, prev[0]["rows"]
        assert prev[0]["rows"][1] == {"item": 1, "mean": 700}, prev[0]["rows"]
        assert state_phase(kiosk)["phase"] == "review"
        people = join(w, s2["join_code"], ["Anna", "Bram", "Cor"])
        err(people[0].request("review.set", action=a1, rating=3), 201)
        ok(fac.request("review.set", action=a1, status="done"))
        ok(fac.request("review.set", action=a1, rating=4, note="nieuwe collega's vinden de weg"))
        ok(fac.request("review.set", action=a2, rating=2))
        e = kiosk.wait(lambda m: m.get("t") == "action.reviewed" and m["action"] == a1
                       and "rating" in m)
        assert e["status"] == "done" and e["rating"] == 4, e
        ok(fac.request("next"))
        assert state_phase(fac)["phase"] == "lobby" or kiosk.wait(
            lambda m: m.get("t") == "phase")["phase"] == "lobby"
        err(fac.request("review.set", action=a2, rating=3), 300)
        run_lwk_meting_from_lobby(fac, people)
        wait_written(w.d)
        assert w.db.psql("SELECT count(*) FROM lwk.projection_errors") == "0", \
            w.db.psql("SELECT * FROM lwk.projection_errors")

        # The review is part of the second session's record.
        sid1, sid2 = s1["session"], s2["session"]
        assert w.db.psql("SELECT aid, effect, note FROM lwk.action_reviews WHERE session_id = %d "
                         "ORDER BY aid" % sid2) == \
            "1|4|nieuwe collega's vinden de weg\n2|2|"
        assert w.db.psql("SELECT status FROM lwk.actions WHERE id = %d" % a1) == "done"
        hist = w.db.psql("SELECT h.status, coalesce(h.session_id::text, '-'), coalesce(h.note, '') "
                         "FROM lwk.action_status_history h JOIN lwk.actions a "
                         "ON a.session_id = h.action_session_id AND a.aid = h.aid "
                         "WHERE a.id IN (%d, %d) ORDER BY a.id, h.id" % (a1, a2))
        assert hist.split("\n") == [
            "open|%d|" % sid1,
            "done|%d|" % sid2,  # the note came with the rating, after the status
            "open|%d|" % sid1,
            "in_progress|-|eerste keer gepland",
        ], hist

        # The team's history: both sessions, scores, desired scores and the actions' fate.
        h = ok(fac.request("team.history", unit=w.unit))["rows"]
        assert [x["session"] for x in h] == [sid1, sid2], h
        first = h[0]
        assert first["instrument"] == "lwk-meting" and first["version"] == 1, first
        assert first["deadline"] == past
        items = [r for r in first["rows"] if "action" not in r]
        acts = [r for r in first["rows"] if "action" in r]
        assert [(r["item"], r["mean"]) for r in items] == [(0, 700), (1, 700), (2, 700), (3, 700)]
        assert items[0]["value"] == 8 and items[0]["name"] == "Absorptievermogen"
        assert [(r["action"], r["status"], r.get("rating")) for r in acts] == \
            [(a1, "done", 4), (a2, "in_progress", 2)], acts
        assert h[1]["deadline"] == later
        # By name as well; the team is no longer due.
        assert len(ok(fac.request("team.history", team="Team De Linde"))["rows"]) == 2
        assert ok(fac.request("team.due"))["rows"] == []
        on_day = ok(fac.request("team.due", date=later))["rows"]
        assert [(r["unit"], r["overdue"]) for r in on_day] == [(w.unit, False)], on_day
        # Another organisation's facilitator sees none of it.
        org2 = ok(w.admin.request("org.new", name="Zorggroep West"))["org"]
        other = ok(w.admin.request("facilitator.new", name="Otto", org=org2))["token"]
        wait_for(lambda: w.d.client().request("hello", proto=1, kind="facilitator",
                                              token=other).get("t") == "welcome")
        o = w.d.client(kind="facilitator", token=other)
        err(o.request("team.history", unit=w.unit), 301)
        assert ok(o.request("action.list"))["rows"] == []
        err(o.request("action.update", action=a2, status="done"), 301)

        # The same through lwk.
        r = lwk(w, "actions", "--team", "Team De Linde", token=w.token)
        assert r.returncode == 0, r.stderr
        assert "Inwerkmap bijwerken" in r.stdout and "done" in r.stdout, r.stdout
        r = lwk(w, "--json", "actions", "--unit", w.unit, "--status", "in_progress", token=w.token)
        assert [x["action"] for x in json.loads(r.stdout)] == [a2], r.stdout
        r = lwk(w, "action", "update", a2, "--status", "done", "--note", "loopt nu vanzelf",
                token=w.token)
        assert r.returncode == 0 and "is now done" in r.stdout, r.stdout + r.stderr
        r = lwk(w, "action", "update", a2, "--status", "klaar", token=w.token)
        assert r.returncode == 2, r.stderr
        r = lwk(w, "action", "update", 999999, "--status", "done", token=w.token)
        assert r.returncode == 4, r.stderr
        r = lwk(w, "team", "history", "Team De Linde", token=w.token)
        assert r.returncode == 0, r.stderr
        assert r.stdout.count("lwk-meting 1") == 2 and "Absorptievermogen" in r.stdout, r.stdout
        assert "7.00" in r.stdout and "effect 4/5" in r.stdout, r.stdout
        r = lwk(w, "--json", "team", "history", "--unit", w.unit)
        assert [x["session"] for x in json.loads(r.stdout)] == [sid1, sid2]
        r = lwk(w, "team", "due", token=w.token)
        assert r.returncode == 0 and "no team is due" in r.stdout, r.stdout
        r = lwk(w, "team", "due", "--date", later, token=w.token)
        assert "Team De Linde" in r.stdout, r.stdout
        r = lwk(w, "team", "history", "Nergens", token=w.token)
        assert r.returncode == 4, r.stderr
    finally:
        w.close()


def run_lwk_meting_from_lobby(fac, people):
    for item in range(4):
        if item == 0:
            ok(fac.request("next"))
        for p in people:
            ok(p.request("score", item=item, value=6))
        ok(fac.request("reveal"))
        ok(fac.request("next"))
        ok(fac.request("next"))
    for _ in range(3):
        ok(fac.request("next"))  # desired, actions, look ahead
    later = (datetime.date.today() + datetime.timedelta(days=30)).isoformat()
    ok(fac.request("lookahead.date", date=later))
    ok(fac.request("next"))
    ok(fac.request("end"))


if __name__ == "__main__":
    run([import_errors_point_at_the_line, quickscan_session_keeps_time,
         klwo_session_on_chosen_principles, second_session_reviews_the_first])
