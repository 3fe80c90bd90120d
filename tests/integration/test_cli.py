"""Issue 6: lwk, the command-line client, driven only through its one-shot
commands (as a script would): a whole LWK-meting by a facilitator and four
participants, the score sheet in every format checked against what was
entered, the admin commands, the documented exit codes and error lines, the
piped console, and a daemon restart in the middle of a session."""
import csv
import io
import json
import os
import re
import signal
import subprocess
import tempfile
import time

from lwktest import LWK, LWKD, Daemon, Database, free_port, run, wait_for

NAMES = ["Anna", "Bram", "Cem", "Dewi"]
# Grades per item (rows) and participant (columns); Dewi's are typed in by
# the facilitator (scribe) for items 2 and 4.
GRADES = [[7, 5, 9, 6], [8, 8, 6, 7], [4, 6, 5, 9], [7, 7, 7, 8]]


def env_for(d, token=None, lang="C.UTF-8"):
    e = d.env()
    for k in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LWK_SESSION", "LWK_TOKEN", "NO_COLOR"):
        e.pop(k, None)
    e["LANG"] = lang
    if token:
        e["LWK_TOKEN"] = token
    return e


def lwk(d, *args, token=None, env=None, lang="C.UTF-8", input=None, timeout=30):
    e = env if env is not None else env_for(d, token if token is not None else d.admin_token, lang)
    return subprocess.run([LWK] + [str(a) for a in args], env=e, capture_output=True, text=True,
                          timeout=timeout, input=input)


def ok(r):
    assert r.returncode == 0, "exit %d: %s %s" % (r.returncode, r.stdout, r.stderr)
    assert r.stderr == "", r.stderr
    return r


def one_error_line(r, code, *words):
    """A refusal: the documented exit status and one clear line on stderr."""
    assert r.returncode == code, "expected exit %d, got %d: %s %s" % (code, r.returncode,
                                                                      r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("lwk: "), r.stderr
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


class Listener:
    """lwk join --resume R --listen: keeps a participant online (needed for a
    turn) and prints what happens."""

    def __init__(self, d, resume):
        self.out = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen([LWK, "join", "--resume", resume, "--listen"],
                                     env=env_for(d), stdout=self.out, stderr=subprocess.STDOUT)

    def text(self):
        self.out.seek(0)
        return self.out.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(10)


def open_session(d, *extra, token=None):
    r = ok(lwk(d, "session", "new", "--team", "Zorgteam Noord", "--json", *extra, token=token))
    s = json.loads(r.stdout)
    assert s["join_code"] and s["kiosk_code"] and s["session"] > 0, s
    return s


def join_all(d, s, names=NAMES):
    people = []
    for n in names:
        r = ok(lwk(d, "join", s["join_code"], "--name", n, "--once"))
        j = json.loads(r.stdout)
        assert j["name"] == n and j["session"] == s["session"] and j["resume"], j
        people.append(j)
    return people


# ---- the whole session ---------------------------------------------------------

def whole_session_through_one_shot_commands_with_exports():
    d = Daemon("")
    listeners = []
    try:
        s = open_session(d)
        sid = s["session"]
        S = ["-s", sid]
        people = join_all(d, s)
        R = [p["resume"] for p in people]
        listeners = [Listener(d, r) for r in R]
        wait_for(lambda: all(p["online"] for p in json.loads(
            ok(lwk(d, "show", "--json", *S)).stdout)["participants"]), what="everyone online")
        ok(lwk(d, "next", *S))
        for item in range(4):
            g = GRADES[item]
            for i in range(3):
                ok(lwk(d, "as", R[i], "score", g[i]))
            if item % 2:
                ok(lwk(d, "score", "Dewi", g[3], *S))
            else:
                ok(lwk(d, "as", R[3], "score", g[3]))
            # Blind until the reveal: the facilitator's view and the sheet have no values.
            show = json.loads(ok(lwk(d, "show", "--json", *S)).stdout)
            assert show["phase"] == "score" and show["item"] == item + 1, show
            assert show["scores_in"] == 4 and not show["revealed"] and "stats" not in show, show
            assert all(p["scored"] for p in show["participants"]), show
            sheet = json.loads(ok(lwk(d, "export", sid, "--format", "json")).stdout)
            rnd = sheet["items"][item]["rounds"][0]
            assert not rnd["revealed"] and all(x["value"] is None for x in rnd["scores"]), rnd
            # A participant sees its own grade only.
            me = json.loads(ok(lwk(d, "as", R[0], "show", "--json")).stdout)
            assert me["my_score"] == g[0] and me["scores_in"] == 4, me
            ok(lwk(d, "reveal", *S))
            ok(lwk(d, "next", *S))
            ok(lwk(d, "order", "low", *S))
            show = json.loads(ok(lwk(d, "show", "--json", *S)).stdout)
            order = show["turn"]["order"]
            assert [g[p - 1] for p in order] == sorted(g), (order, g)
            first = order[0]
            ok(lwk(d, "as", R[first - 1], "keyword", "trefwoord %d van P%d" % (item + 1, first)))
            # Not your turn: refused, exit 1, one line.
            other = order[1]
            one_error_line(lwk(d, "as", R[other - 1], "keyword", "te vroeg"), 1, "not your turn")
            ok(lwk(d, "turn", "next", *S))
            ok(lwk(d, "kw", "notitie voor P%d" % other, *S))
            ok(lwk(d, "as", R[other - 1], "pass"))  # the speaker passes their own turn
            ok(lwk(d, "next", *S))
        show = json.loads(ok(lwk(d, "show", "--json", *S)).stdout)
        assert show["phase"] == "themes", show

        # Themes and a vote.
        r = ok(lwk(d, "theme", "add", "Inwerken van nieuwe collega's", "items=1,2", *S))
        assert "theme=1" in r.stdout, r.stdout
        ok(lwk(d, "as", R[1], "theme", "Werkdruk"))
        ok(lwk(d, "as", R[2], "theme", "Tijd voor leren"))
        ok(lwk(d, "theme", "merge", "3", "2", *S))
        ok(lwk(d, "vote", "open", "2", *S))
        for i, t in enumerate([1, 1, 2, 1]):
            ok(lwk(d, "as", R[i], "vote", t))
        ok(lwk(d, "as", R[0], "vote", 2))
        one_error_line(lwk(d, "as", R[0], "vote", 2), 1, "votes are used up")
        ok(lwk(d, "vote", "close", *S))
        ok(lwk(d, "next", *S))

        # Desired scores.
        ok(lwk(d, "as", R[0], "desired", "1", "8"))
        ok(lwk(d, "as", R[1], "desired", "Absorptie", "7"))
        ok(lwk(d, "desired", "1", "8", *S))
        ok(lwk(d, "desired", "Opleidend", "6", *S))
        ok(lwk(d, "next", *S))

        # Actions.
        r = ok(lwk(d, "action", "add", "Buddy voor elke nieuwe collega", "owner=Femke",
                   "role=werkbegeleider", "where=teamoverleg", "deadline=2027-03-01",
                   "feedback=teamoverleg in maart", "resources=twee uur per week", "item=1",
                   "theme=1", *S))
        assert "action=1" in r.stdout, r.stdout
        ok(lwk(d, "as", R[2], "action", "Inwerkmap bijwerken", "owner=Gert"))
        ok(lwk(d, "action", "confirm", "2", *S))
        ok(lwk(d, "action", "edit", "2", "deadline=2027-04-15", "waar=kantoor", *S))
        ok(lwk(d, "action", "add", "Wordt geschrapt", *S))
        ok(lwk(d, "action", "remove", "3", *S))
        ok(lwk(d, "next", *S))

        # Look ahead, summary, reactions, evaluations.
        ok(lwk(d, "lookahead", "date", "2027-06-01", *S))
        ok(lwk(d, "lookahead", "add", "LWK vast punt in het teamoverleg", *S))
        ok(lwk(d, "next", *S))
        ok(lwk(d, "summary", "Inwerken is het belangrijkste thema", *S))
        ok(lwk(d, "as", R[0], "reaction", "Fijn gesprek"))
        ok(lwk(d, "as", R[1], "evaluation", "4", "nuttig"))
        ok(lwk(d, "as", R[3], "evaluation", "5"))

        check_exports(d, sid, during=True)
        ok(lwk(d, "end", *S))
        for l in listeners:
            assert l.proc.wait(10) == 0, l.text()
        assert "The session has ended." in listeners[0].text(), listeners[0].text()
        check_exports(d, sid, during=False)
    finally:
        for l in listeners:
            l.stop()
        assert d.stop() == 0, d.logtext()


def mean(xs):
    return sum(xs) / len(xs)


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return (xs[(n - 1) // 2] + xs[n // 2]) / 2


def check_exports(d, sid, during):
    # JSON: the documented layout, every value as entered.
    j = json.loads(ok(lwk(d, "export", sid, "--format", "json")).stdout)
    assert j["format"] == "lwk-scoresheet" and j["version"] == 1, j
    assert j["session"] == sid and j["team"] == "Zorgteam Noord", j
    assert j["closed"] is (not during), j
    assert j["participants"] == ["P1", "P2", "P3", "P4"], j["participants"]
    for i, item in enumerate(j["items"]):
        rnd = item["rounds"][0]
        assert rnd["revealed"], rnd
        got = {x["participant"]: x["value"] for x in rnd["scores"]}
        assert got == {"P%d" % (k + 1): GRADES[i][k] for k in range(4)}, (i, got)
        st = rnd["stats"]
        assert abs(st["mean"] - mean(GRADES[i])) < 0.006, (st, GRADES[i])
        assert st["median"] == median(GRADES[i]), st
        assert st["count"] == 4 and sum(st["distribution"].values()) == 4, st
        assert len(item["keywords"]) == 2, item["keywords"]
        assert item["keywords"][0]["text"].startswith("trefwoord %d" % (i + 1)), item["keywords"]
    assert j["items"][0]["desired"] == 8 and j["items"][2]["desired"] == 6, j["items"]
    assert j["items"][1]["desired"] is None
    props = {(p["participant"], p["value"]) for p in j["items"][0]["desired_proposals"]}
    assert props == {("P1", 8), ("P2", 7)}, props
    themes = {t["id"]: t for t in j["themes"]}
    assert set(themes) == {1, 2}, themes  # 3 was merged into 2
    assert themes[1]["text"] == "Inwerken van nieuwe collega's" and themes[1]["items"] == [1, 2]
    assert themes[1]["votes"] == 3 and themes[2]["votes"] == 2, themes
    acts = {a["id"]: a for a in j["actions"]}
    assert set(acts) == {1, 2}, acts
    a = acts[1]
    assert (a["text"], a["owner"], a["role"], a["where"], a["deadline"], a["feedback"],
            a["resources"], a["item"], a["theme"], a["confirmed"]) == (
        "Buddy voor elke nieuwe collega", "Femke", "werkbegeleider", "teamoverleg", "2027-03-01",
        "teamoverleg in maart", "twee uur per week", 1, 1, True), a
    b = acts[2]
    assert (b["owner"], b["deadline"], b["where"], b["confirmed"], b["proposed_by"]) == (
        "Gert", "2027-04-15", "kantoor", True, "P3"), b
    assert j["look_ahead"] == {"date": "2027-06-01", "items": ["LWK vast punt in het teamoverleg"]}
    assert j["summary"] == "Inwerken is het belangrijkste thema"
    assert j["reactions"] == [{"participant": "P1", "text": "Fijn gesprek"}], j["reactions"]
    evs = {(e["participant"], e["rating"], e["text"]) for e in j["evaluations"]}
    assert evs == {("P2", 4, "nuttig"), ("P4", 5, None)}, evs
    assert j["evaluation_mean"] == 4.5

    # CSV: the long format section,item,round,participant,field,value.
    r = ok(lwk(d, "export", sid, "--format", "csv"))
    rows = list(csv.reader(io.StringIO(r.stdout)))
    assert rows[0] == ["section", "item", "round", "participant", "field", "value"], rows[0]
    assert all(len(x) == 6 for x in rows), [x for x in rows if len(x) != 6]
    scores = {(x[1], x[3]): int(x[5]) for x in rows if x[0] == "score"}
    for i in range(4):
        for k in range(4):
            assert scores[(str(i + 1), "P%d" % (k + 1))] == GRADES[i][k]
    stats = {(x[1], x[4]): x[5] for x in rows if x[0] == "stats"}
    assert abs(float(stats[("3", "mean")]) - mean(GRADES[2])) < 0.006, stats
    assert float(stats[("3", "median")]) == median(GRADES[2])
    assert ["desired", "1", "", "", "agreed", "8"] in rows
    assert ["action", "1", "", "", "owner", "Femke"] in rows
    assert ["action", "1", "", "", "deadline", "2027-03-01"] in rows
    assert ["theme", "1", "", "", "votes", "3"] in rows
    assert ["look_ahead", "", "", "", "date", "2027-06-01"] in rows
    assert ["evaluation", "", "", "P2", "rating", "4"] in rows
    assert ["summary", "", "", "", "text", "Inwerken is het belangrijkste thema"] in rows

    # Markdown: prints well, holds the same.
    md = ok(lwk(d, "export", sid, "--format", "md")).stdout
    assert md.startswith("# Score sheet"), md[:80]
    assert re.search(r"\| 1\. Absorptievermogen \| 1 \| 4 \| 6\.8 \| 6\.5 \| P1 7, P2 5, P3 9, P4 6 \| 8 \|",
                     md), md
    for text in ("Buddy voor elke nieuwe collega", "| Femke |", "2027-03-01", "Werkdruk",
                 "LWK vast punt in het teamoverleg", "Inwerken is het belangrijkste thema",
                 "P1: Fijn gesprek", "- P2: trefwoord 1"):
        assert text in md, text

    # HTML: one self-contained page, charts as inline SVG.
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "blad.html")
        ok(lwk(d, "export", sid, "-o", path))  # the extension picks the format
        html = open(path, encoding="utf-8").read()
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    assert html.count("<svg") == 4, html.count("<svg")
    assert "<style>" in html and "@media print" in html
    for bad in ("<link", "<script", "src=", "url(", "@import"):
        assert bad not in html, bad
    assert re.findall(r"https?://[^\"' ]+", html) == ["http://www.w3.org/2000/svg"] * 4
    for text in ("Buddy voor elke nieuwe collega", "Femke", "Inwerken van nieuwe collega's",
                 "2027-06-01"):
        assert text in html, text

    # No display name leaves the room through a sheet.
    for out in (json.dumps(j), r.stdout, md, html):
        for n in NAMES:
            assert n not in out, n


# ---- admin ---------------------------------------------------------------------

def admin_commands_with_a_database():
    db = Database()
    d = Daemon(db.url)
    try:
        wait_for(lambda: d.status().get("db") == "ok", what="db ok")
        r = ok(lwk(d, "admin", "org", "new", "Zorggroep Oost", "--json"))
        org = json.loads(r.stdout)["org"]
        r = ok(lwk(d, "admin", "org", "list"))
        assert re.search(r"^%d\s+Zorggroep Oost$" % org, r.stdout, re.M), r.stdout
        loc = json.loads(ok(lwk(d, "admin", "unit", "new", "--org", org, "--level", "location",
                                "Locatie De Linde", "--json")).stdout)["unit"]
        team = json.loads(ok(lwk(d, "admin", "unit", "new", "--org", org, "--level", "team",
                                 "--parent", loc, "Team 2B", "--json")).stdout)["unit"]
        units = json.loads(ok(lwk(d, "admin", "unit", "list", "--org", org, "--json")).stdout)
        assert {(u["unit"], u["level"], u.get("parent")) for u in units} == {
            (loc, "location", None), (team, "team", loc)}, units
        r = ok(lwk(d, "admin", "unit", "list"))
        assert "Team 2B" in r.stdout and "team" in r.stdout
        one_error_line(lwk(d, "admin", "unit", "new", "--org", org, "--level", "planet", "X"), 2,
                       "planet")
        # A facilitator token, shown once, works as a facilitator's token.
        r = ok(lwk(d, "admin", "facilitator", "new", "Fatima", "--org", org))
        token = re.search(r"^    (\S{20,})$", r.stdout, re.M).group(1)
        assert "only this once" in r.stdout, r.stdout
        wait_for(lambda: lwk(d, "session", "list", token=token).returncode == 0,
                 what="the new token to be known")
        s = open_session(d, "--unit", team, token=token)
        r = ok(lwk(d, "session", "list", token=token))
        assert str(s["session"]) in r.stdout and s["join_code"] in r.stdout, r.stdout
        r = ok(lwk(d, "admin", "instrument", "list"))
        assert "lwk-meting" in r.stdout, r.stdout
        # Revoked: the token no longer opens anything.
        ok(lwk(d, "admin", "facilitator", "revoke", "Fatima"))
        wait_for(lambda: lwk(d, "session", "list", token=token).returncode == 6,
                 what="the revoked token to be refused")
        one_error_line(lwk(d, "session", "list", token=token), 6, "token was not accepted")
        one_error_line(lwk(d, "admin", "facilitator", "revoke", "Nobody"), 4)
        # Admin commands need the admin token.
        one_error_line(lwk(d, "admin", "org", "list", token="wrong-token-wrong-token"), 6)
    finally:
        assert d.stop() == 0, d.logtext()
        db.drop()


def admin_commands_without_a_database_say_so():
    d = Daemon("")
    try:
        one_error_line(lwk(d, "admin", "org", "list"), 7, "database")
        one_error_line(lwk(d, "admin", "org", "new", "X"), 7, "database")
    finally:
        assert d.stop() == 0


# ---- errors and exit codes --------------------------------------------------------

def error_paths_have_documented_messages_and_exit_codes():
    d = Daemon("")
    try:
        s = open_session(d)
        S = ["-s", s["session"]]
        people = join_all(d, s, ["Anna", "Bram"])
        # Wrong join code.
        one_error_line(lwk(d, "join", "NOPE42", "--name", "Cem", "--once"), 6,
                       "no session with join code NOPE42")
        # Name taken.
        one_error_line(lwk(d, "join", s["join_code"], "--name", "Anna", "--once"), 1,
                       "the name Anna is already used")
        # Wrong step, from the server and from the client's own check.
        one_error_line(lwk(d, "reveal", *S), 5, "not possible in the current step", "Lobby")
        one_error_line(lwk(d, "as", people[0]["resume"], "score", "7"), 5, "current step")
        one_error_line(lwk(d, "do", s["session"], "summary", "text=te vroeg"), 5)
        # Too few scores to reveal (min_reveal 3 by default).
        ok(lwk(d, "next", *S))
        ok(lwk(d, "as", people[0]["resume"], "score", "7"))
        ok(lwk(d, "as", people[1]["resume"], "score", "8"))
        one_error_line(lwk(d, "reveal", *S), 1, "too few scores", "at least 3")
        one_error_line(lwk(d, "next", *S), 1, "reveal the scores first")
        # Bad values are usage errors, caught before sending.
        one_error_line(lwk(d, "as", people[0]["resume"], "score", "11"), 2, "from 1 to 10")
        one_error_line(lwk(d, "score", "Zoe", "7", *S), 2, "no participant called 'Zoe'")
        one_error_line(lwk(d, "action", "add", "x", "deadline=morgen", *S), 2, "YYYY-MM-DD")
        one_error_line(lwk(d, "frobnicate"), 2, "unknown command")
        one_error_line(lwk(d, "session", "new"), 2, "--team")
        # Not found.
        one_error_line(lwk(d, "next", "-s", "12345"), 4, "no session 12345")
        one_error_line(lwk(d, "as", "not-a-real-resume-token", "show"), 6, "resume token")
        # Not allowed: a wrong token.
        one_error_line(lwk(d, "session", "list", token="not-the-token-at-all"), 6, "token")
        # No token at all.
        e = env_for(d)
        one_error_line(lwk(d, "session", "list", env=e), 6, "token")
        # The raw request layer.
        r = ok(lwk(d, "do", s["session"], "ping"))
        one_error_line(lwk(d, "do", s["session"], "score", "value=7"), 2, "item")
        one_error_line(lwk(d, "do", s["session"], "nonsense"), 2, "not a request")
        r = ok(lwk(d, "do", s["session"], "score", "for=Anna", "item=0", "value=9", "--json"))
        assert json.loads(r.stdout).get("seq", 0) > 0, r.stdout
    finally:
        assert d.stop() == 0, d.logtext()
    # Daemon down: exit 3, one line naming lwkd, nothing on stdout.
    e = dict(os.environ)
    for k in ("LWK_SOCKET", "XDG_CONFIG_HOME"):
        e.pop(k, None)
    e.update(LWK_HOST="127.0.0.1", LWK_PORT=str(free_port()), LWK_TOKEN="x" * 20, LANG="C.UTF-8")
    for args in (["status"], ["session", "list"], ["next", "-s", "1"], ["join", "ABC", "--name",
                                                                       "X", "--once"],
                 ["console", "1"], ["as", "tok", "show"]):
        r = subprocess.run([LWK] + args, env=e, capture_output=True, text=True, timeout=15)
        one_error_line(r, 3, "cannot reach lwkd")
        assert r.stdout == "", r.stdout


def help_version_and_usage():
    d = Daemon("")
    try:
        r = ok(lwk(d, "--help"))
        assert "console" in r.stdout and "export" in r.stdout
        assert ok(lwk(d, "help")).stdout == r.stdout
        assert re.match(r"^lwk \d+\.\d+\.\d+ \(protocol 1\)$", ok(lwk(d, "--version")).stdout.strip())
        for cmd in (["status"], ["admin"], ["session"], ["console"], ["show"], ["do"], ["export"],
                    ["join"], ["as"], ["next"], ["score"], ["theme"], ["action"]):
            r = ok(lwk(d, *cmd, "--help"))
            assert r.stdout.startswith("usage: lwk") or r.stdout.startswith("usage:"), (cmd, r.stdout)
            assert ok(lwk(d, "help", cmd[0])).stdout == r.stdout
        r = ok(lwk(d, "help", "exit-codes"))
        for n in range(8):
            assert re.search(r"^  %d  " % n, r.stdout, re.M), r.stdout
        r = lwk(d)
        assert r.returncode == 2 and "usage: lwk" in r.stderr and r.stdout == ""
        # Dutch when the locale is Dutch.
        r = ok(lwk(d, "help", "exit-codes", lang="nl_NL.UTF-8"))
        assert "niet bereikbaar" in r.stdout, r.stdout
        one_error_line(lwk(d, "frobnicate", lang="nl_NL.UTF-8"), 2, "onbekende opdracht")
    finally:
        assert d.stop() == 0


def connection_settings_from_flags_env_and_config_file():
    d = Daemon("")
    try:
        base = env_for(d)
        for k in ("LWK_HOST", "LWK_PORT"):
            base.pop(k)
        # The config file alone.
        cfg = os.path.join(d.tmp, "lwk")
        os.makedirs(cfg, exist_ok=True)
        with open(os.path.join(cfg, "config"), "w") as f:
            f.write("# lwk\nhost = 127.0.0.1\nport = %d\ntoken = %s\n" % (d.port, d.admin_token))
        r = ok(lwk(d, "session", "new", "--team", "T", "--json", env=base))
        assert json.loads(r.stdout)["session"] > 0
        # Flags win over the file; --socket over host and port.
        e = dict(base, LWK_PORT="1")
        one_error_line(lwk(d, "status", env=e), 3)
        ok(lwk(d, "--port", d.port, "status", env=e))
        ok(lwk(d, "status", "--socket", d.sock_path, env=e))
        r = ok(lwk(d, "--socket", d.sock_path, "status", "--json", env=e))
        st = json.loads(r.stdout)
        assert st["db"] == "none" and st["server"].startswith("lwkd"), st
        # Plain output in pipes: no colour codes, with or without NO_COLOR.
        for extra in ({}, {"NO_COLOR": "1"}):
            r = ok(lwk(d, "show", env=dict(base, **extra)))
            assert "\033" not in r.stdout, r.stdout
    finally:
        assert d.stop() == 0


# ---- the console without a terminal, and a restart ------------------------------------

def piped_console_runs_commands_one_at_a_time():
    d = Daemon("")
    listeners = []
    try:
        s = open_session(d)
        people = join_all(d, s, ["Anna", "Bram", "Cem"])
        listeners = [Listener(d, p["resume"]) for p in people]
        wait_for(lambda: all(p["online"] for p in json.loads(
            ok(lwk(d, "show", "--json", "-s", s["session"])).stdout)["participants"]),
            what="everyone online")
        script = "\n".join(["next", "score Anna 6", "score Bram 7", "score Cem 9", "reveal",
                            "next", "order join", "kw goed ingewerkt", "turn next",
                            "kw --for Anna 'meer tijd'", "help", "bogus", "show"]) + "\n"
        r = lwk(d, "console", s["session"], input=script)
        assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)  # "bogus" was a usage error
        assert "unknown command 'bogus'" in r.stderr, r.stderr
        for line in ("✓ next", "✓ score Anna 6", "✓ reveal", "✓ kw goed ingewerkt",
                     "Step 1b: explain", "Turn: Bram"):
            assert line in r.stdout, (line, r.stdout)
        assert "\033" not in r.stdout
        j = json.loads(ok(lwk(d, "export", s["session"], "--format", "json")).stdout)
        kws = [k["text"] for k in j["items"][0]["keywords"]]
        assert kws == ["goed ingewerkt", "meer tijd"], kws
        # A refused command sets the exit status; the rest still runs.
        r = lwk(d, "console", s["session"], input="reveal\nturn next\n")
        assert r.returncode == 5, (r.returncode, r.stdout, r.stderr)  # wrong step
        assert "✓ turn next" in r.stdout, r.stdout
        assert "✗ reveal" in r.stderr, r.stderr
    finally:
        for l in listeners:
            l.stop()
        assert d.stop() == 0, d.logtext()


def restart_lwkd(d, db_url):
    """Stops lwkd and starts it again on the same port and socket."""
    assert d.stop() == 0, d.logtext()
    n = d.logtext().count("event=listening tcp")
    e = dict(os.environ, LWKD_ADMIN_TOKEN=d.admin_token)
    d.log = open(d.log_path, "a")
    d.proc = subprocess.Popen(
        [LWKD, "--listen-tcp", "127.0.0.1:%d" % d.port, "--listen-unix", d.sock_path, "--database",
         db_url, "--set", "spool_path=" + os.path.join(d.tmp, "spool"), "--log-level", "debug"],
        stderr=d.log, stdout=subprocess.DEVNULL, env=e)
    wait_for(lambda: d.logtext().count("event=listening tcp") > n, what="lwkd to listen again")


def listener_and_piped_console_survive_a_restart():
    db = Database()
    d = Daemon(db.url)
    listener = None
    try:
        wait_for(lambda: d.status().get("db") == "ok", what="db ok")
        org = json.loads(ok(lwk(d, "admin", "org", "new", "Zorg", "--json")).stdout)["org"]
        unit = json.loads(ok(lwk(d, "admin", "unit", "new", "--org", org, "--level", "team",
                                 "Team R", "--json")).stdout)["unit"]
        wait_for(lambda: lwk(d, "session", "new", "--team", "Team R", "--unit", unit,
                             "--json").returncode == 0, what="the team to be known")
        s = json.loads(ok(lwk(d, "session", "list", "--json")).stdout)[0]
        people = join_all(d, s, ["Anna", "Bram", "Cem"])
        listener = Listener(d, people[0]["resume"])
        wait_for(lambda: "Lobby" in listener.text(), what="the listener's first screen")
        ok(lwk(d, "next", "-s", s["session"]))
        wait_for(lambda: d.status()["waiting"] == 0, what="events stored")
        restart_lwkd(d, db.url)
        wait_for(lambda: "Reconnected." in listener.text(), timeout=20, what="the listener back")
        assert "Connection lost" in listener.text(), listener.text()
        # The session went on where it was, for the facilitator and the listener.
        ok(lwk(d, "as", people[1]["resume"], "score", "6"))
        show = json.loads(ok(lwk(d, "show", "--json", "-s", s["session"])).stdout)
        assert show["phase"] == "score" and show["scores_in"] == 1, show
        ok(lwk(d, "end", "-s", s["session"]))
        assert listener.proc.wait(10) == 0, listener.text()
        assert "The session has ended." in listener.text()
    finally:
        if listener:
            listener.stop()
        assert d.stop() == 0, d.logtext()
        db.drop()


run([
    whole_session_through_one_shot_commands_with_exports,
    error_paths_have_documented_messages_and_exit_codes,
    help_version_and_usage,
    connection_settings_from_flags_env_and_config_file,
    piped_console_runs_commands_one_at_a_time,
    admin_commands_without_a_database_say_so,
    admin_commands_with_a_database,
    listener_and_piped_console_survive_a_restart,
])
