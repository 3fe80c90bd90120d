/*
 * dispatch.c: what lwkd does with each decoded request. The handshake and
 * its credentials, rate limits, status, and routing of session requests to
 * the engine; and the fan-out of the engine's events to session members.
 */
#include "lwkd.h"
#include "auth.h"
#include "instruments.h"
#include "log.h"
#include "store.h"

#include <stdlib.h>
#include <string.h>

#define JOIN_TABLE 1024

#define JOIN_WINDOW_MS 60000

/*
 * Failed join attempts per source address within a minute from the first
 * of them (a window of its own, not the clock's minute: a burst across a
 * minute boundary must not get twice the attempts).
 */
static struct {
    uint32_t peer;
    uint64_t start_ms;
    int fails;
} join_fails[JOIN_TABLE];

static bool join_blocked(struct conn *c, uint64_t now)
{
    int limit = c->d->cfg.join_attempts_per_min;
    if (c->bad_frames >= limit) /* per connection: counted with bad frames */
        return true;
    if (c->is_unix || !c->peer_hash)
        return false;
    unsigned i = c->peer_hash % JOIN_TABLE;
    return join_fails[i].peer == c->peer_hash && now - join_fails[i].start_ms < JOIN_WINDOW_MS &&
           join_fails[i].fails >= limit;
}

static void join_failed(struct conn *c, uint64_t now)
{
    c->bad_frames++;
    if (c->is_unix || !c->peer_hash)
        return;
    unsigned i = c->peer_hash % JOIN_TABLE;
    if (join_fails[i].peer != c->peer_hash || now - join_fails[i].start_ms >= JOIN_WINDOW_MS) {
        join_fails[i].peer = c->peer_hash;
        join_fails[i].start_ms = now;
        join_fails[i].fails = 0;
    }
    join_fails[i].fails++;
}

/* Wall-clock milliseconds: events carry them as "ts" for people to read. */
static uint64_t wall_ms(void)
{
    uv_timeval64_t tv;
    uv_gettimeofday(&tv);
    return (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
}

static bool rate_ok(struct conn *c)
{
    uint64_t now = uv_now(c->d->loop);
    double rps = c->d->cfg.rate_limit_rps, burst = c->d->cfg.rate_limit_burst;
    c->tokens += (double)(now - c->tokens_ms) * rps / 1000.0;
    if (c->tokens > burst)
        c->tokens = burst;
    c->tokens_ms = now;
    if (c->tokens < 1.0)
        return false;
    c->tokens -= 1.0;
    return true;
}

static void send_snapshot(struct conn *c, int64_t id, uint64_t since)
{
    struct engine_actor who = {c->kind, c->pid, c->facilitator};
    uint8_t *frame;
    size_t len;
    int rc = engine_snapshot_reply(c->d->engine, c->session, &who, since, id, &frame, &len);
    if (rc < 0) {
        conn_send_error(c, id, rc, "snapshot");
        return;
    }
    struct engine_frame *f = engine_frame_new(frame, len);
    free(frame);
    if (!f) {
        conn_send_error(c, id, PROTO_ERR_INTERNAL, "snapshot");
        return;
    }
    conn_send_snapshot(c, f);
    engine_frame_unref(f);
}

static void welcome(struct conn *c, int64_t id, const char *resume)
{
    struct proto_msg m;
    proto_msg_init(&m, PT_WELCOME);
    if (id >= 0)
        proto_set_int(&m, PK_ID, id);
    proto_set_int(&m, PK_PROTO, PROTO_VERSION);
    proto_set_str(&m, PK_SERVER, "lwkd " LWK_VERSION);
    proto_set_int(&m, PK_KIND, c->kind);
    if (c->session)
        proto_set_int(&m, PK_SESSION, session_id(c->session));
    if (c->pid)
        proto_set_int(&m, PK_PID, c->pid);
    if (c->facilitator)
        proto_set_str(&m, PK_NAME, c->facilitator);
    if (resume)
        proto_set_str(&m, PK_RESUME, resume);
    conn_send_msg(c, &m);
}

static void refuse(struct conn *c, int64_t id, int code, const char *why)
{
    conn_send_error(c, id, code, why);
    conn_close(c, 0, NULL);
}

static void enter_ready(struct conn *c, enum proto_client_kind kind)
{
    c->kind = kind;
    c->state = CONN_READY;
    c->d->nconns_by_kind[kind]++;
}

/* Tells facilitator f that observer o asks to watch. */
static void tell_waiting(struct conn *f, const struct conn *o)
{
    struct proto_msg w;
    proto_msg_init(&w, PT_OBSERVER_WAITING);
    proto_set_int(&w, PK_TICKET, (int64_t)o->id);
    proto_set_str(&w, PK_NAME, o->observer_name);
    proto_set_int(&w, PK_SESSION, o->waiting_session);
    conn_send_msg(f, &w);
}

static void handle_hello(struct conn *c, const struct proto_msg *m, int64_t id)
{
    struct lwkd *d = c->d;
    uint64_t now = uv_now(d->loop);
    if (proto_int(m, PK_PROTO, 0) != PROTO_VERSION) {
        refuse(c, id, PROTO_ERR_VERSION, "this server speaks version 1");
        return;
    }
    enum proto_client_kind kind = (enum proto_client_kind)proto_int(m, PK_KIND, 0);
    const char *token = proto_str(m, PK_TOKEN);
    const char *code = proto_str(m, PK_CODE);
    uint64_t since = (uint64_t)proto_int(m, PK_SINCE, 0);

    switch (kind) {
    case PROTO_KIND_MONITOR:
        enter_ready(c, kind);
        welcome(c, id, NULL);
        return;
    case PROTO_KIND_ADMIN:
    case PROTO_KIND_FACILITATOR: {
        const char *name = NULL;
        if (!token || !(name = auth_check_token(d, token, kind == PROTO_KIND_ADMIN))) {
            log_event(LOG_INFO, "auth_refused", "conn=%llu kind=%s", (unsigned long long)c->id,
                      proto_enum_name(PK_KIND, kind));
            refuse(c, id, PROTO_ERR_BAD_CREDENTIALS, "token");
            return;
        }
        c->facilitator = strdup(name);
        enter_ready(c, kind);
        welcome(c, id, NULL);
        return;
    }
    case PROTO_KIND_PARTICIPANT: {
        struct session *s = NULL;
        int pid = 0;
        const char *resume = proto_str(m, PK_RESUME);
        if (join_blocked(c, now)) {
            log_event(LOG_WARN, "join_rate_limited", "conn=%llu limit=join_attempts_per_min",
                      (unsigned long long)c->id);
            refuse(c, id, PROTO_ERR_RATE_LIMITED, "too many join attempts");
            return;
        }
        if (resume) {
            int rc = engine_rejoin(d->engine, resume, &s, &pid);
            if (rc < 0) {
                join_failed(c, now);
                conn_send_error(c, id, rc, "resume");
                return;
            }
            resume = NULL; /* the client has it already */
        } else {
            const char *name = proto_str(m, PK_NAME);
            if (!code || !name) {
                conn_send_error(c, id, PROTO_ERR_MISSING_FIELD, "code and name");
                return;
            }
            s = engine_find_by_join_code(d->engine, code);
            if (!s) {
                join_failed(c, now);
                conn_send_error(c, id, PROTO_ERR_BAD_CREDENTIALS, "join code");
                return;
            }
            int rc = engine_join(d->engine, s, name, &pid, &resume);
            if (rc < 0) {
                conn_send_error(c, id, rc, "join");
                return;
            }
        }
        enter_ready(c, kind);
        c->pid = pid;
        conn_join_session(c, s);
        welcome(c, id, resume);
        send_snapshot(c, -1, since);
        engine_presence(d->engine, s, pid, true);
        return;
    }
    case PROTO_KIND_KIOSK:
    case PROTO_KIND_OBSERVER: {
        if (join_blocked(c, now)) {
            refuse(c, id, PROTO_ERR_RATE_LIMITED, "too many join attempts");
            return;
        }
        struct session *s = code ? engine_find_by_kiosk_code(d->engine, code) : NULL;
        if (!s && kind == PROTO_KIND_OBSERVER && code) {
            /* With the join code an observer waits for the facilitator's
             * consent; the kiosk code is consent given in advance. */
            struct session *js = engine_find_by_join_code(d->engine, code);
            const char *name = proto_str(m, PK_NAME);
            if (js && !name) {
                conn_send_error(c, id, PROTO_ERR_MISSING_FIELD, "name");
                return;
            }
            if (js) {
                if (c->waiting_session) {
                    conn_send_error(c, id, PROTO_ERR_HANDSHAKE, "already waiting");
                    return;
                }
                c->waiting_session = session_id(js);
                c->observer_name = strdup(name);
                c->hello_id = id;
                c->waiting_since_ms = now;
                log_event(LOG_INFO, "observer_waiting", "conn=%llu session=%lld",
                          (unsigned long long)c->id, (long long)session_id(js));
                for (struct conn *f = session_members(js); f; f = f->mnext)
                    if (f->kind == PROTO_KIND_FACILITATOR || f->kind == PROTO_KIND_ADMIN)
                        tell_waiting(f, c);
                return;
            }
        }
        if (!s) {
            join_failed(c, now);
            conn_send_error(c, id, PROTO_ERR_BAD_CREDENTIALS, "kiosk code");
            return;
        }
        enter_ready(c, kind);
        conn_join_session(c, s);
        welcome(c, id, NULL);
        send_snapshot(c, -1, since);
        return;
    }
    }
    refuse(c, id, PROTO_ERR_OUT_OF_RANGE, "kind");
}

/* observer.admit / observer.deny: the facilitator's answer to a waiting observer. */
static void handle_observer_answer(struct conn *c, const struct proto_msg *m, int64_t id)
{
    struct lwkd *d = c->d;
    if ((c->kind != PROTO_KIND_FACILITATOR && c->kind != PROTO_KIND_ADMIN) || !c->session) {
        conn_send_error(c, id, PROTO_ERR_WRONG_ROLE, proto_type_name(m->type));
        return;
    }
    uint64_t ticket = (uint64_t)proto_int(m, PK_TICKET, 0);
    struct conn *o = NULL;
    for (struct conn *x = d->conns; x; x = x->next)
        if (x->id == ticket && x->state == CONN_HANDSHAKE &&
            x->waiting_session == session_id(c->session))
            o = x;
    if (!o) {
        conn_send_error(c, id, PROTO_ERR_NOT_FOUND, "no such observer waiting");
        return;
    }
    if (m->type == PT_OBSERVER_ADMIT) {
        o->waiting_session = 0;
        enter_ready(o, PROTO_KIND_OBSERVER);
        conn_join_session(o, c->session);
        welcome(o, o->hello_id, NULL);
        send_snapshot(o, -1, 0);
    } else {
        refuse(o, o->hello_id, PROTO_ERR_BAD_CREDENTIALS, "the facilitator did not admit you");
    }
    log_event(LOG_INFO, m->type == PT_OBSERVER_ADMIT ? "observer_admitted" : "observer_denied",
              "conn=%llu session=%lld", (unsigned long long)ticket,
              (long long)session_id(c->session));
    struct proto_msg r;
    proto_msg_init(&r, PT_OK);
    if (id >= 0)
        proto_set_int(&r, PK_ID, id);
    conn_send_msg(c, &r);
}

static void handle_status(struct conn *c, int64_t id)
{
    struct lwkd *d = c->d;
    struct proto_msg m;
    proto_msg_init(&m, PT_OK);
    if (id >= 0)
        proto_set_int(&m, PK_ID, id);
    proto_set_str(&m, PK_SERVER, "lwkd " LWK_VERSION);
    proto_set_int(&m, PK_UPTIME, (int64_t)((uv_now(d->loop) - d->started_ms) / 1000));
    proto_set_int(&m, PK_CLIENTS, d->nconns);
    proto_set_int(&m, PK_SESSIONS, engine_session_count(d->engine));
    proto_set_int(&m, PK_DB, db_state_of(d));
    struct store_stats st;
    store_get_stats(d->store, &st);
    proto_set_int(&m, PK_WAITING, (int64_t)st.waiting);
    proto_set_int(&m, PK_SPOOL, (int64_t)st.spool_bytes);
    proto_set_int(&m, PK_LAG, (int64_t)st.oldest_ms);
    /* Per-role connections, rates and the limits in force: for admins only. */
    struct proto_msg rows[32];
    uint32_t nrows = 0;
    if (c->kind == PROTO_KIND_ADMIN) {
        for (int k = 0; k <= PROTO_KIND_MONITOR; k++) {
            proto_msg_init(&rows[nrows], PT__NONE);
            proto_set_int(&rows[nrows], PK_KIND, k);
            proto_set_int(&rows[nrows], PK_COUNT, d->nconns_by_kind[k]);
            nrows++;
        }
        const struct {
            const char *name;
            int64_t value;
        } figures[] = {
            {"events_per_s", (int64_t)d->stats.events_per_s},
            {"db_writes_per_s", (int64_t)d->stats.writes_per_s},
            {"requests_per_s", (int64_t)d->stats.frames_in_per_s},
            {"clients_dropped_slow", (int64_t)d->stats.dropped_slow},
            {"frames_rejected", (int64_t)d->stats.rejected},
            {"events_written", (int64_t)st.written},
            {"limit max_clients", d->cfg.max_clients},
            {"limit max_sessions", d->cfg.max_sessions},
            {"limit max_participants", d->cfg.max_participants},
            {"limit client_queue_bytes", d->cfg.client_queue_bytes},
            {"limit max_frame_bytes", d->cfg.max_frame_bytes},
            {"limit rate_limit_rps", d->cfg.rate_limit_rps},
            {"limit spool_max_bytes", d->cfg.spool_max_bytes},
            {"limit min_reveal", d->cfg.min_reveal},
        };
        for (size_t i = 0; i < sizeof(figures) / sizeof(figures[0]) && nrows < 32; i++) {
            proto_msg_init(&rows[nrows], PT__NONE);
            proto_set_str(&rows[nrows], PK_NAME, figures[i].name);
            proto_set_int(&rows[nrows], PK_COUNT, figures[i].value);
            nrows++;
        }
        proto_set_msgs(&m, PK_ROWS, rows, nrows);
    }
    conn_send_msg(c, &m);
}

struct list_ctx {
    struct conn *c;
    struct proto_msg *rows;
    uint32_t n, cap;
};

static void list_one(void *arg, struct session *s)
{
    struct list_ctx *lc = arg;
    const char *owner = session_facilitator(s);
    if (lc->c->kind != PROTO_KIND_ADMIN && (!owner || strcmp(owner, lc->c->facilitator) != 0))
        return;
    if (lc->n == lc->cap)
        return;
    struct proto_msg *r = &lc->rows[lc->n++];
    proto_msg_init(r, PT__NONE);
    proto_set_int(r, PK_SESSION, session_id(s));
    proto_set_str(r, PK_TEAM, session_team(s));
    proto_set_int(r, PK_PHASE, session_phase(s));
    proto_set_str(r, PK_JOIN_CODE, session_join_code(s));
    proto_set_str(r, PK_KIOSK_CODE, session_kiosk_code(s));
    proto_set_int(r, PK_COUNT, session_participant_count(s));
    proto_set_int(r, PK_SEQ, (int64_t)session_seq(s));
}

static bool owns(struct conn *c, struct session *s)
{
    const char *owner = session_facilitator(s);
    return c->kind == PROTO_KIND_ADMIN || (owner && c->facilitator && !strcmp(owner, c->facilitator));
}

struct open_req {
    struct lwkd *d;
    uint64_t conn_id;
    int64_t req_id;
    int64_t session;
    uint64_t since;
};

static void stored_session_loaded(void *arg, bool found)
{
    struct open_req *o = arg;
    struct conn *c = conn_find(o->d, o->conn_id);
    if (c) {
        struct session *s = found ? engine_find(o->d->engine, o->session) : NULL;
        if (!s || !owns(c, s))
            conn_send_error(c, o->req_id, PROTO_ERR_NOT_FOUND, "session");
        else
            dispatch_session_ready(c, s, o->req_id, o->since);
    }
    free(o);
}

static void handle_session_cmd(struct conn *c, const struct proto_msg *m, int64_t id)
{
    struct lwkd *d = c->d;
    if (c->kind != PROTO_KIND_FACILITATOR && c->kind != PROTO_KIND_ADMIN) {
        conn_send_error(c, id, PROTO_ERR_WRONG_ROLE, proto_type_name(m->type));
        return;
    }
    if (m->type == PT_SESSION_LIST) {
        uint32_t cap = (uint32_t)engine_session_count(d->engine);
        struct list_ctx lc = {c, calloc(cap ? cap : 1, sizeof(struct proto_msg)), 0, cap};
        if (!lc.rows) {
            conn_send_error(c, id, PROTO_ERR_INTERNAL, NULL);
            return;
        }
        engine_foreach(d->engine, list_one, &lc);
        struct proto_msg r;
        proto_msg_init(&r, PT_OK);
        if (id >= 0)
            proto_set_int(&r, PK_ID, id);
        proto_set_msgs(&r, PK_ROWS, lc.rows, lc.n);
        conn_send_msg(c, &r);
        free(lc.rows);
        return;
    }
    if (m->type == PT_SESSION_NEW) {
        /* With a database, a session belongs to a known team, or it could not
         * be stored (its events would end up set aside, not in the tables). */
        if (d->db && !proto_has(m, PK_UNIT)) {
            conn_send_error(c, id, PROTO_ERR_MISSING_FIELD, "unit: the team's id (lwk admin unit list)");
            return;
        }
        /* Before the database was ever reached the team can't be checked:
         * the session runs, and the store sets its events aside if the unit
         * turns out to be wrong (nothing is lost). */
        if (d->db && auth_teams_known(d) && !auth_team_name(d, proto_int(m, PK_UNIT, 0))) {
            conn_send_error(c, id, PROTO_ERR_NOT_FOUND, "unit: no such team");
            return;
        }
        /* The instrument (and a team's review) may come from the database first. */
        instruments_session_new(c, m, id);
        return;
    }
    /* PT_SESSION_OPEN */
    struct session *s = engine_find(d->engine, proto_int(m, PK_SESSION, 0));
    if (!s && d->db) {
        /* Not live: a finished session is read back from the event log. */
        struct open_req *o = calloc(1, sizeof(*o));
        if (o) {
            *o = (struct open_req){d, c->id, id, proto_int(m, PK_SESSION, 0),
                                   (uint64_t)proto_int(m, PK_SINCE, 0)};
            if (store_load_session(d->store, o->session, stored_session_loaded, o) == 0)
                return;
            free(o);
        }
    }
    if (!s || !owns(c, s)) {
        conn_send_error(c, id, PROTO_ERR_NOT_FOUND, "session");
        return;
    }
    dispatch_session_ready(c, s, id, (uint64_t)proto_int(m, PK_SINCE, 0));
}

void dispatch_session_ready(struct conn *c, struct session *s, int64_t id, uint64_t since)
{
    const struct session_state *st = session_get_state(s);
    conn_join_session(c, s);
    struct proto_msg r;
    proto_msg_init(&r, PT_OK);
    if (id >= 0)
        proto_set_int(&r, PK_ID, id);
    proto_set_int(&r, PK_SESSION, session_id(s));
    proto_set_str(&r, PK_JOIN_CODE, session_join_code(s));
    proto_set_str(&r, PK_KIOSK_CODE, session_kiosk_code(s));
    if (st->instrument)
        proto_set_str(&r, PK_INSTRUMENT, st->instrument);
    if (st->version > 0)
        proto_set_int(&r, PK_VERSION, st->version);
    conn_send_msg(c, &r);
    send_snapshot(c, -1, since);
    /* A facilitator who (re)opens the session hears who is waiting to watch. */
    if (c->kind == PROTO_KIND_FACILITATOR || c->kind == PROTO_KIND_ADMIN)
        for (struct conn *o = c->d->conns; o; o = o->next)
            if (o->state == CONN_HANDSHAKE && o->waiting_session == session_id(s))
                tell_waiting(c, o);
}

void dispatch_frame(struct conn *c, const uint8_t *body, uint32_t len)
{
    struct lwkd *d = c->d;
    struct proto_msg *m;
    struct proto_error err;
    int rc = proto_decode(body, len, false, &m, &err);
    if (rc < 0) {
        conn_send_error(c, err.id, rc, err.detail);
        if (c->state == CONN_HANDSHAKE || conn_bad_frame(c))
            conn_close(c, 0, NULL);
        return;
    }
    int64_t id = proto_int(m, PK_ID, -1);
    if (proto_type_dir(m->type) != PD_REQ) {
        conn_send_error(c, id, PROTO_ERR_UNKNOWN_TYPE, "not a request");
        if (conn_bad_frame(c))
            conn_close(c, 0, NULL);
        goto done;
    }
    if (!rate_ok(c)) {
        conn_send_error(c, id, PROTO_ERR_RATE_LIMITED, NULL);
        goto done;
    }
    if (c->state == CONN_HANDSHAKE) {
        if (m->type != PT_HELLO)
            refuse(c, id, PROTO_ERR_HANDSHAKE, "send hello first");
        else
            handle_hello(c, m, id);
        goto done;
    }
    switch (m->type) {
    case PT_HELLO:
        conn_send_error(c, id, PROTO_ERR_HANDSHAKE, "hello was already sent");
        break;
    case PT_PING: {
        struct proto_msg p;
        proto_msg_init(&p, PT_PONG);
        if (id >= 0)
            proto_set_int(&p, PK_ID, id);
        conn_send_msg(c, &p);
        break;
    }
    case PT_STATUS:
        handle_status(c, id);
        break;
    case PT_OBSERVER_ADMIT:
    case PT_OBSERVER_DENY:
        handle_observer_answer(c, m, id);
        break;
    case PT_SNAPSHOT_REQ:
        if (!c->session)
            conn_send_error(c, id, PROTO_ERR_NOT_FOUND, "no session joined");
        else
            send_snapshot(c, id, (uint64_t)proto_int(m, PK_SINCE, 0));
        break;
    case PT_SESSION_NEW:
    case PT_SESSION_LIST:
    case PT_SESSION_OPEN:
        handle_session_cmd(c, m, id);
        break;
    case PT_ORG_NEW:
    case PT_ORG_LIST:
    case PT_UNIT_NEW:
    case PT_UNIT_LIST:
    case PT_FACILITATOR_NEW:
    case PT_FACILITATOR_REVOKE:
    case PT_INSTRUMENT_LIST:
        if (c->kind != PROTO_KIND_ADMIN && !(m->type == PT_INSTRUMENT_LIST &&
                                             c->kind == PROTO_KIND_FACILITATOR) &&
            !(m->type == PT_UNIT_LIST && c->kind == PROTO_KIND_FACILITATOR))
            conn_send_error(c, id, PROTO_ERR_WRONG_ROLE, proto_type_name(m->type));
        else
            auth_admin_request(c, m, id);
        break;
    case PT_INSTRUMENT_IMPORT:
    case PT_INSTRUMENT_EXPORT:
        /* Instruments are the admin's to change; facilitators may read them. */
        if (c->kind != PROTO_KIND_ADMIN &&
            !(m->type == PT_INSTRUMENT_EXPORT && c->kind == PROTO_KIND_FACILITATOR))
            conn_send_error(c, id, PROTO_ERR_WRONG_ROLE, proto_type_name(m->type));
        else
            instruments_request(c, m, id);
        break;
    case PT_ACTION_LIST:
    case PT_ACTION_UPDATE:
    case PT_TEAM_HISTORY:
    case PT_TEAM_DUE:
    case PT_EXAMPLE_LIST:
        if (c->kind != PROTO_KIND_ADMIN && c->kind != PROTO_KIND_FACILITATOR)
            conn_send_error(c, id, PROTO_ERR_WRONG_ROLE, proto_type_name(m->type));
        else
            cycle_request(c, m, id);
        break;
    default: {
        if (c->kind == PROTO_KIND_MONITOR || c->kind == PROTO_KIND_ADMIN) {
            conn_send_error(c, id, PROTO_ERR_WRONG_ROLE, proto_type_name(m->type));
            break;
        }
        if (!c->session) {
            conn_send_error(c, id, PROTO_ERR_NOT_FOUND, "no session joined");
            break;
        }
        if (store_full(d->store)) {
            conn_send_error(c, id, PROTO_ERR_SPOOL_FULL, NULL);
            break;
        }
        struct engine_actor who = {c->kind, c->pid, c->facilitator};
        struct proto_msg reply;
        proto_msg_init(&reply, PT_OK);
        rc = engine_request(d->engine, c->session, &who, m, wall_ms(), &reply);
        if (rc < 0) {
            conn_send_error(c, id, rc, proto_type_name(m->type));
            break;
        }
        if (id >= 0)
            proto_set_int(&reply, PK_ID, id);
        conn_send_msg(c, &reply);
        break;
    }
    }
done:
    proto_msg_free(m);
}

void dispatch_conn_closed(struct conn *c)
{
    struct session *s = c->session;
    if (!s || c->kind != PROTO_KIND_PARTICIPANT || !c->pid)
        return;
    /* Still online when another connection speaks for the same participant. */
    for (struct conn *o = session_members(s); o; o = o->mnext)
        if (o != c && o->kind == PROTO_KIND_PARTICIPANT && o->pid == c->pid &&
            o->state == CONN_READY)
            return;
    engine_presence(c->d->engine, s, c->pid, false);
}

void dispatch_engine_event(void *ctx, struct session *s, uint64_t seq, enum proto_type type,
                           struct engine_frame *full, struct engine_frame *pub, int owner_pid)
{
    struct lwkd *d = ctx;
    d->stats.events++;
    store_event(d->store, session_id(s), seq, type, full);
    for (struct conn *c = session_members(s), *n; c; c = n) {
        n = c->mnext; /* sending may cut a slow client off */
        bool own = owner_pid > 0 && c->kind == PROTO_KIND_PARTICIPANT && c->pid == owner_pid;
        conn_send_frame(c, own ? full : pub);
    }
}
