/*
 * lwk_cycle.c: the lwk commands of the cycle between sessions and of
 * instruments as data (docs/cycle.md):
 *
 *   lwk actions [--team NAME | --unit ID] [--status S] [--overdue]
 *   lwk action update ID --status S [--note TEXT]
 *   lwk team history (NAME | --unit ID)
 *   lwk team due [--date YYYY-MM-DD] [--org ID]
 *   lwk admin instrument import FILE
 *   lwk admin instrument export KEY [--version N] [-o FILE]
 *
 * Entry point cycle_main(argc, argv), argv[0] the command word ("actions",
 * "action", "team", "instrument"; for `lwk admin instrument ...` lwk.c
 * passes argv from "instrument" on). Each connects, asks lwkd one question
 * (answered from PostgreSQL) and prints the answer, or JSON with --json.
 */
#include "lwk_cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

/* ---- options ------------------------------------------------------------ */

static bool status_ok(const char *s)
{
    for (const char *const *v = proto_enum_values(PK_STATUS); *v; v++)
        if (!strcmp(*v, s))
            return true;
    return false;
}

/* ---- the call ----------------------------------------------------------- */

/*
 * Sends m and hands the ok to fn. Connects as admin when the token is an
 * admin token (the admin sees every organisation), else as facilitator.
 * Returns 0 or the (negative) error, already reported except for
 * BAD_DEFINITION, which the caller words.
 */
static int cycle_call(struct proto_msg *m, rpc_reply_fn fn, void *arg, const char *what,
                      bool admin_only, char *detail, size_t dn)
{
    lwk_apply_env();
    if (!lwk_g.conn.token) {
        lwk_errorf("%s", _("a token is needed: --token, LWK_TOKEN or token = ... in the config "
                           "file"));
        return PROTO_ERR_BAD_CREDENTIALS;
    }
    int err;
    detail[0] = '\0';
    struct rpc *r = rpc_connect(PROTO_KIND_ADMIN, NULL, NULL, NULL, &err, detail, dn);
    if (!r && err == PROTO_ERR_BAD_CREDENTIALS && !admin_only)
        r = rpc_connect(PROTO_KIND_FACILITATOR, NULL, NULL, NULL, &err, detail, dn);
    if (!r) {
        if (err == PROTO_ERR_BAD_CREDENTIALS)
            lwk_errorf("%s", admin_only ? _("the admin token is needed for this")
                                        : _("the token was not accepted"));
        else
            lwk_report(NULL, err, detail, NULL);
        return err;
    }
    err = rpc_call(r, m, fn, arg, detail, dn);
    rpc_close(r);
    if (err == PROTO_ERR_DB_UNAVAILABLE)
        lwk_errorf("%s: %s", what, _("the database is not available: this needs it"));
    else if (err < 0 && err != PROTO_ERR_BAD_DEFINITION)
        lwk_report(what, err, detail, NULL);
    return err;
}

static const char *str_or(const struct proto_msg *m, enum proto_key k, const char *dflt)
{
    const char *s = proto_str(m, k);
    return s ? s : dflt;
}

/* A mean in hundredths, for people: "6,25" (the locale's decimal sign). */
static const char *mean_text(char *buf, size_t n, const struct proto_msg *r)
{
    if (!proto_has(r, PK_MEAN))
        return "-";
    return fmt_dec(buf, n, (double)proto_int(r, PK_MEAN, 0) / 100.0, 2);
}

/* ---- lwk actions ---------------------------------------------------------- */

static void print_actions(void *arg, const struct proto_msg *m)
{
    (void)arg;
    if (lwk_g.json) {
        lwk_print_rows_json(m);
        return;
    }
    const struct proto_msgs *rows = proto_has(m, PK_ROWS) ? &m->v[PK_ROWS].m : NULL;
    if (!rows || !rows->n) {
        printf("%s\n", _("(no actions)"));
        return;
    }
    printf("%-6s %-12s %-11s %-12s %-14s %s\n", "ID", _("STATUS"), _("DEADLINE"), _("OWNER"),
           _("TEAM"), _("ACTION"));
    for (uint32_t i = 0; i < rows->n; i++) {
        const struct proto_msg *r = &rows->p[i];
        bool overdue = proto_int(r, PK_OVERDUE, 0) != 0;
        char deadline[24];
        snprintf(deadline, sizeof(deadline), "%s%s", str_or(r, PK_DEADLINE, "-"),
                 overdue ? "!" : "");
        struct sbuf b;
        sb_init(&b);
        sb_printf(&b, "%-6lld ", (long long)proto_int(r, PK_ACTION, 0));
        sb_pad(&b, proto_enum_name(PK_STATUS, proto_int(r, PK_STATUS, 0)), 12);
        sb_putc(&b, ' ');
        if (overdue)
            sb_puts(&b, C_RED());
        sb_pad(&b, deadline, 11);
        if (overdue)
            sb_puts(&b, C_OFF());
        sb_putc(&b, ' ');
        sb_pad(&b, str_or(r, PK_OWNER, "-"), 12);
        sb_putc(&b, ' ');
        sb_pad(&b, str_or(r, PK_TEAM, "-"), 14);
        sb_putc(&b, ' ');
        sb_puts(&b, str_or(r, PK_TEXT, ""));
        if (proto_has(r, PK_RATING))
            sb_printf(&b, _("  (effect %lld/5)"), (long long)proto_int(r, PK_RATING, 0));
        printf("%s\n", b.p);
        sb_free(&b);
    }
    printf("%s\n", _("! = past its deadline and not done"));
}

static int cmd_actions(int argc, char **argv)
{
    static const struct option opts[] = {{"team", required_argument, NULL, 'e'},
                                         {"unit", required_argument, NULL, 'u'},
                                         {"status", required_argument, NULL, 'x'},
                                         {"overdue", no_argument, NULL, 'o'},
                                         {NULL, 0, NULL, 0}};
    struct proto_msg m;
    proto_msg_init(&m, PT_ACTION_LIST);
    int rc = 0, c;
    int64_t v;
    optind = 0;
    while ((c = lwk_next_opt(argc, argv, "e:u:x:o", opts, "actions", &rc)) != -1) {
        if (c == '?')
            return rc;
        if (c == 'e')
            proto_set_str(&m, PK_TEAM, optarg);
        else if (c == 'u' && parse_int(optarg, 1, INT64_MAX / 2, &v))
            proto_set_int(&m, PK_UNIT, v);
        else if (c == 'u')
            return lwk_usage_error("actions", _("'%s' is not a unit number"), optarg);
        else if (c == 'x' && proto_set_enum(&m, PK_STATUS, optarg) < 0)
            return lwk_usage_error(
                "actions", _("'%s' is not a status: open, in_progress, done or dropped"), optarg);
        else if (c == 'o')
            proto_set_bool(&m, PK_OVERDUE, true);
    }
    if (optind < argc)
        return lwk_usage_error("actions", "%s",
                               _("usage: lwk actions [--team NAME | --unit ID] "
                                 "[--status S] [--overdue]"));
    char detail[256];
    return lwk_exit_for(
        cycle_call(&m, print_actions, NULL, "actions", false, detail, sizeof(detail)));
}

/* ---- lwk action update ------------------------------------------------------ */

static void print_updated(void *arg, const struct proto_msg *m)
{
    (void)arg;
    if (lwk_g.json) {
        struct sbuf b;
        sb_init(&b);
        json_msg(&b, m);
        lwk_print_json(&b);
        sb_free(&b);
        return;
    }
    printf(_("Action %lld is now %s.\n"), (long long)proto_int(m, PK_ACTION, 0),
           proto_enum_name(PK_STATUS, proto_int(m, PK_STATUS, 0)));
}

static int cmd_action(int argc, char **argv)
{
    static const char usage[] = "usage: lwk action update ID --status open|in_progress|done|"
                                "dropped [--note TEXT]";
    static const struct option opts[] = {{"status", required_argument, NULL, 'x'},
                                         {"note", required_argument, NULL, 'n'},
                                         {NULL, 0, NULL, 0}};
    if (argc < 2 || strcmp(argv[1], "update")) {
        if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
            lwk_help_topic(stdout, "actions");
            return 0;
        }
        return lwk_usage_error("actions", "%s", _(usage));
    }
    const char *status = NULL, *note = NULL;
    int rc = 0, c;
    optind = 0;
    int sub_argc = argc - 1;
    char **sub_argv = argv + 1;
    while ((c = lwk_next_opt(sub_argc, sub_argv, "x:n:", opts, "actions", &rc)) != -1) {
        if (c == '?')
            return rc;
        if (c == 'x')
            status = optarg;
        else if (c == 'n')
            note = optarg;
    }
    int64_t id;
    if (optind != sub_argc - 1 || !status)
        return lwk_usage_error("actions", "%s", _(usage));
    const char *ids = sub_argv[optind];
    if (ids[0] == '#')
        ids++;
    if (!parse_int(ids, 1, INT64_MAX / 2, &id))
        return lwk_usage_error("actions", _("'%s' is not an action number"), sub_argv[optind]);
    if (!status_ok(status))
        return lwk_usage_error(
            "actions", _("'%s' is not a status: open, in_progress, done or dropped"), status);
    if (note && strlen(note) > (size_t)proto_key_max(PK_NOTE))
        return lwk_usage_error("actions", _("the note is longer than %lld bytes"),
                               (long long)proto_key_max(PK_NOTE));
    struct proto_msg m;
    proto_msg_init(&m, PT_ACTION_UPDATE);
    proto_set_int(&m, PK_ACTION, id);
    proto_set_enum(&m, PK_STATUS, status);
    if (note && note[0])
        proto_set_str(&m, PK_NOTE, note);
    char detail[256];
    return lwk_exit_for(
        cycle_call(&m, print_updated, NULL, "action update", false, detail, sizeof(detail)));
}

/* ---- lwk team history / due ------------------------------------------------ */

static void print_history(void *arg, const struct proto_msg *m)
{
    (void)arg;
    if (lwk_g.json) {
        lwk_print_rows_json(m);
        return;
    }
    const struct proto_msgs *rows = proto_has(m, PK_ROWS) ? &m->v[PK_ROWS].m : NULL;
    if (!rows || !rows->n) {
        printf("%s\n", _("(no sessions yet)"));
        return;
    }
    for (uint32_t i = 0; i < rows->n; i++) {
        const struct proto_msg *s = &rows->p[i];
        printf("%s%s  %s %lld%s", C_BOLD(), str_or(s, PK_DATE, "-"), str_or(s, PK_INSTRUMENT, "?"),
               (long long)proto_int(s, PK_VERSION, 0), C_OFF());
        printf(_("  (session %lld"), (long long)proto_int(s, PK_SESSION, 0));
        if (proto_has(s, PK_DEADLINE))
            printf(_("; next session by %s"), proto_str(s, PK_DEADLINE));
        printf(")\n");
        const struct proto_msgs *sub = proto_has(s, PK_ROWS) ? &s->v[PK_ROWS].m : NULL;
        bool any_item = false, any_action = false;
        for (uint32_t k = 0; sub && k < sub->n; k++) {
            const struct proto_msg *r = &sub->p[k];
            if (proto_has(r, PK_ACTION))
                continue;
            if (!any_item)
                printf("  %-34s %7s %8s\n", _("vermogen"), _("mean"), _("desired"));
            any_item = true;
            char mean[32], desired[16] = "-";
            if (proto_has(r, PK_VALUE))
                snprintf(desired, sizeof(desired), "%lld", (long long)proto_int(r, PK_VALUE, 0));
            struct sbuf b;
            sb_init(&b);
            sb_puts(&b, "  ");
            sb_pad(&b, str_or(r, PK_NAME, "?"), 34);
            sb_printf(&b, " %7s %8s", mean_text(mean, sizeof(mean), r), desired);
            printf("%s\n", b.p);
            sb_free(&b);
        }
        for (uint32_t k = 0; sub && k < sub->n; k++) {
            const struct proto_msg *r = &sub->p[k];
            if (!proto_has(r, PK_ACTION))
                continue;
            if (!any_action)
                printf("  %s\n", _("actions:"));
            any_action = true;
            bool overdue = proto_int(r, PK_OVERDUE, 0) != 0;
            printf("    #%-5lld %-12s %s%s%s", (long long)proto_int(r, PK_ACTION, 0),
                   proto_enum_name(PK_STATUS, proto_int(r, PK_STATUS, 0)), overdue ? C_RED() : "",
                   str_or(r, PK_TEXT, ""), overdue ? C_OFF() : "");
            if (proto_has(r, PK_DEADLINE))
                printf(_(" (by %s%s)"), proto_str(r, PK_DEADLINE), overdue ? "!" : "");
            if (proto_has(r, PK_RATING))
                printf(_(" effect %lld/5"), (long long)proto_int(r, PK_RATING, 0));
            printf("\n");
        }
        if (i + 1 < rows->n)
            printf("\n");
    }
}

static void print_due(void *arg, const struct proto_msg *m)
{
    (void)arg;
    if (lwk_g.json) {
        lwk_print_rows_json(m);
        return;
    }
    const struct proto_msgs *rows = proto_has(m, PK_ROWS) ? &m->v[PK_ROWS].m : NULL;
    if (!rows || !rows->n) {
        printf("%s\n", _("(no team is due)"));
        return;
    }
    printf("%-6s %-11s %-11s %s\n", _("UNIT"), _("DUE"), _("LAST"), _("TEAM"));
    for (uint32_t i = 0; i < rows->n; i++) {
        const struct proto_msg *r = &rows->p[i];
        bool overdue = proto_int(r, PK_OVERDUE, 0) != 0;
        printf("%-6lld %s%-11s%s %-11s %s\n", (long long)proto_int(r, PK_UNIT, 0),
               overdue ? C_RED() : "", str_or(r, PK_DEADLINE, "-"), overdue ? C_OFF() : "",
               str_or(r, PK_DATE, "-"), str_or(r, PK_TEAM, "?"));
    }
}

static int cmd_team(int argc, char **argv)
{
    static const struct option opts[] = {{"unit", required_argument, NULL, 'u'},
                                         {"date", required_argument, NULL, 'd'},
                                         {"org", required_argument, NULL, 'o'},
                                         {NULL, 0, NULL, 0}};
    if (argc < 2 || (strcmp(argv[1], "history") && strcmp(argv[1], "due"))) {
        if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
            lwk_help_topic(stdout, "team");
            return 0;
        }
        return lwk_usage_error("team", "%s", _("usage: lwk team history NAME | lwk team due"));
    }
    bool history = !strcmp(argv[1], "history");
    struct proto_msg m;
    proto_msg_init(&m, history ? PT_TEAM_HISTORY : PT_TEAM_DUE);
    int rc = 0, c;
    int64_t v;
    optind = 0;
    int sub_argc = argc - 1;
    char **sub_argv = argv + 1;
    while ((c = lwk_next_opt(sub_argc, sub_argv, "u:d:o:", opts, "team", &rc)) != -1) {
        if (c == '?')
            return rc;
        if (c == 'u' && history && parse_int(optarg, 1, INT64_MAX / 2, &v))
            proto_set_int(&m, PK_UNIT, v);
        else if (c == 'o' && !history && parse_int(optarg, 1, INT64_MAX / 2, &v))
            proto_set_int(&m, PK_ORG, v);
        else if (c == 'd' && !history && proto_date_ok(optarg, strlen(optarg)))
            proto_set_str(&m, PK_DATE, optarg);
        else
            return lwk_usage_error("team", _("'%s' is not valid here"), optarg);
    }
    char *name = optind < sub_argc ? words_join(sub_argc, sub_argv, optind) : NULL;
    if (history && !name && !proto_has(&m, PK_UNIT))
        return lwk_usage_error("team", "%s", _("usage: lwk team history NAME | --unit ID"));
    if (!history && name) {
        free(name);
        return lwk_usage_error("team", "%s",
                               _("usage: lwk team due [--date YYYY-MM-DD] [--org ID]"));
    }
    if (name && strlen(name) > (size_t)proto_key_max(PK_TEAM)) {
        free(name);
        return lwk_usage_error("team", "%s", _("that team name is too long"));
    }
    if (name)
        proto_set_str(&m, PK_TEAM, name);
    char detail[256];
    rc = cycle_call(&m, history ? print_history : print_due, NULL,
                    history ? "team history" : "team due", false, detail, sizeof(detail));
    free(name);
    return lwk_exit_for(rc);
}

/* ---- lwk admin instrument import / export ---------------------------------- */

/* The whole file, CR LF as LF (lines keep their numbers; the wire takes no CR). */
static char *read_definition(const char *path, size_t *len)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) {
        lwk_errorf(_("cannot read %s: %s"), path, strerror(errno));
        return NULL;
    }
    size_t cap = (size_t)proto_key_max(PK_DEFINITION) + 2, n = 0;
    char *buf = malloc(cap + 1);
    if (buf)
        n = fread(buf, 1, cap, f);
    if (f != stdin)
        fclose(f);
    if (!buf)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++)
        if (!(buf[i] == '\r' && (i + 1 == n || buf[i + 1] == '\n')))
            buf[o++] = buf[i];
    buf[o] = '\0';
    *len = o;
    if (o > (size_t)proto_key_max(PK_DEFINITION)) {
        lwk_errorf(_("%s: longer than lwkd accepts (%lld bytes)"), path,
                   (long long)proto_key_max(PK_DEFINITION));
        free(buf);
        return NULL;
    }
    return buf;
}

struct imported {
    char key[65];
    int64_t version, count;
};

static void import_reply(void *arg, const struct proto_msg *m)
{
    struct imported *im = arg;
    snprintf(im->key, sizeof(im->key), "%s", str_or(m, PK_INSTRUMENT, "?"));
    im->version = proto_int(m, PK_VERSION, 0);
    im->count = proto_int(m, PK_COUNT, 0);
}

struct exported {
    char *text;
    int64_t version;
};

static void export_reply(void *arg, const struct proto_msg *m)
{
    struct exported *ex = arg;
    ex->version = proto_int(m, PK_VERSION, 0);
    const char *t = proto_str(m, PK_DEFINITION);
    ex->text = t ? strdup(t) : NULL;
}

static int cmd_instrument(int argc, char **argv)
{
    static const struct option opts[] = {{"version", required_argument, NULL, 'v'},
                                         {"output", required_argument, NULL, 'o'},
                                         {NULL, 0, NULL, 0}};
    static const char usage[] = "usage: lwk admin instrument import FILE | lwk admin instrument "
                                "export KEY [--version N] [-o FILE]";
    if (argc < 2 || (strcmp(argv[1], "import") && strcmp(argv[1], "export"))) {
        if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
            lwk_help_topic(stdout, "admin");
            return 0;
        }
        return lwk_usage_error("admin", "%s", _(usage));
    }
    bool import = !strcmp(argv[1], "import");
    const char *out = NULL;
    int64_t version = 0;
    int rc = 0, c;
    optind = 0;
    int sub_argc = argc - 1;
    char **sub_argv = argv + 1;
    while ((c = lwk_next_opt(sub_argc, sub_argv, "v:o:", opts, "admin", &rc)) != -1) {
        if (c == '?')
            return rc;
        if (c == 'v' && !import && parse_int(optarg, 1, 999999999, &version))
            continue;
        if (c == 'o' && !import) {
            out = optarg;
            continue;
        }
        return lwk_usage_error("admin", "%s", _(usage));
    }
    if (optind != sub_argc - 1)
        return lwk_usage_error("admin", "%s", _(usage));
    const char *arg = sub_argv[optind];
    char detail[256];
    struct proto_msg m;
    if (import) {
        size_t len;
        char *text = read_definition(arg, &len);
        if (!text)
            return LWK_EXIT_USAGE;
        if (!len) {
            free(text);
            lwk_errorf(_("%s is empty"), arg);
            return LWK_EXIT_USAGE;
        }
        proto_msg_init(&m, PT_INSTRUMENT_IMPORT);
        proto_set_strn(&m, PK_DEFINITION, text, (uint32_t)len);
        struct imported im = {{0}, 0, 0};
        rc = cycle_call(&m, import_reply, &im, "instrument import", true, detail, sizeof(detail));
        free(text);
        if (rc == PROTO_ERR_BAD_DEFINITION) {
            /* "line N: problem" from lwkd: as compilers say it, FILE:N: problem. */
            const char *msg = detail;
            unsigned long line = 0;
            if (!strncmp(detail, "line ", 5)) {
                char *end;
                line = strtoul(detail + 5, &end, 10);
                if (!strncmp(end, ": ", 2))
                    msg = end + 2;
                else
                    line = 0;
            }
            if (line)
                fprintf(stderr, "%s:%lu: %s\n", arg, line, msg);
            else
                fprintf(stderr, "%s: %s\n", arg, msg);
        } else if (rc == 0) {
            if (lwk_g.json)
                printf("{\"instrument\":\"%s\",\"version\":%lld,\"new\":%s}\n", im.key,
                       (long long)im.version, im.count ? "true" : "false");
            else if (im.count)
                printf(_("%s: stored as version %lld.\n"), im.key, (long long)im.version);
            else
                printf(_("%s: unchanged, still version %lld.\n"), im.key, (long long)im.version);
        }
        return lwk_exit_for(rc);
    }
    if (strlen(arg) > (size_t)proto_key_max(PK_INSTRUMENT))
        return lwk_usage_error("admin", _("'%s' is not an instrument key"), arg);
    proto_msg_init(&m, PT_INSTRUMENT_EXPORT);
    proto_set_str(&m, PK_INSTRUMENT, arg);
    if (version)
        proto_set_int(&m, PK_VERSION, version);
    struct exported ex = {NULL, 0};
    rc = cycle_call(&m, export_reply, &ex, "instrument export", false, detail, sizeof(detail));
    if (rc == 0 && ex.text) {
        FILE *f = out ? fopen(out, "w") : stdout;
        if (!f) {
            lwk_errorf(_("cannot write %s: %s"), out, strerror(errno));
            rc = PROTO_ERR_INTERNAL;
        } else {
            fputs(ex.text, f);
            if (f != stdout && fclose(f) != 0) {
                lwk_errorf(_("cannot write %s: %s"), out, strerror(errno));
                rc = PROTO_ERR_INTERNAL;
            }
        }
    }
    free(ex.text);
    return lwk_exit_for(rc);
}

int cycle_main(int argc, char **argv)
{
    if (argc < 1)
        return LWK_EXIT_USAGE;
    if (!strcmp(argv[0], "actions"))
        return cmd_actions(argc, argv);
    if (!strcmp(argv[0], "action"))
        return cmd_action(argc, argv);
    if (!strcmp(argv[0], "team"))
        return cmd_team(argc, argv);
    if (!strcmp(argv[0], "instrument"))
        return cmd_instrument(argc, argv);
    return lwk_usage_error(NULL, _("unknown command '%s'"), argv[0]);
}
