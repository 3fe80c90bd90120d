/*
 * lwk_view.c: what the facilitator console and the participant screen show
 * of a session, built only from the reduced state (state.h), and the same as
 * JSON for scripts. A facilitator sees who has scored, never a value before
 * the reveal (the daemon does not send one); a participant sees their own
 * grade and how many are in.
 */
#include "lwk_cli.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *phase_name(int phase)
{
    const char *n = proto_enum_name(PK_PHASE, phase);
    return n ? n : "?";
}

const char *phase_title(int phase)
{
    switch (phase) {
    case PROTO_PHASE_REVIEW:
        return _("Review (before the team comes in)");
    case PROTO_PHASE_LOBBY:
        return _("Lobby: participants join");
    case PROTO_PHASE_SCORE:
        return _("Step 1a: score");
    case PROTO_PHASE_EXPLAIN:
        return _("Step 1b: explain");
    case PROTO_PHASE_THEMES:
        return _("Step 3a: themes");
    case PROTO_PHASE_DESIRED:
        return _("Step 3a: desired scores");
    case PROTO_PHASE_ACTIONS:
        return _("Step 3b: actions");
    case PROTO_PHASE_LOOK_AHEAD:
        return _("Step 4: look ahead");
    case PROTO_PHASE_SUMMARY:
        return _("Summary and look back");
    case PROTO_PHASE_CLOSED:
        return _("Closed");
    default:
        return "?";
    }
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The countdown of the current agenda entry: "Time left: 4:12 (Welcome)". */
static void render_timer(struct sbuf *b, const struct session_state *st)
{
    const struct state_timer *t = &st->timer;
    if (t->entry < 0)
        return;
    int64_t left = state_timer_left(st, wall_ms());
    int64_t secs = (left < 0 ? -left : left) / 1000;
    char clock[32];
    snprintf(clock, sizeof(clock), "%lld:%02lld", (long long)(secs / 60), (long long)(secs % 60));
    if (left >= 0)
        sb_printf(b, _("Time left: %s%s%s"), C_BOLD(), clock, C_OFF());
    else
        sb_printf(b, _("Over time: %s%s%s"), C_RED(), clock, C_OFF());
    if (t->entry < st->n_agenda && st->agenda[t->entry].title)
        sb_printf(b, " (%s)", st->agenda[t->entry].title);
    if (!t->running)
        sb_printf(b, " %s", _("[countdown stopped]"));
    sb_putc(b, '\n');
}

static void render_reviews(struct sbuf *b, const struct session_state *st)
{
    if (!st->n_reviews) {
        sb_printf(b, "%s\n", _("No actions from earlier sessions to review."));
        return;
    }
    sb_printf(b, _("Actions of the last sessions (%d):\n"), st->n_reviews);
    for (int i = 0; i < st->n_reviews; i++) {
        const struct state_review *r = &st->reviews[i];
        const char *status = proto_enum_name(PK_STATUS, r->status);
        sb_printf(b, "  %s#%lld%s %s", C_BOLD(), (long long)r->action, C_OFF(),
                  r->text ? r->text : "");
        if (r->owner && *r->owner)
            sb_printf(b, " · %s %s", _("who:"), r->owner);
        if (r->deadline[0])
            sb_printf(b, " · %s %s%s", _("by:"), r->deadline, r->overdue ? "!" : "");
        sb_printf(b, " · %s", status ? status : "?");
        if (r->reviewed) {
            const char *ns = r->new_status >= 0 ? proto_enum_name(PK_STATUS, r->new_status) : NULL;
            sb_printf(b, " %s→", C_GREEN());
            if (ns)
                sb_printf(b, " %s", ns);
            if (r->rating)
                sb_printf(b, _(" effect %d/5"), r->rating);
            if (r->note)
                sb_printf(b, " \"%s\"", r->note);
            sb_puts(b, C_OFF());
        }
        sb_putc(b, '\n');
    }
}

static const char *pname(const struct session_state *st, int pid)
{
    const struct state_participant *p = state_participant(st, pid);
    return p && p->name ? p->name : "?";
}

void view_stats_line(struct sbuf *b, const struct state_stats *s)
{
    char m[32], md[32], sp[32];
    sb_printf(b, _("mean %s · median %s · lowest %d · highest %d · spread %s"),
              fmt_dec(m, sizeof(m), s->mean, 1), fmt_dec(md, sizeof(md), s->median, 1), s->min,
              s->max, fmt_dec(sp, sizeof(sp), s->spread, 1));
    if (s->divided)
        sb_printf(b, " · %s%s%s", C_YELLOW(), _("divided: talk about the difference"), C_OFF());
}

/* A list of words wrapped at width, each line indented by ind columns. */
struct wrap {
    struct sbuf *b;
    int width, col, ind;
};

static void wrap_word(struct wrap *w, const char *word)
{
    int ww = utf8_width(word);
    if (w->col > w->ind && w->col + 2 + ww > w->width) {
        sb_putc(w->b, '\n');
        for (int i = 0; i < w->ind; i++)
            sb_putc(w->b, ' ');
        w->col = w->ind;
    } else if (w->col > w->ind) {
        sb_puts(w->b, "  ");
        w->col += 2;
    }
    sb_puts(w->b, word);
    w->col += ww;
}

static void item_label(struct sbuf *b, const struct session_state *st, int item)
{
    sb_printf(b, "%d/%d %s%s%s", item + 1, st->n_items, C_BOLD(),
              st->items[item].name ? st->items[item].name : "?", C_OFF());
}

static int n_scorable(const struct session_state *st)
{
    int n = 0;
    for (int i = 0; i < st->n_participants; i++)
        n += !st->participants[i].removed;
    return n;
}

static void render_distribution(struct sbuf *b, const struct state_stats *s, int lo, int hi)
{
    sb_puts(b, "  ");
    for (int v = lo; v <= hi; v++) {
        if (!s->distribution[v])
            sb_printf(b, "%s%d:-%s ", C_DIM(), v, C_OFF());
        else
            sb_printf(b, "%d:%s", v, C_CYAN());
        for (int k = 0; k < s->distribution[v]; k++)
            sb_puts(b, "█");
        if (s->distribution[v])
            sb_printf(b, "%s ", C_OFF());
    }
    sb_putc(b, '\n');
}

static void render_score(struct sbuf *b, const struct session_state *st, bool fac, int me,
                         int width)
{
    const struct state_round *r = state_round(st, st->item, st->round);
    if (!r)
        return;
    int total = n_scorable(st);
    if (!r->revealed) {
        sb_printf(b, _("Scored: %d of %d"), r->n_scores, total);
        sb_printf(b, "  %s(%s)%s\n", C_DIM(),
                  st->auto_reveal ? _("revealed automatically when everyone has scored")
                                  : _("blind until the reveal"),
                  C_OFF());
        if (r->n_scores < st->min_reveal)
            sb_printf(b,
                      ngettext("At least %d score is needed before the reveal.\n",
                               "At least %d scores are needed before the reveal.\n",
                               (unsigned long)st->min_reveal),
                      st->min_reveal);
        if (fac) {
            struct wrap w = {b, width, 0, 4};
            sb_printf(b, "  %s✓%s ", C_GREEN(), C_OFF());
            w.col = 4;
            int n = 0;
            for (int i = 0; i < r->n_scores; i++, n++)
                wrap_word(&w, pname(st, r->scores[i].pid));
            if (!n)
                wrap_word(&w, _("(nobody yet)"));
            sb_putc(b, '\n');
            sb_printf(b, "  %s…%s ", C_YELLOW(), C_OFF());
            w.col = 4;
            n = 0;
            for (int i = 0; i < st->n_participants; i++) {
                const struct state_participant *p = &st->participants[i];
                if (p->removed || state_round_score(r, p->pid))
                    continue;
                wrap_word(&w, p->name ? p->name : "?");
                n++;
            }
            if (!n)
                wrap_word(&w, _("(everyone has scored)"));
            sb_putc(b, '\n');
        } else {
            const struct state_score *s = state_round_score(r, me);
            if (s && s->value)
                sb_printf(b, _("Your grade: %s%d%s (you can change it until the reveal)\n"),
                          C_BOLD(), s->value, C_OFF());
            else
                sb_printf(b, "%s%s%s\n", C_BOLD(),
                          _("Your grade: not given yet. Type a number and press Enter."), C_OFF());
        }
        return;
    }
    struct state_stats s;
    state_round_stats(st, st->item, st->round, &s);
    sb_printf(b, _("Revealed, scores: %d. "), s.count);
    view_stats_line(b, &s);
    sb_putc(b, '\n');
    render_distribution(b, &s, st->items[st->item].scale_min, st->items[st->item].scale_max);
    if (!fac) {
        const struct state_score *mine = state_round_score(r, me);
        if (mine && mine->value)
            sb_printf(b, _("Your grade: %d\n"), mine->value);
    }
}

static void render_turns(struct sbuf *b, const struct session_state *st, bool fac, int me,
                         int width)
{
    const struct state_turns *t = &st->turns;
    if (!t->set || t->item != st->item || t->round != st->round) {
        sb_printf(b, "%s\n",
                  fac ? _("No speaking order yet: order join|random|low|high|manual")
                      : _("Waiting for the speaking order."));
        return;
    }
    int cur = state_current_speaker(st);
    if (cur) {
        sb_printf(b, _("Turn: %s%s%s"), C_BOLD(), pname(st, cur), C_OFF());
        if (t->current + 1 < t->n)
            sb_printf(b, _("  ·  next: %s"), pname(st, t->order[t->current + 1]));
        sb_putc(b, '\n');
        if (!fac && cur == me)
            sb_printf(b, "%s%s%s\n", C_GREEN(),
                      _("It is your turn: explain your grade; type keywords and press Enter."),
                      C_OFF());
    } else {
        sb_printf(b, "%s\n", _("Everyone has had their turn."));
    }
    struct wrap w = {b, width, 0, 2};
    sb_puts(b, "  ");
    w.col = 2;
    for (int i = 0; i < t->n; i++) {
        char word[256];
        const char *mark = i == t->current ? "▶ " : i < t->current || t->current < 0 ? "✓ " : "";
        snprintf(word, sizeof(word), "%s%d. %s%s", mark, i + 1, pname(st, t->order[i]),
                 t->passed[i] ? _(" (passed)") : "");
        wrap_word(&w, word);
    }
    sb_putc(b, '\n');
}

static void render_keywords(struct sbuf *b, const struct session_state *st, int item, int width,
                            int max_lines)
{
    int n = 0, shown = 0;
    for (int i = 0; i < st->n_keywords; i++)
        n += !st->keywords[i].removed && st->keywords[i].item == item;
    if (!n)
        return;
    sb_printf(b, _("Keywords (%d):\n"), n);
    int skip = n > max_lines ? n - max_lines : 0;
    for (int i = 0; i < st->n_keywords; i++) {
        const struct state_keyword *k = &st->keywords[i];
        if (k->removed || k->item != item)
            continue;
        if (skip) {
            skip--;
            if (!skip)
                sb_printf(b, "  %s…%s\n", C_DIM(), C_OFF());
            continue;
        }
        sb_printf(b, "  %s%s:%s %s\n", C_CYAN(), pname(st, k->pid), C_OFF(), k->text);
        shown++;
    }
}

static void render_themes(struct sbuf *b, const struct session_state *st, bool fac, int me)
{
    int live = state_live_themes(st);
    if (st->vote_open) {
        sb_printf(b,
                  ngettext("Voting is open: %d vote each.", "Voting is open: %d votes each.",
                           (unsigned long)st->vote_budget),
                  st->vote_budget);
        if (!fac)
            sb_printf(b, _(" You have %d left: type a theme number to vote, -N to take one back."),
                      st->vote_budget - state_votes_used(st, me));
        sb_putc(b, '\n');
        if (fac) {
            int n = 0;
            sb_printf(b, "  %s ", _("voted:"));
            for (int i = 0; i < st->n_participants; i++)
                if (st->participants[i].voted && !st->participants[i].removed) {
                    sb_printf(b, "%s%s", n ? ", " : "", st->participants[i].name);
                    n++;
                }
            sb_printf(b, "%s\n", n ? "" : "-");
        }
    }
    if (!live) {
        sb_printf(b, "%s\n",
                  fac ? _("No themes yet: theme add TEXT")
                      : _("No themes yet: type a theme and press Enter."));
        return;
    }
    sb_printf(b, _("Themes (%d):\n"), live);
    for (int i = 0; i < st->n_themes; i++) {
        const struct state_theme *t = &st->themes[i];
        if (t->deleted || t->merged_into)
            continue;
        sb_printf(b, "  %s#%d%s %s", C_BOLD(), t->id, C_OFF(), t->text);
        if (t->votes)
            sb_printf(b, "  %s[%d %s]%s", C_CYAN(), t->votes,
                      t->votes == 1 ? _("vote") : _("votes"), C_OFF());
        if (!fac && st->vote_open && state_votes_of(st, me, t->id))
            sb_printf(b, _("  (your votes: %d)"), state_votes_of(st, me, t->id));
        if (t->items) {
            sb_puts(b, "  ·");
            for (int k = 0; k < st->n_items; k++)
                if (t->items & (1u << k))
                    sb_printf(b, " %d", k + 1);
        }
        sb_putc(b, '\n');
    }
}

/* Mean of the last revealed round of an item; false when none. */
static bool last_mean(const struct session_state *st, int item, double *mean)
{
    for (int r = st->items[item].n_rounds; r >= 1; r--) {
        const struct state_round *rd = state_round(st, item, r);
        struct state_stats s;
        if (rd && rd->revealed && state_round_stats(st, item, r, &s) == 0 && s.count) {
            *mean = s.mean;
            return true;
        }
    }
    return false;
}

static void render_desired(struct sbuf *b, const struct session_state *st, bool fac, int me,
                           int desired_item)
{
    for (int i = 0; i < st->n_items; i++) {
        if (!st->items[i].scored)
            continue;
        double mean;
        char m[32];
        sb_printf(b, "  %s%d%s %-28s", desired_item == i ? C_BOLD() : "", i + 1,
                  desired_item == i ? C_OFF() : "", st->items[i].name ? st->items[i].name : "?");
        if (last_mean(st, i, &mean))
            sb_printf(b, _("  now %s"), fmt_dec(m, sizeof(m), mean, 1));
        if (st->items[i].desired)
            sb_printf(b, _("  →  desired %s%d%s"), C_GREEN(), st->items[i].desired, C_OFF());
        if (st->items[i].previous_mean >= 0 && st->previous_session) {
            char pm[32];
            sb_printf(b, _("  (last time %s"),
                      fmt_dec(pm, sizeof(pm), st->items[i].previous_mean / 100.0, 1));
            if (st->items[i].previous_desired)
                sb_printf(b, _(", wanted %d"), st->items[i].previous_desired);
            sb_putc(b, ')');
        }
        int n = 0;
        for (int k = 0; k < st->n_desired; k++) {
            const struct state_desired *d = &st->desired[k];
            if (d->item != i)
                continue;
            if (!n)
                sb_printf(b, "  %s%s", C_DIM(), _("proposed:"));
            if (fac)
                sb_printf(b, " %s %d", pname(st, d->pid), d->value);
            else
                sb_printf(b, " %d%s", d->value, d->pid == me ? _("(you)") : "");
            n++;
        }
        if (n)
            sb_puts(b, C_OFF());
        sb_putc(b, '\n');
    }
}

static void render_actions(struct sbuf *b, const struct session_state *st)
{
    int live = state_live_actions(st);
    if (!live) {
        sb_printf(b, "%s\n", _("No actions yet."));
        return;
    }
    sb_printf(b, _("Actions (%d):\n"), live);
    for (int i = 0; i < st->n_actions; i++) {
        const struct state_action *a = &st->actions[i];
        if (a->removed)
            continue;
        sb_printf(b, "  %s#%lld%s %s %s", C_BOLD(), (long long)a->id, C_OFF(),
                  a->confirmed ? "✓" : "?", a->text ? a->text : "");
        sb_putc(b, '\n');
        struct sbuf d;
        sb_init(&d);
        if (a->owner && *a->owner)
            sb_printf(&d, "%s%s %s", d.len ? " · " : "", _("who:"), a->owner);
        if (a->role && *a->role)
            sb_printf(&d, "%s%s %s", d.len ? " · " : "", _("role:"), a->role);
        if (a->where && *a->where)
            sb_printf(&d, "%s%s %s", d.len ? " · " : "", _("where:"), a->where);
        if (a->deadline[0])
            sb_printf(&d, "%s%s %s", d.len ? " · " : "", _("by:"), a->deadline);
        if (a->feedback && *a->feedback)
            sb_printf(&d, "%s%s %s", d.len ? " · " : "", _("feedback:"), a->feedback);
        if (a->resources && *a->resources)
            sb_printf(&d, "%s%s %s", d.len ? " · " : "", _("resources:"), a->resources);
        if (d.len)
            sb_printf(b, "      %s%s%s\n", C_DIM(), d.p, C_OFF());
        sb_free(&d);
    }
}

static void render_look_ahead(struct sbuf *b, const struct session_state *st)
{
    sb_printf(b, _("Next follow-up conversation: %s\n"),
              st->look_ahead_date[0] ? st->look_ahead_date : _("(no date yet)"));
    for (int i = 0; i < st->n_look_ahead; i++)
        if (!st->look_ahead[i].removed)
            sb_printf(b, "  - %s\n", st->look_ahead[i].text);
}

static void render_summary(struct sbuf *b, const struct session_state *st, bool fac, int me)
{
    sb_printf(b, "%s %s\n", _("Summary:"), st->summary ? st->summary : _("(not yet)"));
    for (int i = 0; i < st->n_reactions; i++)
        if (!st->reactions[i].removed)
            sb_printf(b, "  %s%s:%s %s\n", C_CYAN(), pname(st, st->reactions[i].pid), C_OFF(),
                      st->reactions[i].text);
    int n = st->n_evaluations;
    if (n) {
        double sum = 0;
        for (int i = 0; i < n; i++)
            sum += st->evaluations[i].rating;
        char m[32];
        sb_printf(b, _("Evaluations: %d (mean %s of 5)\n"), n, fmt_dec(m, sizeof(m), sum / n, 1));
    }
    if (!fac) {
        bool done = false;
        for (int i = 0; i < n; i++)
            done |= st->evaluations[i].pid == me;
        if (!done)
            sb_printf(b, "%s%s%s\n", C_BOLD(),
                      _("How did you experience this session? Type 1 to 5 (and a few words), or "
                        "type a reaction to the summary."),
                      C_OFF());
    }
}

static void render_participants(struct sbuf *b, const struct session_state *st, int width)
{
    struct wrap w = {b, width, 0, 2};
    int live = state_live_participants(st);
    sb_printf(b, _("Participants (%d):"), live);
    sb_putc(b, '\n');
    sb_puts(b, "  ");
    w.col = 2;
    if (!live)
        wrap_word(&w, _("(nobody yet)"));
    for (int i = 0; i < st->n_participants; i++) {
        const struct state_participant *p = &st->participants[i];
        if (p->removed)
            continue;
        char word[300];
        snprintf(word, sizeof(word), "%s%s", p->name ? p->name : "?",
                 p->online ? "" : _(" (offline)"));
        wrap_word(&w, word);
    }
    sb_putc(b, '\n');
}

void view_render(struct sbuf *b, const struct session_state *st, bool fac, int me, int width)
{
    if (width < 40)
        width = 40;
    if (!st->seq) {
        sb_printf(b, "%s\n", _("(waiting for the session)"));
        return;
    }
    /* Header: which session, which step, which vermogen. */
    sb_printf(b, "%s%s%s · %s %s", C_BOLD(), st->team ? st->team : "?", C_OFF(),
              st->instrument ? st->instrument : "", "");
    sb_printf(b, _("· session %lld"), (long long)st->session_id);
    if (fac && st->join_code[0])
        sb_printf(b, _(" · join code %s"), st->join_code);
    if (st->paused)
        sb_printf(b, "  %s[%s]%s", C_YELLOW(), _("PAUSED"), C_OFF());
    sb_putc(b, '\n');
    int phase = st->closed ? PROTO_PHASE_CLOSED : (int)st->phase;
    sb_printf(b, "%s%s%s", C_BOLD(), phase_title(phase), C_OFF());
    if ((phase == PROTO_PHASE_SCORE || phase == PROTO_PHASE_EXPLAIN) && st->item >= 0) {
        sb_puts(b, " · ");
        item_label(b, st, st->item);
        if (st->round > 1)
            sb_printf(b, _(" (round %d)"), st->round);
    }
    sb_putc(b, '\n');
    if ((phase == PROTO_PHASE_SCORE || phase == PROTO_PHASE_EXPLAIN) && st->item >= 0 &&
        st->items[st->item].prompt)
        sb_printf(b, "%s%s%s\n", C_CYAN(), st->items[st->item].prompt, C_OFF());
    render_timer(b, st);
    if (fac)
        render_participants(b, st, width);
    else {
        const struct state_participant *p = state_participant(st, me);
        sb_printf(b, _("You: %s · participants: %d\n"), p && p->name ? p->name : "?",
                  state_live_participants(st));
    }
    switch (phase) {
    case PROTO_PHASE_REVIEW:
        sb_printf(b, "%s\n",
                  fac ? _("Look at last time's actions; next opens the lobby.")
                      : _("The session is being prepared."));
        if (fac)
            render_reviews(b, st);
        break;
    case PROTO_PHASE_LOBBY:
        sb_printf(b, "%s\n",
                  fac ? _("Waiting for participants; next starts scoring the first "
                          "item.")
                      : _("Welcome. Wait until the facilitator starts."));
        break;
    case PROTO_PHASE_SCORE:
        render_score(b, st, fac, me, width);
        break;
    case PROTO_PHASE_EXPLAIN: {
        const struct state_round *r = state_round(st, st->item, st->round);
        if (r && r->revealed) {
            struct state_stats s;
            state_round_stats(st, st->item, st->round, &s);
            view_stats_line(b, &s);
            sb_putc(b, '\n');
        }
        render_turns(b, st, fac, me, width);
        render_keywords(b, st, st->item, width, 8);
        break;
    }
    case PROTO_PHASE_THEMES:
        render_themes(b, st, fac, me);
        break;
    case PROTO_PHASE_DESIRED: {
        int di = -1;
        if (!fac)
            for (int i = 0; i < st->n_items && di < 0; i++) {
                bool mine = false;
                for (int k = 0; k < st->n_desired; k++)
                    mine |= st->desired[k].pid == me && st->desired[k].item == i;
                if (st->items[i].scored && !mine)
                    di = i;
            }
        render_desired(b, st, fac, me, di);
        if (!fac && di >= 0)
            sb_printf(b, _("Which grade do you want to reach for %s? Type a number.\n"),
                      st->items[di].name);
        break;
    }
    case PROTO_PHASE_ACTIONS:
        render_actions(b, st);
        if (!fac)
            sb_printf(b, "%s\n",
                      _("Propose an action: type it (owner=NAME deadline=YYYY-MM-DD "
                        "may follow)."));
        break;
    case PROTO_PHASE_LOOK_AHEAD:
        render_look_ahead(b, st);
        break;
    case PROTO_PHASE_SUMMARY:
        render_summary(b, st, fac, me);
        break;
    case PROTO_PHASE_CLOSED:
        sb_printf(b, "%s\n", _("The session has ended. Thank you."));
        break;
    }
}

/* ---- JSON ---------------------------------------------------------------- */

static void json_stats(struct sbuf *b, const struct state_stats *s)
{
    sb_printf(b, "{\"count\":%d,\"mean\":", s->count);
    json_num(b, s->mean, 2);
    sb_puts(b, ",\"median\":");
    json_num(b, s->median, 1);
    sb_printf(b, ",\"min\":%d,\"max\":%d,\"spread\":", s->min, s->max);
    json_num(b, s->spread, 2);
    sb_printf(b, ",\"divided\":%s,\"distribution\":{", s->divided ? "true" : "false");
    bool first = true;
    for (int v = 1; v <= 10; v++) {
        if (!s->distribution[v])
            continue;
        sb_printf(b, "%s\"%d\":%d", first ? "" : ",", v, s->distribution[v]);
        first = false;
    }
    sb_puts(b, "}}");
}

void view_json(struct sbuf *b, const struct session_state *st, bool fac, int me)
{
    int phase = st->closed ? PROTO_PHASE_CLOSED : (int)st->phase;
    sb_printf(b, "{\"session\":%lld,\"seq\":%llu,\"team\":", (long long)st->session_id,
              (unsigned long long)st->seq);
    json_str(b, st->team);
    sb_puts(b, ",\"instrument\":");
    json_str(b, st->instrument);
    sb_printf(b, ",\"phase\":\"%s\",\"paused\":%s,\"closed\":%s,\"min_reveal\":%d",
              phase_name(phase), st->paused ? "true" : "false", st->closed ? "true" : "false",
              st->min_reveal);
    if (st->item >= 0) {
        sb_printf(b, ",\"item\":%d,\"item_name\":", st->item + 1);
        json_str(b, st->items[st->item].name);
        sb_printf(b, ",\"round\":%d", st->round);
    } else {
        sb_puts(b, ",\"item\":null");
    }
    if (!fac)
        sb_printf(b, ",\"pid\":%d", me);
    sb_puts(b, ",\"items\":[");
    for (int i = 0; i < st->n_items; i++) {
        sb_printf(b, "%s{\"item\":%d,\"name\":", i ? "," : "", i + 1);
        json_str(b, st->items[i].name);
        sb_printf(b, ",\"scored\":%s,\"rounds\":%d,\"desired\":",
                  st->items[i].scored ? "true" : "false", st->items[i].n_rounds);
        if (st->items[i].desired)
            sb_printf(b, "%d}", st->items[i].desired);
        else
            sb_puts(b, "null}");
    }
    sb_puts(b, "]");
    const struct state_round *r = st->item >= 0 ? state_round(st, st->item, st->round) : NULL;
    sb_puts(b, ",\"participants\":[");
    bool first = true;
    for (int i = 0; i < st->n_participants; i++) {
        const struct state_participant *p = &st->participants[i];
        if (p->removed)
            continue;
        sb_printf(b, "%s{\"pid\":%d,\"name\":", first ? "" : ",", p->pid);
        json_str(b, p->name);
        sb_printf(b, ",\"online\":%s,\"scored\":%s}", p->online ? "true" : "false",
                  r && state_round_score(r, p->pid) ? "true" : "false");
        first = false;
    }
    sb_puts(b, "]");
    if (r) {
        sb_printf(b, ",\"scores_in\":%d,\"revealed\":%s", r->n_scores,
                  r->revealed ? "true" : "false");
        const struct state_score *mine = fac ? NULL : state_round_score(r, me);
        if (mine && mine->value)
            sb_printf(b, ",\"my_score\":%d", mine->value);
        if (r->revealed) {
            struct state_stats s;
            state_round_stats(st, st->item, st->round, &s);
            sb_puts(b, ",\"stats\":");
            json_stats(b, &s);
        }
    }
    int cur = state_current_speaker(st);
    if (st->turns.set && st->turns.item == st->item && st->turns.round == st->round) {
        sb_printf(b, ",\"turn\":{\"mode\":\"%s\",\"order\":[",
                  proto_enum_name(PK_MODE, st->turns.mode));
        for (int i = 0; i < st->turns.n; i++)
            sb_printf(b, "%s%d", i ? "," : "", st->turns.order[i]);
        sb_puts(b, "],\"current\":");
        if (cur) {
            sb_printf(b, "%d,\"speaker\":", cur);
            json_str(b, pname(st, cur));
        } else {
            sb_puts(b, "null");
        }
        sb_puts(b, "}");
    }
    sb_puts(b, ",\"keywords\":[");
    first = true;
    for (int i = 0; i < st->n_keywords; i++) {
        const struct state_keyword *k = &st->keywords[i];
        if (k->removed)
            continue;
        sb_printf(b, "%s{\"item\":%d,\"pid\":%d,\"text\":", first ? "" : ",", k->item + 1, k->pid);
        json_str(b, k->text);
        sb_puts(b, "}");
        first = false;
    }
    sb_printf(b, "],\"vote\":{\"open\":%s,\"budget\":%d", st->vote_open ? "true" : "false",
              st->vote_budget);
    if (!fac)
        sb_printf(b, ",\"used\":%d", state_votes_used(st, me));
    sb_puts(b, "},\"themes\":[");
    first = true;
    for (int i = 0; i < st->n_themes; i++) {
        const struct state_theme *t = &st->themes[i];
        if (t->deleted || t->merged_into)
            continue;
        sb_printf(b, "%s{\"id\":%d,\"text\":", first ? "" : ",", t->id);
        json_str(b, t->text);
        sb_printf(b, ",\"votes\":%d,\"items\":[", t->votes);
        bool f2 = true;
        for (int k = 0; k < st->n_items; k++)
            if (t->items & (1u << k)) {
                sb_printf(b, "%s%d", f2 ? "" : ",", k + 1);
                f2 = false;
            }
        sb_puts(b, "]}");
        first = false;
    }
    sb_puts(b, "],\"actions\":[");
    first = true;
    for (int i = 0; i < st->n_actions; i++) {
        const struct state_action *a = &st->actions[i];
        if (a->removed)
            continue;
        sb_printf(b, "%s{\"id\":%lld,\"text\":", first ? "" : ",", (long long)a->id);
        json_str(b, a->text);
        sb_puts(b, ",\"owner\":");
        json_str(b, a->owner);
        sb_puts(b, ",\"deadline\":");
        json_str(b, a->deadline[0] ? a->deadline : NULL);
        sb_printf(b, ",\"confirmed\":%s}", a->confirmed ? "true" : "false");
        first = false;
    }
    sb_puts(b, "],\"look_ahead_date\":");
    json_str(b, st->look_ahead_date[0] ? st->look_ahead_date : NULL);
    sb_puts(b, ",\"summary\":");
    json_str(b, st->summary);
    sb_printf(b, ",\"reactions\":%d,\"evaluations\":%d}", st->n_reactions, st->n_evaluations);
}
