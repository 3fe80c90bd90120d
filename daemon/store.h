/*
 * store.h: persistence of accepted events in PostgreSQL (the system of
 * record), never blocking the loop. Events are queued in memory in order,
 * written in batches (group commit) as multi-row INSERTs that are idempotent
 * on (session_id, seq), and retried after the database comes back.
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
void store_free(struct store *st);
/* Queues one event (takes a reference on full). */
void store_event(struct store *st, int64_t session_id, uint64_t seq, enum proto_type type,
                 struct engine_frame *full);
/* True when no more changes can be accepted (spool full). */
bool store_full(const struct store *st);
void store_get_stats(const struct store *st, struct store_stats *out);
/* Kicks a write now (used at shutdown to drain). */
void store_flush(struct store *st);
/* The database state, or PROTO_DB_NONE without a database. */
enum proto_db_state db_state_of(const struct lwkd *d);

#endif
