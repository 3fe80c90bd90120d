/*
 * state.c: the session reducer shared by lwkd and its clients (see state.h).
 *
 * Every handler checks the whole event first, then allocates what it needs,
 * and only then changes the state, so a refused event leaves it untouched.
 */
#include "state.h"

#include <stdlib.h>
#include <string.h>

/* ---- helpers ----------------------------------------------------------- */

/* Grows an array to hold need elements; *rc gets 0 or a proto error. */
static void *grow_to(void *p, int *cap, int need, size_t elem, int *rc)
{
    *rc = 0;
    if (need <= *cap)
        return p;
    if (need > STATE_MAX_LIST) {
        *rc = PROTO_ERR_LIMIT;
        return p;
    }
    int nc = *cap ? *cap : 8;
    while (nc < need)
        nc = nc > STATE_MAX_LIST / 2 ? STATE_MAX_LIST : nc * 2;
    void *np = realloc(p, (size_t)nc * elem);
    if (!np) {
        *rc = PROTO_ERR_INTERNAL;
        return p;
    }
    *cap = nc;
    return np;
}

#define GROW(arr, cap, need, rc)                                                                   \
    ((arr) = grow_to((arr), &(cap), (need), sizeof(*(arr)), &(rc)), (rc))

/* A copy of a string field; NULL with *rc == 0 when absent. */
static char *dup_field(const struct proto_msg *m, enum proto_key k, int *rc)
{
    *rc = 0;
    if (!proto_has(m, k))
        return NULL;
    const struct proto_str *s = &m->v[k].s;
    char *p = malloc((size_t)s->len + 1);
    if (!p) {
        *rc = PROTO_ERR_INTERNAL;
        return NULL;
    }
    memcpy(p, s->p, s->len);
    p[s->len] = '\0';
    return p;
}

static bool item_ok(const struct session_state *st, int64_t item)
{
    return item >= 0 && item < st->n_items;
}

static bool scored_item_ok(const struct session_state *st, int64_t item)
{
    return item_ok(st, item) && st->items[item].scored;
}

static bool value_ok(const struct state_item *it, int64_t v)
{
    return v >= it->scale_min && v <= it->scale_max;
}

/* Item mask from an "items" list; -1 when an index is not an item. */
static int64_t items_mask(const struct session_state *st, const struct proto_msg *m)
{
    uint32_t mask = 0;
    if (!proto_has(m, PK_ITEMS))
        return 0;
    const struct proto_ints *a = &m->v[PK_ITEMS].a;
    for (uint32_t i = 0; i < a->n; i++) {
        if (!item_ok(st, a->p[i]))
            return -1;
        mask |= (uint32_t)1 << a->p[i];
    }
    return mask;
}

/* ---- lookups ----------------------------------------------------------- */

struct state_participant *state_participant(const struct session_state *st, int pid)
{
    if (pid < 1 || pid > st->n_participants)
        return NULL;
    return &st->participants[pid - 1];
}

struct state_round *state_round(const struct session_state *st, int item, int round)
{
    if (!item_ok(st, item) || round < 1 || round > st->items[item].n_rounds)
        return NULL;
    return (struct state_round *)&st->items[item].rounds[round - 1];
}

struct state_round *state_last_round(const struct session_state *st, int item)
{
    if (!item_ok(st, item) || st->items[item].n_rounds == 0)
        return NULL;
    return state_round(st, item, st->items[item].n_rounds);
}

struct state_score *state_round_score(const struct state_round *r, int pid)
{
    for (int i = 0; r && i < r->n_scores; i++)
        if (r->scores[i].pid == pid)
            return &r->scores[i];
    return NULL;
}

struct state_theme *state_theme(const struct session_state *st, int id)
{
    if (id < 1 || id > st->n_themes)
        return NULL;
    return &st->themes[id - 1];
}

struct state_action *state_action(const struct session_state *st, int64_t id)
{
    if (id < 1 || id > st->n_actions)
        return NULL;
    return &st->actions[id - 1];
}

int state_current_speaker(const struct session_state *st)
{
    const struct state_turns *t = &st->turns;
    if (st->phase != PROTO_PHASE_EXPLAIN || !t->set || t->item != st->item ||
        t->round != st->round || t->current < 0 || t->current >= t->n)
        return 0;
    return t->order[t->current];
}

int state_live_themes(const struct session_state *st)
{
    int n = 0;
    for (int i = 0; i < st->n_themes; i++)
        n += !st->themes[i].deleted && !st->themes[i].merged_into;
    return n;
}

int state_live_actions(const struct session_state *st)
{
    int n = 0;
    for (int i = 0; i < st->n_actions; i++)
        n += !st->actions[i].removed;
    return n;
}

int state_live_participants(const struct session_state *st)
{
    int n = 0;
    for (int i = 0; i < st->n_participants; i++)
        n += !st->participants[i].removed;
    return n;
}

int state_live_keywords(const struct session_state *st)
{
    int n = 0;
    for (int i = 0; i < st->n_keywords; i++)
        n += !st->keywords[i].removed;
    return n;
}

static struct state_vote *find_vote(const struct session_state *st, int pid, int theme)
{
    for (int i = 0; i < st->n_votes; i++)
        if (st->votes[i].pid == pid && st->votes[i].theme == theme)
            return &st->votes[i];
    return NULL;
}

int state_votes_of(const struct session_state *st, int pid, int theme)
{
    const struct state_vote *v = find_vote(st, pid, theme);
    return v ? v->count : 0;
}

int state_votes_used(const struct session_state *st, int pid)
{
    int n = 0;
    for (int i = 0; i < st->n_votes; i++)
        if (st->votes[i].pid == pid)
            n += st->votes[i].count;
    return n;
}

bool state_has_step(const struct session_state *st, enum proto_phase phase)
{
    return (unsigned)phase <= PROTO_PHASE_CLOSED && (st->steps >> phase & 1u);
}

struct state_review *state_review(const struct session_state *st, int64_t action)
{
    for (int i = 0; i < st->n_reviews; i++)
        if (st->reviews[i].action == action)
            return &st->reviews[i];
    return NULL;
}

int state_agenda_entry(const struct session_state *st, enum proto_phase phase, int item)
{
    for (int i = 0; i < st->n_agenda; i++) {
        const struct state_agenda *a = &st->agenda[i];
        if (a->phase == phase && (!a->items || item < 0 || (a->items >> item & 1u)))
            return i;
    }
    return -1;
}

int64_t state_timer_left(const struct session_state *st, int64_t now_ms)
{
    const struct state_timer *t = &st->timer;
    if (t->entry < 0)
        return 0;
    if (!t->running)
        return t->left_ms;
    return t->start_ms + (int64_t)t->duration_s * 1000 - now_ms;
}

/* ---- init / free ------------------------------------------------------- */

/* Every phase: the steps of a session whose session.created names none. */
#define ALL_STEPS ((1u << (PROTO_PHASE_CLOSED + 1)) - 1)

void state_init(struct session_state *st)
{
    memset(st, 0, sizeof(*st));
    st->phase = PROTO_PHASE_LOBBY;
    st->item = -1;
    st->return_phase = -1;
    st->return_item = -1;
    st->return_for = -1;
    st->turns.current = -1;
    st->steps = ALL_STEPS;
    st->timer.entry = -1;
}

static void free_action_texts(struct state_action *a)
{
    free(a->text);
    free(a->owner);
    free(a->role);
    free(a->where);
    free(a->feedback);
    free(a->resources);
}

void state_free(struct session_state *st)
{
    free(st->team);
    free(st->instrument);
    free(st->facilitator);
    for (int i = 0; i < st->n_items; i++) {
        struct state_item *it = &st->items[i];
        free(it->name);
        for (int r = 0; r < it->n_rounds; r++)
            free(it->rounds[r].scores);
        free(it->rounds);
    }
    for (int i = 0; i < st->n_participants; i++) {
        free(st->participants[i].name);
        free(st->participants[i].resume);
    }
    free(st->participants);
    free(st->turns.order);
    free(st->turns.passed);
    for (int i = 0; i < st->n_keywords; i++)
        free(st->keywords[i].text);
    free(st->keywords);
    for (int i = 0; i < st->n_themes; i++)
        free(st->themes[i].text);
    free(st->themes);
    free(st->votes);
    free(st->desired);
    for (int i = 0; i < st->n_actions; i++)
        free_action_texts(&st->actions[i]);
    free(st->actions);
    for (int i = 0; i < st->n_look_ahead; i++)
        free(st->look_ahead[i].text);
    free(st->look_ahead);
    free(st->summary);
    for (int i = 0; i < st->n_reactions; i++)
        free(st->reactions[i].text);
    free(st->reactions);
    for (int i = 0; i < st->n_evaluations; i++)
        free(st->evaluations[i].text);
    free(st->evaluations);
    for (int i = 0; i < st->n_items; i++)
        free(st->items[i].prompt);
    for (int i = 0; i < st->n_agenda; i++)
        free(st->agenda[i].title);
    for (int i = 0; i < st->n_examples; i++)
        free(st->examples[i].text);
    free(st->examples);
    for (int i = 0; i < st->n_reviews; i++) {
        struct state_review *r = &st->reviews[i];
        free(r->text);
        free(r->owner);
        free(r->feedback);
        free(r->note);
    }
    free(st->reviews);
    state_init(st);
}

/* ---- events ------------------------------------------------------------ */

/* The steps of a session.created: a valid flow, or 0. */
static uint32_t created_steps(const struct proto_msg *m)
{
    if (!proto_has(m, PK_STEPS))
        return ALL_STEPS;
    const struct proto_ints *a = &m->v[PK_STEPS].a;
    uint32_t mask = 0;
    int64_t last = -1;
    for (uint32_t i = 0; i < a->n; i++) {
        /* In the one fixed order, each once (docs/instruments.md "Steps"). */
        if (a->p[i] <= last || a->p[i] > PROTO_PHASE_CLOSED)
            return 0;
        last = a->p[i];
        mask |= 1u << a->p[i];
    }
    uint32_t required = 1u << PROTO_PHASE_LOBBY | 1u << PROTO_PHASE_CLOSED;
    return (mask & required) == required ? mask : 0;
}

/* Checks the agenda rows of a session.created against its items and steps. */
static int created_agenda_ok(const struct proto_msg *m, uint32_t steps, uint32_t n_items)
{
    if (!proto_has(m, PK_AGENDA))
        return 0;
    const struct proto_msgs *ag = &m->v[PK_AGENDA].m;
    if (ag->n > STATE_MAX_AGENDA)
        return PROTO_ERR_OUT_OF_RANGE;
    for (uint32_t i = 0; i < ag->n; i++) {
        const struct proto_msg *r = &ag->p[i];
        if (!proto_has(r, PK_PHASE) || !(steps >> r->v[PK_PHASE].i & 1u))
            return PROTO_ERR_OUT_OF_RANGE;
        if (proto_has(r, PK_DURATION) && r->v[PK_DURATION].i < 0)
            return PROTO_ERR_OUT_OF_RANGE;
        for (uint32_t k = 0; proto_has(r, PK_ITEMS) && k < r->v[PK_ITEMS].a.n; k++)
            if (r->v[PK_ITEMS].a.p[k] >= (int64_t)n_items)
                return PROTO_ERR_OUT_OF_RANGE;
    }
    return 0;
}

static int apply_created(struct session_state *st, const struct proto_msg *m)
{
    if (st->seq != 0)
        return PROTO_ERR_CONFLICT;
    const struct proto_msgs *rows = &m->v[PK_ROWS].m;
    if (rows->n > STATE_MAX_ITEMS)
        return PROTO_ERR_OUT_OF_RANGE;
    for (uint32_t i = 0; i < rows->n; i++) {
        const struct proto_msg *r = &rows->p[i];
        if (!proto_has(r, PK_ITEM) || r->v[PK_ITEM].i != (int64_t)i || !proto_has(r, PK_NAME))
            return PROTO_ERR_OUT_OF_RANGE;
        if (proto_has(r, PK_VALUES)) {
            const struct proto_ints *s = &r->v[PK_VALUES].a;
            if (s->n != 2 || s->p[0] < proto_key_min(PK_VALUE) ||
                s->p[1] > proto_key_max(PK_VALUE) || s->p[0] >= s->p[1])
                return PROTO_ERR_OUT_OF_RANGE;
        }
    }
    size_t jl = proto_has(m, PK_JOIN_CODE) ? m->v[PK_JOIN_CODE].s.len : 0;
    size_t kl = proto_has(m, PK_KIOSK_CODE) ? m->v[PK_KIOSK_CODE].s.len : 0;
    if (jl > STATE_CODE_MAX || kl > STATE_CODE_MAX)
        return PROTO_ERR_OUT_OF_RANGE;
    uint32_t steps = created_steps(m);
    if (!steps || created_agenda_ok(m, steps, rows->n) < 0)
        return PROTO_ERR_OUT_OF_RANGE;
    const struct proto_msgs *ag = proto_has(m, PK_AGENDA) ? &m->v[PK_AGENDA].m : NULL;
    uint32_t n_agenda = ag ? ag->n : 0;

    int rc, rc2, rc3;
    char *team = dup_field(m, PK_TEAM, &rc);
    char *inst = dup_field(m, PK_INSTRUMENT, &rc2);
    char *fac = dup_field(m, PK_NAME, &rc3);
    char *names[STATE_MAX_ITEMS] = {0}, *prompts[STATE_MAX_ITEMS] = {0};
    char *titles[STATE_MAX_AGENDA] = {0};
    bool ok = rc == 0 && rc2 == 0 && rc3 == 0;
    for (uint32_t i = 0; ok && i < rows->n; i++) {
        names[i] = dup_field(&rows->p[i], PK_NAME, &rc);
        prompts[i] = dup_field(&rows->p[i], PK_TEXT, &rc2);
        ok = rc == 0 && rc2 == 0;
    }
    for (uint32_t i = 0; ok && i < n_agenda; i++) {
        titles[i] = dup_field(&ag->p[i], PK_NAME, &rc);
        ok = rc == 0;
    }
    if (!ok) {
        free(team);
        free(inst);
        free(fac);
        for (uint32_t i = 0; i < rows->n; i++) {
            free(names[i]);
            free(prompts[i]);
        }
        for (uint32_t i = 0; i < n_agenda; i++)
            free(titles[i]);
        return PROTO_ERR_INTERNAL;
    }

    st->session_id = m->v[PK_SESSION].i;
    st->team = team;
    st->instrument = inst;
    st->facilitator = fac;
    if (jl)
        memcpy(st->join_code, m->v[PK_JOIN_CODE].s.p, jl);
    st->join_code[jl] = '\0';
    if (kl)
        memcpy(st->kiosk_code, m->v[PK_KIOSK_CODE].s.p, kl);
    st->kiosk_code[kl] = '\0';
    st->min_reveal = (int)m->v[PK_MIN_REVEAL].i;
    st->auto_reveal = proto_int(m, PK_AUTO, 0) != 0;
    st->version = (int)proto_int(m, PK_VERSION, 0);
    st->steps = steps;
    st->select = proto_int(m, PK_SELECT, 0) != 0;
    st->selection = false;
    st->n_items = (int)rows->n;
    for (uint32_t i = 0; i < rows->n; i++) {
        struct state_item *it = &st->items[i];
        memset(it, 0, sizeof(*it));
        it->name = names[i];
        it->prompt = prompts[i];
        it->notes = proto_int(&rows->p[i], PK_NOTES, 0) != 0;
        it->selected = !st->select;
        it->previous_mean = -1;
        if (proto_has(&rows->p[i], PK_VALUES)) {
            it->scored = true;
            it->scale_min = (int)rows->p[i].v[PK_VALUES].a.p[0];
            it->scale_max = (int)rows->p[i].v[PK_VALUES].a.p[1];
        }
    }
    st->n_agenda = (int)n_agenda;
    for (uint32_t i = 0; i < n_agenda; i++) {
        const struct proto_msg *r = &ag->p[i];
        struct state_agenda *a = &st->agenda[i];
        a->phase = (enum proto_phase)r->v[PK_PHASE].i;
        a->duration_s = (int)proto_int(r, PK_DURATION, 0);
        a->items = 0;
        for (uint32_t k = 0; proto_has(r, PK_ITEMS) && k < r->v[PK_ITEMS].a.n; k++)
            a->items |= 1u << r->v[PK_ITEMS].a.p[k];
        a->title = titles[i];
    }
    st->timer.entry = -1;
    st->phase = PROTO_PHASE_LOBBY;
    st->item = -1;
    st->round = 0;
    return 0;
}

static int apply_joined(struct session_state *st, const struct proto_msg *m)
{
    int64_t pid = m->v[PK_PID].i;
    if (pid != (int64_t)st->n_participants + 1)
        return PROTO_ERR_CONFLICT;
    int rc;
    if (GROW(st->participants, st->cap_participants, st->n_participants + 1, rc) < 0)
        return rc;
    char *name = dup_field(m, PK_NAME, &rc);
    if (rc < 0)
        return rc;
    char *resume = dup_field(m, PK_RESUME, &rc);
    if (rc < 0) {
        free(name);
        return rc;
    }
    struct state_participant *p = &st->participants[st->n_participants++];
    memset(p, 0, sizeof(*p));
    p->pid = (int)pid;
    p->name = name;
    p->resume = resume;
    p->online = true;
    return 0;
}

static int apply_presence(struct session_state *st, const struct proto_msg *m)
{
    struct state_participant *p = state_participant(st, (int)m->v[PK_PID].i);
    if (!p)
        return PROTO_ERR_NOT_FOUND;
    p->online = m->v[PK_ONLINE].i != 0;
    return 0;
}

static int apply_removed(struct session_state *st, const struct proto_msg *m)
{
    struct state_participant *p = state_participant(st, (int)m->v[PK_PID].i);
    if (!p)
        return PROTO_ERR_NOT_FOUND;
    if (p->removed)
        return PROTO_ERR_CONFLICT;
    p->removed = true;
    p->online = false;
    return 0;
}

/* Appends round number n to item it (n == n_rounds + 1, checked by the caller). */
static int open_round(struct state_item *it)
{
    int rc;
    if (it->n_rounds >= STATE_MAX_ROUNDS)
        return PROTO_ERR_LIMIT;
    if (GROW(it->rounds, it->cap_rounds, it->n_rounds + 1, rc) < 0)
        return rc;
    struct state_round *r = &it->rounds[it->n_rounds];
    memset(r, 0, sizeof(*r));
    r->round = ++it->n_rounds;
    return 0;
}

static int apply_phase(struct session_state *st, const struct proto_msg *m)
{
    enum proto_phase phase = (enum proto_phase)m->v[PK_PHASE].i;
    int item = -1, round = 0;
    if (!state_has_step(st, phase))
        return PROTO_ERR_OUT_OF_RANGE; /* not a step of this session's instrument */
    if (phase == PROTO_PHASE_EXPLAIN && proto_has(m, PK_ITEM) && item_ok(st, m->v[PK_ITEM].i) &&
        !st->items[m->v[PK_ITEM].i].scored) {
        /* A discussion-only item: explained without a score round. */
        if (proto_has(m, PK_ROUND))
            return PROTO_ERR_OUT_OF_RANGE;
        item = (int)m->v[PK_ITEM].i;
    } else if (phase == PROTO_PHASE_SCORE || phase == PROTO_PHASE_EXPLAIN) {
        if (!proto_has(m, PK_ITEM) || !proto_has(m, PK_ROUND))
            return PROTO_ERR_OUT_OF_RANGE;
        item = (int)m->v[PK_ITEM].i;
        round = (int)m->v[PK_ROUND].i;
        if (!scored_item_ok(st, item))
            return PROTO_ERR_OUT_OF_RANGE;
        int have = st->items[item].n_rounds;
        int most = phase == PROTO_PHASE_SCORE ? have + 1 : have;
        if (round > most)
            return PROTO_ERR_OUT_OF_RANGE;
        if (round > have) {
            int rc = open_round(&st->items[item]);
            if (rc < 0)
                return rc;
        }
    }
    st->phase = phase;
    st->item = item;
    st->round = round;
    if (phase == PROTO_PHASE_CLOSED) {
        st->closed = true;
        st->paused = false;
        st->timer.entry = -1; /* the clock stops with the session */
    }
    if (st->return_phase >= 0 && item != st->return_for) {
        st->return_phase = -1;
        st->return_item = -1;
        st->return_for = -1;
    }
    return 0;
}

static int apply_round(struct session_state *st, const struct proto_msg *m)
{
    int item = (int)m->v[PK_ITEM].i;
    if (!scored_item_ok(st, item))
        return PROTO_ERR_OUT_OF_RANGE;
    if (m->v[PK_ROUND].i != st->items[item].n_rounds + 1)
        return PROTO_ERR_CONFLICT;
    int rc = open_round(&st->items[item]);
    if (rc < 0)
        return rc;
    bool here =
        (st->phase == PROTO_PHASE_SCORE || st->phase == PROTO_PHASE_EXPLAIN) && st->item == item;
    if (!here) {
        /* A re-score inside a re-score keeps the first way back. */
        if (st->return_phase < 0) {
            st->return_phase = (int)st->phase;
            st->return_item = st->item;
        }
        st->return_for = item;
    }
    st->phase = PROTO_PHASE_SCORE;
    st->item = item;
    st->round = st->items[item].n_rounds;
    return 0;
}

static int apply_scored(struct session_state *st, const struct proto_msg *m)
{
    int pid = (int)m->v[PK_PID].i;
    if (!state_participant(st, pid))
        return PROTO_ERR_NOT_FOUND;
    struct state_round *r = state_round(st, (int)m->v[PK_ITEM].i, (int)m->v[PK_ROUND].i);
    if (!r || !st->items[m->v[PK_ITEM].i].scored)
        return PROTO_ERR_OUT_OF_RANGE;
    if (r->revealed)
        return PROTO_ERR_CONFLICT;
    int value = (int)proto_int(m, PK_VALUE, 0);
    if (value && !value_ok(&st->items[m->v[PK_ITEM].i], value))
        return PROTO_ERR_OUT_OF_RANGE;
    struct state_score *s = state_round_score(r, pid);
    if (!s) {
        int rc;
        if (GROW(r->scores, r->cap_scores, r->n_scores + 1, rc) < 0)
            return rc;
        s = &r->scores[r->n_scores++];
        s->pid = pid;
        s->revealed = false;
    }
    s->value = value;
    return 0;
}

static int apply_revealed(struct session_state *st, const struct proto_msg *m)
{
    int item = (int)m->v[PK_ITEM].i;
    struct state_round *r = state_round(st, item, (int)m->v[PK_ROUND].i);
    if (!r || !st->items[item].scored)
        return PROTO_ERR_OUT_OF_RANGE;
    if (r->revealed)
        return PROTO_ERR_CONFLICT;
    const struct proto_ints *a = &m->v[PK_VALUES].a;
    if (a->n % 2)
        return PROTO_ERR_OUT_OF_RANGE;
    int missing = 0;
    for (uint32_t i = 0; i < a->n; i += 2) {
        if (a->p[i] > 65535 || !state_participant(st, (int)a->p[i]))
            return PROTO_ERR_NOT_FOUND;
        if (!value_ok(&st->items[item], a->p[i + 1]))
            return PROTO_ERR_OUT_OF_RANGE;
        missing += !state_round_score(r, (int)a->p[i]);
    }
    int rc;
    if (GROW(r->scores, r->cap_scores, r->n_scores + missing, rc) < 0)
        return rc;
    for (uint32_t i = 0; i < a->n; i += 2) {
        struct state_score *s = state_round_score(r, (int)a->p[i]);
        if (!s) {
            s = &r->scores[r->n_scores++];
            s->pid = (int)a->p[i];
        }
        s->value = (int)a->p[i + 1];
        s->revealed = true;
    }
    r->revealed = true;
    return 0;
}

static int apply_turns(struct session_state *st, const struct proto_msg *m)
{
    const struct proto_ints *o = &m->v[PK_ORDER].a;
    int64_t cur = m->v[PK_CURRENT].i;
    for (uint32_t i = 0; i < o->n; i++)
        if (!state_participant(st, (int)o->p[i]))
            return PROTO_ERR_NOT_FOUND;
    if (cur < -1 || cur >= (int64_t)o->n)
        return PROTO_ERR_OUT_OF_RANGE;
    struct state_turns *t = &st->turns;
    int need = (int)o->n, rc;
    if (need > t->cap) {
        int cap = t->cap;
        if (GROW(t->order, cap, need, rc) < 0)
            return rc;
        cap = t->cap;
        if (GROW(t->passed, cap, need, rc) < 0)
            return rc;
        t->cap = cap;
    }
    t->set = true;
    t->mode = (enum proto_mode)m->v[PK_MODE].i;
    t->item = st->item;
    t->round = st->round;
    t->n = need;
    for (int i = 0; i < need; i++) {
        t->order[i] = (int)o->p[i];
        t->passed[i] = false;
    }
    t->current = (int)cur;
    return 0;
}

static int apply_turn(struct session_state *st, const struct proto_msg *m)
{
    struct state_turns *t = &st->turns;
    int64_t cur = m->v[PK_CURRENT].i;
    if (!t->set)
        return PROTO_ERR_CONFLICT;
    if (cur < -1 || cur >= t->n)
        return PROTO_ERR_OUT_OF_RANGE;
    if (proto_int(m, PK_PASS, 0) && t->current >= 0)
        t->passed[t->current] = true;
    t->current = (int)cur;
    return 0;
}

static int apply_keyword(struct session_state *st, const struct proto_msg *m)
{
    if (m->v[PK_KID].i != (int64_t)st->n_keywords + 1)
        return PROTO_ERR_CONFLICT;
    if (!state_participant(st, (int)m->v[PK_PID].i))
        return PROTO_ERR_NOT_FOUND;
    if (!item_ok(st, m->v[PK_ITEM].i))
        return PROTO_ERR_OUT_OF_RANGE;
    int rc;
    if (GROW(st->keywords, st->cap_keywords, st->n_keywords + 1, rc) < 0)
        return rc;
    char *text = dup_field(m, PK_TEXT, &rc);
    if (rc < 0)
        return rc;
    struct state_keyword *k = &st->keywords[st->n_keywords++];
    k->kid = st->n_keywords;
    k->pid = (int)m->v[PK_PID].i;
    k->item = (int)m->v[PK_ITEM].i;
    k->text = text;
    k->removed = false;
    return 0;
}

static int apply_keyword_removed(struct session_state *st, const struct proto_msg *m)
{
    int64_t kid = m->v[PK_KID].i;
    if (kid < 1 || kid > st->n_keywords)
        return PROTO_ERR_NOT_FOUND;
    if (st->keywords[kid - 1].removed)
        return PROTO_ERR_CONFLICT;
    st->keywords[kid - 1].removed = true;
    return 0;
}

static int apply_theme(struct session_state *st, const struct proto_msg *m)
{
    int64_t id = m->v[PK_THEME].i;
    int64_t mask = items_mask(st, m);
    if (mask < 0)
        return PROTO_ERR_OUT_OF_RANGE;
    if (id > (int64_t)st->n_themes + 1)
        return PROTO_ERR_CONFLICT;
    int rc;
    if (id == st->n_themes + 1 && GROW(st->themes, st->cap_themes, st->n_themes + 1, rc) < 0)
        return rc;
    char *text = dup_field(m, PK_TEXT, &rc);
    if (rc < 0)
        return rc;
    struct state_theme *t;
    if (id == st->n_themes + 1) {
        t = &st->themes[st->n_themes++];
        memset(t, 0, sizeof(*t));
        t->id = (int)id;
    } else {
        t = &st->themes[id - 1];
        free(t->text);
    }
    t->text = text;
    t->items = (uint32_t)mask;
    t->pid = (int)proto_int(m, PK_PID, t->pid);
    t->merged_into = 0;
    t->deleted = false;
    return 0;
}

static int apply_theme_edited(struct session_state *st, const struct proto_msg *m)
{
    struct state_theme *t = state_theme(st, (int)m->v[PK_THEME].i);
    if (!t)
        return PROTO_ERR_NOT_FOUND;
    int64_t mask = items_mask(st, m);
    if (mask < 0)
        return PROTO_ERR_OUT_OF_RANGE;
    int rc;
    char *text = dup_field(m, PK_TEXT, &rc);
    if (rc < 0)
        return rc;
    free(t->text);
    t->text = text;
    if (proto_has(m, PK_ITEMS))
        t->items = (uint32_t)mask;
    return 0;
}

static int apply_theme_merged(struct session_state *st, const struct proto_msg *m)
{
    struct state_theme *t = state_theme(st, (int)m->v[PK_THEME].i);
    struct state_theme *into = state_theme(st, (int)m->v[PK_INTO].i);
    if (!t || !into)
        return PROTO_ERR_NOT_FOUND;
    /* Only into a live theme: merges never form chains or cycles. */
    if (t == into || into->merged_into || into->deleted)
        return PROTO_ERR_CONFLICT;
    t->merged_into = into->id;
    return 0;
}

static int apply_theme_deleted(struct session_state *st, const struct proto_msg *m)
{
    struct state_theme *t = state_theme(st, (int)m->v[PK_THEME].i);
    if (!t)
        return PROTO_ERR_NOT_FOUND;
    t->deleted = true;
    return 0;
}

static int apply_vote_opened(struct session_state *st, const struct proto_msg *m)
{
    if (st->vote_open)
        return PROTO_ERR_CONFLICT;
    st->vote_open = true;
    st->vote_budget = (int)m->v[PK_BUDGET].i;
    st->n_votes = 0;
    for (int i = 0; i < st->n_participants; i++)
        st->participants[i].voted = false;
    return 0;
}

static int apply_voted(struct session_state *st, const struct proto_msg *m)
{
    struct state_participant *p = state_participant(st, (int)m->v[PK_PID].i);
    if (!p)
        return PROTO_ERR_NOT_FOUND;
    if (!st->vote_open)
        return PROTO_ERR_CONFLICT;
    if (proto_has(m, PK_THEME) && proto_has(m, PK_DELTA)) {
        int theme = (int)m->v[PK_THEME].i, delta = (int)m->v[PK_DELTA].i;
        if (!state_theme(st, theme))
            return PROTO_ERR_NOT_FOUND;
        struct state_vote *v = find_vote(st, p->pid, theme);
        if ((v ? v->count : 0) + delta < 0)
            return PROTO_ERR_CONFLICT;
        if (!v) {
            int rc;
            if (GROW(st->votes, st->cap_votes, st->n_votes + 1, rc) < 0)
                return rc;
            v = &st->votes[st->n_votes++];
            v->pid = p->pid;
            v->theme = theme;
            v->count = 0;
        }
        v->count += delta;
    }
    p->voted = true;
    return 0;
}

static int apply_vote_closed(struct session_state *st, const struct proto_msg *m)
{
    const struct proto_ints *a = &m->v[PK_VALUES].a;
    if (!st->vote_open)
        return PROTO_ERR_CONFLICT;
    if (a->n % 2)
        return PROTO_ERR_OUT_OF_RANGE;
    for (uint32_t i = 0; i < a->n; i += 2) {
        if (a->p[i] > INT32_MAX || !state_theme(st, (int)a->p[i]))
            return PROTO_ERR_NOT_FOUND;
        if (a->p[i + 1] > STATE_MAX_LIST)
            return PROTO_ERR_OUT_OF_RANGE;
    }
    for (int i = 0; i < st->n_themes; i++)
        st->themes[i].votes = 0;
    for (uint32_t i = 0; i < a->n; i += 2)
        state_theme(st, (int)a->p[i])->votes = (int)a->p[i + 1];
    st->vote_open = false;
    return 0;
}

static int apply_desired_proposed(struct session_state *st, const struct proto_msg *m)
{
    int pid = (int)m->v[PK_PID].i, item = (int)m->v[PK_ITEM].i;
    if (!state_participant(st, pid))
        return PROTO_ERR_NOT_FOUND;
    if (!scored_item_ok(st, item) || !value_ok(&st->items[item], m->v[PK_VALUE].i))
        return PROTO_ERR_OUT_OF_RANGE;
    struct state_desired *d = NULL;
    for (int i = 0; i < st->n_desired; i++)
        if (st->desired[i].pid == pid && st->desired[i].item == item)
            d = &st->desired[i];
    if (!d) {
        int rc;
        if (GROW(st->desired, st->cap_desired, st->n_desired + 1, rc) < 0)
            return rc;
        d = &st->desired[st->n_desired++];
        d->pid = pid;
        d->item = item;
    }
    d->value = (int)m->v[PK_VALUE].i;
    return 0;
}

static int apply_desired_set(struct session_state *st, const struct proto_msg *m)
{
    int item = (int)m->v[PK_ITEM].i;
    if (!scored_item_ok(st, item))
        return PROTO_ERR_OUT_OF_RANGE;
    int value = (int)proto_int(m, PK_VALUE, 0);
    if (value && !value_ok(&st->items[item], value))
        return PROTO_ERR_OUT_OF_RANGE;
    st->items[item].desired = value;
    return 0;
}

/* Replaces the descriptive fields of an action with those of event m. */
static int set_action_fields(struct session_state *st, struct state_action *a,
                             const struct proto_msg *m)
{
    static const enum proto_key keys[6] = {PK_TEXT,  PK_OWNER,    PK_ROLE,
                                           PK_WHERE, PK_FEEDBACK, PK_RESOURCES};
    if (proto_has(m, PK_ITEM) && !item_ok(st, m->v[PK_ITEM].i))
        return PROTO_ERR_OUT_OF_RANGE;
    if (proto_has(m, PK_THEME) && !state_theme(st, (int)m->v[PK_THEME].i))
        return PROTO_ERR_NOT_FOUND;
    char *s[6];
    for (int i = 0; i < 6; i++) {
        int rc;
        s[i] = dup_field(m, keys[i], &rc);
        if (rc < 0) {
            while (i-- > 0)
                free(s[i]);
            return rc;
        }
    }
    free_action_texts(a);
    a->text = s[0];
    a->owner = s[1];
    a->role = s[2];
    a->where = s[3];
    a->feedback = s[4];
    a->resources = s[5];
    a->deadline[0] = '\0';
    if (proto_has(m, PK_DEADLINE) && m->v[PK_DEADLINE].s.len == 10) {
        memcpy(a->deadline, m->v[PK_DEADLINE].s.p, 10);
        a->deadline[10] = '\0';
    }
    a->item = (int)proto_int(m, PK_ITEM, -1);
    a->theme = (int)proto_int(m, PK_THEME, 0);
    return 0;
}

static int apply_action(struct session_state *st, const struct proto_msg *m)
{
    int64_t id = m->v[PK_ACTION].i;
    if (id > (int64_t)st->n_actions + 1)
        return PROTO_ERR_CONFLICT;
    int rc;
    struct state_action *a;
    if (id == st->n_actions + 1) {
        if (GROW(st->actions, st->cap_actions, st->n_actions + 1, rc) < 0)
            return rc;
        a = &st->actions[st->n_actions];
        memset(a, 0, sizeof(*a));
        if ((rc = set_action_fields(st, a, m)) < 0)
            return rc;
        a->id = id;
        st->n_actions++;
    } else {
        a = &st->actions[id - 1];
        if ((rc = set_action_fields(st, a, m)) < 0)
            return rc;
        a->removed = false;
    }
    a->pid = (int)proto_int(m, PK_PID, 0);
    a->confirmed = m->v[PK_CONFIRMED].i != 0;
    return 0;
}

static int apply_action_edited(struct session_state *st, const struct proto_msg *m)
{
    struct state_action *a = state_action(st, m->v[PK_ACTION].i);
    if (!a)
        return PROTO_ERR_NOT_FOUND;
    return set_action_fields(st, a, m);
}

static int apply_action_confirmed(struct session_state *st, const struct proto_msg *m)
{
    struct state_action *a = state_action(st, m->v[PK_ACTION].i);
    if (!a)
        return PROTO_ERR_NOT_FOUND;
    a->confirmed = m->v[PK_CONFIRMED].i != 0;
    return 0;
}

static int apply_action_removed(struct session_state *st, const struct proto_msg *m)
{
    struct state_action *a = state_action(st, m->v[PK_ACTION].i);
    if (!a)
        return PROTO_ERR_NOT_FOUND;
    if (a->removed)
        return PROTO_ERR_CONFLICT;
    a->removed = true;
    return 0;
}

/* Appends a look-ahead item or reaction numbered kid. */
static int add_note(struct state_note **list, int *n, int *cap, const struct proto_msg *m, int pid)
{
    if (m->v[PK_KID].i != (int64_t)*n + 1)
        return PROTO_ERR_CONFLICT;
    int rc;
    struct state_note *l = grow_to(*list, cap, *n + 1, sizeof(**list), &rc);
    *list = l;
    if (rc < 0)
        return rc;
    char *text = dup_field(m, PK_TEXT, &rc);
    if (rc < 0)
        return rc;
    struct state_note *note = &l[(*n)++];
    note->kid = *n;
    note->pid = pid;
    note->text = text;
    note->removed = false;
    return 0;
}

static int apply_evaluation(struct session_state *st, const struct proto_msg *m)
{
    int pid = (int)m->v[PK_PID].i, rc;
    if (!state_participant(st, pid))
        return PROTO_ERR_NOT_FOUND;
    struct state_evaluation *ev = NULL;
    for (int i = 0; i < st->n_evaluations; i++)
        if (st->evaluations[i].pid == pid)
            ev = &st->evaluations[i];
    if (!ev && GROW(st->evaluations, st->cap_evaluations, st->n_evaluations + 1, rc) < 0)
        return rc;
    char *text = dup_field(m, PK_TEXT, &rc);
    if (rc < 0)
        return rc;
    if (!ev) {
        ev = &st->evaluations[st->n_evaluations++];
        ev->pid = pid;
        ev->text = NULL;
    }
    free(ev->text);
    ev->text = text;
    ev->rating = (int)m->v[PK_RATING].i;
    return 0;
}

static int set_text(char **dst, const struct proto_msg *m)
{
    int rc;
    char *text = dup_field(m, PK_TEXT, &rc);
    if (rc < 0)
        return rc;
    free(*dst);
    *dst = text;
    return 0;
}

/* ---- instruments, timers, the review ---------------------------------- */

static int apply_items_selected(struct session_state *st, const struct proto_msg *m)
{
    int64_t mask = items_mask(st, m);
    if (mask < 0 || !st->select)
        return mask < 0 ? PROTO_ERR_OUT_OF_RANGE : PROTO_ERR_CONFLICT;
    for (int i = 0; i < st->n_items; i++)
        st->items[i].selected = (mask >> i) & 1;
    st->selection = mask != 0; /* an empty list takes the choice back */
    return 0;
}

static int apply_example(struct session_state *st, const struct proto_msg *m)
{
    if (m->v[PK_KID].i != (int64_t)st->n_examples + 1)
        return PROTO_ERR_CONFLICT;
    if (!item_ok(st, m->v[PK_ITEM].i))
        return PROTO_ERR_OUT_OF_RANGE;
    int rc;
    if (GROW(st->examples, st->cap_examples, st->n_examples + 1, rc) < 0)
        return rc;
    char *text = dup_field(m, PK_TEXT, &rc);
    if (rc < 0)
        return rc;
    struct state_example *x = &st->examples[st->n_examples++];
    x->kid = st->n_examples;
    x->item = (int)m->v[PK_ITEM].i;
    x->text = text;
    x->removed = false;
    return 0;
}

static int apply_example_removed(struct session_state *st, const struct proto_msg *m)
{
    int64_t kid = m->v[PK_KID].i;
    if (kid < 1 || kid > st->n_examples)
        return PROTO_ERR_NOT_FOUND;
    if (st->examples[kid - 1].removed)
        return PROTO_ERR_CONFLICT;
    st->examples[kid - 1].removed = true;
    return 0;
}

static int apply_timer(struct session_state *st, const struct proto_msg *m)
{
    struct state_timer *t = &st->timer;
    int entry = (int)m->v[PK_ENTRY].i;
    if (entry < 0) {
        t->entry = -1;
        t->duration_s = 0;
        t->running = t->overrun = false;
        t->start_ms = t->left_ms = 0;
        return 0;
    }
    if (entry >= st->n_agenda || !proto_has(m, PK_DURATION))
        return PROTO_ERR_OUT_OF_RANGE;
    bool running = proto_int(m, PK_RUNNING, 1) != 0;
    if (running ? !proto_has(m, PK_START) : !proto_has(m, PK_LEFT))
        return PROTO_ERR_MISSING_FIELD;
    int duration = (int)m->v[PK_DURATION].i;
    /* A new entry, or a new plan, may run over again. */
    if (entry != t->entry || duration != t->duration_s)
        t->overrun = false;
    t->entry = entry;
    t->duration_s = duration;
    t->running = running;
    t->start_ms = running ? m->v[PK_START].i : 0;
    t->left_ms = running ? 0 : m->v[PK_LEFT].i;
    return 0;
}

static int apply_timer_overrun(struct session_state *st, const struct proto_msg *m)
{
    if (st->timer.entry < 0 || m->v[PK_ENTRY].i != st->timer.entry)
        return PROTO_ERR_CONFLICT;
    st->timer.overrun = true;
    return 0;
}

/* Copies a date-like field (10 bytes) into out, or "". */
static void copy_date(char out[11], const struct proto_msg *m, enum proto_key k)
{
    out[0] = '\0';
    if (proto_has(m, k) && m->v[k].s.len == 10) {
        memcpy(out, m->v[k].s.p, 10);
        out[10] = '\0';
    }
}

static int apply_review_action(struct session_state *st, const struct proto_msg *m)
{
    if (state_review(st, m->v[PK_ACTION].i))
        return PROTO_ERR_CONFLICT;
    if (proto_has(m, PK_ITEM) && !item_ok(st, m->v[PK_ITEM].i))
        return PROTO_ERR_OUT_OF_RANGE;
    int rc, rc2, rc3;
    if (GROW(st->reviews, st->cap_reviews, st->n_reviews + 1, rc) < 0)
        return rc;
    char *text = dup_field(m, PK_TEXT, &rc);
    char *owner = dup_field(m, PK_OWNER, &rc2);
    char *feedback = dup_field(m, PK_FEEDBACK, &rc3);
    if (rc < 0 || rc2 < 0 || rc3 < 0) {
        free(text);
        free(owner);
        free(feedback);
        return PROTO_ERR_INTERNAL;
    }
    struct state_review *r = &st->reviews[st->n_reviews++];
    memset(r, 0, sizeof(*r));
    r->action = m->v[PK_ACTION].i;
    r->session = m->v[PK_SESSION].i;
    r->text = text;
    r->owner = owner;
    r->feedback = feedback;
    copy_date(r->deadline, m, PK_DEADLINE);
    copy_date(r->date, m, PK_DATE);
    r->item = (int)proto_int(m, PK_ITEM, -1);
    r->status = (int)m->v[PK_STATUS].i;
    r->overdue = proto_int(m, PK_OVERDUE, 0) != 0;
    r->new_status = -1;
    return 0;
}

static int apply_review_previous(struct session_state *st, const struct proto_msg *m)
{
    const struct proto_msgs *rows = &m->v[PK_ROWS].m;
    for (uint32_t i = 0; i < rows->n; i++) {
        const struct proto_msg *r = &rows->p[i];
        if (!proto_has(r, PK_ITEM) || !item_ok(st, r->v[PK_ITEM].i))
            return PROTO_ERR_OUT_OF_RANGE;
        if (proto_has(r, PK_VALUE) && !value_ok(&st->items[r->v[PK_ITEM].i], r->v[PK_VALUE].i))
            return PROTO_ERR_OUT_OF_RANGE;
    }
    st->previous_session = m->v[PK_SESSION].i;
    copy_date(st->previous_date, m, PK_DATE);
    for (int i = 0; i < st->n_items; i++) {
        st->items[i].previous_mean = -1;
        st->items[i].previous_desired = 0;
    }
    for (uint32_t i = 0; i < rows->n; i++) {
        struct state_item *it = &st->items[rows->p[i].v[PK_ITEM].i];
        it->previous_mean = (int)proto_int(&rows->p[i], PK_MEAN, -1);
        it->previous_desired = (int)proto_int(&rows->p[i], PK_VALUE, 0);
    }
    return 0;
}

static int apply_action_reviewed(struct session_state *st, const struct proto_msg *m)
{
    struct state_review *r = state_review(st, m->v[PK_ACTION].i);
    if (!r)
        return PROTO_ERR_NOT_FOUND;
    int rc;
    char *note = dup_field(m, PK_NOTE, &rc);
    if (rc < 0)
        return rc;
    /* The event restates the whole review: a field left out is not set. */
    free(r->note);
    r->note = note;
    r->reviewed = true;
    r->new_status = (int)proto_int(m, PK_STATUS, -1);
    r->rating = (int)proto_int(m, PK_RATING, 0);
    return 0;
}

static int dispatch(struct session_state *st, const struct proto_msg *m)
{
    switch (m->type) {
    case PT_EV_CREATED:
        return apply_created(st, m);
    case PT_EV_JOINED:
        return apply_joined(st, m);
    case PT_EV_PRESENCE:
        return apply_presence(st, m);
    case PT_EV_REMOVED:
        return apply_removed(st, m);
    case PT_EV_PHASE:
        return apply_phase(st, m);
    case PT_EV_ROUND:
        return apply_round(st, m);
    case PT_EV_SCORED:
        return apply_scored(st, m);
    case PT_EV_REVEALED:
        return apply_revealed(st, m);
    case PT_EV_TURNS:
        return apply_turns(st, m);
    case PT_EV_TURN:
        return apply_turn(st, m);
    case PT_EV_KEYWORD:
        return apply_keyword(st, m);
    case PT_EV_KEYWORD_REMOVED:
        return apply_keyword_removed(st, m);
    case PT_EV_THEME:
        return apply_theme(st, m);
    case PT_EV_THEME_EDITED:
        return apply_theme_edited(st, m);
    case PT_EV_THEME_MERGED:
        return apply_theme_merged(st, m);
    case PT_EV_THEME_DELETED:
        return apply_theme_deleted(st, m);
    case PT_EV_VOTE_OPENED:
        return apply_vote_opened(st, m);
    case PT_EV_VOTED:
        return apply_voted(st, m);
    case PT_EV_VOTE_CLOSED:
        return apply_vote_closed(st, m);
    case PT_EV_DESIRED_PROPOSED:
        return apply_desired_proposed(st, m);
    case PT_EV_DESIRED_SET:
        return apply_desired_set(st, m);
    case PT_EV_ACTION:
        return apply_action(st, m);
    case PT_EV_ACTION_EDITED:
        return apply_action_edited(st, m);
    case PT_EV_ACTION_CONFIRMED:
        return apply_action_confirmed(st, m);
    case PT_EV_ACTION_REMOVED:
        return apply_action_removed(st, m);
    case PT_EV_LOOKAHEAD_DATE:
        st->look_ahead_date[0] = '\0';
        if (proto_has(m, PK_DATE) && m->v[PK_DATE].s.len == 10) {
            memcpy(st->look_ahead_date, m->v[PK_DATE].s.p, 10);
            st->look_ahead_date[10] = '\0';
        }
        return 0;
    case PT_EV_LOOKAHEAD_ADDED:
        return add_note(&st->look_ahead, &st->n_look_ahead, &st->cap_look_ahead, m, 0);
    case PT_EV_LOOKAHEAD_REMOVED: {
        int64_t kid = m->v[PK_KID].i;
        if (kid < 1 || kid > st->n_look_ahead)
            return PROTO_ERR_NOT_FOUND;
        st->look_ahead[kid - 1].removed = true;
        return 0;
    }
    case PT_EV_SUMMARY:
        return set_text(&st->summary, m);
    case PT_EV_REACTION:
        if (!state_participant(st, (int)m->v[PK_PID].i))
            return PROTO_ERR_NOT_FOUND;
        return add_note(&st->reactions, &st->n_reactions, &st->cap_reactions, m,
                        (int)m->v[PK_PID].i);
    case PT_EV_EVALUATION:
        return apply_evaluation(st, m);
    case PT_EV_PAUSED:
        st->paused = m->v[PK_ONLINE].i != 0;
        return 0;
    case PT_EV_CLOSED:
        st->closed = true;
        st->paused = false;
        st->timer.entry = -1; /* the clock stops with the session */
        st->phase = PROTO_PHASE_CLOSED;
        st->item = -1;
        st->round = 0;
        return 0;
    case PT_EV_NOTICE:
        return 0;
    case PT_EV_ITEMS_SELECTED:
        return apply_items_selected(st, m);
    case PT_EV_EXAMPLE:
        return apply_example(st, m);
    case PT_EV_EXAMPLE_REMOVED:
        return apply_example_removed(st, m);
    case PT_EV_TIMER:
        return apply_timer(st, m);
    case PT_EV_TIMER_OVERRUN:
        return apply_timer_overrun(st, m);
    case PT_EV_REVIEW_ACTION:
        return apply_review_action(st, m);
    case PT_EV_REVIEW_PREVIOUS:
        return apply_review_previous(st, m);
    case PT_EV_ACTION_REVIEWED:
        return apply_action_reviewed(st, m);
    default:
        return PROTO_ERR_UNKNOWN_TYPE;
    }
}

int state_apply(struct session_state *st, const struct proto_msg *event)
{
    if (event->type <= PT__NONE || event->type >= PT__COUNT ||
        proto_type_dir(event->type) != PD_EVENT)
        return PROTO_ERR_UNKNOWN_TYPE;
    /* The codec guarantees required fields on decoded events; built ones may lack them. */
    for (int k = 0; k < PK__COUNT; k++)
        if (proto_type_requires(event->type, (enum proto_key)k) &&
            !proto_has(event, (enum proto_key)k))
            return PROTO_ERR_MISSING_FIELD;
    uint64_t seq = (uint64_t)event->v[PK_SEQ].i;
    if (seq != st->seq + 1)
        return PROTO_ERR_CONFLICT;
    if (event->type != PT_EV_CREATED && st->seq == 0)
        return PROTO_ERR_CONFLICT; /* nothing happens before the session exists */
    if (st->closed && event->type != PT_EV_NOTICE)
        return PROTO_ERR_CLOSED;
    int rc = dispatch(st, event);
    if (rc < 0)
        return rc;
    st->seq = seq;
    return 0;
}

/* ---- statistics -------------------------------------------------------- */

/* Square root by Newton's method: the reducer needs no libm for one number. */
static double root(double x)
{
    if (x <= 0)
        return 0;
    double g = x > 1 ? x : 1;
    for (int i = 0; i < 64; i++) {
        double n = 0.5 * (g + x / g);
        if (n >= g)
            break;
        g = n;
    }
    return g;
}

/* The k-th smallest (0-based) value of a distribution. */
static int kth(const int dist[11], int k)
{
    for (int v = 1; v <= 10; v++) {
        if (k < dist[v])
            return v;
        k -= dist[v];
    }
    return 0;
}

int state_round_stats(const struct session_state *st, int item, int round, struct state_stats *out)
{
    const struct state_round *r = state_round(st, item, round);
    memset(out, 0, sizeof(*out));
    if (!r)
        return PROTO_ERR_NOT_FOUND;
    long sum = 0;
    for (int i = 0; i < r->n_scores; i++) {
        const struct state_score *s = &r->scores[i];
        if (s->value < 1 || s->value > 10 || (r->revealed && !s->revealed))
            continue;
        out->distribution[s->value]++;
        if (out->count == 0 || s->value < out->min)
            out->min = s->value;
        if (s->value > out->max)
            out->max = s->value;
        out->count++;
        sum += s->value;
    }
    if (out->count == 0)
        return 0;
    out->mean = (double)sum / out->count;
    out->median =
        (kth(out->distribution, (out->count - 1) / 2) + kth(out->distribution, out->count / 2)) /
        2.0;
    double var = 0;
    for (int v = 1; v <= 10; v++)
        var += out->distribution[v] * (v - out->mean) * (v - out->mean);
    out->spread = root(var / out->count);
    /*
     * Divided: the grades are far apart, so the explanation round should dig
     * into the difference rather than the average. On a 1-10 scale a standard
     * deviation of 2 or more, or a gap of 5 or more between the lowest and the
     * highest grade (one person failing what another rates well), is that.
     */
    out->divided = out->spread >= 2.0 || out->max - out->min >= 5;
    return 0;
}
