/*
 * lwk.c: the command-line client's entry point: global options, the table
 * of subcommands (git style: lwk COMMAND ...) and the help texts. The
 * commands live in lwk_session.c (admin, facilitator one-shots), lwk_join.c
 * (participants), lwk_console.c and lwk_ui.c (the interactive modes) and
 * lwk_export.c (score sheets). Exit codes: enum lwk_exit in lwk_cli.h.
 */
#include "lwk_cli.h"
#include "report.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary; /* N_() */
};

static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);

static const struct command commands[] = {
    {"status", cmd_status, N_("the daemon's version, uptime, clients and database state")},
    {"admin", cmd_admin, N_("organisations, units, facilitators, instruments (admin token)")},
    {"session", cmd_session, N_("session new --team NAME | session list")},
    {"console", cmd_console, N_("the facilitator's interactive console")},
    {"show", cmd_show, N_("print the current state of a session once")},
    {"do", cmd_do, N_("send any request of the protocol: lwk do SESSION REQUEST key=value ...")},
    {"export", cmd_export, N_("the score sheet: --format md|csv|json|html [-o FILE]")},
    {"join", cmd_join, N_("take part: lwk join CODE --name NAME [--once]")},
    {"as", cmd_as, N_("one participant action: lwk as RESUME score 7 | keyword TEXT | ...")},
    {"actions", cycle_main, N_("the actions of earlier sessions and how they are doing")},
    {"team", cycle_main, N_("a team's sessions over time; the teams due for a session")},
    {"report", report_main,
     N_("the programme office's reports, from PostgreSQL (lwk report --help)")},
    {"help", cmd_help, N_("help on a command: lwk help COMMAND")},
    {"version", cmd_version, N_("print the version")},
    {NULL, NULL, NULL},
};

void lwk_usage(FILE *f)
{
    fprintf(f, "%s\n\n",
            _("usage: lwk [--host HOST] [--port PORT] [--socket PATH] [--token TOKEN] "
              "COMMAND [ARGS]"));
    fprintf(f, "%s\n", _("Commands:"));
    for (const struct command *c = commands; c->name; c++)
        fprintf(f, "  %-10s %s\n", c->name, _(c->summary));
    fprintf(f, "\n%s\n", _("Steering a session (facilitator), one command at a time:"));
    fprintf(f, "  %s\n", "next back reveal rescore order turn kw score theme vote desired");
    fprintf(f, "  %s\n", "action lookahead summary pause resume remove undo end");
    fprintf(f, "  %s\n\n", _("e.g. lwk next -s 3; lwk score Anna 7 -s 3 (see: lwk help steer)"));
    fprintf(f, "%s\n", _("Options for every command: --json, -s/--session N, --timeout SECONDS."));
    fprintf(f, "%s\n",
            _("Connection: flags, then LWK_HOST, LWK_PORT, LWK_SOCKET, LWK_TOKEN, then "
              "$XDG_CONFIG_HOME/lwk/config."));
    fprintf(f, "%s\n", _("More: lwk help COMMAND, lwk help exit-codes, man lwk."));
}

static const char *help_text(const char *topic)
{
    if (!strcmp(topic, "status"))
        return _("usage: lwk status [--json]\n"
                 "Shows the daemon's version, uptime, connected clients, sessions and the\n"
                 "database state. With an admin token also the connections per role.\n"
                 "Exit status 3 when lwkd can not be reached.\n");
    if (!strcmp(topic, "admin"))
        return _("usage: lwk admin org new NAME\n"
                 "       lwk admin org list\n"
                 "       lwk admin unit new --org ID --level location|department|team "
                 "[--parent ID] NAME\n"
                 "       lwk admin unit list [--org ID]\n"
                 "       lwk admin facilitator new NAME [--org ID]\n"
                 "       lwk admin facilitator revoke NAME\n"
                 "       lwk admin instrument list\n"
                 "       lwk admin instrument import FILE\n"
                 "       lwk admin instrument export KEY [--version N] [-o FILE]\n"
                 "Needs the admin token (--token, LWK_TOKEN) and a database: without one\n"
                 "lwkd answers \"database unavailable\" (exit status 7).\n"
                 "facilitator new prints the new token once; keep it safe.\n"
                 "--json prints the answer as JSON.\n");
    if (!strcmp(topic, "session"))
        return _("usage: lwk session new --team NAME [--unit ID] [--instrument KEY]\n"
                 "                        [--min-reveal N] [--auto-reveal] [--json]\n"
                 "       lwk session list [--json]\n"
                 "new opens a session and prints its join code (for the participants) and\n"
                 "kiosk code (for the screen in the team room). --min-reveal: the fewest\n"
                 "scores before a reveal (default 3); --auto-reveal: reveal as soon as\n"
                 "everyone present has scored. Needs a facilitator token.\n");
    if (!strcmp(topic, "console"))
        return _("usage: lwk console [SESSION]\n"
                 "The facilitator's console. The screen always shows the step, the\n"
                 "vermogen, who has joined, who has scored (never the grades before the\n"
                 "reveal), whose turn it is, and the commands of this step. Type help in\n"
                 "the console for the commands; Tab completes commands and names.\n"
                 "SESSION is the session's number or join code; without it: the only\n"
                 "open session of this facilitator.\n"
                 "When the connection drops the console reconnects by itself; what you\n"
                 "type meanwhile is sent after the reconnect.\n"
                 "With stdin not a terminal, the commands are read one per line, each\n"
                 "sent after the previous one was answered (for scripts).\n");
    if (!strcmp(topic, "steer"))
        return _("usage: lwk COMMAND [ARGS] [-s SESSION] [--json]\n"
                 "Every console command also works as a command of its own:\n"
                 "  lwk next | back | reveal | undo | pause | resume | end\n"
                 "  lwk rescore [ITEM]\n"
                 "  lwk order join|random|low|high|manual [NAME ...]\n"
                 "  lwk turn next | turn pass\n"
                 "  lwk kw [--for NAME] TEXT         keywords for the speaker (or NAME)\n"
                 "  lwk score NAME VALUE [--item ITEM]\n"
                 "  lwk theme add TEXT [items=ITEM,...] | theme edit ID TEXT\n"
                 "  lwk theme merge ID INTO | theme delete ID\n"
                 "  lwk vote open N | vote close\n"
                 "  lwk desired ITEM VALUE\n"
                 "  lwk action add TEXT [owner=..] [role=..] [where=..] [deadline=YYYY-MM-DD]\n"
                 "                      [feedback=..] [resources=..] [item=..] [theme=..]\n"
                 "  lwk action edit ID [TEXT] [field=VALUE ...] | action confirm ID\n"
                 "  lwk action remove ID\n"
                 "  lwk lookahead date YYYY-MM-DD | lookahead add TEXT\n"
                 "  lwk summary TEXT\n"
                 "  lwk remove NAME\n"
                 "Between sessions: lwk action update ID --status open|in_progress|done|dropped\n"
                 "  [--note TEXT] (see lwk help actions).\n"
                 "ITEM is a number (1 = the first vermogen) or the start of its name;\n"
                 "NAME the start of a participant's name, or #PID.\n"
                 "The session: -s N (its number or join code), LWK_SESSION, or the only\n"
                 "open one.\n");
    if (!strcmp(topic, "do"))
        return _("usage: lwk do SESSION REQUEST [key=value ...] [--json]\n"
                 "Sends one request of the protocol (proto/PROTOCOL.md) in SESSION and\n"
                 "prints what the answer carries. Values are as on the wire: items count\n"
                 "from 0; for=, pid= and order= also take participant names.\n"
                 "  lwk do 12 reveal\n"
                 "  lwk do 12 score for=Anna item=0 value=7\n"
                 "  lwk do 12 theme.add text='Inwerken' items=0,2\n");
    if (!strcmp(topic, "show"))
        return _("usage: lwk show [SESSION] [--json]\n"
                 "Prints the console's screen once (or the state as JSON).\n");
    if (!strcmp(topic, "export"))
        return _("usage: lwk export [SESSION] [--format md|csv|json|html] [-o FILE]\n"
                 "The score sheet of a session, also while it runs: per vermogen the\n"
                 "grades per participant (as P1, P2 ...), their distribution, mean and\n"
                 "median, the keywords, themes and votes, desired scores, actions,\n"
                 "look ahead, summary, reactions and evaluations. Without --format the\n"
                 "extension of FILE decides (default md). See man lwk for the CSV and\n"
                 "JSON layouts.\n");
    if (!strcmp(topic, "join"))
        return _("usage: lwk join CODE --name NAME [--once | --listen]\n"
                 "       lwk join --resume TOKEN [--listen]\n"
                 "Takes part in a session: the screen asks for what the current step\n"
                 "needs (your grade, your keywords when it is your turn, themes, votes,\n"
                 "desired scores, actions, a reaction and an evaluation) and shows what\n"
                 "the group sees. Commands start with a slash: /help.\n"
                 "--once only joins and prints {\"session\",\"pid\",\"name\",\"resume\"} as\n"
                 "JSON; use the resume token with lwk as, or with --resume to come back.\n"
                 "--listen stays online without reading the keyboard and prints what\n"
                 "happens, until the session ends (for scripts: a participant must be\n"
                 "online to get a turn).\n");
    if (!strcmp(topic, "as"))
        return _("usage: lwk as RESUME COMMAND [ARGS] [--json]\n"
                 "One action as the participant of that resume token (from lwk join\n"
                 "--once; - reads it from LWK_RESUME):\n"
                 "  score [ITEM] VALUE      keyword TEXT      pass\n"
                 "  theme TEXT [items=..]   vote THEME [+|-]  unvote THEME\n"
                 "  desired ITEM VALUE      action TEXT [owner=..] [deadline=..] ...\n"
                 "  reaction TEXT           evaluation 1-5 [TEXT]\n"
                 "  show [--json]           do REQUEST [key=value ...]\n");
    if (!strcmp(topic, "actions"))
        return _(
            "usage: lwk actions [--team NAME | --unit ID] [--status S] [--overdue] [--json]\n"
            "       lwk action update ID --status open|in_progress|done|dropped [--note TEXT]\n"
            "The actions agreed in earlier sessions (from the database): what, who,\n"
            "by when, and how far they are; update records their progress, so the\n"
            "next session can look back at them.\n");
    if (!strcmp(topic, "team"))
        return _("usage: lwk team history NAME | --unit ID [--json]\n"
                 "       lwk team due [--date YYYY-MM-DD] [--org ID] [--json]\n"
                 "history: a team's sessions over time, with the means, desired scores and\n"
                 "actions of each. due: the teams whose next session is due.\n");
    if (!strcmp(topic, "exit-codes"))
        return _("Exit status of lwk:\n"
                 "  0  done\n"
                 "  1  refused by lwkd (for another reason than below)\n"
                 "  2  usage: a wrong command, option or value\n"
                 "  3  lwkd not reachable, the connection was lost, or no answer in time\n"
                 "  4  not found: no such session, participant, theme or action\n"
                 "  5  wrong step: not possible in the current step, or paused, or closed\n"
                 "  6  not allowed: token, join code or resume token not valid, wrong role\n"
                 "  7  try again later: database unavailable, too many requests\n");
    return NULL;
}

bool lwk_help_topic(FILE *f, const char *topic)
{
    if (cmd_is_steer_word(topic))
        topic = "steer";
    const char *t = help_text(topic);
    if (!t)
        return false;
    fputs(t, f);
    return true;
}

static int cmd_help(int argc, char **argv)
{
    if (argc < 2) {
        lwk_usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "report")) {
        char *rargv[] = {"report", "--help", NULL};
        return report_main(2, rargv);
    }
    if (!lwk_help_topic(stdout, argv[1]))
        return lwk_usage_error(NULL, _("no help on '%s'"), argv[1]);
    return 0;
}

static int cmd_version(int argc, char **argv)
{
    printf("lwk %s (protocol %d)\n", LWK_VERSION, PROTO_VERSION);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        LWK_COMMON_LONG, {"version", no_argument, NULL, 'V'}, {NULL, 0, NULL, 0}};
    i18n_init("lwk");
    lwk_g.timeout_ms = 15000;
    int c;
    while ((c = getopt_long(argc, argv, "+V" LWK_COMMON_SHORT, opts, NULL)) != -1) {
        switch (c) {
        case 'V':
            return cmd_version(0, NULL);
        case 'h':
            lwk_usage(stdout);
            return 0;
        default: {
            int k = lwk_common_opt(c, optarg, NULL);
            if (k < 0)
                return LWK_EXIT_USAGE;
            if (k == 0) {
                lwk_usage(stderr);
                return LWK_EXIT_USAGE;
            }
        }
        }
    }
    if (optind >= argc) {
        lwk_usage(stderr);
        return LWK_EXIT_USAGE;
    }
    const char *name = argv[optind];
    for (const struct command *cmd = commands; cmd->name; cmd++)
        if (!strcmp(cmd->name, name))
            return cmd->run(argc - optind, argv + optind);
    if (!strcmp(name, "action") && optind + 1 < argc && !strcmp(argv[optind + 1], "update"))
        return cycle_main(argc - optind, argv + optind);
    if (cmd_is_steer_word(name))
        return cmd_steer(argc - optind, argv + optind);
    return lwk_usage_error(NULL, _("unknown command '%s'"), name);
}
