/*
 * bench.h: lwk-bench's shared state. bench.c runs the phases (set-up, idle,
 * load, drain, database wait, report); a target drives the connections:
 * bench_lwk.c speaks the lwk protocol to lwkd through proto/, bench_redis.c
 * speaks RESP to a Redis server for the comparison. bench_stats.c holds the
 * latency histogram, the /proc readers and the PostgreSQL poller.
 */
#ifndef LWK_BENCH_H
#define LWK_BENCH_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <uv.h>

/* ---- latency histogram (log-linear, ~1.6% resolution) ------------------- */

#define HIST_SUB_BITS 6
#define HIST_SUB (1 << HIST_SUB_BITS)
#define HIST_BUCKETS ((64 - HIST_SUB_BITS + 1) * HIST_SUB)

struct hist {
    uint64_t n, max, sum;
    uint64_t b[HIST_BUCKETS];
};

void hist_add(struct hist *h, uint64_t v);
uint64_t hist_quantile(const struct hist *h, double q);
void hist_merge(struct hist *into, const struct hist *from);

/* ---- /proc ------------------------------------------------------------- */

struct proc_sample {
    bool ok;
    uint64_t cpu_ticks; /* utime + stime (+ children's, for a process tree) */
    uint64_t cpu_ns;    /* the same from schedstat, all threads */
    uint64_t rss_kib;
    uint64_t wait_ns; /* time runnable but waiting for a CPU (schedstat) */
};

/* One process, or (tree) the process and its direct children, e.g. a postmaster. */
struct proc_sample proc_read(int pid, bool tree);
/* Machine-wide busy and total jiffies from /proc/stat. */
void proc_machine(uint64_t *busy, uint64_t *total);
uint64_t proc_self_cpu_us(void);
/* Cumulative microseconds some task waited for a CPU (/proc/pressure/cpu). */
uint64_t proc_cpu_pressure_us(void);

/* ---- options ------------------------------------------------------------ */

enum bench_target { TARGET_LWK, TARGET_REDIS };

struct bench_opts {
    enum bench_target target;
    const char *host;
    int port;
    const char *socket_path;
    const char *token;
    int sessions, participants;
    double duration_s, warmup_s, idle_s;
    double rate; /* submissions per second, all participants together */
    bool closed; /* closed loop: each participant keeps `inflight` outstanding */
    int inflight;
    int changes;  /* score submissions per participant per blind round */
    int keywords; /* speakers who add a keyword in each first-pass explanation */
    int connect_concurrency;
    int lwkd_pid, pg_pid;
    const char *db;
    int db_poll_ms;
    double db_wait_s;
    int64_t unit;
    bool json, no_end, decode_all, redis_all;
    double progress_s;
    int ping_ms;
    /* Participants and facilitators read in batches (bench_lazy), 0: by the loop. */
    int participant_read_ms;
};

/* ---- run state ---------------------------------------------------------- */

enum bench_phase {
    PH_SETUP,
    PH_IDLE,
    PH_LOAD,
    PH_DRAIN,
    PH_DBWAIT,
    PH_FINISH,
    PH_DONE,
};

#define BENCH_MAX_ERR 1000

struct bench {
    struct bench_opts o;
    uv_loop_t *loop;
    struct sockaddr_storage addr; /* TCP target */
    enum bench_phase phase;
    bool stopping; /* no new submissions */
    void *t;       /* the target's own state */

    uint64_t t_start, t_setup_done, t_load_start, t_load_end, t_drained, t_db_done, t_end;
    uint64_t t_measure; /* latencies count from here (load start + warm-up) */

    /* connections */
    int conns_wanted, conns_ready, conns_pending, conns_failed, conns_dropped;
    uint64_t connect_us_max;

    /* submissions */
    uint64_t scheduled, skipped, sent, acked, rejected;
    uint64_t events, frames_in, frames_decoded, bytes_in;
    uint64_t kiosk_events, latency_unmatched, kiosk_missing;
    uint64_t other_requests, rounds; /* flow requests; blind rounds revealed */
    uint64_t errors_by_code[BENCH_MAX_ERR];
    uint64_t protocol_errors; /* frames the bench could not decode */
    int max_outstanding;
    struct hist lat;    /* submission to kiosk, microseconds */
    struct hist lat_iv; /* the same, for the current progress interval */
    struct hist sched;  /* open loop: actual send minus intended time, microseconds */
    uint64_t acked_measured, events_measured_start;

    /* samples */
    struct proc_sample lwkd_base, lwkd_idle, lwkd_load0, lwkd_load1, lwkd_end;
    struct proc_sample pg_load0, pg_load1;
    uint64_t self_cpu0, self_cpu1, mach_busy0, mach_busy1, mach_tot0, mach_tot1;
    struct proc_sample self_load0, self_load1;
    uint64_t psi0, psi1;
    uint64_t events_at_load0, events_at_load1, acked_at_load1;

    /* database poller (optional) */
    struct bench_db *db;

    uv_timer_t tick, phase_timer, progress;
    uint64_t last_progress_ns, prog_acked, prog_events;
    int exit_code;
};

/* bench.c: what targets report back. */
void bench_setup_done(struct bench *b);
void bench_record_latency(struct bench *b, uint64_t t_send_ns, uint64_t t_recv_ns);
void bench_error(struct bench *b, int code);
void bench_log(struct bench *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
uint64_t bench_now(void);

/* A target: the connections and the flow. */
struct bench_target_ops {
    const char *name;
    int (*setup)(struct bench *b); /* connect everything; calls bench_setup_done */
    void (*start_load)(struct bench *b);
    bool (*submit)(struct bench *b, uint64_t t_intended); /* open loop: one submission */
    void (*stop_load)(struct bench *b);
    bool (*drained)(struct bench *b); /* every reply and kiosk event is in */
    void (*finish)(struct bench *b);  /* end sessions, close connections */
    bool (*finished)(struct bench *b);
    void (*tick)(struct bench *b, uint64_t now_ms); /* once a second: keep-alives */
    /* Session ids and per-session stored-progress for the database poller. */
    int (*session_ids)(struct bench *b, int64_t **ids);
    void (*db_progress)(struct bench *b, int idx, int64_t last_seq, uint64_t t_ns);
    bool (*db_complete)(struct bench *b);
};

extern const struct bench_target_ops bench_lwk_ops;
extern const struct bench_target_ops bench_redis_ops;

/* ---- reading in batches (bench_lazy.c) ---------------------------------------
 *
 * Only the kiosks' reads are timed; what a participant or a facilitator
 * receives matters only for the flow (its replies) and the counts. A lazy
 * connection is taken out of the loop's epoll set and read by a timer
 * instead, with plain non-blocking reads until the socket is empty: wait_ms
 * after it sent a request, then (while its replies are not all in and the
 * reads come back without one) after 2, 4, ... times wait_ms; and at least
 * every sweep_ms in any case (unread frames stay far below the socket
 * buffer), spread over the sweep. One read then takes what arrived since
 * the last one, and lwkd's writes to it wake no epoll. The target keeps
 * using the libuv stream for writing and closing.
 */

#define BENCH_LAZY_SWEEP_MS 1000
#define BENCH_LAZY_LEVELS 8 /* waits of wait_ms << 0 .. 7 */

struct bench_lazy_conn {
    bool on;          /* read by the batch timer, not by the loop */
    bool queued;      /* in a due queue */
    int fd;           /* the stream's, borrowed */
    uint32_t pos;     /* index in the sweep list */
    uint64_t last_ms; /* when last read */
};

struct bench_lazy_ops {
    /* Input as a uv_read_cb gets it: n bytes, or n < 0 a UV error (UV_EOF). */
    void (*input)(struct bench_lazy_conn *lc, ssize_t n, const char *data);
    /* Replies lc still waits for. */
    int (*outstanding)(struct bench_lazy_conn *lc);
};

struct bench_lazy_due {
    struct bench_lazy_conn *lc;
    uint64_t due_ms;
};

/* Connections due after the same wait: a FIFO is in due order. */
struct bench_lazy_ring {
    struct bench_lazy_due *e; /* owned, cap entries (each connection at most once) */
    size_t head, len;
};

struct bench_lazy {
    const struct bench_lazy_ops *ops;
    uv_loop_t *loop;
    uv_timer_t timer;
    bool started;
    uint64_t wait_ms, sweep_ms, last_tick_ms;
    double sweep_credit;
    struct bench_lazy_conn **all; /* owned: the sweep list */
    size_t n_all, cap, sweep_pos;
    struct bench_lazy_ring due[BENCH_LAZY_LEVELS]; /* [l]: due wait_ms << l after queueing */
};

void bench_lazy_init(struct bench_lazy *lz, uv_loop_t *loop, const struct bench_lazy_ops *lops,
                     int wait_ms, int sweep_ms);
/* Takes st out of the loop's reading; lc is read by the timer from now on. */
int bench_lazy_add(struct bench_lazy *lz, struct bench_lazy_conn *lc, uv_stream_t *st);
/* Before the stream is closed (its descriptor may be reused at once). */
void bench_lazy_remove(struct bench_lazy *lz, struct bench_lazy_conn *lc);
/* lc sent a request: read it wait_ms from now. */
void bench_lazy_expect(struct bench_lazy *lz, struct bench_lazy_conn *lc);
/* Reads every lazy connection now (counts up to date, drops noticed). */
void bench_lazy_read_all(struct bench_lazy *lz);
/* Stops the timer and frees the lists; cb as for uv_close. */
void bench_lazy_close(struct bench_lazy *lz, uv_close_cb cb);

/* ---- PostgreSQL poller (bench_stats.c) ---------------------------------- */

struct bench_db_result {
    uint64_t t_ns;
    int n;
    int64_t *last_seq; /* per session, -1 when the session has no row */
};

struct bench_db {
    struct bench *b;
    char *conninfo;
    int64_t *ids;
    int n_ids;
    int poll_ms;
    pthread_t thread;
    pthread_mutex_t mu;
    uv_async_t async;
    bool stop, started, failed;
    char error[256];
    struct bench_db_result latest; /* guarded by mu */
    bool have_latest;
    uint64_t polls;
    /* loop side */
    int64_t rows0, rows1; /* sum of last_seq at load start and end */
    uint64_t t_rows0, t_rows1;
    int64_t rows_now;
    struct hist lag; /* submission to seen-in-database, microseconds */
};

struct bench_db *bench_db_start(struct bench *b, const char *conninfo, int64_t *ids, int n,
                                int poll_ms);
void bench_db_stop(struct bench_db *db);

#endif
