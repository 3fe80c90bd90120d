/*
 * instrument.c: parser, validator and canonical writer for instrument
 * definitions (the format is specified in docs/instruments.md).
 *
 * The parser is a single pass over the lines. The header must come first and
 * all items before the agenda, so every cross-reference (an agenda step, an
 * agenda's items, a scored item's need for the score step) can be checked on
 * the line that makes it and reported with that line's number. Nothing is
 * printed: the first error is returned with its line and a short message.
 */
#include "instrument.h"
#include "proto.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const step_names[INSTRUMENT_STEP_COUNT] = {
    "review",  "lobby",   "score",      "explain", "themes",
    "desired", "actions", "look_ahead", "summary", "closed",
};

enum section_kind { SECTION_HEADER, SECTION_ITEM, SECTION_AGENDA };

enum header_key {
    H_FORMAT,
    H_KEY,
    H_VERSION,
    H_NAME_NL,
    H_NAME_EN,
    H_DESCRIPTION_NL,
    H_DESCRIPTION_EN,
    H_STEPS,
    H_SELECT,
    H_MIN_REVEAL,
    H_COUNT
};

static const char *const header_keys[H_COUNT] = {
    "format",         "key",   "version", "name.nl",    "name.en", "description.nl",
    "description.en", "steps", "select",  "min_reveal",
};

enum item_key {
    I_NAME_NL,
    I_NAME_EN,
    I_PROMPT_NL,
    I_PROMPT_EN,
    I_GUIDE_NL,
    I_GUIDE_EN,
    I_SCORED,
    I_SCALE,
    I_NOTES,
    I_COUNT
};

static const char *const item_keys[I_COUNT] = {
    "name.nl",  "name.en", "prompt.nl", "prompt.en", "guide.nl",
    "guide.en", "scored",  "scale",     "notes",
};

enum agenda_key {
    A_TITLE_NL,
    A_TITLE_EN,
    A_GUIDE_NL,
    A_GUIDE_EN,
    A_MINUTES,
    A_STEP,
    A_ITEMS,
    A_COUNT
};

static const char *const agenda_keys[A_COUNT] = {
    "title.nl", "title.en", "guide.nl", "guide.en", "minutes", "step", "items",
};

#define MAX_SECTION_KEYS 16
_Static_assert(H_COUNT <= MAX_SECTION_KEYS && I_COUNT <= MAX_SECTION_KEYS &&
                   A_COUNT <= MAX_SECTION_KEYS,
               "struct parser.seen is too small");
/* Agenda entries store item indexes as unsigned char. */
_Static_assert(INSTRUMENT_MAX_ITEMS <= 256, "item index does not fit");
/* A step is sent on the wire as the phase of the same number. */
_Static_assert(INSTRUMENT_STEP_REVIEW == (int)PROTO_PHASE_REVIEW &&
                   INSTRUMENT_STEP_LOBBY == (int)PROTO_PHASE_LOBBY &&
                   INSTRUMENT_STEP_SCORE == (int)PROTO_PHASE_SCORE &&
                   INSTRUMENT_STEP_EXPLAIN == (int)PROTO_PHASE_EXPLAIN &&
                   INSTRUMENT_STEP_THEMES == (int)PROTO_PHASE_THEMES &&
                   INSTRUMENT_STEP_DESIRED == (int)PROTO_PHASE_DESIRED &&
                   INSTRUMENT_STEP_ACTIONS == (int)PROTO_PHASE_ACTIONS &&
                   INSTRUMENT_STEP_LOOK_AHEAD == (int)PROTO_PHASE_LOOK_AHEAD &&
                   INSTRUMENT_STEP_SUMMARY == (int)PROTO_PHASE_SUMMARY &&
                   INSTRUMENT_STEP_CLOSED == (int)PROTO_PHASE_CLOSED,
               "instrument steps and proto phases differ");

struct parser {
    const char *text;
    size_t len;
    size_t pos;
    unsigned line;
    struct instrument *inst;
    struct instrument_error *err;

    enum section_kind kind;
    unsigned section_line;
    unsigned seen[MAX_SECTION_KEYS]; /* line each key of this section was set on; 0: not set */
    bool format_seen;
    bool header_done;
    unsigned steps_line;
    unsigned item_lines[INSTRUMENT_MAX_ITEMS];
    unsigned agenda_lines[INSTRUMENT_MAX_AGENDA];
};

static int fail(struct parser *p, int code, unsigned line, const char *fmt, ...)
{
    if (p->err) {
        va_list ap;
        p->err->code = code;
        p->err->line = line;
        va_start(ap, fmt);
        vsnprintf(p->err->message, sizeof p->err->message, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* ------------------------------------------------------------------ */
/* Small lexical helpers                                                */

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static void trim(const char **s, size_t *n)
{
    while (*n > 0 && is_blank(**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && is_blank((*s)[*n - 1]))
        (*n)--;
}

/*
 * Decodes one UTF-8 sequence. Returns its length, or 0 when it is invalid:
 * truncated, overlong, a surrogate or beyond U+10FFFF.
 */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned c = s[0];
    size_t len;
    uint32_t min;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        min = 0x80;
        *cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3;
        min = 0x800;
        *cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        min = 0x10000;
        *cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        *cp = (*cp << 6) | (s[i] & 0x3F);
    }
    if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF))
        return 0;
    return len;
}

/* Every line, comments included, must be valid UTF-8 without control
 * characters (tab excepted), so that any text we accept is safe to show. */
static int check_encoding(struct parser *p, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;

    while (i < n) {
        uint32_t cp;
        size_t k = utf8_decode(u + i, n - i, &cp);
        if (k == 0)
            return fail(p, INSTRUMENT_ERR_ENCODING, p->line, "invalid UTF-8 at column %zu", i + 1);
        if ((cp < 0x20 && cp != '\t') || (cp >= 0x7F && cp <= 0x9F))
            return fail(p, INSTRUMENT_ERR_ENCODING, p->line,
                        "control character U+%04X at column %zu", (unsigned)cp, i + 1);
        i += k;
    }
    return 0;
}

/* Keys of instruments, items and agenda entries: [a-z0-9][a-z0-9-]*, the
 * shape the store accepts for an instrument key. */
static bool valid_key(const char *s, size_t n)
{
    if (n == 0 || n > INSTRUMENT_MAX_KEY)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (i > 0 && c == '-');
        if (!ok)
            return false;
    }
    return true;
}

/* Returns 0 and *out on success, -1 when s is not a plain decimal number,
 * 1 when it is one but larger than max. */
static int parse_number(const char *s, size_t n, unsigned long max, unsigned long *out)
{
    unsigned long v = 0;

    if (n == 0 || (n > 1 && s[0] == '0'))
        return -1;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return -1;
    if (n > 9)
        return 1;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (unsigned long)(s[i] - '0');
    if (v > max)
        return 1;
    *out = v;
    return 0;
}

static char *copy_string(const char *s)
{
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d)
        memcpy(d, s, n + 1);
    return d;
}

static int set_text(struct parser *p, char **field, const char *value)
{
    *field = copy_string(value);
    if (!*field)
        return fail(p, INSTRUMENT_ERR_NOMEM, p->line, "out of memory");
    return 0;
}

/* Names and titles are shown in lists and headings, and stored in columns
 * that hold at most INSTRUMENT_MAX_NAME characters. */
static int set_name(struct parser *p, const char *key, char **field, const char *value)
{
    size_t chars = 0;

    for (const unsigned char *u = (const unsigned char *)value; *u; u++)
        chars += (*u & 0xC0) != 0x80;
    if (chars > INSTRUMENT_MAX_NAME)
        return fail(p, INSTRUMENT_ERR_LIMIT, p->line, "'%s' is longer than %d characters", key,
                    INSTRUMENT_MAX_NAME);
    return set_text(p, field, value);
}

static int parse_bool(struct parser *p, const char *key, const char *value, bool *out)
{
    if (strcmp(value, "yes") == 0)
        *out = true;
    else if (strcmp(value, "no") == 0)
        *out = false;
    else
        return fail(p, INSTRUMENT_ERR_VALUE, p->line, "'%s' must be 'yes' or 'no'", key);
    return 0;
}

static int parse_bounded(struct parser *p, const char *key, const char *value, unsigned long lo,
                         unsigned long hi, unsigned *out)
{
    unsigned long v;
    int r = parse_number(value, strlen(value), hi, &v);

    if (r < 0)
        return fail(p, INSTRUMENT_ERR_VALUE, p->line, "'%s' must be a whole number", key);
    if (r > 0 || v < lo)
        return fail(p, INSTRUMENT_ERR_RANGE, p->line, "'%s' must be between %lu and %lu", key, lo,
                    hi);
    *out = (unsigned)v;
    return 0;
}

static int step_of(const char *name, size_t n)
{
    for (int i = 0; i < INSTRUMENT_STEP_COUNT; i++)
        if (strlen(step_names[i]) == n && memcmp(step_names[i], name, n) == 0)
            return i;
    return -1;
}

/* ------------------------------------------------------------------ */
/* Header                                                               */

static int parse_steps(struct parser *p, const char *value)
{
    struct instrument *inst = p->inst;
    const char *s = value;
    int last = -1;
    bool seen[INSTRUMENT_STEP_COUNT] = {false};

    while (*s) {
        size_t n = 0;
        while (*s == ' ')
            s++;
        while (s[n] && s[n] != ' ')
            n++;
        if (n == 0)
            break;
        int step = step_of(s, n);
        if (step < 0)
            return fail(p, INSTRUMENT_ERR_STEP, p->line, "unknown step '%.*s'",
                        (int)(n > 40 ? 40 : n), s);
        if (seen[step])
            return fail(p, INSTRUMENT_ERR_DUPLICATE, p->line, "step '%s' is listed twice",
                        step_names[step]);
        if (step < last)
            return fail(p, INSTRUMENT_ERR_STEP, p->line, "step '%s' must come before '%s'",
                        step_names[step], step_names[last]);
        seen[step] = true;
        last = step;
        inst->steps[inst->n_steps++] = (enum instrument_step)step;
        s += n;
    }
    if (!seen[INSTRUMENT_STEP_LOBBY])
        return fail(p, INSTRUMENT_ERR_STEP, p->line, "'steps' must include 'lobby'");
    if (!seen[INSTRUMENT_STEP_CLOSED])
        return fail(p, INSTRUMENT_ERR_STEP, p->line, "'steps' must include 'closed'");
    if (seen[INSTRUMENT_STEP_DESIRED] && !seen[INSTRUMENT_STEP_SCORE])
        return fail(p, INSTRUMENT_ERR_CONFLICT, p->line, "step 'desired' needs the 'score' step");
    p->steps_line = p->line;
    return 0;
}

static int header_set(struct parser *p, int key, const char *value)
{
    struct instrument *inst = p->inst;
    unsigned long v;

    switch (key) {
    case H_FORMAT:
        if (parse_number(value, strlen(value), INSTRUMENT_MAX_VERSION, &v) != 0 ||
            v != INSTRUMENT_FORMAT_VERSION)
            return fail(p, INSTRUMENT_ERR_FORMAT, p->line,
                        "unsupported format '%.40s' (this parser reads format %d)", value,
                        INSTRUMENT_FORMAT_VERSION);
        return 0;
    case H_KEY:
        if (!valid_key(value, strlen(value)))
            return fail(p, INSTRUMENT_ERR_VALUE, p->line,
                        "'key' must be 1 to %d of a-z, 0-9 and '-', not starting with '-'",
                        INSTRUMENT_MAX_KEY);
        memcpy(inst->key, value, strlen(value) + 1);
        return 0;
    case H_VERSION:
        return parse_bounded(p, "version", value, 1, INSTRUMENT_MAX_VERSION, &inst->version);
    case H_NAME_NL:
        return set_name(p, "name.nl", &inst->name.nl, value);
    case H_NAME_EN:
        return set_name(p, "name.en", &inst->name.en, value);
    case H_DESCRIPTION_NL:
        return set_text(p, &inst->description.nl, value);
    case H_DESCRIPTION_EN:
        return set_text(p, &inst->description.en, value);
    case H_STEPS:
        return parse_steps(p, value);
    case H_SELECT:
        return parse_bool(p, "select", value, &inst->select);
    case H_MIN_REVEAL:
        return parse_bounded(p, "min_reveal", value, 1, INSTRUMENT_MAX_MIN_REVEAL,
                             &inst->min_reveal);
    }
    return 0;
}

/* Both languages of an optional text, or neither. */
static int check_pair(struct parser *p, int nl, int en, const char *const *names)
{
    if (p->seen[nl] && !p->seen[en])
        return fail(p, INSTRUMENT_ERR_MISSING, p->seen[nl], "'%s' is set but '%s' is not",
                    names[nl], names[en]);
    if (p->seen[en] && !p->seen[nl])
        return fail(p, INSTRUMENT_ERR_MISSING, p->seen[en], "'%s' is set but '%s' is not",
                    names[en], names[nl]);
    return 0;
}

static int finish_header(struct parser *p)
{
    static const int required[] = {H_KEY, H_VERSION, H_NAME_NL, H_NAME_EN, H_STEPS};
    int r;

    p->header_done = true;
    if (!p->format_seen)
        return fail(p, INSTRUMENT_ERR_FORMAT, 0, "missing 'format = %d' line",
                    INSTRUMENT_FORMAT_VERSION);
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (!p->seen[required[i]])
            return fail(p, INSTRUMENT_ERR_MISSING, 0, "the header is missing '%s'",
                        header_keys[required[i]]);
    if ((r = check_pair(p, H_DESCRIPTION_NL, H_DESCRIPTION_EN, header_keys)) != 0)
        return r;
    if (p->seen[H_MIN_REVEAL] && !instrument_has_step(p->inst, INSTRUMENT_STEP_SCORE))
        return fail(p, INSTRUMENT_ERR_CONFLICT, p->seen[H_MIN_REVEAL],
                    "'min_reveal' needs the 'score' step");
    return 0;
}

/* ------------------------------------------------------------------ */
/* Items                                                                */

static int parse_scale(struct parser *p, const char *value, struct instrument_item *item)
{
    const char *dash = strchr(value, '-');
    unsigned long lo, hi;
    int r1, r2;

    if (!dash)
        return fail(p, INSTRUMENT_ERR_VALUE, p->line, "'scale' must look like '1-10'");
    r1 = parse_number(value, (size_t)(dash - value), INSTRUMENT_SCALE_HIGHEST, &lo);
    r2 = parse_number(dash + 1, strlen(dash + 1), INSTRUMENT_SCALE_HIGHEST, &hi);
    if (r1 < 0 || r2 < 0)
        return fail(p, INSTRUMENT_ERR_VALUE, p->line, "'scale' must look like '1-10'");
    if (r1 > 0 || r2 > 0 || lo < INSTRUMENT_SCALE_LOWEST || lo >= hi)
        return fail(p, INSTRUMENT_ERR_RANGE, p->line,
                    "'scale' must run from a lower to a higher grade within %d-%d",
                    INSTRUMENT_SCALE_LOWEST, INSTRUMENT_SCALE_HIGHEST);
    item->scale_min = (int)lo;
    item->scale_max = (int)hi;
    return 0;
}

static int item_set(struct parser *p, int key, const char *value)
{
    struct instrument_item *item = &p->inst->items[p->inst->n_items - 1];
    int r;

    switch (key) {
    case I_NAME_NL:
        return set_name(p, "name.nl", &item->name.nl, value);
    case I_NAME_EN:
        return set_name(p, "name.en", &item->name.en, value);
    case I_PROMPT_NL:
        return set_text(p, &item->prompt.nl, value);
    case I_PROMPT_EN:
        return set_text(p, &item->prompt.en, value);
    case I_GUIDE_NL:
        return set_text(p, &item->guide.nl, value);
    case I_GUIDE_EN:
        return set_text(p, &item->guide.en, value);
    case I_SCORED:
        if ((r = parse_bool(p, "scored", value, &item->scored)) != 0)
            return r;
        if (item->scored && !instrument_has_step(p->inst, INSTRUMENT_STEP_SCORE))
            return fail(p, INSTRUMENT_ERR_CONFLICT, p->line,
                        "item '%s' is scored but the instrument has no 'score' step", item->key);
        return 0;
    case I_SCALE:
        return parse_scale(p, value, item);
    case I_NOTES:
        return parse_bool(p, "notes", value, &item->notes);
    }
    return 0;
}

static int finish_item(struct parser *p)
{
    static const int required[] = {I_NAME_NL, I_NAME_EN, I_PROMPT_NL, I_PROMPT_EN, I_SCORED};
    struct instrument_item *item = &p->inst->items[p->inst->n_items - 1];
    int r;

    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (!p->seen[required[i]])
            return fail(p, INSTRUMENT_ERR_MISSING, p->section_line, "[item %s] is missing '%s'",
                        item->key, item_keys[required[i]]);
    if ((r = check_pair(p, I_GUIDE_NL, I_GUIDE_EN, item_keys)) != 0)
        return r;
    if (item->scored && !p->seen[I_SCALE])
        return fail(p, INSTRUMENT_ERR_MISSING, p->section_line,
                    "[item %s] is scored and needs a 'scale'", item->key);
    if (!item->scored && p->seen[I_SCALE])
        return fail(p, INSTRUMENT_ERR_CONFLICT, p->seen[I_SCALE],
                    "'scale' is only allowed on a scored item");
    return 0;
}

/* ------------------------------------------------------------------ */
/* Agenda                                                               */

static int parse_agenda_items(struct parser *p, const char *value, struct instrument_agenda *a)
{
    const char *s = value;

    for (;;) {
        const char *comma = strchr(s, ',');
        size_t n = comma ? (size_t)(comma - s) : strlen(s);
        const char *name = s;
        char key[INSTRUMENT_MAX_KEY + 1];
        int idx;

        trim(&name, &n);
        if (n == 0)
            return fail(p, INSTRUMENT_ERR_VALUE, p->line, "empty entry in 'items'");
        if (!valid_key(name, n))
            return fail(p, INSTRUMENT_ERR_REFERENCE, p->line, "unknown item '%.*s'",
                        (int)(n > 40 ? 40 : n), name);
        memcpy(key, name, n);
        key[n] = '\0';
        idx = instrument_item_index(p->inst, key);
        if (idx < 0)
            return fail(p, INSTRUMENT_ERR_REFERENCE, p->line,
                        "unknown item '%s' (items are defined before the agenda)", key);
        for (size_t i = 0; i < a->n_items; i++)
            if (a->items[i] == idx)
                return fail(p, INSTRUMENT_ERR_DUPLICATE, p->line, "item '%s' is listed twice", key);
        a->items[a->n_items++] = (unsigned char)idx;
        if (!comma)
            return 0;
        s = comma + 1;
    }
}

static int agenda_set(struct parser *p, int key, const char *value)
{
    struct instrument_agenda *a = &p->inst->agenda[p->inst->n_agenda - 1];
    int step;

    switch (key) {
    case A_TITLE_NL:
        return set_name(p, "title.nl", &a->title.nl, value);
    case A_TITLE_EN:
        return set_name(p, "title.en", &a->title.en, value);
    case A_GUIDE_NL:
        return set_text(p, &a->guide.nl, value);
    case A_GUIDE_EN:
        return set_text(p, &a->guide.en, value);
    case A_MINUTES:
        return parse_bounded(p, "minutes", value, 0, INSTRUMENT_MAX_MINUTES, &a->minutes);
    case A_STEP:
        step = step_of(value, strlen(value));
        if (step < 0)
            return fail(p, INSTRUMENT_ERR_STEP, p->line, "unknown step '%.40s'", value);
        if (!instrument_has_step(p->inst, (enum instrument_step)step))
            return fail(p, INSTRUMENT_ERR_STEP, p->line,
                        "step '%s' is not in this instrument's 'steps'", step_names[step]);
        a->step = (enum instrument_step)step;
        return 0;
    case A_ITEMS:
        return parse_agenda_items(p, value, a);
    }
    return 0;
}

static int finish_agenda(struct parser *p)
{
    static const int required[] = {A_TITLE_NL, A_TITLE_EN, A_MINUTES, A_STEP};
    struct instrument_agenda *a = &p->inst->agenda[p->inst->n_agenda - 1];
    int r;

    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (!p->seen[required[i]])
            return fail(p, INSTRUMENT_ERR_MISSING, p->section_line, "[agenda %s] is missing '%s'",
                        a->key, agenda_keys[required[i]]);
    if ((r = check_pair(p, A_GUIDE_NL, A_GUIDE_EN, agenda_keys)) != 0)
        return r;
    /* Items are walked one by one only in these steps; elsewhere a list would
     * promise a behaviour the session engine does not have. */
    if (a->n_items > 0 && a->step != INSTRUMENT_STEP_SCORE && a->step != INSTRUMENT_STEP_EXPLAIN &&
        a->step != INSTRUMENT_STEP_DESIRED)
        return fail(p, INSTRUMENT_ERR_CONFLICT, p->seen[A_ITEMS],
                    "'items' is only allowed on a score, explain or desired entry");
    /* Only scored items can be scored, or given a desired score. */
    if (a->step == INSTRUMENT_STEP_SCORE || a->step == INSTRUMENT_STEP_DESIRED)
        for (size_t i = 0; i < a->n_items; i++) {
            const struct instrument_item *item = &p->inst->items[a->items[i]];
            if (!item->scored)
                return fail(p, INSTRUMENT_ERR_CONFLICT, p->seen[A_ITEMS],
                            "item '%s' is not scored and cannot be on a '%s' entry", item->key,
                            step_names[a->step]);
        }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Lines                                                                */

static int finish_section(struct parser *p)
{
    switch (p->kind) {
    case SECTION_HEADER:
        return finish_header(p);
    case SECTION_ITEM:
        return finish_item(p);
    case SECTION_AGENDA:
        return finish_agenda(p);
    }
    return 0;
}

static int section_line(struct parser *p, const char *s, size_t n)
{
    struct instrument *inst = p->inst;
    const char *kind, *key;
    size_t kind_n = 0, key_n, rest;
    int r;

    if (s[n - 1] != ']')
        return fail(p, INSTRUMENT_ERR_SYNTAX, p->line, "a section line must end with ']'");
    s++;
    n -= 2;
    trim(&s, &n);
    kind = s;
    while (kind_n < n && !is_blank(kind[kind_n]))
        kind_n++;
    key = kind + kind_n;
    key_n = n - kind_n;
    trim(&key, &key_n);
    for (rest = 0; rest < key_n && !is_blank(key[rest]);)
        rest++;
    if (rest != key_n)
        return fail(p, INSTRUMENT_ERR_SYNTAX, p->line,
                    "a section line looks like '[item KEY]' or '[agenda KEY]'");

    bool is_item = kind_n == 4 && memcmp(kind, "item", 4) == 0;
    bool is_agenda = kind_n == 6 && memcmp(kind, "agenda", 6) == 0;
    if (!is_item && !is_agenda)
        return fail(p, INSTRUMENT_ERR_UNKNOWN_KEY, p->line, "unknown section kind '%.*s'",
                    (int)(kind_n > 40 ? 40 : kind_n), kind);
    if (key_n == 0)
        return fail(p, INSTRUMENT_ERR_SYNTAX, p->line, "the section has no key");
    if (!valid_key(key, key_n))
        return fail(p, INSTRUMENT_ERR_VALUE, p->line,
                    "a section key is 1 to %d of a-z, 0-9 and '-', not starting with '-'",
                    INSTRUMENT_MAX_KEY);

    if (!p->format_seen)
        return fail(p, INSTRUMENT_ERR_FORMAT, p->line, "the first line must be 'format = %d'",
                    INSTRUMENT_FORMAT_VERSION);
    if ((r = finish_section(p)) != 0)
        return r;
    memset(p->seen, 0, sizeof p->seen);
    p->section_line = p->line;

    if (is_item) {
        if (inst->n_agenda > 0)
            return fail(p, INSTRUMENT_ERR_SYNTAX, p->line,
                        "[item] sections must come before [agenda] sections");
        for (size_t i = 0; i < inst->n_items; i++)
            if (strlen(inst->items[i].key) == key_n && memcmp(inst->items[i].key, key, key_n) == 0)
                return fail(p, INSTRUMENT_ERR_DUPLICATE, p->line,
                            "item '%s' is already defined on line %u", inst->items[i].key,
                            p->item_lines[i]);
        if (inst->n_items == INSTRUMENT_MAX_ITEMS)
            return fail(p, INSTRUMENT_ERR_LIMIT, p->line, "more than %d items",
                        INSTRUMENT_MAX_ITEMS);
        p->item_lines[inst->n_items] = p->line;
        memcpy(inst->items[inst->n_items].key, key, key_n);
        inst->n_items++;
        p->kind = SECTION_ITEM;
    } else {
        for (size_t i = 0; i < inst->n_agenda; i++)
            if (strlen(inst->agenda[i].key) == key_n &&
                memcmp(inst->agenda[i].key, key, key_n) == 0)
                return fail(p, INSTRUMENT_ERR_DUPLICATE, p->line,
                            "agenda entry '%s' is already defined on line %u", inst->agenda[i].key,
                            p->agenda_lines[i]);
        if (inst->n_agenda == INSTRUMENT_MAX_AGENDA)
            return fail(p, INSTRUMENT_ERR_LIMIT, p->line, "more than %d agenda entries",
                        INSTRUMENT_MAX_AGENDA);
        p->agenda_lines[inst->n_agenda] = p->line;
        memcpy(inst->agenda[inst->n_agenda].key, key, key_n);
        inst->n_agenda++;
        p->kind = SECTION_AGENDA;
    }
    return 0;
}

static int lookup_key(const char *const *names, int count, const char *key)
{
    for (int i = 0; i < count; i++)
        if (strcmp(names[i], key) == 0)
            return i;
    return -1;
}

static int unknown_key(struct parser *p, const char *key)
{
    if (p->kind == SECTION_HEADER)
        return fail(p, INSTRUMENT_ERR_UNKNOWN_KEY, p->line, "unknown key '%s' in the header", key);
    if (lookup_key(header_keys, H_COUNT, key) >= 0)
        return fail(p, INSTRUMENT_ERR_UNKNOWN_KEY, p->line,
                    "'%s' is a header key and must come before the first section", key);
    if (p->kind == SECTION_ITEM)
        return fail(p, INSTRUMENT_ERR_UNKNOWN_KEY, p->line, "unknown key '%s' in [item %s]", key,
                    p->inst->items[p->inst->n_items - 1].key);
    return fail(p, INSTRUMENT_ERR_UNKNOWN_KEY, p->line, "unknown key '%s' in [agenda %s]", key,
                p->inst->agenda[p->inst->n_agenda - 1].key);
}

static int value_line(struct parser *p, const char *s, size_t n)
{
    const char *eq = memchr(s, '=', n);
    const char *k, *v;
    size_t kn, vn;
    char key[41];
    char value[INSTRUMENT_MAX_VALUE + 1];
    int idx;

    if (!eq)
        return fail(p, INSTRUMENT_ERR_SYNTAX, p->line,
                    "expected 'key = value', a '[section]' or a '#' comment");
    k = s;
    kn = (size_t)(eq - s);
    v = eq + 1;
    vn = n - kn - 1;
    trim(&k, &kn);
    trim(&v, &vn);
    if (kn == 0)
        return fail(p, INSTRUMENT_ERR_SYNTAX, p->line, "missing key before '='");
    /* No key is this long: report it unknown, shortened, rather than copy it whole. */
    memcpy(key, k, kn < 40 ? kn : 40);
    key[kn < 40 ? kn : 40] = '\0';
    if (kn > 40)
        return unknown_key(p, key);

    if (!p->format_seen) {
        if (strcmp(key, "format") != 0)
            return fail(p, INSTRUMENT_ERR_FORMAT, p->line, "the first line must be 'format = %d'",
                        INSTRUMENT_FORMAT_VERSION);
        p->format_seen = true;
    }

    const char *const *names = p->kind == SECTION_HEADER ? header_keys
                               : p->kind == SECTION_ITEM ? item_keys
                                                         : agenda_keys;
    int count = p->kind == SECTION_HEADER ? H_COUNT : p->kind == SECTION_ITEM ? I_COUNT : A_COUNT;
    idx = lookup_key(names, count, key);
    if (idx < 0)
        return unknown_key(p, key);
    if (p->seen[idx])
        return fail(p, INSTRUMENT_ERR_DUPLICATE, p->line, "'%s' is already set on line %u", key,
                    p->seen[idx]);
    if (vn == 0)
        return fail(p, INSTRUMENT_ERR_VALUE, p->line, "'%s' has an empty value", key);
    if (vn > INSTRUMENT_MAX_VALUE)
        return fail(p, INSTRUMENT_ERR_LIMIT, p->line, "the value of '%s' is longer than %d bytes",
                    key, INSTRUMENT_MAX_VALUE);
    if (memchr(v, '\t', vn))
        return fail(p, INSTRUMENT_ERR_ENCODING, p->line, "tab character in the value of '%s'", key);
    memcpy(value, v, vn);
    value[vn] = '\0';
    p->seen[idx] = p->line;

    switch (p->kind) {
    case SECTION_HEADER:
        return header_set(p, idx, value);
    case SECTION_ITEM:
        return item_set(p, idx, value);
    case SECTION_AGENDA:
        return agenda_set(p, idx, value);
    }
    return 0;
}

static int parse_lines(struct parser *p)
{
    int r;

    /* A byte-order mark from a Windows editor is harmless; skip it. */
    if (p->len >= 3 && memcmp(p->text, "\xEF\xBB\xBF", 3) == 0)
        p->pos = 3;

    while (p->pos < p->len) {
        const char *s = p->text + p->pos;
        const char *nl = memchr(s, '\n', p->len - p->pos);
        size_t n = nl ? (size_t)(nl - s) : p->len - p->pos;

        p->pos += n + (nl ? 1 : 0);
        p->line++;
        if (n > 0 && s[n - 1] == '\r')
            n--;
        if ((r = check_encoding(p, s, n)) != 0)
            return r;
        trim(&s, &n);
        if (n == 0 || s[0] == '#')
            continue;
        r = s[0] == '[' ? section_line(p, s, n) : value_line(p, s, n);
        if (r != 0)
            return r;
    }

    if ((r = finish_section(p)) != 0)
        return r;
    if (!p->header_done && (r = finish_header(p)) != 0)
        return r;
    if (p->inst->n_items == 0)
        return fail(p, INSTRUMENT_ERR_MISSING, 0, "the instrument has no [item] sections");
    if (instrument_has_step(p->inst, INSTRUMENT_STEP_SCORE) &&
        instrument_scored_count(p->inst) == 0)
        return fail(p, INSTRUMENT_ERR_CONFLICT, p->steps_line,
                    "the 'score' step needs at least one scored item");
    return 0;
}

int instrument_parse(const char *text, size_t len, struct instrument **out,
                     struct instrument_error *err)
{
    struct parser p;
    int r;

    *out = NULL;
    memset(&p, 0, sizeof p);
    p.text = text;
    p.len = len;
    p.err = err;
    if (err)
        memset(err, 0, sizeof *err);
    if (len > INSTRUMENT_MAX_TEXT)
        return fail(&p, INSTRUMENT_ERR_TOO_LARGE, 0, "the definition is longer than %d bytes",
                    INSTRUMENT_MAX_TEXT);
    if (len > 0 && !text)
        return fail(&p, INSTRUMENT_ERR_VALUE, 0, "no text");
    p.inst = calloc(1, sizeof *p.inst);
    if (!p.inst)
        return fail(&p, INSTRUMENT_ERR_NOMEM, 0, "out of memory");
    r = parse_lines(&p);
    if (r != 0) {
        instrument_free(p.inst);
        return r;
    }
    *out = p.inst;
    return 0;
}

static void free_text(struct instrument_text *t)
{
    free(t->nl);
    free(t->en);
}

void instrument_free(struct instrument *inst)
{
    if (!inst)
        return;
    free_text(&inst->name);
    free_text(&inst->description);
    for (size_t i = 0; i < inst->n_items; i++) {
        free_text(&inst->items[i].name);
        free_text(&inst->items[i].prompt);
        free_text(&inst->items[i].guide);
    }
    for (size_t i = 0; i < inst->n_agenda; i++) {
        free_text(&inst->agenda[i].title);
        free_text(&inst->agenda[i].guide);
    }
    free(inst);
}

/* ------------------------------------------------------------------ */
/* Canonical writer                                                     */

struct buffer {
    char *p;
    size_t len, cap;
    bool oom;
};

static void buf_printf(struct buffer *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (b->oom)
        return;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = true;
        return;
    }
    if (b->len + (size_t)n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (b->len + (size_t)n + 1 > cap)
            cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q) {
            b->oom = true;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

static void buf_text(struct buffer *b, const char *key, const struct instrument_text *t)
{
    if (t->nl)
        buf_printf(b, "%s.nl = %s\n", key, t->nl);
    if (t->en)
        buf_printf(b, "%s.en = %s\n", key, t->en);
}

char *instrument_format(const struct instrument *inst)
{
    struct buffer b = {NULL, 0, 0, false};

    buf_printf(&b, "# LWK instrument definition; the format is in docs/instruments.md\n");
    buf_printf(&b, "format = %d\n", INSTRUMENT_FORMAT_VERSION);
    buf_printf(&b, "key = %s\n", inst->key);
    buf_printf(&b, "version = %u\n", inst->version);
    buf_text(&b, "name", &inst->name);
    buf_text(&b, "description", &inst->description);
    buf_printf(&b, "steps =");
    for (size_t i = 0; i < inst->n_steps; i++)
        buf_printf(&b, " %s", step_names[inst->steps[i]]);
    buf_printf(&b, "\nselect = %s\n", inst->select ? "yes" : "no");
    if (inst->min_reveal)
        buf_printf(&b, "min_reveal = %u\n", inst->min_reveal);

    for (size_t i = 0; i < inst->n_items; i++) {
        const struct instrument_item *item = &inst->items[i];
        buf_printf(&b, "\n[item %s]\n", item->key);
        buf_text(&b, "name", &item->name);
        buf_text(&b, "prompt", &item->prompt);
        buf_text(&b, "guide", &item->guide);
        buf_printf(&b, "scored = %s\n", item->scored ? "yes" : "no");
        if (item->scored)
            buf_printf(&b, "scale = %d-%d\n", item->scale_min, item->scale_max);
        buf_printf(&b, "notes = %s\n", item->notes ? "yes" : "no");
    }

    for (size_t i = 0; i < inst->n_agenda; i++) {
        const struct instrument_agenda *a = &inst->agenda[i];
        buf_printf(&b, "\n[agenda %s]\n", a->key);
        buf_text(&b, "title", &a->title);
        buf_text(&b, "guide", &a->guide);
        buf_printf(&b, "minutes = %u\n", a->minutes);
        buf_printf(&b, "step = %s\n", step_names[a->step]);
        if (a->n_items > 0) {
            buf_printf(&b, "items = ");
            for (size_t j = 0; j < a->n_items; j++)
                buf_printf(&b, "%s%s", j ? "," : "", inst->items[a->items[j]].key);
            buf_printf(&b, "\n");
        }
    }

    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

/* ------------------------------------------------------------------ */
/* Comparison and accessors                                             */

static bool string_equal(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

static bool text_equal(const struct instrument_text *a, const struct instrument_text *b)
{
    return string_equal(a->nl, b->nl) && string_equal(a->en, b->en);
}

bool instrument_equal(const struct instrument *a, const struct instrument *b)
{
    if (strcmp(a->key, b->key) != 0 || a->version != b->version ||
        !text_equal(&a->name, &b->name) || !text_equal(&a->description, &b->description) ||
        a->n_steps != b->n_steps || a->select != b->select || a->min_reveal != b->min_reveal ||
        a->n_items != b->n_items || a->n_agenda != b->n_agenda)
        return false;
    for (size_t i = 0; i < a->n_steps; i++)
        if (a->steps[i] != b->steps[i])
            return false;
    for (size_t i = 0; i < a->n_items; i++) {
        const struct instrument_item *x = &a->items[i], *y = &b->items[i];
        if (strcmp(x->key, y->key) != 0 || !text_equal(&x->name, &y->name) ||
            !text_equal(&x->prompt, &y->prompt) || !text_equal(&x->guide, &y->guide) ||
            x->scored != y->scored || x->scale_min != y->scale_min ||
            x->scale_max != y->scale_max || x->notes != y->notes)
            return false;
    }
    for (size_t i = 0; i < a->n_agenda; i++) {
        const struct instrument_agenda *x = &a->agenda[i], *y = &b->agenda[i];
        if (strcmp(x->key, y->key) != 0 || !text_equal(&x->title, &y->title) ||
            !text_equal(&x->guide, &y->guide) || x->minutes != y->minutes || x->step != y->step ||
            x->n_items != y->n_items || memcmp(x->items, y->items, x->n_items) != 0)
            return false;
    }
    return true;
}

int instrument_step_index(const char *name)
{
    if (!name)
        return -1;
    return step_of(name, strlen(name));
}

const char *instrument_step_name(int step)
{
    if (step < 0 || step >= INSTRUMENT_STEP_COUNT)
        return NULL;
    return step_names[step];
}

bool instrument_has_step(const struct instrument *inst, enum instrument_step step)
{
    for (size_t i = 0; i < inst->n_steps; i++)
        if (inst->steps[i] == step)
            return true;
    return false;
}

int instrument_next_step(const struct instrument *inst, enum instrument_step step)
{
    for (size_t i = 0; i + 1 < inst->n_steps; i++)
        if (inst->steps[i] == step)
            return (int)inst->steps[i + 1];
    return -1;
}

enum instrument_step instrument_first_step(const struct instrument *inst)
{
    /* Parsing guarantees at least 'lobby' and 'closed'. */
    return inst->steps[0];
}

int instrument_item_index(const struct instrument *inst, const char *key)
{
    for (size_t i = 0; i < inst->n_items; i++)
        if (strcmp(inst->items[i].key, key) == 0)
            return (int)i;
    return -1;
}

size_t instrument_scored_count(const struct instrument *inst)
{
    size_t n = 0;
    for (size_t i = 0; i < inst->n_items; i++)
        n += inst->items[i].scored;
    return n;
}

unsigned instrument_total_minutes(const struct instrument *inst)
{
    unsigned total = 0;
    for (size_t i = 0; i < inst->n_agenda; i++)
        total += inst->agenda[i].minutes;
    return total;
}

const char *instrument_strerror(int code)
{
    switch (code) {
    case INSTRUMENT_OK:
        return "no error";
    case INSTRUMENT_ERR_NOMEM:
        return "out of memory";
    case INSTRUMENT_ERR_TOO_LARGE:
        return "definition too large";
    case INSTRUMENT_ERR_ENCODING:
        return "invalid encoding";
    case INSTRUMENT_ERR_SYNTAX:
        return "syntax error";
    case INSTRUMENT_ERR_FORMAT:
        return "unsupported format";
    case INSTRUMENT_ERR_UNKNOWN_KEY:
        return "unknown key";
    case INSTRUMENT_ERR_DUPLICATE:
        return "duplicate";
    case INSTRUMENT_ERR_MISSING:
        return "missing field";
    case INSTRUMENT_ERR_VALUE:
        return "invalid value";
    case INSTRUMENT_ERR_RANGE:
        return "value out of range";
    case INSTRUMENT_ERR_LIMIT:
        return "limit exceeded";
    case INSTRUMENT_ERR_STEP:
        return "invalid step";
    case INSTRUMENT_ERR_REFERENCE:
        return "unknown reference";
    case INSTRUMENT_ERR_CONFLICT:
        return "conflicting fields";
    }
    return "unknown error";
}
