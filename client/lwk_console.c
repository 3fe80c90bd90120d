/*
 * lwk_console.c: `lwk console [SESSION]`, the facilitator's interactive
 * console (the screen and the loop are in lwk_ui.c).
 */
#include "lwk_cli.h"
#include "lwk_ui.h"

#include <getopt.h>
#include <string.h>

int cmd_console(int argc, char **argv)
{
    static const struct option opts[] = {LWK_COMMON_LONG, {NULL, 0, NULL, 0}};
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, LWK_COMMON_SHORT, opts, NULL)) != -1) {
        if (c == 'h') {
            lwk_help_topic(stdout, "console");
            return 0;
        }
        int k = lwk_common_opt(c, optarg, "console");
        if (k < 0)
            return LWK_EXIT_USAGE;
        if (k == 0)
            return lwk_usage_error("console", "%s", _("unknown option or missing value"));
    }
    if (argc - optind > 1)
        return lwk_usage_error("console", "%s", _("usage: lwk console [SESSION]"));
    /* Find (and check) the session first, so a wrong number is one clear line. */
    int rc;
    struct rpc *r = rpc_facilitator_session("console", optind < argc ? argv[optind] : NULL, &rc);
    if (!r)
        return rc;
    struct ui_params p = {.facilitator = true, .session = rpc_session(r)};
    rpc_close(r);
    return ui_run(&p);
}
