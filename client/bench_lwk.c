/*
 * bench_lwk.c: lwk-bench's lwkd target. A lean libuv connection loop (no
 * lwkc: thousands of connections, no reconnects) that speaks the protocol
 * through proto/ only: proto_encode_frame out, proto_framer + proto_decode in.
 *
 * Each session is a facilitator, a kiosk and P participants, and goes
 * through the real flow: session.new, joins, then rounds of blind scoring
 * (each participant submits `changes` scores, a change replacing the last),
 * reveal, explanation (turn.order and keywords by the speakers), the next
 * item; after the last item themes, desired, actions; then the facilitator
 * re-scores one item after another (rescore, explain, back to actions), so
 * the load can go on for as long as the run lasts.
 *
 * Latency of a submission: from the participant's write of the score to
 * the kiosk of that session reading the resulting `scored` event. The two
 * meet on the event's sequence number: the participant's ok carries it, the
 * kiosk's event has it, whichever comes first waits in the session's slot
 * table for the other.
 *
 * During the load only the kiosks are read by the loop as frames arrive;
 * participants and facilitators are read in batches (bench_lazy in bench.c,
 * --participant-read-ms), and the sessions' first rounds start spread out
 * so that their rounds do not end in step.
 */
#include "bench.h"
#include "frame.h"
#include "proto.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 1024 /* per session: submissions between their ok and the kiosk's copy */
/*
 * Per session: broadcast frames decoded lately, two ways per set, the set
 * by a hash of the bytes. Read in batches, a participant sees a frame up to
 * a second after the kiosk did (~25 frames later at 20 submissions/s per
 * session), so the cache holds more than that; small, since it is touched
 * cold (~8 KiB per session).
 */
#define CACHE_SETS 32
#define CACHE_WAYS 2
#define CACHE_BYTES 96
#define MAX_ITEMS 32
#define MAX_ROUND 100 /* proto: round <= 100 */

enum role { R_FAC, R_KIOSK, R_PART, R_ADMIN };
enum cstate { C_NEW, C_CONNECTING, C_HELLO, C_READY, C_CLOSED };

/* What a request was for, to act on its reply. */
enum rkind {
    K_HELLO,
    K_PING,
    K_SESSION_NEW,
    K_FLOW, /* a facilitator's step (the session's fstep says which) */
    K_SCORE,
    K_PART_FLOW, /* a participant's step: keyword, theme.add, action.propose */
    K_END,
    K_ADMIN,
};

struct oreq {
    uint32_t id;
    uint8_t kind;
    uint64_t t_ns;
};

struct lconn {
    union {
        uv_handle_t handle;
        uv_stream_t stream;
        uv_tcp_t tcp;
        uv_pipe_t pipe;
    } h;
    uv_connect_t creq;
    struct lsess *s;
    uint8_t role, state;
    bool handle_open;
    int idx; /* participant index */
    int pid;
    uint32_t next_id;
    struct oreq *q; /* outstanding requests, oldest first (ring) */
    uint32_t qhead, qlen, qcap;
    uint64_t t_connect_ns, last_tx_ms;
    int quota;      /* score submissions left in this round */
    int elig_pos;   /* index in the target's eligible list, or -1 */
    int scores_out; /* score requests without a reply */
    struct proto_framer fr;
    struct bench_lazy_conn lz; /* participants and the facilitator during the load */
};

/* The facilitator's request in flight. */
enum fstep {
    FS_NONE,
    FS_NEXT_SCORE, /* next: into a score step */
    FS_REVEAL,
    FS_NEXT_EXPLAIN,
    FS_TURN_ORDER,
    FS_KEYWORD, /* a participant's keyword (not the facilitator's request) */
    FS_TURN_NEXT,
    FS_NEXT_THEMES,
    FS_THEME, /* a participant's theme.add */
    FS_NEXT_DESIRED,
    FS_NEXT_ACTIONS,
    FS_ACTION,    /* a participant's action.propose */
    FS_NEXT_BACK, /* next after a re-score's explanation: back to actions */
    FS_RESCORE,
};

enum sphase { SP_SETUP, SP_READY, SP_SCORE, SP_BUSY, SP_STUCK, SP_ENDED };

struct slot {
    uint64_t seq;
    uint64_t t_ns;
    uint8_t kind; /* 0 free, 1 sent (waiting for the kiosk), 2 kiosk (waiting for the ok) */
};

struct cached {
    uint16_t len;   /* 0: empty */
    uint16_t type;  /* enum proto_type */
    uint32_t stamp; /* when stored: the older way is replaced */
    int64_t seq;
    uint8_t bytes[CACHE_BYTES];
};

struct dbrec {
    uint64_t seq, t_ns;
};

struct lsess {
    int idx;
    int64_t id;
    char join_code[40], kiosk_code[40];
    struct lconn *conns; /* [0] facilitator, [1] kiosk, [2..] participants */
    int n_conns;
    int joined; /* kiosk and participants welcomed */
    enum sphase phase;
    enum fstep step;
    bool failed, first_pass, retry_new;
    int new_tries;
    int n_items, items[MAX_ITEMS], vmin[MAX_ITEMS], vmax[MAX_ITEMS];
    int item_i; /* index into items of the item being scored */
    int rounds[MAX_ITEMS];
    int quota_left, scores_out;
    int64_t order[512];
    int n_order, kw_i;
    struct slot slots[SLOTS];
    struct cached cache[CACHE_SETS][CACHE_WAYS];
    uint32_t cache_stamp;
    struct dbrec *dbq; /* accepted scores not yet seen in the database */
    size_t dbq_head, dbq_len, dbq_cap;
    int64_t db_seen;
};

struct lwk_target {
    struct bench *b;
    struct lsess *sess;
    int n_sess;
    int sessions_ready, sessions_failed;
    struct lconn **queue; /* connections waiting to connect */
    size_t q_head, q_len, q_cap;
    size_t n_parts;
    int open_handles;
    struct lconn admin;
    int admin_step;
    int64_t unit, org;
    int ends_out;
    uv_timer_t retry;    /* session.new again, for a unit lwkd does not know yet */
    struct lconn **elig; /* participants with quota left in a score step */
    size_t n_elig;
    uint64_t rng;
    int errors_logged;
    bool lazy_on; /* lazy initialised: its timer is one of open_handles */
    struct bench_lazy lazy;
    int n_started; /* sessions whose first round has been started */
    uint64_t start_ms;
    double start_span_ms;
};

static char read_buf[65536];

static void conn_fail(struct lconn *c, const char *why);
static void pump(struct lwk_target *t);
static void admin_next(struct lwk_target *t, const struct proto_msg *reply);
static void session_new(struct lsess *s);
static void retry_cb(uv_timer_t *tm);

static struct lwk_target *T(struct bench *b)
{
    return b->t;
}

static uint32_t rnd(struct lwk_target *t)
{
    /* xorshift64*: reproducible values, no libc state */
    t->rng ^= t->rng >> 12;
    t->rng ^= t->rng << 25;
    t->rng ^= t->rng >> 27;
    return (uint32_t)((t->rng * 2685821657736338717ULL) >> 32);
}

static struct lwk_target *target_of(struct lconn *c);
static struct lwk_target *g_target; /* one bench, one target */

static struct lwk_target *target_of(struct lconn *c)
{
    (void)c;
    return g_target;
}

/* The eligible list: who may submit now (a uniform random pick spreads the load). */
static void elig_add(struct lwk_target *t, struct lconn *c)
{
    if (c->elig_pos >= 0)
        return;
    c->elig_pos = (int)t->n_elig;
    t->elig[t->n_elig++] = c;
}

static void elig_remove(struct lwk_target *t, struct lconn *c)
{
    if (c->elig_pos < 0)
        return;
    struct lconn *last = t->elig[--t->n_elig];
    t->elig[c->elig_pos] = last;
    last->elig_pos = c->elig_pos;
    c->elig_pos = -1;
}

static const char *role_name(int r)
{
    static const char *const n[] = {"facilitator", "kiosk", "participant", "admin"};
    return n[r];
}

/* ---- writing ------------------------------------------------------------ */

struct wreq {
    uv_write_t req;
    uint8_t *buf;
};

static void write_done(uv_write_t *req, int status)
{
    struct wreq *w = (struct wreq *)req;
    free(w->buf);
    free(w);
    (void)status; /* a failed write shows up as a read error */
}

static int conn_write(struct lconn *c, uint8_t *frame, size_t len)
{
    uv_buf_t b = uv_buf_init((char *)frame, (unsigned)len);
    int n = uv_try_write(&c->h.stream, &b, 1);
    if (n == (int)len) {
        free(frame);
        return 0;
    }
    if (n < 0 && n != UV_EAGAIN) {
        free(frame);
        return n;
    }
    size_t done = n > 0 ? (size_t)n : 0;
    struct wreq *w = malloc(sizeof(*w));
    if (!w) {
        free(frame);
        return UV_ENOMEM;
    }
    w->buf = frame;
    b = uv_buf_init((char *)frame + done, (unsigned)(len - done));
    int rc = uv_write(&w->req, &c->h.stream, &b, 1, write_done);
    if (rc != 0) {
        free(frame);
        free(w);
    }
    return rc;
}

static int q_push(struct lconn *c, uint32_t id, uint8_t kind, uint64_t t)
{
    if (c->qlen == c->qcap) {
        uint32_t cap = c->qcap ? c->qcap * 2 : 4;
        struct oreq *q = malloc(cap * sizeof(*q));
        if (!q)
            return -1;
        for (uint32_t i = 0; i < c->qlen; i++)
            q[i] = c->q[(c->qhead + i) % c->qcap];
        free(c->q);
        c->q = q;
        c->qcap = cap;
        c->qhead = 0;
    }
    c->q[(c->qhead + c->qlen) % c->qcap] = (struct oreq){id, kind, t};
    c->qlen++;
    return 0;
}

/* The request a reply with this id answers (replies come in order). */
static bool q_pop(struct lconn *c, int64_t id, struct oreq *out)
{
    for (uint32_t i = 0; i < c->qlen; i++) {
        struct oreq *r = &c->q[(c->qhead + i) % c->qcap];
        if (r->id != id)
            continue;
        *out = *r;
        /* Earlier ones without a reply would be a server bug: drop them too. */
        c->qhead = (c->qhead + i + 1) % c->qcap;
        c->qlen -= i + 1;
        return true;
    }
    return false;
}

/* Sends request m (an id is added), remembering what it was for. */
static int request(struct lconn *c, struct proto_msg *m, enum rkind kind)
{
    struct bench *b = target_of(c)->b;
    if (c->state != C_READY && !(c->state == C_HELLO && kind == K_HELLO))
        return -1;
    uint32_t id = ++c->next_id;
    proto_set_int(m, PK_ID, id);
    uint8_t *frame;
    size_t len;
    int rc = proto_encode_frame(m, &frame, &len);
    if (rc < 0) {
        bench_log(b, "encode %s: %s", proto_type_name(m->type), proto_err_name(rc));
        b->protocol_errors++;
        return rc;
    }
    uint64_t now = bench_now();
    if (q_push(c, id, (uint8_t)kind, now) < 0) {
        free(frame);
        return -1;
    }
    rc = conn_write(c, frame, len);
    if (rc < 0) {
        conn_fail(c, uv_strerror(rc));
        return rc;
    }
    c->last_tx_ms = uv_now(b->loop);
    bench_lazy_expect(&target_of(c)->lazy, &c->lz);
    if (kind != K_SCORE && kind != K_PING)
        b->other_requests++;
    return 0;
}

/* ---- connections -------------------------------------------------------- */

static void on_handle_closed(uv_handle_t *h)
{
    struct lconn *c = h->data;
    proto_framer_free(&c->fr);
    free(c->q);
    c->q = NULL;
    c->qlen = c->qcap = 0;
    target_of(c)->open_handles--;
}

static void conn_close(struct lconn *c)
{
    bench_lazy_remove(&target_of(c)->lazy, &c->lz);
    if (c->handle_open && !uv_is_closing(&c->h.handle)) {
        uv_close(&c->h.handle, on_handle_closed);
    }
    c->handle_open = false;
    c->state = C_CLOSED;
}

static void session_failed(struct lsess *s, const char *why)
{
    struct lwk_target *t = g_target;
    if (s->failed)
        return;
    s->failed = true;
    for (int i = 2; i < s->n_conns; i++)
        if (s->conns[i].quota > 0) {
            elig_remove(t, &s->conns[i]);
            s->quota_left -= s->conns[i].quota;
            s->conns[i].quota = 0;
        }
    s->phase = SP_STUCK;
    if (t->errors_logged++ < 10)
        bench_log(t->b, "session %d: %s", s->idx, why);
    if (t->b->phase == PH_SETUP) {
        t->sessions_failed++;
        if (t->sessions_ready + t->sessions_failed == t->n_sess)
            bench_setup_done(t->b);
    }
}

/* A connection lost or refused: during set-up a failure, later a drop. */
static void conn_fail(struct lconn *c, const char *why)
{
    struct lwk_target *t = target_of(c);
    struct bench *b = t->b;
    if (c->state == C_CLOSED)
        return;
    bool was_ready = c->state == C_READY;
    if (c->role == R_ADMIN) {
        if (!was_ready)
            b->conns_pending--;
        else
            b->conns_ready--;
        bench_log(b, "admin connection: %s", why);
        conn_close(c);
        admin_next(t, NULL);
        return;
    }
    if (!was_ready) {
        b->conns_failed++;
        b->conns_pending--;
    } else if (b->phase < PH_FINISH) {
        b->conns_dropped++;
    }
    if (t->errors_logged++ < 10)
        bench_log(b, "%s %d of session %d: %s", role_name(c->role), c->idx, c->s ? c->s->idx : -1,
                  why);
    conn_close(c);
    if (c->s && b->phase < PH_FINISH)
        session_failed(c->s, "a member's connection failed");
    pump(t);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    (void)suggested;
    *buf = uv_buf_init(read_buf, sizeof(read_buf));
}

static void on_frame(struct lconn *c, const uint8_t *body, uint32_t len);

/* Input from the loop (read_cb) or from a batch read (lazy_input). */
static void conn_input(struct lconn *c, ssize_t nread, const char *data)
{
    struct bench *b = target_of(c)->b;
    if (nread == 0)
        return;
    if (nread < 0) {
        conn_fail(c, nread == UV_EOF ? "closed by the server" : uv_strerror((int)nread));
        return;
    }
    b->bytes_in += (uint64_t)nread;
    int rc = proto_framer_feed(&c->fr, (const uint8_t *)data, (size_t)nread);
    while (rc == 0 && c->state != C_CLOSED) {
        const uint8_t *body;
        uint32_t n;
        rc = proto_framer_next(&c->fr, &body, &n);
        if (rc == 1) {
            on_frame(c, body, n);
            rc = 0;
        } else if (rc == 0) {
            break;
        }
    }
    if (rc < 0 && c->state != C_CLOSED) {
        b->protocol_errors++;
        conn_fail(c, proto_err_name(rc));
    }
}

static void read_cb(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    conn_input(st->data, nread, buf->base);
}

static struct lconn *lconn_of(struct bench_lazy_conn *lc)
{
    return (struct lconn *)((char *)lc - offsetof(struct lconn, lz));
}

static void lazy_input(struct bench_lazy_conn *lc, ssize_t n, const char *data)
{
    conn_input(lconn_of(lc), n, data);
}

static int lazy_outstanding(struct bench_lazy_conn *lc)
{
    return (int)lconn_of(lc)->qlen;
}

static const struct bench_lazy_ops lazy_ops = {.input = lazy_input,
                                               .outstanding = lazy_outstanding};

static void send_hello(struct lconn *c)
{
    struct lwk_target *t = target_of(c);
    struct proto_msg m;
    char name[16];
    proto_msg_init(&m, PT_HELLO);
    proto_set_int(&m, PK_PROTO, PROTO_VERSION);
    switch (c->role) {
    case R_ADMIN:
        proto_set_int(&m, PK_KIND, PROTO_KIND_ADMIN);
        proto_set_str(&m, PK_TOKEN, t->b->o.token);
        break;
    case R_FAC:
        proto_set_int(&m, PK_KIND, PROTO_KIND_FACILITATOR);
        proto_set_str(&m, PK_TOKEN, t->b->o.token);
        break;
    case R_KIOSK:
        proto_set_int(&m, PK_KIND, PROTO_KIND_KIOSK);
        proto_set_str(&m, PK_CODE, c->s->kiosk_code);
        break;
    default:
        snprintf(name, sizeof(name), "p%d", c->idx + 1);
        proto_set_int(&m, PK_KIND, PROTO_KIND_PARTICIPANT);
        proto_set_str(&m, PK_CODE, c->s->join_code);
        proto_set_str(&m, PK_NAME, name);
        break;
    }
    request(c, &m, K_HELLO);
}

static void on_connect(uv_connect_t *req, int status)
{
    struct lconn *c = req->data;
    if (status < 0) {
        conn_fail(c, uv_strerror(status));
        return;
    }
    if (c->h.handle.type == UV_TCP)
        uv_tcp_nodelay(&c->h.tcp, 1);
    c->state = C_HELLO;
    uv_read_start(&c->h.stream, alloc_cb, read_cb);
    send_hello(c);
}

static void conn_start(struct lconn *c)
{
    struct lwk_target *t = target_of(c);
    struct bench *b = t->b;
    int rc;
    c->creq.data = c;
    proto_framer_init(&c->fr, PROTO_CLIENT_MAX_FRAME);
    if (b->o.socket_path) {
        uv_pipe_init(b->loop, &c->h.pipe, 0);
        c->h.handle.data = c;
        c->handle_open = true;
        t->open_handles++;
        uv_pipe_connect(&c->creq, &c->h.pipe, b->o.socket_path, on_connect);
        rc = 0;
    } else {
        uv_tcp_init(b->loop, &c->h.tcp);
        c->h.handle.data = c;
        c->handle_open = true;
        t->open_handles++;
        rc = uv_tcp_connect(&c->creq, &c->h.tcp, (const struct sockaddr *)&b->addr, on_connect);
    }
    c->state = C_CONNECTING;
    c->t_connect_ns = bench_now();
    b->conns_pending++;
    if (rc < 0)
        conn_fail(c, uv_strerror(rc));
}

static void enqueue(struct lwk_target *t, struct lconn *c)
{
    if (t->q_len == t->q_cap) {
        size_t cap = t->q_cap ? t->q_cap * 2 : 1024;
        struct lconn **q = malloc(cap * sizeof(*q));
        for (size_t i = 0; i < t->q_len; i++)
            q[i] = t->queue[(t->q_head + i) % t->q_cap];
        free(t->queue);
        t->queue = q;
        t->q_cap = cap;
        t->q_head = 0;
    }
    t->queue[(t->q_head + t->q_len) % t->q_cap] = c;
    t->q_len++;
}

/* Starts queued connections while fewer than connect_concurrency are being set up. */
static void pump(struct lwk_target *t)
{
    struct bench *b = t->b;
    while (t->q_len && b->conns_pending < b->o.connect_concurrency && b->phase == PH_SETUP) {
        struct lconn *c = t->queue[t->q_head];
        t->q_head = (t->q_head + 1) % t->q_cap;
        t->q_len--;
        if (c->s && c->s->failed)
            continue;
        conn_start(c);
    }
}

/* ---- the session flow ---------------------------------------------------- */

static void flow_request(struct lsess *s, struct lconn *c, struct proto_msg *m, enum fstep step)
{
    s->step = step;
    s->phase = SP_BUSY;
    if (request(c, m, c->role == R_FAC ? K_FLOW : K_PART_FLOW) < 0)
        session_failed(s, "a step could not be sent");
}

static void fac_simple(struct lsess *s, enum proto_type type, enum fstep step)
{
    struct proto_msg m;
    proto_msg_init(&m, type);
    flow_request(s, &s->conns[0], &m, step);
}

static struct lconn *part_by_pid(struct lsess *s, int64_t pid)
{
    for (int i = 2; i < s->n_conns; i++)
        if (s->conns[i].pid == pid)
            return &s->conns[i];
    return NULL;
}

static void closed_loop_fill(struct lconn *c);

static void enter_score(struct lsess *s)
{
    struct lwk_target *t = g_target;
    s->phase = SP_SCORE;
    s->step = FS_NONE;
    s->quota_left = 0;
    for (int i = 2; i < s->n_conns; i++) {
        struct lconn *c = &s->conns[i];
        c->quota = c->state == C_READY ? t->b->o.changes : 0;
        s->quota_left += c->quota;
        if (c->quota > 0)
            elig_add(t, c);
    }
    if (t->b->o.closed)
        for (int i = 2; i < s->n_conns; i++)
            closed_loop_fill(&s->conns[i]);
}

static void rescore_next(struct lsess *s)
{
    /* The item after the one just scored, skipping items out of rounds. */
    for (int k = 1; k <= s->n_items; k++) {
        int i = (s->item_i + k) % s->n_items;
        if (s->rounds[i] < MAX_ROUND) {
            s->item_i = i;
            struct proto_msg m;
            proto_msg_init(&m, PT_RESCORE);
            proto_set_int(&m, PK_ITEM, s->items[i]);
            flow_request(s, &s->conns[0], &m, FS_RESCORE);
            return;
        }
    }
    s->phase = SP_STUCK; /* every item has had its 100 rounds */
}

static void explain_end(struct lsess *s)
{
    if (!s->first_pass) {
        fac_simple(s, PT_NEXT, FS_NEXT_BACK);
    } else if (s->item_i + 1 < s->n_items) {
        fac_simple(s, PT_NEXT, FS_NEXT_SCORE);
    } else {
        fac_simple(s, PT_NEXT, FS_NEXT_THEMES);
    }
}

static void keyword_step(struct lsess *s)
{
    struct bench *b = g_target->b;
    int want = b->o.keywords < s->n_order ? b->o.keywords : s->n_order;
    if (s->kw_i >= want) {
        explain_end(s);
        return;
    }
    struct lconn *p = part_by_pid(s, s->order[s->kw_i]);
    if (!p || p->state != C_READY) {
        session_failed(s, "speaker not connected");
        return;
    }
    struct proto_msg m;
    proto_msg_init(&m, PT_KEYWORD);
    proto_set_str(&m, PK_TEXT, "bench keyword");
    flow_request(s, p, &m, FS_KEYWORD);
}

/* The facilitator's next step, after the reply (ok) to the current one. */
static void flow_ok(struct lsess *s, const struct proto_msg *reply)
{
    struct bench *b = g_target->b;
    enum fstep done = s->step;
    s->step = FS_NONE;
    if (done == FS_REVEAL)
        b->rounds++;
    if (b->stopping && done != FS_NEXT_SCORE && done != FS_RESCORE) {
        s->phase = SP_READY; /* the load is over: leave the session where it is */
        return;
    }
    switch (done) {
    case FS_NEXT_SCORE:
        /* from the lobby the first item; from an explanation the next one */
        if (s->rounds[s->item_i] > 0)
            s->item_i++;
        s->rounds[s->item_i]++;
        enter_score(s);
        break;
    case FS_REVEAL:
        fac_simple(s, PT_NEXT, FS_NEXT_EXPLAIN);
        break;
    case FS_NEXT_EXPLAIN:
        if (s->first_pass && b->o.keywords > 0 && s->rounds[s->item_i] == 1) {
            struct proto_msg m;
            proto_msg_init(&m, PT_TURN_ORDER);
            proto_set_int(&m, PK_MODE, PROTO_MODE_JOIN);
            flow_request(s, &s->conns[0], &m, FS_TURN_ORDER);
        } else {
            explain_end(s);
        }
        break;
    case FS_TURN_ORDER: /* the turns event came before this ok */
        s->kw_i = 0;
        keyword_step(s);
        break;
    case FS_KEYWORD:
        fac_simple(s, PT_TURN_NEXT, FS_TURN_NEXT);
        break;
    case FS_TURN_NEXT:
        s->kw_i++;
        keyword_step(s);
        break;
    case FS_NEXT_THEMES: {
        struct proto_msg m;
        proto_msg_init(&m, PT_THEME_ADD);
        proto_set_str(&m, PK_TEXT, "bench theme");
        flow_request(s, &s->conns[2], &m, FS_THEME);
        break;
    }
    case FS_THEME:
        fac_simple(s, PT_NEXT, FS_NEXT_DESIRED);
        break;
    case FS_NEXT_DESIRED:
        fac_simple(s, PT_NEXT, FS_NEXT_ACTIONS);
        break;
    case FS_NEXT_ACTIONS: {
        struct proto_msg m;
        proto_msg_init(&m, PT_ACTION_PROPOSE);
        proto_set_str(&m, PK_TEXT, "bench action");
        flow_request(s, &s->conns[2], &m, FS_ACTION);
        break;
    }
    case FS_ACTION:
        s->first_pass = false;
        rescore_next(s);
        break;
    case FS_NEXT_BACK:
        rescore_next(s);
        break;
    case FS_RESCORE:
        s->rounds[s->item_i]++;
        enter_score(s);
        break;
    case FS_NONE:
        break;
    }
    (void)reply;
}

/* Reveals once every participant has used its quota and every score has its reply. */
static void maybe_reveal(struct lsess *s)
{
    if (s->phase == SP_SCORE && s->quota_left == 0 && s->scores_out == 0 && !s->failed) {
        if (g_target->b->stopping) {
            s->phase = SP_READY;
            return;
        }
        fac_simple(s, PT_REVEAL, FS_REVEAL);
    }
}

/* ---- receiving ----------------------------------------------------------- */

static void slot_sent(struct bench *b, struct lsess *s, uint64_t seq, uint64_t t_send)
{
    struct slot *sl = &s->slots[seq % SLOTS];
    if (sl->kind == 2 && sl->seq == seq) {
        bench_record_latency(b, t_send, sl->t_ns);
        sl->kind = 0;
        return;
    }
    if (sl->kind)
        b->latency_unmatched++;
    *sl = (struct slot){seq, t_send, 1};
}

static void slot_kiosk(struct bench *b, struct lsess *s, uint64_t seq, uint64_t t_recv)
{
    struct slot *sl = &s->slots[seq % SLOTS];
    if (sl->kind == 1 && sl->seq == seq) {
        bench_record_latency(b, sl->t_ns, t_recv);
        sl->kind = 0;
        return;
    }
    if (sl->kind)
        b->latency_unmatched++;
    *sl = (struct slot){seq, t_recv, 2};
}

static void dbq_push(struct lsess *s, uint64_t seq, uint64_t t)
{
    if (s->dbq_len == s->dbq_cap) {
        size_t cap = s->dbq_cap ? s->dbq_cap * 2 : 64;
        struct dbrec *q = malloc(cap * sizeof(*q));
        if (!q)
            return;
        for (size_t i = 0; i < s->dbq_len; i++)
            q[i] = s->dbq[(s->dbq_head + i) % s->dbq_cap];
        free(s->dbq);
        s->dbq = q;
        s->dbq_cap = cap;
        s->dbq_head = 0;
    }
    s->dbq[(s->dbq_head + s->dbq_len) % s->dbq_cap] = (struct dbrec){seq, t};
    s->dbq_len++;
}

static void closed_loop_fill(struct lconn *c);

static void on_score_reply(struct lconn *c, const struct oreq *r, const struct proto_msg *m)
{
    struct lwk_target *t = target_of(c);
    struct bench *b = t->b;
    struct lsess *s = c->s;
    c->scores_out--;
    s->scores_out--;
    if (m->type == PT_OK) {
        b->acked++;
        if (proto_has(m, PK_SEQ)) {
            uint64_t seq = (uint64_t)m->v[PK_SEQ].i;
            slot_sent(b, s, seq, r->t_ns);
            if (b->db && r->t_ns >= b->t_measure)
                dbq_push(s, seq, r->t_ns);
        }
    }
    if (b->o.closed)
        closed_loop_fill(c);
    maybe_reveal(s);
}

static void on_reply(struct lconn *c, const struct proto_msg *m)
{
    struct lwk_target *t = target_of(c);
    struct bench *b = t->b;
    struct lsess *s = c->s;
    int64_t id = proto_int(m, PK_ID, -1);
    struct oreq r;
    if (id < 0 || !q_pop(c, id, &r)) {
        if (m->type == PT_ERROR) {
            bench_error(b, (int)proto_int(m, PK_ERR, 500));
            if (t->errors_logged++ < 10)
                bench_log(b, "%s: error %s: %s", role_name(c->role),
                          proto_err_name((int)proto_int(m, PK_ERR, 0)), proto_str(m, PK_MSG));
        }
        return;
    }
    if (m->type == PT_ERROR) {
        int code = (int)proto_int(m, PK_ERR, 500);
        /* lwkd learns of a new team unit a moment after making it: ask again. */
        if (r.kind == K_SESSION_NEW && -code == PROTO_ERR_NOT_FOUND && t->unit > 0 &&
            s->new_tries++ < 50) {
            s->retry_new = true;
            if (!uv_is_active((uv_handle_t *)&t->retry))
                uv_timer_start(&t->retry, retry_cb, 100, 0);
            return;
        }
        bench_error(b, code);
        if (r.kind == K_SCORE)
            b->rejected++;
        if (t->errors_logged++ < 10)
            bench_log(b, "%s %d of session %d: error %s: %s", role_name(c->role), c->idx,
                      s ? s->idx : -1, proto_err_name(code), proto_str(m, PK_MSG));
        switch (r.kind) {
        case K_HELLO:
            conn_fail(c, "hello refused");
            return;
        case K_SCORE:
            on_score_reply(c, &r, m);
            return;
        case K_FLOW:
        case K_PART_FLOW:
        case K_SESSION_NEW:
            session_failed(s, "a step was refused");
            return;
        case K_END:
            t->ends_out--;
            return;
        case K_ADMIN:
            admin_next(t, NULL);
            return;
        default:
            return;
        }
    }
    switch (r.kind) {
    case K_HELLO:
        if (m->type != PT_WELCOME) {
            conn_fail(c, "no welcome");
            return;
        }
        c->state = C_READY;
        b->conns_pending--;
        b->conns_ready++;
        {
            uint64_t us = (bench_now() - c->t_connect_ns) / 1000;
            if (us > b->connect_us_max)
                b->connect_us_max = us;
        }
        c->pid = (int)proto_int(m, PK_PID, 0);
        if (c->role == R_ADMIN) {
            admin_next(t, m);
        } else if (c->role == R_FAC) {
            session_new(s);
        } else if (++s->joined == s->n_conns - 1) {
            s->phase = SP_READY;
            t->sessions_ready++;
            if (t->sessions_ready + t->sessions_failed == t->n_sess)
                bench_setup_done(b);
        }
        pump(t);
        return;
    case K_SESSION_NEW: {
        const char *jc = proto_str(m, PK_JOIN_CODE), *kc = proto_str(m, PK_KIOSK_CODE);
        if (!jc || !kc) {
            session_failed(s, "session.new: no codes");
            return;
        }
        s->id = proto_int(m, PK_SESSION, 0);
        snprintf(s->join_code, sizeof(s->join_code), "%s", jc);
        snprintf(s->kiosk_code, sizeof(s->kiosk_code), "%s", kc);
        for (int i = 1; i < s->n_conns; i++)
            enqueue(t, &s->conns[i]);
        pump(t);
        return;
    }
    case K_SCORE:
        on_score_reply(c, &r, m);
        return;
    case K_FLOW:
    case K_PART_FLOW:
        flow_ok(s, m);
        return;
    case K_END:
        t->ends_out--;
        return;
    case K_ADMIN:
        admin_next(t, m);
        return;
    default:
        return;
    }
}

/* The facilitator's copy of session.created: which items are scored, and how. */
static void learn_items(struct lsess *s, const struct proto_msg *snap)
{
    if (!proto_has(snap, PK_EVENTS))
        return;
    const struct proto_msgs *ev = &snap->v[PK_EVENTS].m;
    for (uint32_t i = 0; i < ev->n; i++) {
        const struct proto_msg *e = &ev->p[i];
        if (e->type != PT_EV_CREATED || !proto_has(e, PK_ROWS))
            continue;
        s->n_items = 0;
        const struct proto_msgs *rows = &e->v[PK_ROWS].m;
        for (uint32_t r = 0; r < rows->n && s->n_items < MAX_ITEMS; r++) {
            const struct proto_msg *row = &rows->p[r];
            if (!proto_has(row, PK_VALUES) || row->v[PK_VALUES].a.n < 2)
                continue;
            s->items[s->n_items] = (int)proto_int(row, PK_ITEM, 0);
            s->vmin[s->n_items] = (int)row->v[PK_VALUES].a.p[0];
            s->vmax[s->n_items] = (int)row->v[PK_VALUES].a.p[1];
            s->n_items++;
        }
    }
}

static void on_event(struct lconn *c, enum proto_type type, int64_t seq, const struct proto_msg *m)
{
    struct bench *b = target_of(c)->b;
    struct lsess *s = c->s;
    b->events++;
    if (c->role == R_KIOSK) {
        b->kiosk_events++;
        if (type == PT_EV_SCORED && seq > 0)
            slot_kiosk(b, s, (uint64_t)seq, bench_now());
    } else if (c->role == R_FAC && type == PT_EV_TURNS && m) {
        const struct proto_ints *o = &m->v[PK_ORDER].a;
        s->n_order = 0;
        for (uint32_t i = 0; i < o->n && i < 512; i++)
            s->order[s->n_order++] = o->p[i];
    }
}

static uint32_t frame_hash(const uint8_t *p, uint32_t len)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ len, w;
    uint32_t i = 0;
    for (; i + 8 <= len; i += 8) {
        memcpy(&w, p + i, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
    }
    w = 0;
    memcpy(&w, p + i, len - i);
    h = (h ^ w) * 0xff51afd7ed558ccdULL;
    return (uint32_t)(h ^ (h >> 29));
}

/* A broadcast frame already decoded for another member of the session. */
static struct cached *cache_find(struct lsess *s, const uint8_t *body, uint32_t len, uint32_t h)
{
    struct cached *set = s->cache[h % CACHE_SETS];
    for (int w = 0; w < CACHE_WAYS; w++)
        if (set[w].len == len && memcmp(set[w].bytes, body, len) == 0)
            return &set[w];
    return NULL;
}

static void cache_store(struct lsess *s, const uint8_t *body, uint32_t len, uint32_t h,
                        enum proto_type type, int64_t seq)
{
    if (cache_find(s, body, len, h))
        return;
    struct cached *set = s->cache[h % CACHE_SETS], *e = &set[0];
    for (int w = 1; w < CACHE_WAYS; w++)
        if (set[w].stamp < e->stamp)
            e = &set[w];
    e->len = (uint16_t)len;
    e->stamp = ++s->cache_stamp;
    e->type = (uint16_t)type;
    e->seq = seq;
    memcpy(e->bytes, body, len);
}

static void on_frame(struct lconn *c, const uint8_t *body, uint32_t len)
{
    struct lwk_target *t = target_of(c);
    struct bench *b = t->b;
    struct lsess *s = c->s;
    b->frames_in++;
    /*
     * Participants need only their replies: an event's meaning is the same
     * for all. Kiosks and facilitators decode every frame, and store what
     * they decode for the participants (the kiosk, read at once, is first).
     */
    bool cacheable = !b->o.decode_all && s && len <= CACHE_BYTES;
    uint32_t h = cacheable ? frame_hash(body, len) : 0;
    if (cacheable && c->role == R_PART) {
        struct cached *hit = cache_find(s, body, len, h);
        if (hit) {
            on_event(c, (enum proto_type)hit->type, hit->seq, NULL);
            return;
        }
    }
    struct proto_msg *m;
    struct proto_error err;
    b->frames_decoded++;
    int rc = proto_decode(body, len, true, &m, &err);
    if (rc < 0) {
        b->protocol_errors++;
        if (t->errors_logged++ < 10)
            bench_log(b, "undecodable frame from lwkd: %s %s", proto_err_name(rc), err.detail);
        return;
    }
    enum proto_dir dir = proto_type_dir(m->type);
    if (dir == PD_EVENT) {
        int64_t seq = proto_int(m, PK_SEQ, 0);
        if (cacheable)
            cache_store(s, body, len, h, m->type, seq);
        on_event(c, m->type, seq, m);
    } else if (m->type == PT_SNAPSHOT) {
        if (c->role == R_FAC && s)
            learn_items(s, m);
    } else if (m->type == PT_BYE) {
        if (t->errors_logged++ < 10)
            bench_log(b, "%s: bye %s: %s", role_name(c->role),
                      proto_err_name((int)proto_int(m, PK_ERR, 0)), proto_str(m, PK_MSG));
        bench_error(b, (int)proto_int(m, PK_ERR, 500));
    } else {
        on_reply(c, m);
    }
    proto_msg_free(m);
}

/* ---- submissions ---------------------------------------------------------- */

static void session_new(struct lsess *s)
{
    struct lwk_target *t = g_target;
    struct proto_msg n;
    char team[32];
    proto_msg_init(&n, PT_SESSION_NEW);
    snprintf(team, sizeof(team), "bench-%d", s->idx + 1);
    proto_set_str(&n, PK_TEAM, team);
    proto_set_bool(&n, PK_AUTO, false);
    if (t->b->o.participants < 3)
        proto_set_int(&n, PK_MIN_REVEAL, t->b->o.participants);
    if (t->unit > 0)
        proto_set_int(&n, PK_UNIT, t->unit);
    request(&s->conns[0], &n, K_SESSION_NEW);
}

static void retry_cb(uv_timer_t *tm)
{
    struct lwk_target *t = tm->data;
    for (int i = 0; i < t->n_sess; i++)
        if (t->sess[i].retry_new && !t->sess[i].failed) {
            t->sess[i].retry_new = false;
            session_new(&t->sess[i]);
        }
}

static bool eligible(const struct lconn *c)
{
    return c->state == C_READY && c->quota > 0 && c->s->phase == SP_SCORE;
}

static void send_score(struct lconn *c)
{
    struct lwk_target *t = target_of(c);
    struct bench *b = t->b;
    struct lsess *s = c->s;
    int i = s->item_i;
    struct proto_msg m;
    proto_msg_init(&m, PT_SCORE);
    proto_set_int(&m, PK_ITEM, s->items[i]);
    proto_set_int(&m, PK_VALUE,
                  s->vmin[i] + (int)(rnd(t) % (uint32_t)(s->vmax[i] - s->vmin[i] + 1)));
    if (--c->quota == 0)
        elig_remove(t, c);
    s->quota_left--;
    c->scores_out++;
    s->scores_out++;
    b->sent++;
    if (c->scores_out > b->max_outstanding)
        b->max_outstanding = c->scores_out;
    if (request(c, &m, K_SCORE) < 0) {
        c->scores_out--;
        s->scores_out--;
        maybe_reveal(s);
    }
}

static void closed_loop_fill(struct lconn *c)
{
    struct bench *b = target_of(c)->b;
    while (!b->stopping && eligible(c) && c->scores_out < b->o.inflight)
        send_score(c);
}

/*
 * The first rounds start spread over half a round's time at the requested
 * rate (open loop). Started together, the sessions' rounds end together:
 * every session waits for its reveal at once while the open loop finds no
 * one to pick, and lwkd gets the flow's steps in bursts for many rounds.
 */
static void start_sessions(struct lwk_target *t)
{
    double elapsed = (double)(uv_now(t->b->loop) - t->start_ms);
    while (t->n_started < t->n_sess && !t->b->stopping &&
           (double)t->n_started * t->start_span_ms / t->n_sess <= elapsed) {
        struct lsess *s = &t->sess[t->n_started++];
        if (s->phase == SP_READY && !s->failed) {
            s->item_i = 0;
            fac_simple(s, PT_NEXT, FS_NEXT_SCORE);
        }
    }
}

static bool lwk_submit(struct bench *b, uint64_t t_intended)
{
    struct lwk_target *t = T(b);
    (void)t_intended;
    start_sessions(t);
    if (t->n_elig == 0)
        return false;
    struct lconn *c = t->elig[rnd(t) % t->n_elig];
    send_score(c);
    return true;
}

/* ---- admin: a team unit for the database ---------------------------------- */

/*
 * With --db and no --unit, sessions need a team that exists in the
 * database for their rows to be stored: make an organisation and a team
 * through lwkd's admin requests first.
 */
static void start_facilitators(struct lwk_target *t)
{
    for (int i = 0; i < t->n_sess; i++)
        enqueue(t, &t->sess[i].conns[0]);
    pump(t);
}

static void admin_next(struct lwk_target *t, const struct proto_msg *reply)
{
    struct bench *b = t->b;
    struct proto_msg m;
    char name[64];
    if (!reply) { /* refused or lost */
        if (t->admin_step < 0)
            return;
        t->admin_step = -1;
        bench_log(b, "could not create a team unit: rows of the sessions will not be stored");
        conn_close(&t->admin);
        start_facilitators(t);
        return;
    }
    if (t->admin_step < 0)
        return;
    switch (t->admin_step++) {
    case 0: /* welcome */
        proto_msg_init(&m, PT_ORG_NEW);
        snprintf(name, sizeof(name), "lwk-bench %llu", (unsigned long long)(bench_now() / 1000000));
        proto_set_str(&m, PK_NAME, name);
        request(&t->admin, &m, K_ADMIN);
        break;
    case 1:
        t->org = proto_int(reply, PK_ORG, 0);
        proto_msg_init(&m, PT_UNIT_NEW);
        proto_set_int(&m, PK_ORG, t->org);
        proto_set_str(&m, PK_NAME, "bench team");
        proto_set_int(&m, PK_LEVEL, 3); /* team */
        request(&t->admin, &m, K_ADMIN);
        break;
    default:
        t->unit = proto_int(reply, PK_UNIT, 0);
        bench_log(b, "made team unit %lld (organisation %lld) for the sessions", (long long)t->unit,
                  (long long)t->org);
        t->admin_step = -1;
        conn_close(&t->admin);
        b->conns_ready--; /* not one of the measured connections */
        start_facilitators(t);
        break;
    }
}

/* ---- the target's operations ---------------------------------------------- */

static int lwk_setup(struct bench *b)
{
    struct lwk_target *t = calloc(1, sizeof(*t));
    if (!t)
        return -1;
    g_target = t;
    b->t = t;
    t->b = b;
    uv_timer_init(b->loop, &t->retry);
    t->retry.data = t;
    t->open_handles++;
    t->rng = 0x9e3779b97f4a7c15ULL;
    t->unit = b->o.unit;
    t->n_sess = b->o.sessions;
    t->sess = calloc((size_t)t->n_sess, sizeof(*t->sess));
    int per = b->o.participants + 2;
    t->n_parts = (size_t)t->n_sess * (size_t)b->o.participants;
    t->elig = calloc(t->n_parts + 1, sizeof(*t->elig));
    if (!t->sess || !t->elig)
        return -1;
    for (int i = 0; i < t->n_sess; i++) {
        struct lsess *s = &t->sess[i];
        s->idx = i;
        s->first_pass = true;
        s->n_conns = per;
        s->conns = calloc((size_t)per, sizeof(*s->conns));
        if (!s->conns)
            return -1;
        /* the built-in instrument until the snapshot says otherwise */
        s->n_items = 4;
        for (int k = 0; k < 4; k++) {
            s->items[k] = k;
            s->vmin[k] = 1;
            s->vmax[k] = 10;
        }
        for (int k = 0; k < per; k++) {
            struct lconn *c = &s->conns[k];
            c->s = s;
            c->role = k == 0 ? R_FAC : k == 1 ? R_KIOSK : R_PART;
            c->idx = k - 2;
            c->elig_pos = -1;
        }
    }
    b->conns_wanted = t->n_sess * per;
    if (b->o.db && t->unit <= 0 && b->o.token) {
        t->admin.role = R_ADMIN;
        t->admin.idx = -1;
        t->admin.elig_pos = -1;
        conn_start(&t->admin);
    } else {
        start_facilitators(t);
    }
    return 0;
}

/* Participants and facilitators leave the loop's reading; kiosks stay (bench.h). */
static void lazy_start(struct lwk_target *t)
{
    struct bench *b = t->b;
    if (b->o.participant_read_ms <= 0)
        return;
    bench_lazy_init(&t->lazy, b->loop, &lazy_ops, b->o.participant_read_ms, BENCH_LAZY_SWEEP_MS);
    t->lazy_on = true;
    t->open_handles++;
    for (int i = 0; i < t->n_sess; i++)
        for (int k = 0; k < t->sess[i].n_conns; k++) {
            struct lconn *c = &t->sess[i].conns[k];
            if (c->role == R_KIOSK || c->state != C_READY || !c->handle_open)
                continue;
            if (bench_lazy_add(&t->lazy, &c->lz, &c->h.stream) == 0 && c->qlen > 0)
                bench_lazy_expect(&t->lazy, &c->lz);
        }
}

static void lwk_start_load(struct bench *b)
{
    struct lwk_target *t = T(b);
    const struct bench_opts *o = &b->o;
    lazy_start(t);
    t->start_ms = uv_now(b->loop);
    if (!o->closed) { /* the closed loop has no schedule to keep: all at once */
        double round_ms = (double)o->changes * o->participants * t->n_sess / o->rate * 1000;
        double cap_ms = o->duration_s * 1000 / 4;
        t->start_span_ms = round_ms / 2 < cap_ms ? round_ms / 2 : cap_ms;
    }
    start_sessions(t);
}

static void lwk_stop_load(struct bench *b)
{
    bench_lazy_read_all(&T(b)->lazy);
}

static bool lwk_drained(struct bench *b)
{
    struct lwk_target *t = T(b);
    for (int i = 0; i < t->n_sess; i++) {
        struct lsess *s = &t->sess[i];
        if (s->scores_out > 0)
            return false;
        for (int k = 0; k < SLOTS; k++)
            if (s->slots[k].kind == 1)
                return false;
    }
    /* A drop after the load is noticed here, not only when everything closes. */
    bench_lazy_read_all(&t->lazy);
    return true;
}

static void lwk_finish(struct bench *b)
{
    struct lwk_target *t = T(b);
    /* What the kiosks never got. */
    for (int i = 0; i < t->n_sess; i++)
        for (int k = 0; k < SLOTS; k++)
            if (t->sess[i].slots[k].kind == 1)
                b->kiosk_missing++;
    for (int i = 0; i < t->n_sess; i++) {
        struct lsess *s = &t->sess[i];
        struct lconn *f = &s->conns[0];
        if (!b->o.no_end && f->state == C_READY && s->id) {
            struct proto_msg m;
            proto_msg_init(&m, PT_END);
            if (request(f, &m, K_END) == 0)
                t->ends_out++;
        }
    }
}

static void retry_closed(uv_handle_t *h)
{
    ((struct lwk_target *)h->data)->open_handles--;
}

static void lazy_closed(uv_handle_t *h)
{
    (void)h;
    g_target->open_handles--;
}

static bool lwk_finished(struct bench *b)
{
    struct lwk_target *t = T(b);
    if (t->ends_out > 0)
        return false;
    /* Close everything once (the ends are answered or abandoned). */
    for (int i = 0; i < t->n_sess; i++)
        for (int k = 0; k < t->sess[i].n_conns; k++)
            if (t->sess[i].conns[k].state != C_CLOSED || t->sess[i].conns[k].handle_open)
                conn_close(&t->sess[i].conns[k]);
    conn_close(&t->admin);
    if (!uv_is_closing((uv_handle_t *)&t->retry))
        uv_close((uv_handle_t *)&t->retry, retry_closed);
    if (t->lazy_on)
        bench_lazy_close(&t->lazy, lazy_closed);
    return t->open_handles == 0;
}

static void lwk_tick(struct bench *b, uint64_t now_ms)
{
    struct lwk_target *t = T(b);
    if (b->phase == PH_LOAD)
        start_sessions(t);
    /* lwkd closes connections idle longer than idle_timeout_ms (60 s by default). */
    for (int i = 0; i < t->n_sess; i++)
        for (int k = 0; k < t->sess[i].n_conns; k++) {
            struct lconn *c = &t->sess[i].conns[k];
            if (c->state == C_READY && now_ms - c->last_tx_ms >= (uint64_t)b->o.ping_ms) {
                struct proto_msg m;
                proto_msg_init(&m, PT_PING);
                request(c, &m, K_PING);
            }
        }
}

static int lwk_session_ids(struct bench *b, int64_t **ids)
{
    struct lwk_target *t = T(b);
    *ids = calloc((size_t)t->n_sess + 1, sizeof(**ids));
    if (!*ids)
        return -1;
    for (int i = 0; i < t->n_sess; i++)
        (*ids)[i] = t->sess[i].id;
    return t->n_sess;
}

static void lwk_db_progress(struct bench *b, int idx, int64_t last_seq, uint64_t t_ns)
{
    struct lwk_target *t = T(b);
    if (idx < 0 || idx >= t->n_sess)
        return;
    struct lsess *s = &t->sess[idx];
    s->db_seen = last_seq;
    while (s->dbq_len && (int64_t)s->dbq[s->dbq_head].seq <= last_seq) {
        uint64_t sent = s->dbq[s->dbq_head].t_ns;
        hist_add(&b->db->lag, t_ns > sent ? (t_ns - sent) / 1000 : 0);
        s->dbq_head = (s->dbq_head + 1) % s->dbq_cap;
        s->dbq_len--;
    }
}

static bool lwk_db_complete(struct bench *b)
{
    struct lwk_target *t = T(b);
    for (int i = 0; i < t->n_sess; i++)
        if (t->sess[i].dbq_len)
            return false;
    return true;
}

const struct bench_target_ops bench_lwk_ops = {
    .name = "lwkd",
    .setup = lwk_setup,
    .start_load = lwk_start_load,
    .submit = lwk_submit,
    .stop_load = lwk_stop_load,
    .drained = lwk_drained,
    .finish = lwk_finish,
    .finished = lwk_finished,
    .tick = lwk_tick,
    .session_ids = lwk_session_ids,
    .db_progress = lwk_db_progress,
    .db_complete = lwk_db_complete,
};
