#!/usr/bin/env bash
# routes.sh — every route of agentbudgetd's table, end to end with the bootstrap admin token:
# budgets, check, reserve/holds/commit/release, charge, reset, events (filters and paging),
# prices (with a LiteLLM import), roles, tokens, permissions, health, dashboard, metrics, and the
# Idempotency-Key header. Exact values throughout (money as the daemon's exact decimal text).
# usage: routes.sh PATH-TO-agentbudgetd PATH-TO-agentbudget
source "$(dirname "$0")/lib.sh"
DATA=$(cd "$(dirname "$0")" && pwd)

start_daemon main || exit 1
TOKEN=$ADMIN
B=acme/research/agent-7

# cli ARGS... — the agentbudget command on the daemon's store; its stdout in $TMP/cli.out.
cli() { "$AB" --store "sqlite:$STORE_FILE" "$@" >"$TMP/cli.out" 2>"$TMP/cli.err"; }

# same_as_cli WHAT — the last reply's body, byte for byte, is what `agentbudget` printed (less
# the newline that ends the command's output).
same_as_cli()
{
    if { cat "$TMP/body"; echo; } | cmp -s - "$TMP/cli.out"; then
        ok "$1"
    else
        not_ok "$1" "daemon: $(head -c 400 "$TMP/body")" "cli:    $(head -c 400 "$TMP/cli.out")" \
            "cli stderr: $(head -c 200 "$TMP/cli.err")"
    fi
}

# ---- open routes ----
TOKEN=
req GET /healthz
expect_reply 200 '[.status, .schema_version] | join(" ")' "ok 4" "GET /healthz without a token"
# HEAD, as monitors send it: the same status, no body, and no failed authentication counted
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
    head_status=$(curl -s -I --max-time 20 -o "$TMP/head" -w '%{http_code}' "$URL/healthz")
    [[ $head_status == 200 ]] || break
done
expect_eq "$head_status $(grep -c '"status"' "$TMP/head")" "200 0" "HEAD /healthz (12 times) without a token: 200, no body"
req GET /
expect_eq "$STATUS $(header Content-Type)" "200 text/html; charset=utf-8" "GET / (dashboard) without a token"
expect_has "$BODY" "<title>agentbudget</title>" "the dashboard is the HTML page"
# it keeps a token in the browser: not framed by another page, its script talks to this origin
# only, and no reply is read as anything but its type
expect_eq "$(header X-Frame-Options)" "DENY" "the dashboard: X-Frame-Options"
expect_has "$(header Content-Security-Policy)" "frame-ancestors 'none'" "the dashboard: no framing by CSP"
expect_has "$(header Content-Security-Policy)" "connect-src 'self'" "the dashboard: fetches this origin only"
expect_eq "$(header X-Content-Type-Options)" "nosniff" "the dashboard: nosniff"
# its script and style run by their hashes, not as any inline code: the policy names the page's own
HASHES=$(python3 -c '
import re, hashlib, base64, sys
html = sys.stdin.read()
for tag in ("script", "style"):
    m = re.search(r"<%s>(.*?)</%s>" % (tag, tag), html, re.S)
    print("%s-src '"'"'sha256-%s'"'"'" % (tag, base64.b64encode(hashlib.sha256(m.group(1).encode()).digest()).decode()))
' <<<"$BODY")
CSP=$(header Content-Security-Policy)
while IFS= read -r h; do expect_has "$CSP" "$h" "the dashboard's policy: $h"; done <<<"$HASHES"
[[ $CSP != *unsafe-inline* ]] && ok "the dashboard's policy allows no other inline code" ||
    not_ok "the dashboard's policy allows no other inline code"
req GET /metrics
expect_reply 401 .error.code unauthorized "GET /metrics without a token"
expect_eq "$(header X-Content-Type-Options)" "nosniff" "a JSON reply: nosniff"
TOKEN=$ADMIN

# ---- budgets ----
jreq PUT "/v1/budgets/$B" '{"limits":["usd/day=10","tokens/session=100000"]}'
expect_reply 201 '[.agent_id, (.limits | map(.spec) | join(","))] | join(" ")' \
    "$B tokens/session=100000,usd/day=10.00" "PUT a new budget"
# "model": "" removes a budget's model, as `set --model ''` does locally (it was refused)
jreq PUT "/v1/budgets/$B" '{"model":"claude-haiku-4-5"}'
expect_reply 200 .model claude-haiku-4-5 "PUT a budget's model"
jreq PUT "/v1/budgets/$B" '{"model":""}'
expect_reply 200 .model null "PUT \"model\": \"\" removes it"
# a media type and a bearer scheme are case-insensitive, and parameters may follow the type
TOKEN= req GET "/v1/budgets/$B" -H "Authorization: bearer $ADMIN"
expect_status 200 "Authorization: bearer (lower case) is a bearer token"
req PUT "/v1/budgets/$B" -H 'Content-Type: Application/JSON; charset=utf-8' --data-binary '{"limits":["usd/day=10"]}'
expect_status 200 "Content-Type: Application/JSON; charset=utf-8 is JSON"
jreq PUT "/v1/budgets/$B" '{"limits":["usd/day=12.5"]}'
expect_reply 200 '[.daily_cost_limit_nusd, .session_token_limit, (.limits | length)] | join(" ")' \
    "12500000000 100000 2" "PUT on an existing budget updates it (limits merged)"
cp "$TMP/body" "$TMP/put.json"
req GET "/v1/budgets/$B"
expect_reply 200 .agent_id "$B" "GET /v1/budgets/{path}"
if cmp -s "$TMP/body" "$TMP/put.json"; then ok "GET answers the same JSON as the PUT did"; else
    not_ok "GET answers the same JSON as the PUT did" "put: $(cat "$TMP/put.json")" "get: $BODY"; fi
cli status "$B" --json
same_as_cli "GET /v1/budgets/{path} is byte for byte 'agentbudget status --json'"

jreq PUT /v1/budgets/acme/research/agent-8 '{"limits":["usd/month=100"]}'
expect_status 201 "PUT a second budget"
jreq PUT /v1/budgets/other/x '{}'
expect_status 201 "PUT a budget outside the prefix"
req GET "/v1/budgets?prefix=acme/research"
expect_reply 200 '[.budgets[].agent_id] | join(",")' "$B,acme/research/agent-8" \
    "GET /v1/budgets?prefix=acme/research lists exactly that subtree"
req GET "/v1/budgets?prefix=acme/research/agent-8"
expect_reply 200 '[.budgets[].agent_id] | join(",")' "acme/research/agent-8" "a prefix that is a budget"
req GET "/v1/budgets?prefix=nobody"
expect_reply 200 = '{"budgets":[]}' "a prefix with no budgets: an empty list"
req GET /v1/budgets
ALL_IDS=$(jq -r '[.budgets[].agent_id] | join(",")' <<<"$BODY")
expect_has ",$ALL_IDS," ",other/x," "GET /v1/budgets without a prefix lists everything"
cli status acme/research/agent-8 --json
expect_eq "$(jq -c '.budgets[] | select(.agent_id == "acme/research/agent-8")' <<<"$BODY")" \
    "$(jq -c . "$TMP/cli.out")" "a listed budget is the same object as its status"

req DELETE /v1/budgets/other/x
expect_reply 200 = '{"deleted":"other/x"}' "DELETE /v1/budgets/{path}"
req GET /v1/budgets/other/x
expect_reply 404 .error.code not_found "a deleted budget is gone"
req DELETE /v1/budgets/other/x
expect_reply 404 .error.code not_found "DELETE of a budget that does not exist"
jreq PUT /v1/budgets/team '{}' >/dev/null
jreq PUT /v1/budgets/team/a '{}' >/dev/null
req DELETE /v1/budgets/team
expect_reply 409 .error.code conflict "DELETE of a budget with a child budget"

# ---- check ----
jreq POST /v1/check "{\"budget\":\"$B\",\"tokens\":5000}"
expect_reply 200 '[.allowed, .cost_nusd, .tokens, .hold_id] | map(tostring) | join(" ")' \
    "true 60000000 5000 null" "check, tokens form (1/4 input, 3/4 output at claude-sonnet-4-5)"
expect_has "$BODY" '"cost":0.06,' "check's cost is the exact decimal 0.06"
jreq POST /v1/check "{\"budget\":\"$B\",\"model\":\"claude-sonnet-4-5\",\"usage\":{\"input\":10000,\"output\":30000}}"
expect_reply 200 '[.allowed, .cost_nusd, .tokens] | map(tostring) | join(" ")' \
    "true 480000000 40000" "check, usage form"
jreq POST /v1/check "{\"budget\":\"$B\",\"tokens\":200000}"
expect_reply 200 '[.allowed, .limit.metric, .limit.window, .limit.amount, .limit.requested, .replayed] | map(tostring) | join(" ")' \
    "false tokens session 100000 200000 false" "a denial is HTTP 200 with allowed false and the deciding limit"
expect_jq "$BODY" '.reason | test("session limit")' true "a denial says why"
req GET "/v1/budgets/$B"
expect_reply 200 .operations_blocked 1 "the denial was counted"

# ---- reserve, holds, commit, release ----
jreq POST /v1/reserve "{\"budget\":\"$B\",\"model\":\"claude-sonnet-4-5\",\"usage\":{\"input\":2000,\"output\":4000}}"
expect_reply 200 '[.allowed, .cost_nusd, .tokens] | map(tostring) | join(" ")' "true 66000000 6000" \
    "POST /v1/reserve"
HOLD=$(jq -r .hold_id <<<"$BODY")
expect_jq "\"$HOLD\"" 'test("^h_[0-9a-f]{32}$")' true "reserve returns a hold id"
req GET "/v1/holds/$HOLD"
expect_reply 200 '[.hold_id, .budget, .state, .tokens, .cost_nusd] | map(tostring) | join(" ")' \
    "$HOLD $B open 6000 66000000" "GET /v1/holds/{id} of an open hold"
req GET "/v1/budgets/$B"
expect_reply 200 '[.holds.open, .holds.tokens, .holds.cost_nusd] | map(tostring) | join(" ")' \
    "1 6000 66000000" "the hold counts in the budget"
jreq POST "/v1/holds/$HOLD/commit" '{"usage":{"input":2000,"output":1500}}'
expect_reply 200 '[.allowed, .hold_id, .cost_nusd, .tokens] | map(tostring) | join(" ")' \
    "true $HOLD 28500000 3500" "POST /v1/holds/{id}/commit with the actual usage"
expect_has "$BODY" '"cost":0.0285,' "the commit's cost is the exact decimal 0.0285"
req GET "/v1/holds/$HOLD"
expect_reply 200 .state committed "the hold reads committed"
jreq POST "/v1/holds/$HOLD/commit" '{"usage":{"input":1,"output":1}}'
expect_reply 409 .error.code hold_not_open "a second commit of the same hold is 409"
jreq POST /v1/reserve "{\"budget\":\"$B\",\"usage\":{\"input\":100,\"output\":100},\"ttl_s\":60}"
HOLD2=$(jq -r .hold_id <<<"$BODY")
expect_reply 200 '[.allowed, (.hold_id | test("^h_[0-9a-f]{32}$")), .hold_id != "'"$HOLD"'"] | map(tostring) | join(" ")' \
    "true true true" "reserve with ttl_s: a second, new hold"
req GET "/v1/holds/$HOLD2"
expect_reply 200 '(.expires_at - .created_at)' 60000 "ttl_s 60 makes the hold expire 60 s after creation"
req POST "/v1/holds/$HOLD2/release"
expect_reply 200 = "{\"released\":\"$HOLD2\"}" "POST /v1/holds/{id}/release without a body"
req GET "/v1/holds/$HOLD2"
expect_reply 200 .state released "the hold reads released"
req POST "/v1/holds/$HOLD2/release"
expect_reply 409 .error.code hold_not_open "releasing it again is 409"
req GET "/v1/budgets/$B"
expect_reply 200 '[.holds.open, .session_tokens_used, .daily_cost_used_nusd] | map(tostring) | join(" ")' \
    "0 3500 28500000" "after commit and release: only the committed usage counts"

# ---- charge ----
jreq POST /v1/charge "{\"budget\":\"$B\",\"usage\":{\"input\":10000,\"output\":30000}}"
expect_reply 200 '[.allowed, .over, .cost_nusd, .tokens, .replayed] | map(tostring) | join(" ")' \
    "true false 480000000 40000 false" "POST /v1/charge at the default model"
expect_has "$BODY" '"cost":0.48,' "10000 input + 30000 output cost exactly 0.48"
req GET "/v1/budgets/$B"
expect_reply 200 '[.session_tokens_used, .daily_cost_used_nusd, .usage.month.cost_nusd, .usage.total.requests] | map(tostring) | join(" ")' \
    "43500 508500000 508500000 2" "the charge is in every window"
expect_has "$BODY" '"daily_cost_used":0.5085,' "daily cost used is the exact decimal 0.5085"

# ---- a usage object's counts are each 0 when absent, on every route that takes one (documented:
# a growth sends only its output; the Node.js client leaves out counts that are 0) ----
U=other/usage-defaults
jreq PUT "/v1/budgets/$U" '{"limits":["usd/day=10"]}'
expect_status 201 "a budget for usages with counts left out"
jreq POST /v1/charge "{\"budget\":\"$U\",\"usage\":{\"input\":1000}}"
expect_reply 200 '[.cost_nusd, .tokens] | map(tostring) | join(" ")' "3000000 1000" \
    "charge without output: output 0 (1000 input tokens at \$3 a million)"
jreq POST /v1/reserve "{\"budget\":\"$U\",\"usage\":{\"output\":100}}"
expect_reply 200 '[.cost_nusd, .tokens] | map(tostring) | join(" ")' "1500000 100" \
    "reserve without input: input 0"
UH=$(jq -r .hold_id <<<"$BODY")
jreq POST "/v1/holds/$UH/commit" '{"usage":{}}'
expect_reply 200 '[.cost_nusd, .tokens] | map(tostring) | join(" ")' "0 0" "commit of an empty usage: nothing used"
jreq POST /v1/check "{\"budget\":\"$U\",\"usage\":{\"output\":1000}}"
expect_reply 200 '[.cost_nusd, .tokens] | map(tostring) | join(" ")' "15000000 1000" "check with output only"
req GET "/v1/budgets/$U"
expect_reply 200 '[.usage.total.tokens, .usage.total.cost_nusd, .usage.total.requests] | map(tostring) | join(" ")' \
    "1000 3000000 2" "only what was sent was counted"

# ---- Idempotency-Key on charge ----
jreq POST /v1/charge "{\"budget\":\"$B\",\"usage\":{\"input\":10000,\"output\":30000}}" -H 'Idempotency-Key: charge-1'
expect_reply 200 '[.cost_nusd, .replayed] | map(tostring) | join(" ")' "480000000 false" \
    "charge with an Idempotency-Key"
jreq POST /v1/charge "{\"budget\":\"$B\",\"usage\":{\"input\":10000,\"output\":30000}}" -H 'Idempotency-Key: charge-1'
expect_reply 200 '[.cost_nusd, .replayed] | map(tostring) | join(" ")' "480000000 true" \
    "the same key and body again: replayed"
jreq POST /v1/charge "{\"budget\":\"$B\",\"usage\":{\"input\":10001,\"output\":30000}}" -H 'Idempotency-Key: charge-1'
expect_reply 409 .error.code conflict "the same key with a different body: 409"
expect_has "$(jq -r .error.message <<<"$BODY")" "key 'charge-1' " "and names the key as the caller sent it (not the store's TOKEN_ID:key)"
req GET "/v1/budgets/$B"
expect_reply 200 '[.daily_cost_used_nusd, .usage.total.requests] | map(tostring) | join(" ")' \
    "988500000 3" "the keyed charge was counted once"

# ---- charge with "charged_before": a request's growth, priced as part of the whole request ----
# 797 more output tokens of a reply with 210,000 tokens of context: the tier's $22.50 a million
jreq POST /v1/charge '{"budget":"other/status-grow","model":"claude-sonnet-4-5","usage":{"output":797},"charged_before":{"input":150000,"cache_read":60000,"output":3}}'
expect_status 404 "a growth on a budget that does not exist: 404"
jreq PUT /v1/budgets/other/status-grow '{"limits":["usd/day=10"]}'
jreq POST /v1/charge '{"budget":"other/status-grow","model":"claude-sonnet-4-5","usage":{"output":797},"charged_before":{"input":150000,"cache_read":60000,"output":3}}'
expect_reply 200 '[.cost_nusd, .tokens] | map(tostring) | join(" ")' "17932500 797" \
    "POST /v1/charge with \"charged_before\": the growth at the long-context tier's rate"
jreq POST /v1/charge '{"budget":"other/status-grow","model":"claude-sonnet-4-5","usage":{"output":797}}'
expect_reply 200 .cost_nusd 11955000 "without it, the same tokens alone at the base rate"

# ---- charge with "status": true: the decision and the status this charge left, in one answer ----
S=other/status-after
jreq PUT "/v1/budgets/$S" '{"limits":["usd/day=10"]}'
expect_status 201 "a budget for the charge with its status"
jreq POST /v1/charge "{\"budget\":\"$S\",\"usage\":{\"input\":10000,\"output\":30000},\"status\":true}"
expect_reply 200 '[.allowed, .cost_nusd, .status.agent_id, .status.daily_cost_used_nusd, .status.session_tokens_used, .status.usage.total.requests] | map(tostring) | join(" ")' \
    "true 480000000 $S 480000000 40000 1" "POST /v1/charge with \"status\": true answers the status too"
expect_has "$BODY" '"daily_cost_used":0.48,' "its money is exact in the status too"
jreq POST /v1/charge "{\"budget\":\"$S\",\"usage\":{\"input\":1},\"status\":false}"
expect_reply 200 '[.cost_nusd, (has("status") | tostring)] | join(" ")' "3000 false" \
    "with \"status\": false, the decision alone"

# ---- reset ----
jreq POST /v1/reset "{\"budget\":\"$B\",\"windows\":[\"session\"]}"
expect_reply 200 '[.session_tokens_used, .daily_cost_used_nusd, .usage.total.cost_nusd] | map(tostring) | join(" ")' \
    "0 988500000 988500000" "reset [\"session\"]: a new session, the day's cost kept"
jreq POST /v1/reset "{\"budget\":\"$B\",\"windows\":\"all\"}"
expect_reply 200 '[.session_tokens_used, .daily_cost_used_nusd, .usage.month.cost_nusd, .usage.total.cost_nusd] | map(tostring) | join(" ")' \
    "0 0 0 988500000" "reset \"all\": session, day and month zeroed, the lifetime total kept"

# ---- permissions and roles ----
ROLE='{"limits":["usd/day=5"],"allow_tools":["web_*","read_file"],"deny_tools":["web_delete"],"deny_models":["gpt-*"]}'
jreq PUT /v1/roles/researcher "$ROLE"
expect_reply 200 = '{"name":"researcher","admin":false,"limits":["usd/day=5.00"],"allow_tools":["web_*","read_file"],"deny_tools":["web_delete"],"allow_models":[],"deny_models":["gpt-*"]}' \
    "PUT /v1/roles/{name}"
cp "$TMP/body" "$TMP/role.json"
req GET /v1/roles/researcher
if [[ $STATUS == 200 ]] && cmp -s "$TMP/body" "$TMP/role.json"; then ok "GET /v1/roles/{name}: the same JSON"; else
    not_ok "GET /v1/roles/{name}: the same JSON" "status $STATUS" "body: $BODY"; fi
req GET /v1/roles
expect_reply 200 '[.roles[].name] | join(",")' researcher "GET /v1/roles"
jreq PUT /v1/budgets/acme/research/r1 '{"role":"researcher"}'
expect_reply 201 '[.role, (.limits | map(.spec) | join(","))] | join(" ")' "researcher usd/day=5.00" \
    "a new budget of the role starts from its limits"
jreq POST /v1/permissions/check '{"budget":"acme/research/r1","operation":"web_delete"}'
expect_reply 200 '[.allowed, .reason] | map(tostring) | join(" ")' \
    "false role 'researcher' denies tool 'web_delete' (pattern 'web_delete')" \
    "POST /v1/permissions/check: a denied tool"
jreq POST /v1/permissions/check '{"budget":"acme/research/r1","operation":"web_search"}'
expect_reply 200 '[.allowed, .reason, .tokens] | map(tostring) | join(" ")' "true null 1000" \
    "POST /v1/permissions/check: an allowed tool (estimate 1000 tokens)"
jreq POST /v1/permissions/check '{"budget":"acme/research/r1","operation":"shell"}'
expect_reply 200 .allowed false "a tool outside allow_tools is denied"
jreq POST /v1/permissions/check '{"budget":"acme/research/r1","operation":"web_search","model":"gpt-4o"}'
expect_reply 200 '[.allowed, .reason] | map(tostring) | join(" ")' \
    "false role 'researcher' denies model 'gpt-4o' (pattern 'gpt-*')" "a denied model"
req DELETE /v1/roles/researcher
expect_reply 200 = '{"deleted":"researcher"}' "DELETE /v1/roles/{name}"
req GET /v1/roles/researcher
expect_reply 404 .error.code not_found "the deleted role is gone"
req GET /v1/roles
expect_reply 200 = '{"roles":[]}' "and no longer listed"

# ---- prices ----
req GET /v1/prices
expect_reply 200 = '{"prices":[]}' "GET /v1/prices: no overrides yet"
req GET "/v1/prices?builtin=1"
expect_reply 200 '[.prices[] | select(.model == "claude-sonnet-4-5") | .source, .input, .output] | map(tostring) | join(" ")' \
    "builtin 3 15" "GET /v1/prices?builtin=1 lists the built-in table"
req GET /v1/prices/claude-sonnet-4-5
expect_reply 200 '[.model, .source, .input, .output, .tier.above_tokens] | map(tostring) | join(" ")' \
    "claude-sonnet-4-5 builtin 3 15 200000" "GET /v1/prices/{model}"
req GET /v1/prices/no-such-model
expect_reply 404 '[.error.code, .error.ab_code] | join(" ")' "not_found EUNKNOWNMODEL" \
    "GET /v1/prices/{unknown}: 404 with the CLI's code (EUNKNOWNMODEL, as without --url)"
# a price derived from the input that is out of range names its field, as a given one does
# (the library's "price of 'big': cache_write_5m: …" had no field in the reply)
jreq PUT /v1/prices/big '{"input":"800000001","output":"1"}'
expect_reply 400 '[.error.code, .error.field] | join(" ")' "invalid cache_write_5m" \
    "a derived cache price out of range: 400 naming cache_write_5m"
jreq PUT /v1/prices/my-model '{"input":"1.234567","output":"0.000001","cache_read":"0.5"}'
expect_reply 200 '[.model, .source] | join(" ")' "my-model store" "PUT /v1/prices/{model}"
# the 5-minute cache write derived from the input, 1.25 x 1.234567 = 1.54320875, rounds up
for want in '"input":1.234567,' '"output":0.000001,' '"cache_read":0.5' '"cache_write_5m":1.543209,' \
    '"cache_write_1h":2.469134,'; do
    expect_has "$BODY" "$want" "the price is exact: $want"
done
cp "$TMP/body" "$TMP/price.json"
req GET /v1/prices/my-model
if [[ $STATUS == 200 ]] && cmp -s "$TMP/body" "$TMP/price.json"; then ok "GET /v1/prices/{model}: what PUT answered"; else
    not_ok "GET /v1/prices/{model}: what PUT answered" "status $STATUS" "body: $BODY"; fi
req GET /v1/prices
expect_reply 200 '[.prices[] | .model + ":" + .source] | join(",")' "my-model:store" "GET /v1/prices lists the override"
jreq POST /v1/charge "{\"budget\":\"$B\",\"model\":\"my-model\",\"usage\":{\"input\":1000000,\"output\":1000000}}"
expect_reply 200 .cost_nusd 1234568000 "a charge at the new price"
expect_has "$BODY" '"cost":1.234568,' "its cost is the exact decimal 1.234568"
req DELETE /v1/prices/my-model
expect_reply 200 = '{"unset":"my-model"}' "DELETE /v1/prices/{model}"
req GET /v1/prices/my-model
expect_reply 404 .error.code not_found "the deleted price is gone"
req POST /v1/prices/import -H 'Content-Type: application/json' --data-binary "@$DATA/litellm_sample.json"
expect_reply 200 = '{"imported":2}' "POST /v1/prices/import (LiteLLM format; entries without prices skipped)"
req GET /v1/prices
expect_reply 200 '[.prices[] | .model + ":" + .source] | join(",")' "acme-llm-1:store,acme-llm-2:store" \
    "the imported prices are listed"
req GET /v1/prices/acme-llm-1
expect_has "$BODY" '"input":2.5,"' "LiteLLM's 0.0000025 USD/token is 2.5 USD per million"
expect_has "$BODY" '"output":10,"' "LiteLLM's 0.00001 USD/token is 10 USD per million"
req GET /v1/prices/acme-llm-2
expect_has "$BODY" '"cache_read":0.1' "LiteLLM's cache_read_input_token_cost 1e-07 is 0.1 USD per million"
req GET /v1/prices/acme-embed
expect_reply 404 .error.code not_found "an entry without token prices was not imported"

# ---- tokens ----
jreq POST /v1/tokens "{\"scope\":\"$B\",\"role\":\"agent\",\"label\":\"agent-7\"}"
expect_reply 201 '[.scope, .role, .label, .expires_at, .revoked_at] | map(tostring) | join(" ")' \
    "$B agent agent-7 null null" "POST /v1/tokens"
SECRET=$(jq -r .secret <<<"$BODY")
TID=$(jq -r .id <<<"$BODY")
jreq POST /v1/tokens "{\"scope\":\"$B\",\"role\":\"agent\",\"label\":\"\"}"
expect_reply 201 .label "" "POST /v1/tokens with label \"\" is a token without a label (it was 400)"
expect_jq "\"$SECRET\"" 'test("^abt_[0-9a-f]{16}_[0-9a-f]{64}$")' true "the reply shows the secret (once)"
expect_eq "${SECRET:4:16}" "${TID#t_}" "the secret names its token id"
req GET /v1/tokens
expect_reply 200 "[.tokens[].id] | index(\"$TID\") != null" true "GET /v1/tokens lists the new token"
expect_jq "$BODY" '[.tokens[].id] | index("'"$ADMIN_ID"'") != null' true "and the bootstrap token"
expect_not_has "$BODY" "abt_" "GET /v1/tokens shows no secret"
expect_jq "$BODY" '[.tokens[] | has("secret")] | any' false "no token in the list has a secret field"
TOKEN=$SECRET
req GET "/v1/budgets/$B"
expect_reply 200 .agent_id "$B" "the new agent token works in its scope"
TOKEN=$ADMIN
req DELETE "/v1/tokens/$TID"
expect_reply 200 = "{\"revoked\":\"$TID\"}" "DELETE /v1/tokens/{id}"
TOKEN=$SECRET
req GET "/v1/budgets/$B"
expect_reply 401 .error.code unauthorized "the revoked token is refused at once"
TOKEN=$ADMIN
req GET /v1/tokens
expect_reply 200 ".tokens[] | select(.id == \"$TID\") | .revoked_at | type" number "the list shows it revoked"

# ---- events: filters and paging ----
req GET "/v1/events?budget=$B&op=charge"
expect_reply 200 '[.events[] | .budget + ":" + .op + ":" + (.cost_nusd | tostring)] | join(",")' \
    "$B:charge:480000000,$B:charge:480000000,$B:charge:1234568000" \
    "GET /v1/events?budget=&op=charge: the three charges (the replay made no event)"
expect_jq "$BODY" .next_after null "a short page has next_after null"
expect_jq "$BODY" '[.events[].actor] | unique | join(",")' "$ADMIN_ID" \
    "each event names the token that made it (the actor), not only the daemon"
req GET "/v1/events?budget=$B&op=reserve"
expect_reply 200 '[.events[] | .hold_id] | join(",")' "$HOLD,$HOLD2" "op=reserve: both holds"
req GET "/v1/events?budget=acme&op=set"
expect_reply 200 '[.events[] | .budget] | unique | join(",")' \
    "$B,acme/research/agent-8,acme/research/r1" "budget=acme takes its whole subtree"
req GET "/v1/events?limit=10000"
ALL=$(jq -c '[.events[].id]' <<<"$BODY")
N=$(jq length <<<"$ALL")
expect_jq "$ALL" '. == (. | sort) and . == (. | unique) and length > 20' true "GET /v1/events: all events in id order"
PAGED='[]'
AFTER=
PAGES=0
while ((PAGES < 100)); do
    req GET "/v1/events?limit=7${AFTER:+&after=$AFTER}"
    [[ $STATUS == 200 ]] || break
    PAGES=$((PAGES + 1))
    PAGED=$(jq -c --argjson p "$PAGED" '$p + [.events[].id]' <<<"$BODY")
    AFTER=$(jq -r .next_after <<<"$BODY")
    [[ $AFTER == null ]] && break
done
expect_eq "$PAGED" "$ALL" "paging with limit=7 and next_after until null: every event once, in order"
expect_eq "$PAGES" "$((N / 7 + 1))" "the walk took $((N / 7 + 1)) pages for $N events"

# ---- metrics ----
req GET /metrics
expect_eq "$STATUS $(header Content-Type)" "200 text/plain; version=0.0.4" "GET /metrics with a token"
expect_has "$BODY" 'agentbudget_requests_total{route="charge",status="200"} 9' \
    "agentbudget_requests_total counts the charges (two of them with \"status\", a growth and the same tokens alone, one without output)"
expect_has "$BODY" 'agentbudget_requests_total{route="charge",status="409"} 1' "and the conflict"
expect_has "$BODY" "agentbudget_spend_usd_total{budget=\"$B\",model=\"my-model\"} 1.234568" \
    "agentbudget_spend_usd_total by budget and model"
# a model name with a provider prefix is labelled as the built-in model it is priced as: one
# agent sending x1/…, x2/, … would otherwise fill every family's series (and push the rest into
# _other)
for p in x1 x2; do
    jreq POST /v1/charge "{\"budget\":\"$B\",\"model\":\"$p/claude-haiku-4-5\",\"usage\":{\"input\":1000000}}"
    expect_reply 200 .allowed true "a charge as $p/claude-haiku-4-5"
done
req GET /metrics
expect_has "$BODY" "agentbudget_spend_usd_total{budget=\"$B\",model=\"claude-haiku-4-5\"} 2" \
    "spend under x1/ and x2/claude-haiku-4-5 is claude-haiku-4-5's (\$1 per million input tokens)"
expect_eq "$(grep -c 'model="x[12]/' <<<"$BODY")" 0 "no series of the prefixed names"
# so are names the default price covers: one series, "default"
jreq PUT /v1/prices/default '{"input":"1","output":"1"}'
expect_eq "$STATUS" 200 "PUT /v1/prices/default"
for m in custom-1 custom-2; do
    jreq POST /v1/charge "{\"budget\":\"$B\",\"model\":\"$m\",\"usage\":{\"input\":1000000}}"
    expect_reply 200 .allowed true "a charge as $m (the default price)"
done
req DELETE /v1/prices/default
req GET /metrics
expect_has "$BODY" "agentbudget_spend_usd_total{budget=\"$B\",model=\"default\"} 2" \
    "spend under names the default price covers is labelled default"
expect_eq "$(grep -c 'model="custom-' <<<"$BODY")" 0 "no series of those names"
# a series' spend can pass INT64_MAX nUSD (\$9.2 billion): a budget of that name made again (or
# the _other series) takes another; the sum stays exact, where an int64 wrapped negative
jreq PUT /v1/prices/whale-model '{"input":"999999999.999999","output":"1","cache_write_5m":"0","cache_write_1h":"0","cache_read":"0"}'
expect_eq "$STATUS" 200 "PUT /v1/prices/whale-model (about \$1000 per token)"
for i in 1 2; do
    jreq PUT /v1/budgets/whale '{}'
    jreq POST /v1/charge '{"budget":"whale","model":"whale-model","usage":{"input":5000000}}'
    expect_reply 200 .cost_nusd 4999999999999995000 "whale's charge $i: \$4999999999.999995"
    req DELETE /v1/budgets/whale
done
req GET /metrics
expect_has "$BODY" 'agentbudget_spend_usd_total{budget="whale",model="whale-model"} 9999999999.99999' \
    "the spend of both charges, 9999999999999990000 nUSD, past INT64_MAX and exact"
expect_has "$BODY" 'agentbudget_tokens_total{budget="whale",model="whale-model"} 10000000' \
    "and their tokens"

# ---- the access log: a JSON line per request; its "ms" without a double's noise ----
log=$(grep -c '"route":' "$TMP/main.err")
[[ $log -gt 50 ]] && ok "the access log has a line per request ($log)" || not_ok "the access log has a line per request ($log)"
noisy=$(grep -o '"ms":[0-9.e+-]*' "$TMP/main.err" | sed 's/"ms"://; s/^0*//; s/\.//' | awk 'length($0) > 10' | head -3)
expect_eq "$noisy" "" "its \"ms\" have at most 9 significant digits (1.0076039999999999 was written)"

finish
