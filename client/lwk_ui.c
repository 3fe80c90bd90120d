/*
 * lwk_ui.c: the interactive modes of lwk, the facilitator console and the
 * participant screen. One libuv loop runs both the connection (lwkc, with
 * reconnect and resume) and the keyboard: libedit's readline-compatible
 * callback interface (rl_callback_read_char) is fed from a uv_poll on fd 0,
 * so typing, history and tab completion never block the socket.
 *
 * On a terminal the screen is redrawn whole on every change: the session
 * panel (step, vermogen, who joined, who scored, whose turn, the commands of
 * this step) on top, a log of what happened below it, the input line at the
 * bottom. Without a terminal (pipes, scripts) the same commands are read one
 * line at a time, each sent only after the previous one was answered, and
 * results are printed as plain lines.
 *
 * Nothing typed is lost silently: input typed while the connection is down
 * is queued and sent after the resume, and a request whose answer was cut
 * off by a disconnect is reported as unconfirmed.
 */
#define _XOPEN_SOURCE 700 /* wcwidth */
#include "lwk_cli.h"
#include "lwk_ui.h"

#include <editline/readline.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <wchar.h>

#define LOG_MAX 300
#define PEND_MAX 256
#define LINE_MAX_BYTES 8192

struct pend {
    int64_t id;
    enum proto_type type;
    char *label; /* owned */
};

struct ui {
    uv_loop_t *loop;
    struct lwkc *c;
    struct lwkc_opts opts;
    bool facilitator;
    struct session_state st;
    int my_pid;
    int64_t session;
    char join_code[STATE_CODE_MAX + 1];

    bool tty_in, tty_out, listen;
    bool ever_welcomed, welcomed, synced, awaiting_open;
    bool down;
    char down_why[160];

    char *log[LOG_MAX];
    int nlog;
    struct pend pend[PEND_MAX];
    int npend;
    struct oreq *qhead, *qtail; /* typed while offline: sent after the resume */

    /* Lines from a non-terminal stdin wait here and run one at a time. */
    char **lines;
    int nlines, caplines;
    char *inbuf;
    size_t inlen;
    bool in_eof;

    uv_poll_t in_poll;
    bool in_poll_on;
    uv_signal_t sig_winch, sig_int, sig_term, sig_hup;
    uv_timer_t redraw;
    bool redraw_pending;

    bool quitting;
    int exit_code;
    char *fatal; /* printed once the terminal is restored; owned */
    uint64_t end_confirm_until;
    /* What was last printed in plain mode, to print the panel on change only. */
    int shown_phase, shown_item, shown_round;
    bool shown_paused;
    uint64_t last_turn_seen;
};

static struct ui *G; /* readline's callbacks carry no context */

/* Keeps a message for stderr until the terminal is back to normal. */
static void fatal(struct ui *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fatal(struct ui *u, const char *fmt, ...)
{
    if (u->fatal)
        return;
    struct sbuf b;
    sb_init(&b);
    va_list ap;
    va_start(ap, fmt);
    sb_vprintf(&b, fmt, ap);
    va_end(ap);
    u->fatal = sb_take(&b);
}

static void schedule_redraw(struct ui *u);
static void process_lines(struct ui *u);

/* ---- log -------------------------------------------------------------- */

static void ui_log(struct ui *u, bool error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void ui_log(struct ui *u, bool error, const char *fmt, ...)
{
    struct sbuf b;
    sb_init(&b);
    va_list ap;
    va_start(ap, fmt);
    sb_vprintf(&b, fmt, ap);
    va_end(ap);
    if (!u->tty_out) {
        FILE *f = error ? stderr : stdout;
        fprintf(f, "%s\n", b.p);
        fflush(f);
        sb_free(&b);
        return;
    }
    if (u->nlog == LOG_MAX) {
        free(u->log[0]);
        memmove(u->log, u->log + 1, sizeof(u->log[0]) * (LOG_MAX - 1));
        u->nlog--;
    }
    if (error) {
        struct sbuf c;
        sb_init(&c);
        sb_printf(&c, "%s%s%s", C_RED(), b.p, C_OFF());
        u->log[u->nlog++] = sb_take(&c);
        sb_free(&b);
    } else {
        u->log[u->nlog++] = sb_take(&b);
    }
    schedule_redraw(u);
}

/* ---- drawing -------------------------------------------------------------- */

static void term_size(struct ui *u, int *rows, int *cols)
{
    struct winsize ws;
    *rows = 24;
    *cols = 80;
    if (ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0) {
        *rows = ws.ws_row;
        *cols = ws.ws_col;
    }
}

/* Appends line cut to cols columns (colour codes kept, closed at the end). */
static void fit_line(struct sbuf *out, const char *line, size_t len, int cols)
{
    int w = 0;
    bool coloured = false;
    mbstate_t ps;
    memset(&ps, 0, sizeof(ps));
    const char *p = line, *end = line + len;
    while (p < end) {
        if (*p == '\033') {
            const char *m = memchr(p, 'm', (size_t)(end - p));
            if (!m)
                break;
            sb_putn(out, p, (size_t)(m + 1 - p));
            coloured = true;
            p = m + 1;
            continue;
        }
        wchar_t wc;
        size_t n = mbrtowc(&wc, p, (size_t)(end - p), &ps);
        int cw = 1;
        if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
            memset(&ps, 0, sizeof(ps));
            n = 1;
        } else {
            cw = wcwidth(wc);
            if (cw < 0)
                cw = 1;
        }
        if (w + cw > cols)
            break;
        sb_putn(out, p, n);
        w += cw;
        p += n;
    }
    if (coloured)
        sb_puts(out, C_OFF());
}

static void build_panel(struct ui *u, struct sbuf *b, int cols)
{
    if (u->down) {
        char secs[32];
        snprintf(secs, sizeof(secs), "%llu", (unsigned long long)(lwkc_down_ms(u->c) / 1000));
        sb_printf(b, "%s", C_YELLOW());
        sb_printf(b, _("Connection lost (%s): reconnecting… %s s"), u->down_why, secs);
        sb_printf(b, "%s\n", C_OFF());
        int queued = 0;
        for (struct oreq *q = u->qhead; q; q = q->next)
            queued++;
        if (queued)
            sb_printf(b, _("Typed while offline, will be sent after reconnecting: %d\n"), queued);
    } else if (!u->synced) {
        sb_printf(b, "%s\n", _("Connecting…"));
    }
    view_render(b, &u->st, u->facilitator, u->my_pid, cols);
    if (u->facilitator && u->st.seq) {
        struct sbuf a;
        sb_init(&a);
        cmd_available(&a, &u->st, true);
        /* Wrapped at the double spaces between commands. */
        for (char *x = a.p; (x = strstr(x, "  ")); x += 2)
            x[0] = x[1] = '\x1f';
        const char *label = _("Commands:");
        int col = utf8_width(label), ind = col + 1;
        bool first = true;
        sb_printf(b, "%s%s%s", C_DIM(), label, C_OFF());
        char *save = NULL;
        for (char *w = strtok_r(a.p, "\x1f", &save); w; w = strtok_r(NULL, "\x1f", &save)) {
            int ww = utf8_width(w);
            if (!first && col + 2 + ww > cols) {
                sb_printf(b, "\n%*s", ind, "");
                col = ind;
            } else {
                sb_puts(b, first ? " " : "  ");
                col += first ? 1 : 2;
            }
            first = false;
            sb_puts(b, w);
            col += ww;
        }
        sb_putc(b, '\n');
        sb_free(&a);
    } else if (!u->facilitator && u->st.seq && !u->listen) {
        sb_printf(b, "%s%s%s\n", C_DIM(),
                  _("Type your answer and press Enter. /help shows the commands, /quit leaves."),
                  C_OFF());
    }
}

static const char *prompt_for(struct ui *u)
{
    static char p[160];
    const struct session_state *st = &u->st;
    int phase = st->closed ? PROTO_PHASE_CLOSED : (int)st->phase;
    if (u->down)
        snprintf(p, sizeof(p), "%s> ", _("offline"));
    else if (u->facilitator) {
        if ((phase == PROTO_PHASE_SCORE || phase == PROTO_PHASE_EXPLAIN) && st->item >= 0)
            snprintf(p, sizeof(p), "[%s %d/%d] > ", phase_name(phase), st->item + 1, st->n_items);
        else
            snprintf(p, sizeof(p), "[%s] > ", phase_name(phase));
    } else {
        const char *what = "";
        if (st->paused)
            what = _("paused");
        else if (phase == PROTO_PHASE_SCORE)
            what = _("grade");
        else if (phase == PROTO_PHASE_EXPLAIN)
            what = state_current_speaker(st) == u->my_pid ? _("keywords") : "";
        else if (phase == PROTO_PHASE_THEMES)
            what = st->vote_open ? _("vote") : _("theme");
        else if (phase == PROTO_PHASE_DESIRED)
            what = _("desired");
        else if (phase == PROTO_PHASE_ACTIONS)
            what = _("action");
        else if (phase == PROTO_PHASE_SUMMARY)
            what = _("reaction or 1-5");
        snprintf(p, sizeof(p), "%s> ", what);
    }
    return p;
}

static void draw(struct ui *u)
{
    if (!u->tty_out) {
        /* Plain output: the panel once per step, vermogen or pause change. */
        const struct session_state *st = &u->st;
        int phase = st->closed ? PROTO_PHASE_CLOSED : (int)st->phase;
        if (st->seq && (phase != u->shown_phase || st->item != u->shown_item ||
                        st->round != u->shown_round || st->paused != u->shown_paused)) {
            u->shown_phase = phase;
            u->shown_item = st->item;
            u->shown_round = st->round;
            u->shown_paused = st->paused;
            struct sbuf b;
            sb_init(&b);
            sb_puts(&b, "----\n");
            build_panel(u, &b, 100);
            fputs(b.p, stdout);
            fflush(stdout);
            sb_free(&b);
        }
        return;
    }
    int rows, cols;
    term_size(u, &rows, &cols);
    struct sbuf panel, scr;
    sb_init(&panel);
    sb_init(&scr);
    build_panel(u, &panel, cols);
    /* Panel lines, capped so that a few log lines and the prompt still fit. */
    int max_panel = rows - 4 > 3 ? rows - 4 : 3, n = 0;
    sb_puts(&scr, "\033[?25l\033[H");
    const char *p = panel.p;
    while (*p && n < max_panel) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (n == max_panel - 1 && nl && nl[1]) {
            sb_puts(&scr, "…");
        } else {
            fit_line(&scr, p, len, cols);
        }
        sb_puts(&scr, "\033[K\r\n");
        n++;
        p = nl ? nl + 1 : p + len;
    }
    sb_puts(&scr, C_DIM());
    for (int i = 0; i < cols; i++)
        sb_puts(&scr, "─");
    sb_puts(&scr, C_OFF());
    sb_puts(&scr, "\033[K\r\n");
    n++;
    int log_rows = rows - 1 - n;
    int first = u->nlog - log_rows > 0 ? u->nlog - log_rows : 0;
    for (int i = 0; i < log_rows; i++) {
        int k = first + i;
        if (k < u->nlog)
            fit_line(&scr, u->log[k], strlen(u->log[k]), cols);
        sb_puts(&scr, "\033[K\r\n");
    }
    sb_printf(&scr, "\033[%d;1H\033[K\033[?25h", rows);
    fwrite(scr.p, 1, scr.len, stdout);
    fflush(stdout);
    sb_free(&panel);
    sb_free(&scr);
    if (u->tty_in && !u->quitting) {
        rl_set_prompt(prompt_for(u));
        rl_forced_update_display();
    }
}

static void redraw_cb(uv_timer_t *t)
{
    struct ui *u = t->data;
    u->redraw_pending = false;
    draw(u);
    if ((u->down || (u->tty_out && u->st.timer.entry >= 0)) && !u->quitting) {
        /* Keep the reconnect counter and the countdown ticking. */
        u->redraw_pending = true;
        uv_timer_start(&u->redraw, redraw_cb, 1000, 0);
    }
}

static void schedule_redraw(struct ui *u)
{
    if (u->redraw_pending || u->quitting)
        return;
    u->redraw_pending = true;
    uv_timer_start(&u->redraw, redraw_cb, 15, 0);
}

/* ---- leaving ----------------------------------------------------------------- */

static void close_walk(uv_handle_t *h, void *arg)
{
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void quit(struct ui *u, int code)
{
    if (u->quitting)
        return;
    u->quitting = true;
    u->exit_code = code;
    uv_timer_stop(&u->redraw);
    if (u->in_poll_on) {
        uv_poll_stop(&u->in_poll);
    }
    uv_signal_stop(&u->sig_winch);
    uv_signal_stop(&u->sig_int);
    uv_signal_stop(&u->sig_term);
    uv_signal_stop(&u->sig_hup);
    if (u->c) {
        lwkc_free(u->c);
        u->c = NULL;
    }
    uv_stop(u->loop);
}

/* ---- sending ------------------------------------------------------------------ */

static void pend_add(struct ui *u, int64_t id, enum proto_type type, const char *label)
{
    if (u->npend == PEND_MAX) {
        free(u->pend[0].label);
        memmove(u->pend, u->pend + 1, sizeof(u->pend[0]) * (PEND_MAX - 1));
        u->npend--;
    }
    u->pend[u->npend].id = id;
    u->pend[u->npend].type = type;
    u->pend[u->npend].label = strdup(label);
    u->npend++;
}

static int pend_take_type(struct ui *u, int64_t id, char **label, enum proto_type *type)
{
    for (int i = 0; i < u->npend; i++) {
        if (u->pend[i].id != id)
            continue;
        *label = u->pend[i].label;
        if (type)
            *type = u->pend[i].type;
        memmove(u->pend + i, u->pend + i + 1, sizeof(u->pend[0]) * (size_t)(u->npend - i - 1));
        u->npend--;
        return 1;
    }
    return 0;
}

static void send_or_queue(struct ui *u, struct oreq *q)
{
    if (u->welcomed && u->synced && !u->down) {
        int64_t id = lwkc_send(u->c, &q->m);
        if (id > 0) {
            pend_add(u, id, q->m.type, q->label);
            oreq_free(q);
            return;
        }
    }
    q->next = NULL;
    if (u->qtail)
        u->qtail->next = q;
    else
        u->qhead = q;
    u->qtail = q;
    ui_log(u, false, _("… offline: \"%s\" will be sent after reconnecting"), q->label);
}

static void flush_queue(struct ui *u)
{
    while (u->qhead && u->welcomed && u->synced) {
        struct oreq *q = u->qhead;
        u->qhead = q->next;
        if (!u->qhead)
            u->qtail = NULL;
        int64_t id = lwkc_send(u->c, &q->m);
        if (id < 0) {
            q->next = u->qhead;
            u->qhead = q;
            if (!u->qtail)
                u->qtail = q;
            return;
        }
        ui_log(u, false, _("→ sending what was typed offline: %s"), q->label);
        pend_add(u, id, q->m.type, q->label);
        oreq_free(q);
    }
}

/* ---- input ---------------------------------------------------------------------- */

static void help(struct ui *u, bool all)
{
    struct sbuf b;
    sb_init(&b);
    int phase = all || !u->st.seq ? -1 : (u->st.closed ? PROTO_PHASE_CLOSED : (int)u->st.phase);
    if (u->facilitator) {
        cmd_help_facilitator(&b, phase);
    } else {
        sb_printf(&b, "%s\n", _("Type your answer to what the screen asks and press Enter."));
        cmd_help_participant(&b, phase);
        sb_printf(&b, "  /show  /help all  /quit\n%s\n",
                  _("Commands start with /, e.g. /vote 2 or /score 7."));
    }
    char *save = NULL;
    for (char *l = strtok_r(b.p, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
        ui_log(u, false, "%s", l);
    sb_free(&b);
}

static void handle_line(struct ui *u, char *line)
{
    while (*line == ' ' || *line == '\t')
        line++;
    size_t len = strlen(line);
    while (len && (line[len - 1] == ' ' || line[len - 1] == '\t' || line[len - 1] == '\r'))
        line[--len] = '\0';
    if (!*line) {
        if (!u->facilitator && u->st.closed && u->tty_in)
            quit(u, 0);
        return;
    }
    if (u->tty_in)
        add_history(line);
    if (u->tty_out)
        ui_log(u, false, "%s%s%s%s", C_DIM(), prompt_for(u), line, C_OFF());
    bool slash = line[0] == '/';
    const char *cmdline = slash ? line + 1 : line;
    char **argv;
    int argc = words_split(cmdline, &argv);
    if (argc < 0) {
        ui_log(u, true, "%s", _("a quote is not closed"));
        if (!u->tty_in && !u->exit_code)
            u->exit_code = LWK_EXIT_USAGE;
        return;
    }
    if (argc == 0) {
        words_free(argc, argv);
        return;
    }
    const char *w = argv[0];
    bool local_ok = u->facilitator || slash || argc == 1;
    if (local_ok && (!strcmp(w, "quit") || !strcmp(w, "exit") || !strcmp(w, "q"))) {
        words_free(argc, argv);
        quit(u, u->tty_in ? 0 : u->exit_code);
        return;
    }
    if (local_ok && (!strcmp(w, "help") || !strcmp(w, "?"))) {
        help(u, argc > 1 && !strcmp(argv[1], "all"));
        words_free(argc, argv);
        return;
    }
    if (local_ok && (!strcmp(w, "show") || !strcmp(w, "clear"))) {
        if (!u->tty_out) {
            u->shown_phase = -2;
            draw(u);
        } else {
            fputs("\033[2J", stdout);
            schedule_redraw(u);
        }
        words_free(argc, argv);
        return;
    }
    struct cmd_ctx cx = {&u->st, u->facilitator, u->my_pid, -1, "", line};
    struct oreq *q = NULL;
    int rc;
    if (u->facilitator) {
        rc = cmd_facilitator(&cx, argc, argv, &q);
        if (rc == CMD_UNKNOWN && argc >= 1 && proto_type_lookup(w, strlen(w)) != PT__NONE)
            rc = cmd_generic(&cx, argc, argv, &q);
        if (rc == CMD_REQUEST && q->m.type == PT_END && u->tty_in) {
            uint64_t now = uv_now(u->loop);
            if (now > u->end_confirm_until) {
                u->end_confirm_until = now + 30000;
                ui_log(u, false, "%s",
                       _("End the session for everyone? Type end again to confirm."));
                oreq_free(q);
                words_free(argc, argv);
                return;
            }
        }
    } else {
        /* The item a bare grade in the desired step is for: the first without
         * a proposal of ours. */
        if (u->st.phase == PROTO_PHASE_DESIRED)
            for (int i = 0; i < u->st.n_items && cx.desired_item < 0; i++) {
                bool mine = false;
                for (int k = 0; k < u->st.n_desired; k++)
                    mine |= u->st.desired[k].pid == u->my_pid && u->st.desired[k].item == i;
                if (u->st.items[i].scored && !mine)
                    cx.desired_item = i;
            }
        if (slash) {
            rc = cmd_participant(&cx, argc, argv, &q);
            if (rc == CMD_UNKNOWN && proto_type_lookup(w, strlen(w)) != PT__NONE)
                rc = cmd_generic(&cx, argc, argv, &q);
        } else {
            rc = cmd_participant_answer(&cx, line, &q);
        }
    }
    if (rc == CMD_UNKNOWN)
        ui_log(u, true, _("unknown command '%s': type help"), w);
    words_free(argc, argv);
    if (rc == CMD_UNKNOWN) {
        if (!u->tty_in && !u->exit_code)
            u->exit_code = LWK_EXIT_USAGE;
        return;
    }
    if (rc == CMD_ERROR || rc == CMD_WRONG_STEP) {
        ui_log(u, true, "%s", cx.err);
        if (!u->tty_in && !u->exit_code)
            u->exit_code = rc == CMD_WRONG_STEP ? LWK_EXIT_WRONG_STEP : LWK_EXIT_USAGE;
        return;
    }
    send_or_queue(u, q);
}

/* Runs queued lines of a non-terminal stdin, one per answer. */
static void process_lines(struct ui *u)
{
    while (u->nlines && !u->quitting && u->synced && !u->down && u->npend == 0) {
        char *line = u->lines[0];
        memmove(u->lines, u->lines + 1, sizeof(char *) * (size_t)(u->nlines - 1));
        u->nlines--;
        handle_line(u, line);
        free(line);
    }
    if (u->in_eof && !u->nlines && u->npend == 0 && !u->qhead && u->synced && !u->quitting)
        quit(u, u->exit_code);
}

static void add_line(struct ui *u, const char *s, size_t n)
{
    if (u->nlines == u->caplines) {
        u->caplines = u->caplines ? u->caplines * 2 : 16;
        u->lines = realloc(u->lines, sizeof(char *) * (size_t)u->caplines);
    }
    u->lines[u->nlines++] = strndup(s, n);
}

static void split_input(struct ui *u)
{
    size_t start = 0;
    for (size_t i = 0; i < u->inlen; i++)
        if (u->inbuf[i] == '\n') {
            add_line(u, u->inbuf + start, i - start);
            start = i + 1;
        }
    memmove(u->inbuf, u->inbuf + start, u->inlen - start);
    u->inlen -= start;
    if (u->inlen > LINE_MAX_BYTES) { /* a "line" that never ends */
        add_line(u, u->inbuf, u->inlen);
        u->inlen = 0;
    }
}

static void read_plain(struct ui *u)
{
    char buf[4096];
    ssize_t n = read(0, buf, sizeof(buf));
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        if (u->inlen) {
            add_line(u, u->inbuf, u->inlen);
            u->inlen = 0;
        }
        u->in_eof = true;
        if (u->in_poll_on) {
            uv_poll_stop(&u->in_poll);
            uv_close((uv_handle_t *)&u->in_poll, NULL);
            u->in_poll_on = false;
        }
    } else {
        u->inbuf = realloc(u->inbuf, u->inlen + (size_t)n + 1);
        memcpy(u->inbuf + u->inlen, buf, (size_t)n);
        u->inlen += (size_t)n;
        split_input(u);
    }
    process_lines(u);
}

static void on_rl_line(char *line)
{
    struct ui *u = G;
    if (!line) { /* Ctrl-D */
        quit(u, 0);
        return;
    }
    handle_line(u, line);
    free(line);
    schedule_redraw(u);
}

static bool stdin_has_input(void)
{
    struct pollfd pfd = {.fd = 0, .events = POLLIN};
    return poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLIN);
}

static void on_stdin(uv_poll_t *p, int status, int events)
{
    struct ui *u = p->data;
    if (status < 0 || (events & UV_DISCONNECT)) {
        if (u->tty_in) {
            quit(u, 0);
            return;
        }
    }
    if (u->tty_in) {
        /*
         * libedit runs the line handler with the terminal in cooked mode;
         * what is typed meanwhile becomes readable only when it switches
         * back to raw mode, and that wakes no epoll waiter. So keep reading
         * while poll(2), which asks the terminal itself, says there is more.
         */
        do
            rl_callback_read_char();
        while (!u->quitting && stdin_has_input());
        if (u->quitting)
            return;
    } else {
        read_plain(u);
    }
}

/* ---- completion --------------------------------------------------------------------- */

static char **cands;
static int ncands;

static void cand_add(const char *s)
{
    cands = realloc(cands, sizeof(char *) * (size_t)(ncands + 2));
    cands[ncands++] = strdup(s);
    cands[ncands] = NULL;
}

static char *cand_gen(const char *text, int state)
{
    static int i;
    if (!state)
        i = 0;
    size_t len = strlen(text);
    while (i < ncands) {
        const char *c = cands[i++];
        if (!strncasecmp(c, text, len))
            return strdup(c);
    }
    return NULL;
}

static char **complete(const char *text, int start, int end)
{
    struct ui *u = G;
    rl_attempted_completion_over = 1;
    for (int i = 0; i < ncands; i++)
        free(cands[i]);
    free(cands);
    cands = NULL;
    ncands = 0;
    char *before = strndup(rl_line_buffer, (size_t)start);
    const char *b = before;
    bool slash = b[0] == '/';
    if (slash)
        b++;
    char **argv;
    int argc = words_split(b, &argv);
    if (argc < 0)
        argc = 0;
    if (argc == 0) {
        const char *w;
        for (int n = 0; (w = cmd_word(u->facilitator, n)); n++) {
            if (!u->facilitator) {
                char s[64];
                snprintf(s, sizeof(s), "%s%s", text[0] == '/' ? "/" : "", w);
                cand_add(s);
            } else {
                cand_add(w);
            }
        }
    } else {
        const char *const *subs = cmd_subwords(argv[0]);
        if (argc == 1 && subs && u->facilitator)
            for (int i = 0; subs[i]; i++)
                cand_add(subs[i]);
        if (cmd_takes_name(argv[0], argc > 1 ? argv[1] : NULL) &&
            (argc >= 2 || strcmp(argv[0], "order")))
            for (int i = 0; i < u->st.n_participants; i++)
                if (!u->st.participants[i].removed && u->st.participants[i].name)
                    cand_add(u->st.participants[i].name);
        if (!strcmp(argv[0], "kw") && argc == 1)
            cand_add("--for");
        if (cmd_takes_item(argv[0]) || !strcmp(argv[0], "score"))
            for (int i = 0; i < u->st.n_items; i++)
                if (u->st.items[i].name && (argc == 1 || strcmp(argv[0], "score")))
                    cand_add(u->st.items[i].name);
    }
    words_free(argc, argv);
    free(before);
    if (!ncands)
        return NULL;
    return rl_completion_matches(text, cand_gen);
}

/* ---- messages from lwkd ---------------------------------------------------------------- */

static const char *pn(struct ui *u, int pid)
{
    const struct state_participant *p = state_participant(&u->st, pid);
    return p && p->name ? p->name : "?";
}

/* One log line for the notable events; the panel shows the rest. */
static void log_event(struct ui *u, const struct proto_msg *e, int old_phase, int old_item)
{
    const struct session_state *st = &u->st;
    int pid = (int)proto_int(e, PK_PID, 0);
    switch (e->type) {
    case PT_EV_JOINED:
        ui_log(u, false, _("%s joined"), pn(u, pid));
        break;
    case PT_EV_PRESENCE:
        if (u->facilitator)
            ui_log(u, false,
                   proto_int(e, PK_ONLINE, 0) ? _("%s is back online") : _("%s went offline"),
                   pn(u, pid));
        break;
    case PT_EV_REMOVED:
        if (pid == u->my_pid && !u->facilitator)
            ui_log(u, true, "%s", _("The facilitator removed you from the session."));
        else
            ui_log(u, false, _("%s was removed"), pn(u, pid));
        break;
    case PT_EV_PHASE:
    case PT_EV_ROUND:
        if ((int)st->phase != old_phase || st->item != old_item) {
            if (st->item >= 0)
                ui_log(u, false, "%s%s: %d. %s%s", C_BOLD(), phase_title(st->phase), st->item + 1,
                       st->items[st->item].name, C_OFF());
            else
                ui_log(u, false, "%s%s%s", C_BOLD(), phase_title(st->phase), C_OFF());
        }
        break;
    case PT_EV_REVEALED: {
        struct state_stats s;
        int item = (int)proto_int(e, PK_ITEM, 0), round = (int)proto_int(e, PK_ROUND, 1);
        state_round_stats(st, item, round, &s);
        struct sbuf b;
        sb_init(&b);
        view_stats_line(&b, &s);
        ui_log(u, false, _("Scores revealed (%d): %s"), s.count, b.p);
        sb_free(&b);
        break;
    }
    case PT_EV_SCORED:
        if (pid == u->my_pid && !u->facilitator && proto_has(e, PK_VALUE))
            ui_log(u, false, _("Your grade %lld is in."), (long long)proto_int(e, PK_VALUE, 0));
        break;
    case PT_EV_TURN:
    case PT_EV_TURNS: {
        int cur = state_current_speaker(st);
        if (cur == u->my_pid && !u->facilitator)
            ui_log(u, false, "%s%s%s", C_GREEN(), _("It is your turn."), C_OFF());
        else if (cur)
            ui_log(u, false, _("Turn: %s"), pn(u, cur));
        else if (e->type == PT_EV_TURN)
            ui_log(u, false, "%s", _("Everyone has had their turn."));
        break;
    }
    case PT_EV_VOTE_OPENED:
        ui_log(u, false,
               ngettext("Voting opened: %d vote each.", "Voting opened: %d votes each.",
                        (unsigned long)st->vote_budget),
               st->vote_budget);
        break;
    case PT_EV_VOTE_CLOSED:
        ui_log(u, false, "%s", _("Voting closed."));
        break;
    case PT_EV_PAUSED:
        ui_log(u, false, "%s", st->paused ? _("Paused.") : _("Carrying on."));
        break;
    case PT_EV_CLOSED:
        ui_log(u, false, "%s%s%s", C_BOLD(), _("The session has ended."), C_OFF());
        if (!u->facilitator && u->tty_in)
            ui_log(u, false, "%s", _("Press Enter to leave."));
        break;
    case PT_EV_NOTICE:
        ui_log(u, false, "%s: %s", _("Notice"),
               proto_str(e, PK_MSG) ? proto_str(e, PK_MSG)
                                    : lwk_err_text(-(int)proto_int(e, PK_ERR, 500)));
        break;
    default:
        break;
    }
}

static void apply_event(struct ui *u, const struct proto_msg *e, bool quiet)
{
    uint64_t seq = (uint64_t)proto_int(e, PK_SEQ, 0);
    if (seq <= u->st.seq)
        return; /* seen already (a resume overlaps) */
    if (seq != u->st.seq + 1) {
        struct proto_msg q;
        proto_msg_init(&q, PT_SNAPSHOT_REQ);
        proto_set_int(&q, PK_SINCE, (int64_t)u->st.seq);
        lwkc_send(u->c, &q);
        return;
    }
    int old_phase = u->st.phase, old_item = u->st.item;
    if (state_apply(&u->st, e) < 0)
        return;
    if (!quiet)
        log_event(u, e, old_phase, old_item);
}

static void on_msg(void *ctx, struct lwkc *c, const struct proto_msg *m)
{
    struct ui *u = ctx;
    if (u->quitting)
        return;
    int64_t id = proto_int(m, PK_ID, -1);
    char *label;
    if (proto_type_dir(m->type) == PD_EVENT) {
        apply_event(u, m, false);
        schedule_redraw(u);
        if (u->listen && u->st.closed)
            quit(u, 0);
        return;
    }
    switch (m->type) {
    case PT_WELCOME:
        u->welcomed = true;
        u->down = false;
        if (!u->ever_welcomed && !u->facilitator) {
            const char *r = lwkc_resume_token(c);
            if (r)
                ui_log(u, false,
                       _("resume token (to come back later: lwk join --resume TOKEN): %s"), r);
        }
        if (u->ever_welcomed)
            ui_log(u, false, "%s", _("Reconnected."));
        u->ever_welcomed = true;
        u->my_pid = u->facilitator ? 0 : (int)proto_int(m, PK_PID, u->my_pid);
        if (proto_has(m, PK_SESSION))
            u->session = proto_int(m, PK_SESSION, 0);
        u->awaiting_open = u->facilitator;
        break;
    case PT_SNAPSHOT: {
        bool full = !proto_has(m, PK_SINCE) || proto_int(m, PK_SINCE, 0) == 0;
        bool first = !u->st.seq;
        if (full && u->st.seq) {
            state_free(&u->st);
            state_init(&u->st);
        }
        for (uint32_t i = 0; i < m->v[PK_EVENTS].m.n; i++)
            apply_event(u, &m->v[PK_EVENTS].m.p[i], first || full);
        u->synced = true;
        if (u->join_code[0] && !u->st.join_code[0])
            snprintf(u->st.join_code, sizeof(u->st.join_code), "%s", u->join_code);
        flush_queue(u);
        break;
    }
    case PT_OK:
        if (pend_take_type(u, id, &label, NULL)) {
            struct sbuf extra;
            sb_init(&extra);
            if (proto_has(m, PK_THEME))
                sb_printf(&extra, _(" (theme #%lld)"), (long long)proto_int(m, PK_THEME, 0));
            if (proto_has(m, PK_ACTION))
                sb_printf(&extra, _(" (action #%lld)"), (long long)proto_int(m, PK_ACTION, 0));
            ui_log(u, false, "%s✓%s %s%s", C_GREEN(), C_OFF(), label, extra.p);
            sb_free(&extra);
            free(label);
        } else if (u->awaiting_open && proto_has(m, PK_SESSION)) {
            u->awaiting_open = false;
            if (proto_has(m, PK_JOIN_CODE)) {
                snprintf(u->join_code, sizeof(u->join_code), "%s", proto_str(m, PK_JOIN_CODE));
                snprintf(u->st.join_code, sizeof(u->st.join_code), "%s", u->join_code);
            }
        }
        break;
    case PT_ERROR: {
        int err = -(int)proto_int(m, PK_ERR, 500);
        const char *detail = proto_str(m, PK_MSG);
        enum proto_type pend_type = PT__NONE;
        if (pend_take_type(u, id, &label, &pend_type)) {
            struct sbuf b;
            sb_init(&b);
            lwk_error_text(&b, pend_type, err, detail, &u->st, u->facilitator);
            ui_log(u, true, "✗ %s: %s", label, b.p);
            sb_free(&b);
            free(label);
            if (!u->tty_in && !u->exit_code)
                u->exit_code = lwk_exit_for(err);
        } else if (!u->welcomed || u->awaiting_open) {
            /* Refused at the door or the session is gone: nothing to retry. */
            if (!u->welcomed && err == PROTO_ERR_BAD_CREDENTIALS && !u->facilitator &&
                !u->ever_welcomed)
                fatal(u, _("no session with join code %s"), u->opts.code ? u->opts.code : "");
            else if (err == PROTO_ERR_NAME_TAKEN)
                fatal(u, _("the name %s is already used in this session: choose another"),
                      u->opts.name ? u->opts.name : "");
            else if (u->awaiting_open && err == PROTO_ERR_NOT_FOUND)
                fatal(u, _("session %lld no longer exists"), (long long)u->session);
            else if (u->ever_welcomed && !u->facilitator &&
                     (err == PROTO_ERR_NOT_FOUND || err == PROTO_ERR_BAD_CREDENTIALS))
                fatal(u, "%s", _("the session no longer knows you (it ended, or lwkd lost it)"));
            else {
                struct sbuf b;
                sb_init(&b);
                lwk_error_text(&b, PT__NONE, err, detail, NULL, u->facilitator);
                fatal(u, "%s", b.p);
                sb_free(&b);
            }
            quit(u, lwk_exit_for(err));
            return;
        }
        break;
    }
    case PT_OBSERVER_WAITING:
        ui_log(u, false, _("%s asks to watch as an observer: type \"admit %lld\" or \"deny %lld\""),
               proto_str(m, PK_NAME), (long long)proto_int(m, PK_TICKET, 0),
               (long long)proto_int(m, PK_TICKET, 0));
        break;
    case PT_BYE: {
        int err = -(int)proto_int(m, PK_ERR, 500);
        if (err == PROTO_ERR_SHUTTING_DOWN)
            ui_log(u, true, "%s", _("lwkd is restarting; reconnecting when it is back"));
        else
            ui_log(u, true, "%s: %s", _("lwkd closed the connection"), lwk_err_text(err));
        break;
    }
    default:
        break;
    }
    schedule_redraw(u);
    process_lines(u);
}

static void on_state(void *ctx, struct lwkc *c, enum lwkc_state st, int err, const char *why)
{
    struct ui *u = ctx;
    if (u->quitting)
        return;
    if (st == LWKC_READY || st == LWKC_CONNECTING)
        return;
    if (!u->ever_welcomed) {
        fatal(u, _("cannot reach lwkd: %s"), why ? why : _("connection failed"));
        quit(u, LWK_EXIT_UNREACHABLE);
        return;
    }
    u->welcomed = false;
    u->synced = false;
    /* Requests without an answer: their fate is unknown; say so. */
    for (int i = 0; i < u->npend; i++) {
        ui_log(u, true,
               _("? not confirmed (connection lost): %s: check the screen and type it "
                 "again if needed"),
               u->pend[i].label);
        free(u->pend[i].label);
    }
    u->npend = 0;
    if (st == LWKC_FAILED) {
        fatal(u, _("connection to lwkd lost: %s"), why ? why : "");
        quit(u, err ? lwk_exit_for(err) : LWK_EXIT_UNREACHABLE);
        return;
    }
    if (!u->down)
        ui_log(u, true, _("Connection lost (%s): reconnecting…"), why ? why : "");
    u->down = true;
    snprintf(u->down_why, sizeof(u->down_why), "%s", why ? why : "");
    schedule_redraw(u);
}

/* ---- signals -------------------------------------------------------------------------- */

static void on_signal(uv_signal_t *s, int signum)
{
    struct ui *u = s->data;
    if (signum == SIGWINCH) {
        if (u->tty_in)
            rl_resize_terminal();
        if (u->tty_out)
            fputs("\033[2J", stdout);
        schedule_redraw(u);
        return;
    }
    quit(u, signum == SIGINT || u->listen ? 0 : 128 + signum);
}

/* ---- running ---------------------------------------------------------------------------- */

int ui_run(const struct ui_params *p)
{
    struct ui *u = calloc(1, sizeof(*u));
    if (!u)
        return LWK_EXIT_REFUSED;
    G = u;
    u->loop = uv_default_loop();
    u->facilitator = p->facilitator;
    u->session = p->session;
    u->listen = p->listen;
    u->tty_in = !p->listen && isatty(0);
    u->tty_out = !p->listen && isatty(1);
    u->shown_phase = -2;
    lwk_color_init(1);
    state_init(&u->st);

    lwk_apply_env();
    u->opts = lwk_g.conn;
    u->opts.kind = p->facilitator ? PROTO_KIND_FACILITATOR : PROTO_KIND_PARTICIPANT;
    u->opts.code = p->code;
    u->opts.name = p->name;
    u->opts.resume = p->resume;
    u->opts.session = p->facilitator ? p->session : 0;
    u->opts.reconnect = true;
    struct lwkc_handlers h = {u, on_msg, on_state};
    u->c = lwkc_new(u->loop, &u->opts, h);

    uv_timer_init(u->loop, &u->redraw);
    u->redraw.data = u;
    uv_signal_init(u->loop, &u->sig_winch);
    uv_signal_init(u->loop, &u->sig_int);
    uv_signal_init(u->loop, &u->sig_term);
    uv_signal_init(u->loop, &u->sig_hup);
    u->sig_winch.data = u->sig_int.data = u->sig_term.data = u->sig_hup.data = u;
    uv_signal_start(&u->sig_winch, on_signal, SIGWINCH);
    uv_signal_start(&u->sig_int, on_signal, SIGINT);
    uv_signal_start(&u->sig_term, on_signal, SIGTERM);
    uv_signal_start(&u->sig_hup, on_signal, SIGHUP);

    if (u->tty_in) {
        rl_catch_signals = 0;
        rl_catch_sigwinch = 0;
        rl_readline_name = "lwk";
        rl_attempted_completion_function = complete;
        rl_completion_append_character = ' ';
        rl_initialize();
        using_history();
        stifle_history(500);
        rl_callback_handler_install(prompt_for(u), on_rl_line);
    }
    if (u->listen) {
        /* No input at all. */
    } else if (uv_poll_init(u->loop, &u->in_poll, 0) == 0) {
        u->in_poll.data = u;
        uv_poll_start(&u->in_poll, UV_READABLE | UV_DISCONNECT, on_stdin);
        u->in_poll_on = true;
    } else if (!u->tty_in) {
        /* A regular file: read it now; its lines run once connected. */
        char buf[4096];
        ssize_t n;
        while ((n = read(0, buf, sizeof(buf))) > 0) {
            u->inbuf = realloc(u->inbuf, u->inlen + (size_t)n + 1);
            memcpy(u->inbuf + u->inlen, buf, (size_t)n);
            u->inlen += (size_t)n;
        }
        split_input(u);
        if (u->inlen) {
            add_line(u, u->inbuf, u->inlen);
            u->inlen = 0;
        }
        u->in_eof = true;
    }
    if (u->tty_out)
        fputs("\033[2J", stdout);
    lwkc_start(u->c);
    schedule_redraw(u);
    uv_run(u->loop, UV_RUN_DEFAULT);

    if (u->tty_in)
        rl_callback_handler_remove();
    if (u->tty_out) {
        /* Leave the last screen visible; the shell prompt goes below it. */
        printf("\r\n");
        fflush(stdout);
    }
    if (u->c) {
        lwkc_free(u->c);
        u->c = NULL;
    }
    uv_walk(u->loop, close_walk, NULL);
    uv_run(u->loop, UV_RUN_DEFAULT);
    uv_loop_close(u->loop);

    int code = u->exit_code;
    if (u->fatal) {
        lwk_errorf("%s", u->fatal);
        free(u->fatal);
    }
    for (int i = 0; i < u->nlog; i++)
        free(u->log[i]);
    for (int i = 0; i < u->npend; i++)
        free(u->pend[i].label);
    while (u->qhead) {
        struct oreq *q = u->qhead;
        u->qhead = q->next;
        lwk_errorf(_("not sent (the connection was lost): %s"), q->label);
        oreq_free(q);
        if (!code)
            code = LWK_EXIT_UNREACHABLE;
    }
    for (int i = 0; i < u->nlines; i++)
        free(u->lines[i]);
    free(u->lines);
    free(u->inbuf);
    for (int i = 0; i < ncands; i++)
        free(cands[i]);
    free(cands);
    cands = NULL;
    ncands = 0;
    state_free(&u->st);
    free(u);
    G = NULL;
    return code;
}
