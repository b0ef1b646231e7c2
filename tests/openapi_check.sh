#!/usr/bin/env bash
# docs/openapi.yaml and the daemon's route table must name the same routes. A route table entry
# ending in '/' takes the rest of the URL; an OpenAPI path is cut at its first '{' to compare.
set -euo pipefail
DAEMON=$1
SPEC=$2
router=$("$DAEMON" --print-routes | sort -u)
spec=$(awk '
    /^  \/[^ ]*:$/ { path = substr($1, 1, length($1) - 1); next }
    /^    (get|put|post|delete|patch):/ && path != "" {
        m = toupper(substr($1, 1, length($1) - 1)); p = path
        i = index(p, "{"); if (i > 0) p = substr(p, 1, i - 1)
        print m " " p
    }
    /^[a-z]/ && $1 != "paths:" { path = "" }' "$SPEC" | sort -u)
if [ "$router" = "$spec" ]; then
    echo "openapi: $(echo "$router" | wc -l) routes agree; 1 passed, 0 failed"
    exit 0
fi
echo "the route table and $SPEC disagree (< router, > openapi):"
diff <(echo "$router") <(echo "$spec") || true
echo "openapi: 0 passed, 1 failed"
exit 1
