"""Issue 4: an observer (a trainee facilitator, a visitor) watches only with
the facilitator's consent: asking with the join code puts them on hold until
the facilitator admits or denies them; with the kiosk code (which only the
facilitator hands out) they are in at once. Observers are read-only and see
what the kiosk sees."""
import os
import socket
import subprocess

from lwktest import LWK, Client, Daemon, run

d = None


def session():
    f = d.client(kind="facilitator", token=d.admin_token)
    s = f.request("session.new", team="Team Observer")
    assert s["t"] == "ok", s
    return f, s


def quiet(c, seconds=0.3):
    try:
        m = c.recv_frame(seconds)
        return m
    except socket.timeout:
        return None


def observer_waits_until_the_facilitator_admits():
    f, s = session()
    o = Client(d.port)
    o.send({"t": "hello", "id": 1, "proto": 1, "kind": "observer", "code": s["join_code"],
            "name": "Stagiair Kim"})
    w = f.wait(lambda m: m.get("t") == "observer.waiting")
    assert w["name"] == "Stagiair Kim" and w["session"] == s["session"], w
    # On hold: no welcome and no snapshot yet.
    assert quiet(o) is None
    assert f.request("observer.admit", ticket=w["ticket"])["t"] == "ok"
    welcome = o.recv_frame(3)
    assert welcome["t"] == "welcome" and welcome["kind"] == "observer" and welcome["id"] == 1, welcome
    snap = o.recv_frame(3)
    assert snap["t"] == "snapshot" and snap["session"] == s["session"], snap
    # It follows the session from now on, and it can't change anything.
    assert f.request("next")["t"] == "ok"
    ev = o.recv_frame(3)
    assert ev["t"] == "phase" and ev["phase"] == "score", ev
    o.next_id = 1
    r = o.request("score", item=0, value=7)
    assert r["t"] == "error" and r["err"] == 201, r
    # The same ticket can't be used twice.
    r = f.request("observer.admit", ticket=w["ticket"])
    assert r["t"] == "error" and r["err"] == 301, r


def denied_observer_is_told_and_disconnected():
    f, s = session()
    o = Client(d.port)
    o.send({"t": "hello", "id": 5, "proto": 1, "kind": "observer", "code": s["join_code"],
            "name": "Bezoeker"})
    w = f.wait(lambda m: m.get("t") == "observer.waiting")
    assert f.request("observer.deny", ticket=w["ticket"])["t"] == "ok"
    r = o.recv_frame(3)
    assert r["t"] == "error" and r["err"] == 200 and r["id"] == 5, r
    assert o.closed()


def facilitator_who_reopens_the_session_hears_who_is_waiting():
    f, s = session()
    f.close()
    o = Client(d.port)
    o.send({"t": "hello", "id": 1, "proto": 1, "kind": "observer", "code": s["join_code"],
            "name": "Later"})
    assert quiet(o) is None
    f2 = d.client(kind="facilitator", token=d.admin_token)
    assert f2.request("session.open", session=s["session"])["t"] == "ok"
    w = f2.wait(lambda m: m.get("t") == "observer.waiting")
    assert w["name"] == "Later", w
    assert f2.request("observer.admit", ticket=w["ticket"])["t"] == "ok"
    assert o.recv_frame(3)["t"] == "welcome"


def only_the_sessions_facilitator_answers():
    f, s = session()
    f2, s2 = session()
    o = Client(d.port)
    o.send({"t": "hello", "id": 1, "proto": 1, "kind": "observer", "code": s["join_code"],
            "name": "Kijker"})
    w = f.wait(lambda m: m.get("t") == "observer.waiting")
    # The facilitator of another session doesn't see the ticket.
    r = f2.request("observer.admit", ticket=w["ticket"])
    assert r["t"] == "error" and r["err"] == 301, r
    # A participant can't admit anyone.
    p = d.client(kind="participant", code=s["join_code"], name="Piet")
    r = p.request("observer.admit", ticket=w["ticket"])
    assert r["t"] == "error" and r["err"] == 201, r
    # Without a name there is nobody to show the facilitator.
    o2 = Client(d.port)
    r = o2.request("hello", proto=1, kind="observer", code=s["join_code"])
    assert r["t"] == "error" and r["err"] == 104, r


def console_shows_the_waiting_observer_and_admits_it():
    f, s = session()
    o = Client(d.port)
    o.send({"t": "hello", "id": 1, "proto": 1, "kind": "observer", "code": s["join_code"],
            "name": "Opleider Jan"})
    w = f.wait(lambda m: m.get("t") == "observer.waiting")
    env = dict(d.env(), LWK_TOKEN=d.admin_token, LANG="C.UTF-8", NO_COLOR="1")
    r = subprocess.run([LWK, "console", str(s["session"])], env=env, capture_output=True,
                       text=True, timeout=30, input="admit %d\n" % w["ticket"])
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    assert "Opleider Jan asks to watch as an observer" in r.stdout, r.stdout
    assert o.recv_frame(3)["t"] == "welcome"
    # In Dutch too.
    o2 = Client(d.port)
    o2.send({"t": "hello", "id": 1, "proto": 1, "kind": "observer", "code": s["join_code"],
             "name": "Gast"})
    f.wait(lambda m: m.get("t") == "observer.waiting" and m["name"] == "Gast")
    env["LANG"] = "nl_NL.UTF-8"
    r = subprocess.run([LWK, "console", str(s["session"])], env=env, capture_output=True,
                       text=True, timeout=30, input="deny %d\n" % (w["ticket"] + 1))
    assert "Gast wil als toehoorder meekijken" in r.stdout, r.stdout


def kiosk_code_is_consent_given_in_advance():
    f, s = session()
    o = d.client(kind="observer", code=s["kiosk_code"])
    assert o.recv_frame(3)["t"] == "snapshot"


d = Daemon("")
try:
    run([
        observer_waits_until_the_facilitator_admits,
        denied_observer_is_told_and_disconnected,
        facilitator_who_reopens_the_session_hears_who_is_waiting,
        only_the_sessions_facilitator_answers,
        console_shows_the_waiting_observer_and_admits_it,
        kiosk_code_is_consent_given_in_advance,
    ])
finally:
    d.stop()
