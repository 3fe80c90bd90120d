"""Issue 6: lwk's interactive modes on a real terminal. The facilitator's
console and the participant screen run in tmux (a private server per test,
120x40) and are driven with send-keys and read with capture-pane: join,
score, reveal, explain, act, end; Dutch screens under nl_NL.UTF-8; no colour
with NO_COLOR; and both screens riding out a restart of lwkd, with a command
typed while offline sent after the reconnect."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from lwktest import LWK, LWKD, Daemon, Database, run, wait_for

if not shutil.which("tmux"):
    print("tmux is not installed: skipped")
    sys.exit(77)


def env_for(d, lang="C.UTF-8", token=None, **extra):
    e = d.env()
    for k in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LWK_SESSION", "LWK_TOKEN", "NO_COLOR"):
        e.pop(k, None)
    e["LANG"] = lang
    e["TERM"] = "xterm-256color"
    if token:
        e["LWK_TOKEN"] = token
    e.update(extra)
    return e


def lwk(d, *args, **kw):
    r = subprocess.run([LWK] + [str(a) for a in args], env=env_for(d, token=d.admin_token),
                       capture_output=True, text=True, timeout=30, **kw)
    assert r.returncode == 0, (args, r.returncode, r.stdout, r.stderr)
    return r


class Tmux:
    """A private tmux server (tmux -L NAME) with one window per program."""

    def __init__(self, name):
        self.sock = "lwk-%s-%d" % (name, os.getpid())
        self.started = False

    def tmux(self, *args, check=True):
        r = subprocess.run(["tmux", "-L", self.sock, "-f", "/dev/null"] + list(args),
                           capture_output=True, text=True, timeout=10)
        if check:
            assert r.returncode == 0, (args, r.stderr)
        return r.stdout

    def start(self, window, argv, env):
        cmd = " ".join("'%s'" % a.replace("'", "'\\''") for a in
                       ["env", "-i"] + ["%s=%s" % kv for kv in env.items()] + argv)
        if not self.started:
            self.tmux("new-session", "-d", "-s", "t", "-x", "120", "-y", "40", "-n", window, cmd)
            self.tmux("set-option", "-g", "remain-on-exit", "on")
            self.started = True
        else:
            self.tmux("new-window", "-d", "-t", "t", "-n", window, cmd)

    def type(self, window, text, enter=True):
        self.tmux("send-keys", "-t", "t:" + window, "-l", text)
        if enter:
            self.tmux("send-keys", "-t", "t:" + window, "Enter")

    def keys(self, window, *keys):
        self.tmux("send-keys", "-t", "t:" + window, *keys)

    def screen(self, window, escapes=False):
        return self.tmux("capture-pane", "-p", *(["-e"] if escapes else []), "-t", "t:" + window)

    def wait(self, window, *texts, timeout=10, absent=()):
        def ok():
            s = self.screen(window)
            return s if all(t in s for t in texts) and not any(a in s for a in absent) else None
        try:
            return wait_for(ok, timeout=timeout, what="%s on %s" % (texts, window))
        except AssertionError:
            raise AssertionError("screen of %s lacks %r:\n%s" % (window, texts, self.screen(window)))

    def dead_status(self, window):
        """None while the program runs; its exit status, or -SIGNAL."""
        out = self.tmux("display-message", "-p", "-t", "t:" + window,
                        "#{pane_dead}:#{pane_dead_status}:#{pane_dead_signal}").strip().split(":")
        if len(out) < 3 or out[0] != "1":
            return None
        return int(out[1]) if out[1] else -int(out[2] or 0)

    def kill(self):
        self.tmux("kill-server", check=False)


class Listener:
    def __init__(self, d, resume):
        self.out = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen([LWK, "join", "--resume", resume, "--listen"],
                                     env=env_for(d), stdout=self.out, stderr=subprocess.STDOUT)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait(10)


def new_session(d, *extra):
    return json.loads(lwk(d, "session", "new", "--team", "Team 3B", "--json", *extra).stdout)


def scribe_item(d, sid, names, grades):
    """One item through one-shot commands: the facilitator scores for everyone."""
    for n, g in zip(names, grades):
        lwk(d, "score", n, g, "-s", sid)
    lwk(d, "reveal", "-s", sid)
    lwk(d, "next", "-s", sid)
    lwk(d, "next", "-s", sid)


# ---- tests -------------------------------------------------------------------------

def console_and_participants_run_a_session_in_tmux():
    d = Daemon("")
    t = Tmux("session")
    cem = None
    try:
        s = new_session(d)
        sid, code = s["session"], s["join_code"]
        t.start("fac", [LWK, "console", str(sid)], env_for(d, token=d.admin_token))
        t.wait("fac", "Lobby: participants join", "Participants (0)", "Commands: next")
        t.start("anna", [LWK, "join", code, "--name", "Anna"], env_for(d))
        t.start("bram", [LWK, "join", code, "--name", "Bram"], env_for(d))
        cem = Listener(d, json.loads(lwk(d, "join", code, "--name", "Cem", "--once").stdout)["resume"])
        t.wait("fac", "Participants (3)", "Anna joined", "Bram joined", "Cem joined")
        t.wait("anna", "Welcome. Wait until the facilitator starts.", "You: Anna")

        # Tab completes commands and names.
        t.type("fac", "ne", enter=False)
        t.keys("fac", "Tab")
        t.wait("fac", "[lobby] > next")
        t.keys("fac", "Enter")
        t.wait("fac", "Step 1a: score · 1/4 Absorptievermogen", "Scored: 0 of 3",
               "Commands: next  back  reveal  score NAME VALUE")
        t.wait("anna", "Step 1a: score", "Your grade: not given yet", "grade>")

        # Blind scoring: each sees only their own grade, the console only who.
        t.type("anna", "7")
        t.wait("anna", "Your grade: 7 (you can change it until the reveal)")
        t.type("bram", "5")
        t.type("fac", "score C", enter=False)
        t.keys("fac", "Tab")
        t.type("fac", "9")
        fac = t.wait("fac", "Scored: 3 of 3", "✓ score Cem 9")
        assert "Revealed" not in fac and "mean" not in fac, fac
        bram = t.wait("bram", "Your grade: 5")
        assert "Your grade: 7" not in bram and "mean" not in bram, bram
        t.type("fac", "reveal")
        t.wait("fac", "Revealed, scores: 3.", "mean 7.0 · median 7.0 · lowest 5 · highest 9")
        t.wait("anna", "Scores revealed (3): mean 7.0")

        # Explain in turn: lowest grade first.
        t.type("fac", "next")
        t.wait("fac", "Step 1b: explain · 1/4 Absorptievermogen", "No speaking order yet")
        t.type("fac", "order low")
        t.wait("fac", "Turn: Bram", "next: Anna")
        t.wait("bram", "It is your turn", "keywords>")
        t.type("anna", "mag ik al?")
        t.wait("anna", "✗ mag ik al?: conflicts with the current state: it is not your turn")
        t.type("bram", "te weinig tijd om in te werken")
        t.wait("fac", "Bram: te weinig tijd om in te werken")
        t.wait("anna", "Bram: te weinig tijd om in te werken")
        t.type("fac", "turn next")
        t.wait("fac", "Turn: Anna")
        t.type("fac", "kw goede buddy's")
        t.wait("fac", "Anna: goede buddy's")
        t.type("fac", "next")
        t.wait("fac", "Step 1a: score · 2/4 Verbindend vermogen")

        # The other items through one-shot commands, then themes and desired.
        lwk(d, "score", "Anna", 6, "-s", sid)
        lwk(d, "score", "Bram", 7, "-s", sid)
        lwk(d, "score", "Cem", 8, "-s", sid)
        lwk(d, "reveal", "-s", sid)
        lwk(d, "next", "-s", sid)
        lwk(d, "next", "-s", sid)
        scribe_item(d, sid, ["Anna", "Bram", "Cem"], [5, 5, 6])
        scribe_item(d, sid, ["Anna", "Bram", "Cem"], [8, 7, 7])
        t.wait("fac", "Step 3a: themes", "No themes yet")
        t.wait("anna", "theme>")  # her screen may follow the facilitator's a moment later
        t.type("anna", "Inwerken")
        t.wait("fac", "#1 Inwerken")
        t.type("fac", "next")
        t.wait("fac", "Step 3a: desired scores")
        t.wait("anna", "Which grade do you want to reach for Absorptievermogen?")
        t.type("anna", "8")
        t.wait("fac", "proposed: Anna 8")
        t.type("fac", "desired 1 8")
        t.wait("fac", "→  desired 8")
        t.type("fac", "next")

        # Act: a participant proposes, the facilitator completes and confirms.
        t.wait("fac", "Step 3b: actions", "No actions yet.")
        t.wait("anna", "Propose an action")
        t.type("anna", "Buddy voor elke nieuwe collega owner=Femke deadline=2027-03-01")
        t.wait("fac", "#1 ? Buddy voor elke nieuwe collega", "who: Femke · by: 2027-03-01")
        t.type("fac", "action edit 1 feedback='teamoverleg maart'")
        t.type("fac", "action confirm 1")
        t.wait("fac", "#1 ✓ Buddy voor elke nieuwe collega", "feedback: teamoverleg maart")
        t.wait("anna", "#1 ✓ Buddy voor elke nieuwe collega")
        t.type("fac", "next")
        t.wait("fac", "Step 4: look ahead")
        t.type("fac", "lookahead date 2027-06-01")
        t.wait("fac", "Next follow-up conversation: 2027-06-01")
        t.type("fac", "next")
        t.wait("fac", "Summary and look back", "Summary: (not yet)")
        t.type("fac", "summary Inwerken is ons thema")
        t.wait("anna", "Summary: Inwerken is ons thema", "How did you experience this session?")
        t.type("anna", "4 fijn gesprek")
        t.wait("fac", "Evaluations: 1 (mean 4.0 of 5)")

        # End: confirmed, then everyone sees it; the participant leaves with Enter.
        t.type("fac", "end")
        t.wait("fac", "Type end again to confirm.")
        t.type("fac", "end")
        t.wait("fac", "Closed", "The session has ended.")
        t.wait("anna", "The session has ended. Thank you.", "Press Enter to leave.")
        t.keys("anna", "Enter")
        wait_for(lambda: t.dead_status("anna") is not None, what="the participant to leave")
        assert t.dead_status("anna") == 0
        t.type("fac", "quit")
        wait_for(lambda: t.dead_status("fac") is not None, what="the console to close")
        assert t.dead_status("fac") == 0
        sheet = json.loads(lwk(d, "export", sid, "--format", "json").stdout)
        assert sheet["actions"][0]["owner"] == "Femke" and sheet["actions"][0]["confirmed"]
        assert [k["text"] for k in sheet["items"][0]["keywords"]] == [
            "te weinig tijd om in te werken", "goede buddy's"]
    finally:
        t.kill()
        if cem:
            cem.stop()
        assert d.stop() == 0, d.logtext()


def dutch_screens_and_no_colour():
    d = Daemon("")
    t = Tmux("dutch")
    try:
        s = new_session(d)
        sid, code = s["session"], s["join_code"]
        nl = "nl_NL.UTF-8"
        t.start("fac", [LWK, "console", str(sid)], env_for(d, lang=nl, token=d.admin_token))
        t.start("anna", [LWK, "join", code, "--name", "Anna"], env_for(d, lang=nl))
        t.start("bram", [LWK, "join", code, "--name", "Bram"], env_for(d, lang=nl, NO_COLOR="1"))
        t.wait("fac", "Binnenkomst: deelnemers melden zich", "Deelnemers (2):", "Opdrachten: next")
        t.wait("anna", "Welkom. Wacht tot de begeleider begint.", "U: Anna")
        t.type("fac", "next")
        t.wait("fac", "Stap 1a: cijfers geven · 1/4 Absorptievermogen", "Cijfer gegeven: 0 van 2",
               "blind tot het tonen")
        t.wait("anna", "Uw cijfer: nog niet gegeven", "cijfer>")
        t.type("anna", "12")
        t.wait("anna", "'12' is geen cijfer van 1 tot en met 10")
        t.type("fac", "reveal")
        t.wait("fac", "te weinig cijfers om te tonen: er zijn er minstens 3 nodig")
        t.type("fac", "help")
        t.wait("fac", "alle cijfers van dit vermogen tegelijk tonen")
        # Colour on a terminal, none with NO_COLOR.
        assert "\033[1m" in t.screen("anna", escapes=True)
        assert "\033[" not in t.screen("bram", escapes=True).replace("\033[0m", "").replace(
            "\033[39m", "").replace("\033[49m", ""), t.screen("bram", escapes=True)
        t.type("fac", "quit")
        wait_for(lambda: t.dead_status("fac") is not None, what="the console to close")
        assert t.dead_status("fac") == 0
    finally:
        t.kill()
        assert d.stop() == 0, d.logtext()


def start_lwkd(d, db_url):
    n = d.logtext().count("event=listening tcp")
    e = dict(os.environ, LWKD_ADMIN_TOKEN=d.admin_token)
    d.log = open(d.log_path, "a")
    d.proc = subprocess.Popen(
        [LWKD, "--listen-tcp", "127.0.0.1:%d" % d.port, "--listen-unix", d.sock_path, "--database",
         db_url, "--set", "spool_path=" + os.path.join(d.tmp, "spool"), "--log-level", "debug"],
        stderr=d.log, stdout=subprocess.DEVNULL, env=e)
    wait_for(lambda: d.logtext().count("event=listening tcp") > n, what="lwkd to listen again")


def screens_reconnect_after_lwkd_restarts():
    db = Database()
    d = Daemon(db.url)
    t = Tmux("restart")
    try:
        wait_for(lambda: d.status().get("db") == "ok", what="db ok")
        org = json.loads(lwk(d, "admin", "org", "new", "Zorg", "--json").stdout)["org"]
        unit = json.loads(lwk(d, "admin", "unit", "new", "--org", org, "--level", "team", "Team 3B",
                              "--json").stdout)["unit"]
        s = new_session(d, "--unit", unit)
        sid, code = s["session"], s["join_code"]
        t.start("fac", [LWK, "console", str(sid)], env_for(d, token=d.admin_token))
        t.wait("fac", "Lobby", "[lobby] >")
        t.start("anna", [LWK, "join", code, "--name", "Anna"], env_for(d))
        t.wait("fac", "Anna joined", "Participants (1)")
        wait_for(lambda: d.status()["waiting"] == 0, what="events stored")
        assert d.stop() == 0, d.logtext()
        t.wait("fac", "Connection lost", "offline>")
        t.wait("anna", "Connection lost")
        # Typed while offline: queued, said so, sent after the reconnect.
        t.type("fac", "next")
        t.wait("fac", "\"next\" will be sent after reconnecting")
        # What does not fit the step is refused at once, visibly.
        t.type("anna", "7")
        t.wait("anna", "nothing to answer yet")
        start_lwkd(d, db.url)
        t.wait("fac", "Reconnected.", "sending what was typed offline: next", "✓ next",
               "Step 1a: score · 1/4 Absorptievermogen", timeout=20)
        t.wait("anna", "Reconnected.", "Step 1a: score", "grade>", timeout=20)
        t.type("anna", "7")
        t.wait("fac", "Scored: 1 of 1")
        t.type("fac", "quit")
        t.type("anna", "/quit")
        wait_for(lambda: t.dead_status("fac") is not None and t.dead_status("anna") is not None,
                 what="both to close")
        assert t.dead_status("fac") == 0 and t.dead_status("anna") == 0
    finally:
        t.kill()
        assert d.stop() == 0, d.logtext()
        db.drop()


run([
    console_and_participants_run_a_session_in_tmux,
    dutch_screens_and_no_colour,
    screens_reconnect_after_lwkd_restarts,
])
