/*
 * lwk_ui.h: the interactive modes (lwk_ui.c): the facilitator console and
 * the participant screen.
 */
#ifndef LWK_UI_H
#define LWK_UI_H

#include <stdbool.h>
#include <stdint.h>

struct ui_params {
    bool facilitator;
    int64_t session;  /* facilitator: the session to open */
    const char *code; /* participant: join code and name, or ... */
    const char *name;
    const char *resume; /* ... the resume token of an earlier join */
    bool listen;        /* no input: stay online, print what happens, end with the session */
};

/* Runs until the user leaves (or the session refuses us); the exit status. */
int ui_run(const struct ui_params *p);

#endif
