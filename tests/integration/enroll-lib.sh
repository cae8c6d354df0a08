# Sourced by the enrollment tests (tests/integration/test_enroll_*.sh) and
# the demo, inside keyward-testenv, after tests/kms/kms-env.sh (which gives
# $T, $FRONT, $FRONT_CERT, $CA, $ADMIN and the KMS processes).
#
# kw_verb VERB NAME ADDR [ARGS...]: runs `keyward VERB --email ADDR --kms ...
# --json ARGS`, answering the validation prompt (stdin) the way a user
# would: with the value from the newest mail the KMS sent to ADDR. Output
# in $W/NAME.json, stderr in $W/NAME.err; returns keyward's exit status.
KEYWARD=$KW_TOP_BUILDDIR/tools/keyward/keyward
MODULE=$KW_TOP_BUILDDIR/pkcs11-module/.libs/keyward-pkcs11.so
: "${W:=$T/work}"
mkdir -p "$W"
export KEYWARD_STATE_DIR="$W/state"

# mail_value_until ADDR DONEFILE ERRFILE: print the validation value keyward
# (stderr in ERRFILE) asks for: that of the first new mail to ADDR when it
# started a validation, that of the newest mail already received when it
# finishes one an earlier run started; print nothing when DONEFILE appears.
# Without ERRFILE: the first mail to ADDR in $T/mail.
mail_value_until() {
	while [ ! -f "$2" ]; do
		if [ -z "${3:-}" ]; then
			_f=$(grep -l "<$1>" "$T"/mail/*.eml 2>/dev/null | head -n1 || true)
		elif grep -qs "finishing the validation started earlier" "$3"; then
			_f=$(grep -l "<$1>" "$T"/mail-seen/*.eml "$T"/mail/*.eml 2>/dev/null |
				awk -F/ '{ n = $NF; sub(/\.eml$/, "", n); print n, $0 }' |
				sort -n | tail -n1 | cut -d' ' -f2-)
		elif grep -qs "asking the KMS to send a validation value" "$3"; then
			_f=$(grep -l "<$1>" "$T"/mail/*.eml 2>/dev/null | head -n1 || true)
		else
			_f=
		fi
		if [ -n "$_f" ]; then
			sed -n 's/^Validation value: \([0-9A-Za-z]*\).*/\1/p' "$_f" | tail -n1
			return 0
		fi
		sleep 0.1
	done
}

# Mails read before a run move to $T/mail-seen (a rerun may finish the
# validation they belong to); $T/mail holds only the run's new ones.
kw_verb() {
	_verb=$1 _name=$2 _addr=$3
	shift 3
	mkdir -p "$T/mail-seen"
	for _m in "$T"/mail/*.eml; do
		[ -f "$_m" ] && mv "$_m" "$T/mail-seen/"
	done
	rm -f "$W/$_name.done" "$W/$_name.err"
	mail_value_until "$_addr" "$W/$_name.done" "$W/$_name.err" | {
		"$KEYWARD" "$_verb" --email "$_addr" --kms "$FRONT" --kms-ca "$FRONT_CERT" \
			--json "$@" >"$W/$_name.json" 2>"$W/$_name.err"
		echo $? >"$W/$_name.rc"
		touch "$W/$_name.done"
	}
	return "$(cat "$W/$_name.rc")"
}

# jq_py FILE EXPR: print a Python expression over the JSON in FILE (j).
jq_py() {
	python3 -c 'import json,sys
j=json.load(open(sys.argv[1]))
v=eval(sys.argv[2])
print(v if not isinstance(v,(dict,list)) else json.dumps(v))' "$1" "$2"
}

# The libp11 engine configuration for openssl commands through the module.
kw_engine_conf() {
	_engine=$(find /usr/lib/*/engines-3 -name pkcs11.so 2>/dev/null | head -n1)
	[ -n "$_engine" ] || return 1
	cat >"$W/openssl-p11.cnf" <<EOC
openssl_conf = openssl_init
[openssl_init]
engines = engine_section
[engine_section]
pkcs11 = pkcs11_section
[pkcs11_section]
engine_id = pkcs11
dynamic_path = $_engine
MODULE_PATH = $MODULE
init = 0
EOC
}
# An ASan build of the module needs the ASan runtime loaded first in the
# (uninstrumented) openssl process: preload the libasan the module links.
KW_P11_PRELOAD=
if nm -D "$MODULE" 2>/dev/null | grep -q ' __asan_init'; then
	KW_P11_PRELOAD=$(ldd "$MODULE" | awk '/libasan/ { print $3; exit }')
fi
# Only engine commands see the engine (libp11 would capture plain OpenSSL).
eng() {
	if [ -n "$KW_P11_PRELOAD" ]; then
		LD_PRELOAD=$KW_P11_PRELOAD ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0} \
			OPENSSL_CONF="$W/openssl-p11.cnf" "$@"
	else
		OPENSSL_CONF="$W/openssl-p11.cnf" "$@"
	fi
}
