#!/usr/bin/env bash
# liblinesec needs none of the front ends' libraries (the
# "front-end-libraries" block of docs/architecture.md): only a front end
# and the executable link them.
set -euo pipefail
lib=${1:?usage: links.sh LIBLINESEC.so [SOURCE_DIR]}
doc=${2:-$(dirname "$0")/../..}/docs/architecture.md
needed=$(readelf -d "$lib" | awk '/\(NEEDED\)/ { gsub(/[][]/, "", $NF); print $NF }')
libs=$(awk '$0 == "```front-end-libraries" { on = 1; next } on && /^```/ { exit } on && NF { print $1 }' "$doc")
[ -n "$libs" ] || { echo "links: no \`\`\`front-end-libraries block in $doc"; exit 1; }
status=0
for l in $libs; do
	if grep -q "^$l\.so" <<<"$needed"; then
		echo "links: $lib needs $l, a front end's library (docs/architecture.md)"
		status=1
	fi
done
[ $status = 0 ] && echo "links: liblinesec needs $(wc -l <<<"$needed") libraries, no front end's"
exit $status
