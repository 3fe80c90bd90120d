/*
 * lwk_util.c: small things every lwk subcommand needs: exit codes and error
 * lines, growable text buffers, JSON, colour, UTF-8 widths, word splitting
 * and requests that own their strings.
 */
#define _XOPEN_SOURCE 700 /* wcwidth */
#include "lwk_cli.h"

#include <errno.h>
#include <locale.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

struct lwk_global lwk_g;
const char *lwk_prog = "lwk";

/* ---- errors ------------------------------------------------------------ */

int lwk_exit_for(int err)
{
    switch (err) {
    case 0:
        return LWK_EXIT_OK;
    case LWK_ERR_LOST:
    case LWK_ERR_TIMEOUT:
    case PROTO_ERR_SHUTTING_DOWN:
    case PROTO_ERR_TIMEOUT:
    case PROTO_ERR_QUEUE_OVERFLOW:
        return LWK_EXIT_UNREACHABLE;
    case PROTO_ERR_NOT_FOUND:
        return LWK_EXIT_NOT_FOUND;
    case PROTO_ERR_WRONG_PHASE:
    case PROTO_ERR_PAUSED:
    case PROTO_ERR_CLOSED:
        return LWK_EXIT_WRONG_STEP;
    case PROTO_ERR_BAD_CREDENTIALS:
    case PROTO_ERR_WRONG_ROLE:
        return LWK_EXIT_DENIED;
    case PROTO_ERR_DB_UNAVAILABLE:
    case PROTO_ERR_SPOOL_FULL:
    case PROTO_ERR_RATE_LIMITED:
        return LWK_EXIT_UNAVAILABLE;
    default:
        return LWK_EXIT_REFUSED;
    }
}

void lwk_errorf(const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fprintf(stderr, "%s: ", lwk_prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

const char *lwk_err_text(int err)
{
    switch (err) {
    case LWK_ERR_LOST:
        return _("cannot reach lwkd");
    case LWK_ERR_TIMEOUT:
        return _("lwkd did not answer in time");
    /* The protocol's texts (proto.h), one by one so that they are translated. */
    case PROTO_ERR_MALFORMED:
        return _("frame or MessagePack is not well-formed");
    case PROTO_ERR_TOO_LARGE:
        return _("frame larger than the maximum");
    case PROTO_ERR_UNKNOWN_TYPE:
        return _("unknown message type");
    case PROTO_ERR_BAD_TYPE:
        return _("a field has the wrong MessagePack type");
    case PROTO_ERR_MISSING_FIELD:
        return _("a required field is missing");
    case PROTO_ERR_OUT_OF_RANGE:
        return _("a value or length is out of range");
    case PROTO_ERR_BAD_UTF8:
        return _("a string is not valid UTF-8 or holds control characters");
    case PROTO_ERR_VERSION:
        return _("protocol version not supported");
    case PROTO_ERR_HANDSHAKE:
        return _("hello expected first (or sent twice)");
    case PROTO_ERR_BAD_CREDENTIALS:
        return _("token or code not valid");
    case PROTO_ERR_WRONG_ROLE:
        return _("not allowed for this role");
    case PROTO_ERR_NAME_TAKEN:
        return _("display name already used in this session");
    case PROTO_ERR_WRONG_PHASE:
        return _("not possible in the current step");
    case PROTO_ERR_NOT_FOUND:
        return _("no such session, participant, theme or action");
    case PROTO_ERR_CONFLICT:
        return _("conflicts with the current state");
    case PROTO_ERR_TOO_FEW:
        return _("too few scores to reveal");
    case PROTO_ERR_CLOSED:
        return _("the session is closed");
    case PROTO_ERR_PAUSED:
        return _("the session is paused");
    case PROTO_ERR_NOTHING_TO_UNDO:
        return _("nothing to undo");
    case PROTO_ERR_LIMIT:
        return _("a configured limit was reached");
    case PROTO_ERR_RATE_LIMITED:
        return _("too many requests");
    case PROTO_ERR_QUEUE_OVERFLOW:
        return _("client did not read its messages in time");
    case PROTO_ERR_TIMEOUT:
        return _("no activity within the time limit");
    case PROTO_ERR_INTERNAL:
        return _("internal error");
    case PROTO_ERR_DB_UNAVAILABLE:
        return _("database unavailable");
    case PROTO_ERR_SPOOL_FULL:
        return _("local spool is full: changes can not be stored");
    case PROTO_ERR_SHUTTING_DOWN:
        return _("the daemon is shutting down");
    default: {
        const char *t = proto_err_text(-err);
        return t ? t : _("refused");
    }
    }
}

/* A hint for the common refusals, in the words of the method; NULL if none. */
static const char *hint(enum proto_type t, int err, const struct session_state *st, bool fac)
{
    switch (err) {
    case PROTO_ERR_CONFLICT:
        switch (t) {
        case PT_NEXT:
            if (st && st->vote_open)
                return _("close the vote first (vote close)");
            if (st && st->phase == PROTO_PHASE_SCORE)
                return _("reveal the scores first (reveal)");
            return NULL;
        case PT_BACK:
            return st && st->vote_open ? _("close the vote first (vote close)") : NULL;
        case PT_TURN_ORDER:
            return _("nobody is online to take turns");
        case PT_TURN_NEXT:
            return _("there is no speaking order for this round, or everyone has spoken");
        case PT_TURN_PASS:
        case PT_KEYWORD:
            return fac ? _("nobody has the turn: set the order, or use kw --for NAME")
                       : _("it is not your turn");
        case PT_RESCORE:
            return _("reveal the open round first, and close any vote");
        case PT_VOTE:
            return _("you have no vote on that theme to take back");
        case PT_PAUSE:
            return _("the session is paused already");
        case PT_RESUME_REQ:
            return _("the session is not paused");
        case PT_REMOVE:
            return _("that participant was removed already");
        case PT_ACTION_CONFIRM:
            return _("that action is confirmed already");
        case PT_ACTION_REMOVE:
            return _("that action was removed already");
        case PT_VOTE_OPEN:
            return _("a vote is open already");
        case PT_VOTE_CLOSE:
            return _("no vote is open");
        case PT_THEME_MERGE:
        case PT_THEME_EDIT:
        case PT_THEME_DELETE:
            return _("that theme was deleted or merged");
        default:
            return NULL;
        }
    case PROTO_ERR_LIMIT:
        if (t == PT_VOTE)
            return _("your votes are used up");
        return NULL;
    case PROTO_ERR_WRONG_ROLE:
        if (t == PT_SCORE && fac)
            return _("as facilitator, score for someone: score NAME VALUE");
        return NULL;
    default:
        return NULL;
    }
}

void lwk_error_text(struct sbuf *b, enum proto_type t, int err, const char *detail,
                    const struct session_state *st, bool fac)
{
    sb_puts(b, lwk_err_text(err));
    const char *h = hint(t, err, st, fac);
    if (h)
        sb_printf(b, ": %s", h);
    if (err == PROTO_ERR_TOO_FEW && st && st->min_reveal)
        sb_printf(b, _(": at least %d are needed"), st->min_reveal);
    if (st && st->seq && err == PROTO_ERR_WRONG_PHASE)
        sb_printf(b, "; %s %s", _("current step:"),
                  phase_title(st->closed ? PROTO_PHASE_CLOSED : (int)st->phase));
    if (!detail || !*detail || err == LWK_ERR_TIMEOUT || h)
        return;
    if (err == LWK_ERR_LOST) {
        sb_printf(b, ": %s", detail);
        return;
    }
    /* The server's msg is English for developers: keep only what it adds to
     * the error's own text and the request's name. */
    const char *eng = proto_err_text(-err);
    if (eng && !strncmp(detail, eng, strlen(eng))) {
        detail += strlen(eng);
        while (*detail == ':' || *detail == ' ')
            detail++;
    }
    if (!*detail || (t != PT__NONE && !strcmp(detail, proto_type_name(t))))
        return;
    sb_printf(b, " (%s)", detail);
}

void lwk_report_req(const char *what, enum proto_type t, int err, const char *detail,
                    const struct session_state *st, bool fac)
{
    struct sbuf b;
    sb_init(&b);
    if (what && *what)
        sb_printf(&b, "%s: ", what);
    lwk_error_text(&b, t, err, detail, st, fac);
    lwk_errorf("%s", b.p);
    sb_free(&b);
}

void lwk_report(const char *what, int err, const char *detail, const struct session_state *st)
{
    enum proto_type t = what ? proto_type_lookup(what, strlen(what)) : PT__NONE;
    lwk_report_req(what, t, err, detail, st, true);
}

int lwk_usage_error(const char *cmd, const char *fmt, ...)
{
    struct sbuf b;
    sb_init(&b);
    va_list ap;
    va_start(ap, fmt);
    sb_vprintf(&b, fmt, ap);
    va_end(ap);
    if (cmd)
        lwk_errorf(_("%s (see: lwk %s --help)"), b.p, cmd);
    else
        lwk_errorf(_("%s (see: lwk help)"), b.p);
    sb_free(&b);
    return LWK_EXIT_USAGE;
}

bool lwk_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--"))
            break;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
            return true;
    }
    return false;
}

/* ---- text buffers ------------------------------------------------------ */

void sb_init(struct sbuf *b)
{
    b->p = NULL;
    b->len = b->cap = 0;
    sb_putn(b, "", 0);
}

void sb_free(struct sbuf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

static void sb_grow(struct sbuf *b, size_t need)
{
    if (b->len + need + 1 <= b->cap)
        return;
    size_t nc = b->cap ? b->cap : 256;
    while (nc < b->len + need + 1)
        nc *= 2;
    char *p = realloc(b->p, nc);
    if (!p) {
        fputs("lwk: out of memory\n", stderr);
        exit(LWK_EXIT_REFUSED);
    }
    b->p = p;
    b->cap = nc;
}

void sb_putn(struct sbuf *b, const char *s, size_t n)
{
    sb_grow(b, n);
    if (n)
        memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void sb_putc(struct sbuf *b, char c)
{
    sb_putn(b, &c, 1);
}

void sb_puts(struct sbuf *b, const char *s)
{
    sb_putn(b, s, strlen(s));
}

void sb_vprintf(struct sbuf *b, const char *fmt, va_list ap)
{
    va_list aq;
    va_copy(aq, ap);
    int n = vsnprintf(NULL, 0, fmt, aq);
    va_end(aq);
    if (n < 0)
        return;
    sb_grow(b, (size_t)n);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void sb_printf(struct sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sb_vprintf(b, fmt, ap);
    va_end(ap);
}

char *sb_take(struct sbuf *b)
{
    char *p = b->p;
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}

/* ---- JSON -------------------------------------------------------------- */

void json_str(struct sbuf *b, const char *s)
{
    if (!s) {
        sb_puts(b, "null");
        return;
    }
    sb_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':
            sb_puts(b, "\\\"");
            break;
        case '\\':
            sb_puts(b, "\\\\");
            break;
        case '\n':
            sb_puts(b, "\\n");
            break;
        case '\t':
            sb_puts(b, "\\t");
            break;
        case '\r':
            sb_puts(b, "\\r");
            break;
        default:
            if (*p < 0x20)
                sb_printf(b, "\\u%04x", *p);
            else
                sb_putc(b, (char)*p);
        }
    }
    sb_putc(b, '"');
}

/* Fixed-point formatting that ignores LC_NUMERIC. */
static void fixed(char *buf, size_t n, double v, int decimals, char point)
{
    long long scale = 1;
    for (int i = 0; i < decimals; i++)
        scale *= 10;
    bool neg = v < 0;
    long long x = (long long)((neg ? -v : v) * (double)scale + 0.5);
    if (decimals == 0)
        snprintf(buf, n, "%s%lld", neg && x ? "-" : "", x);
    else
        snprintf(buf, n, "%s%lld%c%0*lld", neg && x ? "-" : "", x / scale, point, decimals,
                 x % scale);
}

void json_num(struct sbuf *b, double v, int decimals)
{
    char buf[64];
    fixed(buf, sizeof(buf), v, decimals, '.');
    sb_puts(b, buf);
}

const char *fmt_dec(char *buf, size_t n, double v, int decimals)
{
    const char *dp = localeconv()->decimal_point;
    fixed(buf, n, v, decimals, dp && dp[0] ? dp[0] : '.');
    return buf;
}

void json_msg(struct sbuf *b, const struct proto_msg *m)
{
    bool first = true;
    sb_putc(b, '{');
    for (int k = 0; k < PK__COUNT; k++) {
        if (!proto_has(m, (enum proto_key)k) || k == PK_ID)
            continue;
        if (!first)
            sb_putc(b, ',');
        first = false;
        json_str(b, proto_key_name((enum proto_key)k));
        sb_putc(b, ':');
        const union proto_val *v = &m->v[k];
        switch (proto_key_kind((enum proto_key)k)) {
        case PF_INT:
            sb_printf(b, "%lld", (long long)v->i);
            break;
        case PF_BOOL:
            sb_puts(b, v->i ? "true" : "false");
            break;
        case PF_STR:
            json_str(b, v->s.p);
            break;
        case PF_ENUM:
            json_str(b, proto_enum_name((enum proto_key)k, v->i));
            break;
        case PF_INTS:
            sb_putc(b, '[');
            for (uint32_t i = 0; i < v->a.n; i++)
                sb_printf(b, "%s%lld", i ? "," : "", (long long)v->a.p[i]);
            sb_putc(b, ']');
            break;
        case PF_MSGS:
            sb_putc(b, '[');
            for (uint32_t i = 0; i < v->m.n; i++) {
                if (i)
                    sb_putc(b, ',');
                json_msg(b, &v->m.p[i]);
            }
            sb_putc(b, ']');
            break;
        }
    }
    sb_putc(b, '}');
}

/* ---- colour ------------------------------------------------------------ */

bool lwk_color;

void lwk_color_init(int fd)
{
    const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");
    lwk_color = isatty(fd) && !(nc && nc[0]) && !(term && !strcmp(term, "dumb"));
}

const char *C_BOLD(void)
{
    return lwk_color ? "\033[1m" : "";
}
const char *C_DIM(void)
{
    return lwk_color ? "\033[2m" : "";
}
const char *C_RED(void)
{
    return lwk_color ? "\033[31m" : "";
}
const char *C_GREEN(void)
{
    return lwk_color ? "\033[32m" : "";
}
const char *C_YELLOW(void)
{
    return lwk_color ? "\033[33m" : "";
}
const char *C_CYAN(void)
{
    return lwk_color ? "\033[36m" : "";
}
const char *C_OFF(void)
{
    return lwk_color ? "\033[0m" : "";
}

int utf8_width(const char *s)
{
    mbstate_t ps;
    memset(&ps, 0, sizeof(ps));
    int w = 0;
    size_t left = strlen(s);
    while (left > 0) {
        if (*s == '\033') { /* skip colour codes */
            const char *e = strchr(s, 'm');
            if (!e)
                break;
            left -= (size_t)(e + 1 - s);
            s = e + 1;
            continue;
        }
        wchar_t wc;
        size_t n = mbrtowc(&wc, s, left, &ps);
        if (n == (size_t)-1 || n == (size_t)-2) {
            memset(&ps, 0, sizeof(ps));
            n = 1;
            w++;
        } else if (n == 0) {
            break;
        } else {
            int cw = wcwidth(wc);
            w += cw < 0 ? 1 : cw;
        }
        s += n;
        left -= n;
    }
    return w;
}

void sb_pad(struct sbuf *b, const char *s, int width)
{
    sb_puts(b, s);
    for (int w = utf8_width(s); w < width; w++)
        sb_putc(b, ' ');
}

/* ---- words ------------------------------------------------------------- */

/*
 * One pass of words_split. quotes: which characters may open a quoted part.
 * A quote opens only at the start of a word (or of a value after '=') and
 * closes only before blank space or the end, so "thema's" and "buddy's" are
 * plain words. Returns -1
 * when a quote stays open.
 */
static int split_pass(const char *line, const char *quotes, char ***argv)
{
    int n = 0, cap = 8;
    char **v = malloc(sizeof(char *) * (size_t)cap);
    struct sbuf w;
    const char *p = line;
    *argv = NULL;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        if (!*p)
            break;
        sb_init(&w);
        char q = 0;
        bool start = true;
        for (; *p; p++) {
            bool blank_next = !p[1] || p[1] == ' ' || p[1] == '\t' || p[1] == '\n' || p[1] == '\r';
            if (q) {
                if (*p == q && blank_next)
                    q = 0;
                else if (*p == '\\' && q == '"' && (p[1] == '"' || p[1] == '\\'))
                    sb_putc(&w, *++p);
                else
                    sb_putc(&w, *p);
            } else if ((start || (w.len && w.p[w.len - 1] == '=')) && strchr(quotes, *p)) {
                q = *p; /* at a word's start, or a value's: key='a b' */
            } else if (*p == '\\' && (p[1] == ' ' || p[1] == '"' || p[1] == '\'' || p[1] == '\\')) {
                sb_putc(&w, *++p);
            } else if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
                break;
            } else {
                sb_putc(&w, *p);
            }
            start = false;
        }
        if (q) {
            sb_free(&w);
            words_free(n, v);
            return -1;
        }
        if (n + 1 >= cap) {
            cap *= 2;
            v = realloc(v, sizeof(char *) * (size_t)cap);
        }
        v[n++] = sb_take(&w);
    }
    v[n] = NULL;
    *argv = v;
    return n;
}

int words_split(const char *line, char ***argv)
{
    /* A quote that never closes is an apostrophe ('s avonds): try again
     * with fewer quote characters rather than refuse the line. */
    int n = split_pass(line, "\"'", argv);
    if (n < 0)
        n = split_pass(line, "\"", argv);
    if (n < 0)
        n = split_pass(line, "", argv);
    return n;
}

void words_free(int argc, char **argv)
{
    if (!argv)
        return;
    for (int i = 0; i < argc; i++)
        free(argv[i]);
    free(argv);
}

char *words_join(int argc, char **argv, int from)
{
    struct sbuf b;
    sb_init(&b);
    for (int i = from; i < argc; i++) {
        if (i > from)
            sb_putc(&b, ' ');
        sb_puts(&b, argv[i]);
    }
    return sb_take(&b);
}

bool parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

/* ---- owned requests ---------------------------------------------------- */

struct oreq *oreq_new(enum proto_type t, const char *label)
{
    struct oreq *r = calloc(1, sizeof(*r));
    if (!r) {
        fputs("lwk: out of memory\n", stderr);
        exit(LWK_EXIT_REFUSED);
    }
    proto_msg_init(&r->m, t);
    r->label = strdup(label ? label : proto_type_name(t));
    return r;
}

void oreq_free(struct oreq *r)
{
    if (!r)
        return;
    for (int k = 0; k < PK__COUNT; k++) {
        free(r->strs[k]);
        free(r->ints[k]);
    }
    free(r->label);
    free(r);
}

void oreq_str(struct oreq *r, enum proto_key k, const char *s)
{
    free(r->strs[k]);
    r->strs[k] = strdup(s);
    proto_set_str(&r->m, k, r->strs[k]);
}

void oreq_int(struct oreq *r, enum proto_key k, int64_t v)
{
    if (proto_key_kind(k) == PF_BOOL)
        proto_set_bool(&r->m, k, v != 0);
    else
        proto_set_int(&r->m, k, v);
}

void oreq_ints(struct oreq *r, enum proto_key k, const int64_t *v, uint32_t n)
{
    free(r->ints[k]);
    r->ints[k] = malloc(sizeof(int64_t) * (n ? n : 1));
    if (n)
        memcpy(r->ints[k], v, sizeof(int64_t) * n);
    proto_set_ints(&r->m, k, r->ints[k], n);
}

/* ---- options every subcommand takes -------------------------------------- */

int lwk_common_opt(int c, const char *arg, const char *cmd)
{
    int64_t v;
    switch (c) {
    case 'j':
        lwk_g.json = true;
        return 1;
    case 's':
        lwk_g.session = arg;
        return 1;
    case 'H':
        lwk_g.conn.host = arg;
        lwk_g.conn.socket_path = NULL;
        return 1;
    case 'p':
        if (!parse_int(arg, 1, 65535, &v)) {
            lwk_usage_error(cmd, _("'%s' is not a port number"), arg);
            return -1;
        }
        lwk_g.conn.port = (int)v;
        return 1;
    case 'S':
        lwk_g.conn.socket_path = arg;
        return 1;
    case 't':
        lwk_g.conn.token = arg;
        return 1;
    case 'T':
        if (!parse_int(arg, 1, 86400, &v)) {
            lwk_usage_error(cmd, _("'%s' is not a number of seconds"), arg);
            return -1;
        }
        lwk_g.timeout_ms = (int)v * 1000;
        return 1;
    default:
        return 0;
    }
}

void lwk_apply_env(void)
{
    static bool done;
    if (done)
        return;
    done = true;
    lwkc_opts_from_env(&lwk_g.conn);
}

/* Runs getopt_long over a subcommand's argv with the common options added.
 * Returns the option, -1 at the end, or '?' for an error (reported). */
int lwk_next_opt(int argc, char **argv, const char *shortopts, const struct option *extra,
                 const char *cmd, int *rc)
{
    static struct option all[32];
    static char sopts[64];
    static const struct option common[] = {LWK_COMMON_LONG};
    int n = 0;
    for (const struct option *o = extra; o && o->name; o++)
        all[n++] = *o;
    for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++)
        all[n++] = common[i];
    memset(&all[n], 0, sizeof(all[n]));
    snprintf(sopts, sizeof(sopts), "%s%s", shortopts, LWK_COMMON_SHORT);
    for (;;) {
        int c = getopt_long(argc, argv, sopts, all, NULL);
        if (c == -1)
            return -1;
        if (c == 'h') {
            lwk_help_topic(stdout, cmd);
            *rc = 0;
            return '?';
        }
        if (c == '?' || c == ':') {
            *rc = lwk_usage_error(cmd, "%s", _("unknown option or missing value"));
            return '?';
        }
        int k = lwk_common_opt(c, optarg, cmd);
        if (k < 0) {
            *rc = LWK_EXIT_USAGE;
            return '?';
        }
        if (k == 0)
            return c;
    }
}

/* JSON on stdout, one document ending in a newline. */
void lwk_print_json(struct sbuf *b)
{
    fputs(b->p, stdout);
    if (!b->len || b->p[b->len - 1] != '\n')
        fputc('\n', stdout);
}

void lwk_print_rows_json(const struct proto_msg *m)
{
    const struct proto_msgs *rows = proto_has(m, PK_ROWS) ? &m->v[PK_ROWS].m : NULL;
    struct sbuf b;
    sb_init(&b);
    sb_putc(&b, '[');
    for (uint32_t i = 0; rows && i < rows->n; i++) {
        if (i)
            sb_putc(&b, ',');
        json_msg(&b, &rows->p[i]);
    }
    sb_putc(&b, ']');
    lwk_print_json(&b);
    sb_free(&b);
}
