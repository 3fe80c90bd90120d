/*
 * test_config.c: unit tests of daemon/config.c (defaults, file syntax,
 * environment, flags, precedence, errors, masking, reload) and a check that
 * the shipped systemd/lwkd.conf still matches the key table.
 *
 * Run from the source tree, or set LWK_SOURCE_DIR (environment or -D) to it.
 * `test_config --write-template systemd/lwkd.conf` regenerates that file.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* mkstemp, close, unlink */
#endif

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

#ifndef LWK_SOURCE_DIR
#define LWK_SOURCE_DIR "."
#endif

/* ---- helpers ---------------------------------------------------------- */

/* Writes text to a fresh temporary file; returns its path (static buffer). */
static const char *write_temp(const char *text)
{
    static char path[512];
    const char *dir = getenv("TMPDIR");
    snprintf(path, sizeof(path), "%s/lwk-test-config-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t n = strlen(text);
    assert_int_equal(write(fd, text, n), (ssize_t)n);
    close(fd);
    return path;
}

/* Loads text as a config file on top of cfg, removing the file again. */
static int load_text(struct lwkd_config *cfg, const char *text, struct config_error *err)
{
    const char *path = write_temp(text);
    int r = config_load_file(cfg, path, err);
    unlink(path);
    return r;
}

/* Reads a whole stream from its start into a malloc'd string. */
static char *slurp(FILE *f)
{
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    char *s = malloc((size_t)n + 1);
    assert_non_null(s);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    return s;
}

static char *print_to_string(const struct lwkd_config *cfg)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    config_print(cfg, f);
    char *s = slurp(f);
    fclose(f);
    return s;
}

static char *source_file(const char *rel)
{
    const char *dir = getenv("LWK_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir && *dir ? dir : LWK_SOURCE_DIR, rel);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s: run from the source tree or set LWK_SOURCE_DIR", path);
    char *s = slurp(f);
    fclose(f);
    return s;
}

static char *value_of(const struct lwkd_config *cfg, const char *key)
{
    static char buf[CONFIG_MAX_LINE + 1];
    assert_true(config_value_string(cfg, key, buf, sizeof(buf)) >= 0);
    return buf;
}

/* ---- defaults --------------------------------------------------------- */

static void defaults_match_the_documented_values(void **state)
{
    (void)state;
    struct lwkd_config c;
    config_defaults(&c);
    assert_string_equal(c.listen_tcp, "127.0.0.1:7411");
    assert_string_equal(c.listen_unix, "/run/lwk/lwkd.sock");
    assert_string_equal(c.database, "");
    assert_string_equal(c.admin_token, "");
    assert_int_equal(c.log_level, CONFIG_LOG_INFO);
    assert_int_equal(c.max_frame_bytes, 65536);
    assert_int_equal(c.max_clients, 20000);
    assert_int_equal(c.max_sessions, 5000);
    assert_int_equal(c.max_participants, 60);
    assert_int_equal(c.max_text_bytes, 500);
    assert_int_equal(c.max_themes, 200);
    assert_int_equal(c.max_actions, 200);
    assert_int_equal(c.max_keywords, 2000);
    assert_int_equal(c.min_reveal, 3);
    assert_int_equal(c.rate_limit_rps, 50);
    assert_int_equal(c.rate_limit_burst, 100);
    assert_int_equal(c.client_queue_bytes, 1048576);
    assert_int_equal(c.handshake_timeout_ms, 10000);
    assert_int_equal(c.idle_timeout_ms, 60000);
    assert_int_equal(c.session_idle_close_min, 240);
    assert_int_equal(c.db_batch_max, 1000);
    assert_int_equal(c.db_batch_delay_ms, 50);
    assert_int_equal(c.db_retry_max_ms, 30000);
    assert_string_equal(c.spool_path, "/var/lib/lwk/spool");
    assert_true(c.spool_max_bytes == INT64_C(268435456));
    assert_int_equal(c.drain_timeout_ms, 10000);
    assert_int_equal(c.join_attempts_per_min, 10);
    assert_true(c.watchdog);
    assert_int_equal(config_validate(&c, NULL), CONFIG_OK);
    config_free(&c);
    config_free(&c); /* twice is harmless */
}

static void key_table_is_consistent(void **state)
{
    (void)state;
    assert_int_equal(config_key_count, 29);
    for (size_t i = 0; i < config_key_count; i++) {
        const struct config_key *k = &config_keys[i];
        assert_ptr_equal(config_key_find(k->name), k);
        assert_non_null(k->description);
        assert_null(strchr(k->description, '\n'));
        assert_true(strlen(k->name) < sizeof(((struct config_error *)0)->key));
        if (k->type == CONFIG_TYPE_INT || k->type == CONFIG_TYPE_INT64) {
            assert_true(k->min <= k->default_int && k->default_int <= k->max);
            if (k->type == CONFIG_TYPE_INT)
                assert_true(k->max <= INT32_MAX && k->min >= INT32_MIN);
        }
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(k->name, config_keys[j].name);
    }
    assert_null(config_key_find("no_such_key"));
    const char *reloadable[] = {"log_level",
                                "max_sessions",
                                "max_participants",
                                "max_text_bytes",
                                "max_themes",
                                "max_actions",
                                "max_keywords",
                                "min_reveal",
                                "rate_limit_rps",
                                "rate_limit_burst",
                                "client_queue_bytes",
                                "session_idle_close_min",
                                "agenda_minute_seconds",
                                "join_attempts_per_min"};
    size_t n = sizeof(reloadable) / sizeof(reloadable[0]);
    size_t count = 0;
    for (size_t i = 0; i < config_key_count; i++)
        count += config_keys[i].reloadable;
    assert_int_equal(count, n);
    for (size_t i = 0; i < n; i++)
        assert_true(config_key_find(reloadable[i])->reloadable);
    assert_int_equal(config_key_find("admin_token")->secret, CONFIG_SECRET);
    assert_int_equal(config_key_find("database")->secret, CONFIG_SECRET_CONNINFO);
}

/* ---- the file --------------------------------------------------------- */

/* A non-default value for every key, in the file's text form. */
static const char *const every_key[][2] = {
    {"listen_tcp", "0.0.0.0:9000"},
    {"listen_unix", "/tmp/lwkd-test.sock"},
    {"database", "host=/run/postgresql dbname=lwk user=lwkd"},
    {"admin_token", "0123456789abcdef0123"},
    {"log_level", "debug"},
    {"max_frame_bytes", "131072"},
    {"max_clients", "123"},
    {"max_sessions", "45"},
    {"max_participants", "7"},
    {"max_text_bytes", "800"},
    {"max_themes", "11"},
    {"max_actions", "12"},
    {"max_keywords", "13"},
    {"min_reveal", "4"},
    {"rate_limit_rps", "20"},
    {"rate_limit_burst", "30"},
    {"client_queue_bytes", "2097152"},
    {"handshake_timeout_ms", "5000"},
    {"idle_timeout_ms", "30000"},
    {"session_idle_close_min", "60"},
    {"agenda_minute_seconds", "5"},
    {"db_batch_max", "500"},
    {"db_batch_delay_ms", "9"},
    {"db_retry_max_ms", "15000"},
    {"spool_path", "/srv/lwk spool"},
    {"spool_max_bytes", "5368709120"},
    {"drain_timeout_ms", "2500"},
    {"join_attempts_per_min", "5"},
    {"watchdog", "no"},
};
#define EVERY_KEY_COUNT (sizeof(every_key) / sizeof(every_key[0]))

static void every_key_is_parsed_from_a_file(void **state)
{
    (void)state;
    assert_int_equal(EVERY_KEY_COUNT, config_key_count);
    char text[8192] = "# every key, some quoted\n\n";
    for (size_t i = 0; i < EVERY_KEY_COUNT; i++) {
        char line[512];
        /* Alternate spacing and quoting styles. */
        if (i % 3 == 0)
            snprintf(line, sizeof(line), "%s = \"%s\"\n", every_key[i][0], every_key[i][1]);
        else if (i % 3 == 1)
            snprintf(line, sizeof(line), "  %s=%s   \n", every_key[i][0], every_key[i][1]);
        else
            snprintf(line, sizeof(line), "\t%s\t=\t%s\r\n", every_key[i][0], every_key[i][1]);
        strcat(text, line);
    }
    struct lwkd_config c;
    config_defaults(&c);
    struct config_error err;
    assert_int_equal(load_text(&c, text, &err), CONFIG_OK);
    assert_int_equal(err.code, CONFIG_OK);
    for (size_t i = 0; i < EVERY_KEY_COUNT; i++)
        assert_string_equal(value_of(&c, every_key[i][0]), every_key[i][1]);
    /* And the typed fields, for the ones the text form could hide. */
    assert_int_equal(c.log_level, CONFIG_LOG_DEBUG);
    assert_false(c.watchdog);
    assert_true(c.spool_max_bytes == INT64_C(5368709120));
    assert_int_equal(c.max_participants, 7);
    assert_string_equal(c.spool_path, "/srv/lwk spool");
    config_free(&c);
}

static void comments_blank_lines_and_quotes(void **state)
{
    (void)state;
    struct lwkd_config c;
    config_defaults(&c);
    const char *text = "\xEF\xBB\xBF# leading byte order mark and a comment\n"
                       "\n"
                       "   # indented comment\n"
                       "\t\n"
                       "listen_tcp = \"\"\n"
                       "listen_unix =\n"
                       "admin_token = \"  with \\\"quotes\\\" and \\\\ #hash \"\n"
                       "spool_path = /var/spool/lwk#not-a-comment\n"
                       "log_level = warn";
    struct config_error err;
    assert_int_equal(load_text(&c, text, &err), CONFIG_OK);
    assert_string_equal(c.listen_tcp, "");
    assert_string_equal(c.listen_unix, "");
    assert_string_equal(c.admin_token, "  with \"quotes\" and \\ #hash ");
    assert_string_equal(c.spool_path, "/var/spool/lwk#not-a-comment");
    assert_int_equal(c.log_level, CONFIG_LOG_WARN); /* last line without newline */
    config_free(&c);
}

static void bool_and_enum_words(void **state)
{
    (void)state;
    struct lwkd_config c;
    config_defaults(&c);
    const char *yes[] = {"yes", "true", "on", "1"}, *no[] = {"no", "false", "off", "0"};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(config_set(&c, "watchdog", no[i], NULL), CONFIG_OK);
        assert_false(c.watchdog);
        assert_int_equal(config_set(&c, "watchdog", yes[i], NULL), CONFIG_OK);
        assert_true(c.watchdog);
    }
    struct config_error err;
    assert_int_equal(config_set(&c, "watchdog", "maybe", &err), CONFIG_ERR_BAD_VALUE);
    assert_int_equal(config_set(&c, "watchdog", "YES", &err), CONFIG_ERR_BAD_VALUE);
    const char *levels[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(config_set(&c, "log_level", levels[i], NULL), CONFIG_OK);
        assert_int_equal(c.log_level, i);
        assert_string_equal(config_log_level_name(c.log_level), levels[i]);
    }
    assert_int_equal(config_set(&c, "log_level", "verbose", &err), CONFIG_ERR_BAD_VALUE);
    assert_non_null(strstr(err.message, "debug, info, warn, error"));
    config_free(&c);
}

/* Every integer key accepts its min and max and refuses one past each. */
static void every_integer_key_is_checked_at_its_limits(void **state)
{
    (void)state;
    struct lwkd_config c;
    config_defaults(&c);
    for (size_t i = 0; i < config_key_count; i++) {
        const struct config_key *k = &config_keys[i];
        if (k->type != CONFIG_TYPE_INT && k->type != CONFIG_TYPE_INT64)
            continue;
        char v[32], seen[32];
        struct config_error err;
        snprintf(v, sizeof(v), "%lld", (long long)k->min);
        assert_int_equal(config_set(&c, k->name, v, &err), CONFIG_OK);
        config_value_string(&c, k->name, seen, sizeof(seen));
        assert_string_equal(seen, v);
        snprintf(v, sizeof(v), "%lld", (long long)k->max);
        assert_int_equal(config_set(&c, k->name, v, &err), CONFIG_OK);
        config_value_string(&c, k->name, seen, sizeof(seen));
        assert_string_equal(seen, v);
        snprintf(v, sizeof(v), "%lld", (long long)k->min - 1);
        assert_int_equal(config_set(&c, k->name, v, &err), CONFIG_ERR_RANGE);
        assert_string_equal(err.key, k->name);
        snprintf(v, sizeof(v), "%lld", (long long)k->max + 1);
        assert_int_equal(config_set(&c, k->name, v, &err), CONFIG_ERR_RANGE);
        /* the failed sets left the max in place */
        snprintf(v, sizeof(v), "%lld", (long long)k->max);
        config_value_string(&c, k->name, seen, sizeof(seen));
        assert_string_equal(seen, v);
        const char *bad[] = {"", "12abc", "0x10", "+5", " 5", "1.5", "1e3", "-", "ten"};
        for (size_t b = 0; b < sizeof(bad) / sizeof(bad[0]); b++)
            assert_int_equal(config_set(&c, k->name, bad[b], &err), CONFIG_ERR_BAD_VALUE);
        assert_int_equal(config_set(&c, k->name, "99999999999999999999999", &err),
                         CONFIG_ERR_RANGE);
    }
    config_free(&c);
}

static void listen_and_path_values_are_checked(void **state)
{
    (void)state;
    struct lwkd_config c;
    config_defaults(&c);
    const char *good_tcp[] = {"", "127.0.0.1:1", "0.0.0.0:65535", "[::1]:7411", "[::]:7411"};
    for (size_t i = 0; i < sizeof(good_tcp) / sizeof(good_tcp[0]); i++)
        assert_int_equal(config_set(&c, "listen_tcp", good_tcp[i], NULL), CONFIG_OK);
    const char *bad_tcp[] = {"localhost:7411", "127.0.0.1",   "127.0.0.1:0", "127.0.0.1:65536",
                             "::1:7411",       "[::1]7411",   ":7411",       "127.0.0.1:74a1",
                             "[]:7411",        "1.2.3.4.5:1", "[::1:7411"};
    struct config_error err;
    for (size_t i = 0; i < sizeof(bad_tcp) / sizeof(bad_tcp[0]); i++) {
        if (config_set(&c, "listen_tcp", bad_tcp[i], &err) != CONFIG_ERR_BAD_VALUE)
            fail_msg("listen_tcp accepted '%s'", bad_tcp[i]);
    }
    assert_string_equal(c.listen_tcp, "[::]:7411");

    assert_int_equal(config_set(&c, "listen_unix", "relative.sock", &err), CONFIG_ERR_BAD_VALUE);
    char longpath[200];
    memset(longpath, 'a', sizeof(longpath) - 1);
    longpath[0] = '/';
    longpath[sizeof(longpath) - 1] = '\0';
    assert_int_equal(config_set(&c, "listen_unix", longpath, &err), CONFIG_ERR_BAD_VALUE);
    longpath[107] = '\0';
    assert_int_equal(config_set(&c, "listen_unix", longpath, &err), CONFIG_OK);

    assert_int_equal(config_set(&c, "spool_path", "", &err), CONFIG_ERR_BAD_VALUE);
    assert_int_equal(config_set(&c, "admin_token", "short", &err), CONFIG_ERR_BAD_VALUE);
    assert_null(strstr(err.message, "short")); /* secrets are not echoed */
    assert_int_equal(config_set(&c, "admin_token", "", &err), CONFIG_OK);
    assert_int_equal(config_set(&c, "admin_token", "line\nbreak-in-a-long-token", &err),
                     CONFIG_ERR_BAD_VALUE);

    assert_int_equal(config_set(&c, "database", "postgresql://lwk@/lwk?host=/run/postgresql", &err),
                     CONFIG_OK);
    assert_int_equal(config_set(&c, "database", "dbname='unterminated password=hunter2", &err),
                     CONFIG_ERR_BAD_VALUE);
    assert_null(strstr(err.message, "hunter2"));
    assert_int_equal(config_set(&c, "database", "just-a-word", &err), CONFIG_ERR_BAD_VALUE);
    config_free(&c);
}

/* ---- errors ----------------------------------------------------------- */

struct error_case {
    const char *text;
    int code;
    int line;
    const char *key;  /* expected err.key */
    const char *frag; /* expected in err.message */
};

static void file_errors_name_the_line(void **state)
{
    (void)state;
    const struct error_case cases[] = {
        {"# c\nmax_clients = 10\nmax_client = 3\n", CONFIG_ERR_UNKNOWN_KEY, 3, "",
         "did you mean max_clients?"},
        {"\nmax_clients = 10\n\n\nmax_clients = 11\n", CONFIG_ERR_DUPLICATE, 5, "max_clients",
         "first on line 2"},
        {"log_level = info\nmax_clients = many\n", CONFIG_ERR_BAD_VALUE, 2, "max_clients",
         "not a whole number"},
        {"max_participants = 501\n", CONFIG_ERR_RANGE, 1, "max_participants", "2..500"},
        {"max_frame_bytes = 1023\n", CONFIG_ERR_RANGE, 1, "max_frame_bytes", "out of range"},
        {"\n\n\nlog_level = loud\n", CONFIG_ERR_BAD_VALUE, 4, "log_level", "not one of"},
        {"max_clients = 1\nmax_sessions 5\n", CONFIG_ERR_SYNTAX, 2, "", "expected key = value"},
        {"= 5\n", CONFIG_ERR_SYNTAX, 1, "", "missing key"},
        {"admin_token = \"unterminated\n", CONFIG_ERR_SYNTAX, 1, "", "closing double quote"},
        {"listen_unix = \"/a\" trailing\n", CONFIG_ERR_SYNTAX, 1, "", "after the closing"},
        {"listen_unix = \"/a\\n\"\n", CONFIG_ERR_SYNTAX, 1, "", "backslash"},
        {"watchdog = perhaps\n", CONFIG_ERR_BAD_VALUE, 1, "watchdog", "yes or no"},
        {"max clients = 5\n", CONFIG_ERR_UNKNOWN_KEY, 1, "", "unknown key"},
        {"MAX_CLIENTS = 5\n", CONFIG_ERR_UNKNOWN_KEY, 1, "", "unknown key"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct lwkd_config c;
        config_defaults(&c);
        struct config_error err;
        int r = load_text(&c, cases[i].text, &err);
        if (r != cases[i].code || err.code != r || err.line != cases[i].line ||
            strcmp(err.key, cases[i].key) != 0 || strstr(err.message, cases[i].frag) == NULL)
            fail_msg("case %zu: got code %d line %d key '%s' message '%s'", i, r, err.line, err.key,
                     err.message);
        /* message carries "path:line:" */
        char where[16];
        snprintf(where, sizeof(where), ":%d: ", cases[i].line);
        assert_non_null(strstr(err.message, where));
        config_free(&c);
    }
}

static void a_failed_file_changes_nothing(void **state)
{
    (void)state;
    struct lwkd_config c;
    config_defaults(&c);
    assert_int_equal(config_set(&c, "max_clients", "77", NULL), CONFIG_OK);
    struct config_error err;
    assert_int_equal(load_text(&c,
                               "max_clients = 10\nlisten_tcp = 10.0.0.1:1\n"
                               "admin_token = 0123456789abcdefXYZ\nmax_sessions = x\n",
                               &err),
                     CONFIG_ERR_BAD_VALUE);
    assert_int_equal(err.line, 4);
    assert_int_equal(c.max_clients, 77);
    assert_string_equal(c.listen_tcp, "127.0.0.1:7411");
    assert_string_equal(c.admin_token, "");
    config_free(&c);
}

static void file_limits_and_io_errors(void **state)
{
    (void)state;
    struct lwkd_config c;
    config_defaults(&c);
    struct config_error err;
    assert_int_equal(config_load_file(&c, "/nonexistent/lwkd.conf", &err), CONFIG_ERR_IO);
    assert_int_equal(err.line, 0);
    assert_non_null(strstr(err.message, "/nonexistent/lwkd.conf"));

    /* A line of exactly CONFIG_MAX_LINE bytes is fine; one more is not. */
    size_t n = CONFIG_MAX_LINE + 64;
    char *text = malloc(n);
    assert_non_null(text);
    const char *head = "log_level = info\nspool_path = /";
    strcpy(text, head);
    size_t len = strlen("spool_path = /");
    size_t off = strlen(head);
    while (len < CONFIG_MAX_LINE) {
        text[off++] = 'a';
        len++;
    }
    strcpy(text + off, "\n");
    /* value is CONFIG_MAX_LINE - 13 bytes: under the value limit */
    assert_int_equal(load_text(&c, text, &err), CONFIG_OK);
    strcpy(text + off, "a\n");
    assert_int_equal(load_text(&c, text, &err), CONFIG_ERR_SYNTAX);
    assert_int_equal(err.line, 2);
    assert_non_null(strstr(err.message, "longer than"));
    free(text);

    const char nul[] = "log_level = info\nmax_clients = 5\0 junk\n";
    const char *path = write_temp("");
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fwrite(nul, 1, sizeof(nul) - 1, f);
    fclose(f);
    assert_int_equal(config_load_file(&c, path, &err), CONFIG_ERR_SYNTAX);
    assert_int_equal(err.line, 2);
    unlink(path);
    config_free(&c);
}

/* ---- environment, flags, precedence ----------------------------------- */

static void environment_keys_map_to_lwkd_names(void **state)
{
    (void)state;
    struct lwkd_config c;
    config_defaults(&c);
    for (size_t i = 0; i < EVERY_KEY_COUNT; i++) {
        char name[128];
        snprintf(name, sizeof(name), "LWKD_");
        for (const char *p = every_key[i][0]; *p; p++) {
            char u = (*p >= 'a' && *p <= 'z') ? (char)(*p - 'a' + 'A') : *p;
            strncat(name, &u, 1);
        }
        char entry[600];
        snprintf(entry, sizeof(entry), "%s=%s", name, every_key[i][1]);
        char *env[] = {"PATH=/usr/bin", "LWK_KIOSK_CODE=abc", entry, "LWKDX=1", NULL};
        struct config_error err;
        if (config_apply_env(&c, env, &err) != CONFIG_OK)
            fail_msg("%s: %s", entry, err.message);
        assert_string_equal(value_of(&c, every_key[i][0]), every_key[i][1]);
    }
    config_free(&c);
}

static void environment_errors(void **state)
{
    (void)state;
    struct lwkd_config c;
    config_defaults(&c);
    struct config_error err;
    char *unknown[] = {"LWKD_MAX_SESSIONS=9", "LWKD_MAX_CLIENT=5", NULL};
    assert_int_equal(config_apply_env(&c, unknown, &err), CONFIG_ERR_UNKNOWN_KEY);
    assert_non_null(strstr(err.message, "LWKD_MAX_CLIENT"));
    assert_int_equal(c.max_sessions, 5000); /* all or nothing */

    char *lower[] = {"LWKD_max_clients=5", NULL};
    assert_int_equal(config_apply_env(&c, lower, &err), CONFIG_ERR_UNKNOWN_KEY);

    char *twice[] = {"LWKD_MAX_CLIENTS=5", "LWKD_MAX_CLIENTS=6", NULL};
    assert_int_equal(config_apply_env(&c, twice, &err), CONFIG_ERR_DUPLICATE);
    assert_string_equal(err.key, "max_clients");

    char *bad[] = {"LWKD_MIN_REVEAL=51", NULL};
    assert_int_equal(config_apply_env(&c, bad, &err), CONFIG_ERR_RANGE);
    assert_int_equal(err.line, 0);
    assert_non_null(strstr(err.message, "LWKD_MIN_REVEAL"));

    /* Environment values are literal: quotes are part of the value. */
    char *quoted[] = {"LWKD_SPOOL_PATH=\"/x\"", NULL};
    assert_int_equal(config_apply_env(&c, quoted, &err), CONFIG_OK);
    assert_string_equal(c.spool_path, "\"/x\"");

    char *empty[] = {NULL};
    assert_int_equal(config_apply_env(&c, empty, &err), CONFIG_OK);
    assert_int_equal(config_apply_env(&c, NULL, &err), CONFIG_OK);
    config_free(&c);
}

static void flags_set_keys(void **state)
{
    (void)state;
    struct lwkd_config c;
    config_defaults(&c);
    struct config_error err;
    assert_int_equal(config_set_arg(&c, "max_clients=42", &err), CONFIG_OK);
    assert_int_equal(c.max_clients, 42);
    assert_int_equal(config_set_arg(&c, "database=host=/tmp dbname=x", &err), CONFIG_OK);
    assert_string_equal(c.database, "host=/tmp dbname=x");
    assert_int_equal(config_set_arg(&c, "listen_tcp=", &err), CONFIG_OK);
    assert_string_equal(c.listen_tcp, "");
    assert_int_equal(config_set_arg(&c, "max_clients", &err), CONFIG_ERR_SYNTAX);
    assert_int_equal(config_set_arg(&c, "=5", &err), CONFIG_ERR_SYNTAX);
    assert_int_equal(config_set_arg(&c, "max_clientz=5", &err), CONFIG_ERR_UNKNOWN_KEY);
    assert_non_null(strstr(err.message, "did you mean max_clients?"));
    assert_int_equal(config_set(&c, "max_clients", NULL, &err), CONFIG_ERR_SYNTAX);
    assert_int_equal(config_set(&c, "max_clients", "0", &err), CONFIG_ERR_RANGE);
    assert_int_equal(c.max_clients, 42);
    config_free(&c);
}

static void precedence_is_defaults_file_environment_flags(void **state)
{
    (void)state;
    struct lwkd_config c;
    config_defaults(&c);
    struct config_error err;
    assert_int_equal(load_text(&c,
                               "max_clients = 100\nmax_sessions = 100\nmax_themes = 100\n"
                               "log_level = warn\n",
                               &err),
                     CONFIG_OK);
    char *env[] = {"LWKD_MAX_CLIENTS=200", "LWKD_MAX_SESSIONS=200", "LWKD_MAX_ACTIONS=200", NULL};
    assert_int_equal(config_apply_env(&c, env, &err), CONFIG_OK);
    assert_int_equal(config_set(&c, "max_clients", "300", &err), CONFIG_OK);
    assert_int_equal(config_set(&c, "max_keywords", "300", &err), CONFIG_OK);

    assert_int_equal(c.max_clients, 300);  /* file < env < flag */
    assert_int_equal(c.max_sessions, 200); /* file < env */
    assert_int_equal(c.max_themes, 100);   /* file only */
    assert_int_equal(c.max_actions, 200);  /* env only */
    assert_int_equal(c.max_keywords, 300); /* flag only */
    assert_int_equal(c.log_level, CONFIG_LOG_WARN);
    assert_int_equal(c.max_participants, 60); /* default */
    config_free(&c);
}

static void cross_key_rules(void **state)
{
    (void)state;
    struct lwkd_config c;
    config_defaults(&c);
    struct config_error err;
    config_set(&c, "max_frame_bytes", "2000000", NULL);
    assert_int_equal(config_validate(&c, &err), CONFIG_ERR_CONFLICT);
    assert_string_equal(err.key, "client_queue_bytes");
    config_set(&c, "client_queue_bytes", "2000000", NULL);
    assert_int_equal(config_validate(&c, &err), CONFIG_OK);
    config_set(&c, "max_participants", "4", NULL);
    config_set(&c, "min_reveal", "5", NULL);
    assert_int_equal(config_validate(&c, &err), CONFIG_ERR_CONFLICT);
    assert_string_equal(err.key, "min_reveal");
    config_set(&c, "min_reveal", "4", NULL);
    config_set(&c, "rate_limit_burst", "10", NULL);
    assert_int_equal(config_validate(&c, &err), CONFIG_ERR_CONFLICT);
    assert_string_equal(err.key, "rate_limit_burst");
    config_free(&c);
}

/* ---- printing --------------------------------------------------------- */

static void print_masks_secrets(void **state)
{
    (void)state;
    struct lwkd_config c;
    config_defaults(&c);
    char *out = print_to_string(&c);
    assert_non_null(strstr(out, "admin_token = \"\"\n")); /* nothing to hide */
    assert_non_null(strstr(out, "database = \"\"\n"));
    assert_non_null(strstr(out, "max_clients = 20000\n"));
    assert_non_null(strstr(out, "log_level = info\n"));
    assert_non_null(strstr(out, "watchdog = yes\n"));
    assert_non_null(strstr(out, "spool_max_bytes = 268435456\n"));
    assert_non_null(strstr(out, "listen_tcp = \"127.0.0.1:7411\"\n"));
    free(out);

    struct {
        const char *conninfo, *shown, *hidden;
    } cases[] = {
        {"host=/run/postgresql dbname=lwk password=s3cret user=lwkd",
         "host=/run/postgresql dbname=lwk password=**** user=lwkd", "s3cret"},
        {"password = 'a b\\' s3cret' dbname=lwk", "password = **** dbname=lwk", "s3cret"},
        {"dbname=lwk sslpassword=s3cret", "dbname=lwk sslpassword=****", "s3cret"},
        {"hostaddr=127.0.0.1 dbname=lwk", "hostaddr=127.0.0.1 dbname=lwk", NULL},
        {"postgresql://lwkd:s3cret@db.example:5432/lwk?sslmode=require",
         "postgresql://lwkd:****@db.example:5432/lwk?sslmode=require", "s3cret"},
        {"postgres://lwkd@/lwk?host=/run/postgresql&password=s3cret&application_name=lwkd",
         "postgres://lwkd@/lwk?host=/run/postgresql&password=****&application_name=lwkd", "s3cret"},
        {"postgresql:///lwk?pass%77ord=s3cret", "postgresql:///lwk?pass%77ord=****", "s3cret"},
        {"postgresql://u:s3cret@h/d?password=s3cret2", "postgresql://u:****@h/d?password=****",
         "s3cret"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(config_set(&c, "database", cases[i].conninfo, NULL), CONFIG_OK);
        assert_int_equal(config_set(&c, "admin_token", "s3cret-admin-token-0123", NULL), CONFIG_OK);
        out = print_to_string(&c);
        char want[512];
        snprintf(want, sizeof(want), "database = \"%s\"\n", cases[i].shown);
        /* the printed form escapes backslashes; none of the shown forms has one */
        if (strstr(out, want) == NULL)
            fail_msg("case %zu: wanted %s in:\n%s", i, want, out);
        assert_non_null(strstr(out, "admin_token = \"****\"\n"));
        assert_null(strstr(out, "s3cret-admin"));
        if (cases[i].hidden != NULL)
            assert_null(strstr(out, cases[i].hidden));
        free(out);
    }
    config_free(&c);
}

/* What config_print writes parses back to the same configuration. */
static void print_output_parses_back(void **state)
{
    (void)state;
    struct lwkd_config a, b;
    config_defaults(&a);
    for (size_t i = 0; i < EVERY_KEY_COUNT; i++)
        assert_int_equal(config_set(&a, every_key[i][0], every_key[i][1], NULL), CONFIG_OK);
    assert_int_equal(config_set(&a, "spool_path", "/odd \"path\" \\ here", NULL), CONFIG_OK);
    assert_int_equal(config_set(&a, "admin_token", "", NULL), CONFIG_OK); /* not masked */
    char *out = print_to_string(&a);
    config_defaults(&b);
    struct config_error err;
    if (load_text(&b, out, &err) != CONFIG_OK)
        fail_msg("%s\n%s", err.message, out);
    for (size_t i = 0; i < config_key_count; i++) {
        char va[CONFIG_MAX_LINE + 1], vb[CONFIG_MAX_LINE + 1];
        config_value_string(&a, config_keys[i].name, va, sizeof(va));
        config_value_string(&b, config_keys[i].name, vb, sizeof(vb));
        assert_string_equal(va, vb);
    }
    free(out);
    config_free(&a);
    config_free(&b);
}

/* ---- reload ----------------------------------------------------------- */

static void reload_copies_only_reloadable_keys(void **state)
{
    (void)state;
    struct lwkd_config cur, fresh, before;
    config_defaults(&cur);
    config_defaults(&fresh);
    for (size_t i = 0; i < EVERY_KEY_COUNT; i++)
        assert_int_equal(config_set(&fresh, every_key[i][0], every_key[i][1], NULL), CONFIG_OK);
    assert_int_equal(config_copy(&before, &cur), CONFIG_OK);
    assert_string_equal(config_first_fixed_change(&cur, &fresh), "listen_tcp");

    size_t reloadable = 0;
    for (size_t i = 0; i < config_key_count; i++)
        reloadable += config_keys[i].reloadable;
    assert_int_equal(config_reload(&cur, &fresh), (int)reloadable);

    for (size_t i = 0; i < config_key_count; i++) {
        const struct config_key *k = &config_keys[i];
        char now[CONFIG_MAX_LINE + 1], want[CONFIG_MAX_LINE + 1];
        config_value_string(&cur, k->name, now, sizeof(now));
        config_value_string(k->reloadable ? &fresh : &before, k->name, want, sizeof(want));
        if (strcmp(now, want) != 0)
            fail_msg("%s: %s, wanted %s", k->name, now, want);
    }
    assert_int_equal(cur.max_participants, 7);
    assert_int_equal(cur.log_level, CONFIG_LOG_DEBUG);
    assert_int_equal(cur.max_clients, 20000);
    assert_string_equal(cur.listen_tcp, "127.0.0.1:7411");
    assert_true(cur.watchdog);

    assert_int_equal(config_reload(&cur, &fresh), 0); /* nothing left to change */
    assert_int_equal(config_set(&fresh, "min_reveal", "2", NULL), CONFIG_OK);
    assert_int_equal(config_reload(&cur, &fresh), 1);
    assert_int_equal(cur.min_reveal, 2);

    struct lwkd_config same;
    assert_int_equal(config_copy(&same, &cur), CONFIG_OK);
    assert_null(config_first_fixed_change(&cur, &same));
    config_free(&same);
    config_free(&before);
    config_free(&fresh);
    config_free(&cur);
}

/* ---- the shipped file ------------------------------------------------- */

static char *template_text(void)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    config_print_template(f);
    char *s = slurp(f);
    fclose(f);
    return s;
}

static void shipped_conf_matches_the_key_table(void **state)
{
    (void)state;
    char *shipped = source_file("systemd/lwkd.conf");
    char *generated = template_text();
    if (strcmp(shipped, generated) != 0)
        fail_msg("systemd/lwkd.conf differs from the key table: regenerate it with "
                 "`test_config --write-template systemd/lwkd.conf`");
    free(generated);

    /* As shipped (all commented out) it parses and changes nothing. */
    struct lwkd_config c, d;
    config_defaults(&c);
    config_defaults(&d);
    struct config_error err;
    assert_int_equal(load_text(&c, shipped, &err), CONFIG_OK);

    /* Uncommenting every setting gives exactly the defaults, each key once. */
    char *uncommented = malloc(strlen(shipped) + 1);
    assert_non_null(uncommented);
    char *w = uncommented;
    size_t found = 0;
    for (const char *line = shipped; *line;) {
        const char *end = strchr(line, '\n');
        size_t n = end ? (size_t)(end - line + 1) : strlen(line);
        bool setting = false;
        if (line[0] == '#')
            for (size_t i = 0; i < config_key_count; i++) {
                size_t kl = strlen(config_keys[i].name);
                if (strncmp(line + 1, config_keys[i].name, kl) == 0 &&
                    strncmp(line + 1 + kl, " = ", 3) == 0)
                    setting = true;
            }
        if (setting) {
            memcpy(w, line + 1, n - 1);
            w += n - 1;
            found++;
        }
        line += n;
    }
    *w = '\0';
    assert_int_equal(found, config_key_count);
    if (load_text(&d, uncommented, &err) != CONFIG_OK) /* a duplicate would fail here */
        fail_msg("%s", err.message);
    for (size_t i = 0; i < config_key_count; i++) {
        char vc[CONFIG_MAX_LINE + 1], vd[CONFIG_MAX_LINE + 1];
        config_value_string(&c, config_keys[i].name, vc, sizeof(vc));
        config_value_string(&d, config_keys[i].name, vd, sizeof(vd));
        assert_string_equal(vc, vd);
        /* each description made it into the file */
        assert_non_null(strstr(shipped, config_keys[i].description));
    }
    free(uncommented);
    free(shipped);
    config_free(&c);
    config_free(&d);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--write-template") == 0) {
        FILE *f = fopen(argv[2], "w");
        if (f == NULL) {
            perror(argv[2]);
            return 1;
        }
        config_print_template(f);
        return fclose(f) == 0 ? 0 : 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_match_the_documented_values),
        cmocka_unit_test(key_table_is_consistent),
        cmocka_unit_test(every_key_is_parsed_from_a_file),
        cmocka_unit_test(comments_blank_lines_and_quotes),
        cmocka_unit_test(bool_and_enum_words),
        cmocka_unit_test(every_integer_key_is_checked_at_its_limits),
        cmocka_unit_test(listen_and_path_values_are_checked),
        cmocka_unit_test(file_errors_name_the_line),
        cmocka_unit_test(a_failed_file_changes_nothing),
        cmocka_unit_test(file_limits_and_io_errors),
        cmocka_unit_test(environment_keys_map_to_lwkd_names),
        cmocka_unit_test(environment_errors),
        cmocka_unit_test(flags_set_keys),
        cmocka_unit_test(precedence_is_defaults_file_environment_flags),
        cmocka_unit_test(cross_key_rules),
        cmocka_unit_test(print_masks_secrets),
        cmocka_unit_test(print_output_parses_back),
        cmocka_unit_test(reload_copies_only_reloadable_keys),
        cmocka_unit_test(shipped_conf_matches_the_key_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
