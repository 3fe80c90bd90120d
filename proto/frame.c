/*
 * frame.c: streaming frame decoder (see frame.h and PROTOCOL.md "Framing").
 */
#include "frame.h"
#include "proto.h"

#include <stdlib.h>
#include <string.h>

/* Buffer kept while nothing is pending: thousands of idle connections must
 * not each hold on to the largest frame they ever sent. */
#define FRAMER_IDLE_KEEP 16384

void proto_framer_init(struct proto_framer *f, uint32_t max_frame)
{
    memset(f, 0, sizeof(*f));
    f->max_frame = max_frame ? max_frame : PROTO_DEFAULT_MAX_FRAME;
}

void proto_framer_free(struct proto_framer *f)
{
    free(f->buf);
    memset(f, 0, sizeof(*f));
}

size_t proto_framer_pending(const struct proto_framer *f)
{
    return f->len - f->off;
}

/* Checks the header of the frame at the read position, if it is complete. */
static int framer_check_header(struct proto_framer *f)
{
    if (f->len - f->off < PROTO_FRAME_HEADER)
        return 0;
    uint32_t n = proto_get_u32be(f->buf + f->off);
    if (n == 0)
        return f->error = PROTO_ERR_MALFORMED;
    if (n > f->max_frame)
        return f->error = PROTO_ERR_TOO_LARGE;
    return 0;
}

int proto_framer_feed(struct proto_framer *f, const uint8_t *data, size_t n)
{
    if (f->error)
        return f->error;
    if (n == 0)
        return 0;
    /* Drop what was consumed before growing. */
    if (f->off == f->len && f->cap > FRAMER_IDLE_KEEP) {
        free(f->buf);
        f->buf = NULL;
        f->len = f->off = f->cap = 0;
    } else if (f->off > 0) {
        memmove(f->buf, f->buf + f->off, f->len - f->off);
        f->len -= f->off;
        f->off = 0;
    }
    /* The buffer never needs more than one frame plus this input. */
    if (f->len + n > f->cap) {
        size_t want = f->len + n;
        size_t cap = f->cap ? f->cap : 4096;
        while (cap < want)
            cap *= 2;
        uint8_t *nb = realloc(f->buf, cap);
        if (!nb)
            return f->error = PROTO_ERR_INTERNAL;
        f->buf = nb;
        f->cap = cap;
    }
    memcpy(f->buf + f->len, data, n);
    f->len += n;
    return framer_check_header(f);
}

int proto_framer_next(struct proto_framer *f, const uint8_t **body, uint32_t *len)
{
    if (f->error)
        return f->error;
    int rc = framer_check_header(f);
    if (rc < 0)
        return rc;
    if (f->len - f->off < PROTO_FRAME_HEADER)
        return 0;
    uint32_t n = proto_get_u32be(f->buf + f->off);
    if (f->len - f->off - PROTO_FRAME_HEADER < n)
        return 0;
    *body = f->buf + f->off + PROTO_FRAME_HEADER;
    *len = n;
    f->off += PROTO_FRAME_HEADER + (size_t)n;
    /* The next frame's header may already be here: reject it early. */
    /* A bad header behind it is reported (sticky) on the next call. */
    (void)framer_check_header(f);
    return 1;
}
