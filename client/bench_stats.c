/*
 * bench_stats.c: lwk-bench's measuring instruments. A log-linear latency
 * histogram, CPU and memory of processes from /proc, and a PostgreSQL
 * poller that watches how far each session's events have been stored.
 *
 * The poller runs on its own thread with blocking libpq calls: it is the
 * bench's observer, not part of the loop being measured, and a slow query
 * must not delay the loop's sends. It hands each result to the loop through
 * a uv_async.
 */
#include "bench.h"

#include <dirent.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* ---- histogram --------------------------------------------------------- */

/*
 * Values below 2*HIST_SUB are exact; above, each power of two is split into
 * HIST_SUB buckets.
 */
static unsigned hist_index(uint64_t v)
{
    if (v < 2 * HIST_SUB)
        return (unsigned)v;
    int msb = 63 - __builtin_clzll(v);
    int shift = msb - HIST_SUB_BITS;
    return (unsigned)((shift + 1) * HIST_SUB + (int)((v >> shift) - HIST_SUB));
}

/* The middle of bucket i. */
static uint64_t hist_value(unsigned i)
{
    if (i < 2 * HIST_SUB)
        return i;
    unsigned shift = i / HIST_SUB - 1;
    uint64_t low = (uint64_t)(i % HIST_SUB + HIST_SUB) << shift;
    return low + ((uint64_t)1 << shift) / 2;
}

void hist_add(struct hist *h, uint64_t v)
{
    h->b[hist_index(v)]++;
    h->n++;
    h->sum += v;
    if (v > h->max)
        h->max = v;
}

uint64_t hist_quantile(const struct hist *h, double q)
{
    if (!h->n)
        return 0;
    uint64_t rank = (uint64_t)(q * (double)h->n + 0.999999);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        seen += h->b[i];
        if (seen >= rank) {
            uint64_t v = hist_value(i);
            return v > h->max ? h->max : v;
        }
    }
    return h->max;
}

void hist_merge(struct hist *into, const struct hist *from)
{
    for (unsigned i = 0; i < HIST_BUCKETS; i++)
        into->b[i] += from->b[i];
    into->n += from->n;
    into->sum += from->sum;
    if (from->max > into->max)
        into->max = from->max;
}

/* ---- /proc ------------------------------------------------------------- */

/* utime + stime of one process, and its parent pid. */
static bool stat_of(int pid, uint64_t *ticks, int *ppid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* The command name may hold spaces and parentheses: fields follow the last ')'. */
    char *p = strrchr(buf, ')');
    if (!p)
        return false;
    unsigned long long ut = 0, st = 0;
    int pp = 0;
    /* state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
    if (sscanf(p + 2, "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &pp, &ut, &st) != 3)
        return false;
    *ticks = ut + st;
    if (ppid)
        *ppid = pp;
    return true;
}

static uint64_t rss_of(int pid)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    uint64_t kib = 0;
    while (fgets(line, sizeof(line), f))
        if (!strncmp(line, "VmRSS:", 6)) {
            kib = strtoull(line + 6, NULL, 10);
            break;
        }
    fclose(f);
    return kib;
}

/*
 * Nanoseconds on a CPU and waiting for one, of every thread of a process
 * (schedstat: finer than the 10 ms ticks of /proc/PID/stat).
 */
static bool sched_of(int pid, uint64_t *run_ns, uint64_t *wait_ns)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/task", pid);
    DIR *d = opendir(path);
    if (!d)
        return false;
    *run_ns = *wait_ns = 0;
    bool any = false;
    struct dirent *de;
    while ((de = readdir(d))) {
        int tid = atoi(de->d_name);
        if (tid <= 0)
            continue;
        char p2[96];
        snprintf(p2, sizeof(p2), "/proc/%d/task/%d/schedstat", pid, tid);
        FILE *f = fopen(p2, "r");
        if (!f)
            continue;
        unsigned long long run = 0, wait = 0;
        if (fscanf(f, "%llu %llu", &run, &wait) == 2) {
            *run_ns += run;
            *wait_ns += wait;
            any = true;
        }
        fclose(f);
    }
    closedir(d);
    return any;
}

static void cpu_of(int pid, uint64_t ticks, uint64_t *cpu_ns, uint64_t *wait_ns)
{
    uint64_t run, wait;
    if (sched_of(pid, &run, &wait)) {
        *cpu_ns += run;
        *wait_ns += wait;
    } else {
        *cpu_ns += ticks * (1000000000ULL / (uint64_t)sysconf(_SC_CLK_TCK));
    }
}

uint64_t proc_cpu_pressure_us(void)
{
    FILE *f = fopen("/proc/pressure/cpu", "r");
    if (!f)
        return 0;
    char line[256];
    uint64_t total = 0;
    if (fgets(line, sizeof(line), f)) {
        const char *t = strstr(line, "total=");
        if (t)
            total = strtoull(t + 6, NULL, 10);
    }
    fclose(f);
    return total;
}

struct proc_sample proc_read(int pid, bool tree)
{
    struct proc_sample s = {0};
    if (pid <= 0 || !stat_of(pid, &s.cpu_ticks, NULL))
        return s;
    s.ok = true;
    s.rss_kib = rss_of(pid);
    cpu_of(pid, s.cpu_ticks, &s.cpu_ns, &s.wait_ns);
    if (!tree)
        return s;
    DIR *d = opendir("/proc");
    if (!d)
        return s;
    struct dirent *de;
    while ((de = readdir(d))) {
        int child = atoi(de->d_name);
        uint64_t t;
        int pp;
        if (child > 0 && child != pid && stat_of(child, &t, &pp) && pp == pid) {
            s.cpu_ticks += t;
            s.rss_kib += rss_of(child);
            cpu_of(child, t, &s.cpu_ns, &s.wait_ns);
        }
    }
    closedir(d);
    return s;
}

void proc_machine(uint64_t *busy, uint64_t *total)
{
    *busy = *total = 0;
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return;
    unsigned long long v[10] = {0};
    if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
               &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]) >= 8) {
        /* user nice system idle iowait irq softirq steal (guest is in user) */
        for (int i = 0; i < 8; i++)
            *total += v[i];
        *busy = *total - v[3] - v[4];
    }
    fclose(f);
}

uint64_t proc_self_cpu_us(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 +
           (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

/* ---- PostgreSQL poller -------------------------------------------------- */

/*
 * One row per session, in the order given: how far its events are stored
 * (sessions.last_seq, kept by lwk.store_events' trigger), -1 for no row yet.
 */
static const char poll_sql[] =
    "SELECT coalesce(s.last_seq, -1) FROM unnest($1::bigint[]) WITH ORDINALITY AS u(id, o) "
    "LEFT JOIN lwk.sessions s ON s.id = u.id ORDER BY u.o";

static char *ids_literal(const int64_t *ids, int n)
{
    size_t cap = (size_t)n * 21 + 3, len = 0;
    char *s = malloc(cap);
    if (!s)
        return NULL;
    s[len++] = '{';
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(s + len, cap - len, "%s%lld", i ? "," : "", (long long)ids[i]);
    s[len++] = '}';
    s[len] = '\0';
    return s;
}

static void *db_thread(void *arg)
{
    struct bench_db *db = arg;
    PGconn *pg = PQconnectdb(db->conninfo);
    char *lit = ids_literal(db->ids, db->n_ids);
    int64_t *vals = calloc((size_t)db->n_ids + 1, sizeof(*vals));
    if (PQstatus(pg) != CONNECTION_OK || !lit || !vals) {
        pthread_mutex_lock(&db->mu);
        snprintf(db->error, sizeof(db->error), "%s", PQerrorMessage(pg));
        db->failed = true;
        pthread_mutex_unlock(&db->mu);
        uv_async_send(&db->async);
        goto out;
    }
    for (;;) {
        pthread_mutex_lock(&db->mu);
        bool stop = db->stop;
        pthread_mutex_unlock(&db->mu);
        if (stop)
            break;
        const char *params[1] = {lit};
        PGresult *r = PQexecParams(pg, poll_sql, 1, NULL, params, NULL, NULL, 0);
        uint64_t t = bench_now();
        if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != db->n_ids) {
            pthread_mutex_lock(&db->mu);
            snprintf(db->error, sizeof(db->error), "%s", PQresultErrorMessage(r));
            db->failed = true;
            pthread_mutex_unlock(&db->mu);
            PQclear(r);
            uv_async_send(&db->async);
            break;
        }
        for (int i = 0; i < db->n_ids; i++)
            vals[i] = strtoll(PQgetvalue(r, i, 0), NULL, 10);
        PQclear(r);
        pthread_mutex_lock(&db->mu);
        memcpy(db->latest.last_seq, vals, (size_t)db->n_ids * sizeof(*vals));
        db->latest.t_ns = t;
        db->latest.n = db->n_ids;
        db->have_latest = true;
        db->polls++;
        pthread_mutex_unlock(&db->mu);
        uv_async_send(&db->async);
        struct timespec ts = {db->poll_ms / 1000, (long)(db->poll_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
out:
    free(vals);
    free(lit);
    PQfinish(pg);
    return NULL;
}

static void db_async_cb(uv_async_t *a)
{
    struct bench_db *db = a->data;
    struct bench *b = db->b;
    const struct bench_target_ops *ops =
        b->o.target == TARGET_REDIS ? &bench_redis_ops : &bench_lwk_ops;
    pthread_mutex_lock(&db->mu);
    if (!db->have_latest) {
        pthread_mutex_unlock(&db->mu);
        return;
    }
    db->have_latest = false;
    uint64_t t = db->latest.t_ns;
    int64_t sum = 0;
    for (int i = 0; i < db->latest.n; i++) {
        int64_t v = db->latest.last_seq[i];
        if (v > 0)
            sum += v;
        if (ops->db_progress)
            ops->db_progress(b, i, v, t);
    }
    pthread_mutex_unlock(&db->mu);
    db->rows_now = sum;
    if (b->phase <= PH_IDLE || (b->phase == PH_LOAD && !db->t_rows0)) {
        db->rows0 = sum;
        db->t_rows0 = t;
    }
    if (b->phase == PH_LOAD) {
        db->rows1 = sum;
        db->t_rows1 = t;
    }
}

struct bench_db *bench_db_start(struct bench *b, const char *conninfo, int64_t *ids, int n,
                                int poll_ms)
{
    struct bench_db *db = calloc(1, sizeof(*db));
    if (!db)
        return NULL;
    db->b = b;
    db->conninfo = strdup(conninfo);
    db->ids = ids;
    db->n_ids = n;
    db->poll_ms = poll_ms;
    db->latest.last_seq = calloc((size_t)n + 1, sizeof(int64_t));
    pthread_mutex_init(&db->mu, NULL);
    uv_async_init(b->loop, &db->async, db_async_cb);
    db->async.data = db;
    if (pthread_create(&db->thread, NULL, db_thread, db) == 0)
        db->started = true;
    return db;
}

static void db_async_closed(uv_handle_t *h)
{
    struct bench_db *db = h->data;
    free(db->latest.last_seq);
    free(db->conninfo);
    free(db->ids);
    pthread_mutex_destroy(&db->mu);
    free(db);
}

void bench_db_stop(struct bench_db *db)
{
    if (!db)
        return;
    pthread_mutex_lock(&db->mu);
    db->stop = true;
    pthread_mutex_unlock(&db->mu);
    if (db->started)
        pthread_join(db->thread, NULL);
    uv_close((uv_handle_t *)&db->async, db_async_closed);
}
