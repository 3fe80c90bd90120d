/*
 * proto_gen.c: sample messages, JSON rendering, and the generated parts of
 * PROTOCOL.md, all from the catalogue's metadata (see proto_gen.h). Nothing
 * here knows a message type by hand except the examples at the end.
 */
#include "proto_gen.h"
#include "frame.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- buffers ----------------------------------------------------------- */

static void gen_reserve(struct gen_buf *b, size_t more)
{
    if (b->len + more + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + more + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p)
        abort(); /* a test tool: running out of memory is fatal */
    b->p = p;
    b->cap = cap;
}

void gen_buf_free(struct gen_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}

void gen_bytes(struct gen_buf *b, const void *data, size_t n)
{
    gen_reserve(b, n);
    if (n)
        memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void gen_printf(struct gen_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        abort();
    gen_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* ---- samples ----------------------------------------------------------- */

struct block {
    struct block *next;
    _Alignas(16) unsigned char data[];
};

struct gen_sample {
    struct proto_msg msg;
    struct block *blocks; /* everything the message points to */
};

static void *keep(struct gen_sample *s, size_t n)
{
    struct block *b = calloc(1, sizeof(*b) + n + 1);
    if (!b)
        abort();
    b->next = s->blocks;
    s->blocks = b;
    return b->data;
}

static struct gen_sample *sample_alloc(void)
{
    struct gen_sample *s = calloc(1, sizeof(*s));
    if (!s)
        abort();
    return s;
}

const struct proto_msg *gen_sample_msg(const struct gen_sample *s)
{
    return &s->msg;
}

void gen_sample_free(struct gen_sample *s)
{
    if (!s)
        return;
    for (struct block *b = s->blocks, *n; b; b = n) {
        n = b->next;
        free(b);
    }
    free(s);
}

/* Exactly len bytes of valid text cut from pattern, never inside a character. */
static char *make_text(struct gen_sample *s, uint32_t len, const char *pattern)
{
    char *p = keep(s, len);
    size_t plen = strlen(pattern);
    uint32_t i = 0;
    while (i < len) {
        size_t j = 0;
        for (; j < plen && i < len; j++) {
            unsigned char c = (unsigned char)pattern[j];
            size_t clen = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
            if (i + clen > len)
                break;
            memcpy(p + i, pattern + j, clen);
            i += (uint32_t)clen;
            j += clen - 1;
        }
        if (j < plen) /* the next character does not fit: pad */
            while (i < len)
                p[i++] = 'x';
    }
    return p;
}

static void fill(struct gen_sample *s, struct proto_msg *m, enum proto_type t, enum gen_variant v,
                 int depth);

static void fill_value(struct gen_sample *s, struct proto_msg *m, enum proto_key k,
                       enum gen_variant v, int depth)
{
    int64_t min = proto_key_min(k), max = proto_key_max(k);
    switch (proto_key_kind(k)) {
    case PF_INT:
        proto_set_int(m, k, v == GEN_MIN ? min : v == GEN_MAX ? max : min + (max - min) / 3);
        return;
    case PF_BOOL:
        proto_set_bool(m, k, v != GEN_MIN);
        return;
    case PF_ENUM: {
        const char *const *vals = proto_enum_values(k);
        int n = 0;
        while (vals[n])
            n++;
        proto_set_int(m, k, v == GEN_MIN ? 0 : v == GEN_MAX ? n - 1 : (n > 1 ? 1 : 0));
        return;
    }
    case PF_STR: {
        if (proto_key_is_date(k)) {
            proto_set_str(m, k,
                          v == GEN_MIN   ? "2000-01-01"
                          : v == GEN_MAX ? "2999-12-31"
                                         : "2024-02-29");
            return;
        }
        int64_t len = v == GEN_MIN   ? min
                      : v == GEN_MAX ? max
                                     : (14 < min   ? min
                                        : 14 > max ? max
                                                   : 14);
        const char *pattern = v == GEN_MAX
                                  ? "Zo\xc3\xab\t\xe2\x9c\x93\n\xf0\x9f\x8c\xb1 " /* Zoë ✓ 🌱 */
                                  : "Zo\xc3\xab\xe2\x80\x99s team \xe2\x9c\x93 ";
        proto_set_strn(m, k, make_text(s, (uint32_t)len, pattern), (uint32_t)len);
        return;
    }
    case PF_INTS: {
        uint32_t n = v == GEN_MIN ? 0 : v == GEN_MAX ? PROTO_MAX_ARRAY : 3;
        int64_t *a = keep(s, sizeof(int64_t) * (n ? n : 1));
        for (uint32_t i = 0; i < n; i++)
            a[i] = v == GEN_MAX ? (i % 2 ? min : max)
                   : i == 0     ? min
                   : i == 1     ? min + (max - min) / 2
                                : max;
        proto_set_ints(m, k, a, n);
        return;
    }
    case PF_MSGS: {
        struct proto_msg *a;
        uint32_t n = 0;
        if (k == PK_EVENTS) {
            /* GEN_MAX: one of every event type; else a short, plausible list. */
            enum proto_type few[] = {PT_EV_PHASE, PT_EV_SCORED};
            uint32_t cap = PT__COUNT;
            a = keep(s, sizeof(*a) * cap);
            if (v == GEN_MAX) {
                for (int t = PT__NONE + 1; t < PT__COUNT; t++)
                    if (proto_type_dir((enum proto_type)t) == PD_EVENT)
                        fill(s, &a[n++], (enum proto_type)t, v, depth + 1);
            } else if (v == GEN_TYPICAL) {
                for (size_t i = 0; i < sizeof(few) / sizeof(few[0]); i++)
                    fill(s, &a[n++], few[i], v, depth + 1);
            }
            for (uint32_t i = 0; i < n; i++)
                proto_set_int(&a[i], PK_SEQ, (int64_t)i + 1);
        } else {
            /* Rows: every key that is not itself a list of messages. */
            a = keep(s, sizeof(*a) * 2);
            n = v == GEN_MIN ? 0 : 2;
            for (uint32_t i = 0; i < n; i++) {
                proto_msg_init(&a[i], PT__NONE);
                for (int rk = 0; rk < PK__COUNT; rk++)
                    if (proto_key_kind((enum proto_key)rk) != PF_MSGS &&
                        (v == GEN_MAX || rk % 5 == (int)i))
                        fill_value(s, &a[i], (enum proto_key)rk, v, depth + 1);
            }
        }
        proto_set_msgs(m, k, a, n);
        return;
    }
    }
}

static void fill(struct gen_sample *s, struct proto_msg *m, enum proto_type t, enum gen_variant v,
                 int depth)
{
    proto_msg_init(m, t);
    for (int k = 0; k < PK__COUNT; k++)
        if (proto_type_allows(t, (enum proto_key)k))
            fill_value(s, m, (enum proto_key)k, v, depth);
}

struct gen_sample *gen_sample_new(enum proto_type t, enum gen_variant v)
{
    struct gen_sample *s = sample_alloc();
    fill(s, &s->msg, t, v, 0);
    return s;
}

/* ---- comparison -------------------------------------------------------- */

bool gen_msg_equal(const struct proto_msg *a, const struct proto_msg *b, char *why, size_t why_len)
{
    if (a->type != b->type) {
        snprintf(why, why_len, "type %s != %s", proto_type_name(a->type), proto_type_name(b->type));
        return false;
    }
    for (int i = 0; i < PK__COUNT; i++) {
        enum proto_key k = (enum proto_key)i;
        const char *name = proto_key_name(k);
        if (proto_has(a, k) != proto_has(b, k)) {
            snprintf(why, why_len, "%s: present %d != %d", name, proto_has(a, k), proto_has(b, k));
            return false;
        }
        if (!proto_has(a, k))
            continue;
        const union proto_val *x = &a->v[k], *y = &b->v[k];
        switch (proto_key_kind(k)) {
        case PF_INT:
        case PF_BOOL:
        case PF_ENUM:
            if (x->i != y->i) {
                snprintf(why, why_len, "%s: %" PRId64 " != %" PRId64, name, x->i, y->i);
                return false;
            }
            break;
        case PF_STR:
            if (x->s.len != y->s.len || (x->s.len && memcmp(x->s.p, y->s.p, x->s.len) != 0)) {
                snprintf(why, why_len, "%s: strings differ", name);
                return false;
            }
            break;
        case PF_INTS:
            if (x->a.n != y->a.n ||
                (x->a.n && memcmp(x->a.p, y->a.p, x->a.n * sizeof(int64_t)) != 0)) {
                snprintf(why, why_len, "%s: arrays differ", name);
                return false;
            }
            break;
        case PF_MSGS:
            if (x->m.n != y->m.n) {
                snprintf(why, why_len, "%s: %u != %u elements", name, x->m.n, y->m.n);
                return false;
            }
            for (uint32_t j = 0; j < x->m.n; j++) {
                char inner[200];
                if (!gen_msg_equal(&x->m.p[j], &y->m.p[j], inner, sizeof(inner))) {
                    snprintf(why, why_len, "%s[%u].%s", name, j, inner);
                    return false;
                }
            }
            break;
        }
    }
    return true;
}

/* ---- JSON -------------------------------------------------------------- */

static void json_str(struct gen_buf *b, const char *s, size_t len)
{
    gen_bytes(b, "\"", 1);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            gen_bytes(b, e, 2);
        } else if (c == '\n') {
            gen_bytes(b, "\\n", 2);
        } else if (c == '\t') {
            gen_bytes(b, "\\t", 2);
        } else if (c < 0x20 || c == 0x7f) {
            gen_printf(b, "\\u%04x", c);
        } else {
            gen_bytes(b, &s[i], 1);
        }
    }
    gen_bytes(b, "\"", 1);
}

static void json_msg(struct gen_buf *b, const struct proto_msg *m, bool pretty, int level)
{
    bool first = true;
    gen_bytes(b, "{", 1);
    if (m->type != PT__NONE) {
        gen_bytes(b, "\"t\": ", 5);
        const char *tn = proto_type_name(m->type);
        json_str(b, tn, strlen(tn));
        first = false;
    }
    for (int i = 0; i < PK__COUNT; i++) {
        enum proto_key k = (enum proto_key)i;
        if (!proto_has(m, k))
            continue;
        if (!first)
            gen_bytes(b, ", ", 2);
        first = false;
        const char *name = proto_key_name(k);
        json_str(b, name, strlen(name));
        gen_bytes(b, ": ", 2);
        const union proto_val *v = &m->v[k];
        switch (proto_key_kind(k)) {
        case PF_INT:
            gen_printf(b, "%" PRId64, v->i);
            break;
        case PF_BOOL:
            gen_printf(b, "%s", v->i ? "true" : "false");
            break;
        case PF_ENUM: {
            const char *e = proto_enum_name(k, v->i);
            json_str(b, e ? e : "?", strlen(e ? e : "?"));
            break;
        }
        case PF_STR:
            json_str(b, v->s.p ? v->s.p : "", v->s.len);
            break;
        case PF_INTS:
            gen_bytes(b, "[", 1);
            for (uint32_t j = 0; j < v->a.n; j++)
                gen_printf(b, "%s%" PRId64, j ? ", " : "", v->a.p[j]);
            gen_bytes(b, "]", 1);
            break;
        case PF_MSGS:
            gen_bytes(b, "[", 1);
            for (uint32_t j = 0; j < v->m.n; j++) {
                if (j)
                    gen_bytes(b, ",", 1);
                if (pretty)
                    gen_printf(b, "\n%*s", 2 * (level + 1), "");
                else if (j)
                    gen_bytes(b, " ", 1);
                json_msg(b, &v->m.p[j], pretty, level + 1);
            }
            gen_bytes(b, "]", 1);
            break;
        }
    }
    gen_bytes(b, "}", 1);
}

void gen_json(struct gen_buf *b, const struct proto_msg *m, bool pretty)
{
    json_msg(b, m, pretty, 0);
}

/* ---- the generated tables of PROTOCOL.md ------------------------------- */

static const char *kind_type(enum proto_kind kind)
{
    switch (kind) {
    case PF_INT:
        return "integer";
    case PF_BOOL:
        return "boolean";
    case PF_STR:
    case PF_ENUM:
        return "string";
    case PF_INTS:
        return "array of integers";
    case PF_MSGS:
        return "array of maps";
    }
    return "?";
}

static void spec_values(struct gen_buf *b, enum proto_key k)
{
    int64_t min = proto_key_min(k), max = proto_key_max(k);
    switch (proto_key_kind(k)) {
    case PF_INT:
        gen_printf(b, "%" PRId64 " … %" PRId64, min, max);
        return;
    case PF_BOOL:
        gen_printf(b, "`true`, `false`");
        return;
    case PF_ENUM: {
        const char *const *vals = proto_enum_values(k);
        gen_printf(b, "one of");
        for (int i = 0; vals[i]; i++)
            gen_printf(b, "%s `%s`", i ? "," : "", vals[i]);
        return;
    }
    case PF_STR:
        if (proto_key_is_date(k))
            gen_printf(b, "a date `YYYY-MM-DD`, 2000-01-01 … 2999-12-31");
        else if (min == max)
            gen_printf(b, "exactly %" PRId64 " bytes", min);
        else
            gen_printf(b, "%" PRId64 " … %" PRId64 " bytes", min, max);
        return;
    case PF_INTS:
        gen_printf(b, "at most %d elements, each %" PRId64 " … %" PRId64, PROTO_MAX_ARRAY, min,
                   max);
        return;
    case PF_MSGS:
        if (k == PK_EVENTS)
            gen_printf(b, "at most %d events, each a whole event map (with `t` and `seq`)",
                       PROTO_MAX_MSGS);
        else
            gen_printf(b, "at most %d rows, each a map of keys from this table (no `t`)",
                       PROTO_MAX_MSGS);
        return;
    }
}

static const char *dir_text(enum proto_dir d)
{
    switch (d) {
    case PD_REQ:
        return "request";
    case PD_REPLY:
        return "reply";
    case PD_EVENT:
        return "event";
    }
    return "?";
}

static const char *dir_long(enum proto_dir d)
{
    switch (d) {
    case PD_REQ:
        return "Request, client → server. Answered with the same `id` (see \"Requests and "
               "replies\").";
    case PD_REPLY:
        return "Reply, server → client.";
    case PD_EVENT:
        return "Event, server → session members, and an element of `snapshot.events`.";
    }
    return "?";
}

/* The GitHub-style anchor of a "#### `name`" heading. */
static void anchor(struct gen_buf *b, const char *name)
{
    for (const char *p = name; *p; p++)
        if (*p != '.')
            gen_bytes(b, p, 1);
}

void gen_spec(struct gen_buf *b)
{
    gen_printf(b, GEN_SPEC_BEGIN);
    gen_printf(b, "<!-- Do not edit by hand: `cmake --build build --target protocol_md` "
                  "rewrites this part from proto/proto.h. -->\n\n");

    gen_printf(b, "### Limits\n\n| limit | value |\n|---|---|\n");
    gen_printf(b, "| protocol version | %d |\n", PROTO_VERSION);
    gen_printf(b,
               "| frame body, client → server | at most `max_frame_bytes` of lwkd, by default "
               "%u bytes |\n",
               PROTO_DEFAULT_MAX_FRAME);
    gen_printf(b, "| frame body, server → client | at most %u bytes |\n", PROTO_CLIENT_MAX_FRAME);
    gen_printf(b, "| nesting of maps and arrays, client → server (the message map counts) | %d |\n",
               PROTO_MAX_DEPTH_REQUEST);
    gen_printf(b, "| nesting of maps and arrays, server → client | %d |\n", PROTO_MAX_DEPTH);
    gen_printf(b, "| elements of an array of integers | %d |\n", PROTO_MAX_ARRAY);
    gen_printf(b, "| elements of `events` or `rows` | %d |\n", PROTO_MAX_MSGS);
    gen_printf(b,
               "| bytes of a text field (`text`) | %d (lwkd's `max_text_bytes` may be lower) |\n\n",
               PROTO_MAX_TEXT);

    gen_printf(b, "### Error codes\n\n| err | name | meaning |\n|---:|---|---|\n");
#define X(name, code, text) gen_printf(b, "| %d | `%s` | %s |\n", code, #name, text);
    PROTO_ERRORS(X)
#undef X
    gen_printf(b, "\n");

    gen_printf(b, "### Keys\n\nEvery key any message may carry. A message type uses a subset "
                  "(its table below); strings are UTF-8 with no control characters except tab "
                  "and newline, lengths in bytes.\n\n");
    gen_printf(b, "| key | MessagePack type | valid values |\n|---|---|---|\n");
    for (int i = 0; i < PK__COUNT; i++) {
        enum proto_key k = (enum proto_key)i;
        gen_printf(b, "| `%s` | %s | ", proto_key_name(k), kind_type(proto_key_kind(k)));
        spec_values(b, k);
        gen_printf(b, " |\n");
    }
    gen_printf(b, "\n");

    gen_printf(b, "### Message types\n\nRequired fields in **bold**. Every request may carry "
                  "`id`; every event carries `seq` and may carry `ts`.\n\n");
    gen_printf(b, "| type | direction | fields |\n|---|---|---|\n");
    for (int t = PT__NONE + 1; t < PT__COUNT; t++) {
        enum proto_type ty = (enum proto_type)t;
        gen_printf(b, "| [`%s`](#", proto_type_name(ty));
        anchor(b, proto_type_name(ty));
        gen_printf(b, "-%s) | %s |", dir_text(proto_type_dir(ty)), dir_text(proto_type_dir(ty)));
        bool first = true;
        for (int i = 0; i < PK__COUNT; i++) {
            enum proto_key k = (enum proto_key)i;
            if (!proto_type_allows(ty, k))
                continue;
            const char *bold = proto_type_requires(ty, k) ? "**" : "";
            gen_printf(b, "%s %s%s%s", first ? "" : ",", bold, proto_key_name(k), bold);
            first = false;
        }
        gen_printf(b, " |\n");
    }
    gen_printf(b, "\n");

    for (int t = PT__NONE + 1; t < PT__COUNT; t++) {
        enum proto_type ty = (enum proto_type)t;
        enum proto_dir d = proto_type_dir(ty);
        gen_printf(b, "#### `%s` (%s)\n\n%s\n\n", proto_type_name(ty), dir_text(d), dir_long(d));
        gen_printf(b,
                   "| field | MessagePack type | valid values | presence |\n|---|---|---|---|\n");
        gen_printf(b, "| `t` | string | `\"%s\"` | required |\n", proto_type_name(ty));
        for (int i = 0; i < PK__COUNT; i++) {
            enum proto_key k = (enum proto_key)i;
            if (!proto_type_allows(ty, k))
                continue;
            gen_printf(b, "| `%s` | %s | ", proto_key_name(k), kind_type(proto_key_kind(k)));
            spec_values(b, k);
            gen_printf(b, " | %s |\n", proto_type_requires(ty, k) ? "required" : "optional");
        }
        gen_printf(b, "\n");
    }
    gen_printf(b, GEN_SPEC_END);
}

/* ---- examples ---------------------------------------------------------- */

static void set_ints(struct gen_sample *s, struct proto_msg *m, enum proto_key k, const int64_t *v,
                     uint32_t n)
{
    int64_t *a = keep(s, sizeof(*a) * (n ? n : 1));
    memcpy(a, v, sizeof(*a) * n);
    proto_set_ints(m, k, a, n);
}

static struct gen_sample *ex_hello(void)
{
    struct gen_sample *s = sample_alloc();
    struct proto_msg *m = &s->msg;
    proto_msg_init(m, PT_HELLO);
    proto_set_int(m, PK_ID, 1);
    proto_set_int(m, PK_PROTO, PROTO_VERSION);
    proto_set_int(m, PK_KIND, PROTO_KIND_PARTICIPANT);
    proto_set_str(m, PK_CODE, "K7MXP4R");
    proto_set_str(m, PK_NAME, "Merel");
    return s;
}

static struct gen_sample *ex_welcome(void)
{
    struct gen_sample *s = sample_alloc();
    struct proto_msg *m = &s->msg;
    proto_msg_init(m, PT_WELCOME);
    proto_set_int(m, PK_ID, 1);
    proto_set_int(m, PK_PROTO, PROTO_VERSION);
    proto_set_str(m, PK_SERVER, "lwkd 0.1.0");
    proto_set_int(m, PK_KIND, PROTO_KIND_PARTICIPANT);
    proto_set_int(m, PK_SESSION, 42);
    proto_set_int(m, PK_PID, 3);
    proto_set_str(m, PK_RESUME, "u8Zk3rQe0cVb1mTnWp4sYh2A");
    return s;
}

static struct gen_sample *ex_score(void)
{
    struct gen_sample *s = sample_alloc();
    struct proto_msg *m = &s->msg;
    proto_msg_init(m, PT_SCORE);
    proto_set_int(m, PK_ID, 7);
    proto_set_int(m, PK_ITEM, 0);
    proto_set_int(m, PK_VALUE, 6);
    return s;
}

static void scored(struct proto_msg *m, bool full)
{
    proto_msg_init(m, PT_EV_SCORED);
    proto_set_int(m, PK_SEQ, 9);
    proto_set_int(m, PK_TS, 1760000000123);
    proto_set_int(m, PK_PID, 3);
    proto_set_int(m, PK_ITEM, 0);
    proto_set_int(m, PK_ROUND, 1);
    if (full)
        proto_set_int(m, PK_VALUE, 6);
}

static struct gen_sample *ex_scored(bool full)
{
    struct gen_sample *s = sample_alloc();
    scored(&s->msg, full);
    return s;
}

static struct gen_sample *ex_ok(void)
{
    struct gen_sample *s = sample_alloc();
    proto_msg_init(&s->msg, PT_OK);
    proto_set_int(&s->msg, PK_ID, 7);
    return s;
}

static struct gen_sample *ex_revealed(void)
{
    struct gen_sample *s = sample_alloc();
    struct proto_msg *m = &s->msg;
    proto_msg_init(m, PT_EV_REVEALED);
    proto_set_int(m, PK_SEQ, 12);
    proto_set_int(m, PK_TS, 1760000042000);
    proto_set_int(m, PK_ITEM, 0);
    proto_set_int(m, PK_ROUND, 1);
    static const int64_t values[] = {1, 6, 2, 7, 3, 6, 4, 8};
    set_ints(s, m, PK_VALUES, values, 8);
    return s;
}

static struct gen_sample *ex_error(void)
{
    struct gen_sample *s = sample_alloc();
    struct proto_msg *m = &s->msg;
    proto_msg_init(m, PT_ERROR);
    proto_set_int(m, PK_ID, 8);
    proto_set_int(m, PK_ERR, 300);
    proto_set_str(m, PK_MSG, "not possible in the current step: score");
    return s;
}

static struct gen_sample *ex_snapshot(void)
{
    struct gen_sample *s = sample_alloc();
    struct proto_msg *m = &s->msg;
    struct proto_msg *ev = keep(s, sizeof(*ev) * 4);
    struct proto_msg *rows = keep(s, sizeof(*rows) * 2);

    proto_msg_init(&rows[0], PT__NONE);
    proto_set_int(&rows[0], PK_ITEM, 0);
    proto_set_str(&rows[0], PK_NAME, "Absorptievermogen");
    static const int64_t scale[] = {1, 10};
    set_ints(s, &rows[0], PK_VALUES, scale, 2);
    proto_msg_init(&rows[1], PT__NONE);
    proto_set_int(&rows[1], PK_ITEM, 1);
    proto_set_str(&rows[1], PK_NAME, "Verbindend vermogen");
    set_ints(s, &rows[1], PK_VALUES, scale, 2);

    proto_msg_init(&ev[0], PT_EV_CREATED);
    proto_set_int(&ev[0], PK_SEQ, 1);
    proto_set_int(&ev[0], PK_SESSION, 42);
    proto_set_str(&ev[0], PK_TEAM, "Zorgteam Oost");
    proto_set_str(&ev[0], PK_INSTRUMENT, "lwk-meting");
    proto_set_int(&ev[0], PK_MIN_REVEAL, 3);
    proto_set_msgs(&ev[0], PK_ROWS, rows, 2);
    proto_msg_init(&ev[1], PT_EV_JOINED);
    proto_set_int(&ev[1], PK_SEQ, 2);
    proto_set_int(&ev[1], PK_PID, 1);
    proto_set_str(&ev[1], PK_NAME, "Merel");
    proto_msg_init(&ev[2], PT_EV_PHASE);
    proto_set_int(&ev[2], PK_SEQ, 3);
    proto_set_int(&ev[2], PK_PHASE, PROTO_PHASE_SCORE);
    proto_set_int(&ev[2], PK_ITEM, 0);
    proto_set_int(&ev[2], PK_ROUND, 1);
    scored(&ev[3], false);
    proto_set_int(&ev[3], PK_SEQ, 4);
    proto_unset(&ev[3], PK_TS);
    proto_set_int(&ev[3], PK_PID, 1);

    proto_msg_init(m, PT_SNAPSHOT);
    proto_set_int(m, PK_SESSION, 42);
    proto_set_int(m, PK_SEQ, 4);
    proto_set_msgs(m, PK_EVENTS, ev, 4);
    return s;
}

int gen_examples(struct gen_example **out)
{
    struct gen_example ex[] = {
        {"hello: a participant joins with the join code", ex_hello()},
        {"welcome: the answer to that hello", ex_welcome()},
        {"snapshot: what the participant gets right after welcome", ex_snapshot()},
        {"score: a request", ex_score()},
        {"ok: its reply", ex_ok()},
        {"scored (public): what every other member sees", ex_scored(false)},
        {"scored (full): what the participant who scored sees, and what is stored",
         ex_scored(true)},
        {"revealed: all scores of the round, as pairs of pid and value", ex_revealed()},
        {"error: a refused request", ex_error()},
    };
    int n = (int)(sizeof(ex) / sizeof(ex[0]));
    *out = malloc(sizeof(ex));
    if (!*out)
        abort();
    memcpy(*out, ex, sizeof(ex));
    return n;
}

void gen_examples_free(struct gen_example *ex, int n)
{
    for (int i = 0; i < n; i++)
        gen_sample_free(ex[i].sample);
    free(ex);
}

void gen_example_markdown(struct gen_buf *b, const struct gen_example *ex)
{
    uint8_t *frame;
    size_t len;
    if (proto_encode_frame(&ex->sample->msg, &frame, &len) < 0)
        abort();
    gen_printf(b, "Example, %s (%zu bytes with the length prefix):\n\n```hex\n", ex->title, len);
    for (size_t i = 0; i < len; i++)
        gen_printf(b, "%02x%s", frame[i], i + 1 == len ? "\n" : (i % 16 == 15 ? "\n" : " "));
    gen_printf(b, "```\n\n```json\n");
    gen_json(b, &ex->sample->msg, true);
    gen_printf(b, "\n```\n\n");
    free(frame);
}
