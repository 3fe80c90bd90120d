/*
 * test_engine.c: the live session engine (daemon/engine.c) driven through
 * engine_request the way the transport drives it: a whole LWK-meting, blind
 * scoring as every member receives it, refusals for every request type,
 * undo, isolation, restore and rejoin. Every event the sink gets is checked
 * on the way (sequence, both encodings decodable, nothing private in pub).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "frame.h"
#include "proto.h"
#include "state.h"

/* Not in engine.h yet: a read-only view of a session's state. */
const struct session_state *session_get_state(const struct session *s);

/* ---- harness ----------------------------------------------------------- */

struct captured {
    struct session *s;
    uint64_t seq;
    enum proto_type type;
    struct engine_frame *full, *pub;
    int owner;
};

struct harness {
    struct engine *e;
    struct captured *ev;
    int n, cap;
    uint64_t now;
    struct engine_limits lim;
};

static const char fac_name[] = "begeleider";
static const struct engine_actor FAC = {PROTO_KIND_FACILITATOR, 0, fac_name};
static const struct engine_actor KIOSK = {PROTO_KIND_KIOSK, 0, NULL};
static const struct engine_actor OBSERVER = {PROTO_KIND_OBSERVER, 0, NULL};

static struct engine_actor P(int pid) {
    return (struct engine_actor){PROTO_KIND_PARTICIPANT, pid, NULL};
}

static bool
has_key(const struct engine_frame *f, const char *key)
{
    /* A map key is a fixstr: its length byte, then the name. */
    size_t kl = strlen(key);
    for (size_t i = PROTO_FRAME_HEADER; i + 1 + kl <= f->len; i++)
        if (f->data[i] == (0xa0 | kl) && !memcmp(f->data + i + 1, key, kl))
            return true;
    return false;
}

static struct proto_msg *decode_frame(const struct engine_frame *f)
{
    struct proto_msg *m = NULL;
    assert_int_equal(proto_get_u32be(f->data), f->len - PROTO_FRAME_HEADER);
    assert_int_equal(
        proto_decode(f->data + PROTO_FRAME_HEADER, f->len - PROTO_FRAME_HEADER, true, &m, NULL), 0);
    return m;
}

static void sink_event(void *ctx, struct session *s, uint64_t seq, enum proto_type type,
                       struct engine_frame *full, struct engine_frame *pub, int owner)
{
    struct harness *h = ctx;
    /* Every event carries the next seq of its own session. */
    uint64_t last = 0;
    for (int i = h->n - 1; i >= 0; i--)
        if (h->ev[i].s == s) {
            last = h->ev[i].seq;
            break;
        }
    assert_int_equal(seq, last + 1);
    struct proto_msg *f = decode_frame(full), *p = decode_frame(pub);
    assert_int_equal(f->type, type);
    assert_int_equal(p->type, type);
    assert_int_equal(f->v[PK_SEQ].i, (int64_t)seq);
    assert_int_equal(p->v[PK_SEQ].i, (int64_t)seq);
    /* What every member sees holds nothing that belongs to one of them. */
    assert_false(proto_has(p, PK_RESUME));
    assert_false(proto_has(p, PK_KIOSK_CODE));
    if (type == PT_EV_SCORED) {
        assert_false(proto_has(p, PK_VALUE));
        assert_false(has_key(pub, "value"));
        assert_int_equal(owner, f->v[PK_PID].i);
    }
    if (type == PT_EV_VOTED) {
        assert_false(proto_has(p, PK_THEME));
        assert_false(proto_has(p, PK_DELTA));
    }
    proto_msg_free(f);
    proto_msg_free(p);

    if (h->n == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 256;
        h->ev = realloc(h->ev, (size_t)h->cap * sizeof(*h->ev));
        assert_non_null(h->ev);
    }
    engine_frame_ref(full);
    engine_frame_ref(pub);
    h->ev[h->n++] = (struct captured){s, seq, type, full, pub, owner};
}

static struct engine_limits default_limits(void)
{
    return (struct engine_limits){
        .max_sessions = 10,
        .max_participants = 20,
        .max_text_bytes = 500,
        .max_themes = 10,
        .max_actions = 10,
        .max_keywords = 60,
        .min_reveal = 3,
        .session_idle_close_min = 60,
    };
}

static int setup(void **state)
{
    struct harness *h = calloc(1, sizeof(*h));
    h->lim = default_limits();
    h->now = 1700000000000ull;
    h->e = engine_new(&h->lim, (struct engine_sink){h, sink_event});
    *state = h;
    return 0;
}

static void drop_events(struct harness *h)
{
    for (int i = 0; i < h->n; i++) {
        engine_frame_unref(h->ev[i].full);
        engine_frame_unref(h->ev[i].pub);
    }
    h->n = 0;
}

static int teardown(void **state)
{
    struct harness *h = *state;
    drop_events(h);
    free(h->ev);
    engine_free(h->e);
    free(h);
    return 0;
}

#define TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

/* ---- request helpers --------------------------------------------------- */

static struct proto_msg REQ(enum proto_type t) {
    struct proto_msg m;
    memset(&m, 0, sizeof(m));
    proto_msg_init(&m, t);
    return m;
}

static struct proto_msg last_reply;

static int rq(struct harness *h, struct session *s, struct engine_actor who, struct proto_msg *m)
{
    last_reply = REQ(PT_OK);
    h->now += 1000;
    return engine_request(h->e, s, &who, m, h->now, &last_reply);
}

/* The request is accepted and produces exactly these events. */
static void ok_n(struct harness *h, struct session *s, struct engine_actor who, struct proto_msg m,
                 int n, enum proto_type type)
{
    int before = h->n;
    uint64_t seq = session_seq(s);
    assert_int_equal(rq(h, s, who, &m), 0);
    assert_int_equal(h->n, before + n);
    assert_int_equal(session_seq(s), seq + (uint64_t)n);
    if (n > 0)
        assert_int_equal(h->ev[before].type, type);
    if (n > 0)
        assert_int_equal(last_reply.v[PK_SEQ].i, (int64_t)session_seq(s));
}

static void ok1(struct harness *h, struct session *s, struct engine_actor who, struct proto_msg m,
                enum proto_type type)
{
    ok_n(h, s, who, m, 1, type);
}

/* The request is refused with code and changes nothing. */
static void refused(struct harness *h, struct session *s, struct engine_actor who,
                    struct proto_msg m, int code)
{
    int before = h->n;
    uint64_t seq = session_seq(s);
    int rc = rq(h, s, who, &m);
    if (rc != code)
        fail_msg("%s: expected %s, got %s", proto_type_name(m.type), proto_err_name(code),
                 rc ? proto_err_name(rc) : "OK");
    assert_int_equal(h->n, before);
    assert_int_equal(session_seq(s), seq);
}

static struct proto_msg text_req(enum proto_type t, const char *text)
{
    struct proto_msg m = REQ(t);
    proto_set_str(&m, PK_TEXT, text);
    return m;
}

static struct proto_msg score_req(int item, int value)
{
    struct proto_msg m = REQ(PT_SCORE);
    proto_set_int(&m, PK_ITEM, item);
    proto_set_int(&m, PK_VALUE, value);
    return m;
}

static struct proto_msg int_req(enum proto_type t, enum proto_key k, int64_t v)
{
    struct proto_msg m = REQ(t);
    proto_set_int(&m, k, v);
    return m;
}

static struct session *new_session(struct harness *h, int min_reveal, bool auto_reveal)
{
    struct proto_msg m = REQ(PT_SESSION_NEW);
    proto_set_str(&m, PK_TEAM, "Team Noord, afdeling De Linde");
    if (min_reveal)
        proto_set_int(&m, PK_MIN_REVEAL, min_reveal);
    if (auto_reveal)
        proto_set_bool(&m, PK_AUTO, true);
    struct session *s = NULL;
    int before = h->n;
    assert_int_equal(engine_session_new(h->e, &m, fac_name, h->now, &s), 0);
    assert_non_null(s);
    assert_int_equal(h->n, before + 1);
    assert_int_equal(h->ev[before].type, PT_EV_CREATED);
    assert_int_equal(session_seq(s), 1);
    return s;
}

static const char *const names[] = {"Anna", "Bram", "Cor", "Dewi", "Eva", "Fenna", "Gijs"};

static int join(struct harness *h, struct session *s, const char *name)
{
    int pid = 0;
    const char *resume = NULL;
    assert_int_equal(engine_join(h->e, s, name, &pid, &resume), 0);
    assert_true(pid > 0);
    assert_non_null(resume);
    assert_true(strlen(resume) >= 22);
    return pid;
}

static struct session *session_with(struct harness *h, int n)
{
    struct session *s = new_session(h, 3, false);
    for (int i = 0; i < n; i++)
        assert_int_equal(join(h, s, names[i]), i + 1);
    return s;
}

static const struct session_state *ST(const struct session *s)
{
    return session_get_state(s);
}

/* Every present participant scores the current item (value 4 + pid % 6), then reveal. */
static void score_and_reveal(struct harness *h, struct session *s)
{
    const struct session_state *st = ST(s);
    for (int pid = 1; pid <= st->n_participants; pid++)
        if (!st->participants[pid - 1].removed)
            ok1(h, s, P(pid), score_req(st->item, 4 + pid % 6), PT_EV_SCORED);
    ok1(h, s, FAC, REQ(PT_REVEAL), PT_EV_REVEALED);
}

/* Drives the session forward to phase (and, for score/explain, item). */
static void run_to(struct harness *h, struct session *s, enum proto_phase phase, int item)
{
    const struct session_state *st = ST(s);
    while (st->phase != phase ||
           ((phase == PROTO_PHASE_SCORE || phase == PROTO_PHASE_EXPLAIN) && st->item != item)) {
        if (st->phase == PROTO_PHASE_SCORE && !state_round(st, st->item, st->round)->revealed &&
            !(phase == PROTO_PHASE_SCORE && st->item == item))
            score_and_reveal(h, s);
        else
            ok1(h, s, FAC, REQ(PT_NEXT), PT_EV_PHASE);
    }
}

/* ---- a whole session --------------------------------------------------- */

static const int grades[4][5] = {
    {6, 7, 5, 8, 6},
    {4, 9, 3, 7, 5},
    {7, 7, 6, 8, 7},
    {5, 6, 6, 4, 8},
};

/* Explains the current item: keyword per speaker, speaker 2 passes. */
static void explain_round(struct harness *h, struct session *s, int item)
{
    const struct session_state *st = ST(s);
    int spoken = 0;
    while (state_current_speaker(st)) {
        int speaker = state_current_speaker(st);
        if (speaker == 2 && item == 3) {
            ok1(h, s, P(2), REQ(PT_TURN_PASS), PT_EV_TURN);
            continue;
        }
        /* someone else may not type into this turn */
        refused(h, s, P(speaker % 5 + 1), text_req(PT_KEYWORD, "ik ook"), PROTO_ERR_CONFLICT);
        if (item == 2) {
            ok1(h, s, FAC, text_req(PT_KEYWORD, "genoteerd door begeleider"), PT_EV_KEYWORD);
        } else {
            ok1(h, s, P(speaker), text_req(PT_KEYWORD, "nieuwe collega's snel op weg"),
                PT_EV_KEYWORD);
        }
        assert_int_equal(st->keywords[st->n_keywords - 1].pid, speaker);
        assert_int_equal(st->keywords[st->n_keywords - 1].item, item);
        ok1(h, s, FAC, REQ(PT_TURN_NEXT), PT_EV_TURN);
        spoken++;
    }
    assert_int_equal(st->turns.current, -1);
    assert_int_equal(spoken, item == 3 ? 4 : 5);
    refused(h, s, FAC, REQ(PT_TURN_NEXT), PROTO_ERR_CONFLICT);
}

static struct session *run_full_session(struct harness *h)
{
    struct session *s = new_session(h, 3, false);
    for (int i = 0; i < 5; i++)
        assert_int_equal(join(h, s, names[i]), i + 1);
    const struct session_state *st = ST(s);
    assert_int_equal(st->phase, PROTO_PHASE_LOBBY);
    assert_int_equal(st->n_items, 4);

    ok1(h, s, FAC, REQ(PT_NEXT), PT_EV_PHASE);
    for (int item = 0; item < 4; item++) {
        assert_int_equal(st->phase, PROTO_PHASE_SCORE);
        assert_int_equal(st->item, item);
        assert_int_equal(st->round, 1);
        for (int p = 1; p <= 5; p++)
            ok1(h, s, P(p), score_req(item, grades[item][p - 1]), PT_EV_SCORED);
        if (item == 1) /* a change of mind before the reveal */
            ok1(h, s, P(1), score_req(item, 5), PT_EV_SCORED);
        refused(h, s, FAC, REQ(PT_NEXT), PROTO_ERR_CONFLICT); /* reveal first */
        ok1(h, s, FAC, REQ(PT_REVEAL), PT_EV_REVEALED);
        refused(h, s, P(1), score_req(item, 3), PROTO_ERR_WRONG_PHASE);
        ok1(h, s, FAC, REQ(PT_NEXT), PT_EV_PHASE);
        assert_int_equal(st->phase, PROTO_PHASE_EXPLAIN);

        struct proto_msg order = REQ(PT_TURN_ORDER);
        static const enum proto_mode modes[] = {PROTO_MODE_JOIN, PROTO_MODE_LOW, PROTO_MODE_HIGH,
                                                PROTO_MODE_MANUAL};
        static const int64_t manual[] = {5, 4, 3, 2, 1};
        proto_set_int(&order, PK_MODE, modes[item]);
        if (modes[item] == PROTO_MODE_MANUAL)
            proto_set_ints(&order, PK_ORDER, manual, 5);
        ok1(h, s, FAC, order, PT_EV_TURNS);
        explain_round(h, s, item);

        if (item == 1) {
            /* the group wants to grade again after hearing each other */
            ok1(h, s, FAC, REQ(PT_RESCORE), PT_EV_ROUND);
            assert_int_equal(st->phase, PROTO_PHASE_SCORE);
            assert_int_equal(st->round, 2);
            for (int p = 1; p <= 5; p++)
                ok1(h, s, P(p), score_req(item, 6), PT_EV_SCORED);
            ok1(h, s, FAC, REQ(PT_REVEAL), PT_EV_REVEALED);
            ok1(h, s, FAC, REQ(PT_NEXT), PT_EV_PHASE);
            assert_int_equal(st->phase, PROTO_PHASE_EXPLAIN);
            assert_int_equal(st->round, 2);
        }
        ok1(h, s, FAC, REQ(PT_NEXT), PT_EV_PHASE);
    }

    /* themes, with dot voting */
    assert_int_equal(st->phase, PROTO_PHASE_THEMES);
    static const int64_t links[] = {0, 1};
    struct proto_msg t = text_req(PT_THEME_ADD, "werkdruk en tijd voor begeleiding");
    proto_set_ints(&t, PK_ITEMS, links, 2);
    ok1(h, s, P(1), t, PT_EV_THEME);
    assert_int_equal(last_reply.v[PK_THEME].i, 1);
    ok1(h, s, P(2), text_req(PT_THEME_ADD, "stagiairs horen erbij"), PT_EV_THEME);
    ok1(h, s, P(3), text_req(PT_THEME_ADD, "stagiaires voelen zich thuis"), PT_EV_THEME);
    ok1(h, s, FAC, text_req(PT_THEME_ADD, "dubbel"), PT_EV_THEME);
    struct proto_msg edit = int_req(PT_THEME_EDIT, PK_THEME, 1);
    proto_set_str(&edit, PK_TEXT, "werkdruk: tijd voor begeleiding");
    ok1(h, s, FAC, edit, PT_EV_THEME_EDITED);
    struct proto_msg merge = int_req(PT_THEME_MERGE, PK_THEME, 3);
    proto_set_int(&merge, PK_INTO, 2);
    ok1(h, s, FAC, merge, PT_EV_THEME_MERGED);
    ok1(h, s, FAC, int_req(PT_THEME_DELETE, PK_THEME, 4), PT_EV_THEME_DELETED);
    ok1(h, s, FAC, int_req(PT_VOTE_OPEN, PK_BUDGET, 3), PT_EV_VOTE_OPENED);
    refused(h, s, FAC, REQ(PT_NEXT), PROTO_ERR_CONFLICT); /* close the vote first */
    for (int p = 1; p <= 5; p++) {
        struct proto_msg v = int_req(PT_VOTE, PK_THEME, 1);
        proto_set_int(&v, PK_DELTA, 1);
        ok1(h, s, P(p), v, PT_EV_VOTED);
        ok1(h, s, P(p), v, PT_EV_VOTED);
        proto_set_int(&v, PK_THEME, 2);
        ok1(h, s, P(p), v, PT_EV_VOTED);
        refused(h, s, P(p), v, PROTO_ERR_LIMIT); /* budget spent */
    }
    ok1(h, s, FAC, REQ(PT_VOTE_CLOSE), PT_EV_VOTE_CLOSED);
    assert_int_equal(st->themes[0].votes, 10);
    assert_int_equal(st->themes[1].votes, 5);

    /* desired scores */
    ok1(h, s, FAC, REQ(PT_NEXT), PT_EV_PHASE);
    assert_int_equal(st->phase, PROTO_PHASE_DESIRED);
    for (int item = 0; item < 4; item++) {
        for (int p = 1; p <= 5; p++) {
            struct proto_msg d = int_req(PT_DESIRED_PROPOSE, PK_ITEM, item);
            proto_set_int(&d, PK_VALUE, 7 + p % 2);
            ok1(h, s, P(p), d, PT_EV_DESIRED_PROPOSED);
        }
        struct proto_msg d = int_req(PT_DESIRED_SET, PK_ITEM, item);
        proto_set_int(&d, PK_VALUE, 8);
        ok1(h, s, FAC, d, PT_EV_DESIRED_SET);
    }

    /* actions */
    ok1(h, s, FAC, REQ(PT_NEXT), PT_EV_PHASE);
    struct proto_msg a = text_req(PT_ACTION_PROPOSE, "elke nieuwe collega krijgt een buddy");
    proto_set_str(&a, PK_OWNER, "Anna");
    proto_set_str(&a, PK_ROLE, "werkbegeleider");
    proto_set_str(&a, PK_WHERE, "afdeling De Linde");
    proto_set_str(&a, PK_DEADLINE, "2025-03-01");
    proto_set_str(&a, PK_FEEDBACK, "teamoverleg maart");
    proto_set_str(&a, PK_RESOURCES, "een uur per week");
    proto_set_int(&a, PK_ITEM, 0);
    proto_set_int(&a, PK_THEME, 1);
    ok1(h, s, P(1), a, PT_EV_ACTION);
    assert_int_equal(last_reply.v[PK_ACTION].i, 1);
    assert_false(st->actions[0].confirmed);
    ok1(h, s, FAC, int_req(PT_ACTION_CONFIRM, PK_ACTION, 1), PT_EV_ACTION_CONFIRMED);
    struct proto_msg ae = int_req(PT_ACTION_EDIT, PK_ACTION, 1);
    proto_set_str(&ae, PK_DEADLINE, "2025-04-01");
    ok1(h, s, FAC, ae, PT_EV_ACTION_EDITED);
    ok1(h, s, FAC, text_req(PT_ACTION_PROPOSE, "leerdoelen in elk functioneringsgesprek"),
        PT_EV_ACTION);
    assert_true(st->actions[1].confirmed);
    ok1(h, s, P(4), text_req(PT_ACTION_PROPOSE, "taart"), PT_EV_ACTION);
    ok1(h, s, FAC, int_req(PT_ACTION_REMOVE, PK_ACTION, 3), PT_EV_ACTION_REMOVED);

    /* look ahead */
    ok1(h, s, FAC, REQ(PT_NEXT), PT_EV_PHASE);
    struct proto_msg date = REQ(PT_LOOKAHEAD_DATE);
    proto_set_str(&date, PK_DATE, "2025-06-12");
    ok1(h, s, FAC, date, PT_EV_LOOKAHEAD_DATE);
    ok1(h, s, FAC, text_req(PT_LOOKAHEAD_ADD, "vermogens vast op de agenda van het teamoverleg"),
        PT_EV_LOOKAHEAD_ADDED);
    ok1(h, s, FAC, text_req(PT_LOOKAHEAD_ADD, "inwerkplan bespreken bij elke nieuwe collega"),
        PT_EV_LOOKAHEAD_ADDED);

    /* summary and look back */
    ok1(h, s, FAC, REQ(PT_NEXT), PT_EV_PHASE);
    assert_int_equal(st->phase, PROTO_PHASE_SUMMARY);
    refused(h, s, FAC, REQ(PT_NEXT), PROTO_ERR_WRONG_PHASE);
    ok1(h, s, FAC, text_req(PT_SUMMARY, "Begeleiding van nieuwe collega's staat onder druk."),
        PT_EV_SUMMARY);
    ok1(h, s, P(2), text_req(PT_REACTION, "herkenbaar"), PT_EV_REACTION);
    ok1(h, s, P(3), text_req(PT_REACTION, "goed dat de stagiairs erbij horen"), PT_EV_REACTION);
    for (int p = 1; p <= 5; p++)
        ok1(h, s, P(p), int_req(PT_EVALUATION, PK_RATING, 4), PT_EV_EVALUATION);
    struct proto_msg ev2 = int_req(PT_EVALUATION, PK_RATING, 5);
    proto_set_str(&ev2, PK_TEXT, "fijn gesprek");
    ok1(h, s, P(5), ev2, PT_EV_EVALUATION);

    ok1(h, s, FAC, REQ(PT_END), PT_EV_CLOSED);
    return s;
}

static void whole_lwk_meting_runs_every_step_with_five_participants(void **state)
{
    struct harness *h = *state;
    struct session *s = run_full_session(h);
    const struct session_state *st = ST(s);

    assert_true(session_closed(s));
    assert_int_equal(session_phase(s), PROTO_PHASE_CLOSED);
    assert_int_equal(session_participant_count(s), 5);
    for (int item = 0; item < 4; item++) {
        assert_int_equal(st->items[item].n_rounds, item == 1 ? 2 : 1);
        assert_true(st->items[item].rounds[0].revealed);
        assert_int_equal(st->items[item].desired, 8);
    }
    struct state_stats a, b;
    assert_int_equal(state_round_stats(st, 0, 1, &a), 0);
    assert_int_equal(a.count, 5);
    assert_float_equal(a.mean, 6.4, 1e-9);
    assert_float_equal(a.median, 6.0, 1e-9);
    assert_int_equal(state_round_stats(st, 1, 1, &a), 0);
    assert_int_equal(state_round_score(&st->items[1].rounds[0], 1)->value, 5);
    assert_int_equal(a.min, 3);
    assert_int_equal(a.max, 9);
    assert_true(a.divided);
    assert_int_equal(state_round_stats(st, 1, 2, &b), 0);
    assert_float_equal(b.spread, 0.0, 1e-9);
    assert_false(b.divided);

    /* low-first and high-first orders follow the grades, ties in join order */
    assert_int_equal(st->n_keywords, 5 + 5 + 5 + 4);
    assert_int_equal(st->keywords[5].pid, 3);  /* item 1, lowest (3) first */
    assert_int_equal(st->keywords[10].pid, 4); /* item 2, highest (8) first */
    assert_int_equal(st->keywords[11].pid, 1); /* then the 7s in join order */
    assert_int_equal(st->keywords[15].pid, 5); /* item 3, manual 5 4 3 2 1 */

    assert_int_equal(st->n_themes, 4);
    assert_string_equal(st->themes[0].text, "werkdruk: tijd voor begeleiding");
    assert_int_equal(st->themes[0].items, 3u);
    assert_int_equal(st->themes[0].pid, 1);
    assert_int_equal(st->themes[2].merged_into, 2);
    assert_true(st->themes[3].deleted);
    assert_int_equal(state_live_themes(st), 2);
    assert_int_equal(st->n_desired, 20);

    assert_int_equal(st->n_actions, 3);
    const struct state_action *x = state_action(st, 1);
    assert_true(x->confirmed);
    assert_string_equal(x->deadline, "2025-04-01");
    assert_string_equal(x->owner, "Anna");
    assert_string_equal(x->resources, "een uur per week");
    assert_int_equal(x->item, 0);
    assert_int_equal(x->theme, 1);
    assert_int_equal(x->pid, 1);
    assert_true(state_action(st, 3)->removed);
    assert_int_equal(state_live_actions(st), 2);

    assert_string_equal(st->look_ahead_date, "2025-06-12");
    assert_int_equal(st->n_look_ahead, 2);
    assert_non_null(st->summary);
    assert_int_equal(st->n_reactions, 2);
    assert_int_equal(st->n_evaluations, 5);
    assert_int_equal(st->evaluations[4].rating, 5);
    assert_string_equal(st->evaluations[4].text, "fijn gesprek");

    /* every event went through the sink, in order, once */
    assert_int_equal((uint64_t)h->n, session_seq(s));
    /* the state the clients rebuild from what they receive is the same */
    struct session_state client;
    state_init(&client);
    for (int i = 0; i < h->n; i++) {
        struct proto_msg *m = decode_frame(h->ev[i].pub);
        assert_int_equal(state_apply(&client, m), 0);
        proto_msg_free(m);
    }
    assert_int_equal(client.seq, st->seq);
    assert_int_equal(client.n_keywords, st->n_keywords);
    assert_int_equal(state_round_stats(&client, 1, 1, &b), 0);
    assert_float_equal(b.mean, a.mean, 1e-9);
    assert_int_equal(client.themes[0].votes, 10);
    assert_int_equal(state_votes_used(&client, 1), 0); /* nobody's votes but one's own */
    state_free(&client);
}

/* ---- blind scoring ----------------------------------------------------- */

/* The frame member who received for captured event c. */
static const struct engine_frame *received(const struct captured *c, struct engine_actor who)
{
    if (who.kind == PROTO_KIND_PARTICIPANT && c->owner > 0 && who.pid == c->owner)
        return c->full;
    return c->pub;
}

/* Checks a snapshot for who: decodes, and holds no value but who's own. */
static void check_blind_snapshot(struct harness *h, struct session *s, struct engine_actor who,
                                 int own_scores)
{
    uint8_t *frame;
    size_t len;
    assert_int_equal(engine_snapshot(h->e, s, &who, 0, &frame, &len), 0);
    struct proto_msg *snap;
    assert_int_equal(proto_get_u32be(frame), len - PROTO_FRAME_HEADER);
    assert_int_equal(proto_decode(frame + 4, len - 4, true, &snap, NULL), 0);
    assert_int_equal(snap->type, PT_SNAPSHOT);
    assert_int_equal(snap->v[PK_SEQ].i, (int64_t)session_seq(s));
    assert_int_equal(snap->v[PK_SESSION].i, session_id(s));
    assert_int_equal(snap->v[PK_EVENTS].m.n, session_seq(s));
    int values = 0;
    for (uint32_t i = 0; i < snap->v[PK_EVENTS].m.n; i++) {
        const struct proto_msg *e = &snap->v[PK_EVENTS].m.p[i];
        /* earlier rounds may be revealed, never the one open now */
        if (e->type == PT_EV_REVEALED)
            assert_false(e->v[PK_ITEM].i == ST(s)->item && e->v[PK_ROUND].i == ST(s)->round);
        if (e->type == PT_EV_SCORED && proto_has(e, PK_VALUE)) {
            assert_int_equal(who.kind, PROTO_KIND_PARTICIPANT);
            assert_int_equal(e->v[PK_PID].i, who.pid);
            values++;
        }
        if (e->type == PT_EV_JOINED && proto_has(e, PK_RESUME))
            assert_int_equal(e->v[PK_PID].i, who.pid);
        if (e->type == PT_EV_CREATED)
            assert_int_equal(proto_has(e, PK_KIOSK_CODE), who.kind == PROTO_KIND_FACILITATOR);
    }
    assert_int_equal(values, own_scores);
    /* and in the raw bytes: exactly as many "value" keys as own scores */
    int raw = 0;
    for (size_t i = 4; i + 6 <= len; i++)
        raw += frame[i] == 0xa5 && !memcmp(frame + i + 1, "value", 5);
    assert_int_equal(raw, own_scores);
    proto_msg_free(snap);
    free(frame);
}

static void blind_round_sends_no_values_before_reveal(void **state)
{
    struct harness *h = *state;
    struct session *s = session_with(h, 5);
    run_to(h, s, PROTO_PHASE_SCORE, 0);
    int first = h->n;
    for (int p = 1; p <= 4; p++)
        ok1(h, s, P(p), score_req(0, p + 5), PT_EV_SCORED);
    ok1(h, s, P(2), score_req(0, 3), PT_EV_SCORED); /* changed */
    /* scribe: the facilitator types in participant 5's grade */
    struct proto_msg scribe = score_req(0, 10);
    proto_set_int(&scribe, PK_FOR, 5);
    ok1(h, s, FAC, scribe, PT_EV_SCORED);
    assert_int_equal(h->ev[h->n - 1].owner, 5);

    struct engine_actor members[8] = {FAC, KIOSK, OBSERVER, P(1), P(2), P(3), P(4), P(5)};
    for (int m = 0; m < 8; m++) {
        int own = 0;
        for (int i = first; i < h->n; i++) {
            const struct captured *c = &h->ev[i];
            const struct engine_frame *f = received(c, members[m]);
            bool mine = members[m].kind == PROTO_KIND_PARTICIPANT && members[m].pid == c->owner;
            struct proto_msg *d = decode_frame(f);
            assert_int_equal(proto_has(d, PK_VALUE), mine);
            assert_int_equal(has_key(f, "value"), mine);
            proto_msg_free(d);
            own += mine;
        }
        check_blind_snapshot(h, s, members[m], own);
    }
    /* the full encoding (stored, and sent to the owner) does carry the value */
    struct proto_msg *d = decode_frame(h->ev[first + 4].full);
    assert_int_equal(d->v[PK_VALUE].i, 3);
    proto_msg_free(d);

    ok1(h, s, FAC, REQ(PT_REVEAL), PT_EV_REVEALED);
    d = decode_frame(h->ev[h->n - 1].pub);
    static const int64_t expect[] = {1, 6, 2, 3, 3, 8, 4, 9, 5, 10};
    assert_int_equal(d->v[PK_VALUES].a.n, 10);
    assert_memory_equal(d->v[PK_VALUES].a.p, expect, sizeof(expect));
    proto_msg_free(d);
}

static void votes_stay_private_and_the_budget_holds(void **state)
{
    struct harness *h = *state;
    struct session *s = session_with(h, 3);
    run_to(h, s, PROTO_PHASE_THEMES, -1);
    ok1(h, s, P(1), text_req(PT_THEME_ADD, "werkdruk"), PT_EV_THEME);
    ok1(h, s, P(2), text_req(PT_THEME_ADD, "ruimte om te leren"), PT_EV_THEME);
    struct proto_msg v = int_req(PT_VOTE, PK_THEME, 1);
    proto_set_int(&v, PK_DELTA, 1);
    refused(h, s, P(1), v, PROTO_ERR_WRONG_PHASE); /* no vote open */
    ok1(h, s, FAC, int_req(PT_VOTE_OPEN, PK_BUDGET, 2), PT_EV_VOTE_OPENED);
    refused(h, s, FAC, int_req(PT_VOTE_OPEN, PK_BUDGET, 2), PROTO_ERR_CONFLICT);
    refused(h, s, FAC, v, PROTO_ERR_WRONG_ROLE);
    ok1(h, s, P(1), v, PT_EV_VOTED);
    ok1(h, s, P(1), v, PT_EV_VOTED);
    refused(h, s, P(1), v, PROTO_ERR_LIMIT);
    proto_set_int(&v, PK_DELTA, -1);
    ok1(h, s, P(1), v, PT_EV_VOTED);
    proto_set_int(&v, PK_THEME, 2);
    refused(h, s, P(1), v, PROTO_ERR_CONFLICT); /* nothing to take back there */
    proto_set_int(&v, PK_DELTA, 1);
    ok1(h, s, P(1), v, PT_EV_VOTED);
    ok1(h, s, P(3), v, PT_EV_VOTED);
    /* merging or deleting would orphan votes */
    refused(h, s, FAC, int_req(PT_THEME_DELETE, PK_THEME, 2), PROTO_ERR_CONFLICT);
    ok1(h, s, FAC, REQ(PT_VOTE_CLOSE), PT_EV_VOTE_CLOSED);
    struct proto_msg *d = decode_frame(h->ev[h->n - 1].pub);
    static const int64_t totals[] = {1, 1, 2, 2};
    assert_int_equal(d->v[PK_VALUES].a.n, 4);
    assert_memory_equal(d->v[PK_VALUES].a.p, totals, sizeof(totals));
    proto_msg_free(d);
    refused(h, s, FAC, REQ(PT_VOTE_CLOSE), PROTO_ERR_CONFLICT);
}

/* ---- refusals, table-driven -------------------------------------------- */

#define F_ 1u
#define P_ 2u
#define ANY 0x3ffu
#define IN(p) (1u << PROTO_PHASE_##p)

struct req_spec {
    enum proto_type type;
    unsigned roles;
    unsigned phases;
    void (*fill)(struct proto_msg *m);
};

static void f_none(struct proto_msg *m)
{
    (void)m;
}
static void f_item(struct proto_msg *m)
{
    proto_set_int(m, PK_ITEM, 0);
}
static void f_mode(struct proto_msg *m)
{
    proto_set_int(m, PK_MODE, PROTO_MODE_JOIN);
}
static void f_pid(struct proto_msg *m)
{
    proto_set_int(m, PK_PID, 1);
}
static void f_score(struct proto_msg *m)
{
    proto_set_int(m, PK_ITEM, 0);
    proto_set_int(m, PK_VALUE, 5);
}
static void f_text(struct proto_msg *m)
{
    proto_set_str(m, PK_TEXT, "iets");
}
static void f_theme_text(struct proto_msg *m)
{
    proto_set_int(m, PK_THEME, 1);
    proto_set_str(m, PK_TEXT, "iets");
}
static void f_merge(struct proto_msg *m)
{
    proto_set_int(m, PK_THEME, 1);
    proto_set_int(m, PK_INTO, 2);
}
static void f_theme(struct proto_msg *m)
{
    proto_set_int(m, PK_THEME, 1);
}
static void f_budget(struct proto_msg *m)
{
    proto_set_int(m, PK_BUDGET, 3);
}
static void f_vote(struct proto_msg *m)
{
    proto_set_int(m, PK_THEME, 1);
    proto_set_int(m, PK_DELTA, 1);
}
static void f_desired(struct proto_msg *m)
{
    proto_set_int(m, PK_ITEM, 0);
    proto_set_int(m, PK_VALUE, 7);
}
static void f_action(struct proto_msg *m)
{
    proto_set_int(m, PK_ACTION, 1);
}
static void f_date(struct proto_msg *m)
{
    proto_set_str(m, PK_DATE, "2025-06-12");
}
static void f_rating(struct proto_msg *m)
{
    proto_set_int(m, PK_RATING, 4);
}

static void f_items(struct proto_msg *m)
{
    static const int64_t items[] = {0, 2};
    proto_set_ints(m, PK_ITEMS, items, 2);
}
static void f_example(struct proto_msg *m)
{
    proto_set_int(m, PK_ITEM, 0);
    proto_set_str(m, PK_TEXT, "Inwerkmap met buddy");
}
static void f_duration(struct proto_msg *m)
{
    proto_set_int(m, PK_DURATION, 60);
}
static void f_review(struct proto_msg *m)
{
    proto_set_int(m, PK_ACTION, 1);
    proto_set_int(m, PK_RATING, 4);
}

#define REVIEWING (IN(ACTIONS) | IN(LOOK_AHEAD) | IN(SUMMARY))
#define THEMING (IN(THEMES) | IN(DESIRED) | IN(ACTIONS))

/* Every session request: who may send it, in which steps. */
static const struct req_spec specs[] = {
    {PT_NEXT, F_, ANY, f_none},
    {PT_BACK, F_, ANY & ~IN(LOBBY), f_none}, /* in the lobby: back to a review only */
    {PT_REVEAL, F_, IN(SCORE), f_none},
    {PT_RESCORE, F_, ANY & ~IN(LOBBY), f_item},
    {PT_TURN_ORDER, F_, IN(EXPLAIN), f_mode},
    {PT_TURN_NEXT, F_, IN(EXPLAIN), f_none},
    {PT_TURN_PASS, F_ | P_, IN(EXPLAIN), f_none},
    {PT_PAUSE, F_, ANY, f_none},
    {PT_RESUME_REQ, F_, ANY, f_none},
    {PT_UNDO_REQ, F_, ANY, f_none},
    {PT_REMOVE, F_, ANY, f_pid},
    {PT_END, F_, ANY, f_none},
    {PT_SCORE, F_ | P_, IN(SCORE), f_score},
    {PT_KEYWORD, F_ | P_, IN(EXPLAIN), f_text},
    {PT_THEME_ADD, F_ | P_, IN(THEMES), f_text},
    {PT_THEME_EDIT, F_, THEMING, f_theme_text},
    {PT_THEME_MERGE, F_, THEMING, f_merge},
    {PT_THEME_DELETE, F_, THEMING, f_theme},
    {PT_VOTE_OPEN, F_, IN(THEMES), f_budget},
    {PT_VOTE, P_, IN(THEMES), f_vote},
    {PT_VOTE_CLOSE, F_, IN(THEMES), f_none},
    {PT_DESIRED_PROPOSE, P_, IN(DESIRED), f_desired},
    {PT_DESIRED_SET, F_, IN(DESIRED), f_desired},
    {PT_ACTION_PROPOSE, F_ | P_, IN(ACTIONS), f_text},
    {PT_ACTION_EDIT, F_, REVIEWING, f_action},
    {PT_ACTION_CONFIRM, F_, REVIEWING, f_action},
    {PT_ACTION_REMOVE, F_, REVIEWING, f_action},
    {PT_LOOKAHEAD_DATE, F_, IN(LOOK_AHEAD), f_date},
    {PT_LOOKAHEAD_ADD, F_, IN(LOOK_AHEAD), f_text},
    {PT_SUMMARY, F_, IN(SUMMARY), f_text},
    {PT_REACTION, P_, IN(SUMMARY), f_text},
    {PT_EVALUATION, P_, IN(SUMMARY), f_rating},
    /* instruments, timers and the review (test_engine_instruments.c) */
    {PT_ITEMS_SELECT, F_, IN(REVIEW) | IN(LOBBY), f_items},
    {PT_EXAMPLE_ADD, F_, ANY & ~IN(REVIEW) & ~IN(LOBBY), f_example},
    {PT_TIMER_PAUSE, F_, ANY, f_none},
    {PT_TIMER_RESUME, F_, ANY, f_none},
    {PT_TIMER_EXTEND, F_, ANY, f_duration},
    {PT_REVIEW_SET, F_, IN(REVIEW), f_review},
};
#define N_SPECS (sizeof(specs) / sizeof(specs[0]))

static struct proto_msg spec_req(const struct req_spec *sp)
{
    struct proto_msg m = REQ(sp->type);
    sp->fill(&m);
    return m;
}

static void every_session_request_type_is_in_the_table(void **state)
{
    /* A request type the engine knows must be covered by the tables below. */
    struct harness *h = *state;
    struct session *s = session_with(h, 1);
    int known = 0;
    for (int t = PT__NONE + 1; t < PT__COUNT; t++) {
        if (proto_type_dir((enum proto_type)t) != PD_REQ)
            continue;
        struct proto_msg m = REQ((enum proto_type)t);
        for (int k = 0; k < PK__COUNT; k++)
            if (proto_type_requires(m.type, (enum proto_key)k))
                proto_set_int(&m, (enum proto_key)k, 1);
        struct engine_actor kiosk = KIOSK;
        int rc = engine_request(h->e, s, &kiosk, &m, h->now, NULL);
        bool in_table = false;
        for (size_t i = 0; i < N_SPECS; i++)
            in_table |= specs[i].type == m.type;
        assert_int_equal(rc != PROTO_ERR_UNKNOWN_TYPE, in_table);
        known += in_table;
    }
    assert_int_equal(known, (int)N_SPECS);
}

static void kiosk_and_observer_may_send_no_request(void **state)
{
    struct harness *h = *state;
    struct session *s = session_with(h, 3);
    static const struct engine_actor watchers[] = {
        {PROTO_KIND_KIOSK, 0, NULL},
        {PROTO_KIND_OBSERVER, 0, NULL},
        {PROTO_KIND_ADMIN, 0, NULL},
        {PROTO_KIND_MONITOR, 0, NULL},
    };
    for (enum proto_phase ph = PROTO_PHASE_LOBBY; ph <= PROTO_PHASE_EXPLAIN; ph++) {
        run_to(h, s, ph, 0);
        for (size_t w = 0; w < 4; w++)
            for (size_t i = 0; i < N_SPECS; i++)
                refused(h, s, watchers[w], spec_req(&specs[i]), PROTO_ERR_WRONG_ROLE);
    }
}

static void each_request_is_refused_to_the_role_it_is_not_for(void **state)
{
    struct harness *h = *state;
    struct session *s = session_with(h, 3);
    for (size_t i = 0; i < N_SPECS; i++) {
        if (!(specs[i].roles & F_))
            refused(h, s, FAC, spec_req(&specs[i]), PROTO_ERR_WRONG_ROLE);
        if (!(specs[i].roles & P_))
            refused(h, s, P(1), spec_req(&specs[i]), PROTO_ERR_WRONG_ROLE);
    }
    /* another facilitator does not steer this session */
    struct engine_actor other = {PROTO_KIND_FACILITATOR, 0, "collega"};
    refused(h, s, other, REQ(PT_NEXT), PROTO_ERR_WRONG_ROLE);
    /* participants act only for themselves */
    run_to(h, s, PROTO_PHASE_SCORE, 0);
    struct proto_msg m = score_req(0, 5);
    proto_set_int(&m, PK_FOR, 2);
    refused(h, s, P(1), m, PROTO_ERR_WRONG_ROLE);
    /* and a facilitator scores only for someone */
    refused(h, s, FAC, score_req(0, 5), PROTO_ERR_WRONG_ROLE);
}

static void every_request_outside_its_step_is_wrong_phase(void **state)
{
    struct harness *h = *state;
    struct session *s = session_with(h, 3);
    static const enum proto_phase walk[] = {
        PROTO_PHASE_LOBBY,   PROTO_PHASE_SCORE,   PROTO_PHASE_EXPLAIN,    PROTO_PHASE_THEMES,
        PROTO_PHASE_DESIRED, PROTO_PHASE_ACTIONS, PROTO_PHASE_LOOK_AHEAD, PROTO_PHASE_SUMMARY,
    };
    int checked = 0;
    for (size_t w = 0; w < sizeof(walk) / sizeof(walk[0]); w++) {
        run_to(h, s, walk[w], walk[w] == PROTO_PHASE_EXPLAIN ? 3 : 0);
        for (size_t i = 0; i < N_SPECS; i++) {
            if (specs[i].phases & 1u << walk[w])
                continue;
            struct engine_actor who = specs[i].roles & P_ ? P(1) : FAC;
            refused(h, s, who, spec_req(&specs[i]), PROTO_ERR_WRONG_PHASE);
            checked++;
        }
    }
    assert_true(checked > 150);
}

static char long_text[600];

static void f_long_text(struct proto_msg *m)
{
    memset(long_text, 'x', sizeof(long_text) - 1);
    proto_set_str(m, PK_TEXT, long_text);
}
static void f_score_item9(struct proto_msg *m)
{
    proto_set_int(m, PK_ITEM, 9);
    proto_set_int(m, PK_VALUE, 5);
}
static void f_score_value0(struct proto_msg *m)
{
    proto_set_int(m, PK_ITEM, 0);
    proto_set_int(m, PK_VALUE, 0);
}
static void f_keyword_long_for1(struct proto_msg *m)
{
    f_long_text(m);
    proto_set_int(m, PK_FOR, 1);
}
static void f_theme_bad_items(struct proto_msg *m)
{
    static const int64_t items[] = {1, 9};
    proto_set_str(m, PK_TEXT, "x");
    proto_set_ints(m, PK_ITEMS, items, 2);
}
static void f_desired_item9(struct proto_msg *m)
{
    proto_set_int(m, PK_ITEM, 9);
    proto_set_int(m, PK_VALUE, 7);
}
static void f_desired_value11(struct proto_msg *m)
{
    proto_set_int(m, PK_ITEM, 0);
    proto_set_int(m, PK_VALUE, 11);
}
static void f_action_item9(struct proto_msg *m)
{
    proto_set_str(m, PK_TEXT, "x");
    proto_set_int(m, PK_ITEM, 9);
}
static void f_action_bad_date(struct proto_msg *m)
{
    proto_set_str(m, PK_TEXT, "x");
    proto_set_str(m, PK_DEADLINE, "2025-02-30");
}
static void f_action_long_owner(struct proto_msg *m)
{
    proto_set_str(m, PK_TEXT, "x");
    memset(long_text, 'x', sizeof(long_text) - 1);
    proto_set_str(m, PK_OWNER, long_text);
}
static void f_manual_short(struct proto_msg *m)
{
    static const int64_t order[] = {1, 2};
    proto_set_int(m, PK_MODE, PROTO_MODE_MANUAL);
    proto_set_ints(m, PK_ORDER, order, 2);
}
static void f_manual_twice(struct proto_msg *m)
{
    static const int64_t order[] = {1, 2, 2};
    proto_set_int(m, PK_MODE, PROTO_MODE_MANUAL);
    proto_set_ints(m, PK_ORDER, order, 3);
}
static void f_item9(struct proto_msg *m)
{
    proto_set_int(m, PK_ITEM, 9);
}
static void f_rating_long(struct proto_msg *m)
{
    proto_set_int(m, PK_RATING, 3);
    f_long_text(m);
}

struct bad_case {
    enum proto_phase phase;
    enum proto_type type;
    int pid; /* 0: the facilitator */
    void (*fill)(struct proto_msg *m);
    int expect;
};

static void run_bad_cases(struct harness *h, const struct bad_case *cases, size_t n)
{
    struct session *s = session_with(h, 3);
    for (size_t i = 0; i < n; i++) {
        const struct bad_case *c = &cases[i];
        run_to(h, s, c->phase, 0);
        struct proto_msg m = REQ(c->type);
        c->fill(&m);
        refused(h, s, c->pid ? P(c->pid) : FAC, m, c->expect);
    }
}

static void out_of_range_values_are_refused(void **state)
{
    static const struct bad_case cases[] = {
        {PROTO_PHASE_SCORE, PT_SCORE, 1, f_score_item9, PROTO_ERR_OUT_OF_RANGE},
        {PROTO_PHASE_SCORE, PT_SCORE, 1, f_score_value0, PROTO_ERR_OUT_OF_RANGE},
        {PROTO_PHASE_EXPLAIN, PT_KEYWORD, 0, f_keyword_long_for1, PROTO_ERR_OUT_OF_RANGE},
        {PROTO_PHASE_EXPLAIN, PT_TURN_ORDER, 0, f_manual_short, PROTO_ERR_OUT_OF_RANGE},
        {PROTO_PHASE_EXPLAIN, PT_TURN_ORDER, 0, f_manual_twice, PROTO_ERR_OUT_OF_RANGE},
        {PROTO_PHASE_EXPLAIN, PT_RESCORE, 0, f_item9, PROTO_ERR_OUT_OF_RANGE},
        {PROTO_PHASE_THEMES, PT_THEME_ADD, 2, f_theme_bad_items, PROTO_ERR_OUT_OF_RANGE},
        {PROTO_PHASE_THEMES, PT_THEME_ADD, 2, f_long_text, PROTO_ERR_OUT_OF_RANGE},
        {PROTO_PHASE_DESIRED, PT_DESIRED_PROPOSE, 1, f_desired_item9, PROTO_ERR_OUT_OF_RANGE},
        {PROTO_PHASE_DESIRED, PT_DESIRED_SET, 0, f_desired_value11, PROTO_ERR_OUT_OF_RANGE},
        {PROTO_PHASE_ACTIONS, PT_ACTION_PROPOSE, 1, f_action_item9, PROTO_ERR_OUT_OF_RANGE},
        {PROTO_PHASE_ACTIONS, PT_ACTION_PROPOSE, 1, f_action_bad_date, PROTO_ERR_OUT_OF_RANGE},
        {PROTO_PHASE_ACTIONS, PT_ACTION_PROPOSE, 1, f_action_long_owner, PROTO_ERR_OUT_OF_RANGE},
        {PROTO_PHASE_ACTIONS, PT_ACTION_PROPOSE, 0, f_long_text, PROTO_ERR_OUT_OF_RANGE},
        {PROTO_PHASE_LOOK_AHEAD, PT_LOOKAHEAD_ADD, 0, f_long_text, PROTO_ERR_OUT_OF_RANGE},
        {PROTO_PHASE_SUMMARY, PT_SUMMARY, 0, f_long_text, PROTO_ERR_OUT_OF_RANGE},
        {PROTO_PHASE_SUMMARY, PT_REACTION, 2, f_long_text, PROTO_ERR_OUT_OF_RANGE},
        {PROTO_PHASE_SUMMARY, PT_EVALUATION, 2, f_rating_long, PROTO_ERR_OUT_OF_RANGE},
    };
    run_bad_cases(*state, cases, sizeof(cases) / sizeof(cases[0]));
}

static void f_for99(struct proto_msg *m)
{
    f_score(m);
    proto_set_int(m, PK_FOR, 99);
}
static void f_text_for99(struct proto_msg *m)
{
    f_text(m);
    proto_set_int(m, PK_FOR, 99);
}
static void f_pid99(struct proto_msg *m)
{
    proto_set_int(m, PK_PID, 99);
}
static void f_manual99(struct proto_msg *m)
{
    static const int64_t order[] = {1, 2, 99};
    proto_set_int(m, PK_MODE, PROTO_MODE_MANUAL);
    proto_set_ints(m, PK_ORDER, order, 3);
}
static void f_theme99(struct proto_msg *m)
{
    proto_set_int(m, PK_THEME, 99);
    proto_set_str(m, PK_TEXT, "x");
}
static void f_vote99(struct proto_msg *m)
{
    proto_set_int(m, PK_THEME, 99);
    proto_set_int(m, PK_DELTA, 1);
}
static void f_action99(struct proto_msg *m)
{
    proto_set_int(m, PK_ACTION, 99);
}
static void f_action_theme99(struct proto_msg *m)
{
    proto_set_str(m, PK_TEXT, "x");
    proto_set_int(m, PK_THEME, 99);
}

static void unknown_participant_theme_or_action_is_not_found(void **state)
{
    struct harness *h = *state;
    static const struct bad_case cases[] = {
        {PROTO_PHASE_LOBBY, PT_REMOVE, 0, f_pid99, PROTO_ERR_NOT_FOUND},
        {PROTO_PHASE_SCORE, PT_SCORE, 0, f_for99, PROTO_ERR_NOT_FOUND},
        {PROTO_PHASE_EXPLAIN, PT_KEYWORD, 0, f_text_for99, PROTO_ERR_NOT_FOUND},
        {PROTO_PHASE_EXPLAIN, PT_TURN_ORDER, 0, f_manual99, PROTO_ERR_NOT_FOUND},
        {PROTO_PHASE_THEMES, PT_THEME_EDIT, 0, f_theme99, PROTO_ERR_NOT_FOUND},
        {PROTO_PHASE_THEMES, PT_THEME_DELETE, 0, f_theme99, PROTO_ERR_NOT_FOUND},
        {PROTO_PHASE_ACTIONS, PT_ACTION_CONFIRM, 0, f_action99, PROTO_ERR_NOT_FOUND},
        {PROTO_PHASE_ACTIONS, PT_ACTION_EDIT, 0, f_action99, PROTO_ERR_NOT_FOUND},
        {PROTO_PHASE_ACTIONS, PT_ACTION_REMOVE, 0, f_action99, PROTO_ERR_NOT_FOUND},
        {PROTO_PHASE_ACTIONS, PT_ACTION_PROPOSE, 1, f_action_theme99, PROTO_ERR_NOT_FOUND},
    };
    run_bad_cases(h, cases, sizeof(cases) / sizeof(cases[0]));
    /* a vote on a theme that does not exist */
    struct session *s = session_with(h, 3);
    run_to(h, s, PROTO_PHASE_THEMES, 0);
    ok1(h, s, P(1), text_req(PT_THEME_ADD, "werkdruk"), PT_EV_THEME);
    ok1(h, s, FAC, int_req(PT_VOTE_OPEN, PK_BUDGET, 3), PT_EV_VOTE_OPENED);
    struct proto_msg v = REQ(PT_VOTE);
    f_vote99(&v);
    refused(h, s, P(1), v, PROTO_ERR_NOT_FOUND);
    /* a participant the session does not know sends anything */
    for (size_t i = 0; i < N_SPECS; i++)
        refused(h, s, P(42), spec_req(&specs[i]), PROTO_ERR_NOT_FOUND);
}

static void closed_session_refuses_every_request(void **state)
{
    struct harness *h = *state;
    struct session *s = session_with(h, 3);
    const char *code = session_join_code(s);
    char join_code[16], kiosk_code[16];
    strcpy(join_code, code);
    strcpy(kiosk_code, session_kiosk_code(s));
    ok1(h, s, FAC, REQ(PT_END), PT_EV_CLOSED);
    for (size_t i = 0; i < N_SPECS; i++) {
        refused(h, s, FAC, spec_req(&specs[i]), PROTO_ERR_CLOSED);
        refused(h, s, P(1), spec_req(&specs[i]), PROTO_ERR_CLOSED);
    }
    int pid;
    const char *resume;
    assert_int_equal(engine_join(h->e, s, "Laat", &pid, &resume), PROTO_ERR_CLOSED);
    /* codes expire with the session; the snapshot stays readable */
    assert_null(engine_find_by_join_code(h->e, join_code));
    assert_null(engine_find_by_kiosk_code(h->e, kiosk_code));
    assert_ptr_equal(engine_find(h->e, session_id(s)), s);
    uint8_t *frame;
    size_t len;
    struct engine_actor kiosk = KIOSK;
    assert_int_equal(engine_snapshot(h->e, s, &kiosk, 0, &frame, &len), 0);
    free(frame);
    assert_int_equal(engine_session_count(h->e), 0);
}

/* ---- reveal, rescore --------------------------------------------------- */

static void reveal_below_min_reveal_is_too_few(void **state)
{
    struct harness *h = *state;
    struct session *s = session_with(h, 4);
    run_to(h, s, PROTO_PHASE_SCORE, 0);
    refused(h, s, FAC, REQ(PT_REVEAL), PROTO_ERR_TOO_FEW);
    ok1(h, s, P(1), score_req(0, 6), PT_EV_SCORED);
    ok1(h, s, P(2), score_req(0, 7), PT_EV_SCORED);
    refused(h, s, FAC, REQ(PT_REVEAL), PROTO_ERR_TOO_FEW);
    /* a removed participant's score does not count */
    ok1(h, s, P(3), score_req(0, 2), PT_EV_SCORED);
    ok1(h, s, FAC, int_req(PT_REMOVE, PK_PID, 3), PT_EV_REMOVED);
    refused(h, s, FAC, REQ(PT_REVEAL), PROTO_ERR_TOO_FEW);
    refused(h, s, P(3), score_req(0, 2), PROTO_ERR_WRONG_ROLE);
    ok1(h, s, P(4), score_req(0, 8), PT_EV_SCORED);
    ok1(h, s, FAC, REQ(PT_REVEAL), PT_EV_REVEALED);
    refused(h, s, FAC, REQ(PT_REVEAL), PROTO_ERR_CONFLICT);
    struct state_stats st;
    assert_int_equal(state_round_stats(ST(s), 0, 1, &st), 0);
    assert_int_equal(st.count, 3);
    assert_float_equal(st.mean, 7.0, 1e-9);
}

static void min_reveal_of_the_session_is_used(void **state)
{
    struct harness *h = *state;
    struct session *s = new_session(h, 2, false);
    join(h, s, "Anna");
    join(h, s, "Bram");
    run_to(h, s, PROTO_PHASE_SCORE, 0);
    ok1(h, s, P(1), score_req(0, 6), PT_EV_SCORED);
    refused(h, s, FAC, REQ(PT_REVEAL), PROTO_ERR_TOO_FEW);
    ok1(h, s, P(2), score_req(0, 7), PT_EV_SCORED);
    ok1(h, s, FAC, REQ(PT_REVEAL), PT_EV_REVEALED);
}

static void auto_reveal_comes_with_the_last_score(void **state)
{
    struct harness *h = *state;
    struct session *s = new_session(h, 3, true);
    for (int i = 0; i < 4; i++)
        join(h, s, names[i]);
    engine_presence(h->e, s, 4, false); /* not in the room: not waited for */
    assert_int_equal(h->ev[h->n - 1].type, PT_EV_PRESENCE);
    run_to(h, s, PROTO_PHASE_SCORE, 0);
    ok1(h, s, P(1), score_req(0, 6), PT_EV_SCORED);
    ok1(h, s, P(2), score_req(0, 7), PT_EV_SCORED);
    ok_n(h, s, P(3), score_req(0, 5), 2, PT_EV_SCORED);
    assert_int_equal(h->ev[h->n - 1].type, PT_EV_REVEALED);
    assert_true(state_round(ST(s), 0, 1)->revealed);
    /* an automatic reveal ends the undo history like a requested one */
    refused(h, s, FAC, REQ(PT_UNDO_REQ), PROTO_ERR_NOTHING_TO_UNDO);
}

static void rescore_keeps_both_rounds_and_hides_the_new_one(void **state)
{
    struct harness *h = *state;
    struct session *s = session_with(h, 3);
    run_to(h, s, PROTO_PHASE_EXPLAIN, 0);
    const struct session_state *st = ST(s);
    ok1(h, s, FAC, REQ(PT_RESCORE), PT_EV_ROUND);
    refused(h, s, FAC, REQ(PT_RESCORE), PROTO_ERR_CONFLICT); /* a blind round is open */
    assert_int_equal(st->phase, PROTO_PHASE_SCORE);
    assert_int_equal(st->round, 2);
    int first = h->n;
    ok1(h, s, P(1), score_req(0, 9), PT_EV_SCORED);
    ok1(h, s, P(2), score_req(0, 9), PT_EV_SCORED);
    for (int i = first; i < h->n; i++)
        assert_false(has_key(h->ev[i].pub, "value"));
    check_blind_snapshot(h, s, KIOSK, 0);
    ok1(h, s, P(3), score_req(0, 8), PT_EV_SCORED);
    ok1(h, s, FAC, REQ(PT_REVEAL), PT_EV_REVEALED);
    assert_int_equal(st->items[0].n_rounds, 2);
    struct state_stats r1, r2;
    assert_int_equal(state_round_stats(st, 0, 1, &r1), 0);
    assert_int_equal(state_round_stats(st, 0, 2, &r2), 0);
    assert_int_equal(r1.count, 3);
    assert_int_equal(r2.count, 3);
    assert_float_equal(r1.mean, 6.0, 1e-9); /* 5, 6, 7 */
    assert_float_equal(r2.median, 9.0, 1e-9);
    /* after the explanation the session moves on to the next item */
    ok1(h, s, FAC, REQ(PT_NEXT), PT_EV_PHASE);
    assert_int_equal(st->phase, PROTO_PHASE_EXPLAIN);
    assert_int_equal(st->round, 2);
    ok1(h, s, FAC, REQ(PT_NEXT), PT_EV_PHASE);
    assert_int_equal(st->phase, PROTO_PHASE_SCORE);
    assert_int_equal(st->item, 1);
}

static void rescore_from_themes_returns_to_themes(void **state)
{
    struct harness *h = *state;
    struct session *s = session_with(h, 3);
    run_to(h, s, PROTO_PHASE_THEMES, 0);
    const struct session_state *st = ST(s);
    refused(h, s, FAC, REQ(PT_RESCORE), PROTO_ERR_MISSING_FIELD); /* which item? */
    ok1(h, s, FAC, int_req(PT_RESCORE, PK_ITEM, 2), PT_EV_ROUND);
    assert_int_equal(st->phase, PROTO_PHASE_SCORE);
    assert_int_equal(st->item, 2);
    refused(h, s, P(1), score_req(1, 5), PROTO_ERR_WRONG_PHASE);
    score_and_reveal(h, s);
    ok1(h, s, FAC, REQ(PT_NEXT), PT_EV_PHASE);
    assert_int_equal(st->phase, PROTO_PHASE_EXPLAIN);
    ok1(h, s, FAC, REQ(PT_NEXT), PT_EV_PHASE);
    assert_int_equal(st->phase, PROTO_PHASE_THEMES);
    assert_int_equal(st->items[2].n_rounds, 2);
}

static void back_walks_the_steps_in_reverse(void **state)
{
    struct harness *h = *state;
    struct session *s = session_with(h, 3);
    run_to(h, s, PROTO_PHASE_SCORE, 1);
    const struct session_state *st = ST(s);
    ok1(h, s, FAC, REQ(PT_BACK), PT_EV_PHASE);
    assert_int_equal(st->phase, PROTO_PHASE_EXPLAIN);
    assert_int_equal(st->item, 0);
    ok1(h, s, FAC, REQ(PT_BACK), PT_EV_PHASE);
    assert_int_equal(st->phase, PROTO_PHASE_SCORE);
    assert_int_equal(st->item, 0);
    assert_true(state_round(st, 0, 1)->revealed);
    refused(h, s, P(1), score_req(0, 2), PROTO_ERR_WRONG_PHASE);
    ok1(h, s, FAC, REQ(PT_BACK), PT_EV_PHASE);
    assert_int_equal(st->phase, PROTO_PHASE_LOBBY);
    refused(h, s, FAC, REQ(PT_BACK), PROTO_ERR_WRONG_PHASE);
    /* forward again: the revealed round is kept, no new one */
    ok1(h, s, FAC, REQ(PT_NEXT), PT_EV_PHASE);
    ok1(h, s, FAC, REQ(PT_NEXT), PT_EV_PHASE);
    assert_int_equal(st->phase, PROTO_PHASE_EXPLAIN);
    assert_int_equal(st->items[0].n_rounds, 1);
}

/* ---- explanation turns ------------------------------------------------- */

static void turn_orders_follow_their_mode(void **state)
{
    struct harness *h = *state;
    struct session *s = session_with(h, 4);
    run_to(h, s, PROTO_PHASE_SCORE, 0);
    static const int v[] = {7, 3, 9, 3};
    for (int p = 1; p <= 4; p++)
        ok1(h, s, P(p), score_req(0, v[p - 1]), PT_EV_SCORED);
    ok1(h, s, FAC, REQ(PT_REVEAL), PT_EV_REVEALED);
    ok1(h, s, FAC, REQ(PT_NEXT), PT_EV_PHASE);
    const struct session_state *st = ST(s);
    refused(h, s, P(1), text_req(PT_KEYWORD, "x"), PROTO_ERR_CONFLICT); /* no order yet */
    static const struct {
        enum proto_mode mode;
        int order[4];
    } want[] = {
        {PROTO_MODE_JOIN, {1, 2, 3, 4}},
        {PROTO_MODE_LOW, {2, 4, 1, 3}},
        {PROTO_MODE_HIGH, {3, 1, 2, 4}},
    };
    for (size_t i = 0; i < 3; i++) {
        struct proto_msg m = int_req(PT_TURN_ORDER, PK_MODE, want[i].mode);
        ok1(h, s, FAC, m, PT_EV_TURNS);
        for (int k = 0; k < 4; k++)
            assert_int_equal(st->turns.order[k], want[i].order[k]);
        assert_int_equal(state_current_speaker(st), want[i].order[0]);
    }
    ok1(h, s, FAC, int_req(PT_TURN_ORDER, PK_MODE, PROTO_MODE_RANDOM), PT_EV_TURNS);
    int seen = 0;
    for (int k = 0; k < 4; k++)
        seen |= 1 << st->turns.order[k];
    assert_int_equal(seen, 0x1e); /* a permutation of 1..4 */
    refused(h, s, FAC, int_req(PT_TURN_ORDER, PK_MODE, PROTO_MODE_MANUAL), PROTO_ERR_MISSING_FIELD);
    /* the absent are left out; a manual order names exactly the present */
    engine_presence(h->e, s, 2, false);
    ok1(h, s, FAC, int_req(PT_TURN_ORDER, PK_MODE, PROTO_MODE_JOIN), PT_EV_TURNS);
    assert_int_equal(st->turns.n, 3);
    struct proto_msg m = int_req(PT_TURN_ORDER, PK_MODE, PROTO_MODE_MANUAL);
    static const int64_t with_absent[] = {4, 3, 2};
    proto_set_ints(&m, PK_ORDER, with_absent, 3);
    refused(h, s, FAC, m, PROTO_ERR_OUT_OF_RANGE);
    static const int64_t manual[] = {4, 3, 1};
    proto_set_ints(&m, PK_ORDER, manual, 3);
    ok1(h, s, FAC, m, PT_EV_TURNS);
    /* only the speaker passes their own turn; the facilitator may for them */
    refused(h, s, P(3), REQ(PT_TURN_PASS), PROTO_ERR_CONFLICT);
    ok1(h, s, P(4), REQ(PT_TURN_PASS), PT_EV_TURN);
    assert_true(st->turns.passed[0]);
    ok1(h, s, FAC, REQ(PT_TURN_PASS), PT_EV_TURN);
    assert_true(st->turns.passed[1]);
    /* a removed speaker is skipped */
    ok1(h, s, FAC, int_req(PT_REMOVE, PK_PID, 1), PT_EV_REMOVED);
    assert_int_equal(state_current_speaker(st), 1);
    ok1(h, s, FAC, REQ(PT_TURN_NEXT), PT_EV_TURN);
    assert_int_equal(st->turns.current, -1);
}

/* ---- undo -------------------------------------------------------------- */

static void undo_takes_back_the_facilitators_changes_in_reverse_order(void **state)
{
    struct harness *h = *state;
    struct session *s = session_with(h, 3);
    run_to(h, s, PROTO_PHASE_THEMES, 0);
    const struct session_state *st = ST(s);
    ok1(h, s, P(1), text_req(PT_THEME_ADD, "werkdruk"), PT_EV_THEME);
    ok1(h, s, FAC, text_req(PT_THEME_ADD, "scholing"), PT_EV_THEME);
    struct proto_msg e = int_req(PT_THEME_EDIT, PK_THEME, 1);
    proto_set_str(&e, PK_TEXT, "werkdruk en roosters");
    ok1(h, s, FAC, e, PT_EV_THEME_EDITED);
    struct proto_msg m = int_req(PT_THEME_MERGE, PK_THEME, 2);
    proto_set_int(&m, PK_INTO, 1);
    ok1(h, s, FAC, m, PT_EV_THEME_MERGED);
    ok1(h, s, FAC, REQ(PT_NEXT), PT_EV_PHASE);
    struct proto_msg d = int_req(PT_DESIRED_SET, PK_ITEM, 0);
    proto_set_int(&d, PK_VALUE, 7);
    ok1(h, s, FAC, d, PT_EV_DESIRED_SET);
    proto_set_int(&d, PK_VALUE, 8);
    ok1(h, s, FAC, d, PT_EV_DESIRED_SET);
    assert_int_equal(st->items[0].desired, 8);

    ok1(h, s, FAC, REQ(PT_UNDO_REQ), PT_EV_DESIRED_SET);
    assert_int_equal(st->items[0].desired, 7);
    ok1(h, s, FAC, REQ(PT_UNDO_REQ), PT_EV_DESIRED_SET);
    assert_int_equal(st->items[0].desired, 0);
    ok1(h, s, FAC, REQ(PT_UNDO_REQ), PT_EV_PHASE);
    assert_int_equal(st->phase, PROTO_PHASE_THEMES);
    ok1(h, s, FAC, REQ(PT_UNDO_REQ), PT_EV_THEME); /* un-merge: the theme is back */
    assert_int_equal(st->themes[1].merged_into, 0);
    assert_string_equal(st->themes[1].text, "scholing");
    ok1(h, s, FAC, REQ(PT_UNDO_REQ), PT_EV_THEME_EDITED);
    assert_string_equal(st->themes[0].text, "werkdruk");
    ok1(h, s, FAC, REQ(PT_UNDO_REQ), PT_EV_THEME_DELETED);
    assert_true(st->themes[1].deleted);
    /* then the two steps into themes, back to the last reveal, and no further */
    ok1(h, s, FAC, REQ(PT_UNDO_REQ), PT_EV_PHASE);
    assert_int_equal(st->phase, PROTO_PHASE_EXPLAIN);
    ok1(h, s, FAC, REQ(PT_UNDO_REQ), PT_EV_PHASE);
    assert_int_equal(st->phase, PROTO_PHASE_SCORE);
    assert_int_equal(st->item, 3);
    refused(h, s, FAC, REQ(PT_UNDO_REQ), PROTO_ERR_NOTHING_TO_UNDO);
    /* nothing was destroyed: the participant's theme and every event remain */
    assert_int_equal(st->n_themes, 2);
    assert_false(st->themes[0].deleted);
}

static void undo_never_crosses_a_reveal(void **state)
{
    struct harness *h = *state;
    struct session *s = session_with(h, 3);
    ok1(h, s, FAC, REQ(PT_NEXT), PT_EV_PHASE);
    score_and_reveal(h, s);
    refused(h, s, FAC, REQ(PT_UNDO_REQ), PROTO_ERR_NOTHING_TO_UNDO);
    ok1(h, s, FAC, REQ(PT_NEXT), PT_EV_PHASE);
    ok1(h, s, FAC, int_req(PT_TURN_ORDER, PK_MODE, PROTO_MODE_JOIN), PT_EV_TURNS);
    struct proto_msg k = text_req(PT_KEYWORD, "veel wisselingen");
    ok1(h, s, FAC, k, PT_EV_KEYWORD);
    ok1(h, s, FAC, REQ(PT_TURN_NEXT), PT_EV_TURN);
    /* turn moves are skipped: the keyword is what comes back */
    ok1(h, s, FAC, REQ(PT_UNDO_REQ), PT_EV_KEYWORD_REMOVED);
    assert_true(ST(s)->keywords[0].removed);
    ok1(h, s, FAC, REQ(PT_UNDO_REQ), PT_EV_PHASE);
    assert_int_equal(ST(s)->phase, PROTO_PHASE_SCORE);
    refused(h, s, FAC, REQ(PT_UNDO_REQ), PROTO_ERR_NOTHING_TO_UNDO);
}

static void undo_restores_a_removed_action(void **state)
{
    struct harness *h = *state;
    struct session *s = session_with(h, 3);
    run_to(h, s, PROTO_PHASE_ACTIONS, 0);
    struct proto_msg a = text_req(PT_ACTION_PROPOSE, "intervisie elke maand");
    proto_set_str(&a, PK_OWNER, "Bram");
    ok1(h, s, P(2), a, PT_EV_ACTION);
    ok1(h, s, FAC, int_req(PT_ACTION_CONFIRM, PK_ACTION, 1), PT_EV_ACTION_CONFIRMED);
    refused(h, s, FAC, int_req(PT_ACTION_CONFIRM, PK_ACTION, 1), PROTO_ERR_CONFLICT);
    ok1(h, s, FAC, int_req(PT_ACTION_REMOVE, PK_ACTION, 1), PT_EV_ACTION_REMOVED);
    refused(h, s, FAC, int_req(PT_ACTION_REMOVE, PK_ACTION, 1), PROTO_ERR_CONFLICT);
    ok1(h, s, FAC, REQ(PT_UNDO_REQ), PT_EV_ACTION);
    const struct state_action *x = state_action(ST(s), 1);
    assert_false(x->removed);
    assert_true(x->confirmed);
    assert_string_equal(x->owner, "Bram");
    assert_int_equal(x->pid, 2);
    ok1(h, s, FAC, REQ(PT_UNDO_REQ), PT_EV_ACTION_CONFIRMED);
    assert_false(x->confirmed);
}

/* ---- members, codes, limits -------------------------------------------- */

static void codes_are_short_unambiguous_and_case_insensitive(void **state)
{
    struct harness *h = *state;
    struct session *a = session_with(h, 0), *b = session_with(h, 0);
    const char *alphabet = "ACDEFHJKLMNPRTUVWXY34679";
    struct session *all[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        const char *codes[2] = {session_join_code(all[i]), session_kiosk_code(all[i])};
        for (int c = 0; c < 2; c++) {
            assert_int_equal(strlen(codes[c]), 7);
            for (int k = 0; k < 7; k++)
                assert_non_null(strchr(alphabet, codes[c][k]));
        }
        assert_string_not_equal(codes[0], codes[1]);
        assert_true(session_id(all[i]) > 0);
    }
    assert_string_not_equal(session_join_code(a), session_join_code(b));
    assert_true(session_id(a) != session_id(b));
    char lower[16];
    strcpy(lower, session_join_code(b));
    for (char *p = lower; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    assert_ptr_equal(engine_find_by_join_code(h->e, lower), b);
    char spaced[16];
    const char *jc = session_join_code(a);
    snprintf(spaced, sizeof(spaced), "%.3s-%.4s", jc, jc + 3);
    assert_ptr_equal(engine_find_by_join_code(h->e, spaced), a);
    /* a kiosk code does not let anyone join, nor the other way round */
    assert_null(engine_find_by_join_code(h->e, session_kiosk_code(a)));
    assert_null(engine_find_by_kiosk_code(h->e, session_join_code(a)));
    assert_ptr_equal(engine_find_by_kiosk_code(h->e, session_kiosk_code(a)), a);
    assert_null(engine_find_by_join_code(h->e, "ACDEFH"));
    assert_null(engine_find_by_join_code(h->e, NULL));
    /* session.created: both codes in full, only the join code in public */
    struct proto_msg *f = decode_frame(h->ev[0].full), *p = decode_frame(h->ev[0].pub);
    assert_string_equal(f->v[PK_KIOSK_CODE].s.p, session_kiosk_code(a));
    assert_string_equal(p->v[PK_JOIN_CODE].s.p, session_join_code(a));
    assert_false(proto_has(p, PK_KIOSK_CODE));
    assert_int_equal(p->v[PK_ROWS].m.n, 4);
    assert_string_equal(p->v[PK_ROWS].m.p[0].v[PK_NAME].s.p, "Absorptievermogen");
    assert_string_equal(p->v[PK_ROWS].m.p[3].v[PK_NAME].s.p, "Lerend vermogen");
    proto_msg_free(f);
    proto_msg_free(p);
    assert_string_equal(session_team(a), "Team Noord, afdeling De Linde");
    assert_string_equal(session_facilitator(a), fac_name);
}

static void resume_token_rejoins_as_the_same_participant(void **state)
{
    struct harness *h = *state;
    struct session *s = new_session(h, 3, false);
    int anna, bram;
    const char *r1, *r2;
    assert_int_equal(engine_join(h->e, s, "Anna", &anna, &r1), 0);
    char token[80];
    strcpy(token, r1);
    assert_int_equal(engine_join(h->e, s, "Bram", &bram, &r2), 0);
    assert_string_not_equal(token, r2);
    /* the token is only in what Anna gets */
    const struct captured *c = &h->ev[1];
    assert_int_equal(c->owner, anna);
    assert_true(has_key(c->full, "resume"));
    assert_false(has_key(c->pub, "resume"));

    engine_presence(h->e, s, anna, false);
    assert_false(ST(s)->participants[0].online);
    int before = h->n;
    engine_presence(h->e, s, anna, false); /* no change, no event */
    assert_int_equal(h->n, before);
    struct session *back = NULL;
    int pid = 0;
    assert_int_equal(engine_rejoin(h->e, token, &back, &pid), 0);
    assert_ptr_equal(back, s);
    assert_int_equal(pid, anna);
    engine_presence(h->e, s, anna, true);
    assert_true(ST(s)->participants[0].online);
    assert_int_equal(engine_rejoin(h->e, "not-a-token-at-all-xxxx", &back, &pid),
                     PROTO_ERR_BAD_CREDENTIALS);
    assert_int_equal(engine_rejoin(h->e, "", &back, &pid), PROTO_ERR_BAD_CREDENTIALS);
    ok1(h, s, FAC, int_req(PT_REMOVE, PK_PID, anna), PT_EV_REMOVED);
    assert_int_equal(engine_rejoin(h->e, token, &back, &pid), PROTO_ERR_BAD_CREDENTIALS);
    refused(h, s, P(anna), REQ(PT_TURN_PASS), PROTO_ERR_WRONG_ROLE);
    ok1(h, s, FAC, REQ(PT_END), PT_EV_CLOSED);
    assert_int_equal(engine_rejoin(h->e, r2, &back, &pid), PROTO_ERR_CLOSED);
}

static void display_names_are_unique_ignoring_case(void **state)
{
    struct harness *h = *state;
    struct session *s = session_with(h, 2);
    int pid;
    const char *resume;
    assert_int_equal(engine_join(h->e, s, "anna", &pid, &resume), PROTO_ERR_NAME_TAKEN);
    assert_int_equal(engine_join(h->e, s, "", &pid, &resume), PROTO_ERR_OUT_OF_RANGE);
    assert_int_equal(engine_join(h->e, s, "bad\x01name", &pid, &resume), PROTO_ERR_BAD_UTF8);
    assert_int_equal(session_seq(s), 3);
    /* a removed participant's name stays taken: their scores keep a referent */
    ok1(h, s, FAC, int_req(PT_REMOVE, PK_PID, 2), PT_EV_REMOVED);
    assert_int_equal(engine_join(h->e, s, "Bram", &pid, &resume), PROTO_ERR_NAME_TAKEN);
}

static void limits_give_a_typed_error_and_affect_nothing_else(void **state)
{
    struct harness *h = *state;
    h->lim.max_sessions = 2;
    h->lim.max_participants = 3;
    h->lim.max_themes = 2;
    h->lim.max_actions = 1;
    h->lim.max_keywords = 2;
    engine_set_limits(h->e, &h->lim);
    struct session *s = session_with(h, 3);
    struct session *other = session_with(h, 0);
    struct proto_msg m = REQ(PT_SESSION_NEW);
    proto_set_str(&m, PK_TEAM, "Team Zuid");
    struct session *third = NULL;
    assert_int_equal(engine_session_new(h->e, &m, fac_name, h->now, &third), PROTO_ERR_LIMIT);
    assert_null(third);
    assert_int_equal(engine_session_count(h->e), 2);
    int pid;
    const char *resume;
    assert_int_equal(engine_join(h->e, s, "Dewi", &pid, &resume), PROTO_ERR_LIMIT);
    assert_int_equal(engine_join(h->e, other, "Dewi", &pid, &resume), 0); /* unaffected */

    run_to(h, s, PROTO_PHASE_EXPLAIN, 0);
    struct proto_msg k = text_req(PT_KEYWORD, "x");
    proto_set_int(&k, PK_FOR, 1);
    ok1(h, s, FAC, k, PT_EV_KEYWORD);
    ok1(h, s, FAC, k, PT_EV_KEYWORD);
    refused(h, s, FAC, k, PROTO_ERR_LIMIT);
    run_to(h, s, PROTO_PHASE_THEMES, 0);
    ok1(h, s, P(1), text_req(PT_THEME_ADD, "a"), PT_EV_THEME);
    ok1(h, s, P(1), text_req(PT_THEME_ADD, "b"), PT_EV_THEME);
    refused(h, s, P(1), text_req(PT_THEME_ADD, "c"), PROTO_ERR_LIMIT);
    ok1(h, s, FAC, int_req(PT_THEME_DELETE, PK_THEME, 2), PT_EV_THEME_DELETED);
    ok1(h, s, P(1), text_req(PT_THEME_ADD, "c"), PT_EV_THEME); /* room again */
    run_to(h, s, PROTO_PHASE_ACTIONS, 0);
    ok1(h, s, P(1), text_req(PT_ACTION_PROPOSE, "a"), PT_EV_ACTION);
    refused(h, s, P(2), text_req(PT_ACTION_PROPOSE, "b"), PROTO_ERR_LIMIT);
    /* text longer than max_text_bytes */
    h->lim.max_text_bytes = 10;
    engine_set_limits(h->e, &h->lim);
    refused(h, s, P(2), text_req(PT_ACTION_PROPOSE, "more than ten bytes"), PROTO_ERR_OUT_OF_RANGE);
    struct proto_msg e = int_req(PT_ACTION_EDIT, PK_ACTION, 1);
    proto_set_str(&e, PK_OWNER, "more than ten bytes");
    refused(h, s, FAC, e, PROTO_ERR_OUT_OF_RANGE);
}

static void paused_session_refuses_participants_until_resumed(void **state)
{
    struct harness *h = *state;
    struct session *s = session_with(h, 3);
    run_to(h, s, PROTO_PHASE_SCORE, 0);
    ok1(h, s, FAC, REQ(PT_PAUSE), PT_EV_PAUSED);
    assert_true(ST(s)->paused);
    refused(h, s, FAC, REQ(PT_PAUSE), PROTO_ERR_CONFLICT);
    refused(h, s, P(1), score_req(0, 5), PROTO_ERR_PAUSED);
    refused(h, s, KIOSK, score_req(0, 5), PROTO_ERR_WRONG_ROLE);
    /* the facilitator can still type in a grade */
    struct proto_msg m = score_req(0, 5);
    proto_set_int(&m, PK_FOR, 1);
    ok1(h, s, FAC, m, PT_EV_SCORED);
    ok1(h, s, FAC, REQ(PT_RESUME_REQ), PT_EV_PAUSED);
    assert_false(ST(s)->paused);
    refused(h, s, FAC, REQ(PT_RESUME_REQ), PROTO_ERR_CONFLICT);
    ok1(h, s, P(1), score_req(0, 6), PT_EV_SCORED);
}

static void idle_session_is_closed_by_tick_and_released(void **state)
{
    struct harness *h = *state;
    struct session *idle = session_with(h, 1);
    int64_t idle_id = session_id(idle);
    struct session *busy = session_with(h, 1);
    session_set_userdata(busy, h);
    assert_ptr_equal(session_userdata(busy), h);
    uint64_t minute = 60000;
    h->now += 30 * minute;
    ok1(h, busy, FAC, REQ(PT_NEXT), PT_EV_PHASE);
    engine_tick(h->e, h->now + 31 * minute);
    assert_true(session_closed(idle));
    assert_int_equal(h->ev[h->n - 1].type, PT_EV_CLOSED);
    assert_false(session_closed(busy));
    assert_int_equal(engine_session_count(h->e), 1);
    engine_tick(h->e, h->now + 61 * minute);
    assert_true(session_closed(busy));
    /* closed and without members for the idle time: released */
    engine_tick(h->e, h->now + 200 * minute);
    assert_null(engine_find(h->e, idle_id));
    assert_ptr_equal(engine_find(h->e, session_id(busy)), busy); /* still has members */
}

static void two_sessions_are_isolated(void **state)
{
    struct harness *h = *state;
    struct session *a = session_with(h, 3), *b = session_with(h, 4);
    run_to(h, a, PROTO_PHASE_SCORE, 0);
    ok1(h, a, P(1), score_req(0, 9), PT_EV_SCORED);
    assert_int_equal(session_phase(b), PROTO_PHASE_LOBBY);
    refused(h, b, P(1), score_req(0, 9), PROTO_ERR_WRONG_PHASE);
    ok1(h, b, FAC, REQ(PT_PAUSE), PT_EV_PAUSED);
    ok1(h, a, P(2), score_req(0, 8), PT_EV_SCORED); /* a is not paused */
    assert_null(state_round(ST(b), 0, 1));
    assert_int_equal(session_seq(a), 1 + 3 + 1 + 2);
    assert_int_equal(session_seq(b), 1 + 4 + 1);
    for (int i = 0; i < h->n; i++)
        assert_true(h->ev[i].s == a || h->ev[i].s == b);
    /* the sink's per-session seq check ran on every event */
    uint8_t *frame;
    size_t len;
    struct engine_actor kiosk = KIOSK;
    assert_int_equal(engine_snapshot(h->e, b, &kiosk, 0, &frame, &len), 0);
    struct proto_msg *snap;
    assert_int_equal(proto_decode(frame + 4, len - 4, true, &snap, NULL), 0);
    assert_int_equal(snap->v[PK_SESSION].i, session_id(b));
    for (uint32_t i = 0; i < snap->v[PK_EVENTS].m.n; i++)
        assert_int_not_equal(snap->v[PK_EVENTS].m.p[i].type, PT_EV_SCORED);
    proto_msg_free(snap);
    free(frame);
    ok1(h, b, FAC, REQ(PT_END), PT_EV_CLOSED);
    assert_false(session_closed(a));
}

static void snapshot_since_holds_only_later_events(void **state)
{
    struct harness *h = *state;
    struct session *s = session_with(h, 3);
    uint8_t *frame;
    size_t len;
    struct engine_actor p1 = P(1);
    assert_int_equal(engine_snapshot(h->e, s, &p1, 2, &frame, &len), 0);
    struct proto_msg *snap;
    assert_int_equal(proto_decode(frame + 4, len - 4, true, &snap, NULL), 0);
    assert_int_equal(snap->v[PK_SINCE].i, 2);
    assert_int_equal(snap->v[PK_EVENTS].m.n, 2);
    assert_int_equal(snap->v[PK_EVENTS].m.p[0].v[PK_SEQ].i, 3);
    /* the events are the stored bytes: the sink's public frame, verbatim */
    const struct engine_frame *pub = h->ev[2].pub;
    bool found = false;
    for (size_t i = 0; !found && i + pub->len - 4 <= len; i++)
        found = !memcmp(frame + i, pub->data + 4, pub->len - 4);
    assert_true(found);
    proto_msg_free(snap);
    free(frame);
    assert_int_equal(engine_snapshot(h->e, s, &p1, 99, &frame, &len), PROTO_ERR_OUT_OF_RANGE);
    struct engine_actor admin = {PROTO_KIND_ADMIN, 0, NULL};
    assert_int_equal(engine_snapshot(h->e, s, &admin, 0, &frame, &len), PROTO_ERR_WRONG_ROLE);
}

/* ---- restore ----------------------------------------------------------- */

static void assert_same_state(const struct session_state *a, const struct session_state *b)
{
    assert_int_equal(a->seq, b->seq);
    assert_int_equal(a->session_id, b->session_id);
    assert_string_equal(a->team, b->team);
    assert_string_equal(a->instrument, b->instrument);
    assert_string_equal(a->facilitator, b->facilitator);
    assert_string_equal(a->join_code, b->join_code);
    assert_string_equal(a->kiosk_code, b->kiosk_code);
    assert_int_equal(a->min_reveal, b->min_reveal);
    assert_int_equal(a->auto_reveal, b->auto_reveal);
    assert_int_equal(a->phase, b->phase);
    assert_int_equal(a->item, b->item);
    assert_int_equal(a->round, b->round);
    assert_int_equal(a->paused, b->paused);
    assert_int_equal(a->closed, b->closed);
    assert_int_equal(a->n_items, b->n_items);
    for (int i = 0; i < a->n_items; i++) {
        const struct state_item *x = &a->items[i], *y = &b->items[i];
        assert_string_equal(x->name, y->name);
        assert_int_equal(x->desired, y->desired);
        assert_int_equal(x->n_rounds, y->n_rounds);
        for (int r = 0; r < x->n_rounds; r++) {
            assert_int_equal(x->rounds[r].revealed, y->rounds[r].revealed);
            assert_int_equal(x->rounds[r].n_scores, y->rounds[r].n_scores);
            for (int k = 0; k < x->rounds[r].n_scores; k++) {
                assert_int_equal(x->rounds[r].scores[k].pid, y->rounds[r].scores[k].pid);
                assert_int_equal(x->rounds[r].scores[k].value, y->rounds[r].scores[k].value);
            }
        }
    }
    assert_int_equal(a->n_participants, b->n_participants);
    for (int i = 0; i < a->n_participants; i++) {
        assert_string_equal(a->participants[i].name, b->participants[i].name);
        assert_string_equal(a->participants[i].resume, b->participants[i].resume);
        assert_int_equal(a->participants[i].online, b->participants[i].online);
        assert_int_equal(a->participants[i].removed, b->participants[i].removed);
    }
    assert_int_equal(a->turns.n, b->turns.n);
    assert_int_equal(a->turns.current, b->turns.current);
    assert_int_equal(a->n_keywords, b->n_keywords);
    for (int i = 0; i < a->n_keywords; i++)
        assert_string_equal(a->keywords[i].text, b->keywords[i].text);
    assert_int_equal(a->n_themes, b->n_themes);
    for (int i = 0; i < a->n_themes; i++) {
        assert_string_equal(a->themes[i].text, b->themes[i].text);
        assert_int_equal(a->themes[i].votes, b->themes[i].votes);
        assert_int_equal(a->themes[i].merged_into, b->themes[i].merged_into);
        assert_int_equal(a->themes[i].deleted, b->themes[i].deleted);
    }
    assert_int_equal(a->n_votes, b->n_votes);
    assert_int_equal(a->n_desired, b->n_desired);
    assert_int_equal(a->n_actions, b->n_actions);
    for (int i = 0; i < a->n_actions; i++) {
        assert_string_equal(a->actions[i].text, b->actions[i].text);
        assert_string_equal(a->actions[i].deadline, b->actions[i].deadline);
        assert_int_equal(a->actions[i].confirmed, b->actions[i].confirmed);
        assert_int_equal(a->actions[i].removed, b->actions[i].removed);
    }
    assert_string_equal(a->look_ahead_date, b->look_ahead_date);
    assert_int_equal(a->n_look_ahead, b->n_look_ahead);
    assert_string_equal(a->summary ? a->summary : "", b->summary ? b->summary : "");
    assert_int_equal(a->n_reactions, b->n_reactions);
    assert_int_equal(a->n_evaluations, b->n_evaluations);
}

static void replay(struct engine *e, struct harness *h, struct session *s)
{
    for (int i = 0; i < h->n; i++)
        if (h->ev[i].s == s)
            assert_int_equal(engine_restore_event(e, session_id(s), h->ev[i].full->data + 4,
                                                  h->ev[i].full->len - 4),
                             0);
}

static void assert_same_snapshot(struct engine *e1, struct session *s1, struct engine *e2,
                                 struct session *s2, struct engine_actor who)
{
    uint8_t *f1, *f2;
    size_t l1, l2;
    assert_int_equal(engine_snapshot(e1, s1, &who, 0, &f1, &l1), 0);
    assert_int_equal(engine_snapshot(e2, s2, &who, 0, &f2, &l2), 0);
    assert_int_equal(l1, l2);
    assert_memory_equal(f1, f2, l1);
    free(f1);
    free(f2);
}

static void restore_rebuilds_the_same_state_from_full_events(void **state)
{
    struct harness *h = *state;
    struct session *s = run_full_session(h);
    struct session *live = session_with(h, 3); /* a second one, still open */
    run_to(h, live, PROTO_PHASE_SCORE, 1);
    ok1(h, live, P(2), score_req(1, 4), PT_EV_SCORED);

    struct engine *e2 = engine_new(&h->lim, (struct engine_sink){NULL, NULL});
    replay(e2, h, s);
    replay(e2, h, live);
    struct session *s2 = engine_find(e2, session_id(s));
    struct session *live2 = engine_find(e2, session_id(live));
    assert_non_null(s2);
    assert_non_null(live2);
    assert_same_state(ST(s), ST(s2));
    assert_same_state(ST(live), ST(live2));
    assert_string_equal(session_join_code(live2), session_join_code(live));
    assert_string_equal(session_kiosk_code(live2), session_kiosk_code(live));
    assert_ptr_equal(engine_find_by_join_code(e2, session_join_code(live)), live2);
    assert_null(engine_find_by_join_code(e2, session_join_code(s))); /* closed */
    assert_int_equal(engine_session_count(e2), 1);
    /* every member's snapshot is the same, byte for byte */
    struct engine_actor who[] = {FAC, KIOSK, OBSERVER, P(1), P(2), P(3)};
    for (size_t i = 0; i < sizeof(who) / sizeof(who[0]); i++) {
        assert_same_snapshot(h->e, s, e2, s2, who[i]);
        assert_same_snapshot(h->e, live, e2, live2, who[i]);
    }
    /* replaying again changes nothing; a gap is refused */
    replay(e2, h, live);
    assert_same_state(ST(live), ST(live2));
    const struct captured *last = &h->ev[h->n - 1];
    uint8_t *copy = malloc(last->full->len);
    memcpy(copy, last->full->data, last->full->len);
    /* a rejoin with the old token works on the restored engine */
    struct session *back;
    int pid;
    assert_int_equal(engine_rejoin(e2, ST(live)->participants[1].resume, &back, &pid), 0);
    assert_ptr_equal(back, live2);
    assert_int_equal(pid, 2);
    /* and the restored session carries on where it was */
    struct engine_actor p3 = P(3);
    struct proto_msg m = score_req(1, 7);
    assert_int_equal(engine_request(e2, live2, &p3, &m, h->now, NULL), 0);
    assert_int_equal(session_seq(live2), session_seq(live) + 1);
    assert_int_equal(engine_restore_event(e2, 12345, copy + 4, last->full->len - 4),
                     PROTO_ERR_NOT_FOUND);
    free(copy);
    engine_free(e2);
}

static void restore_refuses_garbage_and_gaps(void **state)
{
    struct harness *h = *state;
    struct session *s = session_with(h, 2);
    struct engine *e2 = engine_new(&h->lim, (struct engine_sink){NULL, NULL});
    static const uint8_t junk[] = {0x81, 0xa1, 't'};
    assert_true(engine_restore_event(e2, session_id(s), junk, sizeof(junk)) < 0);
    /* joined before session.created */
    const struct captured *j = &h->ev[1];
    assert_int_equal(engine_restore_event(e2, session_id(s), j->full->data + 4, j->full->len - 4),
                     PROTO_ERR_NOT_FOUND);
    const struct captured *c = &h->ev[0];
    assert_int_equal(engine_restore_event(e2, session_id(s), c->full->data + 4, c->full->len - 4),
                     0);
    /* seq 3 before 2 */
    const struct captured *j2 = &h->ev[2];
    assert_int_equal(engine_restore_event(e2, session_id(s), j2->full->data + 4, j2->full->len - 4),
                     PROTO_ERR_CONFLICT);
    assert_int_equal(session_seq(engine_find(e2, session_id(s))), 1);
    /* a session.created under another id */
    assert_int_equal(engine_restore_event(e2, 777, c->full->data + 4, c->full->len - 4),
                     PROTO_ERR_CONFLICT);
    assert_null(engine_find(e2, 777));
    engine_free(e2);
}

static void restored_session_idles_from_the_first_tick(void **state)
{
    struct harness *h = *state;
    struct session *s = session_with(h, 1);
    struct engine *e2 = engine_new(&h->lim, (struct engine_sink){NULL, NULL});
    replay(e2, h, s);
    struct session *s2 = engine_find(e2, session_id(s));
    /* after a reboot the clock starts low: stored times say nothing */
    uint64_t minute = 60000, t0 = 5000;
    engine_tick(e2, t0);
    assert_false(session_closed(s2));
    engine_tick(e2, t0 + 59 * minute);
    assert_false(session_closed(s2));
    engine_tick(e2, t0 + 60 * minute);
    assert_true(session_closed(s2));
    assert_null(engine_find_by_join_code(e2, session_join_code(s)));
    engine_free(e2);
}

/* ---- the code and token indexes ---------------------------------------- */

#define MANY 150

static void codes_and_tokens_are_found_through_close_and_release(void **state)
{
    struct harness *h = *state;
    h->lim.max_sessions = 4 * MANY;
    engine_set_limits(h->e, &h->lim);
    static struct session *ss[MANY];
    static int64_t ids[MANY];
    static char tok[MANY][3][40];
    for (int i = 0; i < MANY; i++) {
        ss[i] = new_session(h, 3, false);
        ids[i] = session_id(ss[i]);
        for (int p = 0; p < 3; p++) {
            int pid;
            const char *r;
            assert_int_equal(engine_join(h->e, ss[i], names[p], &pid, &r), 0);
            assert_int_equal(pid, p + 1);
            snprintf(tok[i][p], sizeof(tok[i][p]), "%s", r);
        }
    }
    struct session *back;
    int pid;
    for (int i = 0; i < MANY; i++) {
        assert_ptr_equal(engine_find_by_join_code(h->e, session_join_code(ss[i])), ss[i]);
        assert_ptr_equal(engine_find_by_kiosk_code(h->e, session_kiosk_code(ss[i])), ss[i]);
        for (int p = 0; p < 3; p++) {
            assert_int_equal(engine_rejoin(h->e, tok[i][p], &back, &pid), 0);
            assert_ptr_equal(back, ss[i]);
            assert_int_equal(pid, p + 1);
        }
    }
    /* Closed: the codes are free again, the tokens say "closed". */
    for (int i = 0; i < MANY; i += 2)
        ok1(h, ss[i], FAC, REQ(PT_END), PT_EV_CLOSED);
    for (int i = 0; i < MANY; i++) {
        bool open = i % 2;
        assert_ptr_equal(engine_find_by_join_code(h->e, session_join_code(ss[i])),
                         open ? ss[i] : NULL);
        assert_ptr_equal(engine_find_by_kiosk_code(h->e, session_kiosk_code(ss[i])),
                         open ? ss[i] : NULL);
        assert_int_equal(engine_rejoin(h->e, tok[i][1], &back, &pid),
                         open ? 0 : PROTO_ERR_CLOSED);
    }
    /* New sessions' codes differ from every open session's. */
    static struct session *more[MANY / 3];
    for (int i = 0; i < MANY / 3; i++)
        more[i] = session_with(h, 1);
    int n_codes = 0;
    static const char *codes[2 * (MANY + MANY / 3)];
    for (int i = 1; i < MANY; i += 2) {
        codes[n_codes++] = session_join_code(ss[i]);
        codes[n_codes++] = session_kiosk_code(ss[i]);
    }
    for (int i = 0; i < MANY / 3; i++) {
        assert_ptr_equal(engine_find_by_join_code(h->e, session_join_code(more[i])), more[i]);
        codes[n_codes++] = session_join_code(more[i]);
        codes[n_codes++] = session_kiosk_code(more[i]);
    }
    for (int a = 0; a < n_codes; a++)
        for (int b = a + 1; b < n_codes; b++)
            assert_string_not_equal(codes[a], codes[b]);
    /* Released: the tokens are gone with the session. The tick closes the
     * open ones (idle), and releases those closed an idle time ago. */
    engine_tick(h->e, h->now + 61 * 60000);
    for (int i = 0; i < MANY; i++) {
        bool was_open = i % 2;
        assert_true(was_open == (engine_find(h->e, ids[i]) != NULL));
        for (int p = 0; p < 3; p++)
            assert_int_equal(engine_rejoin(h->e, tok[i][p], &back, &pid),
                             was_open ? PROTO_ERR_CLOSED : PROTO_ERR_BAD_CREDENTIALS);
    }
    drop_events(h); /* a new session may take a released one's address */
    struct session *late = session_with(h, 2);
    assert_ptr_equal(engine_find_by_join_code(h->e, session_join_code(late)), late);
    assert_ptr_equal(engine_find_by_kiosk_code(h->e, session_kiosk_code(late)), late);
    assert_int_equal(engine_rejoin(h->e, ST(late)->participants[1].resume, &back, &pid), 0);
    assert_ptr_equal(back, late);
}

/* s's session.created body, with other codes in it. The caller frees it. */
static uint8_t *created_with_codes(struct harness *h, struct session *s, const char *join,
                                   const char *kiosk, size_t *len)
{
    for (int i = 0; i < h->n; i++) {
        if (h->ev[i].s != s || h->ev[i].type != PT_EV_CREATED)
            continue;
        struct proto_msg *m;
        assert_int_equal(proto_decode(h->ev[i].full->data + 4, h->ev[i].full->len - 4, true, &m,
                                      NULL),
                         0);
        proto_set_str(m, PK_JOIN_CODE, join);
        proto_set_str(m, PK_KIOSK_CODE, kiosk);
        uint8_t *body;
        assert_int_equal(proto_encode(m, &body, len), 0);
        proto_msg_free(m);
        return body;
    }
    fail_msg("no session.created");
    return NULL;
}

static void restored_codes_another_session_holds_are_replaced(void **state)
{
    struct harness *h = *state;
    struct session *a = session_with(h, 1), *b = session_with(h, 2), *c = session_with(h, 0);
    char b_join[16];
    snprintf(b_join, sizeof(b_join), "%s", session_join_code(b));
    struct engine *e2 = engine_new(&h->lim, (struct engine_sink){NULL, NULL});
    replay(e2, h, a);
    struct session *a2 = engine_find(e2, session_id(a));
    /* b comes back with a's codes: a keeps them, b gets new ones */
    size_t len;
    uint8_t *body = created_with_codes(h, b, session_join_code(a), session_kiosk_code(a), &len);
    assert_int_equal(engine_restore_event(e2, session_id(b), body, len), 0);
    free(body);
    for (int i = 0; i < h->n; i++)
        if (h->ev[i].s == b && h->ev[i].type != PT_EV_CREATED)
            assert_int_equal(engine_restore_event(e2, session_id(b), h->ev[i].full->data + 4,
                                                  h->ev[i].full->len - 4),
                             0);
    struct session *b2 = engine_find(e2, session_id(b));
    assert_non_null(b2);
    assert_string_equal(session_join_code(a2), session_join_code(a));
    assert_string_not_equal(session_join_code(b2), session_join_code(a));
    assert_string_not_equal(session_kiosk_code(b2), session_kiosk_code(a));
    assert_string_not_equal(session_kiosk_code(b2), session_join_code(b2));
    assert_ptr_equal(engine_find_by_join_code(e2, session_join_code(a)), a2);
    assert_ptr_equal(engine_find_by_kiosk_code(e2, session_kiosk_code(a)), a2);
    assert_ptr_equal(engine_find_by_join_code(e2, session_join_code(b2)), b2);
    assert_ptr_equal(engine_find_by_kiosk_code(e2, session_kiosk_code(b2)), b2);
    struct session *back;
    int pid;
    assert_int_equal(engine_rejoin(e2, ST(b)->participants[1].resume, &back, &pid), 0);
    assert_ptr_equal(back, b2);
    assert_int_equal(pid, 2);
    /* c's stored kiosk code is its own join code: the join code keeps it */
    body = created_with_codes(h, c, b_join, b_join, &len);
    assert_int_equal(engine_restore_event(e2, session_id(c), body, len), 0);
    free(body);
    struct session *c2 = engine_find(e2, session_id(c));
    assert_string_equal(session_join_code(c2), b_join);
    assert_string_not_equal(session_kiosk_code(c2), b_join);
    assert_ptr_equal(engine_find_by_join_code(e2, b_join), c2);
    assert_ptr_equal(engine_find_by_kiosk_code(e2, session_kiosk_code(c2)), c2);
    assert_null(engine_find_by_kiosk_code(e2, b_join));
    engine_free(e2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(whole_lwk_meting_runs_every_step_with_five_participants),
        TEST(blind_round_sends_no_values_before_reveal),
        TEST(votes_stay_private_and_the_budget_holds),
        TEST(every_session_request_type_is_in_the_table),
        TEST(kiosk_and_observer_may_send_no_request),
        TEST(each_request_is_refused_to_the_role_it_is_not_for),
        TEST(every_request_outside_its_step_is_wrong_phase),
        TEST(out_of_range_values_are_refused),
        TEST(unknown_participant_theme_or_action_is_not_found),
        TEST(closed_session_refuses_every_request),
        TEST(reveal_below_min_reveal_is_too_few),
        TEST(min_reveal_of_the_session_is_used),
        TEST(auto_reveal_comes_with_the_last_score),
        TEST(rescore_keeps_both_rounds_and_hides_the_new_one),
        TEST(rescore_from_themes_returns_to_themes),
        TEST(back_walks_the_steps_in_reverse),
        TEST(turn_orders_follow_their_mode),
        TEST(undo_takes_back_the_facilitators_changes_in_reverse_order),
        TEST(undo_never_crosses_a_reveal),
        TEST(undo_restores_a_removed_action),
        TEST(codes_are_short_unambiguous_and_case_insensitive),
        TEST(resume_token_rejoins_as_the_same_participant),
        TEST(display_names_are_unique_ignoring_case),
        TEST(limits_give_a_typed_error_and_affect_nothing_else),
        TEST(paused_session_refuses_participants_until_resumed),
        TEST(idle_session_is_closed_by_tick_and_released),
        TEST(two_sessions_are_isolated),
        TEST(snapshot_since_holds_only_later_events),
        TEST(restore_rebuilds_the_same_state_from_full_events),
        TEST(restore_refuses_garbage_and_gaps),
        TEST(restored_session_idles_from_the_first_tick),
        TEST(codes_and_tokens_are_found_through_close_and_release),
        TEST(restored_codes_another_session_holds_are_replaced),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
