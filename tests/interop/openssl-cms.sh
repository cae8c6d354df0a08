#!/bin/sh
# OpenSSL 3 + libp11's pkcs11 engine, and OpenSSL 3's provider path
# (pkcs11-provider, bookworm-backports: the ENGINE API is deprecated and gone
# in OpenSSL 4): S/MIME (openssl cms) signing and decryption through the
# module, keys named by RFC 7512 pkcs11: URIs.
# Signing uses 9A: 9C is PIN-always (CKU_CONTEXT_SPECIFIC), which libp11's
# engine cannot answer unattended. Decryption covers 9D, the retired RSA slot
# 82 and the retired P-256 slot 83 (ECDH key agreement), and a P-384 key
# imported into retired slot 84 here. The engine does ECDH with CKD_NULL and
# the KDF in OpenSSL; the provider asks the module for the X9.63 KDF
# (CKD_SHA1_KDF / CKD_SHA256_KDF with the ECC-CMS-SharedInfo) and reads the
# derived key: both are run with the sha1kdf and sha256kdf schemes.
set -eu
. "${KW_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/interop/lib.sh"
kwi_init "$0" "$@"

engine=$(find /usr/lib/*/engines-3 -name pkcs11.so 2>/dev/null | head -n1)
[ -n "$engine" ] || kwi_fail "libp11's engine (libengine-pkcs11-openssl) not installed"
cat >openssl.cnf <<EOF2
openssl_conf = openssl_init
[openssl_init]
engines = engine_section
[engine_section]
pkcs11 = pkcs11_section
[pkcs11_section]
engine_id = pkcs11
dynamic_path = $engine
MODULE_PATH = $MODULE
init = 0
EOF2
# Only the engine commands load the engine config: libp11 installs RSA
# methods that would also capture plain OpenSSL's encryption to certificates.
eng() { OPENSSL_CONF="$PWD/openssl.cnf" "$@"; }
printf 'From: slot-9a@keyward.test\r\nSubject: keyward interop\r\n\r\nhello from the token %s\r\n' "$(date +%s%N)" >msg.txt

key() { echo "pkcs11:id=%$1;type=private;pin-value=$KWI_PIN"; }

# Sign with 9A, verify with plain OpenSSL against the test CA.
kwi_run sign.log eng openssl cms -sign -engine pkcs11 -keyform engine -inkey "$(key 01)" \
	-signer "$FIX/slot-9a.pem" -md sha256 -in msg.txt -out signed.p7m
openssl cms -verify -CAfile "$FIX/ca.pem" -purpose any -in signed.p7m -out verified.txt \
	>verify.log 2>&1 || { cat verify.log >&2; kwi_fail "signature made through the module does not verify"; }
cmp -s msg.txt verified.txt || kwi_fail "verified content differs from the signed message"
kwi_pass "openssl cms -sign with pkcs11:id=%01 (9A RSA-2048), verified"

# Also PSS through the engine (libp11 maps it to CKM_RSA_PKCS_PSS).
kwi_run sign-pss.log eng openssl cms -sign -engine pkcs11 -keyform engine -inkey "$(key 01)" \
	-signer "$FIX/slot-9a.pem" -md sha256 -keyopt rsa_padding_mode:pss -in msg.txt -out signed-pss.p7m
openssl cms -verify -CAfile "$FIX/ca.pem" -purpose any -in signed-pss.p7m -out verified-pss.txt \
	>verify-pss.log 2>&1 || { cat verify-pss.log >&2; kwi_fail "RSA-PSS signature does not verify"; }
cmp -s msg.txt verified-pss.txt || kwi_fail "RSA-PSS verified content differs"
kwi_pass "openssl cms -sign RSA-PSS with 9A, verified"

# A P-384 key-management key in retired slot 84 (CKA_ID 07), as the KMS
# would import it; the module sees it without a Key History update. Done with
# yubico-piv-tool when this run provisioned the token itself (not when the
# SIM/BLE suites run this script --inside on their own fixture, where
# yubico-piv-tool cannot reach the token).
p384=
if [ "$KWI_FLAVOUR" = keyward ] && [ "${KWI_PROVISION:-1}" = 1 ]; then
	(
		kwp_dir=$FIX
		. "$KWI_SRC/provision.sh"
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$FIX/slot-84.key" &&
			openssl pkey -in "$FIX/slot-84.key" -pubout -out "$FIX/slot-84.pub" &&
			kwp_piv -a import-key -s 84 -i "$FIX/slot-84.key" &&
			kwp_cert 84 ec && kwp_piv -a import-certificate -s 84 -i "$FIX/slot-84.pem"
	) >p384.log 2>&1 || { cat p384.log >&2; kwi_fail "importing a P-384 key into slot 84"; }
	p384=84:07
fi

# Decrypt messages encrypted (by plain OpenSSL) to 9D, 82 (retired RSA), 83
# (retired P-256), 84 (retired P-384): EC ones with both KDF hashes.
for s in 9d:03 82:05 83:06:sha1 83:06:sha256 ${p384:+$p384:sha1 $p384:sha256}; do
	IFS=: read -r slot id kdf <<EOF2
$s
EOF2
	tag=$slot${kdf:+-$kdf}
	openssl cms -encrypt -aes-256-cbc -recip "$FIX/slot-$slot.pem" ${kdf:+-keyopt ecdh_kdf_md:$kdf} \
		-in msg.txt -out "enc-$tag.p7m" \
		>"enc-$tag.log" 2>&1 || { cat "enc-$tag.log" >&2; kwi_fail "encrypting to slot $slot"; }
	kwi_run "dec-$tag.log" eng openssl cms -decrypt -engine pkcs11 -keyform engine -inkey "$(key "$id")" \
		-recip "$FIX/slot-$slot.pem" -in "enc-$tag.p7m" -out "dec-$tag.txt"
	cmp -s msg.txt "dec-$tag.txt" || kwi_fail "slot $slot: decrypted text differs"
	kwi_pass "openssl cms -decrypt with pkcs11:id=%$id (slot $slot${kdf:+, ${kdf}kdf}), engine"
done

# OAEP key transport to 9D.
openssl cms -encrypt -aes-256-cbc -recip "$FIX/slot-9d.pem" -keyopt rsa_padding_mode:oaep \
	-in msg.txt -out enc-oaep.p7m >enc-oaep.log 2>&1 || { cat enc-oaep.log >&2; kwi_fail "OAEP encrypt"; }
kwi_run dec-oaep.log eng openssl cms -decrypt -engine pkcs11 -keyform engine -inkey "$(key 03)" \
	-recip "$FIX/slot-9d.pem" -in enc-oaep.p7m -out dec-oaep.txt
cmp -s msg.txt dec-oaep.txt || kwi_fail "OAEP: decrypted text differs"
kwi_pass "openssl cms -decrypt RSA-OAEP with 9D"

# ---- OpenSSL 3's provider path: pkcs11-provider ----
provider=$(find /usr/lib/*/ossl-modules -name pkcs11.so 2>/dev/null | head -n1)
[ -n "$provider" ] || kwi_fail "pkcs11-provider not installed (bookworm-backports; scripts/install-deps.sh)"
kwi_provider_conf "$provider" provider.cnf
# (sanitizer builds: the provider's RTLD_DEEPBIND dlopen needs lib.sh's shim)
prov() { kwi_client_deepbind env OPENSSL_CONF="$PWD/provider.cnf" "$@"; }
pkey() { echo "pkcs11:id=%$1;type=private"; }

# Sign with 9A (PKCS#1 v1.5 and PSS) through the provider; verify both with
# plain OpenSSL and through the provider.
for pad in pkcs1 pss; do
	opt=
	[ $pad = pss ] && opt=rsa_padding_mode:pss
	kwi_run "psign-$pad.log" prov openssl cms -sign -inkey "$(pkey 01)" -signer "$FIX/slot-9a.pem" \
		-md sha256 ${opt:+-keyopt $opt} -in msg.txt -out "psigned-$pad.p7m"
	openssl cms -verify -CAfile "$FIX/ca.pem" -purpose any -in "psigned-$pad.p7m" -out "pverified-$pad.txt" \
		>"pverify-$pad.log" 2>&1 || { cat "pverify-$pad.log" >&2; kwi_fail "provider $pad signature does not verify"; }
	cmp -s msg.txt "pverified-$pad.txt" || kwi_fail "provider $pad: verified content differs"
	kwi_run "pverify2-$pad.log" prov openssl cms -verify -CAfile "$FIX/ca.pem" -purpose any \
		-in "psigned-$pad.p7m" -out "pverified2-$pad.txt"
	cmp -s msg.txt "pverified2-$pad.txt" || kwi_fail "provider $pad: verified content differs (provider verify)"
	kwi_pass "pkcs11-provider: openssl cms -sign ($pad) with 9A, verified"
done

# ECDSA with the PIN-always 9C key (the provider answers the context login
# with the configured PIN).
kwi_run psign-ec.log prov openssl cms -sign -inkey "$(pkey 02)" -signer "$FIX/slot-9c.pem" \
	-md sha256 -in msg.txt -out psigned-ec.p7m
openssl cms -verify -CAfile "$FIX/ca.pem" -purpose any -in psigned-ec.p7m -out pverified-ec.txt \
	>pverify-ec.log 2>&1 || { cat pverify-ec.log >&2; kwi_fail "provider ECDSA (9C) signature does not verify"; }
cmp -s msg.txt pverified-ec.txt || kwi_fail "provider ECDSA: verified content differs"
kwi_pass "pkcs11-provider: openssl cms -sign ECDSA with the PIN-always 9C, verified"

# Decrypt RSA (PKCS#1 v1.5 and OAEP) and EC (sha1kdf, sha256kdf; P-256 and
# P-384) messages through the provider.
for s in 9d:03 82:05 83:06:sha1 83:06:sha256 ${p384:+$p384:sha1 $p384:sha256}; do
	IFS=: read -r slot id kdf <<EOF2
$s
EOF2
	tag=$slot${kdf:+-$kdf}
	kwi_run "pdec-$tag.log" prov openssl cms -decrypt -inkey "$(pkey "$id")" \
		-recip "$FIX/slot-$slot.pem" -in "enc-$tag.p7m" -out "pdec-$tag.txt"
	cmp -s msg.txt "pdec-$tag.txt" || kwi_fail "provider, slot $slot: decrypted text differs"
	kwi_pass "pkcs11-provider: openssl cms -decrypt with id=%$id (slot $slot${kdf:+, ${kdf}kdf})"
done
kwi_run pdec-oaep.log prov openssl cms -decrypt -inkey "$(pkey 03)" -recip "$FIX/slot-9d.pem" \
	-in enc-oaep.p7m -out pdec-oaep.txt
cmp -s msg.txt pdec-oaep.txt || kwi_fail "provider OAEP: decrypted text differs"
kwi_pass "pkcs11-provider: openssl cms -decrypt RSA-OAEP with 9D"
