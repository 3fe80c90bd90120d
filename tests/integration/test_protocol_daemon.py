"""Issue 3: lwkd against hostile and broken clients, as PROTOCOL.md
("Errors", "Handshake") says: garbage, oversize frames, unknown types,
requests before hello, a wrong version, silence, floods. Each gets its
documented error (and is disconnected where the spec says so), while a
well-behaved client connected at the same time keeps getting its answers.
No database needed: lwkd runs with --database "".
"""
import os
import sys

try:
    import msgpack  # noqa: F401
except ImportError:  # a Python without msgpack ahead on PATH: use the system one
    if os.path.exists("/usr/bin/python3") and os.path.realpath(sys.executable) != "/usr/bin/python3":
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    raise

import socket
import struct
import time

import msgpack

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lwktest import Client, Daemon, run  # noqa: E402

MAX_BAD_FRAMES = 8  # PROTOCOL.md: "after more than 8 such frames, closed"


def frame(body):
    return struct.pack(">I", len(body)) + body


class Bystander:
    """A monitor that keeps asking while others misbehave; its answers must
    keep coming, promptly."""

    def __init__(self, d, status=True):
        self.c = d.client(kind="monitor")
        self.status = status
        self.checks = 0

    def check(self):
        start = time.time()
        r = self.c.request("ping")
        assert r["t"] == "pong", r
        if self.status:
            r = self.c.request("status")
            assert r["t"] == "ok" and r["server"].startswith("lwkd"), r
        took = time.time() - start
        assert took < 1.0, "bystander waited %.2fs" % took
        self.checks += 1

    def close(self):
        self.c.close()


def error_of(c, timeout=3.0):
    m = c.recv_frame(timeout)
    assert m["t"] == "error", m
    return m


def with_daemon(extra=(), **kw):
    def wrap(fn):
        def test():
            d = Daemon("", extra=extra, **kw)
            try:
                b = Bystander(d)
                b.check()
                fn(d, b)
                b.check()
                b.close()
            finally:
                rc = d.stop()
            assert rc == 0, d.logtext()
        test.__name__ = fn.__name__
        return test
    return wrap


@with_daemon()
def garbage_body_gets_100_and_repeated_garbage_disconnects(d, b):
    c = d.client(kind="monitor")
    garbage = [b"\xc1", b"\xc1\xc1\xc1", b"\x93\x01\x02\x03", b"\xdd\xff\xff\xff\xff\x00",
               msgpack.packb({"t": "ping", "x": 1}) + b"\xc0", b"\x81\xa1t", b"\xa4ping",
               msgpack.packb({1: 2})]
    assert len(garbage) == MAX_BAD_FRAMES
    for g in garbage:
        c.send_raw(frame(g))
        e = error_of(c)
        assert e["err"] == 100 and "id" not in e, e
        b.check()
    # Still usable after 8 bad frames ...
    r = c.request("ping")
    assert r["t"] == "pong", r
    # ... the 9th is one too many.
    c.send_raw(frame(b"\xc1"))
    assert error_of(c)["err"] == 100
    assert c.closed(), "still connected after %d bad frames" % (MAX_BAD_FRAMES + 1)
    b.check()


@with_daemon()
def garbage_before_hello_gets_100_and_disconnect(d, b):
    c = Client(d.port)
    c.send_raw(frame(b"\xc1garbage"))
    assert error_of(c)["err"] == 100
    assert c.closed()
    b.check()


@with_daemon()
def oversize_length_header_gets_101_and_disconnect(d, b):
    # 4 GiB declared: refused from the prefix alone, before any body arrives.
    c = d.client(kind="monitor")
    c.send_raw(b"\xff\xff\xff\xff")
    e = error_of(c)
    assert e["err"] == 101, e
    assert c.closed()
    b.check()
    # One past the configured limit (65536), before and after hello.
    for said_hello in (False, True):
        c = d.client(kind="monitor") if said_hello else Client(d.port)
        c.send_raw(struct.pack(">I", 65537) + b"\x81\xa1t")
        assert error_of(c)["err"] == 101
        assert c.closed()
        b.check()
    # A zero length is not a frame either.
    c = d.client(kind="monitor")
    c.send_raw(b"\x00\x00\x00\x00")
    assert error_of(c)["err"] == 100
    assert c.closed()


@with_daemon()
def frame_at_the_limit_is_served(d, b):
    c = d.client(kind="monitor")
    msg = {"t": "ping", "id": 77, "pad": ""}
    msg["pad"] = "x" * (65536 - len(msgpack.packb(msg)) - 2)  # str8 -> str16 adds 2 bytes
    body = msgpack.packb(msg)
    assert len(body) == 65536, len(body)
    c.send_raw(frame(body))
    r = c.recv_frame(3)
    assert r == {"t": "pong", "id": 77}, r
    b.check()


@with_daemon()
def unknown_type_gets_102_and_the_connection_stays_usable(d, b):
    c = d.client(kind="monitor")
    c.send({"t": "frobnicate", "id": 9, "x": [1, 2]})
    e = error_of(c)
    assert e["err"] == 102 and e["id"] == 9, e
    b.check()
    r = c.request("ping")
    assert r["t"] == "pong", r
    # A type only the server sends is refused the same way.
    c.send({"t": "welcome", "id": 11, "proto": 1, "server": "me", "kind": "admin"})
    e = error_of(c)
    assert e["err"] == 102 and e["id"] == 11, e
    r = c.request("status")
    assert r["t"] == "ok", r
    # Field errors echo the id too, and do not close.
    c.send({"t": "ping", "id": 12, "x": 1.5})  # unknown key: ignored
    assert c.recv_frame(3) == {"t": "pong", "id": 12}
    c.send({"t": "score", "id": 13, "item": "one", "value": 5})
    e = error_of(c)
    assert e["err"] == 103 and e["id"] == 13, e
    assert c.request("ping")["t"] == "pong"
    b.check()


@with_daemon()
def request_before_hello_gets_108_and_disconnect(d, b):
    c = Client(d.port)
    c.send({"t": "ping", "id": 1})
    e = error_of(c)
    assert e["err"] == 108 and e["id"] == 1, e
    assert c.closed()
    b.check()
    # A second hello on a connection that has one is refused, not fatal.
    c = d.client(kind="monitor")
    c.send({"t": "hello", "id": 2, "proto": 1, "kind": "monitor"})
    e = error_of(c)
    assert e["err"] == 108 and e["id"] == 2, e
    assert c.request("ping")["t"] == "pong"


@with_daemon()
def wrong_protocol_version_gets_107_and_disconnect(d, b):
    for proto in (2, 65535):
        c = Client(d.port)
        c.send({"t": "hello", "id": 3, "proto": proto, "kind": "monitor"})
        e = error_of(c)
        assert e["err"] == 107 and e["id"] == 3, e
        assert c.closed()
        b.check()


@with_daemon(extra=("--set", "handshake_timeout_ms=1000"))
def connection_without_hello_is_closed_after_the_handshake_timeout(d, b):
    c = Client(d.port, timeout=10)
    start = time.time()
    m = c.recv_frame(10)
    took = time.time() - start
    assert m["t"] == "bye" and m["err"] == 403, m
    # handshake_timeout_ms, checked by a once-a-second sweep.
    assert 0.9 <= took <= 3.5, took
    assert c.closed()
    # The bystander (who said hello long ago) is not affected.
    b.check()
    assert "limit=handshake_timeout_ms" in d.logtext()


@with_daemon(extra=("--set", "rate_limit_rps=5", "--set", "rate_limit_burst=5"))
def flooding_client_gets_401_and_others_carry_on(d, b):
    b.status = False  # one request per check: stays under 5 per second
    c = d.client(kind="monitor")
    n = 40
    c.send_raw(b"".join(frame(msgpack.packb({"t": "ping", "id": 100 + i})) for i in range(n)))
    got = {}
    while len(got) < n:
        m = c.recv_frame(5)
        got[m["id"]] = m
    limited = [m for m in got.values() if m["t"] == "error"]
    served = [m for m in got.values() if m["t"] == "pong"]
    assert all(m["err"] == 401 for m in limited), limited
    assert len(served) <= 6 and len(limited) >= n - 6, (len(served), len(limited))
    b.check()
    # Still connected; after a pause it is served again.
    time.sleep(1.0)
    assert c.request("ping")["t"] == "pong"
    for _ in range(3):
        b.check()
        time.sleep(0.3)


@with_daemon()
def abrupt_disconnects_mid_frame_leave_the_daemon_serving(d, b):
    for cut in (b"\x00", b"\x00\x00\x00\x10", b"\x00\x00\x00\x10\x82\xa1t"):
        s = socket.create_connection(("127.0.0.1", d.port))
        s.sendall(cut)
        s.close()
        b.check()
    # Half a frame, then silence, does not hold anyone else up either.
    c = Client(d.port)
    c.send_raw(b"\x00\x00\x01\x00\x81")
    b.check()
    c.close()


run([
    garbage_body_gets_100_and_repeated_garbage_disconnects,
    garbage_before_hello_gets_100_and_disconnect,
    oversize_length_header_gets_101_and_disconnect,
    frame_at_the_limit_is_served,
    unknown_type_gets_102_and_the_connection_stays_usable,
    request_before_hello_gets_108_and_disconnect,
    wrong_protocol_version_gets_107_and_disconnect,
    connection_without_hello_is_closed_after_the_handshake_timeout,
    flooding_client_gets_401_and_others_carry_on,
    abrupt_disconnects_mid_frame_leave_the_daemon_serving,
])
