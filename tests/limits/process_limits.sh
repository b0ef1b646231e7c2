#!/usr/bin/env bash
# process_limits.sh — the limits of docs/limits.md that exist only at the process boundary: the
# CLI's stdin, files and daemon replies, agentbudgetd's sockets and flags. For each, one case
# exactly at the limit (accepted) and one just past it (refused with the documented status or exit
# code, a message naming the limit, and the store unchanged). Needs curl, jq, sqlite3 and python3
# (raw sockets, padded files). Prints `ok: LIMIT at|past N` or `FAIL: …` per check and a JSON
# summary line last; exits non-zero if any check failed.
# usage: process_limits.sh PATH-TO-agentbudget PATH-TO-agentbudgetd
set -u
set -o pipefail

# daemons on free ports, stopped on exit; $TMP; a clean environment (tests/daemon/lib.sh)
source "$(dirname "$0")/../daemon/lib.sh" "${2-}" "${1-}"
command -v python3 >/dev/null || { echo "error: 'python3' is required" >&2; exit 2; }
AB=$(realpath "$AB") ABD=$(realpath "$ABD") # the hook runs in a directory of its own

KIB=1024
MIB=$((1024 * 1024))

# ---- the raw-socket side, in python3: requests bash and curl cannot shape byte for byte ----
cat >"$TMP/raw.py" <<'PY'
"""Helpers of process_limits.sh; each subcommand prints one JSON object (pad prints nothing)."""
import http.client, json, os, select, socket, sys, time

def status_line(s, wait_s=5.0):
    """The reply's status line (its body read too), "closed" or "timeout"."""
    s.settimeout(wait_s)
    d = b""
    try:
        while b"\r\n\r\n" not in d:
            c = s.recv(65536)
            if not c:
                return d.split(b"\r\n")[0].decode() or "closed"
            d += c
        head, _, rest = d.partition(b"\r\n\r\n")
        n = [int(l.split(b":")[1]) for l in head.split(b"\r\n")
             if l.lower().startswith(b"content-length:")]
        while n and len(rest) < n[0]:
            c = s.recv(65536)
            if not c:
                break
            rest += c
        return head.split(b"\r\n")[0].decode()
    except socket.timeout:
        return "timeout"
    except ConnectionResetError:
        return "closed"

def pad(out, size, text):
    """out: text then spaces, size bytes in all (JSON whitespace keeps it the same document)."""
    b = text.encode()
    assert len(b) <= size
    with open(out, "wb") as f:
        f.write(b)
        f.write(b" " * (size - len(b)))

def head_status(port, size, token=None, body=None, padding="a"):
    """A request whose line and headers (up to the blank line) are size bytes: GET /healthz with
    Host and X-Pad, or with a token and body POST /v1/charge with 5 header lines. padding
    "lead": X-Pad's value is spaces then one "a" (libmicrohttpd trims the spaces off the value)."""
    if body is None:
        base = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: \r\n\r\n"
    else:
        base = ("POST /v1/charge HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                "Content-Type: application/json\r\nContent-Length: %d\r\nX-Pad: \r\n\r\n"
                % (token, len(body)))
    n = size - len(base)
    fill = " " * (n - 1) + "a" if padding == "lead" else "a" * n
    req = base.replace("X-Pad: ", "X-Pad: " + fill)
    assert len(req) == size
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(req.encode() + (body or "").encode())
    st = status_line(s)
    s.close()
    return st

def head(port, size, token=None, body=None, padding="a"):
    print(json.dumps({"status": head_status(port, size, token, body, padding)}))

def sweep(port, lo, hi, token, body):
    """head_status for every size from lo to hi, one byte apart: for each reply (its status line,
    or "closed" for none) [first size, last size, how many]."""
    r = {}
    for size in range(lo, hi + 1):
        r.setdefault(head_status(port, size, token, body), []).append(size)
    print(json.dumps({k: [v[0], v[-1], len(v)] for k, v in r.items()}))

def conns(port, n):
    """n keep-alive connections, each served once (so the daemon has taken each: a fixed wait for
    that failed under load), one more, then one of the n closed."""
    REQ = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(n)]
    served = 0
    for s in idle:
        s.sendall(REQ)
        served += status_line(s).endswith(" 200 OK")
    r = {"idle_served": served}
    extra = socket.create_connection(("127.0.0.1", port))
    extra.sendall(REQ)
    r["extra_while_full"] = status_line(extra, 1.0)
    idle[0].close()
    r["extra_after_one_closed"] = status_line(extra, 3.0)
    print(json.dumps(r))

def timeouts(port, t):
    """Seconds until the daemon closes an idle keep-alive connection, a half-sent request and a
    request trickled one byte each half second; and a request after 1 s idle, under the timeout."""
    a = socket.create_connection(("127.0.0.1", port))
    time.sleep(1.0)
    a.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    r = {"after_1s_idle": status_line(a)}
    t0 = time.monotonic()
    slow = socket.create_connection(("127.0.0.1", port))
    slow.sendall(b"GET /healthz HTTP/1.1\r\nHo")
    trickle = socket.create_connection(("127.0.0.1", port))
    trickle_left = b"GET /healthz HTTP/1.1\r\nX-Trickle: abcdefghijklmnopqrstuvwxyz"
    names = {a: "idle_closed_s", slow: "slow_closed_s", trickle: "trickle_closed_s"}
    next_byte = t0
    while names and time.monotonic() - t0 < t + 3:
        if trickle in names and time.monotonic() >= next_byte:
            trickle.send(trickle_left[:1])
            trickle_left = trickle_left[1:]
            next_byte += 0.5  # a quarter of the timeout: a stall of this process under load
                              # is no idle gap of the connection's
        ready, _, _ = select.select(list(names), [], [], 0.05)
        for s in ready:
            try:
                data = s.recv(4096)
            except ConnectionResetError:
                data = b""
            if not data:
                r[names.pop(s)] = round(time.monotonic() - t0, 2)
    for k in names.values():
        r[k] = None  # still open
    print(json.dumps(r))

def series(port, token, n):
    """Charges one budget under n+2 models (a spend series each) on a memory: daemon; the
    metric's series count, dropped counter, _other series and spend summed over every series,
    after n and after n+2."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    hdr = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
    def call(method, path, body=None):
        c.request(method, path, body=None if body is None else json.dumps(body), headers=hdr)
        resp = c.getresponse()
        return resp.status, resp.read().decode()
    def scrape():
        _, text = call("GET", "/metrics")
        lines = text.splitlines()
        drop = [l.split()[-1] for l in lines
                if l.startswith("agentbudget_metric_series_dropped_total ")]
        spend = [l for l in lines if l.startswith("agentbudget_spend_usd_total{")]
        # exact: the figures are decimals of at most 9 places, summed as integer nano-USD
        nusd = sum(int(round(float(l.split()[-1]) * 10**9)) for l in spend)
        other = [l.split()[-1] for l in spend if l.startswith(
            'agentbudget_spend_usd_total{budget="_other",model="_other"}')]
        return len(spend), int(drop[0]) if drop else None, other[0] if other else None, nusd
    price = {"input_cost_per_token": 1e-06, "output_cost_per_token": 1e-06}
    prices = {"m%d" % i: price for i in range(n + 2)}
    prices["_other"] = price
    r = {"import": call("POST", "/v1/prices/import", prices)[0],
         "budget": call("PUT", "/v1/budgets/series", {})[0]}
    charge = lambda i: call("POST", "/v1/charge", {"budget": "series", "model": "m%d" % i,
                                                   "usage": {"input": 1, "output": 0}})[0]
    # a real series labelled as the overflow's: budget _other, model _other, the first made
    call("PUT", "/v1/budgets/_other", {})
    r["charges_ok"] = call("POST", "/v1/charge", {"budget": "_other", "model": "_other",
                                                  "usage": {"input": 1, "output": 0}})[0] == 200
    r["charges_ok"] += sum(charge(i) == 200 for i in range(n - 1))
    r["series_at"], r["dropped_at"], r["other_at"], r["nusd_at"] = scrape()
    r["charge_past"] = [charge(n - 1), charge(n), charge(0)]
    r["series_past"], r["dropped_past"], r["other_past"], r["nusd_past"] = scrape()
    print(json.dumps(r))

def unsent(port, token, budgets, readers):
    """Makes `budgets` budgets, then opens `readers` connections that each ask for the list of
    them (a reply of megabytes, more than the kernel takes into a socket's buffer), read its
    status line and read no more (a receive buffer of 4 KiB: the rest stays in the daemon);
    meanwhile a small request; then closes them all and asks once more. Prints the statuses."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    hdr = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
    def call(method, path, body=None):
        c.request(method, path, body=None if body is None else json.dumps(body), headers=hdr)
        resp = c.getresponse()
        return resp.status, resp.read()
    limits = ["usd/day=10", "usd/month=100", "tokens/session=1000", "tokens/day=5000",
              "requests/day=100", "requests/month=1000"]
    r = {"created": sum(call("PUT", "/v1/budgets/u%d" % i, {"limits": limits})[0] == 201
                        for i in range(budgets))}
    st, body = call("GET", "/v1/budgets")
    r["list"], r["list_bytes"] = st, len(body)
    held, statuses = [], []
    for _ in range(readers):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(("127.0.0.1", port))
        s.sendall(("GET /v1/budgets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n"
                   % token).encode())
        s.settimeout(30)
        statuses.append(int(s.recv(64).split()[1]))
        held.append(s)
    r["statuses"] = statuses
    r["small_meanwhile"] = call("POST", "/v1/charge", {"budget": "u0", "usage": {"input": 1}})[0]
    for s in held:
        s.close()
    time.sleep(1)
    r["list_after"] = call("GET", "/v1/budgets")[0]
    print(json.dumps(r))

def serve(portfile, *sizes):
    """A stand-in daemon: one connection per size, each answered 200 with a JSON body of that many
    bytes ({"prices":[]} and spaces)."""
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(4)
    ls.settimeout(60)  # gone by itself should nobody come
    with open(portfile + ".tmp", "w") as f:
        f.write(str(ls.getsockname()[1]))
    os.rename(portfile + ".tmp", portfile)
    for size in map(int, sizes):
        s, _ = ls.accept()
        s.settimeout(150)  # the CLI reads 64 MiB slowly under ASan
        d = b""
        while b"\r\n\r\n" not in d:
            c = s.recv(65536)
            if not c:
                break
            d += c
        body = b'{"prices":[]}'
        body += b" " * (size - len(body))
        try:
            s.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d"
                      b"\r\nConnection: close\r\n\r\n" % size + body)
        except OSError:
            pass  # the client stopped reading past its cap
        s.close()

cmd, args = sys.argv[1], sys.argv[2:]
if cmd == "pad":
    pad(args[0], int(args[1]), args[2])
elif cmd == "head":
    head(int(args[0]), int(args[1]), *args[2:])
elif cmd == "sweep":
    sweep(int(args[0]), int(args[1]), int(args[2]), *args[3:])
elif cmd == "conns":
    conns(int(args[0]), int(args[1]))
elif cmd == "timeouts":
    timeouts(int(args[0]), float(args[1]))
elif cmd == "unsent":
    unsent(int(args[0]), args[1], int(args[2]), int(args[3]))
elif cmd == "series":
    series(int(args[0]), args[1], int(args[2]))
elif cmd == "serve":
    serve(*args)
PY
raw() { python3 "$TMP/raw.py" "$@"; }

# ---- daemons: each on a free loopback port with its own store (tests/daemon/lib.sh) ----
start_daemon_at() # NAME STORE [FLAGS...]: start_daemon on STORE, without the access log
{
    local name=$1 store=$2
    shift 2
    DAEMON_STORE=$store start_daemon "$name" --no-access-log "$@"
}

# http METHOD PATH [CURL-ARGS...]: one request with the admin token; sets STATUS, BODY, HDRS.
http()
{
    local method=$1 path=$2
    shift 2
    STATUS=$(curl -s --max-time 30 -X "$method" -H "Authorization: Bearer $ADMIN" \
        -o "$TMP/body" -D "$TMP/hdrs" -w '%{http_code}' "$@" "$URL$path")
    BODY=$(head -c 2000 "$TMP/body")
    HDRS=$(tr -d '\r' <"$TMP/hdrs")
}

dump() { sqlite3 "$1" .dump; } # a SQLite store as SQL text, to compare before and after

# ---- checks: each collects what is wrong in WHY, then verdict prints one line ----
CHECKS=0
FAILED=0
WHY=()
want() # GOT WANT WHAT
{
    [[ $1 == "$2" ]] || WHY+=("$3: expected '${2:0:200}', got '${1:0:300}'")
}
want_has() # HAYSTACK NEEDLE WHAT
{
    [[ $1 == *"$2"* ]] || WHY+=("$3: expected to contain '$2' in '${1:0:300}'")
}
verdict() # NAME: ok if nothing was wrong since the last verdict
{
    CHECKS=$((CHECKS + 1))
    if ((${#WHY[@]} == 0)); then
        echo "ok: $1"
    else
        FAILED=$((FAILED + 1))
        echo "FAIL: $1"
        printf '    %s\n' "${WHY[@]}"
    fi
    WHY=()
}
T0=$SECONDS

# ==== 1. daemon request body: --max-body-bytes (small), and the 64 KiB default ====
# POST /v1/charge with a valid body padded with spaces to exactly N bytes: 200 and one charge
# more; N+1: 413 naming the limit, nothing charged. Sent with Content-Length (refused before the
# body is read) and chunked (refused once the body passes N), which are two code paths.
"$AB" --store "sqlite:$TMP/small.db" set b --limit usd/day=10 >/dev/null
start_daemon_at small "sqlite:$TMP/small.db" --max-body-bytes $KIB --max-header-bytes $((4 * KIB)) ||
    exit 1
SMALL_PORT=$PORT SMALL_ADMIN=$ADMIN SMALL_PID=$PID
CHARGE='{"budget":"b","usage":{"input":1,"output":1}}'
charges() { sqlite3 "$1" "SELECT count(*) FROM events WHERE op='charge'"; }
body_case() # DB SIZE WANT-STATUS LABEL [CURL-ARGS...]
{
    local db=$1 size=$2 want_status=$3 label=$4 before after
    shift 4
    raw pad "$TMP/body.json" "$size" "$CHARGE"
    before=$(dump "$db")
    local n0
    n0=$(charges "$db")
    http POST /v1/charge -H 'Content-Type: application/json' --data-binary @"$TMP/body.json" "$@"
    want "$STATUS" "$want_status" "status"
    if [[ $want_status == 200 ]]; then
        want "$(charges "$db")" $((n0 + 1)) "charges in the store"
    else
        want "$(jq -r .error.code <<<"$BODY")" payload_too_large "error code"
        want_has "$BODY" "larger than $((size - 1)) bytes" "message names the limit"
        after=$(dump "$db")
        [[ $before == "$after" ]] || WHY+=("the store changed after the refusal")
    fi
    verdict "$label"
}
body_case "$TMP/small.db" $KIB 200 "request body (--max-body-bytes 1024) at 1024"
body_case "$TMP/small.db" $((KIB + 1)) 413 "request body (--max-body-bytes 1024) past 1025"
CHUNKED=(-H 'Transfer-Encoding: chunked')
body_case "$TMP/small.db" $KIB 200 \
    "request body, chunked (--max-body-bytes 1024) at 1024" "${CHUNKED[@]}"
body_case "$TMP/small.db" $((KIB + 1)) 413 \
    "request body, chunked (--max-body-bytes 1024) past 1025" "${CHUNKED[@]}"

"$AB" --store "sqlite:$TMP/main.db" set b --limit usd/day=10 >/dev/null
# 10,001 events for the events page (section 6): the last one copied 10,000 times, faster than
# 10,000 charges
"$AB" --store "sqlite:$TMP/main.db" charge b --input 1 --output 1 >/dev/null
sqlite3 "$TMP/main.db" "CREATE TEMP TABLE e AS SELECT * FROM events ORDER BY id DESC LIMIT 1;
    UPDATE e SET id = NULL;
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)
    INSERT INTO events SELECT e.* FROM e, n;"
start_daemon_at main "sqlite:$TMP/main.db" || exit 1
MAIN_URL=$URL MAIN_PORT=$PORT MAIN_ADMIN=$ADMIN MAIN_PID=$PID
body_case "$TMP/main.db" $((64 * KIB)) 200 "request body (default) at 65536"
body_case "$TMP/main.db" $((64 * KIB + 1)) 413 "request body (default) past 65537"

# ==== 2. daemon request line and headers: --max-header-bytes ====
# The flag is libmicrohttpd's MHD_OPTION_CONNECTION_MEMORY_LIMIT, the per-connection pool that
# holds the request's head as read, 64 bytes of bookkeeping per header line, and then the reply's
# head. agentbudgetd refuses (431, JSON, before acting) a request whose head — its request line
# and header lines, plus 64 bytes per header line — leaves less than 1,024 bytes of the pool for
# the reply (src/daemon/http.c, HEAD_REPLY_RESERVE). For GET /healthz with 2 header lines (Host,
# X-Pad), counting the request line, the headers and the blank line, that is exact to the byte:
# L - 1024 - 2 x 64 = L - 1152 bytes are served, L - 1151 get the JSON 431. Well past the pool
# (L + 1) libmicrohttpd answers its own 431 page before agentbudgetd sees the request.
# (Without the check, heads of about L - 271 to L - 128 bytes were acted on and answered with
# nothing: a charge made and the client told only that the connection closed.)
OK200="HTTP/1.1 200 OK"
E431="HTTP/1.1 431 Request Header Fields Too Large"
header_case() # PORT SIZE LABEL WANT: GET /healthz, SIZE bytes up to and with the blank line
{
    local got
    got=$(raw head "$1" "$2" | jq -r .status)
    [[ $got == "$4" ]] || WHY+=("reply: expected '$4', got '$got'")
    verdict "$3"
}
header_case "$SMALL_PORT" $((4 * KIB - 1152)) \
    "request line+headers (--max-header-bytes 4096) at 2944" "$OK200"
header_case "$SMALL_PORT" $((4 * KIB - 1151)) \
    "request line+headers (--max-header-bytes 4096) past 2945" "$E431"
header_case "$SMALL_PORT" $((4 * KIB + 1)) \
    "request line+headers (--max-header-bytes 4096) past 4097" "$E431"
header_case "$MAIN_PORT" $((32 * KIB - 1152)) "request line+headers (default) at 31616" "$OK200"
header_case "$MAIN_PORT" $((32 * KIB - 1151)) "request line+headers (default) past 31617" "$E431"
header_case "$MAIN_PORT" $((32 * KIB + 1)) "request line+headers (default) past 32769" "$E431"
# A write whose head used to fall in the no-reply window: refused (431 or, if even that reply
# does not fit, the connection closed), and the store unchanged. Also when the head's bulk is
# white space that libmicrohttpd trims off a header's value: the head was measured by the values
# as trimmed, and a charge with ~500 bytes of leading spaces was made and answered with nothing.
for size in $((4 * KIB - 5 * 64 - 144 + 50)) $((4 * KIB - 200)) lead:$((4 * KIB - 600)) \
    lead:$((4 * KIB - 500)) lead:$((4 * KIB - 300)); do
    padding=a
    [[ $size == lead:* ]] && padding=lead size=${size#lead:}
    before=$(charges "$TMP/small.db")
    got=$(raw head "$SMALL_PORT" "$size" "$SMALL_ADMIN" "$CHARGE" "$padding" | jq -r .status)
    after=$(charges "$TMP/small.db")
    [[ $got == "$E431" || $got == closed ]] || WHY+=("reply: expected 431 or closed, got '$got'")
    [[ $before == "$after" ]] || WHY+=("the charge was made ($before -> $after charges)")
    verdict "request line+headers (--max-header-bytes 4096) past, on a write: $size bytes ($padding)"
done
# Every head size from where the 431 begins to past the pool, one byte apart, on a write: the
# sizes answered 200 are one run from the bottom, each charged once; above them 431 (the
# daemon's JSON, then libmicrohttpd's page) except one run of at most 256 bytes that gets no
# reply at all, where the daemon has decided 431 but libmicrohttpd finds no room in the pool for
# the reply's head (238 bytes): measured 3,492-3,731 for these 5 header lines, 240 bytes. Nothing
# is done there: a head that is not answered is not acted on.
lo=$((4 * KIB - 5 * 64 - 1024 - 144)) hi=$((4 * KIB + 16))
before=$(charges "$TMP/small.db")
r=$(raw sweep "$SMALL_PORT" "$lo" "$hi" "$SMALL_ADMIN" "$CHARGE")
after=$(charges "$TMP/small.db")
ok200=$(jq -c '."HTTP/1.1 200 OK" // [0,0,0]' <<<"$r")
none=$(jq -c '.closed // [0,0,0]' <<<"$r")
e431=$(jq -c '."HTTP/1.1 431 Request Header Fields Too Large" // [0,0,0]' <<<"$r")
jq -e --argjson lo "$lo" '."HTTP/1.1 200 OK" | .[0] == $lo and .[1] - .[0] + 1 == .[2]' <<<"$r" \
    >/dev/null || WHY+=("200s: expected one run from $lo, got $ok200")
jq -e '.closed | .[2] <= 256 and .[1] - .[0] + 1 == .[2]' <<<"$r" >/dev/null ||
    WHY+=("no reply: expected one run of at most 256 sizes, got $none")
want "$(jq '[.[] | .[2]] | add' <<<"$r")" $((hi - lo + 1)) "sizes sent"
want "$(jq 'keys | length' <<<"$r")" 3 "kinds of reply (200, 431, none): $r"
want $((after - before)) "$(jq '.[2]' <<<"$ok200")" "charges made (one per 200)"
verdict "request line+headers (--max-header-bytes 4096), writes from $lo to $hi bytes one by one: 200 $ok200, 431 $e431, no reply $none"
stop_daemon "$SMALL_PID"

# ==== 3. daemon connections: --max-connections 4 ====
# libmicrohttpd stops accepting at the limit: a 5th connection is not refused by the kernel (it
# waits in the listen backlog of 1,024) but gets no reply until one of the 4 closes.
start_daemon_at conns memory: --max-connections 4 || exit 1
r=$(raw conns "$PORT" 4)
want "$(jq -r .idle_served <<<"$r")" 4 "requests answered on the 4 idle connections"
verdict "connections (--max-connections 4) at 4"
want "$(jq -r .extra_while_full <<<"$r")" timeout "the 5th while 4 are open (1 s)"
want "$(jq -r .extra_after_one_closed <<<"$r")" "HTTP/1.1 200 OK" "the 5th once one closed"
verdict "connections (--max-connections 4) past 5 (waits unserved until one closes)"
stop_daemon "$PID"

# ==== 4. idle or slow connection: --timeout 2 ====
# A keep-alive connection idle 1 s still works; one idle, or with a request half sent, is closed
# about 2 s after its last byte (libmicrohttpd counts in milliseconds). The timeout is per idle
# gap, not per request: a request trickled a byte each half second stays open past it.
start_daemon_at timeout memory: --timeout 2 || exit 1
r=$(raw timeouts "$PORT" 2)
want "$(jq -r .after_1s_idle <<<"$r")" "HTTP/1.1 200 OK" "a request after 1 s idle"
verdict "idle connection (--timeout 2) under it, 1 s"
for k in idle_closed_s slow_closed_s; do
    s=$(jq -r .$k <<<"$r")
    awk -v s="$s" 'BEGIN { exit !(s != "null" && s >= 1.9 && s <= 5) }' ||
        WHY+=("$k: expected closed 1.9-5 s (late under load) after its last byte, got $s")
done
want "$(jq -r .trickle_closed_s <<<"$r")" null "a request trickled a byte each half second (still open)"
verdict "idle connection (--timeout 2) past it: closed after $(jq -r .idle_closed_s <<<"$r") s"
stop_daemon "$PID"

# ==== 5. failed authentications: 10 per token id and address, 100 per address, per 60 s ====
# A daemon of its own, since the throttle shuts 127.0.0.1 out for a minute. POST /v1/charge with
# a wrong secret for the admin token's id: 401 ten times, then 429 with Retry-After, while the
# right secret for that id is served (only failures are throttled, src/daemon/http.c) and
# /healthz (no token) answers. Then 90 failures for ids of their own (each 401): 100 from the
# address, after which a failure for any id waits. Nothing is charged but the one right charge.
"$AB" --store "sqlite:$TMP/auth.db" set b --limit usd/day=10 >/dev/null
start_daemon_at auth "sqlite:$TMP/auth.db" || exit 1
before=$(dump "$TMP/auth.db")
ZEROS=0000000000000000000000000000000000000000000000000000000000000000
bad_auth() { ADMIN=$1 http POST /v1/charge -H 'Content-Type: application/json' -d "$CHARGE"; }
for i in $(seq 1 10); do
    bad_auth "${ADMIN%_*}_$ZEROS"
    want "$STATUS" 401 "bad secret $i"
done
want "$(jq -r .error.field <<<"$BODY")" Authorization "the 401 names the field"
verdict "failed authentications of one token id at 10 (each 401)"
bad_auth "${ADMIN%_*}_$ZEROS"
want "$STATUS" 429 "the 11th bad secret"
ra=$(sed -n 's/^Retry-After: *//Ip' <<<"$HDRS")
[[ $ra =~ ^[0-9]+$ ]] && ((ra >= 1 && ra <= 60)) || WHY+=("Retry-After: expected 1-60, got '$ra'")
want_has "$BODY" "too many failed authentications" "message"
http POST /v1/charge -H 'Content-Type: application/json' --data-binary "$CHARGE"
want "$STATUS" 200 "the right secret of the throttled id is served"
before=$(dump "$TMP/auth.db") # with that one charge; no failure below may change anything
want "$(curl -s -o /dev/null -w '%{http_code}' "$URL/healthz")" 200 "/healthz (no token)"
verdict "failed authentications of one token id past 10 (429, Retry-After $ra)"
for i in $(seq 1 90); do
    bad_auth "$(printf 'abt_%016x_%s' "$i" "$ZEROS")"
    want "$STATUS" 401 "failure $((10 + i)), an id of its own"
done
verdict "failed authentications from one address at 100 (each 401)"
bad_auth "$(printf 'abt_%016x_%s' 1000 "$ZEROS")"
want "$STATUS" 429 "a new token id after 100 failures"
[[ $before == "$(dump "$TMP/auth.db")" ]] || WHY+=("the store changed")
verdict "failed authentications from one address past 100: 429 for any id, store unchanged"
stop_daemon "$PID"

# ==== 6. events per page: 10,000 (GET /v1/events?limit=, agentbudget events --limit) ====
URL=$MAIN_URL ADMIN=$MAIN_ADMIN
http GET "/v1/events?limit=10000"
want "$STATUS" 200 "status"
want "$(jq '.events | length' "$TMP/body")" 10000 "events on the page"
want "$(jq '.next_after != null' "$TMP/body")" true "next_after (there are 10,001)"
verdict "events per page (daemon) at 10000"
before=$(dump "$TMP/main.db")
http GET "/v1/events?limit=10001"
want "$STATUS" 400 "status"
want "$(jq -r .error.field <<<"$BODY")" limit "field"
want_has "$BODY" "at most 10000" "message"
verdict "events per page (daemon) past 10001"
n=$("$AB" --store "sqlite:$TMP/main.db" events --limit 10000 --json | wc -l)
want "$n" 10000 "lines printed"
verdict "events per page (CLI) at 10000"
out=$("$AB" --store "sqlite:$TMP/main.db" events --limit 10001 2>&1)
want "$?" 2 "exit status"
want_has "$out" "--limit: must be 1-10000" "message"
[[ $before == "$(dump "$TMP/main.db")" ]] || WHY+=("the store changed")
verdict "events per page (CLI) past 10001"

# ==== 7. idempotency key through the daemon: 128 bytes less the token's id and a colon ====
# The store keeps TOKEN-ID:KEY (src/daemon/routes.c), so with an 18-byte id a key has 109 bytes.
id=$(sed -n 's/^admin token \(t_[0-9a-f]*\) .*/\1/p' "$TMP/main.out")
KEY_MAX=$((128 - ${#id} - 1))
key_case() # LENGTH WANT-STATUS LABEL
{
    local before key
    key=$(head -c "$1" /dev/zero | tr '\0' k)
    before=$(dump "$TMP/main.db")
    http POST /v1/charge -H 'Content-Type: application/json' -H "Idempotency-Key: $key" \
        --data-binary "$CHARGE"
    want "$STATUS" "$2" "status"
    if [[ $2 == 200 ]]; then
        [[ $before != "$(dump "$TMP/main.db")" ]] || WHY+=("nothing was charged")
    else
        want "$(jq -r .error.field <<<"$BODY")" Idempotency-Key "field"
        want_has "$BODY" "1 to $KEY_MAX bytes" "message"
        [[ $before == "$(dump "$TMP/main.db")" ]] || WHY+=("the store changed")
    fi
    verdict "$3"
}
key_case "$KEY_MAX" 200 "idempotency key (daemon, token id of ${#id} bytes) at $KEY_MAX"
key_case $((KEY_MAX + 1)) 400 \
    "idempotency key (daemon, token id of ${#id} bytes) past $((KEY_MAX + 1))"

# ==== 8. LiteLLM price file: 32 MiB through the daemon (no flag), 64 MiB on the CLI ====
PRICE='{"%s":{"input_cost_per_token":1e-06,"output_cost_per_token":2e-06}}'
import_case() # SIZE MODEL WANT-STATUS LABEL
{
    local before
    raw pad "$TMP/prices.json" "$1" "$(printf "$PRICE" "$2")"
    before=$(dump "$TMP/main.db")
    http POST /v1/prices/import -H 'Content-Type: application/json' \
        --data-binary @"$TMP/prices.json"
    want "$STATUS" "$3" "status"
    if [[ $3 == 200 ]]; then
        want "$(jq -r .imported <<<"$BODY")" 1 "imported"
        http GET "/v1/prices/$2"
        want "$STATUS" 200 "the price is there"
    else
        want_has "$BODY" "larger than $(($1 - 1)) bytes" "message names the limit"
        [[ $before == "$(dump "$TMP/main.db")" ]] || WHY+=("the store changed")
    fi
    rm -f "$TMP/prices.json"
    verdict "$4"
}
import_case $((32 * MIB)) lim-daemon-at 200 "price import (daemon) at 33554432"
import_case $((32 * MIB + 1)) lim-daemon-past 413 "price import (daemon) past 33554433"
# without an admin token for the whole store, an import's body is read only up to the usual body
# limit: 1 MiB without a token, or with an agent's, is refused before it is read (anyone could
# make the daemon hold 32 MiB per connection)
raw pad "$TMP/prices.json" $MIB "$(printf "$PRICE" lim-anon)"
before=$(dump "$TMP/main.db")
ADMIN=none http POST /v1/prices/import -H 'Content-Type: application/json' --data-binary @"$TMP/prices.json"
want "$STATUS" 413 "no token: status"
want_has "$BODY" "larger than $((64 * 1024)) bytes" "message names the usual limit"
want_has "$BODY" "up to $((32 * MIB)) bytes with a whole-store admin token" "and what lifts it"
[[ $before == "$(dump "$TMP/main.db")" ]] || WHY+=("the store changed")
rm -f "$TMP/prices.json"
verdict "price import of 1 MiB without an admin token: refused before it is read"

stop_daemon "$MAIN_PID"
raw pad "$TMP/prices.json" $((64 * MIB)) "$(printf "$PRICE" lim-cli-at)"
out=$("$AB" --store "sqlite:$TMP/cli.db" price import "$TMP/prices.json" 2>&1)
want "$?" 0 "exit status"
want "$("$AB" --store "sqlite:$TMP/cli.db" price get lim-cli-at >/dev/null 2>&1; echo $?)" 0 \
    "the price is there"
verdict "price import (CLI) at 67108864"
raw pad "$TMP/prices.json" $((64 * MIB + 1)) "$(printf "$PRICE" lim-cli-past)"
before=$(dump "$TMP/cli.db")
out=$("$AB" --store "sqlite:$TMP/cli.db" price import "$TMP/prices.json" 2>&1)
want "$?" 2 "exit status"
want_has "$out" "is larger than 67108864 bytes" "message"
[[ $before == "$(dump "$TMP/cli.db")" ]] || WHY+=("the store changed")
verdict "price import (CLI) past 67108865"
rm -f "$TMP/prices.json"

# ==== 9. hook event on stdin: 64 MiB (a PostToolUse event carries the tool's whole output) ====
# A minimal event (Stop; no transcript) makes the session's budget claude-code/SESSION.
mkdir -p "$TMP/hook"
hook() # SESSION SIZE: runs the hook on an event padded to SIZE bytes; sets RC and OUT
{
    raw pad "$TMP/event.json" "$2" "{\"hook_event_name\":\"Stop\",\"session_id\":\"$1\"}"
    OUT=$(cd "$TMP/hook" &&
        "$AB" --store "sqlite:$TMP/hook.db" hook claude-code <"$TMP/event.json" 2>&1)
    RC=$?
}
hook lim-at $((64 * MIB))
want "$RC" 0 "exit status"
"$AB" --store "sqlite:$TMP/hook.db" status claude-code/lim-at >/dev/null 2>&1 ||
    WHY+=("no budget claude-code/lim-at: the event was not acted on ($OUT)")
verdict "hook stdin at 67108864"
before=$(dump "$TMP/hook.db")
hook lim-past $((64 * MIB + 1))
want "$RC" 2 "exit status"
want_has "$OUT" "more than 67108864 bytes on stdin" "message"
[[ $before == "$(dump "$TMP/hook.db")" ]] || WHY+=("the store changed")
verdict "hook stdin past 67108865"

# flag_past FLAG MAX: FLAG just past its range (MAX + 1 and 0) exits 2 naming it and creates no
# store
flag_past()
{
    local flag=$1 max=$2 n out
    for n in $((max + 1)) 0; do
        out=$("$ABD" --listen 127.0.0.1:1 --store "sqlite:$TMP/past-$n.db" "$flag" $n 2>&1 </dev/null)
        want "$?" 2 "exit status"
        want_has "$out" "$flag: '$n' is not a whole number from 1 to $max" "message"
        [[ ! -e $TMP/past-$n.db ]] || WHY+=("a store was created")
        verdict "${flag#--} past: $n"
    done
}

# ==== 10. read handles: --readers 1-64 ====
start_daemon_at readers "sqlite:$TMP/readers.db" --readers 64 || WHY+=("--readers 64 did not start")
verdict "readers at 64 (starts and serves)"
stop_daemon "$PID"
flag_past --readers 64
out=$(AGENTBUDGETD_READERS=65 "$ABD" --listen 127.0.0.1:1 --store memory: 2>&1 </dev/null)
want "$?" 2 "exit status"
want_has "$out" "AGENTBUDGETD_READERS: '65' is not a whole number from 1 to 64" "message"
verdict "readers past: AGENTBUDGETD_READERS=65"

# ==== 10b. HTTP threads: --threads 1-256 ====
for n in 256 1; do
    start_daemon_at "threads-$n" memory: --threads $n || WHY+=("--threads $n did not start")
    want "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$PORT/healthz")" \
        200 "GET /healthz"
    verdict "threads at $n (starts and serves)"
    stop_daemon "$PID"
done
flag_past --threads 256

# ==== 11. a daemon reply read by the CLI: 64 MiB (src/cli/remote.c) ====
# A stand-in daemon answers GET /v1/prices with {"prices":[]} padded to 64 MiB, then 64 MiB + 1.
rm -f "$TMP/serve.port"
# (python3 itself, not the function raw, so that $! is the server and the trap can stop it)
python3 "$TMP/raw.py" serve "$TMP/serve.port" $((64 * MIB)) $((64 * MIB + 1)) &
WATCH_PIDS+=("$!")
for ((i = 0; i < 100; i++)); do
    [[ -s $TMP/serve.port ]] && break
    sleep 0.05
done
FAKE="http://127.0.0.1:$(cat "$TMP/serve.port")"
out=$(AGENTBUDGET_TOKEN=abt_x "$AB" --url "$FAKE" price list 2>&1)
want "$?" 0 "exit status"
verdict "daemon reply read by the CLI at 67108864"
out=$(AGENTBUDGET_TOKEN=abt_x "$AB" --url "$FAKE" price list 2>&1)
want "$?" 3 "exit status"
want_has "$out" "the reply is too large" "message"
verdict "daemon reply read by the CLI past 67108865"

# ==== 12. metric series per family: 4,096 (src/daemon/metrics.c) ====
# Only the spend family (budget × model) can grow from outside; requests (route × status) and
# denials (metric/window) are bounded by the code. A real series labelled budget _other, model
# _other, then one budget charged under 4,095 models ($0.000001 each), then a 4,097th and a
# 4,098th: the charges are made, their spend goes to the series labelled _other (the real one:
# the label set is not shown twice) and is counted, so the family's sum stays whole; a known
# series still counts.
start_daemon_at series memory: || exit 1
r=$(raw series "$PORT" "$ADMIN" 4096)
want "$(jq -r '[.import, .budget, .charges_ok] | join(" ")' <<<"$r")" "200 201 4096" "setup"
want "$(jq -r .series_at <<<"$r")" 4096 "spend series"
want "$(jq -r .dropped_at <<<"$r")" 0 "dropped"
want "$(jq -r .other_at <<<"$r")" 0.000001 "the real _other series"
want "$(jq -r .nusd_at <<<"$r")" 4096000 "spend summed over the series (nUSD)"
verdict "metric series at 4096"
want "$(jq -r '.charge_past | join(" ")' <<<"$r")" "200 200 200" "the 4,097th, 4,098th and a known charge"
want "$(jq -r .series_past <<<"$r")" 4096 "spend series (_other once)"
want "$(jq -r .dropped_past <<<"$r")" 2 "dropped (taken by _other)"
want "$(jq -r .other_past <<<"$r")" 0.000003 "the _other series' spend"
want "$(jq -r .nusd_past <<<"$r")" 4099000 "spend summed over the series (nUSD)"
verdict "metric series past 4097 (in _other, counted)"

# ==== 12b. replies waiting for slow readers: --max-unsent-bytes (src/daemon/http.c) ====
# Clients that ask for a large reply and never read it made the daemon keep each (3.6 MB for an
# events page of 10,000; a thousand such clients, gigabytes). With the limit at its least, 1 MiB,
# and a budget list of about 5 MB (3,000 budgets): the first is made (one reply alone always
# is), the next ones get 503 while it waits; a small reply (a write's answer) is still made;
# once the reader is gone the list is served again.
start_daemon_at unsent memory: --max-unsent-bytes 1048576 || exit 1
r=$(raw unsent "$PORT" "$ADMIN" 3000 4)
want "$(jq -r '[.created, .list] | join(" ")' <<<"$r")" "3000 200" "setup"
want "$(jq -r '.list_bytes > 5000000' <<<"$r")" true "a list of more than 5 MB"
want "$(jq -r '.statuses | join(" ")' <<<"$r")" "200 503 503 503" "four unread lists"
want "$(jq -r .small_meanwhile <<<"$r")" 200 "a charge meanwhile"
want "$(jq -r .list_after <<<"$r")" 200 "the list once the readers are gone"
verdict "unsent replies past 1 MiB (large ones 503)"

# ==== 13. transcript files in one report: 1,000,000 (AB_TRANSCRIPT_FILES_MAX) ====
# A tree of 1,000,000 empty .jsonl files (in /dev/shm when it has the inodes: about 10 s to make)
# is reported (nothing in them: $0.00); one file more and the report stops with the limit named.
files_dir=$TMP
if [[ -w /dev/shm ]] && (($(df --output=iavail /dev/shm | tail -n 1) > 1100000)); then
    files_dir=$(mktemp -d /dev/shm/ab-limits.XXXXXX) && CLEANUP_DIRS+=("$files_dir")
fi
python3 -c '
import os, sys
d = os.path.join(sys.argv[1], "cfg", "projects", "p")
os.makedirs(d)
for i in range(1000000):
    os.close(os.open("%s/%d.jsonl" % (d, i), os.O_CREAT | os.O_WRONLY, 0o644))
' "$files_dir"
out=$("$AB" report daily "$files_dir/cfg" 2>&1)
want "$?" 0 "exit status"
want_has "$out" '$0.00' "the report"
verdict "transcript files in one report at 1000000"
: >"$files_dir/cfg/projects/p/extra.jsonl"
out=$("$AB" report daily "$files_dir/cfg" 2>&1)
want "$?" 3 "exit status"
want_has "$out" "more than 1000000 transcript files" "message"
verdict "transcript files in one report past 1000001"
rm -rf "$files_dir/cfg"

printf '{"test":"process_limits","checks":%d,"failed":%d,"seconds":%d}\n' \
    "$CHECKS" "$FAILED" $((SECONDS - T0))
[[ $FAILED == 0 ]]
