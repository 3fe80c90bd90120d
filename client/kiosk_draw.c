/*
 * kiosk_draw.c: everything lwk-kiosk puts on the screen. One function
 * draws the whole screen from the view (session state + connection state);
 * ncurses sends only what changed, so a redraw per event costs little.
 *
 * The screen: a header bar (team, instrument, join code, connection, time),
 * the current step (and vermogen) in large type, the step's own content,
 * and a footer bar for the connection, notices and pauses. Layout follows
 * the terminal size; lists that do not fit are split into pages that the
 * page timer flips (page_tick).
 *
 * Privacy: before a round is revealed the kiosk knows who scored, never a
 * value (the daemon does not send them), and it shows exactly that.
 */
#include "kiosk.h"
#include "i18n.h"

#include <curses.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

/* ---- attributes -------------------------------------------------------- */

enum role {
    RL_NORMAL,
    RL_HEADER, /* the header bar */
    RL_TITLE,  /* large step title */
    RL_ACCENT, /* vermogen, current speaker, codes */
    RL_BAR,    /* bars of the distribution, current scores */
    RL_BAR2,   /* desired score bars */
    RL_WARN,   /* divided, countdown near the end, pauses */
    RL_ALERT,  /* connection lost, overrun, unknown code */
    RL_OK,     /* scored, online, connected */
    RL_DIM,    /* labels, not yet */
    RL_LABEL,  /* bold labels */
    RL_CODE,   /* the join code on the header bar */
    RL__COUNT
};

static bool use_color;

void kiosk_draw_init(bool color)
{
    use_color = color && has_colors();
    if (!use_color)
        return;
    start_color();
    short bg = COLOR_BLACK;
    if (use_default_colors() == OK)
        bg = -1;
    init_pair(RL_HEADER, COLOR_WHITE, COLOR_BLUE);
    init_pair(RL_TITLE, COLOR_CYAN, bg);
    init_pair(RL_ACCENT, COLOR_YELLOW, bg);
    init_pair(RL_BAR, COLOR_GREEN, bg);
    init_pair(RL_BAR2, COLOR_CYAN, bg);
    init_pair(RL_WARN, COLOR_BLACK, COLOR_YELLOW);
    init_pair(RL_ALERT, COLOR_WHITE, COLOR_RED);
    init_pair(RL_OK, COLOR_GREEN, bg);
    init_pair(RL_DIM, COLOR_WHITE, bg);
    init_pair(RL_LABEL, COLOR_WHITE, bg);
    init_pair(RL_CODE, COLOR_YELLOW, COLOR_BLUE);
}

static attr_t attr_of(enum role r)
{
    if (use_color) {
        switch (r) {
        case RL_NORMAL:
            return A_NORMAL;
        case RL_TITLE:
        case RL_ACCENT:
        case RL_HEADER:
        case RL_WARN:
        case RL_ALERT:
        case RL_LABEL:
        case RL_CODE:
            return COLOR_PAIR(r) | A_BOLD;
        case RL_DIM:
            return COLOR_PAIR(r) | A_DIM;
        default:
            return COLOR_PAIR(r);
        }
    }
    switch (r) {
    case RL_HEADER:
        return A_REVERSE;
    case RL_TITLE:
    case RL_ACCENT:
    case RL_LABEL:
        return A_BOLD;
    case RL_WARN:
    case RL_ALERT:
        return A_REVERSE | A_BOLD;
    case RL_DIM:
        return A_DIM;
    case RL_CODE:
        return A_REVERSE | A_BOLD | A_UNDERLINE;
    default:
        return A_NORMAL;
    }
}

/* ---- symbols ----------------------------------------------------------- */

struct syms {
    const char *block, *shade, *vline, *hline, *cross, *tl, *tr, *bl, *br, *on, *off, *check,
        *pending, *warn, *arrow, *bullet, *dot;
    wchar_t ellipsis;
    const char *eighths[8]; /* 1/8 .. 8/8 of a cell, for bars */
};

static const struct syms utf8_syms = {
    "\u2588",
    "\u2591",
    "\u2502",
    "\u2500",
    "\u253c",
    "\u250c",
    "\u2510",
    "\u2514",
    "\u2518",
    "\u25cf",
    "\u25cb",
    "\u2713",
    "\u2026",
    "\u25b2",
    "\u2192",
    "\u2022",
    "\u00b7",
    L'\u2026',
    {"\u258f", "\u258e", "\u258d", "\u258c", "\u258b", "\u258a", "\u2589", "\u2588"},
};

static const struct syms ascii_syms = {
    "#",
    ".",
    "|",
    "-",
    "+",
    "+",
    "+",
    "+",
    "+",
    "*",
    "o",
    "+",
    ".",
    "!",
    "->",
    "*",
    "-",
    L'~',
    {"", "", "", "#", "#", "#", "#", "#"},
};

/* ---- the drawing context ----------------------------------------------- */

static struct {
    const struct kiosk_view *v;
    const struct session_state *st; /* NULL before the first snapshot */
    const struct syms *sym;
    int W, H;
    bool paged;
} D;

static int page_of(int pages)
{
    if (pages <= 1)
        return 0;
    D.paged = true;
    return (int)(D.v->page_tick % (unsigned)pages);
}

/* ---- text -------------------------------------------------------------- */

#define WBUF 1024

/*
 * Converts s (len bytes) to at most maxw columns of wide characters; tabs
 * and newlines become spaces, what cannot be shown becomes '?'. A text that
 * does not fit ends in an ellipsis. Returns the count; *cols gets the width.
 */
static int widen(const char *s, size_t len, int maxw, wchar_t *out, int cap, int *cols)
{
    mbstate_t ps;
    memset(&ps, 0, sizeof(ps));
    int n = 0, w = 0;
    int cut_n = -1, cut_w = 0; /* where to put the ellipsis if it comes to that */
    size_t i = 0;
    if (maxw > cap - 2)
        maxw = cap - 2;
    while (i < len && s[i]) {
        wchar_t c;
        size_t k = mbrtowc(&c, s + i, len - i, &ps);
        if (k == (size_t)-1 || k == (size_t)-2) {
            memset(&ps, 0, sizeof(ps));
            c = L'?';
            k = 1;
        }
        if (c == L'\t' || c == L'\n')
            c = L' ';
        int cw = wcwidth(c);
        if (cw < 0) {
            c = L'?';
            cw = 1;
        }
        if (w + cw > maxw - 1 && cut_n < 0) {
            cut_n = n;
            cut_w = w;
        }
        if (w + cw > maxw) {
            n = cut_n;
            w = cut_w;
            if (maxw >= 1) {
                out[n++] = D.sym->ellipsis;
                w += 1;
            }
            break;
        }
        out[n++] = c;
        w += cw;
        i += k;
    }
    out[n] = 0;
    if (cols)
        *cols = w;
    return n;
}

static int text_cols(const char *s)
{
    wchar_t buf[WBUF];
    int cols;
    widen(s, strlen(s), WBUF, buf, WBUF, &cols);
    return cols;
}

/* Puts len bytes of s at (y, x) in at most maxw columns; returns the columns used. */
static int put_textn(int y, int x, int maxw, enum role r, const char *s, size_t len)
{
    if (y < 0 || y >= D.H || x >= D.W || maxw <= 0 || !s)
        return 0;
    if (x + maxw > D.W)
        maxw = D.W - x;
    wchar_t buf[WBUF];
    int cols;
    int n = widen(s, len, maxw, buf, WBUF, &cols);
    attrset(attr_of(r));
    mvaddnwstr(y, x, buf, n);
    attrset(A_NORMAL);
    return cols;
}

static int put_text(int y, int x, int maxw, enum role r, const char *s)
{
    return s ? put_textn(y, x, maxw, r, s, strlen(s)) : 0;
}

__attribute__((format(printf, 5, 6))) static int put_textf(int y, int x, int maxw, enum role r,
                                                           const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    return put_text(y, x, maxw, r, buf);
}

/* Puts a symbol (a short literal) n times. */
static void put_sym(int y, int x, enum role r, const char *s, int n)
{
    if (y < 0 || y >= D.H)
        return;
    attrset(attr_of(r));
    move(y, x);
    for (int i = 0; i < n && x + i < D.W; i++)
        addstr(s);
    attrset(A_NORMAL);
}

static void put_center(int y, int x0, int w, enum role r, const char *s)
{
    int c = text_cols(s);
    int x = x0 + (w - c) / 2;
    put_text(y, x < x0 ? x0 : x, w, r, s);
}

static void fill_row(int y, enum role r)
{
    if (y < 0 || y >= D.H)
        return;
    attrset(attr_of(r));
    mvhline(y, 0, ' ', D.W);
    attrset(A_NORMAL);
}

/*
 * Splits s into lines of at most width columns, breaking at spaces where
 * possible. Fills starts/lens (up to max) and returns the line count (which
 * may be larger than max: the caller knows how many there would be).
 */
static int wrap(const char *s, int width, const char **starts, size_t *lens, int max)
{
    int lines = 0;
    if (width < 1)
        width = 1;
    size_t len = strlen(s);
    size_t i = 0;
    while (i < len) {
        size_t start = i, last_space = 0, j = i;
        int w = 0;
        bool have_space = false;
        mbstate_t ps;
        memset(&ps, 0, sizeof(ps));
        while (j < len && s[j] != '\n') {
            wchar_t c;
            size_t k = mbrtowc(&c, s + j, len - j, &ps);
            if (k == (size_t)-1 || k == (size_t)-2) {
                memset(&ps, 0, sizeof(ps));
                c = L'?';
                k = 1;
            }
            int cw = wcwidth(c);
            if (cw < 0)
                cw = 1;
            if (w + cw > width)
                break;
            if (c == L' ' || c == L'\t') {
                last_space = j;
                have_space = true;
            }
            w += cw;
            j += k;
        }
        size_t end = j, next = j;
        if (j < len && s[j] == '\n') {
            next = j + 1;
        } else if (j < len) {
            if (have_space && last_space > start) {
                end = last_space;
                next = last_space + 1;
            } else if (j == start) {
                /* one character wider than the line */
                end = next = j + 1;
            }
        }
        if (lines < max) {
            starts[lines] = s + start;
            lens[lines] = end - start;
        }
        lines++;
        i = next;
        while (i < len && s[i] == ' ' && s[i - 1] != '\n')
            i++;
    }
    return lines;
}

/* ---- large type -------------------------------------------------------- */

/*
 * Puts text in the block font at the largest size up to `largest` that fits
 * maxw x maxh. Returns the rows used (0 when nothing fits, then nothing is
 * drawn); *w gets the columns.
 */
static int put_big(int y, int x, int maxw, int maxh, enum role r, const char *text,
                   enum font_size largest, int *w)
{
    if (w)
        *w = 0;
    int size = font_fit(text, maxw, maxh, largest);
    if (size < 0)
        return 0;
    int h = font_height((enum font_size)size);
    size_t cap = (size_t)maxw * 3 * 4 + 16;
    char *rows[FONT_ROWS * 2];
    char *mem = malloc(cap * (size_t)h);
    if (!mem)
        return 0;
    for (int i = 0; i < h; i++)
        rows[i] = mem + cap * (size_t)i;
    int width = font_render(text, (enum font_size)size, D.v->ascii, rows, cap);
    if (width >= 0) {
        attrset(attr_of(r));
        for (int i = 0; i < h; i++)
            if (y + i >= 0 && y + i < D.H)
                mvaddstr(y + i, x, rows[i]);
        attrset(A_NORMAL);
        if (w)
            *w = width;
    }
    free(mem);
    return width >= 0 ? h : 0;
}

/* Large type if it fits, else one bold line. Returns rows used. */
static int put_big_or_text(int y, int x, int maxw, int maxh, enum role r, const char *text,
                           enum font_size largest, int *w)
{
    int h = put_big(y, x, maxw, maxh, r, text, largest, w);
    if (h)
        return h;
    int c = put_text(y, x, maxw, r, text);
    if (w)
        *w = c;
    return 1;
}

/* The largest size the screen's height allows for titles. */
static enum font_size title_size(void)
{
    return D.H < 30 ? FONT_HALF : D.H < 80 ? FONT_FULL : FONT_DOUBLE;
}

/* ---- numbers ----------------------------------------------------------- */

/* One decimal in the locale's notation ("6,4" in Dutch). */
static void fmt1(char *buf, size_t cap, double v)
{
    snprintf(buf, cap, "%.1f", v);
}

/* A median: whole, or with one decimal. */
static void fmt_median(char *buf, size_t cap, double v)
{
    if (v == (double)(int)v)
        snprintf(buf, cap, "%d", (int)v);
    else
        fmt1(buf, cap, v);
}

/* ---- bars -------------------------------------------------------------- */

/* A horizontal bar of value/max over width columns, with eighths; returns the columns used. */
static int put_bar(int y, int x, int width, double value, double max, enum role r)
{
    if (width <= 0 || max <= 0 || value <= 0)
        return 0;
    double cells = value / max * width;
    if (cells > width)
        cells = width;
    int full = (int)cells;
    int eighth = (int)((cells - full) * 8);
    put_sym(y, x, r, D.sym->block, full);
    if (eighth > 0 && full < width && D.sym->eighths[eighth - 1][0]) {
        put_sym(y, x + full, r, D.sym->eighths[eighth - 1], 1);
        return full + 1;
    }
    if (full == 0) {
        /* never invisible: a value above zero shows at least a sliver */
        put_sym(y, x, r, D.sym->eighths[0][0] ? D.sym->eighths[0] : D.sym->block, 1);
        return 1;
    }
    return full;
}

/* "page 2/3" in the bottom right of a box. */
static void page_mark(int y, int x_right, int page, int pages)
{
    if (pages <= 1)
        return;
    char t[64];
    snprintf(t, sizeof(t), _(" page %d/%d "), page + 1, pages);
    int c = text_cols(t);
    put_text(y, x_right - c, c, RL_DIM, t);
}

/* ---- session helpers --------------------------------------------------- */

static void fmt_date(char *buf, size_t cap, const char *iso);

static const char *instrument_title(const char *key)
{
    if (!key)
        return "";
    if (!strcmp(key, "lwk-meting"))
        return _("LWK measurement");
    if (!strcmp(key, "quickscan"))
        return _("Quickscan learning conditions");
    if (!strcmp(key, "klwo"))
        return "KLWO";
    return key;
}

static const char *phase_title(enum proto_phase p)
{
    switch (p) {
    case PROTO_PHASE_REVIEW:
        return _("Review");
    case PROTO_PHASE_LOBBY:
        return _("Welcome");
    case PROTO_PHASE_SCORE:
        return _("Score");
    case PROTO_PHASE_EXPLAIN:
        return _("Explanation");
    case PROTO_PHASE_THEMES:
        return _("Themes");
    case PROTO_PHASE_DESIRED:
        return _("Desired score");
    case PROTO_PHASE_ACTIONS:
        return _("Actions");
    case PROTO_PHASE_LOOK_AHEAD:
        return _("Look ahead");
    case PROTO_PHASE_SUMMARY:
        return _("Summary");
    case PROTO_PHASE_CLOSED:
        return _("Closed");
    }
    return "";
}

/* The step on the LWK-meting's step card, or NULL. */
static const char *phase_step(const struct session_state *st)
{
    if (!st->instrument || strcmp(st->instrument, "lwk-meting"))
        return NULL;
    switch (st->phase) {
    case PROTO_PHASE_SCORE:
        return _("step 1a");
    case PROTO_PHASE_EXPLAIN:
        return _("step 1b");
    case PROTO_PHASE_THEMES:
    case PROTO_PHASE_DESIRED:
        return _("step 3a");
    case PROTO_PHASE_ACTIONS:
        return _("step 3b");
    case PROTO_PHASE_LOOK_AHEAD:
        return _("step 4");
    default:
        return NULL;
    }
}

static bool live(const struct state_participant *p)
{
    return p && !p->removed;
}

static const char *name_of(int pid)
{
    const struct state_participant *p = state_participant(D.st, pid);
    return p && p->name ? p->name : "?";
}

/* The item's last revealed round, or NULL. */
static const struct state_round *last_revealed(int item)
{
    const struct state_item *it = &D.st->items[item];
    for (int i = it->n_rounds - 1; i >= 0; i--)
        if (it->rounds[i].revealed)
            return &it->rounds[i];
    return NULL;
}

/* An item this session works on (all of them, unless they are selected in the lobby). */
static bool in_session(int item)
{
    return !D.st->select || !D.st->selection || D.st->items[item].selected;
}

static int session_items(void)
{
    int n = 0;
    for (int i = 0; i < D.st->n_items; i++)
        n += in_session(i);
    return n;
}

/* A scored item of this session: it has grades, a mean, a desired score. */
static bool scored_here(int item)
{
    return D.st->items[item].scored && in_session(item);
}

static int scored_items(void)
{
    int n = 0;
    for (int i = 0; i < D.st->n_items; i++)
        n += scored_here(i);
    return n;
}

/* Index of an item among the session's (1-based). */
static int session_index(int item)
{
    int n = 0;
    for (int i = 0; i <= item && i < D.st->n_items; i++)
        n += in_session(i);
    return n;
}

/* ---- header and footer ------------------------------------------------- */

static void draw_header(void)
{
    fill_row(0, RL_HEADER);
    char clock[16];
    time_t t = (time_t)(D.v->now_ms / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(clock, sizeof(clock), "%H:%M", &tm);

    const char *state;
    const char *dot = D.sym->on;
    switch (D.v->conn) {
    case KIOSK_CONNECTED:
        state = _("connected");
        break;
    case KIOSK_CONNECTING:
        state = _("connecting");
        dot = D.sym->off;
        break;
    case KIOSK_LOST:
        state = _("connection lost");
        dot = D.sym->off;
        break;
    case KIOSK_UNREACHABLE:
        state = _("no connection");
        dot = D.sym->off;
        break;
    default:
        state = _("not connected");
        dot = D.sym->off;
        break;
    }
    char right[256];
    snprintf(right, sizeof(right), "%s %s  %s ", dot, state, clock);
    int rc = text_cols(right);
    int x = D.W - rc;
    if (D.v->conn != KIOSK_CONNECTED) {
        /* The state in the alarm colour, the clock as usual. */
        char st[200];
        snprintf(st, sizeof(st), " %s %s ", dot, state);
        int sc = text_cols(st);
        put_text(0, D.W - sc - (int)strlen(clock) - 2, sc, RL_ALERT, st);
        put_textf(0, D.W - (int)strlen(clock) - 1, (int)strlen(clock) + 1, RL_HEADER, "%s ", clock);
        x = D.W - sc - (int)strlen(clock) - 2;
    } else {
        put_text(0, x, rc, RL_HEADER, right);
    }
    int left_max = x - 2;
    if (D.st && D.st->join_code[0] && D.st->phase != PROTO_PHASE_CLOSED) {
        char code[128];
        snprintf(code, sizeof(code), _(" join: %s "), D.st->join_code);
        int cc = text_cols(code);
        if (cc < left_max - 10) {
            x -= cc + 2;
            put_text(0, x, cc, RL_CODE, code);
            left_max = x - 2;
        }
    }
    char left[512];
    if (D.st && D.st->team)
        snprintf(left, sizeof(left), " %s %s %s", D.st->team, D.sym->dot,
                 instrument_title(D.st->instrument));
    else
        snprintf(left, sizeof(left), " lwk-kiosk");
    put_text(0, 0, left_max, RL_HEADER, left);
}

static void fmt_since(char *buf, size_t cap, uint64_t ms)
{
    uint64_t s = ms / 1000;
    if (s < 3600)
        snprintf(buf, cap, "%u:%02u", (unsigned)(s / 60), (unsigned)(s % 60));
    else
        snprintf(buf, cap, "%u:%02u:%02u", (unsigned)(s / 3600), (unsigned)(s / 60 % 60),
                 (unsigned)(s % 60));
}

static void draw_footer(void)
{
    int y = D.H - 1;
    char msg[512];
    char since[32];
    fmt_since(since, sizeof(since), D.v->down_ms);
    switch (D.v->conn) {
    case KIOSK_LOST:
        fill_row(y, RL_ALERT);
        snprintf(msg, sizeof(msg), _(" %s Connection lost %s ago. Reconnecting%s "), D.sym->warn,
                 since, D.sym->pending);
        put_text(y, 0, D.W, RL_ALERT, msg);
        return;
    case KIOSK_UNREACHABLE:
        fill_row(y, RL_ALERT);
        snprintf(msg, sizeof(msg), _(" %s Server %s not reachable (%s). Retrying%s "), D.sym->warn,
                 D.v->server, D.v->why ? D.v->why : "?", D.sym->pending);
        put_text(y, 0, D.W, RL_ALERT, msg);
        return;
    case KIOSK_UNKNOWN_CODE:
        fill_row(y, RL_ALERT);
        snprintf(msg, sizeof(msg), _(" %s Unknown kiosk code. lwk-kiosk stops in %d s. "),
                 D.sym->warn, D.v->exit_in_s);
        put_text(y, 0, D.W, RL_ALERT, msg);
        return;
    case KIOSK_GONE:
        fill_row(y, RL_WARN);
        snprintf(msg, sizeof(msg),
                 _(" The session is closed and no longer on the server. lwk-kiosk stops in %d s. "),
                 D.v->exit_in_s);
        put_text(y, 0, D.W, RL_WARN, msg);
        return;
    case KIOSK_CONNECTING:
        snprintf(msg, sizeof(msg), _(" Connecting to %s%s"), D.v->server, D.sym->pending);
        put_text(y, 0, D.W, RL_DIM, msg);
        return;
    case KIOSK_CONNECTED:
        break;
    }
    if (D.st && D.st->paused) {
        fill_row(y, RL_WARN);
        snprintf(msg, sizeof(msg), _(" %s The session is paused. "), D.sym->warn);
        put_text(y, 0, D.W, RL_WARN, msg);
        return;
    }
    if (D.v->notice) {
        fill_row(y, RL_WARN);
        snprintf(msg, sizeof(msg), " %s %s ", D.sym->warn, D.v->notice);
        put_text(y, 0, D.W, RL_WARN, msg);
        return;
    }
    if (D.st && D.st->seq) {
        int n = state_live_participants(D.st), on = 0;
        for (int i = 0; i < D.st->n_participants; i++)
            on += live(&D.st->participants[i]) && D.st->participants[i].online;
        snprintf(msg, sizeof(msg),
                 ngettext(" %d participant, %d online", " %d participants, %d online", n), n, on);
        put_text(y, 0, D.W - 12, RL_DIM, msg);
    }
    put_text(y, D.W - 10, 10, RL_DIM, "lwk-kiosk ");
}

/* ---- the title block --------------------------------------------------- */

/* The countdown to show: the session's timer, else the test hook's. */
static bool countdown_of(struct kiosk_countdown *cd)
{
    if (D.st && D.st->timer.entry >= 0 && D.st->timer.duration_s > 0) {
        const struct state_timer *t = &D.st->timer;
        cd->start_ms = t->start_ms > 0 ? (uint64_t)t->start_ms : 0;
        cd->duration_s = t->duration_s;
        cd->paused = !t->running;
        cd->left_ms = t->left_ms;
        return true;
    }
    if (D.v->countdown.start_ms || D.v->countdown.paused) {
        *cd = D.v->countdown;
        return true;
    }
    return false;
}

/* Draws the step (and vermogen) in large type; returns the first free row. */
static int draw_title(void)
{
    const struct session_state *st = D.st;
    enum font_size ts = title_size();
    int y = 1;
    int right = D.W - 1; /* right edge left free for the clock or countdown */

    /* The countdown of a timed step, or on large screens a big clock. */
    char tbuf[32];
    enum role trole = RL_DIM;
    bool tshow = false;
    struct kiosk_countdown cd;
    if (countdown_of(&cd)) {
        enum countdown_state cs = kiosk_countdown_text(&cd, D.v->now_ms, tbuf, sizeof(tbuf));
        trole = cs == COUNTDOWN_OVERRUN ? RL_ALERT : cs == COUNTDOWN_WARNING ? RL_WARN : RL_OK;
        if (cd.paused && cs != COUNTDOWN_OVERRUN)
            trole = RL_DIM;
        tshow = true;
    } else if (D.W >= 150 && D.H >= 40) {
        time_t t = (time_t)(D.v->now_ms / 1000);
        struct tm tm;
        localtime_r(&t, &tm);
        strftime(tbuf, sizeof(tbuf), "%H:%M", &tm);
        tshow = true;
    }
    if (tshow) {
        int tw = font_width(tbuf, ts);
        if (tw > 0 && tw < D.W / 3) {
            if (trole == RL_WARN || trole == RL_ALERT) {
                /* a coloured field behind the digits, readable in monochrome too */
                for (int i = 0; i < font_height(ts); i++)
                    put_sym(y + i, D.W - tw - 3, trole, " ", tw + 2);
                put_big(y, D.W - tw - 2, tw, font_height(ts), trole, tbuf, ts, NULL);
            } else {
                put_big(y, D.W - tw - 2, tw, font_height(ts), trole, tbuf, ts, NULL);
            }
            right = D.W - tw - 4;
        } else {
            put_text(y, D.W - (int)strlen(tbuf) - 2, 12, trole, tbuf);
            right = D.W - (int)strlen(tbuf) - 4;
        }
    }

    const char *title = st ? phase_title(st->phase) : "lwk-kiosk";
    if (D.v->conn == KIOSK_UNKNOWN_CODE)
        title = _("Unknown code");
    int tw;
    int th = put_big_or_text(y, 1, right - 1, font_height(ts), RL_TITLE, title, ts, &tw);
    int bottom = y + (th > font_height(ts) ? th : font_height(ts));
    if (th == 1)
        bottom = y + 1;

    /* The vermogen: large beside the title, else large below, else bold text. */
    const char *item = NULL;
    if (st && (st->phase == PROTO_PHASE_SCORE || st->phase == PROTO_PHASE_EXPLAIN) &&
        st->item >= 0 && st->item < st->n_items)
        item = st->items[st->item].name;
    bool item_big = false;
    if (item) {
        /* At the title's size beside it, else below it, else smaller beside it. */
        int x = 1 + tw + 4;
        if (th > 1 && font_fit(item, right - x, th, ts) == (int)ts) {
            item_big = put_big(y, x, right - x, th, RL_ACCENT, item, ts, NULL) > 0;
        } else if (th > 1 && D.H >= 30 && font_fit(item, D.W - 2, font_height(ts), ts) == (int)ts) {
            bottom += put_big(bottom, 1, D.W - 2, font_height(ts), RL_ACCENT, item, ts, NULL);
            item_big = true;
        } else if (th > 1 && font_fit(item, right - x, th, ts) >= 0) {
            item_big = put_big(y, x, right - x, th, RL_ACCENT, item, ts, NULL) > 0;
        }
    }

    /* The line under the title: step, vermogen, round, pause. */
    if (st) {
        int x = 1;
        const char *step = phase_step(st);
        if (step)
            x += put_textf(bottom, x, D.W - x, RL_LABEL, "%s  ", step);
        if (item && !item_big)
            x += put_textf(bottom, x, D.W - x, RL_ACCENT, "%s  ", item);
        if (item) {
            x += put_textf(bottom, x, D.W - x, RL_DIM, _("capability %d of %d"),
                           session_index(st->item), session_items());
            if (st->round > 1) {
                char round[64];
                snprintf(round, sizeof(round), _("round %d"), st->round);
                x += put_textf(bottom, x, D.W - x, RL_DIM, "  %s %s", D.sym->dot, round);
            }
            x += 2;
        }
        if (st->timer.entry >= 0 && st->timer.entry < st->n_agenda &&
            st->agenda[st->timer.entry].title)
            x += put_textf(bottom, x, D.W - x, RL_LABEL, "%s  ", st->agenda[st->timer.entry].title);
        if (st->timer.entry >= 0 && !st->timer.running)
            x += put_textf(bottom, x, D.W - x, RL_DIM, "(%s)  ", _("the clock is stopped"));
        if (st->paused)
            put_textf(bottom, x, D.W - x, RL_WARN, " %s ", _("PAUSED"));
    }
    return bottom + 2;
}

/* ---- step contents ----------------------------------------------------- */

/* A grid of names with a mark, paged. */
struct name_cell {
    const char *name;
    const char *mark;
    enum role mark_role, name_role;
};

static void draw_name_grid(int y0, int x0, int h, int w, const struct name_cell *cells, int n)
{
    if (h <= 0 || w <= 4 || n == 0)
        return;
    int maxw = 0;
    for (int i = 0; i < n; i++) {
        int c = text_cols(cells[i].name ? cells[i].name : "?");
        if (c > maxw)
            maxw = c;
    }
    int cellw = maxw + 5;
    if (cellw > 34)
        cellw = 34;
    if (cellw > w)
        cellw = w;
    int cols = w / cellw;
    if (cols < 1)
        cols = 1;
    int per = cols * h;
    int pages = (n + per - 1) / per;
    int page = page_of(pages);
    if (pages > 1) {
        h -= 1; /* room for the page mark */
        per = cols * (h > 0 ? h : 1);
        pages = (n + per - 1) / per;
        page = page_of(pages);
        page_mark(y0 + h, x0 + w, page, pages);
    }
    for (int i = page * per, k = 0; i < n && k < per; i++, k++) {
        int r = k % h, c = k / h;
        int x = x0 + c * cellw;
        put_text(y0 + r, x, 2, cells[i].mark_role, cells[i].mark);
        put_text(y0 + r, x + 2, cellw - 3, cells[i].name_role, cells[i].name ? cells[i].name : "?");
    }
}

static void draw_lobby(int y0, int y1)
{
    const struct session_state *st = D.st;
    int y = y0;
    if (st->join_code[0] && st->phase != PROTO_PHASE_CLOSED) {
        put_text(y, 1, D.W - 2, RL_LABEL, _("Join with the code"));
        int budget = (y1 - y0) / 3;
        enum font_size largest = budget >= 10 ? FONT_DOUBLE : FONT_FULL;
        int w;
        int h = put_big_or_text(y + 1, 2, D.W - 4, budget, RL_ACCENT, st->join_code, largest, &w);
        y += 1 + h + 1;
    }
    int n = state_live_participants(st);
    put_textf(y, 1, D.W - 2, RL_LABEL,
              ngettext("%d participant has joined", "%d participants have joined", n), n);
    y++;
    struct name_cell *cells = calloc((size_t)st->n_participants + 1, sizeof(*cells));
    if (!cells)
        return;
    int k = 0;
    for (int i = 0; i < st->n_participants; i++) {
        const struct state_participant *p = &st->participants[i];
        if (!live(p))
            continue;
        cells[k++] = (struct name_cell){p->name, p->online ? D.sym->on : D.sym->off,
                                        p->online ? RL_OK : RL_DIM, p->online ? RL_NORMAL : RL_DIM};
    }
    if (k == 0)
        put_text(y + 1, 3, D.W - 4, RL_DIM, _("Nobody yet."));
    draw_name_grid(y + 1, 3, y1 - y, D.W - 4, cells, k);
    free(cells);
}

static const char *status_name(int status)
{
    switch (status) {
    case 0:
        return _("open");
    case 1:
        return _("in progress");
    case 2:
        return _("done");
    case 3:
        return _("dropped");
    default:
        return "";
    }
}

/*
 * Review: the team's last session of this instrument (its means and desired
 * scores) and the actions it agreed, with what the group says about them now.
 * Latecomers still need the join code, so it stays in view.
 */
static void draw_review(int y0, int y1)
{
    const struct session_state *st = D.st;
    int y = y0;
    if (st->join_code[0]) {
        int x = 1 + put_text(y, 1, D.W - 2, RL_LABEL, _("Join with the code"));
        x += put_text(y, x + 1, D.W - x - 2, RL_ACCENT, st->join_code) + 1;
        int n = state_live_participants(st);
        put_textf(y, x + 3, D.W - x - 4, RL_DIM,
                  ngettext("%d participant has joined", "%d participants have joined", n), n);
        y += 2;
    }
    if (st->previous_session) {
        char date[64] = "";
        if (st->previous_date[0])
            fmt_date(date, sizeof(date), st->previous_date);
        if (date[0])
            put_textf(y, 1, D.W - 2, RL_LABEL, _("Scores last time (%s)"), date);
        else
            put_text(y, 1, D.W - 2, RL_LABEL, _("Scores last time"));
        y++;
        for (int i = 0; i < st->n_items && y <= y1; i++) {
            const struct state_item *it = &st->items[i];
            if (!it->scored || it->previous_mean < 0)
                continue;
            char mean[32];
            fmt1(mean, sizeof(mean), it->previous_mean / 100.0);
            int x = 3 + put_text(y, 3, D.W / 3, RL_NORMAL, it->name);
            x = x < D.W / 3 + 4 ? D.W / 3 + 4 : x + 2;
            x += put_textf(y, x, D.W - x - 1, RL_BAR, "%s %s", _("mean"), mean);
            if (it->previous_desired)
                put_textf(y, x + 3, D.W - x - 4, RL_LABEL, "%s %d", _("desired"),
                          it->previous_desired);
            y++;
        }
        y++;
    }
    int n = st->n_reviews;
    if (n == 0) {
        if (!st->previous_session)
            put_text(y, 1, D.W - 2, RL_DIM, _("No earlier actions to look back on."));
        return;
    }
    put_textf(y, 1, D.W - 2, RL_LABEL,
              ngettext("%d action of last time", "%d actions of last time", n), n);
    y++;
    int sw = text_cols(_("in progress")) + 2, dw = 12;
    int ww = D.W - 2 - sw - dw - 20 - 6;
    if (ww < 10)
        ww = 10;
    int avail = y1 - y + 1;
    if (avail <= 0)
        return;
    int pages = (n + avail - 1) / avail;
    if (pages > 1) {
        avail--;
        pages = (n + avail - 1) / (avail > 0 ? avail : 1);
    }
    int page = page_of(pages);
    for (int i = page * avail, k = 0; i < st->n_reviews && k < avail; i++, k++) {
        const struct state_review *r = &st->reviews[i];
        int x = 1;
        bool done = r->reviewed;
        put_text(y, x, 2, done ? RL_OK : RL_DIM, done ? D.sym->check : D.sym->pending);
        x += 2;
        put_text(y, x, ww, RL_NORMAL, r->text ? r->text : "");
        x += ww + 2;
        put_text(y, x, 18, RL_DIM, r->owner ? r->owner : "");
        x += 20;
        char date[32] = "";
        if (r->deadline[0])
            fmt_date(date, sizeof(date), r->deadline);
        put_text(y, x, dw, r->overdue ? RL_WARN : RL_DIM, date);
        x += dw;
        int status = r->reviewed && r->new_status >= 0 ? r->new_status : r->status;
        put_text(y, x, sw, status == 2 ? RL_OK : RL_LABEL, status_name(status));
        y++;
    }
    page_mark(y1, D.W - 1, page, pages);
}

/* Scoring, blind: who has scored and who not yet, never a value. */
static void draw_scoring(int y0, int y1, const struct state_round *r)
{
    const struct session_state *st = D.st;
    int total = 0, done = 0;
    for (int i = 0; i < st->n_participants; i++) {
        const struct state_participant *p = &st->participants[i];
        if (!live(p))
            continue;
        total++;
        if (r && state_round_score(r, p->pid))
            done++;
    }
    char count[64];
    snprintf(count, sizeof(count), _("%d of %d"), done, total);
    int y = y0;
    int w;
    enum font_size largest = D.H >= 40 ? FONT_FULL : FONT_HALF;
    int h = put_big_or_text(y, 2, D.W * 2 / 3, 5, done == total && total ? RL_OK : RL_ACCENT, count,
                            largest, &w);
    int tx = 2 + w + 3;
    put_text(y + (h > 1 ? h / 2 - (h > 3) : 0), tx, D.W - tx - 1, RL_LABEL,
             ngettext("has given a score", "have given a score", done));
    if (h > 2)
        put_text(y + h / 2 + (h > 3 ? 0 : 1), tx, D.W - tx - 1, RL_DIM,
                 _("The scores stay hidden until they are revealed together."));
    y += h + 1;

    int colw = (D.W - 4) / 2;
    put_textf(y, 2, colw, RL_LABEL, "%s %s", D.sym->check, _("Scored"));
    put_textf(y, 2 + colw, colw, RL_LABEL, "%s %s", D.sym->pending, _("Not yet"));
    y++;
    struct name_cell *yes = calloc((size_t)total + 1, sizeof(*yes));
    struct name_cell *no = calloc((size_t)total + 1, sizeof(*no));
    int ny = 0, nn = 0;
    if (yes && no) {
        for (int i = 0; i < st->n_participants; i++) {
            const struct state_participant *p = &st->participants[i];
            if (!live(p))
                continue;
            if (r && state_round_score(r, p->pid))
                yes[ny++] = (struct name_cell){p->name, D.sym->check, RL_OK, RL_NORMAL};
            else
                no[nn++] = (struct name_cell){p->name, D.sym->pending, RL_DIM, RL_DIM};
        }
        draw_name_grid(y, 2, y1 - y + 1, colw - 1, yes, ny);
        draw_name_grid(y, 2 + colw, y1 - y + 1, colw - 1, no, nn);
    }
    free(yes);
    free(no);
}

/* The divided marker: the grades lie far apart, worth talking about. */
static int draw_divided(int y, int x, int w, const struct state_stats *s, bool big)
{
    char sp[32], msg[512];
    fmt1(sp, sizeof(sp), s->spread);
    snprintf(msg, sizeof(msg),
             _(" %s DIVIDED: scores from %d to %d, spread %s. Worth talking about. "), D.sym->warn,
             s->min, s->max, sp);
    if (big) {
        int bw;
        int h = put_big(y, x + 1, w - 2, 5, RL_WARN, _("DIVIDED"), FONT_FULL, &bw);
        if (h) {
            put_text(y + h, x, w, RL_WARN, msg);
            return h + 1;
        }
    }
    put_sym(y, x, RL_WARN, " ", w);
    put_text(y, x, w, RL_WARN, msg);
    return 1;
}

/* Reveal: the distribution as bars, mean, median and spread in large digits. */
static void draw_reveal(int y0, int y1, int item, const struct state_round *r)
{
    const struct session_state *st = D.st;
    struct state_stats s;
    state_round_stats(st, item, r->round, &s);
    const struct state_item *it = &st->items[item];
    int rows = y1 - y0 + 1;
    int lo = it->scale_min ? it->scale_min : 1, hi = it->scale_max ? it->scale_max : 10;

    bool big_divided = s.divided && rows >= hi - lo + 1 + 8;
    int divided_rows = s.divided ? (big_divided ? 6 : 1) : 0;
    int chart_rows = rows - divided_rows - (s.divided ? 1 : 0);

    int cw = D.W * 55 / 100;
    if (cw < 30)
        cw = D.W - 2;
    put_textf(y0, 1, cw, RL_LABEL,
              ngettext("Distribution of %d score", "Distribution of %d scores", s.count), s.count);
    int maxc = 0;
    for (int v = lo; v <= hi; v++)
        if (s.distribution[v] > maxc)
            maxc = s.distribution[v];
    /* Too few rows for every grade: leave out empty grades at the ends. */
    int top = hi, bottom = lo;
    while (top - bottom + 1 > chart_rows - 1 && top > s.max && top > bottom)
        top--;
    while (top - bottom + 1 > chart_rows - 1 && bottom < s.min && bottom < top)
        bottom++;
    int barw = cw - 10;
    for (int v = top, k = 0; v >= bottom && k < chart_rows - 1; v--, k++) {
        int y = y0 + 1 + k;
        put_textf(y, 1, 3, RL_DIM, "%2d", v);
        put_sym(y, 4, RL_DIM, D.sym->vline, 1);
        if (s.distribution[v]) {
            int len = put_bar(y, 6, barw, s.distribution[v], maxc, RL_BAR);
            put_textf(y, 6 + len + 1, 4, RL_NORMAL, "%d", s.distribution[v]);
        }
    }

    /* Statistics on the right, large when there is room. */
    int sx = cw + 2, sw = D.W - sx - 1;
    if (cw >= D.W - 2)
        return; /* narrow: no room beside the chart */
    char mean[32], median[32], spread[32];
    fmt1(mean, sizeof(mean), s.mean);
    fmt_median(median, sizeof(median), s.median);
    fmt1(spread, sizeof(spread), s.spread);
    const char *label[3] = {_("Mean"), _("Median"), _("Spread")};
    const char *value[3] = {mean, median, spread};
    int per = (chart_rows) / 3;
    enum font_size largest = per >= 12 ? FONT_DOUBLE : FONT_FULL;
    int y = y0;
    for (int i = 0; i < 3; i++) {
        put_text(y, sx, sw, RL_LABEL, label[i]);
        int h = put_big_or_text(y + 1, sx + 1, sw - 1, per - 1, RL_ACCENT, value[i], largest, NULL);
        y += 1 + h + (per - 1 - h > 0 ? 1 : 0);
    }
    if (s.divided)
        draw_divided(y1 - divided_rows + 1, 1, D.W - 2, &s, big_divided);
}

static void draw_score_step(int y0, int y1)
{
    const struct session_state *st = D.st;
    const struct state_round *r = state_round(st, st->item, st->round);
    if (r && r->revealed)
        draw_reveal(y0, y1, st->item, r);
    else
        draw_scoring(y0, y1, r);
}

/* Keywords of one participant for the item, joined with middle dots; "" when none. */
static char *keywords_line(int pid, int item)
{
    const char *sep = D.sym->dot;
    size_t len = 0, sl = strlen(sep) + 2;
    for (int i = 0; i < D.st->n_keywords; i++) {
        const struct state_keyword *k = &D.st->keywords[i];
        if (!k->removed && k->pid == pid && k->item == item && k->text)
            len += strlen(k->text) + sl;
    }
    char *out = malloc(len + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (int i = 0; i < D.st->n_keywords; i++) {
        const struct state_keyword *k = &D.st->keywords[i];
        if (k->removed || k->pid != pid || k->item != item || !k->text)
            continue;
        if (o)
            o += (size_t)sprintf(out + o, " %s ", sep);
        size_t tl = strlen(k->text);
        memcpy(out + o, k->text, tl);
        o += tl;
    }
    out[o] = '\0';
    return out;
}

/* Examples from practice recorded for an item, joined with middle dots. */
static char *examples_line(int item)
{
    const char *sep = D.sym->dot;
    size_t len = 0, sl = strlen(sep) + 2;
    for (int i = 0; i < D.st->n_examples; i++)
        if (!D.st->examples[i].removed && D.st->examples[i].item == item && D.st->examples[i].text)
            len += strlen(D.st->examples[i].text) + sl;
    char *out = malloc(len + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (int i = 0; i < D.st->n_examples; i++) {
        const struct state_example *e = &D.st->examples[i];
        if (e->removed || e->item != item || !e->text)
            continue;
        if (o)
            o += (size_t)sprintf(out + o, " %s ", sep);
        size_t tl = strlen(e->text);
        memcpy(out + o, e->text, tl);
        o += tl;
    }
    out[o] = '\0';
    return out;
}

struct kw_group {
    const char *name;
    char *text; /* owned; "" = nothing yet */
    bool current;
    int height;
};

/*
 * The keywords of the current item per participant: the speaker first,
 * then in turn order, then the others; the item's practice examples last.
 * Paged by whole groups.
 */
static void draw_keyword_groups(int y, int y1, int speaker)
{
    const struct session_state *st = D.st;
    const struct state_turns *t = &st->turns;
    bool turns_here = t->set && t->item == st->item && t->round == st->round;
    int np = st->n_participants;
    struct kw_group *g = calloc((size_t)np + 2, sizeof(*g));
    bool *seen = calloc((size_t)np + 2, sizeof(bool));
    int *starts = calloc((size_t)np + 3, sizeof(int));
    int n = 0;
    if (!g || !seen || !starts)
        goto out;

    int *order = calloc((size_t)np + 1, sizeof(int));
    if (!order)
        goto out;
    int no = 0;
    if (speaker > 0 && speaker <= np) {
        order[no++] = speaker;
        seen[speaker] = true;
    }
    if (turns_here)
        for (int i = 0; i < t->n; i++)
            if (t->order[i] > 0 && t->order[i] <= np && !seen[t->order[i]]) {
                order[no++] = t->order[i];
                seen[t->order[i]] = true;
            }
    for (int i = 0; i < np; i++)
        if (!seen[st->participants[i].pid]) {
            order[no++] = st->participants[i].pid;
            seen[st->participants[i].pid] = true;
        }
    for (int i = 0; i < no; i++) {
        char *kl = keywords_line(order[i], st->item);
        if (!kl || (!kl[0] && order[i] != speaker)) {
            free(kl);
            continue;
        }
        g[n++] = (struct kw_group){name_of(order[i]), kl, order[i] == speaker, 1};
    }
    free(order);
    if (st->item >= 0 && st->items[st->item].notes) {
        char *ex = examples_line(st->item);
        if (ex && ex[0])
            g[n++] = (struct kw_group){_("Examples"), ex, false, 1};
        else
            free(ex);
    }

    put_text(y, 1, D.W - 2, RL_LABEL, _("Keywords"));
    y++;
    if (n == 0) {
        put_text(y, 3, D.W - 4, RL_DIM, _("No keywords yet."));
        goto out;
    }
    int namew = 0;
    for (int i = 0; i < n; i++)
        if (text_cols(g[i].name) > namew)
            namew = text_cols(g[i].name);
    if (namew > 20)
        namew = 20;
    int kx = 3 + namew + 2, kw = D.W - kx - 1;
    int avail = y1 - y + 1;
    if (avail <= 0)
        goto out;
    int total = 0;
    for (int i = 0; i < n; i++) {
        const char *ls[1];
        size_t ll[1];
        int h = g[i].text[0] ? wrap(g[i].text, kw, ls, ll, 1) : 1;
        g[i].height = h < avail ? h : avail;
        total += g[i].height;
    }
    if (total > avail && avail > 1)
        avail--; /* a row for the page mark */
    int pages = 1, used = 0;
    for (int i = 0; i < n; i++) {
        if (used + g[i].height > avail && used > 0) {
            starts[pages++] = i;
            used = 0;
        }
        used += g[i].height < avail ? g[i].height : avail;
    }
    int page = page_of(pages);
    int first = starts[page], last = page + 1 < pages ? starts[page + 1] : n;
    int bottom = y + avail - 1;
    for (int i = first; i < last && y <= bottom; i++) {
        if (g[i].current)
            put_sym(y, 1, RL_ACCENT, D.sym->arrow, 1);
        put_text(y, 3, namew, g[i].current ? RL_ACCENT : RL_LABEL, g[i].name);
        if (!g[i].text[0]) {
            put_text(y, kx, kw, RL_DIM, D.sym->pending);
            y++;
            continue;
        }
        const char *ls[64];
        size_t ll[64];
        int h = wrap(g[i].text, kw, ls, ll, 64);
        for (int j = 0; j < h && j < 64 && y <= bottom; j++, y++)
            put_textn(y, kx, kw, RL_NORMAL, ls[j], ll[j]);
    }
    page_mark(y1, D.W - 1, page, pages);
out:
    for (int i = 0; i < n; i++)
        free(g[i].text);
    free(g);
    free(seen);
    free(starts);
}

/* Explanation round: whose turn, who is next, the keywords per participant. */
static void draw_explain(int y0, int y1)
{
    const struct session_state *st = D.st;
    const struct state_turns *t = &st->turns;
    bool turns_here = t->set && t->item == st->item && t->round == st->round;
    int speaker = turns_here ? state_current_speaker(st) : 0;
    int next = 0;
    if (turns_here && t->current >= 0)
        for (int i = t->current + 1; i < t->n; i++)
            if (live(state_participant(st, t->order[i]))) {
                next = t->order[i];
                break;
            }

    int y = y0;
    /* The round's numbers, small, on the right. */
    const struct state_round *r = state_round(st, st->item, st->round);
    int rightw = 0;
    if (r && r->revealed) {
        struct state_stats s;
        state_round_stats(st, st->item, r->round, &s);
        char val[3][32];
        fmt1(val[0], sizeof(val[0]), s.mean);
        fmt_median(val[1], sizeof(val[1]), s.median);
        fmt1(val[2], sizeof(val[2]), s.spread);
        const char *lab[3] = {_("Mean"), _("Median"), _("Spread")};
        int lw = 0;
        for (int i = 0; i < 3; i++)
            if (text_cols(lab[i]) > lw)
                lw = text_cols(lab[i]);
        rightw = lw + 8;
        if (rightw < D.W / 3) {
            int x = D.W - rightw;
            for (int i = 0; i < 3; i++) {
                put_text(y + i, x, lw, RL_DIM, lab[i]);
                put_text(y + i, x + lw + 2, 6, RL_ACCENT, val[i]);
            }
            if (s.divided) {
                char d[128];
                snprintf(d, sizeof(d), " %s %s ", D.sym->warn, _("DIVIDED"));
                put_text(y + 3, x - 1, rightw, RL_WARN, d);
            }
            rightw += 2;
        } else {
            rightw = 0;
        }
    }

    if (speaker) {
        put_text(y, 1, D.W - rightw - 2, RL_LABEL, _("Speaking now"));
        int w;
        int h = put_big_or_text(y + 1, 2, D.W - rightw - 4, D.H >= 40 ? 5 : 3, RL_ACCENT,
                                name_of(speaker), FONT_FULL, &w);
        y += 1 + h;
        if (next)
            put_textf(y, 2, D.W - 4, RL_NORMAL, _("Next: %s"), name_of(next));
        else
            put_text(y, 2, D.W - 4, RL_DIM, _("Last in turn."));
        y += 2;
    } else if (turns_here) {
        put_text(y, 1, D.W - rightw - 2, RL_LABEL, _("Everyone has had their turn."));
        y += 2;
    } else {
        put_text(y, 1, D.W - rightw - 2, RL_LABEL, _("The order of turns is not set yet."));
        y += 2;
    }

    draw_keyword_groups(y, y1, speaker);
}

/* Item names a theme is linked to, joined. */
static void theme_items(const struct state_theme *t, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < D.st->n_items && len + 1 < cap; i++)
        if (t->items & (1u << i))
            len += (size_t)snprintf(buf + len, cap - len, "%s%s", len ? ", " : "",
                                    D.st->items[i].name ? D.st->items[i].name : "?");
    if (len >= cap)
        buf[cap - 1] = '\0';
}

static const struct state_theme **sorted_themes(int *n, bool by_votes)
{
    const struct state_theme **list = calloc((size_t)D.st->n_themes + 1, sizeof(*list));
    *n = 0;
    if (!list)
        return NULL;
    for (int i = 0; i < D.st->n_themes; i++) {
        const struct state_theme *t = &D.st->themes[i];
        if (!t->deleted && !t->merged_into && t->text)
            list[(*n)++] = t;
    }
    if (by_votes) /* a stable insertion sort: most votes first, then in order */
        for (int i = 1; i < *n; i++) {
            const struct state_theme *x = list[i];
            int j = i - 1;
            while (j >= 0 && list[j]->votes < x->votes) {
                list[j + 1] = list[j];
                j--;
            }
            list[j + 1] = x;
        }
    return list;
}

static void draw_themes(int y0, int y1)
{
    const struct session_state *st = D.st;
    int y = y0;
    bool votes = D.v->sync->vote_closed_seen && !st->vote_open;
    if (st->vote_open) {
        int total = 0, voted = 0;
        for (int i = 0; i < st->n_participants; i++)
            if (live(&st->participants[i])) {
                total++;
                voted += st->participants[i].voted;
            }
        char msg[256];
        snprintf(msg, sizeof(msg), _(" Voting: %d of %d have voted (%d votes each) "), voted, total,
                 st->vote_budget);
        put_text(y, 1, D.W - 2, RL_WARN, msg);
        y += 2;
    } else if (votes) {
        put_text(y, 1, D.W - 2, RL_LABEL, _("Themes by votes"));
        y += 2;
    }
    int n;
    const struct state_theme **list = sorted_themes(&n, votes);
    if (!list)
        return;
    if (n == 0)
        put_text(y, 2, D.W - 3, RL_DIM, _("No themes yet."));
    int maxv = 1;
    for (int i = 0; i < n; i++)
        if (list[i]->votes > maxv)
            maxv = list[i]->votes;
    int vw = votes ? (D.W >= 120 ? 30 : 16) : 0;
    int tx = 6, tw = D.W - tx - vw - 2;
    /* Each theme: its text (one line) and, when linked, its vermogens. */
    int avail = y1 - y + 1;
    int heights_sum = 0;
    for (int i = 0; i < n; i++)
        heights_sum += list[i]->items ? 2 : 1;
    int pages = 1;
    if (heights_sum > avail)
        avail -= 1;
    /* page breaks by theme */
    int *starts = calloc((size_t)n + 2, sizeof(int));
    if (!starts) {
        free(list);
        return;
    }
    int used = 0;
    for (int i = 0; i < n; i++) {
        int h = list[i]->items ? 2 : 1;
        if (used + h > avail && used > 0) {
            starts[pages++] = i;
            used = 0;
        }
        used += h;
    }
    int page = page_of(pages);
    int first = starts[page], last = page + 1 < pages ? starts[page + 1] : n;
    for (int i = first; i < last; i++) {
        const struct state_theme *t = list[i];
        put_textf(y, 1, 5, RL_DIM, "%3d.", i + 1);
        put_text(y, tx, tw, RL_NORMAL, t->text);
        if (votes) {
            int bx = D.W - vw - 1;
            put_bar(y, bx, vw - 5, t->votes, maxv, RL_BAR);
            put_textf(y, D.W - 5, 5, RL_LABEL, "%4d", t->votes);
        }
        y++;
        if (t->items) {
            char items[512];
            theme_items(t, items, sizeof(items));
            put_textf(y, tx, tw, RL_DIM, "%s %s", D.sym->arrow, items);
            y++;
        }
    }
    page_mark(y1, D.W - 1, page, pages);
    free(starts);
    free(list);
}

/* Desired scores: per vermogen the current mean beside the desired score. */
static void draw_desired(int y0, int y1)
{
    const struct session_state *st = D.st;
    int y = y0;
    int lw = text_cols(_("now")), dw = text_cols(_("desired"));
    if (dw > lw)
        lw = dw;
    int bx = 4 + lw + 2, bw = D.W - bx - 8;
    int n = scored_items();
    int per = 4;
    int avail = y1 - y0 + 1;
    if (n * per > avail)
        per = 3; /* no blank line between vermogens */
    int fit = avail / per;
    if (fit < 1)
        fit = 1;
    int pages = (n + fit - 1) / fit;
    if (pages > 1) {
        fit = (avail - 1) / per;
        if (fit < 1)
            fit = 1;
        pages = (n + fit - 1) / fit;
    }
    int page = page_of(pages);
    int k = 0;
    for (int i = 0; i < st->n_items; i++) {
        const struct state_item *it = &st->items[i];
        if (!scored_here(i))
            continue;
        if (k++ / fit != page)
            continue;
        int hi = it->scale_max ? it->scale_max : 10;
        int props = 0;
        for (int j = 0; j < st->n_desired; j++)
            props += st->desired[j].item == i;
        int x = 1 + put_text(y, 1, D.W - 2, RL_LABEL, it->name);
        if (props && !it->desired)
            put_textf(y, x + 2, D.W - x - 3, RL_DIM,
                      ngettext("(%d proposal)", "(%d proposals)", props), props);
        y++;
        const struct state_round *r = last_revealed(i);
        put_text(y, 4, lw, RL_DIM, _("now"));
        if (r) {
            struct state_stats s;
            state_round_stats(st, i, r->round, &s);
            char mean[32];
            fmt1(mean, sizeof(mean), s.mean);
            put_bar(y, bx, bw, s.mean, hi, RL_BAR);
            put_text(y, bx + bw + 2, 6, RL_BAR, mean);
        } else {
            put_text(y, bx, bw, RL_DIM, D.sym->pending);
        }
        y++;
        put_text(y, 4, lw, RL_DIM, _("desired"));
        if (it->desired) {
            put_bar(y, bx, bw, it->desired, hi, RL_BAR2);
            put_textf(y, bx + bw + 2, 6, RL_LABEL, "%d", it->desired);
        } else {
            put_text(y, bx, bw, RL_DIM, _("not set yet"));
        }
        y += per - 2;
    }
    page_mark(y1, D.W - 1, page, pages);
}

/* YYYY-MM-DD as the locale writes dates. */
static void fmt_date(char *buf, size_t cap, const char *iso)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    if (!iso || sscanf(iso, "%4d-%2d-%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday) != 3) {
        snprintf(buf, cap, "%s", iso ? iso : "");
        return;
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    /* TRANSLATORS: strftime format of a deadline */
    if (!strftime(buf, cap, _("%Y-%m-%d"), &tm))
        snprintf(buf, cap, "%s", iso);
}

/* The actions as a table: what, who, role, deadline, feedback moment. */
static void draw_action_table(int y0, int y1)
{
    const struct session_state *st = D.st;
    int n = state_live_actions(st);
    if (n == 0) {
        put_text(y0, 2, D.W - 3, RL_DIM, _("No actions yet."));
        return;
    }
    struct col {
        const char *title;
        int w;
    } cols[5] = {
        {_("What"), 0}, {_("Who"), 0}, {_("Role"), 0}, {_("Deadline"), 0}, {_("Feedback"), 0}};
    int inner = D.W - 2 - 4 * 3; /* four separators " │ " */
    char dsample[32];
    fmt_date(dsample, sizeof(dsample), "2000-12-31");
    int dl = text_cols(dsample);
    if (dl < text_cols(cols[3].title))
        dl = text_cols(cols[3].title);
    cols[3].w = dl;
    int rest = inner - cols[3].w;
    cols[0].w = rest * 40 / 100;
    cols[1].w = rest * 15 / 100;
    cols[2].w = rest * 15 / 100;
    cols[4].w = rest - cols[0].w - cols[1].w - cols[2].w;

    int y = y0;
    int x = 1;
    for (int c = 0; c < 5; c++) {
        put_text(y, x, cols[c].w, RL_LABEL, cols[c].title);
        x += cols[c].w;
        if (c < 4) {
            put_text(y, x + 1, 1, RL_DIM, D.sym->vline);
            x += 3;
        }
    }
    y++;
    put_sym(y, 1, RL_DIM, D.sym->hline, D.W - 2);
    x = 1;
    for (int c = 0; c < 4; c++) {
        x += cols[c].w;
        put_sym(y, x + 1, RL_DIM, D.sym->cross, 1);
        x += 3;
    }
    y++;

    /* Rows of up to 2 lines each (the text wraps), paged. */
    const struct state_action **list = calloc((size_t)n + 1, sizeof(*list));
    int *h = calloc((size_t)n + 1, sizeof(int));
    int *starts = calloc((size_t)n + 2, sizeof(int));
    if (!list || !h || !starts)
        goto out;
    int k = 0;
    for (int i = 0; i < st->n_actions; i++)
        if (!st->actions[i].removed)
            list[k++] = &st->actions[i];
    n = k;
    int total = 0;
    for (int i = 0; i < n; i++) {
        const char *s[2];
        size_t l[2];
        int lines = wrap(list[i]->text ? list[i]->text : "", cols[0].w, s, l, 2);
        int lf = wrap(list[i]->feedback ? list[i]->feedback : "", cols[4].w, s, l, 2);
        h[i] = lines > 1 || lf > 1 ? 2 : 1;
        total += h[i];
    }
    int avail = y1 - y + 1;
    if (total > avail)
        avail -= 1;
    int pages = 1, used = 0;
    for (int i = 0; i < n; i++) {
        if (used + h[i] > avail && used > 0) {
            starts[pages++] = i;
            used = 0;
        }
        used += h[i];
    }
    int page = page_of(pages);
    int first = starts[page], last = page + 1 < pages ? starts[page + 1] : n;
    for (int i = first; i < last && y <= y1; i++) {
        const struct state_action *a = list[i];
        enum role r = a->confirmed ? RL_NORMAL : RL_DIM;
        const char *cells[5];
        char date[32];
        fmt_date(date, sizeof(date), a->deadline[0] ? a->deadline : NULL);
        cells[0] = a->text ? a->text : "";
        cells[1] = a->owner ? a->owner : "";
        cells[2] = a->role ? a->role : "";
        cells[3] = date;
        cells[4] = a->feedback ? a->feedback : "";
        x = 1;
        for (int c = 0; c < 5; c++) {
            /* What and feedback wrap onto a second line; the rest is cut. */
            const char *s[2];
            size_t l[2];
            int lines = c == 0 || c == 4 ? wrap(cells[c], cols[c].w, s, l, 2) : 0;
            if (lines <= 1) {
                put_text(y, x, cols[c].w, r, cells[c]);
            } else {
                put_textn(y, x, cols[c].w, r, s[0], l[0]);
                put_text(y + 1, x, cols[c].w, r, s[1]); /* the rest, cut with an ellipsis */
            }
            x += cols[c].w;
            if (c < 4) {
                for (int j = 0; j < h[i]; j++)
                    put_sym(y + j, x + 1, RL_DIM, D.sym->vline, 1);
                x += 3;
            }
        }
        y += h[i];
    }
    page_mark(y1, D.W - 1, page, pages);
out:
    free(list);
    free(h);
    free(starts);
}

static void draw_actions(int y0, int y1)
{
    int n = state_live_actions(D.st), unconfirmed = 0;
    for (int i = 0; i < D.st->n_actions; i++)
        unconfirmed += !D.st->actions[i].removed && !D.st->actions[i].confirmed;
    put_textf(y0, 1, D.W - 2, RL_LABEL, ngettext("%d action", "%d actions", n), n);
    if (unconfirmed) {
        char t[128];
        snprintf(
            t, sizeof(t),
            ngettext("(%d proposal, shown dimmed)", "(%d proposals, shown dimmed)", unconfirmed),
            unconfirmed);
        put_text(y0, 1 + text_cols(ngettext("%d action", "%d actions", n)) + 3, D.W / 2, RL_DIM, t);
    }
    draw_action_table(y0 + 2, y1);
}

/* Look ahead: the next session's date and the agreements. */
static void draw_look_ahead(int y0, int y1)
{
    const struct session_state *st = D.st;
    int y = y0;
    if (st->look_ahead_date[0]) {
        char date[64];
        fmt_date(date, sizeof(date), st->look_ahead_date);
        put_text(y, 1, D.W - 2, RL_LABEL, _("Next session"));
        int h =
            put_big_or_text(y + 1, 2, D.W - 4, D.H >= 40 ? 5 : 3, RL_ACCENT, date, FONT_FULL, NULL);
        y += h + 2;
    }
    put_text(y, 1, D.W - 2, RL_LABEL, _("Agreements"));
    y++;
    int n = 0;
    for (int i = 0; i < st->n_look_ahead; i++)
        n += !st->look_ahead[i].removed;
    if (n == 0) {
        put_text(y, 3, D.W - 4, RL_DIM, _("None yet."));
        return;
    }
    int avail = y1 - y + 1;
    int pages = (n + avail - 1) / (avail > 0 ? avail : 1);
    if (pages > 1) {
        avail--;
        pages = (n + avail - 1) / (avail > 0 ? avail : 1);
    }
    int page = page_of(pages);
    int k = 0;
    for (int i = 0; i < st->n_look_ahead; i++) {
        const struct state_note *no = &st->look_ahead[i];
        if (no->removed)
            continue;
        if (k++ / (avail > 0 ? avail : 1) != page)
            continue;
        put_sym(y, 2, RL_ACCENT, D.sym->bullet, 1);
        put_text(y, 4, D.W - 5, RL_NORMAL, no->text);
        y++;
    }
    page_mark(y1, D.W - 1, page, pages);
}

/* Lines of text (wrapped) with a role, paged together. */
struct line {
    const char *s;
    size_t len;
    int x;
    enum role r;
};

static void draw_lines(int y0, int y1, const struct line *lines, int n)
{
    int avail = y1 - y0 + 1;
    if (avail <= 0)
        return;
    int pages = (n + avail - 1) / avail;
    if (pages > 1) {
        avail--;
        pages = (n + avail - 1) / (avail > 0 ? avail : 1);
    }
    int page = page_of(pages);
    for (int i = page * avail, y = y0; i < n && y < y0 + avail; i++, y++)
        put_textn(y, lines[i].x, D.W - lines[i].x - 1, lines[i].r, lines[i].s, lines[i].len);
    page_mark(y1, D.W - 1, page, pages);
}

/* Summary and look back: the summary, reactions and the evaluation. */
static void draw_summary(int y0, int y1)
{
    const struct session_state *st = D.st;
    int cap = 64, n = 0;
    struct line *lines = malloc(sizeof(*lines) * (size_t)cap);
    char **owned = calloc((size_t)st->n_reactions + 2, sizeof(char *));
    if (!lines || !owned)
        goto out;
#define ADD(str, l, xx, rr)                                                                        \
    do {                                                                                           \
        if (n == cap) {                                                                            \
            struct line *nl = realloc(lines, sizeof(*lines) * (size_t)cap * 2);                    \
            if (!nl)                                                                               \
                goto draw;                                                                         \
            lines = nl;                                                                            \
            cap *= 2;                                                                              \
        }                                                                                          \
        lines[n++] = (struct line){(str), (l), (xx), (rr)};                                        \
    } while (0)
    if (st->summary) {
        const char *s[256];
        size_t l[256];
        int k = wrap(st->summary, D.W - 5, s, l, 256);
        for (int i = 0; i < k && i < 256; i++)
            ADD(s[i], l[i], 3, RL_NORMAL);
        ADD("", 0, 1, RL_NORMAL);
    } else {
        ADD(_("The facilitator sums up."), strlen(_("The facilitator sums up.")), 3, RL_DIM);
        ADD("", 0, 1, RL_NORMAL);
    }
    int nr = 0;
    for (int i = 0; i < st->n_reactions; i++)
        nr += !st->reactions[i].removed;
    if (nr) {
        ADD(_("Reactions"), strlen(_("Reactions")), 1, RL_LABEL);
        int o = 0;
        for (int i = 0; i < st->n_reactions; i++) {
            const struct state_note *re = &st->reactions[i];
            if (re->removed || !re->text)
                continue;
            size_t need = strlen(re->text) + strlen(name_of(re->pid)) + 4;
            char *t = malloc(need);
            if (!t)
                continue;
            snprintf(t, need, "%s: %s", name_of(re->pid), re->text);
            owned[o++] = t;
            const char *s[64];
            size_t l[64];
            int k = wrap(t, D.W - 5, s, l, 64);
            for (int j = 0; j < k && j < 64; j++)
                ADD(s[j], l[j], 3, RL_NORMAL);
        }
    }
draw:
#undef ADD
    if (st->n_evaluations) {
        int sum = 0;
        for (int i = 0; i < st->n_evaluations; i++)
            sum += st->evaluations[i].rating;
        char avg[32];
        fmt1(avg, sizeof(avg), (double)sum / st->n_evaluations);
        put_textf(y1, 1, D.W - 2, RL_LABEL,
                  ngettext("Look back: %s of 5 (%d rating)", "Look back: %s of 5 (%d ratings)",
                           st->n_evaluations),
                  avg, st->n_evaluations);
        y1 -= 2;
    }
    draw_lines(y0, y1, lines, n);
out:
    if (owned)
        for (int i = 0; owned[i]; i++)
            free(owned[i]);
    free(owned);
    free(lines);
}

/* Closed: scores, desired scores and actions, the score sheet. */
static void draw_closed(int y0, int y1)
{
    const struct session_state *st = D.st;
    int y = y0;
    put_text(y, 1, D.W - 2, RL_LABEL, _("Score sheet"));
    y++;
    int namew = 0;
    for (int i = 0; i < st->n_items; i++)
        if (scored_here(i) && text_cols(st->items[i].name) > namew)
            namew = text_cols(st->items[i].name);
    if (namew > D.W / 3)
        namew = D.W / 3;
    char hdr_mean[64], hdr_des[64];
    snprintf(hdr_mean, sizeof(hdr_mean), "%s", _("mean"));
    snprintf(hdr_des, sizeof(hdr_des), "%s", _("desired"));
    int mx = 3 + namew + 2;
    int cw = text_cols(hdr_mean) > 6 ? text_cols(hdr_mean) + 2 : 8;
    int dx = mx + cw;
    int dw = text_cols(hdr_des) > 6 ? text_cols(hdr_des) + 2 : 8;
    int bx = dx + dw, bw = D.W - bx - 2;
    put_text(y, mx, cw, RL_DIM, hdr_mean);
    put_text(y, dx, dw, RL_DIM, hdr_des);
    y++;
    for (int i = 0; i < st->n_items && y <= y1; i++) {
        const struct state_item *it = &st->items[i];
        if (!scored_here(i))
            continue;
        put_text(y, 3, namew, RL_NORMAL, it->name);
        const struct state_round *r = last_revealed(i);
        int hi = it->scale_max ? it->scale_max : 10;
        if (r) {
            struct state_stats s;
            state_round_stats(st, i, r->round, &s);
            char mean[32];
            fmt1(mean, sizeof(mean), s.mean);
            put_text(y, mx, cw, RL_BAR, mean);
            if (bw > 10)
                put_bar(y, bx, bw, s.mean, hi, RL_BAR);
            if (s.divided)
                put_text(y, mx + (int)strlen(mean) + 1, 2, RL_WARN, D.sym->warn);
        } else {
            put_text(y, mx, cw, RL_DIM, "-");
        }
        if (it->desired)
            put_textf(y, dx, dw, RL_LABEL, "%d", it->desired);
        else
            put_text(y, dx, dw, RL_DIM, "-");
        y++;
    }
    y++;
    if (y + 3 <= y1) {
        int n = state_live_actions(st);
        put_textf(y, 1, D.W - 2, RL_LABEL, ngettext("%d action", "%d actions", n), n);
        y++;
        int end = y1;
        bool summary_below = st->summary && y1 - y > 8;
        if (summary_below)
            end = y1 - 2;
        draw_action_table(y, end);
        if (summary_below) {
            put_text(y1 - 1, 1, D.W - 2, RL_LABEL, _("Summary"));
            put_text(y1, 3, D.W - 4, RL_NORMAL, st->summary);
        }
    }
}

/* ---- whole screens ----------------------------------------------------- */

static void draw_waiting(int y0, int y1)
{
    int y = y0 + (y1 - y0) / 3;
    const char *msg;
    char buf[512];
    switch (D.v->conn) {
    case KIOSK_CONNECTING:
        snprintf(buf, sizeof(buf), _("Connecting to %s%s"), D.v->server, D.sym->pending);
        msg = buf;
        break;
    case KIOSK_UNREACHABLE:
    case KIOSK_LOST:
        snprintf(buf, sizeof(buf), _("Waiting for the server at %s%s"), D.v->server,
                 D.sym->pending);
        msg = buf;
        break;
    case KIOSK_UNKNOWN_CODE:
        if (D.v->known_before)
            snprintf(buf, sizeof(buf),
                     _("The server no longer knows this session (kiosk code %s)."), D.v->code);
        else
            snprintf(buf, sizeof(buf), _("The server does not know the kiosk code %s."), D.v->code);
        put_center(y, 0, D.W, RL_ALERT, buf);
        put_center(y + 2, 0, D.W, RL_NORMAL,
                   _("Ask the facilitator for the session's kiosk code."));
        snprintf(buf, sizeof(buf), _("lwk-kiosk stops in %d s."), D.v->exit_in_s);
        put_center(y + 3, 0, D.W, RL_DIM, buf);
        return;
    default:
        snprintf(buf, sizeof(buf), _("Waiting for the session%s"), D.sym->pending);
        msg = buf;
        break;
    }
    put_center(y, 0, D.W, RL_LABEL, msg);
    snprintf(buf, sizeof(buf), _("kiosk code %s"), D.v->code);
    put_center(y + 2, 0, D.W, RL_DIM, buf);
}

bool kiosk_draw(const struct kiosk_view *v)
{
    D.v = v;
    D.st = v->sync && v->sync->have ? &v->sync->st : NULL;
    D.sym = v->ascii ? &ascii_syms : &utf8_syms;
    D.paged = false;
    getmaxyx(stdscr, D.H, D.W);
    erase();
    if (D.W < 20 || D.H < 8) {
        mvaddstr(0, 0, "lwk-kiosk");
        refresh();
        return false;
    }
    draw_header();
    int y0 = draw_title();
    int y1 = D.H - 2;
    if (!D.st || v->conn == KIOSK_UNKNOWN_CODE) {
        draw_waiting(y0, y1);
    } else {
        switch (D.st->phase) {
        case PROTO_PHASE_REVIEW:
            draw_review(y0, y1);
            break;
        case PROTO_PHASE_LOBBY:
            draw_lobby(y0, y1);
            break;
        case PROTO_PHASE_SCORE:
            draw_score_step(y0, y1);
            break;
        case PROTO_PHASE_EXPLAIN:
            draw_explain(y0, y1);
            break;
        case PROTO_PHASE_THEMES:
            draw_themes(y0, y1);
            break;
        case PROTO_PHASE_DESIRED:
            draw_desired(y0, y1);
            break;
        case PROTO_PHASE_ACTIONS:
            draw_actions(y0, y1);
            break;
        case PROTO_PHASE_LOOK_AHEAD:
            draw_look_ahead(y0, y1);
            break;
        case PROTO_PHASE_SUMMARY:
            draw_summary(y0, y1);
            break;
        case PROTO_PHASE_CLOSED:
            draw_closed(y0, y1);
            break;
        }
    }
    draw_footer();
    refresh();
    return D.paged;
}
