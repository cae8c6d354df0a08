# tests/integration/pki.sh: test certificates for keys that live on a token
# (sourced after lib.sh). yubico-piv-tool 2.2's selfsign/request-certificate
# do not work under OpenSSL 3 (upstream #388), so a test CA issues them with
# `openssl x509 -req -force_pubkey`.
#
#   kw_pki_ca DIR                      test CA in DIR/ca.{key,pem}; sets KW_PKI_DIR
#   kw_pki_cert PUB.pem SUBJECT OUT    certificate for public key PUB.pem
#   kw_pki_same_cert A B               kw_fail unless A and B are the same cert
#   kw_pki_same_pubkey CERT PUB [WHAT] kw_fail unless CERT certifies PUB

kw_pki_ca() {
	KW_PKI_DIR=$1
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$KW_PKI_DIR/ca.key" \
		-out "$KW_PKI_DIR/ca.pem" -subj "/CN=keyward test CA" -days 30 \
		-addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign >/dev/null 2>&1 ||
		kw_fail "cannot create the test CA"
	# any key for the placeholder CSR: -force_pubkey replaces it
	openssl req -new -newkey rsa:2048 -nodes -keyout "$KW_PKI_DIR/csr.key" \
		-out "$KW_PKI_DIR/dummy.csr" -subj "/CN=placeholder" >/dev/null 2>&1 ||
		kw_fail "cannot create the placeholder CSR"
}

kw_pki_cert() {
	openssl x509 -req -in "$KW_PKI_DIR/dummy.csr" -CA "$KW_PKI_DIR/ca.pem" \
		-CAkey "$KW_PKI_DIR/ca.key" -force_pubkey "$1" -subj "$2" \
		-set_serial "$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')" -days 30 \
		-out "$3" >"$KW_TMP/pki.err" 2>&1 ||
		{ cat "$KW_TMP/pki.err" >&2; kw_fail "cannot issue $3"; }
}

kw_pki_same_cert() {
	kw_a=$(openssl x509 -in "$1" -outform DER 2>/dev/null | od -An -tx1 | tr -d ' \n')
	kw_b=$(openssl x509 -in "$2" -outform DER 2>/dev/null | od -An -tx1 | tr -d ' \n')
	[ -n "$kw_a" ] && [ "$kw_a" = "$kw_b" ] || kw_fail "certificates $1 and $2 differ"
}

kw_pki_same_pubkey() {
	kw_a=$(openssl x509 -in "$1" -noout -pubkey 2>/dev/null)
	kw_b=$(openssl pkey -pubin -in "$2" 2>/dev/null)
	[ -n "$kw_a" ] && [ "$kw_a" = "$kw_b" ] || kw_fail "${3:-$1}: public key differs from $2"
}
