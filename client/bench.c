/*
 * bench.c: lwk-bench, the load generator and meter for lwkd (docs/bench.md).
 *
 * One run goes through these phases on one libuv loop:
 *   set-up  every connection is made (at most --connect-concurrency at once)
 *           and every session is opened and joined;
 *   idle    nothing is sent for --idle seconds; lwkd's RSS is sampled at the
 *           end (memory per idle connection);
 *   load    --duration seconds of score submissions, open loop at --rate
 *           per second (a 1 ms timer sends what the schedule says is due,
 *           whatever the replies do) or closed loop (--closed: each
 *           participant keeps --inflight submissions outstanding);
 *   drain   until every reply and every kiosk copy is in (at most 10 s);
 *   db wait with --db, until every accepted score is in PostgreSQL;
 *   finish  sessions are ended, connections closed, the report written.
 */
#include "bench.h"
#include "lwkc.h"

#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define DRAIN_MAX_S 10.0
#define FINISH_MAX_S 10.0
#define SETUP_MAX_S 300.0

static struct bench bench;
static const struct bench_target_ops *ops;

uint64_t bench_now(void)
{
    return uv_hrtime();
}

void bench_log(struct bench *b, const char *fmt, ...)
{
    va_list ap;
    double t = b->t_start ? (double)(bench_now() - b->t_start) / 1e9 : 0;
    fprintf(stderr, "lwk-bench %7.2fs: ", t);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void bench_error(struct bench *b, int code)
{
    if (code < 0)
        code = -code;
    b->errors_by_code[code > 0 && code < BENCH_MAX_ERR ? code : 0]++;
}

void bench_record_latency(struct bench *b, uint64_t t_send_ns, uint64_t t_recv_ns)
{
    if (t_send_ns < b->t_measure || b->phase < PH_LOAD)
        return;
    uint64_t us = t_recv_ns > t_send_ns ? (t_recv_ns - t_send_ns) / 1000 : 0;
    hist_add(&b->lat, us);
    hist_add(&b->lat_iv, us);
}

static uint64_t errors_total(const struct bench *b)
{
    uint64_t n =
        b->conns_failed + (uint64_t)b->conns_dropped + b->protocol_errors + b->kiosk_missing;
    for (int i = 0; i < BENCH_MAX_ERR; i++)
        n += b->errors_by_code[i];
    return n;
}

static double secs(uint64_t a, uint64_t b)
{
    return b > a ? (double)(b - a) / 1e9 : 0.0;
}

/* ---- phases --------------------------------------------------------------- */

static void go_load(struct bench *b);
static void go_drain(struct bench *b);
static void go_dbwait(struct bench *b);
static void go_finish(struct bench *b);
static void report(struct bench *b);

static void samples(struct bench *b, struct proc_sample *lwkd, struct proc_sample *pg)
{
    if (lwkd)
        *lwkd = proc_read(b->o.lwkd_pid, false);
    if (pg)
        *pg = proc_read(b->o.pg_pid, true);
}

static void idle_done(uv_timer_t *tm)
{
    go_load(tm->data);
}

void bench_setup_done(struct bench *b)
{
    if (b->phase != PH_SETUP)
        return;
    b->t_setup_done = bench_now();
    b->phase = PH_IDLE;
    bench_log(b, "set-up: %d of %d connections in %.2f s (%d failed)", b->conns_ready,
              b->conns_wanted, secs(b->t_start, b->t_setup_done), b->conns_failed);
    if (b->o.db && ops->session_ids) {
        int64_t *ids;
        int n = ops->session_ids(b, &ids);
        if (n > 0)
            b->db = bench_db_start(b, b->o.db, ids, n, b->o.db_poll_ms);
    }
    uv_timer_start(&b->phase_timer, idle_done, (uint64_t)(b->o.idle_s * 1000), 0);
}

static void open_loop_tick(uv_timer_t *tm)
{
    struct bench *b = tm->data;
    if (b->stopping)
        return;
    uint64_t now = bench_now();
    double period = 1e9 / b->o.rate;
    double due = (double)(now - b->t_load_start) / period;
    while ((double)b->scheduled < due) {
        uint64_t intended = b->t_load_start + (uint64_t)((double)b->scheduled * period);
        b->scheduled++;
        if (ops->submit(b, intended)) {
            if (intended >= b->t_measure)
                hist_add(&b->sched, (bench_now() - intended) / 1000);
        } else {
            b->skipped++;
        }
    }
}

static void load_done(uv_timer_t *tm)
{
    go_drain(tm->data);
}

static void go_load(struct bench *b)
{
    samples(b, &b->lwkd_idle, NULL);
    b->phase = PH_LOAD;
    b->t_load_start = bench_now();
    b->t_measure = b->t_load_start + (uint64_t)(b->o.warmup_s * 1e9);
    samples(b, &b->lwkd_load0, &b->pg_load0);
    b->self_cpu0 = proc_self_cpu_us();
    b->self_load0 = proc_read(getpid(), false);
    b->psi0 = proc_cpu_pressure_us();
    proc_machine(&b->mach_busy0, &b->mach_tot0);
    b->events_at_load0 = b->events;
    b->last_progress_ns = b->t_load_start;
    b->prog_acked = b->acked;
    b->prog_events = b->events;
    bench_log(b, "load: %s for %.0f s%s", b->o.closed ? "closed loop" : "open loop",
              b->o.duration_s, b->o.warmup_s > 0 ? " (warm-up not measured)" : "");
    ops->start_load(b);
    if (!b->o.closed)
        uv_timer_start(&b->tick, open_loop_tick, 1, 1);
    uv_timer_start(&b->phase_timer, load_done, (uint64_t)(b->o.duration_s * 1000), 0);
}

static void drain_check(uv_timer_t *tm)
{
    struct bench *b = tm->data;
    if (ops->drained(b) || secs(b->t_load_end, bench_now()) > DRAIN_MAX_S) {
        uv_timer_stop(tm);
        b->t_drained = bench_now();
        go_dbwait(b);
    }
}

static void go_drain(struct bench *b)
{
    b->stopping = true;
    b->t_load_end = bench_now();
    uv_timer_stop(&b->tick);
    /* Before the samples: what lazily read connections hold counts for the load. */
    ops->stop_load(b);
    samples(b, &b->lwkd_load1, &b->pg_load1);
    b->self_cpu1 = proc_self_cpu_us();
    b->self_load1 = proc_read(getpid(), false);
    b->psi1 = proc_cpu_pressure_us();
    proc_machine(&b->mach_busy1, &b->mach_tot1);
    b->events_at_load1 = b->events;
    b->acked_at_load1 = b->acked;
    b->phase = PH_DRAIN;
    uv_timer_start(&b->phase_timer, drain_check, 10, 10);
}

static void dbwait_check(uv_timer_t *tm)
{
    struct bench *b = tm->data;
    bool failed;
    pthread_mutex_lock(&b->db->mu);
    failed = b->db->failed;
    pthread_mutex_unlock(&b->db->mu);
    bool done = !failed && ops->db_complete && ops->db_complete(b);
    if (done || failed || secs(b->t_drained, bench_now()) > b->o.db_wait_s) {
        uv_timer_stop(tm);
        if (done)
            b->t_db_done = bench_now();
        go_finish(b);
    }
}

static void go_dbwait(struct bench *b)
{
    b->phase = PH_DBWAIT;
    if (!b->db) {
        go_finish(b);
        return;
    }
    uv_timer_start(&b->phase_timer, dbwait_check, 20, 20);
}

static void finish_check(uv_timer_t *tm)
{
    struct bench *b = tm->data;
    bool done = ops->finished(b);
    if (done || secs(b->t_drained, bench_now()) > FINISH_MAX_S + b->o.db_wait_s) {
        uv_timer_stop(tm);
        b->t_end = bench_now();
        samples(b, &b->lwkd_end, NULL);
        report(b);
        bench_db_stop(b->db);
        b->db = NULL;
        b->phase = PH_DONE;
        uv_close((uv_handle_t *)&b->tick, NULL);
        uv_close((uv_handle_t *)&b->phase_timer, NULL);
        uv_close((uv_handle_t *)&b->progress, NULL);
        if (!done)
            uv_stop(b->loop);
    }
}

static void go_finish(struct bench *b)
{
    b->phase = PH_FINISH;
    ops->finish(b);
    uv_timer_start(&b->phase_timer, finish_check, 10, 10);
}

/* Once a second: keep-alives, and a progress line every --progress seconds. */
static void progress_cb(uv_timer_t *tm)
{
    struct bench *b = tm->data;
    ops->tick(b, uv_now(b->loop));
    if (b->phase == PH_SETUP && secs(b->t_start, bench_now()) > SETUP_MAX_S) {
        bench_log(b, "set-up did not finish within %.0f s", SETUP_MAX_S);
        bench_setup_done(b);
    }
    if (b->phase == PH_SETUP && b->o.progress_s > 0) {
        static uint64_t last;
        uint64_t now = bench_now();
        if (secs(last, now) >= b->o.progress_s) {
            last = now;
            bench_log(b, "set-up: %d of %d connections ready", b->conns_ready, b->conns_wanted);
        }
    }
    if (b->phase != PH_LOAD || b->o.progress_s <= 0)
        return;
    uint64_t now = bench_now();
    double dt = secs(b->last_progress_ns, now);
    if (dt < b->o.progress_s)
        return;
    bench_log(b,
              "%6.0f sub/s acked, %8.0f events/s, p50 %5.2f ms p99 %6.2f ms max %7.2f ms, "
              "errors %llu, skipped %llu",
              (double)(b->acked - b->prog_acked) / dt, (double)(b->events - b->prog_events) / dt,
              (double)hist_quantile(&b->lat_iv, 0.5) / 1000,
              (double)hist_quantile(&b->lat_iv, 0.99) / 1000, (double)b->lat_iv.max / 1000,
              (unsigned long long)errors_total(b), (unsigned long long)b->skipped);
    memset(&b->lat_iv, 0, sizeof(b->lat_iv));
    b->last_progress_ns = now;
    b->prog_acked = b->acked;
    b->prog_events = b->events;
}

/* ---- report -------------------------------------------------------------------- */

struct figures {
    double setup_s, connect_rate, load_s, sent_rate, acked_rate, events_rate;
    double p50, p90, p99, p999, max, mean; /* ms */
    double sched_p99, sched_max;           /* ms */
    bool lwkd, pg;
    double lwkd_cpu_pct, pg_cpu_pct, bench_cpu_pct, machine_pct;
    double lwkd_us_per_sub, bench_us_per_sub, pg_us_per_sub; /* CPU per acked submission */
    /* Starvation: share of the load time spent runnable but without a CPU. */
    double lwkd_wait_pct, bench_wait_pct, psi_pct;
    double rss_base, rss_idle, rss_end; /* KiB */
    double rss_per_conn;                /* bytes */
    bool db_on, db_failed, db_all;
    double db_rows_per_s, db_p50, db_p99, db_max, db_after_load;
    char db_error[256];
    uint64_t errors;
};

static void compute(struct bench *b, struct figures *f)
{
    memset(f, 0, sizeof(*f));
    f->setup_s = secs(b->t_start, b->t_setup_done);
    f->connect_rate = f->setup_s > 0 ? b->conns_ready / f->setup_s : 0;
    f->load_s = secs(b->t_load_start, b->t_load_end);
    double measured = secs(b->t_measure, b->t_load_end);
    if (f->load_s > 0) {
        f->sent_rate = (double)b->sent / f->load_s;
        f->acked_rate = (double)b->acked_at_load1 / f->load_s;
        f->events_rate = (double)(b->events_at_load1 - b->events_at_load0) / f->load_s;
    }
    (void)measured;
    f->p50 = (double)hist_quantile(&b->lat, 0.50) / 1000;
    f->p90 = (double)hist_quantile(&b->lat, 0.90) / 1000;
    f->p99 = (double)hist_quantile(&b->lat, 0.99) / 1000;
    f->p999 = (double)hist_quantile(&b->lat, 0.999) / 1000;
    f->max = (double)b->lat.max / 1000;
    f->mean = b->lat.n ? (double)b->lat.sum / (double)b->lat.n / 1000 : 0;
    f->sched_p99 = (double)hist_quantile(&b->sched, 0.99) / 1000;
    f->sched_max = (double)b->sched.max / 1000;
    f->lwkd = b->lwkd_base.ok && b->lwkd_idle.ok;
    if (f->lwkd) {
        f->rss_base = (double)b->lwkd_base.rss_kib;
        f->rss_idle = (double)b->lwkd_idle.rss_kib;
        f->rss_end = (double)b->lwkd_end.rss_kib;
        if (b->conns_ready > 0)
            f->rss_per_conn = (f->rss_idle - f->rss_base) * 1024.0 / b->conns_ready;
        if (f->load_s > 0 && b->lwkd_load1.ok)
            f->lwkd_cpu_pct =
                (double)(b->lwkd_load1.cpu_ns - b->lwkd_load0.cpu_ns) / 1e9 / f->load_s * 100;
    }
    f->pg = b->pg_load0.ok && b->pg_load1.ok;
    if (f->pg && f->load_s > 0) {
        double d = (double)b->pg_load1.cpu_ns - (double)b->pg_load0.cpu_ns;
        f->pg_cpu_pct = d > 0 ? d / 1e9 / f->load_s * 100 : 0;
    }
    if (f->load_s > 0) {
        if (b->lwkd_load1.ok)
            f->lwkd_wait_pct =
                (double)(b->lwkd_load1.wait_ns - b->lwkd_load0.wait_ns) / 1e9 / f->load_s * 100;
        f->bench_wait_pct =
            (double)(b->self_load1.wait_ns - b->self_load0.wait_ns) / 1e9 / f->load_s * 100;
        f->psi_pct = (double)(b->psi1 - b->psi0) / 1e6 / f->load_s * 100;
    }
    if (f->acked_rate > 0) {
        f->lwkd_us_per_sub = f->lwkd_cpu_pct * 1e4 / f->acked_rate;
        f->pg_us_per_sub = f->pg_cpu_pct * 1e4 / f->acked_rate;
        f->bench_us_per_sub = (double)(b->self_cpu1 - b->self_cpu0) / f->load_s / f->acked_rate;
    }
    if (f->load_s > 0) {
        f->bench_cpu_pct = (double)(b->self_cpu1 - b->self_cpu0) / 1e6 / f->load_s * 100;
        if (b->mach_tot1 > b->mach_tot0)
            f->machine_pct = (double)(b->mach_busy1 - b->mach_busy0) /
                             (double)(b->mach_tot1 - b->mach_tot0) * 100 *
                             (double)sysconf(_SC_NPROCESSORS_ONLN);
    }
    if (b->db) {
        struct bench_db *db = b->db;
        f->db_on = true;
        pthread_mutex_lock(&db->mu);
        f->db_failed = db->failed;
        snprintf(f->db_error, sizeof(f->db_error), "%s", db->error);
        pthread_mutex_unlock(&db->mu);
        for (char *p = f->db_error; *p; p++)
            if (*p == '\n' || *p == '"' || *p == '\\')
                *p = ' ';
        double dt = secs(db->t_rows0, db->t_rows1);
        f->db_rows_per_s = dt > 0 ? (double)(db->rows1 - db->rows0) / dt : 0;
        f->db_p50 = (double)hist_quantile(&db->lag, 0.5) / 1000;
        f->db_p99 = (double)hist_quantile(&db->lag, 0.99) / 1000;
        f->db_max = (double)db->lag.max / 1000;
        f->db_all = b->t_db_done != 0;
        f->db_after_load = f->db_all ? secs(b->t_load_end, b->t_db_done) : -1;
    }
    f->errors = errors_total(b);
}

static void json_errors(const struct bench *b)
{
    printf("{");
    bool first = true;
    for (int i = 0; i < BENCH_MAX_ERR; i++)
        if (b->errors_by_code[i]) {
            printf("%s\"%s\": %llu", first ? "" : ", ", i ? proto_err_name(i) : "OTHER",
                   (unsigned long long)b->errors_by_code[i]);
            first = false;
        }
    printf("}");
}

static void report_json(struct bench *b, const struct figures *f)
{
    const struct bench_opts *o = &b->o;
    printf("{\"target\": \"%s\", \"transport\": \"%s\", \"mode\": \"%s\", ", ops->name,
           o->socket_path ? "unix" : "tcp", o->closed ? "closed" : "open");
    printf("\"sessions\": %d, \"participants\": %d, ", o->sessions, o->participants);
    printf("\"connections\": %d, \"connections_wanted\": %d, ", b->conns_ready, b->conns_wanted);
    printf("\"setup_s\": %.3f, \"connect_rate_per_s\": %.1f, \"connect_max_ms\": %.2f, ",
           f->setup_s, f->connect_rate, (double)b->connect_us_max / 1000);
    printf("\"duration_s\": %.3f, \"warmup_s\": %.1f, \"rate_requested\": %.1f, ", f->load_s,
           o->warmup_s, o->closed ? 0.0 : o->rate);
    printf("\"inflight\": %d, \"changes\": %d, \"participant_read_ms\": %d, ",
           o->closed ? o->inflight : 0, o->changes, o->participant_read_ms);
    printf("\"submissions\": %llu, \"submissions_acked\": %llu, \"submissions_rejected\": %llu, "
           "\"submissions_skipped\": %llu, ",
           (unsigned long long)b->sent, (unsigned long long)b->acked,
           (unsigned long long)b->rejected, (unsigned long long)b->skipped);
    printf("\"submissions_per_s\": %.1f, \"acked_per_s\": %.1f, ", f->sent_rate, f->acked_rate);
    printf("\"other_requests\": %llu, \"rounds_revealed\": %llu, ",
           (unsigned long long)b->other_requests, (unsigned long long)b->rounds);
    printf("\"events_delivered\": %llu, \"events_per_s\": %.1f, \"kiosk_events\": %llu, ",
           (unsigned long long)b->events, f->events_rate, (unsigned long long)b->kiosk_events);
    printf("\"frames_in\": %llu, \"frames_decoded\": %llu, \"bytes_in\": %llu, ",
           (unsigned long long)b->frames_in, (unsigned long long)b->frames_decoded,
           (unsigned long long)b->bytes_in);
    printf("\"latency_ms\": {\"count\": %llu, \"p50\": %.3f, \"p90\": %.3f, \"p99\": %.3f, "
           "\"p999\": %.3f, \"max\": %.3f, \"mean\": %.3f}, ",
           (unsigned long long)b->lat.n, f->p50, f->p90, f->p99, f->p999, f->max, f->mean);
    printf("\"schedule_lag_ms\": {\"p99\": %.3f, \"max\": %.3f}, ", f->sched_p99, f->sched_max);
    printf("\"max_outstanding_per_participant\": %d, ", b->max_outstanding);
    printf("\"errors\": %llu, \"errors_by_code\": ", (unsigned long long)f->errors);
    json_errors(b);
    printf(", \"connect_failures\": %d, \"drops\": %d, \"kiosk_missing\": %llu, "
           "\"latency_unmatched\": %llu, \"protocol_errors\": %llu, ",
           b->conns_failed, b->conns_dropped, (unsigned long long)b->kiosk_missing,
           (unsigned long long)b->latency_unmatched, (unsigned long long)b->protocol_errors);
    if (f->lwkd)
        printf("\"%s\": {\"pid\": %d, \"rss_base_kib\": %.0f, \"rss_idle_kib\": %.0f, "
               "\"rss_end_kib\": %.0f, \"rss_per_idle_connection_bytes\": %.0f, "
               "\"cpu_load_pct\": %.1f, \"cpu_us_per_submission\": %.1f, "
               "\"cpu_wait_pct\": %.1f}, ",
               ops->name, o->lwkd_pid, f->rss_base, f->rss_idle, f->rss_end, f->rss_per_conn,
               f->lwkd_cpu_pct, f->lwkd_us_per_sub, f->lwkd_wait_pct);
    else
        printf("\"%s\": null, ", ops->name);
    if (f->pg)
        printf("\"postgres_cpu_load_pct\": %.1f, \"postgres_cpu_us_per_submission\": %.1f, ",
               f->pg_cpu_pct, f->pg_us_per_sub);
    printf("\"bench_cpu_load_pct\": %.1f, \"bench_cpu_us_per_submission\": %.1f, "
           "\"bench_cpu_wait_pct\": %.1f, \"machine_cpu_load_pct\": %.1f, "
           "\"cpu_pressure_pct\": %.1f, ",
           f->bench_cpu_pct, f->bench_us_per_sub, f->bench_wait_pct, f->machine_pct, f->psi_pct);
    if (f->db_on)
        printf("\"db\": {\"error\": %s%s%s, \"rows_per_s\": %.1f, \"lag_ms\": {\"count\": %llu, "
               "\"p50\": %.1f, \"p99\": %.1f, \"max\": %.1f}, \"poll_ms\": %d, "
               "\"all_stored\": %s, \"all_stored_after_load_s\": %.3f}, ",
               f->db_failed ? "\"" : "", f->db_failed ? f->db_error : "null",
               f->db_failed ? "\"" : "", f->db_rows_per_s, (unsigned long long)b->db->lag.n,
               f->db_p50, f->db_p99, f->db_max, o->db_poll_ms, f->db_all ? "true" : "false",
               f->db_after_load);
    else
        printf("\"db\": null, ");
    printf("\"ok\": %s}\n", f->errors == 0 && b->conns_ready == b->conns_wanted ? "true" : "false");
    fflush(stdout);
}

static void report_table(struct bench *b, const struct figures *f, FILE *out)
{
    const struct bench_opts *o = &b->o;
    fprintf(out, "lwk-bench: %s over %s, %d sessions x (%d participants + kiosk + facilitator)\n",
            ops->name, o->socket_path ? "unix socket" : "tcp", o->sessions, o->participants);
    fprintf(out, "  %-28s %d of %d in %.2f s (%.0f/s, slowest %.1f ms)\n", "connections",
            b->conns_ready, b->conns_wanted, f->setup_s, f->connect_rate,
            (double)b->connect_us_max / 1000);
    if (o->closed)
        fprintf(out, "  %-28s closed loop, %d in flight per participant, %.1f s\n", "load",
                o->inflight, f->load_s);
    else
        fprintf(out, "  %-28s open loop at %.0f/s, %.1f s (%.1f s warm-up)\n", "load", o->rate,
                f->load_s, o->warmup_s);
    if (o->participant_read_ms > 0)
        fprintf(out, "  %-28s in batches, %d ms after a request, at least every %d ms\n",
                "participants read", o->participant_read_ms, BENCH_LAZY_SWEEP_MS);
    else
        fprintf(out, "  %-28s as frames arrive\n", "participants read");
    fprintf(out, "  %-28s %.0f/s sent, %.0f/s acked (%llu sent, %llu skipped: none eligible)\n",
            "submissions", f->sent_rate, f->acked_rate, (unsigned long long)b->sent,
            (unsigned long long)b->skipped);
    if (o->target == TARGET_LWK)
        fprintf(out, "  %-28s %llu rounds revealed, %llu other requests\n", "session flow",
                (unsigned long long)b->rounds, (unsigned long long)b->other_requests);
    fprintf(out, "  %-28s %.0f/s (%llu; kiosks %llu)\n", "events delivered", f->events_rate,
            (unsigned long long)b->events, (unsigned long long)b->kiosk_events);
    fprintf(out, "  %-28s p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f ms (%llu)\n",
            "submission -> kiosk", f->p50, f->p90, f->p99, f->p999, f->max,
            (unsigned long long)b->lat.n);
    if (!o->closed)
        fprintf(out, "  %-28s p99 %.2f  max %.2f ms\n", "bench send lag", f->sched_p99,
                f->sched_max);
    fprintf(out, "  %-28s %llu (failed connects %d, drops %d, kiosk missing %llu, protocol %llu)\n",
            "errors", (unsigned long long)f->errors, b->conns_failed, b->conns_dropped,
            (unsigned long long)b->kiosk_missing, (unsigned long long)b->protocol_errors);
    for (int i = 0; i < BENCH_MAX_ERR; i++)
        if (b->errors_by_code[i])
            fprintf(out, "  %-28s %llu\n", i ? proto_err_name(i) : "other",
                    (unsigned long long)b->errors_by_code[i]);
    if (f->lwkd) {
        char l1[40], l2[40], l3[40];
        snprintf(l1, sizeof(l1), "%s RSS", ops->name);
        snprintf(l2, sizeof(l2), "%s RSS per idle conn", ops->name);
        snprintf(l3, sizeof(l3), "%s CPU under load", ops->name);
        fprintf(out, "  %-28s base %.0f KiB, idle %.0f KiB, end %.0f KiB\n", l1, f->rss_base,
                f->rss_idle, f->rss_end);
        fprintf(out, "  %-28s %.0f bytes\n", l2, f->rss_per_conn);
        fprintf(out, "  %-28s %.1f %% of a core (%.1f us/submission; %.0f %% waiting for a CPU)\n",
                l3, f->lwkd_cpu_pct, f->lwkd_us_per_sub, f->lwkd_wait_pct);
    }
    if (f->pg)
        fprintf(out, "  %-28s %.1f %% of a core (%.1f us/submission)\n",
                "PostgreSQL CPU under load", f->pg_cpu_pct, f->pg_us_per_sub);
    fprintf(out, "  %-28s %.1f %% of a core (%.1f us/submission; %.0f %% waiting for a CPU)\n",
            "bench CPU under load", f->bench_cpu_pct, f->bench_us_per_sub, f->bench_wait_pct);
    fprintf(out, "  %-28s %.0f %% of one core busy, CPU pressure %.0f %% (all processes)\n",
            "machine", f->machine_pct, f->psi_pct);
    if (f->db_on) {
        if (f->db_failed)
            fprintf(out, "  %-28s skipped: %s\n", "PostgreSQL", f->db_error);
        else {
            fprintf(out, "  %-28s %.0f rows/s\n", "PostgreSQL events stored", f->db_rows_per_s);
            fprintf(out, "  %-28s p50 %.0f  p99 %.0f  max %.0f ms (poll every %d ms)\n",
                    "submission -> in database", f->db_p50, f->db_p99, f->db_max, o->db_poll_ms);
            if (f->db_all)
                fprintf(out, "  %-28s %.2f s after the load stopped\n", "all stored",
                        f->db_after_load);
            else
                fprintf(out, "  %-28s NOT within %.0f s\n", "all stored", o->db_wait_s);
        }
    }
}

static void report(struct bench *b)
{
    struct figures f;
    compute(b, &f);
    if (b->o.json) {
        report_json(b, &f);
        report_table(b, &f, stderr);
    } else {
        report_table(b, &f, stdout);
    }
    b->exit_code = f.errors == 0 && b->conns_ready == b->conns_wanted ? 0 : 1;
}

/* ---- options ---------------------------------------------------------------------- */

static void usage(FILE *out)
{
    fprintf(out, "usage: lwk-bench [options]\n"
                 "  --target lwk|redis      what to load (default lwk)\n"
                 "  --host H --port N       TCP address (default 127.0.0.1:7411, redis 6379;\n"
                 "                          LWK_HOST, LWK_PORT)\n"
                 "  --socket PATH           Unix socket instead (LWK_SOCKET)\n"
                 "  --token T               facilitator/admin token (LWK_TOKEN)\n"
                 "  --sessions S            sessions (default 10)\n"
                 "  --participants P        participants per session (default 12)\n"
                 "  --duration SEC          load duration (default 10)\n"
                 "  --warmup SEC            first seconds of the load not measured (default 0)\n"
                 "  --idle SEC              pause between set-up and load (default 1)\n"
                 "  --rate N                open loop: submissions per second in total\n"
                 "                          (default: one per participant per second)\n"
                 "  --closed                closed loop: as fast as replies allow\n"
                 "  --inflight K            closed loop: outstanding per participant (default 1)\n"
                 "  --changes N             submissions per participant per round (default 3)\n"
                 "  --keywords N            keywords per first-pass explanation (default 2)\n"
                 "  --connect-concurrency N connections being set up at once (default 256)\n"
                 "  --lwkd-pid PID          sample lwkd's (or Redis's) CPU and RSS from /proc\n"
                 "  --pg-pid PID            sample PostgreSQL's CPU (postmaster and children)\n"
                 "  --db CONNINFO           measure rows/s and lag to PostgreSQL\n"
                 "  --db-poll-ms N          database poll interval (default 100)\n"
                 "  --db-wait SEC           wait at most this for the database (default 30)\n"
                 "  --unit ID               team unit for the sessions (default: made with --db)\n"
                 "  --redis-fanout all|kiosk  redis: who subscribes (default all)\n"
                 "  --no-end                leave the sessions open\n"
                 "  --decode-all            participants decode every frame (no cache)\n"
                 "  --progress SEC          progress line interval on stderr (default 5, 0 off)\n"
                 "  --ping-ms N             keep-alive interval (default 20000)\n"
                 "  --participant-read-ms N participants and facilitators are read in batches:\n"
                 "                          N ms after a request, and at least once a second;\n"
                 "                          0 reads them as frames arrive, like the kiosks\n"
                 "                          (default 2 open loop, 0 closed loop; at most 1000)\n"
                 "  --json                  the report as one JSON object on stdout\n");
}

static int parse_opts(int argc, char **argv, struct bench_opts *o)
{
    enum {
        O_TARGET = 256,
        O_HOST,
        O_PORT,
        O_SOCKET,
        O_TOKEN,
        O_SESSIONS,
        O_PARTS,
        O_DURATION,
        O_WARMUP,
        O_IDLE,
        O_RATE,
        O_CLOSED,
        O_INFLIGHT,
        O_CHANGES,
        O_KEYWORDS,
        O_CONC,
        O_LWKD_PID,
        O_PG_PID,
        O_DB,
        O_DB_POLL,
        O_DB_WAIT,
        O_UNIT,
        O_FANOUT,
        O_NO_END,
        O_DECODE_ALL,
        O_PROGRESS,
        O_PING,
        O_PART_READ,
        O_JSON,
        O_HELP,
    };
    static const struct option lo[] = {
        {"target", 1, 0, O_TARGET},
        {"host", 1, 0, O_HOST},
        {"port", 1, 0, O_PORT},
        {"socket", 1, 0, O_SOCKET},
        {"token", 1, 0, O_TOKEN},
        {"sessions", 1, 0, O_SESSIONS},
        {"participants", 1, 0, O_PARTS},
        {"duration", 1, 0, O_DURATION},
        {"warmup", 1, 0, O_WARMUP},
        {"idle", 1, 0, O_IDLE},
        {"rate", 1, 0, O_RATE},
        {"closed", 0, 0, O_CLOSED},
        {"inflight", 1, 0, O_INFLIGHT},
        {"changes", 1, 0, O_CHANGES},
        {"keywords", 1, 0, O_KEYWORDS},
        {"connect-concurrency", 1, 0, O_CONC},
        {"lwkd-pid", 1, 0, O_LWKD_PID},
        {"server-pid", 1, 0, O_LWKD_PID},
        {"pg-pid", 1, 0, O_PG_PID},
        {"db", 1, 0, O_DB},
        {"db-poll-ms", 1, 0, O_DB_POLL},
        {"db-wait", 1, 0, O_DB_WAIT},
        {"unit", 1, 0, O_UNIT},
        {"redis-fanout", 1, 0, O_FANOUT},
        {"no-end", 0, 0, O_NO_END},
        {"decode-all", 0, 0, O_DECODE_ALL},
        {"progress", 1, 0, O_PROGRESS},
        {"ping-ms", 1, 0, O_PING},
        {"participant-read-ms", 1, 0, O_PART_READ},
        {"json", 0, 0, O_JSON},
        {"help", 0, 0, O_HELP},
        {0, 0, 0, 0},
    };
    *o = (struct bench_opts){
        .target = TARGET_LWK,
        .sessions = 10,
        .participants = 12,
        .duration_s = 10,
        .idle_s = 1,
        .inflight = 1,
        .changes = 3,
        .keywords = 2,
        .connect_concurrency = 256,
        .db_poll_ms = 100,
        .db_wait_s = 30,
        .redis_all = true,
        .progress_s = 5,
        .ping_ms = 20000,
        .rate = -1,
        .participant_read_ms = -1,
    };
    int c;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (c) {
        case O_TARGET:
            if (!strcmp(optarg, "lwk") || !strcmp(optarg, "lwkd"))
                o->target = TARGET_LWK;
            else if (!strcmp(optarg, "redis"))
                o->target = TARGET_REDIS;
            else
                return -1;
            break;
        case O_HOST:
            o->host = optarg;
            break;
        case O_PORT:
            o->port = atoi(optarg);
            break;
        case O_SOCKET:
            o->socket_path = optarg;
            break;
        case O_TOKEN:
            o->token = optarg;
            break;
        case O_SESSIONS:
            o->sessions = atoi(optarg);
            break;
        case O_PARTS:
            o->participants = atoi(optarg);
            break;
        case O_DURATION:
            o->duration_s = atof(optarg);
            break;
        case O_WARMUP:
            o->warmup_s = atof(optarg);
            break;
        case O_IDLE:
            o->idle_s = atof(optarg);
            break;
        case O_RATE:
            o->rate = atof(optarg);
            break;
        case O_CLOSED:
            o->closed = true;
            break;
        case O_INFLIGHT:
            o->inflight = atoi(optarg);
            break;
        case O_CHANGES:
            o->changes = atoi(optarg);
            break;
        case O_KEYWORDS:
            o->keywords = atoi(optarg);
            break;
        case O_CONC:
            o->connect_concurrency = atoi(optarg);
            break;
        case O_LWKD_PID:
            o->lwkd_pid = atoi(optarg);
            break;
        case O_PG_PID:
            o->pg_pid = atoi(optarg);
            break;
        case O_DB:
            o->db = optarg;
            break;
        case O_DB_POLL:
            o->db_poll_ms = atoi(optarg);
            break;
        case O_DB_WAIT:
            o->db_wait_s = atof(optarg);
            break;
        case O_UNIT:
            o->unit = atoll(optarg);
            break;
        case O_FANOUT:
            if (!strcmp(optarg, "all"))
                o->redis_all = true;
            else if (!strcmp(optarg, "kiosk"))
                o->redis_all = false;
            else
                return -1;
            break;
        case O_NO_END:
            o->no_end = true;
            break;
        case O_DECODE_ALL:
            o->decode_all = true;
            break;
        case O_PROGRESS:
            o->progress_s = atof(optarg);
            break;
        case O_PING:
            o->ping_ms = atoi(optarg);
            break;
        case O_PART_READ:
            o->participant_read_ms = atoi(optarg);
            if (o->participant_read_ms < 0)
                return -1;
            break;
        case O_JSON:
            o->json = true;
            break;
        case O_HELP:
        case 'h':
            usage(stdout);
            exit(0);
        default:
            return -1;
        }
    }
    if (optind != argc || o->sessions < 1 || o->participants < 1 || o->participants > 500 ||
        o->duration_s <= 0 || o->changes < 1 || o->inflight < 1 || o->connect_concurrency < 1 ||
        o->db_poll_ms < 10 || o->ping_ms < 1000 || o->warmup_s >= o->duration_s ||
        o->participant_read_ms > BENCH_LAZY_SWEEP_MS)
        return -1;
    if (o->rate < 0)
        o->rate = (double)o->sessions * o->participants;
    if (o->rate == 0)
        o->closed = true;
    /* The closed loop's rate depends on how soon a reply is seen: read at once there. */
    if (o->participant_read_ms < 0)
        o->participant_read_ms = o->closed ? 0 : 2;
    if (o->target == TARGET_LWK) {
        struct lwkc_opts lo2 = {
            .host = o->host, .port = o->port, .socket_path = o->socket_path, .token = o->token};
        lwkc_opts_from_env(&lo2);
        o->host = lo2.host;
        o->port = lo2.port;
        o->socket_path = lo2.socket_path;
        o->token = lo2.token;
        if (!o->port)
            o->port = LWK_DEFAULT_PORT;
        if (!o->token) {
            fprintf(stderr, "lwk-bench: a facilitator token is needed: --token or LWK_TOKEN\n");
            return -2;
        }
    } else if (!o->port) {
        o->port = 6379;
    }
    if (!o->host)
        o->host = "127.0.0.1";
    return 0;
}

/* Enough descriptors for every connection: lift the soft limit to the hard one. */
static void raise_nofile(struct bench *b)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    rlim_t need = (rlim_t)b->o.sessions * (rlim_t)(b->o.participants + 2) + 64;
    if (rl.rlim_cur < need)
        bench_log(b, "warning: RLIMIT_NOFILE is %llu, %llu connections need about %llu",
                  (unsigned long long)rl.rlim_cur, (unsigned long long)(need - 64),
                  (unsigned long long)need);
}

static int resolve(struct bench *b)
{
    if (b->o.socket_path)
        return 0;
    struct addrinfo hints = {0}, *res;
    char port[16];
    hints.ai_socktype = SOCK_STREAM;
    snprintf(port, sizeof(port), "%d", b->o.port);
    int rc = getaddrinfo(b->o.host, port, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, "lwk-bench: %s: %s\n", b->o.host, gai_strerror(rc));
        return -1;
    }
    memcpy(&b->addr, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return 0;
}

int main(int argc, char **argv)
{
    struct bench *b = &bench;
    int rc = parse_opts(argc, argv, &b->o);
    if (rc < 0) {
        if (rc == -1)
            usage(stderr);
        return 2;
    }
    ops = b->o.target == TARGET_REDIS ? &bench_redis_ops : &bench_lwk_ops;
    b->t_start = bench_now();
    raise_nofile(b);
    if (resolve(b) < 0)
        return 2;
    b->loop = uv_default_loop();
    samples(b, &b->lwkd_base, NULL);
    if (b->o.lwkd_pid && !b->lwkd_base.ok)
        bench_log(b, "warning: no process %d to sample", b->o.lwkd_pid);
    uv_timer_init(b->loop, &b->tick);
    uv_timer_init(b->loop, &b->phase_timer);
    uv_timer_init(b->loop, &b->progress);
    b->tick.data = b->phase_timer.data = b->progress.data = b;
    uv_timer_start(&b->progress, progress_cb, 1000, 1000);
    b->phase = PH_SETUP;
    bench_log(b, "%s: %d sessions x %d participants, %d connections", ops->name, b->o.sessions,
              b->o.participants, b->o.sessions * (b->o.participants + 2));
    if (ops->setup(b) < 0) {
        fprintf(stderr, "lwk-bench: out of memory\n");
        return 2;
    }
    uv_run(b->loop, UV_RUN_DEFAULT);
    if (b->phase != PH_DONE)
        return 2;
    return b->exit_code;
}
