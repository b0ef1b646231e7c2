#!/usr/bin/env bash
# authz.sh — agentbudgetd's authorisation matrix: no, malformed, wrong, expired and revoked
# tokens (401); an agent token inside its scope (200), outside it (404, as if the budget did not
# exist, and nothing changes), on admin routes (403); admin tokens for the whole store and for a
# subtree. Then, on a daemon of its own, the throttle: 10 failed authentications for one token id
# from 127.0.0.1 make that id's next failure 429 with Retry-After, not another token's; 100 for any
# ids make every failure from the address 429; a right secret is served throughout.
# usage: authz.sh PATH-TO-agentbudgetd PATH-TO-agentbudget
source "$(dirname "$0")/lib.sh"

start_daemon main || exit 1
TOKEN=$ADMIN
for b in acme acme/a1 acme/a2; do
    jreq PUT "/v1/budgets/$b" '{"limits":["usd/day=10","tokens/session=100000"]}'
    [[ $STATUS == 201 ]] || { echo "error: setup: PUT $b: $STATUS $BODY" >&2; exit 1; }
done

# token SCOPE ROLE [EXPIRES_S] — creates a token with the admin token; prints its secret.
token()
{
    local extra=${3:+,\"expires_s\":$3}
    TOKEN=$ADMIN jreq POST /v1/tokens "{\"scope\":\"$1\",\"role\":\"$2\"$extra}"
    [[ $STATUS == 201 ]] || { echo "error: setup: POST /v1/tokens: $STATUS $BODY" >&2; return 1; }
    jq -r .secret <<<"$BODY"
}
A1=$(token acme/a1 agent) && A2=$(token acme/a2 agent) && SUB=$(token acme admin) || exit 1

# Holds of each agent, made by the admin.
hold()
{
    TOKEN=$ADMIN jreq POST /v1/reserve "{\"budget\":\"$1\",\"usage\":{\"input\":100,\"output\":100}}"
    jq -r .hold_id <<<"$BODY"
}
H2=$(hold acme/a2)

# ---- 401: no usable token (8 failures: the throttle's limit is 10 per minute) ----
TOKEN=
req GET /v1/budgets/acme/a1
expect_reply 401 '[.error.code, .error.field] | join(" ")' "unauthorized Authorization" "no token"
expect_eq "$(header WWW-Authenticate)" 'Bearer realm="agentbudgetd"' "a 401 says which scheme (RFC 9110)"
jreq POST /v1/check '{"budget":"acme/a1","tokens":1}'
expect_reply 401 .error.code unauthorized "no token on POST /v1/check"
req GET /v1/budgets/acme/a1 -H "Authorization: Basic YWRtaW46YWRtaW4="
expect_reply 401 .error.code unauthorized "a Basic credential instead of a bearer token"
# an open route with another method: 405 and its Allow, as with a token (it was 401, as if a
# token would make POST /healthz work); no failure counted, and nothing else is opened
req POST /healthz
expect_reply 405 .error.code method_not_allowed "POST /healthz without a token: 405"
expect_eq "$(header Allow)" "GET, HEAD" "with Allow: GET, HEAD"
req DELETE /
expect_reply 405 .error.code method_not_allowed "DELETE / without a token: 405"
req POST /healthzx
expect_reply 401 .error.code unauthorized "a path that only begins like an open one still needs a token"
TOKEN=not-a-token
req GET /v1/budgets/acme/a1
expect_reply 401 .error.message "unknown or invalid token" "a malformed token"
TOKEN="${ADMIN%?}$([[ ${ADMIN: -1} == 0 ]] && echo 1 || echo 0)" # one hex digit changed
req GET /v1/budgets/acme/a1
expect_reply 401 .error.message "unknown or invalid token" "a wrong secret for an existing token id"

EXP=$(token acme/a1 agent 1) || exit 1
TOKEN=$EXP
req GET /v1/budgets/acme/a1
expect_reply 200 .agent_id acme/a1 "a token with expires_s 1 works at first"
sleep 2
req GET /v1/budgets/acme/a1
expect_reply 401 '.error.message | test("^token t_[0-9a-f]{16} has expired$")' true "2 s later it has expired"

REV=$(token acme/a1 agent) || exit 1
TOKEN=$REV
req GET /v1/budgets/acme/a1
expect_reply 200 .agent_id acme/a1 "a token about to be revoked works"
TOKEN=$ADMIN req DELETE "/v1/tokens/t_${REV:4:16}"
expect_status 200 "DELETE /v1/tokens/{id}"
TOKEN=$REV
req GET /v1/budgets/acme/a1
expect_reply 401 '.error.message | test("^token t_[0-9a-f]{16} is revoked$")' true "the revoked token, at once"

# ---- an agent token inside its scope ----
TOKEN=$A1
req GET /v1/budgets/acme/a1
expect_reply 200 .agent_id acme/a1 "agent: status of its budget"
jreq POST /v1/check '{"budget":"acme/a1","tokens":1000}'
expect_reply 200 .allowed true "agent: check in scope"
jreq POST /v1/reserve '{"budget":"acme/a1","usage":{"input":100,"output":100}}'
expect_reply 200 .allowed true "agent: reserve in scope"
H1=$(jq -r .hold_id <<<"$BODY")
req GET "/v1/holds/$H1"
expect_reply 200 .state open "agent: GET its own hold"
jreq POST "/v1/holds/$H1/commit" '{"usage":{"input":50,"output":50}}'
expect_reply 200 .hold_id "$H1" "agent: commit its own hold"
jreq POST /v1/charge '{"budget":"acme/a1","usage":{"input":10000,"output":30000}}'
expect_reply 200 .cost_nusd 480000000 "agent: charge in scope"
# no window reset, not even the session's: the holder of the Claude Code hook's agent token (the
# session's tools run with it) lifted its own usd/session limit with it
BEFORE=$(dump)
jreq POST /v1/reset '{"budget":"acme/a1","windows":["session"]}'
expect_reply 403 .error.message "resetting a window needs an admin token (an agent would lift its own session limit)" "agent: reset the session of its budget"
expect_eq "$(dump)" "$BEFORE" "agent: the refused reset changed nothing"
req GET /v1/budgets
expect_reply 200 '[.budgets[].agent_id] | join(",")' acme/a1 "agent: GET /v1/budgets is narrowed to its scope"
req GET "/v1/budgets?prefix=acme"
expect_reply 200 '[.budgets[].agent_id] | join(",")' acme/a1 "agent: a wider prefix is narrowed too"
req GET /v1/events
expect_reply 200 '[.events[].budget] | unique | join(",")' acme/a1 "agent: events of its scope only"
jreq POST /v1/permissions/check '{"budget":"acme/a1","operation":"read"}'
expect_reply 200 .allowed true "agent: permissions/check in scope"

# ---- an agent token outside its scope: 404, and the store unchanged ----
BEFORE=$(dump)
req GET /v1/budgets/acme/a2
expect_reply 404 .error.message "no budget 'acme/a2'" "agent: status of another budget"
req GET /v1/budgets/acme
expect_reply 404 .error.code not_found "agent: status of its parent"
jreq POST /v1/check '{"budget":"acme/a2","tokens":1}'
expect_reply 404 .error.code not_found "agent: check of another budget"
jreq POST /v1/reserve '{"budget":"acme/a2","usage":{"input":1,"output":1}}'
expect_reply 404 .error.code not_found "agent: reserve on another budget"
jreq POST /v1/charge '{"budget":"acme/a2","usage":{"input":1,"output":1}}'
expect_reply 404 .error.code not_found "agent: charge to another budget"
jreq POST /v1/charge '{"budget":"acme","usage":{"input":1,"output":1}}'
expect_reply 404 .error.code not_found "agent: charge to its parent"
jreq POST /v1/reset '{"budget":"acme/a2","windows":["session"]}'
expect_reply 404 .error.code not_found "agent: reset of another budget"
jreq POST /v1/permissions/check '{"budget":"acme/a2","operation":"read"}'
expect_reply 404 .error.code not_found "agent: permissions/check of another budget"
req GET "/v1/holds/$H2"
expect_reply 404 .error.message "no hold '$H2'" "agent: GET another agent's hold"
jreq POST "/v1/holds/$H2/commit" '{"usage":{"input":1,"output":1}}'
expect_reply 404 .error.message "no hold '$H2'" "agent: commit another agent's hold"
req POST "/v1/holds/$H2/release"
expect_reply 404 .error.message "no hold '$H2'" "agent: release another agent's hold"
req GET "/v1/events?budget=acme/a2"
expect_reply 404 .error.code not_found "agent: events of another budget"
# outside the scope reads byte for byte as not there (an ab_code on one of them told them apart)
req GET /v1/budgets/acme/a2
other=$(jq -c 'del(.error.message)' <<<"$BODY")
req GET /v1/budgets/acme/a1/none
expect_eq "$(jq -c 'del(.error.message)' <<<"$BODY")" "$other" "another's budget answers as a missing one"
req GET "/v1/holds/$H2"
other=$(jq -c 'del(.error.message)' <<<"$BODY")
req GET "/v1/holds/h_00000000000000000000000000000000"
expect_eq "$(jq -c 'del(.error.message)' <<<"$BODY")" "$other" "another's hold answers as a missing one"
expect_eq "$(dump)" "$BEFORE" "requests outside the scope changed nothing in the store"
TOKEN=$ADMIN req GET "/v1/holds/$H2"
expect_reply 200 .state open "the other agent's hold is still open"

# ---- an agent token on admin routes: 403, and the store unchanged ----
TOKEN=$A1
BEFORE=$(dump)
jreq PUT /v1/budgets/acme/a1 '{"limits":["usd/day=1000"]}'
expect_reply 403 .error.code forbidden "agent: PUT its own budget"
jreq PUT /v1/budgets/acme/a1/sub '{"limits":["usd/day=1000"]}'
expect_reply 403 .error.code forbidden "agent: PUT a budget under its scope with limits"
jreq PUT /v1/budgets/acme/a1/sub '{"role":"r","model":"claude-haiku-4-5"}'
expect_reply 403 .error.code forbidden "agent: PUT a budget under its scope with a model"
req DELETE /v1/budgets/acme/a1
expect_reply 403 .error.code forbidden "agent: DELETE its budget"
jreq POST /v1/reset '{"budget":"acme/a1","windows":["day"]}'
expect_reply 403 .error.code forbidden "agent: reset the day window"
jreq PUT /v1/prices/my-model '{"input":"1","output":"2"}'
expect_reply 403 .error.code forbidden "agent: PUT a price"
req DELETE /v1/prices/claude-sonnet-4-5
expect_reply 403 .error.code forbidden "agent: DELETE a price"
req POST /v1/prices/import -H 'Content-Type: application/json' --data-binary '{}'
expect_reply 403 .error.code forbidden "agent: import prices"
jreq PUT /v1/roles/cheap '{"limits":["usd/day=1"]}'
expect_reply 403 .error.code forbidden "agent: PUT a role"
req DELETE /v1/roles/cheap
expect_reply 403 .error.code forbidden "agent: DELETE a role"
jreq POST /v1/tokens '{"scope":"acme/a1","role":"agent"}'
expect_reply 403 .error.code forbidden "agent: POST a token"
req GET /v1/tokens
expect_reply 403 .error.code forbidden "agent: GET the tokens"
req DELETE "/v1/tokens/t_${A2:4:16}"
expect_reply 403 .error.code forbidden "agent: revoke a token"
expect_eq "$(dump)" "$BEFORE" "refused admin requests changed nothing in the store"
TOKEN=$A2
req GET /v1/budgets/acme/a2
expect_reply 200 .agent_id acme/a2 "the other agent's token still works"


# ---- an agent token may create a budget under its scope, with a role only, and change none ----
# (the Claude Code hook's session budgets, without an admin token the session could raise its
# own limits with)
TOKEN=$A1
jreq PUT /v1/budgets/acme/a1/s1 '{"role":"coder"}'
expect_reply 201 '[.agent_id, .role] | join(" ")' "acme/a1/s1 coder" "agent: create a budget under its scope with a role"
jreq PUT /v1/budgets/acme/a1/s1 '{"role":"other"}'
expect_reply 403 .error.code forbidden "agent: PUT it again (a change)"
jreq PUT /v1/budgets/acme/a1/s1 '{"role":"coder"}'
expect_reply 200 .role coder "agent: PUT it again as made (a retry, or two hooks racing): 200"
jreq PUT /v1/budgets/acme/a1/s2 '{"role":"coder"}' -H 'Idempotency-Key: mk-s2'
expect_reply 201 .role coder "agent: create with a key"
jreq PUT /v1/budgets/acme/a1/s2 '{"role":"coder"}' -H 'Idempotency-Key: mk-s2'
expect_reply 201 .role coder "agent: the retry with its key: the first answer, 201"
TOKEN=$ADMIN req GET /v1/budgets/acme/a1/s1
expect_reply 200 .role coder "and its role is unchanged"
TOKEN=$A1 jreq PUT /v1/budgets/acme/a2/s1 '{"role":"coder"}'
expect_reply 403 .error.code forbidden "agent: create under another's scope: an admin route (leaks nothing)"
TOKEN=$A1 jreq POST /v1/charge '{"budget":"acme/a1/s1","usage":{"input":100,"output":10}}'
expect_reply 200 .allowed true "agent: charge its new budget"
# ... and a role that does not widen the tool and model lists of the budget above: that budget's
# own role, or any role when that role has no lists (acme/a1's "default", never defined, above).
# Else an agent whose role denies a tool could make a child whose role allows it, and run its
# subagents there.
TOKEN=$ADMIN jreq PUT /v1/roles/narrow '{"allow_tools":["Read"]}'
expect_status 200 "setup: the role narrow allows Read only"
TOKEN=$ADMIN jreq PUT /v1/roles/wide '{"limits":["usd/day=1"]}'
expect_status 200 "setup: the role wide has no lists (every tool)"
TOKEN=$ADMIN jreq PUT /v1/budgets/acme/n '{"role":"narrow","limits":["usd/day=10"]}'
expect_status 201 "setup: acme/n has the role narrow"
AN=$(token acme/n agent) || exit 1
TOKEN=$AN
BEFORE=$(dump)
jreq PUT /v1/budgets/acme/n/s1 '{"role":"wide"}'
expect_reply 403 '[.error.code, .error.field] | join(" ")' "forbidden role" "agent: create with a role wider than its parent's"
expect_has "$(jq -r .error.message <<<"$BODY")" "only the role of the nearest budget above it ('narrow')" "the 403 names the rule and the role it may give"
jreq PUT /v1/budgets/acme/n/s1 '{"role":"ghost"}'
expect_reply 403 .error.field role "agent: create with a role never defined (no lists: every tool)"
jreq PUT /v1/budgets/acme/n/s1 '{}'
expect_reply 403 .error.field role "agent: create with no role (the role default, no lists here)"
expect_eq "$(dump)" "$BEFORE" "the refused creates changed nothing"
jreq PUT /v1/budgets/acme/n/s1 '{"role":"narrow"}'
expect_reply 201 .role narrow "agent: create with its parent's own role"
jreq PUT /v1/budgets/acme/n/s1/sub '{"role":"wide"}'
expect_reply 403 .error.field role "agent: nor wider under the budget it made"
jreq PUT /v1/budgets/acme/n/x/y '{"role":"wide"}'
expect_reply 403 .error.field role "agent: the nearest budget that exists decides (acme/n for acme/n/x/y)"
AD=$(token acme/n/deep agent) || exit 1
TOKEN=$AD jreq PUT /v1/budgets/acme/n/deep/s '{"role":"wide"}'
expect_reply 403 .error.field role "agent: the nearest budget above decides even outside its scope (acme/n for a token scoped to acme/n/deep)"
expect_eq "$(jq -r .error.message <<<"$BODY" | grep -c narrow)" 0 "and the 403 does not name that budget's role (outside the token's scope)"
TOKEN=$ADMIN jreq PUT /v1/budgets/acme/n/s2 '{"role":"wide"}'
expect_reply 201 .role wide "an admin token may give any role"
TOKEN=$A1 jreq PUT /v1/budgets/acme/a1/s3 '{"role":"narrow"}'
expect_reply 201 .role narrow "agent: under a parent whose role has no lists, any role (narrower)"
TOKEN=$A1 jreq PUT /v1/budgets/acme/a1/s3/t '{"role":"wide"}'
expect_reply 403 .error.field role "agent: but not wider than that new budget's role"
# ---- metrics name every budget: not for agent tokens, nor for admins of a subtree ----
TOKEN=$A1
req GET /metrics
expect_reply 403 .error.code forbidden "an agent token may not read /metrics"
TOKEN=$SUB
req GET /metrics
expect_reply 403 .error.code forbidden "nor an admin token of part of the store (metrics name every budget)"
TOKEN=$ADMIN
req GET /metrics
expect_status 200 "the admin token may"

# ---- idempotency keys are each token's own: two agents may both use "call-1" ----
TOKEN=$A1
req POST /v1/charge -H "Content-Type: application/json" -H "Idempotency-Key: call-1" \
    -d '{"budget":"acme/a1","usage":{"input":1000}}'
expect_reply 200 .replayed false "agent a1 uses the key call-1"
TOKEN=$A2
req POST /v1/charge -H "Content-Type: application/json" -H "Idempotency-Key: call-1" \
    -d '{"budget":"acme/a2","usage":{"input":2000}}'
expect_reply 200 .replayed false "agent a2 uses call-1 too: its own key, not a conflict"
TOKEN=$A1
req POST /v1/charge -H "Content-Type: application/json" -H "Idempotency-Key: call-1" \
    -d '{"budget":"acme/a1","usage":{"input":1000}}'
expect_reply 200 .replayed true "a1 repeating call-1 gets its first answer"

# ---- an admin token for a subtree ----
TOKEN=$SUB
jreq PUT /v1/budgets/acme/a3 '{}'
expect_reply 201 .agent_id acme/a3 "subtree admin: PUT a budget in its subtree"
req GET /v1/budgets/acme/a2
expect_reply 200 .agent_id acme/a2 "subtree admin: status in its subtree"
jreq PUT /v1/budgets/other '{}'
expect_reply 403 .error.code forbidden "subtree admin: PUT outside its subtree"
req GET /v1/budgets/other
expect_reply 404 .error.code not_found "subtree admin: status outside its subtree"
jreq PUT /v1/prices/my-model '{"input":"1","output":"2"}'
expect_reply 403 .error.code forbidden "subtree admin: prices need the whole store"
jreq POST /v1/tokens '{"scope":"acme/a3","role":"agent"}'
expect_reply 403 .error.code forbidden "subtree admin: tokens need the whole store"
# its scope's own budget is set from above: it may not raise the team's limits, reset the team's
# day or delete the team, and nothing changes; spending and a session reset stay an agent's rights
BEFORE=$(dump)
jreq PUT /v1/budgets/acme '{"limits":["usd/day=1000"]}'
expect_reply 403 .error.message "an admin token scoped to 'acme' changes the budgets under it, not 'acme' itself: that needs an admin token whose scope is wider" "subtree admin: PUT its own scope's budget"
jreq POST /v1/reset '{"budget":"acme","windows":["day"]}'
expect_reply 403 .error.code forbidden "subtree admin: reset its own scope's day"
req DELETE /v1/budgets/acme
expect_reply 403 .error.code forbidden "subtree admin: DELETE its own scope's budget"
expect_eq "$(dump)" "$BEFORE" "the refused requests on the scope's own budget changed nothing"
jreq PUT /v1/budgets/acme/a2 '{"limits":["usd/day=5"]}'
expect_reply 200 .daily_cost_limit_nusd 5000000000 "subtree admin: PUT a budget under its scope"
jreq POST /v1/reset '{"budget":"acme","windows":["session"]}'
expect_status 200 "subtree admin: reset its own scope's session"

# ---- the admin token for the whole store ----
TOKEN=$ADMIN
jreq PUT /v1/budgets/acme/a1 '{"limits":["usd/day=20"]}'
expect_reply 200 .daily_cost_limit_nusd 20000000000 "admin: PUT a budget"
jreq PUT /v1/prices/my-model '{"input":"1","output":"2"}'
expect_reply 200 .model my-model "admin: PUT a price"
jreq PUT /v1/roles/cheap '{"limits":["usd/day=1"]}'
expect_reply 200 .name cheap "admin: PUT a role"
jreq POST /v1/tokens '{"scope":"acme/a1","role":"agent"}'
expect_reply 201 .scope acme/a1 "admin: POST a token"
req GET /v1/tokens
expect_reply 200 '.tokens | length' 9 "admin: GET the tokens"
jreq POST /v1/reset '{"budget":"acme/a1","windows":["day","month"]}'
expect_reply 200 .daily_cost_used_nusd 0 "admin: reset the day and month windows"
req GET /v1/budgets/acme/a2
expect_reply 200 .agent_id acme/a2 "admin: status of any budget"
jreq POST /v1/check '{"budget":"acme/a2","tokens":1}'
expect_reply 200 .allowed true "admin: check any budget"

# ---- the throttle, on a daemon of its own ----
# Per address and token id: 10 failures for one id make that id's next failures 429, while another
# token from the same address is served. Per address, 100 failures over any ids make every
# failure from it 429. A right secret is always served.
start_daemon throttle || exit 1
GOOD=$ADMIN
OTHER=$(token "" agent) || exit 1
ZEROS=0000000000000000000000000000000000000000000000000000000000000000
TOKEN=${ADMIN%_*}_$ZEROS # the admin token's id, a wrong secret
FAILS=
for ((i = 1; i <= 10; i++)); do
    req GET /v1/budgets
    FAILS+="$STATUS "
done
expect_eq "$FAILS" "401 401 401 401 401 401 401 401 401 401 " "10 failed authentications: each 401"
req GET /v1/budgets
expect_reply 429 .error.code too_many_requests "the 11th with that token id: 429"
RA=$(header Retry-After)
if [[ $RA =~ ^[0-9]+$ ]] && ((RA >= 1 && RA <= 60)); then ok "with Retry-After: $RA (1-60 s)"; else
    not_ok "with Retry-After (1-60 s)" "Retry-After: '$RA'" "headers: $HDRS"; fi
TOKEN=$GOOD
req GET /v1/budgets
expect_status 200 "the right secret of that token id is served: failures made with its id (ids are no secret) do not shut it out"
TOKEN=$OTHER
req GET /v1/budgets/acme
expect_status 404 "another token from the same address is served (an agent: 404 outside its scope)"
TOKEN=
req GET /healthz
expect_reply 200 .status ok "open routes are not throttled"
# 90 more failures, each for an id of its own (each id 1 failure): 100 from the address in all
FAILS=0
for ((i = 1; i <= 90; i++)); do
    TOKEN=$(printf 'abt_%016x_%s' "$i" "$ZEROS")
    req GET /v1/budgets
    [[ $STATUS == 401 ]] && FAILS=$((FAILS + 1))
done
expect_eq "$FAILS" 90 "90 more failures, a token id each: each 401"
TOKEN=$(printf 'abt_%016x_%s' 1000 "$ZEROS")
req GET /v1/budgets
expect_reply 429 .error.code too_many_requests "then a new token id from the address: 429"
TOKEN=$(printf 'abt_%016x_%s' 1001 "$ZEROS")
req GET /v1/budgets
expect_reply 429 .error.code too_many_requests "and every other failing one from the address"
TOKEN=$OTHER
req GET /v1/budgets/acme
expect_status 404 "while a right secret from the address is still served (an agent: 404 outside its scope)"

finish
