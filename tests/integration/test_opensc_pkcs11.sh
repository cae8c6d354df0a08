#!/bin/sh
# OpenSC's PIV PKCS#11 module (opensc-pkcs11.so, through pkcs11-tool) against the
# virtual token provisioned by yubico-piv-tool: every key and certificate listed
# with the right CKA_ID (9A=01 9C=02 9D=03 9E=04 82=05), RSA PKCS#1 and ECDSA
# signatures verified by openssl with the certificates' public keys, decryption
# of blobs openssl encrypted (PKCS#1 v1.5 and OAEP), ECDH with the retired key.
. "${KW_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
kw_init "$0" "$@"
kw_need yubico-piv-tool pkcs11-tool openssl
MOD=${KW_OPENSC_MODULE:-/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so}
kw_need_file "$MOD"
kw_in_testenv 240
. "$KW_SRC/pki.sh"
. "$KW_SRC/provision.sh"
cd "$KW_TMP" || kw_fail "cd $KW_TMP"
kw_provision "$KW_TMP"

p11() { kw_run pkcs11-tool --module "$MOD" --slot-index 0 "$@"; }
p11pin() { p11 --login --pin 123456 "$@"; }

# --- objects ------------------------------------------------------------------------
# objects FILE: one "kind id" line per object of a pkcs11-tool -O listing
objects() {
	awk '/^Private Key Object; RSA/ {k="priv-rsa"} /^Private Key Object; EC/ {k="priv-ec"}
	     /^Public Key Object; RSA/ {k="pub-rsa"} /^Public Key Object; EC/ {k="pub-ec"}
	     /^Certificate Object/ {k="cert"} /^Data object/ {k=""}
	     /^  ID:/ && k != "" {print k, $2; k=""}' "$1" | sort
}
p11 -L
kw_grep "Slot 0 .*$(kw_reader 0)" "$KW_OUT" "slot list"
p11 -O
objects "$KW_OUT" >public.txt
for want in "cert 01" "cert 02" "cert 03" "cert 04" "cert 05" "pub-rsa 01" \
	"pub-rsa 02" "pub-rsa 03" "pub-ec 04" "pub-ec 05"; do
	kw_grep "^$want\$" public.txt "objects without login"
done
# only 9E (card authentication, no PIN in PIV) is public
kw_not_grep '^priv-(rsa|ec 05)' public.txt "objects without login"
p11pin -O
objects "$KW_OUT" >all.txt
for want in "priv-rsa 01" "priv-rsa 02" "priv-rsa 03" "priv-ec 04" "priv-ec 05"; do
	kw_grep "^$want\$" all.txt "objects after login"
done
kw_grep 'always authenticate' "$KW_OUT" "9C's PIN-always flag"
# the certificates are the ones that were written
for s in 9a:01 9c:02 9d:03 9e:04 82:05; do
	p11 --read-object --type cert --id "${s#*:}" -o "cert-${s%:*}.der"
	openssl x509 -inform DER -in "cert-${s%:*}.der" -out "cert-${s%:*}.pem" ||
		kw_fail "certificate ${s#*:} does not parse"
	kw_pki_same_cert "${s%:*}.pem" "cert-${s%:*}.pem"
done
kw_pass "objects and certificates (5 keys, 5 certificates)"

# --- RSA PKCS#1 v1.5 signatures (9A, 9C with its PIN-always login) ------------------
# (OpenSC gives the key-management key 9D decrypt/unwrap usage only)
head -c 1000 /dev/urandom >data.bin
for s in 9a:01 9c:02; do
	p11pin --sign --id "${s#*:}" -m SHA256-RSA-PKCS -i data.bin -o "sig-${s%:*}"
	kw_run openssl dgst -sha256 -verify "pub${s%:*}.pem" -signature "sig-${s%:*}" data.bin
	kw_grep '^Verified OK$' "$KW_OUT" "RSA signature of ${s%:*}"
done
# a signature by the wrong key must not verify (the check can fail)
kw_run_fail openssl dgst -sha256 -verify pub9a.pem -signature sig-9c data.bin
kw_pass "RSA-PKCS signatures verified"

# --- ECDSA (9E) -------------------------------------------------------------------------
p11pin --sign --id 04 -m ECDSA-SHA256 --signature-format openssl -i data.bin -o sig-9e
kw_run openssl dgst -sha256 -verify pub9e.pem -signature sig-9e data.bin
kw_grep '^Verified OK$' "$KW_OUT" "ECDSA signature of 9e"
kw_pass "ECDSA signature verified"

# --- decryption (9D): PKCS#1 v1.5 and OAEP (SHA-1) ----------------------------------------
head -c 32 /dev/urandom >secret.bin
kw_run openssl pkeyutl -encrypt -pubin -inkey pub9d.pem -in secret.bin -out enc-pkcs1
p11pin --decrypt --id 03 -m RSA-PKCS -i enc-pkcs1 -o dec-pkcs1
cmp -s secret.bin dec-pkcs1 || kw_fail "RSA-PKCS decryption differs"
kw_run openssl pkeyutl -encrypt -pubin -inkey pub9d.pem -in secret.bin -out enc-oaep \
	-pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha1
p11pin --decrypt --id 03 -m RSA-PKCS-OAEP --hash-algorithm SHA-1 --mgf MGF1-SHA1 \
	-i enc-oaep -o dec-oaep
cmp -s secret.bin dec-oaep || kw_fail "RSA-PKCS-OAEP decryption differs"
kw_pass "RSA decryption (PKCS#1 v1.5, OAEP)"

# --- ECDH with the retired key (82) -----------------------------------------------------
kw_run openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out peer.pem
openssl pkey -in peer.pem -pubout -outform DER -out peer.der || kw_fail "peer key"
p11pin --derive --id 05 -m ECDH1-DERIVE -i peer.der -o z-card
kw_run openssl pkeyutl -derive -inkey peer.pem -peerkey pub82.pem -out z-soft
[ -s z-soft ] && cmp -s z-card z-soft || kw_fail "ECDH secrets differ"
kw_pass "ECDH with retired slot 82"

# --- pkcs11-tool's own self-test -------------------------------------------------------
p11 --test --login --pin 123456
kw_grep '^No errors$' "$KW_OUT" "pkcs11-tool --test"
kw_pass "pkcs11-tool --test --login"

# --- PIN through OpenSC: retry counter in the token flags, C_SetPIN ---------------------
for i in 1 2; do kw_run_fail pkcs11-tool --module "$MOD" --slot-index 0 --login --pin 111111 -O; done
p11 -L
kw_grep 'token flags .*final user PIN try' "$KW_OUT" "flags after 2 wrong PINs"
p11pin -O
p11 -L
kw_not_grep 'final user PIN try|count low|locked' "$KW_OUT" "flags after a good PIN"
p11 --change-pin --pin 123456 --new-pin 24682468
kw_run_fail pkcs11-tool --module "$MOD" --slot-index 0 --login --pin 123456 -O
p11 --login --pin 24682468 --sign --id 01 -m SHA256-RSA-PKCS -i data.bin -o sig-newpin
kw_run openssl dgst -sha256 -verify pub9a.pem -signature sig-newpin data.bin
kw_grep '^Verified OK$' "$KW_OUT" "signature after a PIN change"
kw_pass "PIN retries and change through OpenSC"
exit 0
