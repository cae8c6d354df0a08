#!/bin/sh
# Yubico's PKCS#11 module (libykcs11.so, through pkcs11-tool) against the virtual
# token provisioned by yubico-piv-tool: token info, every key and certificate
# with its CKA_ID, "local" only on generated keys (GET METADATA origin), the
# attestation certificates ykcs11 makes for generated keys (chained to the
# testenv CA), RSA and ECDSA signatures verified by openssl, RSA decryption.
. "${KW_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
kw_init "$0" "$@"
kw_need yubico-piv-tool pkcs11-tool openssl
MOD=${KW_YKCS11_MODULE:-/usr/lib/x86_64-linux-gnu/libykcs11.so}
kw_need_file "$MOD"
kw_in_testenv 240 --attest-ca
. "$KW_SRC/pki.sh"
. "$KW_SRC/provision.sh"
cd "$KW_TMP" || kw_fail "cd $KW_TMP"
kw_provision "$KW_TMP"

p11() { kw_run pkcs11-tool --module "$MOD" --slot-index 0 "$@"; }
p11pin() { p11 --login --pin 123456 "$@"; }

# objects FILE: "kind id [local]" per key/certificate of a pkcs11-tool -O listing
objects() {
	awk 'function flush() { if (k != "" && id != "") print k, id (loc ? " local" : ""); k=""; id=""; loc=0 }
	     /^[A-Z]/ { flush() }
	     /^Private Key Object; RSA/ {k="priv-rsa"} /^Private Key Object; EC/ {k="priv-ec"}
	     /^Public Key Object; RSA/ {k="pub-rsa"} /^Public Key Object; EC/ {k="pub-ec"}
	     /^Certificate Object/ {k="cert"}
	     /^  ID:/ {id=$2}
	     /^  Access:/ && /local/ {loc=1}
	     END { flush() }' "$1" | sort -u
}

# --- token --------------------------------------------------------------------------
p11 -L
kw_grep "token label *: YubiKey PIV #$KEYWARD_TESTENV_SERIAL_0\$" "$KW_OUT" "token info"
kw_grep "serial num *: $KEYWARD_TESTENV_SERIAL_0\$" "$KW_OUT" "token info"
kw_grep 'token flags *: .*token initialized' "$KW_OUT" "token info"
kw_pass "token info"

# --- objects -------------------------------------------------------------------------
p11pin -O
cp "$KW_OUT" listing.txt
objects listing.txt >all.txt
for want in "priv-rsa 01 local" "priv-rsa 02 local" "priv-rsa 03" "priv-ec 04 local" \
	"priv-ec 05" "pub-rsa 01" "pub-rsa 02" "pub-rsa 03" "pub-ec 04" "pub-ec 05" \
	"cert 01" "cert 02" "cert 03" "cert 04" "cert 05" "cert 19"; do
	kw_grep "^$want( local)?\$" all.txt "ykcs11 objects"
done
kw_not_grep '^priv-(rsa 03|ec 05) local$' all.txt "imported keys marked local"
for s in 9a 9c 9e; do
	kw_grep "label: +X.509 Certificate for PIV Attestation $s\$" listing.txt "attestation of $s"
done
kw_not_grep 'PIV Attestation (9d|82)$' listing.txt "attestation of imported keys"
kw_pass "objects (keys, certificates, origin, attestation objects)"

# --- ykcs11's attestation certificate for 9C chains to the testenv CA -----------------
p11 --read-object --type cert --label "X.509 Certificate for PIV Attestation 9c" -o att9c.der
p11 --read-object --type cert --id 19 -o f9.der
openssl x509 -inform DER -in att9c.der -out att9c.pem || kw_fail "attestation cert"
openssl x509 -inform DER -in f9.der -out f9.pem || kw_fail "F9 cert"
kw_run openssl verify -CAfile "$KEYWARD_TESTENV_ATTEST_CA" -untrusted f9.pem att9c.pem
kw_grep '^att9c.pem: OK$' "$KW_OUT"
kw_pki_same_pubkey att9c.pem pub9c.pem "attested 9C key"
kw_pass "attestation certificate chain"

# --- signatures -----------------------------------------------------------------------
head -c 1000 /dev/urandom >data.bin
for s in 9a:01 9c:02 9d:03; do
	p11pin --sign --id "${s#*:}" -m SHA256-RSA-PKCS -i data.bin -o "sig-${s%:*}"
	kw_run openssl dgst -sha256 -verify "pub${s%:*}.pem" -signature "sig-${s%:*}" data.bin
	kw_grep '^Verified OK$' "$KW_OUT" "RSA signature of ${s%:*}"
done
kw_run_fail openssl dgst -sha256 -verify pub9d.pem -signature sig-9a data.bin
for s in 9e:04 82:05; do
	p11pin --sign --id "${s#*:}" -m ECDSA-SHA256 --signature-format openssl \
		-i data.bin -o "sig-${s%:*}"
	kw_run openssl dgst -sha256 -verify "pub${s%:*}.pem" -signature "sig-${s%:*}" data.bin
	kw_grep '^Verified OK$' "$KW_OUT" "ECDSA signature of ${s%:*}"
done
kw_pass "RSA-PKCS and ECDSA signatures verified"

# --- decryption -------------------------------------------------------------------------
head -c 32 /dev/urandom >secret.bin
kw_run openssl pkeyutl -encrypt -pubin -inkey pub9d.pem -in secret.bin -out enc
p11pin --decrypt --id 03 -m RSA-PKCS -i enc -o dec
cmp -s secret.bin dec || kw_fail "RSA-PKCS decryption differs"
kw_pass "RSA decryption"

# --- key generation through ykcs11 (SO = management key) into retired slots ------------
MGM=010203040506070801020304050607080102030405060708
for k in 0a:rsa:2048:SHA256-RSA-PKCS 0c:EC:prime256v1:ECDSA-SHA256; do
	id=${k%%:*} rest=${k#*:}
	mech=${rest##*:} type=${rest%:*}
	p11 --login --login-type so --so-pin "$MGM" --keypairgen --key-type "$type" --id "$id"
	p11 --read-object --type pubkey --id "$id" -o "gen-$id.der"
	openssl pkey -pubin -inform DER -in "gen-$id.der" -out "gen-$id.pem" ||
		kw_fail "public key $id from ykcs11 does not parse"
	if [ "$mech" = ECDSA-SHA256 ]; then
		p11pin --sign --id "$id" -m "$mech" --signature-format openssl -i data.bin -o "sig-$id"
	else
		p11pin --sign --id "$id" -m "$mech" -i data.bin -o "sig-$id"
	fi
	kw_run openssl dgst -sha256 -verify "gen-$id.pem" -signature "sig-$id" data.bin
	kw_grep '^Verified OK$' "$KW_OUT" "signature by the key generated in $id"
done
p11pin -O
objects "$KW_OUT" >after.txt
kw_grep '^priv-rsa 0a local$' after.txt "generated RSA key"
kw_grep '^priv-ec 0c local$' after.txt "generated EC key"
kw_pass "key generation through ykcs11 (retired slots 87 and 89)"

# --- pkcs11-tool's own self-test -------------------------------------------------------
p11 --test --login --pin 123456
kw_grep '^No errors$' "$KW_OUT" "pkcs11-tool --test"
kw_pass "pkcs11-tool --test --login"
exit 0
