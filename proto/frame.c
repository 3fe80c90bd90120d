/*
 * frame.c: streaming frame decoder (see frame.h and PROTOCOL.md "Framing").
 *
 * The unconsumed stream is the owned buffer's bytes [off, len) followed by
 * the borrowed input's [in_off, in_len). Input is borrowed only once the
 * owned bytes end on a frame boundary, so no frame straddles the two, and
 * next() copies a borrowed frame's first pieces into the buffer before it
 * hands control back, when the caller's bytes may go.
 */
#include "frame.h"
#include "proto.h"

#include <stdlib.h>
#include <string.h>

/* First size of the owned buffer; it doubles from there, following the
 * bytes that arrived (never a declared length). */
#define FRAMER_FIRST_CAP 512

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
    return f->len - f->off + f->in_len - f->in_off;
}

/* The next unconsumed bytes: the owned buffer's if any, else the input's. */
static const uint8_t *framer_at(const struct proto_framer *f, size_t *avail)
{
    if (f->off < f->len) {
        *avail = f->len - f->off;
        return f->buf + f->off;
    }
    *avail = f->in_len - f->in_off;
    return *avail ? f->in + f->in_off : NULL;
}

/* Checks the header of the frame at the read position, if it is complete. */
static int framer_check_header(struct proto_framer *f)
{
    size_t avail;
    const uint8_t *p = framer_at(f, &avail);
    if (avail < PROTO_FRAME_HEADER)
        return 0;
    uint32_t n = proto_get_u32be(p);
    if (n == 0)
        return f->error = PROTO_ERR_MALFORMED;
    if (n > f->max_frame)
        return f->error = PROTO_ERR_TOO_LARGE;
    return 0;
}

static int owned_append(struct proto_framer *f, const uint8_t *data, size_t n)
{
    if (f->off > 0) { /* drop what was consumed */
        memmove(f->buf, f->buf + f->off, f->len - f->off);
        f->len -= f->off;
        f->off = 0;
    }
    if (f->len + n > f->cap) {
        size_t cap = f->cap ? f->cap : FRAMER_FIRST_CAP;
        while (cap < f->len + n)
            cap *= 2;
        uint8_t *nb = realloc(f->buf, cap);
        if (!nb)
            return f->error = PROTO_ERR_INTERNAL;
        f->buf = nb;
        f->cap = cap;
    }
    memcpy(f->buf + f->len, data, n);
    f->len += n;
    return 0;
}

/* Copies the unconsumed rest of the borrowed input into the owned buffer. */
static int framer_stash(struct proto_framer *f)
{
    int rc = 0;
    if (f->in_off < f->in_len)
        rc = owned_append(f, f->in + f->in_off, f->in_len - f->in_off);
    f->in = NULL;
    f->in_len = f->in_off = 0;
    return rc;
}

/* Bytes the owned buffer's last frame still lacks (up to the end of its
 * header while that is incomplete); 0 when the buffer ends on a boundary. */
static size_t owned_lacks(const struct proto_framer *f)
{
    size_t at = f->off;
    for (;;) {
        size_t avail = f->len - at;
        if (avail == 0)
            return 0;
        if (avail < PROTO_FRAME_HEADER)
            return PROTO_FRAME_HEADER - avail;
        size_t whole = PROTO_FRAME_HEADER + (size_t)proto_get_u32be(f->buf + at);
        if (whole > avail)
            return whole - avail;
        at += whole;
    }
}

int proto_framer_feed(struct proto_framer *f, const uint8_t *data, size_t n)
{
    if (f->error)
        return f->error;
    if (n == 0)
        return 0;
    if (framer_stash(f) < 0)
        return f->error;
    /* Complete the frame begun in the buffer; the rest is read in place. */
    while (n > 0 && f->off < f->len) {
        size_t lack = owned_lacks(f);
        if (lack == 0)
            break;
        size_t take = n < lack ? n : lack;
        if (owned_append(f, data, take) < 0)
            return f->error;
        data += take;
        n -= take;
        int rc = framer_check_header(f);
        if (rc < 0)
            return rc;
    }
    if (n > 0) {
        f->in = data;
        f->in_len = n;
        f->in_off = 0;
    }
    return framer_check_header(f);
}

int proto_framer_next(struct proto_framer *f, const uint8_t **body, uint32_t *len)
{
    if (f->error)
        return f->error;
    /* A buffer that is all consumed goes: idle connections hold none. */
    if (f->buf && f->off == f->len) {
        free(f->buf);
        f->buf = NULL;
        f->len = f->off = f->cap = 0;
    }
    int rc = framer_check_header(f);
    if (rc < 0)
        return rc;
    size_t avail;
    const uint8_t *p = framer_at(f, &avail);
    if (avail < PROTO_FRAME_HEADER || avail - PROTO_FRAME_HEADER < proto_get_u32be(p)) {
        /* The caller's bytes may go once we return: keep a partial frame. */
        return framer_stash(f) < 0 ? f->error : 0;
    }
    uint32_t n = proto_get_u32be(p);
    *body = p + PROTO_FRAME_HEADER;
    *len = n;
    if (f->off < f->len)
        f->off += PROTO_FRAME_HEADER + (size_t)n;
    else
        f->in_off += PROTO_FRAME_HEADER + (size_t)n;
    /* The next frame's header may already be here: reject it early. */
    /* A bad header behind it is reported (sticky) on the next call. */
    (void)framer_check_header(f);
    return 1;
}
