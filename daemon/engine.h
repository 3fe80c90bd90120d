/*
 * engine.h: the live session engine. The rules of the LWK method (steps,
 * roles, blind scoring, turns, themes, votes, actions ...) as plain C: no
 * sockets, no database, no libuv. The transport feeds it requests and fans
 * its events out; the store persists the same events.
 *
 * Every accepted change is exactly one event with the session's next
 * sequence number. An event exists in two encodings: the full one (stored,
 * and sent to the participant it belongs to) and the public one (what every
 * other member sees: no score or vote value before the reveal). When both are
 * the same, pub == full.
 */
#ifndef LWK_ENGINE_H
#define LWK_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"
#include "state.h"

struct engine;
struct session;

struct engine_limits {
    int max_sessions;
    int max_participants; /* per session */
    int max_text_bytes;
    int max_themes;
    int max_actions;
    int max_keywords;
    int min_reveal; /* default for new sessions */
    int session_idle_close_min;
};

/* A refcounted encoded event: a whole wire frame (4-byte length + map). */
struct engine_frame {
    uint32_t refs;
    uint32_t len;
    uint8_t data[];
};

struct engine_frame *engine_frame_new(const uint8_t *data, size_t len);
void engine_frame_ref(struct engine_frame *f);
void engine_frame_unref(struct engine_frame *f);

struct engine_sink {
    void *ctx;
    /*
     * A new event of session s. full is stored; pub goes to every member
     * except participant owner_pid (> 0), who gets full. The callee takes
     * its own references.
     */
    void (*event)(void *ctx, struct session *s, uint64_t seq, enum proto_type type,
                  struct engine_frame *full, struct engine_frame *pub, int owner_pid);
};

struct engine_actor {
    enum proto_client_kind kind;
    int pid;                 /* participant id, or 0 */
    const char *facilitator; /* facilitator name for facilitators, else NULL */
};

struct engine *engine_new(const struct engine_limits *limits, struct engine_sink sink);
void engine_free(struct engine *e);
/* Limits can change at run time (SIGHUP); existing sessions keep theirs where noted. */
void engine_set_limits(struct engine *e, const struct engine_limits *limits);

/* ---- sessions ---------------------------------------------------------- */

/*
 * Opens a session from a session.new request. Emits session.created (seq 1).
 * On success *out is the session; its codes are readable with the accessors.
 */
int engine_session_new(struct engine *e, const struct proto_msg *req, const char *facilitator,
                       uint64_t now_ms, struct session **out);

/*
 * What a session is made of besides its session.new request (docs/cycle.md).
 * All borrowed for the call: the session keeps what its events say, so a
 * later version of the instrument never changes it.
 */
struct instrument;

/* An action of an earlier session of the team, to review in this one. */
struct engine_review_action {
    int64_t action;                      /* its number in lwk.actions */
    int64_t session;                     /* the session that agreed it */
    const char *text, *owner, *feedback; /* NULL: not set */
    const char *deadline, *date;         /* YYYY-MM-DD (date: of that session), or NULL */
    const char *item_key;                /* the item it serves, or NULL */
    int status;                          /* index into PROTO_STATUSES */
    bool overdue;
};

/* One item's results in the team's last session of the same instrument. */
struct engine_review_item {
    const char *item_key;
    int mean;    /* hundredths of a grade; -1: none */
    int desired; /* 0: none */
};

struct engine_review {
    const struct engine_review_action *actions;
    int n_actions;
    int64_t previous; /* the team's last session of this instrument; 0: none */
    const char *previous_date;
    const struct engine_review_item *items;
    int n_items;
};

struct engine_setup {
    const struct instrument *instrument; /* NULL: the built-in LWK-meting */
    const struct engine_review *review;  /* NULL: nothing to review */
    int minute_s;                        /* seconds in an agenda minute; 0: 60 */
};

/*
 * engine_session_new with an instrument version and the team's review. The
 * session takes the instrument's items, steps, selection rule and agenda
 * into session.created; with actions to review (and a review step) it
 * starts in the review step. Without an instrument the request's key must
 * name the built-in one.
 */
int engine_session_start(struct engine *e, const struct proto_msg *req, const char *facilitator,
                         const struct engine_setup *setup, uint64_t now_ms, struct session **out);
struct session *engine_find(struct engine *e, int64_t session_id);
struct session *engine_find_by_join_code(struct engine *e, const char *code);
struct session *engine_find_by_kiosk_code(struct engine *e, const char *code);
int engine_session_count(const struct engine *e);
/* Calls fn for every live session (for session.list and status). */
void engine_foreach(struct engine *e, void (*fn)(void *ctx, struct session *s), void *ctx);

int64_t session_id(const struct session *s);
const char *session_join_code(const struct session *s);
const char *session_kiosk_code(const struct session *s);
const char *session_team(const struct session *s);
const char *session_facilitator(const struct session *s);
uint64_t session_seq(const struct session *s);
enum proto_phase session_phase(const struct session *s);
bool session_closed(const struct session *s);
int session_participant_count(const struct session *s);
/* The session's state as its events describe it (read-only). */
const struct session_state *session_get_state(const struct session *s);
/* Opaque pointer the transport hangs its member list on. */
void *session_userdata(const struct session *s);
void session_set_userdata(struct session *s, void *p);

/* ---- members ----------------------------------------------------------- */

/*
 * A participant joins with a display name (unique in the session). Emits
 * joined. *pid and *resume (a secret token, valid while the session lives)
 * identify them later.
 */
int engine_join(struct engine *e, struct session *s, const char *name, int *pid,
                const char **resume);
/* A participant comes back with its resume token. */
int engine_rejoin(struct engine *e, const char *resume, struct session **s, int *pid);
/* Connection state of a participant; emits presence when it changes. */
void engine_presence(struct engine *e, struct session *s, int pid, bool online);

/* ---- requests ---------------------------------------------------------- */

/*
 * Applies one request of actor who in session s. On success returns 0, may
 * fill fields of reply (type PT_OK, preset by the caller; borrowed strings
 * stay valid until the next engine call) and emits zero or more events. On
 * refusal returns a negative proto error and changes nothing.
 */
int engine_request(struct engine *e, struct session *s, const struct engine_actor *who,
                   const struct proto_msg *req, uint64_t now_ms, struct proto_msg *reply);

/*
 * A snapshot frame for member who: the session's events after since (0: all),
 * each in the encoding that member may see. The caller frees *frame.
 */
int engine_snapshot(struct engine *e, struct session *s, const struct engine_actor *who,
                    uint64_t since, uint8_t **frame, size_t *len);
/* The same, as the reply to a request with this id (id < 0: none). */
int engine_snapshot_reply(struct engine *e, struct session *s, const struct engine_actor *who,
                          uint64_t since, int64_t id, uint8_t **frame, size_t *len);

/*
 * Periodic work: emits timer.overrun for countdowns whose planned time has
 * passed, and closes sessions idle longer than the limit (emits closed).
 */
void engine_tick(struct engine *e, uint64_t now_ms);

/* ---- recovery ---------------------------------------------------------- */

/*
 * Re-applies a stored event (a full event frame body, as the sink got it) to
 * rebuild a session after a restart; creates the session on session.created.
 * Emits nothing. Events with a seq not exactly one past the session's are
 * ignored (idempotent replay).
 */
int engine_restore_event(struct engine *e, int64_t session_id, const uint8_t *body, size_t len);

#endif
