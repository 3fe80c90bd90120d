/*
 * db.c: the non-blocking PostgreSQL connection (see db.h).
 *
 * Never calls PQexec, PQconnectdb, PQreset or PQcancel: they block. A uv_poll
 * handle is made for each PQsocket; since the socket can change during
 * PQconnectPoll and PQfinish closes it, the poll handle is closed first and
 * PQfinish runs in its close callback.
 */
#include "db.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>

#define DB_CONNECT_TIMEOUT_MS 5000
#define DB_HEALTH_INTERVAL_MS 2000
#define DB_RETRY_MIN_MS 250

struct db_query {
    struct db_query *next;
    char *sql;
    int nparams;
    char **params;
    int *lengths; /* NULL: all text */
    int *formats; /* NULL: all text */
    Oid *types;   /* NULL: inferred by the server */
    db_result_cb cb;
    void *arg;
};

struct db {
    uv_loop_t *loop;
    char *conninfo;
    enum proto_db_state state;
    PGconn *conn;
    uv_poll_t *poll; /* for conn's socket; NULL when none */
    int poll_fd;
    bool connecting;
    uv_timer_t retry_timer;   /* backoff before the next connect */
    uv_timer_t watch_timer;   /* connect and query timeouts, health pings */
    int retry_ms, retry_max_ms;
    int query_timeout_ms;
    uint64_t busy_since;      /* when the query in flight was sent; 0 when idle */
    uint64_t last_ok;
    struct db_query *head, *tail; /* head is in flight when busy_since != 0 */
    int npending;
    PGresult *last; /* result being collected for the query in flight */
    bool health_in_flight;
    bool freeing;
    int handles_open;
    db_state_cb state_cb;
    void *state_arg;
};

static void db_connect(struct db *db);
static void db_drop(struct db *db, const char *why);
static void db_send_next(struct db *db);

static void set_state(struct db *db, enum proto_db_state st)
{
    if (db->state == st)
        return;
    db->state = st;
    if (st == PROTO_DB_OK)
        log_event(LOG_INFO, "db_connected", NULL);
    if (db->state_cb)
        db->state_cb(db->state_arg, st);
}

struct db *db_new(uv_loop_t *loop, const char *conninfo, int retry_max_ms)
{
    struct db *db = calloc(1, sizeof(*db));
    if (!db)
        return NULL;
    db->loop = loop;
    db->conninfo = strdup(conninfo ? conninfo : "");
    db->state = conninfo && conninfo[0] ? PROTO_DB_CONNECTING : PROTO_DB_NONE;
    db->retry_max_ms = retry_max_ms > DB_RETRY_MIN_MS ? retry_max_ms : 30000;
    db->retry_ms = DB_RETRY_MIN_MS;
    db->query_timeout_ms = 5000;
    db->poll_fd = -1;
    uv_timer_init(loop, &db->retry_timer);
    uv_timer_init(loop, &db->watch_timer);
    db->retry_timer.data = db->watch_timer.data = db;
    db->handles_open = 2;
    return db;
}

void db_set_state_cb(struct db *db, db_state_cb cb, void *arg)
{
    db->state_cb = cb;
    db->state_arg = arg;
}

void db_set_query_timeout(struct db *db, int ms)
{
    db->query_timeout_ms = ms;
}

enum proto_db_state db_state(const struct db *db)
{
    return db->state;
}

int db_pending(const struct db *db)
{
    return db->npending;
}

static void query_free(struct db_query *q)
{
    for (int i = 0; q->params && i < q->nparams; i++)
        free(q->params[i]);
    free(q->params);
    free(q->lengths);
    free(q->formats);
    free(q->types);
    free(q->sql);
    free(q);
}

/* Fails every queued query back to its caller. */
static void fail_all(struct db *db, const char *why)
{
    struct db_query *q = db->head;
    db->head = db->tail = NULL;
    db->npending = 0;
    db->busy_since = 0;
    db->health_in_flight = false;
    if (db->last) {
        PQclear(db->last);
        db->last = NULL;
    }
    while (q) {
        struct db_query *n = q->next;
        if (q->cb)
            q->cb(q->arg, NULL, why);
        query_free(q);
        q = n;
    }
}

static void poll_closed(uv_handle_t *h)
{
    PGconn *conn = h->data;
    if (conn)
        PQfinish(conn);
    free(h);
}

/* Stops watching the socket; PQfinish follows once libuv let go of it. */
static void release_conn(struct db *db)
{
    if (db->poll) {
        uv_poll_stop(db->poll);
        db->poll->data = db->conn;
        uv_close((uv_handle_t *)db->poll, poll_closed);
        db->poll = NULL;
    } else if (db->conn) {
        PQfinish(db->conn);
    }
    db->conn = NULL;
    db->poll_fd = -1;
    db->connecting = false;
}

static void retry_cb(uv_timer_t *t)
{
    db_connect(t->data);
}

static void db_drop(struct db *db, const char *why)
{
    if (db->conn)
        log_event(LOG_WARN, "db_lost", "reason=\"%s\" retry_ms=%d", why, db->retry_ms);
    release_conn(db);
    fail_all(db, why);
    set_state(db, PROTO_DB_UNAVAILABLE);
    if (db->freeing)
        return;
    uv_timer_start(&db->retry_timer, retry_cb, (uint64_t)db->retry_ms, 0);
    db->retry_ms = db->retry_ms * 2 > db->retry_max_ms ? db->retry_max_ms : db->retry_ms * 2;
}

static void on_poll(uv_poll_t *p, int status, int events);

/* Watches PQsocket for the wanted events, remaking the handle if it changed. */
static int watch(struct db *db, int events)
{
    int fd = PQsocket(db->conn);
    if (fd < 0)
        return -1;
    if (db->poll && db->poll_fd != fd) {
        uv_poll_stop(db->poll);
        db->poll->data = NULL; /* the old socket is libpq's to close */
        uv_close((uv_handle_t *)db->poll, poll_closed);
        db->poll = NULL;
    }
    if (!db->poll) {
        db->poll = malloc(sizeof(*db->poll));
        if (!db->poll || uv_poll_init(db->loop, db->poll, fd) != 0) {
            free(db->poll);
            db->poll = NULL;
            return -1;
        }
        db->poll_fd = fd;
    }
    db->poll->data = db;
    return uv_poll_start(db->poll, events, on_poll);
}

static void connect_step(struct db *db)
{
    switch (PQconnectPoll(db->conn)) {
    case PGRES_POLLING_READING:
        if (watch(db, UV_READABLE) < 0)
            db_drop(db, "socket");
        return;
    case PGRES_POLLING_WRITING:
        if (watch(db, UV_WRITABLE) < 0)
            db_drop(db, "socket");
        return;
    case PGRES_POLLING_OK:
        db->connecting = false;
        db->busy_since = 0; /* it was the connect timeout's reference, not a query */
        db->retry_ms = DB_RETRY_MIN_MS;
        db->last_ok = uv_now(db->loop);
        if (PQsetnonblocking(db->conn, 1) != 0 || watch(db, UV_READABLE) < 0) {
            db_drop(db, "setnonblocking");
            return;
        }
        set_state(db, PROTO_DB_OK);
        db_send_next(db);
        return;
    default: {
        /* libpq's message can carry the host name but never a password. */
        char why[160];
        const char *m = PQerrorMessage(db->conn);
        size_t n = strcspn(m, "\n");
        snprintf(why, sizeof(why), "%.*s", (int)(n < 150 ? n : 150), m);
        db_drop(db, why);
        return;
    }
    }
}

/* Collects results of the query in flight; calls back at the end. */
static void read_results(struct db *db)
{
    while (db->busy_since && !PQisBusy(db->conn)) {
        PGresult *r = PQgetResult(db->conn);
        if (r) {
            if (db->last)
                PQclear(db->last);
            db->last = r;
            continue;
        }
        /* NULL: the query is complete. */
        struct db_query *q = db->head;
        db->head = q->next;
        if (!db->head)
            db->tail = NULL;
        db->npending--;
        db->busy_since = 0;
        db->last_ok = uv_now(db->loop);
        PGresult *res = db->last;
        db->last = NULL;
        const char *err = NULL;
        if (!res)
            err = "no result";
        else if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
            err = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
        if (q->cb)
            q->cb(q->arg, res, err ? err : NULL);
        if (res)
            PQclear(res);
        query_free(q);
        if (!db->conn) /* the callback may have dropped us */
            return;
        db_send_next(db);
    }
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    struct db *db = p->data;
    if (!db || !db->conn)
        return;
    if (db->connecting) {
        connect_step(db);
        return;
    }
    if (status < 0) {
        db_drop(db, uv_strerror(status));
        return;
    }
    if (events & UV_READABLE) {
        if (!PQconsumeInput(db->conn)) {
            db_drop(db, "connection lost");
            return;
        }
        /* Notifications are not used; drop them so they never pile up. */
        PGnotify *n;
        while ((n = PQnotifies(db->conn)))
            PQfreemem(n);
    }
    int fl = PQflush(db->conn);
    if (fl < 0) {
        db_drop(db, "flush failed");
        return;
    }
    if (PQstatus(db->conn) == CONNECTION_BAD) {
        db_drop(db, "connection lost");
        return;
    }
    read_results(db);
    if (!db->conn)
        return;
    /* read_results may have sent the next query: its unsent rest (a large
     * batch does not fit the socket at once) needs writable too. */
    if ((fl = PQflush(db->conn)) < 0) {
        db_drop(db, "flush failed");
        return;
    }
    if (watch(db, UV_READABLE | (fl == 1 ? UV_WRITABLE : 0)) < 0)
        db_drop(db, "socket");
}

static void db_send_next(struct db *db)
{
    if (!db->conn || db->connecting || db->busy_since || !db->head)
        return;
    struct db_query *q = db->head;
    if (!PQsendQueryParams(db->conn, q->sql, q->nparams, q->types, (const char *const *)q->params,
                           q->lengths, q->formats, 0)) {
        db_drop(db, "send failed");
        return;
    }
    db->busy_since = uv_now(db->loop);
    int fl = PQflush(db->conn);
    if (fl < 0 || watch(db, UV_READABLE | (fl == 1 ? UV_WRITABLE : 0)) < 0)
        db_drop(db, "send failed");
}

static void health_cb(void *arg, const PGresult *res, const char *err)
{
    struct db *db = arg;
    db->health_in_flight = false;
}

static void watch_cb(uv_timer_t *t)
{
    struct db *db = t->data;
    uint64_t now = uv_now(db->loop);
    if (!db->conn)
        return;
    if (db->connecting) {
        if (now - db->busy_since >= DB_CONNECT_TIMEOUT_MS)
            db_drop(db, "connect timeout");
        return;
    }
    if (db->busy_since && now - db->busy_since >= (uint64_t)db->query_timeout_ms) {
        db_drop(db, "server not answering");
        return;
    }
    /* An idle connection is pinged so a dead or frozen server is noticed. */
    if (!db->head && !db->health_in_flight && now - db->last_ok >= DB_HEALTH_INTERVAL_MS) {
        db->health_in_flight = true;
        db_query(db, "SELECT 1", 0, NULL, health_cb, db);
    }
}

static void db_connect(struct db *db)
{
    if (db->freeing || db->conn)
        return;
    /* The conninfo (keywords or a URI) is expanded first; the encoding after
     * it wins, since the store sends JSON and text as UTF-8 in binary form. */
    static const char *const keys[] = {"dbname", "client_encoding", "fallback_application_name",
                                       NULL};
    const char *const values[] = {db->conninfo, "UTF8", "lwkd", NULL};
    db->conn = PQconnectStartParams(keys, values, 1);
    if (!db->conn) {
        db_drop(db, "out of memory");
        return;
    }
    if (PQstatus(db->conn) == CONNECTION_BAD) {
        char why[160];
        snprintf(why, sizeof(why), "%.150s", PQerrorMessage(db->conn));
        why[strcspn(why, "\n")] = '\0';
        db_drop(db, why);
        return;
    }
    db->connecting = true;
    db->busy_since = uv_now(db->loop); /* connect timeout reference */
    connect_step(db);
    if (db->connecting)
        db->busy_since = uv_now(db->loop);
}

void db_start(struct db *db)
{
    if (!db->conninfo[0])
        return;
    uv_timer_start(&db->watch_timer, watch_cb, 250, 250);
    db_connect(db);
}

int db_query(struct db *db, const char *sql, int nparams, const char *const *params,
             db_result_cb cb, void *arg)
{
    return db_query_params(db, sql, nparams, NULL, params, NULL, NULL, cb, arg);
}

int db_query_params(struct db *db, const char *sql, int nparams, const Oid *types,
                    const char *const *values, const int *lengths, const int *formats,
                    db_result_cb cb, void *arg)
{
    if (db->freeing || !db->conn || db->connecting)
        return PROTO_ERR_DB_UNAVAILABLE;
    struct db_query *q = calloc(1, sizeof(*q));
    if (!q)
        return PROTO_ERR_INTERNAL;
    bool ok = (q->sql = strdup(sql)) != NULL;
    q->nparams = nparams;
    if (ok && nparams) {
        ok = (q->params = calloc((size_t)nparams, sizeof(char *))) != NULL;
        if (ok && formats) {
            ok = (q->formats = malloc((size_t)nparams * sizeof(int))) &&
                 (q->lengths = calloc((size_t)nparams, sizeof(int)));
            if (ok)
                memcpy(q->formats, formats, (size_t)nparams * sizeof(int));
        }
        if (ok && types && (ok = (q->types = malloc((size_t)nparams * sizeof(Oid))) != NULL))
            memcpy(q->types, types, (size_t)nparams * sizeof(Oid));
    }
    for (int i = 0; ok && i < nparams; i++) {
        if (!values[i])
            continue;
        bool binary = formats && formats[i] == 1;
        size_t n = binary ? (size_t)lengths[i] : strlen(values[i]);
        /* Binary values are counted bytes; text ones stay NUL-terminated. */
        if ((ok = (q->params[i] = malloc(n + 1)) != NULL)) {
            memcpy(q->params[i], values[i], n);
            q->params[i][n] = '\0';
            if (q->lengths)
                q->lengths[i] = (int)n;
        }
    }
    if (!ok) {
        query_free(q);
        return PROTO_ERR_INTERNAL;
    }
    q->cb = cb;
    q->arg = arg;
    if (db->tail)
        db->tail->next = q;
    else
        db->head = q;
    db->tail = q;
    db->npending++;
    db_send_next(db);
    return 0;
}

static void timer_closed(uv_handle_t *h)
{
    struct db *db = h->data;
    if (--db->handles_open == 0) {
        free(db->conninfo);
        free(db);
    }
}

void db_free(struct db *db)
{
    if (!db)
        return;
    db->freeing = true;
    release_conn(db);
    fail_all(db, "shutting down");
    uv_close((uv_handle_t *)&db->retry_timer, timer_closed);
    uv_close((uv_handle_t *)&db->watch_timer, timer_closed);
}
