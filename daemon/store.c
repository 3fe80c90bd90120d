/*
 * store.c: persistence of accepted events (see store.h, docs/persistence.md).
 *
 * An event goes through three places, in this order:
 *   1. the spool, appended before store_event returns, hence before any
 *      client sees the event or its "ok" (a killed lwkd loses nothing);
 *   2. the in-memory queue, oldest first, one reference on its full frame;
 *   3. PostgreSQL, in batches: one statement per batch (lwk.store_events,
 *      sql/004) with the batch as five binary arrays. The function inserts
 *      with ON CONFLICT (session_id, seq) DO NOTHING, so a batch sent twice
 *      (a lost COMMIT, a replayed spool) is stored once; a trigger projects
 *      each new event into the normalized tables.
 * Only a successful result removes a batch from the queue and acknowledges
 * it in the spool. One batch is in flight at a time, so the database sees
 * every session's events in order. A connection failure leaves the batch
 * queued until db.c has reconnected; an SQL error retries it with backoff.
 *
 * The queue holds what the spool holds, so memory is bounded by
 * spool_max_bytes (plus what the spool refused once full, which the dispatch
 * check keeps to the few events that are not client changes).
 */
#include "store.h"
#include "db.h"
#include "json.h"
#include "log.h"
#include "lwkd.h"
#include "spool.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* How long startup waits for the database before restoring from the spool alone. */
#define STORE_STARTUP_WAIT_MS 6000
#define STORE_RETRY_MIN_MS 500
#define STORE_ERROR_LOG_MS 30000
#define STORE_BATCH_BYTES (4u * 1024 * 1024)

/* PostgreSQL type OIDs of the batch arrays and their elements (pg_type.h). */
#define OID_INT8 20
#define OID_TEXT 25
#define OID_BYTEA 17
#define OID_JSONB 3802
#define OID_INT8_ARRAY 1016
#define OID_TEXT_ARRAY 1009
#define OID_BYTEA_ARRAY 1001
#define OID_JSONB_ARRAY 3807

static const char store_sql[] = "SELECT stored, rejected FROM lwk.store_events($1, $2, $3, $4, $5)";

/* The events of every session not closed, for the restore. */
static const char restore_sql[] =
    "SELECT e.session_id, e.seq, e.payload FROM lwk.session_events e "
    "WHERE e.session_id IN (SELECT id FROM lwk.sessions WHERE status <> 'closed') "
    "ORDER BY e.session_id, e.seq";

struct store_rec {
    struct store_rec *next;
    int64_t session_id;
    uint64_t seq;
    uint64_t time_ms;          /* wall clock when accepted */
    uint64_t queued_ms;        /* loop time when queued (batch delay) */
    struct engine_frame *full; /* owned reference: 4-byte length + body */
    struct spool_pos pos;      /* end in the spool; seg 0 = not in it */
};

enum store_phase {
    PHASE_INIT,
    PHASE_WAIT_DB, /* startup: waiting for the database to answer or not */
    PHASE_LOADING, /* the restore query is in flight */
    PHASE_RUNNING,
};

/* An event to restore: from the database or the spool. */
struct restore_ev {
    int64_t session_id;
    uint64_t seq;
    int src; /* 0 database, 1 spool/queue: the database copy goes first */
    size_t idx;
    const uint8_t *body;
    size_t len;
};

/* A spool record read at startup (body owned). */
struct spooled {
    int64_t session_id;
    uint64_t seq, time_ms;
    uint8_t *body;
    uint32_t len;
    struct spool_pos end;
};

struct store {
    struct lwkd *d;
    struct spool *spool;
    struct store_rec *head, *tail;
    uint64_t n_waiting;
    bool in_flight;
    int in_flight_n;
    bool flushing, stopped;
    enum store_phase phase;
    bool startup;          /* the restore in progress is the startup one */
    bool restored_from_db; /* open sessions were loaded from the database */
    void (*ready)(struct lwkd *d);
    uv_timer_t batch_timer; /* batch delay and retry backoff */
    uv_timer_t wait_timer;  /* startup wait for the database */
    uint64_t retry_at;
    int retry_ms;
    uint64_t last_error_log;
    int spool_error; /* last append error (negative errno): refuse changes */
    uint64_t soft_limit;
    struct spooled *spooled; /* read at startup, until queued */
    size_t n_spooled, cap_spooled;
    struct store_stats stats;
    uint64_t rejected, unspooled;
};

static void maybe_send(struct store *st);

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void batch_timer_cb(uv_timer_t *t)
{
    maybe_send(t->data);
}

struct store *store_new(struct lwkd *d)
{
    struct store *st = calloc(1, sizeof(*st));
    if (!st)
        return NULL;
    st->d = d;
    uv_timer_init(d->loop, &st->batch_timer);
    uv_timer_init(d->loop, &st->wait_timer);
    st->batch_timer.data = st->wait_timer.data = st;
    return st;
}

void store_stop(struct store *st)
{
    if (!st || st->stopped)
        return;
    st->stopped = true;
    if (!uv_is_closing((uv_handle_t *)&st->batch_timer))
        uv_close((uv_handle_t *)&st->batch_timer, NULL);
    if (!uv_is_closing((uv_handle_t *)&st->wait_timer))
        uv_close((uv_handle_t *)&st->wait_timer, NULL);
}

static void free_spooled(struct store *st)
{
    for (size_t i = 0; i < st->n_spooled; i++)
        free(st->spooled[i].body);
    free(st->spooled);
    st->spooled = NULL;
    st->n_spooled = st->cap_spooled = 0;
}

void store_free(struct store *st)
{
    if (!st)
        return;
    if (st->head)
        log_event(LOG_WARN, "store_stopped_with_waiting_events",
                  "waiting=%llu spool_bytes=%llu note=\"kept in the spool for the next start\"",
                  (unsigned long long)st->n_waiting, (unsigned long long)spool_bytes(st->spool));
    for (struct store_rec *r = st->head, *n; r; r = n) {
        n = r->next;
        engine_frame_unref(r->full);
        free(r);
    }
    free_spooled(st);
    spool_free(st->spool);
    free(st);
}

/* ---- queue ------------------------------------------------------------- */

static void enqueue(struct store *st, struct store_rec *r)
{
    r->next = NULL;
    if (st->tail)
        st->tail->next = r;
    else
        st->head = r;
    st->tail = r;
    st->n_waiting++;
}

/* Logs a recurring problem at most every STORE_ERROR_LOG_MS. */
static bool error_log_due(struct store *st)
{
    uint64_t now = uv_now(st->d->loop);
    if (st->last_error_log && now - st->last_error_log < STORE_ERROR_LOG_MS)
        return false;
    st->last_error_log = now;
    return true;
}

void store_event(struct store *st, int64_t session_id, uint64_t seq, enum proto_type type,
                 struct engine_frame *full)
{
    (void)type;
    if (!st || !st->d->db || !full || full->len < PROTO_FRAME_HEADER)
        return; /* no database: nothing is stored */
    struct store_rec *r = calloc(1, sizeof(*r));
    if (!r) {
        log_event(LOG_ERROR, "store_event_lost", "session=%lld seq=%llu reason=out_of_memory",
                  (long long)session_id, (unsigned long long)seq);
        return;
    }
    r->session_id = session_id;
    r->seq = seq;
    r->time_ms = wall_ms();
    r->queued_ms = uv_now(st->d->loop);
    engine_frame_ref(full);
    r->full = full;
    if (st->spool) {
        int rc =
            spool_append(st->spool, session_id, seq, r->time_ms, full->data + PROTO_FRAME_HEADER,
                         full->len - PROTO_FRAME_HEADER, &r->pos);
        if (rc < 0) {
            /* Kept in memory for the database all the same; store_full now
             * refuses further changes until the spool has room again. */
            r->pos.seg = 0;
            st->unspooled++;
            if (rc != SPOOL_ERR_FULL)
                st->spool_error = rc;
            if (error_log_due(st))
                log_event(LOG_ERROR, "spool_append_failed",
                          "session=%lld seq=%llu error=\"%s\" spool_bytes=%llu",
                          (long long)session_id, (unsigned long long)seq,
                          rc == SPOOL_ERR_FULL ? "spool_max_bytes reached" : strerror(-rc),
                          (unsigned long long)spool_bytes(st->spool));
        } else {
            st->spool_error = 0;
        }
    }
    enqueue(st, r);
    maybe_send(st);
}

bool store_full(const struct store *st)
{
    if (!st || !st->spool)
        return false;
    return st->spool_error != 0 || spool_bytes(st->spool) >= st->soft_limit;
}

void store_get_stats(const struct store *st, struct store_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (!st)
        return;
    *out = st->stats;
    out->waiting = st->n_waiting;
    out->spool_bytes = spool_bytes(st->spool);
    if (st->head) {
        uint64_t now = wall_ms();
        out->oldest_ms = now > st->head->time_ms ? now - st->head->time_ms : 0;
    }
}

void store_flush(struct store *st)
{
    if (!st)
        return;
    st->flushing = true;
    maybe_send(st);
}

enum proto_db_state db_state_of(const struct lwkd *d)
{
    return d->db ? db_state(d->db) : PROTO_DB_NONE;
}

/* ---- batches ----------------------------------------------------------- */

/* A PostgreSQL binary array (array_recv's format), built element by element. */
struct pg_array {
    uint8_t *p;
    size_t len, cap;
    bool oom;
};

static void arr_put(struct pg_array *a, const void *src, size_t n)
{
    if (a->oom)
        return;
    if (a->len + n > a->cap) {
        size_t cap = a->cap ? a->cap : 1024;
        while (cap < a->len + n)
            cap *= 2;
        uint8_t *np = realloc(a->p, cap);
        if (!np) {
            a->oom = true;
            return;
        }
        a->p = np;
        a->cap = cap;
    }
    memcpy(a->p + a->len, src, n);
    a->len += n;
}

static void arr_put_u32(struct pg_array *a, uint32_t v)
{
    uint8_t b[4];
    proto_put_u32be(b, v);
    arr_put(a, b, 4);
}

static void arr_begin(struct pg_array *a, uint32_t elem_oid, uint32_t n)
{
    arr_put_u32(a, 1); /* dimensions */
    arr_put_u32(a, 1); /* may hold NULLs */
    arr_put_u32(a, elem_oid);
    arr_put_u32(a, n);
    arr_put_u32(a, 1); /* lower bound */
}

static void arr_int8(struct pg_array *a, int64_t v)
{
    arr_put_u32(a, 8);
    arr_put_u32(a, (uint32_t)((uint64_t)v >> 32));
    arr_put_u32(a, (uint32_t)v);
}

static void arr_bytes(struct pg_array *a, const void *p, size_t n)
{
    arr_put_u32(a, (uint32_t)n);
    arr_put(a, p, n);
}

static void arr_null(struct pg_array *a)
{
    arr_put_u32(a, 0xffffffffu);
}

/*
 * The decoded event as JSON for the data column, without what must not
 * leave the event log: resume tokens and session codes are credentials
 * (the payload keeps them, for the restore).
 */
static int event_json(const uint8_t *body, size_t len, const char **kind, char **json, size_t *jlen)
{
    struct proto_msg *m;
    int rc = proto_decode(body, len, true, &m, NULL);
    if (rc < 0)
        return rc;
    *kind = proto_type_name(m->type);
    proto_unset(m, PK_RESUME);
    proto_unset(m, PK_JOIN_CODE);
    proto_unset(m, PK_KIOSK_CODE);
    proto_unset(m, PK_TOKEN);
    if (proto_to_json(m, json, jlen) < 0)
        *json = NULL; /* stored without data, not lost */
    proto_msg_free(m);
    return 0;
}

static void batch_done(void *arg, const PGresult *res, const char *err);

static void send_batch(struct store *st)
{
    uint32_t n = 0, max = (uint32_t)st->d->cfg.db_batch_max;
    size_t bytes = 0;
    /* Bounded in bytes too, so one statement stays well inside db.c's
     * query timeout whatever the events' size. */
    for (struct store_rec *r = st->head; r && n < max && (n == 0 || bytes < STORE_BATCH_BYTES);
         r = r->next) {
        bytes += r->full->len;
        n++;
    }
    struct pg_array a[5] = {{0}};
    arr_begin(&a[0], OID_INT8, n);
    arr_begin(&a[1], OID_INT8, n);
    arr_begin(&a[2], OID_TEXT, n);
    arr_begin(&a[3], OID_BYTEA, n);
    arr_begin(&a[4], OID_JSONB, n);
    uint32_t i = 0;
    for (struct store_rec *r = st->head; r && i < n; r = r->next, i++) {
        const uint8_t *body = r->full->data + PROTO_FRAME_HEADER;
        size_t len = r->full->len - PROTO_FRAME_HEADER;
        const char *kind = "invalid";
        char *json = NULL;
        size_t jlen = 0;
        /* An event that does not decode is still stored (payload intact). */
        (void)event_json(body, len, &kind, &json, &jlen);
        arr_int8(&a[0], r->session_id);
        arr_int8(&a[1], (int64_t)r->seq);
        arr_bytes(&a[2], kind, strlen(kind));
        arr_bytes(&a[3], body, len);
        if (json) {
            uint8_t version = 1; /* jsonb's binary format: a version byte, then text */
            arr_put_u32(&a[4], (uint32_t)jlen + 1);
            arr_put(&a[4], &version, 1);
            arr_put(&a[4], json, jlen);
            free(json);
        } else {
            arr_null(&a[4]);
        }
    }
    bool oom = false;
    for (int k = 0; k < 5; k++)
        oom |= a[k].oom;
    if (!oom) {
        static const Oid types[5] = {OID_INT8_ARRAY, OID_INT8_ARRAY, OID_TEXT_ARRAY,
                                     OID_BYTEA_ARRAY, OID_JSONB_ARRAY};
        static const int formats[5] = {1, 1, 1, 1, 1};
        const char *values[5];
        int lengths[5];
        for (int k = 0; k < 5; k++) {
            values[k] = (const char *)a[k].p;
            lengths[k] = (int)a[k].len;
        }
        st->in_flight = true;
        st->in_flight_n = (int)n;
        if (db_query_params(st->d->db, store_sql, 5, types, values, lengths, formats, batch_done,
                            st) < 0)
            st->in_flight = false; /* not connected after all: the state callback resumes */
    }
    for (int k = 0; k < 5; k++)
        free(a[k].p);
    if (oom) {
        log_event(LOG_ERROR, "store_batch_failed", "reason=out_of_memory events=%u", n);
        st->retry_at = uv_now(st->d->loop) + STORE_RETRY_MIN_MS;
        maybe_send(st);
    }
}

static void batch_done(void *arg, const PGresult *res, const char *err)
{
    struct store *st = arg;
    int n = st->in_flight_n;
    st->in_flight = false;
    st->in_flight_n = 0;
    if (res && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
        struct spool_pos last = {0, 0};
        for (int i = 0; i < n && st->head; i++) {
            struct store_rec *r = st->head;
            st->head = r->next;
            if (!st->head)
                st->tail = NULL;
            st->n_waiting--;
            if (r->pos.seg)
                last = r->pos;
            engine_frame_unref(r->full);
            free(r);
        }
        if (st->spool)
            spool_ack(st->spool, last);
        long rejected = strtol(PQgetvalue(res, 0, 1), NULL, 10);
        if (rejected > 0) {
            st->rejected += (uint64_t)rejected;
            log_event(LOG_ERROR, "store_events_rejected",
                      "count=%ld total=%llu note=\"kept in lwk.rejected_events\"", rejected,
                      (unsigned long long)st->rejected);
        }
        st->stats.written += (uint64_t)n;
        st->stats.batches++;
        if (st->retry_ms)
            log_event(LOG_INFO, "store_resumed", "waiting=%llu", (unsigned long long)st->n_waiting);
        st->retry_ms = 0;
        st->retry_at = 0;
        st->last_error_log = 0;
        maybe_send(st);
        return;
    }
    if (!res) {
        /* The connection went: the batch stays queued and goes again, whole,
         * once db.c has reconnected (store_db_state). */
        log_event(LOG_DEBUG, "store_batch_interrupted", "events=%d reason=\"%s\"", n,
                  err ? err : "connection lost");
        return;
    }
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    st->retry_ms = st->retry_ms ? st->retry_ms * 2 : STORE_RETRY_MIN_MS;
    if (st->retry_ms > st->d->cfg.db_retry_max_ms)
        st->retry_ms = st->d->cfg.db_retry_max_ms;
    st->retry_at = uv_now(st->d->loop) + (uint64_t)st->retry_ms;
    if (error_log_due(st))
        log_event(LOG_ERROR, "store_write_failed",
                  "sqlstate=%s error=\"%s\" events=%d waiting=%llu retry_ms=%d",
                  state ? state : "?", err ? err : "?", n, (unsigned long long)st->n_waiting,
                  st->retry_ms);
    maybe_send(st);
}

/* Sends the next batch when one is due, or arms the timer for when it is. */
static void maybe_send(struct store *st)
{
    if (st->stopped || st->phase != PHASE_RUNNING || st->in_flight || !st->head || !st->d->db)
        return;
    if (db_state(st->d->db) != PROTO_DB_OK)
        return; /* store_db_state resumes */
    uint64_t now = uv_now(st->d->loop);
    uint64_t due = 0;
    if (st->retry_at > now)
        due = st->retry_at;
    else if (!st->flushing && st->n_waiting < (uint64_t)st->d->cfg.db_batch_max &&
             st->head->queued_ms + (uint64_t)st->d->cfg.db_batch_delay_ms > now)
        due = st->head->queued_ms + (uint64_t)st->d->cfg.db_batch_delay_ms;
    if (due) {
        if (!uv_is_active((uv_handle_t *)&st->batch_timer))
            uv_timer_start(&st->batch_timer, batch_timer_cb, due - now, 0);
        return;
    }
    send_batch(st);
}

/* ---- restore ----------------------------------------------------------- */

static int cmp_restore(const void *a, const void *b)
{
    const struct restore_ev *x = a, *y = b;
    if (x->session_id != y->session_id)
        return x->session_id < y->session_id ? -1 : 1;
    if (x->seq != y->seq)
        return x->seq < y->seq ? -1 : 1;
    if (x->src != y->src)
        return x->src - y->src;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Feeds events to the engine in (session, seq) order; duplicates are no-ops. */
static void restore_events(struct store *st, struct restore_ev *ev, size_t n, const char *from)
{
    qsort(ev, n, sizeof(*ev), cmp_restore);
    size_t sessions = 0, applied = 0, skipped = 0;
    int64_t last_session = 0;
    for (size_t i = 0; i < n; i++) {
        /* The same event from the database and from the spool: once is enough. */
        if (i > 0 && ev[i].session_id == ev[i - 1].session_id && ev[i].seq == ev[i - 1].seq)
            continue;
        int rc = engine_restore_event(st->d->engine, ev[i].session_id, ev[i].body, ev[i].len);
        if (rc == 0) {
            applied++;
            if (ev[i].session_id != last_session)
                sessions++;
            last_session = ev[i].session_id;
        } else {
            skipped++;
            if (rc != PROTO_ERR_NOT_FOUND)
                log_event(LOG_WARN, "restore_event_skipped", "session=%lld seq=%llu error=%s",
                          (long long)ev[i].session_id, (unsigned long long)ev[i].seq,
                          proto_err_name(rc));
        }
    }
    log_event(LOG_INFO, "restored", "from=%s sessions=%zu events=%zu skipped=%zu", from, sessions,
              applied, skipped);
}

/* The spool's records join the queue (in spool order) after the restore. */
static void queue_spooled(struct store *st)
{
    uint64_t now = uv_now(st->d->loop);
    for (size_t i = 0; i < st->n_spooled; i++) {
        struct spooled *s = &st->spooled[i];
        struct store_rec *r = calloc(1, sizeof(*r));
        struct engine_frame *f = r ? malloc(sizeof(*f) + PROTO_FRAME_HEADER + s->len) : NULL;
        if (!f) {
            /* Still in the spool: the next start tries again. */
            free(r);
            log_event(LOG_ERROR, "store_requeue_failed", "reason=out_of_memory");
            break;
        }
        f->refs = 1;
        f->len = PROTO_FRAME_HEADER + s->len;
        proto_put_u32be(f->data, s->len);
        memcpy(f->data + PROTO_FRAME_HEADER, s->body, s->len);
        r->session_id = s->session_id;
        r->seq = s->seq;
        r->time_ms = s->time_ms;
        r->queued_ms = now;
        r->full = f;
        r->pos = s->end;
        enqueue(st, r);
    }
    free_spooled(st);
}

static void run(struct store *st)
{
    st->phase = PHASE_RUNNING;
    bool first = st->startup;
    st->startup = false;
    if (first) {
        if (st->n_spooled)
            log_event(LOG_INFO, "spool_replay", "events=%zu", st->n_spooled);
        queue_spooled(st);
        if (st->ready)
            st->ready(st->d);
    }
    maybe_send(st);
}

/* Startup without the database: the spool alone. */
static void restore_from_spool(struct store *st)
{
    uv_timer_stop(&st->wait_timer);
    struct restore_ev *ev = calloc(st->n_spooled + 1, sizeof(*ev));
    if (ev) {
        for (size_t i = 0; i < st->n_spooled; i++)
            ev[i] = (struct restore_ev){st->spooled[i].session_id, st->spooled[i].seq, 1, i,
                                        st->spooled[i].body,       st->spooled[i].len};
        restore_events(st, ev, st->n_spooled, "spool");
        free(ev);
    }
    run(st);
}

static void restore_loaded(void *arg, const PGresult *res, const char *err)
{
    struct store *st = arg;
    if (st->stopped)
        return;
    bool ok = res && PQresultStatus(res) == PGRES_TUPLES_OK;
    if (!ok) {
        log_event(LOG_WARN, "restore_query_failed", "error=\"%s\" startup=%d",
                  err ? err : "connection lost", st->startup);
        if (res)
            st->restored_from_db = true; /* an SQL error will not go away by itself */
        if (st->startup)
            restore_from_spool(st);
        else
            run(st);
        return;
    }
    int rows = PQntuples(res);
    size_t extra = st->startup ? st->n_spooled : st->n_waiting;
    struct restore_ev *ev = calloc((size_t)rows + extra + 1, sizeof(*ev));
    unsigned char **bufs = calloc((size_t)rows + 1, sizeof(*bufs));
    size_t n = 0;
    if (!ev || !bufs) {
        free(ev);
        free(bufs);
        log_event(LOG_ERROR, "restore_failed", "reason=out_of_memory");
        if (st->startup)
            restore_from_spool(st);
        else
            run(st);
        return;
    }
    for (int i = 0; i < rows; i++) {
        int64_t sid = strtoll(PQgetvalue(res, i, 0), NULL, 10);
        /* Later (the database was down at start): only sessions the spool
         * could not bring back, so nothing restored already is touched. */
        if (!st->startup && engine_find(st->d->engine, sid))
            continue;
        size_t blen = 0;
        bufs[i] = PQunescapeBytea((const unsigned char *)PQgetvalue(res, i, 2), &blen);
        if (!bufs[i])
            continue;
        ev[n++] = (struct restore_ev){
            sid, strtoull(PQgetvalue(res, i, 1), NULL, 10), 0, (size_t)i, bufs[i], blen};
    }
    size_t from_db = n;
    if (st->startup) {
        for (size_t i = 0; i < st->n_spooled; i++)
            ev[n++] = (struct restore_ev){st->spooled[i].session_id, st->spooled[i].seq, 1, i,
                                          st->spooled[i].body,       st->spooled[i].len};
    } else {
        /* The queued events of those sessions follow their stored ones. */
        size_t i = 0;
        for (struct store_rec *r = st->head; r; r = r->next, i++) {
            if (engine_find(st->d->engine, r->session_id))
                continue;
            ev[n++] = (struct restore_ev){r->session_id,
                                          r->seq,
                                          1,
                                          i,
                                          r->full->data + PROTO_FRAME_HEADER,
                                          r->full->len - PROTO_FRAME_HEADER};
        }
    }
    if (st->startup || from_db)
        restore_events(st, ev, n, st->startup ? "database+spool" : "database");
    for (int i = 0; i < rows; i++)
        if (bufs[i])
            PQfreemem(bufs[i]);
    free(bufs);
    free(ev);
    st->restored_from_db = true;
    uv_timer_stop(&st->wait_timer);
    run(st);
}

static void load_from_db(struct store *st)
{
    st->phase = PHASE_LOADING;
    if (db_query(st->d->db, restore_sql, 0, NULL, restore_loaded, st) < 0) {
        if (st->startup)
            restore_from_spool(st);
        else
            run(st);
    }
}

static void wait_timeout(uv_timer_t *t)
{
    struct store *st = t->data;
    if (st->phase != PHASE_WAIT_DB)
        return;
    log_event(LOG_WARN, "restore_without_database",
              "waited_ms=%d note=\"restoring from the spool; the rest follows when it answers\"",
              STORE_STARTUP_WAIT_MS);
    restore_from_spool(st);
}

void store_db_state(struct store *st, enum proto_db_state state)
{
    if (!st || st->stopped)
        return;
    switch (st->phase) {
    case PHASE_WAIT_DB:
        if (state == PROTO_DB_OK)
            load_from_db(st);
        else if (state == PROTO_DB_UNAVAILABLE)
            restore_from_spool(st);
        return;
    case PHASE_RUNNING:
        if (state != PROTO_DB_OK)
            return;
        if (!st->restored_from_db)
            load_from_db(st);
        else
            maybe_send(st);
        return;
    default:
        return;
    }
}

static void collect_spooled(void *arg, const struct spool_record *rec)
{
    struct store *st = arg;
    if (st->n_spooled == st->cap_spooled) {
        size_t cap = st->cap_spooled ? st->cap_spooled * 2 : 256;
        struct spooled *np = realloc(st->spooled, cap * sizeof(*np));
        if (!np)
            return; /* stays in the spool, read again at the next start */
        st->spooled = np;
        st->cap_spooled = cap;
    }
    uint8_t *body = malloc(rec->len ? rec->len : 1);
    if (!body)
        return;
    memcpy(body, rec->body, rec->len);
    st->spooled[st->n_spooled++] =
        (struct spooled){rec->session_id, rec->seq, rec->time_ms, body, rec->len, rec->end};
}

int store_start(struct store *st, void (*ready)(struct lwkd *d))
{
    struct lwkd *d = st->d;
    st->ready = ready;
    st->startup = true;
    if (!d->db) {
        st->phase = PHASE_RUNNING;
        st->startup = false;
        if (ready)
            ready(d);
        return 0;
    }
    uint64_t max = (uint64_t)d->cfg.spool_max_bytes;
    uint64_t seg = max / 16;
    if (seg < 64 * 1024)
        seg = 64 * 1024;
    if (seg > 64 * 1024 * 1024)
        seg = 64 * 1024 * 1024;
    /* Room kept for what the dispatch check cannot refuse (joins, presence,
     * idle closes) once client changes are refused. */
    st->soft_limit = max - max / 8;
    char err[512];
    int rc = spool_open(d->loop, d->cfg.spool_path, max, seg, collect_spooled, st, &st->spool, err,
                        sizeof(err));
    if (rc < 0) {
        log_event(LOG_ERROR, "spool_open_failed", "path=\"%s\" error=\"%s\"", d->cfg.spool_path,
                  err);
        return -1;
    }
    struct spool_stats ss;
    spool_get_stats(st->spool, &ss);
    log_event(ss.bad_bytes || ss.truncated ? LOG_WARN : LOG_INFO, "spool_opened",
              "path=\"%s\" records=%zu bytes=%llu bad_bytes=%llu truncated=%llu", d->cfg.spool_path,
              st->n_spooled, (unsigned long long)ss.bytes, (unsigned long long)ss.bad_bytes,
              (unsigned long long)ss.truncated);
    st->phase = PHASE_WAIT_DB;
    enum proto_db_state now = db_state(d->db);
    if (now == PROTO_DB_OK) {
        load_from_db(st);
    } else if (now == PROTO_DB_UNAVAILABLE) {
        restore_from_spool(st);
    } else {
        uv_timer_start(&st->wait_timer, wait_timeout, STORE_STARTUP_WAIT_MS, 0);
    }
    return 0;
}

/* ---- reading a stored session back ------------------------------------ */

struct load_req {
    struct store *st;
    int64_t session_id;
    void (*done)(void *arg, bool found);
    void *arg;
};

static void session_loaded(void *arg, const PGresult *res, const char *err)
{
    struct load_req *lr = arg;
    bool found = false;
    if (res && PQresultStatus(res) == PGRES_TUPLES_OK && !lr->st->stopped &&
        !engine_find(lr->st->d->engine, lr->session_id)) {
        int rows = PQntuples(res);
        for (int i = 0; i < rows; i++) {
            size_t blen = 0;
            unsigned char *body =
                PQunescapeBytea((const unsigned char *)PQgetvalue(res, i, 0), &blen);
            if (!body)
                break;
            int rc = engine_restore_event(lr->st->d->engine, lr->session_id, body, blen);
            PQfreemem(body);
            if (rc < 0 && rc != PROTO_ERR_NOT_FOUND)
                break;
        }
        found = engine_find(lr->st->d->engine, lr->session_id) != NULL;
        if (found)
            log_event(LOG_INFO, "session_loaded", "session=%lld events=%d",
                      (long long)lr->session_id, rows);
    }
    lr->done(lr->arg, found);
    free(lr);
}

int store_load_session(struct store *st, int64_t session_id, void (*done)(void *arg, bool found),
                       void *arg)
{
    if (!st || !st->d->db || db_state(st->d->db) != PROTO_DB_OK)
        return PROTO_ERR_DB_UNAVAILABLE;
    struct load_req *lr = calloc(1, sizeof(*lr));
    if (!lr)
        return PROTO_ERR_INTERNAL;
    *lr = (struct load_req){st, session_id, done, arg};
    char id[32];
    snprintf(id, sizeof(id), "%lld", (long long)session_id);
    const char *params[1] = {id};
    int rc = db_query(st->d->db,
                      "SELECT payload FROM lwk.session_events WHERE session_id = $1::bigint "
                      "ORDER BY seq",
                      1, params, session_loaded, lr);
    if (rc < 0)
        free(lr);
    return rc;
}
