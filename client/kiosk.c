/*
 * kiosk.c: lwk-kiosk, the team-room screen. Connects as a kiosk with the
 * session's kiosk code, rebuilds the session state from its events
 * (kiosk_sync.c) and draws it full screen (kiosk_draw.c). Read-only and
 * unattended: it needs no keyboard, starts before the daemon does, keeps
 * reconnecting, and only exits on a signal, on 'q', or when the server
 * says the session does not exist (any more).
 *
 * Everything runs on one libuv loop and nothing polls: the screen is drawn
 * in a check handle right after the I/O that changed it, the clock timer
 * ticks once a second and redraws only when what it shows changed, and the
 * page timer redraws only when a list has pages to flip.
 */
#include "i18n.h"
#include "kiosk.h"

#include <curses.h>
#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

enum { EXIT_FAILURE_INIT = 1, EXIT_USAGE = 2, EXIT_REFUSED = 4 };

#define DEFAULT_PAGE_S 8
#define DEFAULT_EXIT_DELAY_S 5
#define RECREATE_MS 10000 /* after lwkc gave up for a reason that may pass */
#define NOTICE_MS 20000

struct kiosk {
    uv_loop_t *loop;
    struct lwkc_opts opts;
    const char *code;
    char server[300];
    struct lwkc *conn; /* NULL between a give-up and the next attempt */
    struct lwkc *dead; /* freed by the reaper, outside lwkc's own callbacks */
    enum kiosk_conn state;
    bool ever_ready;
    char why[160];
    struct kiosk_sync sync;
    int64_t resync_id; /* id of our last resync request, or 0 */
    bool awaiting_snapshot;

    uv_check_t redraw;
    uv_timer_t clock, pager, retry, reaper;
    uv_signal_t sig_winch, sig_int, sig_term, sig_hup;
    uv_poll_t input;
    bool input_on;

    bool dirty, paged, quitting;
    unsigned page_tick;
    int page_s;
    char shown_clock[16];
    int exit_delay_s, exit_in_s, exit_code;
    char notice[512];
    uint64_t notice_until_ms;
    struct kiosk_countdown countdown;
    bool color, ascii, known_before;
};

static void start_conn(struct kiosk *k);

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void mark_dirty(struct kiosk *k)
{
    k->dirty = true;
}

/* ---- drawing ----------------------------------------------------------- */

static void draw_now(struct kiosk *k)
{
    k->dirty = false;
    uint64_t now = wall_ms();
    struct kiosk_view v = {
        .sync = &k->sync,
        .conn = k->state,
        .code = k->code,
        .server = k->server,
        .why = k->why[0] ? k->why : NULL,
        .down_ms = k->conn ? lwkc_down_ms(k->conn) : 0,
        .exit_in_s = k->exit_in_s,
        .notice = k->notice[0] && now < k->notice_until_ms ? k->notice : NULL,
        .countdown = k->countdown,
        .now_ms = now,
        .page_tick = k->page_tick,
        .color = k->color,
        .ascii = k->ascii,
        .known_before = k->known_before,
    };
    time_t t = (time_t)(now / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(k->shown_clock, sizeof(k->shown_clock), "%H:%M", &tm);
    k->paged = kiosk_draw(&v);
}

static void redraw_cb(uv_check_t *h)
{
    struct kiosk *k = h->data;
    if (k->dirty && !k->quitting)
        draw_now(k);
}

/* ---- leaving ----------------------------------------------------------- */

static void close_handle(uv_handle_t *h)
{
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void quit(struct kiosk *k, int code)
{
    if (k->quitting)
        return;
    k->quitting = true;
    k->exit_code = code;
    if (k->conn)
        lwkc_free(k->conn);
    if (k->dead)
        lwkc_free(k->dead);
    k->conn = k->dead = NULL;
    close_handle((uv_handle_t *)&k->redraw);
    close_handle((uv_handle_t *)&k->clock);
    close_handle((uv_handle_t *)&k->pager);
    close_handle((uv_handle_t *)&k->retry);
    close_handle((uv_handle_t *)&k->reaper);
    close_handle((uv_handle_t *)&k->sig_winch);
    close_handle((uv_handle_t *)&k->sig_int);
    close_handle((uv_handle_t *)&k->sig_term);
    close_handle((uv_handle_t *)&k->sig_hup);
    if (k->input_on)
        close_handle((uv_handle_t *)&k->input);
}

/* ---- the connection ---------------------------------------------------- */

static void reaper_cb(uv_timer_t *t)
{
    struct kiosk *k = t->data;
    if (k->dead) {
        lwkc_free(k->dead);
        k->dead = NULL;
    }
}

/* Lets go of the current connection; it is freed on the next loop turn. */
static void drop_conn(struct kiosk *k)
{
    if (!k->conn)
        return;
    if (k->dead)
        lwkc_free(k->dead);
    k->dead = k->conn;
    k->conn = NULL;
    uv_timer_start(&k->reaper, reaper_cb, 0, 0);
}

static void retry_cb(uv_timer_t *t)
{
    struct kiosk *k = t->data;
    if (!k->conn && !k->quitting && k->exit_in_s == 0)
        start_conn(k);
}

/* The server says the session does not exist: show it, then exit. */
static void session_refused(struct kiosk *k)
{
    drop_conn(k);
    uv_timer_stop(&k->retry);
    bool closed = k->sync.have && k->sync.st.closed;
    k->state = closed ? KIOSK_GONE : KIOSK_UNKNOWN_CODE;
    k->known_before = k->sync.have;
    k->exit_code = closed ? 0 : EXIT_REFUSED;
    k->exit_in_s = k->exit_delay_s > 0 ? k->exit_delay_s : 1;
    mark_dirty(k);
}

static void send_resync(struct kiosk *k, bool delta)
{
    if (!k->conn)
        return;
    struct proto_msg m;
    proto_msg_init(&m, PT_SNAPSHOT_REQ);
    if (delta && k->sync.st.seq)
        proto_set_int(&m, PK_SINCE, (int64_t)k->sync.st.seq);
    int64_t id = lwkc_send(k->conn, &m);
    k->resync_id = id > 0 ? id : 0;
}

static void sync_result(struct kiosk *k, enum kiosk_sync_result r)
{
    switch (r) {
    case KIOSK_SYNC_IGNORED:
        return;
    case KIOSK_SYNC_CHANGED:
        break;
    case KIOSK_SYNC_RESYNC:
        send_resync(k, true);
        break;
    case KIOSK_SYNC_FULL:
        send_resync(k, false);
        break;
    }
    mark_dirty(k);
}

static void on_msg(void *ctx, struct lwkc *c, const struct proto_msg *m)
{
    struct kiosk *k = ctx;
    if (c != k->conn || k->quitting)
        return;
    if (m->type == PT_WELCOME) {
        k->awaiting_snapshot = true;
        k->sync.failures = 0;
        return;
    }
    if (m->type == PT_SNAPSHOT) {
        k->awaiting_snapshot = false;
        k->resync_id = 0;
        sync_result(k, kiosk_sync_snapshot(&k->sync, m));
        return;
    }
    if (proto_type_dir(m->type) == PD_EVENT) {
        if (m->type == PT_EV_NOTICE) {
            const char *msg = proto_str(m, PK_MSG);
            snprintf(k->notice, sizeof(k->notice), "%s",
                     msg && msg[0] ? msg : proto_err_text((int)proto_int(m, PK_ERR, 500)));
            k->notice_until_ms = wall_ms() + NOTICE_MS;
        }
        sync_result(k, kiosk_sync_event(&k->sync, m));
        return;
    }
    if (m->type == PT_ERROR) {
        int code = -(int)proto_int(m, PK_ERR, 500);
        int64_t id = proto_int(m, PK_ID, -1);
        if (lwkc_state(c) != LWKC_READY) {
            /* The hello was refused. */
            if (code == PROTO_ERR_BAD_CREDENTIALS || code == PROTO_ERR_NOT_FOUND ||
                code == PROTO_ERR_CLOSED) {
                session_refused(k);
            } else {
                snprintf(k->why, sizeof(k->why), "%s", proto_err_text(-code));
                mark_dirty(k);
            }
            return;
        }
        if (k->awaiting_snapshot || (k->resync_id && id == k->resync_id)) {
            /* No snapshot for what we asked (a since past the server's end, say):
             * start over from a whole one, a few times at most per connection. */
            k->awaiting_snapshot = false;
            k->resync_id = 0;
            kiosk_sync_reset(&k->sync);
            k->sync.want_full = true;
            if (k->sync.failures++ < 3)
                send_resync(k, false);
            mark_dirty(k);
        }
        return;
    }
    if (m->type == PT_BYE) {
        const char *msg = proto_str(m, PK_MSG);
        snprintf(k->why, sizeof(k->why), "%s",
                 msg && msg[0] ? msg : proto_err_text((int)proto_int(m, PK_ERR, 500)));
    }
}

static void on_state(void *ctx, struct lwkc *c, enum lwkc_state st, int err, const char *why)
{
    struct kiosk *k = ctx;
    if (c != k->conn || k->quitting)
        return;
    switch (st) {
    case LWKC_READY:
        k->state = KIOSK_CONNECTED;
        k->ever_ready = true;
        k->why[0] = '\0';
        break;
    case LWKC_CONNECTING:
        if (!k->ever_ready && k->state != KIOSK_UNREACHABLE)
            k->state = KIOSK_CONNECTING;
        break;
    case LWKC_DISCONNECTED:
        k->state = k->ever_ready ? KIOSK_LOST : KIOSK_UNREACHABLE;
        if (why)
            snprintf(k->why, sizeof(k->why), "%s", why);
        break;
    case LWKC_FAILED:
        /* lwkc gave up (a bye, or a refusal that may pass): a kiosk does not. */
        k->state = k->ever_ready ? KIOSK_LOST : KIOSK_UNREACHABLE;
        if (why && !k->why[0])
            snprintf(k->why, sizeof(k->why), "%s", why);
        drop_conn(k);
        uv_timer_start(&k->retry, retry_cb, RECREATE_MS, 0);
        break;
    }
    (void)err;
    mark_dirty(k);
}

static void start_conn(struct kiosk *k)
{
    struct lwkc_handlers h = {k, on_msg, on_state};
    k->conn = lwkc_new(k->loop, &k->opts, h);
    if (!k->conn) {
        uv_timer_start(&k->retry, retry_cb, RECREATE_MS, 0);
        return;
    }
    /* A new connection starts from a whole snapshot. */
    k->sync.want_full = true;
    lwkc_start(k->conn);
}

/* ---- timers, signals, keys --------------------------------------------- */

static void clock_cb(uv_timer_t *t)
{
    struct kiosk *k = t->data;
    if (k->exit_in_s > 0) {
        if (--k->exit_in_s == 0) {
            quit(k, k->exit_code);
            return;
        }
        mark_dirty(k);
    }
    uint64_t now = wall_ms();
    time_t s = (time_t)(now / 1000);
    struct tm tm;
    char clock[16];
    localtime_r(&s, &tm);
    strftime(clock, sizeof(clock), "%H:%M", &tm);
    if (strcmp(clock, k->shown_clock) != 0)
        mark_dirty(k);
    /* Seconds on screen: the time since the connection was lost, a countdown. */
    bool timer = k->countdown.start_ms ||
                 (k->sync.have && k->sync.st.timer.entry >= 0 && k->sync.st.timer.running);
    if (k->state == KIOSK_LOST || k->state == KIOSK_UNREACHABLE || timer)
        mark_dirty(k);
    if (k->notice[0] && now >= k->notice_until_ms) {
        k->notice[0] = '\0';
        mark_dirty(k);
    }
}

static void pager_cb(uv_timer_t *t)
{
    struct kiosk *k = t->data;
    k->page_tick++;
    if (k->paged)
        mark_dirty(k);
}

static void resize(struct kiosk *k)
{
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0)
        resizeterm(ws.ws_row, ws.ws_col);
    clearok(curscr, TRUE);
    mark_dirty(k);
}

static void signal_cb(uv_signal_t *s, int signum)
{
    struct kiosk *k = s->data;
    if (signum == SIGWINCH)
        resize(k);
    else
        quit(k, 0);
}

static void input_cb(uv_poll_t *p, int status, int events)
{
    struct kiosk *k = p->data;
    int n = 0, ch;
    /* Bounded: a terminal that keeps sending must not hold the loop. */
    while (!k->quitting && n < 64 && (ch = getch()) != ERR) {
        n++;
        if (ch == 'q' || ch == 'Q') {
            quit(k, 0);
            return;
        }
        if (ch == KEY_RESIZE) {
            /* resizeterm (in resize()) queued it: the size is known already */
            mark_dirty(k);
        } else {
            /* Any other key: draw everything again (a garbled screen). */
            clearok(curscr, TRUE);
            mark_dirty(k);
        }
    }
    if (status < 0 || n == 0) {
        /* The terminal hung up or input is at its end: stop watching it. */
        uv_poll_stop(p);
    }
}

/* ---- start-up ---------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
            _("usage: lwk-kiosk [options] KIOSK-CODE\n"
              "Shows a live lwk session full screen, for the team room.\n"
              "  -H, --host HOST          lwkd host (LWK_HOST; default 127.0.0.1)\n"
              "  -p, --port PORT          lwkd port (LWK_PORT; default %d)\n"
              "  -S, --socket PATH        lwkd Unix socket (LWK_SOCKET)\n"
              "      --page-seconds N     flip long lists every N seconds (default %d)\n"
              "      --exit-delay N       seconds to show why before exiting (default %d)\n"
              "      --no-color           monochrome (also NO_COLOR)\n"
              "      --ascii              ASCII characters only\n"
              "  -V, --version            print the version\n"
              "  -h, --help               this help\n"
              "The code may also come from LWK_KIOSK_CODE. Keys: q quits, any other redraws.\n"),
            LWK_DEFAULT_PORT, DEFAULT_PAGE_S, DEFAULT_EXIT_DELAY_S);
}

/* Dutch unless the environment names a language. */
static void default_language(void)
{
    static const char *vars[] = {"LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"};
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        const char *v = getenv(vars[i]);
        if (v && v[0])
            return;
    }
    setenv("LANG", "nl_NL.UTF-8", 1);
    setenv("LANGUAGE", "nl", 1);
}

/*
 * The hook for timed steps until an event carries them:
 * LWK_KIOSK_COUNTDOWN="START,DURATION" with START in ms since the epoch, or
 * "-N" for N seconds ago, and DURATION in seconds.
 */
static void countdown_from_env(struct kiosk *k)
{
    const char *v = getenv("LWK_KIOSK_COUNTDOWN");
    if (!v || !v[0])
        return;
    long long start = 0, dur = 0;
    if (sscanf(v, "%lld,%lld", &start, &dur) != 2 || dur <= 0 || dur > 86400)
        return;
    uint64_t now = wall_ms();
    k->countdown.start_ms = start < 0 ? now - (uint64_t)(-start) * 1000 : (uint64_t)start;
    k->countdown.duration_s = (int)dur;
}

static bool locale_is_utf8(void)
{
    const char *ctype = setlocale(LC_CTYPE, NULL);
    if (!ctype)
        return false;
    for (const char *p = ctype; *p; p++)
        if (!strncasecmp(p, "utf-8", 5) || !strncasecmp(p, "utf8", 4))
            return true;
    return false;
}

int main(int argc, char **argv)
{
    default_language();
    i18n_init("lwk-kiosk");

    static struct kiosk k;
    k.page_s = DEFAULT_PAGE_S;
    k.exit_delay_s = DEFAULT_EXIT_DELAY_S;
    k.color = !(getenv("NO_COLOR") && getenv("NO_COLOR")[0]);
    enum { OPT_PAGE = 256, OPT_EXIT_DELAY, OPT_NO_COLOR, OPT_ASCII };
    static const struct option opts[] = {
        {"host", required_argument, NULL, 'H'},
        {"port", required_argument, NULL, 'p'},
        {"socket", required_argument, NULL, 'S'},
        {"page-seconds", required_argument, NULL, OPT_PAGE},
        {"exit-delay", required_argument, NULL, OPT_EXIT_DELAY},
        {"no-color", no_argument, NULL, OPT_NO_COLOR},
        {"ascii", no_argument, NULL, OPT_ASCII},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "H:p:S:Vh", opts, NULL)) != -1) {
        switch (c) {
        case 'H':
            k.opts.host = optarg;
            break;
        case 'p':
            k.opts.port = atoi(optarg);
            break;
        case 'S':
            k.opts.socket_path = optarg;
            break;
        case OPT_PAGE:
            k.page_s = atoi(optarg) > 0 ? atoi(optarg) : DEFAULT_PAGE_S;
            break;
        case OPT_EXIT_DELAY:
            k.exit_delay_s = atoi(optarg) >= 0 ? atoi(optarg) : 0;
            break;
        case OPT_NO_COLOR:
            k.color = false;
            break;
        case OPT_ASCII:
            k.ascii = true;
            break;
        case 'V':
            printf("lwk-kiosk %s (protocol %d)\n", LWK_VERSION, PROTO_VERSION);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind < argc)
        k.code = argv[optind++];
    else if (getenv("LWK_KIOSK_CODE") && getenv("LWK_KIOSK_CODE")[0])
        k.code = getenv("LWK_KIOSK_CODE");
    if (!k.code || optind < argc || strlen(k.code) > STATE_CODE_MAX) {
        usage(stderr);
        return EXIT_USAGE;
    }
    lwkc_opts_from_env(&k.opts);
    k.opts.token = NULL; /* a kiosk needs none: do not send one around */
    k.opts.kind = PROTO_KIND_KIOSK;
    k.opts.code = k.code;
    k.opts.reconnect = true;
    if (k.opts.socket_path)
        snprintf(k.server, sizeof(k.server), "%s", k.opts.socket_path);
    else
        snprintf(k.server, sizeof(k.server), "%s:%d", k.opts.host ? k.opts.host : "127.0.0.1",
                 k.opts.port ? k.opts.port : LWK_DEFAULT_PORT);
    if (!locale_is_utf8())
        k.ascii = true;
    countdown_from_env(&k);

    if (!isatty(STDOUT_FILENO)) {
        fprintf(stderr, "%s\n", _("lwk-kiosk: standard output is not a terminal"));
        return EXIT_FAILURE_INIT;
    }
    if (!initscr()) {
        fprintf(stderr, "%s\n", _("lwk-kiosk: cannot set up the terminal"));
        return EXIT_FAILURE_INIT;
    }
    cbreak();
    noecho();
    nonl();
    nodelay(stdscr, TRUE);
    keypad(stdscr, TRUE);
    leaveok(stdscr, TRUE);
    curs_set(0);
    kiosk_draw_init(k.color);

    k.loop = uv_default_loop();
    kiosk_sync_init(&k.sync);
    uv_check_init(k.loop, &k.redraw);
    k.redraw.data = &k;
    uv_check_start(&k.redraw, redraw_cb);
    uv_timer_init(k.loop, &k.clock);
    uv_timer_init(k.loop, &k.pager);
    uv_timer_init(k.loop, &k.retry);
    uv_timer_init(k.loop, &k.reaper);
    k.clock.data = k.pager.data = k.retry.data = k.reaper.data = &k;
    /* Tick just after each second starts, so the clock turns on time. */
    uv_timer_start(&k.clock, clock_cb, 1000 - wall_ms() % 1000 + 5, 1000);
    uv_timer_start(&k.pager, pager_cb, (uint64_t)k.page_s * 1000, (uint64_t)k.page_s * 1000);
    uv_signal_t *sigs[] = {&k.sig_winch, &k.sig_int, &k.sig_term, &k.sig_hup};
    int signums[] = {SIGWINCH, SIGINT, SIGTERM, SIGHUP};
    for (int i = 0; i < 4; i++) {
        uv_signal_init(k.loop, sigs[i]);
        sigs[i]->data = &k;
        uv_signal_start(sigs[i], signal_cb, signums[i]);
    }
    if (isatty(STDIN_FILENO) && uv_poll_init(k.loop, &k.input, STDIN_FILENO) == 0) {
        k.input.data = &k;
        k.input_on = true;
        uv_poll_start(&k.input, UV_READABLE, input_cb);
    }

    k.state = KIOSK_CONNECTING;
    start_conn(&k);
    draw_now(&k);
    uv_run(k.loop, UV_RUN_DEFAULT);

    endwin();
    kiosk_sync_free(&k.sync);
    int rc = uv_loop_close(k.loop);
    if (rc != 0)
        fprintf(stderr, "lwk-kiosk: %s\n", uv_strerror(rc));
    return k.exit_code;
}
