#!/usr/bin/env bash
# The module layering of docs/architecture.md, enforced. Reads the doc's
# "layers" block (module -> modules whose public headers it may use) and
# its "layers-exceptions" block (file, module, reason), then checks every
# file under src/ and include/linesec/ of ROOT:
#  - an include of include/linesec/<m>.h, or a forward declaration of m's
#    handle (struct lsec_<m>), needs m in the file's module's row;
#  - src/<m>/ (the private header) is included by module m alone;
#  - every module directory has a row; every exception is still needed.
# Each failure names the file, the line, the include and the rule.
set -euo pipefail
root=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
doc=$root/docs/architecture.md
[ -f "$doc" ] || { echo "arch: $doc not found"; exit 1; }

# The lines of the doc's fenced block NAME, without comments and blank lines.
block() {
	awk -v name="$1" '$0 == "```" name { on = 1; next } on && /^```/ { exit }
		on { sub(/#.*/, ""); if (NF) print }' "$doc"
}

declare -A allow=() excuse=() used=()
while read -r mod deps; do
	allow[$mod]=" $deps "
done < <(block layers)
[ ${#allow[@]} -gt 0 ] || { echo "arch: no \`\`\`layers block in $doc"; exit 1; }
while read -r file mod reason; do
	[ -n "$reason" ] || { echo "arch: exception '$file $mod' in $doc gives no reason"; exit 1; }
	excuse["$file $mod"]=$reason
done < <(block layers-exceptions)

fail=0
violation() { echo "$1"; fail=1; }

# check FILE LINE WHAT OWN USED: module OWN uses module USED's public header.
check_public() {
	local file=$1 line=$2 what=$3 own=$4 used_mod=$5
	[ "$own" = "$used_mod" ] && return 0
	case ${allow[$own]} in *" * "* | *" $used_mod "*) return 0 ;; esac
	if [ -n "${excuse["$file $used_mod"]+x}" ]; then
		used["$file $used_mod"]=1
		return 0
	fi
	local may=${allow[$own]# }
	may=${may% }
	violation "$file:$line: $what: module '$own' may not use module '$used_mod' ('$own' may use: ${may:-no other module}; docs/architecture.md)"
}

# REPLY: PATH with "." and ".." resolved (no file system access).
normalize() {
	local IFS=/ part
	local -a out=()
	for part in $1; do
		case $part in
		'' | .) ;;
		..) [ ${#out[@]} -gt 0 ] && unset 'out[-1]' ;;
		*) out+=("$part") ;;
		esac
	done
	REPLY="${out[*]}"
}

# REPLY: the file of the tree an include in FILE names (relative to ROOT),
# or nothing: beside FILE (quoted includes only), then include/, then src/.
resolve() {
	local file=$1 target=$2 quoted=$3 c
	local -a cands=("include/$target" "src/$target")
	[ "$quoted" = 1 ] && cands=("${file%/*}/$target" "${cands[@]}")
	for c in "${cands[@]}"; do
		normalize "$c"
		[ -f "$root/$REPLY" ] && return 0
	done
	REPLY=
}

# REPLY: the module FILE belongs to, or nothing.
module_of() {
	case $1 in
	src/*/*) REPLY=${1#src/}; REPLY=${REPLY%%/*} ;;
	include/linesec/*.h) REPLY=${1#include/linesec/}; REPLY=${REPLY%.h} ;;
	*) REPLY= ;;
	esac
}

cd "$root"
mapfile -t all < <(find src include/linesec -type f \( -name '*.c' -o -name '*.h' \) | sort)
files=0
uses=0
for file in "${all[@]}"; do
	module_of "$file"
	[ -n "$REPLY" ] || continue
	files=$((files + 1))
	[ -n "${allow[$REPLY]+x}" ] ||
		violation "$file: module '$REPLY' has no row in the layers table of docs/architecture.md"
done

while IFS=: read -r file line text; do
	module_of "$file"
	own=$REPLY
	[ -n "$own" ] && [ -n "${allow[$own]+x}" ] || continue
	[[ $text =~ ^[[:space:]]*#[[:space:]]*include[[:space:]]*([\"\<])([^\"\>]+)([\"\>]) ]] || continue
	quoted=0
	[ "${BASH_REMATCH[1]}" = '"' ] && quoted=1
	target=${BASH_REMATCH[2]}
	what="#include ${BASH_REMATCH[1]}$target${BASH_REMATCH[3]}"
	resolve "$file" "$target" "$quoted"
	path=$REPLY
	if [ -z "$path" ]; then
		[ $quoted = 0 ] ||
			violation "$file:$line: $what: not a file of the tree (src/, include/ or beside $file)"
		continue
	fi
	case $path in
	include/linesec/*.h)
		m=${path#include/linesec/}
		uses=$((uses + 1))
		check_public "$file" "$line" "$what" "$own" "${m%.h}"
		;;
	src/*/*)
		m=${path#src/}
		m=${m%%/*}
		uses=$((uses + 1))
		[ "$m" = "$own" ] ||
			violation "$file:$line: $what: $path is private to module '$m'; use include/linesec/$m.h (docs/architecture.md)"
		;;
	*) ;;
	esac
done < <(grep -nHE '^[[:space:]]*#[[:space:]]*include' "${all[@]}" || true)

# A forward-declared handle of another module is a use of that module.
while IFS=: read -r file line text; do
	module_of "$file"
	own=$REPLY
	m=${text##*lsec_}
	[ -n "$own" ] && [ -n "${allow[$own]+x}" ] && [ -n "${allow[$m]+x}" ] || continue
	uses=$((uses + 1))
	check_public "$file" "$line" "struct lsec_$m" "$own" "$m"
done < <(grep -nHoE '\bstruct[[:space:]]+lsec_[a-z]+\b' "${all[@]}" || true)

for k in "${!excuse[@]}"; do
	[ -n "${used[$k]+x}" ] ||
		violation "exception '$k' in docs/architecture.md is no longer needed: remove it"
done
[ $fail = 0 ] || exit 1
echo "arch: $files files, $uses module uses checked against docs/architecture.md, ${#excuse[@]} exceptions"
