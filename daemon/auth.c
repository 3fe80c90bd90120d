/*
 * auth.c: admin and facilitator credentials, the cached team list, and the
 * admin commands (see auth.h). Tokens are compared by their SHA-256 only;
 * the database never holds a token itself.
 */
#include "auth.h"
#include "db.h"
#include "log.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define REFRESH_MS 30000

struct cached_token {
    char sha[65];
    char *name;
    bool admin;
};

struct cached_team {
    int64_t id;
    char *name;
};

static struct {
    struct cached_token *tokens;
    int ntokens;
    struct cached_team *teams;
    int nteams;
    uv_timer_t timer;
    bool timer_on;
    bool teams_loaded; /* the team list came from the database at least once */
} cache;

void auth_sha256_hex(const char *s, char out[65])
{
    unsigned char md[32];
    unsigned int n = 0;
    EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL);
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

int auth_random_token(char *buf, size_t n)
{
    static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char rnd[128];
    if (n > sizeof(rnd) || getrandom(rnd, n, 0) != (ssize_t)n)
        return -1;
    for (size_t i = 0; i < n; i++)
        buf[i] = alpha[rnd[i] & 63];
    buf[n] = '\0';
    return 0;
}

const char *auth_check_token(struct lwkd *d, const char *token, bool admin_only)
{
    const char *admin = d->cfg.admin_token;
    size_t tl = strlen(token);
    if (admin[0] && strlen(admin) == tl && CRYPTO_memcmp(admin, token, tl) == 0)
        return "admin";
    char sha[65];
    auth_sha256_hex(token, sha);
    for (int i = 0; i < cache.ntokens; i++) {
        if (CRYPTO_memcmp(cache.tokens[i].sha, sha, 64) != 0)
            continue;
        if (admin_only && !cache.tokens[i].admin)
            return NULL;
        return cache.tokens[i].name;
    }
    return NULL;
}

const char *auth_team_name(struct lwkd *d, int64_t unit)
{
    for (int i = 0; i < cache.nteams; i++)
        if (cache.teams[i].id == unit)
            return cache.teams[i].name;
    return NULL;
}

static void clear_tokens(void)
{
    for (int i = 0; i < cache.ntokens; i++)
        free(cache.tokens[i].name);
    free(cache.tokens);
    cache.tokens = NULL;
    cache.ntokens = 0;
}

static void clear_teams(void)
{
    for (int i = 0; i < cache.nteams; i++)
        free(cache.teams[i].name);
    free(cache.teams);
    cache.teams = NULL;
    cache.nteams = 0;
}

static void tokens_loaded(void *arg, const PGresult *res, const char *err)
{
    if (!res || err)
        return; /* keep the old cache: better stale than locked out */
    int n = PQntuples(res);
    struct cached_token *t = calloc((size_t)n + 1, sizeof(*t));
    if (!t)
        return;
    for (int i = 0; i < n; i++) {
        snprintf(t[i].sha, sizeof(t[i].sha), "%s", PQgetvalue(res, i, 0));
        t[i].name = strdup(PQgetvalue(res, i, 1));
        t[i].admin = PQgetvalue(res, i, 2)[0] == 't';
    }
    clear_tokens();
    cache.tokens = t;
    cache.ntokens = n;
}

static void teams_loaded(void *arg, const PGresult *res, const char *err)
{
    if (!res || err)
        return;
    int n = PQntuples(res);
    struct cached_team *t = calloc((size_t)n + 1, sizeof(*t));
    if (!t)
        return;
    for (int i = 0; i < n; i++) {
        t[i].id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
        t[i].name = strdup(PQgetvalue(res, i, 1));
    }
    clear_teams();
    cache.teams = t;
    cache.nteams = n;
    cache.teams_loaded = true;
}

bool auth_teams_known(struct lwkd *d)
{
    return cache.teams_loaded;
}

void auth_refresh(struct lwkd *d)
{
    if (!d->db || db_state(d->db) != PROTO_DB_OK)
        return;
    db_query(d->db,
             "SELECT t.token_sha256, f.name, false FROM lwk.facilitator_tokens t "
             "JOIN lwk.facilitators f ON f.id = t.facilitator_id "
             "WHERE t.revoked_at IS NULL AND f.disabled_at IS NULL "
             "UNION ALL SELECT token_sha256, 'admin:' || label, true FROM lwk.admin_tokens "
             "WHERE revoked_at IS NULL",
             0, NULL, tokens_loaded, NULL);
    db_query(d->db,
             "SELECT id, name FROM lwk.org_units WHERE kind = 'team' AND archived_at IS NULL", 0,
             NULL, teams_loaded, NULL);
}

static void refresh_timer(uv_timer_t *t)
{
    auth_refresh(t->data);
}

void auth_init(struct lwkd *d)
{
    uv_timer_init(d->loop, &cache.timer);
    cache.timer.data = d;
    uv_timer_start(&cache.timer, refresh_timer, REFRESH_MS, REFRESH_MS);
    cache.timer_on = true;
}

void auth_free(struct lwkd *d)
{
    if (cache.timer_on) {
        uv_close((uv_handle_t *)&cache.timer, NULL);
        cache.timer_on = false;
    }
    clear_tokens();
    clear_teams();
}

/* ---- admin commands ---------------------------------------------------- */

/* What an answer needs to find its way back: the connection may be gone. */
struct pending {
    struct lwkd *d;
    uint64_t conn_id;
    int64_t req_id;
    enum proto_type type;
    char token[48]; /* facilitator.new: shown once in the reply */
    char team[201]; /* unit.new of a team: cached at once, so it can host a session */
};

static void cache_team(int64_t id, const char *name)
{
    struct cached_team *t = realloc(cache.teams, ((size_t)cache.nteams + 1) * sizeof(*t));
    if (!t)
        return;
    cache.teams = t;
    t[cache.nteams].id = id;
    t[cache.nteams].name = strdup(name);
    if (t[cache.nteams].name)
        cache.nteams++;
}

static int db_error_code(const PGresult *res)
{
    if (!res)
        return PROTO_ERR_DB_UNAVAILABLE;
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    if (state && (!strcmp(state, "23505")))
        return PROTO_ERR_CONFLICT;
    if (state && (!strncmp(state, "23", 2) || !strncmp(state, "22", 2)))
        return PROTO_ERR_NOT_FOUND;
    return PROTO_ERR_INTERNAL;
}

static void admin_done(void *arg, const PGresult *res, const char *err)
{
    struct pending *p = arg;
    struct conn *c = conn_find(p->d, p->conn_id);
    if (!c)
        goto out;
    if (!res || err) {
        int code = db_error_code(res);
        conn_send_error(c, p->req_id, code, code == PROTO_ERR_INTERNAL ? "database" : NULL);
        goto out;
    }
    struct proto_msg r;
    proto_msg_init(&r, PT_OK);
    if (p->req_id >= 0)
        proto_set_int(&r, PK_ID, p->req_id);
    int n = PQntuples(res);
    struct proto_msg *rows = NULL;
    switch (p->type) {
    case PT_ORG_NEW:
        if (n == 1)
            proto_set_int(&r, PK_ORG, strtoll(PQgetvalue(res, 0, 0), NULL, 10));
        break;
    case PT_UNIT_NEW:
        if (n != 1) {
            conn_send_error(c, p->req_id, PROTO_ERR_NOT_FOUND, "organisation or parent");
            goto out;
        }
        proto_set_int(&r, PK_UNIT, strtoll(PQgetvalue(res, 0, 0), NULL, 10));
        if (p->team[0])
            cache_team(strtoll(PQgetvalue(res, 0, 0), NULL, 10), p->team);
        break;
    case PT_FACILITATOR_NEW:
        proto_set_str(&r, PK_TOKEN, p->token);
        auth_refresh(p->d);
        break;
    case PT_FACILITATOR_REVOKE:
        proto_set_int(&r, PK_COUNT, n);
        if (n == 0) {
            conn_send_error(c, p->req_id, PROTO_ERR_NOT_FOUND, "facilitator");
            goto out;
        }
        auth_refresh(p->d);
        break;
    case PT_ORG_LIST:
    case PT_UNIT_LIST:
    case PT_INSTRUMENT_LIST:
        rows = calloc((size_t)n + 1, sizeof(*rows));
        if (!rows) {
            conn_send_error(c, p->req_id, PROTO_ERR_INTERNAL, NULL);
            goto out;
        }
        for (int i = 0; i < n; i++) {
            struct proto_msg *w = &rows[i];
            proto_msg_init(w, PT__NONE);
            if (p->type == PT_ORG_LIST) {
                proto_set_int(w, PK_ORG, strtoll(PQgetvalue(res, i, 0), NULL, 10));
                proto_set_str(w, PK_NAME, PQgetvalue(res, i, 1));
            } else if (p->type == PT_UNIT_LIST) {
                proto_set_int(w, PK_UNIT, strtoll(PQgetvalue(res, i, 0), NULL, 10));
                proto_set_int(w, PK_ORG, strtoll(PQgetvalue(res, i, 1), NULL, 10));
                proto_set_enum(w, PK_LEVEL, PQgetvalue(res, i, 2));
                if (!PQgetisnull(res, i, 3))
                    proto_set_int(w, PK_PARENT, strtoll(PQgetvalue(res, i, 3), NULL, 10));
                proto_set_str(w, PK_NAME, PQgetvalue(res, i, 4));
            } else {
                proto_set_str(w, PK_INSTRUMENT, PQgetvalue(res, i, 0));
                proto_set_str(w, PK_NAME, PQgetvalue(res, i, 1));
                proto_set_int(w, PK_COUNT, strtoll(PQgetvalue(res, i, 2), NULL, 10));
            }
        }
        proto_set_msgs(&r, PK_ROWS, rows, (uint32_t)n);
        break;
    default:
        break;
    }
    conn_send_msg(c, &r);
    free(rows);
out:
    free(p);
}

void auth_admin_request(struct conn *c, const struct proto_msg *m, int64_t id)
{
    struct lwkd *d = c->d;
    if (!d->db || db_state(d->db) != PROTO_DB_OK) {
        conn_send_error(c, id, PROTO_ERR_DB_UNAVAILABLE, NULL);
        return;
    }
    struct pending *p = calloc(1, sizeof(*p));
    if (!p) {
        conn_send_error(c, id, PROTO_ERR_INTERNAL, NULL);
        return;
    }
    p->d = d;
    p->conn_id = c->id;
    p->req_id = id;
    p->type = m->type;
    char a[32], b[32], sha[65];
    const char *params[4] = {NULL, NULL, NULL, NULL};
    const char *sql = NULL;
    int np = 0;
    switch (m->type) {
    case PT_ORG_NEW:
        sql = "INSERT INTO lwk.organisations (name) VALUES ($1) RETURNING id";
        params[0] = proto_str(m, PK_NAME);
        np = 1;
        break;
    case PT_ORG_LIST:
        sql = "SELECT id, name FROM lwk.organisations WHERE archived_at IS NULL ORDER BY id";
        break;
    case PT_UNIT_NEW:
        if (proto_int(m, PK_LEVEL, 0) == 0) {
            free(p);
            conn_send_error(c, id, PROTO_ERR_OUT_OF_RANGE, "level: an organisation is made with org.new");
            return;
        }
        sql = "INSERT INTO lwk.org_units (organisation_id, kind, parent_id, parent_kind, name) "
              "SELECT o.id, $2, $3::bigint, (SELECT kind FROM lwk.org_units WHERE id = $3::bigint), $4 "
              "FROM lwk.organisations o WHERE o.id = $1::bigint RETURNING id";
        snprintf(a, sizeof(a), "%lld", (long long)proto_int(m, PK_ORG, 0));
        params[0] = a;
        params[1] = proto_enum_name(PK_LEVEL, proto_int(m, PK_LEVEL, 0));
        if (proto_has(m, PK_PARENT)) {
            snprintf(b, sizeof(b), "%lld", (long long)proto_int(m, PK_PARENT, 0));
            params[2] = b;
        }
        params[3] = proto_str(m, PK_NAME);
        np = 4;
        if (proto_int(m, PK_LEVEL, 0) == 3) /* "team" in PROTO_LEVELS */
            snprintf(p->team, sizeof(p->team), "%s", params[3]);
        break;
    case PT_UNIT_LIST:
        sql = "SELECT id, organisation_id, kind, parent_id, name FROM lwk.org_units "
              "WHERE archived_at IS NULL AND ($1::bigint IS NULL OR organisation_id = $1::bigint) "
              "ORDER BY organisation_id, id";
        if (proto_has(m, PK_ORG)) {
            snprintf(a, sizeof(a), "%lld", (long long)proto_int(m, PK_ORG, 0));
            params[0] = a;
        }
        np = 1;
        break;
    case PT_FACILITATOR_NEW:
        if (auth_random_token(p->token, 32) < 0) {
            free(p);
            conn_send_error(c, id, PROTO_ERR_INTERNAL, NULL);
            return;
        }
        auth_sha256_hex(p->token, sha);
        sql = "WITH f AS (INSERT INTO lwk.facilitators (name, organisation_id) "
              "VALUES ($1, $2::bigint) RETURNING id) "
              "INSERT INTO lwk.facilitator_tokens (facilitator_id, token_sha256) "
              "SELECT id, $3 FROM f RETURNING facilitator_id";
        params[0] = proto_str(m, PK_NAME);
        if (proto_has(m, PK_ORG)) {
            snprintf(a, sizeof(a), "%lld", (long long)proto_int(m, PK_ORG, 0));
            params[1] = a;
        }
        params[2] = sha;
        np = 3;
        break;
    case PT_FACILITATOR_REVOKE:
        sql = "UPDATE lwk.facilitator_tokens SET revoked_at = now() WHERE revoked_at IS NULL "
              "AND facilitator_id IN (SELECT id FROM lwk.facilitators WHERE name = $1) "
              "RETURNING id";
        params[0] = proto_str(m, PK_NAME);
        np = 1;
        break;
    case PT_INSTRUMENT_LIST:
        sql = "SELECT i.key, i.name, count(it.position) FROM lwk.instruments i "
              "JOIN lwk.instrument_versions v ON v.instrument_id = i.id AND v.version = "
              "(SELECT max(version) FROM lwk.instrument_versions WHERE instrument_id = i.id) "
              "LEFT JOIN lwk.instrument_items it ON it.instrument_version_id = v.id "
              "GROUP BY i.key, i.name ORDER BY i.key";
        break;
    default:
        free(p);
        conn_send_error(c, id, PROTO_ERR_UNKNOWN_TYPE, NULL);
        return;
    }
    if (db_query(d->db, sql, np, params, admin_done, p) < 0) {
        free(p);
        conn_send_error(c, id, PROTO_ERR_DB_UNAVAILABLE, NULL);
    }
}
