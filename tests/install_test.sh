#!/usr/bin/env bash
# `make install` delivers the library, the header, agentbudget.pc and the CLI: install into a
# temporary prefix, build a program with pkg-config alone, and run it and the installed CLI; the
# installed README's links to docs/… resolve; agentbudget.pc finds the header when LIBDIR is an
# absolute path of its own (configured only, in a scratch build directory).
# usage: install_test.sh BUILD-DIR SOURCE-DIR
set -euo pipefail
BUILD=$1
SRC=$2
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cmake --install "$BUILD" --prefix "$TMP/prefix" >/dev/null
LIBDIR=$(dirname "$(find "$TMP/prefix" -name agentbudget.pc)")/..
test -f "$TMP/prefix/include/agentbudget.h"
test -x "$TMP/prefix/bin/agentbudget"
# both manual pages, where man finds them (the unit's Documentation= names agentbudgetd(8))
test -f "$TMP/prefix/share/man/man1/agentbudget.1" || { echo "agentbudget.1 is not installed"; exit 1; }
test -f "$TMP/prefix/share/man/man8/agentbudgetd.8" || { echo "agentbudgetd.8 is not installed"; exit 1; }
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

DOC=$TMP/prefix/share/doc/agentbudget
links=$(grep -o '](docs/[^)#]*' "$DOC/README.md" | sed 's/^](//' | sort -u)
[ -n "$links" ] || { echo "the installed README links to no docs/ file"; exit 1; }
for l in $links; do
    [ -f "$DOC/$l" ] || { echo "the installed README links to $l: not installed at $DOC/$l"; exit 1; }
done

cmake -S "$SRC" -B "$TMP/abs" -DCMAKE_INSTALL_PREFIX=/opt/ab -DCMAKE_INSTALL_LIBDIR=/opt/ab/lib64 \
    >/dev/null
inc=$(pkg-config --define-variable=pcfiledir=/opt/ab/lib64/pkgconfig --variable=includedir \
    "$TMP/abs/agentbudget.pc")
lib=$(pkg-config --define-variable=pcfiledir=/opt/ab/lib64/pkgconfig --variable=libdir \
    "$TMP/abs/agentbudget.pc")
[ "$(realpath -m "$inc")" = /opt/ab/include ] && [ "$(realpath -m "$lib")" = /opt/ab/lib64 ] ||
    { echo "with LIBDIR /opt/ab/lib64: includedir '$inc', libdir '$lib'"; exit 1; }
echo "install: 3 passed, 0 failed"
