/*
 * log.h: one line per event on stderr, "level=info event=name key=value ...".
 * journald adds the time. Never log tokens, codes or participant text.
 */
#ifndef LWK_LOG_H
#define LWK_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* fmt continues the line after "level=... event=NAME"; keys are key=value. */
void log_event(enum log_level level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
