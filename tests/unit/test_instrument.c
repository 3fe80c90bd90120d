/*
 * test_instrument.c: unit tests for proto/instrument.c, the instrument
 * definition parser, and for the three shipped instruments in
 * sql/instruments/.
 *
 * The shipped files are read from the directory given as argv[1], or else
 * from LWK_SOURCE_DIR (the source tree, set by the build).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "instrument.h"

#ifndef LWK_SOURCE_DIR
#define LWK_SOURCE_DIR "."
#endif

static const char *source_dir = LWK_SOURCE_DIR;

/* ------------------------------------------------------------------ */
/* Helpers                                                              */

static char *read_instrument_file(const char *name, size_t *len)
{
    char path[4096];
    FILE *f;
    char *buf;
    long n;

    snprintf(path, sizeof path, "%s/sql/instruments/%s", source_dir, name);
    f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n > 0);
    rewind(f);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static struct instrument *parse_file(const char *name)
{
    struct instrument *inst = NULL;
    struct instrument_error err;
    size_t len;
    char *text = read_instrument_file(name, &len);
    int r = instrument_parse(text, len, &inst, &err);

    if (r != 0)
        fail_msg("%s:%u: %s (%s)", name, err.line, err.message, instrument_strerror(r));
    free(text);
    return inst;
}

static struct instrument *parse_text(const char *text)
{
    struct instrument *inst = NULL;
    struct instrument_error err;
    int r = instrument_parse(text, strlen(text), &inst, &err);

    if (r != 0)
        fail_msg("line %u: %s (%s)", err.line, err.message, instrument_strerror(r));
    return inst;
}

static void expect_error_len(const char *text, size_t len, int code, unsigned line)
{
    static struct instrument sentinel;
    struct instrument *inst = &sentinel; /* the parser must reset it to NULL */
    struct instrument_error err;
    int r = instrument_parse(text, len, &inst, &err);

    if (r != code || err.line != line)
        fail_msg("expected %s at line %u, got %s at line %u: %s", instrument_strerror(code), line,
                 instrument_strerror(r), err.line, err.message);
    assert_int_equal(err.code, code);
    assert_null(inst);
    assert_true(strlen(err.message) > 0);
    assert_null(strchr(err.message, '\n'));
}

static void expect_error(const char *text, int code, unsigned line)
{
    expect_error_len(text, strlen(text), code, line);
}

/* A small valid instrument, in pieces with known line numbers. */
#define HEADER                                                                                     \
    "format = 1\n"                         /* 1 */                                                 \
    "key = demo\n"                         /* 2 */                                                 \
    "version = 1\n"                        /* 3 */                                                 \
    "name.nl = Demo\n"                     /* 4 */                                                 \
    "name.en = Demo\n"                     /* 5 */                                                 \
    "steps = lobby score explain closed\n" /* 6 */

#define ITEM_A                                                                                     \
    "[item a]\n"              /* 7 */                                                              \
    "name.nl = A\n"           /* 8 */                                                              \
    "name.en = A\n"           /* 9 */                                                              \
    "prompt.nl = Vraag?\n"    /* 10 */                                                             \
    "prompt.en = Question?\n" /* 11 */                                                             \
    "scored = yes\n"          /* 12 */                                                             \
    "scale = 1-10\n"          /* 13 */

#define AGENDA_X                                                                                   \
    "[agenda x]\n"   /* 14 */                                                                      \
    "title.nl = X\n" /* 15 */                                                                      \
    "title.en = X\n" /* 16 */                                                                      \
    "minutes = 5\n"  /* 17 */                                                                      \
    "step = score\n" /* 18 */

/* ------------------------------------------------------------------ */
/* The shipped instruments                                              */

static void lwk_meting_scores_four_capabilities_from_1_to_10(void **state)
{
    static const char *const names[] = {"Absorptievermogen", "Verbindend vermogen",
                                        "Opleidend vermogen", "Lerend vermogen"};
    struct instrument *inst = parse_file("lwk-meting.lwki");

    (void)state;
    assert_string_equal(inst->key, "lwk-meting");
    assert_int_equal(inst->n_items, 4);
    assert_int_equal(instrument_scored_count(inst), 4);
    for (size_t i = 0; i < 4; i++) {
        assert_string_equal(inst->items[i].name.nl, names[i]);
        assert_non_null(inst->items[i].name.en);
        assert_non_null(inst->items[i].prompt.nl);
        assert_non_null(inst->items[i].prompt.en);
        assert_true(inst->items[i].scored);
        assert_int_equal(inst->items[i].scale_min, 1);
        assert_int_equal(inst->items[i].scale_max, 10);
    }
    assert_false(inst->select);
    assert_int_equal(inst->n_steps, INSTRUMENT_STEP_COUNT);
    for (int s = 0; s < INSTRUMENT_STEP_COUNT; s++)
        assert_true(instrument_has_step(inst, (enum instrument_step)s));
    assert_int_equal(instrument_first_step(inst), INSTRUMENT_STEP_REVIEW);
    assert_int_equal(instrument_next_step(inst, INSTRUMENT_STEP_SCORE), INSTRUMENT_STEP_EXPLAIN);
    assert_int_equal(instrument_next_step(inst, INSTRUMENT_STEP_CLOSED), -1);
    assert_true(inst->min_reveal >= 2);
    instrument_free(inst);
}

static void quickscan_runs_32_minutes_and_scores_nothing(void **state)
{
    struct instrument *inst = parse_file("quickscan.lwki");
    const struct instrument_agenda *scenarios;

    (void)state;
    assert_string_equal(inst->key, "quickscan");
    assert_int_equal(instrument_total_minutes(inst), 32);
    assert_int_equal(instrument_scored_count(inst), 0);
    assert_false(instrument_has_step(inst, INSTRUMENT_STEP_SCORE));
    assert_false(instrument_has_step(inst, INSTRUMENT_STEP_DESIRED));
    assert_int_equal(inst->n_items, 4);
    assert_int_equal(inst->n_agenda, 4);
    assert_int_equal(inst->agenda[0].minutes, 3);
    assert_int_equal(inst->agenda[1].minutes, 20);
    assert_int_equal(inst->agenda[2].minutes, 7);
    assert_int_equal(inst->agenda[3].minutes, 2);
    /* The four scenarios share one 20-minute block. */
    scenarios = &inst->agenda[1];
    assert_int_equal(scenarios->n_items, 4);
    assert_int_equal(scenarios->step, INSTRUMENT_STEP_EXPLAIN);
    assert_int_equal(inst->agenda[2].step, INSTRUMENT_STEP_ACTIONS);
    assert_int_equal(inst->agenda[3].step, INSTRUMENT_STEP_SUMMARY);
    instrument_free(inst);
}

static void klwo_offers_13_scored_principles_to_select_from(void **state)
{
    struct instrument *inst = parse_file("klwo.lwki");

    (void)state;
    assert_string_equal(inst->key, "klwo");
    assert_true(inst->select);
    assert_int_equal(inst->n_items, 13);
    assert_int_equal(instrument_scored_count(inst), 13);
    for (size_t i = 0; i < inst->n_items; i++) {
        assert_int_equal(inst->items[i].scale_min, 1);
        assert_int_equal(inst->items[i].scale_max, 10);
        assert_true(inst->items[i].notes);
    }
    instrument_free(inst);
}

static void shipped_files_round_trip_through_format(void **state)
{
    static const char *const files[] = {"lwk-meting.lwki", "quickscan.lwki", "klwo.lwki"};

    (void)state;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        struct instrument *a = parse_file(files[i]);
        char *text = instrument_format(a);
        struct instrument *b;
        char *again;

        assert_non_null(text);
        b = parse_text(text);
        assert_true(instrument_equal(a, b));
        again = instrument_format(b);
        assert_string_equal(text, again);
        free(again);
        free(text);
        instrument_free(b);
        instrument_free(a);
    }
}

/* Every prefix and a one-bit change at every byte must either parse or fail
 * cleanly: the sanitizers catch any overrun, leak or undefined behaviour. */
static void damaged_shipped_files_fail_cleanly(void **state)
{
    static const char *const files[] = {"lwk-meting.lwki", "quickscan.lwki", "klwo.lwki"};

    (void)state;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        size_t len;
        char *text = read_instrument_file(files[i], &len);
        char *copy = malloc(len);

        assert_non_null(copy);
        for (size_t n = 0; n < len; n++) {
            struct instrument *inst;
            struct instrument_error err;
            /* An exact-size copy, so reading past n is an ASan error. */
            char *prefix = malloc(n ? n : 1);
            assert_non_null(prefix);
            memcpy(prefix, text, n);
            if (instrument_parse(prefix, n, &inst, &err) == 0)
                instrument_free(inst);
            else
                assert_true(err.line <= 1 + (unsigned)n);
            free(prefix);

            memcpy(copy, text, len);
            copy[n] ^= (char)(1u << (n % 8));
            if (instrument_parse(copy, len, &inst, &err) == 0)
                instrument_free(inst);
        }
        free(copy);
        free(text);
    }
}

/* ------------------------------------------------------------------ */
/* Accepted input                                                       */

static void minimal_instrument_parses(void **state)
{
    struct instrument *inst = parse_text(HEADER ITEM_A AGENDA_X "items = a\n");

    (void)state;
    assert_string_equal(inst->key, "demo");
    assert_int_equal(inst->version, 1);
    assert_null(inst->description.nl);
    assert_int_equal(inst->n_steps, 4);
    assert_int_equal(inst->agenda[0].n_items, 1);
    assert_int_equal(inst->agenda[0].items[0], 0);
    assert_int_equal(instrument_item_index(inst, "a"), 0);
    assert_int_equal(instrument_item_index(inst, "b"), -1);
    instrument_free(inst);
}

static void comments_blanks_crlf_bom_and_tabs_are_accepted(void **state)
{
    (void)state;
    const char *text = "\xEF\xBB\xBF# a comment\r\n"
                       "\r\n"
                       "format = 1\r\n"
                       "\tkey\t=\tdemo  \r\n"
                       "version=7\r\n"
                       "  # indented comment with = and [brackets]\r\n"
                       "name.nl = Café #1 = één\r\n"
                       "name.en = Cafe\r\n"
                       "steps = lobby   explain closed\r\n"
                       "[ item   b ]\r\n"
                       "name.nl = B\r\n"
                       "name.en = B\r\n"
                       "prompt.nl = ?\r\n"
                       "prompt.en = ?\r\n"
                       "scored = no";
    struct instrument *inst = parse_text(text);

    assert_string_equal(inst->key, "demo");
    assert_int_equal(inst->version, 7);
    assert_string_equal(inst->name.nl, "Café #1 = één");
    assert_int_equal(inst->n_steps, 3);
    assert_string_equal(inst->items[0].key, "b");
    assert_false(inst->items[0].scored);
    assert_int_equal(inst->items[0].scale_max, 0);
    instrument_free(inst);
}

static void step_names_map_both_ways(void **state)
{
    (void)state;
    assert_int_equal(instrument_step_index("review"), INSTRUMENT_STEP_REVIEW);
    assert_int_equal(instrument_step_index("look_ahead"), INSTRUMENT_STEP_LOOK_AHEAD);
    assert_int_equal(instrument_step_index("closed"), INSTRUMENT_STEP_CLOSED);
    assert_int_equal(instrument_step_index("look-ahead"), -1);
    assert_int_equal(instrument_step_index(""), -1);
    assert_int_equal(instrument_step_index(NULL), -1);
    for (int s = 0; s < INSTRUMENT_STEP_COUNT; s++)
        assert_int_equal(instrument_step_index(instrument_step_name(s)), s);
    assert_null(instrument_step_name(-1));
    assert_null(instrument_step_name(INSTRUMENT_STEP_COUNT));
}

static void format_of_a_minimal_instrument_round_trips(void **state)
{
    (void)state;
    struct instrument *a =
        parse_text(HEADER "select = yes\nmin_reveal = 2\n" ITEM_A
                          "guide.nl = Hint\nguide.en = Hint\nnotes = yes\n"
                          "[item b]\nname.nl = B\nname.en = B\n"
                          "prompt.nl = ?\nprompt.en = ?\nscored = no\n" AGENDA_X "items = a\n");
    char *text = instrument_format(a);
    struct instrument *b = parse_text(text);

    assert_true(instrument_equal(a, b));
    assert_non_null(strstr(text, "\n[item b]\n"));
    assert_non_null(strstr(text, "\nmin_reveal = 2\n"));
    free(text);
    instrument_free(b);
    instrument_free(a);
}

static void equal_notices_a_changed_text(void **state)
{
    struct instrument *a = parse_text(HEADER ITEM_A);
    struct instrument *b = parse_text(HEADER ITEM_A);

    (void)state;
    assert_true(instrument_equal(a, b));
    b->items[0].prompt.en[0] = 'q';
    assert_false(instrument_equal(a, b));
    instrument_free(b);
    instrument_free(a);
}

/* ------------------------------------------------------------------ */
/* Limits: at the limit and one past                                    */

static char *many_sections(size_t items, size_t agenda)
{
    size_t cap = 1024 + (items + agenda) * 160;
    char *text = malloc(cap);
    size_t len;

    assert_non_null(text);
    len = (size_t)snprintf(text, cap, "%s", HEADER);
    for (size_t i = 0; i < items; i++)
        len += (size_t)snprintf(text + len, cap - len,
                                "[item i%zu]\nname.nl = N\nname.en = N\nprompt.nl = P\n"
                                "prompt.en = P\nscored = yes\nscale = 1-10\n",
                                i);
    for (size_t i = 0; i < agenda; i++)
        len += (size_t)snprintf(text + len, cap - len,
                                "[agenda g%zu]\ntitle.nl = T\ntitle.en = T\nminutes = 1\n"
                                "step = explain\n",
                                i);
    assert_true(len < cap);
    return text;
}

static void at_most_32_items(void **state)
{
    char *text = many_sections(INSTRUMENT_MAX_ITEMS, 0);
    struct instrument *inst = parse_text(text);

    (void)state;
    assert_int_equal(inst->n_items, 32);
    instrument_free(inst);
    free(text);
    text = many_sections(INSTRUMENT_MAX_ITEMS + 1, 0);
    /* Each item takes 7 lines after the 6 header lines: the 33rd starts on 6 + 32 * 7 + 1. */
    expect_error(text, INSTRUMENT_ERR_LIMIT, 6 + 32 * 7 + 1);
    free(text);
}

static void at_most_32_agenda_entries(void **state)
{
    char *text = many_sections(1, INSTRUMENT_MAX_AGENDA);
    struct instrument *inst = parse_text(text);

    (void)state;
    assert_int_equal(inst->n_agenda, 32);
    instrument_free(inst);
    free(text);
    text = many_sections(1, INSTRUMENT_MAX_AGENDA + 1);
    /* Header 6 lines, one item 7 lines, each agenda entry 5 lines. */
    expect_error(text, INSTRUMENT_ERR_LIMIT, 6 + 7 + 32 * 5 + 1);
    free(text);
}

static void values_hold_at_most_1000_bytes(void **state)
{
    char value[INSTRUMENT_MAX_VALUE + 2];
    char text[2048];
    struct instrument *inst;

    (void)state;
    memset(value, 'x', sizeof value);
    /* 1000 bytes, the last character two bytes of UTF-8. */
    value[INSTRUMENT_MAX_VALUE - 2] = '\xC3';
    value[INSTRUMENT_MAX_VALUE - 1] = '\xA9';
    value[INSTRUMENT_MAX_VALUE] = '\0';
    snprintf(text, sizeof text, HEADER "description.nl = %s\ndescription.en = d\n" ITEM_A, value);
    inst = parse_text(text);
    assert_int_equal(strlen(inst->description.nl), INSTRUMENT_MAX_VALUE);
    instrument_free(inst);

    value[INSTRUMENT_MAX_VALUE] = 'x';
    value[INSTRUMENT_MAX_VALUE + 1] = '\0';
    snprintf(text, sizeof text, HEADER "description.nl = %s\ndescription.en = d\n" ITEM_A, value);
    expect_error(text, INSTRUMENT_ERR_LIMIT, 7);
}

static void names_hold_at_most_200_characters(void **state)
{
    char name[2 * INSTRUMENT_MAX_NAME + 3];
    char text[2048];
    struct instrument *inst;

    (void)state;
    /* 200 characters of two bytes each: the limit counts characters. */
    for (size_t i = 0; i < INSTRUMENT_MAX_NAME; i++)
        memcpy(name + 2 * i, "\xC3\xA9", 2);
    name[2 * INSTRUMENT_MAX_NAME] = '\0';
    snprintf(text, sizeof text,
             HEADER ITEM_A "[item b]\nname.nl = %s\nname.en = B\n"
                           "prompt.nl = ?\nprompt.en = ?\nscored = no\n",
             name);
    inst = parse_text(text);
    assert_int_equal(strlen(inst->items[1].name.nl), 2 * INSTRUMENT_MAX_NAME);
    instrument_free(inst);

    memcpy(name + 2 * INSTRUMENT_MAX_NAME, "e", 2);
    snprintf(text, sizeof text, HEADER ITEM_A "[item b]\nname.nl = %s\n", name);
    expect_error(text, INSTRUMENT_ERR_LIMIT, 15);
    snprintf(text, sizeof text, "format = 1\nname.en = %s\n", name);
    expect_error(text, INSTRUMENT_ERR_LIMIT, 2);
    snprintf(text, sizeof text, HEADER ITEM_A "[agenda x]\ntitle.en = %s\n", name);
    expect_error(text, INSTRUMENT_ERR_LIMIT, 15);
}

static void agenda_minutes_run_from_0_to_600(void **state)
{
    (void)state;
    struct instrument *inst = parse_text(HEADER ITEM_A "[agenda x]\ntitle.nl = X\ntitle.en = X\n"
                                                       "minutes = 600\nstep = lobby\n"
                                                       "[agenda y]\ntitle.nl = Y\ntitle.en = Y\n"
                                                       "minutes = 0\nstep = closed\n");
    assert_int_equal(inst->agenda[0].minutes, 600);
    assert_int_equal(inst->agenda[1].minutes, 0);
    assert_int_equal(instrument_total_minutes(inst), 600);
    instrument_free(inst);
    expect_error(HEADER ITEM_A "[agenda x]\ntitle.nl = X\ntitle.en = X\nminutes = 601\n",
                 INSTRUMENT_ERR_RANGE, 17);
}

static void text_of_256_kib_parses_and_one_byte_more_does_not(void **state)
{
    static const char body[] = HEADER ITEM_A;
    size_t len = INSTRUMENT_MAX_TEXT + 1;
    char *text = malloc(len);
    struct instrument *inst;
    struct instrument_error err;

    (void)state;
    assert_non_null(text);
    /* A valid instrument followed by one long comment up to the limit. */
    memcpy(text, body, sizeof body - 1);
    memset(text + sizeof body - 1, '#', len - (sizeof body - 1));
    assert_int_equal(instrument_parse(text, INSTRUMENT_MAX_TEXT, &inst, &err), 0);
    instrument_free(inst);
    expect_error_len(text, len, INSTRUMENT_ERR_TOO_LARGE, 0);
    free(text);
}

static void numbers_and_keys_at_their_limits(void **state)
{
    struct instrument *inst;

    (void)state;
    inst = parse_text("format = 1\nkey = abcdefghijklmnopqrstuvwxyz-01234\nversion = 999999999\n"
                      "name.nl = D\nname.en = D\nsteps = lobby score closed\nmin_reveal = 100\n"
                      "[item abcdefghijklmnopqrstuvwxyz-01234]\nname.nl = A\nname.en = A\n"
                      "prompt.nl = ?\nprompt.en = ?\nscored = yes\nscale = 9-10\n");
    assert_int_equal(strlen(inst->key), INSTRUMENT_MAX_KEY);
    assert_int_equal(inst->version, INSTRUMENT_MAX_VERSION);
    assert_int_equal(inst->min_reveal, INSTRUMENT_MAX_MIN_REVEAL);
    assert_int_equal(inst->items[0].scale_min, 9);
    instrument_free(inst);
    expect_error("format = 1\nkey = abcdefghijklmnopqrstuvwxyz-012345\n", INSTRUMENT_ERR_VALUE, 2);
    expect_error("format = 1\nversion = 1000000000\n", INSTRUMENT_ERR_RANGE, 2);
    expect_error("format = 1\nmin_reveal = 101\n", INSTRUMENT_ERR_RANGE, 2);
}

static void nul_byte_is_an_encoding_error(void **state)
{
    static const char text[] = HEADER "# comment with a \0 inside\n" ITEM_A;

    (void)state;
    expect_error_len(text, sizeof text - 1, INSTRUMENT_ERR_ENCODING, 7);
}

/* ------------------------------------------------------------------ */
/* Errors: each names its code and line                                 */

struct error_case {
    const char *name;
    const char *text;
    int code;
    unsigned line;
};

static const struct error_case error_cases[] = {
    {"empty_text_has_no_format_line", "", INSTRUMENT_ERR_FORMAT, 0},
    {"first_line_must_be_format", "# comment\nkey = demo\n", INSTRUMENT_ERR_FORMAT, 2},
    {"section_before_format_is_refused", "[item a]\n", INSTRUMENT_ERR_FORMAT, 1},
    {"unsupported_format_version", "format = 2\n", INSTRUMENT_ERR_FORMAT, 1},
    {"unknown_header_key", HEADER "colour = blue\n" ITEM_A, INSTRUMENT_ERR_UNKNOWN_KEY, 7},
    {"unknown_item_key", HEADER ITEM_A "colour = blue\n", INSTRUMENT_ERR_UNKNOWN_KEY, 14},
    {"unknown_agenda_key", HEADER ITEM_A AGENDA_X "colour = blue\n", INSTRUMENT_ERR_UNKNOWN_KEY,
     19},
    {"header_key_inside_a_section", HEADER ITEM_A "version = 2\n", INSTRUMENT_ERR_UNKNOWN_KEY, 14},
    {"language_must_be_nl_or_en", HEADER "name.de = Demo\n" ITEM_A, INSTRUMENT_ERR_UNKNOWN_KEY, 7},
    {"unknown_section_kind", HEADER "[question a]\n", INSTRUMENT_ERR_UNKNOWN_KEY, 7},
    {"duplicate_header_key", HEADER "version = 2\n" ITEM_A, INSTRUMENT_ERR_DUPLICATE, 7},
    {"duplicate_item_key", HEADER ITEM_A "scored = no\n", INSTRUMENT_ERR_DUPLICATE, 14},
    {"duplicate_item_section", HEADER ITEM_A ITEM_A, INSTRUMENT_ERR_DUPLICATE, 14},
    {"duplicate_agenda_section", HEADER ITEM_A AGENDA_X AGENDA_X, INSTRUMENT_ERR_DUPLICATE, 19},
    {"duplicate_step", "format = 1\nkey = d\nversion = 1\nsteps = lobby lobby closed\n",
     INSTRUMENT_ERR_DUPLICATE, 4},
    {"duplicate_agenda_item", HEADER ITEM_A AGENDA_X "items = a, a\n", INSTRUMENT_ERR_DUPLICATE,
     19},
    {"missing_header_key_is_a_file_error",
     "format = 1\nkey = demo\nversion = 1\nname.nl = Demo\nsteps = lobby closed\n"
     "[item a]\n",
     INSTRUMENT_ERR_MISSING, 0},
    {"missing_item_key_names_the_section",
     HEADER "[item a]\nname.nl = A\nname.en = A\nprompt.nl = V\nscored = no\n[item b]\n",
     INSTRUMENT_ERR_MISSING, 7},
    {"missing_key_in_last_section",
     HEADER ITEM_A "[agenda x]\ntitle.nl = X\ntitle.en = X\n"
                   "step = score\n",
     INSTRUMENT_ERR_MISSING, 14},
    {"scored_item_needs_a_scale",
     HEADER "[item a]\nname.nl = A\nname.en = A\nprompt.nl = V\nprompt.en = Q\nscored = yes\n",
     INSTRUMENT_ERR_MISSING, 7},
    {"guide_in_one_language_only", HEADER ITEM_A "guide.nl = Hint\n", INSTRUMENT_ERR_MISSING, 14},
    {"description_in_one_language_only", HEADER "description.en = About\n" ITEM_A,
     INSTRUMENT_ERR_MISSING, 7},
    {"no_items_at_all", HEADER, INSTRUMENT_ERR_MISSING, 0},
    {"invalid_utf8_truncated", HEADER "[item a]\nname.nl = Caf\xC3\n", INSTRUMENT_ERR_ENCODING, 8},
    {"invalid_utf8_overlong", HEADER "# \xC0\xAF\n", INSTRUMENT_ERR_ENCODING, 7},
    {"invalid_utf8_surrogate", "format = 1\nkey = demo\nname.nl = \xED\xA0\x80\n",
     INSTRUMENT_ERR_ENCODING, 3},
    {"invalid_utf8_beyond_unicode", "format = 1\n# \xF4\x90\x80\x80\n", INSTRUMENT_ERR_ENCODING, 2},
    {"control_character", HEADER ITEM_A "name.nl = A\x01\n", INSTRUMENT_ERR_ENCODING, 14},
    {"bare_carriage_return", "format = 1\rkey = demo\n", INSTRUMENT_ERR_ENCODING, 1},
    {"tab_inside_a_value", "format = 1\nkey = demo\nname.nl = a\tb\n", INSTRUMENT_ERR_ENCODING, 3},
    {"line_without_equals", HEADER "just some words\n", INSTRUMENT_ERR_SYNTAX, 7},
    {"missing_key_before_equals", HEADER "= value\n", INSTRUMENT_ERR_SYNTAX, 7},
    {"unclosed_section", HEADER "[item a\n", INSTRUMENT_ERR_SYNTAX, 7},
    {"section_with_two_keys", HEADER "[item a b]\n", INSTRUMENT_ERR_SYNTAX, 7},
    {"item_after_agenda",
     HEADER ITEM_A AGENDA_X
     "[item b]\nname.nl = B\nname.en = B\nprompt.nl = ?\nprompt.en = ?\nscored = no\n",
     INSTRUMENT_ERR_SYNTAX, 19},
    {"empty_value", "format = 1\nkey =\n", INSTRUMENT_ERR_VALUE, 2},
    {"key_with_capitals", "format = 1\nkey = Demo\n", INSTRUMENT_ERR_VALUE, 2},
    {"section_key_too_long", HEADER "[item abcdefghijklmnopqrstuvwxyz0123456]\n",
     INSTRUMENT_ERR_VALUE, 7},
    {"version_with_leading_zero", "format = 1\nkey = d\nversion = 01\n", INSTRUMENT_ERR_VALUE, 3},
    {"version_with_sign", "format = 1\nkey = d\nversion = +1\n", INSTRUMENT_ERR_VALUE, 3},
    {"select_must_be_yes_or_no", HEADER "select = maybe\n", INSTRUMENT_ERR_VALUE, 7},
    {"scale_without_dash", HEADER ITEM_A "[item b]\nscale = 1..10\n", INSTRUMENT_ERR_VALUE, 15},
    {"agenda_items_with_empty_entry", HEADER ITEM_A AGENDA_X "items = a,,\n", INSTRUMENT_ERR_VALUE,
     19},
    {"version_zero", "format = 1\nkey = d\nversion = 0\n", INSTRUMENT_ERR_RANGE, 3},
    {"version_too_large", "format = 1\nkey = d\nversion = 99999999999999999999\n",
     INSTRUMENT_ERR_RANGE, 3},
    {"scale_upside_down", HEADER ITEM_A "[item b]\nscale = 10-1\n", INSTRUMENT_ERR_RANGE, 15},
    {"scale_above_10", HEADER ITEM_A "[item b]\nscale = 1-11\n", INSTRUMENT_ERR_RANGE, 15},
    {"scale_below_1", HEADER ITEM_A "[item b]\nscale = 0-10\n", INSTRUMENT_ERR_RANGE, 15},
    {"key_with_underscore", "format = 1\nkey = lwk_meting\n", INSTRUMENT_ERR_VALUE, 2},
    {"min_reveal_zero", HEADER "min_reveal = 0\n", INSTRUMENT_ERR_RANGE, 7},
    {"minutes_negative", HEADER ITEM_A AGENDA_X "[agenda y]\nminutes = -1\n", INSTRUMENT_ERR_VALUE,
     20},
    {"unknown_step", "format = 1\nkey = d\nsteps = lobby dance closed\n", INSTRUMENT_ERR_STEP, 3},
    {"steps_out_of_order", "format = 1\nkey = d\nsteps = lobby explain score closed\n",
     INSTRUMENT_ERR_STEP, 3},
    {"steps_without_lobby", "format = 1\nkey = d\nsteps = score closed\n", INSTRUMENT_ERR_STEP, 3},
    {"steps_without_closed", "format = 1\nkey = d\nsteps = lobby score\n", INSTRUMENT_ERR_STEP, 3},
    {"agenda_step_unknown", HEADER ITEM_A "[agenda x]\nstep = dance\n", INSTRUMENT_ERR_STEP, 15},
    {"agenda_step_not_in_instrument", HEADER ITEM_A "[agenda x]\nstep = themes\n",
     INSTRUMENT_ERR_STEP, 15},
    {"agenda_names_unknown_item", HEADER ITEM_A AGENDA_X "items = a,b\n", INSTRUMENT_ERR_REFERENCE,
     19},
    {"scale_on_unscored_item",
     HEADER "[item a]\nname.nl = A\nname.en = A\nprompt.nl = V\nprompt.en = Q\nscale = 1-10\n"
            "scored = no\n",
     INSTRUMENT_ERR_CONFLICT, 12},
    {"scored_item_without_score_step",
     "format = 1\nkey = d\nversion = 1\nname.nl = D\nname.en = D\nsteps = lobby closed\n" ITEM_A,
     INSTRUMENT_ERR_CONFLICT, 12},
    {"score_step_without_scored_items",
     HEADER "[item a]\nname.nl = A\nname.en = A\nprompt.nl = V\nprompt.en = Q\nscored = no\n",
     INSTRUMENT_ERR_CONFLICT, 6},
    {"desired_step_needs_score_step", "format = 1\nkey = d\nsteps = lobby desired closed\n",
     INSTRUMENT_ERR_CONFLICT, 3},
    {"min_reveal_needs_score_step",
     "format = 1\nkey = d\nversion = 1\nname.nl = D\nname.en = D\nsteps = lobby closed\n"
     "min_reveal = 3\n[item a]\n",
     INSTRUMENT_ERR_CONFLICT, 7},
    {"items_on_an_entry_that_does_not_walk_items",
     HEADER ITEM_A "[agenda x]\ntitle.nl = X\ntitle.en = X\nminutes = 5\nstep = lobby\n"
                   "items = a\n",
     INSTRUMENT_ERR_CONFLICT, 19},
    {"unscored_item_on_score_entry",
     HEADER ITEM_A "[item b]\nname.nl = B\nname.en = B\nprompt.nl = ?\nprompt.en = ?\n"
                   "scored = no\n" AGENDA_X "items = a,b\n",
     INSTRUMENT_ERR_CONFLICT, 25},
};

static void error_case(void **state)
{
    const struct error_case *c = *state;

    (void)state;
    expect_error(c->text, c->code, c->line);
}

#define N_ERROR_CASES (sizeof error_cases / sizeof error_cases[0])

static const struct CMUnitTest fixed_tests[] = {
    cmocka_unit_test(lwk_meting_scores_four_capabilities_from_1_to_10),
    cmocka_unit_test(quickscan_runs_32_minutes_and_scores_nothing),
    cmocka_unit_test(klwo_offers_13_scored_principles_to_select_from),
    cmocka_unit_test(shipped_files_round_trip_through_format),
    cmocka_unit_test(damaged_shipped_files_fail_cleanly),
    cmocka_unit_test(minimal_instrument_parses),
    cmocka_unit_test(comments_blanks_crlf_bom_and_tabs_are_accepted),
    cmocka_unit_test(step_names_map_both_ways),
    cmocka_unit_test(format_of_a_minimal_instrument_round_trips),
    cmocka_unit_test(equal_notices_a_changed_text),
    cmocka_unit_test(at_most_32_items),
    cmocka_unit_test(at_most_32_agenda_entries),
    cmocka_unit_test(values_hold_at_most_1000_bytes),
    cmocka_unit_test(names_hold_at_most_200_characters),
    cmocka_unit_test(agenda_minutes_run_from_0_to_600),
    cmocka_unit_test(text_of_256_kib_parses_and_one_byte_more_does_not),
    cmocka_unit_test(numbers_and_keys_at_their_limits),
    cmocka_unit_test(nul_byte_is_an_encoding_error),
};

#define N_FIXED_TESTS (sizeof fixed_tests / sizeof fixed_tests[0])

int main(int argc, char **argv)
{
    struct CMUnitTest tests[N_FIXED_TESTS + N_ERROR_CASES];

    if (argc > 1)
        source_dir = argv[1];
    memcpy(tests, fixed_tests, sizeof fixed_tests);
    for (size_t i = 0; i < N_ERROR_CASES; i++) {
        struct CMUnitTest t = {error_cases[i].name, error_case, NULL, NULL,
                               (void *)&error_cases[i]};
        tests[N_FIXED_TESTS + i] = t;
    }
    return cmocka_run_group_tests_name("instrument", tests, NULL, NULL);
}
