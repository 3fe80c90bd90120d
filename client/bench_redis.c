/*
 * bench_redis.c: lwk-bench's Redis target, the plain broadcaster to compare
 * lwkd with. Same bench shape: per session one channel, a kiosk that
 * SUBSCRIBEs, P participants that PUBLISH their submissions, and a
 * facilitator. With --redis-fanout all (the default) the participants and
 * the facilitator subscribe too (RESP3, where a subscribed connection may
 * still PUBLISH), so every member gets every message as in lwkd; with
 * --redis-fanout kiosk only the kiosk does.
 *
 * No flow, no validation, no persistence: a message is "<session>:<pid>:<ns>"
 * and the kiosk's latency is its receive time minus the ns it carries.
 * RESP is written and read here by hand (only what this needs).
 */
#include "bench.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum rrole { RR_FAC, RR_KIOSK, RR_PART };
enum rstate { RC_NEW, RC_CONNECTING, RC_SETUP, RC_READY, RC_CLOSED };

struct rconn {
    union {
        uv_handle_t handle;
        uv_stream_t stream;
        uv_tcp_t tcp;
        uv_pipe_t pipe;
    } h;
    uv_connect_t creq;
    struct rsess *s;
    uint8_t role, state;
    bool handle_open, subscribes;
    int idx;
    int replies_wanted; /* set-up replies still to come */
    int pubs_out;       /* PUBLISH without a reply */
    char *in;           /* input not yet parsed */
    size_t in_len, in_cap;
    uint64_t t_connect_ns;
    struct bench_lazy_conn lz; /* participants and the facilitator during the load */
};

struct rsess {
    int idx;
    char channel[32];
    struct rconn *conns; /* [0] facilitator, [1] kiosk, [2..] participants */
    int n_conns, ready;
    uint64_t published, received_by_kiosk;
};

struct redis_target {
    struct bench *b;
    struct rsess *sess;
    int n_sess, sessions_ready;
    struct rconn **rr;
    size_t n_rr, rr_next, next_start;
    struct rconn **all;
    size_t n_all;
    int open_handles;
    int errors_logged;
    bool lazy_on; /* lazy initialised: its timer is one of open_handles */
    struct bench_lazy lazy;
};

static struct redis_target *g_rt;
static char read_buf[65536];

/* ---- RESP ---------------------------------------------------------------- */

struct rstr {
    const char *p;
    size_t n;
};

/* The end of the line starting at p (at its \r), or NULL when incomplete. */
static const char *line_end(const char *p, const char *end)
{
    for (const char *q = p; q + 1 < end; q++)
        if (q[0] == '\r' && q[1] == '\n')
            return q;
    return NULL;
}

/*
 * Skips one RESP2/RESP3 value at p. Returns the byte after it, NULL when
 * more input is needed, or (const char *)1 when it is not RESP. At the top
 * level (cap != NULL) the first three elements of an aggregate are captured
 * when they are strings; *type is the value's type byte.
 */
static const char *resp_skip(const char *p, const char *end, int depth, struct rstr *cap, int *ncap)
{
    static const char *const bad = (const char *)1;
    if (p >= end)
        return NULL;
    if (depth > 8)
        return bad;
    const char *le = line_end(p + 1, end);
    if (!le)
        return NULL;
    char t = *p;
    long long n = strtoll(p + 1, NULL, 10);
    const char *next = le + 2;
    switch (t) {
    case '+':
    case '-':
    case ':':
    case '_':
    case '#':
    case ',':
    case '(':
        if (cap && ncap && *ncap < 3) {
            cap[*ncap] = (struct rstr){p + 1, (size_t)(le - p - 1)};
            (*ncap)++;
        }
        return next;
    case '$':
    case '=':
    case '!':
        if (n < 0)
            return next;
        if (end - next < n + 2)
            return NULL;
        if (cap && ncap && *ncap < 3) {
            cap[*ncap] = (struct rstr){next, (size_t)n};
            (*ncap)++;
        }
        return next + n + 2;
    case '*':
    case '>':
    case '~':
    case '%':
    case '|': {
        if (n < 0)
            return next;
        long long items = (t == '%' || t == '|') ? 2 * n : n;
        for (long long i = 0; i < items; i++) {
            next =
                resp_skip(next, end, depth + 1, depth == 0 ? cap : NULL, depth == 0 ? ncap : NULL);
            if (!next || next == bad)
                return next;
        }
        if (t == '|') /* an attribute precedes the value it describes */
            return resp_skip(next, end, depth, cap, ncap);
        return next;
    }
    default:
        return bad;
    }
}

static void append_bulk(char *buf, size_t *len, const char *s, size_t n)
{
    *len += (size_t)sprintf(buf + *len, "$%zu\r\n", n);
    memcpy(buf + *len, s, n);
    *len += n;
    buf[(*len)++] = '\r';
    buf[(*len)++] = '\n';
}

/* ---- connections ----------------------------------------------------------- */

struct wreq {
    uv_write_t req;
    char *buf;
};

static void write_done(uv_write_t *req, int status)
{
    struct wreq *w = (struct wreq *)req;
    (void)status;
    free(w->buf);
    free(w);
}

static void rconn_fail(struct rconn *c, const char *why);

static void rconn_write(struct rconn *c, const char *data, size_t len)
{
    uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
    int n = uv_try_write(&c->h.stream, &b, 1);
    if (n == (int)len)
        return;
    if (n < 0 && n != UV_EAGAIN) {
        rconn_fail(c, uv_strerror(n));
        return;
    }
    size_t done = n > 0 ? (size_t)n : 0;
    struct wreq *w = malloc(sizeof(*w));
    w->buf = malloc(len - done);
    memcpy(w->buf, data + done, len - done);
    b = uv_buf_init(w->buf, (unsigned)(len - done));
    if (uv_write(&w->req, &c->h.stream, &b, 1, write_done) != 0) {
        free(w->buf);
        free(w);
        rconn_fail(c, "write");
    }
}

static void on_closed(uv_handle_t *h)
{
    struct rconn *c = h->data;
    free(c->in);
    c->in = NULL;
    g_rt->open_handles--;
}

static void rconn_close(struct rconn *c)
{
    bench_lazy_remove(&g_rt->lazy, &c->lz);
    if (c->handle_open && !uv_is_closing(&c->h.handle))
        uv_close(&c->h.handle, on_closed);
    c->handle_open = false;
    c->state = RC_CLOSED;
}

static void start_more(void);

static void rconn_fail(struct rconn *c, const char *why)
{
    struct bench *b = g_rt->b;
    if (c->state == RC_CLOSED)
        return;
    if (c->state != RC_READY) {
        b->conns_failed++;
        b->conns_pending--;
        if (b->phase == PH_SETUP) {
            c->s->ready = -1000000; /* never ready */
            g_rt->sessions_ready++; /* counted as settled */
        }
    } else if (b->phase < PH_FINISH) {
        b->conns_dropped++;
    }
    if (g_rt->errors_logged++ < 10)
        bench_log(b, "redis connection of session %d: %s", c->s->idx, why);
    rconn_close(c);
    if (b->phase == PH_SETUP && g_rt->sessions_ready == g_rt->n_sess)
        bench_setup_done(b);
    start_more();
}

static void became_ready(struct rconn *c)
{
    struct bench *b = g_rt->b;
    c->state = RC_READY;
    b->conns_pending--;
    b->conns_ready++;
    uint64_t us = (bench_now() - c->t_connect_ns) / 1000;
    if (us > b->connect_us_max)
        b->connect_us_max = us;
    if (++c->s->ready == c->s->n_conns && ++g_rt->sessions_ready == g_rt->n_sess)
        bench_setup_done(b);
    start_more();
}

static void rpublish(struct rconn *c);

static void on_value(struct rconn *c, char type, struct rstr *v, int nv)
{
    struct bench *b = g_rt->b;
    bool message =
        (type == '>' || type == '*') && nv == 3 && v[0].n == 7 && memcmp(v[0].p, "message", 7) == 0;
    if (message) {
        b->events++;
        b->frames_in++;
        if (c->role == RR_KIOSK) {
            b->kiosk_events++;
            c->s->received_by_kiosk++;
            /* "<session>:<pid>:<ns>" */
            const char *p = v[2].p + v[2].n;
            while (p > v[2].p && p[-1] != ':')
                p--;
            if (p > v[2].p) {
                p--;
                char num[24];
                size_t n = (size_t)(v[2].p + v[2].n - p - 1);
                if (n < sizeof(num)) {
                    memcpy(num, p + 1, n);
                    num[n] = '\0';
                    bench_record_latency(b, strtoull(num, NULL, 10), bench_now());
                }
            }
        }
        return;
    }
    if (type == '-' || type == '!') {
        bench_error(b, 500);
        if (g_rt->errors_logged++ < 10)
            bench_log(b, "redis error: %.*s", nv ? (int)v[0].n : 0, nv ? v[0].p : "");
        if (c->state == RC_SETUP) {
            rconn_fail(c, "refused");
            return;
        }
    }
    if (c->state == RC_SETUP) {
        if (--c->replies_wanted == 0)
            became_ready(c);
        return;
    }
    if (type == ':' && c->pubs_out > 0) { /* PUBLISH's count of receivers */
        c->pubs_out--;
        b->acked++;
        if (b->o.closed && !b->stopping)
            rpublish(c);
    }
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    (void)suggested;
    *buf = uv_buf_init(read_buf, sizeof(read_buf));
}

/* Input from the loop (read_cb) or from a batch read (lazy_input). */
static void rconn_input(struct rconn *c, ssize_t nread, const char *data)
{
    struct bench *b = g_rt->b;
    if (nread == 0)
        return;
    if (nread < 0) {
        rconn_fail(c, nread == UV_EOF ? "closed by the server" : uv_strerror((int)nread));
        return;
    }
    b->bytes_in += (uint64_t)nread;
    const char *p = data, *end = data + nread;
    if (c->in_len) { /* a value was split: parse from the saved input */
        if (c->in_len + (size_t)nread > c->in_cap) {
            c->in_cap = (c->in_len + (size_t)nread) * 2;
            c->in = realloc(c->in, c->in_cap);
        }
        memcpy(c->in + c->in_len, data, (size_t)nread);
        c->in_len += (size_t)nread;
        p = c->in;
        end = c->in + c->in_len;
    }
    while (p < end && c->state != RC_CLOSED) {
        struct rstr v[3];
        int nv = 0;
        const char *next = resp_skip(p, end, 0, v, &nv);
        if (!next)
            break;
        if (next == (const char *)1) {
            b->protocol_errors++;
            rconn_fail(c, "not RESP");
            return;
        }
        on_value(c, *p, v, nv);
        p = next;
    }
    if (c->state == RC_CLOSED)
        return;
    size_t left = (size_t)(end - p);
    if (left && p != c->in) {
        if (left > c->in_cap) {
            c->in_cap = left * 2;
            free(c->in);
            c->in = malloc(c->in_cap);
        }
        memmove(c->in, p, left);
    } else if (left) {
        memmove(c->in, p, left);
    }
    c->in_len = left;
}

static void read_cb(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    rconn_input(st->data, nread, buf->base);
}

static struct rconn *rconn_of(struct bench_lazy_conn *lc)
{
    return (struct rconn *)((char *)lc - offsetof(struct rconn, lz));
}

static void lazy_input(struct bench_lazy_conn *lc, ssize_t n, const char *data)
{
    rconn_input(rconn_of(lc), n, data);
}

static int lazy_outstanding(struct bench_lazy_conn *lc)
{
    return (int)rconn_of(lc)->pubs_out;
}

static const struct bench_lazy_ops lazy_ops = {.input = lazy_input,
                                               .outstanding = lazy_outstanding};

static void on_connect(uv_connect_t *req, int status)
{
    struct rconn *c = req->data;
    if (status < 0) {
        rconn_fail(c, uv_strerror(status));
        return;
    }
    if (c->h.handle.type == UV_TCP)
        uv_tcp_nodelay(&c->h.tcp, 1);
    c->state = RC_SETUP;
    uv_read_start(&c->h.stream, alloc_cb, read_cb);
    char cmd[256];
    size_t len = 0;
    if (c->subscribes) {
        if (c->role != RR_KIOSK) { /* RESP3: may PUBLISH while subscribed */
            len += (size_t)sprintf(cmd + len, "*2\r\n");
            append_bulk(cmd, &len, "HELLO", 5);
            append_bulk(cmd, &len, "3", 1);
            c->replies_wanted++;
        }
        len += (size_t)sprintf(cmd + len, "*2\r\n");
        append_bulk(cmd, &len, "SUBSCRIBE", 9);
        append_bulk(cmd, &len, c->s->channel, strlen(c->s->channel));
        c->replies_wanted++;
    } else {
        len += (size_t)sprintf(cmd + len, "*1\r\n");
        append_bulk(cmd, &len, "PING", 4);
        c->replies_wanted++;
    }
    rconn_write(c, cmd, len);
}

static void rconn_start(struct rconn *c)
{
    struct bench *b = g_rt->b;
    int rc;
    c->creq.data = c;
    c->state = RC_CONNECTING;
    c->t_connect_ns = bench_now();
    b->conns_pending++;
    g_rt->open_handles++;
    c->handle_open = true;
    if (b->o.socket_path) {
        uv_pipe_init(b->loop, &c->h.pipe, 0);
        c->h.handle.data = c;
        uv_pipe_connect(&c->creq, &c->h.pipe, b->o.socket_path, on_connect);
        rc = 0;
    } else {
        uv_tcp_init(b->loop, &c->h.tcp);
        c->h.handle.data = c;
        rc = uv_tcp_connect(&c->creq, &c->h.tcp, (const struct sockaddr *)&b->addr, on_connect);
    }
    if (rc < 0)
        rconn_fail(c, uv_strerror(rc));
}

static void start_more(void)
{
    struct bench *b = g_rt->b;
    while (g_rt->next_start < g_rt->n_all && b->conns_pending < b->o.connect_concurrency &&
           b->phase == PH_SETUP)
        rconn_start(g_rt->all[g_rt->next_start++]);
}

static void rpublish(struct rconn *c)
{
    struct bench *b = g_rt->b;
    char payload[64], cmd[160];
    size_t len = 0;
    int n = snprintf(payload, sizeof(payload), "%d:%d:%llu", c->s->idx, c->idx + 1,
                     (unsigned long long)bench_now());
    len += (size_t)sprintf(cmd, "*3\r\n");
    append_bulk(cmd, &len, "PUBLISH", 7);
    append_bulk(cmd, &len, c->s->channel, strlen(c->s->channel));
    append_bulk(cmd, &len, payload, (size_t)n);
    c->pubs_out++;
    c->s->published++;
    b->sent++;
    if (c->pubs_out > b->max_outstanding)
        b->max_outstanding = c->pubs_out;
    rconn_write(c, cmd, len);
    bench_lazy_expect(&g_rt->lazy, &c->lz);
}

/* ---- operations -------------------------------------------------------------- */

static int redis_setup(struct bench *b)
{
    struct redis_target *t = calloc(1, sizeof(*t));
    if (!t)
        return -1;
    g_rt = t;
    b->t = t;
    t->b = b;
    t->n_sess = b->o.sessions;
    int per = b->o.participants + 2;
    t->sess = calloc((size_t)t->n_sess, sizeof(*t->sess));
    t->n_rr = (size_t)t->n_sess * (size_t)b->o.participants;
    t->rr = calloc(t->n_rr, sizeof(*t->rr));
    t->n_all = (size_t)t->n_sess * (size_t)per;
    t->all = calloc(t->n_all, sizeof(*t->all));
    if (!t->sess || !t->rr || !t->all)
        return -1;
    size_t a = 0;
    for (int i = 0; i < t->n_sess; i++) {
        struct rsess *s = &t->sess[i];
        s->idx = i;
        snprintf(s->channel, sizeof(s->channel), "lwk-bench:%d", i + 1);
        s->n_conns = per;
        s->conns = calloc((size_t)per, sizeof(*s->conns));
        if (!s->conns)
            return -1;
        for (int k = 0; k < per; k++) {
            struct rconn *c = &s->conns[k];
            c->s = s;
            c->role = k == 0 ? RR_FAC : k == 1 ? RR_KIOSK : RR_PART;
            c->idx = k - 2;
            c->subscribes = c->role == RR_KIOSK || b->o.redis_all;
            t->all[a++] = c;
            if (k >= 2)
                t->rr[(size_t)(k - 2) * (size_t)t->n_sess + (size_t)i] = c;
        }
    }
    b->conns_wanted = (int)t->n_all;
    start_more();
    return 0;
}

/* Participants and facilitators leave the loop's reading; kiosks stay (bench.h). */
static void lazy_start(struct redis_target *t)
{
    struct bench *b = t->b;
    if (b->o.participant_read_ms <= 0)
        return;
    bench_lazy_init(&t->lazy, b->loop, &lazy_ops, b->o.participant_read_ms, BENCH_LAZY_SWEEP_MS);
    t->lazy_on = true;
    t->open_handles++;
    for (size_t i = 0; i < t->n_all; i++) {
        struct rconn *c = t->all[i];
        if (c->role != RR_KIOSK && c->state == RC_READY && c->handle_open)
            bench_lazy_add(&t->lazy, &c->lz, &c->h.stream);
    }
}

static void redis_start_load(struct bench *b)
{
    lazy_start(g_rt);
    if (!b->o.closed)
        return;
    for (size_t i = 0; i < g_rt->n_rr; i++) {
        struct rconn *c = g_rt->rr[i];
        while (c->state == RC_READY && c->pubs_out < b->o.inflight)
            rpublish(c);
    }
}

static bool redis_submit(struct bench *b, uint64_t t_intended)
{
    (void)b;
    (void)t_intended;
    struct redis_target *t = g_rt;
    for (size_t n = 0; n < t->n_rr; n++) {
        struct rconn *c = t->rr[t->rr_next];
        t->rr_next = (t->rr_next + 1) % t->n_rr;
        if (c->state == RC_READY) {
            rpublish(c);
            return true;
        }
    }
    return false;
}

static void redis_stop_load(struct bench *b)
{
    (void)b;
    bench_lazy_read_all(&g_rt->lazy);
}

static bool redis_drained(struct bench *b)
{
    (void)b;
    for (int i = 0; i < g_rt->n_sess; i++) {
        struct rsess *s = &g_rt->sess[i];
        if (s->conns[1].state == RC_READY && s->received_by_kiosk < s->published)
            return false;
        for (int k = 2; k < s->n_conns; k++)
            if (s->conns[k].state == RC_READY && s->conns[k].pubs_out)
                return false;
    }
    /* A drop after the load is noticed here, not only when everything closes. */
    bench_lazy_read_all(&g_rt->lazy);
    return true;
}

static void redis_finish(struct bench *b)
{
    for (int i = 0; i < g_rt->n_sess; i++) {
        struct rsess *s = &g_rt->sess[i];
        if (s->received_by_kiosk < s->published)
            b->kiosk_missing += s->published - s->received_by_kiosk;
    }
}

static void lazy_closed(uv_handle_t *h)
{
    (void)h;
    g_rt->open_handles--;
}

static bool redis_finished(struct bench *b)
{
    (void)b;
    for (size_t i = 0; i < g_rt->n_all; i++)
        rconn_close(g_rt->all[i]);
    if (g_rt->lazy_on)
        bench_lazy_close(&g_rt->lazy, lazy_closed);
    return g_rt->open_handles == 0;
}

static void redis_tick(struct bench *b, uint64_t now_ms)
{
    (void)b;
    (void)now_ms;
}

const struct bench_target_ops bench_redis_ops = {
    .name = "redis",
    .setup = redis_setup,
    .start_load = redis_start_load,
    .submit = redis_submit,
    .stop_load = redis_stop_load,
    .drained = redis_drained,
    .finish = redis_finish,
    .finished = redis_finished,
    .tick = redis_tick,
};
