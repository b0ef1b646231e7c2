#!/usr/bin/env bash
# `make install` delivers the library, the header, agentbudget.pc and the CLI: install into a
# temporary prefix, build a program with pkg-config alone, and run it and the installed CLI.
set -euo pipefail
BUILD=$1
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cmake --install "$BUILD" --prefix "$TMP/prefix" >/dev/null
LIBDIR=$(dirname "$(find "$TMP/prefix" -name agentbudget.pc)")/..
test -f "$TMP/prefix/include/agentbudget.h"
test -x "$TMP/prefix/bin/agentbudget"
cat >"$TMP/ex.c" <<'C'
#include <agentbudget.h>
#include <stdio.h>
int main(void)
{
    ab_store *st;
    ab_decision d;
    ab_usage u = {.input = 10000, .output = 30000};
    if (ab_store_open("memory:", &st) != AB_OK)
        return 1;
    ab_budget_set(st, "a", &(ab_budget_spec){0}, NULL, NULL);
    if (ab_budget_charge(st, "a", NULL, &u, NULL, &d) != AB_OK)
        return 1;
    char buf[32];
    printf("%s\n", ab_usd_format(d.cost_nusd, buf, sizeof buf));
    ab_store_close(st);
    return 0;
}
C
export PKG_CONFIG_PATH="$LIBDIR/pkgconfig"
# shellcheck disable=SC2046
cc ${EXTRA_CFLAGS:-} "$TMP/ex.c" -o "$TMP/ex" $(pkg-config --cflags --libs agentbudget)
out=$(LD_LIBRARY_PATH="$LIBDIR" "$TMP/ex")
[ "$out" = "0.48" ] || { echo "installed library printed '$out', expected 0.48"; exit 1; }
"$TMP/prefix/bin/agentbudget" --version | grep -q '^agentbudget ' 
echo "install: 1 passed, 0 failed"
