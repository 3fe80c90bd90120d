/*
 * fuzz_decode.c: libFuzzer harness for everything that reads untrusted
 * bytes in proto/: the streaming framer and the message decoder.
 *
 * The input is a byte stream as a peer would send it. It goes through the
 * framer whole and again in small pieces (both must yield the same frames
 * and the same error); each frame body, and the raw input itself, is decoded
 * as a client request (no nesting) and as a server message (nesting). On top
 * of "no crash, no leak, no undefined behaviour" the harness checks:
 *   - whatever the client-side decode accepts, the server-side one does too;
 *   - an accepted message passes the pre-scan alone, encodes without error,
 *     and decodes again to an equal message.
 * Built and run by tests/fuzz/run.sh (clang, -fsanitize=fuzzer,address,undefined).
 */
#include "frame.h"
#include "proto.h"
#include "proto_gen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_decode: check failed: %s (line %d)\n", #cond, __LINE__);         \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static void check_body(const uint8_t *body, size_t len)
{
    struct proto_msg *client = NULL, *server = NULL;
    struct proto_error e1, e2;
    int rc1 = proto_decode(body, len, false, &client, &e1);
    int rc2 = proto_decode(body, len, true, &server, &e2);
    CHECK((rc1 == 0) == (client != NULL));
    CHECK((rc2 == 0) == (server != NULL));
    CHECK(rc1 <= 0 && rc2 <= 0);
    if (rc1 < 0)
        CHECK(e1.code == rc1 && e1.id >= -1 && e1.id <= 4294967295LL);
    if (rc1 == 0)
        CHECK(rc2 == 0);
    if (rc2 == 0) {
        char why[256];
        if (client)
            CHECK(gen_msg_equal(client, server, why, sizeof(why)));
        CHECK(proto_mp_check(body, len, PROTO_MAX_DEPTH) == 0);
        uint8_t *frame;
        size_t flen;
        CHECK(proto_encode_frame(server, &frame, &flen) == 0);
        CHECK(flen >= PROTO_FRAME_HEADER && proto_get_u32be(frame) == flen - PROTO_FRAME_HEADER);
        struct proto_msg *again = NULL;
        CHECK(proto_decode(frame + PROTO_FRAME_HEADER, flen - PROTO_FRAME_HEADER, true, &again,
                           NULL) == 0);
        if (!gen_msg_equal(server, again, why, sizeof(why))) {
            fprintf(stderr, "fuzz_decode: round trip differs: %s\n", why);
            abort();
        }
        proto_msg_free(again);
        free(frame);
    }
    proto_msg_free(client);
    proto_msg_free(server);
}

struct frames {
    uint8_t **body;
    uint32_t *len;
    size_t n, cap;
    int error;
};

static void frames_add(struct frames *fs, const uint8_t *b, uint32_t len)
{
    if (fs->n == fs->cap) {
        fs->cap = fs->cap ? fs->cap * 2 : 8;
        fs->body = realloc(fs->body, fs->cap * sizeof(*fs->body));
        fs->len = realloc(fs->len, fs->cap * sizeof(*fs->len));
        CHECK(fs->body && fs->len);
    }
    fs->body[fs->n] = malloc(len ? len : 1);
    CHECK(fs->body[fs->n]);
    memcpy(fs->body[fs->n], b, len);
    fs->len[fs->n++] = len;
}

static void frames_free(struct frames *fs)
{
    for (size_t i = 0; i < fs->n; i++)
        free(fs->body[i]);
    free(fs->body);
    free(fs->len);
}

/* Feeds data in pieces of step bytes (0: all at once), draining after each. */
static void run_framer(const uint8_t *data, size_t size, size_t step, uint32_t max,
                       struct frames *out)
{
    struct proto_framer f;
    proto_framer_init(&f, max);
    size_t pos = 0;
    int rc = 0;
    do {
        size_t n = step && size - pos > step ? step : size - pos;
        rc = proto_framer_feed(&f, data + pos, n);
        pos += n;
        while (rc == 0) {
            const uint8_t *b;
            uint32_t len;
            rc = proto_framer_next(&f, &b, &len);
            if (rc == 1) {
                CHECK(len > 0 && len <= max);
                frames_add(out, b, len);
                rc = 0;
            } else {
                break;
            }
        }
        /* Memory follows the bytes that arrived, never a declared length. */
        CHECK(f.cap <= 2 * size + 4096);
    } while (rc == 0 && pos < size);
    out->error = rc < 0 ? rc : 0;
    if (rc < 0) /* sticky */
        CHECK(proto_framer_feed(&f, data, size ? 1 : 0) == rc || size == 0);
    proto_framer_free(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A small limit sometimes, so that "too large" is reached often. */
    uint32_t max = size && (data[size - 1] & 1) ? 256 : PROTO_DEFAULT_MAX_FRAME;
    struct frames whole = {0}, pieces = {0};
    run_framer(data, size, 0, max, &whole);
    run_framer(data, size, 1 + (size ? data[0] % 13 : 0), max, &pieces);
    /* Any split gives the same frames; an error may show up no later. */
    CHECK(pieces.error == whole.error);
    CHECK(pieces.n == whole.n);
    for (size_t i = 0; i < whole.n; i++) {
        CHECK(pieces.len[i] == whole.len[i]);
        CHECK(memcmp(pieces.body[i], whole.body[i], whole.len[i]) == 0);
        check_body(whole.body[i], whole.len[i]);
    }
    frames_free(&whole);
    frames_free(&pieces);
    /* The raw input as a body, with and without what looks like a prefix. */
    check_body(data, size);
    if (size > PROTO_FRAME_HEADER)
        check_body(data + PROTO_FRAME_HEADER, size - PROTO_FRAME_HEADER);
    return 0;
}
