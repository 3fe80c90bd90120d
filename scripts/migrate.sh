#!/usr/bin/env bash
# migrate.sh: apply lwk's numbered SQL migrations (sql/NNN_name.sql) to a
# PostgreSQL database, in order, each exactly once.
#
#   usage: scripts/migrate.sh CONNINFO [SQLDIR]
#
# CONNINFO is anything psql accepts as a database ("dbname=lwk host=/run/pg",
# a postgresql:// URI, a plain name). SQLDIR defaults to the repository's sql/.
#
# Each migration runs in ONE transaction together with the row in
# public.schema_migrations that records it, so a migration is either applied
# and recorded or neither. Inside that transaction the runner takes an advisory
# lock and checks the record again, so two runners started at once apply each
# migration once. A failing migration is rolled back and stops the run.
# Migration files must therefore not contain BEGIN, COMMIT or ROLLBACK.
#
# Exit status: 0 on success (also when there was nothing to do), 1 when a
# migration failed or the directory is inconsistent, 2 on bad usage.
set -euo pipefail

# Advisory lock key shared by every runner: the bytes "lwk_mig".
readonly LOCK_KEY=30530600530962791

prog=${0##*/}

die() {
    echo "$prog: $*" >&2
    exit 1
}

if [[ $# -lt 1 || $# -gt 2 || -z $1 ]]; then
    echo "usage: $prog CONNINFO [SQLDIR]" >&2
    exit 2
fi
conninfo=$1
script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
sqldir=${2:-$script_dir/../sql}
[[ -d $sqldir ]] || die "migration directory not found: $sqldir"
sqldir=$(cd -- "$sqldir" && pwd)

command -v psql >/dev/null || die "psql not found in PATH"
# Visible in pg_stat_activity; a conninfo application_name still wins.
export PGAPPNAME=${PGAPPNAME:-lwk-migrate}

# -X: no ~/.psqlrc, whose settings could change what a migration does.
run_psql() {
    psql -X -q -v ON_ERROR_STOP=1 -d "$conninfo" "$@"
}

# --- Collect the migration files ---------------------------------------------

declare -a versions=()        # in order
declare -A file_of=() name_of=()

shopt -s nullglob
for path in "$sqldir"/[0-9][0-9][0-9]_*.sql; do
    file=${path##*/}
    [[ $file =~ ^([0-9]{3})_([A-Za-z0-9_-]+)\.sql$ ]] ||
        die "bad migration file name: $file (expected NNN_name.sql, name of letters, digits, _ and -)"
    version=$((10#${BASH_REMATCH[1]}))
    [[ -z ${file_of[$version]:-} ]] ||
        die "two migrations with number ${BASH_REMATCH[1]}: ${file_of[$version]} and $file"
    # The transaction is the runner's: a file that ends it would leave a
    # migration half applied and unrecorded.
    if grep -Eiq '^[[:space:]]*(COMMIT|ROLLBACK|ABORT|START[[:space:]]+TRANSACTION|BEGIN[[:space:]]*(;|TRANSACTION|WORK|ISOLATION))' "$path"; then
        die "$file contains transaction control (BEGIN/COMMIT/ROLLBACK); the runner owns the transaction"
    fi
    versions+=("$version")
    file_of[$version]=$file
    name_of[$version]=${BASH_REMATCH[2]}
done
shopt -u nullglob
[[ ${#versions[@]} -gt 0 ]] || die "no migrations (NNN_name.sql) in $sqldir"
mapfile -t versions < <(printf '%s\n' "${versions[@]}" | sort -n)

# --- Make sure the bookkeeping table exists ----------------------------------

# Under the same lock, so two first runs do not race on CREATE TABLE.
run_psql <<SQL || die "cannot prepare public.schema_migrations (connection or permission problem, see above)"
SET client_min_messages = warning;
BEGIN;
DO \$\$ BEGIN PERFORM pg_advisory_xact_lock($LOCK_KEY); END \$\$;
CREATE TABLE IF NOT EXISTS public.schema_migrations (
    version    int PRIMARY KEY,
    name       text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);
COMMIT;
SQL

# --- Compare with what the database already has ------------------------------

rows=$(run_psql -A -t -c 'SELECT version, name FROM public.schema_migrations ORDER BY version') ||
    die "cannot read public.schema_migrations"
declare -A applied_name=()
max_applied=0
while IFS='|' read -r v n; do
    [[ -n $v ]] || continue
    applied_name[$v]=$n
    max_applied=$v    # rows come in ascending order
done <<<"$rows"

for v in "${!applied_name[@]}"; do
    if [[ -z ${file_of[$v]:-} ]]; then
        echo "$prog: warning: database has migration $v (${applied_name[$v]}) but $sqldir has no file for it" >&2
    elif [[ ${applied_name[$v]} != "${name_of[$v]}" ]]; then
        echo "$prog: warning: migration $v was applied as '${applied_name[$v]}' but the file is ${file_of[$v]}" >&2
    fi
done

# A file numbered below the newest applied migration was added late (another
# branch?): applying it now would run it against a schema it was not written
# for. Refuse, before anything is applied.
for v in "${versions[@]}"; do
    if [[ -z ${applied_name[$v]:-} ]] && ((v < max_applied)); then
        die "${file_of[$v]} is not applied but migration $max_applied already is; renumber it above $max_applied"
    fi
done

# --- Apply what is missing ----------------------------------------------------

applied=0
for v in "${versions[@]}"; do
    [[ -z ${applied_name[$v]:-} ]] || continue
    file=${file_of[$v]}

    # psql runs in SQLDIR so \i needs only the (validated) file name.
    if ! out=$(cd -- "$sqldir" && run_psql -v "version=$v" -v "name=${name_of[$v]}" <<SQL
BEGIN;
DO \$\$ BEGIN PERFORM pg_advisory_xact_lock($LOCK_KEY); END \$\$;
SELECT EXISTS (SELECT 1 FROM public.schema_migrations WHERE version = :version) AS lwk_migration_done \gset
\\if :lwk_migration_done
ROLLBACK;
\\echo lwk-migrate:skipped
\\else
\\i $file
RESET ROLE;
RESET search_path;
INSERT INTO public.schema_migrations (version, name) VALUES (:version, :'name');
COMMIT;
\\echo lwk-migrate:applied
\\endif
SQL
    ); then
        die "migration $file failed and was rolled back; stopping (later migrations not attempted)"
    fi

    # Anything else the migration printed is passed on.
    grep -v '^lwk-migrate:' <<<"$out" || true
    case $out in
    *lwk-migrate:applied*)
        echo "applied $file"
        applied=$((applied + 1))
        ;;
    *lwk-migrate:skipped*)
        echo "skipped $file (applied meanwhile by another run)"
        ;;
    *)
        die "migration $file: no confirmation from psql; check public.schema_migrations"
        ;;
    esac
done

current=$(run_psql -A -t -c 'SELECT coalesce(max(version), 0) FROM public.schema_migrations') ||
    die "cannot read public.schema_migrations"
if ((applied == 0)); then
    echo "nothing to do: schema is up to date at version $current"
else
    echo "$applied migration(s) applied; schema at version $current"
fi
