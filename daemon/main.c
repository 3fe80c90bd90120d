/*
 * main.c: lwkd's entry point. Reads the configuration (defaults < file <
 * environment < flags), sets up the loop, the listeners, the database and
 * the engine, tells systemd it is ready, and drains cleanly on SIGTERM or
 * SIGINT: stop accepting, say goodbye to clients, flush pending writes.
 */
#include "auth.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "lwkd.h"
#include "store.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

extern char **environ;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: lwkd [options]\n"
            "  -c, --config PATH      configuration file (default " CONFIG_DEFAULT_PATH
            " when it exists)\n"
            "  -s, --set KEY=VALUE    set any configuration key (repeatable)\n"
            "  -l, --listen-tcp ADDR  numeric host:port, \"\" to disable\n"
            "  -u, --listen-unix PATH Unix socket path, \"\" to disable\n"
            "  -d, --database CONNINFO libpq connection string (no database when empty)\n"
            "  -L, --log-level LEVEL  debug, info, warn or error\n"
            "      --check-config     print the effective configuration and exit\n"
            "      --print-template   print a documented configuration file and exit\n"
            "      --migrate          apply the SQL migrations to the database and exit\n"
            "  -V, --version          print the version and exit\n"
            "  -h, --help             this text\n"
            "Every key can also be set as LWKD_<KEY> in the environment.\n");
}

static struct lwkd daemon_ctx;
static int saved_argc;
static char **saved_argv;

static const struct option long_opts[] = {
    {"config", required_argument, NULL, 'c'},
    {"set", required_argument, NULL, 's'},
    {"listen-tcp", required_argument, NULL, 'l'},
    {"listen-unix", required_argument, NULL, 'u'},
    {"database", required_argument, NULL, 'd'},
    {"log-level", required_argument, NULL, 'L'},
    {"check-config", no_argument, NULL, 'C'},
    {"print-template", no_argument, NULL, 'T'},
    {"migrate", no_argument, NULL, 'M'},
    {"version", no_argument, NULL, 'V'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/*
 * --migrate: applies the sql/ migrations to the configured database with the
 * installed migration runner (psql based), then exits with its status.
 */
static int run_migrations(const struct lwkd_config *cfg)
{
    if (!cfg->database[0]) {
        fprintf(stderr, "lwkd: --migrate needs a database (database = ... or --database)\n");
        return 1;
    }
    const char *runner = LWK_DATADIR "/lwk/lwk-migrate", *sqldir = LWK_DATADIR "/lwk/sql";
    if (access(runner, X_OK) != 0) { /* running from the build tree */
        runner = LWK_SOURCE_DIR "/scripts/migrate.sh";
        sqldir = LWK_SOURCE_DIR "/sql";
    }
    execl(runner, runner, cfg->database, sqldir, (char *)NULL);
    fprintf(stderr, "lwkd: cannot run %s\n", runner);
    return 1;
}

/* Applies the command-line settings (the highest precedence) to cfg. */
static int apply_flags(struct lwkd_config *cfg, int argc, char **argv, struct config_error *err)
{
    int o;
    optind = 1;
    opterr = 0;
    while ((o = getopt_long(argc, argv, "c:s:l:u:d:L:Vh", long_opts, NULL)) != -1) {
        int rc = 0;
        switch (o) {
        case 's':
            rc = config_set_arg(cfg, optarg, err);
            break;
        case 'l':
            rc = config_set(cfg, "listen_tcp", optarg, err);
            break;
        case 'u':
            rc = config_set(cfg, "listen_unix", optarg, err);
            break;
        case 'd':
            rc = config_set(cfg, "database", optarg, err);
            break;
        case 'L':
            rc = config_set(cfg, "log_level", optarg, err);
            break;
        }
        if (rc < 0)
            return rc;
    }
    return 0;
}

static struct engine_limits limits_of(const struct lwkd_config *cfg)
{
    struct engine_limits l = {
        .max_sessions = cfg->max_sessions,
        .max_participants = cfg->max_participants,
        .max_text_bytes = cfg->max_text_bytes,
        .max_themes = cfg->max_themes,
        .max_actions = cfg->max_actions,
        .max_keywords = cfg->max_keywords,
        .min_reveal = cfg->min_reveal,
        .session_idle_close_min = cfg->session_idle_close_min,
    };
    return l;
}

static void close_handle(uv_handle_t *h)
{
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static uv_timer_t deadline_timer;
static bool deadline_on;

static void finish(struct lwkd *d)
{
    /* The drain, its deadline and a second signal may each get here. */
    static bool finished;
    if (finished)
        return;
    finished = true;
    server_close_all(d, 0, NULL);
    close_handle((uv_handle_t *)&d->sweep);
    close_handle((uv_handle_t *)&d->drain_timer);
    close_handle((uv_handle_t *)&d->sigint);
    close_handle((uv_handle_t *)&d->sigterm);
    close_handle((uv_handle_t *)&d->sighup);
    if (deadline_on)
        close_handle((uv_handle_t *)&deadline_timer);
    auth_free(d);
    store_stop(d->store);
    if (d->db) {
        db_free(d->db);
        d->db = NULL;
    }
}

static void drain_tick(uv_timer_t *t)
{
    struct lwkd *d = t->data;
    struct store_stats st;
    store_get_stats(d->store, &st);
    if (st.waiting == 0 && d->nconns == 0) {
        log_event(LOG_INFO, "stopped", "reason=drained");
        finish(d);
    }
}

static void drain_deadline(struct lwkd *d);

static void on_signal(uv_signal_t *s, int signum)
{
    struct lwkd *d = s->data;
    if (signum == SIGHUP) {
        if (!d->config_path) {
            log_event(LOG_INFO, "reload", "changed=0 reason=\"no configuration file\"");
            return;
        }
        struct lwkd_config fresh;
        struct config_error err;
        config_defaults(&fresh);
        if (config_load_file(&fresh, d->config_path, &err) < 0 ||
            config_apply_env(&fresh, environ, &err) < 0 ||
            apply_flags(&fresh, saved_argc, saved_argv, &err) < 0 ||
            config_validate(&fresh, &err) < 0) {
            log_event(LOG_ERROR, "reload_failed", "error=\"%s\"", err.message);
            config_free(&fresh);
            return;
        }
        const char *fixed = config_first_fixed_change(&d->cfg, &fresh);
        int changed = config_reload(&d->cfg, &fresh);
        config_free(&fresh);
        log_set_level((enum log_level)d->cfg.log_level);
        struct engine_limits l = limits_of(&d->cfg);
        engine_set_limits(d->engine, &l);
        log_event(LOG_INFO, "reload", "changed=%d%s%s", changed,
                  fixed ? " needs_restart=" : "", fixed ? fixed : "");
        return;
    }
    if (d->draining) {
        log_event(LOG_WARN, "stopped", "reason=\"second signal\"");
        finish(d);
        return;
    }
    d->draining = true;
    sd_notify(0, "STOPPING=1");
    log_event(LOG_INFO, "draining", "signal=%d clients=%d", signum, d->nconns);
    server_stop_listening(d);
    server_close_all(d, PROTO_ERR_SHUTTING_DOWN, "lwkd is stopping");
    store_flush(d->store);
    uv_timer_start(&d->drain_timer, drain_tick, 0, 20);
    drain_deadline(d);
}

static void deadline_cb(uv_timer_t *t)
{
    struct lwkd *d = t->data;
    log_event(LOG_WARN, "stopped", "reason=drain_timeout_ms");
    finish(d);
}

static void drain_deadline(struct lwkd *d)
{
    uv_timer_init(d->loop, &deadline_timer);
    deadline_on = true;
    deadline_timer.data = d;
    uv_timer_start(&deadline_timer, deadline_cb, (uint64_t)d->cfg.drain_timeout_ms, 0);
    uv_unref((uv_handle_t *)&deadline_timer);
}

static void sweep_cb(uv_timer_t *t)
{
    struct lwkd *d = t->data;
    server_sweep(d);
    struct store_stats ss;
    store_get_stats(d->store, &ss);
    d->stats.events_per_s = d->stats.events - d->stats.last_events;
    d->stats.writes_per_s = ss.written - d->stats.last_written;
    d->stats.frames_in_per_s = d->stats.frames_in - d->stats.last_frames_in;
    d->stats.last_events = d->stats.events;
    d->stats.last_written = ss.written;
    d->stats.last_frames_in = d->stats.frames_in;
    uv_timeval64_t tv;
    uv_gettimeofday(&tv);
    engine_tick(d->engine, (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000);
    if (d->cfg.watchdog)
        sd_notify(0, "WATCHDOG=1");
}

static void db_state_changed(void *arg, enum proto_db_state st)
{
    struct lwkd *d = arg;
    if (st == PROTO_DB_OK)
        auth_refresh(d);
    store_db_state(d->store, st);
}

static bool migrate;

static int exit_code;

/* Called by the store once the open sessions are restored. */
static void start_serving(struct lwkd *d)
{
    if (d->draining)
        return;
    server_adopt_fds(d);
    if (server_listen(d) < 0) {
        log_event(LOG_ERROR, "stopped", "reason=listen_failed");
        exit_code = 1;
        finish(d);
        return;
    }
    log_event(LOG_INFO, "started", "version=%s pid=%d database=%s", LWK_VERSION, (int)getpid(),
              d->cfg.database[0] ? "configured" : "none");
    sd_notify(0, "READY=1");
}

static int load_config(struct lwkd *d, int argc, char **argv, bool *check_only)
{
    struct config_error err;
    const char *path = NULL;
    int o;
    /* First pass: the file and the informational flags. */
    while ((o = getopt_long(argc, argv, "c:s:l:u:d:L:Vh", long_opts, NULL)) != -1) {
        switch (o) {
        case 'c':
            path = optarg;
            break;
        case 'V':
            printf("lwkd %s (protocol %d)\n", LWK_VERSION, PROTO_VERSION);
            exit(0);
        case 'h':
            usage(stdout);
            exit(0);
        case 'T':
            config_print_template(stdout);
            exit(0);
        case 'C':
            *check_only = true;
            break;
        case 'M':
            migrate = true;
            break;
        case '?':
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "lwkd: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    config_defaults(&d->cfg);
    if (!path && access(CONFIG_DEFAULT_PATH, R_OK) == 0)
        path = CONFIG_DEFAULT_PATH;
    if (path) {
        if (config_load_file(&d->cfg, path, &err) < 0) {
            fprintf(stderr, "lwkd: %s\n", err.message);
            return 1;
        }
        d->config_path = strdup(path);
    }
    if (config_apply_env(&d->cfg, environ, &err) < 0 ||
        apply_flags(&d->cfg, argc, argv, &err) < 0 || config_validate(&d->cfg, &err) < 0) {
        fprintf(stderr, "lwkd: %s\n", err.message);
        return 1;
    }
    saved_argc = argc;
    saved_argv = argv;
    return 0;
}

int main(int argc, char **argv)
{
    struct lwkd *d = &daemon_ctx;
    bool check_only = false;
    int rc = load_config(d, argc, argv, &check_only);
    if (rc == 0 && migrate) {
        rc = run_migrations(&d->cfg);
        config_free(&d->cfg);
        free(d->config_path);
        return rc;
    }
    if (rc != 0 || check_only) {
        if (rc == 0)
            config_print(&d->cfg, stdout);
        config_free(&d->cfg);
        free(d->config_path);
        return rc;
    }
    log_set_level((enum log_level)d->cfg.log_level);
    signal(SIGPIPE, SIG_IGN);

    d->loop = uv_default_loop();
    d->started_ms = uv_now(d->loop);
    struct engine_limits limits = limits_of(&d->cfg);
    struct engine_sink sink = {d, dispatch_engine_event};
    d->engine = engine_new(&limits, sink);
    d->store = store_new(d);
    if (!d->engine || !d->store) {
        fprintf(stderr, "lwkd: out of memory\n");
        return 1;
    }

    uv_signal_init(d->loop, &d->sigint);
    uv_signal_init(d->loop, &d->sigterm);
    uv_signal_init(d->loop, &d->sighup);
    d->sigint.data = d->sigterm.data = d->sighup.data = d;
    uv_signal_start(&d->sigint, on_signal, SIGINT);
    uv_signal_start(&d->sigterm, on_signal, SIGTERM);
    uv_signal_start(&d->sighup, on_signal, SIGHUP);
    uv_timer_init(d->loop, &d->sweep);
    uv_timer_init(d->loop, &d->drain_timer);
    d->sweep.data = d->drain_timer.data = d;
    uv_timer_start(&d->sweep, sweep_cb, 1000, 1000);

    auth_init(d);
    if (d->cfg.database[0]) {
        d->db = db_new(d->loop, d->cfg.database, d->cfg.db_retry_max_ms);
        db_set_state_cb(d->db, db_state_changed, d);
        db_start(d->db);
    }
    /* Open sessions come back (database and spool) before anyone connects. */
    if (store_start(d->store, start_serving) < 0) {
        exit_code = 1;
        finish(d);
    }

    uv_run(d->loop, UV_RUN_DEFAULT);

    /* Everything is closed: release what the handles referred to. */
    uv_loop_close(d->loop);
    engine_free(d->engine);
    store_free(d->store);
    config_free(&d->cfg);
    free(d->config_path);
    return exit_code;
}
