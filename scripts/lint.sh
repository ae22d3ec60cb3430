#!/usr/bin/env bash
# House rules the compiler does not check: banned functions, raw allocation
# outside src/util, memcmp/strcmp where secrets live.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
report() { echo "lint: $1"; echo "$2" | sed 's/^/    /'; status=1; }

banned='\b(sprintf|vsprintf|strcpy|strcat|strncpy|gets|atoi|atol|strtok)[[:space:]]*\('
hits=$(grep -rnE "$banned" src include --include='*.c' --include='*.h' || true)
[ -n "$hits" ] && report "banned function (use snprintf, lsec_buf, strtoul, strtok_r)" "$hits"

raw='(^|[^_a-z])(malloc|calloc|realloc|free)[[:space:]]*\('
hits=$(grep -rnE "$raw" src --include='*.c' | grep -v '^src/util/' | grep -v 'lsec_' | grep -v '/\* allocated by' || true)
[ -n "$hits" ] && report "raw allocation outside src/util (use lsec_malloc/lsec_free)" "$hits"

ct='\b(memcmp|strcmp)[[:space:]]*\('
hits=$(grep -rnE "$ct" src/pki src/audit src/web src/station --include='*.c' 2>/dev/null | grep -v 'lint:ok' || true)
[ -n "$hits" ] && report "memcmp/strcmp in a module holding secrets (use lsec_ct_equal; mark non-secret comparisons with /* lint:ok */)" "$hits"

hits=$(grep -rnE '\bif[[:space:]]*\(([^=!<>()]|\([^()]*\))*[^=!<>]=[^=]' src --include='*.c' | grep -v '==' || true)
[ -n "$hits" ] && report "assignment in a condition" "$hits"

exit $status
