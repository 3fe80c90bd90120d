/*
 * lwkc.c: the shared client connection (see lwkc.h).
 */
#include "lwkc.h"
#include "frame.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BACKOFF_MIN_MS 200
#define BACKOFF_MAX_MS 5000
#define PING_MS 15000

struct lwkc {
    uv_loop_t *loop;
    struct lwkc_opts opts;
    char *host, *socket_path, *token, *code, *name, *resume; /* owned copies */
    struct lwkc_handlers h;
    union {
        uv_handle_t handle;
        uv_stream_t stream;
        uv_tcp_t tcp;
        uv_pipe_t pipe;
    } *sock; /* NULL when not connected */
    uv_connect_t connect_req;
    uv_timer_t timer; /* reconnect backoff and keep-alive pings */
    struct proto_framer framer;
    enum lwkc_state state;
    int backoff_ms;
    int64_t next_id;
    uint64_t last_seq;
    uint64_t down_since;
    int pid;
    bool freeing, gave_up, welcomed;
};

static void lwkc_connect(struct lwkc *c);

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

struct lwkc *lwkc_new(uv_loop_t *loop, const struct lwkc_opts *opts, struct lwkc_handlers h)
{
    struct lwkc *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->loop = loop;
    c->opts = *opts;
    c->host = strdup(opts->host ? opts->host : "127.0.0.1");
    c->socket_path = dup_or_null(opts->socket_path);
    c->token = dup_or_null(opts->token);
    c->code = dup_or_null(opts->code);
    c->name = dup_or_null(opts->name);
    c->resume = dup_or_null(opts->resume);
    if (!c->opts.port)
        c->opts.port = LWK_DEFAULT_PORT;
    c->h = h;
    c->backoff_ms = BACKOFF_MIN_MS;
    uv_timer_init(loop, &c->timer);
    c->timer.data = c;
    return c;
}

enum lwkc_state lwkc_state(const struct lwkc *c)
{
    return c->state;
}

const char *lwkc_resume_token(const struct lwkc *c)
{
    return c->resume;
}

int lwkc_pid(const struct lwkc *c)
{
    return c->pid;
}

uint64_t lwkc_last_seq(const struct lwkc *c)
{
    return c->last_seq;
}

uint64_t lwkc_down_ms(const struct lwkc *c)
{
    return c->down_since ? uv_now(c->loop) - c->down_since : 0;
}

static void set_state(struct lwkc *c, enum lwkc_state st, int err, const char *why)
{
    c->state = st;
    if (st == LWKC_READY)
        c->down_since = 0;
    else if (!c->down_since)
        c->down_since = uv_now(c->loop);
    if (c->h.on_state)
        c->h.on_state(c->h.ctx, c, st, err, why);
}

static void sock_closed(uv_handle_t *hd)
{
    free(hd);
}

static void timer_cb(uv_timer_t *t);

/* Drops the socket; reconnects later when allowed. */
static void lost(struct lwkc *c, int err, const char *why)
{
    if (c->sock) {
        uv_close(&c->sock->handle, sock_closed);
        c->sock = NULL;
    }
    proto_framer_free(&c->framer);
    c->welcomed = false;
    if (c->freeing)
        return;
    if (c->opts.reconnect && !c->gave_up) {
        set_state(c, LWKC_DISCONNECTED, err, why);
        uv_timer_start(&c->timer, timer_cb, (uint64_t)c->backoff_ms, 0);
        c->backoff_ms = c->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : c->backoff_ms * 2;
    } else {
        uv_timer_stop(&c->timer);
        set_state(c, LWKC_FAILED, err, why);
    }
}

static void write_done(uv_write_t *req, int status)
{
    free(req->data);
    free(req);
}

static int send_msg(struct lwkc *c, const struct proto_msg *m)
{
    if (!c->sock)
        return PROTO_ERR_DB_UNAVAILABLE;
    uint8_t *buf;
    size_t len;
    int rc = proto_encode_frame(m, &buf, &len);
    if (rc < 0)
        return rc;
    uv_write_t *w = malloc(sizeof(*w));
    if (!w) {
        free(buf);
        return PROTO_ERR_INTERNAL;
    }
    w->data = buf;
    uv_buf_t b = uv_buf_init((char *)buf, (unsigned)len);
    if (uv_write(w, &c->sock->stream, &b, 1, write_done) != 0) {
        free(buf);
        free(w);
        return PROTO_ERR_INTERNAL;
    }
    return 0;
}

int64_t lwkc_send(struct lwkc *c, struct proto_msg *req)
{
    if (c->state != LWKC_READY)
        return PROTO_ERR_DB_UNAVAILABLE;
    int64_t id = ++c->next_id;
    proto_set_int(req, PK_ID, id);
    int rc = send_msg(c, req);
    return rc < 0 ? rc : id;
}

static void handle_msg(struct lwkc *c, const struct proto_msg *m)
{
    if (proto_type_dir(m->type) == PD_EVENT) {
        uint64_t seq = (uint64_t)proto_int(m, PK_SEQ, 0);
        if (seq > c->last_seq)
            c->last_seq = seq;
    } else if (m->type == PT_SNAPSHOT) {
        uint64_t seq = (uint64_t)proto_int(m, PK_SEQ, 0);
        if (seq > c->last_seq || !proto_has(m, PK_SINCE))
            c->last_seq = seq;
    } else if (m->type == PT_WELCOME) {
        c->welcomed = true;
        c->backoff_ms = BACKOFF_MIN_MS;
        if (proto_has(m, PK_RESUME)) {
            free(c->resume);
            c->resume = strdup(proto_str(m, PK_RESUME));
        }
        if (proto_has(m, PK_PID))
            c->pid = (int)proto_int(m, PK_PID, 0);
        set_state(c, LWKC_READY, 0, NULL);
        if (c->opts.session && c->opts.kind == PROTO_KIND_FACILITATOR) {
            struct proto_msg o;
            proto_msg_init(&o, PT_SESSION_OPEN);
            proto_set_int(&o, PK_SESSION, c->opts.session);
            if (c->last_seq)
                proto_set_int(&o, PK_SINCE, (int64_t)c->last_seq);
            lwkc_send(c, &o);
        }
    } else if (m->type == PT_ERROR && !c->welcomed) {
        /* Refused at the door: retrying the same credentials will not help,
         * except when only the resume token was stale. */
        int code = -(int)proto_int(m, PK_ERR, 500);
        if (code == PROTO_ERR_BAD_CREDENTIALS || code == PROTO_ERR_VERSION ||
            code == PROTO_ERR_NAME_TAKEN || code == PROTO_ERR_NOT_FOUND ||
            code == PROTO_ERR_RATE_LIMITED || code == PROTO_ERR_CLOSED)
            c->gave_up = true;
    } else if (m->type == PT_BYE) {
        int code = -(int)proto_int(m, PK_ERR, 500);
        if (code != PROTO_ERR_SHUTTING_DOWN && code != PROTO_ERR_TIMEOUT &&
            code != PROTO_ERR_QUEUE_OVERFLOW)
            c->gave_up = true;
    }
    if (c->h.on_msg)
        c->h.on_msg(c->h.ctx, c, m);
}

static void alloc_cb(uv_handle_t *hd, size_t suggested, uv_buf_t *buf)
{
    static char rbuf[65536];
    *buf = uv_buf_init(rbuf, sizeof(rbuf));
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct lwkc *c = s->data;
    if (nread == 0)
        return;
    if (nread < 0) {
        lost(c, 0, nread == UV_EOF ? "connection closed by server" : uv_strerror((int)nread));
        return;
    }
    int rc = proto_framer_feed(&c->framer, (const uint8_t *)buf->base, (size_t)nread);
    for (;;) {
        const uint8_t *body;
        uint32_t len;
        if (rc == 0)
            rc = proto_framer_next(&c->framer, &body, &len);
        if (rc < 0) {
            lost(c, rc, "bad frame from server");
            return;
        }
        if (rc == 0)
            return;
        rc = 0;
        struct proto_msg *m;
        struct proto_error err;
        if (proto_decode(body, len, true, &m, &err) < 0)
            continue; /* a message we do not understand; the stream is fine */
        struct proto_msg *keep = m;
        handle_msg(c, keep);
        proto_msg_free(keep);
        if (!c->sock || c->sock->stream.data != c)
            return;
    }
}

static void send_hello(struct lwkc *c)
{
    struct proto_msg m;
    proto_msg_init(&m, PT_HELLO);
    proto_set_int(&m, PK_PROTO, PROTO_VERSION);
    proto_set_int(&m, PK_KIND, c->opts.kind);
    if (c->token)
        proto_set_str(&m, PK_TOKEN, c->token);
    if (c->resume && c->opts.kind == PROTO_KIND_PARTICIPANT) {
        proto_set_str(&m, PK_RESUME, c->resume);
    } else {
        if (c->code)
            proto_set_str(&m, PK_CODE, c->code);
        if (c->name)
            proto_set_str(&m, PK_NAME, c->name);
    }
    if (c->last_seq && c->opts.kind != PROTO_KIND_FACILITATOR)
        proto_set_int(&m, PK_SINCE, (int64_t)c->last_seq);
    proto_set_int(&m, PK_ID, ++c->next_id);
    send_msg(c, &m);
}

static void on_connect(uv_connect_t *req, int status)
{
    struct lwkc *c = req->data;
    if (c->freeing)
        return;
    if (status < 0) {
        lost(c, 0, uv_strerror(status));
        return;
    }
    if (!c->opts.socket_path)
        uv_tcp_nodelay(&c->sock->tcp, 1);
    proto_framer_init(&c->framer, PROTO_CLIENT_MAX_FRAME);
    c->sock->stream.data = c;
    uv_read_start(&c->sock->stream, alloc_cb, read_cb);
    send_hello(c);
    uv_timer_start(&c->timer, timer_cb, PING_MS, PING_MS);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct lwkc *c = req->data;
    free(req);
    if (c->freeing) {
        if (res)
            uv_freeaddrinfo(res);
        return;
    }
    if (status < 0 || !res) {
        c->sock = NULL;
        lost(c, 0, uv_strerror(status));
        return;
    }
    c->sock = malloc(sizeof(*c->sock));
    uv_tcp_init(c->loop, &c->sock->tcp);
    c->sock->handle.data = c;
    c->connect_req.data = c;
    if (uv_tcp_connect(&c->connect_req, &c->sock->tcp, res->ai_addr, on_connect) != 0)
        lost(c, 0, "connect failed");
    uv_freeaddrinfo(res);
}

static void lwkc_connect(struct lwkc *c)
{
    set_state(c, LWKC_CONNECTING, 0, NULL);
    if (c->opts.socket_path) {
        c->sock = malloc(sizeof(*c->sock));
        uv_pipe_init(c->loop, &c->sock->pipe, 0);
        c->sock->handle.data = c;
        c->connect_req.data = c;
        uv_pipe_connect(&c->connect_req, &c->sock->pipe, c->socket_path, on_connect);
        return;
    }
    uv_getaddrinfo_t *req = malloc(sizeof(*req));
    req->data = c;
    char port[16];
    snprintf(port, sizeof(port), "%d", c->opts.port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    if (uv_getaddrinfo(c->loop, req, on_resolved, c->host, port, &hints) != 0) {
        free(req);
        lost(c, 0, "cannot resolve host");
    }
}

static void timer_cb(uv_timer_t *t)
{
    struct lwkc *c = t->data;
    if (!c->sock) {
        lwkc_connect(c);
        return;
    }
    if (c->state == LWKC_READY) {
        struct proto_msg p;
        proto_msg_init(&p, PT_PING);
        lwkc_send(c, &p);
    }
}

int lwkc_start(struct lwkc *c)
{
    lwkc_connect(c);
    return 0;
}

static void timer_closed(uv_handle_t *hd)
{
    struct lwkc *c = hd->data;
    free(c->host);
    free(c->socket_path);
    free(c->token);
    free(c->code);
    free(c->name);
    free(c->resume);
    free(c);
}

void lwkc_free(struct lwkc *c)
{
    if (!c)
        return;
    c->freeing = true;
    if (c->sock) {
        uv_close(&c->sock->handle, sock_closed);
        c->sock = NULL;
    }
    proto_framer_free(&c->framer);
    uv_close((uv_handle_t *)&c->timer, timer_closed);
}

static void trim(char *s)
{
    char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
        *--e = '\0';
}

void lwkc_opts_from_env(struct lwkc_opts *o)
{
    const char *v;
    if (!o->host && (v = getenv("LWK_HOST")) && v[0])
        o->host = v;
    if (!o->port && (v = getenv("LWK_PORT")) && v[0])
        o->port = atoi(v);
    if (!o->socket_path && !o->host && (v = getenv("LWK_SOCKET")) && v[0])
        o->socket_path = v;
    if (!o->token && (v = getenv("LWK_TOKEN")) && v[0])
        o->token = v;

    char path[512];
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    if (xdg && xdg[0])
        snprintf(path, sizeof(path), "%s/lwk/config", xdg);
    else if (home)
        snprintf(path, sizeof(path), "%s/.config/lwk/config", home);
    else
        return;
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    /* The values live as long as the process: a CLI reads them once. */
    static char store[4][256];
    char line[512];
    while (fgets(line, sizeof(line), f)) {
        char *eq = strchr(line, '=');
        if (line[0] == '#' || !eq)
            continue;
        *eq = '\0';
        char *key = line, *val = eq + 1;
        trim(key);
        while (*key == ' ' || *key == '\t')
            key++;
        while (*val == ' ' || *val == '\t')
            val++;
        trim(val);
        if (!strcmp(key, "host") && !o->host && !o->socket_path) {
            snprintf(store[0], sizeof(store[0]), "%s", val);
            o->host = store[0];
        } else if (!strcmp(key, "port") && !o->port) {
            o->port = atoi(val);
        } else if (!strcmp(key, "socket") && !o->socket_path && !o->host) {
            snprintf(store[2], sizeof(store[2]), "%s", val);
            o->socket_path = store[2];
        } else if (!strcmp(key, "token") && !o->token) {
            snprintf(store[3], sizeof(store[3]), "%s", val);
            o->token = store[3];
        }
    }
    fclose(f);
}
