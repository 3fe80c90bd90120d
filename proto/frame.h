/*
 * frame.h: the wire framing shared by lwkd and every client.
 *
 * A frame is a 4-byte big-endian unsigned length N followed by exactly N
 * bytes holding one MessagePack map. The framer accepts bytes in any split
 * and yields whole frames; an oversize length is rejected from the header,
 * before any of the body is buffered.
 *
 * Input is read in place: whole frames come straight out of the caller's
 * bytes, and only a frame that arrived in pieces is copied into the framer's
 * own buffer, which goes again once that frame has been consumed. An idle
 * connection's framer thus holds no memory, and a busy one copies nothing
 * while its reads end on frame boundaries.
 */
#ifndef LWK_PROTO_FRAME_H
#define LWK_PROTO_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define PROTO_FRAME_HEADER 4

struct proto_framer {
    uint8_t *buf;       /* owned: a frame that arrived in pieces; NULL when none */
    size_t len;         /* bytes held */
    size_t off;         /* start of the first unconsumed byte */
    size_t cap;
    const uint8_t *in;  /* borrowed: the last input, after what buf holds */
    size_t in_len;      /* its bytes */
    size_t in_off;      /* its first unconsumed byte */
    uint32_t max_frame; /* largest body accepted */
    int error;          /* sticky: once the stream is broken it stays broken */
};

void proto_framer_init(struct proto_framer *f, uint32_t max_frame);
void proto_framer_free(struct proto_framer *f);

/*
 * Appends input. Returns 0, or a negative proto error (PROTO_ERR_TOO_LARGE,
 * PROTO_ERR_MALFORMED) as soon as a header announces an unacceptable body.
 * The framer borrows data: it must stay valid and unchanged until
 * proto_framer_next has returned 0 or an error, or until the next feed or
 * free (a feed copies what is left of the previous input).
 */
int proto_framer_feed(struct proto_framer *f, const uint8_t *data, size_t n);

/* Yields the next whole frame body (valid until the next feed/next call).
 * Returns 1 with body and len set, 0 when more bytes are needed (the framer
 * then keeps no pointer into the caller's input), or a negative proto error. */
int proto_framer_next(struct proto_framer *f, const uint8_t **body, uint32_t *len);

/* Bytes buffered but not yet returned as a frame. */
size_t proto_framer_pending(const struct proto_framer *f);

static inline void proto_put_u32be(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline uint32_t proto_get_u32be(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

#endif
