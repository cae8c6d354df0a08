#!/bin/sh
# Two programs using the same token at once: p11_threads (2 threads, RSA 9A +
# P-256 9C) and a loop of pkcs11-tool signatures with 9A, started together;
# both must finish with every signature verified, and their signing phases
# must overlap in time. (Reference modules: ykcs11 intermittently reports no
# token, CKR_TOKEN_NOT_PRESENT, while the other process holds the card.)
set -eu
. "${KW_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/interop/lib.sh"
kwi_init "$0" "$@"

prog=$KWI_BUILD/p11_threads
[ -x "$prog" ] || kwi_fail "$prog not built (make check builds it)"

loop_pkcs11_tool() {
	i=0
	printf 'start=%s\n' "$(date +%s.%N)"
	while [ $i -lt 12 ]; do
		printf 'pkcs11-tool message %d\n' $i >"msg-$i.txt"
		kwi_client pkcs11-tool --module "$MODULE" --login --pin "$KWI_PIN" --sign --id 01 \
			-m SHA256-RSA-PKCS -i "msg-$i.txt" -o "sig-$i.bin" >"sign-$i.log" 2>&1 ||
			{ echo "pkcs11-tool signature $i failed"; cat "sign-$i.log"; return 1; }
		openssl dgst -sha256 -verify "$FIX/slot-9a.pub" -signature "sig-$i.bin" "msg-$i.txt" >/dev/null 2>&1 ||
			{ echo "pkcs11-tool signature $i does not verify"; return 1; }
		[ $i -eq 0 ] && printf 'first=%s\n' "$(date +%s.%N)"
		i=$((i + 1))
	done
	printf 'end=%s\n' "$(date +%s.%N)"
	echo "pkcs11-tool: 12 signatures verified"
}

"$prog" --module "$MODULE" --threads 2 --iterations 25 --min-seconds 3 --ids 01,02 >a.log 2>&1 &
pa=$!
loop_pkcs11_tool >b.log 2>&1 &
pb=$!
ra=0 rb=0
wait $pa || ra=$?
wait $pb || rb=$?
cat a.log b.log >&2
[ $ra -eq 0 ] || kwi_fail "p11_threads process failed (exit $ra) while pkcs11-tool ran"
[ $rb -eq 0 ] || kwi_fail "pkcs11-tool process failed while p11_threads ran"
grep -qE ' 2 threads, ([5-9][0-9]|[1-9][0-9][0-9]+) signatures verified, 0 failures' a.log ||
	kwi_fail "p11_threads did not verify at least 50 signatures without failure"
# Overlap: A signed from sa to ea (at least 3 s); B ran its signatures from
# sb to eb; each interval began before the other ended. (Whether B got the
# card while A was hammering it, "first", is pcscd's fairness: logged only.)
sa=$(sed -n 's/^start=\([0-9.]*\) end=.*/\1/p' a.log) ea=$(sed -n 's/.* end=\([0-9.]*\)$/\1/p' a.log)
sb=$(sed -n 's/^start=//p' b.log) eb=$(sed -n 's/^end=//p' b.log)
awk -v sa="$sa" -v ea="$ea" -v sb="$sb" -v eb="$eb" 'BEGIN { exit !(sa < eb && sb < ea) }' ||
	kwi_fail "the two processes did not overlap (a: $sa-$ea, b: $sb-$eb): test is meaningless"
fb=$(sed -n 's/^first=//p' b.log)
kwi_log "B's first signature done at $fb, A signing until $ea"
kwi_pass "two processes signing at once (overlap $sa-$ea / $sb-$eb): all signatures verified"
