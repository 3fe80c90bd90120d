/*
 * state.h: the state of one live session as its stream of events describes
 * it. lwkd and every client (lwk, lwk-kiosk) rebuild it with the same
 * reducer, state_apply, from the events they receive, so what a screen shows
 * and what the daemon decides on can never drift apart.
 *
 * A client sees the public encoding of most events: values it may not know
 * yet are absent there (another participant's score before the reveal, a
 * vote's theme, a resume token, the kiosk code) and stay 0/NULL in its state.
 *
 * Event meanings the catalogue in proto.h leaves open, fixed here:
 *   session.created  rows[i] = {item: i, name, values: [scale_min, scale_max]};
 *                    values is present only for scored items. name (full
 *                    encoding only) is the facilitator's name. Phase: lobby.
 *   phase            score/explain carry item and round. A score phase whose
 *                    round is one past the item's last round opens that round.
 *   round            a re-score: opens round n+1 of item and moves to its
 *                    score phase; when it starts elsewhere than that item's
 *                    score/explain, where it started is kept (return_phase,
 *                    return_item) so the facilitator can go back there.
 *   turns, turn      current is an index into order; -1 = nobody (done).
 *                    turn.pass = the speaker at the old index passed.
 *   theme.added      with an existing id: restores that theme (an undo of a
 *                    delete or a merge). action.added likewise for actions.
 *   desired.agreed, lookahead.date.set, summary.set without a value: cleared.
 *   paused           online = true: paused; false: running again.
 *   closed           the end: phase closed, no further change but notices.
 *
 * Instruments, timers and the review (docs/cycle.md):
 *   session.created  also version (absent: the built-in LWK-meting), steps
 *                    (phase numbers; absent: all ten), select (items are
 *                    chosen in the lobby), agenda rows {phase, duration (s,
 *                    0 = untimed), items (absent: all), name (title)}, and
 *                    per row text (the prompt) and notes (takes examples).
 *   phase            explain of an unscored item carries item, no round.
 *   items.selected   the items the session works on (select sessions).
 *   timer            entry -1: no countdown. Otherwise duration (s, the
 *                    plan with extensions) and either running with start
 *                    (wall-clock ms; the time is up at start + duration) or
 *                    paused with left (ms; negative: over time).
 *   timer.overrun    the entry's planned duration has passed.
 *   review.action    an action of an earlier session of the team, to review
 *                    (action = its number in lwk.actions); action.reviewed
 *                    what the group says about it now.
 *   review.previous  the team's last session of this instrument: rows
 *                    {item, mean (hundredths), value (desired)}.
 *
 * Pure C: no I/O, no libuv. Every string in the state is owned by it.
 */
#ifndef LWK_PROTO_STATE_H
#define LWK_PROTO_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "proto.h"

#define STATE_MAX_ITEMS 32   /* the "item" key is 0..31 */
#define STATE_MAX_ROUNDS 100 /* the "round" key is 1..100 */
/* Ceiling for every other list; the daemon's configured limits are lower. */
#define STATE_MAX_LIST 100000
#define STATE_CODE_MAX 32

struct state_score {
    int pid;
    int value;     /* 1..10; 0 = scored, value not (yet) known here */
    bool revealed; /* part of the round's reveal: counts in the statistics */
};

struct state_round {
    int round; /* 1-based */
    bool revealed;
    int n_scores, cap_scores;
    struct state_score *scores; /* owned; in the order of first score */
};

struct state_item {
    char *name; /* owned */
    bool scored;
    int scale_min, scale_max; /* 0 when not scored */
    int n_rounds, cap_rounds;
    struct state_round *rounds; /* owned; rounds[i].round == i + 1 */
    int desired;                /* the agreed desired score; 0 = none */
    char *prompt;               /* owned; the question, NULL = not known */
    bool notes;                 /* takes practice examples */
    bool selected;              /* part of this session (select: once chosen) */
    /* The team's last session of this instrument (review.previous). */
    int previous_mean;    /* hundredths of a grade; -1 = none */
    int previous_desired; /* 0 = none */
};

struct state_participant {
    int pid; /* participants[i].pid == i + 1 */
    char *name;
    char *resume; /* NULL unless this state saw the full joined event */
    bool online, removed;
    bool voted; /* voted in the current (or last) vote */
};

struct state_turns {
    bool set;
    enum proto_mode mode;
    int item, round; /* the explanation round the order was made for */
    int n, cap;
    int *order;   /* owned; pids */
    bool *passed; /* owned; per index */
    int current;  /* index into order; -1 = nobody */
};

struct state_keyword {
    int kid; /* keywords[i].kid == i + 1 */
    int pid, item;
    char *text;
    bool removed;
};

struct state_theme {
    int id; /* themes[i].id == i + 1 */
    char *text;
    uint32_t items; /* bit i: linked to item i */
    int pid;        /* who added it; 0 = unknown */
    int merged_into;
    bool deleted;
    int votes; /* total after the last vote.closed */
};

struct state_vote {
    int pid, theme, count; /* only what this state saw: own votes on a client */
};

struct state_desired {
    int pid, item, value;
};

struct state_action {
    int64_t id;                                               /* actions[i].id == i + 1 */
    char *text, *owner, *role, *where, *feedback, *resources; /* owned; NULL = not set */
    char deadline[11];                                        /* YYYY-MM-DD or "" */
    int item;                                                 /* -1 = none */
    int theme;                                                /* 0 = none */
    int pid;                                                  /* proposer; 0 = facilitator */
    bool confirmed, removed;
};

/* A look-ahead item or a reaction. */
struct state_note {
    int kid; /* notes[i].kid == i + 1, numbered per list */
    int pid; /* reactions: who; look ahead: 0 */
    char *text;
    bool removed;
};

struct state_evaluation {
    int pid, rating; /* rating 1..5 */
    char *text;      /* NULL = none */
};

#define STATE_MAX_AGENDA 32

/* One entry of the instrument's agenda, as session.created gave it. */
struct state_agenda {
    enum proto_phase phase;
    int duration_s; /* 0: not timed */
    uint32_t items; /* bit i: covers item i; 0 = every item */
    char *title;    /* owned; NULL = none */
};

/* The countdown of the current agenda entry (lwkd keeps the clock). */
struct state_timer {
    int entry;        /* agenda index; -1 = no countdown */
    int duration_s;   /* planned, extensions included */
    bool running;     /* false: paused */
    int64_t start_ms; /* running: wall clock, time is up at start_ms + duration_s * 1000 */
    int64_t left_ms;  /* paused: time left (negative: over time) */
    bool overrun;     /* the planned time has passed (timer.overrun) */
};

/* A practice example recorded for an item (KLWO). */
struct state_example {
    int kid; /* examples[i].kid == i + 1 */
    int item;
    char *text; /* owned */
    bool removed;
};

/* An action of an earlier session under review in this one. */
struct state_review {
    int64_t action;                /* number in lwk.actions */
    int64_t session;               /* the session that agreed it */
    char *text, *owner, *feedback; /* owned; NULL = not set */
    char deadline[11], date[11];   /* YYYY-MM-DD or "" */
    int item;                      /* this session's item it serves; -1 = none */
    int status;                    /* index into PROTO_STATUSES, before this review */
    bool overdue;
    /* What this session says about it (action.reviewed). */
    bool reviewed;
    int new_status; /* -1 = not set */
    int rating;     /* 1..5; 0 = not set */
    char *note;     /* owned; NULL = none */
};

struct session_state {
    uint64_t seq; /* of the last event applied; 0 = nothing yet */
    int64_t session_id;
    char *team, *instrument;
    char *facilitator;                   /* NULL unless known (full session.created) */
    char join_code[STATE_CODE_MAX + 1];  /* "" = not known */
    char kiosk_code[STATE_CODE_MAX + 1]; /* "" = not known */
    int min_reveal;
    bool auto_reveal;

    enum proto_phase phase;
    int item;  /* current item in score/explain; -1 otherwise */
    int round; /* current round in score/explain; 0 otherwise */
    bool paused, closed;
    /* After a re-score of return_for started elsewhere: where to go back to. */
    int return_phase; /* -1 = none */
    int return_item;
    int return_for;

    int n_items;
    struct state_item items[STATE_MAX_ITEMS];

    int n_participants, cap_participants;
    struct state_participant *participants;

    struct state_turns turns;

    int n_keywords, cap_keywords;
    struct state_keyword *keywords;

    int n_themes, cap_themes;
    struct state_theme *themes;

    bool vote_open;
    int vote_budget;
    int n_votes, cap_votes;
    struct state_vote *votes;

    int n_desired, cap_desired;
    struct state_desired *desired; /* proposals, one per (pid, item) */

    int n_actions, cap_actions;
    struct state_action *actions;

    char look_ahead_date[11]; /* YYYY-MM-DD or "" */
    int n_look_ahead, cap_look_ahead;
    struct state_note *look_ahead;

    char *summary; /* NULL = none */

    int n_reactions, cap_reactions;
    struct state_note *reactions;

    int n_evaluations, cap_evaluations;
    struct state_evaluation *evaluations; /* one per pid */

    /* The instrument's flow (docs/cycle.md). */
    int version;    /* instrument version; 0 = built-in */
    uint32_t steps; /* bit p: phase p is one of this session's steps */
    bool select;    /* items are chosen in the lobby (items.selected) */
    bool selection; /* they have been chosen */
    int n_agenda;
    struct state_agenda agenda[STATE_MAX_AGENDA];
    struct state_timer timer;

    int n_examples, cap_examples;
    struct state_example *examples;

    int n_reviews, cap_reviews;
    struct state_review *reviews;
    int64_t previous_session; /* review.previous; 0 = none */
    char previous_date[11];
};

/* Statistics of one score round. */
struct state_stats {
    int count;            /* scores counted */
    int distribution[11]; /* [v]: how many gave v (1..10); [0] unused */
    double mean, median;
    int min, max;
    double spread; /* population standard deviation */
    bool divided;  /* the team disagrees: see state_round_stats */
};

void state_init(struct session_state *st);
void state_free(struct session_state *st);

/*
 * Applies one event. Its seq must be state.seq + 1 (session.created: 1, on a
 * fresh state). Returns 0, or a negative proto error and leaves the state as
 * it was: PROTO_ERR_CONFLICT for a seq that does not follow (the caller tells
 * a duplicate, seq <= state.seq, from a gap) or an event that does not fit
 * the state, PROTO_ERR_NOT_FOUND for an unknown participant, theme, action
 * or keyword, PROTO_ERR_OUT_OF_RANGE for a bad item, round or value,
 * PROTO_ERR_LIMIT past STATE_MAX_LIST, PROTO_ERR_INTERNAL when out of memory,
 * PROTO_ERR_UNKNOWN_TYPE for a message that is not an event.
 */
int state_apply(struct session_state *st, const struct proto_msg *event);

/*
 * Statistics of round `round` of item `item`: of the revealed scores once the
 * round is revealed, else of the values known here (all of them in lwkd).
 * Returns 0, PROTO_ERR_NOT_FOUND for no such round. With no scores, count is
 * 0 and the rest 0.
 */
int state_round_stats(const struct session_state *st, int item, int round, struct state_stats *out);

/* Lookups; NULL when there is no such thing. */
struct state_participant *state_participant(const struct session_state *st, int pid);
struct state_round *state_round(const struct session_state *st, int item, int round);
/* The item's last round, or NULL before its first. */
struct state_round *state_last_round(const struct session_state *st, int item);
struct state_score *state_round_score(const struct state_round *r, int pid);
struct state_theme *state_theme(const struct session_state *st, int id);
struct state_action *state_action(const struct session_state *st, int64_t id);
/* The review of action (its lwk.actions number), or NULL. */
struct state_review *state_review(const struct session_state *st, int64_t action);
/* Whether phase is one of the session's steps. */
bool state_has_step(const struct session_state *st, enum proto_phase phase);
/* The agenda entry for a position (phase, item: -1 for none): the first
 * entry of that phase covering the item, or -1. */
int state_agenda_entry(const struct session_state *st, enum proto_phase phase, int item);
/* Milliseconds left on the timer at wall-clock now_ms (negative: over time);
 * 0 when there is no countdown. */
int64_t state_timer_left(const struct session_state *st, int64_t now_ms);
/* The current speaker's pid, or 0 (no order for this explanation round, or done). */
int state_current_speaker(const struct session_state *st);
/* Live (not deleted, not merged) themes / not removed actions / participants. */
int state_live_themes(const struct session_state *st);
int state_live_actions(const struct session_state *st);
int state_live_participants(const struct session_state *st);
int state_live_keywords(const struct session_state *st);
/* Votes participant pid has on theme (0 unless known), and in total. */
int state_votes_of(const struct session_state *st, int pid, int theme);
int state_votes_used(const struct session_state *st, int pid);

#endif
