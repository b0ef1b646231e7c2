#!/usr/bin/env bash
# bad_requests.sh — sends every request of bad_requests.txt to one agentbudgetd (admin token) and
# wants, for each: the status of the table, an error JSON {"error":{"code","message"[,"field"]}}
# naming the field (or the text of the table), an Allow header on a 405, and the store exactly as
# it was (sqlite3 .dump before and after: bad requests and reads write nothing). Then a slow
# client (half a request, stalled past --timeout 2) and a check that the daemon still answers.
# usage: bad_requests.sh PATH-TO-agentbudgetd PATH-TO-agentbudget [bad_requests.txt]
source "$(dirname "$0")/lib.sh"
TABLE=${3:-$(dirname "$0")/bad_requests.txt}
[[ -r "$TABLE" ]] || { echo "error: cannot read '$TABLE'" >&2; exit 2; }
set -f # the table's words are data: no globbing

start_daemon main --timeout 2 || exit 1
TOKEN=$ADMIN

# setup: budgets acme and acme/a1, a charge, an open hold and a committed one
setup_ok=1
jreq PUT /v1/budgets/acme '{"limits":["usd/month=100"]}' && [[ $STATUS == 201 ]] || setup_ok=0
jreq PUT /v1/budgets/acme/a1 '{"limits":["usd/day=10","tokens/session=100000"]}' && [[ $STATUS == 201 ]] || setup_ok=0
jreq POST /v1/charge '{"budget":"acme/a1","usage":{"input":10000,"output":30000}}' && [[ $STATUS == 200 ]] || setup_ok=0
jreq POST /v1/reserve '{"budget":"acme/a1","usage":{"input":1000,"output":2000}}' && [[ $STATUS == 200 ]] || setup_ok=0
HOLD=$(jq -r .hold_id <<<"$BODY")
jreq POST /v1/reserve '{"budget":"acme/a1","usage":{"input":1000,"output":2000}}' && [[ $STATUS == 200 ]] || setup_ok=0
DONE=$(jq -r .hold_id <<<"$BODY")
jreq POST "/v1/holds/$DONE/commit" '{"usage":{"input":10,"output":20}}' && [[ $STATUS == 200 ]] || setup_ok=0
if [[ $setup_ok != 1 || $HOLD != h_* || $DONE != h_* ]]; then
    echo "error: setup failed: $STATUS $BODY" >&2
    exit 1
fi

# expand TEXT — {{c*N}} → c repeated N times, {{HOLD}} and {{DONE}} → the hold ids.
expand()
{
    local s=$1 re='\{\{(.)\*([0-9]+)\}\}' rep
    while [[ "$s" =~ $re ]]; do
        printf -v rep '%*s' "${BASH_REMATCH[2]}" ''
        s=${s/"${BASH_REMATCH[0]}"/${rep// /${BASH_REMATCH[1]}}}
    done
    s=${s//'{{HOLD}}'/$HOLD}
    s=${s//'{{DONE}}'/$DONE}
    printf '%s' "$s"
}

trim()
{
    local s=$1
    s=${s#"${s%%[![:space:]]*}"}
    s=${s%"${s##*[![:space:]]}"}
    printf '%s' "$s"
}

# check_row STATUS TEXT METHOD PATH HEADERS BODY — one case; REASONS gets why it failed, if it did.
check_row()
{
    local want=$1 text=$2 method=$3 path=$4 hdrs=$5 body=$6 before after h
    local args=()
    if [[ $hdrs != - ]]; then
        local rest=$hdrs item
        while [[ -n $rest ]]; do
            item=$(trim "${rest%%;;*}")
            [[ $rest == *";;"* ]] && rest=${rest#*;;} || rest=
            [[ $item == json ]] && item="Content-Type: application/json"
            args+=(-H "$item")
        done
    fi
    if [[ -n $body ]]; then
        printf '%s' "$body" >"$TMP/reqbody"
        args+=(--data-binary "@$TMP/reqbody")
    fi
    before=$(dump)
    req "$method" "$path" "${args[@]}"
    after=$(dump)
    [[ $STATUS == "$want" ]] || REASONS+=("expected status $want, got $STATUS")
    if [[ $text == - ]]; then # not the daemon's answer: it must still be alive
        local health
        health=$(curl -s --max-time 5 "$URL/healthz" | jq -r .status 2>/dev/null)
        [[ $health == ok ]] || REASONS+=("the daemon no longer answers /healthz")
    else
        [[ $(header Content-Type) == application/json ]] ||
            REASONS+=("Content-Type is '$(header Content-Type)', not application/json")
        if ! jq -e '(keys == ["error"]) and (.error | type == "object")
                and (.error.code | type == "string" and length > 0)
                and (.error.message | type == "string" and length > 0)
                and ((.error | keys) - ["code", "field", "message", "ab_code"] == [])
                and ((.error.field // "") | type == "string")
                and ((.error.ab_code // "EOK") | test("^E[A-Z]+$"))' <<<"$BODY" >/dev/null 2>&1; then
            REASONS+=("not an error JSON {\"error\":{\"code\",\"message\"[,\"field\"][,\"ab_code\"]}}")
        elif ! jq -e --arg t "$text" '((.error.field // "") | contains($t)) or (.error.message | contains($t))' \
            <<<"$BODY" >/dev/null; then
            REASONS+=("neither error.field nor error.message contains '$text'")
        fi
        if [[ $want == 405 ]]; then
            h=$(header Allow)
            [[ -n $h && $h == "${text#allowed: }" ]] || REASONS+=("Allow header is '$h', expected '${text#allowed: }'")
        fi
    fi
    [[ $before == "$after" ]] ||
        REASONS+=("the store changed: $(diff <(echo "$before") <(echo "$after") | head -5 | tr '\n' ' ')")
}

ROWS=0
while IFS= read -r line || [[ -n $line ]]; do
    [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
    IFS='|' read -r c_status c_text c_req c_hdrs _ <<<"$line"
    c_body=${line#*|*|*|*|} # everything after the fourth '|'
    c_status=$(trim "$c_status")
    c_text=$(trim "$c_text")
    c_req=$(trim "$c_req")
    c_hdrs=$(expand "$(trim "$c_hdrs")")
    c_body=$(expand "$(trim "$c_body")")
    method=${c_req%% *}
    path=$(expand "${c_req#* }")
    ROWS=$((ROWS + 1))
    what="$method ${path:0:60} ${c_body:0:70} -> $c_status $c_text"
    REASONS=()
    check_row "$c_status" "$c_text" "$method" "$path" "$c_hdrs" "$c_body"
    if ((${#REASONS[@]} == 0)); then
        ok "$what"
    else
        not_ok "$what" "${REASONS[@]}" "body: ${BODY:0:300}"
    fi
done <"$TABLE"
if ((ROWS >= 30)); then ok "the table has $ROWS bad requests (at least 30)"; else
    not_ok "the table has at least 30 bad requests" "it has $ROWS"; fi

# ---- framing that a proxy in front could read otherwise: answered at once, connection closed ----
# raw HEAD-AND-BODY (\r\n written as such): prints each reply's status line and body, one per
# line, after the daemon closes the connection (or 5 s)
raw()
{
    python3 - "${URL##*:}" "$1" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin1"))
s.settimeout(5)
out = b""
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
except socket.timeout:
    out += b"\nTIMEOUT"
for r in out.split(b"HTTP/1.1 ")[1:]:
    head, _, body = r.partition(b"\r\n\r\n")
    print(head.split(b"\r\n")[0].decode(), body.decode("latin1"))
PY
}
BEFORE=$(dump)
charge='{"budget":"acme/a1","usage":{"input":777,"output":0}}'
smuggled="POST /v1/charge HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer $ADMIN\r\nContent-Type: application/json\r\nContent-Length: ${#charge}\r\n\r\n$charge"
first='{"a":1}'
head="POST /v1/check HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer $ADMIN\r\nContent-Type: application/json"
body="$first$smuggled"
whole=$(printf '%b' "$body" | wc -c) # the bytes, \r\n as two
got=$(raw "$head\r\nContent-Length: ${#first}\r\nContent-Length: $whole\r\n\r\n$body")
expect_eq "$(wc -l <<<"$got") $(head -c 15 <<<"$got")" "1 400 Bad Request" "two Content-Length headers: one 400, the rest unread"
expect_has "$got" '"field":"Content-Length"' "it names Content-Length"
got=$(raw "$head\r\nContent-Length: 7\r\nTransfer-Encoding: chunked\r\n\r\n7\r\n$first\r\n0\r\n\r\n")
expect_has "$got" 'Transfer-Encoding and Content-Length: give one' "Content-Length beside Transfer-Encoding: 400"
got=$(raw "$head\r\nTransfer-Encoding: gzip\r\n\r\n$first")
expect_has "$got" "must end in chunked" "Transfer-Encoding: gzip: 400 at once (it waited 30 s for nothing)"
got=$(raw "$head\r\nTransfer-Encoding: chunked \r\n\r\n7\r\n$first\r\n0\r\n\r\n")
expect_has "$got" "must end in chunked" "Transfer-Encoding: 'chunked ': 400 (libmicrohttpd waited for a body)"
got=$(raw "$head\r\nTransfer-Encoding: gzip, chunked\r\n\r\n7\r\n$first\r\n0\r\n\r\n")
expect_eq "$(head -c 20 <<<"$got")" "501 Not Implemented " "Transfer-Encoding: gzip, chunked: 501"
for spaced in "Transfer-Encoding : chunked" "Content-Length : 7"; do
    got=$(raw "$head\r\n$spaced\r\nContent-Length: ${#first}\r\n\r\n$first")
    expect_has "$got" "header name with white space" "'$spaced': 400 (a proxy may read the header as its own)"
done
got=$(raw "$head\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
expect_has "$got" 'Transfer-Encoding: given twice' "Transfer-Encoding twice: 400"
got=$(raw "$head\r\nContent-Encoding: gzip\r\nContent-Length: ${#first}\r\n\r\n$first")
expect_has "$got" '"field":"Content-Encoding"' "Content-Encoding: gzip: 415 naming it"
for twice in "Authorization: Bearer $ADMIN" "Content-Type: application/json" "Idempotency-Key: k1"; do
    got=$(raw "$head\r\n$twice\r\nIdempotency-Key: k2\r\nContent-Length: ${#first}\r\n\r\n$first")
    [[ $twice == Idem* ]] || got=$(raw "$head\r\n$twice\r\nContent-Length: ${#first}\r\n\r\n$first")
    expect_has "$got" "\"message\":\"${twice%%:*}: given twice\"" "${twice%%:*} twice: 400 (not the first one silently)"
done
expect_eq "$(dump)" "$BEFORE" "the refused framings changed nothing (the smuggled charge was not made)"
got=$(raw "$head\r\nTransfer-Encoding: Chunked\r\n\r\n7\r\n{\"a\":1}\r\n0\r\n\r\n")
expect_has "$got" "unknown field 'a'" "a chunked body alone is read as before"

# ---- a Content-Length that is not a number: libmicrohttpd answers before the daemon sees the
# request (docs/limits.md says what a client gets: its own HTML page, not JSON), and nothing is
# done; a number past 64 bits the same as 413; the daemon's own 413 from 2^64-1 down ----
BEFORE=$(dump)
chead="POST /v1/charge HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer $ADMIN\r\nContent-Type: application/json\r\n" # a charge's head but its Content-Length
for cl in abc -1 1e3 +77 0x4d 77abc "77," "77, 77" "" "77 "; do
    got=$(raw "${chead}Content-Length: $cl\r\n\r\n$charge")
    expect_eq "$(head -c 16 <<<"$got")" "400 Bad Request " "Content-Length: '$cl': 400 (libmicrohttpd's page)"
    expect_has "$got" "wrong value for <b>Content-Length</b>" "and the connection closed after it, no JSON ('$cl')"
done
got=$(raw "${chead}Content-Length: 18446744073709551616\r\n\r\n$charge")
expect_has "$got" "413 Content Too Large <html>" "Content-Length: 2^64: libmicrohttpd's 413 page"
got=$(raw "${chead}Content-Length: 18446744073709551615\r\n\r\n$charge")
expect_has "$got" '"code":"payload_too_large"' "Content-Length: 2^64-1: the daemon's JSON 413"
expect_eq "$(dump)" "$BEFORE" "no malformed Content-Length charged anything"
got=$(raw "${chead}Content-Length: 00${#charge}\r\nConnection: close\r\n\r\n$charge")
expect_has "$got" '"allowed":true' "Content-Length with leading zeros is a number: the charge is made"

# ---- Expect: 100-continue: the token is checked before the body is asked for ----
BEFORE=$(dump)
expecting="POST /v1/charge HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: ${#charge}"
got=$(raw "$expecting\r\n\r\n")
expect_eq "$(head -c 17 <<<"$got")" "401 Unauthorized " "Expect: 100-continue without a token: 401 at once, no 100 (it asked for the body first)"
expect_eq "$(wc -l <<<"$got")" 1 "one reply, and the connection closed: $(tr '\n' ' ' <<<"${got:0:80}")"
got=$(raw "$expecting\r\nAuthorization: Bearer abt_0000000000000000_nope\r\n\r\n")
expect_eq "$(head -c 17 <<<"$got")" "401 Unauthorized " "Expect: 100-continue with a wrong token: 401 at once"
got=$(raw "$expecting\r\nAuthorization: Bearer $ADMIN\r\n\r\n")
expect_eq "$(head -c 13 <<<"$got")" "100 Continue " "Expect: 100-continue with the admin token: 100, the body asked for"
expect_eq "$(dump)" "$BEFORE" "no body came: nothing charged"
got=$(raw "$expecting\r\nAuthorization: Bearer $ADMIN\r\n\r\n$charge")
expect_has "$got" '"allowed":true' "and with the body sent after the 100, the charge is answered"

# ---- a slow client: half a request, then silence past --timeout 2 ----
BEFORE=$(dump)
PORT=${URL##*:}
if exec 3<>"/dev/tcp/127.0.0.1/$PORT"; then
    printf 'POST /v1/charge HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 80\r\n\r\n{"budget":"acme/a1",' "$ADMIN" >&3
    req GET /healthz
    expect_reply 200 .status ok "while a client stalls mid-body, /healthz answers"
    read -r -t 1 -u 3 got
    rc=$?
    if ((rc > 128)); then ok "1 s into the stall the connection is still open"; else
        not_ok "1 s into the stall the connection is still open" "read returned $rc: '$got'"; fi
    sleep 2.5
    got=$(timeout 3 cat <&3)
    rc=$?
    if [[ $rc == 0 ]]; then ok "past --timeout 2 the daemon closed it (${#got} bytes sent back)"; else
        not_ok "past --timeout 2 the daemon closed it" "still open after 5.5 s (timeout: $rc)" "got: ${got:0:200}"; fi
    exec 3<&-
    exec 3>&-
else
    not_ok "connect to 127.0.0.1:$PORT with /dev/tcp"
fi
req GET /healthz
expect_reply 200 .status ok "after the slow client the daemon answers /healthz"
expect_eq "$(dump)" "$BEFORE" "the half charge changed nothing in the store"
if kill -0 "$PID" 2>/dev/null; then ok "the daemon is still running"; else not_ok "the daemon is still running"; fi

finish
