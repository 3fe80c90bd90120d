/*
 * lwk_conn.c: the blocking request runner behind lwk's one-shot commands.
 * It drives an lwkc connection on a private libuv loop one turn at a time
 * until the answer it waits for arrives, and keeps the session state
 * (state_apply) up to date with every event that comes along.
 */
#include "lwk_cli.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct rpc {
    uv_loop_t loop;
    uv_timer_t timer; /* --timeout for each wait; settle delays */
    struct lwkc *c;
    struct lwkc_opts opts;
    enum proto_client_kind kind;

    struct session_state st;
    bool welcomed, have_snapshot, failed, timed_out;
    int fail_err;
    char fail_why[256];

    int64_t wait_id; /* request waiting for its answer; 0 = none */
    bool got_reply;
    int reply_err;
    char reply_detail[256];
    rpc_reply_fn fn;
    void *fn_arg;

    int pid;
    char resume[80];
    int64_t session;
    char join_code[STATE_CODE_MAX + 1], kiosk_code[STATE_CODE_MAX + 1];
};

const struct session_state *rpc_state(const struct rpc *r)
{
    return &r->st;
}
int rpc_pid(const struct rpc *r)
{
    return r->pid;
}
const char *rpc_resume(const struct rpc *r)
{
    return r->resume;
}
int64_t rpc_session(const struct rpc *r)
{
    return r->session;
}
const char *rpc_join_code(const struct rpc *r)
{
    return r->join_code;
}
const char *rpc_kiosk_code(const struct rpc *r)
{
    return r->kiosk_code;
}

static void fail(struct rpc *r, int err, const char *why)
{
    if (r->failed)
        return;
    r->failed = true;
    r->fail_err = err;
    snprintf(r->fail_why, sizeof(r->fail_why), "%s", why ? why : "");
}

/* Applies an event in order; older ones are duplicates, a gap is resynced. */
static void apply_event(struct rpc *r, const struct proto_msg *e)
{
    uint64_t seq = (uint64_t)proto_int(e, PK_SEQ, 0);
    if (seq <= r->st.seq)
        return;
    if (seq == r->st.seq + 1) {
        int rc = state_apply(&r->st, e);
        if (rc < 0 && getenv("LWK_DEBUG"))
            fprintf(stderr, "lwk: debug: event %s seq %llu not applied: %s\n",
                    proto_type_name(e->type), (unsigned long long)seq, proto_err_name(-rc));
        return;
    }
    struct proto_msg q;
    proto_msg_init(&q, PT_SNAPSHOT_REQ);
    proto_set_int(&q, PK_SINCE, (int64_t)r->st.seq);
    lwkc_send(r->c, &q);
}

static void on_msg(void *ctx, struct lwkc *c, const struct proto_msg *m)
{
    struct rpc *r = ctx;
    int64_t id = proto_int(m, PK_ID, -1);
    if (proto_type_dir(m->type) == PD_EVENT) {
        apply_event(r, m);
        return;
    }
    switch (m->type) {
    case PT_WELCOME:
        r->welcomed = true;
        r->pid = (int)proto_int(m, PK_PID, 0);
        if (lwkc_resume_token(c))
            snprintf(r->resume, sizeof(r->resume), "%s", lwkc_resume_token(c));
        if (proto_has(m, PK_SESSION))
            r->session = proto_int(m, PK_SESSION, 0);
        return;
    case PT_SNAPSHOT:
        if (!proto_has(m, PK_SINCE) || proto_int(m, PK_SINCE, 0) == 0) {
            if (r->st.seq) {
                state_free(&r->st);
                state_init(&r->st);
            }
        }
        for (uint32_t i = 0; i < m->v[PK_EVENTS].m.n; i++)
            apply_event(r, &m->v[PK_EVENTS].m.p[i]);
        r->have_snapshot = true;
        if (!r->session)
            r->session = proto_int(m, PK_SESSION, 0);
        return;
    case PT_BYE:
        fail(r, -(int)proto_int(m, PK_ERR, 500), proto_str(m, PK_MSG));
        return;
    case PT_OK:
    case PT_ERROR:
    case PT_PONG:
        break;
    default:
        return;
    }
    if (!r->welcomed) {
        /* The hello was refused. */
        if (m->type == PT_ERROR)
            fail(r, -(int)proto_int(m, PK_ERR, 500), proto_str(m, PK_MSG));
        return;
    }
    if (r->wait_id && id == r->wait_id) {
        r->got_reply = true;
        if (m->type == PT_ERROR) {
            r->reply_err = -(int)proto_int(m, PK_ERR, 500);
            snprintf(r->reply_detail, sizeof(r->reply_detail), "%s",
                     proto_str(m, PK_MSG) ? proto_str(m, PK_MSG) : "");
        } else {
            r->reply_err = 0;
            if (m->type == PT_OK && proto_has(m, PK_SESSION) && proto_has(m, PK_JOIN_CODE)) {
                r->session = proto_int(m, PK_SESSION, 0);
                snprintf(r->join_code, sizeof(r->join_code), "%s", proto_str(m, PK_JOIN_CODE));
                if (proto_has(m, PK_KIOSK_CODE))
                    snprintf(r->kiosk_code, sizeof(r->kiosk_code), "%s",
                             proto_str(m, PK_KIOSK_CODE));
            }
            if (r->fn)
                r->fn(r->fn_arg, m);
        }
    }
}

static void on_state(void *ctx, struct lwkc *c, enum lwkc_state st, int err, const char *why)
{
    struct rpc *r = ctx;
    if (st == LWKC_FAILED || st == LWKC_DISCONNECTED)
        fail(r, LWK_ERR_LOST, why ? why : "connection lost");
}

static void timer_fired(uv_timer_t *t)
{
    struct rpc *r = t->data;
    r->timed_out = true;
}

/* Runs the loop until done() or failure or the timeout. */
static int run_until(struct rpc *r, bool (*done)(struct rpc *), int timeout_ms)
{
    r->timed_out = false;
    uv_timer_start(&r->timer, timer_fired, (uint64_t)timeout_ms, 0);
    while (!done(r) && !r->failed && !r->timed_out)
        uv_run(&r->loop, UV_RUN_ONCE);
    uv_timer_stop(&r->timer);
    if (done(r))
        return 0;
    if (r->failed)
        return r->fail_err;
    return LWK_ERR_TIMEOUT;
}

static bool is_welcomed(struct rpc *r)
{
    return r->welcomed;
}

static bool has_snapshot(struct rpc *r)
{
    return r->have_snapshot;
}

static bool has_reply(struct rpc *r)
{
    return r->got_reply;
}

static bool never(struct rpc *r)
{
    return false;
}

struct rpc *rpc_connect(enum proto_client_kind kind, const char *code, const char *name,
                        const char *resume, int *err, char *detail, size_t dn)
{
    lwk_apply_env();
    struct rpc *r = calloc(1, sizeof(*r));
    if (!r) {
        *err = PROTO_ERR_INTERNAL;
        return NULL;
    }
    uv_loop_init(&r->loop);
    uv_timer_init(&r->loop, &r->timer);
    r->timer.data = r;
    state_init(&r->st);
    r->kind = kind;
    r->opts = lwk_g.conn;
    r->opts.kind = kind;
    r->opts.code = code;
    r->opts.name = name;
    r->opts.resume = resume;
    r->opts.session = 0;
    r->opts.reconnect = false;
    struct lwkc_handlers h = {r, on_msg, on_state};
    r->c = lwkc_new(&r->loop, &r->opts, h);
    if (!r->c) {
        *err = PROTO_ERR_INTERNAL;
        rpc_close(r);
        return NULL;
    }
    lwkc_start(r->c);
    int rc = run_until(r, is_welcomed, lwk_g.timeout_ms);
    if (rc == 0 &&
        (kind == PROTO_KIND_PARTICIPANT || kind == PROTO_KIND_KIOSK || kind == PROTO_KIND_OBSERVER))
        rc = run_until(r, has_snapshot, lwk_g.timeout_ms);
    if (rc < 0) {
        *err = rc;
        snprintf(detail, dn, "%s", r->fail_why);
        rpc_close(r);
        return NULL;
    }
    *err = 0;
    return r;
}

int rpc_call(struct rpc *r, struct proto_msg *req, rpc_reply_fn fn, void *arg, char *detail,
             size_t dn)
{
    if (detail && dn)
        detail[0] = '\0';
    if (r->failed)
        return r->fail_err;
    r->got_reply = false;
    r->reply_err = 0;
    r->reply_detail[0] = '\0';
    r->fn = fn;
    r->fn_arg = arg;
    int64_t id = lwkc_send(r->c, req);
    if (id < 0)
        return LWK_ERR_LOST;
    r->wait_id = id;
    int rc = run_until(r, has_reply, lwk_g.timeout_ms);
    r->wait_id = 0;
    r->fn = NULL;
    if (rc < 0) {
        if (detail)
            snprintf(detail, dn, "%s", r->fail_why);
        return rc;
    }
    if (detail)
        snprintf(detail, dn, "%s", r->reply_detail);
    return r->reply_err;
}

int rpc_open(struct rpc *r, int64_t session, char *detail, size_t dn)
{
    struct proto_msg m;
    proto_msg_init(&m, PT_SESSION_OPEN);
    proto_set_int(&m, PK_SESSION, session);
    r->have_snapshot = false;
    int rc = rpc_call(r, &m, NULL, NULL, detail, dn);
    if (rc < 0)
        return rc;
    rc = run_until(r, has_snapshot, lwk_g.timeout_ms);
    if (rc < 0 && detail)
        snprintf(detail, dn, "%s", r->fail_why);
    return rc;
}

void rpc_settle(struct rpc *r, int ms)
{
    if (!r->failed)
        run_until(r, never, ms);
}

static void walk_close(uv_handle_t *h, void *arg)
{
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

void rpc_close(struct rpc *r)
{
    if (!r)
        return;
    if (r->c)
        lwkc_free(r->c);
    uv_close((uv_handle_t *)&r->timer, NULL);
    uv_run(&r->loop, UV_RUN_DEFAULT);
    uv_walk(&r->loop, walk_close, NULL);
    uv_run(&r->loop, UV_RUN_DEFAULT);
    uv_loop_close(&r->loop);
    state_free(&r->st);
    free(r);
}

/* ---- facilitator: which session ----------------------------------------- */

struct pick {
    const char *code; /* a join or kiosk code to look for, or NULL */
    int64_t ids[64];
    int n;
};

/* The facilitator's live sessions, or the one with the given code. */
static void collect_live(void *arg, const struct proto_msg *ok)
{
    struct pick *p = arg;
    if (!proto_has(ok, PK_ROWS))
        return;
    for (uint32_t i = 0; i < ok->v[PK_ROWS].m.n; i++) {
        const struct proto_msg *row = &ok->v[PK_ROWS].m.p[i];
        if (p->code) {
            const char *j = proto_str(row, PK_JOIN_CODE), *k = proto_str(row, PK_KIOSK_CODE);
            if (!(j && !strcasecmp(j, p->code)) && !(k && !strcasecmp(k, p->code)))
                continue;
        } else if (proto_int(row, PK_PHASE, 0) == PROTO_PHASE_CLOSED) {
            continue;
        }
        if (p->n < 64)
            p->ids[p->n++] = proto_int(row, PK_SESSION, 0);
    }
}

struct rpc *rpc_facilitator_session(const char *cmd, const char *arg, int *exit_code)
{
    const char *s = arg ? arg : lwk_g.session;
    if (!s)
        s = getenv("LWK_SESSION");
    if (s && !*s)
        s = NULL;
    int64_t id = 0;
    /* A session is named by its number or, easier to type, its join code. */
    const char *code = NULL;
    if (s && !parse_int(s, 1, INT64_MAX / 2, &id)) {
        bool codeish = strlen(s) <= STATE_CODE_MAX;
        for (const char *c = s; *c && codeish; c++)
            codeish = (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
                      (*c >= '0' && *c <= '9') || *c == '-';
        if (!codeish) {
            *exit_code = lwk_usage_error(cmd, _("'%s' is not a session number or code"), s);
            return NULL;
        }
        code = s;
    }
    lwk_apply_env();
    if (!lwk_g.conn.token) {
        lwk_errorf("%s", _("a facilitator token is needed: --token, LWK_TOKEN or token = ... in "
                           "the config file"));
        *exit_code = LWK_EXIT_DENIED;
        return NULL;
    }
    int err;
    char detail[256];
    struct rpc *r =
        rpc_connect(PROTO_KIND_FACILITATOR, NULL, NULL, NULL, &err, detail, sizeof(detail));
    if (!r) {
        if (err == PROTO_ERR_BAD_CREDENTIALS)
            lwk_errorf("%s", _("the facilitator token was not accepted (--token, LWK_TOKEN or the "
                               "config file)"));
        else if (err == LWK_ERR_LOST || err == LWK_ERR_TIMEOUT)
            lwk_errorf(_("cannot reach lwkd: %s"), detail[0] ? detail : lwk_err_text(err));
        else
            lwk_report(NULL, err, detail, NULL);
        *exit_code = lwk_exit_for(err);
        return NULL;
    }
    if (!id) {
        struct pick p = {.code = code, .n = 0};
        struct proto_msg m;
        proto_msg_init(&m, PT_SESSION_LIST);
        int rc = rpc_call(r, &m, collect_live, &p, detail, sizeof(detail));
        if (rc < 0) {
            lwk_report("session.list", rc, detail, NULL);
            *exit_code = lwk_exit_for(rc);
            rpc_close(r);
            return NULL;
        }
        if (p.n == 0 && code) {
            lwk_errorf(_("no session with code %s (or not yours)"), code);
            *exit_code = LWK_EXIT_NOT_FOUND;
            rpc_close(r);
            return NULL;
        }
        if (p.n == 0) {
            lwk_errorf("%s", _("no open session: start one with lwk session new --team NAME"));
            *exit_code = LWK_EXIT_NOT_FOUND;
            rpc_close(r);
            return NULL;
        }
        if (p.n > 1) {
            struct sbuf b;
            sb_init(&b);
            for (int i = 0; i < p.n; i++)
                sb_printf(&b, "%s%lld", i ? ", " : "", (long long)p.ids[i]);
            *exit_code = lwk_usage_error(cmd,
                                         _("several sessions are open (%s): choose one with "
                                           "--session N"),
                                         b.p);
            sb_free(&b);
            rpc_close(r);
            return NULL;
        }
        id = p.ids[0];
    }
    int rc = rpc_open(r, id, detail, sizeof(detail));
    if (rc < 0) {
        if (rc == PROTO_ERR_NOT_FOUND)
            lwk_errorf(_("no session %lld (or not yours)"), (long long)id);
        else
            lwk_report("session.open", rc, detail, NULL);
        *exit_code = lwk_exit_for(rc);
        rpc_close(r);
        return NULL;
    }
    return r;
}
