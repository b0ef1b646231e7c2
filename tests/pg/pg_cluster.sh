#!/usr/bin/env bash
# pg_cluster.sh start|stop|halt|restart DIR — a throwaway PostgreSQL server for the tests, listening
# only on 127.0.0.1 at a free port, run as the postgres user when we are root (the server refuses
# to run as root). `start` writes the server's base URL to DIR/url; `stop` stops it
# (immediately) and removes DIR. Used as a CTest fixture.
# The cluster itself lives in a directory of its own under /tmp (its path in DIR/pgdir; DIR/data
# and DIR/server.log link to it), not in DIR: the postgres user cannot reach a DIR inside a
# clone under /root (mode 0700 on Debian), where a root user's checkout usually is.
set -euo pipefail
CMD=${1:?usage: pg_cluster.sh start|stop|halt|restart DIR}
DIR=${2:?usage: pg_cluster.sh start|stop|halt|restart DIR}

BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$BIN/initdb" ] || { echo "error: PostgreSQL server binaries not found (install postgresql)" >&2; exit 2; }

as_owner() { # runs a command as the cluster's owner
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

case "$CMD" in
start)
    "$0" stop "$DIR" >/dev/null 2>&1 || true
    mkdir -p "$DIR"
    PGD=$(mktemp -d /tmp/ab-pg-XXXXXX)
    echo "$PGD" >"$DIR/pgdir"
    [ "$(id -u)" -eq 0 ] && chown postgres "$PGD"
    ln -s "$PGD/data" "$DIR/data"
    ln -s "$PGD/server.log" "$DIR/server.log"
    as_owner "$BIN/initdb" -D "$PGD/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
        --no-instructions >"$DIR/initdb.log" 2>&1 || { cat "$DIR/initdb.log" >&2; exit 3; }
    # a port below the kernel's ephemeral range (32768 and up), so that no client connection
    # holds it; and another one if the server finds it taken all the same (it once did)
    port=""
    for _ in $(seq 1 10); do
        p=""
        for _ in $(seq 1 50); do
            c=$((20000 + RANDOM % 12000))
            if port_free "$c"; then p=$c; break; fi
        done
        [ -n "$p" ] || break
        if as_owner "$BIN/pg_ctl" -D "$PGD/data" -l "$PGD/server.log" -w -t 60 \
            -o "-p $p -k $PGD -c listen_addresses=127.0.0.1 -c max_connections=200" start \
            >/dev/null; then
            port=$p
            break
        fi
        grep -q "Address already in use" "$PGD/server.log" || { cat "$PGD/server.log" >&2; exit 3; }
    done
    [ -n "$port" ] || { echo "error: no free port found" >&2; cat "$PGD/server.log" >&2 2>/dev/null; exit 3; }
    echo "$port" >"$DIR/port"
    echo "postgres://postgres@127.0.0.1:$port" >"$DIR/url"
    echo "PostgreSQL $("$BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($DIR)"
    ;;
halt) # stop the server hard and keep everything, for a restart (connection-loss tests)
    as_owner "$BIN/pg_ctl" -D "$(cat "$DIR/pgdir")/data" -m immediate -w stop >/dev/null
    ;;
restart) # stop hard (if running) and start again on the same port (connection-loss tests)
    PGD=$(cat "$DIR/pgdir")
    as_owner "$BIN/pg_ctl" -D "$PGD/data" -m immediate -w stop >/dev/null 2>&1 || true
    as_owner "$BIN/pg_ctl" -D "$PGD/data" -l "$PGD/server.log" -w -t 60 \
        -o "-p $(cat "$DIR/port") -k $PGD -c listen_addresses=127.0.0.1 -c max_connections=200" \
        start >/dev/null
    ;;
stop)
    PGD=$(cat "$DIR/pgdir" 2>/dev/null || true)
    case "$PGD" in /tmp/ab-pg-*) ;; *) PGD="" ;; esac # only ever remove what start made
    if [ -n "$PGD" ] && [ -f "$PGD/data/postmaster.pid" ]; then
        as_owner "$BIN/pg_ctl" -D "$PGD/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    [ -n "$PGD" ] && rm -rf "$PGD"
    rm -rf "$DIR"
    ;;
*)
    echo "usage: pg_cluster.sh start|stop|halt|restart DIR" >&2
    exit 2
    ;;
esac
