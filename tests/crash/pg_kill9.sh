#!/usr/bin/env bash
# pg_kill9.sh AGENTBUDGET PG_DIR PG_CLUSTER_SH [ROUNDS] — crash consistency of the PostgreSQL
# store under kill -9, on a database of its own in the fixture's server (tests/pg/pg_cluster.sh).
# Each round, WRITERS `agentbudget` loops (see lib.sh) charge, reserve, commit and release with
# keys; after a random 20-150 ms they are killed with SIGKILL. In about one round of four the
# server's postmaster is killed with SIGKILL too, after its own random 20-150 ms (before the
# writers, while they still write, or after them), and started again with the cluster script
# (crash recovery). After every round:
#   - amcheck finds every B-tree index of the store consistent with its table (if the server
#     has the extension);
#   - the checks of lib.sh: every acknowledged operation in the log exactly once, retries with
#     the keys replay and change nothing, tokens used and held equal the events' sums, no limit
#     exceeded.
# The server is left running, as the other tests of the fixture expect.
set -euo pipefail
A=$(realpath "$1")
PGDIR=$2
PGCTL=$3
ROUNDS=${4:-100}
command -v psql >/dev/null || {
    echo "error: needs psql" >&2
    exit 2
}
BASE=$(cat "$PGDIR/url")
DB=ab_crash_$$
round=0
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
dir=$(mktemp -d "${TMPDIR:-/tmp}/abcrash.XXXXXX")

kids="" # the children of the postmaster last killed

pg_pid() { head -n 1 "$PGDIR/data/postmaster.pid" 2>/dev/null; }

pg_kill() {
    pm=$(pg_pid)
    kids=$(ps -o pid= --ppid "$pm" | awk '{ printf "%s%s", (NR > 1 ? "," : ""), $1 }')
    kill -9 "$pm"
}

# pg_start_again: its children see that the postmaster is gone and exit; until the last one
# has, a new server refuses to start (shared memory still in use), hence the retries.
pg_start_again() {
    for _ in $(seq 1 500); do # a zombie holds no shared memory
        [ -n "$kids" ] || break
        ps -o stat= -p "$kids" | awk '$1 !~ /^Z/ { n++ } END { exit !n }' || break
        sleep 0.01
    done
    for _ in 1 2 3 4 5; do
        "$PGCTL" restart "$PGDIR" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    fail "the PostgreSQL server did not start again: $(tail -n 3 "$PGDIR/server.log")"
}

# pg_quiet: waits until no other session is on the store's database, for the backend of a
# killed writer may still be committing its last transaction.
pg_quiet() {
    local q="SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid()
             AND backend_type = 'client backend'"
    for _ in $(seq 1 500); do
        [ "$(psql -qXtA "$BASE/$DB" -c "$q")" = 0 ] && return 0
        sleep 0.01
    done
    fail "sessions of the killed writers are still there after 5 s"
}

pg_up() { psql -qXtA "$BASE/postgres" -c 'SELECT 1' >/dev/null 2>&1; }

cleanup() {
    kill_writers
    pg_up || pg_start_again
    psql -qX "$BASE/postgres" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap cleanup EXIT

psql -qX "$BASE/postgres" -c "CREATE DATABASE $DB" >/dev/null
unset AGENTBUDGET_URL AGENTBUDGET_TOKEN
export AGENTBUDGET_STORE="$BASE/$DB"
setup_budgets
amcheck=0
if psql -qX "$BASE/$DB" -c 'CREATE EXTENSION amcheck' >/dev/null 2>&1; then
    amcheck=1
else
    echo "note: no amcheck extension on this server: the indexes are not checked" >&2
fi
# every B-tree index of the store, with heapallindexed: each table row is in its indexes
AMCHECK="SELECT count(bt_index_check(c.oid, true)) FROM pg_index i
         JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am m ON m.oid = c.relam
         WHERE m.amname = 'btree' AND c.relnamespace = 'public'::regnamespace"

kills=0
for round in $(seq 1 "$ROUNDS"); do
    start_writers
    t_w=$((RANDOM % 131 + 20)) t_p=$((RANDOM % 131 + 20)) kill_p=$((RANDOM % 4 == 0))
    if ((kill_p && t_p < t_w)); then
        sleep "$(printf 0.%03d $t_p)"
        pg_kill
        sleep "$(printf 0.%03d $((t_w - t_p)))"
        kill_writers
    else
        sleep "$(printf 0.%03d $t_w)"
        kill_writers
        if ((kill_p)); then
            sleep "$(printf 0.%03d $((t_p > t_w ? t_p - t_w : 0)))"
            pg_kill
        fi
    fi
    if ((kill_p)); then
        kills=$((kills + 1))
        pg_start_again
    fi
    pg_quiet
    if ((amcheck)); then
        psql -qXtA -v ON_ERROR_STOP=1 "$BASE/$DB" -c "$AMCHECK" >"$dir/amcheck" 2>&1 ||
            fail "amcheck: $(cat "$dir/amcheck")"
    fi
    check_round
done
summary crash_pg_kill9 "pg_kills=$kills"
