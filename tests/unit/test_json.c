/*
 * test_json.c: proto_to_json, the encoder behind session_events.data.
 * Every value kind comes out as JSON of the right type, strings are escaped,
 * nested rows are untyped and nested events typed, and a message decoded
 * from the wire gives the same text as the one built by hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "proto.h"

static void expect_json(const struct proto_msg *m, const char *want)
{
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(proto_to_json(m, &out, &len), 0);
    assert_string_equal(out, want);
    assert_int_equal(len, strlen(want));
    free(out);
}

static void every_kind_of_value_has_its_json_type(void **state)
{
    struct proto_msg m;
    proto_msg_init(&m, PT_EV_PHASE);
    proto_set_int(&m, PK_SEQ, 12);
    proto_set_int(&m, PK_TS, 1700000000123);
    proto_set_int(&m, PK_PHASE, PROTO_PHASE_SCORE);
    proto_set_int(&m, PK_ITEM, 0);
    proto_set_int(&m, PK_ROUND, 2);
    expect_json(&m, "{\"t\":\"phase\",\"seq\":12,\"ts\":1700000000123,\"item\":0,\"round\":2,"
                    "\"phase\":\"score\"}");

    int64_t vals[] = {3, 7, 4, 9};
    proto_msg_init(&m, PT_EV_REVEALED);
    proto_set_int(&m, PK_SEQ, 13);
    proto_set_int(&m, PK_ITEM, 1);
    proto_set_int(&m, PK_ROUND, 1);
    proto_set_ints(&m, PK_VALUES, vals, 4);
    expect_json(&m, "{\"t\":\"revealed\",\"seq\":13,\"item\":1,\"round\":1,\"values\":[3,7,4,9]}");

    proto_msg_init(&m, PT_EV_PAUSED);
    proto_set_int(&m, PK_SEQ, 2);
    proto_set_bool(&m, PK_ONLINE, false);
    expect_json(&m, "{\"t\":\"paused\",\"seq\":2,\"online\":false}");

    proto_msg_init(&m, PT_EV_THEME);
    proto_set_int(&m, PK_SEQ, 3);
    proto_set_int(&m, PK_THEME, 1);
    proto_set_str(&m, PK_TEXT, "x");
    proto_set_ints(&m, PK_ITEMS, NULL, 0);
    expect_json(&m, "{\"t\":\"theme.added\",\"seq\":3,\"text\":\"x\",\"theme\":1,\"items\":[]}");
}

static void strings_are_escaped(void **state)
{
    struct proto_msg m;
    proto_msg_init(&m, PT_EV_KEYWORD);
    proto_set_int(&m, PK_SEQ, 1);
    proto_set_int(&m, PK_KID, 1);
    proto_set_int(&m, PK_PID, 1);
    proto_set_int(&m, PK_ITEM, 0);
    proto_set_str(&m, PK_TEXT, "say \"hi\"\\\n\ttab \x01 \xc3\xa9t\xc3\xa9");
    expect_json(&m,
                "{\"t\":\"keyword.added\",\"seq\":1,\"pid\":1,\"item\":0,"
                "\"text\":\"say \\\"hi\\\"\\\\\\n\\ttab \\u0001 \xc3\xa9t\xc3\xa9\",\"kid\":1}");
}

static void rows_are_untyped_and_events_typed(void **state)
{
    struct proto_msg rows[2], m;
    int64_t scale[] = {1, 10};
    proto_msg_init(&rows[0], PT__NONE);
    proto_set_int(&rows[0], PK_ITEM, 0);
    proto_set_str(&rows[0], PK_NAME, "Absorptievermogen");
    proto_set_ints(&rows[0], PK_VALUES, scale, 2);
    proto_msg_init(&rows[1], PT__NONE);
    proto_set_int(&rows[1], PK_ITEM, 1);
    proto_set_str(&rows[1], PK_NAME, "Open");
    proto_msg_init(&m, PT_EV_CREATED);
    proto_set_int(&m, PK_SEQ, 1);
    proto_set_int(&m, PK_SESSION, 4611686018427387903LL);
    proto_set_str(&m, PK_TEAM, "Team 1");
    proto_set_str(&m, PK_INSTRUMENT, "lwk-meting");
    proto_set_int(&m, PK_MIN_REVEAL, 3);
    proto_set_msgs(&m, PK_ROWS, rows, 2);
    /* keys in catalogue order, rows included ("name" before "item") */
    const char *want = "{\"t\":\"session.created\",\"seq\":1,\"session\":4611686018427387903,"
                       "\"team\":\"Team 1\",\"instrument\":\"lwk-meting\",\"min_reveal\":3,"
                       "\"rows\":[{\"name\":\"Absorptievermogen\",\"item\":0,\"values\":[1,10]},"
                       "{\"name\":\"Open\",\"item\":1}]}";
    expect_json(&m, want);

    /* A decoded copy gives the same text. */
    uint8_t *enc;
    size_t len;
    assert_int_equal(proto_encode(&m, &enc, &len), 0);
    struct proto_msg *d;
    assert_int_equal(proto_decode(enc, len, true, &d, NULL), 0);
    expect_json(d, want);
    proto_msg_free(d);
    free(enc);

    struct proto_msg ev[1], snap;
    proto_msg_init(&ev[0], PT_EV_CLOSED);
    proto_set_int(&ev[0], PK_SEQ, 9);
    proto_msg_init(&snap, PT_SNAPSHOT);
    proto_set_int(&snap, PK_SESSION, 5);
    proto_set_int(&snap, PK_SEQ, 9);
    proto_set_msgs(&snap, PK_EVENTS, ev, 1);
    expect_json(&snap, "{\"t\":\"snapshot\",\"seq\":9,\"session\":5,"
                       "\"events\":[{\"t\":\"closed\",\"seq\":9}]}");
}

static void an_enum_index_outside_its_list_is_refused(void **state)
{
    struct proto_msg m;
    char *out = (char *)1;
    proto_msg_init(&m, PT_EV_PHASE);
    proto_set_int(&m, PK_SEQ, 1);
    proto_set_int(&m, PK_PHASE, 99);
    assert_int_equal(proto_to_json(&m, &out, NULL), PROTO_ERR_OUT_OF_RANGE);
    assert_null(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_kind_of_value_has_its_json_type),
        cmocka_unit_test(strings_are_escaped),
        cmocka_unit_test(rows_are_untyped_and_events_typed),
        cmocka_unit_test(an_enum_index_outside_its_list_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
