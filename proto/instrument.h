/*
 * instrument.h: instrument definitions (LWK-meting, Quickscan, KLWO) as data.
 *
 * An instrument is a plain-text file (docs/instruments.md) holding its items,
 * the flow steps a session walks through and a timed agenda. This module
 * parses such text into a struct instrument, validating every line, and
 * writes the canonical text back. It does no I/O and knows nothing of the
 * daemon: the store reads the file, the session engine reads the struct.
 */
#ifndef LWK_PROTO_INSTRUMENT_H
#define LWK_PROTO_INSTRUMENT_H

#include <stdbool.h>
#include <stddef.h>

/* The text format understood by this parser (`format = 1`). Bump it, and keep
 * reading the old one, when the meaning of an existing file would change. */
#define INSTRUMENT_FORMAT_VERSION 1

/* Limits; each has a test at the limit and one past it. */
#define INSTRUMENT_MAX_TEXT (256 * 1024) /* bytes in one definition */
#define INSTRUMENT_MAX_ITEMS 32
#define INSTRUMENT_MAX_AGENDA 32
#define INSTRUMENT_MAX_VALUE 1000 /* bytes in one value */
#define INSTRUMENT_MAX_NAME 200   /* characters in a name or agenda title (as the store allows) */
#define INSTRUMENT_MAX_KEY 32     /* bytes in an instrument, item or agenda key */
#define INSTRUMENT_MAX_MINUTES 600
/* A scale lies within the grades a score can take on the wire and in the store. */
#define INSTRUMENT_SCALE_LOWEST 1
#define INSTRUMENT_SCALE_HIGHEST 10
#define INSTRUMENT_MAX_MIN_REVEAL 100
#define INSTRUMENT_MAX_VERSION 999999999
#define INSTRUMENT_MAX_MESSAGE 160 /* bytes in an error message, NUL included */

/* The fixed set of flow steps, in the only order a session may take them.
 * Same names and values as enum proto_phase (instrument.c checks this). */
enum instrument_step {
    INSTRUMENT_STEP_REVIEW,
    INSTRUMENT_STEP_LOBBY,
    INSTRUMENT_STEP_SCORE,
    INSTRUMENT_STEP_EXPLAIN,
    INSTRUMENT_STEP_THEMES,
    INSTRUMENT_STEP_DESIRED,
    INSTRUMENT_STEP_ACTIONS,
    INSTRUMENT_STEP_LOOK_AHEAD,
    INSTRUMENT_STEP_SUMMARY,
    INSTRUMENT_STEP_CLOSED,
    INSTRUMENT_STEP_COUNT
};

/* Stable error codes: callers and tests match on these, not on messages. */
enum instrument_err {
    INSTRUMENT_OK = 0,
    INSTRUMENT_ERR_NOMEM = -1,
    INSTRUMENT_ERR_TOO_LARGE = -2,   /* text longer than INSTRUMENT_MAX_TEXT */
    INSTRUMENT_ERR_ENCODING = -3,    /* invalid UTF-8, NUL or control character */
    INSTRUMENT_ERR_SYNTAX = -4,      /* not a comment, `key = value` or `[kind KEY]` */
    INSTRUMENT_ERR_FORMAT = -5,      /* missing or unsupported `format` line */
    INSTRUMENT_ERR_UNKNOWN_KEY = -6, /* key or section kind not defined here */
    INSTRUMENT_ERR_DUPLICATE = -7,   /* key, section, step or list entry given twice */
    INSTRUMENT_ERR_MISSING = -8,     /* required key or section absent */
    INSTRUMENT_ERR_VALUE = -9,       /* malformed value (not a number, yes/no, key...) */
    INSTRUMENT_ERR_RANGE = -10,      /* number outside its allowed range */
    INSTRUMENT_ERR_LIMIT = -11,      /* too many items or agenda entries, value too long */
    INSTRUMENT_ERR_STEP = -12,       /* unknown step, wrong order, step not used */
    INSTRUMENT_ERR_REFERENCE = -13,  /* agenda names an item that is not defined */
    INSTRUMENT_ERR_CONFLICT = -14    /* fields valid alone but not together */
};

/*
 * Where parsing failed. line is 1-based; 0 means the error concerns the text
 * as a whole (too large, a missing header key, no items).
 */
struct instrument_error {
    int code; /* enum instrument_err */
    unsigned line;
    char message[INSTRUMENT_MAX_MESSAGE]; /* short English sentence, no newline */
};

/* One text in both languages. Both NULL (optional text absent) or both set. */
struct instrument_text {
    char *nl; /* owned */
    char *en; /* owned */
};

struct instrument_item {
    char key[INSTRUMENT_MAX_KEY + 1];
    struct instrument_text name;
    struct instrument_text prompt; /* the question put to the group */
    struct instrument_text guide;  /* optional hints for the facilitator */
    bool scored;
    int scale_min, scale_max; /* both 0 when not scored */
    bool notes;               /* the session records free notes on this item */
};

struct instrument_agenda {
    char key[INSTRUMENT_MAX_KEY + 1];
    struct instrument_text title;
    struct instrument_text guide; /* optional hints for the facilitator */
    unsigned minutes;             /* 0: not timed */
    enum instrument_step step;
    size_t n_items;
    unsigned char items[INSTRUMENT_MAX_ITEMS]; /* indexes into instrument.items */
};

/*
 * A parsed instrument. Read-only for everyone but this module: make one only
 * with instrument_parse and release it with instrument_free.
 */
struct instrument {
    char key[INSTRUMENT_MAX_KEY + 1];
    unsigned version;
    struct instrument_text name;
    struct instrument_text description; /* optional */
    size_t n_steps;
    enum instrument_step steps[INSTRUMENT_STEP_COUNT]; /* in flow order */
    bool select;         /* the organisation picks a subset of items beforehand */
    unsigned min_reveal; /* fewest scores before a reveal; 0: engine default */
    size_t n_items;
    struct instrument_item items[INSTRUMENT_MAX_ITEMS];
    size_t n_agenda;
    struct instrument_agenda agenda[INSTRUMENT_MAX_AGENDA];
};

/*
 * Parses len bytes of text (need not be NUL-terminated). On success returns 0
 * and sets *out to a new instrument the caller frees with instrument_free. On
 * failure returns a negative enum instrument_err, sets *out to NULL and, when
 * err is not NULL, fills it in. The first error found is reported.
 */
int instrument_parse(const char *text, size_t len, struct instrument **out,
                     struct instrument_error *err);

void instrument_free(struct instrument *inst);

/*
 * Writes inst as canonical text: fixed key order, one blank line between
 * sections, only the optional keys that are set. For any parsed instrument,
 * parsing the result gives an equal instrument. Returns a NUL-terminated
 * string the caller frees with free(), or NULL when out of memory.
 */
char *instrument_format(const struct instrument *inst);

/* True when a and b hold the same definition (all fields, all texts). */
bool instrument_equal(const struct instrument *a, const struct instrument *b);

/* "lobby" -> INSTRUMENT_STEP_LOBBY; -1 for a name outside the fixed set. */
int instrument_step_index(const char *name);

/* INSTRUMENT_STEP_LOBBY -> "lobby"; NULL when out of range. */
const char *instrument_step_name(int step);

bool instrument_has_step(const struct instrument *inst, enum instrument_step step);

/* The step this instrument takes after step, or -1 after the last one (or
 * when step is not one of its steps). */
int instrument_next_step(const struct instrument *inst, enum instrument_step step);

/* The step a session of this instrument starts in. */
enum instrument_step instrument_first_step(const struct instrument *inst);

/* Index of the item with this key, or -1. */
int instrument_item_index(const struct instrument *inst, const char *key);

size_t instrument_scored_count(const struct instrument *inst);

/* Sum of the agenda's minutes (0 when nothing is timed). */
unsigned instrument_total_minutes(const struct instrument *inst);

/* "unknown key" for INSTRUMENT_ERR_UNKNOWN_KEY, and so on; never NULL. */
const char *instrument_strerror(int code);

#endif
