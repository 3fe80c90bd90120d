"""Issue 4: live LWK sessions against a real lwkd over real sockets.

A whole LWK-meting from lobby to closed with a facilitator, five
participants and a kiosk; blind scoring down to the bytes on the wire;
every refusal (role, step, range, unknown) leaving the session untouched;
two sessions side by side that never leak into each other; a client that
stops reading cut off at client_queue_bytes while the others keep their
pace; disconnect and resume; join, name, participant and session limits.

No database: lwkd runs with --database "". Every member's stream is checked
the same way: the snapshot it got on joining plus every event pushed to it
after is seq 1, 2, 3 ... without gap or repeat, and equals what the server
answers to a resync from 0.
"""
import os
import sys

try:
    import msgpack  # noqa: F401
except ImportError:  # a Python without msgpack ahead on PATH: use the system one
    if os.path.exists("/usr/bin/python3") and os.path.realpath(sys.executable) != "/usr/bin/python3":
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    raise

import re
import select
import socket
import struct
import time

import msgpack

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lwktest import Client, Daemon, run  # noqa: E402

# Tests send requests much faster than people do: lift the per-connection
# request rate limit wherever it is not what the test is about.
FAST = ["--set", "rate_limit_rps=100000", "--set", "rate_limit_burst=1000000"]

ERR_OUT_OF_RANGE = 105
ERR_BAD_CREDENTIALS = 200
ERR_WRONG_ROLE = 201
ERR_NAME_TAKEN = 202
ERR_WRONG_PHASE = 300
ERR_NOT_FOUND = 301
ERR_CONFLICT = 302
ERR_CLOSED = 304
ERR_PAUSED = 305
ERR_LIMIT = 400
ERR_RATE_LIMITED = 401

MAX_BAD_FRAMES = 8  # PROTOCOL.md: more undecodable frames than this close the connection


# ---- members: clients that keep everything they were sent -----------------------------

class Member(Client):
    """A client that records, besides Client.events and Client.received, every
    snapshot and every pushed event frame in the order they arrived."""

    def __init__(self, port, label, rcvbuf=None, unix=None):
        self.port = port
        if rcvbuf is None:
            Client.__init__(self, port, unix=unix)
        else:
            # The receive buffer must be small before connecting (it sets the
            # window); Client connects in its constructor, so do what it does.
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            s.connect(("127.0.0.1", port))
            s.settimeout(5.0)
            self.s = s
            self.buf = b""
            self.next_id = 0
            self.events = []
            self.inbox = []
        # Appended to in place: a stream of megabytes stays linear to keep.
        self.received = bytearray()
        self.label = label
        self.snapshots = []  # snapshot replies, in order
        self.live = []       # pushed events, in order
        self.pid = None
        self.resume = None

    def recv(self, timeout=None):
        m = Client.recv(self, timeout)
        if m.get("t") == "snapshot":
            self.snapshots.append(m)
        elif "seq" in m and m.get("t") != "ok":
            self.live.append(m)
        return m

    def reconnect(self):
        """A new connection for the same client (it has to say hello again)."""
        self.s.close()
        self.s = socket.create_connection(("127.0.0.1", self.port))
        self.s.settimeout(5.0)
        self.buf = b""

    def history(self):
        """The events as this member knows them: its first snapshot, then pushes."""
        assert self.snapshots, "%s got no snapshot" % self.label
        return list(self.snapshots[0]["events"]) + self.live

    def sync(self):
        """A round trip: every event pushed before it has arrived after it."""
        r = self.request("ping")
        assert r["t"] == "pong", (self.label, r)

    def last_seq(self):
        return self.events[-1]["seq"] if self.events else 0

    def __repr__(self):
        return self.label


def ok(c, t, **fields):
    r = c.request(t, **fields)
    assert r["t"] == "ok", "%s %s %r -> %r" % (c.label, t, fields, r)
    return r


def event(c, seq, t):
    """The event seq that c has received (events come before the reply to their request)."""
    for e in reversed(c.events):
        if e["seq"] == seq:
            assert e["t"] == t, (c.label, e, t)
            return e
    return c.wait(lambda m: m.get("seq") == seq and m.get("t") == t)


def refused(c, code, t, **fields):
    r = c.request(t, **fields)
    assert r["t"] == "error" and r["err"] == code, \
        "%s %s %r: expected error %d, got %r" % (c.label, t, fields, code, r)
    return r


def facilitator(d, label="F"):
    f = Member(d.port, label)
    f.hello(kind="facilitator", token=d.admin_token)
    return f


def new_session(f, team, **fields):
    r = ok(f, "session.new", team=team, **fields)
    f.wait(lambda m: m.get("t") == "snapshot")
    return r


def participant(d, code, name):
    p = Member(d.port, name)
    w = p.hello(kind="participant", code=code, name=name)
    p.pid, p.resume = w["pid"], w["resume"]
    p.wait(lambda m: m.get("t") == "snapshot")
    return p


def kiosk(d, code, label="K"):
    k = Member(d.port, label)
    k.hello(kind="kiosk", code=code)
    k.wait(lambda m: m.get("t") == "snapshot")
    return k


def sync_all(members):
    for m in members:
        m.sync()


def check_stream(m, final_seq=None):
    """m's events are 1..n without gap or repeat and equal a resync from 0."""
    h = m.history()
    seqs = [e["seq"] for e in h]
    assert seqs == list(range(1, len(seqs) + 1)), "%s: seqs %r" % (m.label, seqs)
    if final_seq is not None:
        assert seqs[-1] == final_seq, (m.label, seqs[-1], final_seq)
    snap = m.request("resync")
    assert snap["t"] == "snapshot", (m.label, snap)
    assert snap["seq"] == seqs[-1], (m.label, snap["seq"], seqs[-1])
    assert snap["events"] == h, "%s: stream differs from its snapshot" % m.label
    return h


# Fields of an event that only one member may see (PROTOCOL.md "Blind scoring").
PRIVATE = {"scored": {"value"}, "voted": {"theme", "delta"}, "joined": {"resume"},
           "session.created": {"kiosk_code", "name"}}


def public(e):
    hidden = PRIVATE.get(e["t"], ())
    return {k: v for k, v in e.items() if k not in hidden}


def check_same_events(members):
    """Every member has the same events, identical but for the fields that
    only one member may see (own score, own vote, own resume token, the
    facilitator's session.created)."""
    hs = {m.label: m.history() for m in members}
    first = members[0]
    for m in members[1:]:
        a, b = hs[first.label], hs[m.label]
        assert len(a) == len(b), (first.label, m.label, len(a), len(b))
        for x, y in zip(a, b):
            assert public(x) == public(y), (first.label, m.label, x, y)


def pairs(values):
    return dict(zip(values[0::2], values[1::2]))


# ---- a view rebuilt from events (what a kiosk shows) -------------------------------------

ACTION_FIELDS = ("text", "owner", "role", "where", "deadline", "feedback", "resources", "item",
                 "theme")


def view(events):
    v = {"phase": None, "item": None, "round": None, "participants": {}, "removed": set(),
         "revealed": {}, "turns": None, "keywords": {}, "themes": {}, "vote_open": False,
         "vote_totals": None, "proposals": {}, "desired": {}, "actions": {}, "date": None,
         "look_ahead": {}, "summary": None, "reactions": {}, "evaluations": {},
         "paused": False, "closed": False}
    for e in events:
        t = e["t"]
        if t == "session.created":
            v.update(session=e["session"], team=e["team"], phase="lobby")
        elif t == "joined":
            v["participants"][e["pid"]] = e["name"]
        elif t == "removed":
            v["removed"].add(e["pid"])
        elif t == "phase":
            v.update(phase=e["phase"], item=e.get("item"), round=e.get("round"))
        elif t == "round":
            v.update(phase="score", item=e["item"], round=e["round"])
        elif t == "revealed":
            v["revealed"][(e["item"], e["round"])] = pairs(e["values"])
        elif t == "turns":
            v["turns"] = {"order": e["order"], "current": e["current"], "passed": []}
        elif t == "turn":
            if e.get("pass"):
                v["turns"]["passed"].append(v["turns"]["order"][v["turns"]["current"]])
            v["turns"]["current"] = e["current"]
        elif t == "keyword.added":
            v["keywords"][e["kid"]] = (e["pid"], e["item"], e["text"])
        elif t == "keyword.removed":
            v["keywords"].pop(e["kid"], None)
        elif t == "theme.added":
            v["themes"][e["theme"]] = {"text": e["text"], "items": e.get("items", []),
                                       "into": None, "deleted": False}
        elif t == "theme.edited":
            v["themes"][e["theme"]].update(text=e["text"], items=e.get("items", []))
        elif t == "theme.merged":
            v["themes"][e["theme"]]["into"] = e["into"]
        elif t == "theme.deleted":
            v["themes"][e["theme"]]["deleted"] = True
        elif t == "vote.opened":
            v["vote_open"] = True
        elif t == "vote.closed":
            v.update(vote_open=False, vote_totals=pairs(e["values"]))
        elif t == "desired.proposed":
            v["proposals"][(e["pid"], e["item"])] = e["value"]
        elif t == "desired.agreed":
            v["desired"][e["item"]] = e.get("value")
        elif t == "action.added":
            a = {k: e.get(k) for k in ACTION_FIELDS}
            a.update(confirmed=e["confirmed"], pid=e.get("pid"), removed=False)
            v["actions"][e["action"]] = a
        elif t == "action.edited":
            v["actions"][e["action"]].update({k: e.get(k) for k in ACTION_FIELDS})
        elif t == "action.confirmed":
            v["actions"][e["action"]]["confirmed"] = e["confirmed"]
        elif t == "action.removed":
            v["actions"][e["action"]]["removed"] = True
        elif t == "lookahead.date.set":
            v["date"] = e.get("date")
        elif t == "lookahead.added":
            v["look_ahead"][e["kid"]] = e["text"]
        elif t == "lookahead.removed":
            v["look_ahead"].pop(e["kid"], None)
        elif t == "summary.set":
            v["summary"] = e.get("text")
        elif t == "reaction.added":
            v["reactions"][e["kid"]] = (e["pid"], e["text"])
        elif t == "evaluation.added":
            v["evaluations"][e["pid"]] = (e["rating"], e.get("text"))
        elif t == "paused":
            v["paused"] = e["online"]
        elif t == "closed":
            v.update(phase="closed", closed=True)
    return v


def frames(raw):
    """Decodes a byte stream as the server sent it: length-prefixed MessagePack maps."""
    out, i = [], 0
    while i + 4 <= len(raw):
        n = struct.unpack(">I", raw[i:i + 4])[0]
        if i + 4 + n > len(raw):
            break
        out.append(msgpack.unpackb(raw[i + 4:i + 4 + n], raw=False, strict_map_key=False))
        i += 4 + n
    return out


def events_in(raw):
    """Every event a byte stream carries, pushed or inside a snapshot."""
    for m in frames(raw):
        if m.get("t") == "snapshot":
            for e in m["events"]:
                yield e
        elif "seq" in m and m.get("t") != "ok":
            yield m


# ---- a complete LWK-meting ---------------------------------------------------------------

# Scores per item (rows) for participants 1..5 (columns); item 1 is scored twice.
SCORES = [[6, 7, 5, 8, 6], [4, 5, 5, 3, 6], [7, 7, 8, 6, 7], [5, 6, 4, 6, 5]]
RESCORES_ITEM1 = [5, 6, 6, 5, 6]
NAMES = ["Anouk", "Bas", "Chantal", "Dewi", "Emre"]


def explain_round(f, ps, item):
    """Turns in join order: speakers record keywords, one passes, the
    facilitator records one on someone's behalf and moves the turn on."""
    r = ok(f, "turn.order", mode="join")
    turns = event(f, r["seq"], "turns")
    assert turns["order"] == [p.pid for p in ps] and turns["current"] == 0, turns
    expected = []
    for i, p in enumerate(ps):
        if i == 1:
            ok(p, "turn.pass")  # the speaker passes their own turn
            continue
        if i == 3:
            text = "%s (genoteerd): item %d" % (p.label, item)
            ok(f, "keyword", text=text, **{"for": p.pid})
        else:
            text = "%s over item %d" % (p.label, item)
            ok(p, "keyword", text=text)
        expected.append((p.pid, item, text))
        ok(f, "turn.next")
    refused(f, ERR_CONFLICT, "turn.next")  # everyone has spoken
    return expected


def complete_session_every_member_sees_the_same_stream():
    d = Daemon("", extra=FAST)
    try:
        f = facilitator(d)
        r = new_session(f, "Team Dahlia, afdeling Zonnebloem")
        sid, join_code, kiosk_code = r["session"], r["join_code"], r["kiosk_code"]
        assert f.snapshots[0]["session"] == sid

        # Lobby: five participants and the kiosk join.
        ps = [participant(d, join_code, n) for n in NAMES]
        assert [p.pid for p in ps] == [1, 2, 3, 4, 5]
        k = kiosk(d, kiosk_code)
        everyone = [f, k] + ps
        sync_all(everyone)
        assert view(k.history())["participants"] == {i + 1: n for i, n in enumerate(NAMES)}

        keywords = []
        for item in range(4):
            r = ok(f, "next")
            ev = event(f, r["seq"], "phase")
            assert (ev["phase"], ev["item"], ev["round"]) == ("score", item, 1), ev
            for p, value in zip(ps, SCORES[item]):
                ok(p, "score", item=item, value=value)
            refused(f, ERR_CONFLICT, "next")  # not revealed yet
            r = ok(f, "reveal")
            ev = event(f, r["seq"], "revealed")
            assert pairs(ev["values"]) == {p.pid: v for p, v in zip(ps, SCORES[item])}, ev
            r = ok(f, "next")
            ev = event(f, r["seq"], "phase")
            assert (ev["phase"], ev["item"]) == ("explain", item), ev
            keywords += explain_round(f, ps, item)
            if item == 1:
                # The re-score: a second blind round of the same item.
                r = ok(f, "rescore")
                ev = event(f, r["seq"], "round")
                assert (ev["item"], ev["round"]) == (1, 2), ev
                for p, value in zip(ps, RESCORES_ITEM1):
                    ok(p, "score", item=1, value=value)
                ok(f, "reveal")
                r = ok(f, "next")
                ev = event(f, r["seq"], "phase")
                assert (ev["phase"], ev["item"], ev["round"]) == ("explain", 1, 2), ev
                keywords += explain_round(f, ps, 1)

        # Themes: add, edit, merge, vote.
        r = ok(f, "next")
        assert event(f, r["seq"], "phase")["phase"] == "themes"
        t1 = ok(ps[0], "theme.add", text="Inwerken nieuwe collega's", items=[0])["theme"]
        t2 = ok(ps[1], "theme.add", text="Tijd voor begeleiding", items=[0, 2])["theme"]
        t3 = ok(f, "theme.add", text="Samen leren van incidenten", items=[3])["theme"]
        t4 = ok(ps[2], "theme.add", text="Begeleidingstijd")["theme"]
        assert [t1, t2, t3, t4] == [1, 2, 3, 4]
        ok(f, "theme.edit", theme=t1, text="Inwerken van nieuwe collega's en studenten", items=[1, 0])
        ok(f, "theme.merge", theme=t4, into=t2)
        ok(f, "vote.open", budget=3)
        for p, theme, delta in [(0, t1, 1), (0, t2, 1), (1, t2, 1), (1, t2, 1), (2, t3, 1),
                                (2, t3, -1), (2, t1, 1), (3, t2, 1), (4, t1, 1)]:
            ok(ps[p], "vote", theme=theme, delta=delta)
        r = ok(f, "vote.close")
        ev = event(f, r["seq"], "vote.closed")
        assert pairs(ev["values"]) == {t1: 3, t2: 4, t3: 0}, ev

        # Desired scores: proposals, then what the group agrees.
        ok(f, "next")
        ok(ps[0], "desired.propose", item=0, value=7)
        ok(ps[1], "desired.propose", item=0, value=8)
        ok(ps[4], "desired.propose", item=3, value=8)
        desired = {0: 8, 1: 7, 2: 8, 3: 7}
        for item, value in desired.items():
            ok(f, "desired.set", item=item, value=value if item != 3 else 9)
        ok(f, "desired.set", item=3, value=7)  # changed its mind

        # Actions: propose, confirm, edit, remove.
        ok(f, "next")
        a1 = ok(ps[0], "action.propose", text="Buddy voor elke nieuwe collega", owner="Anouk",
                deadline="2026-03-01", item=0, theme=t1)["action"]
        a2 = ok(f, "action.propose", text="Intervisie elke maand", owner="teamleider",
                role="voorzitter", where="teamoverleg", deadline="2026-02-15",
                feedback="in het teamoverleg", resources="een uur per maand", item=3,
                theme=t3)["action"]
        a3 = ok(ps[3], "action.propose", text="Een idee dat het niet haalt")["action"]
        ok(f, "action.confirm", action=a1)
        ok(f, "action.edit", action=a2, owner="Bas", deadline="2026-02-28")
        ok(f, "action.remove", action=a3)

        # Look ahead, summary and look back, end.
        ok(f, "next")
        ok(f, "lookahead.date", date="2026-06-01")
        ok(f, "lookahead.add", text="Terugkomen in het teamoverleg van maart")
        ok(f, "lookahead.add", text="Vermogens in het inwerkprogramma")
        ok(f, "next")
        summary = "Sterk in verbinding, zorg om begeleidingstijd; twee acties."
        ok(f, "summary", text=summary)
        ok(ps[1], "reaction", text="Herkenbaar, vooral de tijd")
        ok(ps[4], "reaction", text="Fijn dat het inwerken terugkomt")
        for p, rating in zip(ps, [4, 5, 3, 4, 5]):
            ok(p, "evaluation", rating=rating, **({"text": "goed gesprek"} if rating == 5 else {}))
        refused(f, ERR_WRONG_PHASE, "next")  # only end closes
        r = ok(f, "end")
        final = r["seq"]
        refused(f, ERR_CLOSED, "next")
        sync_all(everyone)

        # Every member: 1..final, no gap, no repeat, equal to its snapshot.
        for m in everyone:
            h = check_stream(m, final)
            assert h[-1]["t"] == "closed"
            assert all(s["session"] == sid for s in m.snapshots), m.label
        check_same_events(everyone)

        # What the facilitator alone sees; what each participant alone sees.
        created = {m.label: m.history()[0] for m in everyone}
        assert created["F"]["kiosk_code"] == kiosk_code and created["F"]["name"] == "admin"
        for m in everyone[1:]:
            assert "kiosk_code" not in created[m.label] and "name" not in created[m.label]
        for p in ps:
            for e in p.history():
                if e["t"] == "scored":
                    assert ("value" in e) == (e["pid"] == p.pid), (p.label, e)
                if e["t"] == "voted":
                    assert ("theme" in e) == (e["pid"] == p.pid), (p.label, e)
                if e["t"] == "joined":
                    assert ("resume" in e) == (e["pid"] == p.pid), (p.label, e)
        for m in (f, k):
            for e in m.history():
                assert e["t"] not in ("scored", "voted", "joined") or \
                    not ({"value", "theme", "delta", "resume"} & set(e)), (m.label, e)

        # The kiosk's view, rebuilt from its events, is the session's outcome.
        v = view(k.history())
        assert all(view(m.history()) == v for m in everyone), "views differ"
        assert v["closed"] and v["phase"] == "closed"
        for item in range(4):
            assert v["revealed"][(item, 1)] == {i + 1: s for i, s in enumerate(SCORES[item])}
        assert v["revealed"][(1, 2)] == {i + 1: s for i, s in enumerate(RESCORES_ITEM1)}
        assert len(v["revealed"]) == 5
        assert sorted(v["keywords"].values()) == sorted(keywords), v["keywords"]
        assert {i: (t["text"], sorted(t["items"]), t["into"]) for i, t in v["themes"].items()} == {
            1: ("Inwerken van nieuwe collega's en studenten", [0, 1], None),
            2: ("Tijd voor begeleiding", [0, 2], None),
            3: ("Samen leren van incidenten", [3], None),
            4: ("Begeleidingstijd", [], 2)}, v["themes"]
        assert v["vote_totals"] == {1: 3, 2: 4, 3: 0}
        assert v["proposals"] == {(1, 0): 7, (2, 0): 8, (5, 3): 8}
        assert v["desired"] == desired, v["desired"]
        assert v["actions"] == {
            1: dict(text="Buddy voor elke nieuwe collega", owner="Anouk", role=None, where=None,
                    deadline="2026-03-01", feedback=None, resources=None, item=0, theme=1,
                    confirmed=True, pid=1, removed=False),
            2: dict(text="Intervisie elke maand", owner="Bas", role="voorzitter",
                    where="teamoverleg", deadline="2026-02-28", feedback="in het teamoverleg",
                    resources="een uur per maand", item=3, theme=3, confirmed=True, pid=None,
                    removed=False),
            3: dict(text="Een idee dat het niet haalt", owner=None, role=None, where=None,
                    deadline=None, feedback=None, resources=None, item=None, theme=None,
                    confirmed=False, pid=4, removed=True)}, v["actions"]
        assert v["date"] == "2026-06-01"
        assert list(v["look_ahead"].values()) == ["Terugkomen in het teamoverleg van maart",
                                                  "Vermogens in het inwerkprogramma"]
        assert v["summary"] == summary
        assert v["reactions"] == {1: (2, "Herkenbaar, vooral de tijd"),
                                  2: (5, "Fijn dat het inwerken terugkomt")}
        assert v["evaluations"] == {1: (4, None), 2: (5, "goed gesprek"), 3: (3, None),
                                    4: (4, None), 5: (5, "goed gesprek")}
    finally:
        assert d.stop() == 0, d.logtext()


# ---- blind scoring, down to the bytes ------------------------------------------------------

def value_bytes(v):
    """A scored event's "value" key and its value as our codec writes them
    (fixstr "value", positive fixint)."""
    return b"\xa5value" + bytes([v])


def check_blind(members, own_values, since):
    """Nothing member m was sent from offset since[m] on holds a score value
    of another participant: not in a decoded scored event or snapshot, and
    not as raw bytes. own_values: {participant member: [values it gave]}."""
    for m in members:
        raw = m.received[since.get(m.label, 0):]
        mine = getattr(m, "pid", None)
        seen = 0
        for e in events_in(raw):
            assert e["t"] != "revealed", (m.label, "revealed already")
            if e["t"] == "scored":
                seen += 1
                if e["pid"] != mine:
                    assert "value" not in e, (m.label, e)
        assert seen > 0, m.label
        for p, values in own_values.items():
            for v in values:
                if p is m:
                    assert value_bytes(v) in raw, (m.label, v)  # the check can see a value
                else:
                    assert value_bytes(v) not in raw, (m.label, "sees", p.label, v)


def blind_round_sends_no_values_before_reveal():
    d = Daemon("", extra=FAST)
    try:
        f = facilitator(d)
        r = new_session(f, "Team Blind")
        ps = [participant(d, r["join_code"], n) for n in NAMES[:4]]
        k = kiosk(d, r["kiosk_code"])
        ok(f, "next")
        # Distinct values per participant; the first changes its mind; the
        # facilitator types the fourth one's score for them (scribe).
        ok(ps[0], "score", item=0, value=1)
        ok(ps[1], "score", item=0, value=5)
        ok(ps[0], "score", item=0, value=3)
        ok(ps[2], "score", item=0, value=7)
        ok(f, "score", item=0, value=9, **{"for": ps[3].pid})
        # Joining mid-round: snapshots of a blind round.
        late = participant(d, r["join_code"], NAMES[4])
        ok(late, "score", item=0, value=10)
        k2 = kiosk(d, r["kiosk_code"], "K2")
        for m in (ps[1], k, late):
            assert m.request("resync")["t"] == "snapshot"
        members = [f, k, k2, late] + ps
        sync_all(members)
        given = {ps[0]: [1, 3], ps[1]: [5], ps[2]: [7], ps[3]: [9], late: [10]}
        check_blind(members, given, {})

        # The reveal shows every value to everyone.
        r2 = ok(f, "reveal")
        sync_all(members)
        want = {ps[0].pid: 3, ps[1].pid: 5, ps[2].pid: 7, ps[3].pid: 9, late.pid: 10}
        for m in members:
            assert pairs(event(m, r2["seq"], "revealed")["values"]) == want, m.label

        # A second blind round of the same item: blind again.
        ok(f, "next")
        sync_all(members)  # every stream ends at a frame boundary: the pong
        since = {m.label: len(m.received) for m in members}
        ok(f, "rescore")
        for p, v in zip(ps + [late], [2, 4, 6, 8, 10]):
            ok(p, "score", item=0, value=v)
        ok(ps[1], "score", item=0, value=1)
        assert k.request("resync", since=r2["seq"])["t"] == "snapshot"
        sync_all(members)
        given = {ps[0]: [2], ps[1]: [4, 1], ps[2]: [6], ps[3]: [8], late: [10]}
        check_blind(members, given, since)
        r3 = ok(f, "reveal")
        sync_all(members)
        assert pairs(event(k2, r3["seq"], "revealed")["values"]) == \
            {1: 2, 2: 1, 3: 6, 4: 8, 5: 10}
        for m in members:
            check_stream(m, r3["seq"])
    finally:
        assert d.stop() == 0, d.logtext()


# ---- refusals: table-driven over every session request -------------------------------------

OPEN = {"review", "lobby", "score", "explain", "themes", "desired", "actions", "look_ahead", "summary"}
AFTER_LOBBY = OPEN - {"review", "lobby"}
THEMES_ON = {"themes", "desired", "actions"}
REVIEWING = {"actions", "look_ahead", "summary"}
SESSION_CMD = None  # session.new/list/open: facilitators, no step

# Request type -> (who may send it: F facilitator, P participant; steps; valid fields).
REQUESTS = {
    "session.new": ("F", SESSION_CMD, {"team": "Team Nieuw"}),
    "session.list": ("F", SESSION_CMD, {}),
    "session.open": ("F", SESSION_CMD, {"session": 1}),
    "next": ("F", OPEN, {}),
    "back": ("F", AFTER_LOBBY, {}),
    "reveal": ("F", {"score"}, {}),
    "rescore": ("F", AFTER_LOBBY, {"item": 0}),
    "turn.order": ("F", {"explain"}, {"mode": "join"}),
    "turn.next": ("F", {"explain"}, {}),
    "turn.pass": ("FP", {"explain"}, {}),
    "pause": ("F", OPEN, {}),
    "resume": ("F", OPEN, {}),
    "undo": ("F", OPEN, {}),
    "remove": ("F", OPEN, {"pid": 1}),
    "end": ("F", OPEN, {}),
    "score": ("FP", {"score"}, {"item": 0, "value": 5}),
    "keyword": ("FP", {"explain"}, {"text": "trefwoord"}),
    "theme.add": ("FP", {"themes"}, {"text": "thema"}),
    "theme.edit": ("F", THEMES_ON, {"theme": 1, "text": "anders"}),
    "theme.merge": ("F", THEMES_ON, {"theme": 1, "into": 2}),
    "theme.delete": ("F", THEMES_ON, {"theme": 1}),
    "vote.open": ("F", {"themes"}, {"budget": 3}),
    "vote": ("P", {"themes"}, {"theme": 1, "delta": 1}),
    "vote.close": ("F", {"themes"}, {}),
    "desired.propose": ("P", {"desired"}, {"item": 0, "value": 7}),
    "desired.set": ("F", {"desired"}, {"item": 0, "value": 7}),
    "action.propose": ("FP", {"actions"}, {"text": "actie"}),
    "action.edit": ("F", REVIEWING, {"action": 1, "text": "andere actie"}),
    "action.confirm": ("F", REVIEWING, {"action": 1}),
    "action.remove": ("F", REVIEWING, {"action": 1}),
    "lookahead.date": ("F", {"look_ahead"}, {"date": "2026-01-31"}),
    "lookahead.add": ("F", {"look_ahead"}, {"text": "vooruit"}),
    "summary": ("F", {"summary"}, {"text": "samenvatting"}),
    "reaction": ("P", {"summary"}, {"text": "reactie"}),
    "evaluation": ("P", {"summary"}, {"rating": 4}),
    "items.select": ("F", {"review", "lobby"}, {"items": [0, 1]}),
    "example.add": ("F", AFTER_LOBBY, {"item": 0, "text": "voorbeeld"}),
    "timer.pause": ("F", OPEN, {}),
    "timer.resume": ("F", OPEN, {}),
    "timer.extend": ("F", OPEN, {"duration": 60}),
    "review.set": ("F", {"review"}, {"action": 1, "status": "done"}),
}

# Values the codec refuses (105) before anything else looks at the request:
# at least one per request type that has fields.
CODEC_OUT_OF_RANGE = [
    ("session.new", {"team": ""}), ("session.new", {"team": "t", "min_reveal": 51}),
    ("session.open", {"session": 0}),
    ("rescore", {"item": 32}),
    ("turn.order", {"mode": "sideways"}), ("turn.order", {"mode": "manual", "order": [0]}),
    ("remove", {"pid": 0}), ("remove", {"pid": 65536}),
    ("score", {"item": 0, "value": 0}), ("score", {"item": 0, "value": 11}),
    ("score", {"item": 32, "value": 5}), ("score", {"item": 0, "value": 5, "for": 0}),
    ("keyword", {"text": ""}), ("keyword", {"text": "x" * 4097}),
    ("theme.add", {"text": ""}), ("theme.add", {"text": "t", "items": [32]}),
    ("theme.edit", {"theme": 0}), ("theme.edit", {"theme": 1, "text": ""}),
    ("theme.merge", {"theme": 1, "into": 1000001}), ("theme.delete", {"theme": 0}),
    ("vote.open", {"budget": 0}), ("vote.open", {"budget": 21}),
    ("vote", {"theme": 1, "delta": 2}), ("vote", {"theme": 1, "delta": -2}),
    ("desired.propose", {"item": 0, "value": 11}), ("desired.set", {"item": 0, "value": 0}),
    ("action.propose", {"text": "a", "deadline": "2026-1-1"}),
    ("action.propose", {"text": "a", "owner": "o" * 129}),
    ("action.edit", {"action": 0}), ("action.edit", {"action": 1, "deadline": "2026-02-30"}),
    ("action.confirm", {"action": 0}), ("action.remove", {"action": 0}),
    ("lookahead.date", {"date": "2026-13-01"}), ("lookahead.add", {"text": ""}),
    ("summary", {"text": ""}), ("reaction", {"text": ""}),
    ("evaluation", {"rating": 0}), ("evaluation", {"rating": 6}),
    ("items.select", {"items": [32]}), ("example.add", {"item": 32, "text": "v"}),
    ("example.add", {"item": 0, "text": ""}), ("timer.extend", {"duration": 86401}),
    ("timer.extend", {"duration": -1}), ("review.set", {"action": 1, "status": "finished"}),
    ("review.set", {"action": 1, "rating": 6}),
]

def source(*path):
    root = os.environ.get("LWK_SOURCE_DIR",
                          os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    with open(os.path.join(root, *path)) as f:
        return f.read()


def engine_request_types():
    """The request types lwkd's session engine implements (its rule table),
    by their wire names: the table above must cover each of them."""
    names = dict(re.findall(r'X\((\w+), "([a-z._]+)", PD_REQ', source("proto", "proto.h")))
    rules = source("daemon", "engine.c")
    rules = rules[rules.index("request_rules[] = {"):]
    rules = rules[:rules.index("};")]
    return {names[e] for e in re.findall(r"\{PT_(\w+),", rules)}


QUIET_WINDOW = 0.05  # seconds


class Untouched:
    """Around a batch of refusals: no member is pushed anything (not before
    a round trip made after the batch, nor within a short window after it),
    and every member's resync still ends at the same seq."""

    def __init__(self, members):
        self.members = members

    def __enter__(self):
        sync_all(self.members)
        self.live = {m.label: len(m.live) for m in self.members}
        self.seq = self.members[0].last_seq()
        return self

    def __exit__(self, et, ev, tb):
        if et:
            return False
        sync_all(self.members)
        readable, _, _ = select.select([m.s for m in self.members], [], [], QUIET_WINDOW)
        assert not readable and not any(m.buf for m in self.members), "pushed after a refusal"
        for m in self.members:
            assert len(m.live) == self.live[m.label], (m.label, m.live[self.live[m.label]:])
            snap = m.request("resync", since=self.seq)
            assert snap["t"] == "snapshot" and snap["seq"] == self.seq and not snap["events"], \
                (m.label, snap)
        return False


def refusals_change_nothing():
    d = Daemon("", extra=FAST)
    try:
        session_cmds = {t for t, (_, steps, _) in REQUESTS.items() if steps is None}
        implemented = engine_request_types()
        assert implemented == set(REQUESTS) - session_cmds, \
            "table out of date: %r" % (implemented ^ (set(REQUESTS) - session_cmds))
        with_fields = {t for t, (_, _, fields) in REQUESTS.items() if fields}
        assert with_fields <= {t for t, _ in CODEC_OUT_OF_RANGE}

        f = facilitator(d)
        r = new_session(f, "Team Weigering")
        sid = r["session"]
        ps = [participant(d, r["join_code"], n) for n in NAMES[:3]]
        k = kiosk(d, r["kiosk_code"])
        members = [f, k] + ps
        counts = {}

        def fields_of(t):
            fields = dict(REQUESTS[t][2])
            if t == "session.open":
                fields["session"] = sid
            return fields

        def check_step(step, extra=()):
            """Role and step refusals of every request type in this step,
            then the step's own cases: (sender, err, type, fields)."""
            with Untouched(members):
                for t, (who, steps, _) in REQUESTS.items():
                    fields = fields_of(t)
                    allowed = steps is None or step in steps
                    refused(k, ERR_WRONG_ROLE, t, **fields)  # the kiosk only watches
                    if "P" not in who:
                        refused(ps[0], ERR_WRONG_ROLE, t, **fields)
                    if "F" not in who:
                        refused(f, ERR_WRONG_ROLE, t, **fields)
                    if not allowed:
                        refused(f if "F" in who else ps[0], ERR_WRONG_PHASE, t, **fields)
                        counts[ERR_WRONG_PHASE] = counts.get(ERR_WRONG_PHASE, 0) + 1
                refused(f, ERR_NOT_FOUND, "remove", pid=99)
                for sender, code, t, fields in extra:
                    refused(sender, code, t, **fields)
                    counts[code] = counts.get(code, 0) + 1

        def scores_and_reveal(item):
            for p, v in zip(ps, (4, 6, 8)):
                ok(p, "score", item=item, value=v)
            ok(f, "reveal")

        # Values the codec refuses, from members (more than 8 undecodable
        # frames close a connection: the facilitator comes back in between).
        with Untouched(members):
            for i, (t, fields) in enumerate(CODEC_OUT_OF_RANGE):
                if i and i % (MAX_BAD_FRAMES - 2) == 0:
                    f.reconnect()
                    f.hello(kind="facilitator", token=d.admin_token)
                    ok(f, "session.open", session=sid, since=f.last_seq())
                refused(f, ERR_OUT_OF_RANGE, t, **fields)
            for m in [k] + ps:
                refused(m, ERR_OUT_OF_RANGE, "score", item=0, value=11)

        check_step("lobby", [
            (f, ERR_NOT_FOUND, "session.open", {"session": 12345}),
        ])
        ok(f, "next")
        check_step("score", [
            (f, ERR_NOT_FOUND, "score", {"item": 0, "value": 5, "for": 99}),
            (ps[0], ERR_OUT_OF_RANGE, "score", {"item": 4, "value": 5}),  # no such item
            (ps[0], ERR_WRONG_PHASE, "score", {"item": 1, "value": 5}),  # not this item's turn
            (f, ERR_CONFLICT, "rescore", {"item": 0}),  # a blind round is open
            (f, ERR_CONFLICT, "next", {}),  # not revealed
        ])
        scores_and_reveal(0)
        check_step("score", [
            (ps[0], ERR_WRONG_PHASE, "score", {"item": 0, "value": 5}),  # the round is over
            (f, ERR_CONFLICT, "reveal", {}),
        ])
        ok(f, "next")
        check_step("explain", [
            (f, ERR_NOT_FOUND, "keyword", {"text": "x", "for": 99}),
            (f, ERR_NOT_FOUND, "turn.order", {"mode": "manual", "order": [1, 2, 99]}),
            (f, ERR_OUT_OF_RANGE, "turn.order", {"mode": "manual", "order": [1]}),
            (f, ERR_OUT_OF_RANGE, "keyword", {"text": "x" * 501, "for": 1}),  # max_text_bytes
            (f, ERR_OUT_OF_RANGE, "rescore", {"item": 4}),
            (ps[1], ERR_CONFLICT, "keyword", {"text": "x"}),  # nobody's turn
            (ps[1], ERR_WRONG_ROLE, "keyword", {"text": "x", "for": 1}),  # only for themselves
        ])
        for item in (1, 2, 3):
            ok(f, "next")
            scores_and_reveal(item)
            ok(f, "next")
        ok(f, "next")
        t1 = ok(f, "theme.add", text="Eerste thema")["theme"]
        check_step("themes", [
            (f, ERR_NOT_FOUND, "theme.edit", {"theme": 99, "text": "x"}),
            (f, ERR_NOT_FOUND, "theme.merge", {"theme": 99, "into": t1}),
            (f, ERR_NOT_FOUND, "theme.merge", {"theme": t1, "into": 99}),
            (f, ERR_NOT_FOUND, "theme.delete", {"theme": 99}),
            (ps[0], ERR_OUT_OF_RANGE, "theme.add", {"text": "x", "items": [4]}),
            (ps[0], ERR_OUT_OF_RANGE, "theme.add", {"text": "x" * 501}),
            (ps[0], ERR_WRONG_PHASE, "vote", {"theme": t1, "delta": 1}),  # no vote open
            (f, ERR_CONFLICT, "theme.merge", {"theme": t1, "into": t1}),
        ])
        ok(f, "vote.open", budget=1)
        check_step("themes", [
            (ps[0], ERR_NOT_FOUND, "vote", {"theme": 99, "delta": 1}),
            (ps[0], ERR_OUT_OF_RANGE, "vote", {"theme": t1, "delta": 0}),
            (ps[0], ERR_CONFLICT, "vote", {"theme": t1, "delta": -1}),  # nothing to take back
            (f, ERR_CONFLICT, "next", {}),  # a vote is open
        ])
        ok(ps[0], "vote", theme=t1, delta=1)
        check_step("themes", [(ps[0], ERR_LIMIT, "vote", {"theme": t1, "delta": 1})])  # budget
        ok(f, "vote.close")
        # Paused: participants' requests wait (305), the facilitator's do not.
        ok(f, "pause")
        with Untouched(members):
            for t, (who, steps, _) in REQUESTS.items():
                if "P" in who:
                    refused(ps[1], ERR_PAUSED, t, **fields_of(t))
            refused(f, ERR_CONFLICT, "pause")
        ok(f, "resume")
        ok(f, "next")
        check_step("desired", [
            (f, ERR_NOT_FOUND, "theme.edit", {"theme": 99, "text": "x"}),
            (ps[0], ERR_OUT_OF_RANGE, "desired.propose", {"item": 4, "value": 5}),
            (f, ERR_OUT_OF_RANGE, "desired.set", {"item": 4, "value": 5}),
        ])
        ok(f, "next")
        a1 = ok(f, "action.propose", text="Eerste actie")["action"]
        check_step("actions", [
            (f, ERR_NOT_FOUND, "action.edit", {"action": 99, "text": "x"}),
            (f, ERR_NOT_FOUND, "action.confirm", {"action": 99}),
            (f, ERR_NOT_FOUND, "action.remove", {"action": 99}),
            (ps[0], ERR_NOT_FOUND, "action.propose", {"text": "x", "theme": 99}),
            (f, ERR_NOT_FOUND, "action.edit", {"action": a1, "theme": 99}),
            (ps[0], ERR_OUT_OF_RANGE, "action.propose", {"text": "x", "item": 4}),
            (f, ERR_OUT_OF_RANGE, "action.propose", {"text": "x" * 501}),
            (f, ERR_CONFLICT, "action.confirm", {"action": a1}),  # confirmed already
        ])
        ok(f, "next")
        check_step("look_ahead", [
            (f, ERR_NOT_FOUND, "action.edit", {"action": 99, "text": "x"}),
            (f, ERR_OUT_OF_RANGE, "lookahead.add", {"text": "x" * 501}),
        ])
        ok(f, "next")
        check_step("summary", [
            (f, ERR_NOT_FOUND, "action.remove", {"action": 99}),
            (f, ERR_WRONG_PHASE, "next", {}),  # only end closes
            (f, ERR_OUT_OF_RANGE, "summary", {"text": "x" * 501}),
            (ps[0], ERR_OUT_OF_RANGE, "reaction", {"text": "x" * 501}),
            (ps[0], ERR_OUT_OF_RANGE, "evaluation", {"rating": 3, "text": "x" * 501}),
        ])
        ok(f, "end")
        # Closed: every session request is refused with 304, whoever sends it.
        with Untouched(members):
            for t, (who, steps, _) in REQUESTS.items():
                if steps is None:
                    continue
                for m in (f, ps[0], k):
                    refused(m, ERR_CLOSED, t, **fields_of(t))
        assert counts[ERR_WRONG_PHASE] >= 150 and counts[ERR_NOT_FOUND] >= 14, counts
        for m in members:
            check_stream(m)
    finally:
        assert d.stop() == 0, d.logtext()


# ---- two sessions side by side ---------------------------------------------------------------

def two_sessions_never_leak_into_each_other():
    d = Daemon("", extra=FAST)
    try:
        sides = {}
        for tag, team, names in (("A", "Team Aalscholver", ["Astrid", "Arjen", "Sam"]),
                                 ("B", "Team Boomklever", ["Boris", "Bente", "Sam"])):
            f = facilitator(d, "F" + tag)
            r = new_session(f, team)
            # The same display name in both: names are unique per session only.
            ps = [participant(d, r["join_code"], n) for n in names]
            for p in ps:
                p.label = tag + ":" + p.label
            k = kiosk(d, r["kiosk_code"], "K" + tag)
            sides[tag] = dict(f=f, ps=ps, k=k, sid=r["session"], team=team, names=names[:2],
                              codes=[r["join_code"], r["kiosk_code"]], keywords=[])
        assert sides["A"]["sid"] != sides["B"]["sid"]

        # Interleaved, step for step, both through scoring and explaining.
        both = [sides["A"], sides["B"]]
        for item in range(2):
            for s in both:
                ok(s["f"], "next")
            for i in range(3):
                for s in both:
                    ok(s["ps"][i], "score", item=item, value=3 + i + (s is both[1]))
            for s in both:
                ok(s["f"], "reveal")
                ok(s["f"], "next")
                ok(s["f"], "turn.order", mode="join")
            for i in range(3):
                for s in both:
                    text = "%s-trefwoord-%d-%d" % (s["team"].split()[1].lower(), item, i)
                    ok(s["ps"][i], "keyword", text=text)
                    s["keywords"].append(text)
                    ok(s["f"], "turn.next")

        for tag, other in (("A", "B"), ("B", "A")):
            s, o = sides[tag], sides[other]
            members = [s["f"], s["k"]] + s["ps"]
            sync_all(members)
            # Markers of the other session: none of them may reach this one.
            markers = [o["team"], msgpack.packb(o["sid"])] + o["names"] + o["codes"] + \
                o["keywords"] + [p.resume for p in o["ps"]]
            for m in members:
                check_stream(m)
                assert all(snap["session"] == s["sid"] for snap in m.snapshots), m.label
                for marker in markers:
                    if isinstance(marker, str):
                        marker = marker.encode()
                    assert marker not in m.received, (m.label, marker)
                # Its own session's keywords did arrive (the check sees text).
                assert all(kw.encode() in m.received for kw in s["keywords"]), m.label
            check_same_events(members)
            # Resume tokens are seen by their owner alone, even within a session.
            for p in s["ps"]:
                for m in members:
                    assert (p.resume.encode() in m.received) == (m is p), (m.label, p.label)
    finally:
        assert d.stop() == 0, d.logtext()


# ---- a client that stops reading -------------------------------------------------------------

QUEUE_LIMIT = 65536


def slow_client_is_cut_off_and_others_keep_their_pace():
    d = Daemon("", extra=FAST + ["--set", "client_queue_bytes=%d" % QUEUE_LIMIT,
                                 "--set", "max_text_bytes=4096",
                                 "--set", "max_keywords=100000"])
    try:
        f = facilitator(d)
        r = new_session(f, "Team Traag", min_reveal=2)
        fast = [participant(d, r["join_code"], n) for n in ("Snel", "Vlot")]
        k = kiosk(d, r["kiosk_code"])
        # The stalled one: a tiny receive buffer, reads its welcome and snapshot, then nothing.
        s = Member(d.port, "Traag", rcvbuf=1024)
        w = s.hello(kind="participant", code=r["join_code"], name="Traag")
        s.pid, s.resume = w["pid"], w["resume"]
        s.wait(lambda m: m.get("t") == "snapshot")
        others = [f, k] + fast
        sync_all(others)
        ok(f, "next")
        for p in fast:
            ok(p, "score", item=0, value=7)
        ok(f, "reveal")
        ok(f, "next")

        # Keywords of about 4 kB each until lwkd gives up on the stalled client.
        delivery, rtt = [], []
        sent = 0
        dropped = lambda: "event=client_dropped" in d.logtext()  # noqa: E731
        start = time.time()
        # Before the queue grows, the kernel's buffers fill: the server's send
        # buffer (at most tcp_wmem's maximum) and the client's tiny receive buffer.
        with open("/proc/sys/net/ipv4/tcp_wmem") as fw:
            kernel = int(fw.read().split()[2]) + 8192
        bound = kernel + QUEUE_LIMIT + 9 * 4100  # the log is looked at every 8 keywords
        while sent * 4000 < bound + 20 * 4000:
            text = "trefwoord %05d " % sent + "x" * 4000
            r = ok(f, "keyword", text=text, **{"for": fast[0].pid})
            sent += 1
            for m in [k] + fast:
                t0 = time.time()
                event(m, r["seq"], "keyword.added")
                delivery.append(time.time() - t0)
            if sent % 8 == 0:
                for m in others:
                    t0 = time.time()
                    m.sync()
                    rtt.append(time.time() - t0)
                if dropped():
                    break
        took = time.time() - start
        line = [l for l in d.logtext().splitlines() if "event=client_dropped" in l]
        assert len(line) == 1, line
        assert re.search(r"event=client_dropped conn=\d+ kind=participant "
                         r"limit=client_queue_bytes value=%d" % QUEUE_LIMIT, line[0]), line
        # Cut off once the kernel's buffers and the queue were full, not later.
        assert sent * 4000 < bound, (sent, bound)
        rtt.sort()
        delivery.sort()
        assert rtt[-1] < 0.5 and rtt[len(rtt) // 2] < 0.05, (rtt[-1], rtt[len(rtt) // 2])
        assert delivery[-1] < 0.5, delivery[-1]
        print("  %d keywords (%.1f MB) in %.2fs; ping rtt median %.1f ms, max %.1f ms; "
              "delivery max %.1f ms" % (sent, sent * 4016 / 1e6, took, 1000 * rtt[len(rtt) // 2],
                                        1000 * rtt[-1], 1000 * delivery[-1]))

        # The others saw it go offline, in order, and go on.
        gone = lambda m: m.get("t") == "presence" and m["pid"] == s.pid and not m["online"]  # noqa: E731
        if not any(gone(e) for e in f.live):
            f.wait(gone)
        # It alone: nobody else went offline.
        assert [e["pid"] for e in f.live if e["t"] == "presence" and not e["online"]] == [s.pid]
        # It misses more than its queue and the kernel's buffers could hold:
        # coming back, it asks for all of that at once.
        for i in range(bound // 4000):
            r = ok(f, "keyword", text="gemist %d " % i + "y" * 4000, **{"for": fast[1].pid})
            for m in [k] + fast:
                event(m, r["seq"], "keyword.added")
        sync_all(others)
        for m in others:
            check_stream(m)

        # It gives up on the dead connection (draining it through the tiny
        # buffer would only take time), comes back with its resume token from
        # the last seq it has, and catches up exactly.
        last = s.last_seq()
        assert last < f.last_seq()
        s.close()
        s2 = Member(d.port, "Traag-terug")
        w = s2.hello(kind="participant", resume=s.resume, since=last)
        assert w["pid"] == s.pid and "resume" not in w, w
        snap = s2.wait(lambda m: m.get("t") == "snapshot")
        assert snap["since"] == last and snap["events"][0]["seq"] == last + 1, snap["since"]
        assert len(s2.received) > bound, len(s2.received)  # far past client_queue_bytes
        r = ok(f, "keyword", text="weer terug", **{"for": fast[0].pid})
        event(s2, r["seq"], "keyword.added")
        sync_all(others + [s2])
        mine = s.history() + s2.snapshots[0]["events"] + s2.live
        assert [e["seq"] for e in mine] == list(range(1, r["seq"] + 1))
        assert [public(e) for e in mine] == [public(e) for e in fast[1].history()]
        assert view(mine) == view(k.history())
        assert [e for e in k.live if e["t"] == "presence" and e["pid"] == s.pid][-1]["online"]
    finally:
        assert d.stop() == 0, d.logtext()


# ---- disconnect and resume -------------------------------------------------------------------

def resume_after_disconnect_catches_up_exactly():
    d = Daemon("", extra=FAST)
    try:
        f = facilitator(d)
        r = new_session(f, "Team Terug")
        sid = r["session"]
        ps = [participant(d, r["join_code"], n) for n in NAMES[:3]]
        k = kiosk(d, r["kiosk_code"])
        ok(f, "next")
        ok(ps[1], "score", item=0, value=4)
        sync_all([f, k] + ps)
        away = ps[1]
        last = away.last_seq()
        away.close()
        f.wait(lambda m: m.get("t") == "presence" and m["pid"] == away.pid and not m["online"])
        # Missed: others score, the facilitator types a score for the absent
        # one (theirs to see), the reveal, explaining, keywords.
        ok(ps[0], "score", item=0, value=6)
        ok(ps[2], "score", item=0, value=8)
        ok(f, "score", item=0, value=5, **{"for": away.pid})
        ok(f, "reveal")
        ok(f, "next")
        r = ok(f, "turn.order", mode="join")
        assert event(f, r["seq"], "turns")["order"] == [ps[0].pid, ps[2].pid]  # present only
        ok(ps[0], "keyword", text="terwijl jij weg was")
        ok(f, "turn.next")

        back = Member(d.port, away.label + " (terug)")
        w = back.hello(kind="participant", resume=away.resume, since=last)
        assert w["pid"] == away.pid and w["session"] == sid and "resume" not in w, w
        snap = back.wait(lambda m: m.get("t") == "snapshot")
        assert snap["since"] == last and [e["seq"] for e in snap["events"]] == \
            list(range(last + 1, snap["seq"] + 1)), snap
        own = [e for e in snap["events"] if e["t"] == "scored" and e["pid"] == away.pid]
        assert own and own[-1]["value"] == 5, own  # the score typed for them, theirs to see
        refused(back, ERR_CONFLICT, "keyword", text="ik ben er weer")  # not in this order
        ok(f, "turn.next")
        members = [f, k, ps[0], ps[2], back]
        sync_all(members)

        mine = away.history() + back.snapshots[0]["events"] + back.live
        assert [e["seq"] for e in mine] == list(range(1, f.last_seq() + 1))
        other = ps[0].history()
        assert [public(e) for e in mine] == [public(e) for e in other]
        assert back.request("resync")["events"] == mine
        assert view(mine) == view(k.history())

        # A second connection for the same participant (another device):
        # no presence change while one of them is still open.
        n = len(f.live)
        extra = Member(d.port, "tweede")
        extra.hello(kind="participant", resume=away.resume)
        extra.wait(lambda m: m.get("t") == "snapshot")
        extra.close()
        back.sync()  # the server has seen the second one go
        sync_all(members)
        assert len(f.live) == n, f.live[n:]
    finally:
        assert d.stop() == 0, d.logtext()


# ---- limits ----------------------------------------------------------------------------------

def join_attempts_are_limited_per_connection_and_address():
    d = Daemon("", extra=FAST + ["--set", "join_attempts_per_min=3"])
    try:
        f = facilitator(d)
        r = new_session(f, "Team Slot")
        # TCP: three wrong codes (the connection stays open for another try),
        # then even the right one is refused with 401 and the connection closed.
        c = Member(d.port, "raden")
        for code in ("AAAAAAA", "CCCCCCC", "not-a-code"):
            r2 = c.request("hello", proto=1, kind="participant", code=code, name="Raden")
            assert r2["t"] == "error" and r2["err"] == ERR_BAD_CREDENTIALS, r2
        r2 = c.request("hello", proto=1, kind="participant", code=r["join_code"], name="Raden")
        assert r2["t"] == "error" and r2["err"] == ERR_RATE_LIMITED, r2
        assert c.closed()
        # The address is blocked for the minute: new connections, kiosks too.
        c = Member(d.port, "opnieuw")
        r2 = c.request("hello", proto=1, kind="participant", code=r["join_code"], name="Raden")
        assert r2["t"] == "error" and r2["err"] == ERR_RATE_LIMITED, r2
        c = Member(d.port, "kiosk")
        r2 = c.request("hello", proto=1, kind="kiosk", code=r["kiosk_code"])
        assert r2["t"] == "error" and r2["err"] == ERR_RATE_LIMITED, r2
        assert "event=join_rate_limited" in d.logtext()
        # The Unix socket counts per connection: wrong resume tokens count too.
        u = Member(None, "unix", unix=d.sock_path)
        for i in range(3):
            r2 = u.request("hello", proto=1, kind="participant", resume="geen-token-%d" % i)
            assert r2["t"] == "error" and r2["err"] == ERR_BAD_CREDENTIALS, r2
        r2 = u.request("hello", proto=1, kind="participant", code=r["join_code"], name="Raden")
        assert r2["t"] == "error" and r2["err"] == ERR_RATE_LIMITED, r2
        assert u.closed()
        u = Member(None, "unix2", unix=d.sock_path)
        assert u.hello(kind="participant", code=r["join_code"], name="Raden")["pid"] == 1
        # Nothing of it reached the session but the one who got in.
        sync_all([f])
        assert [e["t"] for e in f.live] == ["joined"], f.live
    finally:
        assert d.stop() == 0, d.logtext()


def names_participants_and_sessions_are_limited():
    d = Daemon("", extra=FAST + ["--set", "max_participants=3", "--set", "min_reveal=2",
                                 "--set", "max_sessions=2"])
    try:
        f = facilitator(d)
        r = new_session(f, "Team Vol")
        ps = [participant(d, r["join_code"], n) for n in ("Anouk", "Bas")]
        # Name taken (case does not matter); the connection stays for another name.
        c = Member(d.port, "dubbel")
        r2 = c.request("hello", proto=1, kind="participant", code=r["join_code"], name="anouk")
        assert r2["t"] == "error" and r2["err"] == ERR_NAME_TAKEN, r2
        w = c.hello(kind="participant", code=r["join_code"], name="Anouk B.")
        assert w["pid"] == 3
        ps.append(c)
        # Full: the fourth is refused with 400 and may try again later.
        c = Member(d.port, "vierde")
        r2 = c.request("hello", proto=1, kind="participant", code=r["join_code"], name="Dewi")
        assert r2["t"] == "error" and r2["err"] == ERR_LIMIT, r2
        ok(f, "remove", pid=ps[1].pid)
        assert c.hello(kind="participant", code=r["join_code"], name="Dewi")["pid"] == 4
        # The removed one cannot come back with its token.
        c2 = Member(d.port, "verwijderd")
        r2 = c2.request("hello", proto=1, kind="participant", resume=ps[1].resume)
        assert r2["t"] == "error" and r2["err"] == ERR_BAD_CREDENTIALS, r2

        # Sessions: two open at once; a third only after one has ended.
        f2 = facilitator(d, "F2")
        r3 = new_session(f2, "Team Twee")
        f3 = facilitator(d, "F3")
        refused(f3, ERR_LIMIT, "session.new", team="Team Drie")
        ok(f2, "end")
        r4 = new_session(f3, "Team Drie")
        assert r4["session"] not in (r["session"], r3["session"])
        # A closed session's codes open nothing.
        c3 = Member(d.port, "te laat")
        r2 = c3.request("hello", proto=1, kind="participant", code=r3["join_code"], name="Laat")
        assert r2["t"] == "error" and r2["err"] == ERR_BAD_CREDENTIALS, r2
        assert d.status()["sessions"] == 2
    finally:
        assert d.stop() == 0, d.logtext()


if __name__ == "__main__":
    run([complete_session_every_member_sees_the_same_stream,
         blind_round_sends_no_values_before_reveal,
         refusals_change_nothing,
         two_sessions_never_leak_into_each_other,
         slow_client_is_cut_off_and_others_keep_their_pace,
         resume_after_disconnect_catches_up_exactly,
         join_attempts_are_limited_per_connection_and_address,
         names_participants_and_sessions_are_limited])
