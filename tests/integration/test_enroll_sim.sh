#!/bin/sh
# SIM-card and Bluetooth keys (DESIGN's "advanced protection" beyond USB):
# `keyward enroll --batch` provisions a PIV applet behind a PC/SC SIM reader
# (logical channel, uicc:), one behind a cellular modem's AT port (at:) and
# a Bluetooth key (ble:, BlueZ mocked on a private D-Bus), from the same KMS
# as USB tokens. Checks each token's 9C (generated, certified) and 9D (the
# directory certificate's key), by transport URI; signing keys are P-256.
set -u

B=${KW_TOP_BUILDDIR:-$(pwd)}
S=${KW_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
skip() { echo "SKIP: $*"; exit 77; }

if [ -z "${KEYWARD_TESTENV_DIR:-}" ]; then
	for f in tools/keyward/keyward tools/testenv/keyward-testenv kms/keyward-kmsd; do
		[ -x "$B/$f" ] || skip "$f not built"
	done
	for c in pcscd python3 openssl curl softhsm2-util; do
		command -v $c >/dev/null 2>&1 || skip "$c not installed"
	done
	KW_TOP_BUILDDIR=$B KW_TOP_SRCDIR=$S "$B/tools/testenv/keyward-testenv" run \
		--tokens 3 --token-kind uicc,modem,ble --attest-ca --timeout 300 -- sh "$0" "$@"
	rc=$?
	[ $rc -eq 125 ] && skip "keyward-testenv cannot run in this environment"
	exit $rc
fi

export KW_TOP_BUILDDIR=$B KW_TOP_SRCDIR=$S
KMS_TEST_LIMIT=280
. "$S/tests/kms/kms-env.sh"
kms_env_up
. "$S/tests/integration/enroll-lib.sh"
set +e
FAILS=0
bad() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
good() { echo "ok - $*"; }
U0=$KEYWARD_TESTENV_URI_0
U1=$KEYWARD_TESTENV_URI_1
U2=$KEYWARD_TESTENV_URI_2
cd "$W" || exit 1
printf '246810\n' >pin
printf '13579135\n' >puk
case "$U0 $U1 $U2" in uicc:*" at:"*" ble:"*) good "tokens on uicc:, at: and ble: ($U0 $U1 $U2)" ;;
*) bad "token URIs $U0 $U1 $U2" ;; esac
ADDR0=sim-user@example.test ADDR1=modem-user@example.test ADDR2=ble-user@example.test

cat >batch.txt <<EOF2
$ADDR0, $U0, pin, puk
$ADDR1, $U1, pin, puk
$ADDR2, $U2, pin, puk
EOF2
rm -f "$T"/mail/*.eml batch.done
{ for a in $ADDR0 $ADDR1 $ADDR2; do mail_value_until $a batch.done; done; } | {
	"$KEYWARD" enroll --batch batch.txt --kms "$FRONT" --kms-ca "$FRONT_CERT" --sign-alg eccp256 >batch.txt.out 2>batch.err
	echo $? >batch.rc
	touch batch.done
}
[ "$(cat batch.rc)" = 0 ] && grep -q "3 enrolled, 0 failed" batch.txt.out && good "batch over uicc:, at: and ble: enrolled all three" ||
	{ bad "batch (rc $(cat batch.rc))"; cat batch.txt.out batch.err; }

for i in 0 1 2; do
	eval "u=\$U$i addr=\$ADDR$i"
	"$KEYWARD" status --token "$u" --json >st$i.json
	curl -s --cacert "$FRONT_CERT" "$FRONT/v1/directory?email=$addr" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["cert"], end="")' >dir$i.pem
	want=$(openssl x509 -in dir$i.pem -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -c1-64)
	python3 - st$i.json "$want" <<'EOF2' && good "token $i: 9C P-256 generated+certified, 9D = directory key" || bad "token $i state"
import json, sys
j = json.load(open(sys.argv[1]))
s = {x["slot"]: x for x in j["slots"]}
ok = (s["9c"]["key"]["origin"] == "generated" and s["9c"]["key"]["algorithm"] == "eccp256" and s["9c"]["certificate_matches_key"] and
      s["9d"]["key"]["origin"] == "imported" and s["9d"]["certificate_matches_key"] and
      s["9d"]["public_key_sha256"].lower() == sys.argv[2])
sys.exit(0 if ok else 1)
EOF2
done

echo "$FAILS failure(s)"
[ $FAILS -eq 0 ]
