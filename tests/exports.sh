#!/bin/sh
# exports.sh - the shared library exports only lh_[a-z]* symbols.
set -eu
lib=${builddir:-.}/.libs/libleasehold.so
[ -f "$lib" ] || { echo "exports: $lib not built"; exit 1; }
bad=$(nm -D --defined-only "$lib" | awk '$2 ~ /[TDBR]/ {print $3}' | grep -v '^lh_[a-z]' || true)
if [ -n "$bad" ]; then
    echo "exports: unexpected symbols:"; echo "$bad"; exit 1
fi
n=$(nm -D --defined-only "$lib" | awk '$2 ~ /[TDBR]/' | grep -c ' lh_[a-z]')
echo "exports: $n lh_ symbols, nothing else"
echo "1 passed, 0 failed"
