/*
 * store.h: persistence of accepted events in PostgreSQL (the system of
 * record), never blocking the loop. Every event is first appended to the
 * local spool (spool.h), then queued in memory in order, written in batches
 * (group commit) as one statement that is idempotent on (session_id, seq),
 * and retried after the database comes back. At start the store restores
 * the open sessions into the engine. docs/persistence.md says what
 * "accepted" promises.
 */
#ifndef LWK_STORE_H
#define LWK_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "engine.h"
#include "proto.h"

struct lwkd;
struct store;

struct store_stats {
    uint64_t waiting;     /* events accepted but not yet in the database */
    uint64_t spool_bytes; /* bytes in the local spool */
    uint64_t oldest_ms;   /* age of the oldest unwritten event */
    uint64_t written;     /* events written since start */
    uint64_t batches;
};

struct store *store_new(struct lwkd *d);
/* Frees the queue and closes the spool (syncing it); after the loop ended. */
void store_free(struct store *st);

/*
 * Startup, before lwkd listens: opens the spool, restores every open session
 * into the engine (from the database, when it answers within a few seconds,
 * plus the spool's records), queues the spool's records for the database,
 * then calls ready (once). Without a database nothing is stored and ready
 * comes at once. Returns 0, or -1 when the spool cannot be opened: with a
 * database configured lwkd must not run without it.
 */
int store_start(struct store *st, void (*ready)(struct lwkd *d));
/* The database connection changed state (main forwards db.c's callback). */
void store_db_state(struct store *st, enum proto_db_state state);
/* Closes the store's libuv handles (when lwkd stops). */
void store_stop(struct store *st);
/* Queues one event (takes a reference on full). */
void store_event(struct store *st, int64_t session_id, uint64_t seq, enum proto_type type,
                 struct engine_frame *full);
/* True when no more changes can be accepted (spool full). */
bool store_full(const struct store *st);
void store_get_stats(const struct store *st, struct store_stats *out);
/* Kicks a write now (used at shutdown to drain). */
void store_flush(struct store *st);
/*
 * Reads a stored session that is not live (a closed one, after a restart or
 * once it was released) back into the engine from the event log, then calls
 * done(arg, found). Returns 0, or an error when it can't ask the database.
 */
int store_load_session(struct store *st, int64_t session_id, void (*done)(void *arg, bool found),
                       void *arg);
/* The database state, or PROTO_DB_NONE without a database. */
enum proto_db_state db_state_of(const struct lwkd *d);

#endif
