/*
 * server.c: the transport. Listeners (TCP, Unix socket, or sockets handed
 * over by systemd), connections, framing of input, and bounded output
 * queues. Knows nothing of sessions beyond the member lists it keeps for
 * broadcasting; requests go to dispatch.c.
 *
 * A connection's memory is released only in its uv_close callback. A client
 * whose queued output would pass client_queue_bytes is cut off at once
 * (its queue is what it failed to read, so a goodbye could not reach it).
 */
#include "lwkd.h"
#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#define CLOSING_GRACE_MS 3000
#define OBSERVER_WAIT_MS 300000 /* an observer waits this long for consent */
#define MAX_BAD_FRAMES 8

struct wreq {
    uv_write_t req;
    struct engine_frame *f;
    uint32_t len;  /* bytes this request writes */
    bool snapshot; /* counted in snapshot_bytes, not against the limit */
};

static char read_buf[65536]; /* one loop, one reader at a time */

/* Snapshots queued beyond client_queue_bytes, all clients together: what a
 * crowd asking for whole sessions and reading nothing can make lwkd hold. */
#define SNAPSHOT_BYTES_ALL ((size_t)256 << 20)
static size_t snapshot_bytes_all;

/*
 * Output is gathered during a loop turn and written once per connection at
 * its end (uv_check, and uv_prepare for what timers sent), as Redis does: the
 * frames a member gets in one turn (its event and its reply; under load,
 * several events of its session) leave in one writev, not one write each. A
 * write is most of what a frame costs (docs/bench.md); the busier the loop,
 * the more each write carries. Snapshots, closing and the final shutdown
 * flush first and write at once, so the order per connection never changes.
 */
struct gathered {
    struct conn *c;
    struct engine_frame *f; /* one reference */
    size_t order;
};
static struct gathered *gath;
static size_t n_gath, cap_gath;
static uv_prepare_t gath_prepare;
static uv_check_t gath_check;
static bool gath_on, gath_init;

static void queue_frame(struct conn *c, struct engine_frame *f, size_t off, bool snapshot);
static void conn_destroy(struct conn *c);

static int gathered_cmp(const void *a, const void *b)
{
    const struct gathered *x = a, *y = b;
    if (x->c != y->c)
        return (uintptr_t)x->c < (uintptr_t)y->c ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* The n frames gathered for c, in order: one try at writing them all, the
 * rest into the bounded write queue. */
static void write_gathered(struct conn *c, const struct gathered *g, size_t n)
{
    size_t k = 0, off = 0;
    if (c->queued_bytes == 0 && n > 0) {
        uv_buf_t b[64];
        size_t m = n < 64 ? n : 64;
        for (size_t i = 0; i < m; i++)
            b[i] = uv_buf_init((char *)g[i].f->data, g[i].f->len);
        int w = uv_try_write(&c->h.stream, b, (unsigned)m);
        if (w < 0 && w != UV_EAGAIN && w != UV_ENOSYS) {
            conn_destroy(c);
            return;
        }
        size_t done = w > 0 ? (size_t)w : 0;
        while (k < m && done >= g[k].f->len)
            done -= g[k++].f->len;
        off = done;
    }
    for (; k < n && !uv_is_closing(&c->h.handle); k++, off = 0)
        queue_frame(c, g[k].f, off, false);
}

static void gathered_flush(void)
{
    if (!n_gath)
        return;
    /* Taken out first: nothing here sends, but a send would then append
     * to a fresh list rather than to the one being walked. */
    struct gathered *g = gath;
    size_t n = n_gath, cap = cap_gath;
    gath = NULL;
    n_gath = cap_gath = 0;
    qsort(g, n, sizeof(*g), gathered_cmp);
    for (size_t i = 0, j; i < n; i = j) {
        for (j = i + 1; j < n && g[j].c == g[i].c; j++)
            ;
        if (!uv_is_closing(&g[i].c->h.handle))
            write_gathered(g[i].c, g + i, j - i);
    }
    for (size_t i = 0; i < n; i++)
        engine_frame_unref(g[i].f);
    if (!gath) {
        gath = g;
        cap_gath = cap;
    } else {
        free(g);
    }
}

static void gathered_prepare_cb(uv_prepare_t *h)
{
    gathered_flush();
}

static void gathered_check_cb(uv_check_t *h)
{
    gathered_flush();
}

/* Gathers f for c; false when it has to be written at once instead. */
static bool gather(struct conn *c, struct engine_frame *f)
{
    if (!gath_init) {
        gath_init = true;
        uv_prepare_init(c->d->loop, &gath_prepare);
        uv_check_init(c->d->loop, &gath_check);
        uv_prepare_start(&gath_prepare, gathered_prepare_cb);
        uv_check_start(&gath_check, gathered_check_cb);
        /* They never keep the loop alive on their own. */
        uv_unref((uv_handle_t *)&gath_prepare);
        uv_unref((uv_handle_t *)&gath_check);
        gath_on = true;
    }
    if (!gath_on)
        return false;
    if (n_gath == cap_gath) {
        size_t cap = cap_gath ? cap_gath * 2 : 1024;
        struct gathered *g = realloc(gath, cap * sizeof(*g));
        if (!g)
            return false;
        gath = g;
        cap_gath = cap;
    }
    engine_frame_ref(f);
    gath[n_gath] = (struct gathered){c, f, n_gath};
    n_gath++;
    return true;
}

static void on_closed(uv_handle_t *h)
{
    struct conn *c = h->data;
    struct lwkd *d = c->d;
    /* A destroyed connection leaves its session only now: it may have been
     * cut off in the middle of a fan-out, and the presence event its leaving
     * causes must not overtake the event being fanned out. */
    dispatch_conn_closed(c);
    conn_leave_session(c);
    if (c->prev)
        c->prev->next = c->next;
    else
        d->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    d->nconns--;
    proto_framer_free(&c->framer);
    free(c->facilitator);
    free(c->observer_name);
    free(c);
}

/* Closes now, whatever is queued (pending writes are cancelled). Until
 * on_closed it stays a member of its session, one that is sent nothing. */
static void conn_destroy(struct conn *c)
{
    if (uv_is_closing(&c->h.handle))
        return;
    if (c->state != CONN_HANDSHAKE && c->kind <= PROTO_KIND_MONITOR)
        c->d->nconns_by_kind[c->kind]--;
    c->state = CONN_CLOSING;
    uv_close(&c->h.handle, on_closed);
}

static void write_done(uv_write_t *req, int status)
{
    struct wreq *w = (struct wreq *)req;
    struct conn *c = req->data;
    c->queued_bytes -= w->len;
    if (w->snapshot) {
        c->snapshot_bytes -= w->len;
        snapshot_bytes_all -= w->len;
    }
    engine_frame_unref(w->f);
    free(w);
    if (uv_is_closing(&c->h.handle))
        return;
    if (status < 0) {
        conn_destroy(c);
        return;
    }
    if (c->state == CONN_CLOSING && c->queued_bytes == 0)
        conn_destroy(c);
}

/*
 * A snapshot is what a client asked for to catch up, as long as the session
 * itself (up to PROTO_CLIENT_MAX_FRAME): one at a time per client (within
 * SNAPSHOT_BYTES_ALL) may be queued beyond client_queue_bytes, which bounds
 * what piles up behind it.
 */
static void send_frame(struct conn *c, struct engine_frame *f, bool snapshot)
{
    if (uv_is_closing(&c->h.handle))
        return;
    c->d->stats.frames_out++;
    if (!snapshot && gather(c, f))
        return;
    gathered_flush(); /* what was gathered goes first */
    if (uv_is_closing(&c->h.handle))
        return;
    size_t off = 0;
    if (c->queued_bytes == 0) {
        uv_buf_t b = uv_buf_init((char *)f->data, (unsigned)f->len);
        int n = uv_try_write(&c->h.stream, &b, 1);
        if (n > 0) {
            off = (size_t)n;
        } else if (n != UV_EAGAIN && n != UV_ENOSYS) {
            conn_destroy(c);
            return;
        }
        if (off == f->len)
            return;
    }
    queue_frame(c, f, off, snapshot);
}

/* Queues f from byte off on: the bounded part of a connection's output. */
static void queue_frame(struct conn *c, struct engine_frame *f, size_t off, bool snapshot)
{
    const uint8_t *p = f->data + off;
    size_t left = f->len - off;
    snapshot = snapshot && c->snapshot_bytes == 0;
    if (!snapshot &&
        c->queued_bytes - c->snapshot_bytes + left > (size_t)c->d->cfg.client_queue_bytes) {
        c->d->stats.dropped_slow++;
        log_event(LOG_WARN, "client_dropped", "conn=%llu kind=%s limit=client_queue_bytes value=%d",
                  (unsigned long long)c->id, proto_enum_name(PK_KIND, c->kind),
                  c->d->cfg.client_queue_bytes);
        conn_destroy(c);
        return;
    }
    struct wreq *w = malloc(sizeof(*w));
    if (!w) {
        conn_destroy(c);
        return;
    }
    engine_frame_ref(f);
    w->f = f;
    w->len = (uint32_t)left;
    w->snapshot = snapshot;
    w->req.data = c;
    uv_buf_t b = uv_buf_init((char *)p, (unsigned)left);
    if (uv_write(&w->req, &c->h.stream, &b, 1, write_done) != 0) {
        engine_frame_unref(f);
        free(w);
        conn_destroy(c);
        return;
    }
    c->queued_bytes += left;
    if (snapshot)
        c->snapshot_bytes += left;
}

void conn_send_frame(struct conn *c, struct engine_frame *f)
{
    if (c->state == CONN_CLOSING)
        return;
    send_frame(c, f, false);
}

void conn_send_snapshot(struct conn *c, struct engine_frame *f)
{
    if (c->state == CONN_CLOSING)
        return;
    send_frame(c, f, true);
}

void conn_send_msg(struct conn *c, const struct proto_msg *m)
{
    uint8_t *buf;
    size_t len;
    int rc = proto_encode_frame(m, &buf, &len);
    if (rc < 0) {
        log_event(LOG_ERROR, "encode_failed", "type=%s code=%d", proto_type_name(m->type), -rc);
        return;
    }
    struct engine_frame *f = engine_frame_new(buf, len);
    free(buf);
    if (!f)
        return;
    conn_send_frame(c, f);
    engine_frame_unref(f);
}

void conn_send_error(struct conn *c, int64_t id, int code, const char *detail)
{
    struct proto_msg m;
    proto_msg_init(&m, PT_ERROR);
    if (id >= 0)
        proto_set_int(&m, PK_ID, id);
    proto_set_int(&m, PK_ERR, code < 0 ? -code : code);
    char text[256];
    snprintf(text, sizeof(text), "%s%s%s", proto_err_text(code), detail && detail[0] ? ": " : "",
             detail ? detail : "");
    proto_set_str(&m, PK_MSG, text);
    conn_send_msg(c, &m);
}

void conn_close(struct conn *c, int err, const char *why)
{
    if (c->state == CONN_CLOSING || uv_is_closing(&c->h.handle))
        return;
    uv_read_stop(&c->h.stream);
    if (err) {
        struct proto_msg m;
        proto_msg_init(&m, PT_BYE);
        proto_set_int(&m, PK_ERR, err < 0 ? -err : err);
        proto_set_str(&m, PK_MSG, why && why[0] ? why : proto_err_text(err));
        conn_send_msg(c, &m);
    }
    if (c->state != CONN_HANDSHAKE && c->kind <= PROTO_KIND_MONITOR)
        c->d->nconns_by_kind[c->kind]--;
    c->state = CONN_CLOSING;
    c->last_rx_ms = uv_now(c->d->loop); /* start of the grace period */
    dispatch_conn_closed(c);
    conn_leave_session(c);
    gathered_flush(); /* the error or bye just sent goes before the close */
    if (c->queued_bytes == 0 && !uv_is_closing(&c->h.handle))
        uv_close(&c->h.handle, on_closed);
}

struct conn *conn_find(struct lwkd *d, uint64_t id)
{
    for (struct conn *c = d->conns; c; c = c->next)
        if (c->id == id && c->state == CONN_READY)
            return c;
    return NULL;
}

void conn_join_session(struct conn *c, struct session *s)
{
    conn_leave_session(c);
    c->session = s;
    struct conn *head = session_userdata(s);
    c->mprev = NULL;
    c->mnext = head;
    if (head)
        head->mprev = c;
    session_set_userdata(s, c);
}

void conn_leave_session(struct conn *c)
{
    struct session *s = c->session;
    if (!s)
        return;
    if (c->mprev)
        c->mprev->mnext = c->mnext;
    else
        session_set_userdata(s, c->mnext);
    if (c->mnext)
        c->mnext->mprev = c->mprev;
    c->mprev = c->mnext = NULL;
    c->session = NULL;
}

struct conn *session_members(struct session *s)
{
    return session_userdata(s);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    *buf = uv_buf_init(read_buf, sizeof(read_buf));
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct conn *c = s->data;
    if (nread == 0)
        return;
    if (nread < 0) {
        conn_destroy(c);
        return;
    }
    if (c->state == CONN_CLOSING)
        return;
    c->last_rx_ms = uv_now(c->d->loop);
    int rc = proto_framer_feed(&c->framer, (const uint8_t *)buf->base, (size_t)nread);
    for (;;) {
        const uint8_t *body;
        uint32_t len;
        if (rc == 0)
            rc = proto_framer_next(&c->framer, &body, &len);
        if (rc < 0) {
            /* The length prefix is broken: the stream can't be trusted. */
            c->d->stats.rejected++;
            log_event(LOG_WARN, "client_bad_frame", "conn=%llu code=%d", (unsigned long long)c->id,
                      -rc);
            conn_send_error(c, -1, rc,
                            rc == PROTO_ERR_TOO_LARGE ? "frame exceeds max_frame_bytes" : "");
            conn_close(c, 0, NULL);
            return;
        }
        if (rc == 0)
            return;
        rc = 0;
        c->d->stats.frames_in++;
        dispatch_frame(c, body, len);
        if (c->state == CONN_CLOSING)
            return;
    }
}

static uint32_t peer_hash_of(uv_tcp_t *t)
{
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    if (uv_tcp_getpeername(t, (struct sockaddr *)&ss, &len) != 0)
        return 0;
    const uint8_t *p;
    size_t n;
    if (ss.ss_family == AF_INET) {
        p = (const uint8_t *)&((struct sockaddr_in *)&ss)->sin_addr;
        n = 4;
    } else {
        p = (const uint8_t *)&((struct sockaddr_in6 *)&ss)->sin6_addr;
        n = 16;
    }
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static void on_connection(uv_stream_t *server, int status)
{
    struct lwkd *d = server->data;
    if (status < 0) {
        log_event(LOG_WARN, "accept_failed", "error=%s", uv_strerror(status));
        return;
    }
    struct conn *c = calloc(1, sizeof(*c));
    if (!c)
        return;
    c->d = d;
    c->is_unix = server->type == UV_NAMED_PIPE;
    if (c->is_unix)
        uv_pipe_init(d->loop, &c->h.pipe, 0);
    else
        uv_tcp_init(d->loop, &c->h.tcp);
    c->h.handle.data = c;
    c->id = ++d->next_conn_id;
    c->connected_ms = c->last_rx_ms = c->tokens_ms = uv_now(d->loop);
    c->tokens = d->cfg.rate_limit_burst;
    proto_framer_init(&c->framer, (uint32_t)d->cfg.max_frame_bytes);
    c->next = d->conns;
    if (d->conns)
        d->conns->prev = c;
    d->conns = c;
    d->nconns++;
    if (uv_accept(server, &c->h.stream) != 0) {
        uv_close(&c->h.handle, on_closed);
        return;
    }
    if (!c->is_unix) {
        uv_tcp_nodelay(&c->h.tcp, 1);
        c->peer_hash = peer_hash_of(&c->h.tcp);
    }
    if (d->draining) {
        conn_close(c, PROTO_ERR_SHUTTING_DOWN, NULL);
        return;
    }
    /* Keep our own cap below the descriptor limit (libuv drops all on EMFILE). */
    if (d->nconns > d->cfg.max_clients) {
        log_event(LOG_WARN, "client_refused", "limit=max_clients value=%d", d->cfg.max_clients);
        conn_close(c, PROTO_ERR_LIMIT, "too many connections");
        return;
    }
    uv_read_start(&c->h.stream, alloc_cb, read_cb);
}

/* "host:port" or "[v6]:port" (numeric only: no DNS on the loop). */
static int parse_addr(const char *spec, struct sockaddr_storage *ss)
{
    char host[64];
    const char *colon = strrchr(spec, ':');
    if (!colon)
        return -1;
    int port = atoi(colon + 1);
    size_t hl = (size_t)(colon - spec);
    if (spec[0] == '[') {
        if (hl < 2 || spec[hl - 1] != ']' || hl - 2 >= sizeof(host))
            return -1;
        memcpy(host, spec + 1, hl - 2);
        host[hl - 2] = '\0';
        return uv_ip6_addr(host, port, (struct sockaddr_in6 *)ss);
    }
    if (hl >= sizeof(host))
        return -1;
    memcpy(host, spec, hl);
    host[hl] = '\0';
    return uv_ip4_addr(host, port, (struct sockaddr_in *)ss);
}

int server_adopt_fds(struct lwkd *d)
{
    int n = sd_listen_fds(1);
    if (n <= 0)
        return 0;
    for (int i = 0; i < n; i++) {
        int fd = SD_LISTEN_FDS_START + i;
        if (sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) > 0 && !d->unix_on) {
            uv_pipe_init(d->loop, &d->unix_listener, 0);
            d->unix_listener.data = d;
            if (uv_pipe_open(&d->unix_listener, fd) == 0 &&
                uv_listen((uv_stream_t *)&d->unix_listener, 511, on_connection) == 0) {
                d->unix_on = true;
                log_event(LOG_INFO, "listening", "unix=activated fd=%d", fd);
            }
        } else if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) > 0 && !d->tcp_on) {
            uv_tcp_init(d->loop, &d->tcp);
            d->tcp.data = d;
            if (uv_tcp_open(&d->tcp, fd) == 0 &&
                uv_listen((uv_stream_t *)&d->tcp, 511, on_connection) == 0) {
                d->tcp_on = true;
                log_event(LOG_INFO, "listening", "tcp=activated fd=%d", fd);
            }
        } else {
            log_event(LOG_WARN, "activation_fd_ignored", "fd=%d", fd);
        }
    }
    return n;
}

int server_listen(struct lwkd *d)
{
    int rc;
    if (!d->tcp_on && d->cfg.listen_tcp[0]) {
        struct sockaddr_storage ss;
        if (parse_addr(d->cfg.listen_tcp, &ss) != 0) {
            log_event(LOG_ERROR, "listen_failed", "tcp=%s error=\"not a numeric host:port\"",
                      d->cfg.listen_tcp);
            return -1;
        }
        uv_tcp_init(d->loop, &d->tcp);
        d->tcp.data = d;
        if ((rc = uv_tcp_bind(&d->tcp, (struct sockaddr *)&ss, 0)) != 0 ||
            (rc = uv_listen((uv_stream_t *)&d->tcp, 511, on_connection)) != 0) {
            log_event(LOG_ERROR, "listen_failed", "tcp=%s error=\"%s\"", d->cfg.listen_tcp,
                      uv_strerror(rc));
            uv_close((uv_handle_t *)&d->tcp, NULL);
            return -1;
        }
        d->tcp_on = true;
        log_event(LOG_INFO, "listening", "tcp=%s", d->cfg.listen_tcp);
    }
    if (!d->unix_on && d->cfg.listen_unix[0]) {
        const char *path = d->cfg.listen_unix;
        struct stat st;
        /* A socket file left by a previous run would make bind fail. */
        if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode))
            unlink(path);
        uv_pipe_init(d->loop, &d->unix_listener, 0);
        d->unix_listener.data = d;
        if ((rc = uv_pipe_bind(&d->unix_listener, path)) != 0 ||
            (rc = uv_listen((uv_stream_t *)&d->unix_listener, 511, on_connection)) != 0) {
            log_event(LOG_ERROR, "listen_failed", "unix=%s error=\"%s\"", path, uv_strerror(rc));
            uv_close((uv_handle_t *)&d->unix_listener, NULL);
            return -1;
        }
        chmod(path, 0660);
        d->unix_on = true;
        log_event(LOG_INFO, "listening", "unix=%s", path);
    }
    if (!d->tcp_on && !d->unix_on) {
        log_event(LOG_ERROR, "listen_failed", "error=\"no listener configured\"");
        return -1;
    }
    return 0;
}

void server_stop_listening(struct lwkd *d)
{
    if (d->tcp_on && !uv_is_closing((uv_handle_t *)&d->tcp))
        uv_close((uv_handle_t *)&d->tcp, NULL);
    if (d->unix_on && !uv_is_closing((uv_handle_t *)&d->unix_listener)) {
        uv_close((uv_handle_t *)&d->unix_listener, NULL);
    }
}

void server_close_all(struct lwkd *d, int err, const char *msg)
{
    for (struct conn *c = d->conns, *n; c; c = n) {
        n = c->next;
        if (c->state != CONN_CLOSING)
            conn_close(c, err, msg);
        else if (err == 0)
            conn_destroy(c);
    }
    if (err == 0 && gath_init && gath_on) { /* the end: write at once from now on */
        gathered_flush();
        gath_on = false;
        uv_close((uv_handle_t *)&gath_prepare, NULL);
        uv_close((uv_handle_t *)&gath_check, NULL);
        free(gath);
        gath = NULL;
        cap_gath = 0;
    }
}

void server_sweep(struct lwkd *d)
{
    uint64_t now = uv_now(d->loop);
    for (struct conn *c = d->conns, *n; c; c = n) {
        n = c->next;
        if (uv_is_closing(&c->h.handle))
            continue;
        if (c->state == CONN_CLOSING) {
            if (now - c->last_rx_ms > CLOSING_GRACE_MS)
                conn_destroy(c);
        } else if (c->state == CONN_HANDSHAKE && c->waiting_session) {
            if (now - c->waiting_since_ms > OBSERVER_WAIT_MS)
                conn_close(c, PROTO_ERR_TIMEOUT, "not admitted in time");
        } else if (c->state == CONN_HANDSHAKE &&
                   now - c->connected_ms > (uint64_t)d->cfg.handshake_timeout_ms) {
            log_event(LOG_INFO, "client_timeout", "conn=%llu limit=handshake_timeout_ms",
                      (unsigned long long)c->id);
            conn_close(c, PROTO_ERR_TIMEOUT, "no hello in time");
        } else if (now - c->last_rx_ms > (uint64_t)d->cfg.idle_timeout_ms) {
            log_event(LOG_INFO, "client_timeout", "conn=%llu limit=idle_timeout_ms",
                      (unsigned long long)c->id);
            conn_close(c, PROTO_ERR_TIMEOUT, "idle");
        }
    }
}

/* Too many frames that do not decode mean a hostile or broken peer. */
int conn_bad_frame(struct conn *c)
{
    c->d->stats.rejected++;
    return ++c->bad_frames > MAX_BAD_FRAMES;
}
