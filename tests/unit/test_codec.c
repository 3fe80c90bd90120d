/*
 * test_codec.c: the message codec against its catalogue and its spec.
 *
 * Every message type survives encode/decode with every field at typical,
 * minimum and maximum values; every malformed input we could think of is
 * refused with its documented code (and never crashes or leaks: run under
 * ASan); PROTOCOL.md's generated tables equal what the catalogue says and
 * its examples decode to what they claim; the pre-scan accepts every
 * encoding of the msgpack-test-suite and msgpack-c reads each as its value.
 *
 * Inputs are written in "mpj": JSON extended for MessagePack tests (see
 * mpj_value): b"..." is a bin, \xNN a raw byte inside a string, <hex> raw
 * bytes standing for one value, 1.5f a float32, keys of any type and
 * duplicate keys allowed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <inttypes.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "proto.h"
#include "proto_gen.h"

#ifndef LWK_SOURCE_DIR
#define LWK_SOURCE_DIR "."
#endif

/* ---- mpj: JSON-like text to MessagePack -------------------------------- */

struct mpj {
    const char *p;
};

static void mpj_ws(struct mpj *j)
{
    while (isspace((unsigned char)*j->p))
        j->p++;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static void put_utf8(msgpack_sbuffer *b, uint32_t cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xc0 | cp >> 6);
        u[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xe0 | cp >> 12);
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        u[0] = (char)(0xf0 | cp >> 18);
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    msgpack_sbuffer_write(b, u, n);
}

/* The bytes of a quoted string (j->p at the opening quote) into b. */
static int mpj_string_bytes(struct mpj *j, msgpack_sbuffer *b)
{
    if (*j->p++ != '"')
        return -1;
    while (*j->p && *j->p != '"') {
        if (*j->p != '\\') {
            msgpack_sbuffer_write(b, j->p++, 1);
            continue;
        }
        j->p++;
        char c = *j->p++;
        switch (c) {
        case 'n':
            msgpack_sbuffer_write(b, "\n", 1);
            break;
        case 't':
            msgpack_sbuffer_write(b, "\t", 1);
            break;
        case 'r':
            msgpack_sbuffer_write(b, "\r", 1);
            break;
        case 'b':
            msgpack_sbuffer_write(b, "\b", 1);
            break;
        case 'f':
            msgpack_sbuffer_write(b, "\f", 1);
            break;
        case '"':
        case '\\':
        case '/':
            msgpack_sbuffer_write(b, &c, 1);
            break;
        case 'x': {
            int h = hexval(j->p[0]), l = h < 0 ? -1 : hexval(j->p[1]);
            if (l < 0)
                return -1;
            char byte = (char)(h << 4 | l);
            msgpack_sbuffer_write(b, &byte, 1);
            j->p += 2;
            break;
        }
        case 'u': {
            uint32_t cp = 0;
            for (int i = 0; i < 4; i++) {
                int h = hexval(*j->p++);
                if (h < 0)
                    return -1;
                cp = cp << 4 | (uint32_t)h;
            }
            /* A pair becomes one character; a lone surrogate stays (invalid) as it is. */
            if (cp >= 0xd800 && cp < 0xdc00 && j->p[0] == '\\' && j->p[1] == 'u') {
                uint32_t lo = 0;
                int ok = 1;
                for (int i = 0; i < 4 && ok; i++) {
                    int h = hexval(j->p[2 + i]);
                    ok = h >= 0;
                    lo = lo << 4 | (uint32_t)(h < 0 ? 0 : h);
                }
                if (ok && lo >= 0xdc00 && lo < 0xe000) {
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                    j->p += 6;
                }
            }
            put_utf8(b, cp);
            break;
        }
        default:
            return -1;
        }
    }
    if (*j->p != '"')
        return -1;
    j->p++;
    return 0;
}

static int mpj_value(struct mpj *j, msgpack_sbuffer *out)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    mpj_ws(j);
    char c = *j->p;
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        msgpack_sbuffer child;
        msgpack_sbuffer_init(&child);
        uint32_t n = 0;
        j->p++;
        mpj_ws(j);
        int rc = 0;
        if (*j->p == close) {
            j->p++;
        } else {
            for (;;) {
                if (mpj_value(j, &child) < 0) {
                    rc = -1;
                    break;
                }
                if (c == '{') {
                    mpj_ws(j);
                    if (*j->p++ != ':' || mpj_value(j, &child) < 0) {
                        rc = -1;
                        break;
                    }
                }
                n++;
                mpj_ws(j);
                if (*j->p == ',') {
                    j->p++;
                    continue;
                }
                if (*j->p++ != close)
                    rc = -1;
                break;
            }
        }
        if (rc == 0) {
            if (c == '{')
                msgpack_pack_map(&pk, n);
            else
                msgpack_pack_array(&pk, n);
            if (child.size)
                msgpack_sbuffer_write(out, child.data, child.size);
        }
        msgpack_sbuffer_destroy(&child);
        return rc;
    }
    if (c == '"' || (c == 'b' && j->p[1] == '"')) {
        bool bin = c == 'b';
        if (bin)
            j->p++;
        msgpack_sbuffer s;
        msgpack_sbuffer_init(&s);
        int rc = mpj_string_bytes(j, &s);
        if (rc == 0) {
            if (bin) {
                msgpack_pack_bin(&pk, s.size);
                msgpack_pack_bin_body(&pk, s.data, s.size);
            } else {
                msgpack_pack_str(&pk, s.size);
                msgpack_pack_str_body(&pk, s.data, s.size);
            }
        }
        msgpack_sbuffer_destroy(&s);
        return rc;
    }
    if (c == '<') {
        j->p++;
        for (;;) {
            mpj_ws(j);
            if (*j->p == '>') {
                j->p++;
                return 0;
            }
            int h = hexval(j->p[0]), l = h < 0 ? -1 : hexval(j->p[1]);
            if (l < 0)
                return -1;
            char byte = (char)(h << 4 | l);
            msgpack_sbuffer_write(out, &byte, 1);
            j->p += 2;
        }
    }
    if (!strncmp(j->p, "true", 4)) {
        j->p += 4;
        return msgpack_pack_true(&pk);
    }
    if (!strncmp(j->p, "false", 5)) {
        j->p += 5;
        return msgpack_pack_false(&pk);
    }
    if (!strncmp(j->p, "null", 4)) {
        j->p += 4;
        return msgpack_pack_nil(&pk);
    }
    if (c == '-' || isdigit((unsigned char)c)) {
        const char *start = j->p;
        const char *q = start + (c == '-');
        while (isdigit((unsigned char)*q))
            q++;
        if (*q == '.' || *q == 'e' || *q == 'E') {
            char *end;
            double d = strtod(start, &end);
            j->p = end;
            if (*j->p == 'f') {
                j->p++;
                return msgpack_pack_float(&pk, (float)d);
            }
            return msgpack_pack_double(&pk, d);
        }
        char *end;
        j->p = q;
        if (c == '-')
            return msgpack_pack_int64(&pk, strtoll(start, &end, 10));
        return msgpack_pack_uint64(&pk, strtoull(start, &end, 10));
    }
    return -1;
}

/* MessagePack bytes of mpj text, one or more values (the caller frees them). */
static uint8_t *mp(const char *text, size_t *len)
{
    msgpack_sbuffer b;
    msgpack_sbuffer_init(&b);
    struct mpj j = {text};
    int rc = 0;
    mpj_ws(&j);
    while (rc == 0 && *j.p) {
        rc = mpj_value(&j, &b);
        mpj_ws(&j);
    }
    if (rc < 0)
        fail_msg("bad mpj near \"%.20s\" in: %s", j.p, text);
    *len = b.size;
    if (!b.data) /* an empty input yields no bytes */
        return calloc(1, 1);
    return (uint8_t *)msgpack_sbuffer_release(&b);
}

/* Bytes of hex text ("c1", "00-ff", "dd ff ff ff ff"); the caller frees them. */
static uint8_t *unhex(const char *s, size_t *len)
{
    uint8_t *out = malloc(strlen(s) / 2 + 1);
    size_t n = 0;
    while (*s) {
        if (isspace((unsigned char)*s) || *s == '-') {
            s++;
            continue;
        }
        int h = hexval(s[0]), l = h < 0 ? -1 : hexval(s[1]);
        assert_true(l >= 0);
        out[n++] = (uint8_t)(h << 4 | l);
        s += 2;
    }
    *len = n;
    return out;
}

/* Decodes mpj text; returns the code; fills err. */
static int decode_text(const char *text, bool nested, struct proto_msg **m, struct proto_error *err)
{
    size_t len;
    uint8_t *b = mp(text, &len);
    int rc = proto_decode(b, len, nested, m, err);
    free(b);
    return rc;
}

/* ---- round trips ------------------------------------------------------- */

static bool has_nested(const struct proto_msg *m)
{
    for (int k = 0; k < PK__COUNT; k++)
        if (proto_key_kind((enum proto_key)k) == PF_MSGS && proto_has(m, (enum proto_key)k))
            return true;
    return false;
}

static void round_trip(enum gen_variant v)
{
    static const char *const names[] = {"typical", "min", "max"};
    for (int t = PT__NONE + 1; t < PT__COUNT; t++) {
        struct gen_sample *s = gen_sample_new((enum proto_type)t, v);
        const struct proto_msg *in = gen_sample_msg(s);
        uint8_t *frame, *body;
        size_t flen, blen;
        int rc = proto_encode_frame(in, &frame, &flen);
        if (rc < 0)
            fail_msg("%s (%s): encode: %s", proto_type_name(in->type), names[v],
                     proto_err_name(rc));
        assert_int_equal(proto_encode(in, &body, &blen), 0);
        /* The frame is the 4-byte big-endian length, then exactly the body. */
        assert_int_equal(flen, blen + PROTO_FRAME_HEADER);
        assert_int_equal(proto_get_u32be(frame), blen);
        assert_memory_equal(frame + PROTO_FRAME_HEADER, body, blen);

        struct proto_msg *out;
        struct proto_error err;
        rc = proto_decode(body, blen, true, &out, &err);
        if (rc < 0)
            fail_msg("%s (%s): decode: %d %s", proto_type_name(in->type), names[v], -rc,
                     err.detail);
        char why[256];
        if (!gen_msg_equal(in, out, why, sizeof(why)))
            fail_msg("%s (%s): %s", proto_type_name(in->type), names[v], why);
        proto_msg_free(out);

        /* What a client may send decodes the same without nested messages. */
        if (!has_nested(in)) {
            rc = proto_decode(body, blen, false, &out, &err);
            if (rc < 0)
                fail_msg("%s (%s): decode without nesting: %s", proto_type_name(in->type), names[v],
                         err.detail);
            assert_true(gen_msg_equal(in, out, why, sizeof(why)));
            proto_msg_free(out);
        }
        free(frame);
        free(body);
        gen_sample_free(s);
    }
}

static void every_type_round_trips_with_typical_values(void **state)
{
    round_trip(GEN_TYPICAL);
}

static void every_type_round_trips_with_minimum_values(void **state)
{
    round_trip(GEN_MIN);
}

static void every_type_round_trips_with_maximum_values(void **state)
{
    round_trip(GEN_MAX);
}

static void every_type_has_a_unique_name_that_looks_up_to_itself(void **state)
{
    for (int t = PT__NONE + 1; t < PT__COUNT; t++) {
        const char *n = proto_type_name((enum proto_type)t);
        assert_int_equal(proto_type_lookup(n, strlen(n)), t);
    }
    assert_int_equal(proto_type_lookup("", 0), PT__NONE);
    assert_int_equal(proto_type_lookup("Hello", 5), PT__NONE);
    assert_int_equal(proto_type_lookup("hello\0", 6), PT__NONE);
    /* Out-of-range arguments answer safely. */
    assert_string_equal(proto_type_name(PT__COUNT), "?");
    assert_false(proto_type_allows(PT__COUNT, PK_ID));
    assert_string_equal(proto_key_name(PK__COUNT), "?");
    assert_null(proto_enum_name(PK_KIND, 99));
    assert_null(proto_enum_name(PK_KIND, -1));
    assert_null(proto_enum_name(PK_ID, 0));
}

static void every_error_code_has_a_name_and_a_text(void **state)
{
#define X(name, code, text)                                                                        \
    assert_string_equal(proto_err_name(code), #name);                                              \
    assert_string_equal(proto_err_name(-(code)), #name);                                           \
    assert_string_equal(proto_err_text(code), text);
    PROTO_ERRORS(X)
#undef X
    assert_string_equal(proto_err_name(999), "UNKNOWN");
}

/* ---- the encoder refuses what the decoder would ------------------------ */

static int encode_rc(const struct proto_msg *m)
{
    uint8_t *f = NULL;
    size_t n;
    int rc = proto_encode_frame(m, &f, &n);
    free(f);
    return rc;
}

static void encoder_refuses_messages_the_decoder_would_refuse(void **state)
{
    struct proto_msg m;
    proto_msg_init(&m, PT_SCORE);
    proto_set_int(&m, PK_ITEM, 1);
    assert_int_equal(encode_rc(&m), PROTO_ERR_MISSING_FIELD);
    proto_set_int(&m, PK_VALUE, 11);
    assert_int_equal(encode_rc(&m), PROTO_ERR_OUT_OF_RANGE);
    proto_set_int(&m, PK_VALUE, 10);
    assert_int_equal(encode_rc(&m), 0);
    proto_set_int(&m, PK_SEQ, 3); /* not a field of score */
    assert_int_equal(encode_rc(&m), PROTO_ERR_BAD_TYPE);

    proto_msg_init(&m, PT_KEYWORD);
    proto_set_str(&m, PK_TEXT, "bad\x01");
    assert_int_equal(encode_rc(&m), PROTO_ERR_BAD_UTF8);
    proto_set_str(&m, PK_TEXT, "");
    assert_int_equal(encode_rc(&m), PROTO_ERR_OUT_OF_RANGE);

    proto_msg_init(&m, PT_LOOKAHEAD_DATE);
    proto_set_str(&m, PK_DATE, "2023-02-29");
    assert_int_equal(encode_rc(&m), PROTO_ERR_OUT_OF_RANGE);
    proto_set_str(&m, PK_DATE, "2024-02-29");
    assert_int_equal(encode_rc(&m), 0);

    proto_msg_init(&m, PT_HELLO);
    proto_set_int(&m, PK_PROTO, 1);
    proto_set_int(&m, PK_KIND, 6); /* past the list */
    assert_int_equal(encode_rc(&m), PROTO_ERR_OUT_OF_RANGE);
    assert_int_equal(proto_set_enum(&m, PK_KIND, "root"), PROTO_ERR_OUT_OF_RANGE);
    assert_int_equal(proto_set_enum(&m, PK_KIND, "kiosk"), 0);
    assert_int_equal(encode_rc(&m), 0);

    /* A snapshot holds events only. */
    struct proto_msg ev[2];
    proto_msg_init(&ev[0], PT_EV_CLOSED);
    proto_set_int(&ev[0], PK_SEQ, 1);
    proto_msg_init(&ev[1], PT_PING);
    proto_msg_init(&m, PT_SNAPSHOT);
    proto_set_int(&m, PK_SESSION, 1);
    proto_set_int(&m, PK_SEQ, 1);
    proto_set_msgs(&m, PK_EVENTS, ev, 1);
    assert_int_equal(encode_rc(&m), 0);
    proto_set_msgs(&m, PK_EVENTS, ev, 2);
    assert_int_equal(encode_rc(&m), PROTO_ERR_OUT_OF_RANGE);

    m.type = PT__COUNT;
    assert_int_equal(encode_rc(&m), PROTO_ERR_UNKNOWN_TYPE);
    m.type = PT__NONE;
    assert_int_equal(encode_rc(&m), PROTO_ERR_UNKNOWN_TYPE);
}

/* ---- negative vectors -------------------------------------------------- */

struct vec {
    const char *name;
    const char *in;  /* mpj */
    bool nested;     /* decode with allow_nested */
    int code;        /* expected error (negative) */
    const char *key; /* expected err.key name, or NULL for none */
    int64_t id;      /* expected err.id (-1: none) */
};

#define V(name, in, nested, code, key, id) {name, in, nested, PROTO_ERR_##code, key, id},

/* Each vector is refused with the code PROTOCOL.md documents for it. */
/* clang-format off */
static const struct vec vectors[] = {
    /* not MessagePack, or not exactly one object */
    V("0xc1 alone", "<c1>", true, MALFORMED, NULL, -1)
    V("0xc1 as a value", "{\"t\": \"ping\", \"x\": <c1>}", true, MALFORMED, NULL, -1)
    V("0xc1 as a key", "{<c1>: 1, \"t\": \"ping\"}", true, MALFORMED, NULL, -1)
    V("map truncated after its first pair", "<82 a1 74 a4 70 69 6e 67>", true, MALFORMED, NULL, -1)
    V("string truncated", "<81 a1 74 a4 70 69 6e>", true, MALFORMED, NULL, -1)
    V("str8 header truncated", "<81 a1 74 d9>", true, MALFORMED, NULL, -1)
    V("str16 length truncated", "<81 a1 74 da 00>", true, MALFORMED, NULL, -1)
    V("uint32 truncated", "{\"t\": \"ping\", \"id\": <ce 00 01>}", true, MALFORMED, NULL, -1)
    V("int64 truncated", "{\"t\": \"ping\", \"id\": <d3 00 00 00>}", true, MALFORMED, NULL, -1)
    V("float64 truncated", "{\"t\": \"ping\", \"x\": <cb 40 09>}", true, MALFORMED, NULL, -1)
    V("fixext truncated", "{\"t\": \"ping\", \"x\": <d8 01 02>}", true, MALFORMED, NULL, -1)
    V("ext8 length past the end", "{\"t\": \"ping\", \"x\": <c7 ff 01>}", true, MALFORMED, NULL, -1)
    V("trailing nil after the map", "{\"t\": \"ping\"} <c0>", true, MALFORMED, NULL, -1)
    V("two maps in one frame", "{\"t\": \"ping\"} {\"t\": \"ping\"}", true, MALFORMED, NULL, -1)
    V("map declares 3 pairs, holds 2", "<83> \"t\" \"ping\" \"id\" 1", true, MALFORMED, NULL, -1)
    V("array32 header claims 4 Gi elements", "<dd ff ff ff ff 01 02 03>", true, MALFORMED, NULL, -1)
    V("map32 header claims 4 Gi pairs", "<df ff ff ff ff a1 74>", true, MALFORMED, NULL, -1)
    V("array16 claims 65535 elements", "{\"t\": \"ok\", \"x\": <dc ff ff 01 02>}", true, MALFORMED, NULL, -1)
    V("str32 claims 4 GiB", "{\"t\": <db ff ff ff ff 70 69>}", true, MALFORMED, NULL, -1)
    V("bin32 claims 4 GiB", "{\"t\": \"ping\", \"x\": <c6 ff ff ff ff 00>}", true, MALFORMED, NULL, -1)
    V("ext32 claims 4 GiB", "{\"t\": \"ping\", \"x\": <c9 ff ff ff ff 01 00>}", true, MALFORMED, NULL, -1)
    V("body is an array", "[\"t\", \"ping\"]", true, MALFORMED, NULL, -1)
    V("body is a string", "\"ping\"", true, MALFORMED, NULL, -1)
    V("body is an integer", "7", true, MALFORMED, NULL, -1)
    V("body is nil", "null", true, MALFORMED, NULL, -1)
    /* keys */
    V("integer map key", "{\"t\": \"ping\", 1: 2}", true, MALFORMED, NULL, -1)
    V("integer key first", "{1: \"ping\"}", true, MALFORMED, NULL, -1)
    V("bin map key", "{b\"t\": \"ping\"}", true, MALFORMED, NULL, -1)
    V("nil map key", "{\"t\": \"ping\", null: 1}", true, MALFORMED, NULL, -1)
    V("map as a map key", "{\"t\": \"ping\", {}: 1}", true, MALFORMED, NULL, -1)
    V("duplicate field", "{\"t\": \"score\", \"id\": 4, \"item\": 1, \"item\": 2, \"value\": 3}", true,
      MALFORMED, "item", 4)
    V("duplicate t", "{\"t\": \"ping\", \"t\": \"status\"}", true, MALFORMED, NULL, -1)
    V("duplicate id", "{\"t\": \"ping\", \"id\": 1, \"id\": 1}", true, MALFORMED, "id", 1)
    V("key in a row not a string", "{\"t\": \"ok\", \"rows\": [{1: 2}]}", true, MALFORMED, NULL, -1)
    /* the type */
    V("no t", "{\"id\": 5, \"value\": 3}", true, MISSING_FIELD, NULL, 5)
    V("empty map", "{}", true, MISSING_FIELD, NULL, -1)
    V("t is an integer", "{\"t\": 1, \"id\": 6}", true, BAD_TYPE, NULL, 6)
    V("t is a bin", "{\"t\": b\"ping\"}", true, BAD_TYPE, NULL, -1)
    V("t is nil", "{\"t\": null}", true, BAD_TYPE, NULL, -1)
    V("unknown type", "{\"t\": \"bogus\", \"id\": 42}", true, UNKNOWN_TYPE, NULL, 42)
    V("unknown type, id after t", "{\"id\": 43, \"t\": \"frobnicate\"}", false, UNKNOWN_TYPE, NULL, 43)
    V("empty type name", "{\"t\": \"\"}", true, UNKNOWN_TYPE, NULL, -1)
    V("type name in another case", "{\"t\": \"Hello\", \"id\": 1}", true, UNKNOWN_TYPE, NULL, 1)
    V("type name with a NUL", "{\"t\": \"ping\\u0000\"}", true, UNKNOWN_TYPE, NULL, -1)
    /* missing fields */
    V("score without value", "{\"t\": \"score\", \"id\": 1, \"item\": 1}", false, MISSING_FIELD,
      "value", 1)
    V("hello without proto", "{\"t\": \"hello\", \"kind\": \"monitor\"}", false, MISSING_FIELD,
      "proto", -1)
    V("event without seq", "{\"t\": \"closed\"}", true, MISSING_FIELD, "seq", -1)
    V("error without err", "{\"t\": \"error\", \"id\": 2}", true, MISSING_FIELD, "err", 2)
    /* wrong MessagePack type, for every kind of field */
    V("int field given a string", "{\"t\": \"score\", \"id\": 3, \"item\": \"1\", \"value\": 5}",
      false, BAD_TYPE, "item", 3)
    V("int field given a float64", "{\"t\": \"score\", \"item\": 1.0, \"value\": 5}", false,
      BAD_TYPE, "item", -1)
    V("int field given a float32", "{\"t\": \"score\", \"item\": 1, \"value\": 5.0f}", false,
      BAD_TYPE, "value", -1)
    V("int field given nil", "{\"t\": \"score\", \"item\": null, \"value\": 5}", false, BAD_TYPE,
      "item", -1)
    V("int field given a boolean", "{\"t\": \"score\", \"item\": true, \"value\": 5}", false,
      BAD_TYPE, "item", -1)
    V("int field given an array", "{\"t\": \"score\", \"item\": [1], \"value\": 5}", false,
      BAD_TYPE, "item", -1)
    V("int field given a map", "{\"t\": \"score\", \"item\": {}, \"value\": 5}", false, BAD_TYPE,
      "item", -1)
    V("int field given a bin", "{\"t\": \"score\", \"item\": b\"\\x01\", \"value\": 5}", false,
      BAD_TYPE, "item", -1)
    V("int field given an ext", "{\"t\": \"score\", \"item\": <d4 01 01>, \"value\": 5}", false,
      BAD_TYPE, "item", -1)
    V("id given a string", "{\"t\": \"ping\", \"id\": \"7\"}", false, BAD_TYPE, "id", -1)
    V("bool field given 1", "{\"t\": \"session.new\", \"team\": \"A\", \"auto\": 1}", false,
      BAD_TYPE, "auto", -1)
    V("bool field given \"true\"", "{\"t\": \"session.new\", \"team\": \"A\", \"auto\": \"true\"}",
      false, BAD_TYPE, "auto", -1)
    V("bool field given nil", "{\"t\": \"turn\", \"seq\": 1, \"current\": 0, \"pass\": null}",
      true, BAD_TYPE, "pass", -1)
    V("string field given an integer", "{\"t\": \"keyword\", \"text\": 5}", false, BAD_TYPE,
      "text", -1)
    V("string field given a bin", "{\"t\": \"keyword\", \"text\": b\"words\"}", false, BAD_TYPE,
      "text", -1)
    V("string field given an array", "{\"t\": \"keyword\", \"text\": [\"a\"]}", false, BAD_TYPE,
      "text", -1)
    V("enum field given its index", "{\"t\": \"hello\", \"proto\": 1, \"kind\": 0}", false,
      BAD_TYPE, "kind", -1)
    V("enum field given a bin", "{\"t\": \"hello\", \"proto\": 1, \"kind\": b\"admin\"}", false,
      BAD_TYPE, "kind", -1)
    V("int array given an integer", "{\"t\": \"theme.add\", \"text\": \"x\", \"items\": 1}", false,
      BAD_TYPE, "items", -1)
    V("int array given a map", "{\"t\": \"theme.add\", \"text\": \"x\", \"items\": {}}", false,
      BAD_TYPE, "items", -1)
    V("int array with a string", "{\"t\": \"theme.add\", \"text\": \"x\", \"items\": [1, \"2\"]}",
      false, BAD_TYPE, "items", -1)
    V("int array with a float", "{\"t\": \"theme.add\", \"text\": \"x\", \"items\": [1.5]}", false,
      BAD_TYPE, "items", -1)
    V("int array with an array", "{\"t\": \"theme.add\", \"text\": \"x\", \"items\": [[1]]}", false,
      BAD_TYPE, "items", -1)
    V("events given a map", "{\"t\": \"snapshot\", \"session\": 1, \"seq\": 1, \"events\": {}}",
      true, BAD_TYPE, "events", -1)
    V("events element an integer",
      "{\"t\": \"snapshot\", \"session\": 1, \"seq\": 1, \"events\": [1]}", true, BAD_TYPE,
      "events", -1)
    V("rows element a string", "{\"t\": \"ok\", \"rows\": [\"a\"]}", true, BAD_TYPE, "rows", -1)
    /* nested messages */
    V("events element without t",
      "{\"t\": \"snapshot\", \"session\": 1, \"seq\": 1, \"events\": [{\"seq\": 1}]}", true,
      MISSING_FIELD, "events", -1)
    V("events element of an unknown type",
      "{\"t\": \"snapshot\", \"session\": 1, \"seq\": 1, \"events\": [{\"t\": \"x\", \"seq\": 1}]}",
      true, UNKNOWN_TYPE, "events", -1)
    V("events element a request",
      "{\"t\": \"snapshot\", \"session\": 1, \"seq\": 1, \"events\": [{\"t\": \"ping\"}]}", true,
      OUT_OF_RANGE, "events", -1)
    V("events element without its seq",
      "{\"t\": \"snapshot\", \"session\": 1, \"seq\": 1, \"events\": [{\"t\": \"closed\"}]}", true,
      MISSING_FIELD, "seq", -1)
    V("events element with a bad field",
      "{\"t\": \"snapshot\", \"session\": 1, \"seq\": 2, \"events\": [{\"t\": \"closed\", \"seq\": "
      "1}, {\"t\": \"removed\", \"seq\": 2, \"pid\": 0}]}",
      true, OUT_OF_RANGE, "pid", -1)
    V("events refused from a client",
      "{\"t\": \"snapshot\", \"session\": 1, \"seq\": 1, \"events\": []}", false, OUT_OF_RANGE,
      "events", -1)
    V("rows refused from a client", "{\"t\": \"ok\", \"id\": 9, \"rows\": []}", false,
      OUT_OF_RANGE, "rows", 9)
    /* ranges */
    V("value below 1", "{\"t\": \"score\", \"id\": 5, \"item\": 1, \"value\": 0}", false,
      OUT_OF_RANGE, "value", 5)
    V("value above 10", "{\"t\": \"score\", \"item\": 1, \"value\": 11}", false, OUT_OF_RANGE,
      "value", -1)
    V("item 32", "{\"t\": \"score\", \"item\": 32, \"value\": 5}", false, OUT_OF_RANGE, "item", -1)
    V("item -1", "{\"t\": \"score\", \"item\": -1, \"value\": 5}", false, OUT_OF_RANGE, "item", -1)
    V("negative id", "{\"t\": \"ping\", \"id\": -1}", false, OUT_OF_RANGE, "id", -1)
    V("id past 2^32-1", "{\"t\": \"ping\", \"id\": 4294967296}", false, OUT_OF_RANGE, "id", -1)
    V("uint64 max", "{\"t\": \"ok\", \"seq\": 18446744073709551615}", true, OUT_OF_RANGE, "seq",
      -1)
    V("int64 min", "{\"t\": \"ok\", \"seq\": -9223372036854775808}", true, OUT_OF_RANGE, "seq", -1)
    V("seq past 2^53-1", "{\"t\": \"ok\", \"seq\": 9007199254740992}", true, OUT_OF_RANGE, "seq",
      -1)
    V("proto 0", "{\"t\": \"hello\", \"proto\": 0, \"kind\": \"monitor\"}", false, OUT_OF_RANGE,
      "proto", -1)
    V("kind not in the list", "{\"t\": \"hello\", \"proto\": 1, \"kind\": \"root\"}", false,
      OUT_OF_RANGE, "kind", -1)
    V("kind in another case", "{\"t\": \"hello\", \"proto\": 1, \"kind\": \"Admin\"}", false,
      OUT_OF_RANGE, "kind", -1)
    V("empty enum value", "{\"t\": \"turn.order\", \"mode\": \"\"}", false, OUT_OF_RANGE, "mode",
      -1)
    V("empty token", "{\"t\": \"hello\", \"proto\": 1, \"kind\": \"admin\", \"token\": \"\"}",
      false, OUT_OF_RANGE, "token", -1)
    V("empty text", "{\"t\": \"keyword\", \"text\": \"\"}", false, OUT_OF_RANGE, "text", -1)
    V("date not a date", "{\"t\": \"lookahead.date\", \"date\": \"2025/01/01\"}", false,
      OUT_OF_RANGE, "date", -1)
    V("date 30 February", "{\"t\": \"lookahead.date\", \"date\": \"2025-02-30\"}", false,
      OUT_OF_RANGE, "date", -1)
    V("29 February of a common year", "{\"t\": \"lookahead.date\", \"date\": \"2100-02-29\"}",
      false, OUT_OF_RANGE, "date", -1)
    V("month 13", "{\"t\": \"action.propose\", \"text\": \"a\", \"deadline\": \"2025-13-01\"}",
      false, OUT_OF_RANGE, "deadline", -1)
    V("date too short", "{\"t\": \"lookahead.date\", \"date\": \"2025-1-01\"}", false,
      OUT_OF_RANGE, "date", -1)
    V("year 1999", "{\"t\": \"lookahead.date\", \"date\": \"1999-12-31\"}", false, OUT_OF_RANGE,
      "date", -1)
    V("order element 0", "{\"t\": \"turn.order\", \"mode\": \"manual\", \"order\": [1, 0]}", false,
      OUT_OF_RANGE, "order", -1)
    V("delta 2", "{\"t\": \"vote\", \"theme\": 1, \"delta\": 2}", false, OUT_OF_RANGE, "delta", -1)
    V("rating 6", "{\"t\": \"evaluation\", \"rating\": 6}", false, OUT_OF_RANGE, "rating", -1)
    V("err below 100", "{\"t\": \"error\", \"err\": 99}", true, OUT_OF_RANGE, "err", -1)
    /* UTF-8 and control characters */
    V("overlong slash, 2 bytes", "{\"t\": \"keyword\", \"text\": \"a\\xc0\\xaf\"}", false, BAD_UTF8,
      "text", -1)
    V("overlong, 0xc1 lead", "{\"t\": \"keyword\", \"text\": \"\\xc1\\xbf\"}", false, BAD_UTF8,
      "text", -1)
    V("overlong, 3 bytes", "{\"t\": \"keyword\", \"text\": \"\\xe0\\x80\\xaf\"}", false, BAD_UTF8,
      "text", -1)
    V("overlong, 4 bytes", "{\"t\": \"keyword\", \"text\": \"\\xf0\\x80\\x80\\xaf\"}", false,
      BAD_UTF8, "text", -1)
    V("overlong NUL", "{\"t\": \"keyword\", \"text\": \"\\xc0\\x80\"}", false, BAD_UTF8, "text", -1)
    V("high surrogate", "{\"t\": \"keyword\", \"text\": \"\\ud800\"}", false, BAD_UTF8, "text", -1)
    V("low surrogate", "{\"t\": \"keyword\", \"text\": \"x\\udfff\"}", false, BAD_UTF8, "text", -1)
    V("past U+10FFFF", "{\"t\": \"keyword\", \"text\": \"\\xf4\\x90\\x80\\x80\"}", false, BAD_UTF8,
      "text", -1)
    V("0xf5 lead byte", "{\"t\": \"keyword\", \"text\": \"\\xf5\\x80\\x80\\x80\"}", false, BAD_UTF8,
      "text", -1)
    V("sequence cut at the end", "{\"t\": \"keyword\", \"text\": \"ok\\xe2\\x82\"}", false, BAD_UTF8,
      "text", -1)
    V("sequence cut in the middle", "{\"t\": \"keyword\", \"text\": \"\\xe2\\x82ok\"}", false,
      BAD_UTF8, "text", -1)
    V("4-byte sequence cut", "{\"t\": \"keyword\", \"text\": \"\\xf0\\x9f\\x8c\"}", false, BAD_UTF8,
      "text", -1)
    V("lone continuation byte", "{\"t\": \"keyword\", \"text\": \"\\x80\"}", false, BAD_UTF8, "text",
      -1)
    V("0xff byte", "{\"t\": \"keyword\", \"text\": \"a\\xff\"}", false, BAD_UTF8, "text", -1)
    V("NUL", "{\"t\": \"keyword\", \"text\": \"a\\u0000b\"}", false, BAD_UTF8, "text", -1)
    V("SOH", "{\"t\": \"keyword\", \"text\": \"\\u0001\"}", false, BAD_UTF8, "text", -1)
    V("carriage return", "{\"t\": \"keyword\", \"text\": \"a\\rb\"}", false, BAD_UTF8, "text", -1)
    V("escape", "{\"t\": \"keyword\", \"text\": \"\\u001b[2J\"}", false, BAD_UTF8, "text", -1)
    V("DEL", "{\"t\": \"keyword\", \"text\": \"\\u007f\"}", false, BAD_UTF8, "text", -1)
    V("C1 NEL", "{\"t\": \"keyword\", \"text\": \"\\u0085\"}", false, BAD_UTF8, "text", -1)
    V("C1 CSI", "{\"t\": \"keyword\", \"text\": \"\\u009b31m\"}", false, BAD_UTF8, "text", -1)
    V("control character in a name", "{\"t\": \"hello\", \"id\": 1, \"proto\": 1, \"kind\": "
      "\"participant\", \"code\": \"ABC\", \"name\": \"Mer\\u0007el\"}", false, BAD_UTF8, "name", 1)
    V("invalid UTF-8 in a row", "{\"t\": \"ok\", \"rows\": [{\"team\": \"\\xc3\"}]}", true,
      BAD_UTF8, "team", -1)
};
/* clang-format on */

static void every_negative_vector_is_refused_with_its_code(void **state)
{
    size_t n = sizeof(vectors) / sizeof(vectors[0]);
    assert_true(n >= 50);
    for (size_t i = 0; i < n; i++) {
        const struct vec *v = &vectors[i];
        struct proto_msg *m = (struct proto_msg *)&m; /* must be reset to NULL */
        struct proto_error err;
        int rc = decode_text(v->in, v->nested, &m, &err);
        if (rc != v->code || err.code != v->code)
            fail_msg("%s: got %d (%s: %s), want %d", v->name, -rc, proto_err_name(rc), err.detail,
                     -v->code);
        assert_null(m);
        const char *key = err.key < PK__COUNT ? proto_key_name(err.key) : NULL;
        if ((key == NULL) != (v->key == NULL) || (key && strcmp(key, v->key) != 0))
            fail_msg("%s: key %s, want %s", v->name, key ? key : "-", v->key ? v->key : "-");
        if (err.id != v->id)
            fail_msg("%s: id %" PRId64 ", want %" PRId64, v->name, err.id, v->id);
        assert_true(err.detail[0] != '\0');
        /* A client's decode is never more lenient than a server-side one. */
        if (v->nested) {
            rc = decode_text(v->in, false, &m, &err);
            assert_true(rc < 0);
            assert_null(m);
        }
    }
}

/* Strings and arrays made long by repetition. */
static char *repeat(const char *prefix, const char *unit, size_t times, const char *suffix)
{
    size_t ul = strlen(unit);
    char *s = malloc(strlen(prefix) + ul * times + strlen(suffix) + 1);
    char *p = s;
    p += sprintf(p, "%s", prefix);
    for (size_t i = 0; i < times; i++, p += ul)
        memcpy(p, unit, ul);
    sprintf(p, "%s", suffix);
    return s;
}

static int decode_owned(char *text, bool nested, struct proto_error *err)
{
    struct proto_msg *m;
    int rc = decode_text(text, nested, &m, err);
    proto_msg_free(m);
    free(text);
    return rc;
}

static void lengths_and_counts_pass_at_the_limit_and_fail_one_past(void **state)
{
    struct proto_error err;
    char *hello = "{\"t\": \"hello\", \"proto\": 1, \"kind\": \"admin\", \"token\": \"";
    assert_int_equal(decode_owned(repeat(hello, "x", 128, "\"}"), false, &err), 0);
    assert_int_equal(decode_owned(repeat(hello, "x", 129, "\"}"), false, &err),
                     PROTO_ERR_OUT_OF_RANGE);
    assert_int_equal(err.key, PK_TOKEN);
    char *kw = "{\"t\": \"keyword\", \"text\": \"";
    assert_int_equal(decode_owned(repeat(kw, "\xc3\xa9", PROTO_MAX_TEXT / 2, "\"}"), false, &err),
                     0);
    assert_int_equal(decode_owned(repeat(kw, "x", PROTO_MAX_TEXT + 1, "\"}"), false, &err),
                     PROTO_ERR_OUT_OF_RANGE);
    /* Lengths count bytes, not characters: 2049 two-byte characters are 4098 bytes. */
    assert_int_equal(
        decode_owned(repeat(kw, "\xc3\xa9", PROTO_MAX_TEXT / 2 + 1, "\"}"), false, &err),
        PROTO_ERR_OUT_OF_RANGE);
    char *order = "{\"t\": \"turn.order\", \"mode\": \"manual\", \"order\": [1";
    assert_int_equal(decode_owned(repeat(order, ",1", PROTO_MAX_ARRAY - 1, "]}"), false, &err), 0);
    assert_int_equal(decode_owned(repeat(order, ",1", PROTO_MAX_ARRAY, "]}"), false, &err),
                     PROTO_ERR_OUT_OF_RANGE);
    assert_int_equal(err.key, PK_ORDER);
    char *msg = "{\"t\": \"error\", \"err\": 500, \"msg\": \"";
    assert_int_equal(decode_owned(repeat(msg, "m", 512, "\"}"), true, &err), 0);
    assert_int_equal(decode_owned(repeat(msg, "m", 513, "\"}"), true, &err),
                     PROTO_ERR_OUT_OF_RANGE);
}

/* n maps nested inside the message map: {"t":"ok","x":{"x":{...}}}. */
static char *nest(int levels)
{
    char *open = repeat("{\"t\": \"ok\"", ", \"x\": {\"y\": 1", (size_t)levels - 1, "");
    char *all = repeat(open, "}", (size_t)levels, "");
    free(open);
    return all;
}

static void nesting_is_bounded_before_unpacking(void **state)
{
    struct proto_error err;
    /* Server messages: 6 levels pass, 7 do not, nor do 33. */
    assert_int_equal(decode_owned(nest(PROTO_MAX_DEPTH), true, &err), 0);
    assert_int_equal(decode_owned(nest(PROTO_MAX_DEPTH + 1), true, &err), PROTO_ERR_OUT_OF_RANGE);
    assert_int_equal(decode_owned(nest(33), true, &err), PROTO_ERR_OUT_OF_RANGE);
    assert_string_equal(err.detail, "nested too deeply");
    /* Client messages: 3 and 4. */
    assert_int_equal(decode_owned(nest(PROTO_MAX_DEPTH_REQUEST), false, &err), 0);
    assert_int_equal(decode_owned(nest(PROTO_MAX_DEPTH_REQUEST + 1), false, &err),
                     PROTO_ERR_OUT_OF_RANGE);
    /* 33 empty arrays inside each other: the raw check alone. */
    uint8_t deep[33];
    memset(deep, 0x91, sizeof(deep));
    deep[32] = 0x90;
    assert_int_equal(proto_mp_check(deep, sizeof(deep), PROTO_MAX_DEPTH), PROTO_ERR_OUT_OF_RANGE);
    assert_int_equal(proto_mp_check(deep, sizeof(deep), 33), 0);
    assert_int_equal(proto_mp_check(deep, sizeof(deep), 32), PROTO_ERR_OUT_OF_RANGE);
    /* The deepest real message: snapshot > events > session.created > rows > row > values. */
    struct gen_sample *s = gen_sample_new(PT_SNAPSHOT, GEN_MAX);
    uint8_t *body;
    size_t len;
    assert_int_equal(proto_encode(gen_sample_msg(s), &body, &len), 0);
    assert_int_equal(proto_mp_check(body, len, PROTO_MAX_DEPTH), 0);
    assert_int_equal(proto_mp_check(body, len, PROTO_MAX_DEPTH - 1), PROTO_ERR_OUT_OF_RANGE);
    free(body);
    gen_sample_free(s);
}

static void huge_declared_counts_are_refused_by_the_pre_scan(void **state)
{
    /* If msgpack-c saw these it would try to allocate 4 Gi objects (and fail
     * with NOMEM, code 500): code 100 shows the pre-scan stopped them. */
    static const char *const huge[] = {
        "dd ff ff ff ff 01 02 03",
        "df ff ff ff ff a1 74 a4",
        "dc ff ff 90",
        "de ff ff a1 74 a4 70 69 6e 67",
        "db ff ff ff ff 61",
        "c6 ff ff ff ff 61",
        "c9 ff ff ff ff 01 61",
        "81 a1 74 dd 7f ff ff ff c0",
        "81 a1 74 9f c0 c0 c0", /* fixarray 15, 3 present */
        "8f a1 74",             /* fixmap 15 */
    };
    for (size_t i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
        size_t len;
        uint8_t *b = unhex(huge[i], &len);
        assert_int_equal(proto_mp_check(b, len, 64), PROTO_ERR_MALFORMED);
        struct proto_msg *m;
        struct proto_error err;
        assert_int_equal(proto_decode(b, len, true, &m, &err), PROTO_ERR_MALFORMED);
        assert_int_equal(proto_decode(b, len, false, &m, &err), PROTO_ERR_MALFORMED);
        free(b);
    }
    assert_int_equal(proto_mp_check(NULL, 0, 6), PROTO_ERR_MALFORMED);
    struct proto_msg *m;
    assert_int_equal(proto_decode((const uint8_t *)"", 0, true, &m, NULL), PROTO_ERR_MALFORMED);
}

static void every_truncation_of_every_sample_is_refused(void **state)
{
    for (int t = PT__NONE + 1; t < PT__COUNT; t++) {
        struct gen_sample *s = gen_sample_new((enum proto_type)t, GEN_TYPICAL);
        uint8_t *body;
        size_t len;
        assert_int_equal(proto_encode(gen_sample_msg(s), &body, &len), 0);
        for (size_t cut = 0; cut < len; cut++) {
            struct proto_msg *m;
            assert_int_equal(proto_decode(body, cut, true, &m, NULL), PROTO_ERR_MALFORMED);
            assert_int_equal(proto_mp_check(body, cut, PROTO_MAX_DEPTH), PROTO_ERR_MALFORMED);
        }
        /* and a byte too many */
        uint8_t *longer = malloc(len + 1);
        memcpy(longer, body, len);
        longer[len] = 0xc0;
        struct proto_msg *m;
        assert_int_equal(proto_decode(longer, len + 1, true, &m, NULL), PROTO_ERR_MALFORMED);
        free(longer);
        free(body);
        gen_sample_free(s);
    }
}

static void frame_declaring_4_gib_is_refused_from_its_prefix(void **state)
{
    struct proto_framer f;
    proto_framer_init(&f, PROTO_DEFAULT_MAX_FRAME);
    const uint8_t hdr[] = {0xff, 0xff, 0xff, 0xff, 0x81, 0xa1};
    assert_int_equal(proto_framer_feed(&f, hdr, sizeof(hdr)), PROTO_ERR_TOO_LARGE);
    assert_true(f.cap < 64 * 1024);
    const uint8_t *b;
    uint32_t l;
    assert_int_equal(proto_framer_next(&f, &b, &l), PROTO_ERR_TOO_LARGE);
    proto_framer_free(&f);
    /* Even with the client's much larger limit. */
    proto_framer_init(&f, PROTO_CLIENT_MAX_FRAME);
    assert_int_equal(proto_framer_feed(&f, hdr, 4), PROTO_ERR_TOO_LARGE);
    assert_true(f.cap < 64 * 1024);
    proto_framer_free(&f);
}

static void framer_lets_go_of_a_large_buffer_once_it_is_consumed(void **state)
{
    struct gen_sample *s = gen_sample_new(PT_KEYWORD, GEN_MAX);
    uint8_t *frame;
    size_t len;
    assert_int_equal(proto_encode_frame(gen_sample_msg(s), &frame, &len), 0);
    assert_true(len > 4096);
    struct proto_framer f;
    proto_framer_init(&f, PROTO_DEFAULT_MAX_FRAME);
    for (int i = 0; i < 8; i++)
        assert_int_equal(proto_framer_feed(&f, frame, len), 0);
    /* Fed again before it was drained, the framer copied the earlier input. */
    assert_true(f.cap >= 7 * len);
    const uint8_t *b;
    uint32_t l;
    for (int i = 0; i < 8; i++)
        assert_int_equal(proto_framer_next(&f, &b, &l), 1);
    assert_int_equal(proto_framer_next(&f, &b, &l), 0);
    assert_null(f.buf);
    assert_int_equal(f.cap, 0);
    const uint8_t ping[] = {0, 0, 0, 8, 0x81, 0xa1, 't', 0xa4, 'p', 'i', 'n'};
    assert_int_equal(proto_framer_feed(&f, ping, sizeof(ping)), 0);
    assert_true(f.cap <= 4096);
    assert_int_equal(proto_framer_feed(&f, (const uint8_t *)"g", 1), 0);
    assert_int_equal(proto_framer_next(&f, &b, &l), 1);
    assert_int_equal(l, 8);
    proto_framer_free(&f);
    free(frame);
    gen_sample_free(s);
}

/* ---- what is accepted -------------------------------------------------- */

static void unknown_keys_and_keys_a_type_does_not_use_are_ignored(void **state)
{
    struct proto_msg *m;
    struct proto_error err;
    assert_int_equal(decode_text("{\"t\": \"ping\", \"id\": 3, \"later\": {\"a\": [1, 2.5, "
                                 "null]}, \"value\": \"no int\", \"seq\": b\"\", \"x\": <c7 01 05 "
                                 "00>}",
                                 false, &m, &err),
                     0);
    assert_int_equal(m->type, PT_PING);
    assert_int_equal(proto_int(m, PK_ID, -1), 3);
    assert_false(proto_has(m, PK_VALUE));
    assert_false(proto_has(m, PK_SEQ));
    proto_msg_free(m);
    /* Fields of a row are any known key; unknown ones are dropped. */
    assert_int_equal(
        decode_text("{\"t\": \"ok\", \"rows\": [{\"t\": \"anything\", \"team\": \"A\", "
                    "\"mystery\": 1}]}",
                    true, &m, &err),
        0);
    assert_int_equal(m->v[PK_ROWS].m.n, 1);
    assert_string_equal(proto_str(&m->v[PK_ROWS].m.p[0], PK_TEAM), "A");
    proto_msg_free(m);
}

static void any_integer_width_and_string_width_is_accepted(void **state)
{
    struct proto_msg *m;
    struct proto_error err;
    /* value 5 as uint16, item 1 as int64, text as str16. */
    assert_int_equal(decode_text("{\"t\": \"score\", \"value\": <cd 00 05>, \"item\": <d3 00 00 00 "
                                 "00 00 00 00 01>}",
                                 false, &m, &err),
                     0);
    assert_int_equal(proto_int(m, PK_VALUE, 0), 5);
    assert_int_equal(proto_int(m, PK_ITEM, 0), 1);
    proto_msg_free(m);
    assert_int_equal(
        decode_text("{<d9 01 74>: <da 00 07 6b 65 79 77 6f 72 64>, \"text\": <db 00 00 "
                    "00 02 6f 6b>}",
                    false, &m, &err),
        0);
    assert_int_equal(m->type, PT_KEYWORD);
    assert_string_equal(proto_str(m, PK_TEXT), "ok");
    proto_msg_free(m);
    /* map16 and array16 headers for small counts. */
    assert_int_equal(decode_text("<de 00 02> \"t\" \"theme.add\" \"text\" \"x\"", false, &m, &err),
                     0);
    proto_msg_free(m);
}

static void tab_newline_and_all_of_unicode_are_allowed_in_text(void **state)
{
    static const char *const ok[] = {
        "tab\there",
        "line\nbreak",
        "\xc2\xa0nbsp",
        "\xdf\xbf",
        "\xe0\xa0\x80",
        "\xef\xbf\xbf",
        "\xf0\x90\x80\x80",
        "\xf4\x8f\xbf\xbf",
        "Zo\xc3\xab \xe2\x9c\x93 \xf0\x9f\x8c\xb1",
        "",
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        assert_true(proto_utf8_ok(ok[i], strlen(ok[i])));
    assert_false(proto_utf8_ok("\xed\x9f\xbf\xed\xa0\x80", 6)); /* U+D7FF fine, U+D800 not */
    assert_true(proto_utf8_ok("\xed\x9f\xbf", 3));
    assert_true(proto_utf8_ok("\xee\x80\x80", 3)); /* U+E000 */
    assert_false(proto_utf8_ok("a\0b", 3));
}

static void dates_are_checked_against_the_calendar(void **state)
{
    assert_true(proto_date_ok("2024-02-29", 10));
    assert_true(proto_date_ok("2000-02-29", 10)); /* divisible by 400 */
    assert_false(proto_date_ok("2100-02-29", 10));
    assert_false(proto_date_ok("2023-02-29", 10));
    assert_true(proto_date_ok("2025-12-31", 10));
    assert_false(proto_date_ok("2025-04-31", 10));
    assert_false(proto_date_ok("2025-00-10", 10));
    assert_false(proto_date_ok("2025-01-00", 10));
    assert_false(proto_date_ok("+025-01-01", 10));
    assert_false(proto_date_ok("2025-01-0a", 10));
    assert_false(proto_date_ok("2025-01-011", 11));
}

static void error_echoes_the_id_whenever_it_could_be_read(void **state)
{
    struct proto_msg *m;
    struct proto_error err;
    assert_int_equal(decode_text("{\"t\": \"nope\", \"id\": 4294967295}", false, &m, &err),
                     PROTO_ERR_UNKNOWN_TYPE);
    assert_int_equal(err.id, 4294967295LL);
    assert_int_equal(
        decode_text("{\"id\": 77, \"t\": \"score\", \"item\": 99, \"value\": 1}", false, &m, &err),
        PROTO_ERR_OUT_OF_RANGE);
    assert_int_equal(err.id, 77);
    assert_int_equal(err.key, PK_ITEM);
    /* An id that is itself wrong is not echoed. */
    assert_int_equal(decode_text("{\"t\": \"nope\", \"id\": \"77\"}", false, &m, &err),
                     PROTO_ERR_UNKNOWN_TYPE);
    assert_int_equal(err.id, -1);
    assert_int_equal(decode_text("{\"t\": \"nope\", \"id\": 4294967296}", false, &m, &err),
                     PROTO_ERR_UNKNOWN_TYPE);
    assert_int_equal(err.id, -1);
    /* Not well-formed: nothing could be read. */
    assert_int_equal(decode_text("{\"id\": 5, \"t\": <c1>}", false, &m, &err), PROTO_ERR_MALFORMED);
    assert_int_equal(err.id, -1);
    /* Ids of nested messages are not the request's. */
    assert_int_equal(
        decode_text("{\"t\": \"ok\", \"rows\": [{\"id\": 5}], \"seq\": -1}", true, &m, &err),
        PROTO_ERR_OUT_OF_RANGE);
    assert_int_equal(err.id, -1);
}

/* ---- PROTOCOL.md ------------------------------------------------------- */

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    struct gen_buf b = {0};
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        gen_bytes(&b, chunk, n);
    fclose(f);
    return b.p;
}

static void protocol_md_tables_are_the_generated_ones(void **state)
{
    char *doc = read_text(LWK_SOURCE_DIR "/proto/PROTOCOL.md");
    struct gen_buf spec = {0};
    gen_spec(&spec);
    const char *b = strstr(doc, GEN_SPEC_BEGIN);
    assert_non_null(b);
    const char *e = strstr(b, GEN_SPEC_END);
    assert_non_null(e);
    e += strlen(GEN_SPEC_END);
    bool same = (size_t)(e - b) == spec.len && memcmp(b, spec.p, spec.len) == 0;
    bool once = strstr(e, GEN_SPEC_BEGIN) == NULL;
    char where[400] = "";
    if (!same) {
        size_t i = 0;
        while (i < spec.len && b + i < e && b[i] == spec.p[i])
            i++;
        size_t from = i > 60 ? i - 60 : 0;
        snprintf(where, sizeof(where), "at byte %zu:\n  doc: %.120s\n  gen: %.120s", i, b + from,
                 spec.p + from);
    }
    gen_buf_free(&spec);
    free(doc);
    if (!same)
        fail_msg("PROTOCOL.md differs from the catalogue in proto.h %s\n"
                 "run: cmake --build build --target protocol_md",
                 where);
    assert_true(once);
}

/* s with the whitespace outside string literals removed. */
static char *squeeze_json(const char *s, size_t len)
{
    char *out = malloc(len + 1), *o = out;
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_str) {
            *o++ = c;
            if (c == '\\' && i + 1 < len)
                *o++ = s[++i];
            else if (c == '"')
                in_str = false;
        } else if (!isspace((unsigned char)c)) {
            *o++ = c;
            in_str = c == '"';
        }
    }
    *o = '\0';
    return out;
}

static void protocol_md_examples_decode_to_what_they_show(void **state)
{
    char *doc = read_text(LWK_SOURCE_DIR "/proto/PROTOCOL.md");
    int seen[PT__COUNT] = {0};
    int scored_public = 0, scored_full = 0, examples = 0;
    const char *p = doc;
    while ((p = strstr(p, "```hex\n")) != NULL) {
        p += 7;
        const char *hex_end = strstr(p, "```");
        assert_non_null(hex_end);
        const char *json = strstr(hex_end + 3, "```json\n");
        assert_non_null(json);
        json += 8;
        const char *json_end = strstr(json, "```");
        assert_non_null(json_end);
        char *hex = strndup(p, (size_t)(hex_end - p));
        size_t len;
        uint8_t *frame = unhex(hex, &len);
        assert_true(len > PROTO_FRAME_HEADER);
        assert_int_equal(proto_get_u32be(frame), len - PROTO_FRAME_HEADER);
        struct proto_msg *m;
        struct proto_error err;
        int rc = proto_decode(frame + PROTO_FRAME_HEADER, len - PROTO_FRAME_HEADER, true, &m, &err);
        if (rc < 0)
            fail_msg("example %d does not decode: %s", examples + 1, err.detail);
        struct gen_buf got = {0};
        gen_json(&got, m, false);
        char *want = squeeze_json(json, (size_t)(json_end - json));
        char *have = squeeze_json(got.p, got.len);
        if (strcmp(want, have) != 0)
            fail_msg("example %d (%s):\n  doc:     %s\n  decoded: %s", examples + 1,
                     proto_type_name(m->type), want, have);
        seen[m->type]++;
        if (m->type == PT_EV_SCORED)
            *(proto_has(m, PK_VALUE) ? &scored_full : &scored_public) += 1;
        examples++;
        /* Re-encoding gives the same bytes: the examples are canonical. */
        uint8_t *again;
        size_t alen;
        assert_int_equal(proto_encode_frame(m, &again, &alen), 0);
        assert_int_equal(alen, len);
        assert_memory_equal(again, frame, len);
        free(again);
        free(want);
        free(have);
        gen_buf_free(&got);
        proto_msg_free(m);
        free(frame);
        free(hex);
        p = json_end + 3;
    }
    assert_true(seen[PT_HELLO] && seen[PT_WELCOME] && seen[PT_SCORE] && seen[PT_EV_REVEALED] &&
                seen[PT_ERROR] && seen[PT_SNAPSHOT]);
    assert_true(scored_public >= 1 && scored_full >= 1);
    free(doc);
}

/* ---- msgpack-test-suite ------------------------------------------------ */

/* Numeric value of a MessagePack number, as a double. */
static double num_d(const msgpack_object *o)
{
    switch (o->type) {
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        return (double)o->via.u64;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        return (double)o->via.i64;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        return o->via.f64;
    default:
        return 0.0 / 0.0;
    }
}

static bool is_int(const msgpack_object *o)
{
    return o->type == MSGPACK_OBJECT_POSITIVE_INTEGER || o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER;
}

static bool is_num(const msgpack_object *o)
{
    return is_int(o) || o->type == MSGPACK_OBJECT_FLOAT32 || o->type == MSGPACK_OBJECT_FLOAT64;
}

/* Same value: numbers compare by value whatever their encoding. */
static bool same_value(const msgpack_object *a, const msgpack_object *b)
{
    if (is_num(a) && is_num(b)) {
        if (is_int(a) && is_int(b))
            return a->type == b->type && a->via.u64 == b->via.u64;
        return num_d(a) == num_d(b);
    }
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case MSGPACK_OBJECT_NIL:
        return true;
    case MSGPACK_OBJECT_BOOLEAN:
        return a->via.boolean == b->via.boolean;
    case MSGPACK_OBJECT_STR:
    case MSGPACK_OBJECT_BIN:
        return a->via.str.size == b->via.str.size &&
               (a->via.str.size == 0 ||
                memcmp(a->via.str.ptr, b->via.str.ptr, a->via.str.size) == 0);
    case MSGPACK_OBJECT_ARRAY:
        if (a->via.array.size != b->via.array.size)
            return false;
        for (uint32_t i = 0; i < a->via.array.size; i++)
            if (!same_value(&a->via.array.ptr[i], &b->via.array.ptr[i]))
                return false;
        return true;
    case MSGPACK_OBJECT_MAP:
        if (a->via.map.size != b->via.map.size)
            return false;
        for (uint32_t i = 0; i < a->via.map.size; i++)
            if (!same_value(&a->via.map.ptr[i].key, &b->via.map.ptr[i].key) ||
                !same_value(&a->via.map.ptr[i].val, &b->via.map.ptr[i].val))
                return false;
        return true;
    default:
        return false;
    }
}

static const msgpack_object *map_get(const msgpack_object *map, const char *key)
{
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *k = &map->via.map.ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(key) &&
            memcmp(k->via.str.ptr, key, k->via.str.size) == 0)
            return &map->via.map.ptr[i].val;
    }
    return NULL;
}

static uint8_t *unhex_obj(const msgpack_object *s, size_t *len)
{
    char *t = strndup(s->via.str.ptr, s->via.str.size);
    uint8_t *b = unhex(t, len);
    free(t);
    return b;
}

static uint64_t be_n(const char *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | (uint8_t)p[i];
    return v;
}

/* Does msgpack-c's object got hold the case's value (kind: the case's value key)? */
static bool suite_value_ok(const char *kind, const msgpack_object *want, const msgpack_object *got)
{
    if (!strcmp(kind, "nil"))
        return got->type == MSGPACK_OBJECT_NIL;
    if (!strcmp(kind, "binary")) {
        size_t n;
        uint8_t *b = unhex_obj(want, &n);
        bool ok = got->type == MSGPACK_OBJECT_BIN && got->via.bin.size == n &&
                  (n == 0 || memcmp(got->via.bin.ptr, b, n) == 0);
        free(b);
        return ok;
    }
    if (!strcmp(kind, "bignum")) {
        char *t = strndup(want->via.str.ptr, want->via.str.size);
        bool neg = t[0] == '-';
        int64_t i = neg ? strtoll(t, NULL, 10) : 0;
        uint64_t u = neg ? 0 : strtoull(t, NULL, 10);
        free(t);
        if (got->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
            return !neg && got->via.u64 == u;
        if (got->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
            return neg && got->via.i64 == i;
        return is_num(got) && got->via.f64 == (neg ? (double)i : (double)u);
    }
    if (!strcmp(kind, "timestamp")) {
        if (got->type != MSGPACK_OBJECT_EXT || got->via.ext.type != -1)
            return false;
        int64_t sec;
        uint32_t nsec;
        const char *d = got->via.ext.ptr;
        if (got->via.ext.size == 4) {
            sec = (int64_t)be_n(d, 4);
            nsec = 0;
        } else if (got->via.ext.size == 8) {
            uint64_t v = be_n(d, 8);
            nsec = (uint32_t)(v >> 34);
            sec = (int64_t)(v & 0x3ffffffffULL);
        } else if (got->via.ext.size == 12) {
            nsec = (uint32_t)be_n(d, 4);
            sec = (int64_t)be_n(d + 4, 8);
        } else {
            return false;
        }
        return want->via.array.size == 2 && num_d(&want->via.array.ptr[0]) == (double)sec &&
               num_d(&want->via.array.ptr[1]) == (double)nsec;
    }
    if (!strcmp(kind, "ext")) {
        size_t n;
        uint8_t *b = unhex_obj(&want->via.array.ptr[1], &n);
        bool ok = got->type == MSGPACK_OBJECT_EXT &&
                  got->via.ext.type == (int8_t)num_d(&want->via.array.ptr[0]) &&
                  got->via.ext.size == n && (n == 0 || memcmp(got->via.ext.ptr, b, n) == 0);
        free(b);
        return ok;
    }
    return same_value(want, got); /* bool, number, string, array, map */
}

/*
 * Our codec on one encoding of a suite value: as the value of a field of
 * the right kind, it decodes to the value (an integer into an integer field
 * when in range, else 105; a float into an integer field: 103; strings,
 * booleans and integer arrays likewise).
 */
static void suite_through_codec(const char *kind, const msgpack_object *got, const uint8_t *enc,
                                size_t enc_len)
{
    const char *prefix;
    enum proto_key k;
    int want;
    bool check_value = false;
    int64_t iv = 0;
    if (is_int(got)) {
        bool neg = got->type == MSGPACK_OBJECT_NEGATIVE_INTEGER;
        iv = neg ? got->via.i64 : (int64_t)got->via.u64;
        if (neg && iv == -1) {
            prefix = "{\"t\": \"turn\", \"seq\": 1, \"current\": ";
            k = PK_CURRENT;
        } else {
            prefix = "{\"t\": \"ok\", \"seq\": ";
            k = PK_SEQ;
        }
        bool in = neg ? iv == -1 : got->via.u64 <= (uint64_t)proto_key_max(PK_SEQ);
        want = in ? 0 : PROTO_ERR_OUT_OF_RANGE;
        check_value = in;
    } else if (got->type == MSGPACK_OBJECT_BOOLEAN) {
        prefix = "{\"t\": \"turn\", \"seq\": 1, \"current\": 0, \"pass\": ";
        k = PK_PASS;
        want = 0;
    } else if (got->type == MSGPACK_OBJECT_STR) {
        prefix = "{\"t\": \"error\", \"err\": 100, \"msg\": ";
        k = PK_MSG;
        want = 0;
    } else if (got->type == MSGPACK_OBJECT_ARRAY) {
        prefix = "{\"t\": \"revealed\", \"seq\": 1, \"item\": 0, \"round\": 1, \"values\": ";
        k = PK_VALUES;
        want = 0;
        for (uint32_t i = 0; i < got->via.array.size; i++)
            if (got->via.array.ptr[i].type != MSGPACK_OBJECT_POSITIVE_INTEGER)
                want = PROTO_ERR_BAD_TYPE;
    } else {
        prefix = "{\"t\": \"error\", \"err\": 100, \"msg\": ";
        k = PK_MSG;
        want = PROTO_ERR_BAD_TYPE; /* nil, float, bin, map, ext into a string field */
    }
    if (got->type == MSGPACK_OBJECT_FLOAT32 || got->type == MSGPACK_OBJECT_FLOAT64) {
        prefix = "{\"t\": \"ok\", \"seq\": ";
        k = PK_SEQ;
        want = PROTO_ERR_BAD_TYPE;
    }
    size_t plen;
    char *text = repeat(prefix, "", 0, "<>}"); /* the prefix's bytes, then enc, then nothing */
    uint8_t *head = mp(text, &plen);
    free(text);
    /* head is a complete map; splice enc in where its last value (nothing) is. */
    uint8_t *msg = malloc(plen + enc_len);
    memcpy(msg, head, plen);
    memcpy(msg + plen, enc, enc_len);
    free(head);
    struct proto_msg *m;
    struct proto_error err;
    int rc = proto_decode(msg, plen + enc_len, true, &m, &err);
    if (rc != want)
        fail_msg("%s via %s: got %d (%s), want %d", kind, proto_key_name(k), -rc, err.detail,
                 -want);
    if (rc == 0) {
        if (check_value)
            assert_int_equal(m->v[k].i, iv);
        if (got->type == MSGPACK_OBJECT_BOOLEAN)
            assert_int_equal(m->v[k].i, got->via.boolean);
        if (got->type == MSGPACK_OBJECT_STR) {
            assert_int_equal(m->v[k].s.len, got->via.str.size);
            assert_memory_equal(m->v[k].s.p, got->via.str.ptr, got->via.str.size);
        }
        if (got->type == MSGPACK_OBJECT_ARRAY) {
            assert_int_equal(m->v[k].a.n, got->via.array.size);
            for (uint32_t i = 0; i < got->via.array.size; i++)
                assert_int_equal(m->v[k].a.p[i], got->via.array.ptr[i].via.u64);
        }
        proto_msg_free(m);
    }
    free(msg);
}

/* Our encoding of a value must be one of the suite's listed encodings. */
static void suite_our_encoding_is_listed(const msgpack_object *got, const msgpack_object *encs)
{
    struct proto_msg m;
    enum proto_key k;
    int64_t *ints = NULL;
    if (is_int(got) && got->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
        got->via.u64 <= (uint64_t)proto_key_max(PK_SEQ)) {
        proto_msg_init(&m, PT_OK);
        proto_set_int(&m, k = PK_SEQ, (int64_t)got->via.u64);
    } else if (got->type == MSGPACK_OBJECT_NEGATIVE_INTEGER && got->via.i64 == -1) {
        proto_msg_init(&m, PT_EV_TURN);
        proto_set_int(&m, PK_SEQ, 1);
        proto_set_int(&m, k = PK_CURRENT, -1);
    } else if (got->type == MSGPACK_OBJECT_BOOLEAN) {
        proto_msg_init(&m, PT_EV_TURN);
        proto_set_int(&m, PK_SEQ, 1);
        proto_set_int(&m, PK_CURRENT, 0);
        proto_set_bool(&m, k = PK_PASS, got->via.boolean);
    } else if (got->type == MSGPACK_OBJECT_STR) {
        proto_msg_init(&m, PT_ERROR);
        proto_set_int(&m, PK_ERR, 100);
        proto_set_strn(&m, k = PK_MSG, got->via.str.ptr, got->via.str.size);
    } else if (got->type == MSGPACK_OBJECT_ARRAY) {
        uint32_t n = got->via.array.size;
        ints = calloc(n + 1, sizeof(*ints));
        for (uint32_t i = 0; i < n; i++) {
            if (got->via.array.ptr[i].type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
                free(ints);
                return;
            }
            ints[i] = (int64_t)got->via.array.ptr[i].via.u64;
        }
        proto_msg_init(&m, PT_EV_REVEALED);
        proto_set_int(&m, PK_SEQ, 1);
        proto_set_int(&m, PK_ITEM, 0);
        proto_set_int(&m, PK_ROUND, 1);
        proto_set_ints(&m, k = PK_VALUES, ints, n);
    } else {
        return;
    }
    uint8_t *body;
    size_t len;
    assert_int_equal(proto_encode(&m, &body, &len), 0);
    free(ints);
    /* The field is the last one written: its value is what follows its key. */
    const char *name = proto_key_name(k);
    size_t nl = strlen(name);
    size_t at = 0;
    for (size_t i = 0; i + 1 + nl <= len; i++)
        if (body[i] == (0xa0 | nl) && memcmp(body + i + 1, name, nl) == 0)
            at = i + 1 + nl;
    assert_true(at > 0);
    bool listed = false;
    for (uint32_t i = 0; i < encs->via.array.size && !listed; i++) {
        size_t n;
        uint8_t *e = unhex_obj(&encs->via.array.ptr[i], &n);
        listed = n == len - at && memcmp(e, body + at, n) == 0;
        free(e);
    }
    if (!listed)
        fail_msg("our encoding of a %s value is not one of the suite's", proto_key_name(k));
    free(body);
}

static void msgpack_test_suite_every_encoding_is_accepted_and_read_right(void **state)
{
    char *json = read_text(LWK_SOURCE_DIR "/tests/data/msgpack-test-suite/msgpack-test-suite.json");
    size_t len;
    uint8_t *suite = mp(json, &len);
    free(json);
    msgpack_zone zone;
    msgpack_zone_init(&zone, 4096);
    msgpack_object root;
    size_t off = 0;
    assert_int_equal(msgpack_unpack((const char *)suite, len, &off, &zone, &root),
                     MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(root.type, MSGPACK_OBJECT_MAP);
    int cases = 0, encodings = 0;
    for (uint32_t g = 0; g < root.via.map.size; g++) {
        const msgpack_object *group = &root.via.map.ptr[g].val;
        assert_int_equal(group->type, MSGPACK_OBJECT_ARRAY);
        for (uint32_t c = 0; c < group->via.array.size; c++) {
            const msgpack_object *cs = &group->via.array.ptr[c];
            const msgpack_object *encs = map_get(cs, "msgpack");
            assert_non_null(encs);
            /* The value's key; bignum wins over its rounded number. */
            const char *kinds[] = {"bignum", "nil",   "bool", "binary",    "number",
                                   "string", "array", "map",  "timestamp", "ext"};
            const char *kind = NULL;
            const msgpack_object *want = NULL;
            for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]) && !want; i++)
                if ((want = map_get(cs, kinds[i])) != NULL)
                    kind = kinds[i];
            assert_non_null(want);
            cases++;
            msgpack_zone z2;
            msgpack_zone_init(&z2, 1024);
            for (uint32_t e = 0; e < encs->via.array.size; e++) {
                size_t n;
                uint8_t *b = unhex_obj(&encs->via.array.ptr[e], &n);
                if (proto_mp_check(b, n, PROTO_MAX_DEPTH) != 0)
                    fail_msg("%s case %d: pre-scan refuses encoding %u", kind, cases, e);
                msgpack_object got;
                size_t o = 0;
                assert_int_equal(msgpack_unpack((const char *)b, n, &o, &z2, &got),
                                 MSGPACK_UNPACK_SUCCESS);
                assert_int_equal(o, n);
                if (!suite_value_ok(kind, want, &got))
                    fail_msg("%s case %d: encoding %u is not read as its value", kind, cases, e);
                suite_through_codec(kind, &got, b, n);
                if (e == 0)
                    suite_our_encoding_is_listed(&got, encs);
                free(b);
                encodings++;
            }
            msgpack_zone_destroy(&z2);
        }
    }
    /* The suite as vendored: RELIABILITY.md counts on all of it. */
    assert_int_equal(cases, 85);
    assert_int_equal(encodings, 233);
    msgpack_zone_destroy(&zone);
    free(suite);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_type_round_trips_with_typical_values),
        cmocka_unit_test(every_type_round_trips_with_minimum_values),
        cmocka_unit_test(every_type_round_trips_with_maximum_values),
        cmocka_unit_test(every_type_has_a_unique_name_that_looks_up_to_itself),
        cmocka_unit_test(every_error_code_has_a_name_and_a_text),
        cmocka_unit_test(encoder_refuses_messages_the_decoder_would_refuse),
        cmocka_unit_test(every_negative_vector_is_refused_with_its_code),
        cmocka_unit_test(lengths_and_counts_pass_at_the_limit_and_fail_one_past),
        cmocka_unit_test(nesting_is_bounded_before_unpacking),
        cmocka_unit_test(huge_declared_counts_are_refused_by_the_pre_scan),
        cmocka_unit_test(every_truncation_of_every_sample_is_refused),
        cmocka_unit_test(frame_declaring_4_gib_is_refused_from_its_prefix),
        cmocka_unit_test(framer_lets_go_of_a_large_buffer_once_it_is_consumed),
        cmocka_unit_test(unknown_keys_and_keys_a_type_does_not_use_are_ignored),
        cmocka_unit_test(any_integer_width_and_string_width_is_accepted),
        cmocka_unit_test(tab_newline_and_all_of_unicode_are_allowed_in_text),
        cmocka_unit_test(dates_are_checked_against_the_calendar),
        cmocka_unit_test(error_echoes_the_id_whenever_it_could_be_read),
        cmocka_unit_test(protocol_md_tables_are_the_generated_ones),
        cmocka_unit_test(protocol_md_examples_decode_to_what_they_show),
        cmocka_unit_test(msgpack_test_suite_every_encoding_is_accepted_and_read_right),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
