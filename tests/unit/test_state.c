/*
 * test_state.c: the session reducer (proto/state.c) on hand-built events:
 * sequencing, what each event does to the state, what a client that only
 * sees public events knows, and the statistics of a score round.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "state.h"

/* ---- builders ---------------------------------------------------------- */

static struct proto_msg rows[4];
static int64_t scale[2] = {1, 10};
static const char *const item_names[4] = {"Absorptievermogen", "Verbindend vermogen",
                                          "Opleidend vermogen", "Lerend vermogen"};

static struct proto_msg ev(enum proto_type t, uint64_t seq)
{
    struct proto_msg m;
    memset(&m, 0, sizeof(m));
    proto_msg_init(&m, t);
    proto_set_int(&m, PK_SEQ, (int64_t)seq);
    return m;
}

static struct proto_msg created(void)
{
    for (int i = 0; i < 4; i++) {
        memset(&rows[i], 0, sizeof(rows[i]));
        proto_msg_init(&rows[i], PT__NONE);
        proto_set_int(&rows[i], PK_ITEM, i);
        proto_set_str(&rows[i], PK_NAME, item_names[i]);
        proto_set_ints(&rows[i], PK_VALUES, scale, 2);
    }
    struct proto_msg m = ev(PT_EV_CREATED, 1);
    proto_set_int(&m, PK_SESSION, 42);
    proto_set_str(&m, PK_TEAM, "Team Noord");
    proto_set_str(&m, PK_INSTRUMENT, "lwk-meting");
    proto_set_int(&m, PK_MIN_REVEAL, 3);
    proto_set_msgs(&m, PK_ROWS, rows, 4);
    proto_set_str(&m, PK_JOIN_CODE, "ACDEFHJ");
    return m;
}

static void apply_ok(struct session_state *st, struct proto_msg m)
{
    assert_int_equal(state_apply(st, &m), 0);
}

/* A fresh session with n participants, seq = 1 + n. */
static void setup_session(struct session_state *st, int n)
{
    static const char *const names[] = {"Anna", "Bram", "Cor", "Dewi", "Eva", "Fenna"};
    state_init(st);
    apply_ok(st, created());
    for (int i = 0; i < n; i++) {
        struct proto_msg j = ev(PT_EV_JOINED, st->seq + 1);
        proto_set_int(&j, PK_PID, i + 1);
        proto_set_str(&j, PK_NAME, names[i]);
        apply_ok(st, j);
    }
}

static void enter_score(struct session_state *st, int item, int round)
{
    struct proto_msg p = ev(PT_EV_PHASE, st->seq + 1);
    proto_set_int(&p, PK_PHASE, PROTO_PHASE_SCORE);
    proto_set_int(&p, PK_ITEM, item);
    proto_set_int(&p, PK_ROUND, round);
    apply_ok(st, p);
}

static void score(struct session_state *st, int pid, int item, int round, int value)
{
    struct proto_msg m = ev(PT_EV_SCORED, st->seq + 1);
    proto_set_int(&m, PK_PID, pid);
    proto_set_int(&m, PK_ITEM, item);
    proto_set_int(&m, PK_ROUND, round);
    if (value)
        proto_set_int(&m, PK_VALUE, value);
    apply_ok(st, m);
}

static void reveal(struct session_state *st, int item, int round, const int64_t *v, uint32_t n)
{
    struct proto_msg m = ev(PT_EV_REVEALED, st->seq + 1);
    proto_set_int(&m, PK_ITEM, item);
    proto_set_int(&m, PK_ROUND, round);
    proto_set_ints(&m, PK_VALUES, v, n);
    apply_ok(st, m);
}

/* ---- sequencing -------------------------------------------------------- */

static void session_created_opens_the_lobby_with_its_items(void **unused)
{
    (void)unused;
    struct session_state st;
    setup_session(&st, 0);
    assert_int_equal(st.seq, 1);
    assert_int_equal(st.session_id, 42);
    assert_string_equal(st.team, "Team Noord");
    assert_string_equal(st.instrument, "lwk-meting");
    assert_string_equal(st.join_code, "ACDEFHJ");
    assert_string_equal(st.kiosk_code, "");
    assert_null(st.facilitator);
    assert_int_equal(st.phase, PROTO_PHASE_LOBBY);
    assert_int_equal(st.n_items, 4);
    assert_string_equal(st.items[1].name, "Verbindend vermogen");
    assert_true(st.items[3].scored);
    assert_int_equal(st.items[3].scale_min, 1);
    assert_int_equal(st.items[3].scale_max, 10);
    assert_int_equal(st.min_reveal, 3);
    state_free(&st);
}

static void seq_gap_is_rejected_and_changes_nothing(void **unused)
{
    (void)unused;
    struct session_state st;
    setup_session(&st, 1);
    struct proto_msg j = ev(PT_EV_JOINED, 4); /* 3 expected */
    proto_set_int(&j, PK_PID, 2);
    proto_set_str(&j, PK_NAME, "Bram");
    assert_int_equal(state_apply(&st, &j), PROTO_ERR_CONFLICT);
    assert_int_equal(st.seq, 2);
    assert_int_equal(st.n_participants, 1);
    /* a duplicate is refused the same way */
    proto_set_int(&j, PK_SEQ, 2);
    assert_int_equal(state_apply(&st, &j), PROTO_ERR_CONFLICT);
    assert_int_equal(st.n_participants, 1);
    proto_set_int(&j, PK_SEQ, 3);
    assert_int_equal(state_apply(&st, &j), 0);
    assert_int_equal(st.n_participants, 2);
    state_free(&st);
}

static void nothing_applies_before_session_created(void **unused)
{
    (void)unused;
    struct session_state st;
    state_init(&st);
    struct proto_msg j = ev(PT_EV_JOINED, 1);
    proto_set_int(&j, PK_PID, 1);
    proto_set_str(&j, PK_NAME, "Anna");
    assert_int_equal(state_apply(&st, &j), PROTO_ERR_CONFLICT);
    struct proto_msg c = created();
    proto_set_int(&c, PK_SEQ, 2);
    assert_int_equal(state_apply(&st, &c), PROTO_ERR_CONFLICT);
    assert_int_equal(st.seq, 0);
    state_free(&st);
}

static void session_created_twice_is_refused(void **unused)
{
    (void)unused;
    struct session_state st;
    setup_session(&st, 0);
    struct proto_msg c = created();
    proto_set_int(&c, PK_SEQ, 2);
    assert_int_equal(state_apply(&st, &c), PROTO_ERR_CONFLICT);
    state_free(&st);
}

static void requests_and_replies_are_not_events(void **unused)
{
    (void)unused;
    struct session_state st;
    setup_session(&st, 0);
    struct proto_msg m;
    memset(&m, 0, sizeof(m));
    proto_msg_init(&m, PT_NEXT);
    assert_int_equal(state_apply(&st, &m), PROTO_ERR_UNKNOWN_TYPE);
    proto_msg_init(&m, PT_OK);
    assert_int_equal(state_apply(&st, &m), PROTO_ERR_UNKNOWN_TYPE);
    assert_int_equal(st.seq, 1);
    state_free(&st);
}

static void event_missing_a_required_field_is_refused(void **unused)
{
    (void)unused;
    struct session_state st;
    setup_session(&st, 0);
    struct proto_msg j = ev(PT_EV_JOINED, 2);
    proto_set_int(&j, PK_PID, 1); /* no name */
    assert_int_equal(state_apply(&st, &j), PROTO_ERR_MISSING_FIELD);
    assert_int_equal(st.seq, 1);
    state_free(&st);
}

static void refused_event_leaves_state_unchanged(void **unused)
{
    (void)unused;
    struct session_state st;
    setup_session(&st, 2);
    enter_score(&st, 0, 1);
    uint64_t seq = st.seq;
    struct proto_msg m = ev(PT_EV_SCORED, seq + 1);
    proto_set_int(&m, PK_PID, 9); /* nobody */
    proto_set_int(&m, PK_ITEM, 0);
    proto_set_int(&m, PK_ROUND, 1);
    proto_set_int(&m, PK_VALUE, 7);
    assert_int_equal(state_apply(&st, &m), PROTO_ERR_NOT_FOUND);
    proto_set_int(&m, PK_PID, 1);
    proto_set_int(&m, PK_ROUND, 2); /* not open */
    assert_int_equal(state_apply(&st, &m), PROTO_ERR_OUT_OF_RANGE);
    assert_int_equal(st.seq, seq);
    assert_int_equal(st.items[0].rounds[0].n_scores, 0);
    state_free(&st);
}

static void closed_session_takes_only_notices(void **unused)
{
    (void)unused;
    struct session_state st;
    setup_session(&st, 1);
    apply_ok(&st, ev(PT_EV_CLOSED, 3));
    assert_true(st.closed);
    assert_int_equal(st.phase, PROTO_PHASE_CLOSED);
    struct proto_msg p = ev(PT_EV_PRESENCE, 4);
    proto_set_int(&p, PK_PID, 1);
    proto_set_bool(&p, PK_ONLINE, false);
    assert_int_equal(state_apply(&st, &p), PROTO_ERR_CLOSED);
    struct proto_msg n = ev(PT_EV_NOTICE, 4);
    proto_set_int(&n, PK_ERR, 503);
    apply_ok(&st, n);
    assert_int_equal(st.seq, 4);
    state_free(&st);
}

static void decoded_events_apply_like_built_ones(void **unused)
{
    (void)unused;
    struct proto_msg c = created();
    proto_set_str(&c, PK_KIOSK_CODE, "KMNPRTU");
    proto_set_str(&c, PK_NAME, "begeleider");
    uint8_t *buf;
    size_t len;
    assert_int_equal(proto_encode(&c, &buf, &len), 0);
    struct proto_msg *d;
    assert_int_equal(proto_decode(buf, len, true, &d, NULL), 0);
    free(buf);
    struct session_state st;
    state_init(&st);
    assert_int_equal(state_apply(&st, d), 0);
    proto_msg_free(d);
    assert_string_equal(st.kiosk_code, "KMNPRTU");
    assert_string_equal(st.facilitator, "begeleider");
    assert_string_equal(st.items[2].name, "Opleidend vermogen");
    state_free(&st);
}

/* ---- scores ------------------------------------------------------------ */

static void phase_into_score_opens_the_first_round(void **unused)
{
    (void)unused;
    struct session_state st;
    setup_session(&st, 1);
    assert_null(state_last_round(&st, 0));
    enter_score(&st, 0, 1);
    assert_int_equal(st.phase, PROTO_PHASE_SCORE);
    assert_int_equal(st.item, 0);
    assert_int_equal(st.round, 1);
    assert_int_equal(st.items[0].n_rounds, 1);
    /* a round two past the last one is refused */
    struct proto_msg p = ev(PT_EV_PHASE, st.seq + 1);
    proto_set_int(&p, PK_PHASE, PROTO_PHASE_SCORE);
    proto_set_int(&p, PK_ITEM, 1);
    proto_set_int(&p, PK_ROUND, 2);
    assert_int_equal(state_apply(&st, &p), PROTO_ERR_OUT_OF_RANGE);
    state_free(&st);
}

static void public_scores_stay_hidden_until_revealed(void **unused)
{
    (void)unused;
    struct session_state st;
    setup_session(&st, 3);
    enter_score(&st, 0, 1);
    score(&st, 1, 0, 1, 0); /* what a client sees of someone else's score */
    score(&st, 2, 0, 1, 0);
    score(&st, 3, 0, 1, 8); /* its own */
    struct state_round *r = state_round(&st, 0, 1);
    assert_int_equal(r->n_scores, 3);
    assert_int_equal(state_round_score(r, 1)->value, 0);
    assert_int_equal(state_round_score(r, 3)->value, 8);
    assert_false(r->revealed);
    static const int64_t v[] = {1, 4, 2, 6, 3, 8};
    reveal(&st, 0, 1, v, 6);
    assert_true(r->revealed);
    assert_int_equal(state_round_score(r, 1)->value, 4);
    assert_int_equal(state_round_score(r, 2)->value, 6);
    struct state_stats s;
    assert_int_equal(state_round_stats(&st, 0, 1, &s), 0);
    assert_int_equal(s.count, 3);
    assert_true(s.mean == 6.0);
    /* after the reveal a round takes no more scores */
    struct proto_msg m = ev(PT_EV_SCORED, st.seq + 1);
    proto_set_int(&m, PK_PID, 1);
    proto_set_int(&m, PK_ITEM, 0);
    proto_set_int(&m, PK_ROUND, 1);
    assert_int_equal(state_apply(&st, &m), PROTO_ERR_CONFLICT);
    state_free(&st);
}

static void changed_score_replaces_the_earlier_one(void **unused)
{
    (void)unused;
    struct session_state st;
    setup_session(&st, 1);
    enter_score(&st, 0, 1);
    score(&st, 1, 0, 1, 4);
    score(&st, 1, 0, 1, 9);
    struct state_round *r = state_round(&st, 0, 1);
    assert_int_equal(r->n_scores, 1);
    assert_int_equal(r->scores[0].value, 9);
    state_free(&st);
}

static void rescore_round_keeps_both_rounds_and_the_way_back(void **unused)
{
    (void)unused;
    struct session_state st;
    setup_session(&st, 3);
    enter_score(&st, 0, 1);
    static const int64_t v1[] = {1, 3, 2, 5, 3, 4};
    for (int p = 1; p <= 3; p++)
        score(&st, p, 0, 1, (int)v1[2 * p - 1]);
    reveal(&st, 0, 1, v1, 6);
    struct proto_msg th = ev(PT_EV_PHASE, st.seq + 1);
    proto_set_int(&th, PK_PHASE, PROTO_PHASE_THEMES);
    apply_ok(&st, th);
    assert_int_equal(st.item, -1);

    struct proto_msg r = ev(PT_EV_ROUND, st.seq + 1);
    proto_set_int(&r, PK_ITEM, 0);
    proto_set_int(&r, PK_ROUND, 2);
    apply_ok(&st, r);
    assert_int_equal(st.phase, PROTO_PHASE_SCORE);
    assert_int_equal(st.round, 2);
    assert_int_equal(st.items[0].n_rounds, 2);
    assert_int_equal(st.return_phase, PROTO_PHASE_THEMES);
    assert_int_equal(st.return_for, 0);
    static const int64_t v2[] = {1, 6, 2, 6, 3, 7};
    for (int p = 1; p <= 3; p++)
        score(&st, p, 0, 2, (int)v2[2 * p - 1]);
    reveal(&st, 0, 2, v2, 6);

    struct state_stats a, b;
    assert_int_equal(state_round_stats(&st, 0, 1, &a), 0);
    assert_int_equal(state_round_stats(&st, 0, 2, &b), 0);
    assert_true(a.mean == 4.0);
    assert_true(b.median == 6.0);
    /* the way back survives the explanation of the re-scored item ... */
    struct proto_msg ex = ev(PT_EV_PHASE, st.seq + 1);
    proto_set_int(&ex, PK_PHASE, PROTO_PHASE_EXPLAIN);
    proto_set_int(&ex, PK_ITEM, 0);
    proto_set_int(&ex, PK_ROUND, 2);
    apply_ok(&st, ex);
    assert_int_equal(st.return_phase, PROTO_PHASE_THEMES);
    /* ... and ends when the session moves elsewhere */
    proto_set_int(&th, PK_SEQ, (int64_t)st.seq + 1);
    apply_ok(&st, th);
    assert_int_equal(st.return_phase, -1);
    /* a round number that skips one is refused */
    r = ev(PT_EV_ROUND, st.seq + 1);
    proto_set_int(&r, PK_ITEM, 0);
    proto_set_int(&r, PK_ROUND, 4);
    assert_int_equal(state_apply(&st, &r), PROTO_ERR_CONFLICT);
    state_free(&st);
}

/* ---- statistics -------------------------------------------------------- */

static void stats(struct session_state *st, int item, const int *values, int n,
                  struct state_stats *out)
{
    enter_score(st, item, 1);
    int64_t v[20];
    for (int i = 0; i < n; i++) {
        score(st, i + 1, item, 1, values[i]);
        v[2 * i] = i + 1;
        v[2 * i + 1] = values[i];
    }
    reveal(st, item, 1, v, 2 * (uint32_t)n);
    assert_int_equal(state_round_stats(st, item, 1, out), 0);
}

static void stats_of_an_odd_round(void **unused)
{
    (void)unused;
    struct session_state st;
    struct state_stats s;
    setup_session(&st, 5);
    stats(&st, 0, (const int[]){3, 5, 5, 7, 9}, 5, &s);
    assert_int_equal(s.count, 5);
    assert_int_equal(s.distribution[3], 1);
    assert_int_equal(s.distribution[5], 2);
    assert_int_equal(s.distribution[7], 1);
    assert_int_equal(s.distribution[9], 1);
    assert_int_equal(s.distribution[4], 0);
    assert_float_equal(s.mean, 5.8, 1e-9);
    assert_float_equal(s.median, 5.0, 1e-9);
    assert_int_equal(s.min, 3);
    assert_int_equal(s.max, 9);
    /* variance 20.8 / 5 = 4.16 */
    assert_float_equal(s.spread, 2.039607805, 1e-6);
    assert_true(s.divided);
    state_free(&st);
}

static void stats_of_an_even_round_take_the_middle_two(void **unused)
{
    (void)unused;
    struct session_state st;
    struct state_stats s;
    setup_session(&st, 4);
    stats(&st, 1, (const int[]){8, 6, 7, 8}, 4, &s);
    assert_float_equal(s.median, 7.5, 1e-9);
    assert_float_equal(s.mean, 7.25, 1e-9);
    /* deviations .75 -1.25 -.25 .75: variance 2.75 / 4 */
    assert_float_equal(s.spread, 0.829156198, 1e-6);
    assert_false(s.divided);
    state_free(&st);
}

static void a_gap_of_five_is_divided_even_with_a_small_spread(void **unused)
{
    (void)unused;
    struct session_state st;
    struct state_stats s;
    setup_session(&st, 6);
    stats(&st, 2, (const int[]){4, 4, 4, 4, 4, 9}, 6, &s);
    assert_true(s.spread < 2.0);
    assert_int_equal(s.max - s.min, 5);
    assert_true(s.divided);
    state_free(&st);
}

static void stats_of_no_scores_and_of_no_round(void **unused)
{
    (void)unused;
    struct session_state st;
    struct state_stats s;
    setup_session(&st, 1);
    assert_int_equal(state_round_stats(&st, 0, 1, &s), PROTO_ERR_NOT_FOUND);
    enter_score(&st, 0, 1);
    assert_int_equal(state_round_stats(&st, 0, 1, &s), 0);
    assert_int_equal(s.count, 0);
    assert_false(s.divided);
    state_free(&st);
}

static void stats_after_reveal_count_only_revealed_scores(void **unused)
{
    (void)unused;
    struct session_state st;
    struct state_stats s;
    setup_session(&st, 4);
    enter_score(&st, 0, 1);
    for (int p = 1; p <= 4; p++)
        score(&st, p, 0, 1, 2 * p);
    assert_int_equal(state_round_stats(&st, 0, 1, &s), 0);
    assert_int_equal(s.count, 4);                  /* before: every value known here */
    static const int64_t v[] = {1, 2, 2, 4, 3, 6}; /* participant 4 was removed */
    reveal(&st, 0, 1, v, 6);
    assert_int_equal(state_round_stats(&st, 0, 1, &s), 0);
    assert_int_equal(s.count, 3);
    assert_float_equal(s.mean, 4.0, 1e-9);
    state_free(&st);
}

/* ---- explanations ------------------------------------------------------ */

static void turns_track_the_speaker_and_passes(void **unused)
{
    (void)unused;
    struct session_state st;
    setup_session(&st, 3);
    enter_score(&st, 0, 1);
    struct proto_msg ex = ev(PT_EV_PHASE, st.seq + 1);
    proto_set_int(&ex, PK_PHASE, PROTO_PHASE_EXPLAIN);
    proto_set_int(&ex, PK_ITEM, 0);
    proto_set_int(&ex, PK_ROUND, 1);
    apply_ok(&st, ex);
    assert_int_equal(state_current_speaker(&st), 0);
    static const int64_t order[] = {3, 1, 2};
    struct proto_msg t = ev(PT_EV_TURNS, st.seq + 1);
    proto_set_int(&t, PK_MODE, PROTO_MODE_MANUAL);
    proto_set_ints(&t, PK_ORDER, order, 3);
    proto_set_int(&t, PK_CURRENT, 0);
    apply_ok(&st, t);
    assert_int_equal(state_current_speaker(&st), 3);
    struct proto_msg n = ev(PT_EV_TURN, st.seq + 1);
    proto_set_int(&n, PK_CURRENT, 1);
    proto_set_bool(&n, PK_PASS, true);
    apply_ok(&st, n);
    assert_true(st.turns.passed[0]);
    assert_false(st.turns.passed[1]);
    assert_int_equal(state_current_speaker(&st), 1);
    struct proto_msg k = ev(PT_EV_KEYWORD, st.seq + 1);
    proto_set_int(&k, PK_KID, 1);
    proto_set_int(&k, PK_PID, 1);
    proto_set_int(&k, PK_ITEM, 0);
    proto_set_str(&k, PK_TEXT, "inwerken gaat goed");
    apply_ok(&st, k);
    assert_int_equal(st.n_keywords, 1);
    struct proto_msg kr = ev(PT_EV_KEYWORD_REMOVED, st.seq + 1);
    proto_set_int(&kr, PK_KID, 1);
    apply_ok(&st, kr);
    assert_true(st.keywords[0].removed);
    assert_int_equal(state_live_keywords(&st), 0);
    n = ev(PT_EV_TURN, st.seq + 1);
    proto_set_int(&n, PK_CURRENT, 3); /* past the end */
    assert_int_equal(state_apply(&st, &n), PROTO_ERR_OUT_OF_RANGE);
    state_free(&st);
}

/* ---- themes, votes, desired, actions ----------------------------------- */

static void theme_added_again_restores_a_deleted_or_merged_theme(void **unused)
{
    (void)unused;
    struct session_state st;
    setup_session(&st, 1);
    static const int64_t items[] = {0, 2};
    for (int i = 1; i <= 2; i++) {
        struct proto_msg t = ev(PT_EV_THEME, st.seq + 1);
        proto_set_int(&t, PK_THEME, i);
        proto_set_str(&t, PK_TEXT, i == 1 ? "werkdruk" : "begeleiding stagiairs");
        proto_set_ints(&t, PK_ITEMS, items, 2);
        apply_ok(&st, t);
    }
    assert_int_equal(st.themes[0].items, 5u);
    struct proto_msg m = ev(PT_EV_THEME_MERGED, st.seq + 1);
    proto_set_int(&m, PK_THEME, 2);
    proto_set_int(&m, PK_INTO, 1);
    apply_ok(&st, m);
    assert_int_equal(st.themes[1].merged_into, 1);
    assert_int_equal(state_live_themes(&st), 1);
    /* into a merged theme: refused, merges never chain */
    m = ev(PT_EV_THEME_MERGED, st.seq + 1);
    proto_set_int(&m, PK_THEME, 1);
    proto_set_int(&m, PK_INTO, 2);
    assert_int_equal(state_apply(&st, &m), PROTO_ERR_CONFLICT);
    struct proto_msg r = ev(PT_EV_THEME, st.seq + 1);
    proto_set_int(&r, PK_THEME, 2);
    proto_set_str(&r, PK_TEXT, "begeleiding stagiairs");
    apply_ok(&st, r);
    assert_int_equal(st.themes[1].merged_into, 0);
    assert_int_equal(st.n_themes, 2);
    /* an id that skips one is refused */
    r = ev(PT_EV_THEME, st.seq + 1);
    proto_set_int(&r, PK_THEME, 5);
    proto_set_str(&r, PK_TEXT, "x");
    assert_int_equal(state_apply(&st, &r), PROTO_ERR_CONFLICT);
    /* items outside the instrument */
    static const int64_t bad[] = {7};
    r = ev(PT_EV_THEME, st.seq + 1);
    proto_set_int(&r, PK_THEME, 3);
    proto_set_str(&r, PK_TEXT, "x");
    proto_set_ints(&r, PK_ITEMS, bad, 1);
    assert_int_equal(state_apply(&st, &r), PROTO_ERR_OUT_OF_RANGE);
    state_free(&st);
}

static void votes_are_counted_from_what_this_state_sees(void **unused)
{
    (void)unused;
    struct session_state st;
    setup_session(&st, 2);
    struct proto_msg t = ev(PT_EV_THEME, st.seq + 1);
    proto_set_int(&t, PK_THEME, 1);
    proto_set_str(&t, PK_TEXT, "werkdruk");
    apply_ok(&st, t);
    struct proto_msg o = ev(PT_EV_VOTE_OPENED, st.seq + 1);
    proto_set_int(&o, PK_BUDGET, 3);
    apply_ok(&st, o);
    struct proto_msg v = ev(PT_EV_VOTED, st.seq + 1); /* own, full */
    proto_set_int(&v, PK_PID, 1);
    proto_set_int(&v, PK_THEME, 1);
    proto_set_int(&v, PK_DELTA, 1);
    apply_ok(&st, v);
    struct proto_msg pv = ev(PT_EV_VOTED, st.seq + 1); /* someone else's, public */
    proto_set_int(&pv, PK_PID, 2);
    apply_ok(&st, pv);
    assert_int_equal(state_votes_of(&st, 1, 1), 1);
    assert_int_equal(state_votes_used(&st, 2), 0);
    assert_true(st.participants[1].voted);
    /* taking back a vote that is not there */
    v = ev(PT_EV_VOTED, st.seq + 1);
    proto_set_int(&v, PK_PID, 2);
    proto_set_int(&v, PK_THEME, 1);
    proto_set_int(&v, PK_DELTA, -1);
    assert_int_equal(state_apply(&st, &v), PROTO_ERR_CONFLICT);
    static const int64_t totals[] = {1, 2};
    struct proto_msg c = ev(PT_EV_VOTE_CLOSED, st.seq + 1);
    proto_set_ints(&c, PK_VALUES, totals, 2);
    apply_ok(&st, c);
    assert_false(st.vote_open);
    assert_int_equal(st.themes[0].votes, 2);
    state_free(&st);
}

static void desired_scores_and_proposals(void **unused)
{
    (void)unused;
    struct session_state st;
    setup_session(&st, 2);
    struct proto_msg p = ev(PT_EV_DESIRED_PROPOSED, st.seq + 1);
    proto_set_int(&p, PK_PID, 1);
    proto_set_int(&p, PK_ITEM, 0);
    proto_set_int(&p, PK_VALUE, 7);
    apply_ok(&st, p);
    proto_set_int(&p, PK_SEQ, (int64_t)st.seq + 1);
    proto_set_int(&p, PK_VALUE, 8);
    apply_ok(&st, p);
    assert_int_equal(st.n_desired, 1);
    assert_int_equal(st.desired[0].value, 8);
    struct proto_msg s = ev(PT_EV_DESIRED_SET, st.seq + 1);
    proto_set_int(&s, PK_ITEM, 0);
    proto_set_int(&s, PK_VALUE, 8);
    apply_ok(&st, s);
    assert_int_equal(st.items[0].desired, 8);
    s = ev(PT_EV_DESIRED_SET, st.seq + 1);
    proto_set_int(&s, PK_ITEM, 0);
    apply_ok(&st, s);
    assert_int_equal(st.items[0].desired, 0);
    state_free(&st);
}

static void actions_are_added_edited_removed_and_restored(void **unused)
{
    (void)unused;
    struct session_state st;
    setup_session(&st, 1);
    struct proto_msg a = ev(PT_EV_ACTION, st.seq + 1);
    proto_set_int(&a, PK_ACTION, 1);
    proto_set_str(&a, PK_TEXT, "buddy voor elke nieuwe collega");
    proto_set_str(&a, PK_OWNER, "Anna");
    proto_set_str(&a, PK_DEADLINE, "2025-03-01");
    proto_set_int(&a, PK_ITEM, 0);
    proto_set_int(&a, PK_PID, 1);
    proto_set_bool(&a, PK_CONFIRMED, false);
    apply_ok(&st, a);
    struct state_action *x = state_action(&st, 1);
    assert_string_equal(x->owner, "Anna");
    assert_string_equal(x->deadline, "2025-03-01");
    assert_int_equal(x->pid, 1);
    assert_null(x->role);
    struct proto_msg e = ev(PT_EV_ACTION_EDITED, st.seq + 1);
    proto_set_int(&e, PK_ACTION, 1);
    proto_set_str(&e, PK_TEXT, "buddy voor elke nieuwe collega en stagiair");
    proto_set_str(&e, PK_ROLE, "werkbegeleider");
    apply_ok(&st, e);
    assert_string_equal(x->role, "werkbegeleider");
    assert_null(x->owner); /* an edit carries the whole action */
    assert_int_equal(x->item, -1);
    struct proto_msg c = ev(PT_EV_ACTION_CONFIRMED, st.seq + 1);
    proto_set_int(&c, PK_ACTION, 1);
    proto_set_bool(&c, PK_CONFIRMED, true);
    apply_ok(&st, c);
    assert_true(x->confirmed);
    struct proto_msg r = ev(PT_EV_ACTION_REMOVED, st.seq + 1);
    proto_set_int(&r, PK_ACTION, 1);
    apply_ok(&st, r);
    assert_int_equal(state_live_actions(&st), 0);
    proto_set_int(&r, PK_SEQ, (int64_t)st.seq + 1);
    assert_int_equal(state_apply(&st, &r), PROTO_ERR_CONFLICT);
    proto_set_int(&a, PK_SEQ, (int64_t)st.seq + 1);
    apply_ok(&st, a);
    assert_false(x->removed);
    assert_int_equal(st.n_actions, 1);
    /* linked to a theme that does not exist */
    a = ev(PT_EV_ACTION, st.seq + 1);
    proto_set_int(&a, PK_ACTION, 2);
    proto_set_str(&a, PK_TEXT, "x");
    proto_set_int(&a, PK_THEME, 4);
    proto_set_bool(&a, PK_CONFIRMED, false);
    assert_int_equal(state_apply(&st, &a), PROTO_ERR_NOT_FOUND);
    state_free(&st);
}

static void look_ahead_summary_and_look_back(void **unused)
{
    (void)unused;
    struct session_state st;
    setup_session(&st, 2);
    struct proto_msg d = ev(PT_EV_LOOKAHEAD_DATE, st.seq + 1);
    proto_set_str(&d, PK_DATE, "2025-06-12");
    apply_ok(&st, d);
    assert_string_equal(st.look_ahead_date, "2025-06-12");
    struct proto_msg l = ev(PT_EV_LOOKAHEAD_ADDED, st.seq + 1);
    proto_set_int(&l, PK_KID, 1);
    proto_set_str(&l, PK_TEXT, "vast punt in het teamoverleg");
    apply_ok(&st, l);
    struct proto_msg s = ev(PT_EV_SUMMARY, st.seq + 1);
    proto_set_str(&s, PK_TEXT, "Veel herkenning");
    apply_ok(&st, s);
    assert_string_equal(st.summary, "Veel herkenning");
    struct proto_msg r = ev(PT_EV_REACTION, st.seq + 1);
    proto_set_int(&r, PK_KID, 1);
    proto_set_int(&r, PK_PID, 2);
    proto_set_str(&r, PK_TEXT, "eens");
    apply_ok(&st, r);
    for (int rating = 3; rating <= 4; rating++) {
        struct proto_msg e = ev(PT_EV_EVALUATION, st.seq + 1);
        proto_set_int(&e, PK_PID, 1);
        proto_set_int(&e, PK_RATING, rating);
        if (rating == 3)
            proto_set_str(&e, PK_TEXT, "nuttig");
        apply_ok(&st, e);
    }
    assert_int_equal(st.n_evaluations, 1);
    assert_int_equal(st.evaluations[0].rating, 4);
    assert_null(st.evaluations[0].text);
    struct proto_msg p = ev(PT_EV_PAUSED, st.seq + 1);
    proto_set_bool(&p, PK_ONLINE, true);
    apply_ok(&st, p);
    assert_true(st.paused);
    s = ev(PT_EV_SUMMARY, st.seq + 1);
    apply_ok(&st, s);
    assert_null(st.summary);
    state_free(&st);
}

static void presence_and_removal(void **unused)
{
    (void)unused;
    struct session_state st;
    setup_session(&st, 2);
    assert_true(st.participants[0].online);
    struct proto_msg p = ev(PT_EV_PRESENCE, st.seq + 1);
    proto_set_int(&p, PK_PID, 1);
    proto_set_bool(&p, PK_ONLINE, false);
    apply_ok(&st, p);
    assert_false(st.participants[0].online);
    struct proto_msg r = ev(PT_EV_REMOVED, st.seq + 1);
    proto_set_int(&r, PK_PID, 2);
    apply_ok(&st, r);
    assert_true(st.participants[1].removed);
    assert_int_equal(state_live_participants(&st), 1);
    proto_set_int(&r, PK_SEQ, (int64_t)st.seq + 1);
    assert_int_equal(state_apply(&st, &r), PROTO_ERR_CONFLICT);
    /* pids are handed out in order */
    struct proto_msg j = ev(PT_EV_JOINED, st.seq + 1);
    proto_set_int(&j, PK_PID, 5);
    proto_set_str(&j, PK_NAME, "Gijs");
    assert_int_equal(state_apply(&st, &j), PROTO_ERR_CONFLICT);
    state_free(&st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(session_created_opens_the_lobby_with_its_items),
        cmocka_unit_test(seq_gap_is_rejected_and_changes_nothing),
        cmocka_unit_test(nothing_applies_before_session_created),
        cmocka_unit_test(session_created_twice_is_refused),
        cmocka_unit_test(requests_and_replies_are_not_events),
        cmocka_unit_test(event_missing_a_required_field_is_refused),
        cmocka_unit_test(refused_event_leaves_state_unchanged),
        cmocka_unit_test(closed_session_takes_only_notices),
        cmocka_unit_test(decoded_events_apply_like_built_ones),
        cmocka_unit_test(phase_into_score_opens_the_first_round),
        cmocka_unit_test(public_scores_stay_hidden_until_revealed),
        cmocka_unit_test(changed_score_replaces_the_earlier_one),
        cmocka_unit_test(rescore_round_keeps_both_rounds_and_the_way_back),
        cmocka_unit_test(stats_of_an_odd_round),
        cmocka_unit_test(stats_of_an_even_round_take_the_middle_two),
        cmocka_unit_test(a_gap_of_five_is_divided_even_with_a_small_spread),
        cmocka_unit_test(stats_of_no_scores_and_of_no_round),
        cmocka_unit_test(stats_after_reveal_count_only_revealed_scores),
        cmocka_unit_test(turns_track_the_speaker_and_passes),
        cmocka_unit_test(theme_added_again_restores_a_deleted_or_merged_theme),
        cmocka_unit_test(votes_are_counted_from_what_this_state_sees),
        cmocka_unit_test(desired_scores_and_proposals),
        cmocka_unit_test(actions_are_added_edited_removed_and_restored),
        cmocka_unit_test(look_ahead_summary_and_look_back),
        cmocka_unit_test(presence_and_removal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
