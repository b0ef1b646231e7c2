#!/usr/bin/env bash
# restore.sh — a SQLite backup restored as docs/storage.md says, after the daemon was killed
# (kill -9: its write-ahead log, budget.db-wal, stays beside the store). Moving the copy into
# place, as the docs said before, let SQLite apply that old log to the copy: charges made after
# the backup came back (or the store was corrupt, when the backup was older than the log's last
# checkpoint: both cases are run). `sqlite3 budget.db ".restore COPY"` writes the copy through
# SQLite: the store is the backup. And a daemon whose store file was replaced answers 503 to
# /healthz too.
# usage: restore.sh PATH-TO-agentbudgetd PATH-TO-agentbudget
source "$(dirname "$0")/lib.sh"

# restore_case NAME PAD: a daemon on a store, a backup of it, charges after the backup (and with
# PAD a bulk of events first, past the write-ahead log's checkpoint, so that the backup is older
# than the checkpoint), the daemon killed; then both restores.
restore_case()
{
    local name=$1 pad=$2 want moved
    start_daemon "$name" || exit 1
    TOKEN=$ADMIN
    jreq PUT /v1/budgets/a '{"limits":["usd/day=100"]}'
    expect_status 201 "$name: a budget"
    jreq POST /v1/charge '{"budget":"a","usage":{"input":1000,"output":1000}}'
    expect_status 200 "$name: a charge before the backup"
    sqlite3 "$STORE_FILE" ".backup $TMP/$name-backup.db"
    want=$(usage "$TMP/$name-backup.db")
    if [[ $pad == pad ]]; then # about 8 MB of events, and the log checkpointed
        sqlite3 "$STORE_FILE" "PRAGMA busy_timeout=5000; WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL
            SELECT i + 1 FROM n WHERE i < 16000) INSERT INTO events(time_ms, budget, op, model,
            input, output, cache_write_5m, cache_write_1h, cache_read, tokens, cost_nusd, allowed,
            reason, hold_id, key, actor) SELECT time_ms, budget, op, model, 0, 0, 0, 0, 0, 0, 0,
            allowed, hex(randomblob(200)), hold_id, '', actor FROM events, n WHERE events.id = 1;
            PRAGMA wal_checkpoint(PASSIVE);" >/dev/null
    fi
    for i in $(seq 20); do jreq POST /v1/charge '{"budget":"a","usage":{"input":500,"output":500}}'; done
    expect_status 200 "$name: charges after the backup"
    kill -KILL "$PID"
    wait "$PID" 2>/dev/null
    expect_eq "$([[ -s $STORE_FILE-wal ]] && echo kept)" kept "$name: the killed daemon left its write-ahead log"
    # what moving the copy into place does (on a copy of the crashed store): the old log is
    # applied to it
    mkdir "$TMP/$name-moved"
    cp "$STORE_FILE" "$STORE_FILE-wal" "$TMP/$name-moved/"
    cp "$TMP/$name-backup.db" "$TMP/$name-moved/$name.db"
    moved=$(usage "$TMP/$name-moved/$name.db" 2>&1)
    [[ $moved != "$want" ]] && ok "$name: moving the copy into place is no restore (${moved:0:120})" ||
        not_ok "$name: moving the copy into place gave the backup: the test no longer shows the difference"
    # as the docs say
    sqlite3 "$STORE_FILE" ".restore $TMP/$name-backup.db"
    expect_eq "$(usage "$STORE_FILE")" "$want" "$name: restored with sqlite3 .restore: the store is the backup"
    expect_eq "$(sqlite3 "$STORE_FILE" 'PRAGMA integrity_check')" ok "$name: and it is sound"
}
usage() { "$AB" --store "sqlite:$1" status a --json | jq -c .usage.total; }
restore_case recent nopad
restore_case checkpointed pad

# a store file replaced under a running daemon (a backup moved over it): every write fails, and
# /healthz says so (it said ok: a health check never asked for the restart the writes needed)
start_daemon live || exit 1
TOKEN=$ADMIN
req GET /healthz
expect_status 200 "/healthz of a daemon on its store"
cp "$TMP/recent-backup.db" "$TMP/other.db"
mv "$TMP/other.db" "$STORE_FILE"
req GET /healthz
expect_reply 503 .error.code store_unavailable "/healthz once the store file was replaced"
jreq POST /v1/charge '{"budget":"a","usage":{"input":1}}'
expect_status 503 "and a write"
finish
