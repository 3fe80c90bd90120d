/*
 * lwk_cmds.c: the command language of lwk. One parser turns the words a
 * facilitator types in the console ("score Anna 7", "theme add ...") or
 * gives on the command line (lwk score Anna 7 -s 3) into a protocol request,
 * so the interactive and the one-shot forms can never disagree. The same
 * for participants ("score 7", "vote 2"), plus their bare answers: what the
 * current step asks for.
 *
 * People count items from 1 and name participants by (a prefix of) their
 * name; the wire counts items from 0 and uses pids.
 */
#include "lwk_cli.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PH(p) (1u << PROTO_PHASE_##p)
#define PH_ALL 0xffffu

/* ---- lookups ----------------------------------------------------------- */

int find_participant(const struct session_state *st, const char *name, char *err, size_t en)
{
    int64_t pid;
    if (name[0] == '#' && parse_int(name + 1, 1, 65535, &pid)) {
        const struct state_participant *p = state_participant(st, (int)pid);
        if (p && !p->removed)
            return (int)pid;
        snprintf(err, en, _("no participant #%lld"), (long long)pid);
        return 0;
    }
    int found = 0, n = 0;
    for (int i = 0; i < st->n_participants; i++) {
        const struct state_participant *p = &st->participants[i];
        if (!p->removed && p->name && !strcasecmp(p->name, name))
            return p->pid;
    }
    size_t len = strlen(name);
    for (int i = 0; i < st->n_participants; i++) {
        const struct state_participant *p = &st->participants[i];
        if (!p->removed && p->name && !strncasecmp(p->name, name, len)) {
            found = p->pid;
            n++;
        }
    }
    if (n == 1)
        return found;
    if (n > 1)
        snprintf(err, en, _("'%s' matches more than one participant: type more of the name"), name);
    else
        snprintf(err, en, _("no participant called '%s'"), name);
    return 0;
}

int find_item(const struct session_state *st, const char *s, char *err, size_t en)
{
    int64_t n;
    if (parse_int(s, 1, STATE_MAX_ITEMS, &n)) {
        if (n <= st->n_items)
            return (int)n - 1;
        snprintf(err, en, _("no item %s: the items are numbered 1 to %d"), s, st->n_items);
        return -1;
    }
    int found = -1, count = 0;
    size_t len = strlen(s);
    for (int i = 0; i < st->n_items; i++) {
        const char *name = st->items[i].name ? st->items[i].name : "";
        if (!strcasecmp(name, s))
            return i;
        if (len && !strncasecmp(name, s, len)) {
            found = i;
            count++;
        }
    }
    if (count == 1)
        return found;
    snprintf(err, en, count ? _("'%s' matches more than one item") : _("no item called '%s'"), s);
    return -1;
}

/* The participant named by argv[from..), longest match first (names may
 * have spaces). *used gets the number of words taken. */
static int name_words(const struct session_state *st, int argc, char **argv, int from, int upto,
                      int *used, char *err, size_t en)
{
    for (int k = upto - from; k >= 1; k--) {
        char *name = words_join(from + k, argv, from);
        for (int i = 0; i < st->n_participants; i++) {
            const struct state_participant *p = &st->participants[i];
            if (!p->removed && p->name && !strcasecmp(p->name, name)) {
                free(name);
                *used = k;
                return p->pid;
            }
        }
        free(name);
    }
    *used = 1;
    return from < argc ? find_participant(st, argv[from], err, en) : 0;
}

static bool scored_item(struct cmd_ctx *cx, int item)
{
    if (item >= 0 && item < cx->st->n_items && cx->st->items[item].scored)
        return true;
    snprintf(cx->err, sizeof(cx->err), _("item %d is not scored"), item + 1);
    return false;
}

/* A grade for item within its scale. */
static bool grade(struct cmd_ctx *cx, int item, const char *s, int64_t *v)
{
    int lo = 1, hi = 10;
    if (item >= 0 && item < cx->st->n_items && cx->st->items[item].scored) {
        lo = cx->st->items[item].scale_min;
        hi = cx->st->items[item].scale_max;
    }
    if (parse_int(s, lo, hi, v))
        return true;
    snprintf(cx->err, sizeof(cx->err), _("'%s' is not a grade from %d to %d"), s, lo, hi);
    return false;
}

static bool theme_id(struct cmd_ctx *cx, const char *s, int64_t *id)
{
    if (s && s[0] == '#')
        s++;
    if (s && parse_int(s, 1, 1000000, id))
        return true;
    snprintf(cx->err, sizeof(cx->err), _("'%s' is not a theme number"), s ? s : "");
    return false;
}

static bool action_id(struct cmd_ctx *cx, const char *s, int64_t *id)
{
    if (s && s[0] == '#')
        s++;
    if (s && parse_int(s, 1, INT64_MAX / 4, id))
        return true;
    snprintf(cx->err, sizeof(cx->err), _("'%s' is not an action number"), s ? s : "");
    return false;
}

static int usage(struct cmd_ctx *cx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Not possible in this step: said as lwkd would say it. */
static int wrong_step(struct cmd_ctx *cx)
{
    const struct session_state *st = cx->st;
    snprintf(cx->err, sizeof(cx->err), "%s; %s %s", lwk_err_text(PROTO_ERR_WRONG_PHASE),
             _("current step:"), phase_title(st->closed ? PROTO_PHASE_CLOSED : (int)st->phase));
    return CMD_WRONG_STEP;
}

static int usage(struct cmd_ctx *cx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cx->err, sizeof(cx->err), fmt, ap);
    va_end(ap);
    return CMD_ERROR;
}

/*
 * Free text from word `from` on: from the line as typed when there is one
 * (quotes and spacing kept), else the words joined. Caller frees.
 */
static char *rest_text(const struct cmd_ctx *cx, int argc, char **argv, int from)
{
    /* One word ('meer tijd' quoted as a whole): the word, without its quotes. */
    bool simple = cx->raw != NULL && argc - from > 1;
    for (int i = 0; i < from && simple; i++)
        simple = !strpbrk(argv[i], " \t\"'\\") && argv[i][0];
    if (!simple)
        return words_join(argc, argv, from);
    const char *p = cx->raw;
    while (*p == ' ' || *p == '\t' || *p == '/')
        p++;
    for (int i = 0; i < from; i++) {
        p += strlen(argv[i]);
        while (*p == ' ' || *p == '\t')
            p++;
    }
    char *t = strdup(p);
    size_t n = strlen(t);
    while (n && (t[n - 1] == ' ' || t[n - 1] == '\t' || t[n - 1] == '\r' || t[n - 1] == '\n'))
        t[--n] = '\0';
    return t;
}

/* ---- fields: key=value or --key value ------------------------------------ */

struct field_alias {
    const char *name;
    enum proto_key key;
};

/* Dutch words too: facilitators type what they say. */
static const struct field_alias action_fields[] = {
    {"owner", PK_OWNER},
    {"eigenaar", PK_OWNER},
    {"wie", PK_OWNER},
    {"role", PK_ROLE},
    {"rol", PK_ROLE},
    {"where", PK_WHERE},
    {"waar", PK_WHERE},
    {"deadline", PK_DEADLINE},
    {"termijn", PK_DEADLINE},
    {"wanneer", PK_DEADLINE},
    {"feedback", PK_FEEDBACK},
    {"terugkoppeling", PK_FEEDBACK},
    {"resources", PK_RESOURCES},
    {"hulpmiddelen", PK_RESOURCES},
    {"item", PK_ITEM},
    {"vermogen", PK_ITEM},
    {"theme", PK_THEME},
    {"thema", PK_THEME},
    {"items", PK_ITEMS},
    {"vermogens", PK_ITEMS},
    {"text", PK_TEXT},
    {"tekst", PK_TEXT},
    {NULL, PK__COUNT},
};

static enum proto_key field_key(const char *name, size_t len)
{
    for (const struct field_alias *a = action_fields; a->name; a++)
        if (strlen(a->name) == len && !strncasecmp(a->name, name, len))
            return a->key;
    return PK__COUNT;
}

static bool set_items(struct cmd_ctx *cx, struct oreq *r, const char *list)
{
    int64_t v[STATE_MAX_ITEMS];
    uint32_t n = 0;
    char *copy = strdup(list), *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ')
            t++;
        int it = find_item(cx->st, t, cx->err, sizeof(cx->err));
        if (it < 0 || n >= STATE_MAX_ITEMS) {
            free(copy);
            return false;
        }
        v[n++] = it;
    }
    free(copy);
    oreq_ints(r, PK_ITEMS, v, n);
    return true;
}

/* Sets one named field of request r; false with cx->err on a bad value. */
static bool set_field(struct cmd_ctx *cx, struct oreq *r, enum proto_key k, const char *val)
{
    int64_t v;
    switch (k) {
    case PK_DEADLINE:
        if (!proto_date_ok(val, strlen(val))) {
            usage(cx, _("'%s' is not a date: use YYYY-MM-DD"), val);
            return false;
        }
        oreq_str(r, k, val);
        return true;
    case PK_ITEM: {
        int it = find_item(cx->st, val, cx->err, sizeof(cx->err));
        if (it < 0)
            return false;
        oreq_int(r, k, it);
        return true;
    }
    case PK_THEME:
        if (!theme_id(cx, val, &v))
            return false;
        oreq_int(r, k, v);
        return true;
    case PK_ITEMS:
        return set_items(cx, r, val);
    default:
        oreq_str(r, k, val);
        return true;
    }
}

/*
 * Splits argv[from..) into fields (key=value, --key value) and the free
 * text (the other words, joined). Only keys allowed by r's type count as
 * fields. Returns false with cx->err on a bad value; *text is malloc'd
 * (possibly "").
 */
static bool fields_and_text(struct cmd_ctx *cx, struct oreq *r, int argc, char **argv, int from,
                            char **text)
{
    struct sbuf t;
    sb_init(&t);
    for (int i = from; i < argc; i++) {
        const char *w = argv[i];
        enum proto_key k = PK__COUNT;
        const char *val = NULL;
        if (w[0] == '-' && w[1] == '-' && w[2]) {
            const char *eq = strchr(w + 2, '=');
            k = field_key(w + 2, eq ? (size_t)(eq - w - 2) : strlen(w + 2));
            if (k != PK__COUNT) {
                if (eq)
                    val = eq + 1;
                else if (i + 1 < argc)
                    val = argv[++i];
                else {
                    usage(cx, _("%s needs a value"), w);
                    sb_free(&t);
                    return false;
                }
            }
        } else {
            const char *eq = strchr(w, '=');
            if (eq && eq > w) {
                k = field_key(w, (size_t)(eq - w));
                val = eq + 1;
            }
        }
        if (k != PK__COUNT && proto_type_allows(r->m.type, k)) {
            if (!*val && k != PK_OWNER && k != PK_ROLE && k != PK_WHERE && k != PK_FEEDBACK &&
                k != PK_RESOURCES) {
                usage(cx, _("%s needs a value"), w);
                sb_free(&t);
                return false;
            }
            if (!set_field(cx, r, k, val)) {
                sb_free(&t);
                return false;
            }
            continue;
        }
        if (t.len)
            sb_putc(&t, ' ');
        sb_puts(&t, w);
    }
    *text = sb_take(&t);
    return true;
}

/* ---- facilitator commands ------------------------------------------------ */

struct fcmd {
    const char *word, *sub;
    const char *args; /* shown in help, e.g. "NAME VALUE" */
    const char *help; /* N_() */
    unsigned phases;  /* where it is offered */
    int (*parse)(struct cmd_ctx *, const struct fcmd *, int, char **, struct oreq **);
    enum proto_type type;
};

static int f_simple(struct cmd_ctx *cx, const struct fcmd *c, int argc, char **argv,
                    struct oreq **out)
{
    int first = c->sub ? 2 : 1;
    if (argc > first)
        return usage(cx, _("'%s' takes no arguments"), c->sub ? c->sub : c->word);
    *out = oreq_new(c->type, NULL);
    return CMD_REQUEST;
}

static int f_rescore(struct cmd_ctx *cx, const struct fcmd *c, int argc, char **argv,
                     struct oreq **out)
{
    int item = cx->st->item;
    if (argc > 2)
        return usage(cx, "%s", _("usage: rescore [ITEM]"));
    if (argc == 2 && (item = find_item(cx->st, argv[1], cx->err, sizeof(cx->err))) < 0)
        return CMD_ERROR;
    *out = oreq_new(PT_RESCORE, NULL);
    if (item >= 0)
        oreq_int(*out, PK_ITEM, item);
    return CMD_REQUEST;
}

static int f_order(struct cmd_ctx *cx, const struct fcmd *c, int argc, char **argv,
                   struct oreq **out)
{
    if (argc < 2)
        return usage(cx, "%s", _("usage: order join|random|low|high|manual [NAME ...]"));
    struct oreq *r = oreq_new(PT_TURN_ORDER, NULL);
    if (proto_set_enum(&r->m, PK_MODE, argv[1]) < 0) {
        oreq_free(r);
        return usage(cx, _("'%s' is not an order: join, random, low, high or manual"), argv[1]);
    }
    if (argc > 2) {
        int64_t pids[256];
        uint32_t n = 0;
        for (int i = 2; i < argc && n < 256;) {
            int used;
            int pid = name_words(cx->st, argc, argv, i, argc, &used, cx->err, sizeof(cx->err));
            if (!pid) {
                oreq_free(r);
                return CMD_ERROR;
            }
            pids[n++] = pid;
            i += used;
        }
        oreq_ints(r, PK_ORDER, pids, n);
    } else if (!strcmp(argv[1], "manual")) {
        oreq_free(r);
        return usage(cx, "%s", _("order manual needs the names, in the order of speaking"));
    }
    *out = r;
    return CMD_REQUEST;
}

static int f_keyword(struct cmd_ctx *cx, const struct fcmd *c, int argc, char **argv,
                     struct oreq **out)
{
    int pid = 0, from = 1;
    if (argc > 2 && (!strcmp(argv[1], "--for") || !strcmp(argv[1], "--voor"))) {
        /* kw --for NAME TEXT: the name is one word (quote longer names). */
        pid = find_participant(cx->st, argv[2], cx->err, sizeof(cx->err));
        if (!pid)
            return CMD_ERROR;
        from = 3;
    } else if (argc > 1 && !strncmp(argv[1], "--for=", 6)) {
        pid = find_participant(cx->st, argv[1] + 6, cx->err, sizeof(cx->err));
        if (!pid)
            return CMD_ERROR;
        from = 2;
    } else {
        pid = state_current_speaker(cx->st);
        if (!pid)
            return usage(cx, "%s",
                         _("nobody has the turn: use kw --for NAME TEXT, or set the order first"));
    }
    if (from >= argc)
        return usage(cx, "%s", _("usage: kw [--for NAME] TEXT"));
    char *text = rest_text(cx, argc, argv, from);
    *out = oreq_new(PT_KEYWORD, NULL);
    oreq_str(*out, PK_TEXT, text);
    oreq_int(*out, PK_FOR, pid);
    free(text);
    return CMD_REQUEST;
}

static int f_score(struct cmd_ctx *cx, const struct fcmd *c, int argc, char **argv,
                   struct oreq **out)
{
    int item = cx->st->item;
    int end = argc;
    /* score NAME VALUE [--item ITEM] */
    if (end >= 4 && (!strcmp(argv[end - 2], "--item") || !strcmp(argv[end - 2], "item"))) {
        if ((item = find_item(cx->st, argv[end - 1], cx->err, sizeof(cx->err))) < 0)
            return CMD_ERROR;
        end -= 2;
    } else if (end >= 3 && !strncmp(argv[end - 1], "item=", 5)) {
        if ((item = find_item(cx->st, argv[end - 1] + 5, cx->err, sizeof(cx->err))) < 0)
            return CMD_ERROR;
        end -= 1;
    }
    if (end < 3)
        return usage(cx, "%s", _("usage: score NAME VALUE [--item ITEM]"));
    if (item < 0)
        return wrong_step(cx);
    int used;
    int pid = name_words(cx->st, end - 1, argv, 1, end - 1, &used, cx->err, sizeof(cx->err));
    if (!pid)
        return CMD_ERROR;
    if (1 + used != end - 1)
        return usage(cx, "%s", _("usage: score NAME VALUE [--item ITEM]"));
    int64_t v;
    if (!scored_item(cx, item) || !grade(cx, item, argv[end - 1], &v))
        return CMD_ERROR;
    *out = oreq_new(PT_SCORE, NULL);
    oreq_int(*out, PK_ITEM, item);
    oreq_int(*out, PK_VALUE, v);
    oreq_int(*out, PK_FOR, pid);
    return CMD_REQUEST;
}

static int with_text(struct cmd_ctx *cx, enum proto_type t, int argc, char **argv, int from,
                     const char *use, struct oreq **out)
{
    struct oreq *r = oreq_new(t, NULL);
    char *text;
    if (!fields_and_text(cx, r, argc, argv, from, &text)) {
        oreq_free(r);
        return CMD_ERROR;
    }
    if (!*text && proto_type_requires(t, PK_TEXT) && !proto_has(&r->m, PK_TEXT)) {
        free(text);
        oreq_free(r);
        return usage(cx, "%s", use);
    }
    if (*text)
        oreq_str(r, PK_TEXT, text);
    free(text);
    *out = r;
    return CMD_REQUEST;
}

static int f_theme(struct cmd_ctx *cx, const struct fcmd *c, int argc, char **argv,
                   struct oreq **out)
{
    int64_t id, into;
    if (!strcmp(c->sub, "add"))
        return with_text(cx, PT_THEME_ADD, argc, argv, 2,
                         _("usage: theme add TEXT [items=ITEM,...]"), out);
    if (argc < 3 || !theme_id(cx, argv[2], &id))
        return argc < 3 ? usage(cx, _("usage: theme %s ID ..."), c->sub) : CMD_ERROR;
    if (!strcmp(c->sub, "edit")) {
        int rc = with_text(cx, PT_THEME_EDIT, argc, argv, 3,
                           _("usage: theme edit ID TEXT [items=ITEM,...]"), out);
        if (rc == CMD_REQUEST) {
            if (!proto_has(&(*out)->m, PK_TEXT) && !proto_has(&(*out)->m, PK_ITEMS)) {
                oreq_free(*out);
                *out = NULL;
                return usage(cx, "%s", _("usage: theme edit ID TEXT [items=ITEM,...]"));
            }
            oreq_int(*out, PK_THEME, id);
        }
        return rc;
    }
    if (!strcmp(c->sub, "merge")) {
        if (argc != 4 || !theme_id(cx, argv[3], &into))
            return argc != 4 ? usage(cx, "%s", _("usage: theme merge ID INTO")) : CMD_ERROR;
        *out = oreq_new(PT_THEME_MERGE, NULL);
        oreq_int(*out, PK_THEME, id);
        oreq_int(*out, PK_INTO, into);
        return CMD_REQUEST;
    }
    if (argc != 3)
        return usage(cx, "%s", _("usage: theme delete ID"));
    *out = oreq_new(PT_THEME_DELETE, NULL);
    oreq_int(*out, PK_THEME, id);
    return CMD_REQUEST;
}

static int f_vote(struct cmd_ctx *cx, const struct fcmd *c, int argc, char **argv,
                  struct oreq **out)
{
    if (!strcmp(c->sub, "close"))
        return f_simple(cx, c, argc, argv, out);
    int64_t n;
    if (argc != 3 || !parse_int(argv[2], 1, 20, &n))
        return usage(cx, "%s", _("usage: vote open N (votes per participant, 1 to 20)"));
    *out = oreq_new(PT_VOTE_OPEN, NULL);
    oreq_int(*out, PK_BUDGET, n);
    return CMD_REQUEST;
}

static int f_desired(struct cmd_ctx *cx, const struct fcmd *c, int argc, char **argv,
                     struct oreq **out)
{
    if (argc != 3)
        return usage(cx, "%s", _("usage: desired ITEM VALUE"));
    int item = find_item(cx->st, argv[1], cx->err, sizeof(cx->err));
    int64_t v;
    if (item < 0 || !scored_item(cx, item) || !grade(cx, item, argv[2], &v))
        return CMD_ERROR;
    *out = oreq_new(PT_DESIRED_SET, NULL);
    oreq_int(*out, PK_ITEM, item);
    oreq_int(*out, PK_VALUE, v);
    return CMD_REQUEST;
}

/* action edit: the event replaces every field, so send the whole action. */
static void action_prefill(struct oreq *r, const struct state_action *a)
{
    if (a->text)
        oreq_str(r, PK_TEXT, a->text);
    if (a->owner)
        oreq_str(r, PK_OWNER, a->owner);
    if (a->role)
        oreq_str(r, PK_ROLE, a->role);
    if (a->where)
        oreq_str(r, PK_WHERE, a->where);
    if (a->feedback)
        oreq_str(r, PK_FEEDBACK, a->feedback);
    if (a->resources)
        oreq_str(r, PK_RESOURCES, a->resources);
    if (a->deadline[0])
        oreq_str(r, PK_DEADLINE, a->deadline);
    if (a->item >= 0)
        oreq_int(r, PK_ITEM, a->item);
    if (a->theme > 0)
        oreq_int(r, PK_THEME, a->theme);
}

static int f_action(struct cmd_ctx *cx, const struct fcmd *c, int argc, char **argv,
                    struct oreq **out)
{
    int64_t id;
    if (!strcmp(c->sub, "add"))
        return with_text(cx, PT_ACTION_PROPOSE, argc, argv, 2,
                         _("usage: action add TEXT [owner=NAME] [role=ROLE] [where=PLACE] "
                           "[deadline=YYYY-MM-DD] [feedback=MOMENT] [resources=WHAT]"),
                         out);
    if (argc < 3 || !action_id(cx, argv[2], &id))
        return argc < 3 ? usage(cx, _("usage: action %s ID ..."), c->sub) : CMD_ERROR;
    if (!strcmp(c->sub, "edit")) {
        struct oreq *r = oreq_new(PT_ACTION_EDIT, NULL);
        const struct state_action *a = state_action(cx->st, id);
        if (a)
            action_prefill(r, a);
        char *text;
        if (!fields_and_text(cx, r, argc, argv, 3, &text)) {
            oreq_free(r);
            return CMD_ERROR;
        }
        if (*text)
            oreq_str(r, PK_TEXT, text);
        free(text);
        if (!proto_has(&r->m, PK_TEXT)) {
            oreq_free(r);
            return usage(cx, "%s", _("usage: action edit ID [TEXT] [owner=NAME] ..."));
        }
        oreq_int(r, PK_ACTION, id);
        *out = r;
        return CMD_REQUEST;
    }
    if (argc != 3)
        return usage(cx, _("usage: action %s ID"), c->sub);
    *out = oreq_new(c->type, NULL);
    oreq_int(*out, PK_ACTION, id);
    return CMD_REQUEST;
}

static int f_lookahead(struct cmd_ctx *cx, const struct fcmd *c, int argc, char **argv,
                       struct oreq **out)
{
    if (!strcmp(c->sub, "date")) {
        if (argc != 3 || !proto_date_ok(argv[2], strlen(argv[2])))
            return usage(cx, "%s", _("usage: lookahead date YYYY-MM-DD"));
        *out = oreq_new(PT_LOOKAHEAD_DATE, NULL);
        oreq_str(*out, PK_DATE, argv[2]);
        return CMD_REQUEST;
    }
    if (argc < 3)
        return usage(cx, "%s", _("usage: lookahead add TEXT"));
    char *text = rest_text(cx, argc, argv, 2);
    *out = oreq_new(PT_LOOKAHEAD_ADD, NULL);
    oreq_str(*out, PK_TEXT, text);
    free(text);
    return CMD_REQUEST;
}

static int f_text(struct cmd_ctx *cx, const struct fcmd *c, int argc, char **argv,
                  struct oreq **out)
{
    if (argc < 2)
        return usage(cx, _("usage: %s TEXT"), c->word);
    char *text = rest_text(cx, argc, argv, 1);
    *out = oreq_new(c->type, NULL);
    oreq_str(*out, PK_TEXT, text);
    free(text);
    return CMD_REQUEST;
}

static int f_remove(struct cmd_ctx *cx, const struct fcmd *c, int argc, char **argv,
                    struct oreq **out)
{
    if (argc < 2)
        return usage(cx, "%s", _("usage: remove NAME"));
    int used;
    int pid = name_words(cx->st, argc, argv, 1, argc, &used, cx->err, sizeof(cx->err));
    if (!pid)
        return CMD_ERROR;
    if (1 + used != argc)
        return usage(cx, "%s", _("usage: remove NAME"));
    *out = oreq_new(PT_REMOVE, NULL);
    oreq_int(*out, PK_PID, pid);
    return CMD_REQUEST;
}

/* admit N / deny N: the answer to an observer who asks to watch. */
static int f_observer(struct cmd_ctx *cx, const struct fcmd *c, int argc, char **argv,
                      struct oreq **out)
{
    char *end = NULL;
    long long ticket = argc == 2 ? strtoll(argv[1], &end, 10) : 0;
    if (argc != 2 || !end || *end || ticket < 1)
        return usage(cx, "%s", c->type == PT_OBSERVER_ADMIT ? _("usage: admit TICKET")
                                                            : _("usage: deny TICKET"));
    *out = oreq_new(c->type, NULL);
    oreq_int(*out, PK_TICKET, ticket);
    return CMD_REQUEST;
}

static int f_select(struct cmd_ctx *cx, const struct fcmd *c, int argc, char **argv,
                    struct oreq **out)
{
    if (argc < 2)
        return usage(cx, "%s", _("usage: select ITEM[,ITEM...]"));
    struct oreq *r = oreq_new(PT_ITEMS_SELECT, NULL);
    char *list = words_join(argc, argv, 1);
    for (char *x = list; *x; x++)
        if (*x == ' ')
            *x = ',';
    bool ok = set_items(cx, r, list);
    free(list);
    if (!ok) {
        oreq_free(r);
        return CMD_ERROR;
    }
    *out = r;
    return CMD_REQUEST;
}

static int f_example(struct cmd_ctx *cx, const struct fcmd *c, int argc, char **argv,
                     struct oreq **out)
{
    if (argc < 3)
        return usage(cx, "%s", _("usage: example ITEM TEXT"));
    int item = find_item(cx->st, argv[1], cx->err, sizeof(cx->err));
    if (item < 0)
        return CMD_ERROR;
    char *text = rest_text(cx, argc, argv, 2);
    *out = oreq_new(PT_EXAMPLE_ADD, NULL);
    oreq_int(*out, PK_ITEM, item);
    oreq_str(*out, PK_TEXT, text);
    free(text);
    return CMD_REQUEST;
}

static int f_timer_extend(struct cmd_ctx *cx, const struct fcmd *c, int argc, char **argv,
                          struct oreq **out)
{
    int64_t min;
    if (argc != 3 || !parse_int(argv[2], 1, 600, &min))
        return usage(cx, "%s", _("usage: timer extend MINUTES"));
    *out = oreq_new(PT_TIMER_EXTEND, NULL);
    oreq_int(*out, PK_DURATION, min * 60);
    return CMD_REQUEST;
}

/* review ACTION [status=..] [rating=1-5] [note=TEXT]: what the team says now
 * about an action of an earlier session. */
static int f_review(struct cmd_ctx *cx, const struct fcmd *c, int argc, char **argv,
                    struct oreq **out)
{
    int64_t id, v;
    if (argc < 3 || !action_id(cx, argv[1], &id))
        return argc < 3 ? usage(cx, "%s",
                                _("usage: review ACTION [status=open|in_progress|done|"
                                  "dropped] [rating=1-5] [note=TEXT]"))
                        : CMD_ERROR;
    struct oreq *r = oreq_new(PT_REVIEW_SET, NULL);
    oreq_int(r, PK_ACTION, id);
    for (int i = 2; i < argc; i++) {
        const char *w = argv[i], *eq = strchr(w, '=');
        size_t kl = eq ? (size_t)(eq - w) : 0;
        if (eq && (!strncmp(w, "status", kl) && kl == 6)) {
            if (proto_set_enum(&r->m, PK_STATUS, eq + 1) < 0) {
                oreq_free(r);
                return usage(cx, _("'%s' is not a status: open, in_progress, done or dropped"),
                             eq + 1);
            }
        } else if (eq && ((kl == 6 && !strncmp(w, "rating", 6)) ||
                          (kl == 6 && !strncmp(w, "effect", 6)))) {
            if (!parse_int(eq + 1, 1, 5, &v)) {
                oreq_free(r);
                return usage(cx, _("'%s' is not a rating from 1 to 5"), eq + 1);
            }
            oreq_int(r, PK_RATING, v);
        } else if (eq && ((kl == 4 && !strncmp(w, "note", 4)) ||
                          (kl == 7 && !strncmp(w, "notitie", 7)))) {
            char *rest = words_join(argc, argv, i);
            oreq_str(r, PK_NOTE, rest + (eq + 1 - w));
            free(rest);
            break; /* the note is the rest of the line */
        } else {
            oreq_free(r);
            return usage(cx, _("'%s': use status=, rating= or note="), w);
        }
    }
    *out = r;
    return CMD_REQUEST;
}

#define S_ALL (PH_ALL & ~PH(CLOSED))
static const struct fcmd fcmds[] = {
    {"next", NULL, "", N_("go to the next step (or the next item)"), S_ALL & ~PH(SUMMARY), f_simple,
     PT_NEXT},
    {"back", NULL, "", N_("go back one step"), S_ALL & ~PH(REVIEW) & ~PH(LOBBY), f_simple, PT_BACK},
    {"reveal", NULL, "", N_("show all scores of this item together"), PH(SCORE), f_simple,
     PT_REVEAL},
    {"score", NULL, N_("NAME VALUE"), N_("enter a score on behalf of a participant"), PH(SCORE),
     f_score, PT_SCORE},
    {"rescore", NULL, N_("[ITEM]"), N_("score an item once more (a new round)"),
     PH(EXPLAIN) | PH(THEMES) | PH(DESIRED), f_rescore, PT_RESCORE},
    {"order", NULL, N_("join|random|low|high|manual [NAME ...]"), N_("set the speaking order"),
     PH(EXPLAIN), f_order, PT_TURN_ORDER},
    {"turn", "next", "", N_("give the turn to the next speaker"), PH(EXPLAIN), f_simple,
     PT_TURN_NEXT},
    {"turn", "pass", "", N_("the speaker passes"), PH(EXPLAIN), f_simple, PT_TURN_PASS},
    {"kw", NULL, N_("[--for NAME] TEXT"), N_("record keywords for the speaker (or for NAME)"),
     PH(EXPLAIN), f_keyword, PT_KEYWORD},
    {"theme", "add", N_("TEXT [items=ITEM,...]"), N_("add a theme"), PH(THEMES), f_theme,
     PT_THEME_ADD},
    {"theme", "edit", N_("ID TEXT"), N_("reword a theme"), PH(THEMES), f_theme, PT_THEME_EDIT},
    {"theme", "merge", N_("ID INTO"), N_("merge theme ID into theme INTO"), PH(THEMES), f_theme,
     PT_THEME_MERGE},
    {"theme", "delete", N_("ID"), N_("delete a theme"), PH(THEMES), f_theme, PT_THEME_DELETE},
    {"vote", "open", N_("N"), N_("let everyone spread N votes over the themes"), PH(THEMES), f_vote,
     PT_VOTE_OPEN},
    {"vote", "close", "", N_("close the vote and show the totals"), PH(THEMES), f_vote,
     PT_VOTE_CLOSE},
    {"desired", NULL, N_("ITEM VALUE"), N_("record the desired score the group agreed on"),
     PH(DESIRED), f_desired, PT_DESIRED_SET},
    {"action", "add",
     N_("TEXT [owner=..] [role=..] [where=..] [deadline=..] [feedback=..] "
        "[resources=..]"),
     N_("record an action"), PH(ACTIONS), f_action, PT_ACTION_PROPOSE},
    {"action", "edit", N_("ID [TEXT] [field=VALUE ...]"), N_("change an action"), PH(ACTIONS),
     f_action, PT_ACTION_EDIT},
    {"action", "confirm", N_("ID"), N_("confirm an action (the group agrees)"), PH(ACTIONS),
     f_action, PT_ACTION_CONFIRM},
    {"action", "remove", N_("ID"), N_("remove an action"), PH(ACTIONS), f_action, PT_ACTION_REMOVE},
    {"lookahead", "date", N_("YYYY-MM-DD"), N_("date of the next follow-up conversation"),
     PH(LOOK_AHEAD), f_lookahead, PT_LOOKAHEAD_DATE},
    {"lookahead", "add", N_("TEXT"), N_("where the vermogens get a place (team meeting, ...)"),
     PH(LOOK_AHEAD), f_lookahead, PT_LOOKAHEAD_ADD},
    {"summary", NULL, N_("TEXT"), N_("record the summary"), PH(SUMMARY), f_text, PT_SUMMARY},
    {"select", NULL, N_("ITEM,..."), N_("the items this session works on"), PH(REVIEW) | PH(LOBBY),
     f_select, PT_ITEMS_SELECT},
    {"review", NULL, N_("ACTION [status=..] [rating=1-5] [note=TEXT]"),
     N_("what the team says now about an earlier action"), PH(REVIEW), f_review, PT_REVIEW_SET},
    {"example", NULL, N_("ITEM TEXT"), N_("record a practice example for an item"),
     S_ALL & ~PH(REVIEW) & ~PH(LOBBY), f_example, PT_EXAMPLE_ADD},
    {"timer", "pause", "", N_("stop the countdown"), S_ALL, f_simple, PT_TIMER_PAUSE},
    {"timer", "resume", "", N_("carry on with the countdown"), S_ALL, f_simple, PT_TIMER_RESUME},
    {"timer", "extend", N_("MINUTES"), N_("give this step more time"), S_ALL, f_timer_extend,
     PT_TIMER_EXTEND},
    {"pause", NULL, "", N_("pause the session"), S_ALL, f_simple, PT_PAUSE},
    {"resume", NULL, "", N_("carry on after a pause"), S_ALL, f_simple, PT_RESUME_REQ},
    {"remove", NULL, N_("NAME"), N_("remove a participant"), S_ALL, f_remove, PT_REMOVE},
    {"undo", NULL, "", N_("undo the last change"), S_ALL, f_simple, PT_UNDO_REQ},
    {"admit", NULL, N_("TICKET"), N_("let a waiting observer watch"), S_ALL, f_observer,
     PT_OBSERVER_ADMIT},
    {"deny", NULL, N_("TICKET"), N_("turn a waiting observer away"), S_ALL, f_observer,
     PT_OBSERVER_DENY},
    {"end", NULL, "", N_("end the session"), S_ALL, f_simple, PT_END},
    {NULL, NULL, NULL, NULL, 0, NULL, PT__NONE},
};

static const char *const theme_subs[] = {"add", "edit", "merge", "delete", NULL};
static const char *const vote_subs[] = {"open", "close", NULL};
static const char *const action_subs[] = {"add", "edit", "confirm", "remove", NULL};
static const char *const lookahead_subs[] = {"date", "add", NULL};
static const char *const turn_subs[] = {"next", "pass", NULL};
static const char *const order_subs[] = {"join", "random", "low", "high", "manual", NULL};
static const char *const timer_subs[] = {"pause", "resume", "extend", NULL};

const char *const *cmd_subwords(const char *word)
{
    if (!strcmp(word, "theme"))
        return theme_subs;
    if (!strcmp(word, "vote"))
        return vote_subs;
    if (!strcmp(word, "action"))
        return action_subs;
    if (!strcmp(word, "lookahead"))
        return lookahead_subs;
    if (!strcmp(word, "turn"))
        return turn_subs;
    if (!strcmp(word, "order"))
        return order_subs;
    if (!strcmp(word, "timer"))
        return timer_subs;
    return NULL;
}

bool cmd_takes_name(const char *word, const char *sub)
{
    return !strcmp(word, "score") || !strcmp(word, "remove") || !strcmp(word, "kw") ||
           (!strcmp(word, "order") && sub);
}

bool cmd_takes_item(const char *word)
{
    return !strcmp(word, "desired") || !strcmp(word, "rescore") || !strcmp(word, "select") ||
           !strcmp(word, "example");
}

bool cmd_is_steer_word(const char *w)
{
    for (const struct fcmd *c = fcmds; c->word; c++)
        if (!strcmp(c->word, w))
            return true;
    return !strcmp(w, "keyword");
}

int cmd_facilitator(struct cmd_ctx *cx, int argc, char **argv, struct oreq **out)
{
    *out = NULL;
    cx->err[0] = '\0';
    if (argc < 1)
        return CMD_UNKNOWN;
    const char *word = !strcmp(argv[0], "keyword") ? "kw" : argv[0];
    bool known = false;
    for (const struct fcmd *c = fcmds; c->word; c++) {
        if (strcmp(c->word, word))
            continue;
        known = true;
        if (c->sub && (argc < 2 || strcmp(c->sub, argv[1])))
            continue;
        char *label = words_join(argc, argv, 0);
        int rc = c->parse(cx, c, argc, argv, out);
        if (rc == CMD_REQUEST && *out) {
            free((*out)->label);
            (*out)->label = label;
        } else {
            free(label);
        }
        return rc;
    }
    if (known) {
        const char *const *subs = cmd_subwords(word);
        struct sbuf b;
        sb_init(&b);
        for (int i = 0; subs && subs[i]; i++)
            sb_printf(&b, "%s%s", i ? "|" : "", subs[i]);
        snprintf(cx->err, sizeof(cx->err), _("usage: %s %s ..."), word, b.p);
        sb_free(&b);
        return CMD_ERROR;
    }
    return CMD_UNKNOWN;
}

const char *cmd_word(bool facilitator, int n)
{
    static const char *const pwords[] = {"score",  "keyword", "pass",   "theme",    "vote",
                                         "unvote", "desired", "action", "reaction", "evaluation",
                                         "show",   "help",    "quit",   NULL};
    static const char *fwords[64];
    if (!facilitator) {
        for (int i = 0; i <= n; i++)
            if (!pwords[i])
                return NULL;
        return pwords[n];
    }
    if (!fwords[0]) {
        int k = 0;
        for (const struct fcmd *c = fcmds; c->word && k < 60; c++) {
            bool dup = false;
            for (int j = 0; j < k; j++)
                dup |= !strcmp(fwords[j], c->word);
            if (!dup)
                fwords[k++] = c->word;
        }
        fwords[k++] = "show";
        fwords[k++] = "help";
        fwords[k++] = "quit";
        fwords[k] = NULL;
    }
    for (int i = 0; i <= n; i++)
        if (!fwords[i])
            return NULL;
    return fwords[n];
}

static void help_line(struct sbuf *b, const char *word, const char *sub, const char *args,
                      const char *help)
{
    char left[160];
    snprintf(left, sizeof(left), "%s%s%s%s%s", word, sub ? " " : "", sub ? sub : "",
             args && *args ? " " : "", args && *args ? _(args) : "");
    sb_puts(b, "  ");
    if (utf8_width(left) > 34) {
        sb_printf(b, "%s\n  %34s  %s\n", left, "", _(help));
        return;
    }
    sb_pad(b, left, 34);
    sb_printf(b, "  %s\n", _(help));
}

void cmd_help_facilitator(struct sbuf *b, int phase)
{
    for (const struct fcmd *c = fcmds; c->word; c++)
        if (phase < 0 || (c->phases & (1u << phase)))
            help_line(b, c->word, c->sub, c->args, c->help);
    help_line(b, "show", NULL, "", N_("draw the screen again"));
    help_line(b, "help", NULL, "", N_("this list (help all: every command)"));
    help_line(b, "quit", NULL, "", N_("leave the console; the session goes on"));
}

/* ---- participant commands ------------------------------------------------ */

static int p_score(struct cmd_ctx *cx, int argc, char **argv, struct oreq **out)
{
    int item = cx->st->item;
    const char *val;
    if (argc == 2) {
        val = argv[1];
    } else if (argc == 3) {
        if ((item = find_item(cx->st, argv[1], cx->err, sizeof(cx->err))) < 0)
            return CMD_ERROR;
        val = argv[2];
    } else {
        return usage(cx, "%s", _("usage: score [ITEM] VALUE"));
    }
    if (item < 0)
        return wrong_step(cx);
    int64_t v;
    if (!scored_item(cx, item) || !grade(cx, item, val, &v))
        return CMD_ERROR;
    *out = oreq_new(PT_SCORE, NULL);
    oreq_int(*out, PK_ITEM, item);
    oreq_int(*out, PK_VALUE, v);
    return CMD_REQUEST;
}

static int p_vote(struct cmd_ctx *cx, int argc, char **argv, int delta, struct oreq **out)
{
    int64_t id;
    if (argc < 2 || argc > 3 || !theme_id(cx, argv[1], &id))
        return argc < 2 || argc > 3 ? usage(cx, "%s", _("usage: vote THEME [+|-]")) : CMD_ERROR;
    if (argc == 3) {
        if (!strcmp(argv[2], "-") || !strcmp(argv[2], "-1") || !strcmp(argv[2], "down"))
            delta = -1;
        else if (strcmp(argv[2], "+") && strcmp(argv[2], "+1") && strcmp(argv[2], "1") &&
                 strcmp(argv[2], "up"))
            return usage(cx, "%s", _("usage: vote THEME [+|-]"));
    }
    *out = oreq_new(PT_VOTE, NULL);
    oreq_int(*out, PK_THEME, id);
    oreq_int(*out, PK_DELTA, delta);
    return CMD_REQUEST;
}

static int p_desired(struct cmd_ctx *cx, int argc, char **argv, struct oreq **out)
{
    int item = cx->desired_item;
    const char *val;
    if (argc == 3) {
        if ((item = find_item(cx->st, argv[1], cx->err, sizeof(cx->err))) < 0)
            return CMD_ERROR;
        val = argv[2];
    } else if (argc == 2 && item >= 0) {
        val = argv[1];
    } else {
        return usage(cx, "%s", _("usage: desired ITEM VALUE"));
    }
    int64_t v;
    if (!scored_item(cx, item) || !grade(cx, item, val, &v))
        return CMD_ERROR;
    *out = oreq_new(PT_DESIRED_PROPOSE, NULL);
    oreq_int(*out, PK_ITEM, item);
    oreq_int(*out, PK_VALUE, v);
    return CMD_REQUEST;
}

static int p_evaluation(struct cmd_ctx *cx, int argc, char **argv, struct oreq **out)
{
    int64_t v;
    if (argc < 2 || !parse_int(argv[1], 1, 5, &v))
        return usage(cx, "%s", _("usage: evaluation 1-5 [TEXT]"));
    *out = oreq_new(PT_EVALUATION, NULL);
    oreq_int(*out, PK_RATING, v);
    if (argc > 2) {
        char *text = rest_text(cx, argc, argv, 2);
        oreq_str(*out, PK_TEXT, text);
        free(text);
    }
    return CMD_REQUEST;
}

static int p_text(struct cmd_ctx *cx, enum proto_type t, int argc, char **argv, const char *use,
                  struct oreq **out)
{
    if (argc < 2)
        return usage(cx, "%s", use);
    char *text = rest_text(cx, argc, argv, 1);
    *out = oreq_new(t, NULL);
    oreq_str(*out, PK_TEXT, text);
    free(text);
    return CMD_REQUEST;
}

int cmd_participant(struct cmd_ctx *cx, int argc, char **argv, struct oreq **out)
{
    *out = NULL;
    cx->err[0] = '\0';
    if (argc < 1)
        return CMD_UNKNOWN;
    const char *w = argv[0];
    int rc;
    if (!strcmp(w, "score") || !strcmp(w, "cijfer"))
        rc = p_score(cx, argc, argv, out);
    else if (!strcmp(w, "keyword") || !strcmp(w, "kw") || !strcmp(w, "trefwoord"))
        rc = p_text(cx, PT_KEYWORD, argc, argv, _("usage: keyword TEXT"), out);
    else if (!strcmp(w, "pass") || !strcmp(w, "pas"))
        rc = argc == 1 ? (*out = oreq_new(PT_TURN_PASS, NULL), CMD_REQUEST)
                       : usage(cx, "%s", _("usage: pass"));
    else if (!strcmp(w, "theme") || !strcmp(w, "thema"))
        rc = with_text(cx, PT_THEME_ADD, argc, argv, 1, _("usage: theme TEXT [items=ITEM,...]"),
                       out);
    else if (!strcmp(w, "vote") || !strcmp(w, "stem"))
        rc = p_vote(cx, argc, argv, +1, out);
    else if (!strcmp(w, "unvote"))
        rc = p_vote(cx, argc, argv, -1, out);
    else if (!strcmp(w, "desired") || !strcmp(w, "gewenst"))
        rc = p_desired(cx, argc, argv, out);
    else if (!strcmp(w, "action") || !strcmp(w, "actie"))
        rc = with_text(cx, PT_ACTION_PROPOSE, argc, argv, 1,
                       _("usage: action TEXT [owner=NAME] [deadline=YYYY-MM-DD] ..."), out);
    else if (!strcmp(w, "lookahead"))
        rc = p_text(cx, PT_LOOKAHEAD_ADD, argc, argv, _("usage: lookahead TEXT"), out);
    else if (!strcmp(w, "reaction") || !strcmp(w, "reactie"))
        rc = p_text(cx, PT_REACTION, argc, argv, _("usage: reaction TEXT"), out);
    else if (!strcmp(w, "evaluation") || !strcmp(w, "eval") || !strcmp(w, "evaluatie"))
        rc = p_evaluation(cx, argc, argv, out);
    else
        return CMD_UNKNOWN;
    if (rc == CMD_REQUEST && *out) {
        free((*out)->label);
        (*out)->label = words_join(argc, argv, 0);
    }
    return rc;
}

int cmd_participant_answer(struct cmd_ctx *cx, const char *line, struct oreq **out)
{
    const struct session_state *st = cx->st;
    *out = NULL;
    cx->err[0] = '\0';
    char **argv;
    int argc = words_split(line, &argv);
    if (argc < 0)
        return usage(cx, "%s", _("a quote is not closed"));
    if (argc == 0) {
        words_free(argc, argv);
        return CMD_UNKNOWN;
    }
    int rc = CMD_ERROR;
    int64_t v;
    char *text = NULL;
    switch (st->paused ? -1 : (int)st->phase) {
    case -1:
        usage(cx, "%s", _("the session is paused: wait a moment"));
        rc = CMD_WRONG_STEP;
        break;
    case PROTO_PHASE_SCORE: {
        char *xs[3] = {"score", argv[0], NULL};
        rc = argc == 1 ? p_score(cx, 2, xs, out)
                       : usage(cx, "%s", _("type your grade as one number"));
        break;
    }
    case PROTO_PHASE_EXPLAIN:
        text = rest_text(&(struct cmd_ctx){.raw = line}, argc, argv, 0);
        *out = oreq_new(PT_KEYWORD, NULL);
        oreq_str(*out, PK_TEXT, text);
        rc = CMD_REQUEST;
        break;
    case PROTO_PHASE_THEMES:
        if (st->vote_open && argc == 1 &&
            (argv[0][0] == '-' || argv[0][0] == '+' || isdigit((unsigned char)argv[0][0]))) {
            int delta = argv[0][0] == '-' ? -1 : 1;
            const char *num = argv[0] + (argv[0][0] == '-' || argv[0][0] == '+');
            if (!parse_int(num, 1, 1000000, &v)) {
                rc = usage(cx, _("'%s' is not a theme number"), argv[0]);
                break;
            }
            *out = oreq_new(PT_VOTE, NULL);
            oreq_int(*out, PK_THEME, v);
            oreq_int(*out, PK_DELTA, delta);
            rc = CMD_REQUEST;
        } else {
            rc = with_text(cx, PT_THEME_ADD, argc, argv, 0, _("usage: theme TEXT"), out);
        }
        break;
    case PROTO_PHASE_DESIRED: {
        char *xs[4] = {"desired", argv[0], argc > 1 ? argv[1] : NULL, NULL};
        rc = argc <= 2 ? p_desired(cx, argc + 1, xs, out)
                       : usage(cx, "%s", _("type the grade you want to reach (or ITEM VALUE)"));
        break;
    }
    case PROTO_PHASE_ACTIONS:
        rc = with_text(cx, PT_ACTION_PROPOSE, argc, argv, 0, _("usage: action TEXT"), out);
        break;
    case PROTO_PHASE_LOOK_AHEAD:
        text = rest_text(&(struct cmd_ctx){.raw = line}, argc, argv, 0);
        *out = oreq_new(PT_LOOKAHEAD_ADD, NULL);
        oreq_str(*out, PK_TEXT, text);
        rc = CMD_REQUEST;
        break;
    case PROTO_PHASE_SUMMARY:
        if (parse_int(argv[0], 1, 5, &v)) {
            *out = oreq_new(PT_EVALUATION, NULL);
            oreq_int(*out, PK_RATING, v);
            if (argc > 1) {
                text = rest_text(&(struct cmd_ctx){.raw = line}, argc, argv, 1);
                oreq_str(*out, PK_TEXT, text);
            }
        } else {
            text = rest_text(&(struct cmd_ctx){.raw = line}, argc, argv, 0);
            *out = oreq_new(PT_REACTION, NULL);
            oreq_str(*out, PK_TEXT, text);
        }
        rc = CMD_REQUEST;
        break;
    case PROTO_PHASE_CLOSED:
        rc = usage(cx, "%s", _("the session is closed"));
        break;
    default:
        usage(cx, "%s", _("nothing to answer yet: wait until the facilitator starts"));
        rc = CMD_WRONG_STEP;
        break;
    }
    free(text);
    if (rc == CMD_REQUEST && *out) {
        free((*out)->label);
        (*out)->label = strdup(line);
    }
    words_free(argc, argv);
    return rc;
}

void cmd_help_participant(struct sbuf *b, int phase)
{
    static const struct {
        const char *word, *args, *help;
        unsigned phases;
    } p[] = {
        {"score", N_("[ITEM] VALUE"), N_("your grade (blind until the reveal)"), PH(SCORE)},
        {"keyword", N_("TEXT"), N_("keywords for your explanation (in your turn)"), PH(EXPLAIN)},
        {"pass", "", N_("pass your turn"), PH(EXPLAIN)},
        {"theme", N_("TEXT"), N_("propose a theme"), PH(THEMES)},
        {"vote", N_("THEME [+|-]"), N_("give (or take back) a vote"), PH(THEMES)},
        {"desired", N_("ITEM VALUE"), N_("propose a desired score"), PH(DESIRED)},
        {"action", N_("TEXT [owner=..] [deadline=..]"), N_("propose an action"), PH(ACTIONS)},
        {"reaction", N_("TEXT"), N_("react to the summary"), PH(SUMMARY)},
        {"evaluation", N_("1-5 [TEXT]"), N_("how did you experience the session?"), PH(SUMMARY)},
    };
    for (size_t i = 0; i < sizeof(p) / sizeof(p[0]); i++)
        if (phase < 0 || (p[i].phases & (1u << phase)))
            help_line(b, p[i].word, NULL, p[i].args, p[i].help);
}

void cmd_available(struct sbuf *b, const struct session_state *st, bool facilitator)
{
    int phase = st->closed ? PROTO_PHASE_CLOSED : (int)st->phase;
    bool first = true;
    if (!facilitator) {
        return;
    }
    for (const struct fcmd *c = fcmds; c->word; c++) {
        if (!(c->phases & (1u << phase)))
            continue;
        /* The always-there commands come last, short. */
        if (c->type == PT_PAUSE || c->type == PT_RESUME_REQ || c->type == PT_REMOVE ||
            c->type == PT_UNDO_REQ || c->type == PT_END)
            continue;
        /* Only what applies to this session: a countdown, a chosen set, examples. */
        if ((c->type == PT_TIMER_PAUSE && !(st->timer.entry >= 0 && st->timer.running)) ||
            (c->type == PT_TIMER_RESUME && !(st->timer.entry >= 0 && !st->timer.running)) ||
            (c->type == PT_TIMER_EXTEND && st->timer.entry < 0) ||
            (c->type == PT_ITEMS_SELECT && !st->select) ||
            (c->type == PT_REVIEW_SET && !st->n_reviews))
            continue;
        if (c->type == PT_EXAMPLE_ADD) {
            bool notes = false;
            for (int i = 0; i < st->n_items; i++)
                notes |= st->items[i].notes;
            if (!notes)
                continue;
        }
        if (c->type == PT_REVEAL && st->item >= 0) {
            const struct state_round *r = state_round(st, st->item, st->round);
            if (r && r->revealed)
                continue;
        }
        sb_printf(b, "%s%s%s%s%s%s", first ? "" : "  ", c->word, c->sub ? " " : "",
                  c->sub ? c->sub : "", c->args && *c->args && !c->sub ? " " : "",
                  c->args && *c->args && !c->sub ? _(c->args) : "");
        first = false;
    }
    if (phase == PROTO_PHASE_CLOSED) {
        sb_puts(b, "quit");
        return;
    }
    sb_printf(b, "%s%s  undo  remove %s  end  help  quit", first ? "" : "  ",
              st->paused ? "resume" : "pause", _("NAME"));
}

/* ---- generic requests (lwk do) -------------------------------------------- */

static bool generic_value(struct cmd_ctx *cx, struct oreq *r, enum proto_key k, const char *val)
{
    int64_t v;
    switch (proto_key_kind(k)) {
    case PF_INT:
        if (parse_int(val, proto_key_min(k), proto_key_max(k), &v)) {
            oreq_int(r, k, v);
            return true;
        }
        if (k == PK_FOR || k == PK_PID) {
            int pid = find_participant(cx->st, val, cx->err, sizeof(cx->err));
            if (!pid)
                return false;
            oreq_int(r, k, pid);
            return true;
        }
        if (k == PK_ITEM) {
            int item = find_item(cx->st, val, cx->err, sizeof(cx->err));
            if (item < 0)
                return false;
            oreq_int(r, k, item);
            return true;
        }
        snprintf(cx->err, sizeof(cx->err), _("%s=%s: a number from %lld to %lld is needed"),
                 proto_key_name(k), val, (long long)proto_key_min(k), (long long)proto_key_max(k));
        return false;
    case PF_BOOL:
        if (!strcmp(val, "true") || !strcmp(val, "yes") || !strcmp(val, "1"))
            oreq_int(r, k, 1);
        else if (!strcmp(val, "false") || !strcmp(val, "no") || !strcmp(val, "0"))
            oreq_int(r, k, 0);
        else {
            snprintf(cx->err, sizeof(cx->err), _("%s=%s: true or false is needed"),
                     proto_key_name(k), val);
            return false;
        }
        return true;
    case PF_STR:
        oreq_str(r, k, val);
        return true;
    case PF_ENUM:
        if (proto_set_enum(&r->m, k, val) == 0)
            return true;
        snprintf(cx->err, sizeof(cx->err), _("%s=%s: not one of the allowed values"),
                 proto_key_name(k), val);
        return false;
    case PF_INTS: {
        int64_t a[PROTO_MAX_ARRAY];
        uint32_t n = 0;
        char *copy = strdup(val), *save = NULL;
        bool ok = true;
        for (char *t = strtok_r(copy, ",", &save); t && ok && n < PROTO_MAX_ARRAY;
             t = strtok_r(NULL, ",", &save)) {
            if (parse_int(t, proto_key_min(k), proto_key_max(k), &v))
                a[n++] = v;
            else if (k == PK_ORDER && (v = find_participant(cx->st, t, cx->err, sizeof(cx->err))))
                a[n++] = v;
            else if (k == PK_ITEMS && (v = find_item(cx->st, t, cx->err, sizeof(cx->err))) >= 0)
                a[n++] = v;
            else
                ok = false;
        }
        free(copy);
        if (!ok) {
            if (!cx->err[0])
                snprintf(cx->err, sizeof(cx->err), _("%s=%s: a list of numbers is needed"),
                         proto_key_name(k), val);
            return false;
        }
        oreq_ints(r, k, a, n);
        return true;
    }
    default:
        snprintf(cx->err, sizeof(cx->err), _("%s can not be given on the command line"),
                 proto_key_name(k));
        return false;
    }
}

int cmd_generic(struct cmd_ctx *cx, int argc, char **argv, struct oreq **out)
{
    *out = NULL;
    cx->err[0] = '\0';
    enum proto_type t = proto_type_lookup(argv[0], strlen(argv[0]));
    if (t == PT__NONE || proto_type_dir(t) != PD_REQ || t == PT_HELLO) {
        snprintf(cx->err, sizeof(cx->err), _("'%s' is not a request of the protocol"), argv[0]);
        return CMD_ERROR;
    }
    struct oreq *r = oreq_new(t, NULL);
    for (int i = 1; i < argc; i++) {
        const char *eq = strchr(argv[i], '=');
        if (!eq || eq == argv[i]) {
            snprintf(cx->err, sizeof(cx->err), _("'%s' is not key=value"), argv[i]);
            oreq_free(r);
            return CMD_ERROR;
        }
        enum proto_key k = PK__COUNT;
        for (int j = 0; j < PK__COUNT; j++)
            if (strlen(proto_key_name((enum proto_key)j)) == (size_t)(eq - argv[i]) &&
                !strncmp(proto_key_name((enum proto_key)j), argv[i], (size_t)(eq - argv[i])))
                k = (enum proto_key)j;
        if (k == PK__COUNT || k == PK_ID || !proto_type_allows(t, k)) {
            snprintf(cx->err, sizeof(cx->err), _("%s has no field '%.*s'"), argv[0],
                     (int)(eq - argv[i]), argv[i]);
            oreq_free(r);
            return CMD_ERROR;
        }
        if (!generic_value(cx, r, k, eq + 1)) {
            oreq_free(r);
            return CMD_ERROR;
        }
    }
    for (int k = 0; k < PK__COUNT; k++)
        if (k != PK_ID && proto_type_requires(t, (enum proto_key)k) &&
            !proto_has(&r->m, (enum proto_key)k)) {
            snprintf(cx->err, sizeof(cx->err), _("%s needs %s=..."), argv[0],
                     proto_key_name((enum proto_key)k));
            oreq_free(r);
            return CMD_ERROR;
        }
    free(r->label);
    r->label = words_join(argc, argv, 0);
    *out = r;
    return CMD_REQUEST;
}
