#!/bin/sh
# 8 threads of one process signing on one token (RSA 9A and PIN-always P-256
# 9C, round robin), every signature verified (tests/interop/p11_threads.c).
set -eu
. "${KW_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/interop/lib.sh"
kwi_init "$0" "$@"

prog=$KWI_BUILD/p11_threads
[ -x "$prog" ] || kwi_fail "$prog not built (make check builds it)"
# Reference modules only: OpenSC and ykcs11 keep the CKU_CONTEXT_SPECIFIC
# login per token, not per session, so threads racing on the PIN-always 9C key
# fail there (CKR_USER_NOT_LOGGED_IN / CKR_OPERATION_NOT_INITIALIZED): they
# are checked with 9A (+ 9D for ykcs11; OpenSC refuses to sign with 9D).
# keyward must do the PIN-always key from 8 threads.
case $KWI_FLAVOUR in
opensc) ids=01 ;;
ykcs11) ids=01,03 ;;
*) ids=01,02 ;;
esac
# p11_threads is built with the tree's flags (ASan included): no preload.
"$prog" --module "$MODULE" --threads 8 --iterations 6 --ids "$ids" >threads.log 2>&1 ||
	{ cat threads.log >&2; kwi_fail "p11_threads: failures with 8 threads"; }
cat threads.log >&2
grep -q ' 48 signatures verified, 0 failures' threads.log || kwi_fail "p11_threads did not verify 48 signatures"
kwi_pass "8 threads, 48 signatures (keys $ids), all verified"
