/*
 * test_engine_instruments.c: the session engine with instruments as data
 * (docs/cycle.md): each shipped instrument (sql/instruments/) parsed
 * and run through its own steps, version pinning, the KLWO selection and
 * practice examples, timers on a fake clock (start, pause, resume, extend,
 * overrun via engine_tick), and the review of an earlier session's actions.
 * Every event the sink gets is decoded and applied to a second state with
 * the clients' reducer, which must end up equal to the engine's.
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
#include "instrument.h"
#include "proto.h"
#include "state.h"

/* ---- harness ----------------------------------------------------------- */

struct captured {
    struct session *s;
    enum proto_type type;
    struct proto_msg *full; /* decoded */
};

struct harness {
    struct engine *e;
    struct captured *ev;
    int n, cap;
    uint64_t now;
    struct instrument *lwk, *quickscan, *klwo;
};

static const char fac_name[] = "begeleider";
static const struct engine_actor FAC = {PROTO_KIND_FACILITATOR, 0, fac_name};

static struct engine_actor P(int pid) {
    return (struct engine_actor){PROTO_KIND_PARTICIPANT, pid, NULL};
}

static void
sink_event(void *ctx, struct session *s, uint64_t seq, enum proto_type type,
           struct engine_frame *full, struct engine_frame *pub, int owner)
{
    (void)seq;
    (void)pub;
    (void)owner;
    struct harness *h = ctx;
    struct proto_msg *m = NULL;
    assert_int_equal(proto_decode(full->data + PROTO_FRAME_HEADER, full->len - PROTO_FRAME_HEADER,
                                  true, &m, NULL),
                     0);
    assert_int_equal(m->type, type);
    if (h->n == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 256;
        h->ev = realloc(h->ev, (size_t)h->cap * sizeof(*h->ev));
        assert_non_null(h->ev);
    }
    h->ev[h->n++] = (struct captured){s, type, m};
}

static char *read_file(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/sql/instruments/%s", LWK_SOURCE_DIR, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = malloc(INSTRUMENT_MAX_TEXT + 1);
    assert_non_null(buf);
    *len = fread(buf, 1, INSTRUMENT_MAX_TEXT, f);
    fclose(f);
    buf[*len] = '\0';
    return buf;
}

static struct instrument *parse_text(const char *text, size_t len)
{
    struct instrument *in = NULL;
    struct instrument_error err;
    int rc = instrument_parse(text, len, &in, &err);
    if (rc < 0)
        fail_msg("line %u: %s", err.line, err.message);
    return in;
}

static struct instrument *load(const char *name)
{
    size_t len;
    char *text = read_file(name, &len);
    struct instrument *in = parse_text(text, len);
    free(text);
    return in;
}

static int setup(void **state)
{
    struct harness *h = calloc(1, sizeof(*h));
    struct engine_limits lim = {
        .max_sessions = 10,
        .max_participants = 20,
        .max_text_bytes = 500,
        .max_themes = 10,
        .max_actions = 10,
        .max_keywords = 60,
        .min_reveal = 3,
        .session_idle_close_min = 60,
    };
    h->now = 1700000000000ull;
    h->e = engine_new(&lim, (struct engine_sink){h, sink_event});
    h->lwk = load("lwk-meting.lwki");
    h->quickscan = load("quickscan.lwki");
    h->klwo = load("klwo.lwki");
    *state = h;
    return 0;
}

static int teardown(void **state)
{
    struct harness *h = *state;
    for (int i = 0; i < h->n; i++)
        proto_msg_free(h->ev[i].full);
    free(h->ev);
    engine_free(h->e);
    instrument_free(h->lwk);
    instrument_free(h->quickscan);
    instrument_free(h->klwo);
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

static int
rq(struct harness *h, struct session *s, struct engine_actor who, struct proto_msg m)
{
    struct proto_msg reply = REQ(PT_OK);
    h->now += 1000;
    return engine_request(h->e, s, &who, &m, h->now, &reply);
}

static void ok(struct harness *h, struct session *s, struct engine_actor who, struct proto_msg m)
{
    int rc = rq(h, s, who, m);
    if (rc != 0)
        fail_msg("%s refused: %s", proto_type_name(m.type), proto_err_name(-rc));
}

static void refused(struct harness *h, struct session *s, struct engine_actor who,
                    struct proto_msg m, int code)
{
    int before = h->n;
    int rc = rq(h, s, who, m);
    if (rc != code)
        fail_msg("%s: expected %s, got %s", proto_type_name(m.type), proto_err_name(-code),
                 rc ? proto_err_name(-rc) : "OK");
    assert_int_equal(h->n, before);
}

static struct proto_msg int_req(enum proto_type t, enum proto_key k, int64_t v)
{
    struct proto_msg m = REQ(t);
    proto_set_int(&m, k, v);
    return m;
}

static struct proto_msg text_req(enum proto_type t, const char *text)
{
    struct proto_msg m = REQ(t);
    proto_set_str(&m, PK_TEXT, text);
    return m;
}

static const struct session_state *ST(const struct session *s)
{
    return session_get_state(s);
}

/* The last event of session s, of type t (NULL: none). */
static const struct proto_msg *last_of(struct harness *h, struct session *s, enum proto_type t)
{
    for (int i = h->n - 1; i >= 0; i--)
        if (h->ev[i].s == s && h->ev[i].type == t)
            return h->ev[i].full;
    return NULL;
}

static int count_of(struct harness *h, struct session *s, enum proto_type t)
{
    int n = 0;
    for (int i = 0; i < h->n; i++)
        n += h->ev[i].s == s && h->ev[i].type == t;
    return n;
}

static struct session *start(struct harness *h, const struct instrument *in,
                             const struct engine_review *rv, int minute_s)
{
    struct proto_msg m = REQ(PT_SESSION_NEW);
    proto_set_str(&m, PK_TEAM, "Team Oost");
    proto_set_int(&m, PK_UNIT, 7);
    struct engine_setup setup = {in, rv, minute_s};
    struct session *s = NULL;
    assert_int_equal(engine_session_start(h->e, &m, fac_name, &setup, h->now, &s), 0);
    assert_non_null(s);
    return s;
}

static void join_n(struct harness *h, struct session *s, int n)
{
    static const char *const names[] = {"Anna", "Bram", "Cor", "Dewi", "Eva"};
    for (int i = 0; i < n; i++) {
        int pid;
        const char *resume;
        assert_int_equal(engine_join(h->e, s, names[i], &pid, &resume), 0);
    }
}

static void score_and_reveal(struct harness *h, struct session *s)
{
    const struct session_state *st = ST(s);
    for (int pid = 1; pid <= st->n_participants; pid++) {
        struct proto_msg m = REQ(PT_SCORE);
        proto_set_int(&m, PK_ITEM, st->item);
        proto_set_int(&m, PK_VALUE, 4 + pid);
        ok(h, s, P(pid), m);
    }
    ok(h, s, FAC, REQ(PT_REVEAL));
}

/* The positions `next` walks through until the last step, as "phase:item". */
static void walk(struct harness *h, struct session *s, char *out, size_t n)
{
    const struct session_state *st = ST(s);
    out[0] = '\0';
    for (int guard = 0; guard < 100; guard++) {
        char pos[32];
        snprintf(pos, sizeof(pos), "%s%s", out[0] ? " " : "", proto_enum_name(PK_PHASE, st->phase));
        strncat(out, pos, n - strlen(out) - 1);
        if (st->phase == PROTO_PHASE_SCORE || st->phase == PROTO_PHASE_EXPLAIN) {
            snprintf(pos, sizeof(pos), ":%d", st->item);
            strncat(out, pos, n - strlen(out) - 1);
        }
        if (st->phase == PROTO_PHASE_SCORE)
            score_and_reveal(h, s);
        int rc = rq(h, s, FAC, REQ(PT_NEXT));
        if (rc == PROTO_ERR_WRONG_PHASE)
            return;
        assert_int_equal(rc, 0);
    }
    fail_msg("the walk does not end");
}

/* A fresh state rebuilt from the session's events must equal the engine's. */
static void assert_replays(struct harness *h, struct session *s)
{
    struct session_state st;
    state_init(&st);
    for (int i = 0; i < h->n; i++)
        if (h->ev[i].s == s)
            assert_int_equal(state_apply(&st, h->ev[i].full), 0);
    const struct session_state *a = ST(s);
    assert_int_equal(st.seq, a->seq);
    assert_int_equal(st.phase, a->phase);
    assert_int_equal(st.item, a->item);
    assert_int_equal(st.steps, a->steps);
    assert_int_equal(st.version, a->version);
    assert_int_equal(st.n_items, a->n_items);
    for (int i = 0; i < st.n_items; i++) {
        assert_string_equal(st.items[i].name, a->items[i].name);
        assert_int_equal(st.items[i].selected, a->items[i].selected);
        assert_int_equal(st.items[i].previous_mean, a->items[i].previous_mean);
    }
    assert_int_equal(st.n_agenda, a->n_agenda);
    assert_int_equal(st.timer.entry, a->timer.entry);
    assert_int_equal(st.timer.running, a->timer.running);
    assert_int_equal(st.timer.start_ms, a->timer.start_ms);
    assert_int_equal(st.timer.left_ms, a->timer.left_ms);
    assert_int_equal(st.timer.duration_s, a->timer.duration_s);
    assert_int_equal(st.timer.overrun, a->timer.overrun);
    assert_int_equal(st.n_examples, a->n_examples);
    assert_int_equal(st.n_reviews, a->n_reviews);
    for (int i = 0; i < st.n_reviews; i++) {
        assert_int_equal(st.reviews[i].new_status, a->reviews[i].new_status);
        assert_int_equal(st.reviews[i].rating, a->reviews[i].rating);
    }
    state_free(&st);
}

/* ---- the shipped instruments ------------------------------------------- */

static void each_shipped_instrument_becomes_a_session(void **state)
{
    struct harness *h = *state;
    const struct instrument *all[] = {h->lwk, h->quickscan, h->klwo};
    for (size_t k = 0; k < 3; k++) {
        const struct instrument *in = all[k];
        struct session *s = start(h, in, NULL, 0);
        const struct session_state *st = ST(s);
        const struct proto_msg *created = last_of(h, s, PT_EV_CREATED);
        assert_non_null(created);
        assert_string_equal(proto_str(created, PK_INSTRUMENT), in->key);
        assert_int_equal(proto_int(created, PK_VERSION, 0), in->version);
        assert_string_equal(st->instrument, in->key);
        assert_int_equal(st->version, (int)in->version);
        assert_int_equal(st->n_items, (int)in->n_items);
        for (size_t i = 0; i < in->n_items; i++) {
            assert_string_equal(st->items[i].name, in->items[i].name.nl);
            assert_string_equal(st->items[i].prompt, in->items[i].prompt.nl);
            assert_int_equal(st->items[i].scored, in->items[i].scored);
            assert_int_equal(st->items[i].scale_max, in->items[i].scale_max);
            assert_int_equal(st->items[i].notes, in->items[i].notes);
            assert_int_equal(st->items[i].selected, !in->select);
            assert_string_equal(proto_str(&created->v[PK_ROWS].m.p[i], PK_ITEM_KEY),
                                in->items[i].key);
        }
        for (int p = 0; p < INSTRUMENT_STEP_COUNT; p++)
            assert_int_equal(state_has_step(st, (enum proto_phase)p),
                             instrument_has_step(in, (enum instrument_step)p));
        assert_int_equal(st->select, in->select);
        assert_int_equal(st->n_agenda, (int)in->n_agenda);
        for (size_t a = 0; a < in->n_agenda; a++) {
            assert_int_equal(st->agenda[a].phase, (int)in->agenda[a].step);
            assert_int_equal(st->agenda[a].duration_s, (int)in->agenda[a].minutes * 60);
            assert_string_equal(st->agenda[a].title, in->agenda[a].title.nl);
        }
        /* Nothing to review: every instrument starts in the lobby. */
        assert_int_equal(st->phase, PROTO_PHASE_LOBBY);
        assert_int_equal(st->min_reveal, in->min_reveal ? (int)in->min_reveal : 3);
        assert_replays(h, s);
    }
}

static void lwk_meting_session_takes_all_its_steps(void **state)
{
    struct harness *h = *state;
    struct session *s = start(h, h->lwk, NULL, 0);
    join_n(h, s, 3);
    char path[512];
    walk(h, s, path, sizeof(path));
    assert_string_equal(path, "lobby score:0 explain:0 score:1 explain:1 score:2 explain:2 "
                              "score:3 explain:3 themes desired actions look_ahead summary");
    /* Only end closes. */
    ok(h, s, FAC, REQ(PT_END));
    assert_true(ST(s)->closed);
    /* Untimed: never a countdown. */
    assert_int_equal(count_of(h, s, PT_EV_TIMER), 0);
    assert_replays(h, s);
}

static void quickscan_discusses_each_scenario_without_scores(void **state)
{
    struct harness *h = *state;
    struct session *s = start(h, h->quickscan, NULL, 0);
    const struct session_state *st = ST(s);
    join_n(h, s, 3);
    ok(h, s, FAC, REQ(PT_NEXT));
    assert_int_equal(st->phase, PROTO_PHASE_EXPLAIN);
    assert_int_equal(st->item, 0);
    assert_int_equal(st->round, 0);
    /* The phase event has an item and no round: there is nothing to score. */
    const struct proto_msg *ph = last_of(h, s, PT_EV_PHASE);
    assert_int_equal(proto_int(ph, PK_ITEM, -1), 0);
    assert_false(proto_has(ph, PK_ROUND));
    {
        struct proto_msg m = REQ(PT_SCORE);
        proto_set_int(&m, PK_ITEM, 0);
        proto_set_int(&m, PK_VALUE, 6);
        refused(h, s, P(1), m, PROTO_ERR_WRONG_PHASE);
    }
    refused(h, s, FAC, REQ(PT_REVEAL), PROTO_ERR_WRONG_PHASE);
    /* Turns and keywords work as for a scored item. */
    ok(h, s, FAC, int_req(PT_TURN_ORDER, PK_MODE, PROTO_MODE_JOIN));
    ok(h, s, P(1), text_req(PT_KEYWORD, "budget blijft liggen"));
    assert_int_equal(st->keywords[0].item, 0);
    /* back and forth between scenarios, and undo */
    ok(h, s, FAC, REQ(PT_NEXT));
    assert_int_equal(st->item, 1);
    ok(h, s, FAC, REQ(PT_BACK));
    assert_int_equal(st->item, 0);
    ok(h, s, FAC, REQ(PT_UNDO_REQ));
    assert_int_equal(st->item, 1);
    char path[256];
    walk(h, s, path, sizeof(path));
    assert_string_equal(path, "explain:1 explain:2 explain:3 actions summary");
    /* No themes or desired step in this instrument. */
    refused(h, s, FAC, text_req(PT_THEME_ADD, "tijd"), PROTO_ERR_WRONG_PHASE);
    ok(h, s, FAC, REQ(PT_BACK));
    assert_int_equal(st->phase, PROTO_PHASE_ACTIONS);
    ok(h, s, FAC, REQ(PT_BACK));
    assert_int_equal(st->phase, PROTO_PHASE_EXPLAIN);
    assert_int_equal(st->item, 3);
    assert_replays(h, s);
}

static struct proto_msg items_req(const int64_t *items, uint32_t n)
{
    struct proto_msg m = REQ(PT_ITEMS_SELECT);
    proto_set_ints(&m, PK_ITEMS, items, n);
    return m;
}

static void klwo_session_works_on_the_selected_principles(void **state)
{
    struct harness *h = *state;
    struct session *s = start(h, h->klwo, NULL, 0);
    const struct session_state *st = ST(s);
    join_n(h, s, 3);
    assert_true(st->select);
    assert_false(st->selection);
    /* Not on without a choice; not by a participant; not an unknown item. */
    refused(h, s, FAC, REQ(PT_NEXT), PROTO_ERR_CONFLICT);
    static const int64_t chosen[] = {8, 1, 4}, bad[] = {13}, first[] = {0};
    refused(h, s, P(1), items_req(chosen, 3), PROTO_ERR_WRONG_ROLE);
    refused(h, s, FAC, items_req(bad, 1), PROTO_ERR_OUT_OF_RANGE);
    refused(h, s, FAC, items_req(NULL, 0), PROTO_ERR_OUT_OF_RANGE);
    ok(h, s, FAC, items_req(first, 1));
    ok(h, s, FAC, items_req(chosen, 3));
    assert_true(st->selection);
    for (int i = 0; i < st->n_items; i++)
        assert_int_equal(st->items[i].selected, i == 1 || i == 4 || i == 8);
    /* undo goes back to the first choice, and redoing it needs a new request */
    ok(h, s, FAC, REQ(PT_UNDO_REQ));
    assert_true(st->items[0].selected && !st->items[1].selected);
    ok(h, s, FAC, items_req(chosen, 3));
    ok(h, s, FAC, REQ(PT_NEXT));
    /* Once past the lobby the choice is fixed. */
    refused(h, s, FAC, items_req(first, 1), PROTO_ERR_WRONG_PHASE);
    /* Practice examples: on a chosen principle only. */
    struct proto_msg ex = text_req(PT_EXAMPLE_ADD, "Leerteam bespreekt elke week een casus");
    proto_set_int(&ex, PK_ITEM, 1);
    ok(h, s, FAC, ex);
    proto_set_int(&ex, PK_ITEM, 2);
    refused(h, s, FAC, ex, PROTO_ERR_OUT_OF_RANGE);
    refused(h, s, P(1), ex, PROTO_ERR_WRONG_ROLE);
    assert_int_equal(st->n_examples, 1);
    assert_int_equal(st->examples[0].item, 1);
    assert_string_equal(st->examples[0].text, "Leerteam bespreekt elke week een casus");
    char path[512];
    walk(h, s, path, sizeof(path));
    assert_string_equal(path,
                        "score:1 explain:1 score:4 explain:4 score:8 explain:8 themes desired "
                        "actions look_ahead summary");
    /* A desired score only for a chosen principle. */
    ok(h, s, FAC, REQ(PT_BACK));
    ok(h, s, FAC, REQ(PT_BACK));
    ok(h, s, FAC, REQ(PT_BACK));
    assert_int_equal(st->phase, PROTO_PHASE_DESIRED);
    struct proto_msg d = REQ(PT_DESIRED_SET);
    proto_set_int(&d, PK_ITEM, 0);
    proto_set_int(&d, PK_VALUE, 8);
    refused(h, s, FAC, d, PROTO_ERR_OUT_OF_RANGE);
    proto_set_int(&d, PK_ITEM, 4);
    ok(h, s, FAC, d);
    assert_replays(h, s);
}

static void item_selection_is_refused_where_all_items_count(void **state)
{
    struct harness *h = *state;
    struct session *s = start(h, h->lwk, NULL, 0);
    static const int64_t one[] = {1};
    refused(h, s, FAC, items_req(one, 1), PROTO_ERR_CONFLICT);
    /* The LWK-meting's items take no examples. */
    ok(h, s, FAC, REQ(PT_NEXT));
    struct proto_msg ex = text_req(PT_EXAMPLE_ADD, "voorbeeld");
    proto_set_int(&ex, PK_ITEM, 0);
    refused(h, s, FAC, ex, PROTO_ERR_OUT_OF_RANGE);
}

/* ---- version pinning --------------------------------------------------- */

/* The shipped LWK-meting with its first item renamed and without themes. */
static struct instrument *lwk_v2(void)
{
    size_t len;
    char *text = read_file("lwk-meting.lwki", &len);
    char *out = malloc(len + 64);
    char *p = strstr(text, "version = 1\n");
    assert_non_null(p);
    size_t at = (size_t)(p - text);
    memcpy(out, text, at);
    size_t o = at + (size_t)sprintf(out + at, "version = 2\n");
    const char *rest = p + strlen("version = 1\n");
    size_t rl = strlen(rest);
    memcpy(out + o, rest, rl + 1);
    free(text);
    /* Rename: "name.nl = Absorptievermogen" -> "name.nl = Opvangvermogen". */
    char *n = strstr(out, "name.nl = Absorptievermogen");
    assert_non_null(n);
    char *fixed = malloc(strlen(out) + 16);
    size_t head = (size_t)(n - out);
    memcpy(fixed, out, head);
    sprintf(fixed + head, "name.nl = Opvangvermogen%s", n + strlen("name.nl = Absorptievermogen"));
    free(out);
    /* Drop the themes step (its agenda entry goes too). */
    char *steps = strstr(fixed, "steps = review lobby score explain themes desired");
    assert_non_null(steps);
    memmove(steps + strlen("steps = review lobby score explain"),
            steps + strlen("steps = review lobby score explain themes"),
            strlen(steps + strlen("steps = review lobby score explain themes")) + 1);
    char *ag = strstr(fixed, "[agenda themas]");
    assert_non_null(ag);
    char *next = strstr(ag + 1, "[agenda");
    assert_non_null(next);
    memmove(ag, next, strlen(next) + 1);
    struct instrument *in = parse_text(fixed, strlen(fixed));
    free(fixed);
    return in;
}

static void a_new_version_never_changes_a_past_session(void **state)
{
    struct harness *h = *state;
    struct session *old = start(h, h->lwk, NULL, 0);
    join_n(h, old, 3);
    ok(h, old, FAC, REQ(PT_NEXT));
    score_and_reveal(h, old);

    struct instrument *v2 = lwk_v2();
    assert_int_equal(v2->version, 2);
    struct session *fresh = start(h, v2, NULL, 0);
    instrument_free(v2); /* the session keeps what its events say, not the struct */
    assert_int_equal(ST(fresh)->version, 2);
    assert_string_equal(ST(fresh)->items[0].name, "Opvangvermogen");
    assert_false(state_has_step(ST(fresh), PROTO_PHASE_THEMES));

    /* The old session keeps version 1: its names, and its themes step. */
    const struct session_state *st = ST(old);
    assert_int_equal(st->version, 1);
    assert_string_equal(st->items[0].name, "Absorptievermogen");
    while (st->phase != PROTO_PHASE_THEMES) {
        if (st->phase == PROTO_PHASE_SCORE && !state_round(st, st->item, st->round)->revealed)
            score_and_reveal(h, old);
        ok(h, old, FAC, REQ(PT_NEXT));
    }
    ok(h, old, FAC, text_req(PT_THEME_ADD, "inwerken"));

    /* The new one goes from the last explanation straight to desired scores. */
    join_n(h, fresh, 3);
    char path[512];
    walk(h, fresh, path, sizeof(path));
    assert_string_equal(path, "lobby score:0 explain:0 score:1 explain:1 score:2 explain:2 "
                              "score:3 explain:3 desired actions look_ahead summary");

    /* Restored elsewhere from its events alone, the old session is version 1 still. */
    struct engine_limits lim = {10, 20, 500, 10, 10, 60, 3, 60};
    struct engine *e2 = engine_new(&lim, (struct engine_sink){NULL, NULL});
    for (int i = 0; i < h->n; i++) {
        if (h->ev[i].s != old)
            continue;
        uint8_t *body;
        size_t len;
        assert_int_equal(proto_encode(h->ev[i].full, &body, &len), 0);
        assert_int_equal(engine_restore_event(e2, session_id(old), body, len), 0);
        free(body);
    }
    const struct session_state *r = session_get_state(engine_find(e2, session_id(old)));
    assert_int_equal(r->version, 1);
    assert_string_equal(r->items[0].name, "Absorptievermogen");
    assert_true(state_has_step(r, PROTO_PHASE_THEMES));
    assert_int_equal(r->phase, PROTO_PHASE_THEMES);
    engine_free(e2);
    assert_replays(h, old);
    assert_replays(h, fresh);
}

/* ---- timers ------------------------------------------------------------ */

static void tick(struct harness *h, uint64_t at)
{
    h->now = at;
    engine_tick(h->e, at);
}

static void quickscan_timers_follow_the_agenda(void **state)
{
    struct harness *h = *state;
    struct session *s = start(h, h->quickscan, NULL, 0);
    const struct session_state *st = ST(s);
    const struct state_timer *t = &st->timer;
    join_n(h, s, 3);
    /* The introduction waits for the facilitator: paused, all its time left. */
    assert_int_equal(t->entry, 0);
    assert_false(t->running);
    assert_int_equal(t->duration_s, 180);
    assert_int_equal(t->left_ms, 180000);
    tick(h, h->now + 600000);
    assert_int_equal(count_of(h, s, PT_EV_TIMER_OVERRUN), 0);

    ok(h, s, FAC, REQ(PT_TIMER_RESUME));
    uint64_t t0 = h->now;
    assert_true(t->running);
    assert_int_equal(t->start_ms, (int64_t)t0);
    const struct proto_msg *ev = last_of(h, s, PT_EV_TIMER);
    assert_int_equal(proto_int(ev, PK_START, 0), (int64_t)t0);
    assert_int_equal(proto_int(ev, PK_DURATION, 0), 180);
    refused(h, s, FAC, REQ(PT_TIMER_RESUME), PROTO_ERR_CONFLICT);
    refused(h, s, P(1), REQ(PT_TIMER_PAUSE), PROTO_ERR_WRONG_ROLE);

    /* Paused after a minute: two minutes left, and the clock stands still. */
    h->now = t0 + 59000;
    ok(h, s, FAC, REQ(PT_TIMER_PAUSE));
    assert_false(t->running);
    assert_int_equal(t->left_ms, 120000);
    assert_int_equal(state_timer_left(st, (int64_t)t0 + 500000), 120000);
    tick(h, t0 + 500000);
    assert_int_equal(count_of(h, s, PT_EV_TIMER_OVERRUN), 0);
    /* Resumed: counts on from two minutes. */
    ok(h, s, FAC, REQ(PT_TIMER_RESUME));
    uint64_t t1 = h->now;
    assert_int_equal(t->start_ms, (int64_t)t1 - 60000);
    assert_int_equal(state_timer_left(st, (int64_t)t1), 120000);
    /* Extended by a minute: three left. */
    ok(h, s, FAC, int_req(PT_TIMER_EXTEND, PK_DURATION, 60));
    assert_int_equal(t->duration_s, 240);
    assert_int_equal(t->start_ms, (int64_t)t1 - 60000);
    refused(h, s, FAC, int_req(PT_TIMER_EXTEND, PK_DURATION, 0), PROTO_ERR_OUT_OF_RANGE);
    refused(h, s, FAC, int_req(PT_TIMER_EXTEND, PK_DURATION, 86400), PROTO_ERR_OUT_OF_RANGE);

    /* The overrun: once, when the planned time has passed. */
    uint64_t deadline = t1 - 60000 + 240000;
    tick(h, deadline - 1);
    assert_int_equal(count_of(h, s, PT_EV_TIMER_OVERRUN), 0);
    tick(h, deadline);
    assert_int_equal(count_of(h, s, PT_EV_TIMER_OVERRUN), 1);
    ev = last_of(h, s, PT_EV_TIMER_OVERRUN);
    assert_int_equal(proto_int(ev, PK_ENTRY, -1), 0);
    assert_int_equal(proto_int(ev, PK_DURATION, 0), 240);
    assert_true(t->overrun);
    tick(h, deadline + 5000);
    assert_int_equal(count_of(h, s, PT_EV_TIMER_OVERRUN), 1);
    assert_int_equal(state_timer_left(st, (int64_t)deadline + 5000), -5000);
    /* Paused over time: the time over is kept; an extension that still
     * leaves it over time runs over again at once. */
    h->now = deadline + 9000; /* a request takes a second */
    ok(h, s, FAC, REQ(PT_TIMER_PAUSE));
    assert_int_equal(t->left_ms, -10000);
    ok(h, s, FAC, REQ(PT_TIMER_RESUME));
    tick(h, h->now + 1);
    assert_int_equal(count_of(h, s, PT_EV_TIMER_OVERRUN), 1);

    /* The scenarios: one countdown of 20 minutes across all four. */
    int timers = count_of(h, s, PT_EV_TIMER);
    ok(h, s, FAC, REQ(PT_NEXT));
    uint64_t t2 = h->now;
    assert_int_equal(t->entry, 1);
    assert_true(t->running);
    assert_int_equal(t->start_ms, (int64_t)t2);
    assert_int_equal(t->duration_s, 1200);
    assert_false(t->overrun);
    assert_int_equal(count_of(h, s, PT_EV_TIMER), timers + 1);
    ok(h, s, FAC, REQ(PT_NEXT));
    ok(h, s, FAC, REQ(PT_NEXT));
    ok(h, s, FAC, REQ(PT_NEXT));
    assert_int_equal(st->item, 3);
    assert_int_equal(t->start_ms, (int64_t)t2);
    assert_int_equal(count_of(h, s, PT_EV_TIMER), timers + 1);
    /* Actions: 7 minutes; summary: 2. */
    ok(h, s, FAC, REQ(PT_NEXT));
    assert_int_equal(t->entry, 2);
    assert_int_equal(t->duration_s, 420);
    ok(h, s, FAC, REQ(PT_NEXT));
    assert_int_equal(t->entry, 3);
    assert_int_equal(t->duration_s, 120);
    /* Back to the actions: their countdown starts afresh. */
    ok(h, s, FAC, REQ(PT_BACK));
    assert_int_equal(t->entry, 2);
    assert_int_equal(t->start_ms, (int64_t)h->now);
    ok(h, s, FAC, REQ(PT_NEXT));
    /* The end stops the clock; a closed session never runs over. */
    int before = count_of(h, s, PT_EV_TIMER);
    ok(h, s, FAC, REQ(PT_END));
    assert_int_equal(count_of(h, s, PT_EV_TIMER), before);
    assert_int_equal(t->entry, -1);
    tick(h, h->now + 1800000); /* (an hour would release the closed session) */
    assert_int_equal(count_of(h, s, PT_EV_TIMER_OVERRUN), 1);
    assert_replays(h, s);
}

static void agenda_minutes_can_be_shortened(void **state)
{
    struct harness *h = *state;
    struct session *s = start(h, h->quickscan, NULL, 2);
    assert_int_equal(ST(s)->agenda[1].duration_s, 40);
    assert_int_equal(ST(s)->timer.left_ms, 6000);
}

static void untimed_steps_have_no_countdown(void **state)
{
    struct harness *h = *state;
    struct session *s = start(h, h->lwk, NULL, 0);
    refused(h, s, FAC, REQ(PT_TIMER_PAUSE), PROTO_ERR_CONFLICT);
    refused(h, s, FAC, REQ(PT_TIMER_RESUME), PROTO_ERR_CONFLICT);
    refused(h, s, FAC, int_req(PT_TIMER_EXTEND, PK_DURATION, 60), PROTO_ERR_CONFLICT);
    assert_int_equal(ST(s)->timer.entry, -1);
}

static void restored_timer_runs_over_on_the_first_tick(void **state)
{
    struct harness *h = *state;
    struct session *s = start(h, h->quickscan, NULL, 0);
    ok(h, s, FAC, REQ(PT_NEXT));
    uint64_t deadline = h->now + 1200000;
    struct engine_limits lim = {10, 20, 500, 10, 10, 60, 3, 60};
    struct harness h2 = {0};
    h2.e = engine_new(&lim, (struct engine_sink){&h2, sink_event});
    for (int i = 0; i < h->n; i++) {
        if (h->ev[i].s != s)
            continue;
        uint8_t *body;
        size_t len;
        assert_int_equal(proto_encode(h->ev[i].full, &body, &len), 0);
        assert_int_equal(engine_restore_event(h2.e, session_id(s), body, len), 0);
        free(body);
    }
    assert_int_equal(h2.n, 0);
    engine_tick(h2.e, deadline + 1000);
    assert_int_equal(h2.n, 1);
    assert_int_equal(h2.ev[0].type, PT_EV_TIMER_OVERRUN);
    for (int i = 0; i < h2.n; i++)
        proto_msg_free(h2.ev[i].full);
    free(h2.ev);
    engine_free(h2.e);
}

/* ---- the review -------------------------------------------------------- */

static const struct engine_review_action open_actions[] = {
    {.action = 41,
     .session = 900,
     .text = "Inwerkmap bijwerken",
     .owner = "Bram",
     .deadline = "2025-03-01",
     .date = "2025-01-15",
     .item_key = "absorptie",
     .status = 0,
     .overdue = true},
    {.action = 42,
     .session = 900,
     .text = "Intervisie elke maand",
     .feedback = "teamoverleg",
     .date = "2025-01-15",
     .item_key = "klwo-only",
     .status = 1},
};
static const struct engine_review_item last_time[] = {
    {"absorptie", 625, 8},
    {"lerend", 550, 0},
    {"gone", 700, 9},
};
static const struct engine_review review_data = {open_actions, 2, 900, "2025-01-15", last_time, 3};

static void second_session_starts_with_the_review(void **state)
{
    struct harness *h = *state;
    struct session *s = start(h, h->lwk, &review_data, 0);
    const struct session_state *st = ST(s);
    assert_int_equal(st->phase, PROTO_PHASE_REVIEW);
    assert_int_equal(st->n_reviews, 2);
    const struct state_review *r = state_review(st, 41);
    assert_non_null(r);
    assert_int_equal(r->session, 900);
    assert_string_equal(r->text, "Inwerkmap bijwerken");
    assert_string_equal(r->owner, "Bram");
    assert_string_equal(r->deadline, "2025-03-01");
    assert_string_equal(r->date, "2025-01-15");
    assert_int_equal(r->item, 0);
    assert_true(r->overdue);
    assert_int_equal(r->status, 0);
    assert_int_equal(r->new_status, -1);
    r = state_review(st, 42);
    assert_int_equal(r->item, -1); /* not an item of this instrument */
    assert_int_equal(r->status, 1);
    /* Last time, per vermogen: the mean and the desired score. */
    assert_int_equal(st->previous_session, 900);
    assert_string_equal(st->previous_date, "2025-01-15");
    assert_int_equal(st->items[0].previous_mean, 625);
    assert_int_equal(st->items[0].previous_desired, 8);
    assert_int_equal(st->items[3].previous_mean, 550);
    assert_int_equal(st->items[3].previous_desired, 0);
    assert_int_equal(st->items[1].previous_mean, -1);

    /* The facilitator records the status and the group's answer. */
    struct proto_msg m = int_req(PT_REVIEW_SET, PK_ACTION, 41);
    proto_set_int(&m, PK_STATUS, 2); /* done */
    ok(h, s, FAC, m);
    m = int_req(PT_REVIEW_SET, PK_ACTION, 41);
    proto_set_int(&m, PK_RATING, 4);
    proto_set_str(&m, PK_NOTE, "nieuwe collega's vinden de weg");
    ok(h, s, FAC, m);
    const struct proto_msg *ev = last_of(h, s, PT_EV_ACTION_REVIEWED);
    /* The event restates the whole review. */
    assert_int_equal(proto_int(ev, PK_STATUS, -1), 2);
    assert_int_equal(proto_int(ev, PK_RATING, 0), 4);
    r = state_review(st, 41);
    assert_true(r->reviewed);
    assert_int_equal(r->new_status, 2);
    assert_int_equal(r->rating, 4);
    assert_string_equal(r->note, "nieuwe collega's vinden de weg");
    refused(h, s, FAC, int_req(PT_REVIEW_SET, PK_ACTION, 41), PROTO_ERR_MISSING_FIELD);
    m = int_req(PT_REVIEW_SET, PK_ACTION, 99);
    proto_set_int(&m, PK_RATING, 2);
    refused(h, s, FAC, m, PROTO_ERR_NOT_FOUND);
    m = int_req(PT_REVIEW_SET, PK_ACTION, 42);
    proto_set_int(&m, PK_RATING, 2);
    refused(h, s, P(1), m, PROTO_ERR_NOT_FOUND); /* no such participant yet */
    join_n(h, s, 3);
    refused(h, s, P(1), m, PROTO_ERR_WRONG_ROLE);

    /* On to the lobby; back to the review; then the usual walk. */
    ok(h, s, FAC, REQ(PT_NEXT));
    assert_int_equal(st->phase, PROTO_PHASE_LOBBY);
    refused(h, s, FAC, m, PROTO_ERR_WRONG_PHASE);
    ok(h, s, FAC, REQ(PT_BACK));
    assert_int_equal(st->phase, PROTO_PHASE_REVIEW);
    char path[512];
    walk(h, s, path, sizeof(path));
    assert_string_equal(path, "review lobby score:0 explain:0 score:1 explain:1 score:2 explain:2 "
                              "score:3 explain:3 themes desired actions look_ahead summary");
    assert_replays(h, s);
}

static void klwo_review_comes_before_the_choice(void **state)
{
    struct harness *h = *state;
    struct session *s = start(h, h->klwo, &review_data, 0);
    const struct session_state *st = ST(s);
    assert_int_equal(st->phase, PROTO_PHASE_REVIEW);
    /* No lwk-meting items here: nothing from last time matches. */
    assert_int_equal(count_of(h, s, PT_EV_REVIEW_PREVIOUS), 0);
    assert_int_equal(state_review(st, 41)->item, -1);
    join_n(h, s, 3);
    ok(h, s, FAC, REQ(PT_NEXT)); /* on to the lobby without a choice */
    assert_int_equal(st->phase, PROTO_PHASE_LOBBY);
    refused(h, s, FAC, REQ(PT_NEXT), PROTO_ERR_CONFLICT);
    static const int64_t two[] = {0, 12};
    ok(h, s, FAC, items_req(two, 2));
    ok(h, s, FAC, REQ(PT_NEXT));
    assert_int_equal(st->phase, PROTO_PHASE_SCORE);
    assert_int_equal(st->item, 0);
    assert_replays(h, s);
}

static void no_review_step_no_review(void **state)
{
    struct harness *h = *state;
    /* The quickscan has no review step: its session starts in the lobby. */
    struct session *s = start(h, h->quickscan, &review_data, 0);
    assert_int_equal(ST(s)->phase, PROTO_PHASE_LOBBY);
    assert_int_equal(ST(s)->n_reviews, 0);
    assert_int_equal(count_of(h, s, PT_EV_REVIEW_PREVIOUS), 0); /* nothing scored to compare */
    /* The built-in LWK-meting (no database) reviews like the shipped one. */
    struct proto_msg m = REQ(PT_SESSION_NEW);
    proto_set_str(&m, PK_TEAM, "Team West");
    struct engine_setup setup = {NULL, &review_data, 0};
    struct session *b = NULL;
    assert_int_equal(engine_session_start(h->e, &m, fac_name, &setup, h->now, &b), 0);
    assert_int_equal(ST(b)->phase, PROTO_PHASE_REVIEW);
    assert_int_equal(ST(b)->version, 0);
    assert_int_equal(ST(b)->items[0].previous_mean, 625);
    /* A review with nothing open skips the step. */
    struct engine_review none = {NULL, 0, 900, "2025-01-15", last_time, 3};
    setup.review = &none;
    assert_int_equal(engine_session_start(h->e, &m, fac_name, &setup, h->now, &b), 0);
    assert_int_equal(ST(b)->phase, PROTO_PHASE_LOBBY);
    refused(h, b, FAC, REQ(PT_BACK), PROTO_ERR_WRONG_PHASE);
    /* An unknown key without an instrument is not found. */
    proto_set_str(&m, PK_INSTRUMENT, "quickscan");
    assert_int_equal(engine_session_start(h->e, &m, fac_name, NULL, h->now, &b),
                     PROTO_ERR_NOT_FOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(each_shipped_instrument_becomes_a_session),
        TEST(lwk_meting_session_takes_all_its_steps),
        TEST(quickscan_discusses_each_scenario_without_scores),
        TEST(klwo_session_works_on_the_selected_principles),
        TEST(item_selection_is_refused_where_all_items_count),
        TEST(a_new_version_never_changes_a_past_session),
        TEST(quickscan_timers_follow_the_agenda),
        TEST(agenda_minutes_can_be_shortened),
        TEST(untimed_steps_have_no_countdown),
        TEST(restored_timer_runs_over_on_the_first_tick),
        TEST(second_session_starts_with_the_review),
        TEST(klwo_review_comes_before_the_choice),
        TEST(no_review_step_no_review),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
