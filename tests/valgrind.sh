#!/bin/sh
# valgrind.sh PROGRAM [ARGS...] - run a test suite under valgrind memcheck:
# any error or definite leak fails it. Check's fork mode stays on; forked
# children are checked too. Case timeouts are stretched for the slowdown
# and the stress suite runs a smaller workload.
export CK_TIMEOUT_MULTIPLIER=${CK_TIMEOUT_MULTIPLIER:-10}
export LEASEHOLD_STRESS_JOBS=${LEASEHOLD_STRESS_JOBS:-100}
exec valgrind --quiet --error-exitcode=1 --leak-check=full \
    --errors-for-leak-kinds=definite --show-leak-kinds=definite \
    --suppressions="$(dirname "$0")/valgrind.supp" "$@"
