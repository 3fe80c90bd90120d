#!/usr/bin/env bash
# test_translations.sh: every user-facing string in the clients has a Dutch
# translation. xgettext collects the strings of each gettext domain from the
# sources (plural forms included), msgcmp checks that po/DOMAIN.nl.po
# translates each one (an untranslated entry counts as missing), and msgfmt
# checks the catalogues themselves (format strings, plural forms).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
tmp=$(mktemp -d /tmp/lwk-i18n.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
for tool in xgettext msgcmp msgfmt; do
    command -v "$tool" >/dev/null || { echo "test_translations: $tool missing (gettext)"; exit 1; }
done

failed=0
# check DOMAIN KEYWORDS... -- FILES...
check() {
    local domain=$1 kw=() files=()
    shift
    while [ "$1" != -- ]; do kw+=("-k$1"); shift; done
    shift
    files=("$@")
    xgettext -o "$tmp/$domain.pot" --from-code=UTF-8 -k "${kw[@]}" "${files[@]}"
    local n
    n=$(grep -c '^msgid "' "$tmp/$domain.pot" || true)
    # The header entry is msgid "": at least one real string besides it.
    if [ "$n" -lt 2 ]; then
        echo "FAIL $domain: no strings found in ${files[*]}"
        failed=1
        return
    fi
    if msgcmp "po/$domain.nl.po" "$tmp/$domain.pot" 2>"$tmp/$domain.err"; then
        echo "ok   $domain: $((n - 1)) strings, all translated"
    else
        echo "FAIL $domain: strings without a Dutch translation:"
        cat "$tmp/$domain.err"
        failed=1
    fi
    msgfmt --check -o /dev/null "po/$domain.nl.po" || { echo "FAIL $domain: msgfmt --check"; failed=1; }
}

check lwk _ N_ ngettext:1,2 -- client/lwk*.c client/i18n.c client/report.c
check lwk-kiosk _ N_ ngettext:1,2 -- client/kiosk*.c
check lwk-report R_ dngettext:2,3 -- client/report.c
# Plural forms pick by count (nplurals=2; plural=(n != 1)).
msgfmt -o "$tmp/lwk.mo" po/lwk.nl.po
if python3 - "$tmp/lwk.mo" <<'PY'
import gettext, sys
t = gettext.GNUTranslations(open(sys.argv[1], "rb"))
one = t.ngettext("Voting opened: %d vote each.", "Voting opened: %d votes each.", 1) % 1
three = t.ngettext("Voting opened: %d vote each.", "Voting opened: %d votes each.", 3) % 3
assert one == "Stemmen is geopend: 1 stem per persoon.", one
assert three == "Stemmen is geopend: 3 stemmen per persoon.", three
PY
then
    echo "ok   lwk: plural forms by count"
else
    echo "FAIL lwk: plural forms"
    failed=1
fi
[ $failed = 0 ] && echo "4 passed, 0 failed" || { echo "translations incomplete"; exit 1; }
