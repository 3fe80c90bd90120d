/*
 * lwk_export.c: the score sheet (scoreblad) of a session, built from its
 * events through the shared reducer: Markdown, CSV (long format), JSON and
 * one self-contained printable HTML page with the distributions as inline
 * SVG. Participants appear under pseudonyms (P1, P2 ... in order of
 * joining): no name leaves the team room through an export.
 *
 * The CSV and JSON layouts are documented in lwk(1); keep them in step.
 */
#include "lwk_cli.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static void pseudo(char *buf, size_t n, int pid)
{
    if (pid > 0)
        snprintf(buf, n, "P%d", pid);
    else
        snprintf(buf, n, "%s", "");
}

static void now_iso(char *buf, size_t n)
{
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%d %H:%M", &tm);
}

static int phase_of(const struct session_state *st)
{
    return st->closed ? PROTO_PHASE_CLOSED : (int)st->phase;
}

static double eval_mean(const struct session_state *st)
{
    double sum = 0;
    for (int i = 0; i < st->n_evaluations; i++)
        sum += st->evaluations[i].rating;
    return st->n_evaluations ? sum / st->n_evaluations : 0;
}

/* ---- Markdown ------------------------------------------------------------ */

/* Table cell text: no pipes or line breaks. */
static void md_cell(struct sbuf *b, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '|')
            sb_puts(b, "\\|");
        else if (*s == '\n')
            sb_puts(b, "<br>");
        else
            sb_putc(b, *s);
    }
}

static void md_bars(struct sbuf *b, const struct state_stats *s, int lo, int hi)
{
    sb_puts(b, "```\n");
    for (int v = lo; v <= hi; v++) {
        sb_printf(b, "%2d | ", v);
        for (int k = 0; k < s->distribution[v]; k++)
            sb_puts(b, "█");
        sb_printf(b, "%s%d\n", s->distribution[v] ? " " : "", s->distribution[v]);
    }
    sb_puts(b, "```\n\n");
}

static void md_render(struct sbuf *b, const struct session_state *st)
{
    char when[32], m[32], md[32];
    now_iso(when, sizeof(when));
    sb_printf(b, "# %s: %s\n\n", _("Score sheet"), st->instrument ? st->instrument : "");
    sb_printf(b, "| | |\n|---|---|\n");
    sb_printf(b, "| %s | ", _("Team"));
    md_cell(b, st->team);
    sb_printf(b, " |\n| %s | %lld |\n", _("Session"), (long long)st->session_id);
    if (st->facilitator) {
        sb_printf(b, "| %s | ", _("Facilitator"));
        md_cell(b, st->facilitator);
        sb_puts(b, " |\n");
    }
    sb_printf(b, "| %s | %s |\n", _("Step"), phase_title(phase_of(st)));
    sb_printf(b, "| %s | %d |\n", _("Participants"), state_live_participants(st));
    sb_printf(b, "| %s | %s |\n\n", _("Exported"), when);
    sb_printf(b, "%s\n\n", _("Participants appear as P1, P2, ... in the order they joined."));

    /* Overview: one line per item. */
    sb_printf(b, "## %s\n\n", _("Scores"));
    sb_printf(b, "| %s | %s | %s | %s | %s | %s | %s |\n|---|---:|---:|---:|---:|---|---:|\n",
              _("Item"), _("Round"), _("Scores"), _("Mean"), _("Median"), _("Grades"),
              _("Desired"));
    for (int i = 0; i < st->n_items; i++) {
        const struct state_item *it = &st->items[i];
        if (!it->scored)
            continue;
        if (!it->n_rounds) {
            sb_printf(b, "| %d. ", i + 1);
            md_cell(b, it->name);
            sb_puts(b, " | - | 0 | | | | ");
            if (it->desired)
                sb_printf(b, "%d", it->desired);
            sb_puts(b, " |\n");
        }
        for (int r = 1; r <= it->n_rounds; r++) {
            const struct state_round *rd = state_round(st, i, r);
            struct state_stats s;
            state_round_stats(st, i, r, &s);
            sb_printf(b, "| %d. ", i + 1);
            md_cell(b, it->name);
            sb_printf(b, " | %d | %d | ", r, rd->n_scores);
            if (rd->revealed && s.count) {
                sb_printf(b, "%s | %s | ", fmt_dec(m, sizeof(m), s.mean, 1),
                          fmt_dec(md, sizeof(md), s.median, 1));
                for (int k = 0; k < rd->n_scores; k++) {
                    char p[16];
                    pseudo(p, sizeof(p), rd->scores[k].pid);
                    if (rd->scores[k].revealed)
                        sb_printf(b, "%s%s %d", k ? ", " : "", p, rd->scores[k].value);
                }
                sb_puts(b, " | ");
            } else {
                sb_printf(b, " | | %s | ", _("not revealed"));
            }
            if (r == it->n_rounds && it->desired)
                sb_printf(b, "%d", it->desired);
            sb_puts(b, " |\n");
        }
    }
    sb_putc(b, '\n');

    for (int i = 0; i < st->n_items; i++) {
        const struct state_item *it = &st->items[i];
        sb_printf(b, "## %d. ", i + 1);
        md_cell(b, it->name);
        sb_puts(b, "\n\n");
        for (int r = 1; it->scored && r <= it->n_rounds; r++) {
            const struct state_round *rd = state_round(st, i, r);
            struct state_stats s;
            state_round_stats(st, i, r, &s);
            sb_printf(b, "**%s %d**: ", _("Round"), r);
            if (!rd->revealed) {
                sb_printf(b, _("Scores in: %d, not revealed."), rd->n_scores);
                sb_puts(b, "\n\n");
                continue;
            }
            bool save = lwk_color;
            lwk_color = false;
            view_stats_line(b, &s);
            lwk_color = save;
            sb_puts(b, "\n\n");
            md_bars(b, &s, it->scale_min, it->scale_max);
        }
        int nk = 0;
        for (int k = 0; k < st->n_keywords; k++) {
            const struct state_keyword *kw = &st->keywords[k];
            if (kw->removed || kw->item != i)
                continue;
            if (!nk++)
                sb_printf(b, "%s\n\n", _("Explanation (keywords):"));
            char p[16];
            pseudo(p, sizeof(p), kw->pid);
            sb_printf(b, "- %s: ", p);
            md_cell(b, kw->text);
            sb_putc(b, '\n');
        }
        if (nk)
            sb_putc(b, '\n');
        if (it->scored) {
            int np = 0;
            for (int k = 0; k < st->n_desired; k++)
                np += st->desired[k].item == i;
            if (it->desired || np) {
                sb_printf(b, "%s ", _("Desired score:"));
                if (it->desired)
                    sb_printf(b, "**%d**", it->desired);
                else
                    sb_puts(b, _("not agreed"));
                if (np) {
                    sb_printf(b, " (%s", _("proposed:"));
                    int n = 0;
                    for (int k = 0; k < st->n_desired; k++) {
                        char p[16];
                        if (st->desired[k].item != i)
                            continue;
                        pseudo(p, sizeof(p), st->desired[k].pid);
                        sb_printf(b, "%s %s %d", n++ ? "," : "", p, st->desired[k].value);
                    }
                    sb_puts(b, ")");
                }
                sb_puts(b, "\n\n");
            }
        }
    }

    sb_printf(b, "## %s\n\n", _("Themes"));
    if (!state_live_themes(st)) {
        sb_printf(b, "%s\n\n", _("None."));
    } else {
        sb_printf(b, "| # | %s | %s | %s |\n|---:|---|---|---:|\n", _("Theme"), _("Items"),
                  _("Votes"));
        for (int i = 0; i < st->n_themes; i++) {
            const struct state_theme *t = &st->themes[i];
            if (t->deleted || t->merged_into)
                continue;
            sb_printf(b, "| %d | ", t->id);
            md_cell(b, t->text);
            sb_puts(b, " | ");
            int n = 0;
            for (int k = 0; k < st->n_items; k++)
                if (t->items & (1u << k))
                    sb_printf(b, "%s%d", n++ ? ", " : "", k + 1);
            sb_printf(b, " | %d |\n", t->votes);
        }
        sb_putc(b, '\n');
    }

    sb_printf(b, "## %s\n\n", _("Actions"));
    if (!state_live_actions(st)) {
        sb_printf(b, "%s\n\n", _("None."));
    } else {
        sb_printf(b,
                  "| # | %s | %s | %s | %s | %s | %s | %s | %s |\n"
                  "|---:|---|---|---|---|---|---|---|---|\n",
                  _("Action"), _("Owner"), _("Role"), _("Where"), _("Deadline"),
                  _("Feedback moment"), _("Resources"), _("Agreed"));
        for (int i = 0; i < st->n_actions; i++) {
            const struct state_action *a = &st->actions[i];
            if (a->removed)
                continue;
            sb_printf(b, "| %lld | ", (long long)a->id);
            md_cell(b, a->text);
            const char *f[5] = {a->owner, a->role, a->where, a->deadline, a->feedback};
            for (int k = 0; k < 5; k++) {
                sb_puts(b, " | ");
                md_cell(b, f[k]);
            }
            sb_puts(b, " | ");
            md_cell(b, a->resources);
            sb_printf(b, " | %s |\n", a->confirmed ? _("yes") : _("no"));
        }
        sb_putc(b, '\n');
    }

    sb_printf(b, "## %s\n\n", _("Look ahead"));
    sb_printf(b, "%s %s\n\n", _("Next follow-up conversation:"),
              st->look_ahead_date[0] ? st->look_ahead_date : _("(no date yet)"));
    for (int i = 0; i < st->n_look_ahead; i++)
        if (!st->look_ahead[i].removed) {
            sb_puts(b, "- ");
            md_cell(b, st->look_ahead[i].text);
            sb_putc(b, '\n');
        }
    sb_putc(b, '\n');

    sb_printf(b, "## %s\n\n", _("Summary and look back"));
    sb_printf(b, "%s\n\n", st->summary ? st->summary : _("(no summary)"));
    int nr = 0;
    for (int i = 0; i < st->n_reactions; i++) {
        if (st->reactions[i].removed)
            continue;
        if (!nr++)
            sb_printf(b, "### %s\n\n", _("Reactions"));
        char p[16];
        pseudo(p, sizeof(p), st->reactions[i].pid);
        sb_printf(b, "- %s: ", p);
        md_cell(b, st->reactions[i].text);
        sb_putc(b, '\n');
    }
    if (nr)
        sb_putc(b, '\n');
    if (st->n_evaluations) {
        sb_printf(b, "### %s\n\n", _("Evaluation"));
        sb_printf(b, _("Mean %s of 5 (evaluations: %d)."), fmt_dec(m, sizeof(m), eval_mean(st), 1),
                  st->n_evaluations);
        sb_puts(b, "\n\n");
        for (int i = 0; i < st->n_evaluations; i++) {
            char p[16];
            pseudo(p, sizeof(p), st->evaluations[i].pid);
            sb_printf(b, "- %s: %d", p, st->evaluations[i].rating);
            if (st->evaluations[i].text) {
                sb_puts(b, " — ");
                md_cell(b, st->evaluations[i].text);
            }
            sb_putc(b, '\n');
        }
        sb_putc(b, '\n');
    }
}

/* ---- CSV: section,item,round,participant,field,value --------------------- */

static void csv_field(struct sbuf *b, const char *s)
{
    if (!s)
        return;
    if (!strpbrk(s, ",\"\r\n") && s[0] != ' ') {
        sb_puts(b, s);
        return;
    }
    sb_putc(b, '"');
    for (; *s; s++) {
        if (*s == '"')
            sb_putc(b, '"');
        sb_putc(b, *s);
    }
    sb_putc(b, '"');
}

static void csv_row(struct sbuf *b, const char *section, int item, int round, int pid,
                    const char *field, const char *value)
{
    char p[16];
    pseudo(p, sizeof(p), pid);
    sb_printf(b, "%s,", section);
    if (item > 0)
        sb_printf(b, "%d", item);
    sb_putc(b, ',');
    if (round > 0)
        sb_printf(b, "%d", round);
    sb_printf(b, ",%s,%s,", p, field);
    csv_field(b, value);
    sb_puts(b, "\r\n");
}

static void csv_int(struct sbuf *b, const char *section, int item, int round, int pid,
                    const char *field, long long v)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%lld", v);
    csv_row(b, section, item, round, pid, field, buf);
}

static void csv_num(struct sbuf *b, const char *section, int item, int round, const char *field,
                    double v, int decimals)
{
    struct sbuf t;
    sb_init(&t);
    json_num(&t, v, decimals);
    csv_row(b, section, item, round, 0, field, t.p);
    sb_free(&t);
}

static void csv_render(struct sbuf *b, const struct session_state *st)
{
    char when[32];
    now_iso(when, sizeof(when));
    sb_puts(b, "section,item,round,participant,field,value\r\n");
    csv_int(b, "session", 0, 0, 0, "id", st->session_id);
    csv_row(b, "session", 0, 0, 0, "team", st->team);
    csv_row(b, "session", 0, 0, 0, "instrument", st->instrument);
    if (st->facilitator)
        csv_row(b, "session", 0, 0, 0, "facilitator", st->facilitator);
    csv_row(b, "session", 0, 0, 0, "phase", phase_name(phase_of(st)));
    csv_int(b, "session", 0, 0, 0, "participants", state_live_participants(st));
    csv_row(b, "session", 0, 0, 0, "exported", when);
    for (int i = 0; i < st->n_items; i++) {
        const struct state_item *it = &st->items[i];
        csv_row(b, "item", i + 1, 0, 0, "name", it->name);
        csv_row(b, "item", i + 1, 0, 0, "scored", it->scored ? "yes" : "no");
        for (int r = 1; it->scored && r <= it->n_rounds; r++) {
            const struct state_round *rd = state_round(st, i, r);
            for (int k = 0; k < rd->n_scores; k++) {
                const struct state_score *s = &rd->scores[k];
                if (rd->revealed && s->revealed)
                    csv_int(b, "score", i + 1, r, s->pid, "value", s->value);
                else if (!rd->revealed)
                    csv_row(b, "score", i + 1, r, s->pid, "value", "");
            }
            csv_row(b, "stats", i + 1, r, 0, "revealed", rd->revealed ? "yes" : "no");
            if (!rd->revealed)
                continue;
            struct state_stats s;
            state_round_stats(st, i, r, &s);
            csv_int(b, "stats", i + 1, r, 0, "count", s.count);
            if (!s.count)
                continue;
            csv_num(b, "stats", i + 1, r, "mean", s.mean, 2);
            csv_num(b, "stats", i + 1, r, "median", s.median, 1);
            csv_int(b, "stats", i + 1, r, 0, "min", s.min);
            csv_int(b, "stats", i + 1, r, 0, "max", s.max);
            csv_num(b, "stats", i + 1, r, "spread", s.spread, 2);
            csv_row(b, "stats", i + 1, r, 0, "divided", s.divided ? "yes" : "no");
            for (int v = it->scale_min; v <= it->scale_max; v++) {
                char f[16];
                snprintf(f, sizeof(f), "dist_%d", v);
                csv_int(b, "stats", i + 1, r, 0, f, s.distribution[v]);
            }
        }
        for (int k = 0; k < st->n_keywords; k++) {
            const struct state_keyword *kw = &st->keywords[k];
            if (!kw->removed && kw->item == i)
                csv_row(b, "keyword", i + 1, 0, kw->pid, "text", kw->text);
        }
        for (int k = 0; k < st->n_desired; k++)
            if (st->desired[k].item == i)
                csv_int(b, "desired", i + 1, 0, st->desired[k].pid, "proposed",
                        st->desired[k].value);
        if (it->desired)
            csv_int(b, "desired", i + 1, 0, 0, "agreed", it->desired);
    }
    for (int i = 0; i < st->n_themes; i++) {
        const struct state_theme *t = &st->themes[i];
        if (t->deleted || t->merged_into)
            continue;
        csv_row(b, "theme", t->id, 0, t->pid, "text", t->text);
        struct sbuf items;
        sb_init(&items);
        for (int k = 0; k < st->n_items; k++)
            if (t->items & (1u << k))
                sb_printf(&items, "%s%d", items.len ? ";" : "", k + 1);
        if (items.len)
            csv_row(b, "theme", t->id, 0, 0, "items", items.p);
        sb_free(&items);
        csv_int(b, "theme", t->id, 0, 0, "votes", t->votes);
    }
    for (int i = 0; i < st->n_actions; i++) {
        const struct state_action *a = &st->actions[i];
        if (a->removed)
            continue;
        int id = (int)a->id;
        csv_row(b, "action", id, 0, a->pid, "text", a->text);
        const char *names[6] = {"owner", "role", "where", "deadline", "feedback", "resources"};
        const char *vals[6] = {a->owner,    a->role,
                               a->where,    a->deadline[0] ? a->deadline : NULL,
                               a->feedback, a->resources};
        for (int k = 0; k < 6; k++)
            if (vals[k] && *vals[k])
                csv_row(b, "action", id, 0, 0, names[k], vals[k]);
        if (a->item >= 0)
            csv_int(b, "action", id, 0, 0, "item", a->item + 1);
        if (a->theme > 0)
            csv_int(b, "action", id, 0, 0, "theme", a->theme);
        csv_row(b, "action", id, 0, 0, "confirmed", a->confirmed ? "yes" : "no");
    }
    if (st->look_ahead_date[0])
        csv_row(b, "look_ahead", 0, 0, 0, "date", st->look_ahead_date);
    for (int i = 0; i < st->n_look_ahead; i++)
        if (!st->look_ahead[i].removed)
            csv_row(b, "look_ahead", st->look_ahead[i].kid, 0, 0, "text", st->look_ahead[i].text);
    if (st->summary)
        csv_row(b, "summary", 0, 0, 0, "text", st->summary);
    for (int i = 0; i < st->n_reactions; i++)
        if (!st->reactions[i].removed)
            csv_row(b, "reaction", st->reactions[i].kid, 0, st->reactions[i].pid, "text",
                    st->reactions[i].text);
    for (int i = 0; i < st->n_evaluations; i++) {
        csv_int(b, "evaluation", 0, 0, st->evaluations[i].pid, "rating", st->evaluations[i].rating);
        if (st->evaluations[i].text)
            csv_row(b, "evaluation", 0, 0, st->evaluations[i].pid, "text", st->evaluations[i].text);
    }
}

/* ---- JSON ---------------------------------------------------------------- */

static void json_p(struct sbuf *b, int pid)
{
    char p[16];
    pseudo(p, sizeof(p), pid);
    json_str(b, pid > 0 ? p : NULL);
}

static void json_stats_obj(struct sbuf *b, const struct state_stats *s, int lo, int hi)
{
    sb_printf(b, "{\"count\":%d", s->count);
    if (s->count) {
        sb_puts(b, ",\"mean\":");
        json_num(b, s->mean, 2);
        sb_puts(b, ",\"median\":");
        json_num(b, s->median, 1);
        sb_printf(b, ",\"min\":%d,\"max\":%d,\"spread\":", s->min, s->max);
        json_num(b, s->spread, 2);
        sb_printf(b, ",\"divided\":%s", s->divided ? "true" : "false");
    }
    sb_puts(b, ",\"distribution\":{");
    for (int v = lo; v <= hi; v++)
        sb_printf(b, "%s\"%d\":%d", v > lo ? "," : "", v, s->distribution[v]);
    sb_puts(b, "}}");
}

static void json_render(struct sbuf *b, const struct session_state *st)
{
    char when[32];
    now_iso(when, sizeof(when));
    sb_printf(b, "{\"format\":\"lwk-scoresheet\",\"version\":1,\"session\":%lld,\"team\":",
              (long long)st->session_id);
    json_str(b, st->team);
    sb_puts(b, ",\"instrument\":");
    json_str(b, st->instrument);
    sb_puts(b, ",\"facilitator\":");
    json_str(b, st->facilitator);
    sb_printf(b, ",\"phase\":\"%s\",\"closed\":%s,\"exported\":", phase_name(phase_of(st)),
              st->closed ? "true" : "false");
    json_str(b, when);
    sb_puts(b, ",\"participants\":[");
    bool first = true;
    for (int i = 0; i < st->n_participants; i++) {
        if (st->participants[i].removed)
            continue;
        sb_puts(b, first ? "" : ",");
        json_p(b, st->participants[i].pid);
        first = false;
    }
    sb_puts(b, "],\"items\":[");
    for (int i = 0; i < st->n_items; i++) {
        const struct state_item *it = &st->items[i];
        sb_printf(b, "%s{\"item\":%d,\"name\":", i ? "," : "", i + 1);
        json_str(b, it->name);
        sb_printf(b, ",\"scored\":%s", it->scored ? "true" : "false");
        if (it->scored) {
            sb_printf(b, ",\"scale\":[%d,%d],\"desired\":", it->scale_min, it->scale_max);
            if (it->desired)
                sb_printf(b, "%d", it->desired);
            else
                sb_puts(b, "null");
            sb_puts(b, ",\"rounds\":[");
            for (int r = 1; r <= it->n_rounds; r++) {
                const struct state_round *rd = state_round(st, i, r);
                sb_printf(b, "%s{\"round\":%d,\"revealed\":%s,\"scores\":[", r > 1 ? "," : "", r,
                          rd->revealed ? "true" : "false");
                bool f2 = true;
                for (int k = 0; k < rd->n_scores; k++) {
                    const struct state_score *s = &rd->scores[k];
                    if (rd->revealed && !s->revealed)
                        continue;
                    sb_puts(b, f2 ? "{\"participant\":" : ",{\"participant\":");
                    json_p(b, s->pid);
                    if (rd->revealed)
                        sb_printf(b, ",\"value\":%d}", s->value);
                    else
                        sb_puts(b, ",\"value\":null}");
                    f2 = false;
                }
                sb_puts(b, "]");
                if (rd->revealed) {
                    struct state_stats s;
                    state_round_stats(st, i, r, &s);
                    sb_puts(b, ",\"stats\":");
                    json_stats_obj(b, &s, it->scale_min, it->scale_max);
                }
                sb_puts(b, "}");
            }
            sb_puts(b, "],\"desired_proposals\":[");
            bool f2 = true;
            for (int k = 0; k < st->n_desired; k++) {
                if (st->desired[k].item != i)
                    continue;
                sb_puts(b, f2 ? "{\"participant\":" : ",{\"participant\":");
                json_p(b, st->desired[k].pid);
                sb_printf(b, ",\"value\":%d}", st->desired[k].value);
                f2 = false;
            }
            sb_puts(b, "]");
        }
        sb_puts(b, ",\"keywords\":[");
        bool f3 = true;
        for (int k = 0; k < st->n_keywords; k++) {
            const struct state_keyword *kw = &st->keywords[k];
            if (kw->removed || kw->item != i)
                continue;
            sb_puts(b, f3 ? "{\"participant\":" : ",{\"participant\":");
            json_p(b, kw->pid);
            sb_puts(b, ",\"text\":");
            json_str(b, kw->text);
            sb_puts(b, "}");
            f3 = false;
        }
        sb_puts(b, "]}");
    }
    sb_puts(b, "],\"themes\":[");
    first = true;
    for (int i = 0; i < st->n_themes; i++) {
        const struct state_theme *t = &st->themes[i];
        if (t->deleted || t->merged_into)
            continue;
        sb_printf(b, "%s{\"id\":%d,\"text\":", first ? "" : ",", t->id);
        json_str(b, t->text);
        sb_puts(b, ",\"items\":[");
        bool f4 = true;
        for (int k = 0; k < st->n_items; k++)
            if (t->items & (1u << k)) {
                sb_printf(b, "%s%d", f4 ? "" : ",", k + 1);
                f4 = false;
            }
        sb_printf(b, "],\"votes\":%d,\"proposed_by\":", t->votes);
        json_p(b, t->pid);
        sb_puts(b, "}");
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
        sb_puts(b, ",\"role\":");
        json_str(b, a->role);
        sb_puts(b, ",\"where\":");
        json_str(b, a->where);
        sb_puts(b, ",\"deadline\":");
        json_str(b, a->deadline[0] ? a->deadline : NULL);
        sb_puts(b, ",\"feedback\":");
        json_str(b, a->feedback);
        sb_puts(b, ",\"resources\":");
        json_str(b, a->resources);
        sb_puts(b, ",\"item\":");
        if (a->item >= 0)
            sb_printf(b, "%d", a->item + 1);
        else
            sb_puts(b, "null");
        sb_puts(b, ",\"theme\":");
        if (a->theme > 0)
            sb_printf(b, "%d", a->theme);
        else
            sb_puts(b, "null");
        sb_printf(b, ",\"confirmed\":%s,\"proposed_by\":", a->confirmed ? "true" : "false");
        json_p(b, a->pid);
        sb_puts(b, "}");
        first = false;
    }
    sb_puts(b, "],\"look_ahead\":{\"date\":");
    json_str(b, st->look_ahead_date[0] ? st->look_ahead_date : NULL);
    sb_puts(b, ",\"items\":[");
    first = true;
    for (int i = 0; i < st->n_look_ahead; i++) {
        if (st->look_ahead[i].removed)
            continue;
        sb_puts(b, first ? "" : ",");
        json_str(b, st->look_ahead[i].text);
        first = false;
    }
    sb_puts(b, "]},\"summary\":");
    json_str(b, st->summary);
    sb_puts(b, ",\"reactions\":[");
    first = true;
    for (int i = 0; i < st->n_reactions; i++) {
        if (st->reactions[i].removed)
            continue;
        sb_puts(b, first ? "{\"participant\":" : ",{\"participant\":");
        json_p(b, st->reactions[i].pid);
        sb_puts(b, ",\"text\":");
        json_str(b, st->reactions[i].text);
        sb_puts(b, "}");
        first = false;
    }
    sb_puts(b, "],\"evaluations\":[");
    for (int i = 0; i < st->n_evaluations; i++) {
        sb_puts(b, i ? ",{\"participant\":" : "{\"participant\":");
        json_p(b, st->evaluations[i].pid);
        sb_printf(b, ",\"rating\":%d,\"text\":", st->evaluations[i].rating);
        json_str(b, st->evaluations[i].text);
        sb_puts(b, "}");
    }
    sb_puts(b, "],\"evaluation_mean\":");
    if (st->n_evaluations)
        json_num(b, eval_mean(st), 2);
    else
        sb_puts(b, "null");
    sb_puts(b, "}\n");
}

/* ---- HTML ---------------------------------------------------------------- */

static void h(struct sbuf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<':
            sb_puts(b, "&lt;");
            break;
        case '>':
            sb_puts(b, "&gt;");
            break;
        case '&':
            sb_puts(b, "&amp;");
            break;
        case '"':
            sb_puts(b, "&quot;");
            break;
        case '\n':
            sb_puts(b, "<br>");
            break;
        default:
            sb_putc(b, *s);
        }
    }
}

/* A bar chart of one round's grades, as inline SVG. */
static void svg_chart(struct sbuf *b, const struct state_stats *s, int lo, int hi)
{
    int n = hi - lo + 1, bw = 28, gap = 6, top = 14, ch = 100;
    int w = n * (bw + gap) + gap, hgt = top + ch + 20;
    int max = 1;
    for (int v = lo; v <= hi; v++)
        if (s->distribution[v] > max)
            max = s->distribution[v];
    sb_printf(b,
              "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
              "height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"",
              w, hgt, w, hgt);
    h(b, _("Distribution of the grades"));
    sb_puts(b, "\">\n");
    sb_printf(b, "<line x1=\"0\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#888\"/>\n", top + ch, w,
              top + ch);
    for (int v = lo; v <= hi; v++) {
        int i = v - lo, x = gap + i * (bw + gap);
        int bh = s->distribution[v] * ch / max;
        if (bh)
            sb_printf(b, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"/>\n", x,
                      top + ch - bh, bw, bh, v < 6 ? "#c0504d" : "#4f81bd");
        if (s->distribution[v])
            sb_printf(b,
                      "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\">%d</text>\n",
                      x + bw / 2, top + ch - bh - 3, s->distribution[v]);
        sb_printf(b, "<text x=\"%d\" y=\"%d\" font-size=\"12\" text-anchor=\"middle\">%d</text>\n",
                  x + bw / 2, top + ch + 15, v);
    }
    sb_puts(b, "</svg>\n");
}

static void html_render(struct sbuf *b, const struct session_state *st)
{
    char when[32], m[32], md[32];
    now_iso(when, sizeof(when));
    const char *lang = strncmp(_("Score sheet"), "Score", 5) ? "nl" : "en";
    sb_printf(b,
              "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n"
              "<title>",
              lang);
    h(b, _("Score sheet"));
    sb_puts(b, ": ");
    h(b, st->team);
    sb_puts(b,
            "</title>\n<style>\n"
            "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;"
            "max-width:60em;margin:2em auto;padding:0 1em;color:#222;line-height:1.4}\n"
            "h1{font-size:1.6em;border-bottom:2px solid #4f81bd;padding-bottom:.2em}\n"
            "h2{font-size:1.25em;margin-top:1.6em;color:#1f3d66}\n"
            "table{border-collapse:collapse;margin:.6em 0;width:100%}\n"
            "th,td{border:1px solid #bbb;padding:.25em .5em;text-align:left;vertical-align:top}\n"
            "th{background:#eef3fa}\n td.n{text-align:right}\n"
            ".meta td{border:none;padding:.1em .6em .1em 0}\n"
            ".item{page-break-inside:avoid;break-inside:avoid}\n"
            ".chart{display:block;margin:.4em 0}\n .note{color:#666;font-size:.9em}\n"
            "@media print{body{margin:0;max-width:none}h2{page-break-after:avoid}"
            "a{color:inherit;text-decoration:none}}\n"
            "</style>\n</head>\n<body>\n<h1>");
    h(b, _("Score sheet"));
    sb_puts(b, ": ");
    h(b, st->instrument);
    sb_puts(b, "</h1>\n<table class=\"meta\">\n");
    sb_printf(b, "<tr><td>%s</td><td><strong>", _("Team"));
    h(b, st->team);
    sb_printf(b, "</strong></td></tr>\n<tr><td>%s</td><td>%lld</td></tr>\n", _("Session"),
              (long long)st->session_id);
    if (st->facilitator) {
        sb_printf(b, "<tr><td>%s</td><td>", _("Facilitator"));
        h(b, st->facilitator);
        sb_puts(b, "</td></tr>\n");
    }
    sb_printf(b, "<tr><td>%s</td><td>%s</td></tr>\n", _("Step"), phase_title(phase_of(st)));
    sb_printf(b, "<tr><td>%s</td><td>%d</td></tr>\n", _("Participants"),
              state_live_participants(st));
    sb_printf(b, "<tr><td>%s</td><td>%s</td></tr>\n</table>\n", _("Exported"), when);
    sb_printf(b, "<p class=\"note\">%s</p>\n",
              _("Participants appear as P1, P2, ... in the order they joined."));

    sb_printf(b,
              "<h2>%s</h2>\n<table>\n<tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th>"
              "<th>%s</th><th>%s</th></tr>\n",
              _("Scores"), _("Item"), _("Round"), _("Scores"), _("Mean"), _("Median"),
              _("Desired"));
    for (int i = 0; i < st->n_items; i++) {
        const struct state_item *it = &st->items[i];
        if (!it->scored)
            continue;
        for (int r = 1; r <= it->n_rounds; r++) {
            const struct state_round *rd = state_round(st, i, r);
            struct state_stats s;
            state_round_stats(st, i, r, &s);
            sb_printf(b, "<tr><td>%d. ", i + 1);
            h(b, it->name);
            sb_printf(b, "</td><td class=\"n\">%d</td><td class=\"n\">%d</td>", r, rd->n_scores);
            if (rd->revealed && s.count)
                sb_printf(b, "<td class=\"n\">%s</td><td class=\"n\">%s</td>",
                          fmt_dec(m, sizeof(m), s.mean, 1), fmt_dec(md, sizeof(md), s.median, 1));
            else
                sb_printf(b, "<td colspan=\"2\">%s</td>", _("not revealed"));
            if (r == it->n_rounds && it->desired)
                sb_printf(b, "<td class=\"n\"><strong>%d</strong></td></tr>\n", it->desired);
            else
                sb_puts(b, "<td></td></tr>\n");
        }
    }
    sb_puts(b, "</table>\n");

    for (int i = 0; i < st->n_items; i++) {
        const struct state_item *it = &st->items[i];
        sb_printf(b, "<section class=\"item\">\n<h2>%d. ", i + 1);
        h(b, it->name);
        sb_puts(b, "</h2>\n");
        for (int r = 1; it->scored && r <= it->n_rounds; r++) {
            const struct state_round *rd = state_round(st, i, r);
            sb_printf(b, "<h3>%s %d</h3>\n", _("Round"), r);
            if (!rd->revealed) {
                sb_printf(b, "<p>");
                sb_printf(b, _("Scores in: %d, not revealed."), rd->n_scores);
                sb_printf(b, "</p>\n");
                continue;
            }
            struct state_stats s;
            state_round_stats(st, i, r, &s);
            bool save = lwk_color;
            lwk_color = false;
            struct sbuf line;
            sb_init(&line);
            view_stats_line(&line, &s);
            lwk_color = save;
            sb_puts(b, "<p>");
            h(b, line.p);
            sb_puts(b, "</p>\n");
            sb_free(&line);
            svg_chart(b, &s, it->scale_min, it->scale_max);
            sb_printf(b, "<table>\n<tr><th>%s</th><th>%s</th></tr>\n", _("Participant"),
                      _("Grade"));
            for (int k = 0; k < rd->n_scores; k++)
                if (rd->scores[k].revealed)
                    sb_printf(b, "<tr><td>P%d</td><td class=\"n\">%d</td></tr>\n",
                              rd->scores[k].pid, rd->scores[k].value);
            sb_puts(b, "</table>\n");
        }
        int nk = 0;
        for (int k = 0; k < st->n_keywords; k++) {
            const struct state_keyword *kw = &st->keywords[k];
            if (kw->removed || kw->item != i)
                continue;
            if (!nk++)
                sb_printf(b, "<h3>%s</h3>\n<ul>\n", _("Explanation (keywords):"));
            sb_printf(b, "<li>P%d: ", kw->pid);
            h(b, kw->text);
            sb_puts(b, "</li>\n");
        }
        if (nk)
            sb_puts(b, "</ul>\n");
        if (it->scored && it->desired)
            sb_printf(b, "<p>%s <strong>%d</strong></p>\n", _("Desired score:"), it->desired);
        sb_puts(b, "</section>\n");
    }

    sb_printf(b, "<h2>%s</h2>\n", _("Themes"));
    if (!state_live_themes(st)) {
        sb_printf(b, "<p>%s</p>\n", _("None."));
    } else {
        sb_printf(b, "<table>\n<tr><th>#</th><th>%s</th><th>%s</th><th>%s</th></tr>\n", _("Theme"),
                  _("Items"), _("Votes"));
        for (int i = 0; i < st->n_themes; i++) {
            const struct state_theme *t = &st->themes[i];
            if (t->deleted || t->merged_into)
                continue;
            sb_printf(b, "<tr><td class=\"n\">%d</td><td>", t->id);
            h(b, t->text);
            sb_puts(b, "</td><td>");
            int n = 0;
            for (int k = 0; k < st->n_items; k++)
                if (t->items & (1u << k))
                    sb_printf(b, "%s%d", n++ ? ", " : "", k + 1);
            sb_printf(b, "</td><td class=\"n\">%d</td></tr>\n", t->votes);
        }
        sb_puts(b, "</table>\n");
    }

    sb_printf(b, "<h2>%s</h2>\n", _("Actions"));
    if (!state_live_actions(st)) {
        sb_printf(b, "<p>%s</p>\n", _("None."));
    } else {
        sb_printf(b,
                  "<table>\n<tr><th>#</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th>"
                  "<th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr>\n",
                  _("Action"), _("Owner"), _("Role"), _("Where"), _("Deadline"),
                  _("Feedback moment"), _("Resources"), _("Agreed"));
        for (int i = 0; i < st->n_actions; i++) {
            const struct state_action *a = &st->actions[i];
            if (a->removed)
                continue;
            sb_printf(b, "<tr><td class=\"n\">%lld</td>", (long long)a->id);
            const char *f[7] = {a->text,     a->owner,    a->role,     a->where,
                                a->deadline, a->feedback, a->resources};
            for (int k = 0; k < 7; k++) {
                sb_puts(b, "<td>");
                h(b, f[k]);
                sb_puts(b, "</td>");
            }
            sb_printf(b, "<td>%s</td></tr>\n", a->confirmed ? _("yes") : _("no"));
        }
        sb_puts(b, "</table>\n");
    }

    sb_printf(b, "<h2>%s</h2>\n<p>%s ", _("Look ahead"), _("Next follow-up conversation:"));
    h(b, st->look_ahead_date[0] ? st->look_ahead_date : _("(no date yet)"));
    sb_puts(b, "</p>\n<ul>\n");
    for (int i = 0; i < st->n_look_ahead; i++)
        if (!st->look_ahead[i].removed) {
            sb_puts(b, "<li>");
            h(b, st->look_ahead[i].text);
            sb_puts(b, "</li>\n");
        }
    sb_puts(b, "</ul>\n");

    sb_printf(b, "<h2>%s</h2>\n<p>", _("Summary and look back"));
    h(b, st->summary ? st->summary : _("(no summary)"));
    sb_puts(b, "</p>\n");
    int nr = 0;
    for (int i = 0; i < st->n_reactions; i++) {
        if (st->reactions[i].removed)
            continue;
        if (!nr++)
            sb_printf(b, "<h3>%s</h3>\n<ul>\n", _("Reactions"));
        sb_printf(b, "<li>P%d: ", st->reactions[i].pid);
        h(b, st->reactions[i].text);
        sb_puts(b, "</li>\n");
    }
    if (nr)
        sb_puts(b, "</ul>\n");
    if (st->n_evaluations) {
        sb_printf(b, "<h3>%s</h3>\n<p>", _("Evaluation"));
        sb_printf(b, _("Mean %s of 5 (evaluations: %d)."), fmt_dec(m, sizeof(m), eval_mean(st), 1),
                  st->n_evaluations);
        sb_puts(b, "</p>\n<ul>\n");
        for (int i = 0; i < st->n_evaluations; i++) {
            sb_printf(b, "<li>P%d: %d", st->evaluations[i].pid, st->evaluations[i].rating);
            if (st->evaluations[i].text) {
                sb_puts(b, " — ");
                h(b, st->evaluations[i].text);
            }
            sb_puts(b, "</li>\n");
        }
        sb_puts(b, "</ul>\n");
    }
    sb_puts(b, "</body>\n</html>\n");
}

void export_render(struct sbuf *b, const struct session_state *st, enum export_format f,
                   const char *join_code)
{
    switch (f) {
    case EXPORT_MD:
        md_render(b, st);
        break;
    case EXPORT_CSV:
        csv_render(b, st);
        break;
    case EXPORT_JSON:
        json_render(b, st);
        break;
    case EXPORT_HTML:
        html_render(b, st);
        break;
    }
}
