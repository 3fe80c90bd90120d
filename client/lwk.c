/*
 * lwk.c: the command-line client. `lwk status` for now; the facilitator,
 * participant and admin commands build on the same lwkc connection.
 */
#include "lwkc.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { EXIT_USAGE = 2, EXIT_UNREACHABLE = 3, EXIT_REFUSED = 4 };

struct status_run {
    int exit_code;
    int64_t id;
    bool done;
};

static void print_status(const struct proto_msg *m)
{
    int64_t up = proto_int(m, PK_UPTIME, 0);
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
            printf("conn %-12s %lld\n", proto_enum_name(PK_KIND, proto_int(r, PK_KIND, 0)),
                   (long long)proto_int(r, PK_COUNT, 0));
        }
}

static void status_msg(void *ctx, struct lwkc *c, const struct proto_msg *m)
{
    struct status_run *run = ctx;
    if (m->type == PT_WELCOME) {
        struct proto_msg s;
        proto_msg_init(&s, PT_STATUS);
        run->id = lwkc_send(c, &s);
        return;
    }
    if (m->type == PT_OK && proto_int(m, PK_ID, -1) == run->id) {
        print_status(m);
        run->exit_code = 0;
    } else if (m->type == PT_ERROR || m->type == PT_BYE) {
        fprintf(stderr, "lwk: refused: %s\n", proto_str(m, PK_MSG) ? proto_str(m, PK_MSG) : "");
        run->exit_code = EXIT_REFUSED;
    } else {
        return;
    }
    run->done = true;
    lwkc_free(c);
}

static void status_state(void *ctx, struct lwkc *c, enum lwkc_state st, int err, const char *why)
{
    struct status_run *run = ctx;
    if (st == LWKC_FAILED && !run->done) {
        fprintf(stderr, "lwk: cannot reach lwkd: %s\n", why ? why : "connection failed");
        run->exit_code = EXIT_UNREACHABLE;
        run->done = true;
        lwkc_free(c);
    }
}

static int cmd_status(struct lwkc_opts *o)
{
    struct status_run run = {EXIT_UNREACHABLE, 0, false};
    o->kind = o->token ? PROTO_KIND_ADMIN : PROTO_KIND_MONITOR;
    struct lwkc_handlers h = {&run, status_msg, status_state};
    uv_loop_t *loop = uv_default_loop();
    struct lwkc *c = lwkc_new(loop, o, h);
    lwkc_start(c);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
    return run.exit_code;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: lwk [-H host] [-p port] [-S socket] [-t token] COMMAND\n"
               "commands:\n"
               "  status     show the daemon's version, uptime, clients and database state\n"
               "environment: LWK_HOST, LWK_PORT, LWK_SOCKET, LWK_TOKEN\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"host", required_argument, NULL, 'H'},  {"port", required_argument, NULL, 'p'},
        {"socket", required_argument, NULL, 'S'}, {"token", required_argument, NULL, 't'},
        {"version", no_argument, NULL, 'V'},     {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct lwkc_opts o = {0};
    int c;
    while ((c = getopt_long(argc, argv, "+H:p:S:t:Vh", opts, NULL)) != -1) {
        switch (c) {
        case 'H': o.host = optarg; break;
        case 'p': o.port = atoi(optarg); break;
        case 'S': o.socket_path = optarg; break;
        case 't': o.token = optarg; break;
        case 'V': printf("lwk %s (protocol %d)\n", LWK_VERSION, PROTO_VERSION); return 0;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    lwkc_opts_from_env(&o);
    if (optind >= argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (!strcmp(argv[optind], "status"))
        return cmd_status(&o);
    fprintf(stderr, "lwk: unknown command '%s' (see lwk --help)\n", argv[optind]);
    return EXIT_USAGE;
}
