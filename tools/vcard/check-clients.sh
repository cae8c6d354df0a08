#!/bin/sh
# Manual interop check of keyward-vcard against other people's PIV clients:
# yubico-piv-tool, OpenSC (pkcs11-tool with opensc-pkcs11.so, piv-tool,
# opensc-tool) and Yubico's ykcs11. Runs pcscd + vpcd + the vcard inside a
# private mount+network namespace (needs root: unshare -m -n), prints one
# line per check and exits non-zero if any failed.
#
#   tools/vcard/check-clients.sh BUILDDIR/tools/vcard/keyward-vcard [WORKDIR]
#
# The permanent automated versions live in tests/integration (keyward-testenv).
set -u
VCARD=${1:?usage: check-clients.sh PATH/TO/keyward-vcard [WORKDIR]}
WORK=${2:-$(mktemp -d /tmp/vcard-clients.XXXXXX)}
case $VCARD in /*) ;; *) VCARD=$(pwd)/$VCARD ;; esac
LIBDIR=/usr/lib/x86_64-linux-gnu
[ -d "$LIBDIR" ] || LIBDIR=$(dirname "$(find /usr/lib -name opensc-pkcs11.so | head -1)")
export VCARD WORK LIBDIR

if [ "${KW_CHECK_INNER:-}" != 1 ]; then
	mkdir -p "$WORK/rc"
	# yubico-piv-tool wants "Yubikey" in the reader name, ykcs11 "Yubico".
	printf '%s\n' 'FRIENDLYNAME "Yubico YubiKey keyward vcard"' \
	    'DEVICENAME /dev/null:0x8C7B' \
	    'LIBPATH /usr/lib/pcsc/drivers/serial/libifdvpcd.so' \
	    'CHANNELID 0x8C7B' > "$WORK/rc/vpcd"
	KW_CHECK_INNER=1 exec unshare -m -n sh "$0" "$@"
fi

ip link set lo up
mount -t tmpfs tmpfs /run/pcscd
cd "$WORK" || exit 1
pcscd --foreground --error -c "$WORK/rc" 2>/dev/null &
PCSCD=$!
sleep 0.5
rm -f token.state trace.log
"$VCARD" --state token.state --trace trace.log --serial 12345678 &
CARD=$!
sleep 1

fails=0
check() {
	name=$1
	shift
	if "$@" >>"$WORK/clients.log" 2>&1; then
		echo "ok    $name"
	else
		echo "FAIL  $name"
		fails=$((fails + 1))
	fi
}
Y=yubico-piv-tool
OSC=$LIBDIR/opensc-pkcs11.so
YK=$LIBDIR/libykcs11.so
PIN=123456

# Test CA and keys (yubico-piv-tool 2.2.0 cannot self-sign under OpenSSL 3:
# certificates come from openssl x509 -req -force_pubkey).
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -subj /CN=ca -days 30 2>/dev/null
openssl req -new -newkey rsa:2048 -nodes -keyout dummy.key -out dummy.csr -subj /CN=dummy 2>/dev/null
openssl genrsa -out k9d.pem 2048 2>/dev/null
openssl ecparam -name prime256v1 -genkey -noout -out k82.pem
openssl ecparam -name prime256v1 -genkey -noout -out peer.pem
openssl ec -in peer.pem -pubout -outform DER -out peer.der 2>/dev/null
echo "hello keyward" > data.txt
mkcert() { # PUB OUT CN
	openssl x509 -req -in dummy.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
	    -force_pubkey "$1" -out "$2" -days 30 -subj "/CN=$3" 2>/dev/null
}
certfor() { # KEY OUT CN
	openssl pkey -in "$1" -pubout -out "$1.pub" && mkcert "$1.pub" "$2" "$3"
}

check "ypt status" $Y -a status
check "ypt generate 9c P-256" $Y -a generate -s 9c -A ECCP256 -o p9c.pem
check "ypt generate 9a RSA-2048" $Y -a generate -s 9a -A RSA2048 -o p9a.pem
mkcert p9c.pem c9c.pem sig
mkcert p9a.pem c9a.pem auth
certfor k9d.pem c9d.pem enc
certfor k82.pem c82.pem oldenc
check "ypt import-certificate 9c" $Y -a import-certificate -s 9c -i c9c.pem
check "ypt import-certificate 9a" $Y -a import-certificate -s 9a -i c9a.pem
check "ypt import-key 9d RSA" $Y -a import-key -s 9d -i k9d.pem
check "ypt import-certificate 9d" $Y -a import-certificate -s 9d -i c9d.pem
check "ypt import-key 82 P-256" $Y -a import-key -s 82 -i k82.pem
check "ypt import-certificate 82" $Y -a import-certificate -s 82 -i c82.pem
printf 'C10101C20100FE00' | xxd -r -p > keyhistory.bin
check "ypt write key history 5fc10c" $Y -a write-object --id 0x5fc10c -f binary -i keyhistory.bin
check "ypt attest 9c" $Y -a attest -s 9c -o att9c.pem
check "ypt read f9 cert" $Y -a read-certificate -s f9 -o f9.pem
check "attestation verifies under f9" openssl verify -partial_chain -CAfile f9.pem att9c.pem
check "ypt attest 9d (imported) fails" sh -c "! $Y -a attest -s 9d"
check "ypt test-signature 9c" $Y -a verify-pin -P $PIN -a test-signature -s 9c -i c9c.pem
check "ypt test-decipher 9d" $Y -a verify-pin -P $PIN -a test-decipher -s 9d -i c9d.pem

check "opensc list objects" sh -c "pkcs11-tool --module $OSC -O | grep -q 'Retired KEY MAN 1'"
check "opensc sign 9a RSA" sh -c "pkcs11-tool --module $OSC -l -p $PIN --sign --id 01 -m SHA256-RSA-PKCS -i data.txt -o s1.bin && openssl dgst -sha256 -verify p9a.pem -signature s1.bin data.txt"
check "opensc sign 9c ECDSA (PIN always)" sh -c "pkcs11-tool --module $OSC -l -p $PIN --sign --id 02 -m ECDSA-SHA256 --signature-format openssl -i data.txt -o s2.bin && openssl dgst -sha256 -verify p9c.pem -signature s2.bin data.txt"
openssl pkeyutl -encrypt -pubin -inkey k9d.pem.pub -in data.txt -out enc.bin
check "opensc decrypt 9d" sh -c "pkcs11-tool --module $OSC -l -p $PIN --decrypt --id 03 -m RSA-PKCS -i enc.bin -o d1.bin && cmp d1.bin data.txt"
openssl pkeyutl -derive -inkey peer.pem -peerkey k82.pem.pub -out ecdh.expect
check "opensc ECDH 82" sh -c "pkcs11-tool --module $OSC -l -p $PIN --derive --id 05 -m ECDH1-DERIVE --input-file peer.der --output-file ecdh1.bin && cmp ecdh1.bin ecdh.expect"
check "opensc pkcs11-tool --test" sh -c "pkcs11-tool --module $OSC --test --login --pin $PIN 2>&1 | grep -q 'No errors'"
check "piv-tool mutual auth" sh -c "echo 01:02:03:04:05:06:07:08:01:02:03:04:05:06:07:08:01:02:03:04:05:06:07:08 > mgm.hex && PIV_EXT_AUTH_KEY=$WORK/mgm.hex piv-tool -A M:9B:03"

check "ykcs11 list objects" sh -c "pkcs11-tool --module $YK -O | grep -q 'Attestation 9c'"
check "ykcs11 sign 9a RSA" sh -c "pkcs11-tool --module $YK -l -p $PIN --sign --id 01 -m SHA256-RSA-PKCS -i data.txt -o s3.bin && openssl dgst -sha256 -verify p9a.pem -signature s3.bin data.txt"
check "ykcs11 sign 9c ECDSA" sh -c "pkcs11-tool --module $YK -l -p $PIN --sign --id 02 -m ECDSA-SHA256 --signature-format openssl -i data.txt -o s4.bin && openssl dgst -sha256 -verify p9c.pem -signature s4.bin data.txt"
check "ykcs11 decrypt 9d" sh -c "pkcs11-tool --module $YK -l -p $PIN --decrypt --id 03 -m RSA-PKCS -i enc.bin -o d2.bin && cmp d2.bin data.txt"
check "ykcs11 pkcs11-tool --test" sh -c "pkcs11-tool --module $YK --test --login --pin $PIN 2>&1 | grep -q 'No errors'"

check "ypt change-pin" $Y -a change-pin -P $PIN -N 654321
check "ypt verify new pin" $Y -a verify-pin -P 654321
check "ypt change-puk" $Y -a change-puk -P 12345678 -N 87654321
check "ypt unblock-pin" $Y -a unblock-pin -P 87654321 -N 111111
check "ypt wrong pin x3 blocks" sh -c "for i in 1 2 3; do $Y -a verify-pin -P 999999; done; $Y -a status | grep -q 'PIN tries left:	0'"
check "ypt reset refused, PUK not blocked" sh -c "! $Y -a reset"
check "ypt wrong puk x3" sh -c "for i in 1 2 3; do $Y -a unblock-pin -P 99999999 -N 222222; done; true"
check "ypt reset" $Y -a reset
check "after reset: default PIN, no keys" sh -c "$Y -a verify-pin -P 123456 && ! $Y -a status | grep -q 'Slot 9c'"

kill $CARD
wait $CARD
check "vcard exits 0 on SIGTERM" test $? -eq 0
kill $PCSCD
wait $PCSCD 2>/dev/null
echo "$(grep -c '^>' trace.log) APDUs traced; details in $WORK/clients.log"
[ $fails -eq 0 ]
