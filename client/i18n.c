/*
 * i18n.c: gettext set-up for the clients (see i18n.h).
 */
#include "i18n.h"

#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void i18n_init(const char *domain)
{
    if (!setlocale(LC_ALL, "")) {
        /* The named locale is not installed: keep UTF-8 output and let
         * LANGUAGE pick the catalogue. */
        setlocale(LC_ALL, "C.UTF-8");
    }
    const char *dir = LWK_LOCALEDIR;
    if (access(LWK_BUILD_LOCALEDIR, R_OK) == 0)
        dir = LWK_BUILD_LOCALEDIR;
    bindtextdomain(domain, dir);
    bind_textdomain_codeset(domain, "UTF-8");
    textdomain(domain);
}
