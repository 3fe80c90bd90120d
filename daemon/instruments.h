/*
 * instruments.h: instruments as data in lwkd (docs/cycle.md). Definitions
 * live in PostgreSQL (instrument_versions.definition, the .lwki text);
 * lwkd parses them with proto/instrument.c when a session needs one, keeps
 * the newest parsed version of each instrument in memory, and imports and
 * exports them for the admin. A new session of a team also loads what its
 * review step needs: the team's open actions and its last results. Every
 * query is asynchronous (db_query); the answer finds its connection back
 * by id, as the admin commands in auth.c do.
 *
 * Without a database, or while it is away, session.new uses the cached
 * version, and for lwk-meting the engine's built-in table.
 */
#ifndef LWK_INSTRUMENTS_H
#define LWK_INSTRUMENTS_H

#include <libpq-fe.h>
#include <stdint.h>

#include "lwkd.h"

/* session.new: the newest version of the instrument (and, with a unit, the
 * team's review) first, then the session; answers like session.open. */
void instruments_session_new(struct conn *c, const struct proto_msg *m, int64_t id);
/* instrument.import (admin) and instrument.export (admin, facilitator). */
void instruments_request(struct conn *c, const struct proto_msg *m, int64_t id);
/* Releases the cache of parsed instruments. */
void instruments_free(void);

/* For cycle.c: the connection a late answer belongs to (NULL: gone), and a
 * failed query as a protocol error. */
int instruments_db_error(const PGresult *res);

/* dispatch.c: joins c to its new or opened session, answers ok (session,
 * codes, instrument, version) and sends the snapshot after since. */
void dispatch_session_ready(struct conn *c, struct session *s, int64_t id, uint64_t since);

/* cycle.c: action.list, action.update, team.history, team.due, example.list
 * (admin, facilitator), answered from the database. */
void cycle_request(struct conn *c, const struct proto_msg *m, int64_t id);

#endif
