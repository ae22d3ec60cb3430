#!/usr/bin/env bash
# The exported API of liblinesec is exactly tests/abi/symbols.txt: a new
# public function is a deliberate change (update the list with
# scripts/abi-update), and no internal symbol (lsec_<module>__...) or
# helper leaks out of the library.
set -euo pipefail
lib=${1:?usage: check.sh LIBLINESEC.so}
list=$(dirname "$0")/symbols.txt
actual=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBR]$/ {print $3}' | grep '^lsec_' | sort)
if grep -q '__' <<<"$actual"; then
	echo "internal symbols exported:"; grep '__' <<<"$actual"; exit 1
fi
if ! diff -u "$list" <(echo "$actual"); then
	echo "the exported API differs from tests/abi/symbols.txt (+ exported, - listed); run scripts/abi-update if intended"
	exit 1
fi
echo "abi: $(wc -l <<<"$actual") exported functions, as listed"
