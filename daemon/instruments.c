/*
 * instruments.c: instruments as data in lwkd (see instruments.h and
 * docs/cycle.md): the cache of parsed versions, session.new with the newest
 * version and the team's review, and instrument.import / instrument.export.
 *
 * A session takes everything it needs from the instrument into its
 * session.created event, so the cache can change (an import, a refresh)
 * without touching a session that exists.
 */
#include "instruments.h"
#include "db.h"
#include "instrument.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Actions one review takes from the database (the engine keeps as many). */
#define REVIEW_LIMIT 100

/* ---- helpers shared with cycle.c ------------------------------------- */

/* A failed query as a protocol error. The functions of sql/020 raise
 * no_data_found for "no such team/action" and cardinality_violation for an
 * ambiguous team name. */
int instruments_db_error(const PGresult *res)
{
    if (!res)
        return PROTO_ERR_DB_UNAVAILABLE;
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    if (!state)
        return PROTO_ERR_INTERNAL;
    if (!strcmp(state, "P0002"))
        return PROTO_ERR_NOT_FOUND;
    if (!strcmp(state, "21000") || !strcmp(state, "23505"))
        return PROTO_ERR_CONFLICT;
    if (!strcmp(state, "42501"))
        return PROTO_ERR_WRONG_ROLE;
    if (!strncmp(state, "22", 2) || !strncmp(state, "23", 2))
        return PROTO_ERR_OUT_OF_RANGE;
    if (!strncmp(state, "08", 2) || !strncmp(state, "57", 2))
        return PROTO_ERR_DB_UNAVAILABLE;
    return PROTO_ERR_INTERNAL;
}

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static char *dup_or_null(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : strdup(PQgetvalue(res, row, col));
}


/* ---- the cache: the newest parsed version of each instrument ------------ */

static struct {
    struct instrument **v;
    int n, cap;
    bool registered;
} cache;

void instruments_free(void)
{
    for (int i = 0; i < cache.n; i++)
        instrument_free(cache.v[i]);
    free(cache.v);
    cache.v = NULL;
    cache.n = cache.cap = 0;
}

static void free_at_exit(void)
{
    instruments_free();
}

static struct instrument *cache_get(const char *key)
{
    for (int i = 0; i < cache.n; i++)
        if (!strcmp(cache.v[i]->key, key))
            return cache.v[i];
    return NULL;
}

/* Takes inst over; keeps it when it is at least as new as the cached one. */
static struct instrument *cache_put(struct instrument *inst)
{
    for (int i = 0; i < cache.n; i++) {
        if (strcmp(cache.v[i]->key, inst->key))
            continue;
        if (inst->version < cache.v[i]->version) {
            instrument_free(inst);
            return cache.v[i];
        }
        instrument_free(cache.v[i]);
        cache.v[i] = inst;
        return inst;
    }
    if (cache.n == cache.cap) {
        int cap = cache.cap ? cache.cap * 2 : 8;
        struct instrument **v = realloc(cache.v, (size_t)cap * sizeof(*v));
        if (!v) {
            instrument_free(inst);
            return NULL;
        }
        cache.v = v;
        cache.cap = cap;
    }
    if (!cache.registered) {
        /* lwkd's main frees nothing of ours; LeakSanitizer would say so. */
        atexit(free_at_exit);
        cache.registered = true;
    }
    cache.v[cache.n++] = inst;
    return inst;
}

/* ---- session.new -------------------------------------------------------- */

struct new_session {
    struct lwkd *d;
    uint64_t conn_id;
    int64_t req_id;
    int pending; /* queries not answered yet */
    /* the request, copied: the message is gone by the time the answers come */
    char *team, *key;
    int64_t unit, min_reveal;
    bool has_unit, has_min_reveal, auto_reveal;
    uint64_t since;
    /* the instrument: answered, and the newest version's text when not cached */
    bool inst_answered, inst_missing;
    unsigned version;
    char *definition;
    /* the review */
    struct engine_review_action *actions;
    int n_actions;
    struct engine_review_item *items;
    int n_items;
    int64_t previous;
    char previous_date[11];
};

static void new_session_free(struct new_session *ns)
{
    free(ns->team);
    free(ns->key);
    free(ns->definition);
    for (int i = 0; i < ns->n_actions; i++) {
        struct engine_review_action *a = &ns->actions[i];
        free((char *)a->text);
        free((char *)a->owner);
        free((char *)a->feedback);
        free((char *)a->deadline);
        free((char *)a->date);
        free((char *)a->item_key);
    }
    free(ns->actions);
    for (int i = 0; i < ns->n_items; i++)
        free((char *)ns->items[i].item_key);
    free(ns->items);
    free(ns);
}

/* The instrument a session of ns->key is made from: the definition just
 * loaded, else the cache; NULL for the engine's built-in table. */
static const struct instrument *session_instrument(struct new_session *ns)
{
    if (ns->definition) {
        struct instrument *in = NULL;
        struct instrument_error err;
        if (instrument_parse(ns->definition, strlen(ns->definition), &in, &err) == 0 &&
            !strcmp(in->key, ns->key))
            return cache_put(in);
        if (in)
            instrument_free(in);
        else
            log_event(LOG_WARN, "instrument_invalid", "key=%s version=%u line=%u error=\"%s\"",
                      ns->key, ns->version, err.line, err.message);
    }
    if (ns->inst_missing)
        return NULL; /* the database has no such instrument */
    return cache_get(ns->key);
}

static void new_session_finish(struct new_session *ns)
{
    struct conn *c = conn_find(ns->d, ns->conn_id);
    if (!c) {
        new_session_free(ns);
        return;
    }
    struct proto_msg req;
    proto_msg_init(&req, PT_SESSION_NEW);
    proto_set_str(&req, PK_TEAM, ns->team);
    proto_set_str(&req, PK_INSTRUMENT, ns->key);
    if (ns->has_unit)
        proto_set_int(&req, PK_UNIT, ns->unit);
    if (ns->has_min_reveal)
        proto_set_int(&req, PK_MIN_REVEAL, ns->min_reveal);
    if (ns->auto_reveal)
        proto_set_bool(&req, PK_AUTO, true);
    struct engine_review review = {ns->actions,       ns->n_actions, ns->previous,
                                   ns->previous_date, ns->items,     ns->n_items};
    struct engine_setup setup = {session_instrument(ns), &review, ns->d->cfg.agenda_minute_seconds};
    struct session *s = NULL;
    int rc = engine_session_start(ns->d->engine, &req, c->facilitator, &setup, wall_ms(), &s);
    if (rc < 0) {
        conn_send_error(c, ns->req_id, rc,
                        rc == PROTO_ERR_NOT_FOUND ? "instrument" : "session.new");
    } else {
        const struct session_state *st = session_get_state(s);
        log_event(LOG_INFO, "session_opened",
                  "session=%lld conn=%llu instrument=%s version=%d review=%d",
                  (long long)session_id(s), (unsigned long long)c->id, st->instrument, st->version,
                  st->n_reviews);
        dispatch_session_ready(c, s, ns->req_id, ns->since);
    }
    new_session_free(ns);
}

static void new_session_answered(struct new_session *ns)
{
    if (--ns->pending == 0)
        new_session_finish(ns);
}

static void instrument_loaded(void *arg, const PGresult *res, const char *err)
{
    struct new_session *ns = arg;
    if (res && !err) {
        ns->inst_answered = true;
        if (PQntuples(res) == 0) {
            ns->inst_missing = true;
        } else {
            ns->version = (unsigned)strtoul(PQgetvalue(res, 0, 0), NULL, 10);
            ns->definition = dup_or_null(res, 0, 1);
        }
    } else {
        log_event(LOG_WARN, "instrument_load_failed", "key=%s error=\"%s\" using=cache", ns->key,
                  err ? err : "?");
    }
    new_session_answered(ns);
}

static void review_actions_loaded(void *arg, const PGresult *res, const char *err)
{
    struct new_session *ns = arg;
    int n = res && !err ? PQntuples(res) : 0;
    if (!res || err)
        log_event(LOG_WARN, "review_load_failed", "what=actions error=\"%s\"", err ? err : "?");
    if (n > 0 && (ns->actions = calloc((size_t)n, sizeof(*ns->actions)))) {
        for (int i = 0; i < n; i++) {
            struct engine_review_action *a = &ns->actions[ns->n_actions++];
            a->action = strtoll(PQgetvalue(res, i, 0), NULL, 10);
            a->session = strtoll(PQgetvalue(res, i, 1), NULL, 10);
            a->text = dup_or_null(res, i, 2);
            a->owner = dup_or_null(res, i, 3);
            a->feedback = dup_or_null(res, i, 4);
            a->deadline = dup_or_null(res, i, 5);
            int status = 0;
            for (const char *const *v = proto_enum_values(PK_STATUS); v[status]; status++)
                if (!strcmp(v[status], PQgetvalue(res, i, 6)))
                    break;
            a->status = status;
            a->item_key = dup_or_null(res, i, 7);
            a->date = dup_or_null(res, i, 8);
            a->overdue = PQgetvalue(res, i, 9)[0] == 't';
        }
    }
    new_session_answered(ns);
}

static void review_previous_loaded(void *arg, const PGresult *res, const char *err)
{
    struct new_session *ns = arg;
    int n = res && !err ? PQntuples(res) : 0;
    if (!res || err)
        log_event(LOG_WARN, "review_load_failed", "what=previous error=\"%s\"", err ? err : "?");
    if (n > 0 && (ns->items = calloc((size_t)n, sizeof(*ns->items)))) {
        ns->previous = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        snprintf(ns->previous_date, sizeof(ns->previous_date), "%s", PQgetvalue(res, 0, 1));
        for (int i = 0; i < n; i++) {
            struct engine_review_item *it = &ns->items[ns->n_items++];
            it->item_key = dup_or_null(res, i, 2);
            /* mean: numeric with two decimals, as hundredths */
            it->mean = PQgetisnull(res, i, 3)
                           ? -1
                           : (int)(strtod(PQgetvalue(res, i, 3), NULL) * 100 + 0.5);
            it->desired = PQgetisnull(res, i, 4) ? 0 : atoi(PQgetvalue(res, i, 4));
        }
    }
    new_session_answered(ns);
}

void instruments_session_new(struct conn *c, const struct proto_msg *m, int64_t id)
{
    struct lwkd *d = c->d;
    struct new_session *ns = calloc(1, sizeof(*ns));
    const char *key = proto_str(m, PK_INSTRUMENT);
    if (ns) {
        ns->d = d;
        ns->conn_id = c->id;
        ns->req_id = id;
        ns->team = strdup(proto_str(m, PK_TEAM));
        ns->key = strdup(key ? key : "lwk-meting");
        ns->has_unit = proto_has(m, PK_UNIT);
        ns->unit = proto_int(m, PK_UNIT, 0);
        ns->has_min_reveal = proto_has(m, PK_MIN_REVEAL);
        ns->min_reveal = proto_int(m, PK_MIN_REVEAL, 0);
        ns->auto_reveal = proto_int(m, PK_AUTO, 0) != 0;
        ns->since = (uint64_t)proto_int(m, PK_SINCE, 0);
    }
    if (!ns || !ns->team || !ns->key) {
        if (ns)
            new_session_free(ns);
        conn_send_error(c, id, PROTO_ERR_INTERNAL, NULL);
        return;
    }
    if (!d->db || db_state(d->db) != PROTO_DB_OK) {
        new_session_finish(ns); /* the cache, or the built-in table */
        return;
    }
    /* Three questions at once; the session is made when all are answered. */
    const struct instrument *cached = cache_get(ns->key);
    char known[16], unit[32], limit[16];
    snprintf(known, sizeof(known), "%u", cached ? cached->version : 0u);
    snprintf(unit, sizeof(unit), "%lld", (long long)ns->unit);
    snprintf(limit, sizeof(limit), "%d", REVIEW_LIMIT);
    const char *p1[] = {ns->key, known};
    ns->pending = 1;
    if (db_query(d->db,
                 "SELECT v.version, CASE WHEN v.version = $2::int THEN NULL ELSE v.definition END "
                 "FROM lwk.instruments i JOIN lwk.instrument_versions v ON v.instrument_id = i.id "
                 "WHERE i.key = $1 ORDER BY v.version DESC LIMIT 1",
                 2, p1, instrument_loaded, ns) < 0) {
        ns->pending = 0;
        new_session_finish(ns);
        return;
    }
    if (ns->has_unit) {
        const char *p2[] = {unit, limit};
        ns->pending++;
        if (db_query(d->db,
                     "SELECT id, session_id, description, owner, feedback, deadline, status, "
                     "item_key, session_date, overdue FROM lwk.review_actions($1::bigint, $2::int)",
                     2, p2, review_actions_loaded, ns) < 0)
            ns->pending--;
        const char *p3[] = {unit, ns->key};
        ns->pending++;
        if (db_query(d->db,
                     "SELECT session_id, session_date, item_key, mean, desired "
                     "FROM lwk.review_previous($1::bigint, $2)",
                     2, p3, review_previous_loaded, ns) < 0)
            ns->pending--;
    }
}

/* ---- import and export ---------------------------------------------------- */

struct import {
    struct lwkd *d;
    uint64_t conn_id;
    int64_t req_id;
    char *text;              /* owned; the definition as stored */
    struct instrument *inst; /* owned until the cache takes it */
    unsigned version;        /* the version it is stored as */
};

static void import_free(struct import *im)
{
    free(im->text);
    if (im->inst)
        instrument_free(im->inst);
    free(im);
}

static void reply_instrument(struct conn *c, int64_t id, const char *key, unsigned version,
                             int64_t count, const char *definition)
{
    struct proto_msg r;
    proto_msg_init(&r, PT_OK);
    if (id >= 0)
        proto_set_int(&r, PK_ID, id);
    proto_set_str(&r, PK_INSTRUMENT, key);
    proto_set_int(&r, PK_VERSION, version);
    if (count >= 0)
        proto_set_int(&r, PK_COUNT, count);
    if (definition)
        proto_set_str(&r, PK_DEFINITION, definition);
    conn_send_msg(c, &r);
}

/* A refused definition: the parser's message, and the line it is about. */
static void send_bad_definition(struct conn *c, int64_t id, const struct instrument_error *err)
{
    struct proto_msg m;
    char text[256];
    proto_msg_init(&m, PT_ERROR);
    if (id >= 0)
        proto_set_int(&m, PK_ID, id);
    proto_set_int(&m, PK_ERR, -PROTO_ERR_BAD_DEFINITION);
    if (err->line)
        snprintf(text, sizeof(text), "line %u: %s", err->line, err->message);
    else
        snprintf(text, sizeof(text), "%s", err->message);
    proto_set_str(&m, PK_MSG, text);
    proto_set_int(&m, PK_LINE, err->line);
    conn_send_msg(c, &m);
}

/* JSON string (the texts are valid UTF-8 without tabs or control characters). */
static void json_put(char **p, size_t *left, const char *s)
{
    if (*left < 3)
        return;
    *(*p)++ = '"';
    (*left)--;
    for (; *s && *left > 2; s++) {
        if (*s == '"' || *s == '\\') {
            if (*left < 4)
                break;
            *(*p)++ = '\\';
            (*left)--;
        }
        *(*p)++ = *s;
        (*left)--;
    }
    *(*p)++ = '"';
    (*left)--;
    **p = '\0';
}

/* The items of inst as lwk.instrument_store wants them; caller frees. */
static char *items_json(const struct instrument *inst)
{
    size_t cap = 256 + inst->n_items * (2 * (INSTRUMENT_MAX_NAME * 4 + INSTRUMENT_MAX_KEY) + 128);
    char *buf = malloc(cap), *p = buf;
    size_t left = cap;
    if (!buf)
        return NULL;
    *p++ = '[';
    left--;
    for (size_t i = 0; i < inst->n_items; i++) {
        const struct instrument_item *it = &inst->items[i];
        int n = snprintf(p, left, "%s{\"position\":%zu,\"key\":", i ? "," : "", i);
        p += n;
        left -= (size_t)n;
        json_put(&p, &left, it->key);
        n = snprintf(p, left, ",\"name\":");
        p += n;
        left -= (size_t)n;
        json_put(&p, &left, it->name.nl);
        if (it->scored)
            n = snprintf(p, left, ",\"scored\":true,\"scale_min\":%d,\"scale_max\":%d}",
                         it->scale_min, it->scale_max);
        else
            n = snprintf(p, left, ",\"scored\":false,\"scale_min\":null,\"scale_max\":null}");
        p += n;
        left -= (size_t)n;
    }
    snprintf(p, left, "]");
    return buf;
}

/*
 * Replaces the value of the header's `version = N` line with version. The
 * rest of the text (comments included) stays as the author wrote it.
 */
static char *with_version(const char *text, unsigned version)
{
    const char *p = text;
    while (*p) {
        const char *eol = strchr(p, '\n');
        const char *end = eol ? eol : p + strlen(p);
        const char *q = p;
        while (q < end && (*q == ' ' || *q == '\t'))
            q++;
        if (*q == '[')
            break; /* past the header */
        if (!strncmp(q, "version", 7)) {
            const char *r = q + 7;
            while (r < end && (*r == ' ' || *r == '\t'))
                r++;
            if (r < end && *r == '=') {
                char num[16];
                int nl = snprintf(num, sizeof(num), "%u", version);
                size_t head = (size_t)(r + 1 - text), tail = strlen(end);
                char *out = malloc(head + 1 + (size_t)nl + tail + 1);
                if (!out)
                    return NULL;
                memcpy(out, text, head);
                out[head] = ' ';
                memcpy(out + head + 1, num, (size_t)nl);
                memcpy(out + head + 1 + nl, end, tail + 1);
                return out;
            }
        }
        p = eol ? eol + 1 : end;
    }
    return NULL;
}

static void import_stored(void *arg, const PGresult *res, const char *err)
{
    struct import *im = arg;
    struct conn *c = conn_find(im->d, im->conn_id);
    if (!res || err) {
        int code = instruments_db_error(res);
        if (c)
            conn_send_error(c, im->req_id, code,
                            code == PROTO_ERR_CONFLICT ? "another import stored this version first"
                                                       : "database");
        import_free(im);
        return;
    }
    log_event(LOG_INFO, "instrument_imported", "key=%s version=%u items=%zu", im->inst->key,
              im->version, im->inst->n_items);
    char key[INSTRUMENT_MAX_KEY + 1];
    snprintf(key, sizeof(key), "%s", im->inst->key);
    cache_put(im->inst);
    im->inst = NULL;
    if (c)
        reply_instrument(c, im->req_id, key, im->version, 1, NULL);
    import_free(im);
}

static void import_newest_loaded(void *arg, const PGresult *res, const char *err)
{
    struct import *im = arg;
    struct conn *c = conn_find(im->d, im->conn_id);
    if (!res || err) {
        if (c)
            conn_send_error(c, im->req_id, instruments_db_error(res), "database");
        import_free(im);
        return;
    }
    unsigned newest = 0;
    if (PQntuples(res) == 1) {
        newest = (unsigned)strtoul(PQgetvalue(res, 0, 0), NULL, 10);
        const char *def = PQgetvalue(res, 0, 1);
        struct instrument *old = NULL;
        if (instrument_parse(def, strlen(def), &old, NULL) == 0) {
            /* Identical content is the same version, whatever the text says. */
            old->version = im->inst->version; /* our own copy: compare the rest */
            bool same = instrument_equal(old, im->inst);
            instrument_free(old);
            if (same) {
                if (c)
                    reply_instrument(c, im->req_id, im->inst->key, newest, 0, NULL);
                import_free(im);
                return;
            }
        }
    }
    /* A change is a new version: the file's own when it was raised, else the next. */
    im->version = im->inst->version > newest ? im->inst->version : newest + 1;
    if (im->version != im->inst->version) {
        struct instrument *re = NULL;
        char *text =
            im->version <= INSTRUMENT_MAX_VERSION ? with_version(im->text, im->version) : NULL;
        if (!text || instrument_parse(text, strlen(text), &re, NULL) < 0) {
            free(text);
            if (c)
                conn_send_error(c, im->req_id, PROTO_ERR_CONFLICT,
                                "version: no next version to store this change as");
            import_free(im);
            return;
        }
        free(im->text);
        im->text = text;
        instrument_free(im->inst);
        im->inst = re;
    }
    char *items = items_json(im->inst);
    char version[16];
    snprintf(version, sizeof(version), "%u", im->version);
    const char *p[] = {im->inst->key, im->inst->name.nl, version, im->text, items};
    if (!items || db_query(im->d->db, "SELECT lwk.instrument_store($1, $2, $3::int, $4, $5::jsonb)",
                           5, p, import_stored, im) < 0) {
        if (c)
            conn_send_error(c, im->req_id, items ? PROTO_ERR_DB_UNAVAILABLE : PROTO_ERR_INTERNAL,
                            NULL);
        import_free(im);
    }
    free(items);
}

static void import_start(struct conn *c, const struct proto_msg *m, int64_t id)
{
    const struct proto_str *def = &m->v[PK_DEFINITION].s;
    struct instrument *inst = NULL;
    struct instrument_error err;
    if (instrument_parse(def->p, def->len, &inst, &err) < 0) {
        send_bad_definition(c, id, &err);
        return;
    }
    struct import *im = calloc(1, sizeof(*im));
    if (!im || !(im->text = strndup(def->p, def->len))) {
        instrument_free(inst);
        free(im);
        conn_send_error(c, id, PROTO_ERR_INTERNAL, NULL);
        return;
    }
    im->d = c->d;
    im->conn_id = c->id;
    im->req_id = id;
    im->inst = inst;
    const char *p[] = {inst->key};
    if (db_query(c->d->db,
                 "SELECT v.version, v.definition FROM lwk.instruments i "
                 "JOIN lwk.instrument_versions v ON v.instrument_id = i.id "
                 "WHERE i.key = $1 ORDER BY v.version DESC LIMIT 1",
                 1, p, import_newest_loaded, im) < 0) {
        import_free(im);
        conn_send_error(c, id, PROTO_ERR_DB_UNAVAILABLE, NULL);
    }
}

struct export
{
    struct lwkd *d;
    uint64_t conn_id;
    int64_t req_id;
};

static void export_loaded(void *arg, const PGresult *res, const char *err)
{
    struct export *ex = arg;
    struct conn *c = conn_find(ex->d, ex->conn_id);
    if (!c) {
        free(ex);
        return;
    }
    if (!res || err) {
        conn_send_error(c, ex->req_id, instruments_db_error(res), "database");
    } else if (PQntuples(res) != 1) {
        conn_send_error(c, ex->req_id, PROTO_ERR_NOT_FOUND, "instrument or version");
    } else {
        unsigned version = (unsigned)strtoul(PQgetvalue(res, 0, 0), NULL, 10);
        const char *def = PQgetvalue(res, 0, 1);
        struct instrument *in = NULL;
        /* The canonical form (docs/instruments.md): what import reads back as equal. */
        char *text = instrument_parse(def, strlen(def), &in, NULL) == 0 ? instrument_format(in)
                                                                        : strdup(def);
        if (in)
            instrument_free(in);
        if (!text)
            conn_send_error(c, ex->req_id, PROTO_ERR_INTERNAL, NULL);
        else if (strlen(text) > (size_t)proto_key_max(PK_DEFINITION))
            conn_send_error(c, ex->req_id, PROTO_ERR_LIMIT, "definition too long to send");
        else
            reply_instrument(c, ex->req_id, PQgetvalue(res, 0, 2), version, -1, text);
        free(text);
    }
    free(ex);
}

static void export_start(struct conn *c, const struct proto_msg *m, int64_t id)
{
    struct export *ex = calloc(1, sizeof(*ex));
    char version[16];
    const char *p[] = {proto_str(m, PK_INSTRUMENT), NULL};
    if (proto_has(m, PK_VERSION)) {
        snprintf(version, sizeof(version), "%lld", (long long)proto_int(m, PK_VERSION, 0));
        p[1] = version;
    }
    if (!ex) {
        conn_send_error(c, id, PROTO_ERR_INTERNAL, NULL);
        return;
    }
    ex->d = c->d;
    ex->conn_id = c->id;
    ex->req_id = id;
    if (db_query(c->d->db,
                 "SELECT v.version, v.definition, i.key FROM lwk.instruments i "
                 "JOIN lwk.instrument_versions v ON v.instrument_id = i.id "
                 "WHERE i.key = $1 AND ($2::int IS NULL OR v.version = $2::int) "
                 "ORDER BY v.version DESC LIMIT 1",
                 2, p, export_loaded, ex) < 0) {
        free(ex);
        conn_send_error(c, id, PROTO_ERR_DB_UNAVAILABLE, NULL);
    }
}

void instruments_request(struct conn *c, const struct proto_msg *m, int64_t id)
{
    struct lwkd *d = c->d;
    if (!d->db || db_state(d->db) != PROTO_DB_OK) {
        conn_send_error(c, id, PROTO_ERR_DB_UNAVAILABLE, NULL);
        return;
    }
    if (m->type == PT_INSTRUMENT_IMPORT)
        import_start(c, m, id);
    else
        export_start(c, m, id);
}
