/*
 * json.c: a decoded or built message as JSON text (see json.h).
 *
 * The codec guarantees strings are valid UTF-8 without control characters
 * other than tab and newline, but the encoder escapes every control
 * character anyway, so a message built by hand can never yield invalid JSON.
 */
#include "json.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct jbuf {
    char *p;
    size_t len, cap;
    bool oom;
};

static void put(struct jbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void puts_(struct jbuf *b, const char *s)
{
    put(b, s, strlen(s));
}

static void put_int(struct jbuf *b, int64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof(tmp), "%" PRId64, v);
    put(b, tmp, (size_t)n);
}

static void put_str(struct jbuf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    put(b, "\"", 1);
    size_t run = 0; /* bytes copied as they are, flushed before each escape */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char u[7];
        if (c == '"')
            esc = "\\\"";
        else if (c == '\\')
            esc = "\\\\";
        else if (c == '\n')
            esc = "\\n";
        else if (c == '\t')
            esc = "\\t";
        else if (c == '\r')
            esc = "\\r";
        else if (c < 0x20 || c == 0x7f) {
            u[0] = '\\', u[1] = 'u', u[2] = '0', u[3] = '0';
            u[4] = hex[c >> 4], u[5] = hex[c & 15], u[6] = '\0';
            esc = u;
        }
        if (!esc)
            continue;
        put(b, s + run, i - run);
        puts_(b, esc);
        run = i + 1;
    }
    put(b, s + run, n - run);
    put(b, "\"", 1);
}

static int put_msg(struct jbuf *b, const struct proto_msg *m, bool typed, int depth)
{
    if (depth > PROTO_MAX_DEPTH)
        return PROTO_ERR_OUT_OF_RANGE;
    bool first = true;
    put(b, "{", 1);
    if (typed && m->type > PT__NONE && m->type < PT__COUNT) {
        puts_(b, "\"t\":");
        const char *tn = proto_type_name(m->type);
        put_str(b, tn, strlen(tn));
        first = false;
    }
    for (int k = 0; k < PK__COUNT; k++) {
        enum proto_key key = (enum proto_key)k;
        if (!proto_has(m, key))
            continue;
        if (!first)
            put(b, ",", 1);
        first = false;
        const char *name = proto_key_name(key);
        put_str(b, name, strlen(name));
        put(b, ":", 1);
        const union proto_val *v = &m->v[k];
        switch (proto_key_kind(key)) {
        case PF_INT:
            put_int(b, v->i);
            break;
        case PF_BOOL:
            puts_(b, v->i ? "true" : "false");
            break;
        case PF_ENUM: {
            const char *s = proto_enum_name(key, v->i);
            if (!s)
                return PROTO_ERR_OUT_OF_RANGE;
            put_str(b, s, strlen(s));
            break;
        }
        case PF_STR:
            put_str(b, v->s.p ? v->s.p : "", v->s.p ? v->s.len : 0);
            break;
        case PF_INTS:
            put(b, "[", 1);
            for (uint32_t i = 0; i < v->a.n; i++) {
                if (i)
                    put(b, ",", 1);
                put_int(b, v->a.p[i]);
            }
            put(b, "]", 1);
            break;
        case PF_MSGS:
            put(b, "[", 1);
            for (uint32_t i = 0; i < v->m.n; i++) {
                if (i)
                    put(b, ",", 1);
                /* events carry their type; rows are untyped records */
                int rc = put_msg(b, &v->m.p[i], key == PK_EVENTS, depth + 1);
                if (rc < 0)
                    return rc;
            }
            put(b, "]", 1);
            break;
        }
    }
    put(b, "}", 1);
    return 0;
}

int proto_to_json(const struct proto_msg *m, char **out, size_t *len)
{
    struct jbuf b = {0};
    *out = NULL;
    int rc = put_msg(&b, m, true, 0);
    if (rc == 0 && b.oom)
        rc = PROTO_ERR_INTERNAL;
    if (rc < 0) {
        free(b.p);
        return rc;
    }
    *out = b.p;
    if (len)
        *len = b.len;
    return 0;
}
