/*
 * lwk_session.c: the one-shot commands of lwk that admins and facilitators
 * use: status, admin ..., session new/list, do, the steering commands
 * (lwk next, lwk score ...), show and export. Each connects, does one thing,
 * prints the answer (or --json) and exits with a documented status.
 */
#include "lwk_cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


/* ---- status -------------------------------------------------------------- */

static void print_status(void *arg, const struct proto_msg *m)
{
    if (lwk_g.json) {
        struct sbuf b;
        sb_init(&b);
        json_msg(&b, m);
        lwk_print_json(&b);
        sb_free(&b);
        return;
    }
    int64_t up = proto_int(m, PK_UPTIME, 0);
    /* These labels stay English: scripts and tests read them. */
    printf("daemon:    %s\n", proto_str(m, PK_SERVER) ? proto_str(m, PK_SERVER) : "?");
    printf("uptime:    %lldd %02lld:%02lld:%02lld\n", (long long)(up / 86400),
           (long long)(up / 3600 % 24), (long long)(up / 60 % 60), (long long)(up % 60));
    printf("clients:   %lld\n", (long long)proto_int(m, PK_CLIENTS, 0));
    printf("sessions:  %lld\n", (long long)proto_int(m, PK_SESSIONS, 0));
    printf("database:  %s\n", proto_enum_name(PK_DB, proto_int(m, PK_DB, PROTO_DB_NONE)));
    printf("waiting:   %lld events\n", (long long)proto_int(m, PK_WAITING, 0));
    printf("spool:     %lld bytes\n", (long long)proto_int(m, PK_SPOOL, 0));
    printf("oldest:    %lld ms\n", (long long)proto_int(m, PK_LAG, 0));
    if (proto_has(m, PK_ROWS))
        for (uint32_t i = 0; i < m->v[PK_ROWS].m.n; i++) {
            const struct proto_msg *r = &m->v[PK_ROWS].m.p[i];
            if (proto_has(r, PK_NAME))
                printf("%-25s %lld\n", proto_str(r, PK_NAME), (long long)proto_int(r, PK_COUNT, 0));
            else
                printf("conn %-12s %lld\n", proto_enum_name(PK_KIND, proto_int(r, PK_KIND, 0)),
                       (long long)proto_int(r, PK_COUNT, 0));
        }
}

int cmd_status(int argc, char **argv)
{
    int rc = 0, c;
    optind = 0;
    while ((c = lwk_next_opt(argc, argv, "", NULL, "status", &rc)) != -1)
        if (c == '?')
            return rc;
    if (optind < argc)
        return lwk_usage_error("status", "%s", _("status takes no arguments"));
    lwk_apply_env();
    int err;
    char detail[256];
    struct rpc *r = rpc_connect(lwk_g.conn.token ? PROTO_KIND_ADMIN : PROTO_KIND_MONITOR, NULL,
                                NULL, NULL, &err, detail, sizeof(detail));
    if (!r) {
        if (err == LWK_ERR_LOST || err == LWK_ERR_TIMEOUT)
            lwk_errorf(_("cannot reach lwkd: %s"), detail[0] ? detail : lwk_err_text(err));
        else
            lwk_report(NULL, err, detail, NULL);
        return lwk_exit_for(err);
    }
    struct proto_msg m;
    proto_msg_init(&m, PT_STATUS);
    err = rpc_call(r, &m, print_status, NULL, detail, sizeof(detail));
    if (err < 0)
        lwk_report("status", err, detail, NULL);
    rpc_close(r);
    return lwk_exit_for(err);
}

/* ---- admin ---------------------------------------------------------------- */

static void print_rows(void *arg, const struct proto_msg *m)
{
    const char *what = arg;
    const struct proto_msgs *rows = proto_has(m, PK_ROWS) ? &m->v[PK_ROWS].m : NULL;
    uint32_t n = rows ? rows->n : 0;
    if (lwk_g.json) {
        lwk_print_rows_json(m);
        return;
    }
    if (!n) {
        printf("%s\n", _("(none)"));
        return;
    }
    if (!strcmp(what, "org"))
        printf("%-6s %s\n", "ID", _("NAME"));
    else if (!strcmp(what, "unit"))
        printf("%-6s %-6s %-13s %-7s %s\n", "ID", "ORG", _("LEVEL"), _("PARENT"), _("NAME"));
    else if (!strcmp(what, "instrument"))
        printf("%-16s %-6s %s\n", _("KEY"), _("ITEMS"), _("NAME"));
    for (uint32_t i = 0; i < n; i++) {
        const struct proto_msg *r = &rows->p[i];
        if (!strcmp(what, "org")) {
            printf("%-6lld %s\n", (long long)proto_int(r, PK_ORG, 0), proto_str(r, PK_NAME));
        } else if (!strcmp(what, "unit")) {
            char parent[24] = "-";
            if (proto_has(r, PK_PARENT))
                snprintf(parent, sizeof(parent), "%lld", (long long)proto_int(r, PK_PARENT, 0));
            printf("%-6lld %-6lld %-13s %-7s %s\n", (long long)proto_int(r, PK_UNIT, 0),
                   (long long)proto_int(r, PK_ORG, 0),
                   proto_enum_name(PK_LEVEL, proto_int(r, PK_LEVEL, 0)), parent,
                   proto_str(r, PK_NAME));
        } else {
            printf("%-16s %-6lld %s\n", proto_str(r, PK_INSTRUMENT),
                   (long long)proto_int(r, PK_COUNT, 0), proto_str(r, PK_NAME));
        }
    }
}

struct admin_out {
    const char *what, *name;
    int64_t id;
    char token[160];
    int64_t count;
};

static void admin_reply(void *arg, const struct proto_msg *m)
{
    struct admin_out *o = arg;
    if (!strcmp(o->what, "org"))
        o->id = proto_int(m, PK_ORG, 0);
    else if (!strcmp(o->what, "unit"))
        o->id = proto_int(m, PK_UNIT, 0);
    else if (!strcmp(o->what, "facilitator") && proto_has(m, PK_TOKEN))
        snprintf(o->token, sizeof(o->token), "%s", proto_str(m, PK_TOKEN));
    o->count = proto_int(m, PK_COUNT, 0);
}

static int admin_call(struct proto_msg *m, rpc_reply_fn fn, void *arg, const char *what)
{
    lwk_apply_env();
    if (!lwk_g.conn.token) {
        lwk_errorf("%s", _("the admin token is needed: --token, LWK_TOKEN or token = ... in the "
                           "config file"));
        return LWK_EXIT_DENIED;
    }
    int err;
    char detail[256];
    struct rpc *r = rpc_connect(PROTO_KIND_ADMIN, NULL, NULL, NULL, &err, detail, sizeof(detail));
    if (!r) {
        if (err == PROTO_ERR_BAD_CREDENTIALS)
            lwk_errorf("%s", _("the admin token was not accepted"));
        else if (err == LWK_ERR_LOST || err == LWK_ERR_TIMEOUT)
            lwk_errorf(_("cannot reach lwkd: %s"), detail[0] ? detail : lwk_err_text(err));
        else
            lwk_report(NULL, err, detail, NULL);
        return lwk_exit_for(err);
    }
    err = rpc_call(r, m, fn, arg, detail, sizeof(detail));
    rpc_close(r);
    if (err == PROTO_ERR_DB_UNAVAILABLE)
        lwk_errorf("%s: %s", what, _("the database is not available: admin commands need it"));
    else if (err < 0)
        lwk_report(what, err, detail, NULL);
    return lwk_exit_for(err);
}

int cmd_admin(int argc, char **argv)
{
    if (argc < 2)
        return lwk_usage_error("admin", "%s",
                               _("admin needs a subject: org, unit, facilitator or "
                                 "instrument"));
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        lwk_help_topic(stdout, "admin");
        return 0;
    }
    const char *subject = argv[1];
    const char *verb = argc > 2 ? argv[2] : "";
    if (!strcmp(subject, "instrument") && (!strcmp(verb, "import") || !strcmp(verb, "export")))
        return cycle_main(argc - 1, argv + 1);
    static const struct option opts[] = {{"org", required_argument, NULL, 'o'},
                                         {"level", required_argument, NULL, 'l'},
                                         {"parent", required_argument, NULL, 'P'},
                                         {NULL, 0, NULL, 0}};
    int64_t org = 0, parent = 0;
    const char *level = NULL;
    int rc = 0, c;
    optind = 0;
    /* Options come after "admin SUBJECT VERB". */
    int sub_argc = argc - 2 > 0 ? argc - 2 : 1;
    char **sub_argv = argv + (argc > 2 ? 2 : 1);
    while ((c = lwk_next_opt(sub_argc, sub_argv, "o:l:P:", opts, "admin", &rc)) != -1) {
        if (c == '?')
            return rc;
        if (c == 'o' && !parse_int(optarg, 1, INT64_MAX / 2, &org))
            return lwk_usage_error("admin", _("'%s' is not an organisation number"), optarg);
        if (c == 'P' && !parse_int(optarg, 1, INT64_MAX / 2, &parent))
            return lwk_usage_error("admin", _("'%s' is not a unit number"), optarg);
        if (c == 'l')
            level = optarg;
    }
    char *name = optind < sub_argc ? words_join(sub_argc, sub_argv, optind) : NULL;
    struct proto_msg m;
    struct admin_out out = {subject, name, 0, "", 0};
    int ret;
    char what[64];
    snprintf(what, sizeof(what), "admin %s %s", subject, verb);

    if (!strcmp(subject, "org") && !strcmp(verb, "new")) {
        if (!name) {
            free(name);
            return lwk_usage_error("admin", "%s", _("usage: lwk admin org new NAME"));
        }
        proto_msg_init(&m, PT_ORG_NEW);
        proto_set_str(&m, PK_NAME, name);
        if ((ret = admin_call(&m, admin_reply, &out, what)) == 0) {
            if (lwk_g.json) {
                printf("{\"org\":%lld,\"name\":", (long long)out.id);
                struct sbuf b;
                sb_init(&b);
                json_str(&b, name);
                printf("%s}\n", b.p);
                sb_free(&b);
            } else {
                printf(_("Organisation %lld created: %s\n"), (long long)out.id, name);
            }
        }
    } else if (!strcmp(subject, "org") && !strcmp(verb, "list")) {
        proto_msg_init(&m, PT_ORG_LIST);
        ret = name ? lwk_usage_error("admin", "%s", _("usage: lwk admin org list"))
                   : admin_call(&m, print_rows, "org", what);
    } else if (!strcmp(subject, "unit") && !strcmp(verb, "new")) {
        if (!name || !org || !level) {
            free(name);
            return lwk_usage_error("admin", "%s",
                                   _("usage: lwk admin unit new --org ID --level "
                                     "location|department|team [--parent ID] NAME"));
        }
        proto_msg_init(&m, PT_UNIT_NEW);
        if (!strcmp(level, "organisation") || proto_set_enum(&m, PK_LEVEL, level) < 0) {
            free(name);
            return lwk_usage_error("admin", _("'%s' is not a level: location, department or team"),
                                   level);
        }
        proto_set_int(&m, PK_ORG, org);
        proto_set_str(&m, PK_NAME, name);
        if (parent)
            proto_set_int(&m, PK_PARENT, parent);
        if ((ret = admin_call(&m, admin_reply, &out, what)) == 0) {
            if (lwk_g.json)
                printf("{\"unit\":%lld}\n", (long long)out.id);
            else
                printf(_("Unit %lld created: %s (%s in organisation %lld)\n"), (long long)out.id,
                       name, level, (long long)org);
        }
    } else if (!strcmp(subject, "unit") && !strcmp(verb, "list")) {
        proto_msg_init(&m, PT_UNIT_LIST);
        if (org)
            proto_set_int(&m, PK_ORG, org);
        ret = name ? lwk_usage_error("admin", "%s", _("usage: lwk admin unit list [--org ID]"))
                   : admin_call(&m, print_rows, "unit", what);
    } else if (!strcmp(subject, "facilitator") && !strcmp(verb, "new")) {
        if (!name) {
            free(name);
            return lwk_usage_error("admin", "%s",
                                   _("usage: lwk admin facilitator new NAME [--org ID]"));
        }
        proto_msg_init(&m, PT_FACILITATOR_NEW);
        proto_set_str(&m, PK_NAME, name);
        if (org)
            proto_set_int(&m, PK_ORG, org);
        if ((ret = admin_call(&m, admin_reply, &out, what)) == 0) {
            if (lwk_g.json) {
                struct sbuf b;
                sb_init(&b);
                sb_puts(&b, "{\"name\":");
                json_str(&b, name);
                sb_puts(&b, ",\"token\":");
                json_str(&b, out.token);
                sb_puts(&b, "}");
                lwk_print_json(&b);
                sb_free(&b);
            } else {
                printf(_("Facilitator %s created. Their token, shown only this once:\n\n"), name);
                printf("    %s%s%s\n\n", C_BOLD(), out.token, C_OFF());
                printf("%s\n", _("Hand it over in person. The facilitator puts it in "
                                 "~/.config/lwk/config (token = ...) or in LWK_TOKEN. Lost? "
                                 "Revoke it and make a new one."));
            }
        }
    } else if (!strcmp(subject, "facilitator") && !strcmp(verb, "revoke")) {
        if (!name) {
            free(name);
            return lwk_usage_error("admin", "%s", _("usage: lwk admin facilitator revoke NAME"));
        }
        proto_msg_init(&m, PT_FACILITATOR_REVOKE);
        proto_set_str(&m, PK_NAME, name);
        if ((ret = admin_call(&m, admin_reply, &out, what)) == 0) {
            if (lwk_g.json)
                printf("{\"revoked\":%lld}\n", (long long)out.count);
            else
                printf(_("Revoked the tokens of %s (%lld).\n"), name, (long long)out.count);
        }
    } else if (!strcmp(subject, "instrument") && !strcmp(verb, "list")) {
        proto_msg_init(&m, PT_INSTRUMENT_LIST);
        ret = admin_call(&m, print_rows, "instrument", what);
    } else {
        ret = lwk_usage_error("admin", _("unknown admin command '%s %s'"), subject, verb);
    }
    free(name);
    return ret;
}

/* ---- session new / list ---------------------------------------------------- */

static int facilitator_refused(int err, const char *detail)
{
    if (err == PROTO_ERR_BAD_CREDENTIALS)
        lwk_errorf("%s", _("the facilitator token was not accepted (--token, LWK_TOKEN or the "
                           "config file)"));
    else if (err == LWK_ERR_LOST || err == LWK_ERR_TIMEOUT)
        lwk_errorf(_("cannot reach lwkd: %s"), detail[0] ? detail : lwk_err_text(err));
    else
        lwk_report(NULL, err, detail, NULL);
    return lwk_exit_for(err);
}

/* A 5-row block font for join codes, so the room can read them off a screen. */
static const char *glyph(char ch)
{
    static const struct {
        char c;
        const char *rows;
    } g[] = {
        {'0', " ### #  ### # ###  # ### "}, {'1', "  #   ##    #    #   ### "},
        {'2', " ### #   #  ##  #   #####"}, {'3', "####     # ###     ##### "},
        {'4', "#   ##   ######    #    #"}, {'5', "######    ####     ##### "},
        {'6', " ### #    #### #   # ### "}, {'7', "#####    #   #   #    #  "},
        {'8', " ### #   # ### #   # ### "}, {'9', " ### #   # ####    # ### "},
        {'A', " ### #   #######   ##   #"}, {'B', "#### #   ##### #   ##### "},
        {'C', " #####    #    #     ####"}, {'D', "#### #   ##   ##   ##### "},
        {'E', "######    #### #    #####"}, {'F', "######    #### #    #    "},
        {'G', " #####    #  ###   # ####"}, {'H', "#   ##   #######   ##   #"},
        {'I', "#####  #    #    #  #####"}, {'J', "#####    #    ##   # ### "},
        {'K', "#   ##  # ###  #  # #   #"}, {'L', "#    #    #    #    #####"},
        {'M', "#   ### ### # ##   ##   #"}, {'N', "#   ###  ## # ##  ###   #"},
        {'O', " ### #   ##   ##   # ### "}, {'P', "#### #   ##### #    #    "},
        {'Q', " ### #   ## # ##  #  ## #"}, {'R', "#### #   ##### #  # #   #"},
        {'S', " #####     ###     ##### "}, {'T', "#####  #    #    #    #  "},
        {'U', "#   ##   ##   ##   # ### "}, {'V', "#   ##   ##   # # #   #  "},
        {'W', "#   ##   ## # ### ###   #"}, {'X', "#   # # #   #   # # #   #"},
        {'Y', "#   # # #   #    #    #  "}, {'Z', "#####   #   #   #   #####"},
        {'-', "          #####          "},
    };
    for (size_t i = 0; i < sizeof(g) / sizeof(g[0]); i++)
        if (g[i].c == ch)
            return g[i].rows;
    return NULL;
}

static void print_big(const char *code)
{
    for (const char *p = code; *p; p++)
        if (!glyph(*p)) {
            printf("    %s%s%s\n", C_BOLD(), code, C_OFF());
            return;
        }
    for (int row = 0; row < 5; row++) {
        fputs("    ", stdout);
        for (const char *p = code; *p; p++) {
            const char *g = glyph(*p) + row * 5;
            for (int k = 0; k < 5; k++)
                fputs(g[k] == '#' ? "█" : " ", stdout);
            fputs("  ", stdout);
        }
        fputc('\n', stdout);
    }
}

static int session_new(int argc, char **argv)
{
    static const struct option opts[] = {
        {"team", required_argument, NULL, 'm'},       {"unit", required_argument, NULL, 'u'},
        {"instrument", required_argument, NULL, 'i'}, {"min-reveal", required_argument, NULL, 'r'},
        {"auto-reveal", no_argument, NULL, 'a'},      {NULL, 0, NULL, 0}};
    const char *team = NULL, *instrument = NULL;
    int64_t unit = 0, min_reveal = 0;
    bool autorev = false;
    int rc = 0, c;
    optind = 0;
    while ((c = lwk_next_opt(argc, argv, "m:u:i:r:a", opts, "session", &rc)) != -1) {
        switch (c) {
        case '?':
            return rc;
        case 'm':
            team = optarg;
            break;
        case 'i':
            instrument = optarg;
            break;
        case 'a':
            autorev = true;
            break;
        case 'u':
            if (!parse_int(optarg, 1, INT64_MAX / 2, &unit))
                return lwk_usage_error("session", _("'%s' is not a unit number"), optarg);
            break;
        case 'r':
            if (!parse_int(optarg, 1, 50, &min_reveal))
                return lwk_usage_error("session", "%s",
                                       _("--min-reveal takes a number from 1 to 50"));
            break;
        }
    }
    if (!team)
        return lwk_usage_error("session", "%s", _("session new needs --team NAME"));
    if (optind < argc)
        return lwk_usage_error("session", _("unexpected argument '%s'"), argv[optind]);
    lwk_apply_env();
    if (!lwk_g.conn.token) {
        lwk_errorf("%s", _("a facilitator token is needed: --token, LWK_TOKEN or token = ... in "
                           "the config file"));
        return LWK_EXIT_DENIED;
    }
    int err;
    char detail[256];
    struct rpc *r =
        rpc_connect(PROTO_KIND_FACILITATOR, NULL, NULL, NULL, &err, detail, sizeof(detail));
    if (!r)
        return facilitator_refused(err, detail);
    struct proto_msg m;
    proto_msg_init(&m, PT_SESSION_NEW);
    proto_set_str(&m, PK_TEAM, team);
    if (instrument)
        proto_set_str(&m, PK_INSTRUMENT, instrument);
    if (unit)
        proto_set_int(&m, PK_UNIT, unit);
    if (min_reveal)
        proto_set_int(&m, PK_MIN_REVEAL, min_reveal);
    if (autorev)
        proto_set_bool(&m, PK_AUTO, true);
    err = rpc_call(r, &m, NULL, NULL, detail, sizeof(detail));
    if (err < 0) {
        lwk_report("session new", err, detail, NULL);
        rpc_close(r);
        return lwk_exit_for(err);
    }
    int64_t id = rpc_session(r);
    char join[STATE_CODE_MAX + 1], kiosk[STATE_CODE_MAX + 1];
    snprintf(join, sizeof(join), "%s", rpc_join_code(r));
    snprintf(kiosk, sizeof(kiosk), "%s", rpc_kiosk_code(r));
    rpc_settle(r, 50);
    const struct session_state *st = rpc_state(r);
    if (lwk_g.json) {
        struct sbuf b;
        sb_init(&b);
        sb_printf(&b, "{\"session\":%lld,\"team\":", (long long)id);
        json_str(&b, team);
        sb_puts(&b, ",\"join_code\":");
        json_str(&b, join);
        sb_puts(&b, ",\"kiosk_code\":");
        json_str(&b, kiosk);
        sb_puts(&b, ",\"instrument\":");
        json_str(&b, st->instrument);
        sb_printf(&b, ",\"min_reveal\":%d,\"auto_reveal\":%s}", st->min_reveal,
                  st->auto_reveal ? "true" : "false");
        lwk_print_json(&b);
        sb_free(&b);
    } else {
        printf(_("Session %lld is open for team %s.\n\n"), (long long)id, team);
        printf("  %s%s%s\n\n", C_BOLD(), _("Join code for the participants:"), C_OFF());
        if (isatty(1))
            print_big(join);
        else
            printf("    %s\n", join);
        printf("\n  %s%s%s  %s\n\n", C_BOLD(), _("Kiosk code (team-room screen):"), C_OFF(), kiosk);
        printf(_("  Participants:  lwk join %s --name NAME\n"), join);
        printf(_("  Kiosk:         lwk-kiosk %s\n"), kiosk);
        printf(_("  Console:       lwk console %lld\n"), (long long)id);
    }
    rpc_close(r);
    return 0;
}

static void list_sessions(void *arg, const struct proto_msg *m)
{
    const struct proto_msgs *rows = proto_has(m, PK_ROWS) ? &m->v[PK_ROWS].m : NULL;
    uint32_t n = rows ? rows->n : 0;
    if (lwk_g.json) {
        lwk_print_rows_json(m);
        return;
    }
    if (!n) {
        printf("%s\n", _("No sessions. Start one with: lwk session new --team NAME"));
        return;
    }
    /* Column widths from the content: session numbers are long. */
    int w_id = utf8_width(_("SESSION")), w_team = utf8_width(_("TEAM"));
    for (uint32_t i = 0; i < n; i++) {
        char id[24];
        int l = snprintf(id, sizeof(id), "%lld", (long long)proto_int(&rows->p[i], PK_SESSION, 0));
        if (l > w_id)
            w_id = l;
        const char *team = proto_str(&rows->p[i], PK_TEAM);
        if (team && utf8_width(team) > w_team)
            w_team = utf8_width(team);
    }
    struct sbuf b;
    sb_init(&b);
    sb_pad(&b, _("SESSION"), w_id + 2);
    sb_pad(&b, _("TEAM"), w_team + 2);
    sb_pad(&b, _("STEP"), 12);
    sb_pad(&b, _("PEOPLE"), 8);
    sb_pad(&b, _("JOIN"), 12);
    sb_puts(&b, _("KIOSK"));
    printf("%s\n", b.p);
    for (uint32_t i = 0; i < n; i++) {
        const struct proto_msg *r = &rows->p[i];
        char id[24], cnt[24];
        snprintf(id, sizeof(id), "%lld", (long long)proto_int(r, PK_SESSION, 0));
        snprintf(cnt, sizeof(cnt), "%lld", (long long)proto_int(r, PK_COUNT, 0));
        b.len = 0;
        b.p[0] = '\0';
        sb_pad(&b, id, w_id + 2);
        sb_pad(&b, proto_str(r, PK_TEAM) ? proto_str(r, PK_TEAM) : "", w_team + 2);
        sb_pad(&b, phase_name((int)proto_int(r, PK_PHASE, 0)), 12);
        sb_pad(&b, cnt, 8);
        sb_pad(&b, proto_str(r, PK_JOIN_CODE) ? proto_str(r, PK_JOIN_CODE) : "", 12);
        sb_puts(&b, proto_str(r, PK_KIOSK_CODE) ? proto_str(r, PK_KIOSK_CODE) : "");
        printf("%s\n", b.p);
    }
    sb_free(&b);
}

static int session_list(int argc, char **argv)
{
    int rc = 0, c;
    optind = 0;
    while ((c = lwk_next_opt(argc, argv, "", NULL, "session", &rc)) != -1)
        if (c == '?')
            return rc;
    lwk_apply_env();
    if (!lwk_g.conn.token) {
        lwk_errorf("%s", _("a facilitator token is needed: --token, LWK_TOKEN or token = ... in "
                           "the config file"));
        return LWK_EXIT_DENIED;
    }
    int err;
    char detail[256];
    struct rpc *r =
        rpc_connect(PROTO_KIND_FACILITATOR, NULL, NULL, NULL, &err, detail, sizeof(detail));
    if (!r)
        return facilitator_refused(err, detail);
    struct proto_msg m;
    proto_msg_init(&m, PT_SESSION_LIST);
    err = rpc_call(r, &m, list_sessions, NULL, detail, sizeof(detail));
    if (err < 0)
        lwk_report("session list", err, detail, NULL);
    rpc_close(r);
    return lwk_exit_for(err);
}

int cmd_session(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
        !strcmp(argv[1], "help")) {
        lwk_help_topic(argc < 2 ? stderr : stdout, "session");
        return argc < 2 ? LWK_EXIT_USAGE : 0;
    }
    if (!strcmp(argv[1], "new"))
        return session_new(argc - 1, argv + 1);
    if (!strcmp(argv[1], "list"))
        return session_list(argc - 1, argv + 1);
    return lwk_usage_error("session", _("unknown command 'session %s'"), argv[1]);
}

/* ---- do, steering, show, export -------------------------------------------- */

/* Prints what an ok reply carries (a new theme's id ...), or all of it as JSON. */
void lwk_print_reply(void *arg, const struct proto_msg *m)
{
    struct sbuf b;
    sb_init(&b);
    if (lwk_g.json) {
        json_msg(&b, m);
        lwk_print_json(&b);
    } else {
        for (int k = 0; k < PK__COUNT; k++) {
            if (k == PK_ID || !proto_has(m, (enum proto_key)k))
                continue;
            enum proto_kind kind = proto_key_kind((enum proto_key)k);
            if (k == PK_SEQ)
                continue; /* every change has one: noise on a terminal */
            if (kind == PF_INT || kind == PF_BOOL)
                printf("%s=%lld\n", proto_key_name((enum proto_key)k), (long long)m->v[k].i);
            else if (kind == PF_STR)
                printf("%s=%s\n", proto_key_name((enum proto_key)k), m->v[k].s.p);
            else if (kind == PF_ENUM)
                printf("%s=%s\n", proto_key_name((enum proto_key)k),
                       proto_enum_name((enum proto_key)k, m->v[k].i));
        }
    }
    sb_free(&b);
}

/* Sends one parsed request in an open session and reports the outcome. */
static int send_one(struct rpc *r, struct oreq *q)
{
    char detail[256];
    int err = rpc_call(r, &q->m, lwk_print_reply, NULL, detail, sizeof(detail));
    if (err < 0)
        lwk_report_req(q->label, q->m.type, err, detail, rpc_state(r), true);
    return lwk_exit_for(err);
}

int cmd_do(int argc, char **argv)
{
    /* lwk do SESSION REQUEST [key=value ...]: values may start with "-", so
     * only the known options are taken out. */
    if (lwk_wants_help(argc, argv)) {
        lwk_help_topic(stdout, "do");
        return 0;
    }
    int rc = lwk_strip_common(&argc, argv);
    if (rc)
        return rc;
    if (argc < 3)
        return lwk_usage_error("do", "%s", _("usage: lwk do SESSION REQUEST [key=value ...]"));
    struct rpc *r = rpc_facilitator_session("do", argv[1], &rc);
    if (!r)
        return rc;
    struct cmd_ctx cx = {.st = rpc_state(r), .facilitator = true, .desired_item = -1};
    struct oreq *q;
    if (cmd_generic(&cx, argc - 2, argv + 2, &q) != CMD_REQUEST) {
        rpc_close(r);
        return lwk_usage_error("do", "%s", cx.err);
    }
    rc = send_one(r, q);
    oreq_free(q);
    rpc_close(r);
    return rc;
}

/* Pulls -s/--session, --json and the connection flags out of argv, leaving the
 * command's own words (which may themselves start with "--", like kw --for). */
int lwk_strip_common(int *argc, char **argv)
{
    int out = 0;
    bool words_only = false;
    for (int i = 0; i < *argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        int c = 0;
        if (words_only) {
            argv[out++] = argv[i];
            continue;
        }
        if (!strcmp(a, "--")) {
            words_only = true;
            continue;
        }
        static const struct {
            const char *lng;
            const char *shrt;
            int c;
            bool arg;
        } o[] = {{"--session", "-s", 's', true}, {"--json", NULL, 'j', false},
                 {"--host", "-H", 'H', true},    {"--port", "-p", 'p', true},
                 {"--socket", "-S", 'S', true},  {"--token", "-t", 't', true},
                 {"--timeout", "-T", 'T', true}};
        for (size_t k = 0; k < sizeof(o) / sizeof(o[0]) && !c; k++) {
            size_t ll = strlen(o[k].lng);
            if (!strcmp(a, o[k].lng) || (o[k].shrt && !strcmp(a, o[k].shrt))) {
                c = o[k].c;
                if (o[k].arg) {
                    if (i + 1 >= *argc)
                        return lwk_usage_error(argv[0], _("%s needs a value"), a);
                    val = argv[++i];
                }
            } else if (o[k].arg && !strncmp(a, o[k].lng, ll) && a[ll] == '=') {
                c = o[k].c;
                val = a + ll + 1;
            }
        }
        if (!c) {
            argv[out++] = argv[i];
            continue;
        }
        if (lwk_common_opt(c, val, argv[0]) < 0)
            return LWK_EXIT_USAGE;
    }
    *argc = out;
    argv[out] = NULL;
    return 0;
}

int cmd_steer(int argc, char **argv)
{
    if (lwk_wants_help(argc, argv)) {
        lwk_help_topic(stdout, "steer");
        return 0;
    }
    int rc = lwk_strip_common(&argc, argv);
    if (rc)
        return rc;
    struct rpc *r = rpc_facilitator_session(argv[0], NULL, &rc);
    if (!r)
        return rc;
    struct cmd_ctx cx = {.st = rpc_state(r), .facilitator = true, .desired_item = -1};
    struct oreq *q;
    int k = cmd_facilitator(&cx, argc, argv, &q);
    if (k == CMD_WRONG_STEP) {
        lwk_errorf("%s: %s", argv[0], cx.err);
        rpc_close(r);
        return LWK_EXIT_WRONG_STEP;
    }
    if (k != CMD_REQUEST) {
        rpc_close(r);
        return lwk_usage_error(argv[0], "%s", cx.err[0] ? cx.err : _("unknown command"));
    }
    rc = send_one(r, q);
    oreq_free(q);
    rpc_close(r);
    return rc;
}

int cmd_show(int argc, char **argv)
{
    int rc = 0, c;
    optind = 0;
    while ((c = lwk_next_opt(argc, argv, "", NULL, "show", &rc)) != -1)
        if (c == '?')
            return rc;
    if (argc - optind > 1)
        return lwk_usage_error("show", "%s", _("usage: lwk show [SESSION] [--json]"));
    struct rpc *r = rpc_facilitator_session("show", optind < argc ? argv[optind] : NULL, &rc);
    if (!r)
        return rc;
    struct sbuf b;
    sb_init(&b);
    if (lwk_g.json) {
        view_json(&b, rpc_state(r), true, 0);
        lwk_print_json(&b);
    } else {
        lwk_color_init(1);
        view_render(&b, rpc_state(r), true, 0, 100);
        fputs(b.p, stdout);
        b.len = 0;
        cmd_available(&b, rpc_state(r), true);
        printf("%s %s\n", _("Commands:"), b.p);
    }
    sb_free(&b);
    rpc_close(r);
    return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

int cmd_export(int argc, char **argv)
{
    static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
                                         {"output", required_argument, NULL, 'o'},
                                         {NULL, 0, NULL, 0}};
    const char *format = NULL, *output = NULL;
    int rc = 0, c;
    optind = 0;
    while ((c = lwk_next_opt(argc, argv, "f:o:", opts, "export", &rc)) != -1) {
        if (c == '?')
            return rc;
        if (c == 'f')
            format = optarg;
        if (c == 'o')
            output = optarg;
    }
    if (argc - optind > 1)
        return lwk_usage_error(
            "export", "%s", _("usage: lwk export [SESSION] --format md|csv|json|html [-o FILE]"));
    if (!format && output) {
        format = ends_with(output, ".csv")                                 ? "csv"
                 : ends_with(output, ".json")                              ? "json"
                 : ends_with(output, ".html") || ends_with(output, ".htm") ? "html"
                                                                           : "md";
    }
    if (!format)
        format = lwk_g.json ? "json" : "md";
    enum export_format f;
    if (!strcmp(format, "md") || !strcmp(format, "markdown"))
        f = EXPORT_MD;
    else if (!strcmp(format, "csv"))
        f = EXPORT_CSV;
    else if (!strcmp(format, "json"))
        f = EXPORT_JSON;
    else if (!strcmp(format, "html"))
        f = EXPORT_HTML;
    else
        return lwk_usage_error("export", _("'%s' is not a format: md, csv, json or html"), format);
    struct rpc *r = rpc_facilitator_session("export", optind < argc ? argv[optind] : NULL, &rc);
    if (!r)
        return rc;
    bool save = lwk_color;
    lwk_color = false;
    struct sbuf b;
    sb_init(&b);
    export_render(&b, rpc_state(r), f, rpc_join_code(r));
    lwk_color = save;
    rpc_close(r);
    if (output && strcmp(output, "-")) {
        FILE *fp = fopen(output, "w");
        bool ok = fp && fwrite(b.p, 1, b.len, fp) == b.len;
        if (fp && fclose(fp) != 0)
            ok = false;
        if (!ok) {
            lwk_errorf(_("cannot write %s"), output);
            sb_free(&b);
            return LWK_EXIT_REFUSED;
        }
    } else {
        fwrite(b.p, 1, b.len, stdout);
    }
    sb_free(&b);
    return 0;
}
