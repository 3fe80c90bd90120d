/*
 * log.c: the daemon's structured log lines (see log.h).
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

static enum log_level current = LOG_INFO;
static const char *const names[] = {"debug", "info", "warn", "error"};

void log_set_level(enum log_level level)
{
    current = level;
}

enum log_level log_get_level(void)
{
    return current;
}

void log_event(enum log_level level, const char *event, const char *fmt, ...)
{
    if (level < current)
        return;
    char line[1024];
    int n = snprintf(line, sizeof(line), "level=%s event=%s", names[level], event);
    if (fmt && fmt[0] && n > 0 && (size_t)n < sizeof(line) - 1) {
        line[n++] = ' ';
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
        va_end(ap);
    }
    /* One write per line so lines from a burst never interleave. */
    fprintf(stderr, "%s\n", line);
}
