#!/bin/sh
# header.sh - the public header compiles alone, as strict C99 and as C++.
set -eu
: "${CC:=cc}" "${CXX:=c++}"
src=${srcdir:-.}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '#include <leasehold.h>\nint main(void) { return lh_version()[0] == 0; }\n' > "$tmp/h.c"
# shellcheck disable=SC2086
$CC -std=c99 -pedantic -Wall -Wextra -Werror -I"$src/include" ${JANSSON_CFLAGS:-} \
    -fsyntax-only "$tmp/h.c"
echo "header: C99 ok"
if command -v "$CXX" >/dev/null 2>&1; then
    cp "$tmp/h.c" "$tmp/h.cc"
    # shellcheck disable=SC2086
    $CXX -std=c++11 -pedantic -Wall -Wextra -Werror -I"$src/include" \
        ${JANSSON_CFLAGS:-} -fsyntax-only "$tmp/h.cc"
    echo "header: C++ ok"
else
    echo "SKIP: header as C++ ($CXX not found)"
fi
echo "1 passed, 0 failed"
