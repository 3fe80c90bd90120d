/*
 * engine.c: the live session engine (see engine.h). Validates each request
 * against role, phase and state, turns it into events, and applies every
 * event to the session's struct session_state with the same reducer the
 * clients use (proto/state.c). No sockets, no database, no logging.
 *
 * Choices the issue leaves open, made here:
 *   - `end` emits one event, `closed` (the reducer sets phase closed).
 *   - `next` from summary is refused: only `end` closes a session.
 *   - `next`/`back` walk lobby, (score, explain) per scored item, themes,
 *     desired, actions, look_ahead, summary. Leaving a score step needs the
 *     round revealed; `next`/`back` wait while a vote is open.
 *   - A re-score started elsewhere (say in themes) returns there on the
 *     `next` after its explanation.
 *   - Undo takes back the facilitator's changes in reverse order, one
 *     compensating event each. Changes that cannot be taken back without
 *     losing something (reveal, re-score, remove, vote open/close) end the
 *     undo history; turn moves, pauses and scribe scores are skipped by it.
 *     The history lives in memory only: it is empty after a restart.
 *   - "Present" for a turn order: joined, not removed, and online.
 *   - Scores of removed participants are not revealed and do not count.
 *   - max_keywords bounds keywords, look-ahead items and reactions, each.
 *   - A closed session stays readable (snapshots); engine_tick releases it
 *     once it has been closed for session_idle_close_min and the transport
 *     has cleared its userdata (no member left). 0 minutes disables both the
 *     idle close and the release. A restored session counts its idle time
 *     from the first engine_tick after the restore.
 *   - An event's ts is the now_ms its request came with.
 */
#include "engine.h"
#include "frame.h"
#include "instrument.h"
#include "state.h"
#include "strmap.h"

#include <errno.h>
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#define CODE_LEN 7
/* No look-alikes: no B/8, G/6, I/1, O/0/Q, S/5, Z/2. */
static const char code_alphabet[] = "ACDEFHJKLMNPRTUVWXY34679";
#define CODE_ALPHABET_LEN 24
#define RESUME_BYTES 18 /* 144 bits, 24 base64url characters */
#define UNDO_DEPTH 64
/* Every session's events fit one snapshot a client accepts. */
#define MAX_EVENTS (PROTO_MAX_MSGS / 2)
#define MAX_LOG_BYTES (PROTO_CLIENT_MAX_FRAME - 4 * PROTO_DEFAULT_MAX_FRAME)
/* Room kept for the closing event, whatever the load. */
#define RESERVE_EVENTS 4
/* Actions one session reviews at most (the oldest first). */
#define ENGINE_MAX_REVIEW 100

/*
 * The built-in LWK-meting: its four capabilities, all ten steps, no agenda.
 * Instruments are data (sql/instruments/NAME.lwki, loaded from PostgreSQL by
 * daemon/instruments.c); this table is only the fallback for a lwkd without
 * a database, or whose database has not answered yet (docs/cycle.md). The
 * keys are those of lwk-meting.lwki, so a review can match items.
 */
struct builtin_item {
    const char *key, *name;
    int scale_min, scale_max; /* 0, 0: not scored */
};

static const struct builtin_item lwk_meting_items[] = {
    {"absorptie", "Absorptievermogen", 1, 10},
    {"verbindend", "Verbindend vermogen", 1, 10},
    {"opleidend", "Opleidend vermogen", 1, 10},
    {"lerend", "Lerend vermogen", 1, 10},
};

static const struct {
    const char *key;
    const struct builtin_item *items;
    int n_items;
} builtin_instruments[] = {
    {"lwk-meting", lwk_meting_items, 4},
};

#define DEFAULT_INSTRUMENT "lwk-meting"

/* ---- types ------------------------------------------------------------- */

struct log_entry {
    uint64_t seq;
    enum proto_type type;
    struct engine_frame *full;
    struct engine_frame *pub; /* == full when nothing in it is private */
    int owner_pid;            /* participant who may see full, or 0 */
    bool facilitator_full;    /* the facilitator may see full (session.created) */
};

/* A compensating event, encoded with seq 0 before the change it undoes. */
struct undo_rec {
    uint8_t *body;
    size_t len;
};

struct session {
    struct engine *e;
    int64_t id;
    char join_code[CODE_LEN + 1];
    char kiosk_code[CODE_LEN + 1];
    struct session_state st;
    struct log_entry *log;
    size_t n_log, cap_log, log_bytes;
    struct undo_rec undo[UNDO_DEPTH];
    int n_undo;
    uint64_t active_ms; /* of the last event */
    uint64_t closed_ms;
    /* Restored: stored ts may come from another clock (a reboot), so the
     * idle time counts from the first tick after the restore. */
    bool idle_from_tick;
    bool coded; /* its codes may be in e->codes */
    void *userdata;
};

struct engine {
    struct engine_limits lim;
    struct engine_sink sink;
    struct session **sessions; /* open and closed, until released */
    int n_sessions, cap_sessions;
    /* Indexes (new_code, restore_code, index_applied and session_free keep
     * them in step): the join and kiosk codes of every open session, and the
     * resume token of every participant of every session held, open or
     * closed. Both map to the session. */
    struct strmap codes, resumes;
    uint64_t now_ms; /* latest time seen */
};

/* ---- frames ------------------------------------------------------------ */

struct engine_frame *engine_frame_new(const uint8_t *data, size_t len)
{
    if (len > UINT32_MAX)
        return NULL;
    struct engine_frame *f = malloc(sizeof(*f) + len);
    if (!f)
        return NULL;
    f->refs = 1;
    f->len = (uint32_t)len;
    memcpy(f->data, data, len);
    return f;
}

void engine_frame_ref(struct engine_frame *f)
{
    f->refs++;
}

void engine_frame_unref(struct engine_frame *f)
{
    if (f && --f->refs == 0)
        free(f);
}

/* ---- randomness and codes ---------------------------------------------- */

static int random_bytes(void *buf, size_t n)
{
    uint8_t *p = buf;
    while (n > 0) {
        ssize_t r = getrandom(p, n, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return PROTO_ERR_INTERNAL;
        }
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/* Uniform in [0, n) by rejection, n > 0. */
static int random_below(uint32_t n, uint32_t *out)
{
    uint32_t limit = UINT32_MAX - UINT32_MAX % n, v;
    do {
        if (random_bytes(&v, sizeof(v)) < 0)
            return PROTO_ERR_INTERNAL;
    } while (v >= limit);
    *out = v % n;
    return 0;
}

/* Compares without an early exit, so timing says nothing about a secret. */
static bool secret_equal(const char *a, const char *b, size_t n)
{
    unsigned char d = 0;
    for (size_t i = 0; i < n; i++)
        d |= (unsigned char)(a[i] ^ b[i]);
    return d == 0;
}

static bool code_in_use(const struct engine *e, const char *code)
{
    struct strmap_iter it;
    for (const struct session *s = strmap_first(&e->codes, code, &it); s;
         s = strmap_next(&e->codes, &it))
        if (!s->st.closed && (!strcmp(s->join_code, code) || !strcmp(s->kiosk_code, code)))
            return true;
    return false;
}

/* out may be a session's own code field: it is written only once the code is free. */
static int make_code(const struct engine *e, char out[CODE_LEN + 1])
{
    for (int attempt = 0; attempt < 100; attempt++) {
        uint8_t b[32];
        char code[CODE_LEN + 1];
        int n = 0;
        if (random_bytes(b, sizeof(b)) < 0)
            return PROTO_ERR_INTERNAL;
        /* 240 = 10 * 24: bytes above it would favour the first letters. */
        for (size_t i = 0; i < sizeof(b) && n < CODE_LEN; i++)
            if (b[i] < 240)
                code[n++] = code_alphabet[b[i] % CODE_ALPHABET_LEN];
        code[n] = '\0';
        if (n == CODE_LEN && !code_in_use(e, code)) {
            memcpy(out, code, sizeof(code));
            return 0;
        }
    }
    return PROTO_ERR_INTERNAL;
}

/* A typed code in canonical form: case and spaces or dashes do not matter. */
static bool normalize_code(const char *in, char out[CODE_LEN + 1])
{
    int n = 0;
    if (!in)
        return false;
    for (; *in; in++) {
        char c = *in;
        if (c == ' ' || c == '-')
            continue;
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        if (n == CODE_LEN || !memchr(code_alphabet, c, CODE_ALPHABET_LEN))
            return false;
        out[n++] = c;
    }
    out[n] = '\0';
    return n == CODE_LEN;
}

static bool resume_in_use(const struct engine *e, const char *token)
{
    struct strmap_iter it;
    for (const struct session *s = strmap_first(&e->resumes, token, &it); s;
         s = strmap_next(&e->resumes, &it))
        for (int p = 0; p < s->st.n_participants; p++)
            if (s->st.participants[p].resume && !strcmp(s->st.participants[p].resume, token))
                return true;
    return false;
}

static int make_resume(const struct engine *e, char out[RESUME_BYTES / 3 * 4 + 1])
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (int attempt = 0; attempt < 10; attempt++) {
        uint8_t b[RESUME_BYTES];
        if (random_bytes(b, sizeof(b)) < 0)
            return PROTO_ERR_INTERNAL;
        char *o = out;
        for (int i = 0; i < RESUME_BYTES; i += 3) {
            uint32_t v = (uint32_t)b[i] << 16 | (uint32_t)b[i + 1] << 8 | b[i + 2];
            *o++ = b64[v >> 18 & 63];
            *o++ = b64[v >> 12 & 63];
            *o++ = b64[v >> 6 & 63];
            *o++ = b64[v & 63];
        }
        *o = '\0';
        if (!resume_in_use(e, out))
            return 0;
    }
    return PROTO_ERR_INTERNAL;
}

static int make_session_id(const struct engine *e, int64_t *id)
{
    for (int attempt = 0; attempt < 100; attempt++) {
        uint64_t v;
        if (random_bytes(&v, sizeof(v)) < 0)
            return PROTO_ERR_INTERNAL;
        v &= ((uint64_t)1 << 62) - 1;
        if (v != 0 && !engine_find((struct engine *)e, (int64_t)v)) {
            *id = (int64_t)v;
            return 0;
        }
    }
    return PROTO_ERR_INTERNAL;
}

/* ---- engine ------------------------------------------------------------ */

struct engine *engine_new(const struct engine_limits *limits, struct engine_sink sink)
{
    struct engine *e = calloc(1, sizeof(*e));
    uint64_t seed[2];
    if (!e || random_bytes(seed, sizeof(seed)) < 0) {
        free(e);
        return NULL;
    }
    e->lim = *limits;
    e->sink = sink;
    strmap_init(&e->codes, seed[0]);
    strmap_init(&e->resumes, seed[1]);
    return e;
}

/* Gives s a fresh code in field and indexes it. */
static int new_code(struct session *s, char field[CODE_LEN + 1])
{
    if (strmap_reserve(&s->e->codes, 1) < 0)
        return PROTO_ERR_INTERNAL;
    int rc = make_code(s->e, field);
    if (rc == 0) {
        (void)strmap_add(&s->e->codes, field, s); /* room reserved: cannot fail */
        s->coded = true;
    }
    return rc;
}

/* A restored session's stored code, unless another open session took it. */
static int restore_code(struct session *s, const char *stored, char field[CODE_LEN + 1])
{
    char c[CODE_LEN + 1];
    if (!stored || !normalize_code(stored, c) || code_in_use(s->e, c))
        return new_code(s, field);
    if (strmap_add(&s->e->codes, c, s) < 0)
        return PROTO_ERR_INTERNAL;
    memcpy(field, c, sizeof(c));
    s->coded = true;
    return 0;
}

/* A closed or released session's codes are free for new sessions again. */
static void unindex_codes(struct session *s)
{
    if (!s->coded)
        return;
    strmap_del(&s->e->codes, s->join_code, s);
    strmap_del(&s->e->codes, s->kiosk_code, s);
    s->coded = false;
}

/* Keeps the indexes in step with the event just applied to s. A joined
 * event's room was reserved before it was applied. */
static void index_applied(struct session *s, enum proto_type type)
{
    if (type == PT_EV_JOINED) {
        const char *r = s->st.participants[s->st.n_participants - 1].resume;
        if (r)
            (void)strmap_add(&s->e->resumes, r, s);
    }
    if (s->st.closed)
        unindex_codes(s);
}

static void session_free(struct session *s)
{
    unindex_codes(s);
    for (int p = 0; p < s->st.n_participants; p++)
        if (s->st.participants[p].resume)
            strmap_del(&s->e->resumes, s->st.participants[p].resume, s);
    for (size_t i = 0; i < s->n_log; i++) {
        if (s->log[i].pub != s->log[i].full)
            engine_frame_unref(s->log[i].pub);
        engine_frame_unref(s->log[i].full);
    }
    free(s->log);
    for (int i = 0; i < s->n_undo; i++)
        free(s->undo[i].body);
    state_free(&s->st);
    free(s);
}

void engine_free(struct engine *e)
{
    if (!e)
        return;
    /* Empty indexes first: the sessions then have nothing to take out. */
    strmap_free(&e->codes);
    strmap_free(&e->resumes);
    for (int i = 0; i < e->n_sessions; i++)
        session_free(e->sessions[i]);
    free(e->sessions);
    free(e);
}

void engine_set_limits(struct engine *e, const struct engine_limits *limits)
{
    e->lim = *limits;
}

static void see_time(struct engine *e, uint64_t now_ms)
{
    if (now_ms > e->now_ms)
        e->now_ms = now_ms;
}

struct session *engine_find(struct engine *e, int64_t id)
{
    for (int i = 0; i < e->n_sessions; i++)
        if (e->sessions[i]->id == id)
            return e->sessions[i];
    return NULL;
}

/*
 * The index narrows the search to the open sessions whose code hashes like
 * c; the match itself stays constant-time. The hash is keyed per engine, so
 * a lookup's timing tells a guesser at most how crowded an unknown bucket is.
 */
static struct session *find_by_code(struct engine *e, const char *code, bool kiosk)
{
    char c[CODE_LEN + 1];
    if (!normalize_code(code, c))
        return NULL;
    struct strmap_iter it;
    for (struct session *s = strmap_first(&e->codes, c, &it); s; s = strmap_next(&e->codes, &it))
        if (!s->st.closed && secret_equal(kiosk ? s->kiosk_code : s->join_code, c, CODE_LEN))
            return s;
    return NULL;
}

struct session *engine_find_by_join_code(struct engine *e, const char *code)
{
    return find_by_code(e, code, false);
}

struct session *engine_find_by_kiosk_code(struct engine *e, const char *code)
{
    return find_by_code(e, code, true);
}

int engine_session_count(const struct engine *e)
{
    int n = 0;
    for (int i = 0; i < e->n_sessions; i++)
        n += !e->sessions[i]->st.closed;
    return n;
}

void engine_foreach(struct engine *e, void (*fn)(void *ctx, struct session *s), void *ctx)
{
    for (int i = 0; i < e->n_sessions; i++)
        if (!e->sessions[i]->st.closed)
            fn(ctx, e->sessions[i]);
}

int64_t session_id(const struct session *s)
{
    return s->id;
}
const char *session_join_code(const struct session *s)
{
    return s->join_code;
}
const char *session_kiosk_code(const struct session *s)
{
    return s->kiosk_code;
}
const char *session_team(const struct session *s)
{
    return s->st.team;
}
const char *session_facilitator(const struct session *s)
{
    return s->st.facilitator;
}
uint64_t session_seq(const struct session *s)
{
    return s->st.seq;
}
enum proto_phase session_phase(const struct session *s)
{
    return s->st.phase;
}
bool session_closed(const struct session *s)
{
    return s->st.closed;
}
int session_participant_count(const struct session *s)
{
    return state_live_participants(&s->st);
}
/* Read-only view of the session's state (for tests; engine.h should declare it). */
const struct session_state *session_get_state(const struct session *s);
const struct session_state *session_get_state(const struct session *s)
{
    return &s->st;
}
void *session_userdata(const struct session *s)
{
    return s->userdata;
}
void session_set_userdata(struct session *s, void *p)
{
    s->userdata = p;
}

/* ---- the event log ----------------------------------------------------- */

/*
 * The public form of event full: *pub without what only its owner may see
 * (another participant's score or vote before it is revealed, a resume
 * token, the kiosk code, the facilitator's name). Returns true when pub
 * differs from full.
 */
static bool event_public(const struct proto_msg *full, struct proto_msg *pub, int *owner,
                         bool *facilitator_full)
{
    *pub = *full;
    *owner = 0;
    *facilitator_full = false;
    switch (full->type) {
    case PT_EV_CREATED:
        proto_unset(pub, PK_KIOSK_CODE);
        proto_unset(pub, PK_NAME);
        *facilitator_full = true;
        break;
    case PT_EV_JOINED:
        proto_unset(pub, PK_RESUME);
        *owner = (int)full->v[PK_PID].i;
        break;
    case PT_EV_SCORED:
        proto_unset(pub, PK_VALUE);
        *owner = (int)full->v[PK_PID].i;
        break;
    case PT_EV_VOTED:
        proto_unset(pub, PK_THEME);
        proto_unset(pub, PK_DELTA);
        *owner = (int)full->v[PK_PID].i;
        break;
    default:
        break;
    }
    return memcmp(pub->present, full->present, sizeof(pub->present)) != 0;
}

static bool log_has_room(const struct session *s, int events)
{
    return s->n_log + (size_t)events + RESERVE_EVENTS <= MAX_EVENTS &&
           s->log_bytes + (size_t)(events + RESERVE_EVENTS) * PROTO_DEFAULT_MAX_FRAME <=
               MAX_LOG_BYTES;
}

static int log_reserve(struct session *s)
{
    if (s->n_log < s->cap_log)
        return 0;
    size_t cap = s->cap_log ? s->cap_log * 2 : 64;
    struct log_entry *l = realloc(s->log, cap * sizeof(*l));
    if (!l)
        return PROTO_ERR_INTERNAL;
    s->log = l;
    s->cap_log = cap;
    return 0;
}

/* Encodes m as a new refcounted frame. */
static int frame_of(const struct proto_msg *m, struct engine_frame **out)
{
    uint8_t *buf;
    size_t len;
    int rc = proto_encode_frame(m, &buf, &len);
    if (rc < 0)
        return rc;
    *out = engine_frame_new(buf, len);
    free(buf);
    return *out ? 0 : PROTO_ERR_INTERNAL;
}

/*
 * Sequences event ev (seq and ts are set here), applies it to the state,
 * logs both encodings and hands them to the sink. On failure nothing changed.
 */
static int emit(struct session *s, struct proto_msg *ev)
{
    struct engine *e = s->e;
    if (s->n_log >= MAX_EVENTS)
        return PROTO_ERR_LIMIT;
    proto_set_int(ev, PK_SEQ, (int64_t)s->st.seq + 1);
    if (e->now_ms)
        proto_set_int(ev, PK_TS, (int64_t)e->now_ms);
    struct proto_msg pub;
    int owner;
    bool fac_full;
    bool private = event_public(ev, &pub, &owner, &fac_full);

    struct engine_frame *ff = NULL, *pf = NULL;
    int rc = frame_of(ev, &ff);
    if (rc == 0 && private)
        rc = frame_of(&pub, &pf);
    if (rc == 0)
        rc = log_reserve(s);
    if (rc == 0 && ev->type == PT_EV_JOINED && strmap_reserve(&e->resumes, 1) < 0)
        rc = PROTO_ERR_INTERNAL;
    if (rc == 0 && state_apply(&s->st, ev) < 0)
        rc = PROTO_ERR_INTERNAL; /* the request was validated: a bug here */
    if (rc < 0) {
        engine_frame_unref(ff);
        engine_frame_unref(pf);
        return rc;
    }
    index_applied(s, ev->type);
    if (!pf)
        pf = ff;
    s->log[s->n_log++] = (struct log_entry){s->st.seq, ev->type, ff, pf, owner, fac_full};
    s->log_bytes += ff->len;
    s->active_ms = e->now_ms;
    s->idle_from_tick = false;
    if (ev->type == PT_EV_CLOSED)
        s->closed_ms = e->now_ms;
    if (e->sink.event)
        e->sink.event(e->sink.ctx, s, s->st.seq, ev->type, ff, pf, owner);
    return 0;
}

/* ---- sessions ---------------------------------------------------------- */

static struct session *session_alloc(struct engine *e)
{
    if (e->n_sessions == e->cap_sessions) {
        int cap = e->cap_sessions ? e->cap_sessions * 2 : 16;
        struct session **a = realloc(e->sessions, (size_t)cap * sizeof(*a));
        if (!a)
            return NULL;
        e->sessions = a;
        e->cap_sessions = cap;
    }
    struct session *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->e = e;
    state_init(&s->st);
    e->sessions[e->n_sessions++] = s;
    return s;
}

/* Takes the last-allocated session out again. */
static void session_unalloc(struct engine *e, struct session *s)
{
    for (int i = 0; i < e->n_sessions; i++)
        if (e->sessions[i] == s) {
            e->sessions[i] = e->sessions[--e->n_sessions];
            break;
        }
    session_free(s);
}

/* ---- instruments: what a new session is made of ------------------------ */

/* A string field cut to what its key allows, never inside a UTF-8 character. */
static void set_str_capped(struct proto_msg *m, enum proto_key k, const char *s)
{
    size_t len = strlen(s), max = (size_t)proto_key_max(k);
    if (len > max) {
        len = max;
        while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
            len--;
    }
    if (len >= (size_t)proto_key_min(k))
        proto_set_strn(m, k, s, (uint32_t)len);
}

/* The items and flow of a new session, from an instrument or the built-in table. */
struct session_plan {
    const char *key;
    unsigned version; /* 0: built-in */
    int n_items;
    struct {
        const char *key, *name, *prompt;
        int scale_min, scale_max; /* 0, 0: not scored */
        bool notes;
    } items[STATE_MAX_ITEMS];
    int64_t steps[INSTRUMENT_STEP_COUNT];
    int n_steps;
    bool has_review, select;
    int min_reveal; /* 0: the engine's default */
    int n_agenda;
    struct {
        const char *title;
        int phase, duration_s;
        int64_t items[STATE_MAX_ITEMS];
        int n_items;
    } agenda[STATE_MAX_AGENDA];
};

static void plan_builtin(int inst, struct session_plan *p)
{
    memset(p, 0, sizeof(*p));
    p->key = builtin_instruments[inst].key;
    p->n_items = builtin_instruments[inst].n_items;
    for (int i = 0; i < p->n_items; i++) {
        const struct builtin_item *b = &builtin_instruments[inst].items[i];
        p->items[i].key = b->key;
        p->items[i].name = b->name;
        p->items[i].scale_min = b->scale_min;
        p->items[i].scale_max = b->scale_max;
    }
    for (int s = 0; s < INSTRUMENT_STEP_COUNT; s++)
        p->steps[p->n_steps++] = s;
    p->has_review = true;
}

static int plan_instrument(const struct instrument *in, int minute_s, struct session_plan *p)
{
    memset(p, 0, sizeof(*p));
    if (in->n_items > STATE_MAX_ITEMS || in->n_agenda > STATE_MAX_AGENDA)
        return PROTO_ERR_OUT_OF_RANGE;
    p->key = in->key;
    p->version = in->version;
    p->n_items = (int)in->n_items;
    for (size_t i = 0; i < in->n_items; i++) {
        const struct instrument_item *it = &in->items[i];
        p->items[i].key = it->key;
        p->items[i].name = it->name.nl;
        p->items[i].prompt = it->prompt.nl;
        p->items[i].scale_min = it->scored ? it->scale_min : 0;
        p->items[i].scale_max = it->scored ? it->scale_max : 0;
        p->items[i].notes = it->notes;
    }
    for (size_t s = 0; s < in->n_steps; s++)
        p->steps[p->n_steps++] = in->steps[s];
    p->has_review = instrument_has_step(in, INSTRUMENT_STEP_REVIEW);
    p->select = in->select;
    p->min_reveal = (int)in->min_reveal;
    p->n_agenda = (int)in->n_agenda;
    for (size_t a = 0; a < in->n_agenda; a++) {
        const struct instrument_agenda *ag = &in->agenda[a];
        p->agenda[a].title = ag->title.nl;
        p->agenda[a].phase = (int)ag->step;
        /* Seconds, within what the protocol's duration key holds. */
        int64_t d = (int64_t)ag->minutes * minute_s;
        p->agenda[a].duration_s =
            (int)(d > proto_key_max(PK_DURATION) ? proto_key_max(PK_DURATION) : d);
        p->agenda[a].n_items = (int)ag->n_items;
        for (size_t k = 0; k < ag->n_items; k++)
            p->agenda[a].items[k] = ag->items[k];
    }
    return 0;
}

static int plan_item(const struct session_plan *p, const char *key)
{
    for (int i = 0; key && i < p->n_items; i++)
        if (p->items[i].key && !strcmp(p->items[i].key, key))
            return i;
    return -1;
}

static void timer_follow(struct session *s, bool start_paused);

/*
 * What comes right after session.created: the actions to review and the
 * team's last results (review step), the review phase when there is
 * something to review, and the first step's countdown. Failures here leave
 * a usable session without that part, so they are not errors.
 */
static void session_open_review(struct session *s, const struct session_plan *p,
                                const struct engine_review *rv)
{
    if (rv && rv->previous > 0 && rv->n_items > 0) {
        struct proto_msg rows[STATE_MAX_ITEMS];
        int n = 0;
        for (int i = 0; i < rv->n_items && n < STATE_MAX_ITEMS; i++) {
            int item = plan_item(p, rv->items[i].item_key);
            if (item < 0 || !p->items[item].scale_max)
                continue;
            proto_msg_init(&rows[n], PT__NONE);
            proto_set_int(&rows[n], PK_ITEM, item);
            if (rv->items[i].mean >= 0 && rv->items[i].mean <= proto_key_max(PK_MEAN))
                proto_set_int(&rows[n], PK_MEAN, rv->items[i].mean);
            if (rv->items[i].desired >= p->items[item].scale_min &&
                rv->items[i].desired <= p->items[item].scale_max)
                proto_set_int(&rows[n], PK_VALUE, rv->items[i].desired);
            n++;
        }
        if (n > 0) {
            struct proto_msg ev;
            proto_msg_init(&ev, PT_EV_REVIEW_PREVIOUS);
            proto_set_int(&ev, PK_SESSION, rv->previous);
            if (rv->previous_date && proto_date_ok(rv->previous_date, strlen(rv->previous_date)))
                proto_set_str(&ev, PK_DATE, rv->previous_date);
            proto_set_msgs(&ev, PK_ROWS, rows, (uint32_t)n);
            (void)emit(s, &ev);
        }
    }
    int reviewed = 0;
    for (int i = 0; p->has_review && rv && i < rv->n_actions && reviewed < ENGINE_MAX_REVIEW; i++) {
        const struct engine_review_action *a = &rv->actions[i];
        if (a->action < 1 || a->session < 1 || a->status < 0 || a->status > 3 ||
            state_review(&s->st, a->action))
            continue;
        struct proto_msg ev;
        proto_msg_init(&ev, PT_EV_REVIEW_ACTION);
        proto_set_int(&ev, PK_ACTION, a->action);
        proto_set_int(&ev, PK_SESSION, a->session);
        set_str_capped(&ev, PK_TEXT, a->text && a->text[0] ? a->text : "-");
        if (a->owner)
            set_str_capped(&ev, PK_OWNER, a->owner);
        if (a->feedback)
            set_str_capped(&ev, PK_FEEDBACK, a->feedback);
        if (a->deadline && proto_date_ok(a->deadline, strlen(a->deadline)))
            proto_set_str(&ev, PK_DEADLINE, a->deadline);
        if (a->date && proto_date_ok(a->date, strlen(a->date)))
            proto_set_str(&ev, PK_DATE, a->date);
        int item = plan_item(p, a->item_key);
        if (item >= 0)
            proto_set_int(&ev, PK_ITEM, item);
        proto_set_int(&ev, PK_STATUS, a->status);
        if (a->overdue)
            proto_set_bool(&ev, PK_OVERDUE, true);
        if (emit(s, &ev) == 0)
            reviewed++;
    }
    if (reviewed > 0) {
        struct proto_msg ev;
        proto_msg_init(&ev, PT_EV_PHASE);
        proto_set_int(&ev, PK_PHASE, PROTO_PHASE_REVIEW);
        (void)emit(s, &ev);
    }
    timer_follow(s, true);
}

int engine_session_start(struct engine *e, const struct proto_msg *req, const char *facilitator,
                         const struct engine_setup *setup, uint64_t now_ms, struct session **out)
{
    see_time(e, now_ms);
    *out = NULL;
    if (engine_session_count(e) >= e->lim.max_sessions)
        return PROTO_ERR_LIMIT;
    const char *team = proto_str(req, PK_TEAM);
    if (!team)
        return PROTO_ERR_MISSING_FIELD;
    if ((int64_t)req->v[PK_TEAM].s.len > e->lim.max_text_bytes)
        return PROTO_ERR_OUT_OF_RANGE;
    struct session_plan *plan = malloc(sizeof(*plan));
    if (!plan)
        return PROTO_ERR_INTERNAL;
    int rc = 0;
    if (setup && setup->instrument) {
        rc = plan_instrument(setup->instrument, setup->minute_s > 0 ? setup->minute_s : 60, plan);
    } else {
        const char *key = proto_str(req, PK_INSTRUMENT);
        if (!key)
            key = DEFAULT_INSTRUMENT;
        int inst = -1;
        for (size_t i = 0; i < sizeof(builtin_instruments) / sizeof(builtin_instruments[0]); i++)
            if (!strcmp(builtin_instruments[i].key, key))
                inst = (int)i;
        if (inst < 0)
            rc = PROTO_ERR_NOT_FOUND;
        else
            plan_builtin(inst, plan);
    }
    if (rc < 0) {
        free(plan);
        return rc;
    }
    int64_t min_reveal =
        proto_int(req, PK_MIN_REVEAL, plan->min_reveal > 0 ? plan->min_reveal : e->lim.min_reveal);
    if (min_reveal < proto_key_min(PK_MIN_REVEAL))
        min_reveal = proto_key_min(PK_MIN_REVEAL);
    if (min_reveal > proto_key_max(PK_MIN_REVEAL))
        min_reveal = proto_key_max(PK_MIN_REVEAL);
    if (facilitator && (!facilitator[0] || strlen(facilitator) > (size_t)proto_key_max(PK_NAME))) {
        free(plan);
        return PROTO_ERR_OUT_OF_RANGE;
    }

    struct session *s = session_alloc(e);
    if (!s) {
        free(plan);
        return PROTO_ERR_INTERNAL;
    }
    rc = make_session_id(e, &s->id);
    if (rc == 0)
        rc = new_code(s, s->join_code);
    if (rc == 0) /* the join code is in the index: the kiosk code differs from it */
        rc = new_code(s, s->kiosk_code);
    if (rc < 0) {
        session_unalloc(e, s);
        free(plan);
        return rc;
    }

    struct proto_msg rows[STATE_MAX_ITEMS], agenda[STATE_MAX_AGENDA];
    int64_t scales[STATE_MAX_ITEMS][2];
    for (int i = 0; i < plan->n_items; i++) {
        proto_msg_init(&rows[i], PT__NONE);
        proto_set_int(&rows[i], PK_ITEM, i);
        set_str_capped(&rows[i], PK_NAME, plan->items[i].name);
        if (plan->items[i].key)
            set_str_capped(&rows[i], PK_ITEM_KEY, plan->items[i].key);
        if (plan->items[i].scale_max > 0) {
            scales[i][0] = plan->items[i].scale_min;
            scales[i][1] = plan->items[i].scale_max;
            proto_set_ints(&rows[i], PK_VALUES, scales[i], 2);
        }
        if (plan->items[i].prompt)
            set_str_capped(&rows[i], PK_TEXT, plan->items[i].prompt);
        if (plan->items[i].notes)
            proto_set_bool(&rows[i], PK_NOTES, true);
    }
    for (int a = 0; a < plan->n_agenda; a++) {
        proto_msg_init(&agenda[a], PT__NONE);
        proto_set_int(&agenda[a], PK_PHASE, plan->agenda[a].phase);
        proto_set_int(&agenda[a], PK_DURATION, plan->agenda[a].duration_s);
        if (plan->agenda[a].n_items)
            proto_set_ints(&agenda[a], PK_ITEMS, plan->agenda[a].items,
                           (uint32_t)plan->agenda[a].n_items);
        if (plan->agenda[a].title)
            set_str_capped(&agenda[a], PK_NAME, plan->agenda[a].title);
    }
    struct proto_msg ev;
    proto_msg_init(&ev, PT_EV_CREATED);
    proto_set_int(&ev, PK_SESSION, s->id);
    proto_set_str(&ev, PK_TEAM, team);
    proto_set_str(&ev, PK_INSTRUMENT, plan->key);
    if (plan->version)
        proto_set_int(&ev, PK_VERSION, plan->version);
    proto_set_ints(&ev, PK_STEPS, plan->steps, (uint32_t)plan->n_steps);
    if (plan->select)
        proto_set_bool(&ev, PK_SELECT, true);
    if (plan->n_agenda)
        proto_set_msgs(&ev, PK_AGENDA, agenda, (uint32_t)plan->n_agenda);
    proto_set_int(&ev, PK_MIN_REVEAL, min_reveal);
    proto_set_bool(&ev, PK_AUTO, proto_int(req, PK_AUTO, 0) != 0);
    proto_set_msgs(&ev, PK_ROWS, rows, (uint32_t)plan->n_items);
    proto_set_str(&ev, PK_JOIN_CODE, s->join_code);
    proto_set_str(&ev, PK_KIOSK_CODE, s->kiosk_code);
    if (facilitator)
        proto_set_str(&ev, PK_NAME, facilitator);
    if (proto_has(req, PK_UNIT))
        proto_set_int(&ev, PK_UNIT, req->v[PK_UNIT].i);
    if ((rc = emit(s, &ev)) < 0) {
        session_unalloc(e, s);
        free(plan);
        return rc;
    }
    session_open_review(s, plan, setup ? setup->review : NULL);
    free(plan);
    *out = s;
    return 0;
}

int engine_session_new(struct engine *e, const struct proto_msg *req, const char *facilitator,
                       uint64_t now_ms, struct session **out)
{
    return engine_session_start(e, req, facilitator, NULL, now_ms, out);
}

/* ---- members ----------------------------------------------------------- */

static int text_ok(const struct engine *e, const char *s, size_t len)
{
    if ((int64_t)len > e->lim.max_text_bytes)
        return PROTO_ERR_OUT_OF_RANGE;
    return proto_utf8_ok(s, len) ? 0 : PROTO_ERR_BAD_UTF8;
}

static bool name_taken(const struct session_state *st, const char *name)
{
    for (int i = 0; i < st->n_participants; i++)
        if (!strcasecmp(st->participants[i].name, name))
            return true;
    return false;
}

int engine_join(struct engine *e, struct session *s, const char *name, int *pid,
                const char **resume)
{
    if (s->st.closed)
        return PROTO_ERR_CLOSED;
    size_t len = name ? strlen(name) : 0;
    if (len < 1 || len > (size_t)proto_key_max(PK_NAME))
        return PROTO_ERR_OUT_OF_RANGE;
    int rc = text_ok(e, name, len);
    if (rc < 0)
        return rc;
    if (name_taken(&s->st, name))
        return PROTO_ERR_NAME_TAKEN;
    if (state_live_participants(&s->st) >= e->lim.max_participants ||
        s->st.n_participants >= proto_key_max(PK_PID))
        return PROTO_ERR_LIMIT;
    if (!log_has_room(s, 1))
        return PROTO_ERR_LIMIT;
    char token[RESUME_BYTES / 3 * 4 + 1];
    if ((rc = make_resume(e, token)) < 0)
        return rc;
    struct proto_msg ev;
    proto_msg_init(&ev, PT_EV_JOINED);
    proto_set_int(&ev, PK_PID, s->st.n_participants + 1);
    proto_set_str(&ev, PK_NAME, name);
    proto_set_str(&ev, PK_RESUME, token);
    if ((rc = emit(s, &ev)) < 0)
        return rc;
    *pid = s->st.n_participants;
    *resume = s->st.participants[*pid - 1].resume;
    return 0;
}

int engine_rejoin(struct engine *e, const char *resume, struct session **out, int *pid)
{
    size_t len = resume ? strlen(resume) : 0;
    if (len == 0)
        return PROTO_ERR_BAD_CREDENTIALS;
    /* As with codes: the index picks the sessions, secret_equal the match. */
    struct strmap_iter it;
    for (struct session *s = strmap_first(&e->resumes, resume, &it); s;
         s = strmap_next(&e->resumes, &it)) {
        for (int p = 0; p < s->st.n_participants; p++) {
            const struct state_participant *sp = &s->st.participants[p];
            if (!sp->resume || strlen(sp->resume) != len || !secret_equal(sp->resume, resume, len))
                continue;
            if (s->st.closed)
                return PROTO_ERR_CLOSED;
            if (sp->removed)
                return PROTO_ERR_BAD_CREDENTIALS;
            *out = s;
            *pid = sp->pid;
            return 0;
        }
    }
    return PROTO_ERR_BAD_CREDENTIALS;
}

void engine_presence(struct engine *e, struct session *s, int pid, bool online)
{
    (void)e;
    const struct state_participant *p = state_participant(&s->st, pid);
    if (s->st.closed || !p || p->removed || p->online == online || !log_has_room(s, 1))
        return;
    struct proto_msg ev;
    proto_msg_init(&ev, PT_EV_PRESENCE);
    proto_set_int(&ev, PK_PID, pid);
    proto_set_bool(&ev, PK_ONLINE, online);
    (void)emit(s, &ev);
}

/* ---- requests: context and helpers ------------------------------------- */

struct req_ctx {
    struct engine *e;
    struct session *s;
    struct session_state *st;
    const struct engine_actor *who;
    const struct proto_msg *req;
    struct proto_msg *reply;
    bool facilitator;
    uint8_t *undo_body; /* the compensating event, when this change can be undone */
    size_t undo_len;
};

/* Keeps the compensating event for the change about to be made. */
static int undo_prepare(struct req_ctx *c, struct proto_msg *comp)
{
    if (!c->facilitator)
        return 0;
    proto_set_int(comp, PK_SEQ, 0);
    return proto_encode(comp, &c->undo_body, &c->undo_len);
}

static void undo_push(struct session *s, uint8_t *body, size_t len)
{
    if (s->n_undo == UNDO_DEPTH) {
        free(s->undo[0].body);
        memmove(&s->undo[0], &s->undo[1], (UNDO_DEPTH - 1) * sizeof(s->undo[0]));
        s->n_undo--;
    }
    s->undo[s->n_undo++] = (struct undo_rec){body, len};
}

static void undo_clear(struct session *s)
{
    for (int i = 0; i < s->n_undo; i++)
        free(s->undo[i].body);
    s->n_undo = 0;
}

static void reply_int(struct req_ctx *c, enum proto_key k, int64_t v)
{
    if (c->reply)
        proto_set_int(c->reply, k, v);
}

/* An optional text field of the request: within the limits, or an error. */
static int field_ok(struct req_ctx *c, enum proto_key k)
{
    if (!proto_has(c->req, k))
        return 0;
    return text_ok(c->e, c->req->v[k].s.p, c->req->v[k].s.len);
}

static bool live_theme(const struct state_theme *t)
{
    return t && !t->deleted && !t->merged_into;
}

/* A participant a facilitator names (scribe, remove): known and not removed. */
static const struct state_participant *named_participant(const struct session_state *st,
                                                         int64_t pid)
{
    const struct state_participant *p = state_participant(st, (int)pid);
    return p && !p->removed ? p : NULL;
}

/* Items of a request as a sorted list without repeats; -1 for a bad index. */
static int items_list(const struct req_ctx *c, int64_t out[STATE_MAX_ITEMS], uint32_t *n)
{
    uint32_t mask = 0;
    const struct proto_ints *a = &c->req->v[PK_ITEMS].a;
    for (uint32_t i = 0; i < a->n; i++) {
        if (a->p[i] < 0 || a->p[i] >= c->st->n_items)
            return -1;
        mask |= (uint32_t)1 << a->p[i];
    }
    *n = 0;
    for (int i = 0; i < STATE_MAX_ITEMS; i++)
        if (mask & (uint32_t)1 << i)
            out[(*n)++] = i;
    return 0;
}

static uint32_t mask_to_list(uint32_t mask, int64_t out[STATE_MAX_ITEMS])
{
    uint32_t n = 0;
    for (int i = 0; i < STATE_MAX_ITEMS; i++)
        if (mask & (uint32_t)1 << i)
            out[n++] = i;
    return n;
}

/* ---- steering ---------------------------------------------------------- */

/* Sets the position (phase, item, round) of a phase event. */
static void set_position(const struct session_state *st, struct proto_msg *ev,
                         enum proto_phase phase, int item, int round)
{
    proto_msg_init(ev, PT_EV_PHASE);
    proto_set_int(ev, PK_PHASE, phase);
    if (phase == PROTO_PHASE_EXPLAIN && item >= 0 && item < st->n_items &&
        !st->items[item].scored) {
        proto_set_int(ev, PK_ITEM, item); /* a discussion-only item: no score round */
    } else if (phase == PROTO_PHASE_SCORE || phase == PROTO_PHASE_EXPLAIN) {
        if (round == 0) {
            /* The item's latest round; entering a fresh item opens round 1. */
            const struct state_round *r = state_last_round(st, item);
            round = r ? r->round : 1;
            if (phase == PROTO_PHASE_EXPLAIN && (!r || !r->revealed))
                proto_set_int(ev, PK_PHASE, PROTO_PHASE_SCORE);
        }
        proto_set_int(ev, PK_ITEM, item);
        proto_set_int(ev, PK_ROUND, round);
    }
}

/* The phase event that takes the session back to where it is now. */
static void current_position(const struct session_state *st, struct proto_msg *ev)
{
    set_position(st, ev, st->phase, st->item, st->round);
}

/*
 * The flow of a session: its instrument's steps in order, with score and
 * explain once per item it works on (score for scored items, explain for
 * every item: a discussion-only item gets its explain round too). Review is
 * part of it only when the session has actions to review.
 */
struct position {
    enum proto_phase phase;
    int item; /* -1 outside score/explain */
};

#define FLOW_MAX (PROTO_PHASE_CLOSED + 2 * STATE_MAX_ITEMS)

static int flow_build(const struct session_state *st, struct position out[FLOW_MAX])
{
    int n = 0;
    bool score = state_has_step(st, PROTO_PHASE_SCORE);
    bool explain = state_has_step(st, PROTO_PHASE_EXPLAIN);
    for (int p = PROTO_PHASE_REVIEW; p < PROTO_PHASE_CLOSED; p++) {
        if (!state_has_step(st, (enum proto_phase)p))
            continue;
        if (p == PROTO_PHASE_REVIEW && st->n_reviews == 0)
            continue;
        if (p == PROTO_PHASE_EXPLAIN && score)
            continue; /* walked together with score */
        if (p == PROTO_PHASE_SCORE || p == PROTO_PHASE_EXPLAIN) {
            for (int i = 0; i < st->n_items; i++) {
                if (!st->items[i].selected)
                    continue;
                if (score && st->items[i].scored)
                    out[n++] = (struct position){PROTO_PHASE_SCORE, i};
                if (explain)
                    out[n++] = (struct position){PROTO_PHASE_EXPLAIN, i};
            }
            continue;
        }
        out[n++] = (struct position){(enum proto_phase)p, -1};
    }
    return n;
}

/* Index of the session's position in its flow, or -1 (a position the flow
 * does not hold, such as a re-score of an item elsewhere). */
static int flow_index(const struct session_state *st, const struct position *f, int n)
{
    for (int i = 0; i < n; i++)
        if (f[i].phase == st->phase && (f[i].item < 0 || f[i].item == st->item))
            return i;
    return -1;
}

static void flow_set(const struct session_state *st, struct proto_msg *ev, struct position to,
                     int round)
{
    set_position(st, ev, to.phase, to.item, round);
}

static int move_to(struct req_ctx *c, struct proto_msg *ev)
{
    struct proto_msg comp;
    current_position(c->st, &comp);
    int rc = undo_prepare(c, &comp);
    return rc < 0 ? rc : emit(c->s, ev);
}

static int h_next(struct req_ctx *c)
{
    const struct session_state *st = c->st;
    struct position f[FLOW_MAX];
    struct proto_msg ev;
    if (st->vote_open)
        return PROTO_ERR_CONFLICT;
    int n = flow_build(st, f), at = flow_index(st, f, n);
    if (st->phase == PROTO_PHASE_SCORE) {
        const struct state_round *r = state_round(st, st->item, st->round);
        if (!r || !r->revealed)
            return PROTO_ERR_CONFLICT; /* reveal first */
    }
    if (st->phase == PROTO_PHASE_LOBBY && st->select && !st->selection &&
        (state_has_step(st, PROTO_PHASE_SCORE) || state_has_step(st, PROTO_PHASE_EXPLAIN)))
        return PROTO_ERR_CONFLICT; /* choose the items first (items.select) */
    if (st->phase == PROTO_PHASE_EXPLAIN && st->return_phase >= 0 && st->item == st->return_for) {
        /* A re-score started elsewhere goes back there. */
        set_position(st, &ev, (enum proto_phase)st->return_phase, st->return_item, 0);
        return move_to(c, &ev);
    }
    if (at < 0) {
        /* Off the flow: on to the first position of a later step. */
        for (at = 0; at < n && f[at].phase <= st->phase; at++)
            ;
        at--;
    }
    if (at + 1 >= n)
        return PROTO_ERR_WRONG_PHASE; /* the last step: `end` closes */
    struct position to = f[at + 1];
    bool same_item =
        st->phase == PROTO_PHASE_SCORE && to.phase == PROTO_PHASE_EXPLAIN && to.item == st->item;
    flow_set(st, &ev, to, same_item ? st->round : 0);
    return move_to(c, &ev);
}

static int h_back(struct req_ctx *c)
{
    const struct session_state *st = c->st;
    struct position f[FLOW_MAX];
    struct proto_msg ev;
    if (st->vote_open)
        return PROTO_ERR_CONFLICT;
    int n = flow_build(st, f), at = flow_index(st, f, n);
    if (at < 0) {
        for (at = n - 1; at >= 0 && f[at].phase >= st->phase; at--)
            ;
        at++;
    }
    if (at <= 0)
        return PROTO_ERR_WRONG_PHASE; /* the first step */
    struct position to = f[at - 1];
    bool same_item =
        st->phase == PROTO_PHASE_EXPLAIN && to.phase == PROTO_PHASE_SCORE && to.item == st->item;
    flow_set(st, &ev, to, same_item ? st->round : 0);
    return move_to(c, &ev);
}

/* Scores of the current round that count: not removed, sorted by pid. */
static uint32_t counted_scores(const struct session_state *st, const struct state_round *r,
                               int64_t *values)
{
    uint32_t n = 0;
    for (int pid = 1; pid <= st->n_participants; pid++) {
        const struct state_score *sc = state_round_score(r, pid);
        if (!sc || sc->value == 0 || st->participants[pid - 1].removed)
            continue;
        if (values) {
            values[2 * n] = pid;
            values[2 * n + 1] = sc->value;
        }
        n++;
    }
    return n;
}

static int reveal(struct req_ctx *c)
{
    const struct session_state *st = c->st;
    const struct state_round *r = state_round(st, st->item, st->round);
    if (!r || r->revealed)
        return PROTO_ERR_CONFLICT;
    uint32_t n = counted_scores(st, r, NULL);
    if ((int)n < st->min_reveal)
        return PROTO_ERR_TOO_FEW;
    if (2 * n > PROTO_MAX_ARRAY)
        return PROTO_ERR_LIMIT;
    int64_t *values = malloc((2 * (size_t)n + 1) * sizeof(*values));
    if (!values)
        return PROTO_ERR_INTERNAL;
    counted_scores(st, r, values);
    struct proto_msg ev;
    proto_msg_init(&ev, PT_EV_REVEALED);
    proto_set_int(&ev, PK_ITEM, st->item);
    proto_set_int(&ev, PK_ROUND, st->round);
    proto_set_ints(&ev, PK_VALUES, values, 2 * n);
    int rc = emit(c->s, &ev);
    free(values);
    /* Blind is blind only once: no undo reaches back past a reveal, auto or not. */
    if (rc == 0)
        undo_clear(c->s);
    return rc;
}

static int h_reveal(struct req_ctx *c)
{
    return reveal(c);
}

static int h_rescore(struct req_ctx *c)
{
    const struct session_state *st = c->st;
    int item;
    if (proto_has(c->req, PK_ITEM))
        item = (int)c->req->v[PK_ITEM].i;
    else if (st->phase == PROTO_PHASE_SCORE || st->phase == PROTO_PHASE_EXPLAIN)
        item = st->item;
    else
        return PROTO_ERR_MISSING_FIELD;
    if (item < 0 || item >= st->n_items || !st->items[item].scored)
        return PROTO_ERR_OUT_OF_RANGE;
    if (st->vote_open)
        return PROTO_ERR_CONFLICT;
    const struct state_round *cur = state_round(st, st->item, st->round);
    if (st->phase == PROTO_PHASE_SCORE && cur && !cur->revealed)
        return PROTO_ERR_CONFLICT; /* a blind round is open */
    const struct state_round *last = state_last_round(st, item);
    if (!last || !last->revealed)
        return PROTO_ERR_CONFLICT;
    if (last->round >= proto_key_max(PK_ROUND))
        return PROTO_ERR_LIMIT;
    struct proto_msg ev;
    proto_msg_init(&ev, PT_EV_ROUND);
    proto_set_int(&ev, PK_ITEM, item);
    proto_set_int(&ev, PK_ROUND, last->round + 1);
    return emit(c->s, &ev);
}

/* Present for a turn order: joined, not removed, online. */
static uint32_t present_pids(const struct session_state *st, int64_t *out)
{
    uint32_t n = 0;
    for (int i = 0; i < st->n_participants; i++)
        if (!st->participants[i].removed && st->participants[i].online)
            out[n++] = st->participants[i].pid;
    return n;
}

static int score_of(const struct session_state *st, int64_t pid)
{
    const struct state_score *s = state_round_score(state_round(st, st->item, st->round), (int)pid);
    return s ? s->value : 0;
}

/* Puts the n present pids (in join order) into the order mode asks for. */
static int arrange_turns(struct req_ctx *c, enum proto_mode mode, int64_t *order, uint32_t n)
{
    const struct session_state *st = c->st;
    switch (mode) {
    case PROTO_MODE_JOIN:
        return 0;
    case PROTO_MODE_RANDOM:
        for (uint32_t i = n - 1; i > 0; i--) {
            uint32_t j;
            if (random_below(i + 1, &j) < 0)
                return PROTO_ERR_INTERNAL;
            int64_t t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return 0;
    case PROTO_MODE_LOW:
    case PROTO_MODE_HIGH:
        /* Insertion sort: stable, so equal grades keep join order; no grade goes last. */
        for (uint32_t i = 1; i < n; i++) {
            int64_t p = order[i];
            int v = score_of(st, p);
            uint32_t j = i;
            while (j > 0) {
                int w = score_of(st, order[j - 1]);
                if (!v || (w && (mode == PROTO_MODE_LOW ? v >= w : v <= w)))
                    break;
                order[j] = order[j - 1];
                j--;
            }
            order[j] = p;
        }
        return 0;
    case PROTO_MODE_MANUAL: {
        if (!proto_has(c->req, PK_ORDER))
            return PROTO_ERR_MISSING_FIELD;
        const struct proto_ints *m = &c->req->v[PK_ORDER].a;
        for (uint32_t i = 0; i < m->n; i++)
            if (!state_participant(st, (int)m->p[i]))
                return PROTO_ERR_NOT_FOUND;
        /* A permutation of the present: same count, each present once. */
        if (m->n != n)
            return PROTO_ERR_OUT_OF_RANGE;
        for (uint32_t i = 0; i < n; i++) {
            const struct state_participant *p = state_participant(st, (int)m->p[i]);
            if (p->removed || !p->online)
                return PROTO_ERR_OUT_OF_RANGE;
            for (uint32_t j = 0; j < i; j++)
                if (m->p[j] == m->p[i])
                    return PROTO_ERR_OUT_OF_RANGE;
        }
        memcpy(order, m->p, n * sizeof(*order));
        return 0;
    }
    }
    return PROTO_ERR_OUT_OF_RANGE;
}

static int h_turn_order(struct req_ctx *c)
{
    const struct session_state *st = c->st;
    enum proto_mode mode = (enum proto_mode)c->req->v[PK_MODE].i;
    int64_t *order = malloc(((size_t)st->n_participants + 1) * sizeof(*order));
    if (!order)
        return PROTO_ERR_INTERNAL;
    uint32_t n = present_pids(st, order);
    int rc = n == 0 ? PROTO_ERR_CONFLICT : n > PROTO_MAX_ARRAY ? PROTO_ERR_LIMIT : 0;
    if (rc == 0)
        rc = arrange_turns(c, mode, order, n);
    if (rc == 0) {
        struct proto_msg ev;
        proto_msg_init(&ev, PT_EV_TURNS);
        proto_set_int(&ev, PK_MODE, mode);
        proto_set_ints(&ev, PK_ORDER, order, n);
        proto_set_int(&ev, PK_CURRENT, 0);
        rc = emit(c->s, &ev);
    }
    free(order);
    return rc;
}

/* Index of the next speaker after the current one (skipping removed), or -1. */
static int next_speaker(const struct session_state *st)
{
    const struct state_turns *t = &st->turns;
    for (int i = t->current + 1; i < t->n; i++)
        if (!state_participant(st, t->order[i])->removed)
            return i;
    return -1;
}

static int turn_move(struct req_ctx *c, bool pass)
{
    const struct session_state *st = c->st;
    if (!state_current_speaker(st))
        return PROTO_ERR_CONFLICT; /* no order for this round, or everyone spoke */
    if (!c->facilitator && state_current_speaker(st) != c->who->pid)
        return PROTO_ERR_CONFLICT; /* only the speaker passes their own turn */
    struct proto_msg ev;
    proto_msg_init(&ev, PT_EV_TURN);
    proto_set_int(&ev, PK_CURRENT, next_speaker(st));
    if (pass)
        proto_set_bool(&ev, PK_PASS, true);
    return emit(c->s, &ev);
}

static int h_turn_next(struct req_ctx *c)
{
    return turn_move(c, false);
}

static int h_turn_pass(struct req_ctx *c)
{
    return turn_move(c, true);
}

static int set_paused(struct req_ctx *c, bool paused)
{
    if (c->st->paused == paused)
        return PROTO_ERR_CONFLICT;
    struct proto_msg ev;
    proto_msg_init(&ev, PT_EV_PAUSED);
    proto_set_bool(&ev, PK_ONLINE, paused);
    return emit(c->s, &ev);
}

static int h_pause(struct req_ctx *c)
{
    return set_paused(c, true);
}

static int h_resume(struct req_ctx *c)
{
    return set_paused(c, false);
}

static int h_undo(struct req_ctx *c)
{
    struct session *s = c->s;
    if (s->n_undo == 0)
        return PROTO_ERR_NOTHING_TO_UNDO;
    struct undo_rec *u = &s->undo[s->n_undo - 1];
    struct proto_msg *comp;
    int rc = proto_decode(u->body, u->len, false, &comp, NULL);
    if (rc == 0) {
        rc = emit(s, comp);
        proto_msg_free(comp);
    }
    if (rc == PROTO_ERR_INTERNAL || rc == 0) {
        /* Taken back, or can never be: either way it leaves the history. */
        free(u->body);
        s->n_undo--;
    }
    return rc == PROTO_ERR_INTERNAL ? PROTO_ERR_CONFLICT : rc;
}

static int h_remove(struct req_ctx *c)
{
    const struct state_participant *p = state_participant(c->st, (int)c->req->v[PK_PID].i);
    if (!p)
        return PROTO_ERR_NOT_FOUND;
    if (p->removed)
        return PROTO_ERR_CONFLICT;
    struct proto_msg ev;
    proto_msg_init(&ev, PT_EV_REMOVED);
    proto_set_int(&ev, PK_PID, p->pid);
    return emit(c->s, &ev);
}

static int h_end(struct req_ctx *c)
{
    struct proto_msg ev;
    proto_msg_init(&ev, PT_EV_CLOSED);
    return emit(c->s, &ev);
}

/* ---- scoring and explaining -------------------------------------------- */

/* The participant a score or keyword is for: the actor, or `for` (scribe). */
static int subject_pid(struct req_ctx *c, int *pid)
{
    int64_t f = proto_int(c->req, PK_FOR, 0);
    if (!c->facilitator) {
        if (f && f != c->who->pid)
            return PROTO_ERR_WRONG_ROLE; /* participants act only for themselves */
        *pid = c->who->pid;
        return 0;
    }
    if (!f) {
        *pid = 0;
        return 0;
    }
    if (!named_participant(c->st, f))
        return PROTO_ERR_NOT_FOUND;
    *pid = (int)f;
    return 0;
}

/* Auto-reveal: everyone online has scored and there are enough scores. */
static bool round_complete(const struct session_state *st)
{
    const struct state_round *r = state_round(st, st->item, st->round);
    if (!r || r->revealed || (int)counted_scores(st, r, NULL) < st->min_reveal)
        return false;
    for (int i = 0; i < st->n_participants; i++) {
        const struct state_participant *p = &st->participants[i];
        if (!p->removed && p->online && !state_round_score(r, p->pid))
            return false;
    }
    return true;
}

static int h_score(struct req_ctx *c)
{
    const struct session_state *st = c->st;
    int item = (int)c->req->v[PK_ITEM].i, pid, rc;
    int64_t value = c->req->v[PK_VALUE].i;
    if (item >= st->n_items || !st->items[item].scored)
        return PROTO_ERR_OUT_OF_RANGE;
    if (item != st->item)
        return PROTO_ERR_WRONG_PHASE; /* another item is being scored */
    const struct state_round *r = state_round(st, st->item, st->round);
    if (!r || r->revealed)
        return PROTO_ERR_WRONG_PHASE; /* the blind round is over */
    if ((rc = subject_pid(c, &pid)) < 0)
        return rc;
    if (!pid)
        return PROTO_ERR_WRONG_ROLE; /* a facilitator scores only for someone */
    if (value < st->items[item].scale_min || value > st->items[item].scale_max)
        return PROTO_ERR_OUT_OF_RANGE;
    struct proto_msg ev;
    proto_msg_init(&ev, PT_EV_SCORED);
    proto_set_int(&ev, PK_PID, pid);
    proto_set_int(&ev, PK_ITEM, item);
    proto_set_int(&ev, PK_ROUND, st->round);
    proto_set_int(&ev, PK_VALUE, value);
    if ((rc = emit(c->s, &ev)) < 0)
        return rc;
    if (st->auto_reveal && round_complete(st))
        return reveal(c);
    return 0;
}

static int h_keyword(struct req_ctx *c)
{
    const struct session_state *st = c->st;
    int pid, rc;
    if ((rc = field_ok(c, PK_TEXT)) < 0 || (rc = subject_pid(c, &pid)) < 0)
        return rc;
    int speaker = state_current_speaker(st);
    if (!c->facilitator && pid != speaker)
        return PROTO_ERR_CONFLICT; /* not your turn */
    if (!pid)
        pid = speaker;
    if (!pid)
        return PROTO_ERR_CONFLICT; /* nobody's turn, and no `for` */
    if (state_live_keywords(st) >= c->e->lim.max_keywords)
        return PROTO_ERR_LIMIT;
    struct proto_msg ev, comp;
    int kid = st->n_keywords + 1;
    proto_msg_init(&comp, PT_EV_KEYWORD_REMOVED);
    proto_set_int(&comp, PK_KID, kid);
    if ((rc = undo_prepare(c, &comp)) < 0)
        return rc;
    proto_msg_init(&ev, PT_EV_KEYWORD);
    proto_set_int(&ev, PK_KID, kid);
    proto_set_int(&ev, PK_PID, pid);
    proto_set_int(&ev, PK_ITEM, st->item);
    proto_set_strn(&ev, PK_TEXT, c->req->v[PK_TEXT].s.p, c->req->v[PK_TEXT].s.len);
    return emit(c->s, &ev);
}

/* ---- themes and votes -------------------------------------------------- */

/* A theme.added that restores theme t as it is now (the undo of a delete or merge). */
static void theme_restore(const struct state_theme *t, struct proto_msg *comp,
                          int64_t items[STATE_MAX_ITEMS])
{
    proto_msg_init(comp, PT_EV_THEME);
    proto_set_int(comp, PK_THEME, t->id);
    proto_set_str(comp, PK_TEXT, t->text);
    proto_set_ints(comp, PK_ITEMS, items, mask_to_list(t->items, items));
    if (t->pid)
        proto_set_int(comp, PK_PID, t->pid);
}

static int h_theme_add(struct req_ctx *c)
{
    const struct session_state *st = c->st;
    int64_t items[STATE_MAX_ITEMS];
    uint32_t n = 0;
    int rc;
    if ((rc = field_ok(c, PK_TEXT)) < 0)
        return rc;
    if (proto_has(c->req, PK_ITEMS) && items_list(c, items, &n) < 0)
        return PROTO_ERR_OUT_OF_RANGE;
    if (state_live_themes(st) >= c->e->lim.max_themes || st->n_themes >= proto_key_max(PK_THEME))
        return PROTO_ERR_LIMIT;
    int id = st->n_themes + 1;
    struct proto_msg ev, comp;
    proto_msg_init(&comp, PT_EV_THEME_DELETED);
    proto_set_int(&comp, PK_THEME, id);
    if ((rc = undo_prepare(c, &comp)) < 0)
        return rc;
    proto_msg_init(&ev, PT_EV_THEME);
    proto_set_int(&ev, PK_THEME, id);
    proto_set_strn(&ev, PK_TEXT, c->req->v[PK_TEXT].s.p, c->req->v[PK_TEXT].s.len);
    proto_set_ints(&ev, PK_ITEMS, items, n);
    if (!c->facilitator)
        proto_set_int(&ev, PK_PID, c->who->pid);
    if ((rc = emit(c->s, &ev)) == 0)
        reply_int(c, PK_THEME, id);
    return rc;
}

/* The live theme a request names. */
static int request_theme(struct req_ctx *c, enum proto_key k, const struct state_theme **out)
{
    const struct state_theme *t = state_theme(c->st, (int)proto_int(c->req, k, 0));
    if (!t)
        return PROTO_ERR_NOT_FOUND;
    if (!live_theme(t))
        return PROTO_ERR_CONFLICT; /* deleted or merged */
    *out = t;
    return 0;
}

static int h_theme_edit(struct req_ctx *c)
{
    const struct state_theme *t;
    int64_t items[STATE_MAX_ITEMS], old[STATE_MAX_ITEMS];
    uint32_t n;
    int rc;
    if ((rc = request_theme(c, PK_THEME, &t)) < 0 || (rc = field_ok(c, PK_TEXT)) < 0)
        return rc;
    if (proto_has(c->req, PK_ITEMS)) {
        if (items_list(c, items, &n) < 0)
            return PROTO_ERR_OUT_OF_RANGE;
    } else {
        n = mask_to_list(t->items, items);
    }
    struct proto_msg ev, comp;
    proto_msg_init(&comp, PT_EV_THEME_EDITED);
    proto_set_int(&comp, PK_THEME, t->id);
    proto_set_str(&comp, PK_TEXT, t->text);
    proto_set_ints(&comp, PK_ITEMS, old, mask_to_list(t->items, old));
    if ((rc = undo_prepare(c, &comp)) < 0)
        return rc;
    proto_msg_init(&ev, PT_EV_THEME_EDITED);
    proto_set_int(&ev, PK_THEME, t->id);
    if (proto_has(c->req, PK_TEXT))
        proto_set_strn(&ev, PK_TEXT, c->req->v[PK_TEXT].s.p, c->req->v[PK_TEXT].s.len);
    else
        proto_set_str(&ev, PK_TEXT, t->text);
    proto_set_ints(&ev, PK_ITEMS, items, n);
    return emit(c->s, &ev);
}

static int h_theme_merge(struct req_ctx *c)
{
    const struct state_theme *t, *into;
    int64_t items[STATE_MAX_ITEMS];
    int rc;
    if ((rc = request_theme(c, PK_THEME, &t)) < 0 || (rc = request_theme(c, PK_INTO, &into)) < 0)
        return rc;
    if (t == into || c->st->vote_open)
        return PROTO_ERR_CONFLICT;
    struct proto_msg ev, comp;
    theme_restore(t, &comp, items);
    if ((rc = undo_prepare(c, &comp)) < 0)
        return rc;
    proto_msg_init(&ev, PT_EV_THEME_MERGED);
    proto_set_int(&ev, PK_THEME, t->id);
    proto_set_int(&ev, PK_INTO, into->id);
    return emit(c->s, &ev);
}

static int h_theme_delete(struct req_ctx *c)
{
    const struct state_theme *t;
    int64_t items[STATE_MAX_ITEMS];
    int rc;
    if ((rc = request_theme(c, PK_THEME, &t)) < 0)
        return rc;
    if (c->st->vote_open)
        return PROTO_ERR_CONFLICT;
    struct proto_msg ev, comp;
    theme_restore(t, &comp, items);
    if ((rc = undo_prepare(c, &comp)) < 0)
        return rc;
    proto_msg_init(&ev, PT_EV_THEME_DELETED);
    proto_set_int(&ev, PK_THEME, t->id);
    return emit(c->s, &ev);
}

static int h_vote_open(struct req_ctx *c)
{
    if (c->st->vote_open || state_live_themes(c->st) == 0)
        return PROTO_ERR_CONFLICT;
    struct proto_msg ev;
    proto_msg_init(&ev, PT_EV_VOTE_OPENED);
    proto_set_int(&ev, PK_BUDGET, c->req->v[PK_BUDGET].i);
    return emit(c->s, &ev);
}

static int h_vote(struct req_ctx *c)
{
    const struct session_state *st = c->st;
    const struct state_theme *t;
    int rc;
    if (!st->vote_open)
        return PROTO_ERR_WRONG_PHASE;
    if ((rc = request_theme(c, PK_THEME, &t)) < 0)
        return rc;
    int64_t delta = c->req->v[PK_DELTA].i;
    if (delta == 0)
        return PROTO_ERR_OUT_OF_RANGE;
    if (delta > 0 && state_votes_used(st, c->who->pid) >= st->vote_budget)
        return PROTO_ERR_LIMIT; /* the budget is spent */
    if (delta < 0 && state_votes_of(st, c->who->pid, t->id) == 0)
        return PROTO_ERR_CONFLICT; /* no vote there to take back */
    struct proto_msg ev;
    proto_msg_init(&ev, PT_EV_VOTED);
    proto_set_int(&ev, PK_PID, c->who->pid);
    proto_set_int(&ev, PK_THEME, t->id);
    proto_set_int(&ev, PK_DELTA, delta);
    return emit(c->s, &ev);
}

static int h_vote_close(struct req_ctx *c)
{
    const struct session_state *st = c->st;
    if (!st->vote_open)
        return PROTO_ERR_CONFLICT;
    int64_t *totals = malloc((2 * (size_t)st->n_themes + 1) * sizeof(*totals));
    if (!totals)
        return PROTO_ERR_INTERNAL;
    uint32_t n = 0;
    for (int i = 0; i < st->n_themes && 2 * n < PROTO_MAX_ARRAY; i++) {
        if (!live_theme(&st->themes[i]))
            continue;
        int sum = 0;
        for (int v = 0; v < st->n_votes; v++)
            if (st->votes[v].theme == st->themes[i].id)
                sum += st->votes[v].count;
        totals[2 * n] = st->themes[i].id;
        totals[2 * n + 1] = sum;
        n++;
    }
    struct proto_msg ev;
    proto_msg_init(&ev, PT_EV_VOTE_CLOSED);
    proto_set_ints(&ev, PK_VALUES, totals, 2 * n);
    int rc = emit(c->s, &ev);
    free(totals);
    return rc;
}

/* ---- desired scores ---------------------------------------------------- */

static int desired_item(struct req_ctx *c, int *item)
{
    const struct session_state *st = c->st;
    int i = (int)c->req->v[PK_ITEM].i;
    int64_t v = c->req->v[PK_VALUE].i;
    if (i >= st->n_items || !st->items[i].scored || !st->items[i].selected ||
        v < st->items[i].scale_min || v > st->items[i].scale_max)
        return PROTO_ERR_OUT_OF_RANGE;
    *item = i;
    return 0;
}

static int h_desired_propose(struct req_ctx *c)
{
    int item, rc;
    if ((rc = desired_item(c, &item)) < 0)
        return rc;
    struct proto_msg ev;
    proto_msg_init(&ev, PT_EV_DESIRED_PROPOSED);
    proto_set_int(&ev, PK_PID, c->who->pid);
    proto_set_int(&ev, PK_ITEM, item);
    proto_set_int(&ev, PK_VALUE, c->req->v[PK_VALUE].i);
    return emit(c->s, &ev);
}

static int h_desired_set(struct req_ctx *c)
{
    int item, rc;
    if ((rc = desired_item(c, &item)) < 0)
        return rc;
    struct proto_msg ev, comp;
    proto_msg_init(&comp, PT_EV_DESIRED_SET);
    proto_set_int(&comp, PK_ITEM, item);
    if (c->st->items[item].desired)
        proto_set_int(&comp, PK_VALUE, c->st->items[item].desired);
    if ((rc = undo_prepare(c, &comp)) < 0)
        return rc;
    proto_msg_init(&ev, PT_EV_DESIRED_SET);
    proto_set_int(&ev, PK_ITEM, item);
    proto_set_int(&ev, PK_VALUE, c->req->v[PK_VALUE].i);
    return emit(c->s, &ev);
}

/* ---- actions ----------------------------------------------------------- */

static const enum proto_key action_texts[] = {PK_TEXT,     PK_OWNER,    PK_ROLE,     PK_WHERE,
                                              PK_DEADLINE, PK_FEEDBACK, PK_RESOURCES};

/* Checks the descriptive fields of an action request. */
static int action_fields_ok(struct req_ctx *c)
{
    int rc;
    for (size_t i = 0; i < sizeof(action_texts) / sizeof(action_texts[0]); i++)
        if ((rc = field_ok(c, action_texts[i])) < 0)
            return rc;
    if (proto_has(c->req, PK_DEADLINE) &&
        !proto_date_ok(c->req->v[PK_DEADLINE].s.p, c->req->v[PK_DEADLINE].s.len))
        return PROTO_ERR_OUT_OF_RANGE;
    if (proto_has(c->req, PK_ITEM) && c->req->v[PK_ITEM].i >= c->st->n_items)
        return PROTO_ERR_OUT_OF_RANGE;
    if (proto_has(c->req, PK_THEME)) {
        const struct state_theme *t;
        return request_theme(c, PK_THEME, &t);
    }
    return 0;
}

/* The fields of action a, as they are now, into an action event. */
static void action_as_event(const struct state_action *a, struct proto_msg *ev)
{
    proto_set_int(ev, PK_ACTION, a->id);
    proto_set_str(ev, PK_TEXT, a->text);
    if (a->owner)
        proto_set_str(ev, PK_OWNER, a->owner);
    if (a->role)
        proto_set_str(ev, PK_ROLE, a->role);
    if (a->where)
        proto_set_str(ev, PK_WHERE, a->where);
    if (a->deadline[0])
        proto_set_str(ev, PK_DEADLINE, a->deadline);
    if (a->feedback)
        proto_set_str(ev, PK_FEEDBACK, a->feedback);
    if (a->resources)
        proto_set_str(ev, PK_RESOURCES, a->resources);
    if (a->item >= 0)
        proto_set_int(ev, PK_ITEM, a->item);
    if (a->theme > 0)
        proto_set_int(ev, PK_THEME, a->theme);
}

/* Copies the fields the request carries over those already in ev. */
static void action_from_request(const struct proto_msg *req, struct proto_msg *ev)
{
    for (size_t i = 0; i < sizeof(action_texts) / sizeof(action_texts[0]); i++)
        if (proto_has(req, action_texts[i]))
            proto_set_strn(ev, action_texts[i], req->v[action_texts[i]].s.p,
                           req->v[action_texts[i]].s.len);
    if (proto_has(req, PK_ITEM))
        proto_set_int(ev, PK_ITEM, req->v[PK_ITEM].i);
    if (proto_has(req, PK_THEME))
        proto_set_int(ev, PK_THEME, req->v[PK_THEME].i);
}

static int h_action_propose(struct req_ctx *c)
{
    const struct session_state *st = c->st;
    int rc;
    if ((rc = action_fields_ok(c)) < 0)
        return rc;
    if (state_live_actions(st) >= c->e->lim.max_actions)
        return PROTO_ERR_LIMIT;
    int64_t id = st->n_actions + 1;
    struct proto_msg ev, comp;
    proto_msg_init(&comp, PT_EV_ACTION_REMOVED);
    proto_set_int(&comp, PK_ACTION, id);
    if ((rc = undo_prepare(c, &comp)) < 0)
        return rc;
    proto_msg_init(&ev, PT_EV_ACTION);
    proto_set_int(&ev, PK_ACTION, id);
    action_from_request(c->req, &ev);
    if (!c->facilitator)
        proto_set_int(&ev, PK_PID, c->who->pid);
    /* The facilitator's own proposals stand as agreed. */
    proto_set_bool(&ev, PK_CONFIRMED, c->facilitator);
    if ((rc = emit(c->s, &ev)) == 0)
        reply_int(c, PK_ACTION, id);
    return rc;
}

static int request_action(struct req_ctx *c, const struct state_action **out)
{
    const struct state_action *a = state_action(c->st, c->req->v[PK_ACTION].i);
    if (!a)
        return PROTO_ERR_NOT_FOUND;
    if (a->removed)
        return PROTO_ERR_CONFLICT;
    *out = a;
    return 0;
}

static int h_action_edit(struct req_ctx *c)
{
    const struct state_action *a;
    int rc;
    if ((rc = request_action(c, &a)) < 0 || (rc = action_fields_ok(c)) < 0)
        return rc;
    struct proto_msg ev, comp;
    proto_msg_init(&comp, PT_EV_ACTION_EDITED);
    action_as_event(a, &comp);
    if ((rc = undo_prepare(c, &comp)) < 0)
        return rc;
    proto_msg_init(&ev, PT_EV_ACTION_EDITED);
    action_as_event(a, &ev);
    action_from_request(c->req, &ev);
    return emit(c->s, &ev);
}

static int h_action_confirm(struct req_ctx *c)
{
    const struct state_action *a;
    int rc;
    if ((rc = request_action(c, &a)) < 0)
        return rc;
    if (a->confirmed)
        return PROTO_ERR_CONFLICT;
    struct proto_msg ev, comp;
    proto_msg_init(&comp, PT_EV_ACTION_CONFIRMED);
    proto_set_int(&comp, PK_ACTION, a->id);
    proto_set_bool(&comp, PK_CONFIRMED, false);
    if ((rc = undo_prepare(c, &comp)) < 0)
        return rc;
    proto_msg_init(&ev, PT_EV_ACTION_CONFIRMED);
    proto_set_int(&ev, PK_ACTION, a->id);
    proto_set_bool(&ev, PK_CONFIRMED, true);
    return emit(c->s, &ev);
}

static int h_action_remove(struct req_ctx *c)
{
    const struct state_action *a;
    int rc;
    if ((rc = request_action(c, &a)) < 0)
        return rc;
    struct proto_msg ev, comp;
    proto_msg_init(&comp, PT_EV_ACTION);
    action_as_event(a, &comp);
    if (a->pid)
        proto_set_int(&comp, PK_PID, a->pid);
    proto_set_bool(&comp, PK_CONFIRMED, a->confirmed);
    if ((rc = undo_prepare(c, &comp)) < 0)
        return rc;
    proto_msg_init(&ev, PT_EV_ACTION_REMOVED);
    proto_set_int(&ev, PK_ACTION, a->id);
    return emit(c->s, &ev);
}

/* ---- look ahead, summary, look back ------------------------------------ */

static int h_lookahead_date(struct req_ctx *c)
{
    int rc;
    struct proto_msg ev, comp;
    proto_msg_init(&comp, PT_EV_LOOKAHEAD_DATE);
    if (c->st->look_ahead_date[0])
        proto_set_str(&comp, PK_DATE, c->st->look_ahead_date);
    if ((rc = undo_prepare(c, &comp)) < 0)
        return rc;
    proto_msg_init(&ev, PT_EV_LOOKAHEAD_DATE);
    proto_set_strn(&ev, PK_DATE, c->req->v[PK_DATE].s.p, c->req->v[PK_DATE].s.len);
    return emit(c->s, &ev);
}

static int h_lookahead_add(struct req_ctx *c)
{
    int rc;
    if ((rc = field_ok(c, PK_TEXT)) < 0)
        return rc;
    if (c->st->n_look_ahead >= c->e->lim.max_keywords)
        return PROTO_ERR_LIMIT;
    int kid = c->st->n_look_ahead + 1;
    struct proto_msg ev, comp;
    proto_msg_init(&comp, PT_EV_LOOKAHEAD_REMOVED);
    proto_set_int(&comp, PK_KID, kid);
    if ((rc = undo_prepare(c, &comp)) < 0)
        return rc;
    proto_msg_init(&ev, PT_EV_LOOKAHEAD_ADDED);
    proto_set_int(&ev, PK_KID, kid);
    proto_set_strn(&ev, PK_TEXT, c->req->v[PK_TEXT].s.p, c->req->v[PK_TEXT].s.len);
    return emit(c->s, &ev);
}

static int h_summary(struct req_ctx *c)
{
    int rc;
    if ((rc = field_ok(c, PK_TEXT)) < 0)
        return rc;
    struct proto_msg ev, comp;
    proto_msg_init(&comp, PT_EV_SUMMARY);
    if (c->st->summary)
        proto_set_str(&comp, PK_TEXT, c->st->summary);
    if ((rc = undo_prepare(c, &comp)) < 0)
        return rc;
    proto_msg_init(&ev, PT_EV_SUMMARY);
    proto_set_strn(&ev, PK_TEXT, c->req->v[PK_TEXT].s.p, c->req->v[PK_TEXT].s.len);
    return emit(c->s, &ev);
}

static int h_reaction(struct req_ctx *c)
{
    int rc;
    if ((rc = field_ok(c, PK_TEXT)) < 0)
        return rc;
    if (c->st->n_reactions >= c->e->lim.max_keywords)
        return PROTO_ERR_LIMIT;
    struct proto_msg ev;
    proto_msg_init(&ev, PT_EV_REACTION);
    proto_set_int(&ev, PK_KID, c->st->n_reactions + 1);
    proto_set_int(&ev, PK_PID, c->who->pid);
    proto_set_strn(&ev, PK_TEXT, c->req->v[PK_TEXT].s.p, c->req->v[PK_TEXT].s.len);
    return emit(c->s, &ev);
}

static int h_evaluation(struct req_ctx *c)
{
    int rc;
    if ((rc = field_ok(c, PK_TEXT)) < 0)
        return rc;
    struct proto_msg ev;
    proto_msg_init(&ev, PT_EV_EVALUATION);
    proto_set_int(&ev, PK_PID, c->who->pid);
    proto_set_int(&ev, PK_RATING, c->req->v[PK_RATING].i);
    if (proto_has(c->req, PK_TEXT))
        proto_set_strn(&ev, PK_TEXT, c->req->v[PK_TEXT].s.p, c->req->v[PK_TEXT].s.len);
    return emit(c->s, &ev);
}

/* ---- instruments: item selection and practice examples ---------------- */

static int h_items_select(struct req_ctx *c)
{
    const struct session_state *st = c->st;
    int64_t items[STATE_MAX_ITEMS], old[STATE_MAX_ITEMS];
    uint32_t n, n_old = 0;
    int rc;
    if (!st->select)
        return PROTO_ERR_CONFLICT; /* this instrument works on all its items */
    if (items_list(c, items, &n) < 0)
        return PROTO_ERR_OUT_OF_RANGE;
    if (n == 0)
        return PROTO_ERR_OUT_OF_RANGE; /* at least one item */
    for (int i = 0; st->selection && i < st->n_items; i++)
        if (st->items[i].selected)
            old[n_old++] = i;
    struct proto_msg ev, comp;
    proto_msg_init(&comp, PT_EV_ITEMS_SELECTED);
    proto_set_ints(&comp, PK_ITEMS, old, n_old);
    if ((rc = undo_prepare(c, &comp)) < 0)
        return rc;
    proto_msg_init(&ev, PT_EV_ITEMS_SELECTED);
    proto_set_ints(&ev, PK_ITEMS, items, n);
    return emit(c->s, &ev);
}

static int h_example_add(struct req_ctx *c)
{
    const struct session_state *st = c->st;
    int item = (int)c->req->v[PK_ITEM].i, rc;
    if ((rc = field_ok(c, PK_TEXT)) < 0)
        return rc;
    if (item >= st->n_items || !st->items[item].selected || !st->items[item].notes)
        return PROTO_ERR_OUT_OF_RANGE; /* only items that take examples */
    if (st->n_examples >= c->e->lim.max_keywords)
        return PROTO_ERR_LIMIT;
    int kid = st->n_examples + 1;
    struct proto_msg ev, comp;
    proto_msg_init(&comp, PT_EV_EXAMPLE_REMOVED);
    proto_set_int(&comp, PK_KID, kid);
    if ((rc = undo_prepare(c, &comp)) < 0)
        return rc;
    proto_msg_init(&ev, PT_EV_EXAMPLE);
    proto_set_int(&ev, PK_KID, kid);
    proto_set_int(&ev, PK_ITEM, item);
    proto_set_strn(&ev, PK_TEXT, c->req->v[PK_TEXT].s.p, c->req->v[PK_TEXT].s.len);
    return emit(c->s, &ev);
}

/* ---- timers ------------------------------------------------------------ */

/*
 * lwkd keeps the clock. Every timed agenda entry counts down from the moment
 * its step starts (the first step's from timer.resume: the session is made
 * before the group is there); moving within one entry (from scenario to
 * scenario) keeps its countdown going, entering another entry starts that
 * one afresh. A timer event carries what a client needs to count down on
 * its own: the wall-clock start and the planned duration.
 */
static void timer_event(struct proto_msg *ev, int entry, int duration_s, bool running,
                        int64_t start_ms, int64_t left_ms)
{
    proto_msg_init(ev, PT_EV_TIMER);
    proto_set_int(ev, PK_ENTRY, entry);
    if (entry < 0)
        return;
    proto_set_int(ev, PK_DURATION, duration_s);
    proto_set_bool(ev, PK_RUNNING, running);
    if (running)
        proto_set_int(ev, PK_START, start_ms < 0 ? 0 : start_ms);
    else
        proto_set_int(ev, PK_LEFT, left_ms);
}

/* The countdown for where the session is now; emits timer when it changes. */
static void timer_follow(struct session *s, bool start_paused)
{
    const struct session_state *st = &s->st;
    if (st->closed)
        return;
    int entry = state_agenda_entry(st, st->phase, st->item);
    if (entry >= 0 && st->agenda[entry].duration_s <= 0)
        entry = -1; /* an untimed entry */
    if (entry == st->timer.entry)
        return;
    struct proto_msg ev;
    int d = entry >= 0 ? st->agenda[entry].duration_s : 0;
    timer_event(&ev, entry, d, !start_paused, (int64_t)s->e->now_ms, (int64_t)d * 1000);
    (void)emit(s, &ev);
}

static int h_timer_pause(struct req_ctx *c)
{
    const struct state_timer *t = &c->st->timer;
    if (t->entry < 0 || !t->running)
        return PROTO_ERR_CONFLICT;
    struct proto_msg ev;
    timer_event(&ev, t->entry, t->duration_s, false, 0,
                state_timer_left(c->st, (int64_t)c->e->now_ms));
    return emit(c->s, &ev);
}

static int h_timer_resume(struct req_ctx *c)
{
    const struct state_timer *t = &c->st->timer;
    if (t->entry < 0 || t->running)
        return PROTO_ERR_CONFLICT;
    /* Counting on from where it stopped: as if it had started that much earlier. */
    int64_t start = (int64_t)c->e->now_ms - ((int64_t)t->duration_s * 1000 - t->left_ms);
    struct proto_msg ev;
    timer_event(&ev, t->entry, t->duration_s, true, start, 0);
    return emit(c->s, &ev);
}

static int h_timer_extend(struct req_ctx *c)
{
    const struct state_timer *t = &c->st->timer;
    int64_t more = c->req->v[PK_DURATION].i;
    if (t->entry < 0)
        return PROTO_ERR_CONFLICT;
    if (more < 1 || t->duration_s + more > proto_key_max(PK_DURATION))
        return PROTO_ERR_OUT_OF_RANGE;
    struct proto_msg ev;
    timer_event(&ev, t->entry, (int)(t->duration_s + more), t->running, t->start_ms,
                t->left_ms + more * 1000);
    return emit(c->s, &ev);
}

/* timer.overrun once a running countdown's planned time has passed. */
static void timer_check(struct session *s, uint64_t now_ms)
{
    const struct state_timer *t = &s->st.timer;
    if (s->st.closed || t->entry < 0 || !t->running || t->overrun ||
        (int64_t)now_ms < t->start_ms + (int64_t)t->duration_s * 1000 || !log_has_room(s, 1))
        return;
    struct proto_msg ev;
    proto_msg_init(&ev, PT_EV_TIMER_OVERRUN);
    proto_set_int(&ev, PK_ENTRY, t->entry);
    proto_set_int(&ev, PK_DURATION, t->duration_s);
    /* The clock is no sign of life: the idle time keeps counting. */
    uint64_t active = s->active_ms;
    bool from_tick = s->idle_from_tick;
    if (emit(s, &ev) == 0) {
        s->active_ms = active;
        s->idle_from_tick = from_tick;
    }
}

/* ---- the review of earlier actions ------------------------------------- */

static int h_review_set(struct req_ctx *c)
{
    const struct state_review *r = state_review(c->st, c->req->v[PK_ACTION].i);
    int rc;
    if (!r)
        return PROTO_ERR_NOT_FOUND;
    if (!proto_has(c->req, PK_STATUS) && !proto_has(c->req, PK_RATING) &&
        !proto_has(c->req, PK_NOTE))
        return PROTO_ERR_MISSING_FIELD; /* a status, a rating or a note */
    if ((rc = field_ok(c, PK_NOTE)) < 0)
        return rc;
    /* The event restates the whole review: what the request leaves out stays. */
    struct proto_msg ev;
    proto_msg_init(&ev, PT_EV_ACTION_REVIEWED);
    proto_set_int(&ev, PK_ACTION, r->action);
    int64_t status = proto_int(c->req, PK_STATUS, r->new_status);
    if (status >= 0)
        proto_set_int(&ev, PK_STATUS, status);
    int64_t rating = proto_int(c->req, PK_RATING, r->rating);
    if (rating > 0)
        proto_set_int(&ev, PK_RATING, rating);
    if (proto_has(c->req, PK_NOTE)) {
        if (c->req->v[PK_NOTE].s.len > 0)
            proto_set_strn(&ev, PK_NOTE, c->req->v[PK_NOTE].s.p, c->req->v[PK_NOTE].s.len);
    } else if (r->note) {
        proto_set_str(&ev, PK_NOTE, r->note);
    }
    return emit(c->s, &ev);
}

/* ---- the request table ------------------------------------------------- */

#define ROLE_F 1u /* the session's facilitator */
#define ROLE_P 2u /* a participant, for themselves */
#define PH(p) (1u << PROTO_PHASE_##p)
#define PH_OPEN                                                                                    \
    (PH(REVIEW) | PH(LOBBY) | PH(SCORE) | PH(EXPLAIN) | PH(THEMES) | PH(DESIRED) | PH(ACTIONS) |   \
     PH(LOOK_AHEAD) | PH(SUMMARY))
#define PH_AFTER_LOBBY (PH_OPEN & ~(PH(REVIEW) | PH(LOBBY)))
#define PH_REVIEWING (PH(ACTIONS) | PH(LOOK_AHEAD) | PH(SUMMARY))
#define PH_THEMES (PH(THEMES) | PH(DESIRED) | PH(ACTIONS))

/* What an accepted facilitator request does to the undo history. */
enum undo_class {
    UNDO_KEEP,  /* pushes its compensating event */
    UNDO_SKIP,  /* not undoable, but leaves the history alone */
    UNDO_CLEAR, /* cannot be taken back: the history ends here */
};

struct request_rule {
    enum proto_type type;
    unsigned roles;
    unsigned phases;
    enum undo_class undo;
    int (*handler)(struct req_ctx *c);
};

static const struct request_rule request_rules[] = {
    {PT_NEXT, ROLE_F, PH_OPEN, UNDO_KEEP, h_next},
    {PT_BACK, ROLE_F, PH_AFTER_LOBBY | PH(LOBBY), UNDO_KEEP, h_back},
    {PT_REVEAL, ROLE_F, PH(SCORE), UNDO_CLEAR, h_reveal},
    {PT_RESCORE, ROLE_F, PH_AFTER_LOBBY, UNDO_CLEAR, h_rescore},
    {PT_TURN_ORDER, ROLE_F, PH(EXPLAIN), UNDO_SKIP, h_turn_order},
    {PT_TURN_NEXT, ROLE_F, PH(EXPLAIN), UNDO_SKIP, h_turn_next},
    {PT_TURN_PASS, ROLE_F | ROLE_P, PH(EXPLAIN), UNDO_SKIP, h_turn_pass},
    {PT_PAUSE, ROLE_F, PH_OPEN, UNDO_SKIP, h_pause},
    {PT_RESUME_REQ, ROLE_F, PH_OPEN, UNDO_SKIP, h_resume},
    {PT_UNDO_REQ, ROLE_F, PH_OPEN, UNDO_SKIP, h_undo},
    {PT_REMOVE, ROLE_F, PH_OPEN, UNDO_CLEAR, h_remove},
    {PT_END, ROLE_F, PH_OPEN, UNDO_CLEAR, h_end},
    {PT_SCORE, ROLE_F | ROLE_P, PH(SCORE), UNDO_SKIP, h_score},
    {PT_KEYWORD, ROLE_F | ROLE_P, PH(EXPLAIN), UNDO_KEEP, h_keyword},
    {PT_THEME_ADD, ROLE_F | ROLE_P, PH(THEMES), UNDO_KEEP, h_theme_add},
    {PT_THEME_EDIT, ROLE_F, PH_THEMES, UNDO_KEEP, h_theme_edit},
    {PT_THEME_MERGE, ROLE_F, PH_THEMES, UNDO_KEEP, h_theme_merge},
    {PT_THEME_DELETE, ROLE_F, PH_THEMES, UNDO_KEEP, h_theme_delete},
    {PT_VOTE_OPEN, ROLE_F, PH(THEMES), UNDO_CLEAR, h_vote_open},
    {PT_VOTE, ROLE_P, PH(THEMES), UNDO_SKIP, h_vote},
    {PT_VOTE_CLOSE, ROLE_F, PH(THEMES), UNDO_CLEAR, h_vote_close},
    {PT_DESIRED_PROPOSE, ROLE_P, PH(DESIRED), UNDO_SKIP, h_desired_propose},
    {PT_DESIRED_SET, ROLE_F, PH(DESIRED), UNDO_KEEP, h_desired_set},
    {PT_ACTION_PROPOSE, ROLE_F | ROLE_P, PH(ACTIONS), UNDO_KEEP, h_action_propose},
    {PT_ACTION_EDIT, ROLE_F, PH_REVIEWING, UNDO_KEEP, h_action_edit},
    {PT_ACTION_CONFIRM, ROLE_F, PH_REVIEWING, UNDO_KEEP, h_action_confirm},
    {PT_ACTION_REMOVE, ROLE_F, PH_REVIEWING, UNDO_KEEP, h_action_remove},
    {PT_LOOKAHEAD_DATE, ROLE_F, PH(LOOK_AHEAD), UNDO_KEEP, h_lookahead_date},
    {PT_LOOKAHEAD_ADD, ROLE_F, PH(LOOK_AHEAD), UNDO_KEEP, h_lookahead_add},
    {PT_SUMMARY, ROLE_F, PH(SUMMARY), UNDO_KEEP, h_summary},
    {PT_REACTION, ROLE_P, PH(SUMMARY), UNDO_SKIP, h_reaction},
    {PT_EVALUATION, ROLE_P, PH(SUMMARY), UNDO_SKIP, h_evaluation},
    {PT_ITEMS_SELECT, ROLE_F, PH(REVIEW) | PH(LOBBY), UNDO_KEEP, h_items_select},
    {PT_EXAMPLE_ADD, ROLE_F, PH_AFTER_LOBBY, UNDO_KEEP, h_example_add},
    {PT_TIMER_PAUSE, ROLE_F, PH_OPEN, UNDO_SKIP, h_timer_pause},
    {PT_TIMER_RESUME, ROLE_F, PH_OPEN, UNDO_SKIP, h_timer_resume},
    {PT_TIMER_EXTEND, ROLE_F, PH_OPEN, UNDO_SKIP, h_timer_extend},
    {PT_REVIEW_SET, ROLE_F, PH(REVIEW), UNDO_SKIP, h_review_set},
};

static const struct request_rule *rule_for(enum proto_type t)
{
    for (size_t i = 0; i < sizeof(request_rules) / sizeof(request_rules[0]); i++)
        if (request_rules[i].type == t)
            return &request_rules[i];
    return NULL;
}

/* Who the actor is in this session: ROLE_F, ROLE_P, or an error. */
static int actor_role(const struct session *s, const struct engine_actor *who)
{
    switch (who->kind) {
    case PROTO_KIND_FACILITATOR:
        /* Only the session's own facilitator steers it. */
        if (s->st.facilitator && (!who->facilitator || strcmp(who->facilitator, s->st.facilitator)))
            return PROTO_ERR_WRONG_ROLE;
        return ROLE_F;
    case PROTO_KIND_PARTICIPANT: {
        const struct state_participant *p = state_participant(&s->st, who->pid);
        if (!p)
            return PROTO_ERR_NOT_FOUND;
        return p->removed ? PROTO_ERR_WRONG_ROLE : (int)ROLE_P;
    }
    default:
        return PROTO_ERR_WRONG_ROLE; /* kiosk and observer only watch */
    }
}

int engine_request(struct engine *e, struct session *s, const struct engine_actor *who,
                   const struct proto_msg *req, uint64_t now_ms, struct proto_msg *reply)
{
    see_time(e, now_ms);
    const struct request_rule *rule = rule_for(req->type);
    if (!rule)
        return PROTO_ERR_UNKNOWN_TYPE;
    for (int k = 0; k < PK__COUNT; k++)
        if (proto_type_requires(req->type, (enum proto_key)k) && !proto_has(req, (enum proto_key)k))
            return PROTO_ERR_MISSING_FIELD;
    if (s->st.closed)
        return PROTO_ERR_CLOSED;
    int role = actor_role(s, who);
    if (role < 0)
        return role;
    if (!(rule->roles & (unsigned)role))
        return PROTO_ERR_WRONG_ROLE;
    if (s->st.paused && role == ROLE_P)
        return PROTO_ERR_PAUSED;
    if (!(rule->phases & 1u << s->st.phase))
        return PROTO_ERR_WRONG_PHASE;
    /* A score may bring its reveal along: room for two, and the close. */
    if (req->type != PT_END && !log_has_room(s, 2))
        return PROTO_ERR_LIMIT;

    struct req_ctx c = {e, s, &s->st, who, req, reply, role == ROLE_F, NULL, 0};
    uint64_t before = s->st.seq;
    int rc = rule->handler(&c);
    if (rc == 0 && c.facilitator) {
        if (rule->undo == UNDO_KEEP && c.undo_body) {
            undo_push(s, c.undo_body, c.undo_len);
            c.undo_body = NULL;
        } else if (rule->undo == UNDO_CLEAR) {
            undo_clear(s);
        }
    }
    free(c.undo_body);
    if (rc == 0)
        timer_follow(s, false); /* a new step may start its countdown */
    if (rc == 0 && s->st.seq != before)
        reply_int(&c, PK_SEQ, (int64_t)s->st.seq);
    return rc;
}

/* ---- snapshots --------------------------------------------------------- */

static void pack_key(msgpack_packer *pk, const char *k)
{
    msgpack_pack_str_with_body(pk, k, strlen(k));
}

/* Which encoding of entry l member who may see. */
static const struct engine_frame *visible(const struct log_entry *l, const struct engine_actor *who)
{
    if (l->pub == l->full)
        return l->full;
    if (who->kind == PROTO_KIND_PARTICIPANT && who->pid > 0 && who->pid == l->owner_pid)
        return l->full;
    if (who->kind == PROTO_KIND_FACILITATOR && l->facilitator_full)
        return l->full;
    return l->pub;
}

int engine_snapshot(struct engine *e, struct session *s, const struct engine_actor *who,
                    uint64_t since, uint8_t **frame, size_t *len)
{
    return engine_snapshot_reply(e, s, who, since, -1, frame, len);
}

int engine_snapshot_reply(struct engine *e, struct session *s, const struct engine_actor *who,
                          uint64_t since, int64_t id, uint8_t **frame, size_t *len)
{
    (void)e;
    *frame = NULL;
    *len = 0;
    if (who->kind == PROTO_KIND_ADMIN || who->kind == PROTO_KIND_MONITOR)
        return PROTO_ERR_WRONG_ROLE;
    if (since > s->st.seq)
        return PROTO_ERR_OUT_OF_RANGE;
    size_t first = 0;
    while (first < s->n_log && s->log[first].seq <= since)
        first++;

    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    static const char zero[PROTO_FRAME_HEADER] = {0};
    msgpack_sbuffer_write(&sb, zero, sizeof(zero));
    msgpack_pack_map(&pk, (since > 0 ? 5 : 4) + (id >= 0 ? 1 : 0));
    pack_key(&pk, "t");
    pack_key(&pk, proto_type_name(PT_SNAPSHOT));
    if (id >= 0) { /* the answer to a resync echoes its id */
        pack_key(&pk, "id");
        msgpack_pack_int64(&pk, id);
    }
    pack_key(&pk, "session");
    msgpack_pack_int64(&pk, s->id);
    pack_key(&pk, "seq");
    msgpack_pack_uint64(&pk, s->st.seq);
    if (since > 0) {
        pack_key(&pk, "since");
        msgpack_pack_uint64(&pk, since);
    }
    pack_key(&pk, "events");
    msgpack_pack_array(&pk, (uint32_t)(s->n_log - first));
    /* The stored event maps, byte for byte: a frame body is one map. */
    for (size_t i = first; i < s->n_log; i++) {
        const struct engine_frame *f = visible(&s->log[i], who);
        msgpack_sbuffer_write(&sb, (const char *)f->data + PROTO_FRAME_HEADER,
                              f->len - PROTO_FRAME_HEADER);
    }
    if (!sb.data) {
        msgpack_sbuffer_destroy(&sb);
        return PROTO_ERR_INTERNAL;
    }
    size_t body = sb.size - PROTO_FRAME_HEADER;
    if (body > UINT32_MAX) {
        msgpack_sbuffer_destroy(&sb);
        return PROTO_ERR_TOO_LARGE;
    }
    proto_put_u32be((uint8_t *)sb.data, (uint32_t)body);
    *len = sb.size;
    *frame = (uint8_t *)msgpack_sbuffer_release(&sb);
    return 0;
}

/* ---- time -------------------------------------------------------------- */

void engine_tick(struct engine *e, uint64_t now_ms)
{
    see_time(e, now_ms);
    for (int i = 0; i < e->n_sessions; i++)
        timer_check(e->sessions[i], now_ms);
    if (e->lim.session_idle_close_min <= 0)
        return;
    uint64_t idle = (uint64_t)e->lim.session_idle_close_min * 60000u;
    for (int i = 0; i < e->n_sessions; i++) {
        struct session *s = e->sessions[i];
        if (s->idle_from_tick) {
            s->active_ms = s->closed_ms = now_ms;
            s->idle_from_tick = false;
        } else if (!s->st.closed && now_ms >= s->active_ms + idle) {
            struct proto_msg ev;
            proto_msg_init(&ev, PT_EV_CLOSED);
            (void)emit(s, &ev);
        } else if (s->st.closed && !s->userdata && now_ms >= s->closed_ms + idle) {
            e->sessions[i] = e->sessions[--e->n_sessions];
            session_free(s);
            i--;
        }
    }
}

/* ---- recovery ---------------------------------------------------------- */

int engine_restore_event(struct engine *e, int64_t id, const uint8_t *body, size_t len)
{
    struct proto_msg *ev;
    int rc = proto_decode(body, len, true, &ev, NULL);
    if (rc < 0)
        return rc;
    if (proto_type_dir(ev->type) != PD_EVENT) {
        proto_msg_free(ev);
        return PROTO_ERR_UNKNOWN_TYPE;
    }
    uint64_t seq = (uint64_t)ev->v[PK_SEQ].i;
    struct session *s = engine_find(e, id);
    bool created = false;
    if (ev->type == PT_EV_CREATED && !s) {
        if (ev->v[PK_SESSION].i != id || seq != 1) {
            proto_msg_free(ev);
            return PROTO_ERR_CONFLICT;
        }
        if (!(s = session_alloc(e))) {
            proto_msg_free(ev);
            return PROTO_ERR_INTERNAL;
        }
        s->id = id;
        created = true;
    }
    if (!s)
        rc = PROTO_ERR_NOT_FOUND;
    else if (seq <= s->st.seq)
        rc = 1; /* already applied */
    else if (seq != s->st.seq + 1)
        rc = PROTO_ERR_CONFLICT;

    struct engine_frame *ff = NULL, *pf = NULL;
    struct proto_msg pub;
    int owner = 0;
    bool fac_full = false;
    if (rc == 0) {
        bool private = event_public(ev, &pub, &owner, &fac_full);
        ff = malloc(sizeof(*ff) + PROTO_FRAME_HEADER + len);
        if (!ff || len > UINT32_MAX - PROTO_FRAME_HEADER) {
            rc = PROTO_ERR_INTERNAL;
        } else {
            ff->refs = 1;
            ff->len = (uint32_t)(PROTO_FRAME_HEADER + len);
            proto_put_u32be(ff->data, (uint32_t)len);
            memcpy(ff->data + PROTO_FRAME_HEADER, body, len);
        }
        if (rc == 0 && private)
            rc = frame_of(&pub, &pf);
        if (rc == 0)
            rc = log_reserve(s);
        /* Room in the indexes first, so that nothing fails once applied. */
        if (rc == 0 && ev->type == PT_EV_CREATED && strmap_reserve(&e->codes, 2) < 0)
            rc = PROTO_ERR_INTERNAL;
        if (rc == 0 && ev->type == PT_EV_JOINED && strmap_reserve(&e->resumes, 1) < 0)
            rc = PROTO_ERR_INTERNAL;
        if (rc == 0)
            rc = state_apply(&s->st, ev);
    }
    if (rc == 0) {
        if (!pf)
            pf = ff;
        s->log[s->n_log++] = (struct log_entry){seq, ev->type, ff, pf, owner, fac_full};
        s->log_bytes += ff->len;
        s->idle_from_tick = true;
        if (ev->type == PT_EV_CREATED) {
            /* The codes come back with the session, unless another live one
             * took them (the join code is indexed before the kiosk code is
             * checked, so the two differ). */
            rc = restore_code(s, proto_str(ev, PK_JOIN_CODE), s->join_code);
            if (rc == 0)
                rc = restore_code(s, proto_str(ev, PK_KIOSK_CODE), s->kiosk_code);
        }
        index_applied(s, ev->type);
    } else {
        engine_frame_unref(ff);
        engine_frame_unref(pf);
        if (created)
            session_unalloc(e, s);
    }
    proto_msg_free(ev);
    return rc == 1 ? 0 : rc;
}
