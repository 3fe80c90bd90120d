/*
 * kiosk.h: lwk-kiosk, the read-only team-room screen. Shared between its
 * parts: kiosk.c (the libuv shell: connection, timers, signals), kiosk_sync.c
 * (rebuilding the session state from events and snapshots), kiosk_draw.c
 * (ncurses rendering) and kiosk_font.c (the block font for large type).
 */
#ifndef LWK_KIOSK_H
#define LWK_KIOSK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lwkc.h"
#include "state.h"

/* ---- kiosk_font.c: a 5-row block font ------------------------------------ */

#define FONT_ROWS 5

/* Rendered sizes, smallest first. */
enum font_size {
    FONT_HALF,   /* 3 rows: two pixel rows per cell with half blocks, 1 column per pixel */
    FONT_FULL,   /* 5 rows, 2 columns per pixel */
    FONT_DOUBLE, /* 10 rows, 4 columns per pixel */
    FONT__COUNT
};

/* Terminal rows a text of this size takes. */
int font_height(enum font_size size);
/* Terminal columns text takes at size, or -1 when a character has no glyph. */
int font_width(const char *utf8, enum font_size size);
/* True when every character of text has a glyph (letters are upper-cased,
 * accented Latin letters lose their accent). */
bool font_can_render(const char *utf8);
/*
 * Renders text into font_height(size) rows; row r is written to rows[r]
 * (each of row_cap bytes, NUL-terminated) as UTF-8 block characters, or
 * ASCII ('#', '"', '_') when ascii. Returns the width in columns, or -1 when
 * a character has no glyph or a row does not fit row_cap.
 */
int font_render(const char *utf8, enum font_size size, bool ascii, char **rows, size_t row_cap);
/* The largest size at which text fits in width x height, or -1. */
int font_fit(const char *utf8, int width, int height, enum font_size largest);

/* ---- kiosk_sync.c: session state from the event stream ------------------- */

struct kiosk_sync {
    struct session_state st;
    bool have;             /* st holds a session (a snapshot was applied) */
    bool vote_closed_seen; /* a vote.closed was applied: themes' votes are real */
    bool resync_pending;   /* a resync was asked for; gaps until it comes are expected */
    bool want_full;        /* the next snapshot may not be a delta of st */
    int failures;     /* snapshots in a row that did not apply; the shell clears it on welcome */
    uint64_t applied; /* events applied since start (for tests and logs) */
};

enum kiosk_sync_result {
    KIOSK_SYNC_IGNORED, /* a duplicate, or nothing for the state */
    KIOSK_SYNC_CHANGED, /* st changed: redraw */
    KIOSK_SYNC_RESYNC,  /* ask the server for events after st.seq ("resync" since) */
    KIOSK_SYNC_FULL,    /* the state is reset: ask for a whole snapshot ("resync") */
};

void kiosk_sync_init(struct kiosk_sync *ks);
void kiosk_sync_free(struct kiosk_sync *ks);
/* Forgets the session (a new one, or a history that no longer fits). */
void kiosk_sync_reset(struct kiosk_sync *ks);
/* An event as it arrived on its own. */
enum kiosk_sync_result kiosk_sync_event(struct kiosk_sync *ks, const struct proto_msg *ev);
/* A snapshot: the whole history (no since) or the events after since. */
enum kiosk_sync_result kiosk_sync_snapshot(struct kiosk_sync *ks, const struct proto_msg *snap);

/* ---- kiosk_draw.c: the screen -------------------------------------------- */

enum kiosk_conn {
    KIOSK_CONNECTING,   /* the first connection is being made */
    KIOSK_CONNECTED,    /* welcome received */
    KIOSK_LOST,         /* was connected, is reconnecting */
    KIOSK_UNREACHABLE,  /* never connected yet, retrying */
    KIOSK_UNKNOWN_CODE, /* the server does not know the kiosk code: exiting */
    KIOSK_GONE,         /* the closed session is no longer there: exiting */
};

/* A timed step: start (wall clock, ms since the epoch) and planned length. */
struct kiosk_countdown {
    uint64_t start_ms; /* 0 and not paused: no timed step */
    int duration_s;
    bool paused;     /* the clock stands still at left_ms */
    int64_t left_ms; /* paused: time left (negative: over time) */
};

enum countdown_state { COUNTDOWN_RUNNING, COUNTDOWN_WARNING, COUNTDOWN_OVERRUN };

/*
 * Text ("12:34", or "+1:05" once overrun) and state of a countdown at now_ms
 * (a paused one shows the time it stands at).
 * The warning starts in the last fifth of the time, at most the last two
 * minutes and at least the last 30 seconds (never before the start).
 */
enum countdown_state kiosk_countdown_text(const struct kiosk_countdown *cd, uint64_t now_ms,
                                          char *buf, size_t cap);

struct kiosk_view {
    const struct kiosk_sync *sync;
    enum kiosk_conn conn;
    const char *code;                 /* the kiosk code given */
    const char *server;               /* "host:port" or the socket path, for messages */
    const char *why;                  /* English reason of the last connection failure, or NULL */
    uint64_t down_ms;                 /* time since the connection was lost */
    int exit_in_s;                    /* UNKNOWN_CODE / GONE: seconds until exit */
    const char *notice;               /* a notice from the server, or NULL */
    struct kiosk_countdown countdown; /* a test hook; the session's own timer wins */
    uint64_t now_ms;                  /* wall clock */
    unsigned page_tick;               /* advanced by the page timer */
    bool color, ascii;
    bool known_before; /* UNKNOWN_CODE: the session was there before (the server forgot it) */
};

/* Sets up colours; call once after initscr. */
void kiosk_draw_init(bool color);
/*
 * Draws the whole screen for the view. Returns true when something on it
 * pages (so the page timer has a reason to redraw).
 */
bool kiosk_draw(const struct kiosk_view *v);

#endif
