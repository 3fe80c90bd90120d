#!/usr/bin/env bash
# test_migrations.sh: the schema and scripts/migrate.sh against a real,
# private PostgreSQL cluster.
#
# Creates a throw-away cluster in a fresh /tmp directory (Unix socket only, no
# TCP), applies sql/ with scripts/migrate.sh, and checks that a re-run is a
# no-op, that concurrent runs apply each migration once, that a failing
# migration leaves nothing behind, that constraints reject bad data, and that
# the daemon's role can do its job and nothing more. The cluster is removed on
# exit. As root, the cluster runs as the unprivileged system user lwkpg
# (created if missing); otherwise as the current user.
#
# Environment: PG_BIN, the directory of initdb/pg_ctl/psql (found if unset).
# Last line of output: "N passed, N failed"; exit status 0 only if none failed.
set -uo pipefail

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd -- "$here/../.." && pwd)
migrate=$repo/scripts/migrate.sh
sqldir=$repo/sql

passed=0
failed=0

pass() {
    passed=$((passed + 1))
    echo "ok   - $1"
}

# fail NAME [DETAIL]
fail() {
    failed=$((failed + 1))
    echo "FAIL - $1"
    if [[ -n ${2:-} ]]; then
        printf '%s\n' "$2" | sed 's/^/       /'
    fi
}

finish() {
    echo "$passed passed, $failed failed"
    if ((failed > 0)); then exit 1; fi
    exit 0
}

# A setup step failed: nothing further can be checked.
bail() {
    fail "$@"
    finish
}

# --- A private cluster --------------------------------------------------------

pg_bin=${PG_BIN:-}
if [[ -z $pg_bin ]] && command -v pg_config >/dev/null; then
    pg_bin=$(pg_config --bindir)
fi
if [[ ! -x $pg_bin/initdb ]]; then
    pg_bin=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi
[[ -x $pg_bin/initdb && -x $pg_bin/pg_ctl && -x $pg_bin/psql ]] ||
    bail "PostgreSQL server binaries not found (set PG_BIN)"
# migrate.sh uses the psql of this installation too.
export PATH=$pg_bin:$PATH

if ((EUID == 0)); then
    if ! id -u lwkpg >/dev/null 2>&1; then
        useradd --system --create-home --shell /usr/sbin/nologin lwkpg ||
            bail "create system user lwkpg"
    fi
    as_pg() { runuser -u lwkpg -- "$@"; }
else
    as_pg() { "$@"; }
fi

tmp=$(mktemp -d /tmp/lwk-test-migrations.XXXXXX) || bail "create a temporary directory"
# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
    if [[ -f $tmp/data/postmaster.pid ]]; then
        as_pg "$pg_bin/pg_ctl" -D "$tmp/data" -m immediate -w stop >/dev/null 2>&1
    fi
    rm -rf -- "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir "$tmp/sock"
if ((EUID == 0)); then
    chown -R lwkpg: "$tmp"
fi

as_pg "$pg_bin/initdb" -D "$tmp/data" -U postgres -A trust -E UTF8 --locale=C --no-sync \
    >"$tmp/initdb.log" 2>&1 ||
    bail "initdb" "$(cat "$tmp/initdb.log")"
as_pg "$pg_bin/pg_ctl" -D "$tmp/data" -l "$tmp/server.log" -w -t 30 \
    -o "-c listen_addresses='' -c unix_socket_directories='$tmp/sock' -c fsync=off" \
    start >/dev/null 2>&1 ||
    bail "start the cluster" "$(cat "$tmp/server.log" 2>/dev/null)"

conn_for() { echo "host=$tmp/sock user=${2:-postgres} dbname=$1"; }

# q DB SQL: one value (or rows) from a query, as the superuser.
q() {
    psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$(conn_for "$1")" -c "$2"
}

for db in lwk_a lwk_b lwk_c; do
    q postgres "CREATE DATABASE $db" >/dev/null || bail "create database $db"
done

nfiles=$(find "$sqldir" -maxdepth 1 -name '[0-9][0-9][0-9]_*.sql' | wc -l)
((nfiles > 0)) || bail "no migrations in $sqldir"

# --- Checking helpers --------------------------------------------------------

# check_eq NAME EXPECTED ACTUAL
check_eq() {
    if [[ $2 == "$3" ]]; then pass "$1"; else fail "$1" "expected: $2"$'\n'"actual:   $3"; fi
}

# expect_ok NAME DB USER SQL: the statements succeed.
expect_ok() {
    local err
    if err=$(psql -X -q -v ON_ERROR_STOP=1 -d "$(conn_for "$2" "$3")" -c "$4" 2>&1 >/dev/null); then
        pass "$1"
    else
        fail "$1" "$err"
    fi
}

# expect_sqlstate NAME CODE DB USER SQL: the statements fail with SQLSTATE CODE.
expect_sqlstate() {
    local err
    if err=$(psql -X -q -v ON_ERROR_STOP=1 -v VERBOSITY=sqlstate \
        -d "$(conn_for "$3" "$4")" -c "$5" 2>&1 >/dev/null); then
        fail "$1" "succeeded; expected SQLSTATE $2"
    elif [[ $err == *"ERROR:  $2"* ]]; then
        pass "$1"
    else
        fail "$1" "expected SQLSTATE $2, got: $err"
    fi
}

# --- Applying and re-applying -----------------------------------------------

A=$(conn_for lwk_a)

if out=$("$migrate" "$A" 2>"$tmp/err"); then
    pass "first run succeeds"
else
    fail "first run succeeds" "$out"$'\n'"$(cat "$tmp/err")"
fi
check_eq "first run prints one line per applied migration" "$nfiles" \
    "$(grep -c '^applied [0-9][0-9][0-9]_.*\.sql$' <<<"$out")"
if [[ -s $tmp/err ]]; then
    fail "first run writes nothing to stderr" "$(cat "$tmp/err")"
else
    pass "first run writes nothing to stderr"
fi
check_eq "every migration is recorded" "$nfiles" "$(q lwk_a 'SELECT count(*) FROM schema_migrations')"

before=$(q lwk_a "SELECT string_agg(version || ' ' || applied_at, ',' ORDER BY version) FROM schema_migrations")
if out=$("$migrate" "$A" 2>&1); then
    pass "second run succeeds"
else
    fail "second run succeeds" "$out"
fi
if grep -q '^nothing to do' <<<"$out" && ! grep -q '^applied ' <<<"$out"; then
    pass "second run applies nothing and says so"
else
    fail "second run applies nothing and says so" "$out"
fi
check_eq "second run leaves schema_migrations as it was" "$before" \
    "$(q lwk_a "SELECT string_agg(version || ' ' || applied_at, ',' ORDER BY version) FROM schema_migrations")"
check_eq "schema_migrations still has one row per migration" "$nfiles" \
    "$(q lwk_a 'SELECT count(*) FROM schema_migrations')"

# --- Concurrent runs on a fresh database --------------------------------------

B=$(conn_for lwk_b)
"$migrate" "$B" >"$tmp/run1.out" 2>&1 &
pid1=$!
"$migrate" "$B" >"$tmp/run2.out" 2>&1 &
pid2=$!
rc1=0 rc2=0
wait "$pid1" || rc1=$?
wait "$pid2" || rc2=$?
if ((rc1 == 0 && rc2 == 0)); then
    pass "two concurrent runs both succeed"
else
    fail "two concurrent runs both succeed" "$(cat "$tmp/run1.out" "$tmp/run2.out")"
fi
check_eq "concurrent runs apply each migration exactly once" "$nfiles" \
    "$(cat "$tmp/run1.out" "$tmp/run2.out" | grep -c '^applied ')"
check_eq "concurrent runs record each migration once" "$nfiles" \
    "$(q lwk_b 'SELECT count(*) FROM schema_migrations')"

# --- A failing migration, and a migration that ends the transaction ----------

C=$(conn_for lwk_c)
bad=$tmp/sql-bad
mkdir "$bad"
cp "$sqldir"/[0-9][0-9][0-9]_*.sql "$bad"/
cat >"$bad/900_broken.sql" <<'SQL'
SET LOCAL ROLE lwk_owner;
CREATE TABLE lwk.must_not_survive (x int);
SELECT 1 / 0;
SQL
if "$migrate" "$C" "$bad" >"$tmp/bad.out" 2>&1; then
    fail "a failing migration makes the run fail" "$(cat "$tmp/bad.out")"
else
    pass "a failing migration makes the run fail"
fi
if grep -q 'migration 900_broken.sql failed' "$tmp/bad.out"; then
    pass "the failure names the file"
else
    fail "the failure names the file" "$(cat "$tmp/bad.out")"
fi
check_eq "migrations before the failing one are applied" "$nfiles" \
    "$(q lwk_c 'SELECT count(*) FROM schema_migrations')"
check_eq "the failing migration is rolled back entirely" "0|" \
    "$(q lwk_c "SELECT count(*) FROM schema_migrations WHERE version = 900")|$(q lwk_c "SELECT to_regclass('lwk.must_not_survive')")"

rm "$bad/900_broken.sql"
printf 'CREATE TABLE lwk.half_applied (x int);\nCOMMIT;\n' >"$bad/900_commits.sql"
if "$migrate" "$C" "$bad" >"$tmp/commit.out" 2>&1; then
    fail "a migration with COMMIT is refused" "$(cat "$tmp/commit.out")"
elif grep -q '900_commits.sql contains transaction control' "$tmp/commit.out" &&
    [[ -z $(q lwk_c "SELECT to_regclass('lwk.half_applied')") ]]; then
    pass "a migration with COMMIT is refused before anything runs"
else
    fail "a migration with COMMIT is refused before anything runs" "$(cat "$tmp/commit.out")"
fi

rm "$bad/900_commits.sql"
printf 'SELECT 1 WHERE false;\n' >"$bad/950_later.sql"
"$migrate" "$C" "$bad" >/dev/null 2>&1 || fail "setup: apply 950_later.sql"
printf 'SELECT 1 WHERE false;\n' >"$bad/945_too_late.sql"
if "$migrate" "$C" "$bad" >"$tmp/late.out" 2>&1; then
    fail "a migration numbered below an applied one is refused" "$(cat "$tmp/late.out")"
elif grep -q '945_too_late.sql is not applied but migration 950' "$tmp/late.out"; then
    pass "a migration numbered below an applied one is refused"
else
    fail "a migration numbered below an applied one is refused" "$(cat "$tmp/late.out")"
fi

# --- Ownership and roles ------------------------------------------------------

check_eq "lwk_daemon is not superuser, not BYPASSRLS, cannot log in" "f|f|f" \
    "$(q lwk_a "SELECT rolsuper || '|' || rolbypassrls || '|' || rolcanlogin FROM pg_roles WHERE rolname = 'lwk_daemon'" |
        tr -d ' ' | sed 's/false/f/g; s/true/t/g')"
check_eq "lwk_daemon is not a member of lwk_owner" "f" \
    "$(q lwk_a "SELECT pg_has_role('lwk_daemon', 'lwk_owner', 'MEMBER')")"
check_eq "lwk_daemon owns nothing" "0" \
    "$(q lwk_a "SELECT (SELECT count(*) FROM pg_class WHERE relowner = 'lwk_daemon'::regrole)
                     + (SELECT count(*) FROM pg_namespace WHERE nspowner = 'lwk_daemon'::regrole)
                     + (SELECT count(*) FROM pg_proc WHERE proowner = 'lwk_daemon'::regrole)")"
check_eq "schema lwk and everything in it is owned by lwk_owner" "lwk_owner|0" \
    "$(q lwk_a "SELECT nspowner::regrole FROM pg_namespace WHERE nspname = 'lwk'")|$(q lwk_a "
        SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'lwk' AND c.relowner <> 'lwk_owner'::regrole")"
# Analysts and the programme office read reports (sql/010+), never raw rows.
check_eq "analysts and the programme office read no raw rows" "f|f|f|f|f" \
    "$(q lwk_a "SELECT has_table_privilege('lwk_analyst', 'lwk.scores', 'SELECT') || '|' ||
                       has_table_privilege('lwk_programme', 'lwk.session_events', 'SELECT') || '|' ||
                       has_table_privilege('lwk_analyst', 'lwk.session_events', 'SELECT') || '|' ||
                       has_table_privilege('lwk_programme', 'lwk.scores', 'SELECT') || '|' ||
                       has_table_privilege('lwk_analyst', 'lwk.keywords', 'SELECT')" |
        sed 's/false/f/g; s/true/t/g')"
check_eq "expected tables exist" "" "$(q lwk_a "
    SELECT string_agg(t, ' ') FROM unnest(ARRAY['organisations', 'org_units', 'persons', 'facilitators',
        'facilitator_tokens', 'admin_tokens', 'instruments', 'instrument_versions', 'instrument_items',
        'sessions', 'session_events', 'participants', 'score_rounds', 'scores', 'keywords', 'themes',
        'theme_items', 'theme_votes', 'desired_score_proposals', 'desired_scores', 'look_ahead_items',
        'summaries', 'reactions', 'evaluations', 'actions', 'action_status_history',
        'action_reviews']) AS t
     WHERE to_regclass('lwk.' || t) IS NULL")"

# --- Fixture: two organisations, a team, an instrument, a session -----------

q lwk_a "CREATE ROLE lwkd_test LOGIN IN ROLE lwk_daemon" >/dev/null || bail "create login lwkd_test"
psql -X -q -v ON_ERROR_STOP=1 -d "$A" >/dev/null 2>"$tmp/fixture.err" <<'SQL' || bail "load fixture" "$(cat "$tmp/fixture.err")"
SET search_path = lwk;
INSERT INTO organisations (id, name) OVERRIDING SYSTEM VALUE VALUES (1, 'Zorg Noord'), (2, 'Zorg Zuid');
INSERT INTO org_units (id, organisation_id, kind, parent_id, name) OVERRIDING SYSTEM VALUE VALUES
    (10, 1, 'location', NULL, 'Huis A'),
    (11, 1, 'department', 10, 'Somatiek'),
    (12, 1, 'team', 11, 'Team 1'),
    (13, 1, 'team', 10, 'Team 2'),
    (20, 2, 'team', NULL, 'Team Zuid');
-- Instrument version 1 is the LWK-meting that migration 004 seeds.
INSERT INTO sessions (id, organisation_id, team_id, instrument_version_id) VALUES
    (1001, 1, 12, 1), (1002, 1, 13, 1);
INSERT INTO participants (session_id, pid, display_name) VALUES (1001, 1, 'Anna'), (1001, 2, 'Bram');
INSERT INTO score_rounds (session_id, item, round) VALUES (1001, 0, 1);
INSERT INTO actions (organisation_id, team_id, session_id, aid, description)
    VALUES (1, 12, 1001, 1, 'Buddy for every new student');
-- Explicit ids do not advance the identity sequences.
SELECT setval(pg_get_serial_sequence('lwk.' || t, 'id'), 1000)
  FROM unnest(ARRAY['organisations', 'org_units', 'instruments', 'instrument_versions']) AS t;
SQL
pass "fixture with a valid hierarchy, session and action loads"

# --- Constraints ---------------------------------------------------------------

expect_sqlstate "score 11 is rejected" 23514 lwk_a postgres \
    "INSERT INTO lwk.scores (session_id, item, round, pid, value) VALUES (1001, 0, 1, 1, 11)"
expect_sqlstate "score 0 is rejected" 23514 lwk_a postgres \
    "INSERT INTO lwk.scores (session_id, item, round, pid, value) VALUES (1001, 0, 1, 1, 0)"
expect_ok "score 10 is accepted" lwk_a postgres \
    "INSERT INTO lwk.scores (session_id, item, round, pid, value) VALUES (1001, 0, 1, 1, 10)"
expect_sqlstate "a score outside an opened round is rejected" 23503 lwk_a postgres \
    "INSERT INTO lwk.scores (session_id, item, round, pid, value) VALUES (1001, 0, 2, 1, 7)"
expect_sqlstate "a score from an unknown participant is rejected" 23503 lwk_a postgres \
    "INSERT INTO lwk.scores (session_id, item, round, pid, value) VALUES (1001, 0, 1, 99, 7)"
expect_sqlstate "a duplicate display name in a session is rejected" 23505 lwk_a postgres \
    "INSERT INTO lwk.participants (session_id, pid, display_name) VALUES (1001, 3, 'Anna')"

expect_sqlstate "a bad action status is rejected" 23514 lwk_a postgres \
    "UPDATE lwk.actions SET status = 'finished' WHERE session_id = 1001 AND aid = 1"
expect_ok "a valid action status is accepted" lwk_a postgres \
    "UPDATE lwk.actions SET status = 'in_progress' WHERE session_id = 1001 AND aid = 1"
expect_sqlstate "an action's team must be its session's team" 23503 lwk_a postgres \
    "INSERT INTO lwk.actions (organisation_id, team_id, session_id, aid, description)
     VALUES (1, 13, 1001, 2, 'x')"

expect_sqlstate "a session must belong to a team, not a department" 23503 lwk_a postgres \
    "INSERT INTO lwk.sessions (id, organisation_id, team_id, instrument_version_id) VALUES (1003, 1, 11, 1)"
expect_sqlstate "a session's organisation must be its team's" 23503 lwk_a postgres \
    "INSERT INTO lwk.sessions (id, organisation_id, team_id, instrument_version_id) VALUES (1003, 2, 12, 1)"
expect_sqlstate "a session id must be positive" 23514 lwk_a postgres \
    "INSERT INTO lwk.sessions (id, organisation_id, team_id, instrument_version_id) VALUES (-5, 1, 12, 1)"
expect_sqlstate "a bad session status is rejected" 23514 lwk_a postgres \
    "UPDATE lwk.sessions SET status = 'running' WHERE id = 1001"
expect_sqlstate "a closed session needs closed_at" 23514 lwk_a postgres \
    "UPDATE lwk.sessions SET status = 'closed' WHERE id = 1001"

expect_sqlstate "a team cannot contain a team" 23514 lwk_a postgres \
    "INSERT INTO lwk.org_units (organisation_id, kind, parent_id, name) VALUES (1, 'team', 12, 'Sub')"
expect_sqlstate "a location cannot sit under a department" 23514 lwk_a postgres \
    "INSERT INTO lwk.org_units (organisation_id, kind, parent_id, name) VALUES (1, 'location', 11, 'L')"
expect_sqlstate "a unit cannot hang under another organisation's unit" 23514 lwk_a postgres \
    "INSERT INTO lwk.org_units (organisation_id, kind, parent_id, name) VALUES (2, 'team', 10, 'T')"
expect_sqlstate "a unit with children cannot change kind" 23503 lwk_a postgres \
    "UPDATE lwk.org_units SET kind = 'department' WHERE id = 10"
expect_sqlstate "a bad org unit kind is rejected" 23514 lwk_a postgres \
    "INSERT INTO lwk.org_units (organisation_id, kind, name) VALUES (1, 'ward', 'W')"

expect_sqlstate "a token hash must be 64 hex digits" 23514 lwk_a postgres \
    "INSERT INTO lwk.admin_tokens (label, token_sha256) VALUES ('ops', 'secret')"
expect_sqlstate "an item scale outside 1..10 is rejected" 23514 lwk_a postgres \
    "INSERT INTO lwk.instrument_items (instrument_version_id, position, key, name, scored, scale_min, scale_max)
     VALUES (1, 1, 'k', 'K', true, 0, 10)"
expect_sqlstate "a desired score of 11 is rejected" 23514 lwk_a postgres \
    "INSERT INTO lwk.desired_scores (session_id, item, value) VALUES (1001, 0, 11)"
expect_sqlstate "an action cannot be reviewed in its own session" 23514 lwk_a postgres \
    "INSERT INTO lwk.action_reviews (action_session_id, aid, session_id, effect) VALUES (1001, 1, 1001, 3)"

# --- The event log ------------------------------------------------------------

ins_event="INSERT INTO lwk.session_events (session_id, seq, kind, payload)"
expect_ok "the daemon appends an event" lwk_a lwkd_test \
    "$ins_event VALUES (1001, 1, 'score', '\\x81a176'::bytea) ON CONFLICT (session_id, seq) DO NOTHING"
expect_ok "the same (session, seq) again with ON CONFLICT DO NOTHING is not an error" lwk_a lwkd_test \
    "$ins_event VALUES (1001, 1, 'score', '\\x00'::bytea) ON CONFLICT (session_id, seq) DO NOTHING;
     $ins_event VALUES (1001, 1, 'score', '\\x00'::bytea) ON CONFLICT DO NOTHING"
check_eq "... and leaves one row, the first" "1|\\x81a176" \
    "$(q lwk_a "SELECT count(*) || '|' || min(payload::text) FROM lwk.session_events WHERE session_id = 1001 AND seq = 1")"
expect_sqlstate "the same (session, seq) without ON CONFLICT is a unique violation" 23505 lwk_a postgres \
    "$ins_event VALUES (1001, 1, 'score', '\\x00'::bytea)"
expect_sqlstate "an event of an unknown session is rejected" 23503 lwk_a lwkd_test \
    "$ins_event VALUES (999, 1, 'score', '\\x00'::bytea) ON CONFLICT DO NOTHING"
expect_sqlstate "seq 0 is rejected" 23514 lwk_a lwkd_test \
    "$ins_event VALUES (1001, 0, 'score', '\\x00'::bytea) ON CONFLICT DO NOTHING"
expect_sqlstate "the daemon cannot update events" 42501 lwk_a lwkd_test \
    "UPDATE lwk.session_events SET kind = 'x' WHERE session_id = 1001"
expect_sqlstate "the daemon cannot delete events" 42501 lwk_a lwkd_test \
    "DELETE FROM lwk.session_events WHERE session_id = 1001"
expect_sqlstate "not even the owner can update events" 0A000 lwk_a postgres \
    "UPDATE lwk.session_events SET kind = 'x' WHERE session_id = 1001"

# --- What the daemon may and may not do ----------------------------------------

expect_ok "the daemon reads the schema version" lwk_a lwkd_test \
    "SELECT max(version) FROM public.schema_migrations"
expect_ok "the daemon creates an organisation and a team (identity ids)" lwk_a lwkd_test \
    "WITH o AS (INSERT INTO lwk.organisations (name) VALUES ('Zorg West') RETURNING id)
     INSERT INTO lwk.org_units (organisation_id, kind, name) SELECT id, 'team', 'Team West' FROM o"
expect_ok "the daemon creates a session, participant, round and score" lwk_a lwkd_test \
    "INSERT INTO lwk.sessions (id, organisation_id, team_id, instrument_version_id)
         VALUES (4611686018427387903, 1, 13, 1) ON CONFLICT (id) DO NOTHING;
     INSERT INTO lwk.participants (session_id, pid, display_name) VALUES (4611686018427387903, 1, 'Cor');
     INSERT INTO lwk.score_rounds (session_id, item, round) VALUES (4611686018427387903, 0, 1);
     INSERT INTO lwk.scores (session_id, item, round, pid, value) VALUES (4611686018427387903, 0, 1, 1, 6)
         ON CONFLICT (session_id, item, round, pid) DO UPDATE SET value = excluded.value, updated_at = now()"
expect_ok "the daemon records an action status change idempotently" lwk_a lwkd_test \
    "INSERT INTO lwk.action_status_history (action_session_id, aid, status, session_id, seq)
         VALUES (1001, 1, 'done', 1002, 7) ON CONFLICT (session_id, seq) DO NOTHING;
     INSERT INTO lwk.action_status_history (action_session_id, aid, status, session_id, seq)
         VALUES (1001, 1, 'done', 1002, 7) ON CONFLICT (session_id, seq) DO NOTHING"
check_eq "... leaving one history row" "1" \
    "$(q lwk_a "SELECT count(*) FROM lwk.action_status_history WHERE session_id = 1002 AND seq = 7")"
expect_sqlstate "the daemon cannot rewrite history" 42501 lwk_a lwkd_test \
    "UPDATE lwk.action_status_history SET status = 'open'"
expect_sqlstate "the daemon cannot delete a session" 42501 lwk_a lwkd_test \
    "DELETE FROM lwk.sessions WHERE id = 1002"
expect_sqlstate "the daemon cannot issue admin tokens" 42501 lwk_a lwkd_test \
    "INSERT INTO lwk.admin_tokens (label, token_sha256) VALUES ('x', repeat('a', 64))"
expect_sqlstate "the daemon cannot rewrite an instrument version" 42501 lwk_a lwkd_test \
    "UPDATE lwk.instrument_versions SET definition = 'x'"
expect_sqlstate "the daemon cannot create tables" 42501 lwk_a lwkd_test \
    "CREATE TABLE lwk.intruder (x int)"
expect_sqlstate "the daemon cannot alter tables" 42501 lwk_a lwkd_test \
    "ALTER TABLE lwk.scores DROP CONSTRAINT scores_value_check"
expect_sqlstate "the daemon cannot change the migration record" 42501 lwk_a lwkd_test \
    "DELETE FROM public.schema_migrations"

finish
