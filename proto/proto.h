/*
 * proto.h: the lwk wire protocol, the one definition shared by lwkd, lwk,
 * lwk-kiosk and lwk-bench. PROTOCOL.md is its prose; a test keeps them equal.
 *
 * Every message is a MessagePack map with a string "t" naming its type. The
 * catalogue below lists every type, its direction and its fields; one
 * table-driven codec decodes (strictly) and encodes all of them into the
 * flat struct proto_msg.
 *
 * Bump PROTO_VERSION whenever an older peer would refuse or misread a
 * message: a type or field changes meaning, a required field, a new event or
 * reply type, a new enum value, a changed range. New optional fields, new
 * request types and new error codes do not need a bump (PROTOCOL.md
 * "Compatibility").
 */
#ifndef LWK_PROTO_H
#define LWK_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROTO_VERSION 1
#define PROTO_DEFAULT_MAX_FRAME 65536u
/* Largest frame a client accepts from the server (snapshots are long). */
#define PROTO_CLIENT_MAX_FRAME (16u * 1024 * 1024)
#define PROTO_MAX_DEPTH 6      /* nesting of maps/arrays in one message (the top map is 1) */
#define PROTO_MAX_DEPTH_REQUEST 3 /* the same, in what a client sends (no nested messages) */
#define PROTO_MAX_TEXT 4096    /* protocol ceiling; lwkd's limit may be lower */
#define PROTO_MAX_ARRAY 4096   /* int arrays */
#define PROTO_MAX_MSGS 100000  /* events or rows in one message */

/* Stable error codes (PROTOCOL.md "Errors"). Negative in C return values. */
#define PROTO_ERRORS(X)                                                                            \
    X(MALFORMED, 100, "frame or MessagePack is not well-formed")                                   \
    X(TOO_LARGE, 101, "frame larger than the maximum")                                             \
    X(UNKNOWN_TYPE, 102, "unknown message type")                                                   \
    X(BAD_TYPE, 103, "a field has the wrong MessagePack type")                                     \
    X(MISSING_FIELD, 104, "a required field is missing")                                           \
    X(OUT_OF_RANGE, 105, "a value or length is out of range")                                      \
    X(BAD_UTF8, 106, "a string is not valid UTF-8 or holds control characters")                    \
    X(VERSION, 107, "protocol version not supported")                                              \
    X(HANDSHAKE, 108, "hello expected first (or sent twice)")                                      \
    X(BAD_CREDENTIALS, 200, "token or code not valid")                                             \
    X(WRONG_ROLE, 201, "not allowed for this role")                                                \
    X(NAME_TAKEN, 202, "display name already used in this session")                                \
    X(WRONG_PHASE, 300, "not possible in the current step")                                        \
    X(NOT_FOUND, 301, "no such session, participant, theme or action")                             \
    X(CONFLICT, 302, "conflicts with the current state")                                           \
    X(TOO_FEW, 303, "too few scores to reveal")                                                    \
    X(CLOSED, 304, "the session is closed")                                                        \
    X(PAUSED, 305, "the session is paused")                                                        \
    X(NOTHING_TO_UNDO, 306, "nothing to undo")                                                     \
    X(BAD_DEFINITION, 307, "the instrument definition is not valid")                               \
    X(LIMIT, 400, "a configured limit was reached")                                                \
    X(RATE_LIMITED, 401, "too many requests")                                                      \
    X(QUEUE_OVERFLOW, 402, "client did not read its messages in time")                             \
    X(TIMEOUT, 403, "no activity within the time limit")                                           \
    X(INTERNAL, 500, "internal error")                                                             \
    X(DB_UNAVAILABLE, 501, "database unavailable")                                                 \
    X(SPOOL_FULL, 502, "local spool is full: changes can not be stored")                           \
    X(SHUTTING_DOWN, 503, "the daemon is shutting down")

enum proto_err {
    PROTO_OK = 0,
#define X(name, code, text) PROTO_ERR_##name = -(code),
    PROTO_ERRORS(X)
#undef X
};

/* Error code (positive, as on the wire) to its name ("WRONG_PHASE"). */
const char *proto_err_name(int code);
/* English one-line meaning of an error code; clients translate it. */
const char *proto_err_text(int code);

enum proto_kind {
    PF_INT,  /* integer within [min,max] */
    PF_BOOL,
    PF_STR,  /* UTF-8, byte length within [min,max], no control characters but \t \n */
    PF_ENUM, /* string from a fixed list */
    PF_INTS, /* array of integers, count <= max, each within the key's element range */
    PF_MSGS, /* array of maps, each a message (events) or a row */
};

/*
 * Every key that may appear in a message: name, kind, range.
 * For PF_INTS, [min,max] is the element range and the count limit is
 * PROTO_MAX_ARRAY; for PF_STR it is the byte length.
 */
#define PROTO_KEYS(X)                                                                              \
    X(ID, "id", PF_INT, 0, 4294967295LL)                                                           \
    X(SEQ, "seq", PF_INT, 0, 9007199254740991LL)                                                   \
    X(TS, "ts", PF_INT, 0, 9007199254740991LL)                                                     \
    X(PROTO, "proto", PF_INT, 1, 65535)                                                            \
    X(KIND, "kind", PF_ENUM, 0, 0)                                                                 \
    X(TOKEN, "token", PF_STR, 1, 128)                                                              \
    X(CODE, "code", PF_STR, 1, 32)                                                                 \
    X(NAME, "name", PF_STR, 1, 200)                                                                \
    X(RESUME, "resume", PF_STR, 1, 64)                                                             \
    X(SINCE, "since", PF_INT, 0, 9007199254740991LL)                                               \
    X(SESSION, "session", PF_INT, 1, 4611686018427387903LL)                                        \
    X(PID, "pid", PF_INT, 1, 65535)                                                                \
    X(FOR, "for", PF_INT, 1, 65535)                                                                \
    X(ITEM, "item", PF_INT, 0, 31)                                                                 \
    X(ROUND, "round", PF_INT, 1, 100)                                                              \
    X(VALUE, "value", PF_INT, 1, 10)                                                               \
    X(RATING, "rating", PF_INT, 1, 5)                                                              \
    X(TEXT, "text", PF_STR, 1, PROTO_MAX_TEXT)                                                     \
    X(PHASE, "phase", PF_ENUM, 0, 0)                                                               \
    X(MODE, "mode", PF_ENUM, 0, 0)                                                                 \
    X(ORDER, "order", PF_INTS, 1, 65535)                                                           \
    X(VALUES, "values", PF_INTS, 0, 4611686018427387903LL)                                         \
    X(BUDGET, "budget", PF_INT, 1, 20)                                                             \
    X(THEME, "theme", PF_INT, 1, 1000000)                                                          \
    X(INTO, "into", PF_INT, 1, 1000000)                                                            \
    X(KID, "kid", PF_INT, 1, 1000000)                                                              \
    X(ITEMS, "items", PF_INTS, 0, 31)                                                              \
    X(ACTION, "action", PF_INT, 1, 9007199254740991LL)                                             \
    X(OWNER, "owner", PF_STR, 0, 128)                                                              \
    X(ROLE, "role", PF_STR, 0, 128)                                                                \
    X(WHERE, "where", PF_STR, 0, 256)                                                              \
    X(DEADLINE, "deadline", PF_STR, 10, 10)                                                        \
    X(FEEDBACK, "feedback", PF_STR, 0, 256)                                                        \
    X(RESOURCES, "resources", PF_STR, 0, 256)                                                      \
    X(DATE, "date", PF_STR, 10, 10)                                                                \
    X(TEAM, "team", PF_STR, 1, 128)                                                                \
    X(UNIT, "unit", PF_INT, 1, 9007199254740991LL)                                                 \
    X(ORG, "org", PF_INT, 1, 9007199254740991LL)                                                   \
    X(PARENT, "parent", PF_INT, 1, 9007199254740991LL)                                             \
    X(LEVEL, "level", PF_ENUM, 0, 0)                                                               \
    X(INSTRUMENT, "instrument", PF_STR, 1, 64)                                                     \
    X(ERR, "err", PF_INT, 100, 999)                                                                \
    X(MSG, "msg", PF_STR, 0, 512)                                                                  \
    X(SERVER, "server", PF_STR, 1, 64)                                                             \
    X(UPTIME, "uptime", PF_INT, 0, 9007199254740991LL)                                             \
    X(CLIENTS, "clients", PF_INT, 0, 9007199254740991LL)                                           \
    X(SESSIONS, "sessions", PF_INT, 0, 9007199254740991LL)                                         \
    X(DB, "db", PF_ENUM, 0, 0)                                                                     \
    X(WAITING, "waiting", PF_INT, 0, 9007199254740991LL)                                           \
    X(SPOOL, "spool", PF_INT, 0, 9007199254740991LL)                                               \
    X(LAG, "lag", PF_INT, 0, 9007199254740991LL)                                                   \
    X(JOIN_CODE, "join_code", PF_STR, 1, 32)                                                       \
    X(KIOSK_CODE, "kiosk_code", PF_STR, 1, 32)                                                     \
    X(CURRENT, "current", PF_INT, -1, 65535)                                                       \
    X(PASS, "pass", PF_BOOL, 0, 1)                                                                 \
    X(ONLINE, "online", PF_BOOL, 0, 1)                                                             \
    X(AUTO, "auto", PF_BOOL, 0, 1)                                                                 \
    X(CONFIRMED, "confirmed", PF_BOOL, 0, 1)                                                       \
    X(MIN_REVEAL, "min_reveal", PF_INT, 1, 50)                                                     \
    X(DELTA, "delta", PF_INT, -1, 1)                                                               \
    X(STATUS, "status", PF_ENUM, 0, 0)                                                             \
    X(NOTE, "note", PF_STR, 0, 1024)                                                               \
    X(DURATION, "duration", PF_INT, 0, 86400)                                                      \
    X(COUNT, "count", PF_INT, 0, 9007199254740991LL)                                               \
    X(UNDO, "undo", PF_INT, 1, 9007199254740991LL)                                                 \
    X(TICKET, "ticket", PF_INT, 1, 9007199254740991LL)                                             \
    X(ROWS, "rows", PF_MSGS, 0, 0)                                                                 \
    X(EVENTS, "events", PF_MSGS, 0, 0)                                                             \
    /* instruments, timers and the cycle (docs/cycle.md) */                                        \
    X(DEFINITION, "definition", PF_STR, 1, 61440) /* fits a 64 KiB request frame */                \
    X(VERSION, "version", PF_INT, 1, 999999999)                                                    \
    X(STEPS, "steps", PF_INTS, 0, 9)                                                               \
    X(SELECT, "select", PF_BOOL, 0, 1)                                                             \
    X(NOTES, "notes", PF_BOOL, 0, 1)                                                               \
    X(AGENDA, "agenda", PF_MSGS, 0, 0)                                                             \
    X(ENTRY, "entry", PF_INT, -1, 31)                                                              \
    X(START, "start", PF_INT, 0, 9007199254740991LL)                                               \
    X(RUNNING, "running", PF_BOOL, 0, 1)                                                           \
    X(LEFT, "left", PF_INT, -9007199254740991LL, 9007199254740991LL)                               \
    X(MEAN, "mean", PF_INT, 0, 1000) /* hundredths of a grade */                                   \
    X(ITEM_KEY, "item_key", PF_STR, 1, 32)                                                         \
    X(OVERDUE, "overdue", PF_BOOL, 0, 1)                                                           \
    X(LINE, "line", PF_INT, 0, 1000000)

enum proto_key {
#define X(e, name, kind, min, max) PK_##e,
    PROTO_KEYS(X)
#undef X
        PK__COUNT
};

/* The allowed strings of each PF_ENUM key. */
#define PROTO_KINDS "admin", "facilitator", "participant", "kiosk", "observer", "monitor"
#define PROTO_PHASES                                                                               \
    "review", "lobby", "score", "explain", "themes", "desired", "actions", "look_ahead",          \
        "summary", "closed"
#define PROTO_MODES "join", "random", "low", "high", "manual"
#define PROTO_LEVELS "organisation", "location", "department", "team"
#define PROTO_STATUSES "open", "in_progress", "done", "dropped"
#define PROTO_DB_STATES "ok", "connecting", "unavailable", "none"

enum proto_client_kind {
    PROTO_KIND_ADMIN,
    PROTO_KIND_FACILITATOR,
    PROTO_KIND_PARTICIPANT,
    PROTO_KIND_KIOSK,
    PROTO_KIND_OBSERVER,
    PROTO_KIND_MONITOR,
};

enum proto_phase {
    PROTO_PHASE_REVIEW,
    PROTO_PHASE_LOBBY,
    PROTO_PHASE_SCORE,
    PROTO_PHASE_EXPLAIN,
    PROTO_PHASE_THEMES,
    PROTO_PHASE_DESIRED,
    PROTO_PHASE_ACTIONS,
    PROTO_PHASE_LOOK_AHEAD,
    PROTO_PHASE_SUMMARY,
    PROTO_PHASE_CLOSED,
};

enum proto_mode {
    PROTO_MODE_JOIN,
    PROTO_MODE_RANDOM,
    PROTO_MODE_LOW,
    PROTO_MODE_HIGH,
    PROTO_MODE_MANUAL,
};

enum proto_db_state { PROTO_DB_OK, PROTO_DB_CONNECTING, PROTO_DB_UNAVAILABLE, PROTO_DB_NONE };

/* Direction of a message type. */
enum proto_dir {
    PD_REQ,   /* client to server, carries "id", answered by ok or error */
    PD_REPLY, /* server to client, not an event */
    PD_EVENT, /* server to client, a change in a session: carries "seq" */
};

/* R(key, required) lists a field of a type. */
#define R(key, req) {PK_##key, req},

/*
 * The catalogue. X(ENUM, "name", direction, fields...).
 * Requests may also carry "id"; events also carry "seq" (required) and "ts".
 */
#define PROTO_TYPES(X)                                                                             \
    /* handshake and connection */                                                                 \
    X(HELLO, "hello", PD_REQ, R(PROTO, 1) R(KIND, 1) R(TOKEN, 0) R(CODE, 0) R(NAME, 0)            \
                                  R(RESUME, 0) R(SINCE, 0) R(SESSION, 0))                          \
    X(WELCOME, "welcome", PD_REPLY, R(ID, 0) R(PROTO, 1) R(SERVER, 1) R(KIND, 1) R(SESSION, 0)    \
                                        R(PID, 0) R(NAME, 0) R(RESUME, 0))                         \
    X(PING, "ping", PD_REQ, )                                                                      \
    X(PONG, "pong", PD_REPLY, R(ID, 0))                                                            \
    X(OK, "ok", PD_REPLY, R(ID, 0) R(SESSION, 0) R(PID, 0) R(JOIN_CODE, 0) R(KIOSK_CODE, 0)       \
                              R(TOKEN, 0) R(ACTION, 0) R(THEME, 0) R(ORG, 0) R(UNIT, 0) R(VALUE, 0) \
                              R(SEQ, 0) R(ROWS, 0) R(SERVER, 0) R(UPTIME, 0) R(CLIENTS, 0)          \
                                  R(SESSIONS, 0) R(DB, 0) R(WAITING, 0) R(SPOOL, 0) R(LAG, 0)    \
                                      R(COUNT, 0) R(INSTRUMENT, 0) R(VERSION, 0)                   \
                                          R(DEFINITION, 0) R(STATUS, 0))                           \
    X(ERROR, "error", PD_REPLY, R(ID, 0) R(ERR, 1) R(MSG, 0) R(LINE, 0))                          \
    X(BYE, "bye", PD_REPLY, R(ERR, 1) R(MSG, 0))                                                  \
    X(STATUS, "status", PD_REQ, )                                                                  \
    /* an observer asking to watch, and the facilitator's answer */                               \
    X(OBSERVER_WAITING, "observer.waiting", PD_REPLY, R(TICKET, 1) R(NAME, 1) R(SESSION, 1))      \
    X(OBSERVER_ADMIT, "observer.admit", PD_REQ, R(TICKET, 1))                                      \
    X(OBSERVER_DENY, "observer.deny", PD_REQ, R(TICKET, 1))                                        \
    X(SNAPSHOT_REQ, "resync", PD_REQ, R(SINCE, 0))                                                 \
    X(SNAPSHOT, "snapshot", PD_REPLY, R(ID, 0) R(SESSION, 1) R(SEQ, 1) R(SINCE, 0) R(EVENTS, 1))              \
    /* facilitator: sessions */                                                                    \
    X(SESSION_NEW, "session.new", PD_REQ, R(TEAM, 1) R(INSTRUMENT, 0) R(UNIT, 0)                  \
                                              R(MIN_REVEAL, 0) R(AUTO, 0))                         \
    X(SESSION_LIST, "session.list", PD_REQ, )                                                      \
    X(SESSION_OPEN, "session.open", PD_REQ, R(SESSION, 1) R(SINCE, 0))                            \
    /* facilitator: steering */                                                                    \
    X(NEXT, "next", PD_REQ, )                                                                      \
    X(BACK, "back", PD_REQ, )                                                                      \
    X(REVEAL, "reveal", PD_REQ, )                                                                  \
    X(RESCORE, "rescore", PD_REQ, R(ITEM, 0))                                                      \
    X(TURN_ORDER, "turn.order", PD_REQ, R(MODE, 1) R(ORDER, 0))                                    \
    X(TURN_NEXT, "turn.next", PD_REQ, )                                                            \
    X(TURN_PASS, "turn.pass", PD_REQ, )                                                            \
    X(PAUSE, "pause", PD_REQ, )                                                                    \
    X(RESUME_REQ, "resume", PD_REQ, )                                                              \
    X(UNDO_REQ, "undo", PD_REQ, )                                                                  \
    X(REMOVE, "remove", PD_REQ, R(PID, 1))                                                         \
    X(END, "end", PD_REQ, )                                                                        \
    /* everyone, by step */                                                                        \
    X(SCORE, "score", PD_REQ, R(ITEM, 1) R(VALUE, 1) R(FOR, 0))                                    \
    X(KEYWORD, "keyword", PD_REQ, R(TEXT, 1) R(FOR, 0))                                            \
    X(THEME_ADD, "theme.add", PD_REQ, R(TEXT, 1) R(ITEMS, 0))                                      \
    X(THEME_EDIT, "theme.edit", PD_REQ, R(THEME, 1) R(TEXT, 0) R(ITEMS, 0))                        \
    X(THEME_MERGE, "theme.merge", PD_REQ, R(THEME, 1) R(INTO, 1))                                  \
    X(THEME_DELETE, "theme.delete", PD_REQ, R(THEME, 1))                                           \
    X(VOTE_OPEN, "vote.open", PD_REQ, R(BUDGET, 1))                                                \
    X(VOTE, "vote", PD_REQ, R(THEME, 1) R(DELTA, 1))                                               \
    X(VOTE_CLOSE, "vote.close", PD_REQ, )                                                          \
    X(DESIRED_PROPOSE, "desired.propose", PD_REQ, R(ITEM, 1) R(VALUE, 1))                          \
    X(DESIRED_SET, "desired.set", PD_REQ, R(ITEM, 1) R(VALUE, 1))                                  \
    X(ACTION_PROPOSE, "action.propose", PD_REQ, R(TEXT, 1) R(OWNER, 0) R(ROLE, 0) R(WHERE, 0)     \
                                                    R(DEADLINE, 0) R(FEEDBACK, 0) R(RESOURCES, 0) \
                                                        R(ITEM, 0) R(THEME, 0))                    \
    X(ACTION_EDIT, "action.edit", PD_REQ, R(ACTION, 1) R(TEXT, 0) R(OWNER, 0) R(ROLE, 0)          \
                                              R(WHERE, 0) R(DEADLINE, 0) R(FEEDBACK, 0)            \
                                                  R(RESOURCES, 0) R(ITEM, 0) R(THEME, 0))          \
    X(ACTION_CONFIRM, "action.confirm", PD_REQ, R(ACTION, 1))                                      \
    X(ACTION_REMOVE, "action.remove", PD_REQ, R(ACTION, 1))                                        \
    X(LOOKAHEAD_DATE, "lookahead.date", PD_REQ, R(DATE, 1))                                        \
    X(LOOKAHEAD_ADD, "lookahead.add", PD_REQ, R(TEXT, 1))                                          \
    X(SUMMARY, "summary", PD_REQ, R(TEXT, 1))                                                      \
    X(REACTION, "reaction", PD_REQ, R(TEXT, 1))                                                    \
    X(EVALUATION, "evaluation", PD_REQ, R(RATING, 1) R(TEXT, 0))                                   \
    /* admin */                                                                                    \
    X(ORG_NEW, "org.new", PD_REQ, R(NAME, 1))                                                      \
    X(ORG_LIST, "org.list", PD_REQ, )                                                              \
    X(UNIT_NEW, "unit.new", PD_REQ, R(ORG, 1) R(NAME, 1) R(LEVEL, 1) R(PARENT, 0))                \
    X(UNIT_LIST, "unit.list", PD_REQ, R(ORG, 0))                                                   \
    X(FACILITATOR_NEW, "facilitator.new", PD_REQ, R(NAME, 1) R(ORG, 0))                            \
    X(FACILITATOR_REVOKE, "facilitator.revoke", PD_REQ, R(NAME, 1))                       \
    X(INSTRUMENT_LIST, "instrument.list", PD_REQ, )                                                \
    /* instruments as data, and the cycle between sessions (docs/cycle.md) */                      \
    X(INSTRUMENT_IMPORT, "instrument.import", PD_REQ, R(DEFINITION, 1))                            \
    X(INSTRUMENT_EXPORT, "instrument.export", PD_REQ, R(INSTRUMENT, 1) R(VERSION, 0))              \
    X(EXAMPLE_LIST, "example.list", PD_REQ, R(INSTRUMENT, 1) R(ITEM_KEY, 0) R(ORG, 0))             \
    X(ACTION_LIST, "action.list", PD_REQ, R(TEAM, 0) R(UNIT, 0) R(STATUS, 0) R(OVERDUE, 0))        \
    X(ACTION_UPDATE, "action.update", PD_REQ, R(ACTION, 1) R(STATUS, 1) R(NOTE, 0))                \
    X(TEAM_HISTORY, "team.history", PD_REQ, R(TEAM, 0) R(UNIT, 0))                                 \
    X(TEAM_DUE, "team.due", PD_REQ, R(DATE, 0) R(ORG, 0))                                          \
    /* facilitator, in a session: instruments, timers, the review */                              \
    X(ITEMS_SELECT, "items.select", PD_REQ, R(ITEMS, 1))                                           \
    X(EXAMPLE_ADD, "example.add", PD_REQ, R(ITEM, 1) R(TEXT, 1))                                   \
    X(TIMER_PAUSE, "timer.pause", PD_REQ, )                                                        \
    X(TIMER_RESUME, "timer.resume", PD_REQ, )                                                      \
    X(TIMER_EXTEND, "timer.extend", PD_REQ, R(DURATION, 1))                                        \
    X(REVIEW_SET, "review.set", PD_REQ, R(ACTION, 1) R(STATUS, 0) R(RATING, 0) R(NOTE, 0))         \
    /* events: every change in a session */                                                       \
    X(EV_CREATED, "session.created", PD_EVENT, R(SESSION, 1) R(TEAM, 1) R(INSTRUMENT, 1)          \
                                                   R(MIN_REVEAL, 1) R(AUTO, 0) R(ROWS, 1)             \
                                                       R(JOIN_CODE, 0) R(KIOSK_CODE, 0)          \
                                                           R(NAME, 0) R(UNIT, 0) R(VERSION, 0)     \
                                                               R(STEPS, 0) R(SELECT, 0) R(AGENDA, 0)) \
    X(EV_JOINED, "joined", PD_EVENT, R(PID, 1) R(NAME, 1) R(RESUME, 0))                                         \
    X(EV_PRESENCE, "presence", PD_EVENT, R(PID, 1) R(ONLINE, 1))                                   \
    X(EV_REMOVED, "removed", PD_EVENT, R(PID, 1))                                                  \
    X(EV_PHASE, "phase", PD_EVENT, R(PHASE, 1) R(ITEM, 0) R(ROUND, 0))                             \
    X(EV_ROUND, "round", PD_EVENT, R(ITEM, 1) R(ROUND, 1))                                         \
    X(EV_SCORED, "scored", PD_EVENT, R(PID, 1) R(ITEM, 1) R(ROUND, 1) R(VALUE, 0))                 \
    X(EV_REVEALED, "revealed", PD_EVENT, R(ITEM, 1) R(ROUND, 1) R(VALUES, 1))                      \
    X(EV_TURNS, "turns", PD_EVENT, R(MODE, 1) R(ORDER, 1) R(CURRENT, 1))                           \
    X(EV_TURN, "turn", PD_EVENT, R(CURRENT, 1) R(PASS, 0))                                         \
    X(EV_KEYWORD, "keyword.added", PD_EVENT, R(KID, 1) R(PID, 1) R(ITEM, 1) R(TEXT, 1))            \
    X(EV_THEME, "theme.added", PD_EVENT, R(THEME, 1) R(TEXT, 1) R(ITEMS, 0) R(PID, 0))             \
    X(EV_THEME_EDITED, "theme.edited", PD_EVENT, R(THEME, 1) R(TEXT, 1) R(ITEMS, 0))               \
    X(EV_THEME_MERGED, "theme.merged", PD_EVENT, R(THEME, 1) R(INTO, 1))                           \
    X(EV_THEME_DELETED, "theme.deleted", PD_EVENT, R(THEME, 1))                                    \
    X(EV_VOTE_OPENED, "vote.opened", PD_EVENT, R(BUDGET, 1))                                       \
    X(EV_VOTED, "voted", PD_EVENT, R(PID, 1) R(THEME, 0) R(DELTA, 0))                              \
    X(EV_VOTE_CLOSED, "vote.closed", PD_EVENT, R(VALUES, 1))                                       \
    X(EV_DESIRED_PROPOSED, "desired.proposed", PD_EVENT, R(PID, 1) R(ITEM, 1) R(VALUE, 1))         \
    X(EV_DESIRED_SET, "desired.agreed", PD_EVENT, R(ITEM, 1) R(VALUE, 0))                             \
    X(EV_ACTION, "action.added", PD_EVENT, R(ACTION, 1) R(TEXT, 1) R(OWNER, 0) R(ROLE, 0)         \
                                               R(WHERE, 0) R(DEADLINE, 0) R(FEEDBACK, 0)           \
                                                   R(RESOURCES, 0) R(ITEM, 0) R(THEME, 0) R(PID, 0) \
                                                       R(CONFIRMED, 1))                            \
    X(EV_ACTION_EDITED, "action.edited", PD_EVENT, R(ACTION, 1) R(TEXT, 1) R(OWNER, 0) R(ROLE, 0) \
                                                       R(WHERE, 0) R(DEADLINE, 0) R(FEEDBACK, 0)   \
                                                           R(RESOURCES, 0) R(ITEM, 0) R(THEME, 0))  \
    X(EV_ACTION_CONFIRMED, "action.confirmed", PD_EVENT, R(ACTION, 1) R(CONFIRMED, 1))             \
    X(EV_ACTION_REMOVED, "action.removed", PD_EVENT, R(ACTION, 1))                                 \
    X(EV_LOOKAHEAD_DATE, "lookahead.date.set", PD_EVENT, R(DATE, 0))                                   \
    X(EV_LOOKAHEAD_ADDED, "lookahead.added", PD_EVENT, R(KID, 1) R(TEXT, 1))                       \
    X(EV_LOOKAHEAD_REMOVED, "lookahead.removed", PD_EVENT, R(KID, 1))                              \
    X(EV_SUMMARY, "summary.set", PD_EVENT, R(TEXT, 0))                                             \
    X(EV_REACTION, "reaction.added", PD_EVENT, R(KID, 1) R(PID, 1) R(TEXT, 1))                     \
    X(EV_EVALUATION, "evaluation.added", PD_EVENT, R(PID, 1) R(RATING, 1) R(TEXT, 0))              \
    X(EV_KEYWORD_REMOVED, "keyword.removed", PD_EVENT, R(KID, 1))                                  \
    X(EV_PAUSED, "paused", PD_EVENT, R(ONLINE, 1))                                                 \
    X(EV_CLOSED, "closed", PD_EVENT, )                                                             \
    X(EV_NOTICE, "notice", PD_EVENT, R(ERR, 1) R(MSG, 0))                                         \
    X(EV_ITEMS_SELECTED, "items.selected", PD_EVENT, R(ITEMS, 1))                                  \
    X(EV_EXAMPLE, "example.added", PD_EVENT, R(KID, 1) R(ITEM, 1) R(TEXT, 1))                      \
    X(EV_EXAMPLE_REMOVED, "example.removed", PD_EVENT, R(KID, 1))                                  \
    X(EV_TIMER, "timer", PD_EVENT, R(ENTRY, 1) R(DURATION, 0) R(START, 0) R(RUNNING, 0) R(LEFT, 0)) \
    X(EV_TIMER_OVERRUN, "timer.overrun", PD_EVENT, R(ENTRY, 1) R(DURATION, 1))                     \
    X(EV_REVIEW_ACTION, "review.action", PD_EVENT, R(ACTION, 1) R(SESSION, 1) R(TEXT, 1)          \
                                                       R(OWNER, 0) R(DEADLINE, 0) R(FEEDBACK, 0)   \
                                                           R(STATUS, 1) R(DATE, 0) R(ITEM, 0)      \
                                                               R(OVERDUE, 0))                      \
    X(EV_REVIEW_PREVIOUS, "review.previous", PD_EVENT, R(SESSION, 1) R(DATE, 0) R(ROWS, 1))        \
    X(EV_ACTION_REVIEWED, "action.reviewed", PD_EVENT, R(ACTION, 1) R(STATUS, 0) R(RATING, 0)     \
                                                           R(NOTE, 0))

enum proto_type {
    PT__NONE = 0,
#define X(e, name, dir, ...) PT_##e,
    PROTO_TYPES(X)
#undef X
        PT__COUNT
};

struct proto_str {
    const char *p; /* NUL-terminated; owned by the message's arena or borrowed */
    uint32_t len;
};

struct proto_ints {
    const int64_t *p;
    uint32_t n;
};

struct proto_msgs {
    const struct proto_msg *p;
    uint32_t n;
};

union proto_val {
    int64_t i; /* PF_INT, PF_BOOL, PF_ENUM (index into the key's list) */
    struct proto_str s;
    struct proto_ints a;
    struct proto_msgs m;
};

/*
 * One message. A decoded message owns its arena (strings, arrays, nested
 * messages); a message built for encoding borrows everything it points to.
 */
struct proto_msg {
    enum proto_type type;
    uint64_t present[2]; /* bit k set when key k is present */
    union proto_val v[PK__COUNT];
    void *arena; /* owned allocations of a decoded message, freed by proto_msg_free */
};

struct proto_error {
    int code;            /* negative proto error */
    enum proto_key key;  /* field at fault, or PK__COUNT */
    int64_t id;          /* the request id, when it could be read; else -1 */
    char detail[96];
};

/* Metadata. */
const char *proto_type_name(enum proto_type t);
enum proto_type proto_type_lookup(const char *name, size_t len);
enum proto_dir proto_type_dir(enum proto_type t);
bool proto_type_allows(enum proto_type t, enum proto_key k);
bool proto_type_requires(enum proto_type t, enum proto_key k);
const char *proto_key_name(enum proto_key k);
enum proto_kind proto_key_kind(enum proto_key k);
int64_t proto_key_min(enum proto_key k);
int64_t proto_key_max(enum proto_key k);
/* A PF_STR key holding a calendar date YYYY-MM-DD (checked with proto_date_ok). */
bool proto_key_is_date(enum proto_key k);
/* Value strings of an enum key, NULL-terminated. */
const char *const *proto_enum_values(enum proto_key k);
const char *proto_enum_name(enum proto_key k, int64_t index);

/*
 * Decodes one frame body (a MessagePack map) strictly. On success *out is a
 * new message the caller frees with proto_msg_free. On failure returns a
 * negative proto error, fills err and leaves *out NULL. max_depth bounds the
 * nesting; nested messages (events/rows) are accepted only when allow_nested.
 */
int proto_decode(const uint8_t *buf, size_t len, bool allow_nested, struct proto_msg **out,
                 struct proto_error *err);
void proto_msg_free(struct proto_msg *m);

/*
 * Stage 1 of proto_decode on its own: checks that buf holds exactly one
 * well-formed MessagePack object (any type) whose declared lengths and counts
 * fit the bytes, nested at most max_depth maps/arrays deep. Allocates
 * nothing. Returns 0, PROTO_ERR_MALFORMED, or PROTO_ERR_OUT_OF_RANGE (too deep).
 */
int proto_mp_check(const uint8_t *buf, size_t len, int max_depth);

/* Builders for messages to encode (borrowing). */
void proto_msg_init(struct proto_msg *m, enum proto_type t);
void proto_set_int(struct proto_msg *m, enum proto_key k, int64_t v);
void proto_set_bool(struct proto_msg *m, enum proto_key k, bool v);
void proto_set_str(struct proto_msg *m, enum proto_key k, const char *s);
void proto_set_strn(struct proto_msg *m, enum proto_key k, const char *s, uint32_t len);
void proto_set_ints(struct proto_msg *m, enum proto_key k, const int64_t *v, uint32_t n);
void proto_set_msgs(struct proto_msg *m, enum proto_key k, const struct proto_msg *v, uint32_t n);
int proto_set_enum(struct proto_msg *m, enum proto_key k, const char *value);
void proto_unset(struct proto_msg *m, enum proto_key k);

static inline bool proto_has(const struct proto_msg *m, enum proto_key k)
{
    return (m->present[k >> 6] >> (k & 63)) & 1u;
}
static inline int64_t proto_int(const struct proto_msg *m, enum proto_key k, int64_t dflt)
{
    return proto_has(m, k) ? m->v[k].i : dflt;
}
static inline const char *proto_str(const struct proto_msg *m, enum proto_key k)
{
    return proto_has(m, k) ? m->v[k].s.p : NULL;
}

/*
 * Encodes a message as a whole frame (4-byte length + map) into a new
 * malloc'd buffer (*frame, *len), which the caller frees. Validates the
 * message against the catalogue first (a bug in the caller is an error,
 * not a bad frame on the wire). Returns 0 or a negative proto error.
 */
int proto_encode_frame(const struct proto_msg *m, uint8_t **frame, size_t *len);
/* The same, without the length prefix. */
int proto_encode(const struct proto_msg *m, uint8_t **buf, size_t *len);

/* Validates a UTF-8 string: no overlongs, surrogates, NUL or C0 controls
 * other than tab and newline. */
bool proto_utf8_ok(const char *s, size_t len);
/* YYYY-MM-DD with a real calendar date. */
bool proto_date_ok(const char *s, size_t len);

#endif
