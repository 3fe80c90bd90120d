"""Issue 2: lwkd starts, serves status, reports the database; lwk status
prints it; the daemon keeps serving when PostgreSQL goes away and comes
back; lwk status fails clearly when the daemon is unreachable."""
import os
import signal
import subprocess
import time

from lwktest import LWK, Daemon, Database, PrivatePg, free_port, run, wait_for


def lwk_status(d, *args):
    return subprocess.run([LWK] + list(args) + ["status"], env=d.env(), capture_output=True,
                          text=True, timeout=10)


def lwk_status_reports_database_ok():
    db = Database()
    d = Daemon(db.url)
    try:
        wait_for(lambda: d.status().get("db") == "ok", what="db ok")
        r = lwk_status(d)
        assert r.returncode == 0, r.stderr
        assert "database:  ok" in r.stdout, r.stdout
        assert "lwkd 0.1.0" in r.stdout, r.stdout
        assert "clients:   1" in r.stdout, r.stdout
        # The admin sees connections per role too.
        r = lwk_status(d, "--token", d.admin_token)
        assert r.returncode == 0 and "conn admin" in r.stdout, r.stdout
        # Through the Unix socket as well.
        e = d.env()
        e.pop("LWK_HOST")
        e["LWK_SOCKET"] = d.sock_path
        r = subprocess.run([LWK, "status"], env=e, capture_output=True, text=True, timeout=10)
        assert r.returncode == 0 and "database:  ok" in r.stdout, r.stdout + r.stderr
    finally:
        assert d.stop() == 0, d.logtext()
        db.drop()


def session_new_with_a_database_needs_a_known_team():
    db = Database()
    d = Daemon(db.url)
    try:
        wait_for(lambda: d.status().get("db") == "ok", what="db ok")
        admin = d.client(kind="admin", token=d.admin_token)
        org = admin.request("org.new", name="Zorg Oost")
        assert org["t"] == "ok", org
        unit = admin.request("unit.new", org=org["org"], level="team", name="Team Oost")
        assert unit["t"] == "ok", unit
        f = d.client(kind="facilitator", token=d.admin_token)
        r = f.request("session.new", team="Team Oost")
        assert r["t"] == "error" and r["err"] == 104, r
        r = f.request("session.new", team="Team Oost", unit=unit["unit"] + 1000)
        assert r["t"] == "error" and r["err"] == 301, r
        r = f.request("session.new", team="Team Oost", unit=unit["unit"])
        assert r["t"] == "ok" and r["join_code"], r
        # The session row lands in the database with its team.
        wait_for(lambda: db.psql("SELECT team_id FROM lwk.sessions WHERE id = %d" % r["session"])
                 == str(unit["unit"]), what="session row")
    finally:
        assert d.stop() == 0, d.logtext()
        db.drop()


def finished_session_is_read_back_after_a_restart():
    db = Database()
    d = Daemon(db.url)
    try:
        wait_for(lambda: d.status().get("db") == "ok", what="db ok")
        admin = d.client(kind="admin", token=d.admin_token)
        org = admin.request("org.new", name="Zorg West")
        unit = admin.request("unit.new", org=org["org"], level="team", name="Team West")
        f = d.client(kind="facilitator", token=d.admin_token)
        r = f.request("session.new", team="Team West", unit=unit["unit"])
        assert r["t"] == "ok", r
        sid = r["session"]
        p = d.client(kind="participant", code=r["join_code"], name="Noor")
        assert f.request("end")["t"] == "ok"
        wait_for(lambda: db.psql("SELECT status FROM lwk.sessions WHERE id = %d" % sid) == "closed",
                 what="closed in the database")
        p.close()
    finally:
        assert d.stop() == 0, d.logtext()
    d = Daemon(db.url)
    try:
        wait_for(lambda: d.status().get("db") == "ok", what="db ok")
        f = d.client(kind="facilitator", token=d.admin_token)
        r = f.request("session.open", session=sid)
        assert r["t"] == "ok", r
        snap = f.wait(lambda m: m.get("t") == "snapshot")
        kinds = [e["t"] for e in snap["events"]]
        assert kinds[0] == "session.created" and kinds[-1] == "closed", kinds
        assert any(e["t"] == "joined" and e["name"] == "Noor" for e in snap["events"])
        assert "event=session_loaded" in d.logtext()
        # Someone else's session, or one that never existed, stays not found.
        r = f.request("session.open", session=sid + 1)
        assert r["t"] == "error" and r["err"] == 301, r
    finally:
        assert d.stop() == 0, d.logtext()
        db.drop()


def daemon_keeps_answering_while_database_is_down():
    pg = PrivatePg()
    try:
        db = Database(pg.sock)
        d = Daemon(db.url)
        try:
            wait_for(lambda: d.status().get("db") == "ok", what="db ok")
            pg.stop()
            # Noticed within the health-check interval; the daemon answers throughout.
            wait_for(lambda: d.status().get("db") == "unavailable", timeout=10, what="db unavailable")
            r = lwk_status(d)
            assert r.returncode == 0 and "database:  unavailable" in r.stdout, r.stdout
            pg.start()
            wait_for(lambda: d.status().get("db") == "ok", timeout=20, what="db back")
            assert "event=db_lost" in d.logtext()
        finally:
            assert d.stop() == 0, d.logtext()
    finally:
        pg.destroy()


def daemon_starts_when_database_is_down_from_the_start():
    port = free_port()
    d = Daemon("host=/nonexistent-dir dbname=x user=y")
    try:
        r = d.status()
        assert r["db"] in ("unavailable", "connecting"), r
        r = lwk_status(d)
        assert r.returncode == 0 and "database:  unavailable" in r.stdout, r.stdout
    finally:
        assert d.stop() == 0


def lwk_status_fails_clearly_when_daemon_is_unreachable():
    e = dict(os.environ)
    e["LWK_HOST"] = "127.0.0.1"
    e["LWK_PORT"] = str(free_port())
    r = subprocess.run([LWK, "status"], env=e, capture_output=True, text=True, timeout=10)
    assert r.returncode == 3, r
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "lwkd" in lines[0], r.stderr


def sigterm_stops_the_daemon_cleanly():
    d = Daemon("")
    c = d.client(kind="monitor")
    assert d.stop(signal.SIGTERM) == 0
    # The client was told why before the connection closed.
    m = c.recv_frame(2)
    assert m["t"] == "bye" and m["err"] == 503, m
    assert "event=stopped" in d.logtext()


run([
    lwk_status_reports_database_ok,
    session_new_with_a_database_needs_a_known_team,
    finished_session_is_read_back_after_a_restart,
    daemon_keeps_answering_while_database_is_down,
    daemon_starts_when_database_is_down_from_the_start,
    lwk_status_fails_clearly_when_daemon_is_unreachable,
    sigterm_stops_the_daemon_cleanly,
])
