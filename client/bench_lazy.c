/*
 * bench_lazy.c: lwk-bench's reading in batches (bench.h): participants and
 * facilitators taken out of the loop's epoll set and read by a timer with
 * plain non-blocking reads, so that 12,000 simulated phones do not cost the
 * bench more than lwkd costs itself (docs/bench.md "Who is read when").
 */
#include "bench.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Big enough that one read empties a lazy socket (a second of its frames is ~2 KiB). */
static char lazy_buf[262144];

static void lazy_tick(uv_timer_t *tm);

void bench_lazy_init(struct bench_lazy *lz, uv_loop_t *loop, const struct bench_lazy_ops *lops,
                     int wait_ms, int sweep_ms)
{
    memset(lz, 0, sizeof(*lz));
    lz->ops = lops;
    lz->loop = loop;
    lz->wait_ms = wait_ms > 0 ? (uint64_t)wait_ms : 1;
    lz->sweep_ms = sweep_ms > 0 ? (uint64_t)sweep_ms : 1;
    uv_timer_init(loop, &lz->timer);
    lz->timer.data = lz;
    lz->last_tick_ms = uv_now(loop);
    uv_timer_start(&lz->timer, lazy_tick, 1, 1);
    lz->started = true;
}

/* Room for one more connection in the sweep list and in every due ring. */
static int lazy_grow(struct bench_lazy *lz)
{
    size_t cap = lz->cap ? lz->cap * 2 : 1024;
    struct bench_lazy_conn **all = realloc(lz->all, cap * sizeof(*all));
    if (!all)
        return -1;
    lz->all = all;
    for (int l = 0; l < BENCH_LAZY_LEVELS; l++) {
        struct bench_lazy_ring *r = &lz->due[l];
        struct bench_lazy_due *e = malloc(cap * sizeof(*e));
        if (!e)
            return -1; /* lz->cap unchanged: the rings grown so far are just bigger */
        for (size_t i = 0; i < r->len; i++)
            e[i] = r->e[(r->head + i) % lz->cap];
        free(r->e);
        r->e = e;
        r->head = 0;
    }
    lz->cap = cap;
    return 0;
}

int bench_lazy_add(struct bench_lazy *lz, struct bench_lazy_conn *lc, uv_stream_t *st)
{
    uv_os_fd_t fd;
    if (lc->on || uv_fileno((uv_handle_t *)st, &fd) != 0)
        return -1;
    if (lz->n_all == lz->cap && lazy_grow(lz) < 0)
        return -1;
    uv_read_stop(st);
    lc->on = true;
    lc->queued = false;
    lc->fd = fd;
    lc->pos = (uint32_t)lz->n_all;
    lc->last_ms = uv_now(lz->loop);
    lz->all[lz->n_all++] = lc;
    return 0;
}

void bench_lazy_remove(struct bench_lazy *lz, struct bench_lazy_conn *lc)
{
    if (!lc->on)
        return;
    struct bench_lazy_conn *last = lz->all[--lz->n_all];
    lz->all[lc->pos] = last;
    last->pos = lc->pos;
    lc->on = false; /* a due entry for it is skipped */
    lc->fd = -1;
}

static void lazy_queue(struct bench_lazy *lz, struct bench_lazy_conn *lc, int level)
{
    struct bench_lazy_ring *r = &lz->due[level];
    r->e[(r->head + r->len) % lz->cap] =
        (struct bench_lazy_due){lc, uv_now(lz->loop) + (lz->wait_ms << level)};
    r->len++;
    lc->queued = true;
}

void bench_lazy_expect(struct bench_lazy *lz, struct bench_lazy_conn *lc)
{
    if (lc->on && !lc->queued)
        lazy_queue(lz, lc, 0);
}

/* Reads until the socket is empty: a short read means it was. */
static void lazy_read(struct bench_lazy *lz, struct bench_lazy_conn *lc, uint64_t now)
{
    lc->last_ms = now;
    while (lc->on) {
        ssize_t n = read(lc->fd, lazy_buf, sizeof(lazy_buf));
        if (n > 0) {
            lz->ops->input(lc, n, lazy_buf);
            if ((size_t)n < sizeof(lazy_buf))
                return;
        } else if (n == 0) {
            lz->ops->input(lc, UV_EOF, NULL);
            return;
        } else if (errno != EINTR) {
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                lz->ops->input(lc, -errno, NULL); /* libuv's codes are -errno here */
            return;
        }
    }
}

static void lazy_tick(uv_timer_t *tm)
{
    struct bench_lazy *lz = tm->data;
    uint64_t now = uv_now(lz->loop);
    /* Connections whose replies are due. */
    for (int l = 0; l < BENCH_LAZY_LEVELS; l++) {
        struct bench_lazy_ring *r = &lz->due[l];
        while (r->len && r->e[r->head].due_ms <= now) {
            struct bench_lazy_conn *lc = r->e[r->head].lc;
            r->head = (r->head + 1) % lz->cap;
            r->len--;
            lc->queued = false;
            if (!lc->on)
                continue;
            int before = lz->ops->outstanding(lc);
            lazy_read(lz, lc, now);
            if (!lc->on || lc->queued) /* closed, or a new request was sent */
                continue;
            int after = lz->ops->outstanding(lc);
            /* A reply late beyond the wait: look again, less and less often. */
            if (after > 0)
                lazy_queue(lz, lc, after < before || l + 1 == BENCH_LAZY_LEVELS ? l : l + 1);
        }
    }
    /* The sweep: every connection not read for sweep_ms, a slice per tick. */
    lz->sweep_credit += (double)lz->n_all * (double)(now - lz->last_tick_ms) / (double)lz->sweep_ms;
    lz->last_tick_ms = now;
    if (lz->sweep_credit > (double)lz->n_all)
        lz->sweep_credit = (double)lz->n_all;
    size_t n = (size_t)lz->sweep_credit;
    lz->sweep_credit -= (double)n;
    for (size_t i = 0; i < n && lz->n_all; i++) {
        struct bench_lazy_conn *lc = lz->all[lz->sweep_pos++ % lz->n_all];
        if (now - lc->last_ms >= lz->sweep_ms)
            lazy_read(lz, lc, now);
    }
}

void bench_lazy_read_all(struct bench_lazy *lz)
{
    if (!lz->started)
        return;
    uint64_t now = uv_now(lz->loop);
    /* From the end: a connection that fails is swapped out of the list. */
    for (size_t i = lz->n_all; i > 0; i--)
        if (i - 1 < lz->n_all)
            lazy_read(lz, lz->all[i - 1], now);
}

void bench_lazy_close(struct bench_lazy *lz, uv_close_cb cb)
{
    if (!lz->started || uv_is_closing((uv_handle_t *)&lz->timer))
        return;
    for (size_t i = 0; i < lz->n_all; i++)
        lz->all[i]->on = false;
    free(lz->all);
    lz->all = NULL;
    for (int l = 0; l < BENCH_LAZY_LEVELS; l++) {
        free(lz->due[l].e);
        lz->due[l] = (struct bench_lazy_ring){0};
    }
    lz->n_all = lz->cap = 0;
    uv_close((uv_handle_t *)&lz->timer, cb);
}
