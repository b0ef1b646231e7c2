#!/usr/bin/env bash
# man_check.sh — the manual pages name what the programs' --help names: every option of
# agentbudgetd and its environment variable in agentbudgetd.8; every command of agentbudget and
# every option of each in agentbudget.1. A flag added to the code and not to its page fails here,
# and one a page names that the code does not take.
# usage: man_check.sh PATH-TO-agentbudget PATH-TO-agentbudgetd DOCS-DIR
set -u
AB=$1 ABD=$2 DOCS=$3
fail=0 pass=0
plain() { sed 's/\\//g' "$1"; } # roff's \- and \& taken out: --listen, not \-\-listen
missing() { # missing PAGE WORD...: the words the page does not hold
    local page=$1 w
    shift
    for w in "$@"; do grep -qF -- "$w" <<<"$page" || echo "$w"; done
}
check() { # check WHAT MISSING-LIST
    if [[ -z $2 ]]; then pass=$((pass + 1)); else
        fail=$((fail + 1))
        echo "FAIL: $1:" $2
    fi
}
d_page=$(plain "$DOCS/agentbudgetd.8")
d_help=$("$ABD" --help)
check "agentbudgetd's options not in the page" "$(missing "$d_page" $(grep -o -- '--[a-z][a-z-]*' <<<"$d_help" | sort -u))"
check "agentbudgetd's environment variables not in the page" "$(missing "$d_page" $(grep -oE 'AGENTBUDGETD?_[A-Z_]+' <<<"$d_help" | sort -u))"
a_page=$(plain "$DOCS/agentbudget.1")
cmds=$("$AB" --help | awk '/^commands:/ { f = 1; next } f && /^  [a-z]/ { print $1 } f && /^$/ { exit }')
[[ $(wc -w <<<"$cmds") -ge 20 ]] || { echo "FAIL: read only $(wc -w <<<"$cmds") commands from agentbudget --help"; fail=$((fail + 1)); }
check "agentbudget's commands not in the page" "$(missing "$a_page" $cmds)"
check "agentbudget's global options not in the page" "$(missing "$a_page" $("$AB" --help | grep -o -- '--[a-z][a-z-]*' | sort -u))"
for c in $cmds; do
    opts=$("$AB" "$c" --help 2>&1 | grep -o -- '--[a-z][a-z-]*' | sort -u)
    check "agentbudget $c's options not in the page" "$(missing "$a_page" $opts)"
done
# and the other way: every option a page names is one the programs take (--name is the page's
# own placeholder, "--name value"); a page that names a flag the code lacks fails here
extra() { # extra PAGE HELP: the options PAGE names that HELP does not
    comm -13 <(grep -o -- '--[a-z][a-z-]*' <<<"$2" | sort -u) \
        <(grep -o -- '--[a-z][a-z-]*' <<<"$1" | grep -vx -- '--name' | sort -u)
}
check "options agentbudgetd.8 names that agentbudgetd --help does not" "$(extra "$d_page" "$d_help")"
a_help=$({
    "$AB" --help
    for c in $cmds; do "$AB" "$c" --help 2>&1; done
    for s in "role set" "price set" "price import" "hook install" "hook uninstall" \
        "hook claude-code" "token create" "store copy"; do
        "$AB" $s --help 2>&1
    done
})
check "options agentbudget.1 names that no agentbudget --help does" "$(extra "$a_page" "$a_help")"
echo "man_check: $pass passed, $fail failed"
[[ $fail == 0 ]]
