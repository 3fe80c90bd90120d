/*
 * json.h: a message as JSON text, for the store (the `data jsonb` column of
 * lwk.session_events) and for humans reading logs.
 *
 * The shape follows the wire: one object per message, "t" first (typed
 * messages only), then every present key in catalogue order. Integers are
 * numbers, booleans true/false, enum keys their string ("phase": "score"),
 * strings JSON-escaped, int arrays arrays, nested events and rows objects.
 * Pure C, no I/O.
 */
#ifndef LWK_PROTO_JSON_H
#define LWK_PROTO_JSON_H

#include <stddef.h>

#include "proto.h"

/*
 * Encodes m as one JSON object into a new NUL-terminated string (*out, the
 * caller frees it; *len its length when len is not NULL). Returns 0, or
 * PROTO_ERR_INTERNAL when out of memory, PROTO_ERR_OUT_OF_RANGE for an enum
 * index outside its list or nesting deeper than PROTO_MAX_DEPTH.
 */
int proto_to_json(const struct proto_msg *m, char **out, size_t *len);

#endif
