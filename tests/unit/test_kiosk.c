/*
 * test_kiosk.c: the parts of lwk-kiosk that need no terminal: keeping the
 * session state in step with the daemon (kiosk_sync.c: duplicates, gaps,
 * deltas, whole snapshots, another session), the block font
 * (kiosk_font.c) and the countdown of a timed step (kiosk_time.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "kiosk.h"

/* ---- events ------------------------------------------------------------ */

static struct proto_msg rows[2];
static int64_t scale[2] = {1, 10};

static struct proto_msg ev(enum proto_type t, uint64_t seq)
{
    struct proto_msg m;
    memset(&m, 0, sizeof(m));
    proto_msg_init(&m, t);
    proto_set_int(&m, PK_SEQ, (int64_t)seq);
    return m;
}

static struct proto_msg created(int64_t session)
{
    static const char *const names[2] = {"Absorptievermogen", "Lerend vermogen"};
    for (int i = 0; i < 2; i++) {
        memset(&rows[i], 0, sizeof(rows[i]));
        proto_msg_init(&rows[i], PT__NONE);
        proto_set_int(&rows[i], PK_ITEM, i);
        proto_set_str(&rows[i], PK_NAME, names[i]);
        proto_set_ints(&rows[i], PK_VALUES, scale, 2);
    }
    struct proto_msg m = ev(PT_EV_CREATED, 1);
    proto_set_int(&m, PK_SESSION, session);
    proto_set_str(&m, PK_TEAM, "Team Noord");
    proto_set_str(&m, PK_INSTRUMENT, "lwk-meting");
    proto_set_int(&m, PK_MIN_REVEAL, 3);
    proto_set_msgs(&m, PK_ROWS, rows, 2);
    proto_set_str(&m, PK_JOIN_CODE, "ACDEFHJ");
    return m;
}

static const char *const names[] = {"Anna", "Bram", "Cor", "Dewi", "Eva", "Fenna"};

static struct proto_msg joined(uint64_t seq, int pid)
{
    struct proto_msg m = ev(PT_EV_JOINED, seq);
    proto_set_int(&m, PK_PID, pid);
    proto_set_str(&m, PK_NAME, names[(pid - 1) % 6]);
    return m;
}

/* A history: session.created and joins, seq 1..n. */
static void history(struct proto_msg *out, int n, int64_t session)
{
    out[0] = created(session);
    for (int i = 1; i < n; i++)
        out[i] = joined((uint64_t)i + 1, i);
}

static struct proto_msg snapshot(int64_t session, uint64_t seq, uint64_t since,
                                 const struct proto_msg *evs, int n)
{
    struct proto_msg m;
    memset(&m, 0, sizeof(m));
    proto_msg_init(&m, PT_SNAPSHOT);
    proto_set_int(&m, PK_SESSION, session);
    proto_set_int(&m, PK_SEQ, (int64_t)seq);
    if (since)
        proto_set_int(&m, PK_SINCE, (int64_t)since);
    proto_set_msgs(&m, PK_EVENTS, evs, (uint32_t)n);
    return m;
}

/* ---- sync -------------------------------------------------------------- */

static void whole_snapshot_builds_the_state(void **unused)
{
    struct kiosk_sync ks;
    kiosk_sync_init(&ks);
    struct proto_msg h[4];
    history(h, 4, 7);
    struct proto_msg s = snapshot(7, 4, 0, h, 4);
    assert_int_equal(kiosk_sync_snapshot(&ks, &s), KIOSK_SYNC_CHANGED);
    assert_true(ks.have);
    assert_int_equal(ks.st.seq, 4);
    assert_int_equal(ks.st.n_participants, 3);
    assert_string_equal(ks.st.team, "Team Noord");
    kiosk_sync_free(&ks);
}

static void events_in_order_apply_and_duplicates_are_ignored(void **unused)
{
    struct kiosk_sync ks;
    kiosk_sync_init(&ks);
    struct proto_msg h[3];
    history(h, 3, 7);
    struct proto_msg s = snapshot(7, 3, 0, h, 3);
    kiosk_sync_snapshot(&ks, &s);
    struct proto_msg j = joined(4, 3);
    assert_int_equal(kiosk_sync_event(&ks, &j), KIOSK_SYNC_CHANGED);
    assert_int_equal(kiosk_sync_event(&ks, &j), KIOSK_SYNC_IGNORED);
    assert_int_equal(kiosk_sync_event(&ks, &h[1]), KIOSK_SYNC_IGNORED);
    assert_int_equal(ks.st.seq, 4);
    assert_int_equal(ks.st.n_participants, 3);
    kiosk_sync_free(&ks);
}

static void a_gap_asks_once_for_the_missing_events(void **unused)
{
    struct kiosk_sync ks;
    kiosk_sync_init(&ks);
    struct proto_msg h[6];
    history(h, 6, 7);
    struct proto_msg s = snapshot(7, 2, 0, h, 2);
    kiosk_sync_snapshot(&ks, &s);
    /* seq 3 went missing */
    assert_int_equal(kiosk_sync_event(&ks, &h[3]), KIOSK_SYNC_RESYNC);
    assert_int_equal(kiosk_sync_event(&ks, &h[4]), KIOSK_SYNC_IGNORED); /* already asked */
    assert_int_equal(ks.st.seq, 2);
    /* the delta since 2 closes the gap */
    struct proto_msg d = snapshot(7, 5, 2, &h[2], 3);
    assert_int_equal(kiosk_sync_snapshot(&ks, &d), KIOSK_SYNC_CHANGED);
    assert_int_equal(ks.st.seq, 5);
    assert_int_equal(kiosk_sync_event(&ks, &h[5]), KIOSK_SYNC_CHANGED);
    assert_int_equal(ks.st.seq, 6);
    kiosk_sync_free(&ks);
}

static void a_delta_may_overlap_what_is_known(void **unused)
{
    struct kiosk_sync ks;
    kiosk_sync_init(&ks);
    struct proto_msg h[5];
    history(h, 5, 7);
    struct proto_msg s = snapshot(7, 3, 0, h, 3);
    kiosk_sync_snapshot(&ks, &s);
    struct proto_msg d = snapshot(7, 5, 1, &h[1], 4);
    assert_int_equal(kiosk_sync_snapshot(&ks, &d), KIOSK_SYNC_CHANGED);
    assert_int_equal(ks.st.seq, 5);
    assert_int_equal(ks.st.n_participants, 4);
    kiosk_sync_free(&ks);
}

static void a_delta_that_does_not_fit_asks_for_everything(void **unused)
{
    struct kiosk_sync ks;
    kiosk_sync_init(&ks);
    struct proto_msg h[6];
    history(h, 6, 7);
    struct proto_msg s = snapshot(7, 2, 0, h, 2);
    kiosk_sync_snapshot(&ks, &s);
    /* since 4 > what we have (2): the events in between are not in it */
    struct proto_msg d = snapshot(7, 6, 4, &h[4], 2);
    assert_int_equal(kiosk_sync_snapshot(&ks, &d), KIOSK_SYNC_FULL);
    assert_false(ks.have);
    assert_true(ks.want_full);
    /* the whole snapshot then puts it right */
    struct proto_msg f = snapshot(7, 6, 0, h, 6);
    assert_int_equal(kiosk_sync_snapshot(&ks, &f), KIOSK_SYNC_CHANGED);
    assert_int_equal(ks.st.seq, 6);
    assert_false(ks.want_full);
    kiosk_sync_free(&ks);
}

static void a_history_that_went_back_is_thrown_away(void **unused)
{
    struct kiosk_sync ks;
    kiosk_sync_init(&ks);
    struct proto_msg h[5];
    history(h, 5, 7);
    struct proto_msg s = snapshot(7, 5, 0, h, 5);
    kiosk_sync_snapshot(&ks, &s);
    /* the server's session is at 3 now (a restart that lost events) */
    struct proto_msg d = snapshot(7, 3, 3, NULL, 0);
    assert_int_equal(kiosk_sync_snapshot(&ks, &d), KIOSK_SYNC_FULL);
    struct proto_msg f = snapshot(7, 3, 0, h, 3);
    assert_int_equal(kiosk_sync_snapshot(&ks, &f), KIOSK_SYNC_CHANGED);
    assert_int_equal(ks.st.seq, 3);
    assert_int_equal(ks.st.n_participants, 2);
    kiosk_sync_free(&ks);
}

static void a_whole_snapshot_of_another_session_replaces_the_state(void **unused)
{
    struct kiosk_sync ks;
    kiosk_sync_init(&ks);
    struct proto_msg h[5];
    history(h, 5, 7);
    struct proto_msg s = snapshot(7, 5, 0, h, 5);
    kiosk_sync_snapshot(&ks, &s);
    struct proto_msg o[2];
    history(o, 2, 8);
    struct proto_msg f = snapshot(8, 2, 0, o, 2);
    assert_int_equal(kiosk_sync_snapshot(&ks, &f), KIOSK_SYNC_CHANGED);
    assert_int_equal(ks.st.session_id, 8);
    assert_int_equal(ks.st.seq, 2);
    assert_int_equal(ks.st.n_participants, 1);
    /* a delta of the old session no longer fits */
    struct proto_msg d = snapshot(7, 5, 2, &h[2], 3);
    assert_int_equal(kiosk_sync_snapshot(&ks, &d), KIOSK_SYNC_FULL);
    kiosk_sync_free(&ks);
}

static void an_event_the_reducer_refuses_starts_over(void **unused)
{
    struct kiosk_sync ks;
    kiosk_sync_init(&ks);
    struct proto_msg h[3];
    history(h, 3, 7);
    struct proto_msg s = snapshot(7, 3, 0, h, 3);
    kiosk_sync_snapshot(&ks, &s);
    struct proto_msg bad = ev(PT_EV_PRESENCE, 4);
    proto_set_int(&bad, PK_PID, 99); /* nobody */
    proto_set_bool(&bad, PK_ONLINE, true);
    assert_int_equal(kiosk_sync_event(&ks, &bad), KIOSK_SYNC_FULL);
    assert_false(ks.have);
    /* while the whole snapshot is on its way, events are not applied */
    struct proto_msg j = joined(4, 3);
    assert_int_equal(kiosk_sync_event(&ks, &j), KIOSK_SYNC_IGNORED);
    kiosk_sync_free(&ks);
}

static void snapshots_that_never_apply_stop_the_asking(void **unused)
{
    struct kiosk_sync ks;
    kiosk_sync_init(&ks);
    struct proto_msg h[3];
    history(h, 3, 7);
    /* claims seq 9 but holds 3 events: never consistent */
    struct proto_msg s = snapshot(7, 9, 0, h, 3);
    assert_int_equal(kiosk_sync_snapshot(&ks, &s), KIOSK_SYNC_FULL);
    assert_int_equal(kiosk_sync_snapshot(&ks, &s), KIOSK_SYNC_FULL);
    assert_int_equal(kiosk_sync_snapshot(&ks, &s), KIOSK_SYNC_CHANGED); /* gives up, shows it */
    assert_true(ks.have);
    ks.failures = 0; /* what a new connection does */
    struct proto_msg ok = snapshot(7, 3, 0, h, 3);
    assert_int_equal(kiosk_sync_snapshot(&ks, &ok), KIOSK_SYNC_CHANGED);
    assert_int_equal(ks.failures, 0);
    kiosk_sync_free(&ks);
}

static void a_closed_vote_is_remembered(void **unused)
{
    struct kiosk_sync ks;
    kiosk_sync_init(&ks);
    struct proto_msg h[2];
    history(h, 2, 7);
    struct proto_msg s = snapshot(7, 2, 0, h, 2);
    kiosk_sync_snapshot(&ks, &s);
    struct proto_msg ph = ev(PT_EV_PHASE, 3);
    proto_set_int(&ph, PK_PHASE, PROTO_PHASE_THEMES);
    assert_int_equal(kiosk_sync_event(&ks, &ph), KIOSK_SYNC_CHANGED);
    struct proto_msg th = ev(PT_EV_THEME, 4);
    proto_set_int(&th, PK_THEME, 1);
    proto_set_str(&th, PK_TEXT, "Tijd om te leren");
    assert_int_equal(kiosk_sync_event(&ks, &th), KIOSK_SYNC_CHANGED);
    struct proto_msg vo = ev(PT_EV_VOTE_OPENED, 5);
    proto_set_int(&vo, PK_BUDGET, 3);
    assert_int_equal(kiosk_sync_event(&ks, &vo), KIOSK_SYNC_CHANGED);
    assert_false(ks.vote_closed_seen);
    int64_t votes[2] = {1, 4};
    struct proto_msg vc = ev(PT_EV_VOTE_CLOSED, 6);
    proto_set_ints(&vc, PK_VALUES, votes, 2);
    assert_int_equal(kiosk_sync_event(&ks, &vc), KIOSK_SYNC_CHANGED);
    assert_true(ks.vote_closed_seen);
    assert_int_equal(ks.st.themes[0].votes, 4);
    kiosk_sync_reset(&ks);
    assert_false(ks.vote_closed_seen);
    kiosk_sync_free(&ks);
}

/* ---- font -------------------------------------------------------------- */

static void every_title_and_number_has_glyphs(void **unused)
{
    static const char *const texts[] = {
        "Welkom",
        "Scoren",
        "Toelichting",
        "Thema's",
        "Gewenste score",
        "Acties",
        "Blik vooruit",
        "Samenvatting",
        "Afgesloten",
        "Vorige keer",
        "Onbekende code",
        "VERDEELD",
        "Welcome",
        "Score",
        "Explanation",
        "Themes",
        "Desired score",
        "Actions",
        "Look ahead",
        "Summary",
        "Closed",
        "Review",
        "Unknown code",
        "DIVIDED",
        "0123456789",
        "6,4",
        "7.5",
        "12:05",
        "+1:30",
        "3 van 9",
        "3 of 9",
        "ACDEFHJ",
        "Zoë",
        "Ångström",
        "12-06-2025",
        "Opleidend vermogen",
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        assert_true(font_can_render(texts[i]));
    assert_false(font_can_render("\xe2\x98\x83")); /* a snowman */
    assert_false(font_can_render("Jos\xc3"));      /* cut UTF-8 */
}

static void sizes_scale_width_and_height(void **unused)
{
    /* "1" is 3 pixels wide, "0" 4, with a 1-pixel gap: 8 pixels */
    assert_int_equal(font_width("10", FONT_HALF), 8);
    assert_int_equal(font_width("10", FONT_FULL), 16);
    assert_int_equal(font_width("10", FONT_DOUBLE), 32);
    assert_int_equal(font_height(FONT_HALF), 3);
    assert_int_equal(font_height(FONT_FULL), 5);
    assert_int_equal(font_height(FONT_DOUBLE), 10);
    assert_int_equal(font_width("a", FONT_FULL), font_width("A", FONT_FULL));
    assert_int_equal(font_fit("10", 16, 5, FONT_DOUBLE), FONT_FULL);
    assert_int_equal(font_fit("10", 15, 5, FONT_DOUBLE), FONT_HALF);
    assert_int_equal(font_fit("10", 100, 2, FONT_DOUBLE), -1);
    assert_int_equal(font_fit("10", 100, 20, FONT_FULL), FONT_FULL);
}

static void rendering_draws_the_pixels(void **unused)
{
    char buf[3][64];
    char *r[3] = {buf[0], buf[1], buf[2]};
    /* "1" = ".#." "##." ".#." ".#." "###" */
    assert_int_equal(font_render("1", FONT_HALF, true, r, 64), 3);
    assert_string_equal(buf[0], "_# ");    /* rows 0+1 */
    assert_string_equal(buf[1], " # ");    /* rows 2+3 */
    assert_string_equal(buf[2], "\"\"\""); /* row 4 */
    assert_int_equal(font_render("1", FONT_HALF, false, r, 64), 3);
    assert_string_equal(buf[0], "\u2584\u2588 ");
    char fb[5][64];
    char *f[5] = {fb[0], fb[1], fb[2], fb[3], fb[4]};
    assert_int_equal(font_render("1", FONT_FULL, true, f, 64), 6);
    assert_string_equal(fb[0], "  ##  ");
    assert_string_equal(fb[4], "######");
    /* too small a buffer is refused, not overrun */
    assert_int_equal(font_render("1111", FONT_FULL, false, f, 8), -1);
}

/* ---- countdown --------------------------------------------------------- */

static void countdown_runs_warns_and_overruns(void **unused)
{
    struct kiosk_countdown cd = {.start_ms = 1000000, .duration_s = 600}; /* 10 minutes */
    char b[32];
    assert_int_equal(kiosk_countdown_text(&cd, 1000000, b, sizeof(b)), COUNTDOWN_RUNNING);
    assert_string_equal(b, "10:00");
    assert_int_equal(kiosk_countdown_text(&cd, 1000000 + 1, b, sizeof(b)), COUNTDOWN_RUNNING);
    assert_string_equal(b, "10:00"); /* rounds up */
    /* the last fifth (2 minutes) warns */
    assert_int_equal(kiosk_countdown_text(&cd, 1000000 + 479000, b, sizeof(b)), COUNTDOWN_RUNNING);
    assert_int_equal(kiosk_countdown_text(&cd, 1000000 + 480000, b, sizeof(b)), COUNTDOWN_WARNING);
    assert_string_equal(b, "2:00");
    assert_int_equal(kiosk_countdown_text(&cd, 1000000 + 600000, b, sizeof(b)), COUNTDOWN_WARNING);
    assert_string_equal(b, "0:00");
    assert_int_equal(kiosk_countdown_text(&cd, 1000000 + 665000, b, sizeof(b)), COUNTDOWN_OVERRUN);
    assert_string_equal(b, "+1:05");
    /* a short step warns for its last 30 seconds, a long one for 2 minutes at most */
    struct kiosk_countdown s = {.duration_s = 60};
    assert_int_equal(kiosk_countdown_text(&s, 29000, b, sizeof(b)), COUNTDOWN_RUNNING);
    assert_int_equal(kiosk_countdown_text(&s, 30000, b, sizeof(b)), COUNTDOWN_WARNING);
    struct kiosk_countdown l = {.duration_s = 3600};
    assert_int_equal(kiosk_countdown_text(&l, 3479000, b, sizeof(b)), COUNTDOWN_RUNNING);
    assert_int_equal(kiosk_countdown_text(&l, 3480000, b, sizeof(b)), COUNTDOWN_WARNING);
    /* a clock behind the start shows the whole time */
    assert_int_equal(kiosk_countdown_text(&cd, 5, b, sizeof(b)), COUNTDOWN_RUNNING);
    assert_string_equal(b, "10:00");
    /* a paused clock shows where it stands, whatever the time */
    struct kiosk_countdown p = {.duration_s = 600, .paused = true, .left_ms = 90500};
    assert_int_equal(kiosk_countdown_text(&p, 99999999, b, sizeof(b)), COUNTDOWN_WARNING);
    assert_string_equal(b, "1:31");
    p.left_ms = -5000;
    assert_int_equal(kiosk_countdown_text(&p, 0, b, sizeof(b)), COUNTDOWN_OVERRUN);
    assert_string_equal(b, "+0:05");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(whole_snapshot_builds_the_state),
        cmocka_unit_test(events_in_order_apply_and_duplicates_are_ignored),
        cmocka_unit_test(a_gap_asks_once_for_the_missing_events),
        cmocka_unit_test(a_delta_may_overlap_what_is_known),
        cmocka_unit_test(a_delta_that_does_not_fit_asks_for_everything),
        cmocka_unit_test(a_history_that_went_back_is_thrown_away),
        cmocka_unit_test(a_whole_snapshot_of_another_session_replaces_the_state),
        cmocka_unit_test(an_event_the_reducer_refuses_starts_over),
        cmocka_unit_test(snapshots_that_never_apply_stop_the_asking),
        cmocka_unit_test(a_closed_vote_is_remembered),
        cmocka_unit_test(every_title_and_number_has_glyphs),
        cmocka_unit_test(sizes_scale_width_and_height),
        cmocka_unit_test(rendering_draws_the_pixels),
        cmocka_unit_test(countdown_runs_warns_and_overruns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
