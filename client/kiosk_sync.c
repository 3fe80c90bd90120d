/*
 * kiosk_sync.c: keeps the kiosk's copy of the session state in step with
 * the daemon. Events are applied with the shared reducer (proto/state.h); a
 * gap in the sequence numbers asks for the missing events, and anything that
 * does not fit (another session, a history that went back, an event the
 * reducer refuses) throws the state away and asks for a whole snapshot.
 *
 * No I/O here: the caller sends the resync the result asks for.
 */
#include "kiosk.h"

#include <string.h>

/* Whole snapshots that would not apply, in a row, before we stop asking. */
#define MAX_FAILURES 3

void kiosk_sync_init(struct kiosk_sync *ks)
{
    memset(ks, 0, sizeof(*ks));
    state_init(&ks->st);
}

void kiosk_sync_free(struct kiosk_sync *ks)
{
    state_free(&ks->st);
}

void kiosk_sync_reset(struct kiosk_sync *ks)
{
    state_free(&ks->st); /* leaves st initialised */
    ks->have = false;
    ks->vote_closed_seen = false;
}

static int apply(struct kiosk_sync *ks, const struct proto_msg *ev)
{
    int rc = state_apply(&ks->st, ev);
    if (rc == 0) {
        ks->applied++;
        ks->have = true;
        if (ev->type == PT_EV_VOTE_CLOSED)
            ks->vote_closed_seen = true;
    }
    return rc;
}

/* The state no longer fits the server's: start over from a whole snapshot. */
static enum kiosk_sync_result start_over(struct kiosk_sync *ks)
{
    ks->want_full = true;
    if (ks->failures >= MAX_FAILURES)
        return KIOSK_SYNC_CHANGED; /* keep showing what we have; the next connection retries */
    kiosk_sync_reset(ks);
    ks->resync_pending = true;
    return KIOSK_SYNC_FULL;
}

enum kiosk_sync_result kiosk_sync_event(struct kiosk_sync *ks, const struct proto_msg *ev)
{
    if (proto_type_dir(ev->type) != PD_EVENT || !proto_has(ev, PK_SEQ))
        return KIOSK_SYNC_IGNORED;
    uint64_t seq = (uint64_t)ev->v[PK_SEQ].i;
    if (!ks->have) {
        /* Events before the first snapshot: the snapshot will hold them. */
        if (ks->resync_pending || ks->failures >= MAX_FAILURES)
            return KIOSK_SYNC_IGNORED;
        ks->resync_pending = true;
        ks->want_full = true;
        return KIOSK_SYNC_FULL;
    }
    if (seq <= ks->st.seq)
        return KIOSK_SYNC_IGNORED;
    if (seq > ks->st.seq + 1) {
        if (ks->resync_pending || ks->failures >= MAX_FAILURES)
            return KIOSK_SYNC_IGNORED;
        ks->resync_pending = true;
        return KIOSK_SYNC_RESYNC;
    }
    if (apply(ks, ev) == 0)
        return KIOSK_SYNC_CHANGED;
    ks->failures++;
    return start_over(ks);
}

enum kiosk_sync_result kiosk_sync_snapshot(struct kiosk_sync *ks, const struct proto_msg *snap)
{
    ks->resync_pending = false;
    if (!proto_has(snap, PK_EVENTS) || !proto_has(snap, PK_SEQ))
        return KIOSK_SYNC_IGNORED;
    const struct proto_msgs *evs = &snap->v[PK_EVENTS].m;
    uint64_t since = (uint64_t)proto_int(snap, PK_SINCE, 0);
    uint64_t seq = (uint64_t)snap->v[PK_SEQ].i;
    int64_t session = proto_int(snap, PK_SESSION, 0);

    if (since > 0) {
        /* A delta: usable only on top of the same history. */
        bool fits = ks->have && !ks->want_full && session == ks->st.session_id &&
                    since <= ks->st.seq && seq >= ks->st.seq;
        if (!fits) {
            if (ks->failures >= MAX_FAILURES)
                return KIOSK_SYNC_IGNORED;
            return start_over(ks);
        }
    } else {
        kiosk_sync_reset(ks);
    }
    ks->want_full = false;
    for (uint32_t i = 0; i < evs->n; i++) {
        const struct proto_msg *ev = &evs->p[i];
        uint64_t s = (uint64_t)proto_int(ev, PK_SEQ, 0);
        if (ks->have && s <= ks->st.seq)
            continue;
        if (apply(ks, ev) < 0) {
            ks->failures++;
            return start_over(ks);
        }
    }
    if (ks->st.seq != seq) {
        /* The snapshot does not reach the seq it claims. */
        ks->failures++;
        return start_over(ks);
    }
    ks->failures = 0;
    return KIOSK_SYNC_CHANGED;
}
