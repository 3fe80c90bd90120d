"""Issue 10: operating lwkd. --check-config, SIGHUP reload with clients
connected, SIGTERM drain, socket activation, the installed tree and the
Debian package."""
import os
import signal
import socket
import subprocess
import tempfile
import time

from lwktest import LWK, LWKD, SRC, Client, Daemon, Database, free_port, run, wait_for


def check_config_prints_effective_settings_with_secrets_masked():
    d = tempfile.mkdtemp()
    conf = os.path.join(d, "lwkd.conf")
    with open(conf, "w") as f:
        f.write("# test\nmax_sessions = 17\nadmin_token = \"very-secret-admin-token\"\n"
                "database = \"host=/tmp dbname=x password=hunter2\"\n")
    env = dict(os.environ, LWKD_MIN_REVEAL="4")
    r = subprocess.run([LWKD, "--config", conf, "--set", "max_themes=9", "--check-config"],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert "max_sessions = 17" in r.stdout
    assert "min_reveal = 4" in r.stdout          # environment
    assert "max_themes = 9" in r.stdout          # flag
    assert "very-secret" not in r.stdout and "hunter2" not in r.stdout, r.stdout
    # An error names the line.
    with open(conf, "a") as f:
        f.write("no_such_key = 1\n")
    r = subprocess.run([LWKD, "--config", conf, "--check-config"], capture_output=True, text=True)
    assert r.returncode != 0 and ":5:" in r.stderr, r.stderr


def sighup_changes_log_level_and_limit_without_dropping_clients():
    tmp = tempfile.mkdtemp()
    conf = os.path.join(tmp, "lwkd.conf")
    with open(conf, "w") as f:
        f.write("log_level = info\nrate_limit_rps = 50\n")
    d = Daemon("", extra=["--config", conf])
    try:
        clients = [d.client(kind="monitor") for _ in range(3)]
        with open(conf, "w") as f:
            f.write("log_level = debug\nrate_limit_rps = 60\nrate_limit_burst = 100\n")
        d.proc.send_signal(signal.SIGHUP)
        # rate_limit_rps changes; log_level stays debug because the harness
        # sets it by flag, and flags win over the file on reload too.
        wait_for(lambda: "event=reload changed=1" in d.logtext(), what="reload logged")
        for c in clients:
            assert c.request("ping")["t"] == "pong"
        # A broken file is refused and the old settings stay.
        with open(conf, "w") as f:
            f.write("log_level = loud\n")
        d.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "event=reload_failed" in d.logtext(), what="reload_failed")
        for c in clients:
            assert c.request("ping")["t"] == "pong"
    finally:
        assert d.stop() == 0


def socket_activation_hands_the_listener_to_lwkd():
    port = free_port()
    tmp = tempfile.mkdtemp()
    log = open(os.path.join(tmp, "log"), "w")
    p = subprocess.Popen(["systemd-socket-activate", "-l", "127.0.0.1:%d" % port, LWKD,
                          "--listen-tcp", "", "--listen-unix", "",
                          "--set", "spool_path=" + os.path.join(tmp, "spool")],
                         stderr=log, stdout=log)
    try:
        # lwkd starts on the first connection and serves it.
        def connect():
            try:
                return Client(port)
            except OSError:
                return None
        c = wait_for(connect, what="activated socket")
        c.hello(kind="monitor")
        assert c.request("status")["t"] == "ok"
        assert "tcp=activated" in open(os.path.join(tmp, "log")).read()
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(10)


def install_tree_has_binaries_units_config_and_man_pages():
    build = os.path.dirname(os.path.dirname(LWKD))
    dest = tempfile.mkdtemp()
    r = subprocess.run(["cmake", "--install", build, "--prefix", "/usr"], capture_output=True,
                       text=True, env=dict(os.environ, DESTDIR=dest))
    assert r.returncode == 0, r.stderr
    for path in ["usr/bin/lwkd", "usr/bin/lwk", "usr/lib/systemd/system/lwkd.service",
                 "usr/lib/systemd/system/lwkd.socket", "usr/lib/sysusers.d/lwk.conf",
                 "usr/lib/tmpfiles.d/lwk.conf", "etc/lwk/lwkd.conf",
                 "usr/share/man/man8/lwkd.8", "usr/share/man/man5/lwkd.conf.5",
                 "usr/share/lwk/sql/001_core.sql", "usr/share/lwk/lwk-migrate"]:
        assert os.path.exists(os.path.join(dest, path)), path
    assert any(f.endswith(".lwki") for f in os.listdir(os.path.join(dest, "usr/share/lwk/sql/instruments")))


def debian_package_contains_what_an_operator_needs():
    build = os.path.dirname(os.path.dirname(LWKD))
    out = tempfile.mkdtemp()
    r = subprocess.run(["cpack", "-G", "DEB", "-B", out], cwd=build, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    debs = [f for f in os.listdir(out) if f.endswith(".deb")]
    assert len(debs) == 1, os.listdir(out)
    deb = os.path.join(out, debs[0])
    info = subprocess.check_output(["dpkg-deb", "--info", deb], text=True)
    assert "Depends:" in info and "libuv1" in info and "libpq5" in info, info
    assert "postinst" in info
    files = subprocess.check_output(["dpkg-deb", "--contents", deb], text=True)
    for path in ["./usr/bin/lwkd", "./usr/lib/systemd/system/lwkd.service", "./etc/lwk/lwkd.conf",
                 "./usr/share/man/man8/lwkd.8.gz" if "lwkd.8.gz" in files else "./usr/share/man/man8/lwkd.8"]:
        assert path in files, path


def admin_status_shows_roles_rates_and_limits():
    d = Daemon("", extra=["--set", "max_sessions=77"])
    try:
        r = subprocess.run([LWK, "--token", d.admin_token, "status"], env=d.env(),
                           capture_output=True, text=True, timeout=10)
        assert r.returncode == 0, r.stderr
        for want in ("conn admin", "events_per_s", "db_writes_per_s", "limit max_sessions        77",
                     "limit client_queue_bytes"):
            assert want in r.stdout, (want, r.stdout)
        # Without the admin token: no per-role figures or limits.
        r = subprocess.run([LWK, "status"], env=d.env(), capture_output=True, text=True, timeout=10)
        assert "limit" not in r.stdout and "conn " not in r.stdout, r.stdout
    finally:
        assert d.stop() == 0


def logs_hold_no_tokens_codes_or_participant_text():
    d = Daemon("")
    try:
        f = d.client(kind="facilitator", token=d.admin_token)
        s = f.request("session.new", team="Team Privé")
        ps = [d.client(kind="participant", code=s["join_code"], name=n)
              for n in ("Zeldanaam", "Quirijnnaam", "Xandernaam")]
        assert f.request("next")["t"] == "ok"
        for i, p in enumerate(ps):
            assert p.request("score", item=0, value=7 + i)["t"] == "ok"
        assert f.request("reveal")["t"] == "ok"
        assert f.request("next")["t"] == "ok"
        assert f.request("turn.order", mode="join")["t"] == "ok"
        assert f.request("keyword", text="Geheimwoordxyz")["t"] == "ok"
        resume = ps[0].inbox and None
        Client(d.port).send({"t": "hello", "proto": 1, "kind": "participant", "code": "WRONGCODE", "name": "Boefnaam"})
    finally:
        assert d.stop() == 0
    log = d.logtext()
    assert "event=session_opened" in log  # the log is not simply empty
    for secret in (d.admin_token, s["join_code"], s["kiosk_code"], "WRONGCODE", "Zeldanaam",
                   "Quirijnnaam", "Xandernaam", "Boefnaam", "Geheimwoordxyz", "Team Privé"):
        assert secret not in log, secret


def sigterm_with_writes_pending_loses_nothing():
    db = Database()
    d = Daemon(db.url, extra=["--set", "db_batch_delay_ms=2000", "--set", "db_batch_max=100000"])
    try:
        wait_for(lambda: d.status().get("db") == "ok", what="db ok")
        admin = d.client(kind="admin", token=d.admin_token)
        org = admin.request("org.new", name="Zorg Stop")
        unit = admin.request("unit.new", org=org["org"], level="team", name="Team Stop")
        f = d.client(kind="facilitator", token=d.admin_token)
        s = f.request("session.new", team="Team Stop", unit=unit["unit"])
        ps = [d.client(kind="participant", code=s["join_code"], name="P%d" % i) for i in range(3)]
        assert f.request("next")["t"] == "ok"
        for n in range(5):
            for p in ps:
                assert p.request("score", item=0, value=1 + n)["t"] == "ok"
        seq = f.request("resync")["seq"]
        # The batch delay holds these back: they are pending when SIGTERM comes.
        assert int(db.psql("SELECT count(*) FROM lwk.session_events WHERE session_id = %d" % s["session"])) < seq
    finally:
        assert d.stop(signal.SIGTERM) == 0, d.logtext()
    stored = db.psql("SELECT count(*), max(seq) FROM lwk.session_events WHERE session_id = %d" % s["session"])
    db.drop()
    # Everything acknowledged, plus the presence changes of the goodbye, all
    # stored: as many rows as the highest seq, so no gap and no duplicate.
    count, top = map(int, stored.split("|"))
    assert count == top and top >= seq, (stored, seq)


def daemon_shutdown_is_valgrind_clean():
    if subprocess.call(["which", "valgrind"], stdout=subprocess.DEVNULL) != 0:
        print("skip: no valgrind")
        return
    if os.environ.get("LWK_SANITIZED") == "1":
        # AddressSanitizer and valgrind exclude each other; the plain build's
        # pass of the suite runs this check.
        print("skip: lwkd is built with AddressSanitizer")
        return
    port = free_port()
    tmp = tempfile.mkdtemp()
    log = os.path.join(tmp, "vg.log")
    p = subprocess.Popen(["valgrind", "--leak-check=full", "--show-leak-kinds=definite,indirect",
                          "--errors-for-leak-kinds=definite,indirect", "--error-exitcode=9",
                          "--log-file=" + log, LWKD, "--listen-tcp", "127.0.0.1:%d" % port,
                          "--listen-unix", "", "--set", "spool_path=" + os.path.join(tmp, "spool"),
                          "--set", "admin_token=valgrind-admin-token"],
                         stderr=subprocess.DEVNULL)
    try:
        def connect():
            try:
                return Client(port, timeout=20)
            except OSError:
                return None
        f = wait_for(connect, timeout=60, what="lwkd under valgrind")
        f.hello(kind="facilitator", token="valgrind-admin-token")
        s = f.request("session.new", team="Team V")
        p1 = Client(port, timeout=20)
        p1.hello(kind="participant", code=s["join_code"], name="Vera")
        assert f.request("next")["t"] == "ok"
        assert p1.request("score", item=0, value=6)["t"] == "ok"
    finally:
        p.send_signal(signal.SIGTERM)
        rc = p.wait(120)
    assert rc == 0, open(log).read()[-3000:]


run([
    admin_status_shows_roles_rates_and_limits,
    logs_hold_no_tokens_codes_or_participant_text,
    sigterm_with_writes_pending_loses_nothing,
    daemon_shutdown_is_valgrind_clean,
    check_config_prints_effective_settings_with_secrets_masked,
    sighup_changes_log_level_and_limit_without_dropping_clients,
    socket_activation_hands_the_listener_to_lwkd,
    install_tree_has_binaries_units_config_and_man_pages,
    debian_package_contains_what_an_operator_needs,
])
