/*
 * i18n.h: user-facing text goes through gettext. Dutch when the locale
 * says so (LANG/LC_ALL/LC_MESSAGES/LANGUAGE = nl...), English otherwise.
 */
#ifndef LWK_I18N_H
#define LWK_I18N_H

#include <libintl.h>

#define _(s) gettext(s)
#define N_(s) (s)

/* Binds the text domain, preferring the build tree's catalogues. */
void i18n_init(const char *domain);

#endif
