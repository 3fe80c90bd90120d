/*
 * msg.c: the table-driven message codec (see proto.h and PROTOCOL.md).
 *
 * Decoding is strict and happens in three stages, so that no allocation is
 * ever sized by a length an attacker declared:
 *   1. a pre-scan walks the raw bytes and checks that every declared length
 *      fits in what is left, counts fit the bytes left, and nesting is bounded;
 *   2. msgpack-c unpacks the now-safe bytes into a zone;
 *   3. the object is checked against the catalogue and copied into an arena
 *      owned by the message.
 */
#include "proto.h"
#include "frame.h"

#include <msgpack.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

_Static_assert(PK__COUNT <= 128, "present is a 128-bit mask");

/* ---- metadata ---------------------------------------------------------- */

struct key_def {
    const char *name;
    uint32_t len; /* strlen(name) */
    enum proto_kind kind;
    int64_t min, max;
};

static const struct key_def key_defs[PK__COUNT] = {
#define X(e, name, kind, min, max) [PK_##e] = {name, sizeof(name) - 1, kind, min, max},
    PROTO_KEYS(X)
#undef X
};

struct rule {
    enum proto_key key;
    int required;
};

struct type_def {
    const char *name;
    uint32_t len; /* strlen(name) */
    enum proto_dir dir;
    const struct rule *rules;
};

#define X(e, name, dir, ...) static const struct rule rules_##e[] = {__VA_ARGS__{PK__COUNT, 0}};
PROTO_TYPES(X)
#undef X

static const struct type_def type_defs[PT__COUNT] = {
    [PT__NONE] = {"", 0, PD_REPLY, NULL},
#define X(e, name, dir, ...) [PT_##e] = {name, sizeof(name) - 1, dir, rules_##e},
    PROTO_TYPES(X)
#undef X
};

/*
 * The same rules as bit masks (word w of the 128-bit key set), so that the
 * codec's per-key checks are one AND instead of a scan of the rule list:
 * every message encoded or decoded asks them for every key. R() is
 * redefined for each table and given back its proto.h meaning after.
 */
#define KEY_BIT(k, w) ((k) / 64 == (w) ? (uint64_t)1 << ((k) % 64) : 0)
#define X(e, name, dir, ...) [PT_##e] = 0 __VA_ARGS__,
#undef R
#define R(key, req) | KEY_BIT(PK_##key, 0)
static const uint64_t rule_keys0[PT__COUNT] = {PROTO_TYPES(X)};
#undef R
#define R(key, req) | KEY_BIT(PK_##key, 1)
static const uint64_t rule_keys1[PT__COUNT] = {PROTO_TYPES(X)};
#undef R
#define R(key, req) | ((req) ? KEY_BIT(PK_##key, 0) : 0)
static const uint64_t rule_required0[PT__COUNT] = {PROTO_TYPES(X)};
#undef R
#define R(key, req) | ((req) ? KEY_BIT(PK_##key, 1) : 0)
static const uint64_t rule_required1[PT__COUNT] = {PROTO_TYPES(X)};
#undef R
#define R(key, req) {PK_##key, req},
#undef X

static inline bool key_in(uint64_t w0, uint64_t w1, enum proto_key k)
{
    return ((k < 64 ? w0 : w1) >> (k & 63)) & 1u;
}

static const char *const kinds[] = {PROTO_KINDS, NULL};
static const char *const phases[] = {PROTO_PHASES, NULL};
static const char *const modes[] = {PROTO_MODES, NULL};
static const char *const levels[] = {PROTO_LEVELS, NULL};
static const char *const statuses[] = {PROTO_STATUSES, NULL};
static const char *const db_states[] = {PROTO_DB_STATES, NULL};

const char *const *proto_enum_values(enum proto_key k)
{
    switch (k) {
    case PK_KIND:
        return kinds;
    case PK_PHASE:
        return phases;
    case PK_MODE:
        return modes;
    case PK_LEVEL:
        return levels;
    case PK_STATUS:
        return statuses;
    case PK_DB:
        return db_states;
    default:
        return NULL;
    }
}

const char *proto_enum_name(enum proto_key k, int64_t index)
{
    const char *const *v = proto_enum_values(k);
    if (!v || index < 0)
        return NULL;
    for (int64_t i = 0; v[i]; i++)
        if (i == index)
            return v[i];
    return NULL;
}

static int enum_index(enum proto_key k, const char *s, size_t len)
{
    const char *const *v = proto_enum_values(k);
    for (int i = 0; v && v[i]; i++)
        if (strlen(v[i]) == len && memcmp(v[i], s, len) == 0)
            return i;
    return -1;
}

const char *proto_err_name(int code)
{
    if (code < 0)
        code = -code;
    switch (code) {
#define X(name, c, text)                                                                           \
    case c:                                                                                        \
        return #name;
        PROTO_ERRORS(X)
#undef X
    }
    return "UNKNOWN";
}

const char *proto_err_text(int code)
{
    if (code < 0)
        code = -code;
    switch (code) {
#define X(name, c, text)                                                                           \
    case c:                                                                                        \
        return text;
        PROTO_ERRORS(X)
#undef X
    }
    return "unknown error";
}

const char *proto_type_name(enum proto_type t)
{
    return (t > PT__NONE && t < PT__COUNT) ? type_defs[t].name : "?";
}

enum proto_type proto_type_lookup(const char *name, size_t len)
{
    for (int t = PT__NONE + 1; t < PT__COUNT; t++)
        if (type_defs[t].len == len && memcmp(type_defs[t].name, name, len) == 0)
            return (enum proto_type)t;
    return PT__NONE;
}

enum proto_dir proto_type_dir(enum proto_type t)
{
    return (t > PT__NONE && t < PT__COUNT) ? type_defs[t].dir : PD_REPLY;
}

bool proto_type_allows(enum proto_type t, enum proto_key k)
{
    if (t <= PT__NONE || t >= PT__COUNT || k >= PK__COUNT)
        return false;
    if (key_in(rule_keys0[t], rule_keys1[t], k))
        return true;
    if (type_defs[t].dir == PD_REQ && k == PK_ID)
        return true;
    if (type_defs[t].dir == PD_EVENT && (k == PK_SEQ || k == PK_TS))
        return true;
    return false;
}

bool proto_type_requires(enum proto_type t, enum proto_key k)
{
    if (t <= PT__NONE || t >= PT__COUNT || k >= PK__COUNT)
        return false;
    if (key_in(rule_keys0[t], rule_keys1[t], k))
        return key_in(rule_required0[t], rule_required1[t], k);
    return type_defs[t].dir == PD_EVENT && k == PK_SEQ;
}

/* Every key type t requires, as a key set (the rule tables plus an event's seq). */
static void required_keys(enum proto_type t, uint64_t out[2])
{
    out[0] = rule_required0[t];
    out[1] = rule_required1[t];
    if (type_defs[t].dir == PD_EVENT && !key_in(rule_keys0[t], rule_keys1[t], PK_SEQ))
        out[PK_SEQ / 64] |= (uint64_t)1 << (PK_SEQ % 64);
}

const char *proto_key_name(enum proto_key k)
{
    return k < PK__COUNT ? key_defs[k].name : "?";
}
enum proto_kind proto_key_kind(enum proto_key k)
{
    return k < PK__COUNT ? key_defs[k].kind : PF_INT;
}
int64_t proto_key_min(enum proto_key k)
{
    return k < PK__COUNT ? key_defs[k].min : 0;
}
int64_t proto_key_max(enum proto_key k)
{
    return k < PK__COUNT ? key_defs[k].max : 0;
}
bool proto_key_is_date(enum proto_key k)
{
    return k == PK_DATE || k == PK_DEADLINE;
}

static enum proto_key key_lookup(const char *s, size_t len)
{
    for (int k = 0; k < PK__COUNT; k++)
        if (key_defs[k].len == len && memcmp(key_defs[k].name, s, len) == 0)
            return (enum proto_key)k;
    return PK__COUNT;
}

/* ---- strings ----------------------------------------------------------- */

bool proto_utf8_ok(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        if (c < 0x80) {
            if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
                return false;
            i++;
            continue;
        }
        int n;
        uint32_t cp;
        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (len - i <= (size_t)n)
            return false;
        for (int j = 1; j <= n; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + j] & 0x3f);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        /* C1 controls are as invisible and confusing as C0 ones. */
        if (cp >= 0x80 && cp <= 0x9f)
            return false;
        i += (size_t)n + 1;
    }
    return true;
}

bool proto_date_ok(const char *s, size_t len)
{
    if (len != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return false;
    int y = atoi(s), m = (s[5] - '0') * 10 + (s[6] - '0'), d = (s[8] - '0') * 10 + (s[9] - '0');
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 2000 || y > 2999 || m < 1 || m > 12 || d < 1)
        return false;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return d <= mdays[m - 1] + (m == 2 && leap);
}

/* ---- arena ------------------------------------------------------------- */

struct arena_chunk {
    struct arena_chunk *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
};

static void *arena_alloc(void **arena, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    struct arena_chunk *c = *arena;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > 8192 ? n : 8192;
        struct arena_chunk *nc = malloc(sizeof(*nc) + cap);
        if (!nc)
            return NULL;
        nc->next = c;
        nc->used = 0;
        nc->cap = cap;
        *arena = c = nc;
    }
    void *p = c->data + c->used;
    c->used += n;
    return p;
}

static void arena_free(void *arena)
{
    struct arena_chunk *c = arena;
    while (c) {
        struct arena_chunk *n = c->next;
        free(c);
        c = n;
    }
}

void proto_msg_free(struct proto_msg *m)
{
    if (!m)
        return;
    void *arena = m->arena;
    /* The top-level message itself lives in its own arena. */
    arena_free(arena);
}

/* ---- stage 1: pre-scan ------------------------------------------------- */

struct scan {
    const uint8_t *p, *end;
    int max_depth;
};

static uint64_t be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/*
 * Skips one object; checks every declared size against the bytes left.
 * depth counts the maps and arrays around the object: a map or array at
 * depth max_depth (the top map is at depth 0) is one level too many.
 */
static int scan_obj(struct scan *s, int depth)
{
    if (s->p >= s->end)
        return PROTO_ERR_MALFORMED;
    uint8_t c = *s->p++;
    size_t left = (size_t)(s->end - s->p);
    uint64_t n = 0; /* payload bytes, or element count for containers */
    int container = 0; /* 1 array, 2 map */
    int hdr = 0;

    if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3)
        return 0;
    if ((c & 0xf0) == 0x80) {
        n = c & 0x0f;
        container = 2;
    } else if ((c & 0xf0) == 0x90) {
        n = c & 0x0f;
        container = 1;
    } else if ((c & 0xe0) == 0xa0) {
        n = c & 0x1f;
    } else {
        switch (c) {
        case 0xc4: case 0xd9: hdr = 1; break; /* bin8, str8 */
        case 0xc5: case 0xda: hdr = 2; break;
        case 0xc6: case 0xdb: hdr = 4; break;
        case 0xcc: case 0xd0: n = 1; break;
        case 0xcd: case 0xd1: n = 2; break;
        case 0xca: case 0xce: case 0xd2: n = 4; break;
        case 0xcb: case 0xcf: case 0xd3: n = 8; break;
        case 0xd4: n = 2; break; /* fixext: type + data */
        case 0xd5: n = 3; break;
        case 0xd6: n = 5; break;
        case 0xd7: n = 9; break;
        case 0xd8: n = 17; break;
        case 0xc7: case 0xc8: case 0xc9: /* ext 8/16/32: length then type */
            hdr = c == 0xc7 ? 1 : c == 0xc8 ? 2 : 4;
            if (left < (size_t)hdr)
                return PROTO_ERR_MALFORMED;
            n = be(s->p, hdr) + 1;
            s->p += hdr;
            left -= (size_t)hdr;
            hdr = 0;
            break;
        case 0xdc: hdr = 2; container = 1; break;
        case 0xdd: hdr = 4; container = 1; break;
        case 0xde: hdr = 2; container = 2; break;
        case 0xdf: hdr = 4; container = 2; break;
        default: /* 0xc1 is never used */
            return PROTO_ERR_MALFORMED;
        }
        if (hdr) {
            if (left < (size_t)hdr)
                return PROTO_ERR_MALFORMED;
            n = be(s->p, hdr);
            s->p += hdr;
            left -= (size_t)hdr;
        }
    }
    if (!container) {
        if (n > left)
            return PROTO_ERR_MALFORMED;
        s->p += n;
        return 0;
    }
    if (depth >= s->max_depth)
        return PROTO_ERR_OUT_OF_RANGE;
    /* Every element takes at least one byte: a larger count is a lie. */
    uint64_t elems = container == 2 ? n * 2 : n;
    if (elems > left)
        return PROTO_ERR_MALFORMED;
    for (uint64_t i = 0; i < elems; i++) {
        int rc = scan_obj(s, depth + 1);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int proto_mp_check(const uint8_t *buf, size_t len, int max_depth)
{
    if (!buf || len == 0)
        return PROTO_ERR_MALFORMED;
    struct scan s = {buf, buf + len, max_depth};
    int rc = scan_obj(&s, 0);
    if (rc == 0 && s.p != s.end)
        rc = PROTO_ERR_MALFORMED; /* trailing bytes */
    return rc;
}

/* ---- stage 3: check and copy ------------------------------------------- */

struct dec {
    void **arena;
    struct proto_error *err;
    bool allow_nested;
};

static int fail(struct dec *d, int code, enum proto_key k, const char *detail)
{
    d->err->code = code;
    d->err->key = k;
    snprintf(d->err->detail, sizeof(d->err->detail), "%s%s%s", k < PK__COUNT ? key_defs[k].name : "",
             k < PK__COUNT && detail[0] ? ": " : "", detail);
    return code;
}

static int get_int(const msgpack_object *o, int64_t *v)
{
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        if (o->via.u64 > (uint64_t)INT64_MAX)
            return PROTO_ERR_OUT_OF_RANGE;
        *v = (int64_t)o->via.u64;
        return 0;
    }
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        *v = o->via.i64;
        return 0;
    }
    return PROTO_ERR_BAD_TYPE;
}

static int decode_map(struct dec *d, const msgpack_object *o, struct proto_msg *m, int nested,
                      enum proto_key in);

static int decode_field(struct dec *d, const msgpack_object *o, struct proto_msg *m,
                        enum proto_key k)
{
    const struct key_def *kd = &key_defs[k];
    union proto_val *v = &m->v[k];
    int rc;
    switch (kd->kind) {
    case PF_INT:
        if ((rc = get_int(o, &v->i)) < 0)
            return fail(d, rc, k, rc == PROTO_ERR_BAD_TYPE ? "integer expected" : "too large");
        if (v->i < kd->min || v->i > kd->max)
            return fail(d, PROTO_ERR_OUT_OF_RANGE, k, "out of range");
        return 0;
    case PF_BOOL:
        if (o->type != MSGPACK_OBJECT_BOOLEAN)
            return fail(d, PROTO_ERR_BAD_TYPE, k, "boolean expected");
        v->i = o->via.boolean;
        return 0;
    case PF_ENUM:
        if (o->type != MSGPACK_OBJECT_STR)
            return fail(d, PROTO_ERR_BAD_TYPE, k, "string expected");
        if ((rc = enum_index(k, o->via.str.ptr, o->via.str.size)) < 0)
            return fail(d, PROTO_ERR_OUT_OF_RANGE, k, "not one of the allowed values");
        v->i = rc;
        return 0;
    case PF_STR: {
        if (o->type != MSGPACK_OBJECT_STR)
            return fail(d, PROTO_ERR_BAD_TYPE, k, "string expected");
        uint32_t len = o->via.str.size;
        if (len < kd->min || len > kd->max)
            return fail(d, PROTO_ERR_OUT_OF_RANGE, k, "length out of range");
        if (!proto_utf8_ok(o->via.str.ptr, len))
            return fail(d, PROTO_ERR_BAD_UTF8, k, "invalid UTF-8");
        if (proto_key_is_date(k) && !proto_date_ok(o->via.str.ptr, len))
            return fail(d, PROTO_ERR_OUT_OF_RANGE, k, "not a date YYYY-MM-DD");
        char *p = arena_alloc(d->arena, (size_t)len + 1);
        if (!p)
            return fail(d, PROTO_ERR_INTERNAL, k, "out of memory");
        memcpy(p, o->via.str.ptr, len);
        p[len] = '\0';
        v->s.p = p;
        v->s.len = len;
        return 0;
    }
    case PF_INTS: {
        if (o->type != MSGPACK_OBJECT_ARRAY)
            return fail(d, PROTO_ERR_BAD_TYPE, k, "array expected");
        uint32_t n = o->via.array.size;
        if (n > PROTO_MAX_ARRAY)
            return fail(d, PROTO_ERR_OUT_OF_RANGE, k, "too many elements");
        int64_t *a = arena_alloc(d->arena, (size_t)n * sizeof(int64_t) + 1);
        if (!a)
            return fail(d, PROTO_ERR_INTERNAL, k, "out of memory");
        for (uint32_t i = 0; i < n; i++) {
            if ((rc = get_int(&o->via.array.ptr[i], &a[i])) < 0)
                return fail(d, rc, k, "integer elements expected");
            if (a[i] < kd->min || a[i] > kd->max)
                return fail(d, PROTO_ERR_OUT_OF_RANGE, k, "element out of range");
        }
        v->a.p = a;
        v->a.n = n;
        return 0;
    }
    case PF_MSGS: {
        if (!d->allow_nested)
            return fail(d, PROTO_ERR_OUT_OF_RANGE, k, "not accepted from clients");
        if (o->type != MSGPACK_OBJECT_ARRAY)
            return fail(d, PROTO_ERR_BAD_TYPE, k, "array expected");
        uint32_t n = o->via.array.size;
        if (n > PROTO_MAX_MSGS)
            return fail(d, PROTO_ERR_OUT_OF_RANGE, k, "too many elements");
        struct proto_msg *a = arena_alloc(d->arena, (size_t)n * sizeof(*a) + 1);
        if (!a)
            return fail(d, PROTO_ERR_INTERNAL, k, "out of memory");
        for (uint32_t i = 0; i < n; i++) {
            memset(&a[i], 0, sizeof(a[i]));
            /* events carry their own type; rows are untyped records */
            if ((rc = decode_map(d, &o->via.array.ptr[i], &a[i], k == PK_EVENTS ? 1 : 2, k)) < 0)
                return rc;
        }
        v->m.p = a;
        v->m.n = n;
        return 0;
    }
    }
    return fail(d, PROTO_ERR_INTERNAL, k, "unknown kind");
}

/* nested: 0 top level, 1 typed element (event), 2 untyped row (any key). */
static int decode_map(struct dec *d, const msgpack_object *o, struct proto_msg *m, int nested,
                      enum proto_key in)
{
    if (o->type != MSGPACK_OBJECT_MAP) {
        if (nested)
            return fail(d, PROTO_ERR_BAD_TYPE, in, "array of maps expected");
        return fail(d, PROTO_ERR_MALFORMED, PK__COUNT, "a message is a map");
    }
    const msgpack_object_kv *kv = o->via.map.ptr;
    uint32_t n = o->via.map.size;

    /* Find the type and (top level) the id first, so errors can echo the id. */
    const msgpack_object *t = NULL;
    for (uint32_t i = 0; i < n; i++) {
        if (kv[i].key.type != MSGPACK_OBJECT_STR)
            return fail(d, PROTO_ERR_MALFORMED, PK__COUNT, "map keys are strings");
        const msgpack_object_str *ks = &kv[i].key.via.str;
        if (ks->size == 1 && ks->ptr[0] == 't') {
            /* Two types would let two readers see two different messages. */
            if (t)
                return fail(d, PROTO_ERR_MALFORMED, PK__COUNT, "duplicate key t");
            t = &kv[i].val;
        } else if (nested == 0 && ks->size == 2 && memcmp(ks->ptr, "id", 2) == 0) {
            int64_t id;
            if (get_int(&kv[i].val, &id) == 0 && id >= 0 && id <= key_defs[PK_ID].max)
                d->err->id = id;
        }
    }
    if (nested != 2) {
        if (!t)
            return fail(d, PROTO_ERR_MISSING_FIELD, in, nested ? "element without t" : "t");
        if (t->type != MSGPACK_OBJECT_STR)
            return fail(d, PROTO_ERR_BAD_TYPE, in, "t: string expected");
        m->type = proto_type_lookup(t->via.str.ptr, t->via.str.size);
        if (m->type == PT__NONE)
            return fail(d, PROTO_ERR_UNKNOWN_TYPE, in, nested ? "unknown event type" : "t");
        if (nested == 1 && type_defs[m->type].dir != PD_EVENT)
            return fail(d, PROTO_ERR_OUT_OF_RANGE, in, "events holds events only");
    }
    for (uint32_t i = 0; i < n; i++) {
        const msgpack_object_str *ks = &kv[i].key.via.str;
        if (ks->size == 1 && ks->ptr[0] == 't')
            continue;
        enum proto_key k = key_lookup(ks->ptr, ks->size);
        /* Compatibility: unknown keys, and keys this type does not use, are ignored. */
        if (k == PK__COUNT || (nested != 2 && !proto_type_allows(m->type, k)))
            continue;
        if (proto_has(m, k))
            return fail(d, PROTO_ERR_MALFORMED, k, "duplicate key");
        int rc = decode_field(d, &kv[i].val, m, k);
        if (rc < 0)
            return rc;
        m->present[k >> 6] |= (uint64_t)1 << (k & 63);
    }
    if (nested != 2) {
        uint64_t req[2];
        required_keys(m->type, req);
        for (int w = 0; w < 2; w++) {
            uint64_t missing = req[w] & ~m->present[w];
            if (missing) /* the lowest key first, as a scan of the keys would find it */
                return fail(d, PROTO_ERR_MISSING_FIELD,
                            (enum proto_key)(w * 64 + __builtin_ctzll(missing)), "required");
        }
    }
    return 0;
}

int proto_decode(const uint8_t *buf, size_t len, bool allow_nested, struct proto_msg **out,
                 struct proto_error *err)
{
    struct proto_error scratch;
    if (!err)
        err = &scratch;
    memset(err, 0, sizeof(*err));
    err->key = PK__COUNT;
    err->id = -1;
    *out = NULL;

    int rc = proto_mp_check(buf, len, allow_nested ? PROTO_MAX_DEPTH : PROTO_MAX_DEPTH_REQUEST);
    if (rc < 0) {
        err->code = rc;
        snprintf(err->detail, sizeof(err->detail), "%s",
                 rc == PROTO_ERR_OUT_OF_RANGE ? "nested too deeply" : "not valid MessagePack");
        return rc;
    }

    msgpack_zone zone;
    if (!msgpack_zone_init(&zone, 2048)) {
        err->code = PROTO_ERR_INTERNAL;
        return err->code;
    }
    msgpack_object obj;
    size_t off = 0;
    msgpack_unpack_return ur = msgpack_unpack((const char *)buf, len, &off, &zone, &obj);
    if (ur != MSGPACK_UNPACK_SUCCESS || off != len) {
        msgpack_zone_destroy(&zone);
        err->code = ur == MSGPACK_UNPACK_NOMEM_ERROR ? PROTO_ERR_INTERNAL : PROTO_ERR_MALFORMED;
        snprintf(err->detail, sizeof(err->detail), "not valid MessagePack");
        return err->code;
    }

    void *arena = NULL;
    struct proto_msg *m = arena_alloc(&arena, sizeof(*m));
    if (!m) {
        msgpack_zone_destroy(&zone);
        err->code = PROTO_ERR_INTERNAL;
        return err->code;
    }
    memset(m, 0, sizeof(*m));
    struct dec d = {&arena, err, allow_nested};
    rc = decode_map(&d, &obj, m, 0, PK__COUNT);
    msgpack_zone_destroy(&zone);
    if (rc < 0) {
        arena_free(arena);
        return rc;
    }
    m->arena = arena;
    *out = m;
    return 0;
}

/* ---- builders ---------------------------------------------------------- */

void proto_msg_init(struct proto_msg *m, enum proto_type t)
{
    m->type = t;
    m->present[0] = m->present[1] = 0;
    m->arena = NULL;
}

static void mark(struct proto_msg *m, enum proto_key k)
{
    m->present[k >> 6] |= (uint64_t)1 << (k & 63);
}

void proto_set_int(struct proto_msg *m, enum proto_key k, int64_t v)
{
    m->v[k].i = v;
    mark(m, k);
}

void proto_set_bool(struct proto_msg *m, enum proto_key k, bool v)
{
    m->v[k].i = v;
    mark(m, k);
}

void proto_set_strn(struct proto_msg *m, enum proto_key k, const char *s, uint32_t len)
{
    m->v[k].s.p = s;
    m->v[k].s.len = len;
    mark(m, k);
}

void proto_set_str(struct proto_msg *m, enum proto_key k, const char *s)
{
    proto_set_strn(m, k, s, (uint32_t)strlen(s));
}

void proto_set_ints(struct proto_msg *m, enum proto_key k, const int64_t *v, uint32_t n)
{
    m->v[k].a.p = v;
    m->v[k].a.n = n;
    mark(m, k);
}

void proto_set_msgs(struct proto_msg *m, enum proto_key k, const struct proto_msg *v, uint32_t n)
{
    m->v[k].m.p = v;
    m->v[k].m.n = n;
    mark(m, k);
}

int proto_set_enum(struct proto_msg *m, enum proto_key k, const char *value)
{
    int i = enum_index(k, value, strlen(value));
    if (i < 0)
        return PROTO_ERR_OUT_OF_RANGE;
    proto_set_int(m, k, i);
    return 0;
}

void proto_unset(struct proto_msg *m, enum proto_key k)
{
    m->present[k >> 6] &= ~((uint64_t)1 << (k & 63));
}

/* ---- encoding ---------------------------------------------------------- */

static int check_value(const struct proto_msg *m, enum proto_key k)
{
    const struct key_def *kd = &key_defs[k];
    const union proto_val *v = &m->v[k];
    switch (kd->kind) {
    case PF_INT:
        return v->i < kd->min || v->i > kd->max ? PROTO_ERR_OUT_OF_RANGE : 0;
    case PF_BOOL:
        return 0;
    case PF_ENUM:
        return proto_enum_name(k, v->i) ? 0 : PROTO_ERR_OUT_OF_RANGE;
    case PF_STR:
        if (v->s.len < kd->min || v->s.len > kd->max || (!v->s.p && v->s.len))
            return PROTO_ERR_OUT_OF_RANGE;
        if (!v->s.p)
            return 0;
        if (!proto_utf8_ok(v->s.p, v->s.len))
            return PROTO_ERR_BAD_UTF8;
        if (proto_key_is_date(k) && !proto_date_ok(v->s.p, v->s.len))
            return PROTO_ERR_OUT_OF_RANGE;
        return 0;
    case PF_INTS:
        if (v->a.n > PROTO_MAX_ARRAY || (!v->a.p && v->a.n))
            return PROTO_ERR_OUT_OF_RANGE;
        for (uint32_t i = 0; i < v->a.n; i++)
            if (v->a.p[i] < kd->min || v->a.p[i] > kd->max)
                return PROTO_ERR_OUT_OF_RANGE;
        return 0;
    case PF_MSGS:
        if (v->m.n > PROTO_MAX_MSGS || (!v->m.p && v->m.n))
            return PROTO_ERR_OUT_OF_RANGE;
        /* The decoder accepts only events in "events": never send what it refuses. */
        for (uint32_t i = 0; k == PK_EVENTS && i < v->m.n; i++)
            if (proto_type_dir(v->m.p[i].type) != PD_EVENT)
                return PROTO_ERR_OUT_OF_RANGE;
        return 0;
    }
    return PROTO_ERR_INTERNAL;
}

static int pack_msg(msgpack_packer *pk, const struct proto_msg *m, int row, int depth)
{
    if (depth > 2)
        return PROTO_ERR_OUT_OF_RANGE;
    if (!row && (m->type <= PT__NONE || m->type >= PT__COUNT))
        return PROTO_ERR_UNKNOWN_TYPE;
    uint32_t n = row ? 0 : 1;
    /* Only the keys present or required, in key order (the first error wins). */
    uint64_t req[2] = {0, 0};
    if (!row)
        required_keys(m->type, req);
    for (int w = 0; w < 2; w++) {
        for (uint64_t bits = m->present[w] | req[w]; bits; bits &= bits - 1) {
            enum proto_key k = (enum proto_key)(w * 64 + __builtin_ctzll(bits));
            if (k >= PK__COUNT)
                continue; /* bits past the last key are never looked at */
            if (!proto_has(m, k))
                return PROTO_ERR_MISSING_FIELD;
            if (!row && !proto_type_allows(m->type, k))
                return PROTO_ERR_BAD_TYPE;
            int rc = check_value(m, k);
            if (rc < 0)
                return rc;
            n++;
        }
    }
    msgpack_pack_map(pk, n);
    if (!row) {
        const struct type_def *td = &type_defs[m->type];
        msgpack_pack_str_with_body(pk, "t", 1);
        msgpack_pack_str_with_body(pk, td->name, td->len);
    }
    for (int w = 0; w < 2; w++)
        for (uint64_t bits = m->present[w]; bits; bits &= bits - 1) {
            enum proto_key k = (enum proto_key)(w * 64 + __builtin_ctzll(bits));
            if (k >= PK__COUNT)
                continue;
            const struct key_def *kd = &key_defs[k];
            const union proto_val *v = &m->v[k];
            msgpack_pack_str_with_body(pk, kd->name, kd->len);
            switch (kd->kind) {
            case PF_INT:
                msgpack_pack_int64(pk, v->i);
                break;
            case PF_BOOL:
                if (v->i)
                    msgpack_pack_true(pk);
                else
                    msgpack_pack_false(pk);
                break;
            case PF_ENUM: {
                const char *s = proto_enum_name((enum proto_key)k, v->i);
                msgpack_pack_str_with_body(pk, s, strlen(s));
                break;
            }
            case PF_STR:
                msgpack_pack_str(pk, v->s.len);
                if (v->s.len)
                    msgpack_pack_str_body(pk, v->s.p, v->s.len);
                break;
            case PF_INTS:
                msgpack_pack_array(pk, v->a.n);
                for (uint32_t i = 0; i < v->a.n; i++)
                    msgpack_pack_int64(pk, v->a.p[i]);
                break;
            case PF_MSGS:
                msgpack_pack_array(pk, v->m.n);
                for (uint32_t i = 0; i < v->m.n; i++) {
                    /* As the decoder reads them: every list but events holds rows. */
                    int rc = pack_msg(pk, &v->m.p[i], k != PK_EVENTS, depth + 1);
                    if (rc < 0)
                        return rc;
                }
                break;
            }
        }
    return 0;
}

/*
 * Where pack_msg writes: a buffer on the stack, moved to the heap only for
 * a long message. Most messages are a few dozen bytes; msgpack_sbuffer
 * would allocate 8 KiB for each and the caller would copy it again.
 */
struct obuf {
    uint8_t *p;
    size_t len, cap;
    bool heap, failed;
    uint8_t stack[512];
};

static int obuf_write(void *data, const char *buf, size_t n)
{
    struct obuf *o = data;
    if (o->failed)
        return -1;
    if (n > o->cap - o->len) {
        size_t cap = o->cap * 2;
        while (cap - o->len < n)
            cap *= 2;
        uint8_t *p = o->heap ? realloc(o->p, cap) : malloc(cap);
        if (!p) {
            o->failed = true;
            return -1;
        }
        if (!o->heap)
            memcpy(p, o->stack, o->len);
        o->p = p;
        o->cap = cap;
        o->heap = true;
    }
    memcpy(o->p + o->len, buf, n);
    o->len += n;
    return 0;
}

static int encode(const struct proto_msg *m, int framed, uint8_t **out, size_t *len)
{
    struct obuf o;
    o.p = o.stack;
    o.len = 0;
    o.cap = sizeof(o.stack);
    o.heap = o.failed = false;
    if (framed) {
        static const char zero[PROTO_FRAME_HEADER] = {0};
        obuf_write(&o, zero, sizeof(zero));
    }
    msgpack_packer pk;
    msgpack_packer_init(&pk, &o, obuf_write);
    int rc = pack_msg(&pk, m, 0, 0);
    if (rc == 0 && o.failed)
        rc = PROTO_ERR_INTERNAL;
    if (rc == 0 && framed && o.len - PROTO_FRAME_HEADER > UINT32_MAX)
        rc = PROTO_ERR_TOO_LARGE;
    uint8_t *p = o.p;
    if (rc == 0 && !o.heap) {
        p = malloc(o.len);
        if (!p)
            rc = PROTO_ERR_INTERNAL;
        else
            memcpy(p, o.p, o.len);
    }
    if (rc < 0) {
        if (o.heap)
            free(o.p);
        return rc;
    }
    if (framed)
        proto_put_u32be(p, (uint32_t)(o.len - PROTO_FRAME_HEADER));
    *len = o.len;
    *out = p;
    return 0;
}

int proto_encode_frame(const struct proto_msg *m, uint8_t **frame, size_t *len)
{
    return encode(m, 1, frame, len);
}

int proto_encode(const struct proto_msg *m, uint8_t **buf, size_t *len)
{
    return encode(m, 0, buf, len);
}
