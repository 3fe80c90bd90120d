/*
 * lwk_cli.h: what the files of the lwk command-line client share: exit
 * codes, output helpers (text buffers, JSON, colour), owned requests, the
 * blocking request runner used by one-shot commands, the command parsers
 * shared by the interactive modes and their one-shot twins, and the views.
 */
#ifndef LWK_CLI_H
#define LWK_CLI_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "i18n.h"
#include "lwkc.h"
#include "proto.h"
#include "state.h"

/*
 * Exit codes (documented in lwk(1) and `lwk help exit-codes`). Scripts may
 * rely on them: never renumber, only add.
 */
enum lwk_exit {
    LWK_EXIT_OK = 0,
    LWK_EXIT_REFUSED = 1,     /* the server refused the request (any other reason) */
    LWK_EXIT_USAGE = 2,       /* bad command line */
    LWK_EXIT_UNREACHABLE = 3, /* lwkd not reachable, connection lost, or no answer in time */
    LWK_EXIT_NOT_FOUND = 4,   /* no such session, participant, theme, action, item */
    LWK_EXIT_WRONG_STEP = 5,  /* not possible in the current step (or paused, or closed) */
    LWK_EXIT_DENIED = 6,      /* token, join code or resume token not valid; wrong role */
    LWK_EXIT_UNAVAILABLE = 7, /* try again later: database unavailable, rate limited ... */
};

/* Client-side errors, next to the negative proto errors. */
#define LWK_ERR_LOST (-1)    /* could not connect, or the connection dropped */
#define LWK_ERR_TIMEOUT (-2) /* no answer within --timeout */

/* Global options: connection settings and output choices. */
struct lwk_global {
    struct lwkc_opts conn;
    int timeout_ms;
    const char *session; /* --session, else LWK_SESSION */
    bool json;           /* --json given before the command */
};

extern struct lwk_global lwk_g;
extern const char *lwk_prog; /* "lwk" */

/* ---- lwk_util.c: errors, text, JSON, colour --------------------------- */

int lwk_exit_for(int err);
/* "lwk: message" on stderr, one line. */
void lwk_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The translated meaning of a proto error (or LWK_ERR_*). */
const char *lwk_err_text(int err);
/*
 * One clear line for a refused request: what (the request, may be NULL),
 * the error, the server's detail and, for a wrong step, the current step.
 */
void lwk_report(const char *what, int err, const char *detail, const struct session_state *st);
/* The same for a request of type t, with a hint for the common refusals. */
void lwk_report_req(const char *what, enum proto_type t, int err, const char *detail,
                    const struct session_state *st, bool facilitator);
struct sbuf;
/* The text of such a refusal (without "lwk: what: "). */
void lwk_error_text(struct sbuf *b, enum proto_type t, int err, const char *detail,
                    const struct session_state *st, bool facilitator);
/* Usage error for a subcommand: message + "see lwk CMD --help". */
int lwk_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

struct sbuf {
    char *p;
    size_t len, cap;
};
void sb_init(struct sbuf *b);
void sb_free(struct sbuf *b);
void sb_putc(struct sbuf *b, char c);
void sb_puts(struct sbuf *b, const char *s);
void sb_putn(struct sbuf *b, const char *s, size_t n);
void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_vprintf(struct sbuf *b, const char *fmt, va_list ap);
/* Returns the text and leaves b empty; caller frees. */
char *sb_take(struct sbuf *b);

/* JSON: strings escaped, numbers with a '.' whatever the locale. */
void json_str(struct sbuf *b, const char *s);
void json_num(struct sbuf *b, double v, int decimals);
/* Every present field of a message as a JSON object (enums by name). */
void json_msg(struct sbuf *b, const struct proto_msg *m);
/* Number for people: the locale's decimal sign. */
const char *fmt_dec(char *buf, size_t n, double v, int decimals);

/* Colour: only on a terminal and when NO_COLOR is unset. */
extern bool lwk_color;
void lwk_color_init(int fd);
const char *C_BOLD(void);
const char *C_DIM(void);
const char *C_RED(void);
const char *C_GREEN(void);
const char *C_YELLOW(void);
const char *C_CYAN(void);
const char *C_OFF(void);

/* Columns a UTF-8 string takes on a terminal. */
int utf8_width(const char *s);
/* Appends s padded with spaces to width columns. */
void sb_pad(struct sbuf *b, const char *s, int width);

/* Splits a line into words (quotes "..." '...' and backslash escapes).
 * Returns the count, or -1 for an unclosed quote; *argv is freed with
 * words_free. */
int words_split(const char *line, char ***argv);
void words_free(int argc, char **argv);
/* Joins argv[from..argc) with single spaces; caller frees. */
char *words_join(int argc, char **argv, int from);

bool parse_int(const char *s, int64_t min, int64_t max, int64_t *out);

/* ---- requests with owned fields --------------------------------------- */

struct oreq {
    struct proto_msg m;
    char *label;              /* the command as typed, for messages; owned */
    char *strs[PK__COUNT];    /* owned copies behind m's strings */
    int64_t *ints[PK__COUNT]; /* owned copies behind m's int arrays */
    struct oreq *next;        /* queue link */
};
struct oreq *oreq_new(enum proto_type t, const char *label);
void oreq_free(struct oreq *r);
void oreq_str(struct oreq *r, enum proto_key k, const char *s);
void oreq_int(struct oreq *r, enum proto_key k, int64_t v);
void oreq_ints(struct oreq *r, enum proto_key k, const int64_t *v, uint32_t n);

/* ---- lwk_conn.c: the blocking runner for one-shot commands -------------- */

struct rpc;
typedef void (*rpc_reply_fn)(void *arg, const struct proto_msg *ok);

/*
 * Connects and says hello as kind (token, or code+name, or resume from the
 * arguments; the rest from lwk_g.conn). Participants and kiosks wait for the
 * session snapshot too. Returns a runner, or NULL with *err (LWK_ERR_* or a
 * negative proto error) and detail filled.
 */
struct rpc *rpc_connect(enum proto_client_kind kind, const char *code, const char *name,
                        const char *resume, int *err, char *detail, size_t dn);
/* Facilitator: session.open and its snapshot. 0 or an error as above. */
int rpc_open(struct rpc *r, int64_t session, char *detail, size_t dn);
/* Sends req and waits for its answer; fn (may be NULL) sees the ok reply. */
int rpc_call(struct rpc *r, struct proto_msg *req, rpc_reply_fn fn, void *arg, char *detail,
             size_t dn);
/* Closes the connection and frees the runner. */
void rpc_close(struct rpc *r);
/* The session state rebuilt from the snapshot and later events. */
const struct session_state *rpc_state(const struct rpc *r);
int rpc_pid(const struct rpc *r);
const char *rpc_resume(const struct rpc *r);
int64_t rpc_session(const struct rpc *r);
const char *rpc_join_code(const struct rpc *r);
const char *rpc_kiosk_code(const struct rpc *r);
/* Processes what already arrived (events after a request) for up to ms. */
void rpc_settle(struct rpc *r, int ms);

/*
 * Connects as facilitator and opens the session named by arg (a number;
 * NULL: --session, LWK_SESSION, or the only live session of this
 * facilitator). On failure prints the error and returns NULL with *exit_code.
 */
struct rpc *rpc_facilitator_session(const char *cmd, const char *arg, int *exit_code);

/* ---- lwk_cmds.c: the command language --------------------------------- */

struct cmd_ctx {
    const struct session_state *st;
    bool facilitator;
    int my_pid;       /* participant */
    int desired_item; /* participant in the desired step: the item a bare value is for */
    char err[320];    /* usage problem, translated */
    const char *raw;  /* the line as typed (console), so free text keeps its quotes; or NULL */
};

enum cmd_result {
    CMD_REQUEST = 0, /* *out is a request to send */
    CMD_ERROR = -1,  /* cx->err says what is wrong with the command */
    CMD_UNKNOWN = -2,
    CMD_WRONG_STEP = -3, /* not possible in this step: cx->err says so */
};

/* Facilitator commands: "next", "score Anna 7", "theme add ..." */
int cmd_facilitator(struct cmd_ctx *cx, int argc, char **argv, struct oreq **out);
/* Participant commands: "score 7", "keyword ...", "vote 2" ... */
int cmd_participant(struct cmd_ctx *cx, int argc, char **argv, struct oreq **out);
/* A participant's bare answer: what the current step asks (a score, keywords, ...). */
int cmd_participant_answer(struct cmd_ctx *cx, const char *line, struct oreq **out);

/* Any request by its wire name with key=value fields (lwk do): argv[0] is
 * the request. Values as on the wire (items from 0); names allowed for
 * for/pid/order and items. */
int cmd_generic(struct cmd_ctx *cx, int argc, char **argv, struct oreq **out);

/* Help texts of the command language: fills b; phase < 0: all commands. */
void cmd_help_facilitator(struct sbuf *b, int phase);
void cmd_help_participant(struct sbuf *b, int phase);
/* The commands offered in a step, as one short line ("next  reveal  score NAME VALUE"). */
void cmd_available(struct sbuf *b, const struct session_state *st, bool facilitator);
/* For completion: the n-th command word (NULL past the end). */
const char *cmd_word(bool facilitator, int n);
/* Subcommands of a command word (NULL-terminated), or NULL. */
const char *const *cmd_subwords(const char *word);
/* Whether the argument after (word, sub) is a participant / item name. */
bool cmd_takes_name(const char *word, const char *sub);
bool cmd_takes_item(const char *word);

/* Name lookups: "Anna", a unique prefix, "#3" (pid). Return 0 when none. */
int find_participant(const struct session_state *st, const char *name, char *err, size_t en);
/* Item: 1-based number or a (prefix of a) name; -1 when none. */
int find_item(const struct session_state *st, const char *s, char *err, size_t en);

/* ---- lwk_view.c: what a screen shows ---------------------------------- */

const char *phase_title(int phase); /* translated: "Step 1a – score" */
const char *phase_name(int phase);  /* wire name: "score" */
/*
 * The session as lines of text for a screen: facilitator (names of who has
 * scored, never values before the reveal) or participant my_pid.
 */
void view_render(struct sbuf *b, const struct session_state *st, bool facilitator, int my_pid,
                 int width);
/* The live state as JSON (lwk show --json, lwk as R show --json). */
void view_json(struct sbuf *b, const struct session_state *st, bool facilitator, int my_pid);
/* Mean/median etc. line for a round, translated. */
void view_stats_line(struct sbuf *b, const struct state_stats *s);

/* ---- lwk_export.c ----------------------------------------------------- */

enum export_format { EXPORT_MD, EXPORT_CSV, EXPORT_JSON, EXPORT_HTML };
void export_render(struct sbuf *b, const struct session_state *st, enum export_format f,
                   const char *join_code);

/* ---- subcommands ------------------------------------------------------ */

int cmd_status(int argc, char **argv);
int cmd_admin(int argc, char **argv);
int cmd_session(int argc, char **argv);
int cmd_do(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_console(int argc, char **argv);
int cmd_join(int argc, char **argv);
int cmd_as(int argc, char **argv);
/* One facilitator command as a one-shot subcommand: lwk next -s 3. */
int cmd_steer(int argc, char **argv);
bool cmd_is_steer_word(const char *w);
/* lwk_cycle.c: lwk actions, action update, team, admin instrument import|export. */
int cycle_main(int argc, char **argv);

/* Prints help for a subcommand ("admin", "session", ...); false if unknown. */
bool lwk_help_topic(FILE *f, const char *topic);
void lwk_usage(FILE *f);

/* Common option parsing for subcommands: -h/--help, --json, -s/--session. */
bool lwk_wants_help(int argc, char **argv);

/* The options every subcommand accepts (for getopt_long tables). */
#define LWK_COMMON_LONG                                                                            \
    {"json", no_argument, NULL, 'j'}, {"session", required_argument, NULL, 's'},                   \
        {"host", required_argument, NULL, 'H'}, {"port", required_argument, NULL, 'p'},            \
        {"socket", required_argument, NULL, 'S'}, {"token", required_argument, NULL, 't'},         \
        {"timeout", required_argument, NULL, 'T'},                                                 \
    {                                                                                              \
        "help", no_argument, NULL, 'h'                                                             \
    }
#define LWK_COMMON_SHORT "js:H:p:S:t:T:h"
/* Handles one of them: 1 handled, 0 not one of them, -1 bad value (reported). */
int lwk_common_opt(int c, const char *arg, const char *cmd);
/* Prints what an ok reply carries (key=value lines), or all of it with --json. */
void lwk_print_reply(void *arg, const struct proto_msg *m);
/* Takes --session, --json and the connection flags out of argv (for
 * commands whose own words may start with "--"); 0 or an exit status. */
int lwk_strip_common(int *argc, char **argv);
/* Fills connection settings not given as flags from the environment and the
 * config file (once). */
void lwk_apply_env(void);

/* getopt_long over a subcommand's argv with the common options added.
 * Returns the option, -1 at the end, or '?' after an error (reported; *rc is
 * the exit status). */
struct option;
int lwk_next_opt(int argc, char **argv, const char *shortopts, const struct option *extra,
                 const char *cmd, int *rc);

/* Prints a JSON document (b) on stdout, ending in a newline. */
void lwk_print_json(struct sbuf *b);
/* Prints a reply's rows as one JSON array. */
void lwk_print_rows_json(const struct proto_msg *m);

#endif
