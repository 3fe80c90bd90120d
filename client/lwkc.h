/*
 * lwkc.h: the client side of the lwk protocol, shared by lwk, lwk-kiosk and
 * lwk-bench. Connects (TCP or Unix socket) on a libuv loop, says hello,
 * delivers every decoded message to the caller, and (optionally) reconnects
 * with backoff, resuming with the resume token and the last seen sequence
 * number.
 */
#ifndef LWK_LWKC_H
#define LWK_LWKC_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "proto.h"

#define LWK_DEFAULT_PORT 7411

struct lwkc;

enum lwkc_state {
    LWKC_CONNECTING,
    LWKC_READY,        /* welcome received */
    LWKC_DISCONNECTED, /* lost; reconnecting when enabled */
    LWKC_FAILED,       /* refused or given up; why says so */
};

struct lwkc_opts {
    const char *host;        /* default 127.0.0.1 */
    int port;                /* default LWK_DEFAULT_PORT */
    const char *socket_path; /* Unix socket; wins over host/port when set */
    enum proto_client_kind kind;
    const char *token;
    const char *code;
    const char *name;
    const char *resume;
    int64_t session; /* facilitator: session to open after hello (0: none) */
    bool reconnect;  /* keep trying after a loss (interactive modes, kiosk) */
    int connect_timeout_ms;
};

struct lwkc_handlers {
    void *ctx;
    /* Every message from the server, welcome and snapshot included. */
    void (*on_msg)(void *ctx, struct lwkc *c, const struct proto_msg *m);
    /* State changes; err is a proto error (negative) or 0; why is English. */
    void (*on_state)(void *ctx, struct lwkc *c, enum lwkc_state st, int err, const char *why);
};

struct lwkc *lwkc_new(uv_loop_t *loop, const struct lwkc_opts *opts, struct lwkc_handlers h);
int lwkc_start(struct lwkc *c);
/* Sends a request, giving it the next id (returned, > 0), or a negative error
 * when not connected. */
int64_t lwkc_send(struct lwkc *c, struct proto_msg *req);
/* Closes the connection and frees c once libuv has let go of it. */
void lwkc_free(struct lwkc *c);

enum lwkc_state lwkc_state(const struct lwkc *c);
/* The resume token and participant id from the last welcome. */
const char *lwkc_resume_token(const struct lwkc *c);
int lwkc_pid(const struct lwkc *c);
/* Highest event sequence number seen. */
uint64_t lwkc_last_seq(const struct lwkc *c);
/* Milliseconds since the connection was lost (0 when connected). */
uint64_t lwkc_down_ms(const struct lwkc *c);

/*
 * Connection settings from the environment (LWK_HOST, LWK_PORT, LWK_SOCKET,
 * LWK_TOKEN) and the config file ($XDG_CONFIG_HOME/lwk/config, key = value
 * lines: host, port, socket, token), filling only what opts leaves unset.
 */
void lwkc_opts_from_env(struct lwkc_opts *opts);

#endif
