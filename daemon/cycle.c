/*
 * cycle.c: the cycle between sessions, answered from PostgreSQL (see
 * instruments.h and docs/cycle.md): action.list, action.update,
 * team.history, team.due and example.list. Each is one call of a function
 * of sql/020_cycle.sql, which also decides what a facilitator may see (the
 * teams of their own organisation); the admin sees everything.
 */
#include "db.h"
#include "instruments.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cycle_pending {
    struct lwkd *d;
    uint64_t conn_id;
    int64_t req_id;
    enum proto_type type;
};

/* A text column into a row, cut to what its key allows (never inside a
 * UTF-8 character); NULL and "" leave the key out. */
static void set_col(struct proto_msg *m, enum proto_key k, const PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        return;
    const char *s = PQgetvalue(res, row, col);
    size_t len = strlen(s), max = (size_t)proto_key_max(k);
    if (len > max) {
        len = max;
        while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
            len--;
    }
    if (len >= (size_t)proto_key_min(k) && len > 0)
        proto_set_strn(m, k, s, (uint32_t)len);
}

static void set_int_col(struct proto_msg *m, enum proto_key k, const PGresult *res, int row,
                        int col)
{
    if (!PQgetisnull(res, row, col))
        proto_set_int(m, k, strtoll(PQgetvalue(res, row, col), NULL, 10));
}

static void set_bool_col(struct proto_msg *m, enum proto_key k, const PGresult *res, int row,
                         int col)
{
    if (!PQgetisnull(res, row, col))
        proto_set_bool(m, k, PQgetvalue(res, row, col)[0] == 't');
}

static void set_enum_col(struct proto_msg *m, enum proto_key k, const PGresult *res, int row,
                         int col)
{
    if (!PQgetisnull(res, row, col))
        (void)proto_set_enum(m, k, PQgetvalue(res, row, col));
}

/* A mean as hundredths of a grade. */
static void set_mean_col(struct proto_msg *m, const PGresult *res, int row, int col)
{
    if (!PQgetisnull(res, row, col)) {
        double v = strtod(PQgetvalue(res, row, col), NULL);
        if (v >= 0 && v <= 10)
            proto_set_int(m, PK_MEAN, (int64_t)(v * 100 + 0.5));
    }
}

static void action_row(struct proto_msg *w, const PGresult *res, int i)
{
    /* id, session_id, team_id, team, description, owner, deadline, feedback,
     * status, overdue, session_date, effect */
    set_int_col(w, PK_ACTION, res, i, 0);
    set_int_col(w, PK_SESSION, res, i, 1);
    set_int_col(w, PK_UNIT, res, i, 2);
    set_col(w, PK_TEAM, res, i, 3);
    set_col(w, PK_TEXT, res, i, 4);
    set_col(w, PK_OWNER, res, i, 5);
    set_col(w, PK_DEADLINE, res, i, 6);
    set_col(w, PK_FEEDBACK, res, i, 7);
    set_enum_col(w, PK_STATUS, res, i, 8);
    set_bool_col(w, PK_OVERDUE, res, i, 9);
    set_col(w, PK_DATE, res, i, 10);
    set_int_col(w, PK_RATING, res, i, 11);
}

/* team.history: one row per session, its items and actions nested in it. */
static int history_rows(const PGresult *res, struct proto_msg **out_sessions, uint32_t *n_sessions,
                        struct proto_msg **out_children)
{
    int n = PQntuples(res);
    uint32_t ns = 0;
    for (int i = 0; i < n; i++)
        ns += !strcmp(PQgetvalue(res, i, 0), "session");
    struct proto_msg *sessions = calloc((size_t)ns + 1, sizeof(*sessions));
    struct proto_msg *children = calloc((size_t)n + 1, sizeof(*children));
    if (!sessions || !children) {
        free(sessions);
        free(children);
        return PROTO_ERR_INTERNAL;
    }
    /* kind, session_id, session_date, instrument, version, next_date, item, name, mean,
     * desired, action_id, status, deadline, overdue, effect */
    struct proto_msg *cur = NULL;
    uint32_t k = 0, first = 0;
    ns = 0;
    for (int i = 0; i < n; i++) {
        const char *kind = PQgetvalue(res, i, 0);
        if (!strcmp(kind, "session")) {
            if (cur)
                proto_set_msgs(cur, PK_ROWS, children + first, k - first);
            cur = &sessions[ns++];
            first = k;
            proto_msg_init(cur, PT__NONE);
            set_int_col(cur, PK_SESSION, res, i, 1);
            set_col(cur, PK_DATE, res, i, 2);
            set_col(cur, PK_INSTRUMENT, res, i, 3);
            set_int_col(cur, PK_VERSION, res, i, 4);
            set_col(cur, PK_DEADLINE, res, i, 5); /* the date agreed for the next session */
            continue;
        }
        if (!cur)
            continue;
        struct proto_msg *w = &children[k++];
        proto_msg_init(w, PT__NONE);
        set_int_col(w, PK_ITEM, res, i, 6);
        if (!strcmp(kind, "item")) {
            set_col(w, PK_NAME, res, i, 7);
            set_mean_col(w, res, i, 8);
            set_int_col(w, PK_VALUE, res, i, 9);
        } else {
            set_col(w, PK_TEXT, res, i, 7);
            set_int_col(w, PK_ACTION, res, i, 10);
            set_enum_col(w, PK_STATUS, res, i, 11);
            set_col(w, PK_DEADLINE, res, i, 12);
            set_bool_col(w, PK_OVERDUE, res, i, 13);
            set_int_col(w, PK_RATING, res, i, 14);
        }
    }
    if (cur)
        proto_set_msgs(cur, PK_ROWS, children + first, k - first);
    *out_sessions = sessions;
    *n_sessions = ns;
    *out_children = children;
    return 0;
}

static void cycle_done(void *arg, const PGresult *res, const char *err)
{
    struct cycle_pending *p = arg;
    struct conn *c = conn_find(p->d, p->conn_id);
    if (!c)
        goto out;
    if (!res || err) {
        int code = instruments_db_error(res);
        const char *why = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
        if (code == PROTO_ERR_INTERNAL) {
            log_event(LOG_WARN, "cycle_query_failed", "request=%s error=\"%s\"",
                      proto_type_name(p->type), err ? err : "?");
            why = "database";
        }
        conn_send_error(c, p->req_id, code, why);
        goto out;
    }
    struct proto_msg r, *rows = NULL, *children = NULL;
    uint32_t nrows = 0;
    int n = PQntuples(res);
    proto_msg_init(&r, PT_OK);
    if (p->req_id >= 0)
        proto_set_int(&r, PK_ID, p->req_id);
    if (p->type == PT_ACTION_UPDATE) {
        /* id, old_status, status */
        if (n == 1) {
            set_int_col(&r, PK_ACTION, res, 0, 0);
            set_enum_col(&r, PK_STATUS, res, 0, 2);
        }
        conn_send_msg(c, &r);
        goto out;
    }
    if (p->type == PT_TEAM_HISTORY) {
        if (history_rows(res, &rows, &nrows, &children) < 0) {
            conn_send_error(c, p->req_id, PROTO_ERR_INTERNAL, NULL);
            goto out;
        }
    } else {
        rows = calloc((size_t)n + 1, sizeof(*rows));
        if (!rows) {
            conn_send_error(c, p->req_id, PROTO_ERR_INTERNAL, NULL);
            goto out;
        }
        for (int i = 0; i < n; i++) {
            struct proto_msg *w = &rows[nrows++];
            proto_msg_init(w, PT__NONE);
            if (p->type == PT_ACTION_LIST) {
                action_row(w, res, i);
            } else if (p->type == PT_TEAM_DUE) {
                /* team_id, team, organisation_id, session_id, session_date, next_date, overdue */
                set_int_col(w, PK_UNIT, res, i, 0);
                set_col(w, PK_TEAM, res, i, 1);
                set_int_col(w, PK_ORG, res, i, 2);
                set_int_col(w, PK_SESSION, res, i, 3);
                set_col(w, PK_DATE, res, i, 4);
                set_col(w, PK_DEADLINE, res, i, 5);
                set_bool_col(w, PK_OVERDUE, res, i, 6);
            } else { /* PT_EXAMPLE_LIST: item_key, item_name, text, team, org, session_date */
                set_col(w, PK_ITEM_KEY, res, i, 0);
                set_col(w, PK_NAME, res, i, 1);
                set_col(w, PK_TEXT, res, i, 2);
                set_col(w, PK_TEAM, res, i, 3);
                set_int_col(w, PK_ORG, res, i, 4);
                set_col(w, PK_DATE, res, i, 5);
            }
        }
    }
    proto_set_msgs(&r, PK_ROWS, rows, nrows);
    proto_set_int(&r, PK_COUNT, nrows);
    conn_send_msg(c, &r);
    free(rows);
    free(children);
out:
    free(p);
}

void cycle_request(struct conn *c, const struct proto_msg *m, int64_t id)
{
    struct lwkd *d = c->d;
    if (!d->db || db_state(d->db) != PROTO_DB_OK) {
        conn_send_error(c, id, PROTO_ERR_DB_UNAVAILABLE, NULL);
        return;
    }
    /* The admin sees every organisation; a facilitator what sql/020 allows. */
    const char *fac = c->kind == PROTO_KIND_ADMIN ? NULL : c->facilitator;
    char a[32], b[32];
    const char *p[5] = {NULL, NULL, NULL, NULL, NULL};
    const char *sql;
    int np;
    switch (m->type) {
    case PT_ACTION_LIST:
        sql = "SELECT id, session_id, team_id, team, description, owner, deadline, feedback, "
              "status, overdue, session_date, effect "
              "FROM lwk.cycle_actions($1::bigint, $2, $3, $4::boolean, $5)";
        if (proto_has(m, PK_UNIT)) {
            snprintf(a, sizeof(a), "%lld", (long long)proto_int(m, PK_UNIT, 0));
            p[0] = a;
        }
        p[1] = proto_str(m, PK_TEAM);
        if (proto_has(m, PK_STATUS))
            p[2] = proto_enum_name(PK_STATUS, proto_int(m, PK_STATUS, 0));
        p[3] = proto_int(m, PK_OVERDUE, 0) ? "true" : "false";
        p[4] = fac;
        np = 5;
        break;
    case PT_ACTION_UPDATE:
        sql = "SELECT id, old_status, status FROM lwk.cycle_update_action($1::bigint, $2, $3, $4)";
        snprintf(a, sizeof(a), "%lld", (long long)proto_int(m, PK_ACTION, 0));
        p[0] = a;
        p[1] = proto_enum_name(PK_STATUS, proto_int(m, PK_STATUS, 0));
        p[2] = proto_str(m, PK_NOTE) && proto_str(m, PK_NOTE)[0] ? proto_str(m, PK_NOTE) : NULL;
        p[3] = fac;
        np = 4;
        break;
    case PT_TEAM_HISTORY:
        if (!proto_has(m, PK_UNIT) && !proto_has(m, PK_TEAM)) {
            conn_send_error(c, id, PROTO_ERR_MISSING_FIELD, "team or unit");
            return;
        }
        sql = "SELECT kind, session_id, session_date, instrument, version, next_date, item, name, "
              "mean, desired, action_id, status, deadline, overdue, effect "
              "FROM lwk.cycle_history($1::bigint, $2, $3)";
        if (proto_has(m, PK_UNIT)) {
            snprintf(a, sizeof(a), "%lld", (long long)proto_int(m, PK_UNIT, 0));
            p[0] = a;
        }
        p[1] = proto_str(m, PK_TEAM);
        p[2] = fac;
        np = 3;
        break;
    case PT_TEAM_DUE:
        sql = "SELECT team_id, team, organisation_id, session_id, session_date, next_date, overdue "
              "FROM lwk.cycle_due($1::date, $2::bigint, $3)";
        p[0] = proto_str(m, PK_DATE);
        if (proto_has(m, PK_ORG)) {
            snprintf(b, sizeof(b), "%lld", (long long)proto_int(m, PK_ORG, 0));
            p[1] = b;
        }
        p[2] = fac;
        np = 3;
        break;
    case PT_EXAMPLE_LIST:
        sql = "SELECT item_key, item_name, text, team, organisation_id, session_date "
              "FROM lwk.cycle_examples($1, $2, $3::bigint, $4)";
        p[0] = proto_str(m, PK_INSTRUMENT);
        p[1] = proto_str(m, PK_ITEM_KEY);
        if (proto_has(m, PK_ORG)) {
            snprintf(b, sizeof(b), "%lld", (long long)proto_int(m, PK_ORG, 0));
            p[2] = b;
        }
        p[3] = fac;
        np = 4;
        break;
    default:
        conn_send_error(c, id, PROTO_ERR_UNKNOWN_TYPE, NULL);
        return;
    }
    struct cycle_pending *pd = calloc(1, sizeof(*pd));
    if (!pd) {
        conn_send_error(c, id, PROTO_ERR_INTERNAL, NULL);
        return;
    }
    *pd = (struct cycle_pending){d, c->id, id, m->type};
    if (db_query(d->db, sql, np, p, cycle_done, pd) < 0) {
        free(pd);
        conn_send_error(c, id, PROTO_ERR_DB_UNAVAILABLE, NULL);
    }
}
