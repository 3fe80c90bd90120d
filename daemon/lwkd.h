/*
 * lwkd.h: the daemon's shared context and the connection type that the
 * transport (server.c), the request handlers (dispatch.c) and main.c share.
 */
#ifndef LWK_LWKD_H
#define LWK_LWKD_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "config.h"
#include "engine.h"
#include "frame.h"
#include "proto.h"

struct db;
struct store;

enum conn_state {
    CONN_HANDSHAKE, /* waiting for hello */
    CONN_READY,
    CONN_CLOSING,   /* no more input; closes when its output has drained */
};

struct conn {
    union {
        uv_handle_t handle;
        uv_stream_t stream;
        uv_tcp_t tcp;
        uv_pipe_t pipe;
    } h;
    struct lwkd *d;
    struct conn *prev, *next;         /* all connections */
    struct conn *mprev, *mnext;       /* members of the same session */
    uint64_t id;
    struct proto_framer framer;
    enum conn_state state;
    enum proto_client_kind kind;
    struct session *session;          /* joined session, or NULL */
    int pid;                          /* participant id, or 0 */
    char *facilitator;                /* owned: name of an authenticated facilitator */
    size_t queued_bytes;              /* written to libuv but not yet on the wire */
    size_t snapshot_bytes;            /* of queued_bytes: a snapshot, beyond the limit */
    uint64_t connected_ms, last_rx_ms;
    double tokens;                    /* request rate limit bucket */
    uint64_t tokens_ms;
    int bad_frames;
    uint32_t peer_hash;               /* source address, for join attempt limits */
    bool is_unix;
    /* An observer waiting for the facilitator's consent (still in
     * CONN_HANDSHAKE): the session it asked for, by id because a closed
     * session may be freed meanwhile, its name and its hello's id. */
    int64_t waiting_session;
    char *observer_name; /* owned */
    int64_t hello_id;
    uint64_t waiting_since_ms;
};

struct lwkd_stats {
    uint64_t events, frames_in, frames_out, dropped_slow, rejected;
    /* rates over the last second, sampled by the sweep timer */
    uint64_t events_per_s, writes_per_s, frames_in_per_s;
    uint64_t last_events, last_written, last_frames_in;
};

struct lwkd {
    uv_loop_t *loop;
    struct lwkd_config cfg;
    char *config_path;                /* owned; NULL when none */
    uv_tcp_t tcp;
    uv_pipe_t unix_listener;
    bool tcp_on, unix_on;
    struct conn *conns;
    int nconns;
    int nconns_by_kind[6];
    uint64_t next_conn_id;
    uint64_t started_ms;
    uv_timer_t sweep;
    uv_signal_t sigint, sigterm, sighup;
    struct engine *engine;
    struct db *db;
    struct store *store;
    struct lwkd_stats stats;
    bool draining;
    uv_timer_t drain_timer;
};

/* server.c */
int server_listen(struct lwkd *d);
int server_adopt_fds(struct lwkd *d); /* systemd socket activation */
void server_stop_listening(struct lwkd *d);
void server_close_all(struct lwkd *d, int err, const char *msg);
void server_sweep(struct lwkd *d); /* every second: timeouts */
/* Counts a frame that did not decode; true when the peer should be dropped. */
int conn_bad_frame(struct conn *c);
/* Queues a whole frame; takes its own reference. Cuts a client off when its
 * queue would exceed client_queue_bytes. */
void conn_send_frame(struct conn *c, struct engine_frame *f);
/* The same for a snapshot: one at a time may go beyond client_queue_bytes
 * (a client catching up asks for the whole session). */
void conn_send_snapshot(struct conn *c, struct engine_frame *f);
/* Encodes and queues a message. */
void conn_send_msg(struct conn *c, const struct proto_msg *m);
void conn_send_error(struct conn *c, int64_t id, int code, const char *detail);
/* Sends bye (when err != 0) and closes once the output has drained. */
void conn_close(struct conn *c, int err, const char *why);
/* The ready connection with this id, if it is still there (for answers
 * that arrive later, from the database). */
struct conn *conn_find(struct lwkd *d, uint64_t id);
void conn_join_session(struct conn *c, struct session *s);
void conn_leave_session(struct conn *c);
struct conn *session_members(struct session *s);

/* dispatch.c */
void dispatch_frame(struct conn *c, const uint8_t *body, uint32_t len);
void dispatch_conn_closed(struct conn *c);
void dispatch_engine_event(void *ctx, struct session *s, uint64_t seq, enum proto_type type,
                           struct engine_frame *full, struct engine_frame *pub, int owner_pid);

#endif
