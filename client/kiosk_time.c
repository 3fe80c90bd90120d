/*
 * kiosk_time.c: the countdown of a timed step (the quickscan's agenda keeps
 * time as part of the method): the session's timer (lwkd keeps the clock,
 * the kiosk only shows it) or, for tests, one given in the environment.
 */
#include "kiosk.h"

#include <stdio.h>

enum countdown_state kiosk_countdown_text(const struct kiosk_countdown *cd, uint64_t now_ms,
                                          char *buf, size_t cap)
{
    int64_t total = (int64_t)cd->duration_s * 1000;
    int64_t elapsed = now_ms > cd->start_ms ? (int64_t)(now_ms - cd->start_ms) : 0;
    int64_t left = cd->paused ? cd->left_ms : total - elapsed;
    if (left < 0) {
        int64_t over = -left / 1000;
        snprintf(buf, cap, "+%lld:%02lld", (long long)(over / 60), (long long)(over % 60));
        return COUNTDOWN_OVERRUN;
    }
    /* Round up: "0:01" until the last second has passed, never "0:00" while time is left. */
    int64_t s = (left + 999) / 1000;
    snprintf(buf, cap, "%lld:%02lld", (long long)(s / 60), (long long)(s % 60));
    int64_t warn = total / 5;
    if (warn > 120000)
        warn = 120000;
    if (warn < 30000)
        warn = 30000;
    return left <= warn ? COUNTDOWN_WARNING : COUNTDOWN_RUNNING;
}
