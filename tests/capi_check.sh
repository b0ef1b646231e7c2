#!/usr/bin/env bash
# The shared library, its header and docs/c-api.md must name the same functions: every function
# the header declares is exported (and nothing else is: the internal ab__ ones stay inside), and
# every exported function is described in the C API reference.
set -euo pipefail
LIB=$1
HEADER=$2
DOC=$3
exported=$(nm -D --defined-only "$LIB" | awk '$2 == "T" || $2 == "W" { print $3 }' | sort -u)
# declarations: a line starting with a type whose first call-like name is ab_<letter>…(
declared=$(grep -E '^[a-z][a-z0-9_ ]*[ *]ab_[a-z][a-z0-9_]*\(' "$HEADER" |
    sed -E 's/^[^(]*[ *](ab_[a-z][a-z0-9_]*)\(.*/\1/' | sort -u)
failed=0
if [ "$exported" != "$declared" ]; then
    echo "the library's exported functions and $HEADER's declarations disagree (< exported, > declared):"
    diff <(echo "$exported") <(echo "$declared") || true
    failed=1
fi
missing=$(for f in $exported; do grep -qE "\b$f\(" "$DOC" || echo "$f"; done)
if [ -n "$missing" ]; then
    echo "exported but not in $DOC:" $missing
    failed=1
fi
n=$(echo "$exported" | wc -l)
if [ $failed = 0 ]; then
    echo "capi: $n functions exported, declared and documented; 1 passed, 0 failed"
    exit 0
fi
echo "capi: 0 passed, 1 failed"
exit 1
