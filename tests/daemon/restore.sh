#!/usr/bin/env bash
# restore.sh — a SQLite backup restored as docs/storage.md says, after the daemon was killed
# (kill -9: its write-ahead log, budget.db-wal, stays beside the store). Moving the copy into
# place, as the docs said before, let SQLite apply that old log to the copy: charges made after
# the backup came back (or the store was corrupt, when the backup was older than the log's last
# checkpoint). `sqlite3 budget.db ".restore COPY"` writes the copy through SQLite: the store is
# the backup. And a daemon whose store file was replaced answers 503 to /healthz too.
# usage: restore.sh PATH-TO-agentbudgetd PATH-TO-agentbudget
source "$(dirname "$0")/lib.sh"

start_daemon main || exit 1
TOKEN=$ADMIN
jreq PUT /v1/budgets/a '{"limits":["usd/day=100"]}'
expect_status 201 "a budget"
jreq POST /v1/charge '{"budget":"a","usage":{"input":1000,"output":1000}}'
expect_status 200 "a charge before the backup"
sqlite3 "$STORE_FILE" ".backup $TMP/backup.db"
usage() { "$AB" --store "sqlite:$1" status a --json | jq -c .usage.total; }
want=$(usage "$TMP/backup.db")
for i in $(seq 20); do jreq POST /v1/charge '{"budget":"a","usage":{"input":500,"output":500}}'; done
expect_status 200 "charges after the backup"
kill -KILL "$PID"
wait "$PID" 2>/dev/null
expect_eq "$([[ -s $STORE_FILE-wal ]] && echo kept)" kept "the killed daemon left its write-ahead log"
# what moving the copy into place does (on a copy of the crashed store): the old log is applied
mkdir "$TMP/moved"
cp "$STORE_FILE" "$STORE_FILE-wal" "$TMP/moved/"
cp "$TMP/backup.db" "$TMP/moved/main.db"
moved=$(usage "$TMP/moved/main.db" 2>&1)
[[ $moved != "$want" ]] && ok "moving the copy into place is no restore ($moved, not $want)" ||
    not_ok "moving the copy into place gave the backup: the test no longer shows the difference"
# as the docs say
sqlite3 "$STORE_FILE" ".restore $TMP/backup.db"
expect_eq "$(usage "$STORE_FILE")" "$want" "restored with sqlite3 .restore: the store is the backup"
expect_eq "$(sqlite3 "$STORE_FILE" 'PRAGMA integrity_check')" ok "and it is sound"

# a store file replaced under a running daemon (a backup moved over it): every write fails, and
# /healthz says so (it said ok: a health check never asked for the restart the writes needed)
start_daemon live || exit 1
TOKEN=$ADMIN
req GET /healthz
expect_status 200 "/healthz of a daemon on its store"
cp "$TMP/backup.db" "$TMP/other.db"
mv "$TMP/other.db" "$STORE_FILE"
req GET /healthz
expect_reply 503 .error.code store_unavailable "/healthz once the store file was replaced"
jreq POST /v1/charge '{"budget":"a","usage":{"input":1}}'
expect_status 503 "and a write"
finish
