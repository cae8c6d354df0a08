#!/bin/sh
# SIM-card keys through a PC/SC SIM reader: keyward-vcard --uicc on vpcd
# (the PIV applet only on logical channels, a USIM on the basic channel).
# A token is provisioned by yubico-piv-tool as a plain PIV token, then
# restarted as a UICC (same state) by keyward-testenv --token-kind uicc. Through the uicc
# transport (configured by KEYWARD_UICC_READERS): `keyward list`, pkcs11-tool
# -O, RSA/ECDSA signatures and RSA decryption checked with openssl. Meanwhile
# a second logical-channel user (kw-sim-probe) keeps its own PIV session
# (selected, PIN verified) and must find it intact afterwards; the USIM's
# selection and EF_IMSI on the basic channel are unchanged; the trace shows
# no basic-channel command from keyward but MANAGE CHANNEL and a refused
# PIV SELECT, and every channel it opened closed again. A warm reset by
# another process: the channel is reopened and its PIN status is gone.
. "${KW_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
kw_init "$0" "$@"
kw_need yubico-piv-tool pkcs11-tool openssl
. "$KW_SRC/pki.sh"
. "$KW_SRC/provision.sh"
. "$KW_SRC/test_sim_lib.sh"
kw_need_file "$SIM_MOD" "$SIM_PROBE" "$SIM_VCARD"

case ${SIM_PHASE:-} in
'')
	SIM_STATE=$KW_TMP/state
	mkdir -p "$SIM_STATE" || kw_fail "mkdir $SIM_STATE"
	sim_testenv 200 provision || exit $?
	sim_testenv 200 uicc -- --token-kind uicc
	exit $?
	;;
provision)
	kw_provision "$KW_TMP"
	exit 0
	;;
esac

R=$(kw_reader 0)
TRACE=$KEYWARD_TESTENV_DIR/token-0.trace
# keyward-testenv names the SIM's reader for keyward (KEYWARD_UICC_READERS)
[ "$KEYWARD_TESTENV_URI_0" = "uicc:pcsc:$R" ] || kw_fail "KEYWARD_TESTENV_URI_0"
[ "$KEYWARD_UICC_READERS" = "$R;" ] || kw_fail "KEYWARD_UICC_READERS from keyward-testenv"
export KEYWARD_CONF=/nonexistent/keyward.conf
cd "$KW_TMP" || kw_fail "cd $KW_TMP"
export XDG_CACHE_HOME="$KW_TMP/cache"
: >"$TRACE"

# --- the telecom side: USIM selected on the basic channel, EF_IMSI read ----------
USIM=00A4040407A0000000871002
kw_run "$SIM_PROBE" --uri "pcsc:$R" "$USIM" 00A4000C026F07 00B0000009 80F2000100
sed -n '3,4p' "$KW_OUT" >basic-before.txt
kw_grep '^0829.*9000$' basic-before.txt "EF_IMSI"
kw_grep '^840CA0000000871002' basic-before.txt "STATUS (USIM selected)"
kw_run "$SIM_PROBE" --uri "pcsc:$R" 00A4040005A00000030800 00FD000000
[ "$(tr '\n' ' ' <"$KW_OUT")" = "6A82 6D00 " ] || kw_fail "PIV reachable on the basic channel"
kw_pass "basic channel: USIM selected, PIV not reachable there"

# --- a second logical-channel user, PIV selected and PIN verified ---------------
rm -f go
: >second.txt
"$SIM_PROBE" --uri "uicc:pcsc:$R" 00A4040005A00000030800 0020008008313233343536FFFF \
	wait:go 0020008000 00FD000000 >second.txt 2>second.err &
second=$!
n=0
while [ "$(wc -l <second.txt)" -lt 2 ] && [ "$n" -lt 600 ] && kill -0 "$second" 2>/dev/null; do
	sleep 0.1
	n=$((n + 1))
done
cat second.err >&2
kw_grep '^9000$' second.txt "second user's VERIFY"

# --- keyward and keyward-pkcs11 through the uicc transport -----------------------
kw_run "$KW_TOP_BUILDDIR/tools/keyward/keyward" list
kw_grep "uri: *uicc:pcsc:$R" "$KW_OUT" "keyward list"
p11 -L
kw_grep "token label *: keyward PIV #" "$KW_OUT" "token in the slot list"
sim_objects
kw_pass "objects listed through logical channel(s)"
sim_sign "$KW_TMP"
kw_pass "RSA and ECDSA signatures, RSA decryption through the UICC"

# --- the second user is undisturbed -----------------------------------------------
touch go
n=0
while kill -0 "$second" 2>/dev/null && [ "$n" -lt 600 ]; do sleep 0.1; n=$((n + 1)); done
wait "$second" || { cat second.err >&2; kw_fail "the second user failed"; }
[ "$(sed -n 3p second.txt)" = 9000 ] || kw_fail "the second user's PIN status was lost"
kw_grep '^0504039000$' second.txt "the second user's PIV session"
kw_pass "a second logical-channel user kept its PIV session and PIN status"

# --- the basic channel is untouched -----------------------------------------------
kw_run "$SIM_PROBE" --uri "pcsc:$R" 00B0000009 80F2000100
cmp -s "$KW_OUT" basic-before.txt || {
	diff basic-before.txt "$KW_OUT" >&2
	kw_fail "the basic channel's selection or EF_IMSI changed"
}
# Basic-channel commands: the probes' own (A4 USIM/6F07, B0, F2, the refused
# PIV SELECT + FD) and MANAGE CHANNEL; keyward's PIV SELECTs there must fail.
awk '/^> / { cmd = $2; next }
     /^< / { ins = substr(cmd, 3, 2)
             basic = index("0189", substr(cmd, 1, 1)) > 0 && index("048C", substr(cmd, 2, 1)) > 0
             if (!basic || ins == "70") next
             if (ins == "A4" && cmd ~ /A00000030800$/ && $2 != "6A82") print "PIV selected:", cmd
             else if (ins != "A4" && ins != "B0" && ins != "F2" && ins != "FD") print "basic:", cmd }' \
	"$TRACE" >basic-cmds.txt
[ -s basic-cmds.txt ] && { cat basic-cmds.txt >&2; kw_fail "unexpected basic-channel commands"; }
opened=$(grep -c '^> 0070000001$' "$TRACE")
closed=$(grep -c '^> 007080' "$TRACE")
[ "$opened" -ge 3 ] && [ "$opened" = "$closed" ] ||
	kw_fail "logical channels: $opened opened, $closed closed"
kw_pass "basic channel untouched (USIM selected, EF_IMSI same), $opened channels opened and closed"

# --- a reset by another process: the channel is reopened, its PIN status gone ----
rm -f go2
: >reset.txt
"$SIM_PROBE" --uri "uicc:pcsc:$R" 00A4040005A00000030800 0020008008313233343536FFFF \
	wait:go2 0020008000 00A4040005A00000030800 0020008000 00FD000000 >reset.txt 2>reset.err &
probe=$!
n=0
while [ "$(wc -l <reset.txt)" -lt 2 ] && [ "$n" -lt 600 ] && kill -0 "$probe" 2>/dev/null; do
	sleep 0.1
	n=$((n + 1))
done
"$KW_TOP_BUILDDIR/drivers/pcsc/kw-pcsc-probe" --uri "pcsc:$R" --reset --loops 1 >reset-by.txt 2>&1
touch go2
wait "$probe"
[ "$(sed -n 2p reset.txt)" = 9000 ] || kw_fail "VERIFY before the reset"
kw_grep '^ERR ' reset.txt "the reset seen once"
[ "$(sed -n 5p reset.txt)" = 63C3 ] || { cat reset.txt >&2; kw_fail "PIN status after the reset"; }
[ "$(sed -n 6p reset.txt)" = 0504039000 ] || kw_fail "PIV on the reopened channel"
sim_no_channels "$R"
kw_pass "after a reset the channel is reopened (PIN status gone); no channel left open"
