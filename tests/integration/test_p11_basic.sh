#!/bin/sh
# keyward-pkcs11.so through OpenSC's pkcs11-tool on a virtual token provisioned
# by yubico-piv-tool (9A RSA gen, 9C RSA gen PIN-always, 9D RSA imported,
# 9E P-256 gen, 82 P-256 imported + key history; plus 83 P-256 generated with
# neither certificate nor key-history entry): slot and serial label, cheap
# start-up, objects before and after login (CKA_ID 01..06, private keys
# without certificates), signatures and decryptions checked by openssl, ECDH,
# wrong PIN, the verified certificate cache, `pkcs11-tool --test`, key
# generation, certificate writing and key import through the module; then,
# with a second token, removal and re-insertion while the application runs
# (C_WaitForSlotEvent, CKR_DEVICE_REMOVED, signing again) and C_Finalize
# waking a blocked C_WaitForSlotEvent (pkcs11-module/p11-hotplug-check).
. "${KW_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
kw_init "$0" "$@"
kw_need yubico-piv-tool pkcs11-tool openssl xxd
MOD=${KEYWARD_P11_MODULE:-$KW_TOP_BUILDDIR/pkcs11-module/.libs/keyward-pkcs11.so}
kw_need_file "$MOD"
kw_in_testenv 280 --tokens 2
. "$KW_SRC/pki.sh"
. "$KW_SRC/provision.sh"
cd "$KW_TMP" || kw_fail "cd $KW_TMP"
export XDG_CACHE_HOME="$KW_TMP/cache"
kw_provision "$KW_TMP"
kw_run yubico-piv-tool -r "$(kw_reader 0)" -a generate -s 83 -A ECCP256 -o pub83.pem

# An ASan build of the module needs the ASan runtime loaded first into the
# (uninstrumented) client.
PRELOAD=
if nm -D "$MOD" 2>/dev/null | grep -q ' __asan_init'; then
	PRELOAD=$(ldd "$MOD" | awk '/libasan/ { print $3; exit }')
	[ -f "$PRELOAD" ] || kw_fail "ASan module but no libasan found"
fi
tool() {
	if [ -n "$PRELOAD" ]; then
		LD_PRELOAD=$PRELOAD ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 pkcs11-tool "$@"
	else
		pkcs11-tool "$@"
	fi
}
p11() { kw_run tool --module "$MOD" --slot-index 0 "$@"; }
p11pin() { p11 --login --pin 123456 "$@"; }
objects() {
	awk '/^Private Key Object; RSA/ {k="priv-rsa"} /^Private Key Object; EC/ {k="priv-ec"}
	     /^Public Key Object; RSA/ {k="pub-rsa"} /^Public Key Object; EC/ {k="pub-ec"}
	     /^Certificate Object/ {k="cert"} /^Data object/ {k=""}
	     /^  ID:/ && k != "" {print k, $2; k=""}' "$1" | sort
}

# --- slot, label, start-up cost -------------------------------------------------
a0=$(kw_apdus)
p11 -L
kw_grep "Slot 0 .*$(kw_reader 0)" "$KW_OUT" "slot list"
kw_grep "token label *: keyward PIV #$KEYWARD_TESTENV_SERIAL_0" "$KW_OUT" "token label"
n=$(($(kw_apdus) - a0))
[ "$n" -le 3 ] || kw_fail "start-up to the token list took $n APDUs (SELECT+version+serial at most)"
kw_pass "slot and label, start-up in $n APDUs"

# --- objects ------------------------------------------------------------------------
a0=$(kw_apdus)
p11 -O
objects "$KW_OUT" >public.txt
cold=$(($(kw_apdus) - a0))
for want in "cert 01" "cert 02" "cert 03" "cert 04" "cert 05" "pub-rsa 01" "pub-rsa 02" \
	"pub-rsa 03" "pub-ec 04" "pub-ec 05" "pub-ec 06" "priv-ec 04"; do
	kw_grep "^$want\$" public.txt "objects without login"
done
kw_not_grep '^priv-(rsa|ec 0[56])' public.txt "objects without login"
kw_not_grep '^cert 06' public.txt "objects without login"
a0=$(kw_apdus)
p11 -O
warm=$(($(kw_apdus) - a0))
p11pin -O
objects "$KW_OUT" >all.txt
for want in "priv-rsa 01" "priv-rsa 02" "priv-rsa 03" "priv-ec 04" "priv-ec 05" "priv-ec 06"; do
	kw_grep "^$want\$" all.txt "objects after login"
done
kw_grep 'always authenticate' "$KW_OUT" "9C's PIN-always flag"
# extended APDUs: one per certificate or metadata read (this layout: 16);
# the second start verifies cached certificates with one probe each
[ "$warm" -le "$cold" ] || kw_fail "listing: cold $cold, warm $warm APDUs"
[ "$cold" -le 18 ] || kw_fail "cold listing took $cold APDUs"
# short APDUs only (KEYWARD_SHORT_APDU=1, as over a reader without extended
# length): a certificate read costs 3 APDUs, the verified cache saves them
mv "$XDG_CACHE_HOME" "$KW_TMP/cache-ext"
export KEYWARD_SHORT_APDU=1
a0=$(kw_apdus)
p11 -O
scold=$(($(kw_apdus) - a0))
a0=$(kw_apdus)
p11 -O
swarm=$(($(kw_apdus) - a0))
unset KEYWARD_SHORT_APDU
[ "$swarm" -lt "$scold" ] || kw_fail "short APDUs: cold $scold, warm $swarm APDUs (cache unused)"
[ "$scold" -le 32 ] || kw_fail "cold listing in short APDUs took $scold APDUs"
[ "$swarm" -le 22 ] || kw_fail "warm listing in short APDUs took $swarm APDUs"
ls "$XDG_CACHE_HOME/keyward/" | grep -q "piv-$KEYWARD_TESTENV_SERIAL_0-9a.der" ||
	kw_fail "no cache entry"
for s in 9a:01 9c:02 9d:03 9e:04 82:05; do
	p11 --read-object --type cert --id "${s#*:}" -o "cert-${s%:*}.der"
	openssl x509 -inform DER -in "cert-${s%:*}.der" -out "cert-${s%:*}.pem" ||
		kw_fail "certificate ${s#*:} does not parse"
	kw_pki_same_cert "${s%:*}.pem" "cert-${s%:*}.pem"
done
# a corrupt cache entry is ignored: the card's certificate is used
echo garbage >"$XDG_CACHE_HOME/keyward/piv-$KEYWARD_TESTENV_SERIAL_0-9a.der"
p11 --read-object --type cert --id 01 -o cert-9a-again.der
cmp cert-9a.der cert-9a-again.der || kw_fail "corrupt cache entry was used"
kw_pass "objects (6 keys, 5 certificates), listing cold $cold / warm $warm APDUs (short APDUs: $scold / $swarm)"

# --- signatures ---------------------------------------------------------------------
head -c 1000 /dev/urandom >data.bin
for s in 9a:01 9c:02 9d:03; do
	p11pin --sign --id "${s#*:}" -m SHA256-RSA-PKCS -i data.bin -o "sig-${s%:*}"
	kw_run openssl dgst -sha256 -verify "pub${s%:*}.pem" -signature "sig-${s%:*}" data.bin
	kw_grep '^Verified OK$' "$KW_OUT" "RSA signature of ${s%:*}"
done
p11pin --sign --id 01 -m SHA256-RSA-PKCS-PSS -i data.bin -o sig-pss
kw_run openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:-1 \
	-verify pub9a.pem -signature sig-pss data.bin
# 9E: PIN policy never (pkcs11-tool logs in for any signature anyway)
p11pin --sign --id 04 -m ECDSA-SHA256 --signature-format openssl -i data.bin -o sig-9e
kw_run openssl dgst -sha256 -verify pub9e.pem -signature sig-9e data.bin
kw_grep '^Verified OK$' "$KW_OUT" "ECDSA signature of 9e"
p11pin --sign --id 06 -m ECDSA-SHA256 --signature-format openssl -i data.bin -o sig-83
kw_run openssl dgst -sha256 -verify pub83.pem -signature sig-83 data.bin
kw_pass "signatures: RSA PKCS#1 (9A, 9C PIN-always, 9D), PSS, ECDSA (9E, 83 without certificate)"

# --- decryption ---------------------------------------------------------------------
printf 'attack at dawn' >msg.txt
kw_run openssl pkeyutl -encrypt -pubin -inkey pub9d.pem -in msg.txt -out enc-pkcs1
p11pin --decrypt --id 03 -m RSA-PKCS -i enc-pkcs1 -o dec-pkcs1
cmp msg.txt dec-pkcs1 || kw_fail "PKCS#1 v1.5 decryption"
kw_run openssl pkeyutl -encrypt -pubin -inkey pub9d.pem -in msg.txt -out enc-oaep \
	-pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256
p11pin --decrypt --id 03 -m RSA-PKCS-OAEP --hash-algorithm SHA256 --mgf MGF1-SHA256 \
	-i enc-oaep -o dec-oaep
cmp msg.txt dec-oaep || kw_fail "OAEP decryption"
kw_pass "decryption: PKCS#1 v1.5 and OAEP-SHA256"

# --- ECDH with the retired key 82 -----------------------------------------------------
kw_run openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out peer.key
kw_run openssl pkey -in peer.key -pubout -outform DER -out peer.der
p11pin --derive --id 05 -m ECDH1-DERIVE -i peer.der -o z-token.bin
kw_run openssl pkeyutl -derive -inkey peer.key -peerkey pub82.pem -out z-openssl.bin
cmp z-token.bin z-openssl.bin || kw_fail "ECDH shared secret differs"
kw_pass "ECDH with the retired slot's key"

# --- wrong PIN, then the whole pkcs11-tool self test ----------------------------------
kw_run_fail tool --module "$MOD" --slot-index 0 --login --pin 999999 -O
kw_grep 'CKR_PIN_INCORRECT' "$KW_OUT" "wrong PIN"
kw_not_grep 'AddressSanitizer|runtime error' "$KW_OUT" "wrong PIN"
p11pin --test
kw_grep 'No errors' "$KW_OUT" "pkcs11-tool --test"
kw_not_grep 'ERR|FAIL|AddressSanitizer|runtime error' "$KW_OUT" "pkcs11-tool --test"
kw_pass "pkcs11-tool --test: no errors"

# --- generation, certificate writing and import through the module ------------------
# (RSA: pkcs11-tool 0.23 reads EC public keys with a use-after-free of its own,
# which an ASan build's preloaded runtime reports)
p11pin --keypairgen --key-type rsa:2048 --id 07
kw_grep 'ID: *07' "$KW_OUT" "generated key"
p11pin --read-object --type pubkey --id 07 -o pub07.der
kw_run openssl pkey -pubin -inform DER -in pub07.der -out pub07.pem
kw_pki_cert pub07.pem "/CN=keyward test 84" cert07.pem
kw_run openssl x509 -in cert07.pem -outform DER -out cert07.der
p11pin --write-object cert07.der --type cert --id 07
kw_run openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -outform DER -out key08.der
p11pin --write-object key08.der --type privkey --id 08
p11pin -O
objects "$KW_OUT" >gen.txt
for want in "priv-rsa 07" "pub-rsa 07" "cert 07" "priv-rsa 08"; do
	kw_grep "^$want\$" gen.txt "objects after generation/import"
done
p11pin --sign --id 07 -m SHA256-RSA-PKCS -i data.bin -o sig-84
kw_run openssl dgst -sha256 -verify pub07.pem -signature sig-84 data.bin
kw_run openssl pkey -inform DER -in key08.der -pubout -out pub08.pem
p11pin --sign --id 08 -m SHA256-RSA-PKCS -i data.bin -o sig-85
kw_run openssl dgst -sha256 -verify pub08.pem -signature sig-85 data.bin
kw_run yubico-piv-tool -r "$(kw_reader 0)" -a read-certificate -s 84 -o cert84-card.pem
kw_pki_same_cert cert07.pem cert84-card.pem
kw_pass "generation (84), certificate write (84), RSA import (85) through the module"

# --- a non-default management key: refused, then from KEYWARD_MGMT_KEY, then as SO PIN
MK=0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071
kw_run yubico-piv-tool -r "$(kw_reader 0)" -a set-mgm-key -n "$MK"
kw_run_fail tool --module "$MOD" --slot-index 0 --login --pin 123456 --keypairgen \
	--key-type EC:prime256v1 --id 09
kw_not_grep "$MK" "$KW_OUT" "output of a refused generation"
KEYWARD_MGMT_KEY=$MK p11pin --keypairgen --key-type EC:prime256v1 --id 09
kw_grep 'ID: *09' "$KW_OUT" "key generated with KEYWARD_MGMT_KEY"
p11 --login --login-type so --so-pin "$MK" --keypairgen --key-type EC:prime256v1 --id 0a
kw_grep 'ID: *0a' "$KW_OUT" "key generated after an SO login with the management key"
# PIN-protected management key (YubiKey style: 5FC109 = 88 { 89 key }), read
# after C_Login
printf '\210\032\211\030' >printed.bin
printf '%s' "$MK" | xxd -r -p >>printed.bin
kw_run yubico-piv-tool -r "$(kw_reader 0)" -k"$MK" -a write-object --id 0x5FC109 \
	--format binary -i printed.bin
p11pin --keypairgen --key-type EC:prime256v1 --id 0b
kw_grep 'ID: *0b' "$KW_OUT" "key generated with the PIN-protected management key"
kw_pass "management key: default refused; KEYWARD_MGMT_KEY, SO login and PIN-protected key work"

# --- PIN change, blocking, and unblock with the PUK (C_SetPIN while blocked) --------
p11 --login --pin 123456 --change-pin --new-pin 654321
p11 --login --pin 654321 -O
for i in 1 2; do
	kw_run_fail tool --module "$MOD" --slot-index 0 --login --pin 000000 -O
	kw_grep 'CKR_PIN_INCORRECT' "$KW_OUT" "wrong PIN $i"
done
kw_run_fail tool --module "$MOD" --slot-index 0 --login --pin 000000 -O
kw_grep 'CKR_PIN_LOCKED' "$KW_OUT" "third wrong PIN"
kw_run_fail tool --module "$MOD" --slot-index 0 --login --pin 654321 -O
kw_grep 'CKR_PIN_LOCKED' "$KW_OUT" "right PIN while blocked"
p11 --unlock-pin --puk 12345678 --new-pin 123456
p11pin --sign --id 01 -m SHA256-RSA-PKCS -i data.bin -o sig-after-unblock
kw_run openssl dgst -sha256 -verify pub9a.pem -signature sig-after-unblock data.bin
kw_pass "PIN change, CKR_PIN_INCORRECT x2, CKR_PIN_LOCKED, unblock with the PUK"

# --- hotplug: token 1 removed and re-inserted while the application runs ------------
kw_run yubico-piv-tool -r "$(kw_reader 1)" -a generate -s 9a -A RSA2048 -o pub-b.pem
pidfile=$KEYWARD_TESTENV_DIR/token-1.pid
remove="kill \$(cat '$pidfile'); sleep 1"
insert="'$KEYWARD_TESTENV_VCARD' --state '$KEYWARD_TESTENV_DIR/token-1.state' \
--vpcd 127.0.0.1:$KEYWARD_TESTENV_PORT_1 >'$KW_TMP/vcard-b.log' 2>&1 & echo \$! >'$pidfile'"
hp() {
	if [ -n "$PRELOAD" ]; then
		LD_PRELOAD=$PRELOAD ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 "$@"
	else
		"$@"
	fi
}
kw_run hp "$KW_TOP_BUILDDIR/pkcs11-module/p11-hotplug-check" "$MOD" 123456 "$(kw_reader 1)" \
	"$remove" "$insert"
kw_not_grep 'FAIL' "$KW_OUT" "hotplug"
kw_pass "hotplug: removal event, CKR_DEVICE_REMOVED, other token unaffected, re-inserted token signs, C_Finalize wakes the waiter"
