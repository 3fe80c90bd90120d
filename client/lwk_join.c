/*
 * lwk_join.c: the participant's side of lwk. `lwk join CODE --name NAME`
 * opens the interactive screen (lwk_ui.c); `--once` only joins and prints
 * the resume token as JSON; `lwk as RESUME COMMAND ...` then does one thing
 * as that participant, so a whole session can be run from a script.
 */
#include "lwk_cli.h"
#include "lwk_ui.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static void join_refused(int err, const char *code, const char *name, const char *detail)
{
    if (err == PROTO_ERR_BAD_CREDENTIALS && code)
        lwk_errorf(_("no session with join code %s"), code);
    else if (err == PROTO_ERR_BAD_CREDENTIALS || (err == PROTO_ERR_NOT_FOUND && !code))
        lwk_errorf("%s", _("this resume token is not known (the session ended, or it is "
                           "mistyped)"));
    else if (err == PROTO_ERR_NAME_TAKEN)
        lwk_errorf(_("the name %s is already used in this session: choose another"),
                   name ? name : "");
    else if (err == LWK_ERR_LOST || err == LWK_ERR_TIMEOUT)
        lwk_errorf(_("cannot reach lwkd: %s"), detail && *detail ? detail : lwk_err_text(err));
    else
        lwk_report(NULL, err, detail, NULL);
}

int cmd_join(int argc, char **argv)
{
    static const struct option opts[] = {{"name", required_argument, NULL, 'n'},
                                         {"once", no_argument, NULL, 'o'},
                                         {"resume", required_argument, NULL, 'r'},
                                         {"listen", no_argument, NULL, 'l'},
                                         LWK_COMMON_LONG,
                                         {NULL, 0, NULL, 0}};
    const char *name = NULL, *resume = NULL;
    bool once = false, listen = false;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "n:or:l" LWK_COMMON_SHORT, opts, NULL)) != -1) {
        if (c == 'h') {
            lwk_help_topic(stdout, "join");
            return 0;
        }
        if (c == 'n')
            name = optarg;
        else if (c == 'o')
            once = true;
        else if (c == 'r')
            resume = optarg;
        else if (c == 'l')
            listen = true;
        else {
            int k = lwk_common_opt(c, optarg, "join");
            if (k < 0)
                return LWK_EXIT_USAGE;
            if (k == 0)
                return lwk_usage_error("join", "%s", _("unknown option or missing value"));
        }
    }
    const char *code = optind < argc ? argv[optind] : NULL;
    if (argc - optind > 1)
        return lwk_usage_error("join", _("unexpected argument '%s'"), argv[optind + 1]);
    if (resume && !strcmp(resume, "-"))
        resume = getenv("LWK_RESUME");
    if (!resume && (!code || !name))
        return lwk_usage_error("join", "%s",
                               _("usage: lwk join CODE --name NAME (or lwk join --resume TOKEN)"));
    if (once) {
        int err;
        char detail[256];
        struct rpc *r = rpc_connect(PROTO_KIND_PARTICIPANT, resume ? NULL : code,
                                    resume ? NULL : name, resume, &err, detail, sizeof(detail));
        if (!r) {
            join_refused(err, resume ? NULL : code, name, detail);
            return lwk_exit_for(err);
        }
        const struct session_state *st = rpc_state(r);
        const struct state_participant *p = state_participant(st, rpc_pid(r));
        struct sbuf b;
        sb_init(&b);
        sb_printf(&b, "{\"session\":%lld,\"pid\":%d,\"name\":", (long long)rpc_session(r),
                  rpc_pid(r));
        json_str(&b, p && p->name ? p->name : name);
        sb_puts(&b, ",\"resume\":");
        json_str(&b, resume ? resume : rpc_resume(r));
        sb_puts(&b, "}\n");
        fputs(b.p, stdout);
        sb_free(&b);
        rpc_close(r);
        return 0;
    }
    struct ui_params p = {
        .facilitator = false, .code = code, .name = name, .resume = resume, .listen = listen};
    return ui_run(&p);
}

int cmd_as(int argc, char **argv)
{
    if (lwk_wants_help(argc, argv) || argc < 2) {
        lwk_help_topic(argc < 2 ? stderr : stdout, "as");
        return argc < 2 ? LWK_EXIT_USAGE : 0;
    }
    int rc = lwk_strip_common(&argc, argv);
    if (rc)
        return rc;
    if (argc < 3)
        return lwk_usage_error("as", "%s", _("usage: lwk as RESUME COMMAND [ARGS]"));
    const char *resume = argv[1];
    if (!strcmp(resume, "-"))
        resume = getenv("LWK_RESUME");
    if (!resume || !*resume)
        return lwk_usage_error("as", "%s", _("no resume token (give it, or - with LWK_RESUME)"));
    int err;
    char detail[256];
    struct rpc *r =
        rpc_connect(PROTO_KIND_PARTICIPANT, NULL, NULL, resume, &err, detail, sizeof(detail));
    if (!r) {
        join_refused(err, NULL, NULL, detail);
        return lwk_exit_for(err);
    }
    const struct session_state *st = rpc_state(r);
    int cargc = argc - 2;
    char **cargv = argv + 2;
    if (!strcmp(cargv[0], "show")) {
        struct sbuf b;
        sb_init(&b);
        if (lwk_g.json) {
            view_json(&b, st, false, rpc_pid(r));
            sb_putc(&b, '\n');
        } else {
            lwk_color_init(1);
            view_render(&b, st, false, rpc_pid(r), 100);
        }
        fputs(b.p, stdout);
        sb_free(&b);
        rpc_close(r);
        return 0;
    }
    struct cmd_ctx cx = {.st = st, .facilitator = false, .my_pid = rpc_pid(r), .desired_item = -1};
    struct oreq *q = NULL;
    int k;
    if (!strcmp(cargv[0], "do")) {
        k = cargc > 1 ? cmd_generic(&cx, cargc - 1, cargv + 1, &q) : CMD_ERROR;
        if (cargc <= 1)
            snprintf(cx.err, sizeof(cx.err), "%s",
                     _("usage: lwk as RESUME do REQUEST [key=value ...]"));
    } else {
        k = cmd_participant(&cx, cargc, cargv, &q);
        if (k == CMD_UNKNOWN)
            snprintf(cx.err, sizeof(cx.err), _("unknown command '%s'"), cargv[0]);
    }
    if (k == CMD_WRONG_STEP) {
        lwk_errorf("%s: %s", cargv[0], cx.err);
        rpc_close(r);
        return LWK_EXIT_WRONG_STEP;
    }
    if (k != CMD_REQUEST) {
        rpc_close(r);
        return lwk_usage_error("as", "%s", cx.err);
    }
    err = rpc_call(r, &q->m, lwk_print_reply, NULL, detail, sizeof(detail));
    if (err < 0)
        lwk_report_req(q->label, q->m.type, err, detail, st, false);
    oreq_free(q);
    rpc_close(r);
    return lwk_exit_for(err);
}
