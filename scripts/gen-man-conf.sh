#!/usr/bin/env bash
# gen-man-conf.sh: writes docs/lwkd.conf.5 from systemd/lwkd.conf (itself
# generated from the key table in daemon/config.c), so the man page lists
# exactly the keys lwkd knows.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
{
cat <<'HDR'
.TH LWKD.CONF 5 "2026" "lwk 0.1.0" "File Formats"
.SH NAME
lwkd.conf \- configuration of lwkd, the lwk session daemon
.SH SYNOPSIS
/etc/lwk/lwkd.conf
.SH DESCRIPTION
One \fIkey\fR = \fIvalue\fR per line. Lines starting with # are comments.
Spaces around key and value are ignored; double quotes are optional and keep
spaces or an empty value. An unknown key, a key given twice or a bad value
stops
.B lwkd
with the line number;
.B lwkd \-\-check\-config
validates the file and prints the effective configuration (secrets masked).
.PP
Precedence, lowest first: built-in defaults, this file, environment variables
LWKD_\fIKEY\fR, command-line flags (\fB\-\-set\fR key=value).
Keys marked "reload: SIGHUP" take effect on
.B systemctl reload lwkd
without dropping clients; the others need a restart.
.SH KEYS
HDR
awk '
/^# / && !/^# (string|integer|one of|yes|no|64-bit)/ && seen { desc = (desc ? desc " " : "") substr($0, 3); next }
/^# (string|integer|one of|yes or no|64-bit|boolean)/ { kind = substr($0, 3); next }
/^#[a-z_]+ = / { sub(/^#/, ""); split($0, kv, " = "); printf ".TP\n.B %s\n%s\n.br\n%s; default: %s\n", kv[1], desc, kind, kv[2]; desc = ""; kind = ""; next }
/^$/ { seen = 1; desc = ""; next }
' "$root/systemd/lwkd.conf"
cat <<'FTR'
.SH FILES
/etc/lwk/lwkd.conf
.SH SEE ALSO
.BR lwkd (8),
.BR lwk (1)
FTR
} >"$root/docs/lwkd.conf.5"
