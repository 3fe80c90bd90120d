/*
 * config.c: lwkd's key table and the code it drives (defaults, file,
 * environment, flags, printing, the shipped template, SIGHUP reload).
 *
 * Everything about a setting lives in its table row; the functions below
 * know only the five value types. Loading is all-or-nothing: a source is
 * applied to a private copy that replaces the caller's struct only when the
 * whole source was valid, so a bad SIGHUP reload never leaves half a file
 * applied.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* strdup, inet_pton */
#endif

#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ENUM fields are read and written through an int. */
_Static_assert(sizeof(enum config_log_level) == sizeof(int), "enum fields are stored as int");

static const char *const log_level_names[] = {"debug", "info", "warn", "error", NULL};

static int check_listen_tcp(const char *value, char *why, size_t why_len);
static int check_listen_unix(const char *value, char *why, size_t why_len);
static int check_conninfo(const char *value, char *why, size_t why_len);
static int check_admin_token(const char *value, char *why, size_t why_len);
static int check_not_empty(const char *value, char *why, size_t why_len);

/* The offset of a field, failing to compile unless the field has type T. */
#define FIELD(f, T)                                                                                \
    (offsetof(struct lwkd_config, f) + 0 * sizeof(_Generic(((struct lwkd_config *)0)->f, T : 1)))

#define RELOAD true
#define RESTART false

#define KEY_STR(f, def, chk, sec, rel, desc)                                                       \
    {                                                                                              \
        .name = #f, .type = CONFIG_TYPE_STRING, .offset = FIELD(f, char *), .default_str = def,    \
        .check = chk, .secret = sec, .reloadable = rel, .description = desc                        \
    }
#define KEY_INT(f, lo, hi, def, rel, desc)                                                         \
    {                                                                                              \
        .name = #f, .type = CONFIG_TYPE_INT, .offset = FIELD(f, int), .min = lo, .max = hi,        \
        .default_int = def, .reloadable = rel, .description = desc                                 \
    }
#define KEY_INT64(f, lo, hi, def, rel, desc)                                                       \
    {                                                                                              \
        .name = #f, .type = CONFIG_TYPE_INT64, .offset = FIELD(f, int64_t), .min = lo, .max = hi,  \
        .default_int = def, .reloadable = rel, .description = desc                                 \
    }
#define KEY_BOOL(f, def, rel, desc)                                                                \
    {                                                                                              \
        .name = #f, .type = CONFIG_TYPE_BOOL, .offset = FIELD(f, bool), .min = 0, .max = 1,        \
        .default_int = def, .reloadable = rel, .description = desc                                 \
    }
#define KEY_ENUM(f, T, names, def, rel, desc)                                                      \
    {                                                                                              \
        .name = #f, .type = CONFIG_TYPE_ENUM, .offset = FIELD(f, T), .enum_names = names,          \
        .default_int = def, .reloadable = rel, .description = desc                                 \
    }

const struct config_key config_keys[] = {
    KEY_STR(listen_tcp, "127.0.0.1:7411", check_listen_tcp, CONFIG_PUBLIC, RESTART,
            "TCP address to listen on, numeric host:port or [v6]:port; empty disables TCP."),
    KEY_STR(listen_unix, "/run/lwk/lwkd.sock", check_listen_unix, CONFIG_PUBLIC, RESTART,
            "Unix socket to listen on, an absolute path; empty disables it."),
    KEY_STR(database, "", check_conninfo, CONFIG_SECRET_CONNINFO, RESTART,
            "PostgreSQL libpq conninfo; use host=/socket/dir or hostaddr= (no DNS); empty = none."),
    KEY_STR(admin_token, "", check_admin_token, CONFIG_SECRET, RESTART,
            "Token for admin commands, at least 16 characters; empty disables them."),
    KEY_ENUM(log_level, enum config_log_level, log_level_names, CONFIG_LOG_INFO, RELOAD,
             "Least severe messages logged: debug, info, warn or error."),
    KEY_INT(max_frame_bytes, 1024, 16777216, 65536, RESTART,
            "Largest frame body accepted from a client, in bytes."),
    KEY_INT(max_clients, 1, 1000000, 20000, RESTART,
            "Most client connections at once; more are refused with an error frame."),
    KEY_INT(max_sessions, 1, 1000000, 5000, RELOAD, "Most sessions open at once."),
    KEY_INT(max_participants, 2, 500, 60, RELOAD, "Most participants in one session."),
    KEY_INT(max_text_bytes, 16, 4096, 500, RELOAD,
            "Longest text (keyword, theme, note, action) accepted, in bytes."),
    KEY_INT(max_themes, 1, 10000, 200, RELOAD, "Most themes in one session."),
    KEY_INT(max_actions, 1, 10000, 200, RELOAD, "Most actions in one session."),
    KEY_INT(max_keywords, 1, 100000, 2000, RELOAD, "Most keywords in one session."),
    KEY_INT(min_reveal, 1, 50, 3, RELOAD,
            "Fewest scores a blind round needs before its scores can be revealed."),
    KEY_INT(rate_limit_rps, 1, 100000, 50, RELOAD,
            "Requests per second allowed per connection, on average."),
    KEY_INT(rate_limit_burst, 1, 1000000, 100, RELOAD,
            "Requests a connection may send at once above its average rate."),
    KEY_INT(client_queue_bytes, 4096, 1073741824, 1048576, RELOAD,
            "Unsent output allowed per client, in bytes; a client past it is too slow."),
    KEY_INT(handshake_timeout_ms, 100, 600000, 10000, RESTART,
            "Time a new connection has to finish its handshake, in milliseconds."),
    KEY_INT(idle_timeout_ms, 1000, 3600000, 60000, RESTART,
            "A connection that sends no frame (pings included) this long is closed, in ms."),
    KEY_INT(session_idle_close_min, 1, 10080, 240, RELOAD,
            "A session with no activity for this many minutes is closed."),
    KEY_INT(agenda_minute_seconds, 1, 60, 60, RELOAD,
            "Seconds in a minute of an instrument's agenda; lower only for a rehearsal or a test."),
    KEY_INT(db_batch_max, 1, 100000, 1000, RESTART,
            "Most events written to PostgreSQL in one batch."),
    KEY_INT(db_batch_delay_ms, 0, 10000, 50, RESTART,
            "Longest wait to gather a batch of events before writing it, in ms."),
    KEY_INT(db_retry_max_ms, 100, 3600000, 30000, RESTART,
            "Longest wait between database reconnect attempts (backoff cap), in ms."),
    KEY_STR(spool_path, "/var/lib/lwk/spool", check_not_empty, CONFIG_PUBLIC, RESTART,
            "Directory where events wait on disk while the database is unreachable."),
    KEY_INT64(spool_max_bytes, 1048576, INT64_C(1099511627776), INT64_C(268435456), RESTART,
              "Most bytes the spool may hold."),
    KEY_INT(drain_timeout_ms, 0, 600000, 10000, RESTART,
            "On shutdown, time allowed to flush queued events and output, in ms."),
    KEY_INT(join_attempts_per_min, 1, 1000, 10, RELOAD,
            "Session join attempts allowed per connection per minute (slows code guessing)."),
    KEY_BOOL(watchdog, true, RESTART,
             "Ping the systemd watchdog when the unit sets WatchdogSec: yes or no."),
};

#define KEY_COUNT (sizeof(config_keys) / sizeof(config_keys[0]))
const size_t config_key_count = KEY_COUNT;

/* ---- small helpers ---------------------------------------------------- */

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

static void error_set(struct config_error *err, int code, int line, const char *key,
                      const char *fmt, ...) PRINTF_LIKE(5, 6);
static void why_set(char *why, size_t why_len, const char *fmt, ...) PRINTF_LIKE(3, 4);

static void error_set(struct config_error *err, int code, int line, const char *key,
                      const char *fmt, ...)
{
    if (err == NULL)
        return;
    err->code = code;
    err->line = line;
    snprintf(err->key, sizeof(err->key), "%s", key ? key : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
}

static void error_clear(struct config_error *err)
{
    if (err != NULL)
        memset(err, 0, sizeof(*err));
}

static void why_set(char *why, size_t why_len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, why_len, fmt, ap);
    va_end(ap);
}

static void *field_ptr(struct lwkd_config *cfg, const struct config_key *k)
{
    return (char *)cfg + k->offset;
}

static const void *field_cptr(const struct lwkd_config *cfg, const struct config_key *k)
{
    return (const char *)cfg + k->offset;
}

static int get_enum(const struct lwkd_config *cfg, const struct config_key *k)
{
    int v;
    memcpy(&v, field_cptr(cfg, k), sizeof(v));
    return v;
}

static void put_enum(struct lwkd_config *cfg, const struct config_key *k, int v)
{
    memcpy(field_ptr(cfg, k), &v, sizeof(v));
}

/* Overwrites a string before freeing it: secrets should not linger in freed heap. */
static void string_free(char *s)
{
    if (s == NULL)
        return;
    for (volatile char *p = s; *p != '\0'; p++)
        *p = '\0';
    free(s);
}

static const char *str_or_empty(const char *s)
{
    return s ? s : "";
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

const struct config_key *config_key_find(const char *name)
{
    for (size_t i = 0; i < KEY_COUNT; i++)
        if (strcmp(config_keys[i].name, name) == 0)
            return &config_keys[i];
    return NULL;
}

static size_t key_index(const struct config_key *k)
{
    return (size_t)(k - config_keys);
}

const char *config_log_level_name(enum config_log_level level)
{
    if ((int)level < 0 || (int)level > CONFIG_LOG_ERROR)
        return "?";
    return log_level_names[level];
}

/* Edit distance of two short names, for "did you mean". */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 40 || lb > 40)
        return (size_t)-1;
    size_t row[41];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* " (did you mean max_clients?)" or "" */
static void suggestion(const char *name, char *buf, size_t len)
{
    const char *best = NULL;
    size_t best_d = 3;
    for (size_t i = 0; i < KEY_COUNT; i++) {
        size_t d = edit_distance(name, config_keys[i].name);
        if (d < best_d) {
            best_d = d;
            best = config_keys[i].name;
        }
    }
    if (best != NULL)
        snprintf(buf, len, " (did you mean %s?)", best);
    else if (len > 0)
        buf[0] = '\0';
}

/* ---- string checks ---------------------------------------------------- */

static int check_listen_tcp(const char *value, char *why, size_t why_len)
{
    if (value[0] == '\0')
        return 0;
    const char *colon = strrchr(value, ':');
    if (colon == NULL) {
        why_set(why, why_len, "expected host:port, e.g. 127.0.0.1:7411 or [::1]:7411");
        return -1;
    }
    const char *port = colon + 1;
    size_t digits = strspn(port, "0123456789");
    long p = digits > 0 && digits <= 5 && port[digits] == '\0' ? strtol(port, NULL, 10) : 0;
    if (p < 1 || p > 65535) {
        why_set(why, why_len, "port must be a number 1..65535");
        return -1;
    }
    char host[INET6_ADDRSTRLEN + 2];
    size_t hlen = (size_t)(colon - value);
    if (hlen == 0 || hlen >= sizeof(host)) {
        why_set(why, why_len, "host must be a numeric IPv4 address or [IPv6] address");
        return -1;
    }
    memcpy(host, value, hlen);
    host[hlen] = '\0';
    unsigned char addr[16];
    int ok;
    if (host[0] == '[') {
        if (hlen < 3 || host[hlen - 1] != ']') {
            why_set(why, why_len, "an IPv6 host goes in brackets: [::1]:7411");
            return -1;
        }
        host[hlen - 1] = '\0';
        ok = inet_pton(AF_INET6, host + 1, addr);
    } else {
        ok = inet_pton(AF_INET, host, addr);
    }
    if (ok != 1) {
        /* Names would need DNS at startup; the listener takes numeric addresses. */
        why_set(why, why_len, "host must be a numeric IPv4 address or [IPv6] address");
        return -1;
    }
    return 0;
}

static int check_listen_unix(const char *value, char *why, size_t why_len)
{
    if (value[0] == '\0')
        return 0;
    if (value[0] != '/') {
        why_set(why, why_len, "must be an absolute path");
        return -1;
    }
    /* sockaddr_un.sun_path is 108 bytes on Linux, including the NUL. */
    if (strlen(value) > 107) {
        why_set(why, why_len, "path longer than 107 bytes does not fit a Unix socket address");
        return -1;
    }
    return 0;
}

static int check_not_empty(const char *value, char *why, size_t why_len)
{
    if (value[0] == '\0') {
        why_set(why, why_len, "must not be empty");
        return -1;
    }
    return 0;
}

static int check_admin_token(const char *value, char *why, size_t why_len)
{
    /* A short token can be guessed by anyone who can reach the socket. */
    size_t n = strlen(value);
    if (n != 0 && n < 16) {
        why_set(why, why_len, "must be empty or at least 16 characters");
        return -1;
    }
    return 0;
}

/*
 * Walks a keyword=value conninfo the way libpq's conninfo_parse does:
 * blanks separate pairs, blanks around '=' are skipped, a value is either
 * 'single quoted' or runs to the next blank, and a backslash escapes the
 * next character. For each pair calls visit with the spans of the keyword
 * and of the raw value (quotes included). Returns 0, or -1 on bad syntax.
 */
struct conninfo_span {
    const char *key;
    size_t key_len;
    const char *val;
    size_t val_len;
};

static bool is_conninfo_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int conninfo_walk(const char *s, void (*visit)(const struct conninfo_span *, void *),
                         void *arg)
{
    const char *p = s;
    for (;;) {
        while (is_conninfo_space(*p))
            p++;
        if (*p == '\0')
            return 0;
        struct conninfo_span sp = {.key = p};
        while (*p != '\0' && *p != '=' && !is_conninfo_space(*p))
            p++;
        sp.key_len = (size_t)(p - sp.key);
        while (is_conninfo_space(*p))
            p++;
        if (*p != '=')
            return -1;
        p++;
        while (is_conninfo_space(*p))
            p++;
        sp.val = p;
        if (*p == '\'') {
            p++;
            while (*p != '\'') {
                if (*p == '\0')
                    return -1;
                if (*p == '\\' && p[1] != '\0')
                    p++;
                p++;
            }
            p++;
        } else {
            while (*p != '\0' && !is_conninfo_space(*p)) {
                if (*p == '\\' && p[1] != '\0')
                    p++;
                p++;
            }
        }
        sp.val_len = (size_t)(p - sp.val);
        if (visit != NULL)
            visit(&sp, arg);
    }
}

static bool conninfo_is_uri(const char *s)
{
    return strncmp(s, "postgresql://", 13) == 0 || strncmp(s, "postgres://", 11) == 0;
}

static int check_conninfo(const char *value, char *why, size_t why_len)
{
    if (value[0] == '\0' || conninfo_is_uri(value))
        return 0;
    /* The value itself is not echoed: it may hold a password. */
    if (conninfo_walk(value, NULL, NULL) != 0) {
        why_set(why, why_len,
                "not a libpq conninfo: expected keyword=value pairs or a postgresql:// URI");
        return -1;
    }
    return 0;
}

/* ---- masking ---------------------------------------------------------- */

static bool is_password_keyword(const char *k, size_t n)
{
    return (n == 8 && memcmp(k, "password", 8) == 0) ||
           (n == 11 && memcmp(k, "sslpassword", 11) == 0);
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* A URI query keyword, percent-decoded as libpq decodes it, is a password key. */
static bool is_password_keyword_encoded(const char *k, size_t n)
{
    char dec[16];
    size_t d = 0;
    for (size_t i = 0; i < n; i++) {
        if (d >= sizeof(dec))
            return false;
        if (k[i] == '%' && i + 2 < n && hex_value(k[i + 1]) >= 0 && hex_value(k[i + 2]) >= 0) {
            dec[d++] = (char)(hex_value(k[i + 1]) * 16 + hex_value(k[i + 2]));
            i += 2;
        } else {
            dec[d++] = k[i];
        }
    }
    return is_password_keyword(dec, d);
}

struct masker {
    char *out; /* at least 2 * strlen(in) + 5 bytes */
    size_t len;
    const char *copied; /* input copied up to here */
};

static void masker_copy_to(struct masker *m, const char *upto)
{
    size_t n = (size_t)(upto - m->copied);
    memcpy(m->out + m->len, m->copied, n);
    m->len += n;
    m->copied = upto;
}

static void masker_mask(struct masker *m, const char *start, size_t n)
{
    masker_copy_to(m, start);
    memcpy(m->out + m->len, "****", 4);
    m->len += 4;
    m->copied = start + n;
}

static void mask_visit(const struct conninfo_span *sp, void *arg)
{
    if (is_password_keyword(sp->key, sp->key_len))
        masker_mask(arg, sp->val, sp->val_len);
}

static void mask_uri(struct masker *m, const char *s)
{
    const char *p = strstr(s, "://") + 3;
    /* Like libpq: user credentials end at the first '@' before any '/'. */
    const char *q = p;
    while (*q != '\0' && *q != '@' && *q != '/')
        q++;
    if (*q == '@') {
        const char *colon = memchr(p, ':', (size_t)(q - p));
        if (colon != NULL)
            masker_mask(m, colon + 1, (size_t)(q - colon - 1));
        p = q + 1;
    }
    const char *query = strchr(p, '?');
    if (query == NULL)
        return;
    for (const char *kv = query + 1; *kv != '\0';) {
        size_t n = strcspn(kv, "&");
        const char *eq = memchr(kv, '=', n);
        if (eq != NULL && is_password_keyword_encoded(kv, (size_t)(eq - kv)))
            masker_mask(m, eq + 1, (size_t)(kv + n - eq - 1));
        kv += n;
        if (*kv == '&')
            kv++;
    }
}

/* The conninfo with every password value replaced by ****, or "****" whole
 * when it cannot be parsed. Returns malloc'd text or NULL. */
static char *conninfo_masked(const char *s)
{
    size_t n = strlen(s);
    /* Each masked value follows a keyword of at least 8 bytes, so masking
     * adds at most 4 bytes per 8 of input. */
    struct masker m = {.out = malloc(2 * n + 5), .copied = s};
    if (m.out == NULL)
        return NULL;
    if (conninfo_is_uri(s)) {
        mask_uri(&m, s);
    } else if (conninfo_walk(s, mask_visit, &m) != 0) {
        strcpy(m.out, "****");
        return m.out;
    }
    masker_copy_to(&m, s + n);
    m.out[m.len] = '\0';
    return m.out;
}

/* ---- values ----------------------------------------------------------- */

enum parse_int_result { INT_OK, INT_NOT_A_NUMBER, INT_OVERFLOW };

static enum parse_int_result parse_int64(const char *s, int64_t *out)
{
    const char *p = s;
    if (*p == '-')
        p++;
    if (*p == '\0' || strspn(p, "0123456789") != strlen(p))
        return INT_NOT_A_NUMBER;
    errno = 0;
    long long v = strtoll(s, NULL, 10);
    if (errno == ERANGE)
        return INT_OVERFLOW;
    *out = (int64_t)v;
    return INT_OK;
}

static int parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"yes", "true", "on", "1"};
    static const char *const no[] = {"no", "false", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

static void enum_list(const struct config_key *k, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; k->enum_names[i] != NULL && used < len; i++) {
        int n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", k->enum_names[i]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

/* Echoing a secret in an error message would put it in logs. */
static const char *shown(const struct config_key *k, const char *value)
{
    return k->secret == CONFIG_PUBLIC ? value : "(secret)";
}

/*
 * Parses value for key k and stores it in cfg. On error returns the status,
 * leaves cfg unchanged and puts the reason (without the key name) in why.
 */
static int value_set(struct lwkd_config *cfg, const struct config_key *k, const char *value,
                     char *why, size_t why_len)
{
    switch (k->type) {
    case CONFIG_TYPE_STRING: {
        size_t n = strlen(value);
        if (n >= CONFIG_MAX_LINE) {
            why_set(why, why_len, "value longer than %d bytes", CONFIG_MAX_LINE - 1);
            return CONFIG_ERR_BAD_VALUE;
        }
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)value[i];
            if (c < 0x20 || c == 0x7f) {
                why_set(why, why_len, "control character in value");
                return CONFIG_ERR_BAD_VALUE;
            }
        }
        if (k->check != NULL && k->check(value, why, why_len) != 0)
            return CONFIG_ERR_BAD_VALUE;
        char *copy = strdup(value);
        if (copy == NULL) {
            why_set(why, why_len, "out of memory");
            return CONFIG_ERR_NOMEM;
        }
        char **slot = field_ptr(cfg, k);
        string_free(*slot);
        *slot = copy;
        return CONFIG_OK;
    }
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64: {
        int64_t v = 0;
        enum parse_int_result r = parse_int64(value, &v);
        if (r == INT_NOT_A_NUMBER) {
            why_set(why, why_len, "'%.64s' is not a whole number", shown(k, value));
            return CONFIG_ERR_BAD_VALUE;
        }
        if (r == INT_OVERFLOW || v < k->min || v > k->max) {
            why_set(why, why_len, "%.64s is out of range %lld..%lld", shown(k, value),
                    (long long)k->min, (long long)k->max);
            return CONFIG_ERR_RANGE;
        }
        if (k->type == CONFIG_TYPE_INT)
            *(int *)field_ptr(cfg, k) = (int)v;
        else
            *(int64_t *)field_ptr(cfg, k) = v;
        return CONFIG_OK;
    }
    case CONFIG_TYPE_BOOL: {
        bool b;
        if (parse_bool(value, &b) != 0) {
            why_set(why, why_len, "'%.64s' is not yes or no", value);
            return CONFIG_ERR_BAD_VALUE;
        }
        *(bool *)field_ptr(cfg, k) = b;
        return CONFIG_OK;
    }
    case CONFIG_TYPE_ENUM:
        for (int i = 0; k->enum_names[i] != NULL; i++) {
            if (strcmp(value, k->enum_names[i]) == 0) {
                put_enum(cfg, k, i);
                return CONFIG_OK;
            }
        }
        char names[128];
        enum_list(k, names, sizeof(names));
        why_set(why, why_len, "'%.64s' is not one of %s", value, names);
        return CONFIG_ERR_BAD_VALUE;
    }
    why_set(why, why_len, "unsupported type");
    return CONFIG_ERR_BAD_VALUE;
}

/* Text form of a key's value, unmasked and unquoted. */
static int value_format(const struct lwkd_config *cfg, const struct config_key *k, char *buf,
                        size_t len)
{
    switch (k->type) {
    case CONFIG_TYPE_STRING:
        return snprintf(buf, len, "%s", str_or_empty(*(char *const *)field_cptr(cfg, k)));
    case CONFIG_TYPE_INT:
        return snprintf(buf, len, "%d", *(const int *)field_cptr(cfg, k));
    case CONFIG_TYPE_INT64:
        return snprintf(buf, len, "%lld", (long long)*(const int64_t *)field_cptr(cfg, k));
    case CONFIG_TYPE_BOOL:
        return snprintf(buf, len, "%s", *(const bool *)field_cptr(cfg, k) ? "yes" : "no");
    case CONFIG_TYPE_ENUM: {
        int v = get_enum(cfg, k);
        int count = 0;
        while (k->enum_names[count] != NULL)
            count++;
        return snprintf(buf, len, "%s", v >= 0 && v < count ? k->enum_names[v] : "?");
    }
    }
    return -1;
}

static bool value_equal(const struct lwkd_config *a, const struct lwkd_config *b,
                        const struct config_key *k)
{
    switch (k->type) {
    case CONFIG_TYPE_STRING:
        return strcmp(str_or_empty(*(char *const *)field_cptr(a, k)),
                      str_or_empty(*(char *const *)field_cptr(b, k))) == 0;
    case CONFIG_TYPE_INT:
        return *(const int *)field_cptr(a, k) == *(const int *)field_cptr(b, k);
    case CONFIG_TYPE_INT64:
        return *(const int64_t *)field_cptr(a, k) == *(const int64_t *)field_cptr(b, k);
    case CONFIG_TYPE_BOOL:
        return *(const bool *)field_cptr(a, k) == *(const bool *)field_cptr(b, k);
    case CONFIG_TYPE_ENUM:
        return get_enum(a, k) == get_enum(b, k);
    }
    return false;
}

/* Copies one value; returns 0 or CONFIG_ERR_NOMEM (dst unchanged). */
static int value_copy(struct lwkd_config *dst, const struct lwkd_config *src,
                      const struct config_key *k)
{
    if (k->type == CONFIG_TYPE_STRING) {
        const char *s = *(char *const *)field_cptr(src, k);
        char *copy = NULL;
        if (s != NULL && (copy = strdup(s)) == NULL)
            return CONFIG_ERR_NOMEM;
        char **slot = field_ptr(dst, k);
        string_free(*slot);
        *slot = copy;
        return CONFIG_OK;
    }
    size_t size = k->type == CONFIG_TYPE_INT64  ? sizeof(int64_t)
                  : k->type == CONFIG_TYPE_BOOL ? sizeof(bool)
                                                : sizeof(int);
    memcpy(field_ptr(dst, k), field_cptr(src, k), size);
    return CONFIG_OK;
}

/* ---- lifecycle -------------------------------------------------------- */

void config_defaults(struct lwkd_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < KEY_COUNT; i++) {
        const struct config_key *k = &config_keys[i];
        switch (k->type) {
        case CONFIG_TYPE_STRING: {
            char *s = strdup(k->default_str);
            if (s == NULL)
                abort();
            *(char **)field_ptr(cfg, k) = s;
            break;
        }
        case CONFIG_TYPE_INT:
            *(int *)field_ptr(cfg, k) = (int)k->default_int;
            break;
        case CONFIG_TYPE_INT64:
            *(int64_t *)field_ptr(cfg, k) = k->default_int;
            break;
        case CONFIG_TYPE_BOOL:
            *(bool *)field_ptr(cfg, k) = k->default_int != 0;
            break;
        case CONFIG_TYPE_ENUM:
            put_enum(cfg, k, (int)k->default_int);
            break;
        }
    }
}

void config_free(struct lwkd_config *cfg)
{
    if (cfg == NULL)
        return;
    for (size_t i = 0; i < KEY_COUNT; i++) {
        if (config_keys[i].type != CONFIG_TYPE_STRING)
            continue;
        char **slot = field_ptr(cfg, &config_keys[i]);
        string_free(*slot);
        *slot = NULL;
    }
}

int config_copy(struct lwkd_config *dst, const struct lwkd_config *src)
{
    *dst = *src;
    for (size_t i = 0; i < KEY_COUNT; i++)
        if (config_keys[i].type == CONFIG_TYPE_STRING)
            *(char **)field_ptr(dst, &config_keys[i]) = NULL;
    for (size_t i = 0; i < KEY_COUNT; i++) {
        if (config_keys[i].type != CONFIG_TYPE_STRING)
            continue;
        if (value_copy(dst, src, &config_keys[i]) != CONFIG_OK) {
            config_free(dst);
            return CONFIG_ERR_NOMEM;
        }
    }
    return CONFIG_OK;
}

/* Replaces *cfg by *fresh (taking its strings). */
static void config_commit(struct lwkd_config *cfg, struct lwkd_config *fresh)
{
    config_free(cfg);
    *cfg = *fresh;
}

/* ---- the file --------------------------------------------------------- */

enum read_line_result { LINE_OK, LINE_EOF, LINE_TOO_LONG, LINE_NUL, LINE_IO };

/* Reads one line without its newline (and without a trailing CR). */
static enum read_line_result read_line(FILE *f, char *buf, size_t cap, size_t *len)
{
    size_t n = 0;
    int c;
    bool any = false;
    while ((c = getc(f)) != EOF) {
        any = true;
        if (c == '\n')
            break;
        if (c == '\0')
            return LINE_NUL;
        if (n + 1 >= cap)
            return LINE_TOO_LONG;
        buf[n++] = (char)c;
    }
    if (c == EOF && ferror(f))
        return LINE_IO;
    if (!any)
        return LINE_EOF;
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    buf[n] = '\0';
    *len = n;
    return LINE_OK;
}

static char *trim(char *s)
{
    while (is_blank(*s))
        s++;
    char *end = s + strlen(s);
    while (end > s && is_blank(end[-1]))
        end--;
    *end = '\0';
    return s;
}

/*
 * Splits a line into key and value in place. Returns 1 for a setting, 0 for
 * a blank or comment line, or CONFIG_ERR_SYNTAX with the reason in why.
 */
static int parse_line(char *line, char **key, char **value, char *why, size_t why_len)
{
    char *s = line;
    while (is_blank(*s))
        s++;
    if (*s == '\0' || *s == '#')
        return 0;
    char *eq = strchr(s, '=');
    if (eq == NULL) {
        why_set(why, why_len, "expected key = value");
        return CONFIG_ERR_SYNTAX;
    }
    *eq = '\0';
    *key = trim(s);
    if (**key == '\0') {
        why_set(why, why_len, "missing key before '='");
        return CONFIG_ERR_SYNTAX;
    }
    char *v = trim(eq + 1);
    if (*v != '"') {
        *value = v;
        return 1;
    }
    /* Unquote in place: \" and \\ are the only escapes. */
    char *r = v + 1, *w = v;
    for (;;) {
        if (*r == '\0') {
            why_set(why, why_len, "missing closing double quote");
            return CONFIG_ERR_SYNTAX;
        }
        if (*r == '"')
            break;
        if (*r == '\\') {
            if (r[1] != '"' && r[1] != '\\') {
                why_set(why, why_len, "only \\\" and \\\\ may follow a backslash in quotes");
                return CONFIG_ERR_SYNTAX;
            }
            r++;
        }
        *w++ = *r++;
    }
    if (r[1] != '\0') {
        why_set(why, why_len, "text after the closing double quote");
        return CONFIG_ERR_SYNTAX;
    }
    *w = '\0';
    *value = v;
    return 1;
}

static int load_stream(struct lwkd_config *cfg, FILE *f, const char *path, struct config_error *err)
{
    int first_line[KEY_COUNT] = {0};
    char buf[CONFIG_MAX_LINE + 1];
    char why[256];
    for (int lineno = 1;; lineno++) {
        size_t len = 0;
        switch (read_line(f, buf, sizeof(buf), &len)) {
        case LINE_EOF:
            return CONFIG_OK;
        case LINE_TOO_LONG:
            error_set(err, CONFIG_ERR_SYNTAX, lineno, NULL, "%s:%d: line longer than %d bytes",
                      path, lineno, CONFIG_MAX_LINE);
            return CONFIG_ERR_SYNTAX;
        case LINE_NUL:
            error_set(err, CONFIG_ERR_SYNTAX, lineno, NULL, "%s:%d: NUL byte in line", path,
                      lineno);
            return CONFIG_ERR_SYNTAX;
        case LINE_IO:
            error_set(err, CONFIG_ERR_IO, lineno, NULL, "%s:%d: read error", path, lineno);
            return CONFIG_ERR_IO;
        case LINE_OK:
            break;
        }
        char *line = buf;
        if (lineno == 1 && strncmp(line, "\xEF\xBB\xBF", 3) == 0)
            line += 3; /* an editor's UTF-8 byte order mark */
        char *key = NULL, *value = NULL;
        int r = parse_line(line, &key, &value, why, sizeof(why));
        if (r == 0)
            continue;
        if (r < 0) {
            error_set(err, r, lineno, NULL, "%s:%d: %s", path, lineno, why);
            return r;
        }
        const struct config_key *k = config_key_find(key);
        if (k == NULL) {
            char hint[64];
            suggestion(key, hint, sizeof(hint));
            error_set(err, CONFIG_ERR_UNKNOWN_KEY, lineno, NULL, "%s:%d: unknown key '%.64s'%s",
                      path, lineno, key, hint);
            return CONFIG_ERR_UNKNOWN_KEY;
        }
        size_t i = key_index(k);
        if (first_line[i] != 0) {
            error_set(err, CONFIG_ERR_DUPLICATE, lineno, k->name,
                      "%s:%d: duplicate key %s (first on line %d)", path, lineno, k->name,
                      first_line[i]);
            return CONFIG_ERR_DUPLICATE;
        }
        first_line[i] = lineno;
        r = value_set(cfg, k, value, why, sizeof(why));
        if (r != CONFIG_OK) {
            error_set(err, r, lineno, k->name, "%s:%d: %s: %s", path, lineno, k->name, why);
            return r;
        }
    }
}

int config_load_file(struct lwkd_config *cfg, const char *path, struct config_error *err)
{
    error_clear(err);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        error_set(err, CONFIG_ERR_IO, 0, NULL, "%s: %s", path, strerror(errno));
        return CONFIG_ERR_IO;
    }
    struct lwkd_config fresh;
    int r = config_copy(&fresh, cfg);
    if (r != CONFIG_OK) {
        fclose(f);
        error_set(err, r, 0, NULL, "%s: out of memory", path);
        return r;
    }
    r = load_stream(&fresh, f, path, err);
    fclose(f);
    if (r != CONFIG_OK) {
        config_free(&fresh);
        return r;
    }
    config_commit(cfg, &fresh);
    return CONFIG_OK;
}

/* ---- environment and flags -------------------------------------------- */

/* The key whose LWKD_ name is exactly name (of length n), or NULL. */
static const struct config_key *key_for_env(const char *name, size_t n)
{
    for (size_t i = 0; i < KEY_COUNT; i++) {
        const char *k = config_keys[i].name;
        if (strlen(k) != n)
            continue;
        size_t j = 0;
        while (j < n && (k[j] >= 'a' && k[j] <= 'z' ? k[j] - 'a' + 'A' : k[j]) == name[j])
            j++;
        if (j == n)
            return &config_keys[i];
    }
    return NULL;
}

int config_apply_env(struct lwkd_config *cfg, char **environ_like, struct config_error *err)
{
    error_clear(err);
    if (environ_like == NULL)
        return CONFIG_OK;
    const size_t plen = strlen(CONFIG_ENV_PREFIX);
    struct lwkd_config fresh;
    int r = config_copy(&fresh, cfg);
    if (r != CONFIG_OK) {
        error_set(err, r, 0, NULL, "environment: out of memory");
        return r;
    }
    bool seen[KEY_COUNT] = {false};
    char why[256];
    for (char **e = environ_like; *e != NULL; e++) {
        const char *entry = *e;
        if (strncmp(entry, CONFIG_ENV_PREFIX, plen) != 0)
            continue;
        const char *eq = strchr(entry, '=');
        if (eq == NULL)
            continue;
        const char *name = entry + plen;
        size_t nlen = (size_t)(eq - name);
        int name_len = eq - entry > 96 ? 96 : (int)(eq - entry); /* for messages */
        const struct config_key *k = key_for_env(name, nlen);
        if (k == NULL) {
            error_set(err, CONFIG_ERR_UNKNOWN_KEY, 0, NULL,
                      "environment variable %.*s names no setting", name_len, entry);
            r = CONFIG_ERR_UNKNOWN_KEY;
            break;
        }
        if (seen[key_index(k)]) {
            error_set(err, CONFIG_ERR_DUPLICATE, 0, k->name,
                      "environment variable %.*s is set twice", name_len, entry);
            r = CONFIG_ERR_DUPLICATE;
            break;
        }
        seen[key_index(k)] = true;
        r = value_set(&fresh, k, eq + 1, why, sizeof(why));
        if (r != CONFIG_OK) {
            error_set(err, r, 0, k->name, "environment variable %.*s: %s", name_len, entry, why);
            break;
        }
    }
    if (r != CONFIG_OK) {
        config_free(&fresh);
        return r;
    }
    config_commit(cfg, &fresh);
    return CONFIG_OK;
}

int config_set(struct lwkd_config *cfg, const char *key, const char *value,
               struct config_error *err)
{
    error_clear(err);
    const struct config_key *k = config_key_find(key);
    if (k == NULL) {
        char hint[64];
        suggestion(key, hint, sizeof(hint));
        error_set(err, CONFIG_ERR_UNKNOWN_KEY, 0, NULL, "unknown key '%.64s'%s", key, hint);
        return CONFIG_ERR_UNKNOWN_KEY;
    }
    if (value == NULL) {
        error_set(err, CONFIG_ERR_SYNTAX, 0, k->name, "%s: missing value", k->name);
        return CONFIG_ERR_SYNTAX;
    }
    char why[256];
    int r = value_set(cfg, k, value, why, sizeof(why));
    if (r != CONFIG_OK)
        error_set(err, r, 0, k->name, "%s: %s", k->name, why);
    return r;
}

int config_set_arg(struct lwkd_config *cfg, const char *key_eq_value, struct config_error *err)
{
    error_clear(err);
    const char *eq = strchr(key_eq_value, '=');
    if (eq == NULL || eq == key_eq_value) {
        error_set(err, CONFIG_ERR_SYNTAX, 0, NULL, "expected key=value, got '%.64s'", key_eq_value);
        return CONFIG_ERR_SYNTAX;
    }
    char key[64];
    size_t n = (size_t)(eq - key_eq_value);
    if (n >= sizeof(key)) {
        error_set(err, CONFIG_ERR_UNKNOWN_KEY, 0, NULL, "unknown key '%.*s'", 64, key_eq_value);
        return CONFIG_ERR_UNKNOWN_KEY;
    }
    memcpy(key, key_eq_value, n);
    key[n] = '\0';
    return config_set(cfg, key, eq + 1, err);
}

int config_validate(const struct lwkd_config *cfg, struct config_error *err)
{
    error_clear(err);
    if (cfg->client_queue_bytes < cfg->max_frame_bytes) {
        error_set(err, CONFIG_ERR_CONFLICT, 0, "client_queue_bytes",
                  "client_queue_bytes (%d) must be at least max_frame_bytes (%d)",
                  cfg->client_queue_bytes, cfg->max_frame_bytes);
        return CONFIG_ERR_CONFLICT;
    }
    if (cfg->min_reveal > cfg->max_participants) {
        error_set(err, CONFIG_ERR_CONFLICT, 0, "min_reveal",
                  "min_reveal (%d) must not exceed max_participants (%d)", cfg->min_reveal,
                  cfg->max_participants);
        return CONFIG_ERR_CONFLICT;
    }
    if (cfg->rate_limit_burst < cfg->rate_limit_rps) {
        error_set(err, CONFIG_ERR_CONFLICT, 0, "rate_limit_burst",
                  "rate_limit_burst (%d) must be at least rate_limit_rps (%d)",
                  cfg->rate_limit_burst, cfg->rate_limit_rps);
        return CONFIG_ERR_CONFLICT;
    }
    return CONFIG_OK;
}

/* ---- output ----------------------------------------------------------- */

static void print_quoted(FILE *out, const char *s)
{
    putc('"', out);
    for (; *s != '\0'; s++) {
        if (*s == '"' || *s == '\\')
            putc('\\', out);
        putc(*s, out);
    }
    putc('"', out);
}

static void print_value(FILE *out, const struct lwkd_config *cfg, const struct config_key *k)
{
    if (k->type == CONFIG_TYPE_STRING) {
        const char *s = str_or_empty(*(char *const *)field_cptr(cfg, k));
        if (s[0] != '\0' && k->secret == CONFIG_SECRET) {
            print_quoted(out, "****");
        } else if (s[0] != '\0' && k->secret == CONFIG_SECRET_CONNINFO) {
            char *masked = conninfo_masked(s);
            print_quoted(out, masked ? masked : "****");
            free(masked);
        } else {
            print_quoted(out, s);
        }
        return;
    }
    char buf[64];
    value_format(cfg, k, buf, sizeof(buf));
    fputs(buf, out);
}

void config_print(const struct lwkd_config *cfg, FILE *out)
{
    for (size_t i = 0; i < KEY_COUNT; i++) {
        fprintf(out, "%s = ", config_keys[i].name);
        print_value(out, cfg, &config_keys[i]);
        putc('\n', out);
    }
}

static void print_key_kind(FILE *out, const struct config_key *k)
{
    char names[128];
    switch (k->type) {
    case CONFIG_TYPE_STRING:
        fputs(k->secret == CONFIG_SECRET            ? "string, secret (printed as ****)"
              : k->secret == CONFIG_SECRET_CONNINFO ? "string, its passwords printed as ****"
                                                    : "string",
              out);
        break;
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64:
        fprintf(out, "integer %lld..%lld", (long long)k->min, (long long)k->max);
        break;
    case CONFIG_TYPE_BOOL:
        fputs("yes or no", out);
        break;
    case CONFIG_TYPE_ENUM:
        enum_list(k, names, sizeof(names));
        fprintf(out, "one of %s", names);
        break;
    }
}

void config_print_template(FILE *out)
{
    fputs("# /etc/lwk/lwkd.conf: settings of lwkd, the lwk session daemon.\n"
          "#\n"
          "# Generated from the key table in daemon/config.c (config_print_template);\n"
          "# tests/unit/test_config.c checks that this file still matches it. Every\n"
          "# setting is listed, commented out, with its default: uncomment a line to\n"
          "# change it.\n"
          "#\n"
          "# Syntax: one \"key = value\" per line. Lines starting with # are comments; a #\n"
          "# anywhere else is part of the value. Spaces around key and value are ignored.\n"
          "# Double quotes around a value are optional; use them for an empty value (\"\")\n"
          "# or to keep spaces. Inside them \\\" and \\\\ are the only escapes. An unknown\n"
          "# key, a key given twice or a bad value stops lwkd with the line number.\n"
          "#\n"
          "# Precedence, lowest first: built-in defaults, this file, environment\n"
          "# variables LWKD_<KEY> (LWKD_LOG_LEVEL=debug sets log_level), command-line\n"
          "# flags (--set key=value).\n"
          "#\n"
          "# \"reload: SIGHUP\" settings take effect on `systemctl reload lwkd`; the\n"
          "# others need a restart.\n"
          "#\n"
          "# This file can hold secrets (admin_token, the database password): keep it\n"
          "# owned by root, group lwk, mode 0640.\n",
          out);
    for (size_t i = 0; i < KEY_COUNT; i++) {
        const struct config_key *k = &config_keys[i];
        fprintf(out, "\n# %s\n# ", k->description);
        print_key_kind(out, k);
        fprintf(out, "; reload: %s\n#%s = ", k->reloadable ? "SIGHUP" : "restart", k->name);
        if (k->type == CONFIG_TYPE_STRING) {
            print_quoted(out, k->default_str);
        } else if (k->type == CONFIG_TYPE_BOOL) {
            fputs(k->default_int ? "yes" : "no", out);
        } else if (k->type == CONFIG_TYPE_ENUM) {
            fputs(k->enum_names[k->default_int], out);
        } else {
            fprintf(out, "%lld", (long long)k->default_int);
        }
        putc('\n', out);
    }
}

/* ---- reload ----------------------------------------------------------- */

int config_reload(struct lwkd_config *cur, const struct lwkd_config *fresh)
{
    int changed = 0;
    for (size_t i = 0; i < KEY_COUNT; i++) {
        const struct config_key *k = &config_keys[i];
        if (!k->reloadable || value_equal(cur, fresh, k))
            continue;
        if (value_copy(cur, fresh, k) != CONFIG_OK)
            return CONFIG_ERR_NOMEM;
        changed++;
    }
    return changed;
}

const char *config_first_fixed_change(const struct lwkd_config *cur,
                                      const struct lwkd_config *fresh)
{
    for (size_t i = 0; i < KEY_COUNT; i++)
        if (!config_keys[i].reloadable && !value_equal(cur, fresh, &config_keys[i]))
            return config_keys[i].name;
    return NULL;
}

int config_value_string(const struct lwkd_config *cfg, const char *key, char *buf, size_t len)
{
    const struct config_key *k = config_key_find(key);
    if (k == NULL)
        return -1;
    return value_format(cfg, k, buf, len);
}
