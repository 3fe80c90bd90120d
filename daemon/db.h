/*
 * db.h: one PostgreSQL connection driven by the libuv loop, never blocking it.
 *
 * Connects with PQconnectStart/PQconnectPoll, sends with PQsendQueryParams,
 * and reads with PQconsumeInput/PQgetResult, all on a uv_poll of PQsocket.
 * When the server goes away or stops answering (frozen), the connection is
 * dropped and re-established with exponential backoff; queries in flight
 * are failed back to their callers, who decide whether to retry.
 */
#ifndef LWK_DB_H
#define LWK_DB_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "proto.h"

struct db;

/*
 * Result of one query: res is the last PGresult (owned by db, valid only
 * during the call) or NULL when the connection failed before an answer;
 * err is a short English reason when res is NULL or not OK.
 */
typedef void (*db_result_cb)(void *arg, const PGresult *res, const char *err);
/* Called whenever the state changes (for the store to resume its work). */
typedef void (*db_state_cb)(void *arg, enum proto_db_state state);

struct db *db_new(uv_loop_t *loop, const char *conninfo, int retry_max_ms);
void db_set_state_cb(struct db *db, db_state_cb cb, void *arg);
void db_start(struct db *db);
/* Closes the connection and frees db once libuv has released its handles. */
void db_free(struct db *db);

enum proto_db_state db_state(const struct db *db);
/* Queries waiting or in flight. */
int db_pending(const struct db *db);

/*
 * Queues a parameterised query (text parameters, copied). Returns 0, or
 * PROTO_ERR_DB_UNAVAILABLE when there is no usable connection (nothing is
 * queued then). The callback runs exactly once, including at db_free.
 */
int db_query(struct db *db, const char *sql, int nparams, const char *const *params,
             db_result_cb cb, void *arg);

/*
 * db_query with typed and binary parameters: types (NULL: inferred),
 * formats[i] 1 for binary (lengths[i] bytes) or 0 for text; formats NULL
 * means all text. Values are copied.
 */
int db_query_params(struct db *db, const char *sql, int nparams, const Oid *types,
                    const char *const *values, const int *lengths, const int *formats,
                    db_result_cb cb, void *arg);

/* Milliseconds a query may run before the server counts as unresponsive. */
void db_set_query_timeout(struct db *db, int ms);

#endif
