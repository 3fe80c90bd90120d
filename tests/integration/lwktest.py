"""lwktest: the integration test harness. Real PostgreSQL, real lwkd, real
sockets. The client side speaks the wire protocol with Python's msgpack
(an implementation independent of ours), so every test is also an interop
test of proto/.

Environment (set by CMake/ctest): LWKD, LWK, LWK_KIOSK (binaries),
LWK_SOURCE_DIR, and LWK_TEST_PG_SOCK when scripts/test.sh runs a shared
private cluster (otherwise each test starts its own).
"""
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time
import traceback

import msgpack

SRC = os.environ.get("LWK_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
LWKD = os.environ.get("LWKD", os.path.join(SRC, "build", "daemon", "lwkd"))
LWK = os.environ.get("LWK", os.path.join(SRC, "build", "client", "lwk"))
LWK_KIOSK = os.environ.get("LWK_KIOSK", os.path.join(SRC, "build", "client", "lwk-kiosk"))
SCRIPTS = os.path.join(SRC, "scripts")

_counter = [0]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(pred, timeout=10.0, step=0.05, what="condition"):
    end = time.time() + timeout
    last = None
    while time.time() < end:
        last = pred()
        if last:
            return last
        time.sleep(step)
    raise AssertionError("timed out waiting for %s (last: %r)" % (what, last))


class PrivatePg:
    """A cluster of the test's own (for tests that stop or freeze it)."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="lwk-pg-")
        os.chmod(self.dir, 0o755)
        out = subprocess.check_output([os.path.join(SCRIPTS, "pg.sh"), "start", self.dir], text=True)
        self.sock = dict(kv.split("=", 1) for kv in out.split())["LWK_PG_SOCK"]

    def stop(self):
        subprocess.call([os.path.join(SCRIPTS, "pg.sh"), "stop", self.dir])

    def start(self):
        subprocess.check_output([os.path.join(SCRIPTS, "pg.sh"), "start", self.dir])

    def postmaster_pid(self):
        for base in (os.path.join(self.dir, "data"),):
            p = os.path.join(base, "postmaster.pid")
            if os.path.exists(p):
                return int(open(p).readline())
        out = subprocess.check_output(["bash", "-c", "ls /var/tmp/lwkpg-*/data/postmaster.pid 2>/dev/null || true"], text=True)
        raise AssertionError("no postmaster.pid")

    def destroy(self):
        subprocess.call([os.path.join(SCRIPTS, "pg.sh"), "kill", self.dir], stderr=subprocess.DEVNULL)
        subprocess.call(["rm", "-rf", self.dir])


class Database:
    """A fresh database, migrated, with the daemon's login role."""

    def __init__(self, sock=None):
        self.own = None
        if sock is None:
            sock = os.environ.get("LWK_TEST_PG_SOCK")
        if not sock:
            self.own = PrivatePg()
            sock = self.own.sock
        self.sock = sock
        _counter[0] += 1
        self.name = "lwk_t_%d_%d" % (os.getpid(), _counter[0])
        subprocess.check_call([os.path.join(SCRIPTS, "dbsetup.sh"), sock, self.name])
        self.url = "host=%s dbname=%s user=lwkd" % (sock, self.name)

    def psql(self, sql, user="postgres"):
        out = subprocess.check_output(
            ["psql", "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-h", self.sock, "-U", user,
             "-d", self.name, "-c", sql], text=True)
        return out.strip()

    def drop(self):
        if self.own:
            self.own.destroy()
            return
        subprocess.call(["psql", "-X", "-q", "-h", self.sock, "-U", "postgres", "-d", "postgres",
                         "-c", 'DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % self.name],
                        stderr=subprocess.DEVNULL)


class Daemon:
    def __init__(self, database_url="", admin_token="admin-secret-token", extra=(), env=None):
        self.port = free_port()
        self.tmp = tempfile.mkdtemp(prefix="lwkd-")
        self.sock_path = os.path.join(self.tmp, "lwkd.sock")
        self.admin_token = admin_token
        self.log_path = os.path.join(self.tmp, "lwkd.log")
        e = dict(os.environ)
        e["LWKD_ADMIN_TOKEN"] = admin_token
        if env:
            e.update(env)
        args = [LWKD, "--listen-tcp", "127.0.0.1:%d" % self.port, "--listen-unix", self.sock_path,
                "--database", database_url, "--set", "spool_path=" + os.path.join(self.tmp, "spool"),
                "--log-level", "debug"] + list(extra)
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(args, stderr=self.log, stdout=subprocess.DEVNULL, env=e)
        wait_for(lambda: "event=listening tcp" in self.logtext() or self.proc.poll() is not None,
                 what="lwkd to listen")
        if self.proc.poll() is not None:
            raise AssertionError("lwkd exited: " + self.logtext())

    def logtext(self):
        with open(self.log_path) as f:
            return f.read()

    def env(self):
        e = dict(os.environ)
        e.pop("LWK_SOCKET", None)
        e["LWK_HOST"] = "127.0.0.1"
        e["LWK_PORT"] = str(self.port)
        e["XDG_CONFIG_HOME"] = self.tmp
        return e

    def stop(self, sig=15, timeout=15):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("lwkd did not stop within %ss" % timeout)
        self.log.close()
        return self.proc.returncode

    def client(self, **hello):
        c = Client(self.port)
        if hello:
            c.hello(**hello)
        return c

    def status(self):
        c = self.client(kind="monitor")
        r = c.request("status")
        c.close()
        return r


class Client:
    """A protocol client built on Python's msgpack, written from PROTOCOL.md."""

    def __init__(self, port=None, unix=None, timeout=5.0):
        if unix:
            self.s = socket.socket(socket.AF_UNIX)
            self.s.connect(unix)
        else:
            self.s = socket.create_connection(("127.0.0.1", port))
        self.s.settimeout(timeout)
        self.buf = b""
        self.next_id = 0
        self.events = []     # every event received, in order
        self.received = b""  # every byte received (for blindness checks)
        self.inbox = []      # non-event messages not yet taken

    def send_raw(self, data):
        self.s.sendall(data)

    def send(self, msg):
        body = msgpack.packb(msg, use_bin_type=True)
        self.s.sendall(struct.pack(">I", len(body)) + body)

    def recv_frame(self, timeout=None):
        if timeout is not None:
            self.s.settimeout(timeout)
        while True:
            if len(self.buf) >= 4:
                n = struct.unpack(">I", self.buf[:4])[0]
                if len(self.buf) >= 4 + n:
                    body = self.buf[4:4 + n]
                    self.buf = self.buf[4 + n:]
                    return msgpack.unpackb(body, raw=False, strict_map_key=False)
            data = self.s.recv(65536)
            if not data:
                raise EOFError("connection closed")
            self.received += data
            self.buf += data

    def recv(self, timeout=None):
        m = self.recv_frame(timeout)
        if "seq" in m and m.get("t") not in ("snapshot", "ok"):
            self.events.append(m)
        elif m.get("t") == "snapshot":
            self.events.extend(e for e in m["events"] if e["seq"] > (self.events[-1]["seq"] if self.events else 0))
        return m

    def wait(self, pred, timeout=5.0):
        for i, m in enumerate(self.inbox):
            if pred(m):
                return self.inbox.pop(i)
        end = time.time() + timeout
        while True:
            left = end - time.time()
            if left <= 0:
                raise AssertionError("timed out waiting for a message")
            m = self.recv(left)
            if pred(m):
                return m
            if "seq" not in m or m.get("t") in ("snapshot", "ok"):
                self.inbox.append(m)

    def request(self, t, **fields):
        self.next_id += 1
        msg = {"t": t, "id": self.next_id}
        msg.update(fields)
        self.send(msg)
        rid = self.next_id
        return self.wait(lambda m: m.get("id") == rid and m.get("t") in ("ok", "error", "pong", "welcome", "snapshot"))

    def hello(self, **fields):
        fields.setdefault("proto", 1)
        r = self.request("hello", **fields)
        assert r["t"] == "welcome", r
        return r

    def drain_events(self, quiet=0.2):
        try:
            while True:
                self.recv(quiet)
        except socket.timeout:
            pass

    def closed(self, timeout=3.0):
        """True when the server closes the connection within timeout."""
        end = time.time() + timeout
        try:
            while time.time() < end:
                self.recv(max(0.01, end - time.time()))
        except (EOFError, ConnectionResetError):
            return True
        except socket.timeout:
            return False
        return False

    def close(self):
        self.s.close()


def run(tests):
    """Runs test functions in order; prints one line each and the summary."""
    passed = failed = 0
    for t in tests:
        start = time.time()
        try:
            t()
            passed += 1
            print("ok   %s (%.1fs)" % (t.__name__, time.time() - start), flush=True)
        except Exception:
            failed += 1
            print("FAIL %s" % t.__name__, flush=True)
            traceback.print_exc()
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)
