/*
 * config.h: lwkd's settings, their defaults, and where they come from.
 *
 * Every setting is one row in a key table (config.c): name, type, field,
 * range, default, whether it is secret, whether SIGHUP reloads it, and a
 * one-line description. Parsing, printing, the environment mapping and the
 * shipped /etc/lwk/lwkd.conf are all driven by that table, so adding a
 * setting is one field here and one row there.
 *
 * Sources, lowest precedence first (the caller applies them in this order):
 *   1. defaults                config_defaults()
 *   2. the configuration file  config_load_file()
 *   3. the environment         config_apply_env()   key foo_bar <- LWKD_FOO_BAR
 *   4. command-line flags      config_set() / config_set_arg()
 * then config_validate() checks the rules that span several keys.
 *
 * File syntax: one `key = value` per line. Blank lines and lines whose first
 * non-blank character is `#` are ignored; `#` anywhere else is part of the
 * value. Whitespace around key and value is trimmed. A value may be wrapped
 * in double quotes (needed to keep surrounding spaces, or to write an empty
 * string as ""); inside quotes `\"` and `\\` are the only escapes. Unknown
 * keys, duplicate keys, malformed lines and bad or out-of-range values are
 * errors that name the line. Lines are at most CONFIG_MAX_LINE bytes.
 *
 * Environment and flag values are taken literally (no quote processing).
 *
 * Pure C11 + libc: no libuv, no libpq, no I/O except reading the file and
 * writing to the FILE * the caller gives.
 */
#ifndef LWK_DAEMON_CONFIG_H
#define LWK_DAEMON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CONFIG_DEFAULT_PATH "/etc/lwk/lwkd.conf"
#define CONFIG_ENV_PREFIX "LWKD_"
#define CONFIG_MAX_LINE 4096 /* bytes per file line, also the longest value */

enum config_log_level {
    CONFIG_LOG_DEBUG,
    CONFIG_LOG_INFO,
    CONFIG_LOG_WARN,
    CONFIG_LOG_ERROR,
};

/* Every setting of lwkd. Strings are owned (config_free releases them) and
 * never NULL after config_defaults(); "" means "not set" / "disabled". */
struct lwkd_config {
    /* transport */
    char *listen_tcp;  /* numeric "host:port" or "[v6]:port"; "" disables TCP */
    char *listen_unix; /* absolute socket path; "" disables the Unix socket */
    int max_frame_bytes;
    int max_clients;
    int rate_limit_rps;
    int rate_limit_burst;
    int client_queue_bytes;
    int handshake_timeout_ms;
    int idle_timeout_ms;
    int join_attempts_per_min;

    /* sessions */
    int max_sessions;
    int max_participants;
    int max_text_bytes;
    int max_themes;
    int max_actions;
    int max_keywords;
    int min_reveal;
    int session_idle_close_min;
    int agenda_minute_seconds;

    /* store */
    char *database; /* libpq conninfo (keyword=value or URI); "" = no database */
    int db_batch_max;
    int db_batch_delay_ms;
    int db_retry_max_ms;
    char *spool_path;
    int64_t spool_max_bytes;

    /* process */
    char *admin_token; /* secret; "" = admin commands disabled */
    enum config_log_level log_level;
    int drain_timeout_ms;
    bool watchdog;
};

/* Stable error codes; each error also carries a human message. */
enum config_status {
    CONFIG_OK = 0,
    CONFIG_ERR_IO = -1,          /* file cannot be opened or read */
    CONFIG_ERR_SYNTAX = -2,      /* no '=', empty key, bad quoting, line too long */
    CONFIG_ERR_UNKNOWN_KEY = -3, /* file key, LWKD_ variable or flag names no setting */
    CONFIG_ERR_DUPLICATE = -4,   /* same key twice in one file or environment */
    CONFIG_ERR_BAD_VALUE = -5,   /* not a number, not a listed word, bad syntax */
    CONFIG_ERR_RANGE = -6,       /* a number outside the key's min..max */
    CONFIG_ERR_CONFLICT = -7,    /* keys that are fine alone but not together */
    CONFIG_ERR_NOMEM = -8,
};

struct config_error {
    int code;          /* enum config_status; CONFIG_OK when nothing failed */
    int line;          /* 1-based file line; 0 for environment, flags, checks */
    char key[32];      /* the setting involved, "" if none or unknown */
    char message[512]; /* e.g. "lwkd.conf:12: duplicate key max_clients (first on line 3)" */
};

enum config_type {
    CONFIG_TYPE_STRING,
    CONFIG_TYPE_INT,   /* int field, decimal */
    CONFIG_TYPE_INT64, /* int64_t field, decimal */
    CONFIG_TYPE_BOOL,  /* yes|no (also true|false, on|off, 1|0); printed yes|no */
    CONFIG_TYPE_ENUM,  /* enum field; one of enum_names, stored as its index */
};

enum config_secret {
    CONFIG_PUBLIC,
    CONFIG_SECRET,          /* whole value printed as **** */
    CONFIG_SECRET_CONNINFO, /* only the password parts of a libpq conninfo masked */
};

/* One row of the key table. */
struct config_key {
    const char *name;
    enum config_type type;
    size_t offset;                 /* of the field in struct lwkd_config */
    int64_t min, max;              /* INT, INT64: inclusive range */
    int64_t default_int;           /* INT, INT64, BOOL (0/1), ENUM (index) */
    const char *default_str;       /* STRING */
    const char *const *enum_names; /* ENUM: NULL-terminated */
    /* STRING: extra syntax check; writes why into why[] and returns -1 */
    int (*check)(const char *value, char *why, size_t why_len);
    enum config_secret secret;
    bool reloadable;         /* SIGHUP applies it to a running daemon */
    const char *description; /* one line of English */
};

extern const struct config_key config_keys[];
extern const size_t config_key_count;

/* The row for name, or NULL. */
const struct config_key *config_key_find(const char *name);

/* Fills *cfg with every default. *cfg must hold no owned strings (fresh,
 * or after config_free). Aborts if the few default strings cannot be
 * allocated: there is nothing sensible to run without them. */
void config_defaults(struct lwkd_config *cfg);

/* Releases the owned strings (secrets are wiped first) and sets them NULL.
 * Safe to call twice. */
void config_free(struct lwkd_config *cfg);

/* Deep copy: dst must hold no owned strings. Returns 0 or CONFIG_ERR_NOMEM
 * (dst then holds no owned strings). */
int config_copy(struct lwkd_config *dst, const struct lwkd_config *src);

/* Applies the file at path on top of *cfg. All or nothing: on error *cfg is
 * unchanged and err (may be NULL) says what and on which line. Returns 0 or
 * a negative enum config_status. */
int config_load_file(struct lwkd_config *cfg, const char *path, struct config_error *err);

/* Applies every LWKD_<KEY>=value of a NULL-terminated environ-like array on
 * top of *cfg. An unknown LWKD_ name or a name given twice is an error. All
 * or nothing, like config_load_file. */
int config_apply_env(struct lwkd_config *cfg, char **environ_like, struct config_error *err);

/* Sets one key from its text form (as a flag gives it). On error *cfg is
 * unchanged. */
int config_set(struct lwkd_config *cfg, const char *key, const char *value,
               struct config_error *err);

/* config_set for a "key=value" argument, as `--set key=value` gives it. */
int config_set_arg(struct lwkd_config *cfg, const char *key_eq_value, struct config_error *err);

/* Checks rules between keys, after every source is applied:
 * client_queue_bytes >= max_frame_bytes (a queue must hold one whole frame),
 * min_reveal <= max_participants (a reveal must be reachable),
 * rate_limit_burst >= rate_limit_rps. Returns 0 or CONFIG_ERR_CONFLICT. */
int config_validate(const struct lwkd_config *cfg, struct config_error *err);

/* Prints the effective configuration as `key = value` lines, in table order,
 * strings double-quoted so the output parses back. The admin_token and the
 * password parts of database are shown as ****. */
void config_print(const struct lwkd_config *cfg, FILE *out);

/* Writes the documented default configuration file (systemd/lwkd.conf):
 * a header on syntax and precedence, then every key commented out with its
 * description, type, range, reload behaviour and default. */
void config_print_template(FILE *out);

/* Copies every reloadable key from fresh into cur (a SIGHUP). Returns how
 * many values changed, or CONFIG_ERR_NOMEM (cur then keeps some old values). */
int config_reload(struct lwkd_config *cur, const struct lwkd_config *fresh);

/* Name of the first key that differs between cur and fresh but is not
 * reloadable (so a SIGHUP cannot apply it and the caller should say so), or
 * NULL when there is none. */
const char *config_first_fixed_change(const struct lwkd_config *cur,
                                      const struct lwkd_config *fresh);

/* Writes the text form of key's value into buf (unquoted, unmasked: for
 * comparisons and tests). Returns the length it needed, like snprintf, or -1
 * for an unknown key. */
int config_value_string(const struct lwkd_config *cfg, const char *key, char *buf, size_t len);

const char *config_log_level_name(enum config_log_level level);

#endif
