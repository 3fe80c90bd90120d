"""Issue 3: our codec and an independent MessagePack implementation (Python's
msgpack) agree on every message type, and both agree with PROTOCOL.md.

The catalogue is read from PROTOCOL.md's generated tables (not from C), so
this is also a test of the spec: a client written from it in another
language builds frames our codec accepts, and reads the frames it writes.
proto_tool (tests/unit/proto_tool.c) is the C side: `samples` writes a frame
of every type, `roundtrip` decodes frames and encodes them again.
"""
import os
import sys

try:
    import msgpack  # noqa: F401
except ImportError:  # a Python without msgpack ahead on PATH: use the system one
    if os.path.exists("/usr/bin/python3") and os.path.realpath(sys.executable) != "/usr/bin/python3":
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    raise

import json
import re
import struct
import subprocess

import msgpack

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lwktest import SRC, run  # noqa: E402

PROTO_TOOL = os.environ.get("PROTO_TOOL", os.path.join(SRC, "build", "tests", "proto_tool"))
SPEC = os.path.join(SRC, "proto", "PROTOCOL.md")


# ---- the spec, as a client author would read it --------------------------------

def parse_values(mtype, text):
    """A field's rule from its 'MessagePack type' and 'valid values' cells."""
    m = re.fullmatch(r"(-?\d+) … (-?\d+)", text)
    if mtype == "integer" and m:
        return {"kind": "int", "min": int(m[1]), "max": int(m[2])}
    if mtype == "boolean":
        return {"kind": "bool"}
    if mtype == "string":
        if text.startswith("one of "):
            return {"kind": "enum", "values": re.findall(r"`([^`]*)`", text)}
        if text.startswith("a date"):
            return {"kind": "date"}
        m = re.fullmatch(r"(\d+) … (\d+) bytes", text) or re.fullmatch(r"exactly (\d+)() bytes", text)
        if m:
            lo = int(m[1])
            return {"kind": "str", "min": lo, "max": int(m[2]) if m[2] else lo}
        m = re.fullmatch(r'`"([^"]+)"`', text)
        if m:
            return {"kind": "type", "name": m[1]}
    if mtype == "array of integers":
        m = re.fullmatch(r"at most (\d+) elements, each (-?\d+) … (-?\d+)", text)
        return {"kind": "ints", "count": int(m[1]), "min": int(m[2]), "max": int(m[3])}
    if mtype == "array of maps":
        return {"kind": "events" if "event" in text else "rows"}
    raise AssertionError("cannot read spec cell: %s | %s" % (mtype, text))


def read_spec():
    text = open(SPEC, encoding="utf-8").read()
    gen = text[text.index("<!-- BEGIN GENERATED"):text.index("<!-- END GENERATED -->")]
    keys = {}
    ksec = gen[gen.index("### Keys"):gen.index("### Message types")]
    for row in re.findall(r"^\| `([a-z_]+)` \| ([^|]+) \| ([^|]+) \|$", ksec, re.M):
        keys[row[0]] = parse_values(row[1].strip(), row[2].strip())
    types = {}
    for m in re.finditer(r"^#### `([a-z._]+)` \((request|reply|event)\)\n(.*?)(?=^#### |\Z)", gen,
                         re.M | re.S):
        fields = {}
        for row in re.findall(r"^\| `([a-z_]+)` \| ([^|]+) \| ([^|]+) \| (required|optional) \|$",
                              m[3], re.M):
            rule = parse_values(row[1].strip(), row[2].strip())
            rule["required"] = row[3] == "required"
            fields[row[0]] = rule
        types[m[1]] = {"dir": m[2], "fields": fields}
    assert len(types) > 80 and len(keys) > 60, (len(types), len(keys))
    return keys, types


KEYS, TYPES = read_spec()
EVENTS = [t for t, d in TYPES.items() if d["dir"] == "event"]


def check_value(rule, v, where):
    k = rule["kind"]
    if k == "int":
        assert type(v) is int and rule["min"] <= v <= rule["max"], (where, v)
    elif k == "bool":
        assert type(v) is bool, (where, v)
    elif k == "enum":
        assert v in rule["values"], (where, v)
    elif k == "date":
        assert type(v) is str and re.fullmatch(r"2\d{3}-\d\d-\d\d", v), (where, v)
    elif k == "str":
        assert type(v) is str and rule["min"] <= len(v.encode()) <= rule["max"], (where, v)
        assert not any(ord(c) < 32 and c not in "\t\n" for c in v), (where, v)
    elif k == "type":
        assert v == rule["name"], (where, v)
    elif k == "ints":
        assert type(v) is list and len(v) <= rule["count"], (where, len(v))
        assert all(type(x) is int and rule["min"] <= x <= rule["max"] for x in v), where
    elif k == "events":
        assert type(v) is list, where
        for i, e in enumerate(v):
            check_message(e, "%s[%d]" % (where, i))
            assert TYPES[e["t"]]["dir"] == "event", (where, e["t"])
    elif k == "rows":
        assert type(v) is list, where
        for i, r in enumerate(v):
            assert type(r) is dict and "t" not in r, (where, r)
            for key, x in r.items():
                check_value(KEYS[key], x, "%s[%d].%s" % (where, i, key))


def check_message(m, where="message"):
    """m is valid by the spec: a known type, its required fields, no others."""
    assert type(m) is dict and type(m.get("t")) is str, (where, m)
    spec = TYPES[m["t"]]["fields"]
    for key, rule in spec.items():
        if rule["required"]:
            assert key in m, (where, m["t"], "missing", key)
    for key, v in m.items():
        assert key in spec, (where, m["t"], "field not in spec", key)
        check_value(spec[key], v, "%s.%s" % (where, key))


# ---- building messages from the spec -------------------------------------------

def text_of(n, pattern):
    """Exactly n bytes of UTF-8, never cutting a character."""
    out, size = "", 0
    while size < n:
        for ch in pattern:
            b = len(ch.encode())
            if size + b > n:
                out += "x" * (n - size)
                size = n
                break
            out += ch
            size += b
    return out


def value_for(rule, variant, depth=0):
    k = rule["kind"]
    if k == "int":
        lo, hi = rule["min"], rule["max"]
        return {"min": lo, "max": hi}.get(variant, lo + (hi - lo) // 7)
    if k == "bool":
        return variant != "min"
    if k == "enum":
        return {"min": rule["values"][0], "max": rule["values"][-1]}.get(variant, rule["values"][-2 if len(rule["values"]) > 1 else 0])
    if k == "date":
        return {"min": "2000-01-01", "max": "2999-12-31"}.get(variant, "2028-02-29")
    if k == "str":
        n = {"min": rule["min"], "max": rule["max"]}.get(variant, max(rule["min"], min(rule["max"], 9)))
        return text_of(n, "Ünïcødé ✓ 🌱\t\n" if variant == "max" else "Anouk ë ✓ ")
    if k == "ints":
        if variant == "min":
            return []
        if variant == "max":
            return [rule["max"] if i % 3 else rule["min"] for i in range(rule["count"])]
        return [rule["min"], rule["max"], (rule["min"] + rule["max"]) // 2]
    if k == "events":
        evs = EVENTS if variant == "max" else EVENTS[::7]
        out = [message_for(t, variant, depth + 1) for t in evs]
        for i, e in enumerate(out):
            e["seq"] = i + 1
        return [] if variant == "min" else out
    if k == "rows":
        if variant == "min":
            return []
        names = [n for n, r in KEYS.items() if r["kind"] not in ("events", "rows")]
        picks = names if variant == "max" else names[::5]
        return [{n: value_for(KEYS[n], variant, depth + 1) for n in picks} for _ in range(2)]
    raise AssertionError(k)


def message_for(t, variant, depth=0):
    m = {"t": t}
    for key, rule in TYPES[t]["fields"].items():
        if key != "t":
            m[key] = value_for(rule, variant, depth)
    return m


# ---- frames --------------------------------------------------------------------

def frame(body):
    return struct.pack(">I", len(body)) + body


def split_frames(data):
    out, i = [], 0
    while i < len(data):
        (n,) = struct.unpack(">I", data[i:i + 4])
        assert n > 0 and i + 4 + n <= len(data), "bad frame at %d" % i
        out.append(data[i + 4:i + 4 + n])
        i += 4 + n
    return out


def unpack(body):
    return msgpack.unpackb(body, raw=False, strict_map_key=True)


def tool(*args, data=b""):
    r = subprocess.run([PROTO_TOOL] + list(args), input=data, capture_output=True, timeout=60)
    assert r.returncode in (0, 1), r.stderr.decode()
    return r.stdout


def roundtrip_bodies(bodies):
    data = b"".join(frame(b) for b in bodies)
    return [unpack(b) for b in split_frames(tool("roundtrip", data=data))]


def roundtrip(msgs, **packopts):
    packopts.setdefault("use_bin_type", True)
    return roundtrip_bodies([msgpack.packb(m, **packopts) for m in msgs])


# ---- tests ---------------------------------------------------------------------

def our_samples_of_every_type_decode_in_python_as_the_spec_says():
    for variant in ("typical", "min", "max"):
        seen = set()
        for body in split_frames(tool("samples", variant)):
            m = unpack(body)
            check_message(m, "%s sample" % variant)
            seen.add(m["t"])
        assert seen == set(TYPES), set(TYPES) ^ seen


def python_frames_of_every_type_come_back_unchanged():
    for variant in ("typical", "min", "max"):
        msgs = [message_for(t, variant) for t in TYPES]
        for m in msgs:
            check_message(m, "python %s" % variant)
        back = roundtrip(msgs)
        assert len(back) == len(msgs)
        for want, got in zip(msgs, back):
            assert got == want, (variant, want["t"], want, got)


def frames_decode_after_a_second_round_trip_to_the_same_bytes():
    # Our encoding is canonical: re-encoding our own output changes nothing.
    ours = tool("samples", "typical")
    assert tool("roundtrip", data=ours) == ours


def python_frames_with_errors_get_the_documented_codes():
    cases = [
        ({"t": "nope", "id": 5}, {}, 102, 5),
        ({"t": "score", "id": 6, "item": 1.0, "value": 3}, {}, 103, 6),
        ({"t": "keyword", "text": b"bytes"}, {}, 103, None),
        ({"t": "session.new", "team": "A", "auto": 1}, {}, 103, None),
        ({"t": "score", "id": 7, "item": 1}, {}, 104, 7),
        ({"id": 8}, {}, 104, 8),
        ({"t": "score", "item": 1, "value": 11}, {}, 105, None),
        ({"t": "hello", "proto": 1, "kind": "Admin"}, {}, 105, None),
        ({"t": "lookahead.date", "date": "2023-02-29"}, {}, 105, None),
        ({"t": "keyword", "text": b"\xc0\xaf"}, {"use_bin_type": False}, 106, None),
        ({"t": "keyword", "text": b"\xed\xa0\x80"}, {"use_bin_type": False}, 106, None),
        ({"t": "keyword", "text": "bell\x07"}, {}, 106, None),
        ({"t": "ping", 1: 2}, {}, 100, None),
    ]
    back = roundtrip_bodies([msgpack.packb(m, **dict({"use_bin_type": True}, **opts))
                             for m, opts, _, _ in cases])
    assert len(back) == len(cases)
    for (msg, _, err, rid), got in zip(cases, back):
        assert got["t"] == "error" and got["err"] == err, (msg, got)
        assert got.get("id") == rid, (msg, got)
    # Raw strings packed the old way (use_bin_type=False) are fine when valid UTF-8.
    m = {"t": "keyword", "text": "één".encode()}
    got = roundtrip([m], use_bin_type=False)[0]
    assert got == {"t": "keyword", "text": "één"}, got


def unknown_keys_are_dropped_and_known_ones_kept():
    got = roundtrip([{"t": "score", "id": 1, "item": 2, "value": 3, "later": {"x": [1, 2]},
                      "seq": "not for score"}])[0]
    assert got == {"t": "score", "id": 1, "item": 2, "value": 3}, got


def protocol_md_examples_decode_in_python_to_what_they_show():
    text = open(SPEC, encoding="utf-8").read()
    pairs = re.findall(r"```hex\n(.*?)```\s*```json\n(.*?)```", text, re.S)
    assert len(pairs) >= 8, len(pairs)
    kinds = set()
    for hexed, shown in pairs:
        data = bytes.fromhex(hexed)
        (body,) = split_frames(data)
        m = unpack(body)
        assert m == json.loads(shown), (m, shown)
        check_message(m, "example " + m["t"])
        kinds.add((m["t"], "value" in m) if m["t"] == "scored" else m["t"])
    for need in ("hello", "welcome", "score", ("scored", False), ("scored", True), "revealed",
                 "error", "snapshot"):
        assert need in kinds, need
    # And the same bytes come out of our codec.
    for hexed, _ in pairs:
        data = bytes.fromhex(hexed)
        assert tool("roundtrip", data=data) == data


def type_names_are_unique_across_directions():
    names = re.findall(r"^#### `([a-z._]+)` \(", open(SPEC, encoding="utf-8").read(), re.M)
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)


run([
    our_samples_of_every_type_decode_in_python_as_the_spec_says,
    python_frames_of_every_type_come_back_unchanged,
    frames_decode_after_a_second_round_trip_to_the_same_bytes,
    python_frames_with_errors_get_the_documented_codes,
    unknown_keys_are_dropped_and_known_ones_kept,
    protocol_md_examples_decode_in_python_to_what_they_show,
    type_names_are_unique_across_directions,
])
