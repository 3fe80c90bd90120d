/*
 * test_frame.c: the streaming frame decoder and the message codec's
 * framing: any byte split of a stream yields the same messages; oversize
 * and empty frames are rejected from the header alone; the framer keeps no
 * buffer while nothing is pending, and no pointer into input it has drained.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "proto.h"

/* A stream of three different frames. */
static uint8_t *make_stream(size_t *len)
{
    struct proto_msg m[3];
    proto_msg_init(&m[0], PT_HELLO);
    proto_set_int(&m[0], PK_PROTO, 1);
    proto_set_int(&m[0], PK_KIND, PROTO_KIND_PARTICIPANT);
    proto_set_str(&m[0], PK_CODE, "ACD3479");
    proto_set_str(&m[0], PK_NAME, "Merel");
    proto_msg_init(&m[1], PT_SCORE);
    proto_set_int(&m[1], PK_ID, 7);
    proto_set_int(&m[1], PK_ITEM, 2);
    proto_set_int(&m[1], PK_VALUE, 8);
    proto_msg_init(&m[2], PT_PING);
    uint8_t *out = NULL;
    *len = 0;
    for (int i = 0; i < 3; i++) {
        uint8_t *f;
        size_t n;
        assert_int_equal(proto_encode_frame(&m[i], &f, &n), 0);
        out = realloc(out, *len + n);
        memcpy(out + *len, f, n);
        *len += n;
        free(f);
    }
    return out;
}

static void check_three(const uint8_t **bodies, const uint32_t *lens, int n)
{
    assert_int_equal(n, 3);
    enum proto_type want[3] = {PT_HELLO, PT_SCORE, PT_PING};
    for (int i = 0; i < 3; i++) {
        struct proto_msg *m;
        assert_int_equal(proto_decode(bodies[i], lens[i], false, &m, NULL), 0);
        assert_int_equal(m->type, want[i]);
        if (i == 1) {
            assert_int_equal(proto_int(m, PK_VALUE, 0), 8);
            assert_int_equal(proto_int(m, PK_ID, 0), 7);
        }
        if (i == 0)
            assert_string_equal(proto_str(m, PK_NAME), "Merel");
        proto_msg_free(m);
    }
}

/*
 * Feeds the stream cut at one offset (and then byte by byte from there).
 * Each piece comes from a scratch buffer that is scribbled over once the
 * framer is drained, as a reader's buffer is by its next read.
 */
static void feed_split(const uint8_t *s, size_t len, size_t cut, int bytewise)
{
    struct proto_framer f;
    proto_framer_init(&f, 1024);
    uint8_t *copies[3] = {0};
    const uint8_t *bodies[3];
    uint32_t lens[3];
    int n = 0;
    size_t pos = 0;
    uint8_t *scratch = malloc(len);
    while (pos < len) {
        size_t step = pos < cut ? cut - pos : (bytewise ? 1 : len - pos);
        memcpy(scratch, s + pos, step);
        assert_int_equal(proto_framer_feed(&f, scratch, step), 0);
        pos += step;
        const uint8_t *b;
        uint32_t l;
        int rc;
        while ((rc = proto_framer_next(&f, &b, &l)) == 1) {
            assert_true(n < 3);
            copies[n] = malloc(l);
            memcpy(copies[n], b, l);
            bodies[n] = copies[n];
            lens[n++] = l;
        }
        assert_int_equal(rc, 0);
        memset(scratch, 0xee, len);
    }
    assert_int_equal(proto_framer_pending(&f), 0);
    assert_null(f.buf); /* nothing pending: nothing held */
    check_three(bodies, lens, n);
    for (int i = 0; i < n; i++)
        free(copies[i]);
    free(scratch);
    proto_framer_free(&f);
}

static void every_split_of_a_stream_gives_the_same_messages(void **state)
{
    size_t len;
    uint8_t *s = make_stream(&len);
    for (size_t cut = 1; cut <= len; cut++) {
        feed_split(s, len, cut, 0);
        feed_split(s, len, cut, 1);
    }
    free(s);
}

static void oversize_header_is_rejected_before_the_body(void **state)
{
    struct proto_framer f;
    proto_framer_init(&f, 65536);
    /* 4 GiB declared: refused from the header, nothing allocated for it. */
    const uint8_t hdr[4] = {0xff, 0xff, 0xff, 0xff};
    assert_int_equal(proto_framer_feed(&f, hdr, 3), 0);
    assert_int_equal(proto_framer_feed(&f, hdr + 3, 1), PROTO_ERR_TOO_LARGE);
    assert_true(f.cap < 65536);
    /* Sticky: the stream can't be trusted afterwards. */
    const uint8_t more[2] = {0x81, 0xa1};
    assert_int_equal(proto_framer_feed(&f, more, 2), PROTO_ERR_TOO_LARGE);
    proto_framer_free(&f);
}

static void frame_at_the_limit_passes_one_past_fails(void **state)
{
    struct proto_framer f;
    proto_framer_init(&f, 100);
    uint8_t hdr[4];
    proto_put_u32be(hdr, 100);
    assert_int_equal(proto_framer_feed(&f, hdr, 4), 0);
    proto_framer_free(&f);
    proto_framer_init(&f, 100);
    proto_put_u32be(hdr, 101);
    assert_int_equal(proto_framer_feed(&f, hdr, 4), PROTO_ERR_TOO_LARGE);
    proto_framer_free(&f);
}

static void empty_frame_is_malformed(void **state)
{
    struct proto_framer f;
    proto_framer_init(&f, 100);
    const uint8_t hdr[4] = {0, 0, 0, 0};
    assert_int_equal(proto_framer_feed(&f, hdr, 4), PROTO_ERR_MALFORMED);
    proto_framer_free(&f);
}

static void bad_header_behind_a_good_frame_still_yields_the_good_one(void **state)
{
    size_t len;
    uint8_t *s = make_stream(&len);
    uint32_t first = proto_get_u32be(s) + 4;
    uint8_t *buf = malloc(first + 4);
    memcpy(buf, s, first);
    memset(buf + first, 0xff, 4);
    struct proto_framer f;
    proto_framer_init(&f, 1024);
    /* The bad header arrives with the good frame: the good one comes first. */
    const uint8_t *b;
    uint32_t l;
    assert_int_equal(proto_framer_feed(&f, buf, first + 4), 0);
    assert_int_equal(proto_framer_next(&f, &b, &l), 1);
    assert_int_equal(l, first - 4);
    assert_int_equal(proto_framer_next(&f, &b, &l), PROTO_ERR_TOO_LARGE);
    proto_framer_free(&f);
    /* Fed separately, the good frame comes out before the error. */
    proto_framer_init(&f, 1024);
    assert_int_equal(proto_framer_feed(&f, buf, first), 0);
    assert_int_equal(proto_framer_next(&f, &b, &l), 1);
    assert_int_equal(proto_framer_feed(&f, buf + first, 4), PROTO_ERR_TOO_LARGE);
    assert_int_equal(proto_framer_next(&f, &b, &l), PROTO_ERR_TOO_LARGE);
    proto_framer_free(&f);
    free(buf);
    free(s);
}

static void idle_framer_holds_no_buffer(void **state)
{
    size_t len;
    uint8_t *s = make_stream(&len);
    uint32_t first = proto_get_u32be(s) + 4;
    struct proto_framer f;
    proto_framer_init(&f, 1024);
    const uint8_t *b;
    uint32_t l;
    /* Whole frames are read in place: nothing is ever allocated. */
    assert_int_equal(proto_framer_feed(&f, s, len), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(proto_framer_next(&f, &b, &l), 1);
        assert_true(b > s && b < s + len);
    }
    assert_int_equal(proto_framer_next(&f, &b, &l), 0);
    assert_null(f.buf);
    assert_int_equal(f.cap, 0);
    assert_null(f.in);

    /* A frame cut in two: only its first piece is kept, until it is whole. */
    assert_int_equal(proto_framer_feed(&f, s, first - 3), 0);
    assert_int_equal(proto_framer_next(&f, &b, &l), 0);
    assert_non_null(f.buf);
    assert_int_equal(f.len - f.off, first - 3);
    assert_int_equal(proto_framer_pending(&f), first - 3);
    assert_null(f.in);
    /* The rest completes it, and the frames behind it are read in place. */
    assert_int_equal(proto_framer_feed(&f, s + first - 3, len - first + 3), 0);
    assert_true(f.len - f.off == first); /* only the lacking 3 bytes were copied */
    assert_int_equal(proto_framer_next(&f, &b, &l), 1);
    assert_int_equal(l, first - 4);
    assert_int_equal(proto_framer_next(&f, &b, &l), 1);
    assert_null(f.buf); /* consumed, so released */
    assert_true(b > s && b < s + len);
    assert_int_equal(proto_framer_next(&f, &b, &l), 1);
    assert_int_equal(proto_framer_next(&f, &b, &l), 0);
    assert_null(f.buf);
    assert_int_equal(proto_framer_pending(&f), 0);

    /* A header cut after two bytes: the same, in three steps. */
    assert_int_equal(proto_framer_feed(&f, s, 2), 0);
    assert_int_equal(proto_framer_next(&f, &b, &l), 0);
    assert_int_equal(proto_framer_feed(&f, s + 2, 2), 0);
    assert_int_equal(proto_framer_next(&f, &b, &l), 0);
    assert_int_equal(proto_framer_feed(&f, s + 4, len - 4), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(proto_framer_next(&f, &b, &l), 1);
    assert_int_equal(proto_framer_next(&f, &b, &l), 0);
    assert_null(f.buf);
    proto_framer_free(&f);
    free(s);
}

static void input_fed_twice_before_draining_is_kept(void **state)
{
    size_t len;
    uint8_t *s = make_stream(&len);
    uint32_t first = proto_get_u32be(s) + 4;
    uint8_t *one = malloc(len), *two = malloc(len);
    memcpy(one, s, first + 2);
    memcpy(two, s + first + 2, len - first - 2);
    struct proto_framer f;
    proto_framer_init(&f, 1024);
    assert_int_equal(proto_framer_feed(&f, one, first + 2), 0);
    assert_int_equal(proto_framer_feed(&f, two, len - first - 2), 0);
    /* The first input may go once the second feed has returned. */
    memset(one, 0xee, len);
    assert_int_equal(proto_framer_pending(&f), len);
    uint8_t *copies[3];
    const uint8_t *bodies[3], *b;
    uint32_t lens[3], l;
    for (int i = 0; i < 3; i++) { /* a body lasts until the next call */
        assert_int_equal(proto_framer_next(&f, &b, &l), 1);
        copies[i] = malloc(l);
        memcpy(copies[i], b, l);
        bodies[i] = copies[i];
        lens[i] = l;
    }
    check_three(bodies, lens, 3);
    assert_int_equal(proto_framer_next(&f, &b, &l), 0);
    assert_null(f.buf);
    for (int i = 0; i < 3; i++)
        free(copies[i]);
    proto_framer_free(&f);
    free(one);
    free(two);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_split_of_a_stream_gives_the_same_messages),
        cmocka_unit_test(oversize_header_is_rejected_before_the_body),
        cmocka_unit_test(frame_at_the_limit_passes_one_past_fails),
        cmocka_unit_test(empty_frame_is_malformed),
        cmocka_unit_test(bad_header_behind_a_good_frame_still_yields_the_good_one),
        cmocka_unit_test(idle_framer_holds_no_buffer),
        cmocka_unit_test(input_fed_twice_before_draining_is_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
