# Sourced by tests/kms/*.sh: a local KMS deployment on 127.0.0.1 with free
# ports (front + 2 share servers + an SMTP sink), everything under one
# temporary directory, killed and removed on exit. Bounded by a watchdog.
set -eu

: "${KW_TOP_BUILDDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${KW_TOP_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
KMSD=$KW_TOP_BUILDDIR/kms/keyward-kmsd
KWKMS=$KW_TOP_BUILDDIR/kms/kwkms-tool
SINK=$KW_TOP_SRCDIR/tests/kms/smtp_sink.py
T=$(mktemp -d "${TMPDIR:-/tmp}/kw-kms-test.XXXXXX")
PIDS=""
: "${KMS_TEST_LIMIT:=600}"

kms_cleanup() {
	# the watchdog's sleep first (it would outlive its subshell)
	[ -z "${WATCHDOG:-}" ] || for p in $(ps -o pid= --ppid "$WATCHDOG"); do kill "$p" 2>/dev/null || true; done
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	for p in $PIDS; do wait "$p" 2>/dev/null || true; done
	# a file system the test mounted (its own mount namespace)
	[ -z "${KMS_UMOUNT:-}" ] || umount -l "$KMS_UMOUNT" 2>/dev/null || true
	# sanitizer builds: a report from any server fails the test
	if grep -l -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$T"/*.log 2>/dev/null; then
		grep -h -A20 -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$T"/*.log >&2
		echo "FAIL: sanitizer report from a KMS process" >&2
		[ -n "${KMS_KEEP:-}" ] || rm -rf "$T"
		exit 1
	fi
	[ -n "${KMS_KEEP:-}" ] || rm -rf "$T"
}
trap 'kms_cleanup' EXIT
trap 'echo "FAIL: interrupted or over ${KMS_TEST_LIMIT}s" >&2; exit 1' TERM INT
( sleep "$KMS_TEST_LIMIT"; kill -TERM $$ 2>/dev/null ) &
WATCHDOG=$!
PIDS="$PIDS $WATCHDOG"

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok - $*"; }

free_ports() {
	python3 -c '
import socket
ss = [socket.socket() for _ in range(int(__import__("sys").argv[1]))]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))' "$1"
}

# kms_env_write [extra front config lines...]
kms_env_write() {
	set -- $(free_ports 3)
	FRONT_PORT=$1 SHARE1_PORT=$2 SHARE2_PORT=$3
	FRONT=https://127.0.0.1:$FRONT_PORT
	python3 "$SINK" --dir "$T/mail" --port-file "$T/smtp.port" --lifetime "$KMS_TEST_LIMIT" &
	PIDS="$PIDS $!"
	for i in $(seq 300); do [ -f "$T/smtp.port" ] && break; sleep 0.1; done
	[ -f "$T/smtp.port" ] || fail "SMTP sink did not start"
	SMTP_PORT=$(cat "$T/smtp.port")
	for n in 1 2; do
		eval port=\$SHARE${n}_PORT
		cat > "$T/share$n.conf" <<EOC
[server]
role = share
listen = 127.0.0.1:$port
state_dir = $T/share$n
EOC
	done
	cat > "$T/front.conf" <<EOC
[server]
role = front
listen = 127.0.0.1:$FRONT_PORT
state_dir = $T/front
[shares]
url.1 = https://127.0.0.1:$SHARE1_PORT
cert.1 = $T/share1/tls.crt
config.1 = $T/share1.conf
url.2 = https://127.0.0.1:$SHARE2_PORT
cert.2 = $T/share2/tls.crt
config.2 = $T/share2.conf
timeout = 3
[smtp]
url = smtp://127.0.0.1:$SMTP_PORT
from = kms@example.test
[password]
m_cost_kib = 8192
t_cost = 1
lock_seconds = 60
max_failures = 3
[pool]
size = ${KMS_POOL_SIZE:-2}
${KMS_EXTRA_CONF:-}
EOC
}

kms_env_init() {
	"$KMSD" --init --config "$T/front.conf" > "$T/init.log" 2>&1 ||
		{ cat "$T/init.log" >&2; fail "keyward-kmsd --init"; }
	ADMIN=$(cat "$T/front/admin.token")
	CA=$T/front/ca.crt
	FRONT_CERT=$T/front/tls.crt
}

wait_health() { # url cert
	for i in $(seq 300); do
		if curl -sf --max-time 2 --cacert "$2" "$1/v1/health" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	fail "$1 did not come up"
}

kms_start() { # name (front|share1|share2)
	"$KMSD" --config "$T/$1.conf" 2> "$T/$1.log" &
	eval "PID_$1=$!"
	PIDS="$PIDS $!"
	case $1 in
	front) wait_health "$FRONT" "$T/front/tls.crt" ;;
	share1) wait_health "https://127.0.0.1:$SHARE1_PORT" "$T/share1/tls.crt" ;;
	share2) wait_health "https://127.0.0.1:$SHARE2_PORT" "$T/share2/tls.crt" ;;
	esac
}

kms_stop() { # name
	eval "p=\$PID_$1"
	kill "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
}

kms_env_up() {
	kms_env_write
	kms_env_init
	kms_start share1
	kms_start share2
	kms_start front
}

# api METHOD PATH [JSON] [BEARER] -> body on stdout, HTTP status in $T/status
api() {
	_auth=""
	[ -n "${4:-}" ] && _auth="Authorization: Bearer $4"
	curl -s --max-time 60 --cacert "$FRONT_CERT" -X "$1" -o "$T/body" \
		-w '%{http_code}' ${_auth:+-H "$_auth"} -H 'Content-Type: application/json' \
		${3:+--data-binary "$3"} "$FRONT$2" > "$T/status" || true
	cat "$T/body"
}
status() { cat "$T/status"; }
json_get() { # key (dotted) < json
	python3 -c 'import json,sys
v=json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v[int(k)] if isinstance(v, list) else v[k]
print(v if not isinstance(v,(dict,list)) else json.dumps(v))' "$1"
}

# The validation value from the newest mail to ADDR.
mail_value() {
	for i in $(seq 50); do
		f=$(grep -l "<$1>" "$T"/mail/*.eml 2>/dev/null | sort -t/ -k2 -V | tail -1 || true)
		[ -n "$f" ] && { sed -n 's/^Validation value: \([0-9A-Z]*\).*/\1/p' "$f" | tail -1; return; }
		sleep 0.1
	done
	fail "no mail for $1"
}

# session ADDR -> prints the session token (runs the whole validation)
session() {
	rm -f "$T"/mail/*.eml
	api POST /v1/validation/start "{\"email\":\"$1\"}" > /dev/null
	[ "$(status)" = 202 ] || fail "validation/start for $1: $(status) $(cat "$T/body")"
	v=$(mail_value "$1")
	api POST /v1/validation/finish "{\"email\":\"$1\",\"value\":\"$v\"}" | json_get session
}

# kms_audit: export the front's audit log (kept in its database), print the path
kms_audit() {
	"$KMSD" --config "$T/front.conf" --export-audit "$T/audit.jsonl" 2> "$T/export.err" ||
		fail "audit export: $(cat "$T/export.err")"
	echo "$T/audit.jsonl"
}

# sql DB QUERY: one-column result lines (python3's sqlite3, no CLI needed)
sql() {
	python3 -c 'import sqlite3, sys
for row in sqlite3.connect(sys.argv[1]).execute(sys.argv[2]): print(row[0])' "$1" "$2"
}
