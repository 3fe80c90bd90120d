"""Issue 7: lwk-kiosk, the team-room screen. Each test runs a real lwkd and
lwk-kiosk in a detached tmux of its own (a private server socket) at 80x24
and 200x60, plays the facilitator and the participants with the raw protocol
client, and reads the screen with capture-pane.

Large type is checked by rendering the expected text with the kiosk's own
glyph table (parsed from client/kiosk_font.c) and finding it on the screen.
"""
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import time

import lwktest
from lwktest import LWK_KIOSK, SRC, Daemon, Database, run, wait_for

LANG_NL = "nl_NL.UTF-8"

# ---- the block font, as the kiosk draws it --------------------------------

def load_font():
    text = open(os.path.join(SRC, "client", "kiosk_font.c"), encoding="utf-8").read()
    glyphs = {}
    for m in re.finditer(r"\{'(\\'|[^'])', \{\"([^\"]*)\", \"([^\"]*)\", \"([^\"]*)\", "
                         r"\"([^\"]*)\", \"([^\"]*)\"\}\}", text):
        c = "'" if m.group(1) == "\\'" else m.group(1)
        glyphs[c] = [m.group(i) for i in range(2, 7)]
    assert len(glyphs) > 40, "glyph table not found in kiosk_font.c"
    return glyphs


FONT = load_font()


def render(text, size):
    """Rows of text in the block font: size 0 half blocks, 1 full, 2 double."""
    px = [""] * 5
    for i, ch in enumerate(text.upper()):
        g = FONT[ch]
        for r in range(5):
            px[r] += ("." if i else "") + g[r]
    if size == 0:
        rows = []
        for r in range(3):
            top, bottom = px[2 * r], px[2 * r + 1] if 2 * r + 1 < 5 else "." * len(px[0])
            rows.append("".join("\u2588" if t == "#" and b == "#" else "\u2580" if t == "#" else
                                "\u2584" if b == "#" else " " for t, b in zip(top, bottom)))
        return rows
    scale = 2 if size == 1 else 4
    rows = ["".join(("\u2588" if p == "#" else " ") * scale for p in row) for row in px]
    return rows if size == 1 else [r for r in rows for _ in (0, 1)]


def find_big(screen, text, sizes=(0, 1, 2), top=0):
    """(row, col, size) where text stands in large type at or below row top, or None."""
    lines = screen.split("\n")
    width = max(len(l) for l in lines) if lines else 0
    lines = [l.ljust(width) for l in lines]
    for size in sizes:
        rows = render(text, size)
        w = len(rows[0])
        first = rows[0].strip()
        if not first:
            continue
        lead = len(rows[0]) - len(rows[0].lstrip())
        for y in range(top, len(lines) - len(rows) + 1):
            start = 0
            while True:
                i = lines[y].find(first, start)
                if i < 0:
                    break
                x = i - lead
                if x >= 0 and all(lines[y + r][x:x + w] == rows[r] for r in range(len(rows))):
                    # whole glyphs only: a blank (or the edge) on both sides
                    left = all(x == 0 or lines[y + r][x - 1] == " " for r in range(len(rows)))
                    right = all(x + w >= width or lines[y + r][x + w] == " "
                                for r in range(len(rows)))
                    if left and right:
                        return (y, x, size)
                start = i + 1
    return None


# ---- the kiosk in a private tmux -------------------------------------------

_n = [0]


class Kiosk:
    def __init__(self, daemon_port, code, width=80, height=24, lang=LANG_NL, extra=(), env=None):
        _n[0] += 1
        self.sock = "kiosktest-%d-%d" % (os.getpid(), _n[0])
        self.tmp = tempfile.mkdtemp(prefix="lwk-kiosk-")
        self.stderr = os.path.join(self.tmp, "stderr")
        self.exitfile = os.path.join(self.tmp, "exit")
        e = {"LANG": lang, "TERM": "xterm-256color", "LWK_HOST": "127.0.0.1",
             "LWK_PORT": str(daemon_port), "XDG_CONFIG_HOME": self.tmp}
        if env:
            e.update(env)
        assigns = " ".join("%s=%s" % (k, shlex.quote(v)) for k, v in e.items())
        argv = " ".join(shlex.quote(a) for a in [LWK_KIOSK] + list(extra) + [code])
        # The shell stays after the kiosk exits, so its exit status can be read.
        cmd = ("env -u LC_ALL -u LC_MESSAGES -u LANGUAGE -u LWK_SOCKET -u NO_COLOR %s %s 2>%s; "
               "echo $? >%s; sleep 600") % (assigns, argv, shlex.quote(self.stderr),
                                            shlex.quote(self.exitfile))
        self.tmux("new-session", "-d", "-x", str(width), "-y", str(height), cmd)
        self.sock_path = self.tmux("display-message", "-p", "#{socket_path}").strip()

    def tmux(self, *args):
        return subprocess.run(["tmux", "-L", self.sock, "-f", "/dev/null"] + list(args),
                              capture_output=True, text=True, timeout=10).stdout

    def screen(self):
        return self.tmux("capture-pane", "-p")

    def wait(self, pred, timeout=10.0, what="screen"):
        last = [""]

        def check():
            # A capture can fall in the middle of a redraw: what follows a
            # wait looks at a screen that stood still for 50 ms.
            first = self.screen()
            last[0] = first
            if not pred(first):
                return False
            time.sleep(0.05)
            last[0] = self.screen()
            return last[0] == first
        try:
            wait_for(check, timeout=timeout, step=0.1, what=what)
        except AssertionError:
            raise AssertionError("timed out waiting for %s; screen:\n%s\nexit status: %s\n"
                                 "stderr:\n%s" % (what, last[0], self.exit_status(),
                                                   self.errors()))
        return last[0]

    def wait_text(self, *texts, timeout=10.0):
        return self.wait(lambda s: all(t in s for t in texts), timeout, "%r" % (texts,))

    def resize(self, width, height):
        self.tmux("resize-window", "-t", "0", "-x", str(width), "-y", str(height))

    def pid(self):
        shell = int(self.tmux("display-message", "-p", "#{pane_pid}").strip())
        kids = open("/proc/%d/task/%d/children" % (shell, shell)).read().split()
        for k in kids:
            try:
                if os.path.basename(os.readlink("/proc/%s/exe" % k)) == "lwk-kiosk":
                    return int(k)
            except OSError:
                pass
        return None

    def exit_status(self):
        try:
            return int(open(self.exitfile).read())
        except (OSError, ValueError):
            return None

    def wait_exit(self, timeout=15.0):
        return wait_for(lambda: self.exit_status() is not None and (self.exit_status(),),
                        timeout=timeout, what="lwk-kiosk to exit")[0]

    def errors(self):
        try:
            return open(self.stderr).read()
        except OSError:
            return ""

    def quit(self):
        """Stops the kiosk with 'q' (a clean exit: no sanitizer report, status 0)."""
        if self.exit_status() is None:
            self.tmux("send-keys", "q")
            status = self.wait_exit()
            assert status == 0, "lwk-kiosk exited with %s: %s" % (status, self.errors())
        err = self.errors()
        assert "Sanitizer" not in err and "runtime error" not in err, err

    def close(self):
        self.tmux("kill-server")
        if self.sock_path:
            try:
                os.unlink(self.sock_path)
            except OSError:
                pass
        shutil.rmtree(self.tmp, ignore_errors=True)


def shows(screen, text):
    """text as plain text or in large type."""
    return text in screen or bool(find_big(screen, text.upper()))


def content(screen, after):
    """The lines below the line holding `after` (the title block) and above the footer."""
    lines = screen.split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    for i, l in enumerate(lines):
        if after in l:
            return lines[i + 1:-1]
    raise AssertionError("%r not on the screen:\n%s" % (after, screen))


# ---- playing a session ------------------------------------------------------

class Session:
    """A facilitator and participants on a daemon, speaking the raw protocol."""

    def __init__(self, d, team="Zonnebloem", **new):
        self.d = d
        self.f = d.client(kind="facilitator", token=d.admin_token)
        r = self.f.request("session.new", team=team, **new)
        assert r["t"] == "ok", r
        self.id, self.join_code, self.kiosk_code = r["session"], r["join_code"], r["kiosk_code"]
        self.p = {}

    def join(self, *names):
        for n in names:
            self.p[n] = self.d.client(kind="participant", code=self.join_code, name=n)

    def fac(self, t, **kw):
        r = self.f.request(t, **kw)
        assert r["t"] == "ok", (t, kw, r)
        return r

    def by(self, name, t, **kw):
        r = self.p[name].request(t, **kw)
        assert r["t"] == "ok", (name, t, kw, r)
        return r

    def close(self):
        for c in list(self.p.values()) + [self.f]:
            try:
                c.close()
            except OSError:
                pass


NAMES = ("Anna", "Bert", "Carla", "Dirk")


def walk_through_a_session(width, height):
    d = Daemon("")
    s = Session(d)
    k = Kiosk(d.port, s.kiosk_code, width, height)
    try:
        # Lobby: the join code (large) and who has joined.
        scr = k.wait_text("Doe mee met de code", "verbonden")
        assert find_big(scr, s.join_code), scr
        assert "Zonnebloem" in scr.split("\n")[0] and "LWK-meting" in scr.split("\n")[0], scr
        assert s.join_code in scr.split("\n")[0], scr
        s.join(*NAMES)
        scr = k.wait_text("4 deelnemers doen mee", *NAMES)
        assert find_big(scr, "WELKOM"), scr

        # Blind scoring: who scored, never a value.
        s.fac("next")
        k.wait(lambda x: "Nog niet" in x and shows(x, "Absorptievermogen"), what="scoring")
        s.by("Anna", "score", item=0, value=9)
        s.by("Bert", "score", item=0, value=8)
        s.by("Carla", "score", item=0, value=7)
        scr = k.wait(lambda x: find_big(x, "3 VAN 4"), what="count 3 van 4")
        assert find_big(scr, "SCOREN"), scr
        body = content(scr, "stap 1a")
        text = "\n".join(body)
        assert not re.search(r"[0-9]", text), "a digit in the scoring area:\n" + scr
        for word in ("Gemiddelde", "Mediaan", "Spreiding", "Verdeling", "\u2502"):
            assert word not in text, "%r before the reveal:\n%s" % (word, scr)
        top = next(i for i, l in enumerate(scr.split("\n")) if "stap 1a" in l) + 1
        for v in ("7", "8", "9"):
            assert not find_big(scr, v, top=top), "large %s before the reveal:\n%s" % (v, scr)
        scored = text.split("Gescoord")[1]
        for n in ("Anna", "Bert", "Carla"):
            assert n in scored, scr
        assert "Dirk" in text, scr

        # Reveal: bars and the mean, median and spread in large digits.
        s.fac("reveal")
        scr = k.wait_text("Verdeling van 3 cijfers", "Gemiddelde", "Mediaan", "Spreiding")
        assert find_big(scr, "8,0"), "mean 8,0 not in large digits:\n" + scr
        assert find_big(scr, "0,8"), "spread 0,8 not in large digits:\n" + scr
        chart = [l for l in scr.split("\n") if re.match(r"^ +(10| [1-9]) \u2502", l)]
        assert len(chart) == 10, scr
        cw = width * 55 // 100  # the chart's part of the screen; the numbers are beside it
        bars = {int(l.split("\u2502")[0]): l[:cw].split("\u2502")[1] for l in chart}
        for v in (7, 8, 9):
            assert "\u2588" in bars[v] and bars[v].rstrip().endswith(" 1"), scr
        for v in (1, 2, 3, 4, 5, 6, 10):
            assert not bars[v].strip(), scr
        assert "VERDEELD" not in scr, scr

        # Explanation round: whose turn, who is next, keywords live per participant.
        s.fac("next")
        s.fac("turn.order", mode="join")
        scr = k.wait_text("Aan het woord", "Daarna: Bert")
        assert find_big(scr, "ANNA"), scr
        s.by("Anna", "keyword", text="inwerken kost tijd")
        s.by("Anna", "keyword", text="buddy")
        s.fac("keyword", text="stagiairs welkom", **{"for": 1})
        s.fac("turn.next")
        s.by("Bert", "keyword", text="werkdruk")
        scr = k.wait_text("Daarna: Carla", "werkdruk", "inwerken kost tijd \u00b7 buddy")
        assert find_big(scr, "BERT"), scr
        kw = [l for l in scr.split("\n") if "werkdruk" in l or "buddy" in l]
        assert any("Bert" in l and "werkdruk" in l for l in kw), scr
        assert any("Anna" in l and "stagiairs welkom" in l for l in kw), scr

        # A divided group: a marker that it is worth talking about.
        s.fac("next")
        s.by("Anna", "score", item=1, value=2)
        s.by("Bert", "score", item=1, value=9)
        s.by("Carla", "score", item=1, value=10)
        s.fac("reveal")
        k.wait_text("VERDEELD", "Goed om over te praten")

        # The other two vermogens, quickly; then the themes step.
        s.fac("next")
        s.fac("next")
        for item in (2, 3):
            for n, v in zip(("Anna", "Bert", "Carla"), (6, 7, 6)):
                s.by(n, "score", item=item, value=v)
            s.fac("reveal")
            s.fac("next")
            s.fac("next")
        k.wait(lambda x: find_big(x, "THEMA'S"), what="the themes step")

        # Themes with their vermogens; the votes once the vote is closed.
        s.by("Anna", "theme.add", text="Inwerken van nieuwe collega's", items=[0, 1])
        s.by("Bert", "theme.add", text="Tijd om te leren")
        s.fac("vote.open", budget=3)
        scr = k.wait_text("Stemmen: 0 van 4 heeft gestemd")
        s.by("Anna", "vote", theme=2, delta=1)
        s.by("Bert", "vote", theme=2, delta=1)
        s.by("Carla", "vote", theme=1, delta=1)
        k.wait_text("Stemmen: 3 van 4 heeft gestemd")
        s.fac("vote.close")
        scr = k.wait_text("op aantal stemmen", "Absorptievermogen, Verbindend vermogen")
        order = [l for l in scr.split("\n") if "Tijd om te leren" in l or "Inwerken" in l]
        assert "Tijd om te leren" in order[0] and order[0].rstrip().endswith("2"), scr

        # Desired scores: the current mean beside the desired score, as bars.
        s.fac("next")
        s.fac("desired.set", item=0, value=9)

        def desired_drawn(x):
            ls = x.split("\n")
            at = [n for n, l in enumerate(ls) if l.strip() == "Absorptievermogen"]
            return at and at[0] + 2 < len(ls) and ls[at[0] + 2].rstrip().endswith("9")
        # Wait for the agreed score itself: "gewenst" is on screen before it.
        scr = k.wait(desired_drawn, what="the desired score of Absorptievermogen")
        assert "nog niet vastgesteld" in scr, scr
        lines = scr.split("\n")
        i = next(n for n, l in enumerate(lines) if l.strip() == "Absorptievermogen")
        assert "\u2588" in lines[i + 1] and lines[i + 1].rstrip().endswith("8,0"), scr
        assert "\u2588" in lines[i + 2] and lines[i + 2].rstrip().endswith("9"), scr

        # Actions: what, who, role, deadline, feedback moment.
        s.fac("next")
        s.fac("action.propose", text="Buddy voor elke nieuwe collega", owner="Anna",
              role="werkbegeleider", deadline="2025-03-01", feedback="teamoverleg april", item=0)
        s.by("Bert", "action.propose", text="Leertijd inroosteren", owner="Bert", role="planner",
             deadline="2025-02-15", feedback="werkoverleg")
        scr = k.wait_text("2 acties", "Wat", "Wie", "Rol", "Termijn", "Terugkoppeling",
                          "Leertijd inroosteren")
        row = [l for l in scr.split("\n") if "Buddy" in l][0]
        for cell in ("Anna", "01-03-2025", "teamoverleg april"):
            assert cell in row, scr
        assert "werkbeg" in row, scr

        # Closed: the score sheet, desired scores and actions stay on screen.
        s.fac("end")
        scr = k.wait_text("Scoreblad", "gemiddeld", "gewenst", "Buddy voor", "2 acties")
        assert find_big(scr, "AFGESLOTEN"), scr
        sheet = [l for l in scr.split("\n") if l.strip().startswith("Absorptievermogen")]
        assert sheet and "8,0" in sheet[0] and " 9 " in sheet[0] + " ", scr
        assert "meedoen" not in scr.split("\n")[0], "join code shown after the close:\n" + scr
        time.sleep(1.5)
        assert k.exit_status() is None, "lwk-kiosk exited on a closed session"
        k.quit()
    finally:
        k.close()
        s.close()
        d.stop()


def kiosk_shows_a_whole_session_at_80x24():
    walk_through_a_session(80, 24)


def kiosk_shows_a_whole_session_at_200x60():
    walk_through_a_session(200, 60)


def kiosk_follows_a_resize():
    d = Daemon("")
    s = Session(d)
    k = Kiosk(d.port, s.kiosk_code, 80, 24)
    try:
        s.join("Anna", "Bert", "Carla")
        s.fac("next")
        scr = k.wait_text("Absorptievermogen")
        assert not find_big(scr, "ABSORPTIEVERMOGEN"), scr  # too wide for 80 columns
        k.resize(200, 60)
        scr = k.wait(lambda x: find_big(x, "ABSORPTIEVERMOGEN"), what="the vermogen in large type")
        assert len(scr.split("\n")[0]) > 150, scr
        k.resize(80, 24)
        k.wait(lambda x: not find_big(x, "ABSORPTIEVERMOGEN") and "Absorptievermogen" in x,
               what="back to 80x24")
        k.quit()
    finally:
        k.close()
        s.close()
        d.stop()


def kiosk_starts_before_the_daemon_and_refuses_an_unknown_code():
    port = lwktest.free_port()
    k = Kiosk(port, "NOSUCH7", 80, 24, extra=["--exit-delay", "2"])
    try:
        k.wait_text("geen verbinding", "niet bereikbaar")
        assert k.exit_status() is None
        orig = lwktest.free_port
        lwktest.free_port = lambda: port
        try:
            d = Daemon("")
        finally:
            lwktest.free_port = orig
        try:
            k.wait_text("De server kent de kioskcode NOSUCH7 niet", timeout=15)
            assert k.wait_exit() == 4, k.errors()
            err = k.errors()
            assert "Sanitizer" not in err and "runtime error" not in err, err
        finally:
            d.stop()
    finally:
        k.close()


def kiosk_rides_out_a_daemon_restart_without_database():
    """Without persistence the session is gone after the restart: the kiosk
    shows the lost connection with the time since, reconnects by itself and
    then says the server no longer knows the session, and exits."""
    d = Daemon("")
    s = Session(d)
    k = Kiosk(d.port, s.kiosk_code, 80, 24, extra=["--exit-delay", "3"])
    port = d.port
    try:
        s.join("Anna", "Bert")
        k.wait_text("Anna", "Bert", "verbonden")
        s.close()
        d.stop()
        scr = k.wait_text("verbinding verbroken", "geleden")
        since = re.search(r"Verbinding verbroken, (0:0\d) geleden", scr)
        assert since, scr
        assert "Anna" in scr, "the last state should stay visible:\n" + scr
        # The time since moves on, second by second.
        k.wait(lambda x: "Verbinding verbroken, " in x and since.group(1) not in x,
               timeout=3, what="the time since to move on")
        orig = lwktest.free_port
        lwktest.free_port = lambda: port
        try:
            d = Daemon("")
        finally:
            lwktest.free_port = orig
        k.wait_text("De server kent deze sessie niet meer", timeout=15)
        assert k.wait_exit() == 4, k.errors()
        err = k.errors()
        assert "Sanitizer" not in err and "runtime error" not in err, err
    finally:
        k.close()
        d.stop()


def kiosk_resyncs_after_a_daemon_restart_with_database():
    """With the database the session survives the restart: the kiosk
    reconnects without a restart of its own, resyncs from the snapshot and
    follows the events that come after."""
    try:
        db = Database()
    except Exception as e:  # no PostgreSQL here
        print("skip: no database (%s)" % e)
        return
    # A session is stored for a team (an org unit); the spool outlives the daemon.
    org = db.psql("INSERT INTO lwk.organisations (name) VALUES ('Zorg Kiosk') RETURNING id")
    unit = int(db.psql("INSERT INTO lwk.org_units (organisation_id, kind, name) "
                       "VALUES (%s, 'team', 'Zonnebloem') RETURNING id" % org.split()[0]).split()[0])
    spool = tempfile.mkdtemp(prefix="lwk-spool-")
    extra = ("--set", "spool_path=" + spool)
    d = Daemon(db.url, extra=extra)
    k = None
    try:
        wait_for(lambda: d.status().get("db") == "ok", timeout=20, what="db ok")
        s = Session(d, unit=unit)
        k = Kiosk(d.port, s.kiosk_code, 80, 24)
        s.join("Anna", "Bert", "Carla")
        s.fac("next")
        k.wait_text("Nog niet", "Anna")
        wait_for(lambda: d.status()["waiting"] == 0, timeout=20, what="events stored")
        port = d.port
        s.close()
        d.stop()
        k.wait_text("verbinding verbroken")
        orig = lwktest.free_port
        lwktest.free_port = lambda: port
        try:
            d = Daemon(db.url, extra=extra)
        finally:
            lwktest.free_port = orig
        k.wait(lambda x: "verbonden" in x and "Nog niet" in x and "Anna" in x, timeout=20, what="resynced")
        assert "verbroken" not in k.screen()
        # Events after the restart arrive on the same kiosk.
        p = d.client(kind="participant", code=s.join_code, name="Dirk")
        k.wait_text("Dirk", timeout=10)
        p.close()
        k.quit()
    finally:
        if k:
            k.close()
        d.stop()
        db.drop()
        shutil.rmtree(spool, ignore_errors=True)


def kiosk_speaks_english_with_lang_c_and_draws_ascii():
    d = Daemon("")
    s = Session(d)
    k = Kiosk(d.port, s.kiosk_code, 80, 24, lang="C", extra=["--no-color"])
    try:
        s.join("Anna")
        scr = k.wait_text("Join with the code", "1 participant has joined", "connected")
        assert "\u2588" not in scr and "#" in scr, "LANG=C is not UTF-8: ASCII only\n" + scr
        k.quit()
    finally:
        k.close()
        s.close()
        d.stop()


def kiosk_counts_down_a_timed_step():
    """The hook for timed steps: a (start, duration) pair in large digits,
    in the warning colour near the end and as an overrun after it."""
    d = Daemon("")
    s = Session(d)
    # Started 100 s ago, 120 s planned: about 0:20 left.
    k = Kiosk(d.port, s.kiosk_code, 80, 24, env={"LWK_KIOSK_COUNTDOWN": "-100,120"})
    k2 = Kiosk(d.port, s.kiosk_code, 80, 24, env={"LWK_KIOSK_COUNTDOWN": "-130,120"})
    try:
        scr = k.wait_text("verbonden")
        assert any(find_big(scr, "0:%02d" % n) for n in range(12, 21)), scr
        colour = k.tmux("capture-pane", "-p", "-e")
        assert "\x1b[" in colour and ("43m" in colour or "7m" in colour), "no warning colour"
        scr = k2.wait_text("verbonden")
        assert any(find_big(scr, "+0:%02d" % n) for n in range(10, 20)), scr
        k.quit()
        k2.quit()
    finally:
        k.close()
        k2.close()
        s.close()
        d.stop()


def kiosk_spends_no_cpu_while_nothing_happens():
    d = Daemon("")
    s = Session(d)
    k = Kiosk(d.port, s.kiosk_code, 80, 24)
    try:
        s.join("Anna")
        k.wait_text("Anna")
        pid = k.pid()
        assert pid, "kiosk pid not found"

        def cpu():
            f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
            return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
        before = cpu()
        time.sleep(3)
        used = cpu() - before
        assert used < 0.15, "%.2f s of CPU in 3 idle seconds" % used
        # An event is on the screen quickly.
        t0 = time.time()
        s.join("Bert")
        k.wait_text("Bert", timeout=5)
        assert time.time() - t0 < 1.0
        k.quit()
    finally:
        k.close()
        s.close()
        d.stop()


if __name__ == "__main__":
    if not shutil.which("tmux"):
        print("skip: tmux not installed")
        raise SystemExit(77)
    run([
        kiosk_shows_a_whole_session_at_80x24,
        kiosk_shows_a_whole_session_at_200x60,
        kiosk_follows_a_resize,
        kiosk_starts_before_the_daemon_and_refuses_an_unknown_code,
        kiosk_rides_out_a_daemon_restart_without_database,
        kiosk_resyncs_after_a_daemon_restart_with_database,
        kiosk_speaks_english_with_lang_c_and_draws_ascii,
        kiosk_counts_down_a_timed_step,
        kiosk_spends_no_cpu_while_nothing_happens,
    ])
