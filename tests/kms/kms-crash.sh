#!/bin/sh
# kill -9 under load: 12 users enroll in parallel (validation, then the
# first delivery through libkwkms) while the front and each share server
# are killed with SIGKILL at random moments and started again. Afterwards
# (one clean restart, which reconciles): every acknowledged enrollment is
# deliverable with the identical key, nothing is half-written (no intent
# left, one share per key on each server, no escrow key left in the HSM,
# pool rows = pool keys) and the audit chain verifies.
KMS_TEST_LIMIT=600
KMS_POOL_SIZE=4
KMS_EXTRA_CONF='[validation]
per_client = 100000
per_address = 1000'
. "$KW_TOP_SRCDIR/tests/kms/kms-env.sh"
kms_env_up
USERS=12
END=$(($(date +%s) + 300))

capi() { # user METHOD PATH JSON -> body in $T/u$user.body, status echoed
	curl -s --max-time 20 --cacert "$FRONT_CERT" -X "$2" -o "$T/u$1.body" -w '%{http_code}' \
		-H 'Content-Type: application/json' --data-binary "$4" "$FRONT$3" 2>/dev/null || echo 000
}
newest_value() { # addr
	f=$(grep -l "<$1>" "$T"/mail/*.eml 2>/dev/null | sort -t/ -k2 -V | tail -1 || true)
	[ -n "$f" ] && sed -n 's/^Validation value: \([0-9A-Z]*\).*/\1/p' "$f" | tail -1
}
enroll() { # user number: validate and fetch until acknowledged (or END)
	a="user$1@crash.test"
	s=""
	while [ "$(date +%s)" -lt "$END" ]; do
		if [ -z "$s" ]; then
			[ "$(capi "$1" POST /v1/validation/start "{\"email\":\"$a\"}")" = 202 ] ||
				{ sleep 0.3; continue; }
			v=""
			for i in $(seq 40); do
				sleep 0.25
				v=$(newest_value "$a")
				[ -n "$v" ] && [ "$v" != "$(cat "$T/u$1.used" 2>/dev/null)" ] && break
				v=""
			done
			[ -n "$v" ] || continue
			echo "$v" > "$T/u$1.used"
			[ "$(capi "$1" POST /v1/validation/finish "{\"email\":\"$a\",\"value\":\"$v\"}")" = 200 ] ||
				continue
			s=$(json_get session < "$T/u$1.body")
		fi
		if "$KWKMS" --url "$FRONT" --ca "$FRONT_CERT" --session "$s" fetch > "$T/u$1.try" \
		    2> "$T/u$1.err"; then
			mv "$T/u$1.try" "$T/u$1.ack"
			return 0
		fi
		sleep 0.3
	done
}

i=1
while [ "$i" -le "$USERS" ]; do
	enroll "$i" &
	PIDS="$PIDS $!"
	i=$((i + 1))
done
rnd() { python3 -c 'import random,sys; print("%.2f" % random.uniform(float(sys.argv[1]), float(sys.argv[2])))' "$@"; }
kills=0
for victim in front share1 front share2 front share1; do
	sleep "$(rnd 0.5 4)"
	eval "p=\$PID_$victim"
	kill -9 "$p" 2>/dev/null && kills=$((kills + 1))
	wait "$p" 2>/dev/null || true
	sleep "$(rnd 0.2 1.5)"
	kms_start "$victim"
done
wait_users() {
	while [ "$(date +%s)" -lt "$((END + 30))" ]; do
		n=$(ls "$T"/u*.ack 2>/dev/null | wc -l)
		[ "$n" -ge "$USERS" ] && return 0
		sleep 1
	done
}
wait_users
acked=$(ls "$T"/u*.ack 2>/dev/null | wc -l)
[ "$acked" -ge $((USERS / 2)) ] || fail "only $acked of $USERS enrollments acknowledged"
ok "$kills kill -9 during $USERS parallel enrollments; $acked acknowledged"

kms_stop front
kms_start front # a clean start reconciles what the kills left
for i in $(seq 40); do
	[ "$(sql "$T/front/kms.sqlite" 'SELECT COUNT(*) FROM escrow_intents')" = 0 ] && break
	sleep 0.5
done
for f in "$T"/u*.ack; do
	u=${f##*/u}; u=${u%.ack}
	S=$(json_get session < "$T/u$u.body" 2>/dev/null || true)
	[ "$(wc -l < "$f")" = 1 ] || fail "user $u: $(wc -l < "$f") keys acknowledged"
	# a new session (the old one may be the one in the body file or older)
	rm -f "$T/u$u.used"
	S=$(session "user$u@crash.test")
	"$KWKMS" --url "$FRONT" --ca "$FRONT_CERT" --session "$S" fetch > "$T/u$u.again" ||
		fail "user $u: acknowledged enrollment not deliverable"
	[ "$(cut -d' ' -f2,4 "$T/u$u.again")" = "$(cut -d' ' -f2,4 "$f")" ] ||
		fail "user $u: delivered key differs: $(cat "$f") / $(cat "$T/u$u.again")"
done
ok "every acknowledged enrollment delivers the identical key"

[ "$(sql "$T/front/kms.sqlite" 'SELECT COUNT(*) FROM escrow_intents')" = 0 ] ||
	fail "unfinished escrow intents left: $(sql "$T/front/kms.sqlite" 'SELECT id FROM escrow_intents')"
keys=$(sql "$T/front/kms.sqlite" 'SELECT COUNT(*) FROM enc_keys')
[ "$(sql "$T/front/kms.sqlite" "SELECT COUNT(*) FROM enc_keys k JOIN certs c ON c.serial = k.serial")" = "$keys" ] ||
	fail "a key without its certificate"
for s in share1 share2; do
	n=$(sql "$T/$s/kms.sqlite" 'SELECT COUNT(*) FROM shares')
	[ "$n" = "$keys" ] || fail "$s holds $n shares for $keys keys"
done
sql "$T/front/kms.sqlite" 'SELECT id FROM enc_keys ORDER BY id' > "$T/ids"
for s in share1 share2; do
	sql "$T/$s/kms.sqlite" 'SELECT key_id FROM shares ORDER BY key_id' | cmp -s - "$T/ids" ||
		fail "$s: shares do not match the committed keys"
done
if command -v pkcs11-tool > /dev/null; then
	SOFTHSM2_CONF=$T/front/softhsm2.conf pkcs11-tool --module /usr/lib/softhsm/libsofthsm2.so \
		--token-label keyward-kms --login --pin "$(cat "$T/front/hsm.pin")" --list-objects \
		--type privkey 2>/dev/null | sed -n 's/^ *label: *//p' > "$T/hsm-labels"
	grep -q '^kms-ca$' "$T/hsm-labels" || fail "cannot list the HSM's keys"
	grep -q '^esc-' "$T/hsm-labels" && fail "escrow keys left in the HSM: $(grep '^esc-' "$T/hsm-labels")"
	pool_hsm=$(grep -c '^pool-' "$T/hsm-labels" || true)
	pool_db=$(sql "$T/front/kms.sqlite" 'SELECT COUNT(*) FROM pool')
	[ "$pool_hsm" -ge "$pool_db" ] && [ "$pool_hsm" -le $((pool_db + 4)) ] ||
		fail "pool: $pool_hsm HSM keys, $pool_db rows"
fi
ok "nothing half-written: $keys keys, $keys shares on each server, no intent, no stray HSM key"
kms_stop front
"$KMSD" --verify-audit "$T/front/kms.sqlite" > "$T/v" || fail "audit chain broken"
grep -c '"event":"issue"' "$(kms_audit)" | grep -q "^$keys\$" || fail "issue entries != keys"
ok "audit chain intact: $(cat "$T/v")"
echo "kms-crash: all passed"
