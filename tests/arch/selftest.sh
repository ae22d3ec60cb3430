#!/usr/bin/env bash
# tests/arch/check.sh catches what it must: on scratch copies of the tree
# (src/, include/, docs/), each with one violation added, the check fails
# and names the file, the line, the include and the rule; the unchanged
# copy passes.
set -euo pipefail
src=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
check=$(dirname "$0")/check.sh
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lsec-arch-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
status=0

# A fresh copy of the tree in $tmp/tree.
scratch() {
	rm -rf "$tmp/tree"
	mkdir -p "$tmp/tree"
	cp -r "$src/src" "$src/include" "$src/docs" "$tmp/tree/"
}

# expect_fail NAME PATTERN...: the check fails on the scratch tree and its
# output holds every pattern (fixed strings).
expect_fail() {
	local name=$1 out p
	shift
	if out=$(bash "$check" "$tmp/tree" 2>&1); then
		echo "FAIL $name: the check passed"
		status=1
		return
	fi
	for p in "$@"; do
		if ! grep -qF -- "$p" <<<"$out"; then
			echo "FAIL $name: output lacks '$p':"
			echo "$out" | sed 's/^/    /'
			status=1
			return
		fi
	done
	echo "ok   $name: $(head -n 1 <<<"$out")"
}

# Appends LINE to FILE of the scratch tree and prints its line number.
add_line() {
	echo "$2" >>"$tmp/tree/$1"
	wc -l <"$tmp/tree/$1" | tr -d ' '
}

scratch
if out=$(bash "$check" "$tmp/tree" 2>&1); then
	echo "ok   unchanged copy passes: $out"
else
	echo "FAIL unchanged copy: $out"
	status=1
fi

# The device layer drives no registry.
scratch
n=$(add_line src/device/device.c '#include "linesec/store.h"')
expect_fail "device includes store.h" "src/device/device.c:$n:" '#include "linesec/store.h"' \
	"module 'device' may not use module 'store'"

# The base depends on nothing, angle brackets included.
scratch
n=$(add_line include/linesec/util.h '#include <linesec/image.h>')
expect_fail "util.h includes image.h" "include/linesec/util.h:$n:" '#include <linesec/image.h>' \
	"module 'util' may not use module 'image'" "no other module"

# A front end uses public headers only.
scratch
n=$(add_line src/cli/main.c '#include "store/store_int.h"')
expect_fail "cli includes store_int.h" "src/cli/main.c:$n:" '#include "store/store_int.h"' \
	"src/store/store_int.h is private to module 'store'"

# ... however the path is spelled.
scratch
n=$(add_line src/station/ship.c '#include "../device/device_int.h"')
expect_fail "station reaches device_int.h by ../" "src/station/ship.c:$n:" \
	'#include "../device/device_int.h"' "src/device/device_int.h is private to module 'device'"

# A forward-declared handle is a use without the include.
scratch
n=$(add_line include/linesec/image.h 'struct lsec_store;')
expect_fail "image.h declares struct lsec_store" "include/linesec/image.h:$n:" \
	"struct lsec_store" "module 'image' may not use module 'store'"

# A new module needs its row.
scratch
mkdir -p "$tmp/tree/src/gadget"
echo '#include "linesec/util.h"' >"$tmp/tree/src/gadget/gadget.c"
expect_fail "module without a row" "src/gadget/gadget.c: module 'gadget' has no row"

# An exception outlives its code: the check says to remove it.
scratch
sed -i '/#include "linesec\/audit.h"/d' "$tmp/tree/src/pki/record.c"
expect_fail "stale exception" "exception 'src/pki/record.c audit'" "no longer needed"

exit $status
