#!/usr/bin/env bash
# exit_codes.sh — the agentbudget command's contract with scripts: exit status 0 ok, 1 denied,
# 2 bad input, 3 store failure; --json anywhere on the line; hold ids from reserve and their
# commit and release; idempotency keys; --help of every command.
# usage: exit_codes.sh PATH-TO-agentbudget
source "$(dirname "$0")/lib.sh"

HOLD_RE='^h_[0-9a-f]{32}$'
# expect_hold_id ID WHAT — ID has the form h_ + 32 lowercase hex digits.
expect_hold_id()
{
    if [[ "$1" =~ $HOLD_RE ]]; then ok "$2"; else not_ok "$2" "'$1' is not h_ + 32 hex digits"; fi
}

# ---- 0: ok ----
run init agent-1 --role dev --session-tokens 100000 --daily-usd 10
expect_rc 0 "init"
run status agent-1
expect_rc 0 "status"
run list
expect_rc 0 "list"
expect_has "$OUT" "agent-1" "list shows agent-1"
run check agent-1 --tokens 1000
expect_rc 0 "check allowed"

# ---- 1: denied ----
run check agent-1 --tokens 100001
expect_rc 1 "check denied"
expect_has "$OUT" "denied: " "check denied: says so on stdout"
expect_eq "$ERR" "" "check denied: a denial is not an error (stderr empty)"
run reserve agent-1 --input 50000 --max-output 50001
expect_rc 1 "reserve denied"
expect_has "$OUT" "denied: " "reserve denied: says so on stdout"
run reserve agent-1 --input 50000 --max-output 50001 --json
expect_rc 1 "reserve denied --json"
expect_jq "$OUT" '[.allowed, .hold_id, .limit.metric, .limit.window] | @tsv' \
    $'false\t\ttokens\tsession' "reserve denied --json: allowed false, no hold, the limit"
run permission agent-1 Bash --tokens 200000
expect_rc 1 "permission denied by the budget"
run status agent-1 --json
expect_jq "$OUT" '[.operations_blocked, .holds.open] | @tsv' $'4\t0' \
    "four denials counted, no hold made"

# ---- 2: bad input ----
run check agent-1 --tokens -1
expect_rc 2 "bad token count"
run status no-such-agent
expect_rc 2 "no such budget"
expect_has "$ERR" "no-such-agent" "no such budget: names it"
run
expect_rc 2 "no command at all"
expect_has "$ERR" "usage: agentbudget" "no command at all: usage on stderr"
run --json
expect_rc 2 "--json and no command"
expect_eq "$(jq -r .error.code <<<"$OUT")" "EINVAL" "--json and no command: an error object on stdout"

# a bad store or daemon address names where it came from: the flag or the environment
AGENTBUDGET_STORE=bogus run list
expect_rc 2 "a bad AGENTBUDGET_STORE"
expect_has "$ERR" "error: AGENTBUDGET_STORE: store URL 'bogus'" "a bad AGENTBUDGET_STORE is named"
run --store bogus list
expect_has "$ERR" "error: --store: store URL 'bogus'" "a bad --store is named"
AGENTBUDGET_URL=ftp://x run list
expect_rc 2 "a bad AGENTBUDGET_URL"
expect_has "$ERR" "error: AGENTBUDGET_URL: 'ftp://x': the address must be http://HOST:PORT" "a bad AGENTBUDGET_URL is named"
run --url ftp://x list
expect_has "$ERR" "error: --url: 'ftp://x': the address must be http://HOST:PORT" "a bad --url is named"

# ---- 3: store failures ----
run --store "sqlite:$TMP/no-such-dir/x.db" status agent-1
expect_rc 3 "store in a directory that does not exist"
expect_has "$ERR" "error: " "store in a missing directory: error on stderr"
[[ ! -e "$TMP/no-such-dir" ]] && ok "store in a missing directory: nothing created" ||
    not_ok "store in a missing directory: nothing created" "$TMP/no-such-dir exists"
head -c 8192 /dev/urandom >"$TMP/garbage.db"
cp "$TMP/garbage.db" "$TMP/garbage.orig"
run --store "sqlite:$TMP/garbage.db" status agent-1
expect_rc 3 "store file that is random bytes"
printf 'this is not a database, it is a text file that happens to be long enough\n%.0s' {1..100} \
    >"$TMP/text.db"
cp "$TMP/text.db" "$TMP/text.orig"
run --store "sqlite:$TMP/text.db" charge agent-1 --input 1 --output 1
expect_rc 3 "store file that is text"
expect_has "$ERR" "not a database" "store file that is text: says it is not a database"
cmp -s "$TMP/garbage.db" "$TMP/garbage.orig" && cmp -s "$TMP/text.db" "$TMP/text.orig" &&
    ok "files that are not stores are left untouched" ||
    not_ok "files that are not stores are left untouched" "a garbage file was modified"
run --json --store "sqlite:$TMP/text.db" status agent-1
expect_rc 3 "store failure --json"
expect_jq "$OUT" '.error.code' ESTORE "store failure --json: error code ESTORE"
AGENTBUDGET_STORE="sqlite:$TMP/text.db" run status agent-1
expect_rc 3 "store failure through AGENTBUDGET_STORE"
mkdir "$TMP/dir.db"
run --store "sqlite:$TMP/dir.db" status agent-1
expect_rc 3 "store path that is a directory"
run --store "sqlite:$TMP/b.db" status agent-1
expect_rc 0 "--store overrides AGENTBUDGET_STORE"

# ---- --json anywhere on the line ----
for place in first after-command last; do
    case $place in
    first) run --json status agent-1 ;;
    after-command) run status --json agent-1 ;;
    last) run status agent-1 --json ;;
    esac
    expect_rc 0 "--json $place"
    expect_jq "$OUT" '.agent_id' agent-1 "--json $place: status JSON"
done
run --store "sqlite:$TMP/b.db" --json check agent-1 --tokens 10
expect_jq "$OUT" '.allowed' true "--store and --json before the command"
run check agent-1 --tokens 10 --store "sqlite:$TMP/b.db" --json
expect_jq "$OUT" '.allowed' true "--store and --json after the command"
run check agent-1 --tokens 10 --store="sqlite:$TMP/b.db"
expect_rc 0 "--store=URL after the command"
run list --json
expect_jq "$OUT" '[.[].agent_id] | join(",")' agent-1 "list --json: an array of statuses"

# ---- holds: reserve, commit, release ----
run reserve agent-1 --input 1000 --max-output 2000
expect_rc 0 "reserve"
expect_hold_id "$OUT" "reserve prints the hold id and nothing else"
H1=$OUT
run reserve agent-1 --input 1000 --max-output 2000 --json
expect_rc 0 "reserve --json"
H2=$(jq -r .hold_id <<<"$OUT")
expect_hold_id "$H2" "reserve --json: hold_id"
expect_jq "$OUT" '[.allowed, .tokens, .cost_nusd] | @tsv' $'true\t3000\t33000000' \
    "reserve --json: 3000 tokens, \$0.033 held"
[[ "$H1" != "$H2" ]] && ok "two reserves, two holds" || not_ok "two reserves, two holds" "same id"
run status agent-1 --json
expect_jq "$OUT" '[.holds.open, .holds.tokens, .holds.cost_nusd, .session.tokens_remaining] | @tsv' \
    $'2\t6000\t66000000\t94000' "status counts both holds against the limits"
run hold "$H1" --json
expect_jq "$OUT" '[.hold_id, .budget, .state, .tokens] | @tsv' "$H1"$'\tagent-1\topen\t3000' \
    "hold --json: open"
run commit "$H1" --input 500 --output 100
expect_rc 0 "commit"
expect_eq "$OUT" 'committed: 600 tokens, $0.003' "commit: human answer"
run hold "$H1" --json
expect_jq "$OUT" '.state' committed "hold after commit: committed"
run release "$H2"
expect_rc 0 "release"
expect_eq "$OUT" "released $H2" "release: human answer"
run hold "$H2" --json
expect_jq "$OUT" '.state' released "hold after release: released"
run status agent-1 --json
expect_jq "$OUT" '[.holds.open, .session_tokens_used, .daily_cost_used_nusd] | @tsv' \
    $'0\t600\t3000000' "after commit and release: no hold open, only the committed usage spent"
before=$(dump)
run commit "$H2" --input 1 --output 1
expect_rc 2 "commit of a released hold"
expect_has "$ERR" "not open" "commit of a released hold: says it is not open"
run release "$H2"
expect_rc 2 "release of a released hold"
expect_has "$ERR" "not open" "release of a released hold: says it is not open"
run release "$H1"
expect_rc 2 "release of a committed hold"
run commit "$H1" --input 1 --output 1 --json
expect_rc 2 "commit of a committed hold --json"
expect_jq "$OUT" '.error.code' ESTATE "commit of a committed hold --json: ESTATE"
expect_eq "$(dump)" "$before" "refused commits and releases change nothing"

# ---- idempotency keys ----
run charge agent-1 --input 1000 --output 1000 --key charge-k1 --json
expect_rc 0 "charge with a key"
expect_has "$OUT" '"replayed":false' "first charge with a key: not replayed"
expect_jq "$OUT" '.cost_nusd' 18000000 "first charge with a key: \$0.018"
run charge agent-1 --input 1000 --output 1000 --key charge-k1 --json
expect_rc 0 "the same charge again with the same key"
expect_has "$OUT" '"replayed":true' "second charge with the key: replayed"
expect_jq "$OUT" '[.cost_nusd, .tokens] | @tsv' $'18000000\t2000' \
    "second charge with the key: the first answer"
run status agent-1 --json
expect_jq "$OUT" '[.session_tokens_used, .daily_cost_used_nusd, .usage.day.requests] | @tsv' \
    $'2600\t21000000\t2' "the keyed charge is counted once"
before=$(dump)
run charge agent-1 --input 1001 --output 1000 --key charge-k1
expect_rc 2 "the same key with another --input"
expect_has "$ERR" "charge-k1" "the same key with another --input: names the key"
expect_eq "$(dump)" "$before" "the same key with another --input: changes nothing"
run charge agent-1 --input 1000 --output 1000 --key charge-k1
expect_rc 0 "the first parameters again still replay"
expect_has "$OUT" "(repeated key: first answer)" "human output says it is a repeat"
run reserve agent-1 --input 10 --max-output 10 --key reserve-k1
K1=$OUT
run reserve agent-1 --input 10 --max-output 10 --key reserve-k1
expect_eq "$OUT" "$K1" "reserve with the same key: the same hold"
run status agent-1 --json
expect_jq "$OUT" '.holds.open' 1 "reserve with the same key: one hold"

# ---- --json output is JSON even for an argument that is not UTF-8 (it was copied as it was) ----
"$AB" --json hold $'bad\xff\xc3id' >"$TMP/out" 2>/dev/null
if python3 -c 'import json,sys; json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))' "$TMP/out" 2>/dev/null; then
    ok "an error quoting bytes that are not UTF-8 is still JSON"
else
    not_ok "an error quoting bytes that are not UTF-8 is still JSON" "$(od -c "$TMP/out" | head -3)"
fi

# ---- --json output is JSON even for names with quotes ----
run price set 'my"model' --input 1 --output 2 --json
expect_rc 0 "price set of a model name with a quote"
expect_jq "$OUT" '.model' 'my"model' "price set --json: the name is escaped"
run reserve agent-1 --model 'my"model' --input 10 --max-output 10
H3=$OUT
run hold "$H3" --json
expect_jq "$OUT" '.model' 'my"model' "hold --json: the model name is escaped"
run price list --json
expect_jq "$(jq -s . <<<"$OUT" 2>/dev/null)" '.[0].model' 'my"model' "price list --json: the name is escaped"
run price unset 'my"model' --json
expect_rc 2 "price unset of a model an open hold was reserved at"
expect_jq "$OUT" '.error.code' ECONFLICT "price unset of a model in use --json: ECONFLICT"
expect_has "$OUT" "$H3" "and names the hold"
run release "$H3"
run price unset 'my"model' --json
expect_jq "$OUT" '.unset' 'my"model' "price unset --json: the name is escaped"
run role set 'r"1' --limit usd/day=1 --allow-tool 'Ba"sh' --json
expect_jq "$OUT" '[.name, .allow_tools[0]] | @tsv' $'r"1\tBa"sh' "role set --json: names are escaped"
run role list --json
expect_jq "$OUT" '.name' 'r"1' "role list --json: the name is escaped"

# ---- --help of every command: exit 0, usage on stdout, the store untouched ----
for cmd in init set status list delete check reserve commit release hold charge reset \
    permission events price role; do
    run --store "sqlite:$TMP/no-such-dir/x.db" "$cmd" --help
    expect_rc 0 "$cmd --help"
    expect_has "$OUT" "usage: agentbudget $cmd" "$cmd --help: its usage on stdout"
done
run --help
expect_rc 0 "--help"
expect_has "$OUT" "exit status: 0 ok or allowed, 1 denied, 2 bad input or usage, 3 store" \
    "--help: documents the exit codes"
run help
expect_rc 0 "help"
run help status
expect_rc 0 "help status"
expect_has "$OUT" "usage: agentbudget status PATH" "help status: the command's own help (not the list)"
run --version
expect_rc 0 "--version"
expect_eq "$OUT" "agentbudget $(sed -n 's/^#define AB_VERSION "\(.*\)"$/\1/p' \
    "$(dirname "$0")/../../include/agentbudget.h")" "--version prints AB_VERSION"
run price list --builtin
expect_rc 0 "price list --builtin"
expect_eq "$(grep -c ' $' <<<"$OUT")" 0 "price list: no line ends in blanks"
run --json version
expect_eq "$(jq -r .version <<<"$OUT")" "$(sed -n 's/^#define AB_VERSION "\(.*\)"$/\1/p' \
    "$(dirname "$0")/../../include/agentbudget.h")" "--json version: an object"

# a price file with nothing to import: exit 0, but a warning that says what was looked for
echo '{"not-a-model": 1, "embedding-only": {"input_cost_per_token": 1e-7}}' >"$TMP/noprices.json"
run price import "$TMP/noprices.json"
expect_rc 0 "price import of a file with no prices"
expect_has "$OUT" "imported 0 prices" "it says it imported none"
expect_has "$ERR" "warning: no model in '$TMP/noprices.json' has both input_cost_per_token and output_cost_per_token" \
    "and warns what it looked for"

# copy: never a store over itself (the same file under another spelling: its idempotency keys,
# settled holds and event ids went, and a retried keyed charge was charged again), never from a
# sqlite: source that is not there (opening it made an empty store that --force copied over the
# target), and AGENTBUDGET_URL (for the commands that can go through the daemon) does not stop it
"$AB" --store "sqlite:$TMP/copy.db" set copy-agent --limit usd/day=10 >/dev/null
"$AB" --store "sqlite:$TMP/copy.db" charge copy-agent --input 1000 --output 100 --key k1 >/dev/null
before=$(sqlite3 "$TMP/copy.db" .dump)
for to in "sqlite:$TMP/./copy.db" "sqlite://$TMP/copy.db" "sqlite:$TMP/copy-link.db"; do
    ln -sf "$TMP/copy.db" "$TMP/copy-link.db"
    run copy --from "sqlite:$TMP/copy.db" --to "$to" --force
    expect_rc 2 "copy onto the same file as $to"
    expect_has "$ERR" "the source and the target are the same store" "it says why"
done
expect_eq "$(sqlite3 "$TMP/copy.db" .dump)" "$before" "the store is unchanged"
run --store "sqlite:$TMP/copy.db" charge copy-agent --input 1000 --output 100 --key k1
expect_has "$OUT" "repeated key" "a retried keyed charge is still a replay"
cp "$TMP/copy.db" "$TMP/target.db"
run copy --from "sqlite:$TMP/typo.db" --to "sqlite:$TMP/target.db" --force
expect_rc 2 "copy from a sqlite: file that is not there"
expect_has "$ERR" "--from: no store at '$TMP/typo.db'" "it names --from and the file"
[[ ! -e "$TMP/typo.db" ]] && ok "and makes no file" || not_ok "and makes no file"
expect_eq "$(sqlite3 "$TMP/target.db" 'select count(*) from budgets')" "1" "the target keeps its budget"
AGENTBUDGET_URL=http://127.0.0.1:9 run copy --from "sqlite:$TMP/copy.db" --to "sqlite:$TMP/copy2.db"
expect_rc 0 "copy with AGENTBUDGET_URL in the environment"
AGENTBUDGET_URL=http://127.0.0.1:9 AGENTBUDGET_STORE="sqlite:$TMP/copy2.db" run migrate
expect_rc 0 "migrate with AGENTBUDGET_URL in the environment"
run --url http://127.0.0.1:9 copy --from "sqlite:$TMP/copy.db" --to "sqlite:$TMP/copy3.db"
expect_rc 2 "copy with --url given"

# a 0-byte file (what a store that could not be made on a full disk leaves) is no source: with
# --force its empty store replaced the target
: >"$TMP/empty.db"
run copy --from "sqlite:$TMP/empty.db" --to "sqlite:$TMP/target.db" --force
expect_rc 2 "copy from an empty file"
expect_has "$ERR" "--from: '$TMP/empty.db' is an empty file, not a store" "it says so"
expect_eq "$(sqlite3 "$TMP/target.db" 'select count(*) from budgets')" "1" "the target keeps its budget"
# a source that cannot be opened: the error names it, and no target is made
echo "not a database" >"$TMP/junk.db"
run copy --from "sqlite:$TMP/junk.db" --to "sqlite:$TMP/never.db"
expect_rc 3 "copy from a file that is not a store"
expect_has "$ERR" "--from sqlite:$TMP/junk.db: " "the error names the source"
[[ ! -e "$TMP/never.db" ]] && ok "and makes no target" || not_ok "and makes no target"
run copy --from "sqlite:$TMP/copy.db" --to "sqlite:$TMP/junk.db"
expect_rc 3 "copy to a file that is not a store"
expect_has "$ERR" "--to sqlite:$TMP/junk.db: " "the error names the target"

# output that cannot be written (a full disk, a closed stdout) is a failure, not exit 0: a hold
# id or a token's secret printed into nothing is lost
"$AB" reserve agent-1 --input 10 --max-output 10 >/dev/full 2>"$TMP/err"
RC=$? ERR=$(cat "$TMP/err") OUT=""
expect_rc 3 "reserve with stdout on a full device"
expect_has "$ERR" "error: cannot write to standard output: No space left on device" "it says so"
"$AB" list >&- 2>"$TMP/err"
RC=$? ERR=$(cat "$TMP/err")
expect_rc 3 "list with stdout closed"

# a small input needs little memory: the hook and price import took 64 MiB up front, and under an
# address-space limit a failed malloc was reported as bad input (exit 2: on Stop, "keep working",
# the session never charged). ASan builds reserve terabytes of address space: not there.
if ! grep -q __asan_init "$AB"; then
    echo '{"session_id":"s9","transcript_path":"'"$TMP"'/none.jsonl","hook_event_name":"Stop","cwd":"'"$TMP"'"}' >"$TMP/stop.json"
    (ulimit -v 60000; "$AB" hook claude-code <"$TMP/stop.json" >"$TMP/out" 2>"$TMP/err")
    RC=$? OUT=$(cat "$TMP/out") ERR=$(cat "$TMP/err")
    expect_rc 0 "hook claude-code under a 60 MB address-space limit"
    echo '{"tiny-model":{"input_cost_per_token":0.000001,"output_cost_per_token":0.000002}}' >"$TMP/tiny.json"
    (ulimit -v 60000; "$AB" price import "$TMP/tiny.json" >"$TMP/out" 2>"$TMP/err")
    RC=$? OUT=$(cat "$TMP/out") ERR=$(cat "$TMP/err")
    expect_rc 0 "price import under a 60 MB address-space limit"
    # a big file under a limit it does not fit in: out of memory is exit 3, never bad input (a
    # failed allocation inside the JSON parser read as "line -1 column -1": exit 2)
    python3 -c 'import json; json.dump({"m%05d-" % i + "x" * 110: {"input_cost_per_token": 3e-06,
        "output_cost_per_token": 1.5e-05} for i in range(20000)}, open("'"$TMP"'/big.json", "w"))'
    (ulimit -v 20000; "$AB" price import "$TMP/big.json" >"$TMP/out" 2>"$TMP/err")
    RC=$? OUT=$(cat "$TMP/out") ERR=$(cat "$TMP/err")
    [[ $RC == 0 || $RC == 3 ]] && ok "price import of 20,000 models in 20 MB: exit 0 or 3 (got $RC)" ||
        not_ok "price import of 20,000 models in 20 MB: exit 0 or 3, got $RC: $ERR"
fi

# an event's reason quotes what an agent sent (a denied command): the events table shows its
# control characters as '?', not as escape sequences for the reader's terminal
run role set esc-role --deny-tool 'Bash(rm*)'
run set esc-agent --role esc-role
run permission esc-agent "Bash(rm $(printf '\033[2J\033]0;x\007'))"
expect_rc 1 "a denied command with escape sequences"
run events --budget esc-agent
[[ "$OUT" != *$'\e'* && "$OUT" != *$'\a'* ]] && ok "events: no ESC or BEL on the terminal" ||
    not_ok "events: no ESC or BEL on the terminal"
expect_has "$OUT" "'Bash(rm ?[2J?]0;x?)'" "events: they show as '?'"
run --json events --budget esc-agent
expect_has "$OUT" '\u001b[2J' "events --json: escaped as JSON"
# a role's patterns may hold them too (role set and role get print the role)
run role set esc-pattern --allow-tool "$(printf 'A\033[31mRED\rB')"
[[ "$OUT" != *$'\e'* && "$OUT" != *$'\r'* ]] && ok "role set: no ESC or CR on the terminal" ||
    not_ok "role set: no ESC or CR on the terminal"
expect_has "$OUT" "A?[31mRED?B" "role set: they show as '?'"
run role get esc-pattern
[[ "$OUT" != *$'\e'* ]] && ok "role get: no ESC on the terminal" || not_ok "role get: no ESC on the terminal"

# a store left read-only for this user: exit 3, and the message says which files must be
# writable (SQLite makes -wal and -shm with the store's mode: making the store file writable
# again is not enough). As nobody, where nobody can run the binary (mode 0444 does not stop root).
if [[ $(id -u) == 0 ]] && command -v runuser >/dev/null && runuser -u nobody -- "$AB" --version >/dev/null 2>&1; then
    RO=$(mktemp -d /tmp/agentbudget-ro.XXXXXX)
    chmod 777 "$RO"
    "$AB" --store "sqlite:$RO/b.db" set team >/dev/null
    chown nobody "$RO/b.db"
    chmod 444 "$RO/b.db"
    runuser -u nobody -- "$AB" --store "sqlite:$RO/b.db" list >/dev/null 2>&1
    chmod 644 "$RO/b.db"
    runuser -u nobody -- "$AB" --store "sqlite:$RO/b.db" charge team --input 1 --output 1 >"$TMP/out" 2>"$TMP/err"
    RC=$? OUT=$(cat "$TMP/out") ERR=$(cat "$TMP/err")
    expect_rc 3 "charge on a store whose -shm file is read-only"
    expect_has "$ERR" "its -wal and -shm files must be writable by this user" "the message says what to fix"
    rm -rf "$RO"
fi

# an error naming a store URL does not print its password
run copy --from "postgres://bob:s3cret-pw@127.0.0.1:9/x" --to "sqlite:$TMP/never2.db"
expect_rc 3 "copy from a PostgreSQL that is not there"
[[ "$ERR" != *s3cret-pw* && "$ERR" == *"postgres://bob:***@127.0.0.1:9/x"* ]] &&
    ok "the error names the URL without its password" ||
    not_ok "the error names the URL without its password"
# nor when the scheme is mistyped (the whole URL was printed), in --store, AGENTBUDGET_STORE and
# copy's sides, nor a quoted password=… with a space in it (its second word was printed), nor a
# URI's password key percent-encoded (libpq decodes it), nor sslpassword (the client key's)
for u in 'Postgres://bob:s3cret-pw@h/db' 'postgres:/bob:s3cret-pw@h/db' 'postgresql:/bob:s3cret-pw@h/x' \
    "bogus:x?password='s3cret-pw and more'&y=1" 'alice:s3cret-pw@db.example.com/ab' \
    'postgres//bob:s3cret-pw@h/db' 'postgres://bob:s3cret-pw#and more@127.0.0.1:9/x' \
    'host=127.0.0.1 port=9 password = s3cret-pw dbname=x' \
    'postgres://127.0.0.1:9/x?pass%77ord=s3cret-pw' 'postgres://127.0.0.1:9/x?%70assword=s3cret-pw' \
    'postgres://127.0.0.1:9/x?sslpassword=s3cret-pw' 'host=127.0.0.1 port=9 sslpassword=s3cret-pw'; do
    run --store "$u" list
    [[ "$ERR" != *s3cret-pw* && "$ERR" != *"and more"* ]] &&
        ok "--store '$u': no password" || not_ok "--store '$u': no password: $ERR"
    AGENTBUDGET_STORE=$u run list
    [[ "$ERR" != *s3cret-pw* ]] && ok "AGENTBUDGET_STORE: no password" || not_ok "AGENTBUDGET_STORE: no password: $ERR"
    run copy --from "$u" --to "sqlite:$TMP/never3.db"
    [[ "$ERR" != *s3cret-pw* && "$ERR" != *"and more"* ]] && ok "copy --from '$u': no password" || not_ok "copy --from '$u': no password: $ERR"
done
run copy --from "host=127.0.0.1 port=9 password='s3cret-pw and more' dbname=x" --to "sqlite:$TMP/never3.db"
[[ "$ERR" != *s3cret-pw* && "$ERR" != *"and more"* && "$ERR" == *"password=*** dbname=x"* ]] &&
    ok "a quoted key=value password: not printed" || not_ok "a quoted key=value password: not printed: $ERR"

# AGENTBUDGET_STORE set but empty is not set: the default store, its directories made (0700)
mkdir "$TMP/h2"
env -u XDG_STATE_HOME HOME="$TMP/h2" AGENTBUDGET_STORE= "$AB" list >"$TMP/out" 2>"$TMP/err"
RC=$? ERR=$(cat "$TMP/err")
expect_rc 0 "an empty AGENTBUDGET_STORE opens the default store"
expect_eq "$(stat -c %a "$TMP/h2/.local/state/agentbudget" 2>&1)" 700 "and makes its directory, 0700"

# sqlite:PATH is a file name, never one of SQLite's URIs or names
run --store "sqlite::memory:" set zz
expect_rc 2 "sqlite::memory: is refused"
expect_has "$ERR" "use memory: for that" "it says what to use"
mkdir "$TMP/cwd"
(cd "$TMP/cwd" && "$AB" --store "sqlite:file:u.db?sync=normal" set zz >/dev/null 2>&1)
[[ -s "$TMP/cwd/file:u.db" && ! -e "$TMP/cwd/u.db" ]] && ok "sqlite:file:u.db is the file ./file:u.db" ||
    not_ok "sqlite:file:u.db is the file ./file:u.db" "$(ls "$TMP/cwd")"
run --store "sqlite:$TMP/dir.db" status agent-1
expect_has "$ERR" "'$TMP/dir.db' is a directory, not a store file" "a directory as the store is named so"
# a store that cannot be opened says why (SQLite's "unable to open database file" alone did not)
run --store "sqlite:$TMP/no-such-dir/x.db" list
expect_rc 3 "a store in a directory that does not exist"
expect_has "$ERR" "unable to open database file (its directory '$TMP/no-such-dir' does not exist)" "the missing directory is named"
touch "$TMP/plain-file"
run --store "sqlite:$TMP/plain-file/x.db" list
expect_has "$ERR" "('$TMP/plain-file' is not a directory)" "a file where the directory should be is named"
# a device is no store file, and nothing is made beside it (sqlite:/dev/null made
# /dev/null-journal, as root; a link to it stands in for it here)
ln -s /dev/null "$TMP/null.db"
run --store "sqlite:$TMP/null.db" status agent-1
expect_rc 3 "a device as the store"
expect_has "$ERR" "'$TMP/null.db' is not a regular file" "a device as the store is named so"
# (SQLite follows the link: the journal it made was /dev/null-journal; a test run as root
# without the check left one there)
[[ ! -e "$TMP/null.db-journal" && ! -e /dev/null-journal ]] && ok "nothing is made beside a device" ||
    not_ok "nothing is made beside a device" "$(ls -l /dev/null-journal "$TMP" 2>&1)"

# migrate and copy pay no heed to AGENTBUDGET_URL, even a malformed one
AGENTBUDGET_URL=garbage AGENTBUDGET_STORE="sqlite:$TMP/copy2.db" run migrate
expect_rc 0 "migrate with a malformed AGENTBUDGET_URL in the environment"
AGENTBUDGET_URL=garbage run copy --from "sqlite:$TMP/copy.db" --to "sqlite:$TMP/copy4.db"
expect_rc 0 "copy with a malformed AGENTBUDGET_URL in the environment"
for words in --help "status --help" "help status" "charge -h"; do
    # shellcheck disable=SC2086
    AGENTBUDGET_URL=garbage run $words
    expect_rc 0 "'$words' with a malformed AGENTBUDGET_URL in the environment"
done

# memory: is no source: with --force its empty store replaced the target
run copy --from memory: --to "sqlite:$TMP/target.db" --force
expect_rc 2 "copy from memory:"
expect_has "$ERR" "--from: memory: is a new, empty store" "it says why"
expect_eq "$(sqlite3 "$TMP/target.db" 'select count(*) from budgets')" "1" "the target keeps its budget"

# --until 0 would be the library's "no bound": every event, for "time < 0"
run events --until 0
expect_rc 2 "events --until 0"
expect_has "$ERR" "--until: must be 1 or more" "it says the rule"

# help and version on a stdout that cannot be written: exit 3, as every command
for words in --version version --help help "status --help"; do
    # shellcheck disable=SC2086
    "$AB" $words >/dev/full 2>"$TMP/err"
    RC=$?
    expect_rc 3 "'$words' to /dev/full"
done

# terminal escapes in argv reach neither the error on stderr nor a denial's reason on stdout
run set $'a\e]0;x\a'
[[ "$ERR" != *$'\e'* && "$ERR" != *$'\a'* && "$ERR" == *"'a?]0;x?'"* ]] &&
    ok "an error quoting argv shows control characters as '?'" ||
    not_ok "an error quoting argv shows control characters as '?'" "$(od -c <<<"$ERR" | head -3)"
run role set no-x --deny-tool 'X*'
run set esc-perm --role no-x
run permission esc-perm $'X\e[31mY'
expect_rc 1 "permission denied for a tool named with an escape"
[[ "$OUT" != *$'\e'* && "$OUT" == *"'X?[31mY'"* ]] && ok "the denial shows it as '?'" ||
    not_ok "the denial shows it as '?'" "$(od -c <<<"$OUT" | head -3)"
run token create --scope "" --role nobody
expect_has "$ERR" "--role: 'nobody' is neither agent nor admin" "a bad token role is named as given"

# an ancestor's counter saturated at INT64_MAX with a hold of 2,000,000 tokens over its limit of
# 1,000,000: "left" computed as limit - used - held wrapped to 9223372036853775809
run price set free --input 0 --output 0
for b in sat sat/a sat/b; do run set "$b" --model free; done
run charge sat/a --input 5000000000000000000 --output 0
run charge sat/b --input 5000000000000000000 --output 0
run reserve sat/a --input 2000000 --max-output 0
run set sat --limit tokens/day=1000000
run status sat
expect_has "$OUT" "used 9223372036854775807 held 2000000      left 0" \
    "status: nothing left past a saturated counter with a hold on top"

# token list: when a token expires, to the second (a token 2 s old read "expires" until the minute
# changed, the same minute it had expired in)
run token create --scope one-sec --role agent --expires 2s
run --json token list
at=$(jq -r 'select(.scope == "one-sec") | .expires_at' <<<"$OUT")
run token list
expect_has "$OUT" "expires $(date -u -d "@$((at / 1000))" '+%Y-%m-%d %H:%M:%S')Z" "token list shows its expiry to the second"
# and says "expired" from its expiry on, to the millisecond (it compared with the whole second:
# a token that expired at :38.302 read "expires" until :39): one that expires early in a second,
# looked at 50 ms after
for i in 1 2 3 4 5 6 7 8; do
    run --json token create --scope "exp-ms-$i" --role agent --expires 1
    at=$(jq -r .expires_at <<<"$OUT")
    ((at % 1000 < 600)) && break
done
python3 -c "import time; time.sleep(max(0, ($at + 50) / 1000 - time.time()))"
run token list
expect_has "$(grep "exp-ms-$i " <<<"$OUT")" "expired $(date -u -d "@$((at / 1000))" '+%Y-%m-%d %H:%M:%S')Z" "token list says expired from the millisecond it expired"

# one of a thing is said in the singular: "1 request", not "1 requests" (status, a denial)
run set one-req --limit requests/day=1
run check one-req --tokens 1
expect_eq "$OUT" 'allowed: 1 token, $0.000015' "check says 1 token"
run charge one-req --input 1 --output 0
expect_eq "$OUT" 'charged: 1 token, $0.000003' "charge says 1 token"
run list one-req
expect_has "$OUT" " 1 token today " "list says 1 token today"
run check one-req --tokens 0
expect_rc 1 "a second request past requests/day=1: denied"
expect_eq "$OUT$ERR" "denied: day limit of 'one-req' exceeded: requested 1 request, 0 requests left of 1 request" "the denial says 1 request"
run status one-req
expect_eq "$(grep -E '^(today|blocked) ' <<<"$OUT")" $'today      1 token, $0.000003, 1 request\nblocked    1 operation' "status says 1 token, 1 request today, 1 operation blocked"

finish
