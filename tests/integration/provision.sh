# tests/integration/provision.sh: put keys and certificates on token 0 with
# yubico-piv-tool (sourced after lib.sh and pki.sh, inside keyward-testenv).
#
#   kw_provision DIR   9A RSA-2048 (generated), 9C RSA-2048 (generated),
#                      9D RSA-2048 (imported), 9E P-256 (generated),
#                      82 P-256 (imported) + Key History (1 on-card cert);
#                      every slot gets a certificate from the test CA.
#                      Leaves DIR/pub<slot>.pem and DIR/<slot>.pem.
# Default PIN 123456 and management key.

kw_provision_slot() { # SLOT ALG generate|import
	kw_ps=$1
	if [ "$3" = generate ]; then
		kw_run yubico-piv-tool -r "$(kw_reader 0)" -a generate -s "$kw_ps" \
			-A "$2" -o "$KW_PKI_DIR/pub$kw_ps.pem"
	else
		case $2 in
		RSA2048) kw_run openssl genpkey -algorithm RSA \
			-pkeyopt rsa_keygen_bits:2048 -out "$KW_PKI_DIR/key$kw_ps.pem" ;;
		ECCP256) kw_run openssl genpkey -algorithm EC \
			-pkeyopt ec_paramgen_curve:P-256 -out "$KW_PKI_DIR/key$kw_ps.pem" ;;
		esac
		openssl pkey -in "$KW_PKI_DIR/key$kw_ps.pem" -pubout \
			-out "$KW_PKI_DIR/pub$kw_ps.pem" || kw_fail "public key $kw_ps"
		kw_run yubico-piv-tool -r "$(kw_reader 0)" -a import-key -s "$kw_ps" \
			-i "$KW_PKI_DIR/key$kw_ps.pem"
	fi
	kw_pki_cert "$KW_PKI_DIR/pub$kw_ps.pem" "/CN=keyward test $kw_ps" \
		"$KW_PKI_DIR/$kw_ps.pem"
	kw_run yubico-piv-tool -r "$(kw_reader 0)" -a import-certificate -s "$kw_ps" \
		-i "$KW_PKI_DIR/$kw_ps.pem"
}

kw_provision() {
	kw_pki_ca "$1"
	kw_provision_slot 9a RSA2048 generate
	kw_provision_slot 9c RSA2048 generate
	kw_provision_slot 9d RSA2048 import
	kw_provision_slot 9e ECCP256 generate
	kw_provision_slot 82 ECCP256 import
	# Key History (SP 800-73-4 3.3.2): C1 keysWithOnCardCerts=1,
	# C2 keysWithOffCardCerts=0, FE LRC (empty)
	printf '\301\001\001\302\001\000\376\000' >"$1/keyhistory.bin"
	kw_run yubico-piv-tool -r "$(kw_reader 0)" -a write-object --id 0x5FC10C \
		--format binary -i "$1/keyhistory.bin"
	kw_log "provisioned 9a 9c 9d 9e 82"
}
