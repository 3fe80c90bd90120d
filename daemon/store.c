/*
 * store.c: persistence of accepted events (see store.h).
 *
 * First slice: the interface the rest of the daemon uses, with events
 * counted but not yet written. Group commit, the spool and recovery follow
 * in the persistence work (issue 5).
 */
#include "store.h"
#include "db.h"
#include "lwkd.h"

#include <stdlib.h>
#include <string.h>

struct store {
    struct lwkd *d;
    struct store_stats stats;
};

struct store *store_new(struct lwkd *d)
{
    struct store *st = calloc(1, sizeof(*st));
    if (st)
        st->d = d;
    return st;
}

void store_free(struct store *st)
{
    free(st);
}

void store_event(struct store *st, int64_t session_id, uint64_t seq, enum proto_type type,
                 struct engine_frame *full)
{
    (void)session_id;
    (void)seq;
    (void)type;
    (void)full;
    if (st)
        st->stats.written++;
}

bool store_full(const struct store *st)
{
    return false;
}

void store_get_stats(const struct store *st, struct store_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (st)
        *out = st->stats;
}

void store_flush(struct store *st)
{
}

enum proto_db_state db_state_of(const struct lwkd *d)
{
    return d->db ? db_state(d->db) : PROTO_DB_NONE;
}
