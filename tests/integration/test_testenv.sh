#!/bin/sh
# keyward-testenv on its own, with a stand-in token (kw_fake_vcard): readers and
# cards visible to PC/SC, the environment given to COMMAND, exit statuses,
# --timeout, state directories, --attest-ca, isolation from the host's network,
# and clear errors when a token cannot start.
. "${KW_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
kw_init "$0" "$@"
kw_need opensc-tool openssl timeout
[ -x "$KW_TESTENV" ] || kw_fail "$KW_TESTENV not built"
if [ "$(id -u)" != 0 ] && ! unshare -U -r -m -n true 2>/dev/null; then
	kw_skip "needs root or user namespaces"
fi
KEYWARD_VCARD=$KW_BUILD/kw_fake_vcard
export KEYWARD_VCARD
[ -x "$KEYWARD_VCARD" ] || kw_fail "$KEYWARD_VCARD not built"

# te ARGS...: run keyward-testenv (bounded); status in $st, stderr in $KW_TMP/err
te() {
	kw_log "\$ keyward-testenv $*"
	timeout -k 5 60 "$KW_TESTENV" "$@" >"$KW_TMP/out" 2>"$KW_TMP/err"
	st=$?
}
expect_status() {
	[ "$st" = "$1" ] && return 0
	sed 's/^/    | /' "$KW_TMP/out" "$KW_TMP/err" >&2
	kw_fail "exit status $st, expected $1"
}

# --- 3 tokens: readers, cards, environment, one APDU each -----------------------
cat >"$KW_TMP/inside.sh" <<'EOF'
set -e
out=$KW_TMP_OUTER/inside.out
echo "dir=$KEYWARD_TESTENV_DIR" >"$out"
env | grep '^KEYWARD_TESTENV_' | sort >>"$out"
opensc-tool -l >>"$out" 2>/dev/null
i=0
while [ "$i" -lt "$KEYWARD_TESTENV_TOKENS" ]; do
	eval "r=\$KEYWARD_TESTENV_READER_$i"
	opensc-tool -r "$r" -s 00A4040005A000000308 >>"$out" 2>&1 || true
	grep -c '^> 00A4040005A000000308$' "$KEYWARD_TESTENV_DIR/token-$i.trace" |
		sed "s/^/select-$i=/" >>"$out"
	cp "$KEYWARD_TESTENV_DIR/token-$i.state.args" "$KW_TMP_OUTER/args-$i"
	i=$((i + 1))
done
cat /proc/net/dev >>"$out"
EOF
KW_TMP_OUTER=$KW_TMP
export KW_TMP_OUTER
te run --tokens 3 -- sh "$KW_TMP/inside.sh"
expect_status 0
o=$KW_TMP/inside.out
kw_grep '^KEYWARD_TESTENV_TOKENS=3$' "$o"
kw_grep '^KEYWARD_TESTENV_READER_0=Yubico YubiKey keyward vcard 0 00 00$' "$o"
kw_grep '^KEYWARD_TESTENV_READER_1=Yubico YubiKey keyward vcard 0 00 01$' "$o"
kw_grep '^KEYWARD_TESTENV_READER_2=Yubico YubiKey keyward vcard 1 00 00$' "$o"
kw_grep '^KEYWARD_TESTENV_PORT_2=35965$' "$o"
kw_grep "^KEYWARD_TESTENV_VCARD=$KEYWARD_VCARD\$" "$o"
kw_grep '^0 +Yes +Yubico YubiKey keyward vcard 0 00 00$' "$o" "reader order"
kw_grep '^2 +Yes +Yubico YubiKey keyward vcard 1 00 00$' "$o" "reader order"
[ "$(grep -c 'Yes .*Yubico YubiKey keyward vcard' "$o")" = 3 ] ||
	kw_fail "3 readers with a card expected: $(cat "$o")"
for i in 0 1 2; do
	kw_grep "^select-$i=[1-9]" "$o" "trace of token $i"
	kw_grep "^127.0.0.1:3596$((3 + i))\$" "$KW_TMP/args-$i" "token $i --vpcd"
	kw_grep "^1000000$((1 + i))\$" "$KW_TMP/args-$i" "token $i --serial"
	kw_grep "^KEYWARD_TESTENV_SERIAL_$i=1000000$((1 + i))\$" "$o"
done
kw_grep 'SW1=0x6D, SW2=0x00' "$o" "the stand-in's answer to SELECT"
# the network namespace has only lo
kw_grep '^ *lo:' "$o" "/proc/net/dev"
kw_not_grep '^ *(eth|en|wl)[a-z0-9]*:' "$o" "/proc/net/dev"
dir=$(sed -n 's/^dir=//p' "$o")
[ -n "$dir" ] && [ ! -e "$dir" ] || kw_fail "temporary directory $dir not removed"
kw_pass "3 tokens visible, environment, traces, only lo, cleanup"

# --- exit status, signals, timeout ------------------------------------------------
te run -- sh -c 'exit 7'
expect_status 7
te run -- sh -c 'kill -TERM $$'
expect_status 143
t0=$(date +%s)
te run --timeout 2 -- sleep 30
expect_status 124
[ $(($(date +%s) - t0)) -lt 15 ] || kw_fail "--timeout 2 took $(($(date +%s) - t0)) s"
kw_grep 'timed out' "$KW_TMP/err"
te run -- /nonexistent/command
expect_status 127
kw_pass "exit statuses 7, 143, 124 (timeout), 127"

# --- what COMMAND leaves running is ended with it --------------------------------------
te run -- sh -c 'sleep 300 >/dev/null 2>&1 & echo $!'
expect_status 0
left=$(cat "$KW_TMP/out")
[ -n "$left" ] || kw_fail "no pid"
sleep 0.2
! kill -0 "$left" 2>/dev/null || kw_fail "COMMAND's background process $left survived"
kw_pass "leftover processes ended"

# --- a token that dies while COMMAND runs makes a successful run fail ------------------
te run -- sh -c 'kill -ABRT $(cat "$KEYWARD_TESTENV_DIR/token-0.pid"); sleep 1'
expect_status 1
kw_grep 'token 0 .*signal 6' "$KW_TMP/err"
kw_pass "a crashed token is reported"

# --- state dir kept and reused; --keep ----------------------------------------------
sd=$KW_TMP/state
te run --state-dir "$sd" -- sh -c 'test "$KEYWARD_TESTENV_DIR" = "'"$sd"'"'
expect_status 0
[ -f "$sd/token-0.state" ] && [ -f "$sd/token-0.trace" ] ||
	kw_fail "state dir not kept: $(ls "$sd")"
te run --state-dir "$sd" -- sh -c 'test -z "${KEYWARD_TESTENV_SERIAL_0:-}"'
expect_status 0
kw_not_grep '^--serial$' "$sd/token-0.state.args" "args for an existing state"
te run --keep -- sh -c 'echo "$KEYWARD_TESTENV_DIR"'
expect_status 0
kept=$(cat "$KW_TMP/out")
[ -d "$kept" ] || kw_fail "--keep did not keep $kept"
kw_grep "kept $kept" "$KW_TMP/err"
rm -rf "$kept"
kw_pass "--state-dir reused, --keep"

# --- --attest-ca ------------------------------------------------------------------------
te run --attest-ca --state-dir "$KW_TMP/ca" -- sh -c \
	'test "$KEYWARD_TESTENV_ATTEST_CA" = "$KEYWARD_TESTENV_DIR/attest-ca.pem"'
expect_status 0
kw_run openssl x509 -in "$KW_TMP/ca/attest-ca.pem" -noout -text
kw_grep 'CA:TRUE' "$KW_OUT"
kw_grep 'Certificate Sign' "$KW_OUT"
kw_run openssl verify -CAfile "$KW_TMP/ca/attest-ca.pem" "$KW_TMP/ca/attest-ca.pem"
openssl x509 -in "$KW_TMP/ca/attest-ca.pem" -noout -pubkey >"$KW_TMP/p1"
openssl pkey -in "$KW_TMP/ca/attest-ca.key" -pubout >"$KW_TMP/p2"
cmp -s "$KW_TMP/p1" "$KW_TMP/p2" || kw_fail "attest-ca.key does not match attest-ca.pem"
[ "$(stat -c %a "$KW_TMP/ca/attest-ca.key")" = 600 ] || kw_fail "attest-ca.key not 0600"
kw_grep '^--attest-ca-cert$' "$KW_TMP/ca/token-0.state.args"
kw_grep '^--attest-ca-key$' "$KW_TMP/ca/token-0.state.args"
kw_pass "--attest-ca"

# --- errors -----------------------------------------------------------------------------
KW_FAKE_VCARD_FAIL=1 te run -- true
expect_status 1
kw_grep 'token 0 .* exited with status 3 at start-up' "$KW_TMP/err"
kw_grep 'failing on purpose' "$KW_TMP/err"
KEYWARD_VCARD=/nonexistent/keyward-vcard te run -- true
expect_status 125
kw_grep 'not executable' "$KW_TMP/err"
KEYWARD_PCSCD=/nonexistent/pcscd te run -- true
expect_status 125
kw_grep 'apt-get install pcscd' "$KW_TMP/err"
KEYWARD_VPCD_DRIVER=/nonexistent/libifdvpcd.so te run -- true
expect_status 125
kw_grep 'apt-get install vsmartcard-vpcd' "$KW_TMP/err"
te run
expect_status 2
te run --tokens 17 -- true
expect_status 2
te run --token-kind pcsc,bogus --tokens 2 -- true
expect_status 2
kw_grep 'unknown kind "bogus"' "$KW_TMP/err"
te run --token-kind pcsc,pcsc -- true
expect_status 2
te --help
expect_status 0
kw_grep 'KEYWARD_TESTENV_DIR' "$KW_TMP/out"
kw_pass "errors"

# --- shell -------------------------------------------------------------------------
echo 'test -n "$KEYWARD_TESTENV_DIR" && exit 5' >"$KW_TMP/shell.in"
SHELL=/bin/sh te shell --tokens 2 <"$KW_TMP/shell.in"
expect_status 5
kw_grep 'token 1: pcsc in reader "Yubico YubiKey keyward vcard 0 00 01"' "$KW_TMP/err"
kw_pass "shell"

# --- --no-namespace, inside a namespace of our own that stands in for a host ----------
if [ "$(id -u)" = 0 ] && command -v ip >/dev/null 2>&1; then
	cat >"$KW_TMP/nons.sh" <<'EOF'
mkdir -p /run/pcscd && mount --make-rprivate / &&
	mount -t tmpfs tmpfs /run/pcscd && ip link set lo up || exit 99
"$KW_TESTENV" run --no-namespace -- sh -c '
	"$0" run --no-namespace -- true 2>"$1/inner.err"; echo "inner=$?"
	opensc-tool -l 2>/dev/null' "$KW_TESTENV" "$KW_TMP"
EOF
	kw_log "\$ unshare -m -n: keyward-testenv run --no-namespace"
	KW_TESTENV=$KW_TESTENV KW_TMP=$KW_TMP timeout 60 unshare -m -n sh "$KW_TMP/nons.sh" \
		>"$KW_TMP/out" 2>"$KW_TMP/err"
	st=$?
	expect_status 0
	kw_grep '^inner=125$' "$KW_TMP/out" "second --no-namespace run"
	kw_grep 'already running' "$KW_TMP/inner.err"
	kw_grep 'Yes .*Yubico YubiKey keyward vcard 0 00 00' "$KW_TMP/out"
	kw_grep 'vpcd listens on all interfaces' "$KW_TMP/err"
	kw_pass "--no-namespace"
fi

# --- unprivileged: a user namespace stands in for root -----------------------------------
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups env -u TMPDIR HOME=/ "$@"; }
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1 &&
	nobody unshare -U -r -m -n true 2>/dev/null &&
	nobody test -x "$KW_TESTENV" -a -x "$KEYWARD_VCARD" 2>/dev/null; then
	kw_log "\$ (as nobody) keyward-testenv run --tokens 2"
	timeout 60 setpriv --reuid=65534 --regid=65534 --clear-groups env -u TMPDIR HOME=/ \
		"$KW_TESTENV" run --tokens 2 -- sh -c 'opensc-tool -l 2>/dev/null' \
		>"$KW_TMP/out" 2>"$KW_TMP/err"
	st=$?
	expect_status 0
	[ "$(grep -c 'Yes .*Yubico YubiKey keyward vcard' "$KW_TMP/out")" = 2 ] ||
		kw_fail "2 cards expected as nobody: $(cat "$KW_TMP/out" "$KW_TMP/err")"
	kw_pass "unprivileged user (user namespace)"
else
	kw_log "unprivileged check not possible here (needs root, setpriv, user namespaces)"
fi

# --- isolation: the host never sees vpcd's port -------------------------------------
# /proc/net/tcp lists listening sockets (state 0A) of the caller's namespace.
listening() { grep -Ei ":8C7B [0-9A-F:]+ 0A " /proc/net/tcp >/dev/null; }
if listening; then
	kw_log "port 35963 already in use on the host: isolation check skipped"
else
	timeout 30 "$KW_TESTENV" run -- sleep 3 >/dev/null 2>&1 &
	bg=$!
	sleep 1.5
	seen=0
	listening && seen=1
	wait "$bg" || kw_fail "background keyward-testenv run failed"
	[ "$seen" = 0 ] || kw_fail "vpcd port 35963 visible in the host namespace"
	kw_pass "vpcd not reachable from the host namespace"
fi
exit 0
