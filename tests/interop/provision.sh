#!/bin/sh
# Provision a (virtual) PIV token the way keyward's enrollment would, using only
# Yubico's and OpenSSL's tools, so that the interop tests and the benchmark see
# the same token with every module:
#
#   slot  CKA_ID  key         origin                      certificate
#   9A    01      RSA-2048    generated on the token      from the test CA
#   9C    02      P-256       generated on the token      from the test CA (PIN always)
#   9D    03      RSA-2048    imported (as the KMS would) from the test CA
#   82    05      RSA-2048    imported (retired)          from the test CA
#   83    06      P-256       imported (retired)          from the test CA
#
# plus the Key History object 5FC10C (2 retired keys with on-card
# certificates), which OpenSC needs to look at retired slots at all.
#
# Usage (inside `keyward-testenv run`):
#   tests/interop/provision.sh [--reader SUBSTRING] [--dir DIR]
#   . tests/interop/provision.sh; kwp_provision [DIR]
# DIR defaults to $KEYWARD_TESTENV_DIR/fixture. Writes DIR/ca.pem, ca.key,
# slot-XX.pem (certificate), slot-XX.pub (public key), slot-XX.key (private
# key, imported slots only), slots (one line per slot: "slot id alg"),
# and DIR/done when complete. PIN 123456, default management key.
# Certificates are made with `openssl x509 -req -force_pubkey`, because
# yubico-piv-tool 2.2.0 cannot self-sign or request under OpenSSL 3 (upstream #388).

KWP_SLOTS="9a:01:rsa:gen 9c:02:ec:gen 9d:03:rsa:import 82:05:rsa:import 83:06:ec:import"
KWP_PIN=123456
KWP_READER=${KWP_READER:-${KEYWARD_TESTENV_READER_0:-keyward}}

kwp_log() { echo "provision: $*" >&2; }

kwp_piv() {
	yubico-piv-tool -r "$KWP_READER" "$@" >>"$kwp_dir/piv-tool.log" 2>&1 || {
		kwp_log "yubico-piv-tool $* failed:"
		tail -n 20 "$kwp_dir/piv-tool.log" >&2
		return 1
	}
}

kwp_ossl() {
	openssl "$@" >>"$kwp_dir/openssl.log" 2>&1 || {
		kwp_log "openssl $* failed:"
		tail -n 20 "$kwp_dir/openssl.log" >&2
		return 1
	}
}

kwp_ca() {
	kwp_ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$kwp_dir/ca.key" -out "$kwp_dir/ca.pem" -days 3650 \
		-subj "/O=keyward test/CN=keyward test CA" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" &&
	kwp_ossl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$kwp_dir/csr-dummy.key" -out "$kwp_dir/csr-dummy.csr" \
		-subj "/CN=placeholder"
}

# kwp_cert SLOT ALG: a certificate for the public key slot-SLOT.pub.
kwp_cert() {
	s=$1
	case $2:$s in
	*:9a) ku="digitalSignature,keyEncipherment"; eku="clientAuth,emailProtection" ;;
	ec:9c) ku="digitalSignature,nonRepudiation"; eku="emailProtection" ;;
	rsa:*) ku="keyEncipherment,dataEncipherment"; eku="emailProtection" ;;
	ec:*) ku="keyAgreement"; eku="emailProtection" ;;
	esac
	cat >"$kwp_dir/ext-$s.cnf" <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,$ku
extendedKeyUsage=$eku
subjectAltName=email:slot-$s@keyward.test
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
EOF
	kwp_ossl x509 -req -in "$kwp_dir/csr-dummy.csr" -CA "$kwp_dir/ca.pem" \
		-CAkey "$kwp_dir/ca.key" -force_pubkey "$kwp_dir/slot-$s.pub" \
		-set_serial "0x$s$(date +%s)" -days 365 -sha256 \
		-subj "/O=keyward test/CN=keyward test slot $s" \
		-extfile "$kwp_dir/ext-$s.cnf" -out "$kwp_dir/slot-$s.pem"
}

kwp_key_gen() {
	s=$1
	case $2 in rsa) a=RSA2048 ;; ec) a=ECCP256 ;; esac
	kwp_piv -a generate -s "$s" -A "$a" -o "$kwp_dir/slot-$s.pub"
}

kwp_key_import() {
	s=$1
	case $2 in
	rsa) kwp_ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$kwp_dir/slot-$s.key" ;;
	ec) kwp_ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$kwp_dir/slot-$s.key" ;;
	esac || return 1
	kwp_ossl pkey -in "$kwp_dir/slot-$s.key" -pubout -out "$kwp_dir/slot-$s.pub" &&
	kwp_piv -a import-key -s "$s" -i "$kwp_dir/slot-$s.key"
}

# Key History (SP 800-73-4 3.3.2): C1 keysWithOnCardCerts, C2 keysWithOffCardCerts,
# FE error detection code (empty). yubico-piv-tool adds the 53 container.
kwp_key_history() {
	printf '\301\001\002\302\001\000\376\000' >"$kwp_dir/key-history.bin" &&
	kwp_piv -a write-object --id 0x5fc10c -f binary -i "$kwp_dir/key-history.bin"
}

kwp_provision() {
	kwp_dir=${1:-${KEYWARD_TESTENV_DIR:?KEYWARD_TESTENV_DIR not set (run inside keyward-testenv)}/fixture}
	mkdir -p "$kwp_dir" || return 1
	rm -f "$kwp_dir/done" "$kwp_dir/slots"
	kwp_ca || return 1
	kwp_piv -a set-chuid -a set-ccc || return 1
	for spec in $KWP_SLOTS; do
		IFS=: read -r s id alg how <<EOF
$spec
EOF
		kwp_key_$how "$s" "$alg" || return 1
		kwp_cert "$s" "$alg" || return 1
		kwp_piv -a import-certificate -s "$s" -i "$kwp_dir/slot-$s.pem" || return 1
		echo "$s $id $alg" >>"$kwp_dir/slots"
	done
	kwp_key_history || return 1
	: >"$kwp_dir/done"
	kwp_log "token provisioned, fixture in $kwp_dir"
}

kwp_usage() {
	sed -n '2,/^$/s/^# \{0,1\}//p' "$0"
}

# Run as a program (not when sourced by a test).
case ${0##*/} in
provision.sh)
	set -u
	dir=
	while [ $# -gt 0 ]; do
		case $1 in
		--reader) KWP_READER=$2; shift 2 ;;
		--dir) dir=$2; shift 2 ;;
		--help | -h) kwp_usage; exit 0 ;;
		*) kwp_usage >&2; exit 2 ;;
		esac
	done
	kwp_provision $dir
	;;
esac
