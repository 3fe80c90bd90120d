/*
 * report.c: `lwk report`, the programme office's reports (issue 9).
 *
 * Connects straight to PostgreSQL with libpq, as an analyst (a login in
 * lwk_analyst, mapped to organisations in lwk.analyst_organisations) or as
 * the programme office (lwk_programme), and reads the lwk.report_* views of
 * sql/010_analysis.sql. What a login may see (its own organisations; numbers
 * over at least k people) is decided by the database, never here: this file
 * only chooses a scope, formats and draws. A command-line tool may block, so
 * it uses plain PQexecParams.
 *
 * Reports: trend, heatmap, gaps, actions, themes, participation, change.
 * Formats: an aligned table, CSV (RFC 4180), JSON, or one self-contained HTML
 * file with inline SVG charts and print CSS. docs/analysis.md documents every
 * column. Numbers reach the output as PostgreSQL's text, so JSON and CSV show
 * exactly what the views computed; only charts parse them (LC_NUMERIC is C).
 */
#include "report.h"

#include <getopt.h>
#include <libintl.h>
#include <libpq-fe.h>
#include <locale.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define REPORT_DOMAIN "lwk-report"
#define R_(s) dgettext(REPORT_DOMAIN, s)
#define RN_(s) (s)

enum {
    REPORT_EXIT_OK = 0,
    REPORT_EXIT_SCOPE = 1,
    REPORT_EXIT_USAGE = 2,
    REPORT_EXIT_CONNECT = 3,
    REPORT_EXIT_QUERY = 4,
};

enum report_format { REPORT_FMT_TABLE, REPORT_FMT_CSV, REPORT_FMT_JSON, REPORT_FMT_HTML };

enum report_kind {
    REPORT_TREND,
    REPORT_HEATMAP,
    REPORT_GAPS,
    REPORT_ACTIONS,
    REPORT_THEMES,
    REPORT_PARTICIPATION,
    REPORT_CHANGE,
    REPORT_KINDS,
    REPORT_ALL = REPORT_KINDS,
};

/* Query parameters, the same array for every report ($1 .. $10). */
enum {
    P_PERIOD,     /* $1  month | quarter | year */
    P_LEVEL,      /* $2  the scope's level: team .. organisation, all */
    P_UNIT,       /* $3  the scope's unit id (0 for all) */
    P_INSTRUMENT, /* $4  instrument key */
    P_FROM,       /* $5  date or NULL */
    P_TO,         /* $6  date or NULL */
    P_ITEM,       /* $7  item key or position, or NULL */
    P_BY,         /* $8  heatmap rows: team .. organisation */
    P_LIMIT,      /* $9  themes per period */
    P_ORG,        /* $10 the scope's organisation id (0 for all) */
    P_COUNT,
};

/* Limits on what the command line may ask for. */
#define REPORT_MAX_ARG 200
#define REPORT_MAX_THEMES 100

struct report_opts {
    const char *db;
    const char *org, *team, *unit;
    const char *from, *to;
    const char *period;
    const char *item;
    const char *instrument;
    const char *by;
    const char *out;
    int limit;
    enum report_format format;
    enum report_kind kind;
};

struct report_scope {
    char level[16];
    long long unit_id;
    long long org_id;
    char *name; /* owned */
};

/* One displayed column: the SQL name, its header, and the boolean column
 * whose true value means a NULL here is suppressed rather than missing. */
struct report_col {
    const char *name;
    const char *label;
    const char *flag;
};

struct report_def {
    const char *name;
    const char *title;
    const char *sql;
    const struct report_col *cols;
};

/* Everything a writer needs besides the results. */
struct report_ctx {
    const struct report_opts *o;
    struct report_scope scope;
    char k[16];
    char refreshed_at[64];
    char generated_at[64];
    bool any_suppressed;
    PGresult *res[REPORT_KINDS];
};

/* ------------------------------------------------------------------------ */
/* The reports                                                               */
/* ------------------------------------------------------------------------ */

#define SQL_SCOPE "period = $1 AND level = $2 AND unit_id = $3::bigint AND instrument = $4"
#define SQL_RANGE                                                                                  \
    "($5::date IS NULL OR period_start >= date_trunc($1, $5::date::timestamp)::date) "             \
    "AND ($6::date IS NULL OR period_start <= $6::date)"
#define SQL_ITEM "($7::text IS NULL OR item_key = $7 OR item::text = $7)"
/* Rows anywhere under the scope (heatmap, change); the organisation test
 * first, so that the organisation indexes serve it. */
#define SQL_UNDER                                                                                  \
    "($2 = 'all' OR organisation_id = $10::bigint) AND CASE $2 WHEN 'all' THEN true "              \
    "WHEN 'organisation' THEN organisation_id = $3::bigint "                                       \
    "WHEN 'location' THEN location_id = $3::bigint "                                               \
    "WHEN 'department' THEN department_id = $3::bigint ELSE team_id = $3::bigint END"

static const struct report_col trend_cols[] = {
    {"period_start", RN_("period"), NULL},   {"item_name", RN_("item"), NULL},
    {"n_sessions", RN_("sessions"), NULL},   {"n_participants", RN_("people"), "suppressed"},
    {"mean", RN_("mean"), "suppressed"},     {"median", RN_("median"), "suppressed"},
    {"q1", RN_("Q1"), "suppressed"},         {"q3", RN_("Q3"), "suppressed"},
    {"sd", RN_("sd"), "suppressed"},         {"desired_mean", RN_("desired"), "desired_suppressed"},
    {"change", RN_("change"), "suppressed"}, {NULL, NULL, NULL},
};
static const struct report_col heatmap_cols[] = {
    {"period_start", RN_("period"), NULL},   {"unit_name", RN_("unit"), NULL},
    {"item_name", RN_("item"), NULL},        {"n_participants", RN_("people"), "suppressed"},
    {"mean", RN_("mean"), "suppressed"},     {"median", RN_("median"), "suppressed"},
    {"change", RN_("change"), "suppressed"}, {NULL, NULL, NULL},
};
static const struct report_col gaps_cols[] = {
    {"period_start", RN_("period"), NULL},
    {"item_name", RN_("item"), NULL},
    {"mean", RN_("current"), "suppressed"},
    {"desired_mean", RN_("desired"), "desired_suppressed"},
    {"gap", RN_("gap"), "desired_suppressed"},
    {NULL, NULL, NULL},
};
static const struct report_col actions_cols[] = {
    {"period_start", RN_("period"), NULL},
    {"n_sessions", RN_("sessions"), NULL},
    {"n_actions", RN_("actions"), "suppressed"},
    {"n_open", RN_("open"), "suppressed"},
    {"n_in_progress", RN_("in progress"), "suppressed"},
    {"n_done", RN_("done"), "suppressed"},
    {"n_dropped", RN_("dropped"), "suppressed"},
    {"n_overdue", RN_("overdue"), "suppressed"},
    {"completion_rate", RN_("completion"), "suppressed"},
    {"overdue_rate", RN_("overdue rate"), "suppressed"},
    {"median_days_to_done", RN_("median days to done"), "suppressed"},
    {NULL, NULL, NULL},
};
static const struct report_col themes_cols[] = {
    {"period_start", RN_("period"), NULL}, {"rank", RN_("rank"), NULL},
    {"theme", RN_("theme"), NULL},         {"n_sessions", RN_("sessions"), NULL},
    {"n_teams", RN_("teams"), NULL},       {NULL, NULL, NULL},
};
static const struct report_col participation_cols[] = {
    {"period_start", RN_("period"), NULL},
    {"n_sessions", RN_("sessions"), NULL},
    {"n_teams", RN_("teams"), NULL},
    {"n_participants", RN_("people"), "suppressed"},
    {"n_participations", RN_("participations"), "suppressed"},
    {"n_ratings", RN_("ratings"), "rating_suppressed"},
    {"rating_mean", RN_("mean rating"), "rating_suppressed"},
    {NULL, NULL, NULL},
};
static const struct report_col change_cols[] = {
    {"team_name", RN_("team"), NULL},        {"item_name", RN_("item"), NULL},
    {"session_date", RN_("session"), NULL},  {"prev_session_date", RN_("previous"), NULL},
    {"mean", RN_("mean"), "suppressed"},     {"prev_mean", RN_("previous mean"), "suppressed"},
    {"change", RN_("change"), "suppressed"}, {NULL, NULL, NULL},
};

static const struct report_def report_defs[REPORT_KINDS] = {
    [REPORT_TREND] =
        {"trend", RN_("Trend per item"),
         "SELECT period_start, item, item_key, item_name, n_sessions, n_teams, suppressed, "
         "n_participants, n_scores, mean, median, q1, q3, sd, "
         "d1, d2, d3, d4, d5, d6, d7, d8, d9, d10, "
         "desired_suppressed, desired_mean, gap, prev_period_start, prev_mean, change "
         "FROM lwk.report_scores WHERE " SQL_SCOPE " AND " SQL_RANGE " AND " SQL_ITEM
         " ORDER BY item, item_key, period_start",
         trend_cols},
    [REPORT_HEATMAP] =
        {"heatmap", RN_("Heatmap: units by item"),
         "SELECT period_start, level, unit_id, unit_name, item, item_key, item_name, "
         "suppressed, n_participants, mean, median, change "
         "FROM lwk.report_scores WHERE period = $1 AND level = $8 AND instrument = $4 "
         "AND " SQL_UNDER " AND " SQL_ITEM " AND period_start = ("
         "  SELECT max(period_start) FROM lwk.report_scores WHERE period = $1 AND level = $8 "
         "  AND instrument = $4 AND " SQL_UNDER " AND " SQL_RANGE ") "
         /* Team 2 before Team 10: the first number in the name, padded. */
         "ORDER BY substring(unit_name from '^[^0-9]*'), "
         "lpad(substring(unit_name from '[0-9]+'), 20, '0') NULLS FIRST, unit_name, unit_id, "
         "item, item_key",
         heatmap_cols},
    [REPORT_GAPS] =
        {"gaps", RN_("Desired versus current"),
         "SELECT period_start, item, item_key, item_name, suppressed, n_participants, mean, "
         "desired_suppressed, desired_mean, gap "
         "FROM lwk.report_scores WHERE " SQL_SCOPE " AND " SQL_RANGE " AND " SQL_ITEM
         " ORDER BY item, item_key, period_start",
         gaps_cols},
    [REPORT_ACTIONS] =
        {"actions", RN_("Action follow-up"),
         "SELECT period_start, n_sessions, n_teams, suppressed, n_actions, n_open, "
         "n_in_progress, n_done, n_dropped, n_overdue, completion_rate, overdue_rate, "
         "median_days_to_done "
         "FROM lwk.report_actions WHERE " SQL_SCOPE " AND " SQL_RANGE " ORDER BY period_start",
         actions_cols},
    [REPORT_THEMES] =
        {"themes", RN_("Most frequent themes"),
         "SELECT period_start, rank, theme, n_sessions, n_teams FROM ("
         "  SELECT period_start, theme, n_sessions, n_teams, row_number() OVER ("
         "    PARTITION BY period_start ORDER BY n_sessions DESC, n_teams DESC, theme) AS rank "
         "  FROM lwk.report_themes WHERE " SQL_SCOPE " AND " SQL_RANGE ") t "
         "WHERE rank <= $9::int ORDER BY period_start, rank",
         themes_cols},
    [REPORT_PARTICIPATION] =
        {"participation", RN_("Participation and evaluation"),
         "SELECT period_start, n_sessions, n_teams, suppressed, n_participants, "
         "n_participations, rating_suppressed, n_ratings, rating_mean, "
         "r1, r2, r3, r4, r5 "
         "FROM lwk.report_participation WHERE " SQL_SCOPE " AND " SQL_RANGE
         " ORDER BY period_start",
         participation_cols},
    [REPORT_CHANGE] = {"change", RN_("Change since the previous session, per team"),
                       "SELECT team_id, team_name, item, item_key, item_name, session_date, "
                       "prev_session_date, suppressed, n_participants, mean, prev_mean, change "
                       "FROM lwk.report_team_change WHERE instrument = $4 AND " SQL_UNDER
                       " AND ($5::date IS NULL OR session_date >= $5::date) "
                       "AND ($6::date IS NULL OR session_date <= $6::date) AND " SQL_ITEM
                       " ORDER BY team_name, team_id, item, item_key, session_date",
                       change_cols},
};

/* ------------------------------------------------------------------------ */
/* Small helpers                                                             */
/* ------------------------------------------------------------------------ */

static const char *val(const PGresult *r, int row, const char *col)
{
    int c = PQfnumber(r, col);
    if (c < 0 || PQgetisnull(r, row, c))
        return NULL;
    return PQgetvalue(r, row, c);
}

static bool flag_true(const PGresult *r, int row, const char *col)
{
    const char *v = col ? val(r, row, col) : NULL;
    return v && v[0] == 't';
}

static bool num(const PGresult *r, int row, const char *col, double *out)
{
    const char *v = val(r, row, col);
    if (!v)
        return false;
    char *end;
    double d = strtod(v, &end);
    if (end == v || !isfinite(d))
        return false;
    *out = d;
    return true;
}

/* Display width of UTF-8 text: one column per code point. */
static size_t u8_width(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

/* The text of a displayed cell: the value, the suppression mark, or "". */
static const char *cell(struct report_ctx *ctx, const PGresult *r, int row,
                        const struct report_col *col)
{
    const char *v = val(r, row, col->name);
    if (v)
        return v;
    if (flag_true(r, row, col->flag)) {
        ctx->any_suppressed = true;
        return "\u2014";
    }
    return "";
}

/* "6.23" -> "6,2" in Dutch: one decimal, the translation's separator. */
static void fmt_dec(double d, int decimals, char *buf, size_t n)
{
    snprintf(buf, n, "%.*f", decimals, d);
    const char *sep = R_("decimal-point");
    if (strcmp(sep, "decimal-point") != 0 && sep[0] && !sep[1])
        for (char *p = buf; *p; p++)
            if (*p == '.')
                *p = sep[0];
}

/* A period's label from its first day: 2024, 2024-Q1 (2024-K1), 2024-03. */
static void period_label(const char *period, const char *date, char *buf, size_t n)
{
    int y = 0, m = 0;
    if (!date || sscanf(date, "%d-%d", &y, &m) != 2) {
        snprintf(buf, n, "%s", date ? date : "");
        return;
    }
    if (!strcmp(period, "year"))
        snprintf(buf, n, "%d", y);
    else if (!strcmp(period, "quarter"))
        snprintf(buf, n, "%d-%s%d", y, R_("Q"), (m - 1) / 3 + 1);
    else
        snprintf(buf, n, "%d-%02d", y, m);
}

static void xml_text(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&#39;", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c == '\r')
            fputs("\\r", f);
        else if (c == '\t')
            fputs("\\t", f);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

/* Type OIDs from pg_type.h (stable across releases). */
enum {
    OID_BOOL = 16,
    OID_INT8 = 20,
    OID_INT2 = 21,
    OID_INT4 = 23,
    OID_FLOAT4 = 700,
    OID_FLOAT8 = 701,
    OID_NUMERIC = 1700
};

static void json_value(FILE *f, const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col)) {
        fputs("null", f);
        return;
    }
    const char *v = PQgetvalue(r, row, col);
    switch (PQftype(r, col)) {
    case OID_BOOL:
        fputs(v[0] == 't' ? "true" : "false", f);
        break;
    case OID_INT2:
    case OID_INT4:
    case OID_INT8:
    case OID_FLOAT4:
    case OID_FLOAT8:
    case OID_NUMERIC: {
        /* NaN and infinities are not JSON numbers. */
        char *end;
        double d = strtod(v, &end);
        if (end != v && *end == '\0' && isfinite(d))
            fputs(v, f);
        else
            fputs("null", f);
        break;
    }
    default:
        json_string(f, v);
    }
}

static void json_rows(FILE *f, const PGresult *r, const char *indent)
{
    int rows = PQntuples(r), cols = PQnfields(r);
    fputc('[', f);
    for (int i = 0; i < rows; i++) {
        fprintf(f, "%s\n%s  {", i ? "," : "", indent);
        for (int c = 0; c < cols; c++) {
            fputs(c ? ", " : "", f);
            json_string(f, PQfname(r, c));
            fputs(": ", f);
            json_value(f, r, i, c);
        }
        fputc('}', f);
    }
    if (rows)
        fprintf(f, "\n%s", indent);
    fputc(']', f);
}

static void csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* ------------------------------------------------------------------------ */
/* Database                                                                  */
/* ------------------------------------------------------------------------ */

static PGresult *query(PGconn *c, const char *sql, int nparams, const char *const *params)
{
    Oid types[P_COUNT];
    for (int i = 0; i < P_COUNT; i++)
        types[i] = 25; /* text: unused parameters are then fine */
    PGresult *r = PQexecParams(c, sql, nparams, types, params, NULL, NULL, 0);
    if (PQresultStatus(r) == PGRES_TUPLES_OK)
        return r;
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    fprintf(stderr, "lwk report: %s", PQresultErrorMessage(r));
    if (state && !strcmp(state, "42501"))
        fprintf(stderr, "lwk report: %s\n",
                R_("this login may not read reports: it must be a member of lwk_analyst or "
                   "lwk_programme"));
    else if (state && !strcmp(state, "42P01"))
        fprintf(stderr, "lwk report: %s\n",
                R_("the analysis views are missing: apply the migrations (scripts/migrate.sh)"));
    PQclear(r);
    return NULL;
}

static PGconn *report_connect(const char *db)
{
    const char *keys[] = {"dbname", "fallback_application_name", NULL};
    const char *vals[] = {db, "lwk-report", NULL};
    /* expand_dbname: --db may be a full connection string or URI; unset
     * parts come from PGHOST, PGUSER, ... as everywhere in libpq. */
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    if (!c || PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "lwk report: %s: %s", R_("cannot connect to the database"),
                c ? PQerrorMessage(c) : "out of memory\n");
        PQfinish(c);
        return NULL;
    }
    return c;
}

/* Finds the unit the report is about: --team, --unit, --org, or (none
 * given) the programme office's "all organisations", or the analyst's only
 * organisation. Looked up in lwk.report_units, which shows this login only
 * what it may see. */
static int resolve_scope(PGconn *c, const struct report_opts *o, struct report_scope *s)
{
    const char *sql_one =
        "SELECT level, unit_id, name, organisation_id FROM lwk.report_units "
        "WHERE level = ANY (string_to_array($1, ',')) AND (unit_id::text = $2 OR name = $2) "
        "AND ($3::bigint IS NULL OR organisation_id = $3::bigint) ORDER BY unit_id";
    char orgbuf[32];
    const char *org_id = NULL;
    struct {
        const char *arg, *levels, *what;
    } steps[] = {
        {o->org, "organisation", RN_("organisation")},
        {o->team, "team", RN_("team")},
        {o->unit, "location,department", RN_("unit")},
    };
    bool found = false;
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        if (!steps[i].arg)
            continue;
        const char *params[3] = {steps[i].levels, steps[i].arg, org_id};
        PGresult *r = query(c, sql_one, 3, params);
        if (!r)
            return REPORT_EXIT_QUERY;
        int n = PQntuples(r);
        if (n != 1) {
            fprintf(stderr, "lwk report: ");
            if (n == 0)
                fprintf(stderr, R_("no %s '%s' that this login may see\n"), R_(steps[i].what),
                        steps[i].arg);
            else
                fprintf(stderr, R_("'%s' names %d units: give the id, or --org\n"), steps[i].arg,
                        n);
            PQclear(r);
            return REPORT_EXIT_SCOPE;
        }
        snprintf(s->level, sizeof s->level, "%s", PQgetvalue(r, 0, 0));
        s->unit_id = atoll(PQgetvalue(r, 0, 1));
        free(s->name);
        s->name = strdup(PQgetvalue(r, 0, 2));
        s->org_id = atoll(PQgetvalue(r, 0, 3));
        snprintf(orgbuf, sizeof orgbuf, "%lld", s->org_id);
        org_id = orgbuf;
        found = true;
        PQclear(r);
    }
    if (found)
        return REPORT_EXIT_OK;

    PGresult *r = query(c,
                        "SELECT pg_has_role('lwk_programme', 'MEMBER'), "
                        "(SELECT count(*) FROM lwk.report_units WHERE level = 'organisation'), "
                        "(SELECT min(unit_id) FROM lwk.report_units WHERE level = 'organisation'), "
                        "(SELECT min(name) FROM lwk.report_units WHERE level = 'organisation')",
                        0, NULL);
    if (!r)
        return REPORT_EXIT_QUERY;
    bool programme = PQgetvalue(r, 0, 0)[0] == 't';
    long long norgs = atoll(PQgetvalue(r, 0, 1));
    if (programme || norgs == 1) {
        snprintf(s->level, sizeof s->level, "%s", programme ? "all" : "organisation");
        s->unit_id = programme ? 0 : atoll(PQgetvalue(r, 0, 2));
        s->org_id = s->unit_id;
        s->name = strdup(programme ? R_("All organisations") : PQgetvalue(r, 0, 3));
        PQclear(r);
        return REPORT_EXIT_OK;
    }
    fprintf(stderr, "lwk report: %s\n",
            norgs == 0
                ? R_("this login may see no organisation (is it in lwk.analyst_organisations?)")
                : R_("this login may see several organisations: choose one with --org"));
    PQclear(r);
    return REPORT_EXIT_SCOPE;
}

/* ------------------------------------------------------------------------ */
/* Table, CSV, JSON                                                          */
/* ------------------------------------------------------------------------ */

static void write_table(FILE *f, struct report_ctx *ctx, enum report_kind k)
{
    const struct report_def *d = &report_defs[k];
    const PGresult *r = ctx->res[k];
    int rows = PQntuples(r), ncols = 0;
    while (d->cols[ncols].name)
        ncols++;
    size_t width[32] = {0};
    for (int c = 0; c < ncols; c++)
        width[c] = u8_width(R_(d->cols[c].label));
    for (int i = 0; i < rows; i++)
        for (int c = 0; c < ncols; c++) {
            size_t w = u8_width(cell(ctx, r, i, &d->cols[c]));
            if (w > width[c])
                width[c] = w;
        }
    fprintf(f, "%s: %s\n", R_(d->title), ctx->scope.name);
    for (int c = 0; c < ncols; c++)
        fprintf(f, "%s%s%*s", c ? "  " : "", R_(d->cols[c].label),
                c == ncols - 1 ? 0 : (int)(width[c] - u8_width(R_(d->cols[c].label))), "");
    fputc('\n', f);
    for (int c = 0; c < ncols; c++) {
        fputs(c ? "  " : "", f);
        for (size_t j = 0; j < width[c]; j++)
            fputc('-', f);
    }
    fputc('\n', f);
    for (int i = 0; i < rows; i++) {
        for (int c = 0; c < ncols; c++) {
            const char *t = cell(ctx, r, i, &d->cols[c]);
            int pad = (int)(width[c] - u8_width(t));
            /* Numbers right, text left. */
            int fc = PQfnumber(r, d->cols[c].name);
            Oid type = fc >= 0 ? PQftype(r, fc) : 0;
            bool right = type == OID_INT2 || type == OID_INT4 || type == OID_INT8 ||
                         type == OID_NUMERIC || type == OID_FLOAT8;
            if (right)
                fprintf(f, "%s%*s%s", c ? "  " : "", pad, "", t);
            else
                fprintf(f, "%s%s%*s", c ? "  " : "", t, c == ncols - 1 ? 0 : pad, "");
        }
        fputc('\n', f);
    }
    if (rows == 0)
        fprintf(f, "(%s)\n", R_("no data"));
    fputc('\n', f);
}

static void write_csv(FILE *f, const PGresult *r)
{
    int rows = PQntuples(r), cols = PQnfields(r);
    for (int c = 0; c < cols; c++) {
        fputs(c ? "," : "", f);
        csv_field(f, PQfname(r, c));
    }
    fputs("\r\n", f);
    for (int i = 0; i < rows; i++) {
        for (int c = 0; c < cols; c++) {
            fputs(c ? "," : "", f);
            if (PQgetisnull(r, i, c))
                continue;
            const char *v = PQgetvalue(r, i, c);
            if (PQftype(r, c) == OID_BOOL)
                v = v[0] == 't' ? "true" : "false";
            csv_field(f, v);
        }
        fputs("\r\n", f);
    }
}

static void write_json(FILE *f, struct report_ctx *ctx)
{
    const struct report_opts *o = ctx->o;
    fputs("{\n  \"generated_at\": ", f);
    json_string(f, ctx->generated_at);
    fputs(",\n  \"refreshed_at\": ", f);
    if (ctx->refreshed_at[0])
        json_string(f, ctx->refreshed_at);
    else
        fputs("null", f);
    fprintf(f, ",\n  \"k\": %s,\n  \"scope\": {\"level\": ", ctx->k[0] ? ctx->k : "null");
    json_string(f, ctx->scope.level);
    fprintf(f, ", \"unit_id\": %lld, \"organisation_id\": ", ctx->scope.unit_id);
    if (ctx->scope.org_id)
        fprintf(f, "%lld", ctx->scope.org_id);
    else
        fputs("null", f);
    fputs(", \"name\": ", f);
    json_string(f, ctx->scope.name);
    fputs("},\n  \"period\": ", f);
    json_string(f, o->period);
    fputs(",\n  \"instrument\": ", f);
    json_string(f, o->instrument);
    const char *opt[] = {"from", o->from, "to", o->to, "item", o->item};
    for (size_t i = 0; i < sizeof opt / sizeof opt[0]; i += 2) {
        fprintf(f, ",\n  \"%s\": ", opt[i]);
        if (opt[i + 1])
            json_string(f, opt[i + 1]);
        else
            fputs("null", f);
    }
    if (o->kind != REPORT_ALL) {
        fputs(",\n  \"report\": ", f);
        json_string(f, report_defs[o->kind].name);
        fputs(",\n  \"rows\": ", f);
        json_rows(f, ctx->res[o->kind], "  ");
    } else {
        fputs(",\n  \"reports\": {", f);
        bool first = true;
        for (int k = 0; k < REPORT_KINDS; k++) {
            if (!ctx->res[k])
                continue;
            fprintf(f, "%s\n    ", first ? "" : ",");
            json_string(f, report_defs[k].name);
            fputs(": ", f);
            json_rows(f, ctx->res[k], "    ");
            first = false;
        }
        fputs("\n  }", f);
    }
    fputs("\n}\n", f);
}

/* ------------------------------------------------------------------------ */
/* HTML and SVG                                                              */
/* ------------------------------------------------------------------------ */

static const char html_style[] =
    ":root{--ink:#1f2933;--muted:#616e7c;--line:#d9e2ec;--cur:#2f6f9f;--des:#1a9850;--pass:#c0392b;"
    "--sup:#9aa5b1}\n"
    "*{box-sizing:border-box}\n"
    "body{font-family:system-ui,-apple-system,'Segoe "
    "UI',Roboto,Helvetica,Arial,sans-serif;color:var(--ink);"
    "margin:24px auto;max-width:1120px;padding:0 16px;line-height:1.4;"
    "-webkit-print-color-adjust:exact;print-color-adjust:exact}\n"
    "h1{font-size:1.6em;margin:0 0 4px}h2{font-size:1.2em;margin:28px 0 8px;border-bottom:2px "
    "solid var(--line);"
    "padding-bottom:4px}\n"
    ".meta{color:var(--muted);margin:0 0 8px}\n"
    ".charts{display:flex;flex-wrap:wrap;gap:12px}\n"
    "figure{margin:0;border:1px solid var(--line);border-radius:6px;padding:8px;background:#fff}\n"
    "figcaption{font-weight:600;font-size:.9em;margin-bottom:4px}\n"
    "svg{display:block;max-width:100%;height:auto}\n"
    "svg text{font-family:inherit;font-size:11px;fill:var(--ink)}\n"
    "svg .axis{stroke:#9aa5b1;stroke-width:1}svg .grid{stroke:var(--line);stroke-width:1}\n"
    "svg .pass{stroke:var(--pass);stroke-width:1.5;stroke-dasharray:6 4}\n"
    "svg .cur{fill:none;stroke:var(--cur);stroke-width:2.5}svg .des{fill:none;stroke:var(--des);"
    "stroke-width:2;stroke-dasharray:3 3}\n"
    "svg .dot{fill:var(--cur)}svg .supmark{fill:var(--sup);font-size:14px}\n"
    "svg .muted{fill:var(--muted)}\n"
    "table{border-collapse:collapse;margin:10px 0;font-size:.85em}\n"
    "th,td{border-bottom:1px solid var(--line);padding:3px 8px;text-align:left}\n"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
    "td.sup{color:var(--sup);text-align:center}\n"
    ".legend{color:var(--muted);font-size:.9em}.legend "
    ".sw{display:inline-block;width:12px;height:12px;"
    "vertical-align:middle;margin:0 4px 0 12px;border:1px solid #0002}\n"
    "details{margin:6px 0}summary{cursor:pointer;color:var(--muted)}\n"
    "@page{size:A4;margin:14mm}\n"
    "@media print{body{margin:0;max-width:none;font-size:10pt}figure,tr{break-inside:avoid}"
    "h2{break-after:avoid}summary{display:none}details:not([open]){display:none}"
    ".charts{gap:6px}figure{border:none;padding:0}}\n";

/* Red below the pass mark, through yellow at 5.5, to green at 8 and up. */
static void heat_colour(double m, char *buf, size_t n)
{
    static const double red[3] = {215, 48, 39}, yellow[3] = {254, 224, 139},
                        green[3] = {26, 152, 80};
    const double *a, *b;
    double t;
    if (m < 5.5) {
        a = red, b = yellow;
        t = (m - 3.5) / 2.0;
    } else {
        a = yellow, b = green;
        t = (m - 5.5) / 2.5;
    }
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    snprintf(buf, n, "#%02x%02x%02x", (int)lround(a[0] + (b[0] - a[0]) * t),
             (int)lround(a[1] + (b[1] - a[1]) * t), (int)lround(a[2] + (b[2] - a[2]) * t));
}

/* Distinct values of a column in row order (the queries sort them). */
struct distinct {
    int n;
    const char **v; /* borrowed from the result */
};

static struct distinct distinct_values(const PGresult *r, const char *col, bool sort)
{
    struct distinct d = {0, calloc((size_t)PQntuples(r) + 1, sizeof(char *))};
    for (int i = 0; i < PQntuples(r) && d.v; i++) {
        const char *v = val(r, i, col);
        if (!v)
            continue;
        bool seen = false;
        for (int j = 0; j < d.n && !seen; j++)
            seen = !strcmp(d.v[j], v);
        if (!seen)
            d.v[d.n++] = v;
    }
    if (sort && d.n > 1)
        for (int i = 1; i < d.n; i++) /* insertion sort: ISO dates sort as text */
            for (int j = i; j > 0 && strcmp(d.v[j - 1], d.v[j]) > 0; j--) {
                const char *t = d.v[j];
                d.v[j] = d.v[j - 1];
                d.v[j - 1] = t;
            }
    return d;
}

static int find(const struct distinct *d, const char *v)
{
    for (int i = 0; v && i < d->n; i++)
        if (!strcmp(d->v[i], v))
            return i;
    return -1;
}

/* One chart per item: the mean per period (solid), the desired score
 * (dashed green), the pass mark 5.5 (dashed red); a suppressed period
 * breaks the line and shows a grey dash on the axis. */
static void svg_trend(FILE *f, struct report_ctx *ctx, const PGresult *r)
{
    const double W = 520, H = 250, L = 34, R = 14, T = 16, B = 44;
    const double pw = W - L - R, ph = H - T - B;
    struct distinct periods = distinct_values(r, "period_start", true);
    struct distinct items = distinct_values(r, "item_key", false);
    int np = periods.n;
    int step = np > 10 ? (np + 9) / 10 : 1;
    char buf[64];
    /* Per period of the item at hand: x, mean, desired; whether each is
     * there, and whether the period is suppressed. */
    size_t n = (size_t)(np > 0 ? np : 1);
    double *xs = calloc(n, sizeof *xs), *mean = calloc(n, sizeof *mean);
    double *desired = calloc(n, sizeof *desired);
    bool *has = calloc(n, sizeof *has), *hasd = calloc(n, sizeof *hasd),
         *sup = calloc(n, sizeof *sup);
    if (!xs || !mean || !desired || !has || !hasd || !sup)
        items.n = 0; /* out of memory: no charts, the table still follows */

    fputs("<div class=\"charts\">\n", f);
    for (int it = 0; it < items.n; it++) {
        const char *name = NULL;
        memset(has, 0, n * sizeof *has);
        memset(hasd, 0, n * sizeof *hasd);
        memset(sup, 0, n * sizeof *sup);
        for (int i = 0; i < PQntuples(r); i++) {
            const char *key = val(r, i, "item_key");
            if (!key || strcmp(key, items.v[it]))
                continue;
            int p = find(&periods, val(r, i, "period_start"));
            if (p < 0)
                continue;
            name = val(r, i, "item_name") ? val(r, i, "item_name") : key;
            has[p] = num(r, i, "mean", &mean[p]);
            hasd[p] = num(r, i, "desired_mean", &desired[p]);
            sup[p] = flag_true(r, i, "suppressed");
        }
        fputs("<figure class=\"chart trend\"><figcaption>", f);
        xml_text(f, name);
        fprintf(
            f,
            "</figcaption>\n<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %.0f %.0f\" "
            "width=\"%.0f\" height=\"%.0f\" role=\"img\"><title>",
            W, H, W, H);
        xml_text(f, name);
        fputs("</title>\n", f);
        for (int g = 1; g <= 10; g++) {
            double y = T + (10 - g) / 9.0 * ph;
            fprintf(f,
                    "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
                    "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" class=\"muted\">%d</text>\n",
                    L, y, L + pw, y, L - 6, y + 4, g);
        }
        double ypass = T + (10 - 5.5) / 9.0 * ph;
        fmt_dec(5.5, 1, buf, sizeof buf);
        fprintf(f,
                "<line class=\"pass\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
                "<text x=\"%.1f\" y=\"%.1f\" style=\"fill:var(--pass)\">%s</text>\n",
                L, ypass, L + pw, ypass, L + 3, ypass + 12, buf);
        fprintf(f, "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", L,
                T + ph, L + pw, T + ph);
        for (int p = 0; p < np; p++) {
            xs[p] = np == 1 ? L + pw / 2 : L + 10 + (pw - 20) * p / (np - 1);
            if (p % step == 0 || p == np - 1) {
                period_label(ctx->o->period, periods.v[p], buf, sizeof buf);
                fprintf(f,
                        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" "
                        "transform=\"rotate(-35 %.1f %.1f)\" class=\"muted\">%s</text>\n",
                        xs[p], T + ph + 14, xs[p], T + ph + 14, buf);
            }
        }
        for (int pass = 0; pass < 2; pass++) {
            const double *v = pass ? desired : mean;
            const bool *h = pass ? hasd : has;
            bool open = false;
            fprintf(f, "<path class=\"%s\" d=\"", pass ? "des" : "cur");
            for (int p = 0; p < np; p++) {
                if (!h[p]) {
                    if (sup[p])
                        open = false; /* a suppressed period breaks the line */
                    continue;
                }
                fprintf(f, "%s%.1f %.1f ", open ? "L" : "M", xs[p], T + (10 - v[p]) / 9.0 * ph);
                open = true;
            }
            fputs("\"/>\n", f);
        }
        for (int p = 0; p < np; p++) {
            if (has[p]) {
                fmt_dec(mean[p], 1, buf, sizeof buf);
                fprintf(f,
                        "<circle class=\"dot\" cx=\"%.1f\" cy=\"%.1f\" "
                        "r=\"3.5\"><title>%s</title></circle>\n",
                        xs[p], T + (10 - mean[p]) / 9.0 * ph, buf);
            } else if (sup[p]) {
                ctx->any_suppressed = true;
                fprintf(
                    f,
                    "<text class=\"supmark\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">\u2014"
                    "<title>%s</title></text>\n",
                    xs[p], T + ph - 4, R_("suppressed"));
            }
        }
        fputs("</svg></figure>\n", f);
    }
    fputs("</div>\n", f);
    free(xs);
    free(mean);
    free(desired);
    free(has);
    free(hasd);
    free(sup);
    free(periods.v);
    free(items.v);
}

/* Units by items for one period; colour by mean, grey "—" when suppressed. */
static void svg_heatmap(FILE *f, struct report_ctx *ctx, const PGresult *r)
{
    struct distinct units = distinct_values(r, "unit_id", false);
    struct distinct items = distinct_values(r, "item_key", false);
    const double LW = 230, CW = 124, CH = 30, HH = 40;
    double W = LW + CW * items.n + 8, H = HH + CH * units.n + 8;
    char buf[64], colour[16];

    fprintf(f,
            "<figure class=\"chart heatmap\"><svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 "
            "0 %.0f %.0f\" "
            "width=\"%.0f\" height=\"%.0f\" role=\"img\"><title>%s</title>\n",
            W, H, W, H, R_("Heatmap: units by item"));
    for (int c = 0; c < items.n; c++) {
        const char *name = items.v[c];
        for (int i = 0; i < PQntuples(r); i++)
            if (val(r, i, "item_key") && !strcmp(val(r, i, "item_key"), items.v[c]) &&
                val(r, i, "item_name")) {
                name = val(r, i, "item_name");
                break;
            }
        /* Two lines when the name has a space: item names are long. */
        const char *space = strrchr(name, ' ');
        double x = LW + CW * c + CW / 2;
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-weight=\"600\">", x,
                space ? HH - 22.0 : HH - 8.0);
        if (space) {
            fputs("<tspan>", f);
            for (const char *p = name; p < space; p++)
                xml_text(f, (char[]){*p, 0});
            fprintf(f, "</tspan><tspan x=\"%.1f\" dy=\"13\">", x);
            xml_text(f, space + 1);
            fputs("</tspan>", f);
        } else {
            xml_text(f, name);
        }
        fputs("</text>\n", f);
    }
    for (int u = 0; u < units.n; u++) {
        double y = HH + CH * u;
        const char *uname = units.v[u];
        for (int i = 0; i < PQntuples(r); i++)
            if (val(r, i, "unit_id") && !strcmp(val(r, i, "unit_id"), units.v[u]) &&
                val(r, i, "unit_name")) {
                uname = val(r, i, "unit_name");
                break;
            }
        /* Long names are cut to fit the label column. */
        char label[96];
        snprintf(label, sizeof label, "%s", uname);
        if (u8_width(label) > 34) {
            size_t cut = 0, w = 0;
            while (label[cut] && w < 32) {
                cut++;
                while (((unsigned char)label[cut] & 0xC0) == 0x80)
                    cut++;
                w++;
            }
            snprintf(label + cut, sizeof label - cut, "\u2026");
        }
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", LW - 8, y + CH / 2 + 4);
        xml_text(f, label);
        fputs("<title>", f);
        xml_text(f, uname);
        fputs("</title></text>\n", f);
        for (int c = 0; c < items.n; c++) {
            double x = LW + CW * c, m = 0;
            int row = -1;
            for (int i = 0; i < PQntuples(r) && row < 0; i++)
                if (val(r, i, "unit_id") && !strcmp(val(r, i, "unit_id"), units.v[u]) &&
                    val(r, i, "item_key") && !strcmp(val(r, i, "item_key"), items.v[c]))
                    row = i;
            if (row >= 0 && num(r, row, "mean", &m)) {
                heat_colour(m, colour, sizeof colour);
                fmt_dec(m, 1, buf, sizeof buf);
                fprintf(f,
                        "<rect class=\"cell\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                        "fill=\"%s\" "
                        "stroke=\"#fff\" stroke-width=\"2\"/><text x=\"%.1f\" y=\"%.1f\" "
                        "text-anchor=\"middle\" "
                        "font-weight=\"600\">%s</text>\n",
                        x, y, CW, CH, colour, x + CW / 2, y + CH / 2 + 4, buf);
            } else if (row >= 0 && flag_true(r, row, "suppressed")) {
                ctx->any_suppressed = true;
                fprintf(
                    f,
                    "<rect class=\"cell sup\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                    "fill=\"#e4e7eb\" stroke=\"#fff\" stroke-width=\"2\"/><text x=\"%.1f\" "
                    "y=\"%.1f\" "
                    "text-anchor=\"middle\" class=\"muted\">\u2014<title>%s</title></text>\n",
                    x, y, CW, CH, x + CW / 2, y + CH / 2 + 4, R_("suppressed"));
            } else {
                fprintf(f,
                        "<rect class=\"cell none\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                        "height=\"%.1f\" "
                        "fill=\"#f5f7fa\" stroke=\"#fff\" stroke-width=\"2\"/>\n",
                        x, y, CW, CH);
            }
        }
    }
    fputs("</svg></figure>\n", f);
    fprintf(f,
            "<p class=\"legend\"><span class=\"sw\" style=\"background:#d73027\"></span>&lt; %s"
            "<span class=\"sw\" style=\"background:#fee08b\"></span>",
            "4");
    fmt_dec(5.5, 1, buf, sizeof buf);
    fprintf(f,
            "%s<span class=\"sw\" style=\"background:#1a9850\"></span>\u2265 8"
            "<span class=\"sw\" style=\"background:#e4e7eb\"></span>\u2014 %s</p>\n",
            buf, R_("suppressed"));
    free(units.v);
    free(items.v);
}

/* The latest period with data: current mean and desired score per item. */
static void svg_gaps(FILE *f, struct report_ctx *ctx, const PGresult *r)
{
    struct distinct periods = distinct_values(r, "period_start", true);
    if (periods.n == 0) {
        free(periods.v);
        return;
    }
    const char *last = periods.v[periods.n - 1];
    const double LW = 200, BW = 420, BH = 14, RH = 46, T = 24;
    int nrows = 0;
    for (int i = 0; i < PQntuples(r); i++)
        if (val(r, i, "period_start") && !strcmp(val(r, i, "period_start"), last))
            nrows++;
    double W = LW + BW + 120, H = T + RH * nrows + 24;
    char buf[64], buf2[64], lab[64];

    period_label(ctx->o->period, last, lab, sizeof lab);
    fprintf(f,
            "<figure class=\"chart gaps\"><figcaption>%s</figcaption>"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" "
            "height=\"%.0f\" "
            "role=\"img\"><title>%s</title>\n",
            lab, W, H, W, H, R_("Desired versus current"));
    for (int g = 0; g <= 10; g += 2)
        fprintf(f,
                "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" class=\"muted\">%d</text>\n",
                LW + BW * g / 10, T - 4, LW + BW * g / 10, H - 20, LW + BW * g / 10, H - 6, g);
    double xp = LW + BW * 0.55;
    fprintf(f, "<line class=\"pass\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", xp,
            T - 10, xp, H - 20);
    int row = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        if (!val(r, i, "period_start") || strcmp(val(r, i, "period_start"), last))
            continue;
        double y = T + RH * row++, m, d;
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", LW - 8, y + BH + 4);
        xml_text(f, val(r, i, "item_name") ? val(r, i, "item_name") : val(r, i, "item_key"));
        fputs("</text>\n", f);
        bool hm = num(r, i, "mean", &m), hd = num(r, i, "desired_mean", &d);
        if (hm) {
            fmt_dec(m, 1, buf, sizeof buf);
            fprintf(
                f,
                "<rect class=\"bar cur\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                "style=\"fill:var(--cur);stroke:none\"/><text x=\"%.1f\" y=\"%.1f\">%s %s</text>\n",
                LW, y + 2, BW * m / 10, BH, LW + BW * m / 10 + 4, y + BH, R_("current"), buf);
        } else if (flag_true(r, i, "suppressed")) {
            ctx->any_suppressed = true;
            fprintf(f, "<text class=\"muted\" x=\"%.1f\" y=\"%.1f\">\u2014 %s</text>\n", LW + 4,
                    y + BH, R_("suppressed"));
        }
        if (hd) {
            fmt_dec(d, 1, buf, sizeof buf);
            fprintf(f,
                    "<rect class=\"bar des\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                    "style=\"fill:var(--des);stroke:none\"/><text x=\"%.1f\" y=\"%.1f\">%s %s",
                    LW, y + BH + 6, BW * d / 10, BH, LW + BW * d / 10 + 4, y + 2 * BH + 4,
                    R_("desired"), buf);
            if (hm) {
                fmt_dec(d - m, 1, buf2, sizeof buf2);
                fprintf(f, " (%s%s)", d - m >= 0 ? "+" : "", buf2);
            }
            fputs("</text>\n", f);
        } else if (flag_true(r, i, "desired_suppressed")) {
            ctx->any_suppressed = true;
            fprintf(f, "<text class=\"muted\" x=\"%.1f\" y=\"%.1f\">\u2014 %s</text>\n", LW + 4,
                    y + 2 * BH + 4, R_("suppressed"));
        }
    }
    fputs("</svg></figure>\n", f);
    free(periods.v);
}

/* Per period a stacked bar: done, in progress, open, dropped. */
static void svg_actions(FILE *f, struct report_ctx *ctx, const PGresult *r)
{
    int n = PQntuples(r);
    const double LW = 90, BW = 460, BH = 18, RH = 26, T = 10;
    double max = 1;
    for (int i = 0; i < n; i++) {
        double a;
        if (num(r, i, "n_actions", &a) && a > max)
            max = a;
    }
    double W = LW + BW + 230, H = T + RH * n + 34;
    static const struct {
        const char *col, *label, *colour;
    } parts[] = {
        {"n_done", RN_("done"), "#1a9850"},
        {"n_in_progress", RN_("in progress"), "#4575b4"},
        {"n_open", RN_("open"), "#fdae61"},
        {"n_dropped", RN_("dropped"), "#bdbdbd"},
    };
    char lab[64], b1[32], b2[32];
    fprintf(f,
            "<figure class=\"chart actions\"><svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 "
            "0 %.0f %.0f\" "
            "width=\"%.0f\" height=\"%.0f\" role=\"img\"><title>%s</title>\n",
            W, H, W, H, R_("Action follow-up"));
    for (int i = 0; i < n; i++) {
        double y = T + RH * i, x = LW, total;
        period_label(ctx->o->period, val(r, i, "period_start"), lab, sizeof lab);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", LW - 8,
                y + BH - 4, lab);
        if (!num(r, i, "n_actions", &total)) {
            if (flag_true(r, i, "suppressed")) {
                ctx->any_suppressed = true;
                fprintf(f, "<text class=\"muted\" x=\"%.1f\" y=\"%.1f\">\u2014 %s</text>\n", LW + 4,
                        y + BH - 4, R_("suppressed"));
            }
            continue;
        }
        for (size_t p = 0; p < sizeof parts / sizeof parts[0]; p++) {
            double c;
            if (!num(r, i, parts[p].col, &c) || c <= 0)
                continue;
            double w = BW * c / max;
            fprintf(f,
                    "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                    "fill=\"%s\">"
                    "<title>%s: %.0f</title></rect>\n",
                    x, y, w, BH, parts[p].colour, R_(parts[p].label), c);
            x += w;
        }
        double cr = 0, od = 0;
        num(r, i, "completion_rate", &cr);
        num(r, i, "overdue_rate", &od);
        snprintf(b1, sizeof b1, "%.0f%%", cr * 100);
        snprintf(b2, sizeof b2, "%.0f%%", od * 100);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">%.0f \u00b7 %s %s \u00b7 %s %s</text>\n", x + 6,
                y + BH - 4, total, b1, R_("done"), b2, R_("overdue"));
    }
    double lx = LW;
    for (size_t p = 0; p < sizeof parts / sizeof parts[0]; p++) {
        fprintf(f,
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" fill=\"%s\"/>"
                "<text x=\"%.1f\" y=\"%.1f\">%s</text>\n",
                lx, H - 18, parts[p].colour, lx + 16, H - 8, R_(parts[p].label));
        lx += 130;
    }
    fputs("</svg></figure>\n", f);
}

/* Vertical bars: a count per period or per label. */
static void svg_bars(FILE *f, struct report_ctx *ctx, const PGresult *r, const char *labelcol,
                     const char *valuecol, const char *title, bool horizontal)
{
    int n = PQntuples(r);
    double max = 1, v;
    for (int i = 0; i < n; i++)
        if (num(r, i, valuecol, &v) && v > max)
            max = v;
    char lab[64];
    if (horizontal) {
        const double LW = 260, BW = 380, RH = 22, T = 6;
        double W = LW + BW + 60, H = T + RH * n + 6;
        fprintf(f,
                "<figure class=\"chart bars\"><svg xmlns=\"http://www.w3.org/2000/svg\" "
                "viewBox=\"0 0 %.0f %.0f\" "
                "width=\"%.0f\" height=\"%.0f\" role=\"img\"><title>%s</title>\n",
                W, H, W, H, title);
        for (int i = 0; i < n; i++) {
            double y = T + RH * i;
            if (!num(r, i, valuecol, &v))
                continue;
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", LW - 8, y + 14);
            xml_text(f, val(r, i, labelcol));
            fprintf(f,
                    "</text><rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"16\" "
                    "style=\"fill:var(--cur)\"/><text x=\"%.1f\" y=\"%.1f\">%.0f</text>\n",
                    LW, y + 2, BW * v / max, LW + BW * v / max + 4, y + 14, v);
        }
    } else {
        const double L = 30, T = 12, PH = 150, B = 46;
        double bw = n > 0 ? (n > 40 ? 12 : 26) : 26, W = L + (bw + 6) * n + 20, H = T + PH + B;
        if (W < 320)
            W = 320;
        fprintf(f,
                "<figure class=\"chart bars\"><svg xmlns=\"http://www.w3.org/2000/svg\" "
                "viewBox=\"0 0 %.0f %.0f\" "
                "width=\"%.0f\" height=\"%.0f\" role=\"img\"><title>%s</title>\n",
                W, H, W, H, title);
        fprintf(f, "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", L,
                T + PH, W - 10, T + PH);
        int step = n > 16 ? (n + 15) / 16 : 1;
        for (int i = 0; i < n; i++) {
            double x = L + 6 + (bw + 6) * i;
            if (num(r, i, valuecol, &v)) {
                double h = PH * v / max;
                fprintf(f,
                        "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                        "style=\"fill:var(--cur)\"><title>%.0f</title></rect>\n",
                        x, T + PH - h, bw, h, v);
                if (n <= 24)
                    fprintf(f,
                            "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
                            "class=\"muted\">%.0f</text>\n",
                            x + bw / 2, T + PH - h - 3, v);
            }
            if (i % step == 0) {
                period_label(ctx->o->period, val(r, i, labelcol), lab, sizeof lab);
                fprintf(f,
                        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" transform=\"rotate(-35 "
                        "%.1f %.1f)\" "
                        "class=\"muted\">%s</text>\n",
                        x + bw / 2, T + PH + 14, x + bw / 2, T + PH + 14, lab);
            }
        }
    }
    fputs("</svg></figure>\n", f);
}

static void html_table(FILE *f, struct report_ctx *ctx, enum report_kind k)
{
    const struct report_def *d = &report_defs[k];
    const PGresult *r = ctx->res[k];
    char lab[64];
    fputs("<table><thead><tr>", f);
    for (const struct report_col *c = d->cols; c->name; c++) {
        fputs("<th>", f);
        xml_text(f, R_(c->label));
        fputs("</th>", f);
    }
    fputs("</tr></thead><tbody>\n", f);
    for (int i = 0; i < PQntuples(r); i++) {
        fputs("<tr>", f);
        for (const struct report_col *c = d->cols; c->name; c++) {
            const char *t = cell(ctx, r, i, c);
            int fc = PQfnumber(r, c->name);
            Oid type = fc >= 0 ? PQftype(r, fc) : 0;
            bool numeric =
                type == OID_INT2 || type == OID_INT4 || type == OID_INT8 || type == OID_NUMERIC;
            if (!strcmp(c->name, "period_start") && val(r, i, c->name)) {
                period_label(ctx->o->period, t, lab, sizeof lab);
                t = lab;
            }
            if (!val(r, i, c->name) && t[0])
                fprintf(f, "<td class=\"sup\" title=\"%s\">%s</td>", R_("suppressed"), t);
            else if (numeric && type == OID_NUMERIC) {
                /* The reader's decimal separator, as in the charts. */
                char dec[64];
                snprintf(dec, sizeof dec, "%s", t);
                const char *sep = R_("decimal-point");
                if (strcmp(sep, "decimal-point") != 0 && sep[0] && !sep[1])
                    for (char *p = dec; *p; p++)
                        if (*p == '.')
                            *p = sep[0];
                fprintf(f, "<td class=\"n\">%s</td>", dec);
            } else {
                fprintf(f, "<td%s>", numeric ? " class=\"n\"" : "");
                xml_text(f, t);
                fputs("</td>", f);
            }
        }
        fputs("</tr>\n", f);
    }
    if (PQntuples(r) == 0)
        fprintf(f, "<tr><td colspan=\"20\" class=\"sup\">%s</td></tr>\n", R_("no data"));
    fputs("</tbody></table>\n", f);
}

static void write_html(FILE *f, struct report_ctx *ctx)
{
    const struct report_opts *o = ctx->o;
    const char *lang = R_("html-lang");
    if (!strcmp(lang, "html-lang"))
        lang = "en";
    fprintf(f,
            "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
            lang);
    xml_text(f, R_("Learning-work climate report"));
    fputs(" \u2014 ", f);
    xml_text(f, ctx->scope.name);
    fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<header>\n<h1>", html_style);
    xml_text(f, R_("Learning-work climate report"));
    fputs(": ", f);
    xml_text(f, ctx->scope.name);
    fputs("</h1>\n<p class=\"meta\">", f);
    const char *per = !strcmp(o->period, "month")  ? R_("per month")
                      : !strcmp(o->period, "year") ? R_("per year")
                                                   : R_("per quarter");
    xml_text(f, per);
    fprintf(f, " \u00b7 %s ", R_("instrument"));
    xml_text(f, o->instrument);
    if (o->from || o->to) {
        fputs(" \u00b7 ", f);
        xml_text(f, o->from ? o->from : "\u2026");
        fputs(" \u2013 ", f);
        xml_text(f, o->to ? o->to : "\u2026");
    }
    fprintf(f, " \u00b7 %s ", R_("data as of"));
    xml_text(f, ctx->refreshed_at[0] ? ctx->refreshed_at : "?");
    fprintf(f, " \u00b7 k = %s</p>\n</header>\n", ctx->k);

    for (int k = 0; k < REPORT_KINDS; k++) {
        const PGresult *r = ctx->res[k];
        if (!r)
            continue;
        fprintf(f, "<section id=\"%s\">\n<h2>", report_defs[k].name);
        xml_text(f, R_(report_defs[k].title));
        fputs("</h2>\n", f);
        switch (k) {
        case REPORT_TREND:
            svg_trend(f, ctx, r);
            break;
        case REPORT_HEATMAP:
            if (PQntuples(r) > 0) {
                char lab[64];
                period_label(o->period, val(r, 0, "period_start"), lab, sizeof lab);
                fputs("<p class=\"meta\">", f);
                xml_text(f, lab);
                fputs("</p>\n", f);
            }
            svg_heatmap(f, ctx, r);
            break;
        case REPORT_GAPS:
            svg_gaps(f, ctx, r);
            break;
        case REPORT_ACTIONS:
            svg_actions(f, ctx, r);
            break;
        case REPORT_PARTICIPATION:
            svg_bars(f, ctx, r, "period_start", "n_sessions", R_("sessions"), false);
            break;
        case REPORT_THEMES: {
            /* Bars for the latest period; every period in the table. */
            struct distinct periods = distinct_values(r, "period_start", true);
            if (periods.n > 0) {
                PGresult *copy = PQcopyResult(r, PG_COPYRES_ATTRS);
                int rows = 0;
                for (int i = 0; i < PQntuples(r) && copy; i++) {
                    if (strcmp(val(r, i, "period_start"), periods.v[periods.n - 1]))
                        continue;
                    for (int c = 0; c < PQnfields(r); c++)
                        PQsetvalue(copy, rows, c, PQgetisnull(r, i, c) ? NULL : PQgetvalue(r, i, c),
                                   PQgetisnull(r, i, c) ? -1 : PQgetlength(r, i, c));
                    rows++;
                }
                if (copy)
                    svg_bars(f, ctx, copy, "theme", "n_sessions", R_("Most frequent themes"), true);
                PQclear(copy);
            }
            free(periods.v);
            break;
        }
        default:
            break;
        }
        /* Long tables start folded; the charts carry the same numbers. */
        bool open = k == REPORT_ACTIONS || k == REPORT_THEMES || k == REPORT_PARTICIPATION;
        fprintf(f, "<details%s><summary>%s</summary>\n", open ? " open" : "", R_("table"));
        html_table(f, ctx, (enum report_kind)k);
        fputs("</details>\n</section>\n", f);
    }
    fputs("<footer>\n<p class=\"legend\"><strong>\u2014</strong> ", f);
    fprintf(f, R_("suppressed: computed from fewer than %s people, so it is not shown."), ctx->k);
    fputs(" ", f);
    xml_text(f, R_("Themes appear only when several sessions named them. Individual scores and "
                   "free text never "
                   "appear in this report."));
    fputs("</p>\n<p class=\"legend\">", f);
    xml_text(f, R_("Generated"));
    fputs(" ", f);
    xml_text(f, ctx->generated_at);
    fputs(" \u00b7 lwk report</p>\n</footer>\n</body>\n</html>\n", f);
}

/* ------------------------------------------------------------------------ */
/* Command line                                                              */
/* ------------------------------------------------------------------------ */

static void usage(FILE *f)
{
    fprintf(
        f, "%s",
        R_("usage: lwk report [REPORT] [options]\n"
           "reports: trend (default), heatmap, gaps, actions, themes, participation, change, all\n"
           "  --db CONNINFO        database (else LWK_REPORT_DB, else PGHOST, PGDATABASE, ...)\n"
           "  --org ORG            organisation, by id or name\n"
           "  --team TEAM          team, by id or name (with --org when names repeat)\n"
           "  --unit UNIT          location or department, by id or name\n"
           "  --from DATE          first day (YYYY-MM-DD) of the first period\n"
           "  --to DATE            last day to include\n"
           "  --period P           month, quarter (default) or year\n"
           "  --item ITEM          one item, by key or number\n"
           "  --instrument KEY     instrument (default lwk-meting)\n"
           "  --by LEVEL           heatmap rows: team, department, location, organisation\n"
           "  --limit N            themes per period (default 10)\n"
           "  --format F           table (default), csv, json, html\n"
           "  -o FILE              write to FILE instead of standard output\n"
           "Without --org/--team/--unit: the programme office gets all organisations,\n"
           "an analyst its one organisation. Numbers over fewer than k people show as\n"
           "\xe2\x80\x94 (suppressed).\n"));
}

static bool is_date(const char *s)
{
    int y, m, d;
    char rest;
    return strlen(s) == 10 && sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &rest) == 3 && m >= 1 &&
           m <= 12 && d >= 1 && d <= 31;
}

static int parse_args(int argc, char **argv, struct report_opts *o)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"org", required_argument, NULL, 'O'},
        {"team", required_argument, NULL, 'T'},
        {"unit", required_argument, NULL, 'U'},
        {"from", required_argument, NULL, 'f'},
        {"to", required_argument, NULL, 't'},
        {"period", required_argument, NULL, 'p'},
        {"item", required_argument, NULL, 'i'},
        {"instrument", required_argument, NULL, 'I'},
        {"by", required_argument, NULL, 'b'},
        {"limit", required_argument, NULL, 'l'},
        {"format", required_argument, NULL, 'F'},
        {"report", required_argument, NULL, 'r'},
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *kind = NULL, *format = "table";
    int c;
    optind = 0; /* glibc: start afresh, whatever the caller parsed before */
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        if (optarg && strlen(optarg) > REPORT_MAX_ARG) {
            fprintf(stderr, "lwk report: %s\n", R_("argument too long"));
            return REPORT_EXIT_USAGE;
        }
        switch (c) {
        case 'd':
            o->db = optarg;
            break;
        case 'O':
            o->org = optarg;
            break;
        case 'T':
            o->team = optarg;
            break;
        case 'U':
            o->unit = optarg;
            break;
        case 'f':
            o->from = optarg;
            break;
        case 't':
            o->to = optarg;
            break;
        case 'p':
            o->period = optarg;
            break;
        case 'i':
            o->item = optarg;
            break;
        case 'I':
            o->instrument = optarg;
            break;
        case 'b':
            o->by = optarg;
            break;
        case 'l':
            o->limit = atoi(optarg);
            break;
        case 'F':
            format = optarg;
            break;
        case 'r':
            kind = optarg;
            break;
        case 'o':
            o->out = optarg;
            break;
        case 'h':
            usage(stdout);
            return -1;
        default:
            usage(stderr);
            return REPORT_EXIT_USAGE;
        }
    }
    if (o->team && o->unit) {
        fprintf(stderr, "lwk report: %s\n", R_("give --team or --unit, not both"));
        return REPORT_EXIT_USAGE;
    }
    if (optind < argc) {
        if (kind || optind + 1 < argc) {
            fprintf(stderr, "lwk report: %s\n", R_("give one report"));
            return REPORT_EXIT_USAGE;
        }
        kind = argv[optind];
    }
    if (!strcmp(format, "table"))
        o->format = REPORT_FMT_TABLE;
    else if (!strcmp(format, "csv"))
        o->format = REPORT_FMT_CSV;
    else if (!strcmp(format, "json"))
        o->format = REPORT_FMT_JSON;
    else if (!strcmp(format, "html"))
        o->format = REPORT_FMT_HTML;
    else {
        fprintf(stderr, "lwk report: %s '%s'\n", R_("unknown format"), format);
        return REPORT_EXIT_USAGE;
    }
    o->kind = o->format == REPORT_FMT_HTML ? REPORT_ALL : REPORT_TREND;
    if (kind) {
        o->kind = REPORT_KINDS + 1;
        if (!strcmp(kind, "all"))
            o->kind = REPORT_ALL;
        for (int k = 0; k < REPORT_KINDS; k++)
            if (!strcmp(kind, report_defs[k].name))
                o->kind = (enum report_kind)k;
        if ((int)o->kind > REPORT_KINDS) {
            fprintf(stderr, "lwk report: %s '%s'\n", R_("unknown report"), kind);
            return REPORT_EXIT_USAGE;
        }
    }
    if (o->format == REPORT_FMT_CSV && o->kind == REPORT_ALL) {
        fprintf(stderr, "lwk report: %s\n",
                R_("CSV holds one report: name it (trend, heatmap, ...)"));
        return REPORT_EXIT_USAGE;
    }
    if (strcmp(o->period, "month") && strcmp(o->period, "quarter") && strcmp(o->period, "year")) {
        fprintf(stderr, "lwk report: %s\n", R_("--period must be month, quarter or year"));
        return REPORT_EXIT_USAGE;
    }
    if (o->by && strcmp(o->by, "team") && strcmp(o->by, "department") &&
        strcmp(o->by, "location") && strcmp(o->by, "organisation")) {
        fprintf(stderr, "lwk report: %s\n",
                R_("--by must be team, department, location or organisation"));
        return REPORT_EXIT_USAGE;
    }
    if ((o->from && !is_date(o->from)) || (o->to && !is_date(o->to))) {
        fprintf(stderr, "lwk report: %s\n", R_("dates are written YYYY-MM-DD"));
        return REPORT_EXIT_USAGE;
    }
    if (o->limit < 1 || o->limit > REPORT_MAX_THEMES) {
        fprintf(stderr, "lwk report: %s\n", R_("--limit must be 1..100"));
        return REPORT_EXIT_USAGE;
    }
    return REPORT_EXIT_OK;
}

static void report_i18n(void)
{
    if (!setlocale(LC_ALL, ""))
        setlocale(LC_ALL, "C.UTF-8");
    /* Numbers are parsed and written with a dot, whatever the language. */
    setlocale(LC_NUMERIC, "C");
    const char *dir = LWK_LOCALEDIR;
    if (access(LWK_BUILD_LOCALEDIR, R_OK) == 0)
        dir = LWK_BUILD_LOCALEDIR;
    bindtextdomain(REPORT_DOMAIN, dir);
    bind_textdomain_codeset(REPORT_DOMAIN, "UTF-8");
}

/* Writes to FILE.tmp and renames, so a half-written report never replaces a
 * good one. */
static int write_output(struct report_ctx *ctx)
{
    const struct report_opts *o = ctx->o;
    char tmp[4096];
    FILE *f = stdout;
    if (o->out) {
        if (snprintf(tmp, sizeof tmp, "%s.tmp", o->out) >= (int)sizeof tmp) {
            fprintf(stderr, "lwk report: %s\n", R_("output file name too long"));
            return REPORT_EXIT_USAGE;
        }
        f = fopen(tmp, "w");
        if (!f) {
            perror(tmp);
            return REPORT_EXIT_SCOPE;
        }
    }
    switch (o->format) {
    case REPORT_FMT_TABLE:
        for (int k = 0; k < REPORT_KINDS; k++)
            if (ctx->res[k])
                write_table(f, ctx, (enum report_kind)k);
        if (ctx->any_suppressed)
            fprintf(f, R_("\u2014 suppressed: computed from fewer than %s people\n"), ctx->k);
        break;
    case REPORT_FMT_CSV:
        write_csv(f, ctx->res[o->kind]);
        break;
    case REPORT_FMT_JSON:
        write_json(f, ctx);
        break;
    case REPORT_FMT_HTML:
        write_html(f, ctx);
        break;
    }
    if (o->out) {
        bool bad = ferror(f) != 0;
        bad |= fclose(f) != 0;
        if (bad || rename(tmp, o->out) != 0) {
            perror(o->out);
            unlink(tmp);
            return REPORT_EXIT_SCOPE;
        }
    } else if (fflush(stdout) != 0) {
        perror("stdout");
        return REPORT_EXIT_SCOPE;
    }
    return REPORT_EXIT_OK;
}

int report_main(int argc, char **argv)
{
    report_i18n();
    struct report_opts o = {.period = "quarter", .instrument = "lwk-meting", .limit = 10};
    int rc = parse_args(argc, argv, &o);
    if (rc != REPORT_EXIT_OK)
        return rc < 0 ? REPORT_EXIT_OK : rc;
    if (!o.db)
        o.db = getenv("LWK_REPORT_DB");

    struct report_ctx ctx = {.o = &o};
    time_t now = time(NULL);
    struct tm tm;
    /* ISO 8601 with a colon in the offset: +01:00. */
    size_t len = strftime(ctx.generated_at, sizeof ctx.generated_at - 1, "%Y-%m-%dT%H:%M:%S%z",
                          localtime_r(&now, &tm));
    if (len >= 5) {
        memmove(ctx.generated_at + len - 1, ctx.generated_at + len - 2, 3);
        ctx.generated_at[len - 2] = ':';
    }

    PGconn *conn = report_connect(o.db);
    if (!conn)
        return REPORT_EXIT_CONNECT;
    /* Reports only read: a read-only transaction makes that a promise. */
    PGresult *r = PQexec(conn, "SET default_transaction_read_only = on");
    PQclear(r);

    rc = resolve_scope(conn, &o, &ctx.scope);
    if (rc == REPORT_EXIT_OK) {
        r = query(conn,
                  "SELECT k, to_char(refreshed_at, 'YYYY-MM-DD\"T\"HH24:MI:SSTZH:TZM') FROM "
                  "lwk.report_status",
                  0, NULL);
        if (!r)
            rc = REPORT_EXIT_QUERY;
        else {
            if (PQntuples(r) == 1) {
                snprintf(ctx.k, sizeof ctx.k, "%s", PQgetvalue(r, 0, 0));
                snprintf(ctx.refreshed_at, sizeof ctx.refreshed_at, "%s", PQgetvalue(r, 0, 1));
            }
            PQclear(r);
        }
    }
    if (rc == REPORT_EXIT_OK) {
        char unit[32], org[32], limit[16];
        snprintf(unit, sizeof unit, "%lld", ctx.scope.unit_id);
        snprintf(org, sizeof org, "%lld", ctx.scope.org_id);
        snprintf(limit, sizeof limit, "%d", o.limit);
        const char *by = o.by ? o.by : !strcmp(ctx.scope.level, "all") ? "organisation" : "team";
        const char *params[P_COUNT] = {
            [P_PERIOD] = o.period, [P_LEVEL] = ctx.scope.level,
            [P_UNIT] = unit,       [P_INSTRUMENT] = o.instrument,
            [P_FROM] = o.from,     [P_TO] = o.to,
            [P_ITEM] = o.item,     [P_BY] = by,
            [P_LIMIT] = limit,     [P_ORG] = org,
        };
        for (int k = 0; k < REPORT_KINDS && rc == REPORT_EXIT_OK; k++) {
            if (o.kind != REPORT_ALL && o.kind != (enum report_kind)k)
                continue;
            /* Per team change has no programme-office form. */
            if (k == REPORT_CHANGE && !strcmp(ctx.scope.level, "all")) {
                if (o.kind == REPORT_ALL)
                    continue;
                fprintf(stderr, "lwk report: %s\n",
                        R_("the change report is per team: for an organisation's analysts"));
                rc = REPORT_EXIT_SCOPE;
                break;
            }
            ctx.res[k] = query(conn, report_defs[k].sql, P_COUNT, params);
            if (!ctx.res[k])
                rc = REPORT_EXIT_QUERY;
        }
    }
    if (rc == REPORT_EXIT_OK)
        rc = write_output(&ctx);

    for (int k = 0; k < REPORT_KINDS; k++)
        PQclear(ctx.res[k]);
    free(ctx.scope.name);
    PQfinish(conn);
    return rc;
}

#ifdef LWK_REPORT_MAIN
/* lwk-report: the same command on its own, for tests and scripts. */
int main(int argc, char **argv)
{
    argv[0] = "report";
    return report_main(argc, argv);
}
#endif
