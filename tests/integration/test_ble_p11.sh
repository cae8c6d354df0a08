#!/bin/sh
# keyward-pkcs11 over BLE: keyward-vcard-ble as the bonded token behind an
# emulated BlueZ on a private bus. The module discovers "ble:" slots through
# kw_transport_list_all(); pkcs11-tool generates keys and writes
# certificates over BLE at MTU 23 (control-point length 20), lists the
# objects, signs (ECDSA P-256, RSA-2048 PKCS#1) and openssl verifies; then
# the token comes back at MTU 512 with the same keys (state file).
. "${KW_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
kw_init "$0" "$@"
. "$KW_SRC/ble_lib.sh"
. "$KW_SRC/pki.sh"
kw_need pkcs11-tool openssl
kw_need_file "$KWB_MODULE"

kwb_setup --mtu 23
p11() { kwb_p11 --token-label "$KWB_LABEL" "$@"; }
T0=$(date +%s)

kw_run "$KWB_PROBE" --list
kw_grep "^$KWB_URI\$" "$KW_OUT" "transport list"
kw_run kwb_p11 -L
kw_grep "$KWB_LABEL" "$KW_OUT" "slot list"
kw_pass "the module lists the BLE token"

kw_run p11 --login --pin 123456 --keypairgen --key-type EC:prime256v1 --id 01
# The P-256 public key from the printed EC_POINT (DER OCTET STRING 04 41 04..):
# OpenSC 0.23's pkcs11-tool --read-object of an EC public key has a
# use-after-free of its own that an ASan run catches.
point=$(sed -n 's/^ *EC_POINT: *0441\(04[0-9a-f]\{128\}\)$/\1/p' "$KW_OUT" | head -n1)
[ -n "$point" ] || kw_fail "no EC point in the keypairgen output"
printf '%s%s' 3059301306072a8648ce3d020106082a8648ce3d030107034200 "$point" |
	perl -pe 's/([0-9a-f]{2})/chr hex $1/gie' >"$KW_TMP/pub01.der"
kw_run p11 --login --pin 123456 --keypairgen --key-type rsa:2048 --id 03
kw_run p11 --read-object --type pubkey --id 03 -o "$KW_TMP/pub03.der"
for id in 01 03; do
	openssl pkey -pubin -inform DER -in "$KW_TMP/pub$id.der" -out "$KW_TMP/pub$id.pem" ||
		kw_fail "public key $id unreadable"
done
kw_pki_ca "$KW_TMP"
kw_pki_cert "$KW_TMP/pub01.pem" "/CN=keyward BLE 9A" "$KW_TMP/cert01.pem"
kw_pki_cert "$KW_TMP/pub03.pem" "/CN=keyward BLE 9D" "$KW_TMP/cert03.pem"
for id in 01 03; do
	openssl x509 -in "$KW_TMP/cert$id.pem" -outform DER -out "$KW_TMP/cert$id.der"
	kw_run p11 --login --pin 123456 --write-object "$KW_TMP/cert$id.der" --type cert --id "$id"
done
kw_pass "keys generated and certificates written over BLE"

kw_run p11 -O
kw_grep "Certificate Object" "$KW_OUT" "objects"
kw_grep "keyward BLE 9A" "$KW_OUT" "objects"
kw_grep "keyward BLE 9D" "$KW_OUT" "objects"
kw_run p11 --login --pin 123456 -O
kw_grep "Private Key Object; EC" "$KW_OUT" "objects after login"
kw_grep "Private Key Object; RSA" "$KW_OUT" "objects after login"
kw_pass "objects listed"

sign_and_verify() { # label
	printf 'keyward over the air %s\n' "$1" >"$KW_TMP/msg"
	kw_run p11 --login --pin 123456 --sign --mechanism ECDSA-SHA256 --id 01 \
		--signature-format openssl -i "$KW_TMP/msg" -o "$KW_TMP/sig01"
	kw_run openssl dgst -sha256 -verify "$KW_TMP/pub01.pem" -signature "$KW_TMP/sig01" "$KW_TMP/msg"
	kw_run p11 --login --pin 123456 --sign --mechanism SHA256-RSA-PKCS --id 03 \
		-i "$KW_TMP/msg" -o "$KW_TMP/sig03"
	kw_run openssl dgst -sha256 -verify "$KW_TMP/pub03.pem" -signature "$KW_TMP/sig03" "$KW_TMP/msg"
	kw_pass "ECDSA and RSA signatures over BLE verified by openssl ($1)"
}
sign_and_verify "MTU 23"
kwb_ctl GetStats >"$KW_OUT"
kw_log "vcard frames in/out, bytes in/out: $(cat "$KW_OUT")"

kwb_stop_vcard
kwb_start_vcard --mtu 512
sign_and_verify "MTU 512, after a restart"
kw_run p11 --read-object --type cert --id 03 -o "$KW_TMP/back03.der"
cmp -s "$KW_TMP/back03.der" "$KW_TMP/cert03.der" || kw_fail "certificate 03 differs after restart"

T1=$(date +%s)
[ $((T1 - T0)) -lt 300 ] || kw_fail "took $((T1 - T0)) s"
kw_pass "done in $((T1 - T0)) s"
